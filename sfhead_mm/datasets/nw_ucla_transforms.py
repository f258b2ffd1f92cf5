"""NW-UCLA transforms, registered in mmaction's TRANSFORMS.

The NW-UCLA protocol of CTR-GCN (``Uason-Chen/CTR-GCN``,
``feeders/feeder_ucla.py``, also used by FR-Head), written from its
description: centre every sequence on the spine of its first frame
(:class:`CenterOnJoint`), in training rotate about x and y by whole degrees
in [-60, 60] and scale by U(0.5, 1.5) (:class:`RandomRotateScale3D`),
min-max normalise each axis of the sequence to [-1, 1]
(:class:`MinMaxNormalize`), and take 52 frames (:class:`RepeatSampleFrames`:
training draws 52 of the frames repeated 100 times, sorted; testing takes
``linspace(0, T - 1, 52)`` truncated to ints). Bone and motion streams are
computed after sampling, as there.
"""
from typing import Dict, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .validation import KeypointShapeError, sample_name

__all__ = [
    'CenterOnJoint', 'RandomRotateScale3D', 'MinMaxNormalize',
    'RepeatSampleFrames', 'rotation_x', 'rotation_y'
]


@TRANSFORMS.register_module()
class CenterOnJoint(BaseTransform):
    """Subtract one joint of one frame from every coordinate.

    CTR-GCN's NW-UCLA feeder subtracts the spine (joint 1) of the first
    frame from the whole sequence, zero joints included (unlike mmaction's
    ``PreNormalize3D``, which keeps zeros at zero).

    Required Keys:

        - keypoint

    Modified Keys:

        - keypoint

    Added Keys:

        - body_center

    Args:
        joint (int): The joint to centre on. Defaults to 1 (NW-UCLA spine).
        frame (int): The frame it is taken from. Defaults to 0.
        person (int): The person it is taken from. Defaults to 0.
    """

    def __init__(self, joint: int = 1, frame: int = 0,
                 person: int = 0) -> None:
        self.joint = joint
        self.frame = frame
        self.person = person

    def transform(self, results: Dict) -> Dict:
        """Centre ``results['keypoint']`` ([M, T, V, C])."""
        keypoint = np.asarray(results['keypoint'], dtype=np.float32)
        M, T, V, C = keypoint.shape
        if not (self.person < M and self.frame < T and self.joint < V):
            raise KeypointShapeError(
                f'sample {sample_name(results)}: CenterOnJoint(person='
                f'{self.person}, frame={self.frame}, joint={self.joint}) '
                f'does not exist in keypoint [M, T, V, C] = [{M}, {T}, {V}, '
                f'{C}]')
        center = keypoint[self.person, self.frame, self.joint].copy()
        results['keypoint'] = keypoint - center
        results['body_center'] = center
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(joint={self.joint}, '
                f'frame={self.frame}, person={self.person})')


def rotation_x(degrees: float) -> np.ndarray:
    """Counter-clockwise rotation about the x axis (column vectors)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rotation_y(degrees: float) -> np.ndarray:
    """Counter-clockwise rotation about the y axis (column vectors)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


@TRANSFORMS.register_module()
class RandomRotateScale3D(BaseTransform):
    """Random view change: rotate about y, then x, then scale (training).

    Every point ``p`` becomes ``s * Rx(ax) @ Ry(ay) @ p`` with ``ax, ay``
    drawn from ``[-max_angle, max_angle]`` degrees and ``s`` from
    ``scale_range``, one draw per sample; this is CTR-GCN's NW-UCLA
    training augmentation (``max_angle=60``, whole degrees,
    ``scale_range=(0.5, 1.5)``). Draws come from numpy's global RNG, which
    MMEngine seeds (``randomness.seed``) per worker.

    Required Keys:

        - keypoint ([M, T, V, 3])

    Modified Keys:

        - keypoint

    Args:
        max_angle (float or tuple[float, float]): Largest rotation in
            degrees, one value for both axes or ``(x, y)``. Defaults to 60.
        scale_range (tuple[float, float]): Uniform scale range.
            Defaults to ``(0.5, 1.5)``.
        integer_angles (bool): Draw whole degrees (inclusive bounds), as
            CTR-GCN does; else uniform real angles. Defaults to True.
    """

    def __init__(self,
                 max_angle: Union[float, Tuple[float, float]] = 60,
                 scale_range: Tuple[float, float] = (0.5, 1.5),
                 integer_angles: bool = True) -> None:
        if isinstance(max_angle, (int, float)):
            max_angle = (max_angle, max_angle)
        self.max_angle = tuple(float(a) for a in max_angle)
        self.scale_range = tuple(float(s) for s in scale_range)
        self.integer_angles = integer_angles

    def _angle(self, limit: float) -> float:
        if self.integer_angles:
            return float(np.random.randint(-int(limit), int(limit) + 1))
        return float(np.random.uniform(-limit, limit))

    def transform(self, results: Dict) -> Dict:
        """Rotate and scale ``results['keypoint']`` in place of it."""
        keypoint = np.asarray(results['keypoint'], dtype=np.float32)
        if keypoint.shape[-1] != 3:
            raise KeypointShapeError(
                f'sample {sample_name(results)}: RandomRotateScale3D needs '
                f'3D keypoints (x, y, z), got shape {list(keypoint.shape)}')
        angle_x = self._angle(self.max_angle[0])
        angle_y = self._angle(self.max_angle[1])
        scale = np.random.uniform(*self.scale_range)
        matrix = scale * rotation_x(angle_x) @ rotation_y(angle_y)
        # row vectors: p' = p @ matrix.T
        results['keypoint'] = (keypoint @ matrix.T).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_angle={self.max_angle}, '
                f'scale_range={self.scale_range}, '
                f'integer_angles={self.integer_angles})')


