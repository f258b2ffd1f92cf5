"""``CrossDimensionGate``: the attention gate of AC-FA (ACDA, ATDA, ASDA)."""
from typing import List

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch import Tensor

from .banded_conv import banded_conv2d

__all__ = ['GATE_CONVS', 'CrossDimensionGate', 'gate_band_dim']

#: How a gate applies its 2->1 convolution: ``'banded'``, as a conv1d with a
#: banded weight (:func:`banded_conv2d`: fast on CPU, where oneDNN runs a
#: single-output conv2d slowly, but about 120 operator calls per gate and
#: step where conv2d takes a few); ``'conv2d'``, the plain ``nn.Conv2d``
#: (faster on a GPU, where a step at a small batch follows its operator
#: count, and lighter: README "Cost on a GPU"); ``'auto'``, banded on CPU
#: and conv2d on any other device. Same values up to float rounding.
GATE_CONVS = ('auto', 'banded', 'conv2d')

# Axis of a (B', C', T, V) tensor that each gate pools over, and the
# permutation that brings that axis to position 1 (the "channel" slot a 2D
# conv reduces over). Every permutation here is a transposition, hence its
# own inverse.
_POOL_AXES = {
    'channel': (0, 1, 2, 3),  # ACDA: pool C', gate on T x V
    'temporal': (0, 2, 1, 3),  # ATDA: (B', T, C', V), gate on C' x V
    'spatial': (0, 3, 2, 1),  # ASDA: (B', V, T, C'), gate on T x C'
}


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

    Pool over one axis with mean and max (2 maps), 2->1 ``k x k`` conv
    (no bias) + BatchNorm, sigmoid, multiply. For ``pool_axis='channel'``
    this is CBAM's spatial gate; for the other axes the pooled axis is
    permuted into the channel slot and back:

    - ``'channel'`` (ACDA, eq. 2-3): pooled map (B', 2, T, V).
    - ``'temporal'`` (ATDA, eq. 4-5): pooled map (B', 2, C', V).
    - ``'spatial'`` (ASDA, eq. 6-7): pooled map (B', 2, T, C').

    Args:
        pool_axis (str): Which axis of the (B', C', T, V) input to pool over:
            ``'channel'``, ``'temporal'`` or ``'spatial'``.
        kernel_size (int): Side of the 2->1 convolution; must be odd so that
            padding ``kernel_size // 2`` keeps the map size. Defaults to 7.
        conv (str): how the convolution runs, one of :data:`GATE_CONVS`.
            Defaults to ``'auto'``.
    """

    def __init__(self, pool_axis: str, kernel_size: int = 7,
                 conv: str = 'auto') -> None:
        super().__init__()
        if pool_axis not in _POOL_AXES:
            raise ValueError(f'CrossDimensionGate: pool_axis must be one of '
                             f'{sorted(_POOL_AXES)}, got {pool_axis!r}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'CrossDimensionGate: kernel_size must be a '
                             f'positive odd integer, got {kernel_size}')
        if conv not in GATE_CONVS:
            raise ValueError(f'CrossDimensionGate: conv must be one of '
                             f'{GATE_CONVS}, got {conv!r}')
        self.conv_impl = conv
        self.pool_axis = pool_axis
        self.permutation: List[int] = list(_POOL_AXES[pool_axis])
        # holds the 2->1 kernel; where the banded form is chosen, forward
        # applies it with banded_conv2d (the same conv, faster on CPU)
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
        if self.uses_plain_conv(pooled):
            conv = self.conv(pooled)
        else:
            band_dim = gate_band_dim(self.pool_axis, pooled.shape[2],
                                     pooled.shape[3])
            conv = banded_conv2d(pooled, self.conv.weight, band_dim)
        weight = torch.sigmoid(self.bn(conv))  # (B', 1, H, W)
        return weight.permute(self.permutation)

    def uses_plain_conv(self, pooled: Tensor) -> bool:
        """Whether the gate's conv runs as ``nn.Conv2d`` on ``pooled``
        (else :func:`banded_conv2d`): ``conv='conv2d'``, or ``'auto'`` off
        the CPU, and always under tracing (ONNX export: the exporter needs
        a kernel of known shape; the exported graph gives the same
        values)."""
        if self.conv_impl == 'conv2d' or torch.jit.is_tracing():
            return True
        return self.conv_impl == 'auto' and pooled.device.type != 'cpu'

    def forward(self, x: Tensor) -> Tensor:
        """Gate ``x`` (B', C', T, V); returns the same shape (eq. 3/5/7)."""
        return x * self.weights(x)

    def extra_repr(self) -> str:
        return f'pool_axis={self.pool_axis!r}, conv={self.conv_impl!r}'
