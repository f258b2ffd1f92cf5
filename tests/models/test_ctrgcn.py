"""Tests of the ``CTRGCN`` backbone (``sfhead_mm/models/backbones/ctrgcn.py``).

The straightforward loop-over-subsets model these tests compare against is
in ``tests/models/ctrgcn_reference.py``, shared with
``benchmarks/ctrgcn_speed.py``.
"""
import math

import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.optim import OptimWrapper

from sfhead_mm.models.backbones.blocks import (GCNTCNBlock, TemporalConvBN,
                                               batch_norm_joints,
                                               block_residual)
from sfhead_mm.models.backbones.ctrgcn import (CTRGC, CTRGCN, CTRGCNBlock,
                                               CTRGraphConv,
                                               MultiScaleTemporalConv)

from .ctrgcn_reference import ReferenceCTRGCN, reference_to_ctrgcn_state_dict

register_all_modules()

NTU = dict(layout='nturgb+d', mode='spatial')
# 5 joints, a dict layout (mmaction's Graph accepts num_node/inward/center).
TOY = dict(
    layout=dict(num_node=5, inward=[(1, 0), (2, 1), (3, 1), (4, 0)],
                center=0),
    mode='spatial')
# A tiny model: widths 8, 8, 16, 16; stride 2 at block 3.
TINY = dict(base_channels=8, num_stages=4, inflate_stages=(3, ),
            down_stages=(3, ))

