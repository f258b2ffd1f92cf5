"""FR-Head: formulas on a hand-built batch, attachment to every backbone,
training-only behaviour, clip lengths, bad config, deploy export, and
(through tools/train.py and dist_train.sh) checkpoints and DDP sync."""
import copy
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sfhead_mm  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from sfhead_mm.models import FRHead, PrototypeContrast
from tests.conftest import (REPO, free_port, subprocess_env,
                            write_config)

register_all_modules()

TINY = dict(base_channels=16, num_stages=3, inflate_stages=[3],
            down_stages=[3])
BACKBONES = {
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='stgcn_spatial'), **TINY),
    'stgcnpp': dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True,
                    tcn_type='mstcn', graph_cfg=dict(layout='nturgb+d',
                                                     mode='spatial'), **TINY),
    'aagcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='spatial'), **TINY),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d',
                                                 mode='spatial'), **TINY),
}
FR = dict(stages=[1, 2, 3], stage_weights=[0.2, 0.5, 1.0],
          hidden_channels=64)


def build(backbone='ctrgcn', fr_head=FR, sf_head=None, num_classes=8,
          recognizer='SFRecognizerGCN'):
    cfg = dict(type=recognizer, backbone=copy.deepcopy(BACKBONES[backbone]),
               cls_head=dict(type='GCNHead', num_classes=num_classes,
                             in_channels=32))
    if fr_head is not None:
        cfg['fr_head'] = copy.deepcopy(fr_head)
    if sf_head is not None:
        cfg['sf_head'] = sf_head
    return MODELS.build(cfg)


def batch(n=6, m=2, t=16, v=25, seed=0, num_classes=8):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 1, m, t, v, 3, generator=g)
    inputs[:, :, 1] = 0  # padded second person, as FormatGCNInput does
    samples = [ActionDataSample().set_gt_label(i % num_classes)
               for i in range(n)]
    return inputs, samples


# ---------------------------------------------------------------------------
# The formulas, against an independent plain-python computation
# ---------------------------------------------------------------------------
# 3 classes, 6 clips. Predictions chosen so that every case occurs:
#   clip: 0   1   2   3   4   5
#   y:    0   0   1   1   2   0
#   yhat: 0   1   1   2   2   2
# TP: 0 (class 0), 2 (class 1), 4 (class 2)
# FN: class 0 <- {1, 5}, class 1 <- {3}, class 2 <- {}
# FP: class 0 <- {},     class 1 <- {1}, class 2 <- {3, 5}
LABELS = [0, 0, 1, 1, 2, 0]
PROBS = [[0.70, 0.20, 0.10],
         [0.30, 0.60, 0.10],
         [0.10, 0.80, 0.10],
         [0.05, 0.40, 0.55],
         [0.15, 0.25, 0.60],
         [0.20, 0.10, 0.70]]
Z = [[1.0, 0.2, -0.3, 0.5],
     [0.4, 1.1, 0.0, -0.2],
     [-0.5, 0.9, 0.3, 0.1],
     [0.2, -0.4, 1.2, 0.6],
     [0.0, 0.3, -0.8, 1.0],
     [0.7, -0.1, 0.4, -0.9]]
OLD_PROTOTYPES = [[0.5, -0.2, 0.1, 0.3],
                  [-0.1, 0.6, 0.2, -0.4],
                  [0.3, 0.3, -0.5, 0.2]]


def _unit(v):
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _mean(rows):
    return [sum(col) / len(rows) for col in zip(*rows)]


