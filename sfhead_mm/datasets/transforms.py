"""Skeleton transforms mmaction lacks, registered in ``mmaction``'s TRANSFORMS.

Two groups:

* Any layout, by config alone. mmaction's ``GenSkeFeat``/``JointToBone``
  know three layouts. :class:`GenSkeFeatLayout` and
  :class:`JointToBoneLayout` take the layout the graph uses (a name from
  :mod:`sfhead_mm.datasets.layouts` such as ``'nw-ucla'``, one of mmaction's
  names, or ``dict(num_node, inward, center)``), so one layout dict in a
  config drives both the graph and the bone stream. Bones, motion and
  stream order follow mmaction's ``GenSkeFeat`` exactly:
  ``bone[child] = joint[child] - joint[parent]`` for every ``(child,
  parent)`` in ``inward``, zero for the root; ``motion[t] = x[t + 1] - x[t]``
  with the last frame zero (for mmaction's own layout names the bone lists
  are mmaction's ``JointToBone`` ones, so the output equals ``GenSkeFeat``'s).
  :class:`CheckKeypointShape` (and the ``channels``
  field of :class:`GenSkeFeatLayout`) stop a 2D pickle meeting a 3D config
  with a message naming the sample, instead of
  ``running_mean should contain 51 elements not 75`` from the model.
  :func:`check_keypoint_shapes` is the same check before training, from the
  config and the annotation files.

* The NW-UCLA protocol of CTR-GCN (``Uason-Chen/CTR-GCN``,
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
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .layouts import (MMACTION_LAYOUTS, LayoutError, LayoutLike, get_layout,
                      layout_name)
from .validation import (AnnotationError, load_annotation_file,
                         pose_datasets)

__all__ = [
    'KeypointShapeError', 'CheckKeypointShape', 'JointToBoneLayout',
    'GenSkeFeatLayout', 'CenterOnJoint', 'RandomRotateScale3D',
    'MinMaxNormalize', 'RepeatSampleFrames', 'bone_pairs', 'joint_to_bone',
    'to_motion', 'expected_keypoint_shape', 'check_keypoint_shapes'
]

FEATS = ('j', 'b', 'jm', 'bm')


class KeypointShapeError(AnnotationError):
    """Keypoints do not fit what the config expects; the message says how."""


def _sample_name(results: Dict) -> str:
    for key in ('frame_dir', 'filename'):
        if key in results:
            return repr(str(results[key]))
    return '(unnamed)'


def _describe_channels(channels: int, with_score: bool = False) -> str:
    if with_score:
        return f'{channels - 1}D coordinates + score'
    return {2: '2D: x, y', 3: '3D: x, y, z (or 2D x, y + score)'}.get(
        channels, f'{channels} values per joint')


def _check_shape(keypoint: np.ndarray, where: str,
                 num_node: Optional[int] = None,
                 channels: Optional[int] = None,
                 with_score: bool = False,
                 layout_desc: str = '') -> None:
    """Raise :class:`KeypointShapeError` when V or C do not fit."""
    shape = tuple(np.shape(keypoint))
    if len(shape) != 4:
        raise KeypointShapeError(
            f'{where}: keypoint must be [M, T, V, C], got shape {shape}')
    _, _, V, C = shape
    C_eff = C + int(with_score)
    if num_node is not None and V != num_node:
        raise KeypointShapeError(
            f'{where}: keypoint has V={V} joints (shape [M, T, V, C] = '
            f'{list(shape)}) but the config expects {num_node}'
            f'{" (layout " + layout_desc + ")" if layout_desc else ""}; use '
            'the layout the data was recorded with')
    if channels is not None and C_eff != channels:
        got = _describe_channels(C_eff, with_score)
        raise KeypointShapeError(
            f'{where}: keypoint has C={C_eff} channels per joint ({got}; '
            f'shape [M, T, V, C] = {list(shape)}'
            f'{" + keypoint_score" if with_score else ""}) but the config '
            f'expects {channels} ({_describe_channels(channels)}). A 2D '
            'pickle needs a 2D config and a 3D pickle a 3D config; '
            'model.backbone.in_channels = channels x number of feats.')


# --------------------------------------------------------------------------
# Shape check
# --------------------------------------------------------------------------
@TRANSFORMS.register_module()
class CheckKeypointShape(BaseTransform):
    """Check a sample's keypoint shape against the config, naming the sample.

    Put it first in a pipeline (e.g. before mmaction's ``PreNormalize3D``)
    so that a 2D pickle with a 3D config, or data of another skeleton,
    fails with the sample's name and what was expected.

    Required Keys:

        - keypoint
        - keypoint_score (optional; counted as one more channel, as
          ``GenSkeFeat`` concatenates it)
        - frame_dir (optional, for the message)

    Args:
        channels (int, optional): Values per joint, e.g. 3 for x, y, z or
            for 2D x, y + score. Defaults to None (not checked).
        num_node (int, optional): Joints per skeleton. Defaults to None
            (taken from ``layout`` if given, else not checked).
        layout (str or dict, optional): A layout whose ``num_node`` is
            expected. Defaults to None.
    """

    def __init__(self,
                 channels: Optional[int] = None,
                 num_node: Optional[int] = None,
                 layout: Optional[LayoutLike] = None) -> None:
        self.channels = channels
        self.layout = layout
        if num_node is None and layout is not None:
            num_node = get_layout(layout)['num_node']
        self.num_node = num_node

    def transform(self, results: Dict) -> Dict:
        """Check ``results['keypoint']``; return ``results`` unchanged."""
        _check_shape(results['keypoint'], f'sample {_sample_name(results)}',
                     self.num_node, self.channels,
                     'keypoint_score' in results,
                     layout_name(self.layout) if self.layout else '')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channels={self.channels}, '
                f'num_node={self.num_node})')


# --------------------------------------------------------------------------
# Bones and motion for any layout
# --------------------------------------------------------------------------
def bone_pairs(layout: LayoutLike) -> List[Tuple[int, int]]:
    """The (child, parent) pairs of a layout's bone stream.

    For a dict or a registered name these are its ``inward`` pairs. For
    mmaction's own names (``'nturgb+d'``, ``'openpose'``, ``'coco'``) they
    are mmaction's ``JointToBone`` pairs, so the streams equal
    ``GenSkeFeat``'s; note that mmaction's bone lists differ from its own
    ``Graph`` edges there (NTU hand tips and thumbs, COCO hips).

    Raises:
        LayoutError: a pair names a joint outside ``0..num_node - 1`` (the
            message names the pair and num_node), or a joint is the child of
            two pairs (its bone would be ambiguous).
    """
    if isinstance(layout, str) and layout in MMACTION_LAYOUTS:
        # mmaction's own bone lists, so that results equal GenSkeFeat's; the
        # root's self pair (zero bone) is implied.
        from mmaction.datasets.transforms import JointToBone
        return sorted((int(c), int(p))
                      for c, p in JointToBone(dataset=layout).pairs if c != p)
    resolved = get_layout(layout)
    parents: Dict[int, int] = {}
    for child, parent in resolved['inward']:
        if child in parents and parents[child] != parent:
            raise LayoutError(
                f'layout {layout_name(layout)}: joint {child} is the child of '
                f'two bone pairs ({child}, {parents[child]}) and ({child}, '
                f'{parent}); the bone stream needs one parent per joint '
                '(list each bone once, pointing towards the centre)')
        parents[child] = parent
    return sorted(parents.items())


def joint_to_bone(keypoint: np.ndarray,
                  pairs: Sequence[Tuple[int, int]],
                  with_score: bool = False) -> np.ndarray:
    """Bones ``x[..., child, :] - x[..., parent, :]``; zero for other joints.

    Args:
        keypoint (np.ndarray): [M, T, V, C].
        pairs (Sequence[tuple[int, int]]): (child, parent) pairs.
        with_score (bool): The last channel is a confidence score: a bone's
            score is the mean of its two joints' scores (a root keeps its
            own), as mmaction does for 2D layouts. Defaults to False.

    Returns:
        np.ndarray: [M, T, V, C] float32.
    """
    keypoint = np.asarray(keypoint, dtype=np.float32)
    bone = np.zeros_like(keypoint)
    if pairs:
        child, parent = (np.array(idx) for idx in zip(*pairs))
        bone[..., child, :] = keypoint[..., child, :] - \
            keypoint[..., parent, :]
    if with_score:
        bone[..., -1] = keypoint[..., -1]
        if pairs:
            bone[..., child, -1] = (keypoint[..., child, -1] +
                                    keypoint[..., parent, -1]) / 2
    return bone


def to_motion(data: np.ndarray, with_score: bool = False) -> np.ndarray:
    """Motion ``x[:, t + 1] - x[:, t]`` along T, the last frame zero.

    Args:
        data (np.ndarray): [M, T, V, C].
        with_score (bool): The last channel is a score: the mean of the two
            frames' scores instead of their difference (last frame zero), as
            mmaction's ``ToMotion`` for 2D layouts. Defaults to False.

    Returns:
        np.ndarray: [M, T, V, C], same dtype as ``data``.
    """
    motion = np.zeros_like(data)
    motion[:, :-1] = np.diff(data, axis=1)
    if with_score:
        motion[:, :-1, :, -1] = (data[:, :-1, :, -1] + data[:, 1:, :, -1]) / 2
    return motion


@TRANSFORMS.register_module()
class JointToBoneLayout(BaseTransform):
    """Joints to bones for any layout (mmaction's ``JointToBone``, any V).

    Required Keys:

        - keypoint (or ``source``)

    Modified Keys:

        - keypoint (or ``target``)

    Args:
        layout (str or dict): Layout name or ``dict(num_node, inward,
            center)``; ``inward`` (child, parent) pairs define the bones.
        source (str): Key of the joints. Defaults to ``'keypoint'``.
        target (str): Key of the bones. Defaults to ``'keypoint'``.
        with_score (bool): The last channel is a confidence score (see
            :func:`joint_to_bone`). Defaults to False.
    """

    def __init__(self,
                 layout: LayoutLike,
                 source: str = 'keypoint',
                 target: str = 'keypoint',
                 with_score: bool = False) -> None:
        self.layout = layout
        self.num_node = get_layout(layout)['num_node']
        self.pairs = bone_pairs(layout)
        self.source = source
        self.target = target
        self.with_score = with_score

    def transform(self, results: Dict) -> Dict:
        """Compute bones of ``results[source]`` into ``results[target]``."""
        keypoint = results[self.source]
        _check_shape(keypoint, f'sample {_sample_name(results)}',
                     self.num_node, layout_desc=layout_name(self.layout))
        results[self.target] = joint_to_bone(keypoint, self.pairs,
                                             self.with_score)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout='
                f'{layout_name(self.layout)}, source={self.source}, '
                f'target={self.target}, with_score={self.with_score})')


@TRANSFORMS.register_module()
class GenSkeFeatLayout(BaseTransform):
    """Joint, bone and motion streams for any layout (``GenSkeFeat``, any V).

    Same fields and output as mmaction's ``GenSkeFeat`` with ``dataset``
    replaced by ``layout``: the requested streams concatenated along
    ``axis`` in the order of ``feats``. A ``keypoint_score`` is appended to
    the coordinates first (2D data), and then treated as a score channel.

    Required Keys:

        - keypoint
        - keypoint_score (optional)
        - frame_dir (optional, for messages)

    Modified Keys:

        - keypoint

    Args:
        layout (str or dict): Layout name (``'nw-ucla'``, ``'nturgb+d'``,
            ...) or ``dict(num_node, inward, center)``; the same value as the
            backbone's ``graph_cfg.layout``.
        feats (list[str]): Streams out of ``'j'`` (joint), ``'b'`` (bone),
            ``'jm'`` (joint motion), ``'bm'`` (bone motion).
            Defaults to ``['j']``.
        axis (int): Concatenation axis. Defaults to -1 (channels).
        channels (int, optional): Expected values per joint of the input
            (3 for x, y, z); a sample with other C fails with a message
            naming it. Defaults to None (not checked). V is always checked
            against the layout.
    """

    def __init__(self,
                 layout: LayoutLike,
                 feats: Sequence[str] = ('j', ),
                 axis: int = -1,
                 channels: Optional[int] = None) -> None:
        unknown = [f for f in feats if f not in FEATS]
        if unknown or not feats:
            raise ValueError(
                f'GenSkeFeatLayout: feats must be a non-empty list out of '
                f'{list(FEATS)}, got {list(feats)}')
        self.layout = layout
        self.num_node = get_layout(layout)['num_node']
        self.pairs = bone_pairs(layout)
        self.feats = list(feats)
        self.axis = axis
        self.channels = channels

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['keypoint']`` by the concatenated streams."""
        keypoint = results['keypoint']
        with_score = 'keypoint_score' in results
        _check_shape(keypoint, f'sample {_sample_name(results)}',
                     self.num_node, self.channels, with_score,
                     layout_name(self.layout))
        if with_score:
            keypoint = np.concatenate(
                [keypoint, results.pop('keypoint_score')[..., None]], -1)
        streams = {'j': np.asarray(keypoint, dtype=np.float32)}
        if 'b' in self.feats or 'bm' in self.feats:
            streams['b'] = joint_to_bone(keypoint, self.pairs, with_score)
        if 'jm' in self.feats:
            streams['jm'] = to_motion(streams['j'], with_score)
        if 'bm' in self.feats:
            streams['bm'] = to_motion(streams['b'], with_score)
        results['keypoint'] = np.concatenate(
            [streams[f] for f in self.feats], axis=self.axis)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout='
                f'{layout_name(self.layout)}, feats={self.feats}, '
                f'axis={self.axis}, channels={self.channels})')


