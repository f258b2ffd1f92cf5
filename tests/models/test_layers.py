"""The small layers of ``sfhead_mm.models.layers`` against their plain
PyTorch definitions (the gate and ``banded_conv2d`` are tested in
test_sf_head.py)."""
import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip
from sfhead_mm.models.layers import (channel_shuffle, gram,  # noqa: E402
                                     shuffled_concat, weighted_gated_sum)


def test_gram_values_and_grads_equal_bmm():
    x = torch.randn(3, 5, 7, dtype=torch.float64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    got, want = gram(x), torch.bmm(x2, x2.transpose(1, 2))
    torch.testing.assert_close(got, want)
    g = torch.randn_like(want)
    got.backward(g)
    want.backward(g)
    torch.testing.assert_close(x.grad, x2.grad)
    assert torch.autograd.gradcheck(gram, (x.detach().requires_grad_(),))


@pytest.mark.parametrize('g', [1, 2, 3, 4])
def test_shuffled_concat_is_concat_then_shuffle(g):
    B, c, T, V = 2, 3, 4, 5
    parts = [torch.randn(B * g, c, T, V) for _ in range(4)]
    want = channel_shuffle(torch.cat(parts, 1).reshape(B, 4 * g * c, T, V), 2)
    assert torch.equal(shuffled_concat(parts, B), want)


def test_weighted_gated_sum_is_the_plain_sum():
    feats = [torch.randn(2, 3, 4, 5, dtype=torch.float64) for _ in range(3)]
    gates = [torch.rand(2, 1, 4, 5, dtype=torch.float64),
             torch.rand(2, 3, 1, 5, dtype=torch.float64),
             torch.rand(2, 3, 4, 1, dtype=torch.float64)]
    last = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    w = torch.softmax(torch.randn(4, dtype=torch.float64), 0)
    want = sum(w[i] * gates[i] * feats[i] for i in range(3)) + w[3] * last
    torch.testing.assert_close(weighted_gated_sum(feats, gates, last, w),
                               want)