def reference(tau, alpha, momentum, tp_threshold=0.0):
    """FR-Head on the hand-built batch, in plain python."""
    K, N = 3, len(LABELS)
    pred = [max(range(K), key=lambda k: PROBS[n][k]) for n in range(N)]
    p_true = [PROBS[n][LABELS[n]] for n in range(N)]
    tp = {k: [n for n in range(N) if LABELS[n] == k and pred[n] == k and
              p_true[n] > tp_threshold] for k in range(K)}
    fn = {k: [n for n in range(N) if LABELS[n] == k and pred[n] != k]
          for k in range(K)}
    fp = {k: [n for n in range(N) if pred[n] == k and LABELS[n] != k]
          for k in range(K)}
    protos = []
    for k in range(K):
        if tp[k]:
            mean = _mean([Z[n] for n in tp[k]])
            protos.append([momentum * o + (1 - momentum) * c
                           for o, c in zip(OLD_PROTOTYPES[k], mean)])
        else:
            protos.append(list(OLD_PROTOTYPES[k]))
    pen_fn, pen_fp, loss_fn, loss_fp = [], [], [], []
    for n in range(N):
        y, z = LABELS[n], _unit(Z[n])
        w = alpha * (1 - p_true[n])
        pen_fn.append(w * (_dot(z, _unit(_mean([Z[i] for i in fn[y]]))) - 1)
                      if fn[y] else 0.0)
        pen_fp.append(w * (-_dot(z, _unit(_mean([Z[i] for i in fp[y]]))) - 1)
                      if fp[y] else 0.0)
        base = [_dot(z, _unit(p)) for p in protos]
        for pen, out in ((pen_fn[-1], loss_fn), (pen_fp[-1], loss_fp)):
            logits = [(s + (pen if k == y else 0.0)) / tau
                      for k, s in enumerate(base)]
            lse = math.log(sum(math.exp(x) for x in logits))
            out.append(lse - logits[y])
    loss = sum(loss_fn) / N + sum(loss_fp) / N
    return protos, pen_fn, pen_fp, loss


def _contrast(**kwargs):
    module = PrototypeContrast(4, 3, hidden_channels=4, **kwargs)
    with torch.no_grad():
        module.prototypes.copy_(torch.tensor(OLD_PROTOTYPES))
        module.projection.weight.copy_(torch.eye(4))
        module.projection.bias.zero_()
    return module


def _inputs():
    return (torch.tensor(Z), torch.tensor(LABELS), torch.tensor(PROBS))


@pytest.mark.parametrize('tau, alpha, momentum', [(0.125, 0.125, 0.9),
                                                  (0.5, 1.0, 0.5)])
def test_prototype_update_and_penalties_match_hand_computation(
        tau, alpha, momentum):
    module = _contrast(temperature=tau, alpha=alpha, momentum=momentum)
    z, labels, probs = _inputs()
    out = module.refine(z, labels, probs)
    protos, pen_fn, pen_fp, loss = reference(tau, alpha, momentum)
    np.testing.assert_allclose(out.prototypes.numpy(), protos, atol=1e-6)
    np.testing.assert_allclose(out.penalty_fn.numpy(), pen_fn, atol=1e-6)
    np.testing.assert_allclose(out.penalty_fp.numpy(), pen_fp, atol=1e-6)
    assert abs(float(out.loss) - loss) < 1e-5
    # the cases the batch was built for
    assert pen_fn[4] == 0.0 and pen_fp[0] == 0.0  # no FN of 2, no FP of 0
    assert all(p < 0 for i, p in enumerate(pen_fn) if i != 4)
    # training mode stores the update in the buffer
    np.testing.assert_allclose(module.prototypes.numpy(), protos, atol=1e-6)
    # forward == projection + refine (identity projection here)
    again = _contrast(temperature=tau, alpha=alpha, momentum=momentum)
    assert abs(float(again(z, labels, probs).detach()) - loss) < 1e-5


def test_tp_threshold_and_eval_mode_leave_prototypes():
    module = _contrast(tp_threshold=0.65)  # clip 4 (p=0.60) is no TP now
    out = module.refine(*_inputs())
    protos, _, _, loss = reference(0.125, 0.125, 0.9, tp_threshold=0.65)
    np.testing.assert_allclose(out.prototypes.numpy(), protos, atol=1e-6)
    np.testing.assert_allclose(protos[2], OLD_PROTOTYPES[2])
    assert abs(float(out.loss) - loss) < 1e-5
    frozen = _contrast().eval()
    frozen.refine(*_inputs())
    np.testing.assert_allclose(frozen.prototypes.numpy(), OLD_PROTOTYPES)


def test_prototypes_are_buffers_in_the_state_dict():
    model = build()
    assert MODELS.get('FRHead') is FRHead
    assert isinstance(model.fr_head, FRHead)
    keys = [k for k in model.state_dict() if k.endswith('prototypes')]
    assert len(keys) == 6  # 3 stages x (spatial, temporal)
    assert all(k.startswith('fr_head.refiners.') for k in keys)
    assert not any(n.endswith('prototypes')
                   for n, _ in model.named_parameters())
    assert model.state_dict()[keys[0]].shape == (8, 64)


