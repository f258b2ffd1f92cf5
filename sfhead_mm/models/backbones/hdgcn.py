"""HD-GCN backbone (Lee et al., ICCV 2023).

Reference: "Hierarchically Decomposed Graph Convolutional Networks for
Skeleton-Based Action Recognition" (ICCV 2023), code
``Jho-Yonsei/HD-GCN`` (``model/HDGCN.py``, ``graph/tools.py``). Written from
the paper and from reading that code; same function and parameters as the
original ``Model`` (without its ``fc``, which is mmaction's ``GCNHead``).

Model, in the paper's terms:

* Hierarchically decomposed graph (HD-Graph): the joints are grouped by
  their hop distance from a centre of mass (CoM) joint into
  ``num_levels`` (7) levels, the last one taking every farther joint. For
  each pair of consecutive levels ``(i, i + 1)`` (6 "layers") there are
  three subsets: the identity on both levels' joints, every edge from
  level i to level i + 1, and every edge back, the last two
  column-normalised. :func:`hierarchy_levels` derives the levels from any
  mmaction ``Graph`` layout by breadth-first search; for NTU and CoM 1, 2
  or 21 (1-based) it gives the original's hand-written groups.
* HD-GC (the graph convolution): per layer, a 1x1 conv to ``C_out / 4``
  channels (BN, ReLU); per subset, aggregation with a learned copy of the
  subset's adjacency and a 1x1 conv + BN; plus an EdgeConv (k nearest
  joints in feature space, ``k = 5``) on the temporal mean; the four
  ``C_out / 4`` outputs are concatenated. The layers are fused by
  attention-guided hierarchy aggregation (A-HA: per layer a descriptor of
  the two levels' joints, an EdgeConv over the layers with ``k = 3``, a
  sigmoid weight per channel and layer) or, in the first block, summed.
  ``relu(bn(.) + down(x))``.
* Ten blocks as CTR-GCN (64 x4, 128 x3, 256 x3, stride 2 at the 5th and
  8th, no block residual in the first) with CTR-GCN's multi-scale temporal
  convolution.

Changes that keep the function: the 6 layers' input convs are one conv
with 6x the output channels; the 18 subset convs are stored as one conv
grouped by (layer, subset) and applied, before the joint aggregation
instead of after (1x1 convs and joint aggregation commute; the bias is added
after), as one batched matmul, followed by one batched aggregation; the 6
EdgeConvs are one batched neighbour search and matmul, and their output,
constant over time, is fused over the layers before it is broadcast to the
frames; A-HA's per-layer joint averages are one masked mean. No Python loop
over layers or subsets. The parameters are the same numbers stacked
(:func:`convert_hdgcn_checkpoint` maps an original checkpoint).

Attachment of our auxiliary heads: each block is ``backbone.gcn[i]`` with
children ``gcn`` (HD-GC, the original's ``l{i+1}.gcn1``) and ``tcn``
(``l{i+1}.tcn1``), so the default gcn/tcn rule applies.
"""
import re
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from .ctrgcn import MultiScaleTemporalConv, TemporalConvBN, _NoResidual

__all__ = [
    'HDGCN', 'HDGCNBlock', 'HDGraphConv', 'HierarchyAggregation',
    'LayerEdgeConv', 'convert_hdgcn_checkpoint', 'hierarchical_adjacency',
    'hierarchy_levels'
]

# The original's conv_init touches Conv2d only (A-HA's Conv1d keeps
# PyTorch's default).
_KAIMING_CONV = dict(type='Kaiming', layer='Conv2d', mode='fan_out')
_CONSTANT_BN = dict(type='Constant', layer='BatchNorm2d', val=1, bias=0)


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


