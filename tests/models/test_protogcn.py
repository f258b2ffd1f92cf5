"""Tests of ``ProtoGCN`` and ``ProtoGCNHead``
(``sfhead_mm/models/backbones/protogcn.py``).

The original code (``firework8/ProtoGCN``, on mmcv 1.x) is not used here;
the references below are straightforward loops written for these tests.
Checked once by hand against the original (with small mmcv shims), not in
CI: same state dict up to the dilated temporal convs' names
(``branches.{i}.3.conv.*`` there, ``branches.{i}.3.*`` here); features and
reconstructed graph equal in float64 to 1e-13 in train and eval mode; the
contrastive loss, its memory update and its gradient equal the original's.
"""
import pytest
import torch
import torch.nn.functional as F

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

from sfhead_mm.models.backbones.protogcn import (
    ProtoGCN, ProtoGCNHead, ProtoGraphConv, ProtoTemporalConv,
    class_specific_contrastive_loss)

register_all_modules()

NTU = dict(layout='nturgb+d')
TINY = dict(base_channels=16, num_stages=3, inflate_stages=(3, ),
            down_stages=(3, ), num_prototype=10)

# The table: the original ProtoGCN (NTU configs: 400 prototypes,
# six temporal branches, 8 random topologies) with SimpleHead, whose
# contrastive-loss projection is counted.
PROTOGCN_PARAMS = {120: 4_367_960, 60: 4_344_860}


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('num_classes', [120, 60])
def test_parameter_count_ntu(num_classes):
    backbone = MODELS.build(dict(type='ProtoGCN', graph_cfg=NTU))
    head = MODELS.build(
        dict(type='ProtoGCNHead', num_classes=num_classes, in_channels=384))
    total = num_params(backbone) + num_params(head)
    assert total == PROTOGCN_PARAMS[num_classes]
    widths = [block.gcn.out_channels for block in backbone.gcn]
    assert widths == [96] * 4 + [192] * 3 + [384] * 3
    for block in backbone.gcn:
        assert set(dict(block.named_children())) >= {'gcn', 'tcn'}


def reference_graph_conv(gc: ProtoGraphConv, x: torch.Tensor) -> torch.Tensor:
    """The graph convolution as loops over subsets and channels, with the
    relation convs applied before the temporal mean (as the original)."""
    B, _, T, V = x.shape
    K, C = gc.num_subsets, gc.mid_channels
    x1 = gc.conv1(x).mean(dim=2).view(B, K, C, V)
    x2 = gc.conv2(x).mean(dim=2).view(B, K, C, V)
    pre = gc.pre(x).view(B, K, C, T, V)
    out = torch.zeros(B, K, C, T, V, dtype=x.dtype)
    for k in range(K):
        intra = torch.softmax(
            torch.einsum('bcu,bcv->buv', x1[:, k], x2[:, k]), dim=1)
        for c in range(C):
            inter = torch.tanh(x1[:, k, c, :, None] - x2[:, k, c, None, :])
            topology = (gc.A[k] + gc.alpha[0] * inter +
                        gc.beta[0] * intra)  # B, U, V
            out[:, k, c] = torch.einsum('btu,buv->btv', pre[:, k, c],
                                        topology)
    y = gc.bn(gc.post(out.view(B, K * C, T, V)))
    return gc.relu(y + gc.down(x))


@pytest.mark.parametrize('c_in, c_out', [(16, 16), (3, 16)])
def test_graph_conv_matches_loops(c_in, c_out):
    torch.manual_seed(0)
    A = torch.randn(8, 7, 7) * 0.02 + 0.04
    gc = ProtoGraphConv(c_in, c_out, A).double().eval()
    with torch.no_grad():
        gc.alpha.normal_()
        gc.beta.normal_()
    x = torch.randn(2, c_in, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(gc(x), reference_graph_conv(gc, x))


def test_temporal_conv_global_joint():
    torch.manual_seed(0)
    tcn = ProtoTemporalConv(12, 12, num_joints=25).double().eval()
    x = torch.randn(2, 12, 6, 7, dtype=torch.float64)
    # with add_coeff = 0 the global joint does not reach the output, and
    # the joints are processed independently
    base = tcn(x)
    torch.testing.assert_close(tcn(x[..., :3])[..., :3], base[..., :3])
    with torch.no_grad():
        tcn.add_coeff[2] = 1.
    changed = tcn(x)
    assert not torch.allclose(changed[..., 2], base[..., 2])
    torch.testing.assert_close(changed[..., 3:], base[..., 3:])
    # first branch takes the remainder channels: 12 = 2 * 5 + 2
    assert [b[0].out_channels if isinstance(b, torch.nn.Sequential) else
            b.out_channels for b in tcn.branches] == [2] * 6


def test_contrastive_loss_matches_per_sample_reference():
    torch.manual_seed(0)
    feats = torch.randn(5, 4, dtype=torch.float64)
    memory = torch.randn(4, 3, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 2, 2])
    scores = torch.tensor([[5., 0, 0], [5, 0, 0], [0, 0, 5], [0, 0, 5],
                           [5, 0, 0]], dtype=torch.float64)
    loss, new = class_specific_contrastive_loss(feats, memory, labels,
                                                scores, 0.9, 0.125)
    expected = memory.clone()
    expected[:, 0] = 0.9 * memory[:, 0] + 0.1 * feats[:2].mean(0)
    expected[:, 2] = 0.9 * memory[:, 2] + 0.1 * feats[3]  # 4 is wrong
    torch.testing.assert_close(new, expected)  # class 1 has no TP
    terms = []
    for i in range(5):
        logits = torch.stack([
            F.cosine_similarity(feats[i], expected[:, k], dim=0) / 0.125
            for k in range(3)
        ])
        terms.append(-torch.log_softmax(logits, 0)[labels[i]])
    torch.testing.assert_close(loss, torch.stack(terms).mean())


def test_tiny_train_step_with_head():
    torch.manual_seed(0)
    backbone = ProtoGCN(NTU, **TINY)
    backbone.init_weights()
    head = ProtoGCNHead(num_classes=4, in_channels=backbone.out_channels)
    head.init_weights()
    # alpha = beta = 0 at init (as the original) leave the refinement, and
    # so the prototype query, at zero; move the last block's alpha
    with torch.no_grad():
        backbone.gcn[-1].gcn.alpha.fill_(0.5)
    feats = backbone(torch.randn(2, 2, 12, 25, 3))
    assert feats[0].shape == (2, 2, 32, 6, 25) and feats[1].shape == (2, 625)
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
    memory = head.memory.clone()
    losses = head.loss(feats, samples)
    assert {'loss_cls', 'loss_csc'} <= set(losses)
    total = losses['loss_cls'] + losses['loss_csc']
    assert torch.isfinite(total)
    total.backward()
    for name, param in backbone.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
    assert backbone.prn.query_matrix.weight.grad.abs().sum() > 0
    # the memory is a buffer and moves only for true positives
    assert 'memory' in head.state_dict()
    changed = (head.memory != memory).any(dim=0)
    predicted = head(feats).argmax(1)
    tp = {i for i, p in zip((1, 3), predicted.tolist()) if i == p}
    assert set(torch.nonzero(changed).view(-1).tolist()) == tp
    # predict reads element 0 of the tuple
    head.eval()
    out = head.predict(feats, [ActionDataSample() for _ in range(2)])
    assert out[0].pred_score.shape == (4, )