# ---------------------------------------------------------------------------
# In the recognizer
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_attaches_to_block_outputs_of_every_backbone(name):
    model = build(name)
    assert model.fr_attach_points == [f'backbone.gcn.{i}' for i in range(3)]
    assert list(model.fr_head.weights.values()) == [0.2, 0.5, 1.0]
    losses = model(*batch(), mode='loss')
    assert set(losses) >= {'loss_cls', 'loss_fr'}
    assert torch.isfinite(losses['loss_fr']) and losses['loss_fr'] > 0
    losses['loss_fr'].backward()
    gcn = model.backbone.gcn[0].gcn
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in gcn.parameters())
    # the logits are detached: loss_fr trains the features, not the classifier
    assert all(p.grad is None for p in model.cls_head.parameters())


def test_loss_fr_is_weighted_sum_of_stage_losses():
    model = build(fr_head=dict(FR, loss_weight=0.3))
    per_stage = {}
    for key, refiner in model.fr_head.refiners.items():
        refiner.register_forward_hook(
            lambda mod, args, out, key=key: per_stage.__setitem__(key, out))
    losses = model(*batch(), mode='loss')
    expected = 0.3 * sum(model.fr_head.weights[k] * v
                         for k, v in per_stage.items())
    assert len(per_stage) == 3
    torch.testing.assert_close(losses['loss_fr'], expected)


def test_mining_uses_the_logits_of_loss_cls():
    """One cls_head forward per step; FR-Head reuses its output."""
    model = build()
    calls, seen = [], {}
    model.cls_head.register_forward_hook(lambda *a: calls.append(1))
    original = model.fr_head.loss

    def spy(cls_score, data_samples, num_persons):
        seen['logits'] = cls_score
        return original(cls_score, data_samples, num_persons)

    model.fr_head.loss = spy
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    labels = torch.tensor([int(s.gt_label) for s in samples])
    assert calls == [1]
    torch.testing.assert_close(losses['loss_cls'],
                               F.cross_entropy(seen['logits'], labels))


def test_sf_and_fr_heads_together_log_separately():
    model = build(sf_head=dict(groups=4))
    losses = model(*batch(), mode='loss')
    for key in ('loss_cls', 'loss_sf_con', 'loss_sf_red', 'loss_fr'):
        assert torch.isfinite(losses[key]), key
    assert model.sf_attach_points == [f'backbone.gcn.{i}.gcn'
                                      for i in range(3)]
    assert model.fr_attach_points == [f'backbone.gcn.{i}' for i in range(3)]


@pytest.mark.parametrize('name', ['stgcn', 'ctrgcn'])
def test_predict_and_tensor_equal_plain_recognizer(name):
    torch.manual_seed(0)
    model = build(name, sf_head=dict(groups=4)).eval()
    plain = build(name, fr_head=None, recognizer='RecognizerGCN').eval()
    plain.load_state_dict(
        {k: v for k, v in model.state_dict().items()
         if not k.startswith(('fr_head.', 'sf_head.'))}, strict=True)
    calls = []
    for refiner in model.fr_head.refiners.values():
        refiner.register_forward_hook(lambda *a: calls.append(1))
    before = copy.deepcopy(model.fr_head.state_dict())
    inputs, samples = batch(t=40)
    with torch.no_grad():
        assert torch.equal(model(inputs, mode='tensor'),
                           plain(inputs, mode='tensor'))
        a = model(inputs, copy.deepcopy(samples), mode='predict')
        b = plain(inputs, copy.deepcopy(samples), mode='predict')
    assert torch.equal(a[0].pred_score, b[0].pred_score)
    assert calls == []
    assert model.fr_head.captured == {}
    after = model.fr_head.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_any_clip_length_in_train_and_test():
    """The published head fixes T in a Linear; ours pools."""
    model = build()
    for t in (16, 24, 7, 100):
        losses = model(*batch(t=t), mode='loss')
        assert torch.isfinite(losses['loss_fr']), t
    model.eval()
    with torch.no_grad():
        out = model(batch(t=52)[0], batch(t=52)[1], mode='predict')
    assert len(out) == 6