class HDGraphConv(BaseModule):
    """HD-GC, the original ``HD_Gconv``: all layers and subsets at once.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out, a multiple of S + 1 (4).
        A (np.ndarray): HD-Graph, (L, S, V, V), from
            :func:`hierarchical_adjacency`.
        levels (Sequence[Sequence[int]]): The hierarchy levels (for A-HA).
        attention (bool): Fuse the layers with A-HA, else sum them.
            Defaults to True.
        edge_k (int): Neighbours of the per-layer EdgeConv. Defaults to 5.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Kaiming (fan_out) convs, BN weight 1
            and ``bn`` weight 1e-6, biases 0.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: np.ndarray,
        levels: Sequence[Sequence[int]],
        attention: bool = True,
        edge_k: int = 5,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [
            _KAIMING_CONV,
            dict(
                **_CONSTANT_BN,
                override=dict(type='Constant', name='bn', val=1e-6, bias=0))
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        L, S, V = A.shape[0], A.shape[1], A.shape[-1]
        if out_channels % (S + 1):
            raise ValueError(
                f'HDGraphConv: out_channels={out_channels} must be a '
                f'multiple of {S + 1} (subsets + EdgeConv).')
        inter = out_channels // (S + 1)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_layers = L
        self.num_subsets = S
        self.inter_channels = inter
        self.PA = nn.Parameter(torch.tensor(A, dtype=torch.float32))
        self.conv_down = nn.Sequential(
            nn.Conv2d(in_channels, L * inter, 1), nn.BatchNorm2d(L * inter),
            nn.ReLU())
        self.subset_conv = nn.Sequential(
            nn.Conv2d(L * S * inter, L * S * inter, 1, groups=L * S),
            nn.BatchNorm2d(L * S * inter))
        self.edge_conv = LayerEdgeConv(inter, inter, k=edge_k, groups=L)
        self.aha = HierarchyAggregation(out_channels, levels,
                                        V) if attention else None
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1),
                nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def init_weights(self) -> None:
        """``init_cfg``, then Kaiming per original conv of the stacks.

        Kaiming normal with ``mode='fan_out'`` must see one original conv's
        fan-out (``C_out / 4``), not the stacked one, so it is applied to
        each layer's (and subset's) block of the stacked weights.
        """
        super().init_weights()
        L, S = self.num_layers, self.num_subsets
        with torch.no_grad():
            for conv, chunks in ((self.conv_down[0], L),
                                 (self.subset_conv[0], L * S),
                                 (self.edge_conv.conv, L)):
                for weight in conv.weight.chunk(chunks, dim=0):
                    nn.init.kaiming_normal_(weight, mode='fan_out')
                if conv.bias is not None:
                    nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V).

        Per layer l and subset s the original computes
        ``conv_ls(A_ls x_l)``; 1x1 convs act on channels and ``A`` on
        joints, so this is ``A_ls (W_ls x_l) + b_ls``: one batched matmul
        for all ``W_ls`` (the grouped ``subset_conv`` weight, so hooks on
        that conv do not fire), one for all ``A_ls``, and the result is
        already laid out (layer, subset, channel) as the original's
        concatenation. The EdgeConv output is constant over T, so it is
        fused over the layers before being broadcast to every frame.
        """
        B, _, T, V = x.shape
        L, S, C = self.num_layers, self.num_subsets, self.inter_channels
        x_down = self.conv_down(x)  # B, L*C, T, V
        conv, bn = self.subset_conv
        weight = conv.weight.view(L, S * C, C)
        z = torch.matmul(weight, x_down.view(B, L, C, T * V))  # B,L,S*C,T*V
        # z[b, l, s, c, t, u] = sum_v z[b, l, s, c, t, v] PA[l, s, u, v]
        z = torch.matmul(z.view(B, L, S, C * T, V), self.PA.transpose(-1, -2))
        z = z.view(B, L, S, C, T * V) + conv.bias.view(L, S, C, 1)
        z = bn(z.view(B, L * S * C, T, V)).view(B, L, S * C, T, V)
        edge = self.edge_conv(x_down.mean(dim=2).view(B, L * C, V))
        edge = edge.view(B, L, C, V)
        if self.aha is not None:
            x_max = torch.cat([z.max(dim=3).values, edge], dim=2)  # B,L,C_out,V
            w = self.aha(x_max.transpose(1, 2))  # B, C_out, L
            w = w.transpose(1, 2)[..., None]  # B, L, C_out, 1
            z = (z.view(B, L, S * C, T * V) * w[:, :, :S * C]).sum(dim=1)
            edge = (edge * w[:, :, S * C:]).sum(dim=1)
        else:
            z = z.sum(dim=1).view(B, S * C, T * V)
            edge = edge.sum(dim=1)
        out = torch.cat(
            [z.view(B, S * C, T, V),
             edge.unsqueeze(2).expand(B, C, T, V)], dim=1)
        return self.relu(self.bn(out) + self.down(x))


