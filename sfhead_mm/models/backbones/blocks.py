"""The pieces every backbone here shares.

All five backbones (CTR-GCN and the four that follow its design: InfoGCN,
HD-GCN, BlockGCN, ProtoGCN) stack blocks of one shape,
``relu(tcn(gcn(x)) + residual(x))`` (:class:`GCNTCNBlock`), and differ in
the graph convolution ``gcn`` and, for ProtoGCN, the temporal one ``tcn``.
The residual of a block and the ``down`` projection of a graph convolution
are the same modules in all of them (:func:`block_residual`,
:func:`channel_projection`); CTR-GCN's multi-scale temporal convolution
(:class:`MultiScaleTemporalConv`) is used by four of them; the input
``data_bn`` layout is common (:func:`batch_norm_joints`), and so is running
the stack of blocks behind it (:func:`run_block_stack`).

Module names are the state-dict keys of every backbone (``gcn``, ``tcn``,
``residual``, ``down``, ``branches``), so they are part of the checkpoint
format and of the names our auxiliary heads attach to.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

__all__ = [
    'GCNTCNBlock', 'MultiScaleTemporalConv', 'TemporalConvBN',
    'batch_norm_joints', 'block_residual', 'channel_projection',
    'run_block_stack'
]

# Initialisations of the original CTR-GCN code, as mmengine init configs.
# conv_init: kaiming_normal_(mode='fan_out') (gain sqrt(2)), bias 0; it
# touches Conv2d only (HD-GCN's A-HA Conv1d keeps PyTorch's default).
_KAIMING_CONV = dict(type='Kaiming', layer='Conv2d', mode='fan_out')
# bn_init(bn, 1): weight 1, bias 0.
_CONSTANT_BN = dict(type='Constant', layer='BatchNorm2d', val=1, bias=0)
# weights_init of MultiScale_TemporalConv: BN weight ~ N(1, 0.02), bias 0.
_NORMAL_BN = dict(type='Normal', layer='BatchNorm2d', mean=1, std=0.02, bias=0)
# A graph convolution's own init: the above, and its output ``bn`` at 1e-6.
_GRAPH_CONV_INIT = [
    _KAIMING_CONV,
    dict(
        **_CONSTANT_BN,
        override=dict(type='Constant', name='bn', val=1e-6, bias=0))
]


class _NoResidual(nn.Module):
    """A residual branch that adds nothing (the original's ``lambda x: 0``)."""

    def forward(self, x: torch.Tensor) -> int:
        """Return 0 whatever the input."""
        return 0


class TemporalConvBN(nn.Sequential):
    """Temporal convolution (kernel ``k x 1``) followed by BatchNorm.

    The original's ``TemporalConv`` and, with ``kernel_size=1``, its
    ``unit_tcn`` residual projection.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        kernel_size (int): Temporal kernel size. Defaults to 1.
        stride (int): Temporal stride. Defaults to 1.
        dilation (int): Temporal dilation. Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 dilation: int = 1) -> None:
        pad = (kernel_size - 1) * dilation // 2
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel_size, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)


def block_residual(in_channels: int,
                   out_channels: int,
                   stride: int = 1,
                   residual: bool = True) -> nn.Module:
    """The residual branch of a block or temporal conv, as the originals.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Temporal stride of the branch it runs beside.
            Defaults to 1.
        residual (bool): False gives a branch that adds 0. Defaults to True.

    Returns:
        nn.Module: ``_NoResidual`` (adds 0), ``nn.Identity`` (same shape) or
        a strided 1x1 :class:`TemporalConvBN`.
    """
    if not residual:
        return _NoResidual()
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return TemporalConvBN(in_channels, out_channels, 1, stride)


def channel_projection(in_channels: int, out_channels: int) -> nn.Module:
    """A graph convolution's ``down``: 1x1 conv + BN, or the identity.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.

    Returns:
        nn.Module: ``nn.Identity`` when the widths agree, else
        ``Sequential(Conv2d(in, out, 1), BatchNorm2d(out))``.
    """
    if in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))


def batch_norm_joints(data_bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The originals' input normalisation over (M, V, C) per frame.

    Args:
        data_bn (nn.Module): A ``BatchNorm1d`` over ``M * V * C`` features.
        x (torch.Tensor): Skeletons or joint embeddings, (N, M, T, V, C).

    Returns:
        torch.Tensor: (N * M, C, T, V), the blocks' layout.
    """
    N, M, T, V, C = x.shape
    x = data_bn(x.permute(0, 1, 3, 4, 2).reshape(N, M * V * C, T))
    return x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).reshape(
        N * M, C, T, V)