# --------------------------------------------------------------------------
# The NW-UCLA protocol of CTR-GCN
# --------------------------------------------------------------------------
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
                f'sample {_sample_name(results)}: CenterOnJoint(person='
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
                f'sample {_sample_name(results)}: RandomRotateScale3D needs '
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
                f'sample {_sample_name(results)} has no frames')
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


# --------------------------------------------------------------------------
# Pre-flight: keypoint shapes of the annotation files against the config
# --------------------------------------------------------------------------
_FEATURE_TRANSFORMS = ('GenSkeFeat', 'GenSkeFeatLayout')


def expected_keypoint_shape(cfg: Any, pipeline: Sequence[Dict]
                            ) -> Tuple[Optional[int], Optional[int], str]:
    """What a pipeline + model expect of the stored keypoints.

    Args:
        cfg: The config (reads ``model.backbone.in_channels``, default 3,
            and ``model.backbone.graph_cfg``).
        pipeline: The dataset's pipeline (reads the ``feats`` of
            ``GenSkeFeat``/``GenSkeFeatLayout``, default ``['j']``).

    Returns:
        tuple: ``(num_node or None, channels or None, explanation)`` where
        ``channels`` counts values per joint as stored (plus one for a
        ``keypoint_score``).
    """
    from mmaction.models.utils import Graph
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    in_channels = backbone.get('in_channels', 3)
    num_node = None
    if backbone.get('graph_cfg'):
        num_node = Graph(**backbone['graph_cfg']).num_node
    feats = ['j']
    for step in pipeline or []:
        if step.get('type') in _FEATURE_TRANSFORMS:
            feats = list(step.get('feats', ['j']))
    channels = in_channels // len(feats) \
        if in_channels % len(feats) == 0 else None
    why = (f'model.backbone.in_channels={in_channels} / {len(feats)} stream(s)'
           f' {feats}')
    return num_node, channels, why


