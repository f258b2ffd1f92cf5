"""Tests of ``InfoGCN`` and ``InfoGCNHead``
(``sfhead_mm/models/backbones/infogcn.py``).

The original code (``stnoah1/infogcn``, no licence) is not used here; the
references below are straightforward per-head / per-class loops written for
these tests. Checked once by hand against the original, not in CI: with
``convert_infogcn_checkpoint`` the original's outputs are reproduced to
float32 rounding (eval mode, randomised BN statistics and topologies, k=2).
"""
import math

import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

from sfhead_mm.models.backbones.infogcn import (INFOGCN_NTU_LAYOUT, InfoGCN,
                                                InfoGCNHead,
                                                SelfAttentionGraphConv,
                                                convert_infogcn_checkpoint,
                                                kth_mode_matrix,
                                                latent_mmd_loss)

register_all_modules()

NTU = dict(layout='nturgb+d-infogcn')
TINY = dict(base_channels=8, num_stages=3, inflate_stages=(2, ),
            down_stages=(2, ))

# The table: the original InfoGCN for NTU120 (k=1, 3 heads, base 64)
# including its classifier (fc, fc_mu, fc_logvar, decoder).
INFOGCN_NTU120_PARAMS = 1_572_227


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_ntu120_with_latent_head():
    backbone = MODELS.build(dict(type='InfoGCN', graph_cfg=NTU))
    head = MODELS.build(
        dict(type='InfoGCNHead', num_classes=120, in_channels=256))
    assert num_params(backbone) + num_params(head) == INFOGCN_NTU120_PARAMS
    # z_prior is a buffer (saved, not trained)
    assert 'z_prior' in head.state_dict() and head.z_prior.shape == (120, 256)


def test_blocks_expose_gcn_and_tcn():
    model = InfoGCN(NTU)
    assert len(model.gcn) == 9
    widths = [block.gcn.out_channels for block in model.gcn]
    assert widths == [64, 64, 64, 128, 128, 128, 256, 256, 256]
    for block in model.gcn:
        assert set(dict(block.named_children())) >= {'gcn', 'tcn'}


def test_kth_mode_matrix_on_a_chain():
    # 0 <- 1 <- 2 <- 3 (root 0), a (child, parent) chain
    inward = [(1, 0), (2, 1), (3, 2)]
    x = torch.tensor([[1.], [10.], [100.], [1000.]])
    assert torch.equal(kth_mode_matrix(inward, 4, 1) @ x,
                       torch.tensor([[1.], [9.], [90.], [900.]]))
    # k=2: offset from the grandparent; joints 0 and 1 have none
    assert torch.equal(kth_mode_matrix(inward, 4, 2) @ x,
                       torch.tensor([[1.], [10.], [99.], [990.]]))
    assert torch.equal(kth_mode_matrix(inward, 4, 0), torch.zeros(4, 4))


def test_infogcn_layout_is_a_tree_rooted_at_spine_middle():
    children = [c for c, _ in INFOGCN_NTU_LAYOUT['inward']]
    assert sorted(children) == [v for v in range(25) if v != 1]
    # hand tips are chained (23 -> 22, 25 -> 24, 1-based) in the original
    assert (21, 22) in INFOGCN_NTU_LAYOUT['inward']
    assert (23, 24) in INFOGCN_NTU_LAYOUT['inward']


def reference_sa_gc(gc: SelfAttentionGraphConv,
                    x: torch.Tensor) -> torch.Tensor:
    """SA-GC as a loop over heads, one 1x1 conv per head."""
    B, C, T, V = x.shape
    attention = gc.attention(x.permute(0, 2, 3, 1))  # B, T, H, V, V
    out = 0
    for h in range(gc.num_heads):
        A = attention[:, :, h] * gc.shared_topology[h]  # B, T, V, V
        z = torch.einsum('btuv,bctv->bctu', A, x)
        out = out + torch.nn.functional.conv2d(
            z, gc.weight[h][:, :, None, None], gc.bias[h])
    return gc.relu(gc.bn(out) + gc.down(x))