def test_prototypes_move_with_training_steps():
    model = build()
    # a confident correct classifier: every clip is a true positive
    initial = {k: v.clone() for k, v in model.state_dict().items()
               if k.endswith('prototypes')}
    original = model.cls_head.forward

    def oracle(x, **kwargs):
        out = original(x, **kwargs)
        return out + 100 * F.one_hot(torch.arange(6) % 8, 8)

    model.cls_head.forward = oracle
    model(*batch(), mode='loss')
    moved = [k for k, v in model.state_dict().items()
             if k.endswith('prototypes') and not torch.equal(v, initial[k])]
    assert len(moved) == 6
    for k in moved:  # classes 0..5 updated, 6 and 7 had no clip
        changed = (model.state_dict()[k] != initial[k]).any(dim=1)
        assert changed.tolist() == [True] * 6 + [False] * 2


# ---------------------------------------------------------------------------
# Bad config: clear errors at build time, naming the field
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('fr_head, match', [
    (dict(), r'fr_head.stages=\[1, 5, 8, 10\].*1\.\.3'),
    (dict(stages=[0, 2], stage_weights=[1, 1]), r'fr_head.stages=\[0, 2\]'),
    (dict(stages=[4], stage_weights=[1]), r'fr_head.stages=\[4\]'),
    (dict(stages=[1, 2, 3]), r'fr_head.stage_weights=.*4 entries.*3'),
    (dict(stages=[1, 2], stage_weights=[1.0]), 'fr_head.stage_weights'),
    (dict(FR, num_classes=5),
     r'fr_head.num_classes=5 disagrees with model.cls_head.num_classes=8'),
    (dict(FR, temperature=0), 'fr_head.temperature=0'),
    (dict(FR, momentum=1.0), 'fr_head.momentum=1.0'),
    (dict(FR, loss_weight=-1), 'fr_head.loss_weight=-1'),
    (dict(FR, stage_weights=[1, -1, 1]), 'fr_head.stage_weights'),
    (dict(FR, hidden_channels=16), 'fr_head.hidden_channels=16.*25'),
    (dict(FR, attach_to='backbone.nothing.*'), 'matches no module'),
])
def test_bad_fr_head_config(fr_head, match):
    with pytest.raises(ValueError, match=match):
        build(fr_head=fr_head)


def test_num_classes_taken_from_cls_head():
    model = build(num_classes=5)
    assert model.fr_head.num_classes == 5
    assert model.fr_head.refiners['backbone_gcn_0'].spatial.prototypes.shape[
        0] == 5


@pytest.mark.parametrize('label', [9, -1])
def test_label_outside_classes_names_the_field(label):
    """mmaction's loss_cls fails first on such labels; FR-Head's own check
    guards custom heads that do not, and names the offending label."""
    model = build()
    inputs, _ = batch()
    with model.fr_head.capture():
        logits = model.cls_head(model.extract_feat(inputs)[0])
    bad = [ActionDataSample().set_gt_label(label if i == 3 else 1)
           for i in range(6)]
    with pytest.raises(ValueError, match=rf'label {label} outside 0..7.*'
                       'model.cls_head.num_classes=8'):
        model.fr_head.loss(logits, bad, num_persons=2)


def test_dataset_with_more_classes_than_the_heads(tmp_path, demo_ann_file):
    """The pre-flight check (labels vs cls_head.num_classes) still stops an
    FR-Head config before training, naming the field."""
    from sfhead_mm.datasets import AnnotationError
    from tools.train import main
    config = write_config(
        tmp_path, 'configs/demo/stgcn_demo.py', demo_ann_file,
        FR_MODEL.replace('cls_head=dict(in_channels=32)',
                         'cls_head=dict(in_channels=32, num_classes=5)'))
    with pytest.raises(AnnotationError, match='model.cls_head.num_classes'):
        main([config, '--work-dir', str(tmp_path / 'wd')])
    assert not list(tmp_path.glob('wd/*.pth'))


