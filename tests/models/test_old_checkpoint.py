"""Checkpoints written before the AuxHead protocol (issue 11) load into
today's recognizer strictly and give the same scores and losses.

``fixtures/aux_heads_v1.pth`` was written at commit 45262bd (before the
change) from :data:`MODEL`: its state dict (float16, to stay small), the
predict scores and the training losses on :func:`inputs`."""
import copy
from pathlib import Path

import torch

import sfhead_mm  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

register_all_modules()

FIXTURE = Path(__file__).parent / 'fixtures' / 'aux_heads_v1.pth'
MODEL = dict(
    type='SFRecognizerGCN',
    backbone=dict(type='CTRGCN',
                  graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(type='GCNHead', num_classes=8, in_channels=32),
    sf_head=dict(placement='branch', groups=4),
    fr_head=dict(stages=[1, 2, 3], stage_weights=[0.2, 0.5, 1.0],
                 hidden_channels=50, temporal_bins=5))


def inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 1, 2, 12, 25, 3, generator=g)
    x[:2, :, 1] = 0  # padded second person
    return x, [ActionDataSample().set_gt_label(i % 8) for i in range(4)]


def test_old_checkpoint_loads_strictly_with_the_same_scores():
    old = torch.load(FIXTURE, weights_only=True)
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in old['state_dict'].items()}
    torch.manual_seed(1)  # other initial weights: all must come from `old`
    model = MODELS.build(copy.deepcopy(MODEL))
    assert sorted(model.state_dict()) == sorted(state)
    model.load_state_dict(state, strict=True)
    x, samples = inputs()
    model.eval()
    with torch.no_grad():
        scores = model(x, copy.deepcopy(samples), mode='predict')
    torch.testing.assert_close(torch.stack([s.pred_score for s in scores]),
                               old['scores'], rtol=1e-5, atol=1e-6)
    model.load_state_dict(state, strict=True)
    model.train()
    with torch.no_grad():
        losses = model(x, samples, mode='loss')
    assert sorted(losses) == sorted(old['losses'])
    for key, value in old['losses'].items():
        torch.testing.assert_close(losses[key], value, rtol=1e-5, atol=1e-6,
                                   msg=key)
