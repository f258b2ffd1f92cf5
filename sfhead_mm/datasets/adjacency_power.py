"""InfoGCN's k-th mode representation ``(I - A^k) x`` for any layout.

InfoGCN (Chi et al., CVPR 2022, its "multi-modal representation") feeds
each stream the relative position of every joint to a joint k steps closer
to the body's centre, ``x_k = (I - A^k) x``, and ensembles k in {1, 2, 8}
for position and for motion: six streams, the protocol of the SF-Head
paper's headline table ("six-stream ensemble strategy [8]").

The matrix ``A`` (from InfoGCN's model, ``get_A``/``A_outward_binary``)::

    A[v, u] = 1  if u is the parent of v in the skeleton tree, else 0

binary, directed (child -> parent), not normalised, no self loops; ``A^k`` is
the plain matrix power. In a tree ``A^k[v, u] = 1`` exactly when u is the
k-th ancestor of v, so per frame and channel::

    ((I - A^k) x)[v] = x[v] - x[k-th ancestor of v]   if v has one
                     = x[v]                             otherwise

k = 1 is the bone stream except at the root, which keeps its position; once
k exceeds the tree's depth ``A^k = 0`` and the stream is the joints
themselves. InfoGCN's NTU tree is the CTR-GCN/mmaction bone tree rooted at
the spine middle (joint 1, 0-based) instead of the spine shoulder (20): its
depth is 7 (spine middle to a hand tip), so its k = 8 stream is the raw
joints. ``root=1`` with ``ntu_ctrgcn_layout`` (or ``'nturgb+d'``)
reproduces InfoGCN's matrix.

Parents come from the layout's bones (:func:`bone_pairs`, the same pairs as
the bone stream of :class:`GenSkeFeatLayout`), or from re-rooting their
undirected tree at ``root``.
"""
from collections import deque
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .layouts import LayoutError, LayoutLike, get_layout, layout_name
from .transforms import bone_pairs, to_motion
from .validation import check_keypoint_array, sample_name

__all__ = ['GenSkeFeatAdjacencyPower', 'adjacency_power', 'joint_parents']

FEATS = ('j', 'jm')


def joint_parents(layout: LayoutLike,
                  root: Optional[int] = None) -> List[Optional[int]]:
    """The parent of each joint in the layout's bone tree (None: a root).

    Args:
        layout (str or dict): A layout name or ``dict(num_node, inward,
            center)``.
        root (int, optional): Re-root the undirected bone tree at this
            joint. Defaults to None (the ``(child, parent)`` pairs of
            :func:`bone_pairs` as they are).

    Returns:
        list: V entries, ``parents[v]`` a joint index or None.

    Raises:
        LayoutError: ``root`` is not a joint, or the bones have a cycle.
    """
    num_node = get_layout(layout)['num_node']
    pairs = bone_pairs(layout)
    if root is None:
        parents: List[Optional[int]] = [None] * num_node
        for child, parent in pairs:
            parents[child] = parent
        _check_acyclic(parents, layout)
        return parents
    if not isinstance(root, int) or not 0 <= root < num_node:
        raise LayoutError(
            f'root must be a joint index in 0..{num_node - 1} (layout '
            f'{layout_name(layout)} has num_node={num_node}), got {root!r}')
    neighbours: Dict[int, List[int]] = {v: [] for v in range(num_node)}
    for child, parent in pairs:
        neighbours[child].append(parent)
        neighbours[parent].append(child)
    parents = [None] * num_node
    seen = {root}
    queue = deque([root])
    while queue:  # breadth-first from the root; the root has no parent
        v = queue.popleft()
        for u in neighbours[v]:
            if u == parents[v]:
                continue
            if u in seen:
                raise LayoutError(
                    f'layout {layout_name(layout)}: the bones form a cycle '
                    f'through joints {v} and {u}; (I - A^k) x needs a tree')
            seen.add(u)
            parents[u] = v
            queue.append(u)
    return parents


def _check_acyclic(parents: Sequence[Optional[int]],
                   layout: LayoutLike) -> None:
    for start in range(len(parents)):
        v, steps = start, 0
        while parents[v] is not None:
            v, steps = parents[v], steps + 1
            if steps > len(parents):
                raise LayoutError(
                    f'layout {layout_name(layout)}: following parents from '
                    f'joint {start} never reaches a root (the bones form a '
                    'cycle); (I - A^k) x needs a tree')