@TRANSFORMS.register_module()
class MinMaxNormalize(BaseTransform):
    """Map each channel of a whole sequence to ``[low, high]``.

    Minimum and maximum are taken per channel over all persons, frames and
    joints of the sample, as CTR-GCN's NW-UCLA feeder does (after centring
    and, in training, the random view change). A channel with no range
    (one value everywhere) maps to the middle, ``(low + high) / 2``, where
    the original would divide by zero.

    Required Keys:

        - keypoint

    Modified Keys:

        - keypoint

    Args:
        low (float): Lower bound. Defaults to -1.
        high (float): Upper bound. Defaults to 1.
    """

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        self.low = float(low)
        self.high = float(high)

    def transform(self, results: Dict) -> Dict:
        """Normalise ``results['keypoint']`` ([M, T, V, C])."""
        keypoint = np.asarray(results['keypoint'], dtype=np.float32)
        C = keypoint.shape[-1]
        flat = keypoint.reshape(-1, C)
        lowest, highest = flat.min(axis=0), flat.max(axis=0)
        span = highest - lowest
        unit = np.divide(keypoint - lowest, span,
                         out=np.full_like(keypoint, 0.5),
                         where=np.broadcast_to(span > 0, keypoint.shape))
        results['keypoint'] = (unit * (self.high - self.low) +
                               self.low).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(low={self.low}, high={self.high})'


@TRANSFORMS.register_module()
class RepeatSampleFrames(BaseTransform):
    """Sample a fixed number of frames, repeating frames of short sequences.

    CTR-GCN's NW-UCLA sampling. Training: think of the sequence with every
    frame repeated ``repeat`` times; draw ``clip_len`` of those without
    replacement and sort them, so frames stay in order, a short sequence
    repeats frames and a long one drops some at random. Test
    (``test_mode=True``): ``np.linspace(0, T - 1, clip_len)`` truncated to
    ints, deterministic and without touching any RNG. A one-frame sequence
    gives that frame ``clip_len`` times.

    Required Keys:

        - total_frames (or keypoint)

    Added Keys:

        - frame_inds, clip_len, frame_interval, num_clips

    Args:
        clip_len (int): Frames per clip. Defaults to 52.
        repeat (int): Copies of each frame in the training draw. Must make
            ``T * repeat >= clip_len`` for every sequence; otherwise
            frames are drawn with replacement. Defaults to 100.
        test_mode (bool): Deterministic test sampling. Defaults to False.
    """

    def __init__(self,
                 clip_len: int = 52,
                 repeat: int = 100,
                 test_mode: bool = False) -> None:
        if clip_len < 1 or repeat < 1:
            raise ValueError(
                f'RepeatSampleFrames: clip_len and repeat must be >= 1, got '
                f'{clip_len} and {repeat}')
        self.clip_len = clip_len
        self.repeat = repeat
        self.test_mode = test_mode

    def transform(self, results: Dict) -> Dict:
        """Set ``results['frame_inds']`` for ``PoseDecode``."""
        if 'total_frames' in results:
            total = int(results['total_frames'])
        else:
            total = int(np.shape(results['keypoint'])[1])
        if total < 1:
            raise KeypointShapeError(
                f'sample {sample_name(results)} has no frames')
        if self.test_mode:
            inds = np.linspace(0, total - 1, self.clip_len).astype(np.int64)
        else:
            pool = total * self.repeat
            picks = np.random.choice(
                pool, self.clip_len, replace=pool < self.clip_len)
            inds = np.sort(picks % total).astype(np.int64)
        results['frame_inds'] = inds
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = 1
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'repeat={self.repeat}, test_mode={self.test_mode})')
