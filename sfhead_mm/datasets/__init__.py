"""Dataset helpers: pre-flight validation of PoseDataset pickles."""
from .validation import (AnnotationError, check_dataloader_annotations,
                         check_pose_annotations)

__all__ = [
    'AnnotationError', 'check_dataloader_annotations', 'check_pose_annotations'
]