@pytest.mark.parametrize('c_in, c_out', [(16, 16), (16, 32)])
def test_sa_gc_matches_loop_over_heads(c_in, c_out):
    torch.manual_seed(0)
    gc = SelfAttentionGraphConv(c_in, c_out, num_heads=3, num_nodes=7)
    gc.init_weights()
    with torch.no_grad():
        gc.shared_topology.normal_()
        gc.bias.normal_()
        gc.bn.weight.fill_(1.)
    gc.eval()
    x = torch.randn(2, c_in, 5, 7, dtype=torch.float64)
    gc.double()
    torch.testing.assert_close(gc(x), reference_sa_gc(gc, x))


def test_tiny_forward_backward_with_latent_head():
    torch.manual_seed(0)
    backbone = InfoGCN(dict(layout='nturgb+d', mode='spatial'), k=2, **TINY)
    backbone.init_weights()
    head = InfoGCNHead(num_classes=5, in_channels=backbone.out_channels)
    head.init_weights()
    x = torch.randn(2, 2, 12, 25, 3)
    feats = backbone(x)
    assert feats.shape == (2, 2, 16, 6, 25)
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
    losses = head.loss(feats, samples)
    assert {'loss_cls', 'loss_mmd', 'loss_z_mean'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in backbone.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert backbone.to_joint_embedding.weight.grad.abs().sum() > 0
    # test mode: z = mu, deterministic
    head.eval()
    torch.testing.assert_close(head(feats), head(feats))


def test_latent_mmd_loss_matches_per_class_loop():
    torch.manual_seed(0)
    z = torch.randn(6, 4)
    labels = torch.tensor([2, 0, 2, 2, 5, 0])
    prior = torch.randn(7, 4)
    rows = [(z[labels == c].mean(0) - prior[c]) for c in (0, 2, 5)]
    expected = torch.stack(rows).pow(2).mean()
    torch.testing.assert_close(latent_mmd_loss(z, labels, prior), expected)


def test_head_init_follows_the_original():
    head = InfoGCNHead(num_classes=120, in_channels=256)
    head.init_weights()
    # decoder ~ N(0, sqrt(2 / K)); fc ~ Xavier uniform with ReLU gain
    assert abs(head.decoder.weight.std().item() -
               math.sqrt(2 / 120)) < 0.01
    bound = math.sqrt(2) * math.sqrt(6 / 512)
    assert head.fc.weight.abs().max().item() <= bound
    assert head.fc.weight.abs().max().item() > 0.9 * bound


def test_convert_infogcn_checkpoint_keys():
    model = InfoGCN(NTU, **TINY)
    original = {}
    for key, value in model.state_dict().items():
        # rebuild the original's names from ours
        parts = key.split('.')
        if parts[0] != 'gcn':
            original[key] = value
            continue
        block, part, rest = int(parts[1]), parts[2], parts[3:]
        name = f'l{block + 1}.' + ('agcn' if part == 'gcn' else part)
        if part == 'gcn' and rest[0] in ('weight', 'bias'):
            for h in range(value.shape[0]):
                extra = (slice(None), ) * (value.dim() - 1)
                v = value[(h, ) + extra]
                v = v[:, :, None, None] if rest[0] == 'weight' else v
                original[f'{name}.conv_d.{h}.{rest[0]}'] = v
            continue
        if part == 'gcn' and rest[0] == 'attention':
            rest = ['attn'] + rest[1:]
        original['module.' + name + '.' + '.'.join(rest)] = value
    original['decoder.weight'] = torch.zeros(3, 16)
    converted = convert_infogcn_checkpoint(original)
    backbone = {k[len('backbone.'):]: v for k, v in converted.items()
                if k.startswith('backbone.')}
    assert set(backbone) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(backbone[key], value), key
    assert 'head.decoder.weight' in converted