def check_keypoint_shapes(cfg: Any,
                          loaders: Sequence[str] = ('train_dataloader',
                                                    'val_dataloader',
                                                    'test_dataloader'),
                          loaded: Optional[Dict[str, Any]] = None) -> None:
    """Check V and C of every sample against the model, before training.

    For each ``PoseDataset`` with a GCN pipeline (``FormatGCNInput``) of the
    given dataloaders, every sample of its split must have ``num_node`` joints (the backbone graph's) and
    ``in_channels / len(feats)`` values per joint (a ``keypoint_score``
    counts as one). Meant for the pre-flight checks of ``tools/train.py``
    and ``tools/test.py``; it reads only shapes.

    Args:
        cfg: The merged config.
        loaders: Dataloader fields to check.
        loaded (dict, optional): Already unpickled annotation files by
            ``ann_file`` path, to avoid reading large files twice.

    Raises:
        KeypointShapeError: naming the loader, the file, the sample, its
            shape and what the config expects.
    """
    loaded = {} if loaded is None else loaded
    for name, ds, path in pose_datasets(cfg, loaders):
        types = [step.get('type') for step in ds.get('pipeline') or []]
        if 'FormatGCNInput' not in types:
            continue  # not a GCN pipeline (e.g. PoseC3D heatmaps)
        num_node, channels, why = expected_keypoint_shape(
            cfg, ds.get('pipeline'))
        if path not in loaded:
            loaded[path] = load_annotation_file(path)
        data = loaded[path]
        annotations = data['annotations'] if isinstance(data, dict) \
            else data
        wanted = None
        if ds.get('split') is not None and isinstance(data, dict):
            wanted = set(data.get('split', {}).get(ds['split'], []))
        for i, ann in enumerate(annotations):
            if wanted is not None and ann.get('frame_dir') not in wanted:
                continue
            try:
                _check_shape(ann['keypoint'],
                             f'sample {i} ({ann.get("frame_dir", "?")})',
                             num_node, channels,
                             'keypoint_score' in ann)
            except KeypointShapeError as err:
                raise KeypointShapeError(
                    f'{name}.dataset: {path}: {err} [{why}]') from None
