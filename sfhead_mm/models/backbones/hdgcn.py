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
after), as one batched matmul on layer-major features, followed by one
2-D product per (layer, subset) for the aggregation (a list comprehension:
on the CPU a plain matrix product is several times faster than a batched
one of the same small matrices); the 6 EdgeConvs are one batched neighbour
search and matmul, and their output, constant over time, is fused over the
layers before it is broadcast to the frames; A-HA's per-layer joint
averages are one masked mean. The parameters are the same numbers stacked
(:func:`convert_hdgcn_checkpoint` maps an original checkpoint).

Attachment of our auxiliary heads: each block is ``backbone.gcn[i]`` with
children ``gcn`` (HD-GC, the original's ``l{i+1}.gcn1``) and ``tcn``
(``l{i+1}.tcn1``), so the default gcn/tcn rule applies.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from .blocks import (_CONSTANT_BN, _GRAPH_CONV_INIT, _KAIMING_CONV,
                     GCNTCNBlock, channel_projection, run_block_stack)
from .convert import convert_hdgcn_checkpoint
from .hierarchy import (HierarchyAggregation, LayerEdgeConv,
                        hierarchical_adjacency, hierarchy_levels)

__all__ = [
    'HDGCN', 'HDGCNBlock', 'HDGraphConv', 'HierarchyAggregation',
    'LayerEdgeConv', 'convert_hdgcn_checkpoint', 'hierarchical_adjacency',
    'hierarchy_levels'
]


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
        init_cfg: Optional[Union[Dict, List[Dict]]] = _GRAPH_CONV_INIT
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
        self.down = channel_projection(in_channels, out_channels)
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
        joints, so this is ``A_ls (W_ls x_l) + b_ls``. The features are laid
        out layer-major, (L, C, B * T * V), so that all ``W_ls`` are one
        batched matmul (the grouped ``subset_conv`` weight, so hooks on that
        conv do not fire) and each ``A_ls`` one plain 2-D product over all
        clips, channels and frames (on the CPU several times faster than a
        batched product of small matrices). ``subset_conv``'s BN normalises
        each (layer, subset, channel) over (B, T, V), as in the original's
        (B, C, T, V) layout. The EdgeConv output is constant over T, so it
        is fused over the layers before being broadcast to every frame.
        """
        B, _, T, V = x.shape
        L, S, C = self.num_layers, self.num_subsets, self.inter_channels
        x_down = self.conv_down(x)  # B, L*C, T, V
        conv, bn = self.subset_conv
        x_l = x_down.view(B, L, C, T * V).transpose(0, 1).transpose(1, 2)
        x_l = x_l.reshape(L, C, B * T * V)
        z = torch.bmm(conv.weight.view(L, S * C, C), x_l)  # L, S*C, B*T*V
        # z[l, s, c, b, t, u] = b_ls + sum_v z[l, s, c, b, t, v] A[l, s, u, v]
        A_t = self.PA.view(L * S, V, V).transpose(1, 2).contiguous()
        bias = conv.bias.view(L * S, C, 1).expand(L * S, C, B * T)
        z = torch.stack([
            torch.addmm(b_ls.reshape(C * B * T, 1), z_ls, a_ls)
            for b_ls, z_ls, a_ls in zip(
                bias.unbind(0),
                z.view(L * S, C * B * T, V).unbind(0), A_t.unbind(0))
        ])
        z = bn(z.view(1, L * S * C, B * T, V)).view(L, S * C, B, T, V)
        edge = self.edge_conv(x_down.mean(dim=2).view(B, L * C, V))
        edge = edge.view(B, L, C, V)
        if self.aha is not None:
            z_max = z.max(dim=3).values.permute(2, 0, 1, 3)  # B, L, S*C, V
            x_max = torch.cat([z_max, edge], dim=2)  # B, L, C_out, V
            w = self.aha(x_max.transpose(1, 2))  # B, C_out, L
            w_z = w[:, :S * C].permute(2, 1, 0)[..., None, None]  # L,S*C,B
            z = (z * w_z).sum(dim=0)  # S*C, B, T, V
            edge = (edge * w.transpose(1, 2)[..., S * C:, None]).sum(dim=1)
        else:
            z = z.sum(dim=0)
            edge = edge.sum(dim=1)
        out = torch.cat(
            [z.transpose(0, 1),
             edge.unsqueeze(2).expand(B, C, T, V)], dim=1)
        return self.relu(self.bn(out) + self.down(x))


class HDGCNBlock(GCNTCNBlock):
    """The original ``TCN_GCN_unit``: ``relu(tcn(gcn(x)) + residual(x))``.

    A :class:`GCNTCNBlock` with ``gcn`` an :class:`HDGraphConv` and ``tcn``
    CTR-GCN's :class:`MultiScaleTemporalConv`.

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
        super().__init__(
            HDGraphConv(in_channels, out_channels, A, levels, attention),
            in_channels,
            out_channels,
            stride=stride,
            residual=residual,
            tcn_kernel_size=tcn_kernel_size,
            tcn_dilations=tcn_dilations,
            init_cfg=init_cfg)


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Extract skeleton features.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            torch.Tensor: Features, (N, M, C_out, T_out, V).
        """
        return run_block_stack(self.data_bn, self.gcn, x)
