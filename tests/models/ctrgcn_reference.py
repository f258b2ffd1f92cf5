"""A straightforward, loop-over-subsets CTR-GCN used as a reference.

It restates the structure of the original CTR-GCN (Chen et al., ICCV 2021,
``Uason-Chen/CTR-GCN``, ``model/ctrgcn.py``) module by module: one ``CTRGC``
per adjacency subset, a Python loop that sums them, the original aggregation
``einsum('ncuv,nctv->nctu')``, and the multi-scale TCN as a list of branches.
It has no classifier (``fc``): like :class:`sfhead_mm.models.CTRGCN` it maps
(N, M, T, V, C) to (N, M, C', T', V), so the two can be compared directly.

Used by ``tests/models/test_ctrgcn.py`` (parameter count, equal outputs after
:func:`reference_to_ctrgcn_state_dict`) and ``benchmarks/ctrgcn_speed.py``
(train-step timing). It is a test fixture, not part of the package.
"""
import re
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn as nn

__all__ = ['ReferenceCTRGCN', 'reference_to_ctrgcn_state_dict']


def _conv_init(conv: nn.Conv2d) -> None:
    nn.init.kaiming_normal_(conv.weight, mode='fan_out')
    nn.init.constant_(conv.bias, 0)


def _bn_init(bn: nn.Module, scale: float) -> None:
    nn.init.constant_(bn.weight, scale)
    nn.init.constant_(bn.bias, 0)


class _Zero(nn.Module):

    def forward(self, x):
        return 0


class RefCTRGC(nn.Module):
    """One subset's channel-wise topology refinement graph convolution."""

    def __init__(self, in_channels, out_channels, rel_reduction=8):
        super().__init__()
        # The original: 8 for in_channels 3 or 9, else in // rel_reduction.
        # `in_channels < rel_reduction` (0 channels there) is our extension.
        if in_channels in (3, 9) or in_channels < rel_reduction:
            self.rel_channels = 8
        else:
            self.rel_channels = in_channels // rel_reduction
        self.conv1 = nn.Conv2d(in_channels, self.rel_channels, 1)
        self.conv2 = nn.Conv2d(in_channels, self.rel_channels, 1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, 1)
        self.conv4 = nn.Conv2d(self.rel_channels, out_channels, 1)

    def forward(self, x, A, alpha):
        x1 = self.conv1(x).mean(-2)  # N, R, V
        x2 = self.conv2(x).mean(-2)  # N, R, V
        x3 = self.conv3(x)  # N, C, T, V
        x1 = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # N, R, V, V
        x1 = self.conv4(x1) * alpha + A.unsqueeze(0).unsqueeze(0)
        return torch.einsum('ncuv,nctv->nctu', x1, x3)


class RefUnitGCN(nn.Module):
    """Sum of the subsets' CTRGCs, BN, residual, ReLU (adaptive PA)."""

    def __init__(self, in_channels, out_channels, A, rel_reduction=8):
        super().__init__()
        self.num_subset = A.shape[0]
        self.convs = nn.ModuleList([
            RefCTRGC(in_channels, out_channels, rel_reduction)
            for _ in range(self.num_subset)
        ])
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1),
                nn.BatchNorm2d(out_channels))
        else:
            self.down = nn.Identity()
        self.PA = nn.Parameter(torch.from_numpy(A.astype(np.float32)))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                _conv_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                _bn_init(m, 1)
        _bn_init(self.bn, 1e-6)

    def forward(self, x):
        y = None
        for i in range(self.num_subset):
            z = self.convs[i](x, self.PA[i], self.alpha)
            y = z if y is None else y + z
        y = self.bn(y)
        y = y + self.down(x)
        return self.relu(y)


