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

* The NW-UCLA protocol of CTR-GCN is in
  :mod:`sfhead_mm.datasets.nw_ucla_transforms`; the pre-flight check
  :func:`check_keypoint_shapes` in :mod:`sfhead_mm.datasets.validation`
  (both importable from here too).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .layouts import (MMACTION_LAYOUTS, LayoutError, LayoutLike, get_layout,
                      layout_name)
# importable from here as before the split
from .nw_ucla_transforms import (CenterOnJoint, MinMaxNormalize,  # noqa
                                 RandomRotateScale3D, RepeatSampleFrames)
from .validation import (KeypointShapeError, check_keypoint_array,  # noqa
                         check_keypoint_shapes, expected_keypoint_shape,
                         sample_name)

__all__ = [
    'CheckKeypointShape', 'JointToBoneLayout', 'GenSkeFeatLayout',
    'bone_pairs', 'joint_to_bone', 'to_motion'
]

FEATS = ('j', 'b', 'jm', 'bm')


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
        check_keypoint_array(results['keypoint'],
                             f'sample {sample_name(results)}',
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
        check_keypoint_array(keypoint, f'sample {sample_name(results)}',
                             self.num_node,
                             layout_desc=layout_name(self.layout))
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
        check_keypoint_array(keypoint, f'sample {sample_name(results)}',
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
