"""Channel shuffle, and a concat + shuffle done in one copy."""
from typing import List

import torch
from torch import Tensor

__all__ = ['channel_shuffle', 'shuffled_concat']


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
