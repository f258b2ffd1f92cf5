"""SF-Head: Synchronized and Fine-grained Head (SPEC.md section 2.1-2.2).

The head reads one block's GCN output ``X`` of shape (B, C, T, V), B = N clips
x M persons, and is built from small composable modules:

- :class:`CrossDimensionGate`: pool one axis with mean and max, 2->1 k x k
  conv + BatchNorm, sigmoid, multiply (CBAM's spatial gate generalised to any
  axis). Used three times by AC-FA: ACDA (channel axis), ATDA (temporal
  axis), ASDA (joint axis).
- :class:`SynchronizedSpatialTemporalExtraction` (SSTE, eq. 1): splits each
  channel group into ``x1..x4`` and gates ``x1`` temporally, ``x3`` spatially.
- :class:`SFHead`: groups, SSTE, AC-FA (eq. 2-9) and the inline output.

The losses that consume the branch features live in ``losses.py``.
"""
from typing import List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

__all__ = [
    'CrossDimensionGate', 'SynchronizedSpatialTemporalExtraction', 'SFHead',
    'SFHeadOutput', 'banded_conv2d', 'channel_shuffle', 'gate_band_dim',
    'shuffled_concat'
]

# Axis of a (B', C', T, V) tensor that each gate pools over, and the
# permutation that brings that axis to position 1 (the "channel" slot a 2D
# conv reduces over). Every permutation here is a transposition, hence its
# own inverse.
_POOL_AXES = {
    'channel': (0, 1, 2, 3),  # ACDA: pool C', gate on T x V
    'temporal': (0, 2, 1, 3),  # ATDA: (B', T, C', V), gate on C' x V
    'spatial': (0, 3, 2, 1),  # ASDA: (B', V, T, C'), gate on T x C'
}