class RefTemporalConv(nn.Module):
    """Conv (k x 1, dilation, stride) + BN; also the original ``unit_tcn``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 dilation=1):
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, (kernel_size, 1), padding=(pad, 0),
            stride=(stride, 1), dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.bn(self.conv(x))


class RefMultiScaleTemporalConv(nn.Module):
    """Dilated branches + max-pool branch + 1x1 branch, concatenated."""

    def __init__(self, in_channels, out_channels, kernel_size=5, stride=1,
                 dilations=(1, 2), residual=True):
        super().__init__()
        num_branches = len(dilations) + 2
        assert out_channels % num_branches == 0
        bc = out_channels // num_branches
        self.branches = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, bc, 1), nn.BatchNorm2d(bc),
                nn.ReLU(),
                RefTemporalConv(bc, bc, kernel_size, stride, dilation))
            for dilation in dilations
        ])
        self.branches.append(nn.Sequential(
            nn.Conv2d(in_channels, bc, 1), nn.BatchNorm2d(bc), nn.ReLU(),
            nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
            nn.BatchNorm2d(bc)))
        self.branches.append(nn.Sequential(
            nn.Conv2d(in_channels, bc, 1, stride=(stride, 1)),
            nn.BatchNorm2d(bc)))
        if not residual:
            self.residual = _Zero()
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = RefTemporalConv(in_channels, out_channels, 1,
                                            stride)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                _conv_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.normal_(1.0, 0.02)
                m.bias.data.fill_(0)

    def forward(self, x):
        res = self.residual(x)
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return out + res


class RefTCNGCNUnit(nn.Module):
    """``relu(tcn1(gcn1(x)) + residual(x))``."""

    def __init__(self, in_channels, out_channels, A, stride=1, residual=True,
                 kernel_size=5, dilations=(1, 2), rel_reduction=8):
        super().__init__()
        self.gcn1 = RefUnitGCN(in_channels, out_channels, A, rel_reduction)
        self.tcn1 = RefMultiScaleTemporalConv(
            out_channels, out_channels, kernel_size, stride, dilations,
            residual=False)
        self.relu = nn.ReLU()
        if not residual:
            self.residual = _Zero()
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = RefTemporalConv(in_channels, out_channels, 1,
                                            stride)
            _conv_init(self.residual.conv)
            _bn_init(self.residual.bn, 1)

    def forward(self, x):
        return self.relu(self.tcn1(self.gcn1(x)) + self.residual(x))


class ReferenceCTRGCN(nn.Module):
    """The original CTR-GCN ``Model`` without ``fc``, (N, M, T, V, C) input.

    Args:
        A (np.ndarray): Adjacency subsets, (S, V, V).
        in_channels, base_channels, num_stages, inflate_stages, down_stages,
        num_person, rel_reduction, tcn_kernel_size, tcn_dilations: as in
        :class:`sfhead_mm.models.CTRGCN`.
    """

    def __init__(self, A: np.ndarray, in_channels: int = 3,
                 base_channels: int = 64, num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8), num_person: int = 2,
                 rel_reduction: int = 8, tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        V = A.shape[1]
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * V)
        _bn_init(self.data_bn, 1)
        layers = []
        channels = base_channels
        for i in range(1, num_stages + 1):
            if i in inflate_stages:
                channels *= 2
            layers.append(RefTCNGCNUnit(
                in_channels, channels, A,
                stride=2 if i in down_stages else 1, residual=i > 1,
                kernel_size=tcn_kernel_size, dilations=tcn_dilations,
                rel_reduction=rel_reduction))
            in_channels = channels
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2).contiguous().view(N, M * V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous()
        x = x.view(N * M, C, T, V)
        for layer in self.layers:
            x = layer(x)
        return x.reshape((N, M) + x.shape[1:])


_SUBSET_KEY = re.compile(r'^(.*)\.convs\.(\d+)\.(conv[1-4])\.(weight|bias)$')


def reference_to_ctrgcn_state_dict(
        ref_state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map a :class:`ReferenceCTRGCN` state dict onto ``CTRGCN``'s names.

    ``layers.i.gcn1`` -> ``gcn.i.gcn``, ``layers.i.tcn1`` -> ``gcn.i.tcn``;
    the per-subset ``convs.s.convK`` are concatenated over ``s`` along the
    output-channel axis into ``ctrgc.convK`` (subset-major order).
    """
    out = OrderedDict()
    stacked: Dict[str, Dict[int, torch.Tensor]] = OrderedDict()
    for key, value in ref_state.items():
        key = re.sub(r'^layers\.', 'gcn.', key)
        key = key.replace('.gcn1.', '.gcn.').replace('.tcn1.', '.tcn.')
        match = _SUBSET_KEY.match(key)
        if match:
            prefix, subset, conv, kind = match.groups()
            name = f'{prefix}.ctrgc.{conv}.{kind}'
            stacked.setdefault(name, {})[int(subset)] = value
        else:
            out[key] = value
    for name, per_subset in stacked.items():
        out[name] = torch.cat(
            [per_subset[s] for s in sorted(per_subset)], dim=0)
    return out
