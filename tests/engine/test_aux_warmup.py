"""AuxLossWarmupHook: the auxiliary losses (SF-Head and FR-Head) are zero
before ``start_epoch`` and count after it; DDP does not see unused
parameters in the warm-up (2 gloo ranks across the boundary)."""
import copy
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger

import sfhead_mm  # noqa: F401
from mmaction.registry import HOOKS, MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from sfhead_mm.engine import AuxLossWarmupHook
from tests.conftest import (REPO, free_port, launcher_failure,
                            subprocess_env, write_config)

register_all_modules()

AUX_KEYS = ('loss_sf_con', 'loss_sf_red', 'loss_fr')
TINY_STGCN = dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='stgcn_spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3])
HEADS = dict(sf_head=dict(groups=4),
             fr_head=dict(stages=[1, 2, 3], stage_weights=[0.2, 0.5, 1.0],
                          hidden_channels=64))


def build(**heads):
    return MODELS.build(dict(
        type='SFRecognizerGCN', backbone=copy.deepcopy(TINY_STGCN),
        cls_head=dict(type='GCNHead', num_classes=8, in_channels=32),
        **copy.deepcopy(heads)))


def batch(n=8):
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 1, 2, 16, 25, 3, generator=g)
    return inputs, [ActionDataSample().set_gt_label(i % 8) for i in range(n)]


def fake_runner(model, epoch=0):
    return SimpleNamespace(model=model, epoch=epoch, train_loop=object(),
                           logger=MMLogger.get_instance('test_aux_warmup'))


def test_registered_in_mmaction_hooks():
    hook = HOOKS.build(dict(type='AuxLossWarmupHook', start_epoch=3))
    assert isinstance(hook, AuxLossWarmupHook) and hook.start_epoch == 3


def test_zero_before_start_epoch_nonzero_after():
    model = build(**HEADS)
    runner = fake_runner(model)
    hook = AuxLossWarmupHook(start_epoch=2)
    hook.before_train(runner)
    head_params = [p for n, p in model.named_parameters()
                   if n.startswith(('sf_head.', 'fr_head.'))]
    for epoch, warm in ((1, True), (2, False)):  # last warm-up, first on
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        model.zero_grad(set_to_none=True)
        losses = model(*batch(), mode='loss')
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        for key in AUX_KEYS:
            assert (losses[key].item() == 0) == warm, (epoch, key)
        # the heads ran: every parameter has a gradient (DDP-safe) ...
        assert all(p.grad is not None for p in model.parameters())
        # ... which is exactly zero on the heads during the warm-up
        head_grad = sum(float(p.grad.abs().sum()) for p in head_params)
        assert (head_grad == 0) == warm, epoch
        assert losses['loss_cls'].item() > 0


def test_default_start_epoch_zero_is_no_warmup():
    model = build(**HEADS)
    runner = fake_runner(model)
    hook = AuxLossWarmupHook()
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    assert model.aux_loss_scale == 1.0
    losses = model(*batch(), mode='loss')
    assert all(losses[k].item() > 0 for k in AUX_KEYS)


@pytest.mark.parametrize('start_epoch', [-1, 1.5, '2'])
def test_bad_start_epoch(start_epoch):
    with pytest.raises(ValueError, match='AuxLossWarmupHook.start_epoch'):
        AuxLossWarmupHook(start_epoch=start_epoch)


def test_plain_recognizer_is_refused():
    model = MODELS.build(dict(
        type='RecognizerGCN', backbone=copy.deepcopy(TINY_STGCN),
        cls_head=dict(type='GCNHead', num_classes=8, in_channels=32)))
    with pytest.raises(TypeError, match='SFRecognizerGCN'):
        AuxLossWarmupHook(start_epoch=1).before_train(fake_runner(model))


def test_iteration_based_loop_is_refused():
    from mmengine.runner import IterBasedTrainLoop
    runner = fake_runner(build(**HEADS))
    runner.train_loop = IterBasedTrainLoop.__new__(IterBasedTrainLoop)
    with pytest.raises(ValueError, match='iteration based'):
        AuxLossWarmupHook(start_epoch=1).before_train(runner)


def test_two_gloo_ranks_across_the_warmup_boundary(tmp_path, demo_ann_file):
    heads = ', '.join(f'{k}={v!r}' for k, v in HEADS.items())
    extra = (
        f"model = dict(type='SFRecognizerGCN', backbone=dict("
        f"base_channels=16, num_stages=3, inflate_stages=[3], "
        f"down_stages=[3]), cls_head=dict(in_channels=32), {heads})\n"
        "custom_hooks = [dict(type='EpochSeedHook'), "
        "dict(type='AuxLossWarmupHook', start_epoch=1), "
        "dict(type='DDPConsistencyHook')]\n"
        "randomness = dict(seed=0)\n")
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, extra, max_epochs=2)
    work_dir = tmp_path / 'dist'
    env = subprocess_env()
    env.update(PORT=str(free_port()), PYTHON=sys.executable,
               OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
         str(work_dir), '--no-validate'], capture_output=True, text=True,
        cwd=REPO, env=env, timeout=600)
    assert result.returncode == 0, launcher_failure(result)
    # find_unused_parameters stays off: the heads run in the warm-up too
    assert 'find_unused_parameters=False' in result.stdout + result.stderr
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'epoch_1.pth', 'epoch_2.pth']
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    rows = [r for r in rows if 'loss' in r]
    by_epoch = {e: [r for r in rows if r['epoch'] == e] for e in (1, 2)}
    assert by_epoch[1] and by_epoch[2]  # 2 iterations each on the demo
    for row in by_epoch[1]:
        assert all(row[k] == 0 for k in AUX_KEYS), row
    for row in by_epoch[2]:
        assert all(row[k] > 0 for k in AUX_KEYS), row
    report = json.loads((work_dir / 'ddp_consistency.json').read_text())
    assert report['world_size'] == 2 and report['consistent']
