"""Tests of ``HDGCN`` (``sfhead_mm/models/backbones/hdgcn.py``).

The original code (``Jho-Yonsei/HD-GCN``) is not used here; the references
below are straightforward loops written for these tests. Checked once by
hand against a local transcription of the original, not in CI: with
``convert_hdgcn_checkpoint`` the original's outputs are reproduced in
float64 to 1e-13 (train mode) for CoM 21 and CoM 1, randomised BN
statistics and temporal-conv biases.
"""
import numpy as np
import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

from sfhead_mm.models.backbones.hdgcn import (HDGCN, HDGraphConv,
                                              LayerEdgeConv,
                                              hierarchical_adjacency,
                                              hierarchy_levels)

register_all_modules()

NTU = dict(layout='nturgb+d')
TINY = dict(base_channels=16, num_stages=3, inflate_stages=(3, ),
            down_stages=(3, ))

# The table: the original HD-GCN for NTU120 including its fc, the
# same for CoM 1, 2 and 21.
HDGCN_NTU120_PARAMS = 1_675_400

# The paper code's joint groups (1-based) for NTU and each centre of mass.
PAPER_GROUPS = {
    1: [[1], [2, 13, 17], [14, 18, 21], [3, 5, 9, 15, 19],
        [4, 6, 10, 16, 20], [7, 11], [8, 12, 22, 23, 24, 25]],
    2: [[2], [1, 21], [13, 17, 3, 5, 9], [14, 18, 4, 6, 10],
        [15, 19, 7, 11], [16, 20, 8, 12], [22, 23, 24, 25]],
    21: [[21], [2, 3, 5, 9], [4, 6, 10, 1], [7, 11, 13, 17],
         [8, 12, 14, 18], [22, 23, 24, 25, 15, 19], [16, 20]],
}


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('com', [1, 2, 21])
def test_parameter_count_ntu120_with_gcn_head(com):
    backbone = MODELS.build(
        dict(type='HDGCN', graph_cfg=NTU, center=com - 1))
    head = MODELS.build(
        dict(type='GCNHead', num_classes=120, in_channels=256))
    assert num_params(backbone) + num_params(head) == HDGCN_NTU120_PARAMS
    for i, block in enumerate(backbone.gcn):
        assert set(dict(block.named_children())) >= {'gcn', 'tcn'}
        assert (block.gcn.aha is None) == (i == 0)


@pytest.mark.parametrize('com', [1, 2, 21])
def test_levels_are_the_papers_groups(com):
    levels = hierarchy_levels(Graph(**NTU), com - 1)
    expected = [sorted(j - 1 for j in group) for group in PAPER_GROUPS[com]]
    assert [sorted(level) for level in levels] == expected


def test_levels_refuse_too_shallow_skeletons():
    chain = dict(layout=dict(num_node=3, inward=[(1, 0), (2, 1)], center=0))
    with pytest.raises(ValueError, match='levels are empty'):
        hierarchy_levels(Graph(**chain), 0, num_levels=7)


def test_hierarchical_adjacency_by_hand():
    A = hierarchical_adjacency([[0], [1, 2], [3]], 4)
    assert A.shape == (2, 3, 4, 4)
    # layer 0: identity on joints 0, 1, 2; 0 -> {1, 2}; {1, 2} -> 0
    assert np.array_equal(np.diag(A[0, 0]), [1, 1, 1, 0])
    forward = np.zeros((4, 4))
    forward[1, 0] = forward[2, 0] = 1  # column 0 sums to 2 -> halves
    np.testing.assert_allclose(A[0, 1], forward / 2)
    reverse = np.zeros((4, 4))
    reverse[0, 1] = reverse[0, 2] = 1  # one entry per column
    np.testing.assert_allclose(A[0, 2], reverse)
    np.testing.assert_allclose(A[1, 1][3, 1:3], [1, 1])


def reference_edge_conv(edge: LayerEdgeConv, x: torch.Tensor,
                        group: int) -> torch.Tensor:
    """One group's EdgeConv by brute force over points and neighbours."""
    N, GC, P = x.shape
    C = GC // edge.groups
    xs = x[:, group * C:(group + 1) * C]  # N, C, P
    C_out = edge.conv.out_channels // edge.groups
    weight = edge.conv.weight[group * C_out:(group + 1) * C_out, :, 0, 0]
    bn = edge.bn
    sl = slice(group * C_out, (group + 1) * C_out)
    out = torch.empty(N, C_out, P, dtype=x.dtype)
    for n in range(N):
        dist = torch.cdist(xs[n].T, xs[n].T)
        for p in range(P):
            nbrs = dist[p].argsort()[:edge.k]
            feats = torch.cat([xs[n][:, nbrs] - xs[n][:, p:p + 1],
                               xs[n][:, p:p + 1].expand(C, edge.k)])
            y = weight @ feats  # C_out, k
            y = (y - bn.running_mean[sl, None]) / torch.sqrt(
                bn.running_var[sl, None] + bn.eps)
            y = y * bn.weight[sl, None] + bn.bias[sl, None]
            out[n, :, p] = torch.nn.functional.leaky_relu(y, 0.2).amax(-1)
    return out


