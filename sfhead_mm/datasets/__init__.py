"""Dataset helpers: pre-flight validation of PoseDataset pickles, graph
layouts mmaction lacks (``'nw-ucla'``, any dict layout) and the transforms
that use them (bone/motion streams for any layout, InfoGCN's (I - A^k) x
streams, the NW-UCLA protocol)."""
from .adjacency_power import GenSkeFeatAdjacencyPower
from .layouts import (NW_UCLA_LAYOUT, LayoutError, get_layout, list_layouts,
                      patch_graph, register_layout)
from .nw_ucla_transforms import (CenterOnJoint, MinMaxNormalize,
                                 RandomRotateScale3D, RepeatSampleFrames)
from .transforms import CheckKeypointShape, GenSkeFeatLayout, JointToBoneLayout
from .validation import (AnnotationError, KeypointShapeError,
                         check_dataloader_annotations, check_keypoint_shapes,
                         check_pose_annotations, expected_keypoint_shape)

__all__ = [
    'AnnotationError', 'check_dataloader_annotations',
    'check_pose_annotations', 'NW_UCLA_LAYOUT',
    'LayoutError', 'get_layout', 'list_layouts', 'patch_graph',
    'register_layout', 'CenterOnJoint', 'CheckKeypointShape',
    'GenSkeFeatAdjacencyPower', 'GenSkeFeatLayout', 'JointToBoneLayout',
    'KeypointShapeError',
    'MinMaxNormalize', 'RandomRotateScale3D', 'RepeatSampleFrames',
    'check_keypoint_shapes', 'expected_keypoint_shape'
]
