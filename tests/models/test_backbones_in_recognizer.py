"""InfoGCN, BlockGCN, HD-GCN and ProtoGCN as drop-in backbones of
mmaction's ``RecognizerGCN``, each with the head that carries its
classifier (tiny widths)."""
import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

register_all_modules()

TINY = dict(num_stages=3, inflate_stages=(3, ), down_stages=(3, ))
CASES = {
    'InfoGCN': (dict(type='InfoGCN', graph_cfg=dict(layout='nturgb+d'),
                     base_channels=8, **TINY),
                dict(type='InfoGCNHead', in_channels=16)),
    'BlockGCN': (dict(type='BlockGCN', base_channels=16,
                      graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                      **TINY), dict(type='GCNHead', in_channels=32)),
    'HDGCN': (dict(type='HDGCN', graph_cfg=dict(layout='nturgb+d'),
                   base_channels=16, **TINY),
              dict(type='GCNHead', in_channels=32)),
    'ProtoGCN': (dict(type='ProtoGCN', graph_cfg=dict(layout='nturgb+d'),
                      base_channels=16, num_prototype=10, **TINY),
                 dict(type='ProtoGCNHead', in_channels=32)),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_loss_and_predict_through_recognizer_gcn(name):
    torch.manual_seed(0)
    backbone, head = CASES[name]
    model = MODELS.build(
        dict(type='RecognizerGCN', backbone=backbone,
             cls_head=dict(head, num_classes=5)))
    model.init_weights()
    inputs = torch.randn(2, 1, 2, 12, 25, 3)  # (B, clips, M, T, V, C)
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]
    losses = model(inputs, samples, mode='loss')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.backbone.gcn[0].gcn.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        clips = torch.randn(2, 3, 2, 12, 25, 3)  # three clips per sample
        preds = model(clips, [ActionDataSample() for _ in range(2)],
                      mode='predict')
    assert preds[0].pred_score.shape == (5, )
    torch.testing.assert_close(preds[0].pred_score.sum(),
                               torch.tensor(1.))