# ---------------------------------------------------------------------------
# Deploy export: FR-Head is always stripped
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('sf_head', [None, dict(groups=4)])
def test_export_deploy_strips_fr_head(tmp_path, sf_head):
    from mmengine.config import Config
    from sfhead_mm.models.deploy import deploy_model_cfg
    cfg_path = tmp_path / 'fr.py'
    heads = f'fr_head={FR!r}' + (f', sf_head={sf_head!r}' if sf_head else '')
    cfg_path.write_text(
        f"model = dict(type='SFRecognizerGCN', "
        f"backbone={BACKBONES['ctrgcn']!r}, cls_head=dict(type='GCNHead', "
        f"num_classes=8, in_channels=32), {heads})\n")
    cfg = Config.fromfile(cfg_path)
    assert deploy_model_cfg(cfg.model)['type'] == 'RecognizerGCN'
    model = MODELS.build(cfg.model)
    model(*batch(), mode='loss')  # prototypes move away from their init
    ckpt = tmp_path / 'ckpt.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'deploy.pth'
    result = subprocess.run(
        [sys.executable, 'tools/export_deploy.py', str(cfg_path), str(ckpt),
         str(out)], capture_output=True, text=True, cwd=REPO,
        env=subprocess_env())
    assert result.returncode == 0, result.stderr[-2000:]
    heads_params = sum(p.numel() for p in model.fr_head.parameters())
    if sf_head:
        heads_params += sum(p.numel() for p in model.sf_head.parameters())
    assert f'removed {heads_params} head parameters' in result.stdout
    state = torch.load(out, weights_only=True)['state_dict']
    assert not any(k.startswith(('fr_head.', 'sf_head.')) for k in state)
    plain = build(fr_head=None, recognizer='RecognizerGCN')
    plain.load_state_dict(state, strict=True)


def test_deploy_keeps_inline_sf_head_and_strips_fr_head():
    from sfhead_mm.models.deploy import deploy_model_cfg, strip_training_heads
    cfg = dict(type='SFRecognizerGCN', backbone=BACKBONES['stgcn'],
               cls_head=dict(type='GCNHead', num_classes=8, in_channels=32),
               sf_head=dict(placement='inline', groups=4), fr_head=FR)
    model = MODELS.build(copy.deepcopy(cfg))
    kept, removed = strip_training_heads(model.state_dict(), cfg)
    assert removed and all(k.startswith('fr_head.') for k in removed)
    assert any(k.startswith('sf_head.') for k in kept)
    deploy = deploy_model_cfg(cfg)
    assert deploy['type'] == 'SFRecognizerGCN' and 'fr_head' not in deploy
    MODELS.build(deploy).load_state_dict(kept, strict=True)


# ---------------------------------------------------------------------------
# End to end: checkpoints and DDP (tools/train.py, dist_train.sh)
# ---------------------------------------------------------------------------
FR_MODEL = """
model = dict(
    type='SFRecognizerGCN',
    backbone=dict(_delete_=True, type='CTRGCN',
                  graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=32),
    fr_head=dict(stages=[1, 2, 3], stage_weights=[0.2, 0.5, 1.0],
                 hidden_channels=64))
randomness = dict(seed=0)
"""

# Test-only hooks, imported by the training subprocesses.
PROBE_HOOKS = '''
import json
import os.path as osp

import torch
from mmengine.dist import all_gather, get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS


def prototypes(runner):
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.endswith('.prototypes')}


@HOOKS.register_module()
class PrototypeDumpHook(Hook):
    """Save the prototypes the run starts with (after load/resume)."""

    def before_train(self, runner):
        if get_rank() == 0:
            torch.save(prototypes(runner),
                       osp.join(runner.work_dir, 'prototypes_start.pth'))


@HOOKS.register_module()
class PrototypeAgreementHook(Hook):
    """After every iteration: max difference between the ranks' prototypes,
    how far they moved from their start, and each rank's labels."""

    def before_train(self, runner):
        self.start = torch.cat([v.flatten()
                                for v in prototypes(runner).values()])
        self.rows = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        flat = torch.cat([v.flatten() for v in prototypes(runner).values()])
        labels = torch.stack([s.gt_label for s in
                              data_batch['data_samples']]).flatten()
        self.rows.append(dict(
            iter=runner.iter,
            max_rank_diff=max(float((g - flat).abs().max())
                              for g in all_gather(flat)),
            moved=float((flat - self.start).abs().max()),
            labels=[g.tolist() for g in all_gather(labels)]))
        if get_rank() == 0:
            with open(osp.join(runner.work_dir, 'prototypes.json'), 'w') as f:
                json.dump(self.rows, f)
'''


