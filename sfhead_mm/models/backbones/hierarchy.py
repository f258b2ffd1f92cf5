"""HD-GCN's hierarchically decomposed graph and its two EdgeConv layers.

The parts of :mod:`.hdgcn` that are not the block: the HD-Graph
(:func:`hierarchy_levels` groups the joints by hop distance from a centre
of mass, :func:`hierarchical_adjacency` builds three subsets per pair of
consecutive levels), the EdgeConv over the k nearest points in feature
space (:class:`LayerEdgeConv`, all layers at once) and the
attention-guided hierarchy aggregation A-HA (:class:`HierarchyAggregation`).
"""
from typing import List, Sequence

import numpy as np
import torch
import torch.nn as nn

from mmaction.models.utils import Graph

__all__ = [
    'HierarchyAggregation', 'LayerEdgeConv', 'hierarchical_adjacency',
    'hierarchy_levels'
]


def hierarchy_levels(graph: Graph, center: int,
                     num_levels: int = 7) -> List[List[int]]:
    """Joints grouped by hop distance from ``center``.

    Args:
        graph (Graph): An mmaction graph (its ``inward`` bones are used).
        center (int): The centre-of-mass joint, 0-based (NTU's CoM 1, 2, 21
            of the paper are 0, 1, 20).
        num_levels (int): Number of levels; the last one holds every joint
            at distance ``>= num_levels - 1``. Defaults to 7.

    Returns:
        list[list[int]]: ``num_levels`` lists of 0-based joints.

    Raises:
        ValueError: a joint is not connected to ``center`` or a level is
            empty (the skeleton is too shallow for ``num_levels``).
    """
    V = graph.num_node
    neighbours: List[List[int]] = [[] for _ in range(V)]
    for i, j in graph.inward:
        neighbours[i].append(j)
        neighbours[j].append(i)
    distance = {center: 0}
    frontier = [center]
    while frontier:
        nxt = []
        for joint in frontier:
            for other in neighbours[joint]:
                if other not in distance:
                    distance[other] = distance[joint] + 1
                    nxt.append(other)
        frontier = nxt
    if len(distance) != V:
        missing = sorted(set(range(V)) - set(distance))
        raise ValueError(f'hierarchy_levels: joints {missing} are not '
                         f'connected to the centre joint {center}.')
    levels: List[List[int]] = [[] for _ in range(num_levels)]
    for joint in range(V):
        levels[min(distance[joint], num_levels - 1)].append(joint)
    if any(not level for level in levels):
        raise ValueError(
            f'hierarchy_levels: with centre {center} some of the '
            f'{num_levels} levels are empty ({[len(lv) for lv in levels]} '
            'joints); use fewer num_levels.')
    return levels


def hierarchical_adjacency(levels: Sequence[Sequence[int]],
                           num_node: int) -> np.ndarray:
    """The HD-Graph: three subsets per pair of consecutive levels.

    For layer ``i`` (levels i and i + 1): the identity on both levels'
    joints; ``F[k, j] = 1`` for j in level i, k in level i + 1; the reverse
    ``R[j, k] = 1``; F and R divided by their column sums. Indexed
    ``[target, source]``: ``out[u] = sum_v A[u, v] x[v]``.

    Args:
        levels (Sequence[Sequence[int]]): From :func:`hierarchy_levels`.
        num_node (int): Joints V.

    Returns:
        np.ndarray: (len(levels) - 1, 3, V, V).
    """
    def column_normalise(a: np.ndarray) -> np.ndarray:
        sums = a.sum(0)
        return a / np.where(sums > 0, sums, 1)[None, :]

    layers = []
    for lower, upper in zip(levels[:-1], levels[1:]):
        identity = np.zeros((num_node, num_node))
        for j in list(lower) + list(upper):
            identity[j, j] = 1
        forward = np.zeros((num_node, num_node))
        for j in lower:
            for k in upper:
                forward[k, j] = 1
        layers.append(
            np.stack([
                identity,
                column_normalise(forward),
                column_normalise(forward.T.copy())
            ]))
    return np.stack(layers)


