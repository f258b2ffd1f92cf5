"""GradientShareHook / backbone_gradient_share: the auxiliary losses'
backbone gradient against the classifier's, logged during a real Runner
training that it must leave bit-identical (BN statistics, FR-Head's
prototypes and the random streams are restored)."""
import copy
import json
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from sfhead_mm.engine.gradient_share import (GradientShareHook,
                                             backbone_gradient_share)
from tests.conftest import write_config
from tests.models.test_same_start import HEADS, TINY


def runner_of(tmp_path, ann_file, variant: str, hook: bool, name: str,
              model_updates: dict = None):
    directory = tmp_path / name
    directory.mkdir()
    cfg = Config.fromfile(write_config(
        directory, 'configs/demo/stgcn_demo.py', ann_file, TINY))
    cfg.model.update(copy.deepcopy(HEADS[variant]))
    cfg.model.update(model_updates or {})
    cfg.work_dir = str(directory / 'wd')
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1,
                                        save_last=False)
    if hook:
        cfg.custom_hooks = [dict(type='GradientShareHook', interval=1)]
    return Runner.from_cfg(cfg)


@pytest.mark.parametrize('variant', ['sf_branch', 'fr'])
def test_the_hook_logs_every_iteration_and_changes_nothing(
        tmp_path, demo_ann_file, variant):
    trained = []
    for hook in (False, True):
        runner = runner_of(tmp_path, demo_ann_file, variant, hook,
                           f'{variant}_{hook}')
        runner.train()
        trained.append({k: v.clone() for k, v in
                        runner.model.state_dict().items()})
    assert trained[0].keys() == trained[1].keys()
    differ = [k for k in trained[0]
              if not torch.equal(trained[0][k], trained[1][k])]
    assert not differ, f'the hook changed training: {differ[:3]}'
    if variant == 'fr':  # the EMA prototypes did move (restore not vacuous)
        assert any('prototypes' in k for k in trained[0])
    lines = [json.loads(line) for line in
             (tmp_path / f'{variant}_True' / 'wd' / 'gradient_share.jsonl')
             .read_text().splitlines()]
    assert [r['iter'] for r in lines] == list(range(1, runner.iter + 1))
    for r in lines:
        assert r['aux_grad_norm'] > 0 and r['cls_grad_norm'] > 0
        assert r['aux_over_cls'] == pytest.approx(
            r['aux_grad_norm'] / r['cls_grad_norm'])
        assert -1 <= r['cosine'] <= 1 and math.isfinite(r['cosine'])


def test_share_scales_with_the_aux_loss_weight_and_is_none_without_aux(
        tmp_path, demo_ann_file):
    shares = {}
    for name, updates in (('x1', {}), ('x2', dict(sf_head=dict(
            HEADS['sf_branch']['sf_head'], lambda_con=0.4,
            lambda_red=0.2)))):
        runner = runner_of(tmp_path, demo_ann_file, 'sf_branch', False,
                           name, updates)
        batch = next(iter(runner.train_dataloader))
        torch.manual_seed(0)
        shares[name] = backbone_gradient_share(runner.model, batch)
        assert all(p.grad is None for p in runner.model.parameters())
    assert shares['x2']['aux_grad_norm'] == pytest.approx(
        2 * shares['x1']['aux_grad_norm'], rel=1e-5)
    assert shares['x2']['cls_grad_norm'] == pytest.approx(
        shares['x1']['cls_grad_norm'], rel=1e-6)
    base = runner_of(tmp_path, demo_ann_file, 'baseline', False, 'base')
    assert backbone_gradient_share(
        base.model, next(iter(base.train_dataloader))) is None
    with pytest.raises(ValueError, match="no trainable parameter under "
                       "'neck'"):
        backbone_gradient_share(base.model, {}, module='neck')
    with pytest.raises(ValueError, match='interval must be >= 1'):
        GradientShareHook(interval=0)
