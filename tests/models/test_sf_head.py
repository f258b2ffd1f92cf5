"""Tests of SF-Head (SPEC 2.1-2.2): SSTE, the AC-FA gates, C-FA, the output.

Reference values are computed here with ``math``/``numpy`` (or plain torch
indexing of the input), not with the modules under test.
"""
import math
import warnings

import numpy as np
import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction first)
from mmaction.registry import MODELS  # noqa: E402

from sfhead_mm.models.losses import (FeatureConsistencyLoss,  # noqa: E402
                                     FeatureRedundancyLoss, clip_features)
from sfhead_mm.models.sf_head import (CrossDimensionGate, SFHead,  # noqa
                                      SFHeadOutput, banded_conv2d,
                                      SynchronizedSpatialTemporalExtraction)

CTRGCN_WIDTHS = [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
SIG1 = 1 / (1 + math.exp(-1))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_gate_transparent(gate, bias=0.0):
    """Eval-mode BN as identity plus ``bias``; conv zeroed (caller sets)."""
    with torch.no_grad():
        gate.conv.weight.zero_()
        gate.bn.weight.fill_(1.0)
        gate.bn.bias.fill_(bias)
        gate.bn.running_mean.zero_()
        gate.bn.running_var.fill_(1.0)
    gate.bn.eps = 0.0
    gate.eval()


def per_group(f, g):
    """(B, g*C', T, V) stacked branch feature -> list of g (B, C', T, V)."""
    return list(f.chunk(g, dim=1))


# ------------------------------------------------------------------ gates
@pytest.mark.parametrize('axis,pooled', [
    ('channel', (1, )),
    ('temporal', (2, )),
    ('spatial', (3, )),
])
@pytest.mark.parametrize('tap', [0, 1])  # 0: mean map, 1: max map
def test_gate_pools_the_right_axis(axis, pooled, tap):
    # conv = a single centre tap on the mean (tap 0) or max (tap 1) map and
    # BN = identity, so gate(x) = x * sigmoid(mean_or_max over the axis).
    gate = CrossDimensionGate(axis, kernel_size=7)
    make_gate_transparent(gate)
    with torch.no_grad():
        gate.conv.weight[0, tap, 3, 3] = 1.0
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 4))
    red = x.mean(axis=pooled, keepdims=True) if tap == 0 else x.max(
        axis=pooled, keepdims=True)
    expected = x * np_sigmoid(red)
    got = gate(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(got.detach().numpy(), expected, atol=1e-5)


def test_gate_pooled_map_shapes():
    # C' = 3, T = 5, V = 4 all different: ACDA (B,2,T,V), ATDA (B,2,C',V),
    # ASDA (B,2,T,C')
    # (the conv's output is BN's input; the pooled values themselves are
    # checked by test_gate_pools_the_right_axis)
    shapes = {}
    x = torch.randn(2, 3, 5, 4)
    for axis in ('channel', 'temporal', 'spatial'):
        gate = CrossDimensionGate(axis)
        gate.bn.register_forward_hook(
            lambda mod, inp, out, axis=axis: shapes.__setitem__(
                axis, tuple(inp[0].shape)))
        assert gate(x).shape == x.shape
    assert shapes['channel'] == (2, 1, 5, 4)
    assert shapes['temporal'] == (2, 1, 3, 4)
    assert shapes['spatial'] == (2, 1, 5, 3)


@pytest.mark.parametrize('axis,dim', [('channel', 1), ('temporal', 2),
                                      ('spatial', 3)])
def test_gate_weight_is_broadcast_along_pooled_axis(axis, dim):
    # With untouched (random) conv weights, the gate's weight map w = y / x
    # has no extent along the pooled axis: constant along it, varying along
    # the two others.
    torch.manual_seed(0)
    gate = CrossDimensionGate(axis).eval()
    x = torch.rand(2, 3, 6, 5) + 1.0  # strictly positive
    w = (gate(x) / x).detach()
    assert (w.amax(dim=dim) - w.amin(dim=dim)).abs().max() < 1e-6
    others = [d for d in (1, 2, 3) if d != dim]
    for d in others:
        assert (w.amax(dim=d) - w.amin(dim=d)).abs().max() > 1e-4


@pytest.mark.parametrize('shape', [(3, 2, 9, 25), (3, 2, 9, 2),
                                   (3, 2, 2, 25), (2, 3, 1, 1),
                                   (2, 2, 4, 12)])
@pytest.mark.parametrize('band_dim', [2, 3])
@pytest.mark.parametrize('K', [1, 3, 7])
def test_banded_conv2d_equals_conv2d_values_and_grads(shape, band_dim, K):
    torch.manual_seed(0)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, shape[1], K, K, dtype=torch.float64,
                    requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    w2 = w.detach().clone().requires_grad_()
    got = banded_conv2d(x, w, band_dim)
    want = torch.nn.functional.conv2d(x2, w2, padding=K // 2)
    torch.testing.assert_close(got, want)
    g = torch.randn_like(want)
    got.backward(g)
    want.backward(g)
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)


def test_gate_rejects_bad_config():
    with pytest.raises(ValueError, match='pool_axis'):
        CrossDimensionGate('joint')
    with pytest.raises(ValueError, match='kernel_size'):
        CrossDimensionGate('channel', kernel_size=4)
    with pytest.raises(ValueError, match=r"conv must be one of .*'fft'"):
        CrossDimensionGate('channel', conv='fft')
    with pytest.raises(ValueError, match=r"sf_head.gate_conv='fft'"):
        MODELS.build(dict(type='SFHeads', gate_conv='fft'))


def test_gate_conv2d_trains_like_banded():
    """gate_conv='conv2d' is the same head (same parameters, same values
    and gradients up to rounding) with a plain conv in the gates."""
    torch.manual_seed(0)
    banded = SFHead(64, groups=4, gate_conv='banded').train()
    plain = SFHead(64, groups=4, gate_conv='conv2d').train()
    plain.load_state_dict(banded.state_dict())
    assert {g.conv_impl for g in (plain.temporal_gate, plain.spatial_gate,
                                  plain.channel_gate)} == {'conv2d'}
    x = torch.randn(4, 64, 12, 25, dtype=torch.float64)
    outs = []
    for head in (banded, plain):
        head.double()
        xi = x.clone().requires_grad_()
        out = head(xi)
        (out.out.square().sum() + out.f_a.sum()).backward()
        outs.append((out, xi.grad, {n: p.grad for n, p in
                                    head.named_parameters()}))
    (a, ga, pa), (b, gb, pb) = outs
    for fa, fb in zip(a, b):
        torch.testing.assert_close(fa, fb)
    torch.testing.assert_close(ga, gb)
    for name in pa:
        torch.testing.assert_close(pa[name], pb[name], msg=name)
    # the BN running statistics moved the same way
    torch.testing.assert_close(banded.state_dict(), plain.state_dict())


@pytest.mark.parametrize('conv,device,plain', [
    ('auto', 'cpu', False), ('auto', 'meta', True),
    ('banded', 'meta', False), ('conv2d', 'cpu', True)])
def test_gate_conv_choice_by_setting_and_device(conv, device, plain,
                                                monkeypatch):
    """'auto' (the default) takes the banded conv on CPU only; on any
    other device (here the meta device, standing in for a GPU) the plain
    conv2d. The gate runs end to end on that device with the choice."""
    import sfhead_mm.models.layers.gates as gates
    calls = []

    def counted(x, weight, band_dim=3):
        calls.append(x.device.type)
        return banded_conv2d(x, weight, band_dim)

    monkeypatch.setattr(gates, 'banded_conv2d', counted)
    gate = CrossDimensionGate('temporal', conv=conv).to(device)
    assert CrossDimensionGate('temporal').conv_impl == 'auto'
    out = gate(torch.randn(4, 3, 8, 5, device=device))
    assert out.shape == (4, 3, 8, 5) and out.device.type == device
    assert gate.uses_plain_conv(out) is plain
    assert calls == ([] if plain else [device])


def test_sf_heads_pass_gate_conv_to_every_gate():
    heads = MODELS.build(dict(type='SFHeads', gate_conv='conv2d'))
    heads.add_point('backbone_gcn_0_gcn', 32, 1, 'backbone.gcn.0.gcn')
    head = heads.heads['backbone_gcn_0_gcn']
    assert [g.conv_impl for g in (head.temporal_gate, head.spatial_gate,
                                  head.channel_gate)] == ['conv2d'] * 3


# ------------------------------------------------------------------ SSTE
def test_sste_init_is_x_times_sigmoid_one():
    sste = SynchronizedSpatialTemporalExtraction(2)
    x = torch.randn(3, 8, 5, 4)
    f_t, f_s, f_c, f_o = sste(x)
    xn = x.numpy()
    np.testing.assert_allclose(f_t.detach().numpy(), xn[:, 0:2] * SIG1,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(f_s.detach().numpy(), xn[:, 4:6] * SIG1,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(f_c.numpy(), xn[:, 2:4])
    np.testing.assert_array_equal(f_o.numpy(), xn[:, 6:8])


def test_sste_eq1_with_trained_parameters():
    sste = SynchronizedSpatialTemporalExtraction(2)
    wt, bt, ws, bs = [0.7, -1.3], [0.2, 0.5], [1.5, -0.4], [-0.3, 0.9]
    with torch.no_grad():
        sste.temporal_weight.copy_(torch.tensor(wt).view(1, 2, 1, 1))
        sste.temporal_bias.copy_(torch.tensor(bt).view(1, 2, 1, 1))
        sste.spatial_weight.copy_(torch.tensor(ws).view(1, 2, 1, 1))
        sste.spatial_bias.copy_(torch.tensor(bs).view(1, 2, 1, 1))
    x = np.random.default_rng(1).normal(size=(3, 8, 5, 4))
    f_t, f_s, _, _ = sste(torch.tensor(x, dtype=torch.float32))
    x1, x3 = x[:, 0:2], x[:, 4:6]
    r = lambda a: np.asarray(a).reshape(1, 2, 1, 1)  # noqa: E731
    gap = x1.mean(axis=(2, 3), keepdims=True)
    exp_t = x1 * np_sigmoid(r(wt) * gap + r(bt))
    mu = x3.mean(axis=(2, 3), keepdims=True)
    var = x3.var(axis=(2, 3), keepdims=True)
    gn = (x3 - mu) / np.sqrt(var + 1e-5)  # one group per channel
    exp_s = x3 * np_sigmoid(r(ws) * gn + r(bs))
    np.testing.assert_allclose(f_t.detach().numpy(), exp_t, atol=1e-5)
    np.testing.assert_allclose(f_s.detach().numpy(), exp_s, atol=1e-5)


# ------------------------------------------------------------------ SFHead
def test_sfhead_output_shapes_and_type():
    head = SFHead(64, name='backbone.gcn.0')
    out = head(torch.randn(4, 64, 6, 25))
    assert isinstance(out, SFHeadOutput)
    assert out.out.shape == (4, 64, 6, 25)
    for f in (out.f_t, out.f_s, out.f_c, out.f_o, out.f_a):
        assert f.shape == (4, 16, 6, 25)
    built = MODELS.build(dict(type='SFHead', in_channels=32, groups=2))
    assert isinstance(built, SFHead) and built.groups == 2


def test_sfhead_divisibility_error_names_block_and_channels():
    with pytest.raises(ValueError) as err:
        SFHead(100, groups=8, name='backbone.gcn.3')
    msg = str(err.value)
    assert 'backbone.gcn.3' in msg
    assert 'C=100' in msg and '4 * 8 = 32' in msg
    assert '[1, 5, 25]' in msg  # the groups values that would work
    with pytest.raises(ValueError, match='groups'):
        SFHead(64, groups=0)


def test_sfhead_branches_follow_groups():
    # g = 2, C = 16, C' = 2: group k holds channels [8k, 8k+8), split into
    # x1 = [8k, 8k+2), x2 = [8k+2, 8k+4), x3, x4.
    head = SFHead(16, groups=2)
    x = torch.randn(3, 16, 5, 4)
    out = head(x)
    xn = x.numpy()
    exp_c = np.concatenate([xn[:, 2:4], xn[:, 10:12]], axis=1)
    exp_o = np.concatenate([xn[:, 6:8], xn[:, 14:16]], axis=1)
    exp_t = np.concatenate([xn[:, 0:2], xn[:, 8:10]], axis=1) * SIG1
    exp_s = np.concatenate([xn[:, 4:6], xn[:, 12:14]], axis=1) * SIG1
    np.testing.assert_array_equal(out.f_c.detach().numpy(), exp_c)
    np.testing.assert_array_equal(out.f_o.detach().numpy(), exp_o)
    np.testing.assert_allclose(out.f_t.detach().numpy(), exp_t, rtol=1e-6)
    np.testing.assert_allclose(out.f_s.detach().numpy(), exp_s, rtol=1e-6)


@pytest.mark.parametrize('C,g', [(32, 4), (32, 2), (32, 1), (24, 3)])
def test_sfhead_out_is_shuffled_concat(C, g):
    B, T, V = 2, 3, 5  # C' = C / 4g; odd g takes the two-copy path
    head = SFHead(C, groups=g)
    out = head(torch.randn(B, C, T, V))
    parts = [
        per_group(f.detach(), g) for f in (out.f_t, out.f_s, out.f_a, out.f_o)
    ]
    # per group k: [f_t, f_s, f_a, f_o] -> channels k*C/g + p*C' + c
    concat = torch.cat([parts[p][k] for k in range(g) for p in range(4)],
                       dim=1).numpy()
    # channel shuffle with 2 groups: output j*2 + h <- input h*C/2 + j
    perm = [0] * C
    for h in range(2):
        for j in range(C // 2):
            perm[j * 2 + h] = h * (C // 2) + j
    assert sorted(perm) == list(range(C))  # a permutation
    np.testing.assert_array_equal(out.out.detach().numpy(), concat[:, perm])


def test_cfa_eta_softmax_weighting_with_transparent_gates():
    # BN bias 30 and zero conv -> sigmoid(30) = 1 - 1e-13: every gate is
    # identity, so f_a = softmax(eta) . [f_t, f_s, f_c, f_o] (eq. 8/9).
    head = SFHead(16, groups=2).eval()
    for gate in (head.temporal_gate, head.spatial_gate, head.channel_gate):
        make_gate_transparent(gate, bias=30.0)
    eta = [0.5, -1.0, 2.0, 0.0]
    with torch.no_grad():
        head.eta.copy_(torch.tensor(eta))
    w = np.exp(eta) / np.exp(eta).sum()
    x = torch.randn(3, 16, 5, 4)
    out = head(x)
    xn = x.numpy()
    grp = lambda a, b: np.concatenate(  # noqa: E731
        [xn[:, a:b], xn[:, 8 + a:8 + b]], axis=1)
    expected = (w[0] * grp(0, 2) * SIG1 + w[1] * grp(4, 6) * SIG1 +
                w[2] * grp(2, 4) + w[3] * grp(6, 8))
    np.testing.assert_allclose(out.f_a.detach().numpy(), expected, atol=1e-5)


def test_cfa_eta_weighting_with_real_gates():
    # f_a must equal the softmax(eta)-weighted sum of the gate outputs, each
    # gate applied per group (B*g, C', T, V).
    torch.manual_seed(0)
    head = SFHead(16, groups=2).eval()
    with torch.no_grad():
        head.eta.copy_(torch.tensor([1.0, 0.0, -0.5, 0.25]))
        for gate in (head.temporal_gate, head.spatial_gate,
                     head.channel_gate):
            gate.bn.running_mean.fill_(0.1)
            gate.bn.running_var.fill_(2.0)
    eta = np.array([1.0, 0.0, -0.5, 0.25])
    w = np.exp(eta) / np.exp(eta).sum()
    out = head(torch.randn(3, 16, 5, 4))

    def groups_stacked(f):  # (B, g*C', T, V) -> (B*g, C', T, V)
        return f.reshape(3 * 2, 2, 5, 4)

    with torch.no_grad():
        y_t = head.temporal_gate(groups_stacked(out.f_t)).numpy()
        y_s = head.spatial_gate(groups_stacked(out.f_s)).numpy()
        y_c = head.channel_gate(groups_stacked(out.f_c)).numpy()
    f_o = groups_stacked(out.f_o).detach().numpy()
    expected = w[0] * y_t + w[1] * y_s + w[2] * y_c + w[3] * f_o
    np.testing.assert_allclose(
        groups_stacked(out.f_a).detach().numpy(), expected, atol=1e-6)
    # initial eta: equal weights 1/4
    assert torch.allclose(
        torch.softmax(SFHead(16, groups=2).eta, 0), torch.full((4, ), 0.25))


def test_parameter_budget_over_ctrgcn_blocks():
    total = sum(
        sum(p.numel() for p in SFHead(c, groups=8).parameters())
        for c in CTRGCN_WIDTHS)
    # independent count: per block SSTE 4 C' (w_t, b_t, w_s, b_s), three
    # gates of a 2->1 7x7 conv (98) + BN affine (2), and 4 eta scalars.
    expected = sum(4 * (c // 32) + 3 * (2 * 49 + 2) + 4
                   for c in CTRGCN_WIDTHS)
    print(f'SF-Head parameters over the 10 CTR-GCN blocks: {total}')
    assert total == expected == 3216
    assert total < 10_000  # paper: < 0.01M (hard requirement)
    assert total < 5_000  # our target


def test_zero_features_finite_losses_and_gradients():
    # N = 2 clips x M = 2 persons; everything zero except one clip's first
    # person, so padded persons and fully zero clips are both exercised.
    N, M, C, T, V = 2, 2, 32, 4, 5
    head = SFHead(C, groups=2).train()
    red, con = FeatureRedundancyLoss(), FeatureConsistencyLoss()
    for x in (torch.zeros(N * M, C, T, V),
              torch.cat([torch.randn(1, C, T, V),
                         torch.zeros(3, C, T, V)])):
        x.requires_grad_(True)
        head.zero_grad()
        out = head(x)
        fs, ft, fc, fo, fa = [
            clip_features(f, M)
            for f in (out.f_s, out.f_t, out.f_c, out.f_o, out.f_a)
        ]
        loss = red(fs, ft) + con(fa, [fc, fs, ft, fo]) + out.out.sum()
        assert torch.isfinite(loss)
        loss.backward()
        assert torch.isfinite(x.grad).all()
        for name, p in head.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize('gate_conv', ['auto', 'banded', 'conv2d'])
def test_sfhead_is_scriptable(gate_conv):
    head = SFHead(32, groups=2, gate_conv=gate_conv).eval()
    x = torch.randn(2, 32, 6, 5)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        scripted = torch.jit.script(head)
    for a, b in zip(head(x), scripted(x)):
        torch.testing.assert_close(a, b)


def test_branch_forward_skips_the_inline_output():
    head = SFHead(64, groups=4).eval()
    x = torch.randn(2, 64, 6, 25)
    full = head(x)
    features_only = head(x, with_output=False)
    assert features_only.out is None
    for a, b in zip(full[1:], features_only[1:]):
        assert torch.equal(a, b)
