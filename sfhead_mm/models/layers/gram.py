"""``gram``: per-sample ``X X^T`` with a one-matmul backward."""
import torch
from torch import Tensor

__all__ = ['gram']


class _Gram(torch.autograd.Function):
    """``X X^T`` per sample with the backward ``(G' + G'^T) X``.

    ``torch.bmm(X, X.transpose(1, 2))`` differentiates its two operands
    separately, and the one for ``X^T`` is a (N, D, K) x (N, K, K) matmul
    that oneDNN runs slowly, plus an add: one batched matmul does it.
    """

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # x: (N, K, D)
        ctx.save_for_backward(x)
        return torch.bmm(x, x.transpose(1, 2))  # (N, K, K)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        x, = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), x)


def gram(x: Tensor) -> Tensor:
    """Gram matrices of a batch of row sets.

    Args:
        x (Tensor): (N, K, D), K vectors of length D per sample.

    Returns:
        Tensor: (N, K, K), ``x[n] @ x[n].T``; same values and gradients as
        ``torch.bmm(x, x.transpose(1, 2))``.
    """
    return _Gram.apply(x)
