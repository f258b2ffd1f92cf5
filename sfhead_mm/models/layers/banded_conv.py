"""``banded_conv2d``: a single-output 2D convolution computed as a conv1d."""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['banded_conv2d']


def banded_conv2d(x: Tensor, weight: Tensor, band_dim: int = 3) -> Tensor:
    """A same-padded, bias-free ``conv2d`` with one output channel, computed
    as a ``conv1d`` with a banded (Toeplitz) weight.

    ``F.conv2d(x, weight, padding=K // 2)`` with a single output channel is
    what the AC-FA gates need, and oneDNN runs it slowly on CPU. Moving the
    axis ``band_dim`` (size W) into the channels turns it into a conv1d with
    W outputs and ``C_in * W`` inputs along the other axis, which oneDNN and
    cuDNN run efficiently; the values are the same up to float rounding
    (timings: ``docs/method.md``).

    Args:
        x (Tensor): (B, C_in, H, W).
        weight (Tensor): (1, C_in, K, K), K odd.
        band_dim (int): 3 (W) or 2 (H), the axis folded into the channels;
            choose a short one whose size does not vary (not time).
            Defaults to 3.

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