def run_block_stack(data_bn: nn.Module, blocks: nn.ModuleList,
                    x: torch.Tensor) -> torch.Tensor:
    """``data_bn`` (:func:`batch_norm_joints`), then ``blocks`` in order.

    Args:
        data_bn (nn.Module): A ``BatchNorm1d`` over ``M * V * C`` features.
        blocks (nn.ModuleList): The backbone's blocks, on (N * M, C, T, V).
        x (torch.Tensor): Skeletons or joint embeddings, (N, M, T, V, C).

    Returns:
        torch.Tensor: Features, (N, M, C_out, T_out, V).
    """
    N, M = x.shape[:2]
    x = batch_norm_joints(data_bn, x)  # N * M, C, T, V
    for block in blocks:
        x = block(x)
    return x.reshape((N, M) + x.shape[1:])


class MultiScaleTemporalConv(BaseModule):
    """The original ``MultiScale_TemporalConv`` of CTR-GCN.

    ``len(dilations) + 2`` branches of ``out_channels / num_branches``
    channels each, concatenated: per dilation, 1x1 conv + BN + ReLU + a
    ``kernel_size x 1`` dilated temporal conv + BN; a 1x1 conv + BN + ReLU +
    3x1 max-pool + BN branch; a strided 1x1 conv + BN branch. Plus an optional
    residual (the blocks use ``residual=False``, as in the original, and add
    their own block residual).

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels, a multiple of
            ``len(dilations) + 2``.
        kernel_size (int): Temporal kernel of the dilated branches.
            Defaults to 5.
        stride (int): Temporal stride. Defaults to 1.
        dilations (Sequence[int]): One branch per dilation.
            Defaults to ``(1, 2)``.
        residual (bool): Whether to add a residual. Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Kaiming (fan_out) convs, BN weight
            ~ N(1, 0.02), biases 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 5,
                 stride: int = 1,
                 dilations: Sequence[int] = (1, 2),
                 residual: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = [
                     _KAIMING_CONV, _NORMAL_BN
                 ]) -> None:
        super().__init__(init_cfg=init_cfg)
        num_branches = len(dilations) + 2
        if out_channels % num_branches != 0:
            raise ValueError(
                f'MultiScaleTemporalConv: out_channels={out_channels} must be '
                f'a multiple of the number of branches {num_branches} '
                f'(len(dilations) + 2 with dilations={tuple(dilations)}).')
        branch_channels = out_channels // num_branches
        branches = []
        for dilation in dilations:
            branches.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, branch_channels, 1),
                    nn.BatchNorm2d(branch_channels), nn.ReLU(),
                    TemporalConvBN(branch_channels, branch_channels,
                                   kernel_size, stride, dilation)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, branch_channels, 1),
                nn.BatchNorm2d(branch_channels), nn.ReLU(),
                nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                nn.BatchNorm2d(branch_channels)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(
                    in_channels, branch_channels, 1, stride=(stride, 1)),
                nn.BatchNorm2d(branch_channels)))
        self.branches = nn.ModuleList(branches)
        self.residual = block_residual(in_channels, out_channels, stride,
                                       residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return out + self.residual(x)


class GCNTCNBlock(BaseModule):
    """``relu(tcn(gcn(x)) + residual(x))``, the block of every backbone.

    The original CTR-GCN ``TCN_GCN_unit`` (and HD-GCN's, BlockGCN's,
    InfoGCN's ``EncodingBlock``, ProtoGCN's ``GCN_Block``). ``gcn`` and
    ``tcn`` are called as modules, so forward hooks on ``block.gcn`` see,
    and may replace, the graph convolution's output before the temporal
    one (how our auxiliary heads attach). The subclasses only build their
    ``gcn`` (and ``tcn`` where it is not CTR-GCN's).

    Args:
        gcn (nn.Module): Graph convolution, (B, C_in, T, V) ->
            (B, C_out, T, V).
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        stride (int): Temporal stride of ``tcn``. Defaults to 1.
        residual (bool): Whether to add the block residual (identity, or a
            strided 1x1 conv + BN when shapes change). Defaults to True.
        tcn (nn.Module, optional): Temporal convolution, (B, C_out, T, V) ->
            (B, C_out, ceil(T / stride), V). Defaults to None: CTR-GCN's
            :class:`MultiScaleTemporalConv` without its own residual.
        tcn_kernel_size (int): Kernel of the default ``tcn``'s dilated
            branches. Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the default ``tcn``.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 gcn: nn.Module,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 residual: bool = True,
                 tcn: Optional[nn.Module] = None,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.gcn = gcn
        if tcn is None:
            tcn = MultiScaleTemporalConv(
                out_channels,
                out_channels,
                kernel_size=tcn_kernel_size,
                stride=stride,
                dilations=tcn_dilations,
                residual=False)
        self.tcn = tcn
        self.relu = nn.ReLU()
        self.residual = block_residual(in_channels, out_channels, stride,
                                       residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        return self.relu(self.tcn(self.gcn(x)) + self.residual(x))