# The original CTR-GCN for NTU without its fc: 1,431,252 parameters; with the
# fc for 60 classes (256 * 60 + 60) 1,446,672, for 120 classes 1,462,092 (the
# "1.46M" of the paper, whose tables are NTU-120).
CTRGCN_NTU_BACKBONE_PARAMS = 1_431_252


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def randomise(model: torch.nn.Module, seed: int = 0) -> None:
    """Give every BN, alpha and PA non-default values.

    With the default alpha = 0 the channel-wise refinement does not reach the
    output at all, and BN with weight 1e-6 hides most of the GCN; a
    comparison of two implementations must not run in that regime.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.weight.copy_(0.5 + torch.rand(n, generator=gen))
                module.bias.copy_(0.1 * torch.randn(n, generator=gen))
                module.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                module.running_var.copy_(0.5 + torch.rand(n, generator=gen))
        for name, param in model.named_parameters():
            if name.endswith('alpha'):
                param.copy_(0.5 + torch.rand(1, generator=gen))
            elif name.endswith('PA'):
                param.add_(0.1 * torch.randn(param.shape, generator=gen))


def paired_models(graph_cfg=NTU, seed=0, **cfg):
    """A randomised reference and ``CTRGCN`` loaded with its weights.

    Both in float64: ten blocks with random BN statistics reach large
    activations, where float32 rounding of two summation orders differs.
    """
    torch.manual_seed(seed)
    ours = CTRGCN(graph_cfg, **cfg).double()
    reference = ReferenceCTRGCN(ours.graph.A, **cfg).double()
    randomise(reference, seed)
    missing = ours.load_state_dict(
        reference_to_ctrgcn_state_dict(reference.state_dict()), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    return ours, reference


# ---------------------------------------------------------------- shapes ---
def test_output_shape_ntu_default():
    model = CTRGCN(NTU)
    model.init_weights()
    out = model(torch.randn(2, 2, 12, 25, 3))
    # widths 64..256, T divided by 4 (stride 2 at blocks 5 and 8)
    assert out.shape == (2, 2, 256, 3, 25)
    widths = [block.gcn.bn.num_features for block in model.gcn]
    assert widths == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert len(model.gcn) == 10 and model.out_channels == 256


def test_output_shape_dict_layout():
    model = CTRGCN(TOY, **TINY)
    model.init_weights()
    assert model.graph.A.shape == (3, 5, 5)  # self, inward, outward
    out = model(torch.randn(3, 2, 16, 5, 3))
    assert out.shape == (3, 2, 16, 8, 5)


def test_dict_layout_from_config_lists():
    """Configs give edges as lists (YAML/JSON), not tuples."""
    layout = dict(num_node=5, inward=[[1, 0], [2, 1], [3, 1], [4, 0]],
                  center=0)
    model = CTRGCN(dict(layout=layout, mode='spatial'), **TINY)
    assert torch.equal(model.gcn[0].gcn.PA,
                       CTRGCN(TOY, **TINY).gcn[0].gcn.PA)


@pytest.mark.parametrize('T, down_stages, T_out', [
    (16, (3, ), 8),
    (15, (3, ), 8),  # odd T: every branch gives ceil(T / 2)
    (16, (2, 4), 4),
    (16, (), 16),
    (9, (2, 3, 4), 2),
])
def test_temporal_strides(T, down_stages, T_out):
    cfg = dict(TINY, down_stages=down_stages)
    model = CTRGCN(NTU, **cfg)
    out = model(torch.randn(1, 2, T, 25, 3))
    assert out.shape == (1, 2, 16, T_out, 25)
    strides = [block.tcn.branches[0][3].conv.stride[0] for block in model.gcn]
    assert strides == [2 if i in down_stages else 1 for i in range(1, 5)]


def test_in_channels_and_num_person():
    model = CTRGCN(NTU, in_channels=2, num_person=1, **TINY)
    assert model.data_bn.num_features == 1 * 25 * 2
    assert model(torch.randn(2, 1, 8, 25, 2)).shape == (2, 1, 16, 4, 25)


def test_width_not_divisible_by_branches_is_refused():
    with pytest.raises(ValueError, match='block 1: width 6'):
        CTRGCN(NTU, base_channels=6, num_stages=2)


@pytest.mark.parametrize('in_channels, expected', [(3, 8), (9, 8), (2, 8),
                                                   (64, 8), (128, 16),
                                                   (256, 32)])
def test_rel_channels(in_channels, expected):
    assert CTRGC(in_channels, 16).rel_channels == expected


# ------------------------------------------------------------- structure ---
def test_registered_and_block_structure():
    assert MODELS.get('CTRGCN') is CTRGCN
    model = MODELS.build(dict(type='CTRGCN', graph_cfg=NTU, **TINY))
    assert isinstance(model.gcn, torch.nn.ModuleList)
    for block in model.gcn:
        assert isinstance(block, CTRGCNBlock)
        assert isinstance(block.gcn, CTRGraphConv)
        assert isinstance(block.tcn, MultiScaleTemporalConv)
    # first block: no block residual; later ones identity or projection
    x = torch.randn(4, 3, 8, 25)
    assert model.gcn[0].residual(x) == 0
    assert isinstance(model.gcn[1].residual, torch.nn.Identity)


def test_forward_hook_on_gcn_replaces_its_output():
    """The plug-in head hooks ``backbone.gcn[i].gcn`` and may replace it."""
    model = CTRGCN(NTU, **TINY).eval()
    block = model.gcn[1]
    x = torch.randn(4, 8, 8, 25)
    seen = []

    def hook(module, inputs, output):
        seen.append(output.shape)
        return torch.zeros_like(output)

    handle = block.gcn.register_forward_hook(hook)
    with torch.no_grad():
        out = block(x)
        expected = torch.relu(block.tcn(torch.zeros(4, 8, 8, 25)) + x)
    handle.remove()
    assert seen == [(4, 8, 8, 25)]
    torch.testing.assert_close(out, expected)


def test_init_weights_follow_the_original():
    torch.manual_seed(0)
    model = CTRGCN(NTU)
    model.init_weights()
    block = model.gcn[1]  # 64 -> 64
    gcn = block.gcn
    assert torch.equal(gcn.PA, torch.tensor(model.graph.A).float())
    assert gcn.alpha.item() == 0
    assert torch.all(gcn.bn.weight == 1e-6) and torch.all(gcn.bn.bias == 0)
    # Kaiming fan_out of ONE subset: std sqrt(2 / out_channels) per subset
    ctrgc = gcn.ctrgc
    for conv, fan_out in [(ctrgc.conv1, 8), (ctrgc.conv2, 8),
                          (ctrgc.conv3, 64), (ctrgc.conv4, 64)]:
        for w in conv.weight.chunk(3, dim=0):
            assert w.std().item() == pytest.approx(
                math.sqrt(2 / fan_out), rel=0.15)
        assert torch.all(conv.bias == 0)
    # MS-TCN BN weights ~ N(1, 0.02), biases 0
    bn_weights = torch.cat([
        m.weight.detach() for m in block.tcn.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ])
    assert abs(bn_weights.mean().item() - 1) < 0.01
    assert 0.01 < bn_weights.std().item() < 0.03
    # residual projection of block 5: conv_init + bn_init(1)
    residual = model.gcn[4].residual
    assert torch.all(residual.bn.weight == 1)
    assert torch.all(residual.conv.bias == 0)
    assert residual.conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / 128), rel=0.1)


# -------------------------------------------------- aggregation direction ---
def explicit_aggregation(topology, features):
    """``out[n, c, t, u] = sum_s sum_v topology[n, s, c, u, v] *
    features[n, s, c, t, v]``, one output element at a time."""
    N, S, C, T, V = features.shape
    out = torch.zeros(N, C, T, V, dtype=features.dtype)
    for n in range(N):
        for c in range(C):
            for t in range(T):
                for u in range(V):
                    total = 0.
                    for s in range(S):
                        for v in range(V):
                            total += (topology[n, s, c, u, v] *
                                      features[n, s, c, t, v]).item()
                    out[n, c, t, u] = total
    return out


def test_aggregate_is_the_original_direction():
    gen = torch.Generator().manual_seed(0)
    topology = torch.randn(2, 3, 2, 4, 4, generator=gen, dtype=torch.float64)
    features = torch.randn(2, 3, 2, 3, 4, generator=gen, dtype=torch.float64)
    expected = explicit_aggregation(topology, features)
    torch.testing.assert_close(CTRGC.aggregate(topology, features), expected)
    # The transposed product (mmaction's projects/ctrgcn, PySKL) differs.
    transposed = CTRGC.aggregate(topology.transpose(-1, -2), features)
    assert not torch.allclose(transposed, expected, atol=1e-3)


def test_ctrgc_matches_hand_computation():
    """The whole CTRGC against the paper's formula with an explicit loop."""
    gen = torch.Generator().manual_seed(1)
    S, C_in, C_out, V, T, N = 2, 16, 3, 4, 3, 2
    ctrgc = CTRGC(C_in, C_out, num_subsets=S, rel_reduction=8).double()
    R = ctrgc.rel_channels
    assert R == 2
    with torch.no_grad():
        for p in ctrgc.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    A = torch.randn(S, V, V, generator=gen, dtype=torch.float64)  # asym.
    alpha = torch.tensor([0.7], dtype=torch.float64)
    x = torch.randn(N, C_in, T, V, generator=gen, dtype=torch.float64)

    def weights(conv, s, out):
        w = conv.weight[s * out:(s + 1) * out, :, 0, 0]
        return w, conv.bias[s * out:(s + 1) * out]

    topologies, features = [], []
    for s in range(S):
        w1, b1 = weights(ctrgc.conv1, s, R)
        w2, b2 = weights(ctrgc.conv2, s, R)
        w3, b3 = weights(ctrgc.conv3, s, C_out)
        w4, b4 = weights(ctrgc.conv4, s, C_out)
        # conv then temporal mean, in the original order
        x1 = (torch.einsum('ri,nitv->nrtv', w1, x) +
              b1[:, None, None]).mean(2)
        x2 = (torch.einsum('ri,nitv->nrtv', w2, x) +
              b2[:, None, None]).mean(2)
        rel = torch.tanh(x1[:, :, :, None] - x2[:, :, None, :])  # n,r,u,v
        topo = torch.einsum('cr,nruv->ncuv', w4, rel) + b4[:, None, None]
        topologies.append(topo * alpha + A[s])
        features.append(
            torch.einsum('ci,nitv->nctv', w3, x) + b3[:, None, None])
    expected = explicit_aggregation(
        torch.stack(topologies, 1), torch.stack(features, 1))
    with torch.no_grad():
        out = ctrgc(x, A, alpha)
    torch.testing.assert_close(out, expected)