class SFHeadOutput(NamedTuple):
    """What :meth:`SFHead.forward` returns.

    ``out`` is (B, C, T, V), the inline-placement output (None when the
    forward was asked not to build it). The branch features
    are (B, C/4, T, V): each is the same branch of all ``g`` groups stacked
    along channels (group-major), ready for :func:`clip_features`.
    """
    out: Optional[Tensor]
    f_t: Tensor
    f_s: Tensor
    f_c: Tensor
    f_o: Tensor
    f_a: Tensor


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet channel shuffle of a (B, C, T, V) tensor.

    Channel ``k * (C / groups) + j`` moves to ``j * groups + k``; the result is
    a permutation of the input channels.
    """
    B, C, T, V = x.shape
    x = x.reshape(B, groups, C // groups, T, V)  # (B, groups, C/groups, T, V)
    x = x.transpose(1, 2)  # (B, C/groups, groups, T, V)
    return x.reshape(B, C, T, V)


def shuffled_concat(parts: List[Tensor], batch: int) -> Tensor:
    """``channel_shuffle(cat(parts per group), 2)`` in one copy.

    Args:
        parts (list[Tensor]): the 4 parts of every group, each
            (B*g, C', T, V).
        batch (int): B.

    Returns:
        Tensor: (B, C, T, V) with C = 4 g C'; the same values as
        concatenating the parts along channels within each group and then
        shuffling the channels with 2 groups.
    """
    Bg, c, T, V = parts[0].shape
    g = Bg // batch
    # Two copies when a group straddles the two shuffle halves (odd g), and
    # under tracing: the legacy ONNX exporter mistranslates the strided
    # in-place writes below (its output differed by ~0.85).
    if g % 2 or torch.jit.is_tracing():
        out = torch.cat(parts, dim=1)  # (B*g, 4C', T, V)
        return channel_shuffle(out.reshape(batch, 4 * g * c, T, V), 2)
    out = parts[0].new_empty(batch, 4 * g * c, T, V)
    # Pre-shuffle channel k*(C/2) + j lands at j*2 + k; with g even, the
    # half k holds groups k*g/2 .. (k+1)*g/2 - 1 whole, so each part is one
    # strided copy into the (B, 2, g/2, 4, C', T, V) view of that order.
    dest = out.view(batch, 2 * g * c, 2, T, V).transpose(1, 2).view(
        batch, 2, g // 2, 4, c, T, V)
    for i, part in enumerate(parts):
        dest[:, :, :, i] = part.view(batch, 2, g // 2, c, T, V)
    return out


def banded_conv2d(x: Tensor, weight: Tensor, band_dim: int = 3) -> Tensor:
    """A same-padded, bias-free ``conv2d`` with one output channel, computed
    as a ``conv1d`` with a banded (Toeplitz) weight.

    ``F.conv2d(x, weight, padding=K // 2)`` with a single output channel is
    what the AC-FA gates need, and oneDNN runs it at a few GFLOP/s on CPU
    (forward and backward were over half of the head's time). Moving the
    axis ``band_dim`` (size W) into the channels turns it into a conv1d with
    W outputs and ``C_in * W`` inputs along the other axis, which oneDNN and
    cuDNN run efficiently; the values are the same up to float rounding.
    ``python benchmarks/gate_conv_speed.py`` (2-core CPU, NTU size, all ten
    blocks' gate maps summed): forward + backward 4.4x faster than
    ``F.conv2d`` and 1.75x faster than ``F.conv2d`` on channels-last
    maps; forward alone 1.37x faster than ``F.conv2d``.

    Args:
        x (Tensor): (B, C_in, H, W).
        weight (Tensor): (1, C_in, K, K), K odd.
        band_dim (int): 3 (W) or 2 (H), the axis folded into the channels;
            choose a short one whose size does not vary (not time).

    Returns:
        Tensor: (B, 1, H, W).
    """
    if band_dim == 2:
        x = x.transpose(2, 3)
        weight = weight.transpose(2, 3)
    B, C, L, W = x.shape
    K = weight.shape[-1]
    offsets = torch.arange(W, device=x.device)
    # column of the kernel that joins output position o to input j
    col = offsets.view(1, W) - offsets.view(W, 1) + K // 2  # (W_out, W_in)
    valid = ((col >= 0) & (col < K)).to(weight.dtype)
    band = weight[0][:, :, col.clamp(0, K - 1)] * valid  # (C, K, W, W)
    band = band.permute(2, 0, 3, 1).reshape(W, C * W, K)
    rows = x.permute(0, 1, 3, 2).reshape(B, C * W, L)  # W into channels
    out = F.conv1d(rows, band, padding=K // 2)  # (B, W, L)
    out = out.transpose(1, 2).unsqueeze(1)  # (B, 1, L, W)
    if band_dim == 2:
        out = out.transpose(2, 3)
    return out


def gate_band_dim(pool_axis: str, height: int, width: int) -> int:
    """The axis of a gate's (B', 2, H, W) map that :func:`banded_conv2d`
    folds into channels: the short axis of fixed size, never T.

    The maps are (T, V) for ``'channel'``, (C', V) for ``'temporal'`` and
    (T, C') for ``'spatial'``: W (3), except the temporal gate's map, whose
    shorter side is taken.
    """
    return 2 if pool_axis == 'temporal' and height < width else 3


@MODELS.register_module()
class CrossDimensionGate(nn.Module):
    """Attention gate that pools one axis and reweights the other two.

    For ``pool_axis='channel'`` this is CBAM's spatial gate. For the other
    axes the input is permuted so the pooled axis sits in the channel slot,
    gated, and permuted back (SPEC 2.2):

    - ``'channel'`` (ACDA, eq. 2-3): pooled map (B', 2, T, V).
    - ``'temporal'`` (ATDA, eq. 4-5): pooled map (B', 2, C', V).
    - ``'spatial'`` (ASDA, eq. 6-7): pooled map (B', 2, T, C').

    Args:
        pool_axis (str): Which axis of the (B', C', T, V) input to pool over:
            ``'channel'``, ``'temporal'`` or ``'spatial'``.
        kernel_size (int): Side of the 2->1 convolution; must be odd so that
            padding ``kernel_size // 2`` keeps the map size. Defaults to 7.
    """

    def __init__(self, pool_axis: str, kernel_size: int = 7) -> None:
        super().__init__()
        if pool_axis not in _POOL_AXES:
            raise ValueError(f'CrossDimensionGate: pool_axis must be one of '
                             f'{sorted(_POOL_AXES)}, got {pool_axis!r}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'CrossDimensionGate: kernel_size must be a '
                             f'positive odd integer, got {kernel_size}')
        self.pool_axis = pool_axis
        self.permutation: List[int] = list(_POOL_AXES[pool_axis])
        # holds the 2->1 kernel; forward applies it with banded_conv2d
        # (the same conv, faster) except under tracing
        self.conv = nn.Conv2d(
            2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def weights(self, x: Tensor) -> Tensor:
        """The gate of ``x`` (B', C', T, V), before it multiplies ``x``.

        Returns:
            Tensor: sigmoid weights of size 1 along the pooled axis, e.g.
            (B', 1, T, V) for ``'channel'``; they broadcast against ``x``.
        """
        # Pool in x's own layout and permute only the small pooled map: the
        # same result as permuting x, without copying x twice.
        dim = self.permutation[1]  # the pooled axis of x
        pooled = torch.cat(
            [x.mean(dim=dim, keepdim=True),
             x.amax(dim=dim, keepdim=True)],
            dim=dim).permute(self.permutation)  # (B', 2, H, W), eq. 2/4/6
        # Under tracing (ONNX export) the plain conv: the exporter needs a
        # kernel of known shape, and the exported graph gives the same values.
        if torch.jit.is_tracing():
            conv = self.conv(pooled)
        else:
            band_dim = gate_band_dim(self.pool_axis, pooled.shape[2],
                                     pooled.shape[3])
            conv = banded_conv2d(pooled, self.conv.weight, band_dim)
        weight = torch.sigmoid(self.bn(conv))  # (B', 1, H, W)
        return weight.permute(self.permutation)

    def forward(self, x: Tensor) -> Tensor:
        """Gate ``x`` (B', C', T, V); returns the same shape (eq. 3/5/7)."""
        return x * self.weights(x)

    def extra_repr(self) -> str:
        return f'pool_axis={self.pool_axis!r}'


@MODELS.register_module()
class SynchronizedSpatialTemporalExtraction(nn.Module):
    """SSTE (eq. 1): synchronized temporal and spatial gating of one group.

    The input is one channel group, (B*g, C/g, T, V), split along channels
    into four equal parts ``x1, x2, x3, x4`` of ``C' = C/(4g)`` channels:

    - ``f_t = x1 * sigmoid(w_t * GAP(x1) + b_t)``, GAP over T and V;
    - ``f_s = x3 * sigmoid(w_s * GN(x3) + b_s)``, GroupNorm with one group
      per channel (no affine of its own: ``w_s, b_s`` are the affine);
    - ``f_c = x2`` and ``f_o = x4`` pass through.

    ``w_*`` start at 0 and ``b_*`` at 1, so both gates start as
    ``x * sigmoid(1)``.

    Args:
        branch_channels (int): ``C' = C / (4g)``, channels of each part.
    """

    def __init__(self, branch_channels: int) -> None:
        super().__init__()
        if branch_channels < 1:
            raise ValueError(f'SynchronizedSpatialTemporalExtraction: '
                             f'branch_channels must be >= 1, got '
                             f'{branch_channels}')
        self.branch_channels = branch_channels
        shape = (1, branch_channels, 1, 1)
        self.temporal_weight = nn.Parameter(torch.zeros(shape))  # w_t
        self.temporal_bias = nn.Parameter(torch.ones(shape))  # b_t
        self.spatial_weight = nn.Parameter(torch.zeros(shape))  # w_s
        self.spatial_bias = nn.Parameter(torch.ones(shape))  # b_s
        self.norm_eps = 1e-5  # nn.GroupNorm's default

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Split and gate one group.

        Args:
            x (Tensor): (B*g, 4C', T, V).

        Returns:
            tuple[Tensor]: ``(f_t, f_s, f_c, f_o)``, each (B*g, C', T, V).
        """
        x1, x2, x3, x4 = x.chunk(4, dim=1)  # each (B*g, C', T, V)
        # eq. 1, temporal branch: GAP over (T, V) -> (B*g, C', 1, 1)
        gap = x1.mean(dim=(2, 3), keepdim=True)
        f_t = x1 * torch.sigmoid(self.temporal_weight * gap +
                                 self.temporal_bias)
        # eq. 1, spatial branch: per-channel GroupNorm -> (B*g, C', T, V).
        # w_s * GN(x3) + b_s is GroupNorm's own per-channel affine, so one
        # group_norm call computes it without two extra passes over x3.
        affine = self.spatial_weight.view(-1), self.spatial_bias.view(-1)
        f_s = x3 * torch.sigmoid(
            F.group_norm(x3, self.branch_channels, *affine, self.norm_eps))
        return f_t, f_s, x2, x4

    def extra_repr(self) -> str:
        return f'branch_channels={self.branch_channels}'


@MODELS.register_module()
class SFHead(nn.Module):
    """Synchronized and Fine-grained Head for one GCN block (SPEC 2.1-2.2).

    ``X`` (B, C, T, V) is viewed as ``g`` groups (B*g, C/g, T, V); SSTE
    (eq. 1) gives ``f_t, f_s, f_c, f_o``; AC-FA (eq. 2-9) aggregates

        f_a = softmax(eta) . [ATDA(f_t), ASDA(f_s), ACDA(f_c), f_o]

    with ``eta`` four learnable scalars (init equal, so 1/4 each). The inline
    output concatenates ``[f_t, f_s, f_a, f_o]`` per group back to
    (B, C, T, V) and shuffles channels with 2 groups. Under the ``branch``
    placement only the branch features are used (by the losses).

    Args:
        in_channels (int): C, channels of the block's GCN output. Must be
            divisible by ``4 * groups``.
        groups (int): g, number of channel groups. Defaults to 8.
        kernel_size (int): Kernel side of the three AC-FA gate convolutions.
            Defaults to 7.
        name (str): The block this head sits on (e.g. ``'backbone.gcn.3'``),
            used in error messages. Defaults to ``''``.

    Initialisation is the parameters' own (SSTE ``w=0, b=1``, ``eta=0``,
    PyTorch defaults for conv and BN). The head is a plain ``nn.Module``
    rather than an MMEngine ``BaseModule`` so that it stays scriptable with
    ``torch.jit.script`` (``BaseModule``'s ``is_init`` property is not).
    """

    def __init__(self,
                 in_channels: int,
                 groups: int = 8,
                 kernel_size: int = 7,
                 name: str = '') -> None:
        super().__init__()
        where = f'SFHead on block {name!r}' if name else 'SFHead'
        if groups < 1:
            raise ValueError(f'{where}: groups must be >= 1, got {groups}')
        if in_channels < 1 or in_channels % (4 * groups) != 0:
            valid = [
                g for g in range(1, in_channels // 4 + 1)
                if in_channels % (4 * g) == 0
            ]
            raise ValueError(
                f'{where}: in_channels C={in_channels} is not divisible by '
                f'4 * groups = 4 * {groups} = {4 * groups} (SSTE splits each '
                f'of the g groups into 4 equal parts). groups values that '
                f'work for C={in_channels}: {valid or "none"}; set groups '
                f'in the head config or leave this block without a head.')
        self.in_channels = in_channels
        self.groups = groups
        self.kernel_size = kernel_size
        self.name = name
        branch_channels = in_channels // (4 * groups)  # C'
        self.sste = SynchronizedSpatialTemporalExtraction(branch_channels)
        self.temporal_gate = CrossDimensionGate('temporal', kernel_size)
        self.spatial_gate = CrossDimensionGate('spatial', kernel_size)
        self.channel_gate = CrossDimensionGate('channel', kernel_size)
        # eq. 8/9: one weight per [ATDA(f_t), ASDA(f_s), ACDA(f_c), f_o]
        self.eta = nn.Parameter(torch.zeros(4))

    def forward(self, x: Tensor, with_output: bool = True) -> SFHeadOutput:
        """Run SSTE and AC-FA on one block's GCN output.

        Args:
            x (Tensor): (B, C, T, V), B = N clips x M persons.
            with_output (bool): build ``out`` (the inline output); the
                branch placement needs only the features. Defaults to True.

        Returns:
            SFHeadOutput: ``out`` (B, C, T, V); ``f_t, f_s, f_c, f_o, f_a``
            each (B, C/4, T, V).
        """
        B, C, T, V = x.shape
        if C != self.in_channels:
            raise ValueError('SFHead ' + self.name + ': expected ' +
                             str(self.in_channels) + ' channels, got ' +
                             str(C))
        g = self.groups
        xg = x.reshape(B * g, C // g, T, V)  # (B*g, C/g, T, V)
        f_t, f_s, f_c, f_o = self.sste(xg)  # each (B*g, C', T, V)

        # eq. 8/9 (C-FA): softmax-normalised eta over the gated features
        # Each eta_i scales its gate's small weight map rather than the gated
        # feature, and addcmul adds gate * feature in one pass: the same sum
        # in 4 passes over (B*g, C', T, V) instead of 10 (and fewer backward).
        eta = torch.softmax(self.eta, dim=0)
        f_a = f_o * eta[3]
        f_a = torch.addcmul(f_a, f_t, self.temporal_gate.weights(f_t) * eta[0])
        f_a = torch.addcmul(f_a, f_s, self.spatial_gate.weights(f_s) * eta[1])
        f_a = torch.addcmul(f_a, f_c, self.channel_gate.weights(f_c) * eta[2])

        out: Optional[Tensor] = None
        if with_output:
            out = shuffled_concat([f_t, f_s, f_a, f_o], B)

        # branch features: (B*g, C', T, V) -> (B, g*C' = C/4, T, V), groups
        # stacked along channels (group-major)
        c4 = C // 4
        return SFHeadOutput(
            out=out,
            f_t=f_t.reshape(B, c4, T, V),
            f_s=f_s.reshape(B, c4, T, V),
            f_c=f_c.reshape(B, c4, T, V),
            f_o=f_o.reshape(B, c4, T, V),
            f_a=f_a.reshape(B, c4, T, V))

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, groups={self.groups}, '
                f'kernel_size={self.kernel_size}, name={self.name!r}')