def test_layer_edge_conv_groups_are_independent_edge_convs():
    torch.manual_seed(0)
    edge = LayerEdgeConv(4, 3, k=3, groups=2).double().eval()
    with torch.no_grad():
        edge.bn.running_mean.normal_()
        edge.bn.weight.normal_()
    x = torch.randn(2, 8, 6, dtype=torch.float64)
    out = edge(x)
    for group in range(2):
        torch.testing.assert_close(out[:, group * 3:(group + 1) * 3],
                                   reference_edge_conv(edge, x, group))


def reference_hd_gc_without_aha(gc: HDGraphConv,
                                x: torch.Tensor) -> torch.Tensor:
    """HD-GC (layers summed) as loops over layers and subsets."""
    B, _, T, V = x.shape
    L, S, C = gc.num_layers, gc.num_subsets, gc.inter_channels
    x_down = gc.conv_down(x)
    conv, bn = gc.subset_conv
    edge = gc.edge_conv(x_down.mean(dim=2))
    out = 0
    for layer in range(L):
        xd = x_down[:, layer * C:(layer + 1) * C]
        parts = []
        for s in range(S):
            z = torch.einsum('nctv,uv->nctu', xd, gc.PA[layer, s])
            k = (layer * S + s) * C
            z = torch.nn.functional.conv2d(z, conv.weight[k:k + C],
                                           conv.bias[k:k + C])
            z = torch.nn.functional.batch_norm(
                z, bn.running_mean[k:k + C], bn.running_var[k:k + C],
                bn.weight[k:k + C], bn.bias[k:k + C], eps=bn.eps)
            parts.append(z)
        parts.append(edge[:, layer * C:(layer + 1) * C, None].expand(
            B, C, T, V))
        out = out + torch.cat(parts, dim=1)
    return gc.relu(gc.bn(out) + gc.down(x))


def test_hd_gc_matches_loops_over_layers_and_subsets():
    torch.manual_seed(0)
    levels = hierarchy_levels(Graph(**NTU), 20)
    A = hierarchical_adjacency(levels, 25)
    gc = HDGraphConv(8, 16, A, levels, attention=False)
    gc.init_weights()
    with torch.no_grad():
        gc.PA.add_(0.1 * torch.randn_like(gc.PA))
        for bn in (gc.subset_conv[1], gc.bn):
            bn.weight.normal_()
            bn.running_mean.normal_()
    gc.double().eval()
    x = torch.randn(2, 8, 5, 25, dtype=torch.float64)
    torch.testing.assert_close(gc(x), reference_hd_gc_without_aha(gc, x))


def test_stacked_convs_have_per_conv_kaiming_scale():
    levels = hierarchy_levels(Graph(**NTU), 20)
    gc = HDGraphConv(64, 256, hierarchical_adjacency(levels, 25), levels)
    gc.init_weights()
    # one original conv: 64 -> 64 outputs, fan_out 64: std sqrt(2 / 64)
    std = gc.subset_conv[0].weight.std().item()
    assert abs(std - (2 / 64)**0.5) < 0.01


def test_tiny_forward_backward():
    torch.manual_seed(0)
    model = HDGCN(NTU, center=1, **TINY)
    model.init_weights()
    out = model(torch.randn(2, 2, 12, 25, 3))
    assert out.shape == (2, 2, 32, 6, 25)
    out.square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    assert model.gcn[1].gcn.aha.aggregate.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('backbone', [
    dict(type='HDGCN', graph_cfg=dict(layout='nturgb+d'), base_channels=8),
    dict(type='BlockGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
         base_channels=16),
    dict(type='InfoGCN', graph_cfg=dict(layout='nturgb+d-infogcn'),
         base_channels=16),
    dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
         base_channels=8)
])
def test_pretrained_init_cfg_keeps_every_weight(backbone, tmp_path):
    """``init_cfg=Pretrained`` loads every weight, ``data_bn`` included
    (mmengine applies Pretrained last in ``init_weights``; an override
    after it would reset the loaded values)."""
    trained = MODELS.build(backbone)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(torch.randn_like(p))
    path = str(tmp_path / 'backbone.pth')
    torch.save(trained.state_dict(), path)
    loaded = MODELS.build(
        dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=path)))
    loaded.init_weights()
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value,
                                   msg=name)