# ------------------------------------------------ against the reference ---
def test_parameter_count_equals_reference_and_original():
    ours = CTRGCN(NTU)
    reference = ReferenceCTRGCN(ours.graph.A)
    assert num_params(ours) == num_params(reference)
    assert num_params(ours) == CTRGCN_NTU_BACKBONE_PARAMS
    # every parameter tensor has its counterpart, shape for shape
    mapped = reference_to_ctrgcn_state_dict(reference.state_dict())
    ours_state = ours.state_dict()
    assert mapped.keys() == ours_state.keys()
    assert all(mapped[k].shape == ours_state[k].shape for k in mapped)


@pytest.mark.parametrize('train', [True, False])
def test_same_output_and_gradients_as_reference_tiny(train):
    ours, reference = paired_models(NTU, **TINY)
    ours.train(train)
    reference.train(train)
    x = torch.randn(3, 2, 12, 25, 3, dtype=torch.float64)
    out = ours(x)
    expected = reference(x)
    torch.testing.assert_close(out, expected)
    # gradients, mapped the same way as the weights
    grad = torch.randn_like(out)
    out.backward(grad)
    expected.backward(grad)
    ref_grads = reference_to_ctrgcn_state_dict({
        k: p.grad for k, p in reference.named_parameters()})
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, ref_grads[name],
                                   msg=lambda m: f'{name}: {m}')


