"""Tests of ``BlockGCN`` (``sfhead_mm/models/backbones/blockgcn.py``).

The original code (``ZhouYuxuanYX/BlockGCN``, with ``torch-topological``)
is not used here. Checked once by hand against it, not in CI: with
``convert_blockgcn_checkpoint`` the original's outputs are reproduced to
float32 rounding for N = 1 (where its ``repeat(2, 1)`` pairs correctly), and
for N = 3 ours equals the original run clip by clip; its 0-dim persistence
deaths equal :func:`rips_zero_dim_deaths` exactly.
"""
import itertools

import numpy as np
import pytest
import torch
from scipy.cluster.hierarchy import linkage

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

from sfhead_mm.models.backbones.blockgcn import (BlockGCN, BlockGraphConv,
                                                 PersistenceEncoding,
                                                 TopologyProjection,
                                                 convert_blockgcn_checkpoint,
                                                 hop_distances,
                                                 rips_zero_dim_deaths)

register_all_modules()

NTU = dict(layout='nturgb+d', mode='spatial')
TINY = dict(base_channels=16, num_stages=3, inflate_stages=(2, ),
            down_stages=(2, ), topology_features=8)

# The table: the original BlockGCN for NTU120 including its fc,
# 128,896 of it in the topology branch (10 Linear+BN projections and 64
# structure elements).
BLOCKGCN_NTU120_PARAMS = 1_388_200
BLOCKGCN_TOPOLOGY_PARAMS = 128_896


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_ntu120_with_gcn_head():
    backbone = MODELS.build(dict(type='BlockGCN', graph_cfg=NTU))
    head = MODELS.build(
        dict(type='GCNHead', num_classes=120, in_channels=256))
    assert num_params(backbone) + num_params(head) == BLOCKGCN_NTU120_PARAMS
    topology = num_params(backbone.topology) + num_params(
        backbone.topology_proj)
    assert topology == BLOCKGCN_TOPOLOGY_PARAMS
    widths = [block.gcn.out_channels for block in backbone.gcn]
    assert widths == [128] * 4 + [256] * 6
    for block in backbone.gcn:
        assert set(dict(block.named_children())) >= {'gcn', 'tcn'}


# ---------------------------------------------------------- persistence ---
def kruskal_deaths(points: np.ndarray) -> np.ndarray:
    """0-dim persistence deaths by brute force: Kruskal over all edges."""
    V = len(points)
    parent = list(range(V))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    edges = sorted((float(np.linalg.norm(points[i] - points[j])), i, j)
                   for i, j in itertools.combinations(range(V), 2))
    deaths = []
    for length, i, j in edges:
        a, b = find(i), find(j)
        if a != b:
            parent[a] = b
            deaths.append(length)
    return np.array(deaths)


@pytest.mark.parametrize('V, D', [(2, 3), (7, 2), (25, 25)])
def test_deaths_equal_brute_force_and_single_linkage(V, D):
    gen = torch.Generator().manual_seed(V)
    points = torch.rand(4, V, D, generator=gen, dtype=torch.float64)
    deaths = rips_zero_dim_deaths(points)
    assert deaths.shape == (4, V - 1)
    for b in range(4):
        ours = np.sort(deaths[b].numpy())
        np.testing.assert_allclose(ours, kruskal_deaths(points[b].numpy()))
        heights = linkage(points[b].numpy(), method='single')[:, 2]
        np.testing.assert_allclose(ours, np.sort(heights))


def test_deaths_with_duplicate_points_keep_zero_bars():
    points = torch.tensor([[[0., 0.], [0., 0.], [1., 0.], [1., 2.]]])
    deaths = rips_zero_dim_deaths(points)[0].sort().values
    torch.testing.assert_close(deaths, torch.tensor([0., 1., 2.]))


def test_deaths_gradient():
    gen = torch.Generator().manual_seed(0)
    points = torch.rand(2, 6, 3, generator=gen, dtype=torch.float64,
                        requires_grad=True)
    assert torch.autograd.gradcheck(rips_zero_dim_deaths, (points, ))


def test_structure_elements_match_formula():
    enc = PersistenceEncoding(num_elements=3)
    deaths = torch.tensor([[0.2, 0.5], [0.1, 0.9]])
    c, s = enc.centres.detach(), enc.sharpness.detach()
    expected = torch.zeros(2, 3)
    for n, e, j in itertools.product(range(2), range(3), range(2)):
        expected[n, e] += torch.exp(-(s[e, 0]**2 * c[e, 0]**2 + s[e, 1]**2 *
                                      (c[e, 1] - deaths[n, j])**2))
    torch.testing.assert_close(enc.vectorise(deaths), expected)


