"""Joint names, in keypoint order, of the skeleton layouts we ship."""
from typing import Dict, List

__all__ = ['JOINT_NAMES', 'joint_names_for']

JOINT_NAMES: Dict[str, List[str]] = {
    # NTU RGB+D / PKU-MMD: Kinect v2, 25 joints
    'nturgb+d': [
        'spine base', 'spine mid', 'neck', 'head', 'left shoulder',
        'left elbow', 'left wrist', 'left hand', 'right shoulder',
        'right elbow', 'right wrist', 'right hand', 'left hip', 'left knee',
        'left ankle', 'left foot', 'right hip', 'right knee', 'right ankle',
        'right foot', 'spine shoulder', 'left hand tip', 'left thumb',
        'right hand tip', 'right thumb'
    ],
    # NW-UCLA: Kinect v1, 20 joints
    'nw-ucla': [
        'hip center', 'spine', 'shoulder center', 'head', 'left shoulder',
        'left elbow', 'left wrist', 'left hand', 'right shoulder',
        'right elbow', 'right wrist', 'right hand', 'left hip', 'left knee',
        'left ankle', 'left foot', 'right hip', 'right knee', 'right ankle',
        'right foot'
    ],
}


def joint_names_for(num_joints: int) -> List[str]:
    """Names for a layout with ``num_joints`` joints, else ``j0, j1, ...``."""
    for names in JOINT_NAMES.values():
        if len(names) == num_joints:
            return list(names)
    return [f'j{i}' for i in range(num_joints)]