def _knn_features(x: torch.Tensor, k: int) -> torch.Tensor:
    """EdgeConv input: ``[x_nbr - x, x]`` of the k nearest points.

    Neighbours by Euclidean distance in feature space (the point itself
    included), as in DGCNN.

    Args:
        x (torch.Tensor): (B, C, P) features of P points.
        k (int): Neighbours.

    Returns:
        torch.Tensor: (B, 2C, P, k).
    """
    B, C, P = x.shape
    inner = torch.matmul(x.transpose(1, 2), x)  # B, P, P
    sq = x.pow(2).sum(dim=1, keepdim=True)  # B, 1, P
    neg_dist = 2 * inner - sq - sq.transpose(1, 2)
    idx = neg_dist.topk(k=k, dim=-1)[1]  # B, P, k
    points = x.transpose(1, 2)  # B, P, C
    nbr = torch.gather(
        points.unsqueeze(1).expand(B, P, P, C), 2,
        idx.unsqueeze(-1).expand(B, P, k, C))  # B, P, k, C
    centre = points.unsqueeze(2).expand(B, P, k, C)
    return torch.cat([nbr - centre, centre], dim=3).permute(0, 3, 1, 2)


class LayerEdgeConv(nn.Module):
    """``groups`` EdgeConvs at once (the original's ``EdgeConv``).

    Per group: ``max_k leaky_relu(bn(W [x_nbr - x, x]))`` over the k
    nearest points in feature space, W a 1x1 conv without bias.

    Args:
        in_channels (int): Channels per group.
        out_channels (int): Output channels per group.
        k (int): Neighbours.
        groups (int): Independent EdgeConvs. Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 k: int,
                 groups: int = 1) -> None:
        super().__init__()
        self.k = k
        self.groups = groups
        self.conv = nn.Conv2d(
            2 * in_channels * groups,
            out_channels * groups,
            1,
            groups=groups,
            bias=False)
        self.bn = nn.BatchNorm2d(out_channels * groups)
        self.act = nn.LeakyReLU(negative_slope=0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, G * C, P) points -> (N, G * C_out, P).

        The grouped 1x1 conv is applied as a batched matmul (CPU grouped
        convs take a slow path), so hooks on ``conv`` do not fire.
        """
        N, GC, P = x.shape
        G, k = self.groups, self.k
        feats = _knn_features(x.reshape(N * G, GC // G, P), k)
        weight = self.conv.weight.view(G, -1, 2 * GC // G)
        y = torch.matmul(weight, feats.reshape(N, G, 2 * GC // G, P * k))
        y = y.view(N, -1, P, k)
        return self.act(self.bn(y)).max(dim=-1).values


class HierarchyAggregation(nn.Module):
    """A-HA, the original ``AHA``: attention weights over the layers.

    ``d[i] = mean over the joints of levels i, i+1 of
    relu(bn(conv(max_T x[:, :, i])))``, ``w = sigmoid(aggregate(
    EdgeConv_k3(d)))`` (per channel and layer),
    ``out = sum_i w[:, :, i] * x[:, :, i]``.

    Args:
        channels (int): Channels C of the layers' outputs.
        levels (Sequence[Sequence[int]]): The hierarchy levels.
        num_node (int): Joints V.
    """

    def __init__(self, channels: int, levels: Sequence[Sequence[int]],
                 num_node: int) -> None:
        super().__init__()
        inter = channels // 4
        L = len(levels) - 1
        members = torch.zeros(L, num_node)
        for i in range(L):
            members[i, list(levels[i]) + list(levels[i + 1])] = 1
        self.register_buffer('members', members, persistent=False)
        self.conv_down = nn.Sequential(
            nn.Conv2d(channels, inter, 1), nn.BatchNorm2d(inter), nn.ReLU())
        self.edge_conv = LayerEdgeConv(inter, inter, k=3)
        self.aggregate = nn.Conv1d(inter, channels, 1)

    def forward(self, x_max: torch.Tensor) -> torch.Tensor:
        """Layer weights from the per-layer features' temporal maxima.

        Args:
            x_max (torch.Tensor): ``max_T`` of the layers' features,
                (N, C, L, V).

        Returns:
            torch.Tensor: ``w``, (N, C, L); the fused output is
            ``sum_i w[:, :, i] * x[:, :, i]``.
        """
        descriptor = self.conv_down(x_max)  # N, C/4, L, V
        descriptor = (descriptor * self.members).sum(dim=-1) / \
            self.members.sum(dim=-1)  # N, C/4, L: mean over the layer
        return torch.sigmoid(self.aggregate(self.edge_conv(descriptor)))