def test_topology_code_is_per_sample():
    """Two clips in one batch get their own codes, as each alone would."""
    torch.manual_seed(0)
    enc = PersistenceEncoding()
    a, b = torch.randn(1, 2, 8, 25, 3), 3 * torch.randn(1, 2, 8, 25, 3)
    together = enc(torch.cat([a, b]))
    torch.testing.assert_close(together[0], enc(a)[0])
    torch.testing.assert_close(together[1], enc(b)[0])
    assert not torch.allclose(together[0], together[1])
    # the projection gives body (n, m) the code of clip n
    proj = TopologyProjection(64, 4).eval()
    rows = proj(together, num_person=2)[:, :, 0, 0]
    single = proj(together, num_person=1)[:, :, 0, 0]
    torch.testing.assert_close(rows, single.repeat_interleave(2, dim=0))


def test_backbone_output_of_a_clip_ignores_its_batch_mates():
    """Eval mode: changing clip 1 leaves clip 0's features unchanged (the
    original's ``repeat(2, 1)`` and batch-wide scaling would not)."""
    torch.manual_seed(0)
    model = BlockGCN(NTU, **TINY).eval()
    x = torch.randn(2, 2, 8, 25, 3)
    y = x.clone()
    y[1] = 5 * torch.randn(2, 8, 25, 3)
    torch.testing.assert_close(model(x)[0], model(y)[0])


# ------------------------------------------------------------- BlockGC ----
def test_hop_distances_on_a_chain():
    A = np.zeros((1, 4, 4))
    for i, j in [(0, 1), (1, 2), (2, 3)]:
        A[0, i, j] = A[0, j, i] = 1
    expected = torch.tensor([[abs(i - j) for j in range(4)]
                             for i in range(4)])
    assert torch.equal(hop_distances(A), expected)


def reference_block_gc(gc: BlockGraphConv, x: torch.Tensor) -> torch.Tensor:
    """BlockGC as a loop over subsets, one grouped conv each."""
    B, C, T, V = x.shape
    H = gc.num_heads
    weights = gc.joint_weights()
    out = 0
    for s in range(gc.num_subsets):
        z = torch.einsum('nhctv,hvw->nhctw', x.view(B, H, C // H, T, V),
                         weights[s]).reshape(B, C, T, V)
        out = out + torch.nn.functional.conv2d(
            z, gc.weight[s][:, :, None, None], gc.bias[s], groups=H)
    return gc.relu(gc.bn(out) + gc.down(x))


@pytest.mark.parametrize('c_in, c_out', [(16, 16), (16, 32), (3, 8)])
def test_block_gc_matches_loop_over_subsets(c_in, c_out):
    torch.manual_seed(0)
    A = torch.tensor(MODELS.build(dict(type='BlockGCN', graph_cfg=NTU,
                                       **TINY)).graph.A, dtype=torch.float32)
    gc = BlockGraphConv(c_in, c_out, A)
    gc.init_weights()
    with torch.no_grad():
        gc.topology.normal_()
        gc.hop_embedding.normal_()
        gc.bias.normal_()
        gc.bn.weight.fill_(1.)
    gc.eval().double()
    x = torch.randn(2, c_in, 5, 25, dtype=torch.float64)
    torch.testing.assert_close(gc(x), reference_block_gc(gc, x))


# ------------------------------------------------------------ training ----
def test_tiny_forward_backward():
    torch.manual_seed(0)
    model = BlockGCN(NTU, **TINY)
    model.init_weights()
    x = torch.randn(2, 2, 12, 25, 3)
    out = model(x)
    assert out.shape == (2, 2, 32, 6, 25)
    out.square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    assert model.topology.centres.grad.abs().sum() > 0


def test_without_topology_branch():
    model = BlockGCN(NTU, **dict(TINY, topology_features=0))
    assert model.topology is None
    assert model(torch.randn(2, 2, 8, 25, 3)).shape == (2, 2, 32, 4, 25)


def test_convert_blockgcn_checkpoint_keys():
    model = BlockGCN(NTU, **TINY)
    original = {}
    for key, value in model.state_dict().items():
        parts = key.split('.')
        if parts[0] == 'gcn':
            block, part, rest = int(parts[1]), parts[2], parts[3:]
            name = f'l{block + 1}.' + {'gcn': 'gcn1', 'tcn': 'tcn1'}.get(
                part, part)
            if part == 'gcn' and rest[0] in ('weight', 'bias'):
                for s in range(value.shape[0]):
                    v = value[s]
                    v = v[:, :, None, None] if rest[0] == 'weight' else v
                    original[f'{name}.fc2.{s}.{rest[0]}'] = v
                continue
            rest = {'topology': ['fc1'], 'hop_embedding': ['rpe']}.get(
                rest[0], rest)
            original['module.' + name + '.' + '.'.join(rest)] = value
        elif parts[0] == 'topology_proj':
            original[f't{parts[1]}.' + '.'.join(parts[2:])] = value
        elif parts[0] == 'topology':
            original['topo.pl.' + '.'.join(parts[1:])] = value
        else:
            original[key] = value
    original['fc.weight'] = torch.zeros(3, 32)
    converted = convert_blockgcn_checkpoint(original)
    backbone = {k[len('backbone.'):]: v for k, v in converted.items()
                if k.startswith('backbone.')}
    assert set(backbone) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(backbone[key], value), key
    assert 'cls_head.fc.weight' in converted
