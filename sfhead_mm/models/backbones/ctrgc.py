"""The graph convolution of CTR-GCN (:mod:`.ctrgcn`): :class:`CTRGC`
(channel-wise topology refinement, all adjacency subsets at once) and
:class:`CTRGraphConv` (CTRGC + BN + residual), the graph
convolution the other backbones' are built beside (their shared modules
are in :mod:`.blocks`). Why the subsets
are computed together and the aggregation direction: see :mod:`.ctrgcn`.
"""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from .blocks import _GRAPH_CONV_INIT, channel_projection

__all__ = ['CTRGC', 'CTRGraphConv']


class CTRGC(BaseModule):
    """Channel-wise topology refinement graph convolution, all subsets at once.

    For each subset ``s`` (``S = num_subsets``), as in the original CTRGC:

    * ``x1, x2 = mean_T(conv1_s(x)), mean_T(conv2_s(x))``: (N, R, V) each,
    * ``rel = tanh(x1[..., :, None] - x2[..., None, :])``: (N, R, V, V),
    * ``topology_s = conv4_s(rel) * alpha + A_s``: (N, C, V, V),
    * ``out += einsum('ncuv,nctv->nctu', topology_s, conv3_s(x))``.

    The ``S`` convolutions of each kind are stored as one convolution whose
    output channels are the subsets' channels concatenated (subset-major);
    ``conv4`` is stored as a convolution grouped by subset but applied as a
    batched matmul with ``alpha`` folded into its weight and bias (so forward
    hooks on ``conv4`` itself do not fire; hook the parent instead).

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        num_subsets (int): Number of adjacency subsets S. Defaults to 3.
        rel_reduction (int): ``R = in_channels // rel_reduction``. As in the
            original, ``in_channels`` of 3 or 9 (an input layer) gives
            ``R = 8``; so does any ``in_channels < rel_reduction`` (e.g. 2-D
            keypoints), where the original would build a 0-channel conv.
            Defaults to 8.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_subsets: int = 3,
                 rel_reduction: int = 8) -> None:
        super().__init__(init_cfg=None)
        if in_channels in (3, 9) or in_channels < rel_reduction:
            rel_channels = 8
        else:
            rel_channels = in_channels // rel_reduction
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = num_subsets
        self.rel_channels = rel_channels
        S = num_subsets
        self.conv1 = nn.Conv2d(in_channels, S * rel_channels, 1)
        self.conv2 = nn.Conv2d(in_channels, S * rel_channels, 1)
        self.conv3 = nn.Conv2d(in_channels, S * out_channels, 1)
        self.conv4 = nn.Conv2d(
            S * rel_channels, S * out_channels, 1, groups=S)

    @staticmethod
    def aggregate(topology: torch.Tensor,
                  features: torch.Tensor) -> torch.Tensor:
        """Sum over subsets of the original CTRGC aggregation.

        ``out[n, c, t, u] = sum_s sum_v topology[n, s, c, u, v] *
        features[n, s, c, t, v]``: per subset, the original
        ``einsum('ncuv,nctv->nctu')`` (not the transposed
        ``'ncuv,nctu->nctv'`` of mmaction's ``projects/ctrgcn`` and PySKL).

        Args:
            topology (torch.Tensor): (N, S, C, V, V), indexed (u, v).
            features (torch.Tensor): (N, S, C, T, V).

        Returns:
            torch.Tensor: (N, C, T, V).
        """
        return torch.einsum('nscuv,nsctv->nctu', topology, features)

    def init_weights(self) -> None:
        """The original ``conv_init`` of each subset's convolutions.

        Kaiming normal with ``mode='fan_out'`` must see one subset's fan-out
        (its ``out_channels``), not the stacked ``S`` times larger one, so it
        is applied to each subset's block of the stacked weights.
        """
        S = self.num_subsets
        with torch.no_grad():
            for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
                for weight in conv.weight.chunk(S, dim=0):
                    nn.init.kaiming_normal_(weight, mode='fan_out')
                nn.init.zeros_(conv.bias)

    def topology(self, x: torch.Tensor, A: torch.Tensor,
                 alpha: torch.Tensor) -> torch.Tensor:
        """The channel-wise refined topology of each subset.

        Args:
            x (torch.Tensor): Input features, (N, C_in, T, V).
            A (torch.Tensor): Shared topology, one per subset, (S, V, V).
            alpha (torch.Tensor): Scale of the refinement, one element.

        Returns:
            torch.Tensor: (N, S, C_out, V, V), ``[..., u, v]`` the weight of
            joint ``v`` in the aggregate of joint ``u``.
        """
        N, _, T, V = x.shape
        S, R, C = self.num_subsets, self.rel_channels, self.out_channels
        # conv1/conv2 are affine, so they commute with the temporal mean.
        x_mean = x.mean(dim=-2, keepdim=True)  # (N, C_in, 1, V)
        x1 = self.conv1(x_mean).view(N, S, R, V)
        x2 = self.conv2(x_mean).view(N, S, R, V)
        rel = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # N,S,R,V,V
        # topology = conv4_s(rel) * alpha + A_s, with alpha folded into
        # conv4's (small) weight and bias and A into the bias: one batched
        # matmul and one add over the (N, S, C, V, V) tensor.
        weight = self.conv4.weight.view(S, C, R) * alpha
        offset = (self.conv4.bias.view(S, C, 1, 1) * alpha +
                  A.unsqueeze(1))  # (S, C, V, V)
        topology = torch.matmul(weight, rel.view(N, S, R, V * V))
        return topology.view(N, S, C, V, V) + offset

    def forward(self, x: torch.Tensor, A: torch.Tensor,
                alpha: torch.Tensor) -> torch.Tensor:
        """Refine ``A`` per channel and aggregate the joints.

        Args:
            x (torch.Tensor): Input features, (N, C_in, T, V).
            A (torch.Tensor): Shared topology, one per subset, (S, V, V).
            alpha (torch.Tensor): Scale of the refinement, one element.

        Returns:
            torch.Tensor: Sum over subsets, (N, C_out, T, V).
        """
        N, _, T, V = x.shape
        features = self.conv3(x).view(N, self.num_subsets, self.out_channels,
                                      T, V)
        return self.aggregate(self.topology(x, A, alpha), features)


class CTRGraphConv(BaseModule):
    """The original ``unit_gcn`` with ``adaptive=True``.

    ``relu(bn(sum_s CTRGC_s(x, PA_s, alpha)) + down(x))`` where ``PA`` is a
    learnable copy of the graph's adjacency subsets and ``alpha`` a learnable
    scalar initialised to 0; ``bn`` starts with gamma 1e-6 as in the original.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        A (torch.Tensor): Adjacency subsets, (S, V, V).
        rel_reduction (int): See :class:`CTRGC`. Defaults to 8.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Kaiming (fan_out) convs, BN weight 1
            and ``bn`` weight 1e-6, biases 0.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: torch.Tensor,
        rel_reduction: int = 8,
        init_cfg: Optional[Union[Dict, List[Dict]]] = _GRAPH_CONV_INIT
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_subsets = A.size(0)
        self.ctrgc = CTRGC(in_channels, out_channels, self.num_subsets,
                           rel_reduction)
        self.down = channel_projection(in_channels, out_channels)
        self.PA = nn.Parameter(A.clone().float())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V)."""
        y = self.bn(self.ctrgc(x, self.PA, self.alpha))
        return self.relu(y + self.down(x))