def adjacency_power(layout: LayoutLike,
                    k: int,
                    root: Optional[int] = None) -> np.ndarray:
    """``I - A^k`` with ``A[v, parent(v)] = 1`` (see the module docstring).

    Args:
        layout (str or dict): A layout name or dict.
        k (int): The power, >= 1.
        root (int, optional): See :func:`joint_parents`. Defaults to None.

    Returns:
        np.ndarray: [V, V] float32.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f'k must be an int >= 1 (InfoGCN uses 1, 2 and 8), '
                         f'got {k!r}')
    parents = joint_parents(layout, root)
    num_node = len(parents)
    adjacency = np.zeros((num_node, num_node))
    for child, parent in enumerate(parents):
        if parent is not None:
            adjacency[child, parent] = 1
    return (np.eye(num_node) -
            np.linalg.matrix_power(adjacency, k)).astype(np.float32)


@TRANSFORMS.register_module()
class GenSkeFeatAdjacencyPower(BaseTransform):
    """InfoGCN's ``(I - A^k) x`` position and motion streams, any layout.

    ``'j'`` is ``(I - A^k) x`` of the joints, ``'jm'`` its frame
    difference ``m[t] = x_k[t + 1] - x_k[t]`` with the last frame zero,
    exactly as mmaction's ``GenSkeFeat`` ``'jm'`` (the two commute:
    InfoGCN takes the difference first). Requested streams are
    concatenated along ``axis`` in the order of ``feats``.

    With a ``keypoint_score`` (2D data) the score is appended as a last
    channel that is not transformed like a coordinate: a joint's score is the
    mean of its own and its k-th ancestor's (its own without one), as a
    bone's is in ``GenSkeFeat``; motion averages two frames' scores.

    Required Keys:

        - keypoint: [M, T, V, C]
        - keypoint_score (optional): [M, T, V]
        - frame_dir (optional, for messages)

    Modified Keys:

        - keypoint: [M, T, V, C'] with C' = (C + has score) x len(feats)
          for ``axis=-1``

    Args:
        layout (str or dict): Layout name or ``dict(num_node, inward,
            center)``, usually the backbone's ``graph_cfg.layout``.
        k (int): The power of ``A``; InfoGCN's six streams use 1, 2, 8.
        feats (list[str]): Out of ``'j'`` (position), ``'jm'`` (motion).
            Defaults to ``['j']``.
        root (int, optional): Root the bone tree at this joint instead of
            the layout's own root (InfoGCN's NTU tree: 1, the spine middle).
            Defaults to None.
        axis (int): Concatenation axis. Defaults to -1 (channels).
        channels (int, optional): Expected values per joint of the input;
            checked like :class:`GenSkeFeatLayout`. Defaults to None. V is
            always checked against the layout.
    """

    def __init__(self,
                 layout: LayoutLike,
                 k: int,
                 feats: Sequence[str] = ('j', ),
                 root: Optional[int] = None,
                 axis: int = -1,
                 channels: Optional[int] = None) -> None:
        unknown = [f for f in feats if f not in FEATS]
        if unknown or not feats:
            raise ValueError(
                f'GenSkeFeatAdjacencyPower: feats must be a non-empty list '
                f'out of {list(FEATS)}, got {list(feats)}')
        self.layout = layout
        self.k = k
        self.root = root
        self.feats = list(feats)
        self.axis = axis
        self.channels = channels
        self.matrix = adjacency_power(layout, k, root)  # [V, V]
        self.num_node = len(self.matrix)
        # (I - A^k) has -1 at (v, k-th ancestor of v): where scores average
        ancestor = np.argmin(self.matrix, axis=1)
        has_ancestor = self.matrix[np.arange(self.num_node), ancestor] < 0
        self.score_source = np.where(has_ancestor, ancestor,
                                     np.arange(self.num_node))

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['keypoint']`` by the concatenated streams."""
        keypoint = results['keypoint']
        with_score = 'keypoint_score' in results
        check_keypoint_array(keypoint, f'sample {sample_name(results)}',
                             self.num_node, self.channels, with_score,
                             layout_name(self.layout))
        keypoint = np.asarray(keypoint, dtype=np.float32)
        # [M, T, V, C]: out[..., v, c] = sum_u (I - A^k)[v, u] x[..., u, c]
        position = np.einsum('vu,mtuc->mtvc', self.matrix, keypoint)
        if with_score:
            score = results.pop('keypoint_score').astype(np.float32)
            score = (score + score[..., self.score_source]) / 2
            position = np.concatenate([position, score[..., None]], -1)
        streams = {'j': position}
        if 'jm' in self.feats:
            streams['jm'] = to_motion(position, with_score)
        results['keypoint'] = np.concatenate(
            [streams[f] for f in self.feats], axis=self.axis)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout='
                f'{layout_name(self.layout)}, k={self.k}, feats={self.feats}, '
                f'root={self.root}, axis={self.axis}, '
                f'channels={self.channels})')