def test_same_output_as_reference_full_size_dict_layout():
    ours, reference = paired_models(TOY, seed=3)
    ours.eval()
    reference.eval()
    x = torch.randn(2, 2, 8, 5, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def test_same_output_as_reference_full_size_ntu():
    ours, reference = paired_models(NTU, seed=2)
    x = torch.randn(2, 2, 8, 25, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


# ---------------------------------------------------- inside mmaction ---
def build_recognizer():
    cfg = dict(
        type='RecognizerGCN',
        backbone=dict(type='CTRGCN', graph_cfg=NTU, **TINY),
        cls_head=dict(type='GCNHead', num_classes=5, in_channels=16))
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_recognizer_gcn_forward_modes():
    model = build_recognizer()
    inputs = torch.randn(2, 1, 2, 16, 25, 3)  # (B, clips, M, T, V, C)
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
    feats = model(inputs, mode='tensor')
    assert feats.shape == (2, 2, 16, 8, 25)
    losses = model(inputs, samples, mode='loss')
    assert 'loss_cls' in losses
    losses['loss_cls'].backward()
    assert model.backbone.gcn[0].gcn.ctrgc.conv3.weight.grad is not None
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
    assert preds[0].pred_score.shape == (5, )


def test_recognizer_gcn_train_step():
    model = build_recognizer()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    data = dict(
        inputs=[torch.randn(1, 2, 16, 25, 3) for _ in range(2)],
        data_samples=[ActionDataSample().set_gt_label(i) for i in (0, 4)])
    before = model.backbone.gcn[2].gcn.PA.detach().clone()
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.backbone.gcn[2].gcn.PA)


def test_batch_norm_joints_is_the_originals_layout():
    """``blocks.batch_norm_joints`` is the original CTR-GCN input code:
    BatchNorm1d over (M, V, C) per frame, then (N * M, C, T, V)."""
    N, M, T, V, C = 2, 2, 5, 4, 3
    x = torch.randn(N, M, T, V, C) * 3 + 1
    data_bn = torch.nn.BatchNorm1d(M * V * C)
    ours = batch_norm_joints(data_bn, x)
    # the original: x (N, C, T, V, M)
    y = x.permute(0, 4, 2, 3, 1)
    y = y.permute(0, 4, 3, 1, 2).contiguous().view(N, M * V * C, T)
    y = torch.nn.BatchNorm1d(M * V * C)(y)
    y = y.view(N, M, V, C, T).permute(0, 1, 3, 4, 2).contiguous().view(
        N * M, C, T, V)
    torch.testing.assert_close(ours, y)
    # each (clip, person, joint, channel) is normalised on its own
    assert ours.view(N, M, C, T, V).mean(dim=(0, 3)).abs().max() < 1e-5


@pytest.mark.parametrize('in_channels, out_channels, stride, residual, kind',
                         [(8, 8, 1, True, torch.nn.Identity),
                          (8, 16, 1, True, TemporalConvBN),
                          (8, 8, 2, True, TemporalConvBN),
                          (8, 16, 2, False, None)])
def test_block_residual_kinds(in_channels, out_channels, stride, residual,
                              kind):
    branch = block_residual(in_channels, out_channels, stride, residual)
    x = torch.randn(2, in_channels, 6, 5)
    if kind is None:
        assert branch(x) == 0
        return
    assert isinstance(branch, kind)
    assert branch(x).shape == (2, out_channels, 6 // stride, 5)


def test_every_block_is_a_gcn_tcn_block():
    """All five backbones' blocks share ``GCNTCNBlock.forward`` and keep the
    ``gcn``/``tcn``/``residual`` children the heads attach to."""
    from sfhead_mm.models.backbones import (HDGCN, BlockGCN, InfoGCN,
                                            ProtoGCN)
    for backbone in (
            CTRGCN(dict(layout='nturgb+d', mode='spatial'), base_channels=8),
            InfoGCN(dict(layout='nturgb+d-infogcn'), base_channels=16),
            BlockGCN(dict(layout='nturgb+d', mode='spatial'),
                     base_channels=16),
            HDGCN(dict(layout='nturgb+d'), base_channels=8),
            ProtoGCN(dict(layout='nturgb+d'), base_channels=12)):
        for block in backbone.gcn:
            assert isinstance(block, GCNTCNBlock)
            assert type(block).forward is GCNTCNBlock.forward
            assert {'gcn', 'tcn', 'residual'} <= dict(
                block.named_children()).keys()