class HDGCNBlock(BaseModule):
    """The original ``TCN_GCN_unit``: ``relu(tcn(gcn(x)) + residual(x))``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (np.ndarray): HD-Graph, (L, S, V, V).
        levels (Sequence[Sequence[int]]): The hierarchy levels.
        stride (int): Temporal stride. Defaults to 1.
        residual (bool): Whether to add the block residual. Defaults to True.
        attention (bool): A-HA in the graph convolution. Defaults to True.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation of the
            residual projection. Defaults to Kaiming (fan_out) conv, BN
            weight 1, biases 0 (``gcn`` and ``tcn`` carry their own).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: np.ndarray,
                 levels: Sequence[Sequence[int]],
                 stride: int = 1,
                 residual: bool = True,
                 attention: bool = True,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = [
                     _KAIMING_CONV, _CONSTANT_BN
                 ]) -> None:
        super().__init__(init_cfg=init_cfg)
        self.gcn = HDGraphConv(in_channels, out_channels, A, levels,
                               attention)
        self.tcn = MultiScaleTemporalConv(
            out_channels,
            out_channels,
            kernel_size=tcn_kernel_size,
            stride=stride,
            dilations=tcn_dilations,
            residual=False)
        self.relu = nn.ReLU()
        if not residual:
            self.residual = _NoResidual()
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConvBN(in_channels, out_channels, 1,
                                           stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        return self.relu(self.tcn(self.gcn(x)) + self.residual(x))


@MODELS.register_module()
class HDGCN(BaseModule):
    """HD-GCN backbone, a drop-in for mmaction's ``STGCN`` backbone.

    Input ``(N, M, T, V, C)`` joints, output ``(N, M, C_out, T_out, V)`` for
    mmaction's ``GCNHead``. See the module docstring for the model.

    Block ``i`` (1-based) has ``base_channels * 2**j`` channels, ``j`` the
    number of ``inflate_stages <= i``, stride 2 if ``i in down_stages``;
    the first block has no block residual and sums the hierarchy layers
    instead of A-HA. Blocks are ``self.gcn[i - 1]`` with children ``gcn``
    (HD-GC, the original ``l{i}.gcn1``) and ``tcn`` (``l{i}.tcn1``).

    Args:
        graph_cfg (dict): Arguments of mmaction's ``Graph``; only its
            skeleton (``inward`` bones) is used, e.g.
            ``dict(layout='nturgb+d')``.
        center (int): Centre-of-mass joint, 0-based. The paper's NTU
            choices CoM 1, 2, 21 (1-based; its six-way ensemble is
            joint/bone x CoM) are 0, 1, 20. Defaults to 20 (the original's
            default CoM 21).
        num_levels (int): Hierarchy levels (their pairs are the layers).
            Defaults to 7.
        in_channels (int): Channels of a joint. Defaults to 3.
        base_channels (int): Width of the first stage. Defaults to 64.
        num_stages (int): Number of blocks. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based blocks that double the
            width. Defaults to ``(5, 8)``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to ``(5, 8)``.
        num_person (int): Persons M per clip, used by ``data_bn``.
            Defaults to 2.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config of
            the backbone (e.g. ``Pretrained``). Defaults to None.

    Examples:
        >>> import torch
        >>> import sfhead_mm  # noqa: F401
        >>> from sfhead_mm.models import HDGCN
        >>> model = HDGCN(dict(layout='nturgb+d'), center=0)
        >>> model.init_weights()
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 16, 25])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 center: int = 20,
                 num_levels: int = 7,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 num_person: int = 2,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        V = self.graph.num_node
        self.levels = hierarchy_levels(self.graph, center, num_levels)
        A = hierarchical_adjacency(self.levels, V)
        self.center = center
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * V)

        num_branches = len(tcn_dilations) + 2
        blocks = []
        block_in, width = in_channels, base_channels
        for i in range(1, num_stages + 1):
            if i in tuple(inflate_stages):
                width *= 2
            if width % num_branches or width % 4:
                raise ValueError(
                    f'HDGCN block {i}: width {width} must be a multiple of '
                    f'{num_branches} temporal branches and of 4 (HD-GC '
                    'subsets + EdgeConv); change base_channels.')
            blocks.append(
                HDGCNBlock(
                    block_in,
                    width,
                    A,
                    self.levels,
                    stride=2 if i in tuple(down_stages) else 1,
                    residual=i > 1,
                    attention=i > 1,
                    tcn_kernel_size=tcn_kernel_size,
                    tcn_dilations=tcn_dilations))
            block_in = width
        self.out_channels = block_in
        self.gcn = ModuleList(blocks)

    def init_weights(self) -> None:
        """Blocks' init; ``data_bn`` weight 1, bias 0 (as the original)."""
        super().init_weights()
        nn.init.ones_(self.data_bn.weight)
        nn.init.zeros_(self.data_bn.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Extract skeleton features.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            torch.Tensor: Features, (N, M, C_out, T_out, V).
        """
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2)
        x = x.reshape(N * M, C, T, V)
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])


def convert_hdgcn_checkpoint(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map an original HD-GCN ``Model`` state dict onto ours.

    Per block ``l{i}`` -> ``backbone.gcn.{i-1}``: ``gcn1.conv_down.{l}``
    stacked into ``gcn.conv_down``, ``gcn1.conv.{l}.{s}`` into
    ``gcn.subset_conv`` (layer-major), ``gcn1.conv.{l}.{S}`` (EdgeConv) into
    ``gcn.edge_conv``, ``gcn1.aha.edge_conv.conv.{0,1}`` to
    ``gcn.aha.edge_conv.{conv,bn}``, the temporal convs' separate ``bias``
    into their conv's bias; ``fc`` -> ``cls_head.fc``; ``module.`` dropped.

    Args:
        state_dict (dict[str, torch.Tensor]): The original ``Model``'s.

    Returns:
        dict[str, torch.Tensor]: Keys of a ``RecognizerGCN`` with
        ``backbone=dict(type='HDGCN')`` and a ``GCNHead``.
    """
    out: Dict[str, torch.Tensor] = {}
    stacks: Dict[str, Dict[tuple, torch.Tensor]] = {}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key.startswith('fc.'):
            out['cls_head.' + key] = value
            continue
        match = re.match(r'l(\d+)\.(gcn1|tcn1|residual)\.(.*)', key)
        if match is None:
            out['backbone.' + key] = value
            continue
        index, part, rest = match.groups()
        base = f'backbone.gcn.{int(index) - 1}.'
        if part == 'tcn1':
            rest = re.sub(r'(branches\.\d+\.3)\.bias$', r'\1.conv.bias',
                          rest)
            if rest.endswith('conv.bias') and value.dim() == 4:
                value = value.view(-1)
            out[base + 'tcn.' + rest] = value
            continue
        if part == 'residual':
            out[base + 'residual.' + rest] = value
            continue
        down = re.match(r'conv_down\.(\d+)\.(\d)\.(.*)', rest)
        conv = re.match(r'conv\.(\d+)\.(\d+)\.(.*)', rest)
        aha_edge = re.match(r'aha\.edge_conv\.conv\.(\d)\.(.*)', rest)
        if down is not None:
            layer, sub, name = down.groups()
            stacks.setdefault(f'{base}gcn.conv_down.{sub}.{name}',
                              {})[(int(layer), )] = value
        elif conv is not None:
            layer, subset, name = conv.groups()
            if name.startswith('conv.'):  # EdgeConv: conv.{0: conv, 1: bn}
                which, param = name.split('.')[1:]
                target = 'conv' if which == '0' else 'bn'
                stacks.setdefault(f'{base}gcn.edge_conv.{target}.{param}',
                                  {})[(int(layer), )] = value
            else:
                stacks.setdefault(f'{base}gcn.subset_conv.{name}',
                                  {})[(int(layer), int(subset))] = value
        elif aha_edge is not None:
            which, param = aha_edge.groups()
            target = 'conv' if which == '0' else 'bn'
            out[f'{base}gcn.aha.edge_conv.{target}.{param}'] = value
        else:
            out[base + 'gcn.' + rest] = value
    for name, parts in stacks.items():
        values = [parts[k] for k in sorted(parts)]
        out[name] = values[0] if values[0].dim() == 0 else torch.cat(values)
    return out