def _probe_env(tmp_path):
    (tmp_path / 'fr_probe.py').write_text(PROBE_HOOKS)
    env = subprocess_env()
    env['OMP_NUM_THREADS'] = '1'  # 2 shared cores: no thread oversubscription
    env['PYTHONPATH'] = os.pathsep.join(
        [str(tmp_path), str(REPO), env.get('PYTHONPATH', '')])
    return env


PROBE_IMPORTS = ("custom_imports = dict(imports=['sfhead_mm', 'fr_probe'], "
                 "allow_failed_imports=False)\n")


def _train(config, work_dir, env, *extra):
    return subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(work_dir), *extra], capture_output=True, text=True, cwd=REPO,
        env=env, timeout=600)


def _ckpt_prototypes(path):
    state = torch.load(path, weights_only=True)['state_dict']
    return {k: v for k, v in state.items() if k.endswith('.prototypes')}


def test_prototypes_survive_save_resume_and_load_from(tmp_path,
                                                      demo_ann_file):
    # validation on 48-frame clips, training on 32: clip lengths differ
    extra = FR_MODEL + PROBE_IMPORTS + (
        "custom_hooks = [dict(type='EpochSeedHook'), "
        "dict(type='PrototypeDumpHook')]\n"
        "val_dataloader['dataset'].update(pipeline=[\n"
        "    dict(type='PreNormalize3D'),\n"
        "    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),\n"
        "    dict(type='UniformSampleFrames', clip_len=48, num_clips=1,\n"
        "         test_mode=True),\n"
        "    dict(type='PoseDecode'),\n"
        "    dict(type='FormatGCNInput', num_person=2),\n"
        "    dict(type='PackActionInputs')])\n")
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, extra)
    env = _probe_env(tmp_path)
    first, resumed, loaded = (tmp_path / d for d in ('a', 'b', 'c'))

    result = _train(config, first, env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'acc/top1' in result.stdout + result.stderr  # 48-frame val ran
    saved = _ckpt_prototypes(first / 'epoch_1.pth')
    start = torch.load(first / 'prototypes_start.pth', weights_only=True)
    assert len(saved) == 6 and saved.keys() == start.keys()
    assert all(not torch.equal(saved[k], start[k]) for k in saved)

    result = _train(config, resumed, env, '--resume',
                    str(first / 'epoch_1.pth'), '--no-validate',
                    '--cfg-options', 'train_cfg.max_epochs=2')
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    start = torch.load(resumed / 'prototypes_start.pth', weights_only=True)
    assert all(torch.equal(saved[k], start[k]) for k in saved)
    assert (resumed / 'epoch_2.pth').is_file()

    result = _train(config, loaded, env, '--no-validate', '--cfg-options',
                    f'load_from={first / "epoch_1.pth"}')
    assert result.returncode == 0, result.stderr[-3000:]
    start = torch.load(loaded / 'prototypes_start.pth', weights_only=True)
    assert all(torch.equal(saved[k], start[k]) for k in saved)


def test_two_gloo_ranks_hold_identical_prototypes(tmp_path, demo_ann_file):
    extra = FR_MODEL + PROBE_IMPORTS + (
        "train_dataloader.update(batch_size=4)\n"
        "custom_hooks = [dict(type='EpochSeedHook'), "
        "dict(type='PrototypeAgreementHook'), "
        "dict(type='DDPConsistencyHook')]\n")
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, extra)
    work_dir = tmp_path / 'dist'
    env = _probe_env(tmp_path)
    env.update(PORT=str(free_port()), PYTHON=sys.executable)
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
         str(work_dir), '--no-validate'], capture_output=True, text=True,
        cwd=REPO, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    rows = json.loads((work_dir / 'prototypes.json').read_text())
    assert len(rows) >= 2  # 4 with the 32-clip demo split
    # different data per rank ...
    assert all(r['labels'][0] != r['labels'][1] for r in rows)
    # ... yet identical prototypes after every iteration, and they moved
    assert [r['max_rank_diff'] for r in rows] == [0.0] * len(rows)
    assert rows[-1]['moved'] > 0
    report = json.loads((work_dir / 'ddp_consistency.json').read_text())
    assert report['world_size'] == 2 and report['consistent']
