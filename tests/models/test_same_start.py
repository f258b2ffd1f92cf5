"""Same seed, same start: every variant (baseline, SF branch, SF inline,
FR-Head) gets the same backbone and cls_head weights from the Runner, and
heads whose losses weigh 0 train bit-identically to the baseline.

Real Runner, real demo data, a tiny CTR-GCN; one training epoch each."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tests.conftest import write_config

TINY = """
model = dict(
    type='RecognizerGCN',
    backbone=dict(_delete_=True, type='CTRGCN',
                  graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=32))
randomness = dict(seed=0)
"""

FR = dict(stages=[1, 2, 3], stage_weights=[0.2, 0.5, 1.0])
HEADS = {
    'baseline': dict(type='RecognizerGCN'),
    'sf_branch': dict(type='SFRecognizerGCN',
                      sf_head=dict(placement='branch', groups=4)),
    'sf_inline': dict(type='SFRecognizerGCN',
                      sf_head=dict(placement='inline', groups=4)),
    'fr': dict(type='SFRecognizerGCN', fr_head=FR),
    'sf_branch_zero': dict(type='SFRecognizerGCN', sf_head=dict(
        placement='branch', groups=4, lambda_con=0.0, lambda_red=0.0)),
    'fr_zero': dict(type='SFRecognizerGCN', fr_head=dict(FR, loss_weight=0.0)),
}


class _Stop(Exception):
    pass


class SnapshotHook(Hook):
    """Copies the shared part of the model after the Runner's
    initialisation (``before_train``) and, optionally, stops there."""

    def __init__(self, stop: bool) -> None:
        self.stop = stop
        self.initial = None

    def before_train(self, runner) -> None:
        self.initial = shared_state(runner.model)
        if self.stop:
            raise _Stop


def shared_state(model) -> dict:
    """Backbone and cls_head tensors (what every variant has)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.startswith(('backbone.', 'cls_head.'))}


def run(tmp_path, ann_file, variant: str, train: bool, seed: int = 0):
    """Build the Runner of ``variant`` at ``seed`` and train one epoch (or
    stop after the initialisation); returns (initial shared state, model).
    """
    directory = tmp_path / f'{variant}_seed{seed}_{"train" if train else "init"}'
    directory.mkdir()
    cfg = Config.fromfile(write_config(
        directory, 'configs/demo/stgcn_demo.py', ann_file, TINY))
    cfg.model.update(copy.deepcopy(HEADS[variant]))
    cfg.work_dir = str(directory / 'wd')
    cfg.randomness = dict(seed=seed)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1,
                                        save_last=False)
    runner = Runner.from_cfg(cfg)
    hook = SnapshotHook(stop=not train)
    runner.register_hook(hook, priority='VERY_LOW')
    try:
        runner.train()
    except _Stop:
        pass
    return hook.initial, runner.model


def assert_equal_states(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, f'{what}: {len(differ)} of {len(a)} tensors differ, ' \
        f'e.g. {differ[:3]}'


def test_all_variants_start_from_the_baseline_weights(tmp_path,
                                                      demo_ann_file):
    base, _ = run(tmp_path, demo_ann_file, 'baseline', train=False)
    for variant in ('sf_branch', 'sf_inline', 'fr'):
        initial, model = run(tmp_path, demo_ann_file, variant, train=False)
        assert_equal_states(base, initial, variant)
        heads = [n for n in model.state_dict() if n.startswith(
            ('sf_head.', 'fr_head.'))]
        assert heads, f'{variant} built no head'
    # another seed gives other weights (the check above is not vacuous)
    other, _ = run(tmp_path, demo_ann_file, 'baseline', train=False, seed=1)
    fc = [k for k in base if k.startswith('cls_head.') and
          k.endswith('weight')]
    assert fc and not torch.equal(base[fc[0]], other[fc[0]])


@pytest.fixture(scope='module')
def trained_baseline(tmp_path_factory, demo_ann_file):
    """(initial shared state, model) of the baseline after one epoch."""
    return run(tmp_path_factory.mktemp('baseline'), demo_ann_file,
               'baseline', train=True)


@pytest.mark.parametrize('variant', ['sf_branch_zero', 'fr_zero'])
def test_zero_weight_heads_train_bit_identically(tmp_path, demo_ann_file,
                                                 trained_baseline, variant):
    initial, base_model = trained_baseline
    _, model = run(tmp_path, demo_ann_file, variant, train=True)
    trained_base, trained = shared_state(base_model), shared_state(model)
    assert_equal_states(trained_base, trained, variant)
    # it did train: the baseline's weights moved from their initial values
    assert any(not torch.equal(initial[k], trained_base[k]) for k in initial)
    # same logits on the same input: (N, num_clips, M, T, V, C)
    x = torch.randn(2, 1, 2, 32, 25, 3,
                    generator=torch.Generator().manual_seed(0))
    logits = []
    for m in (base_model, model):
        m.eval()
        with torch.no_grad():
            feats, _ = m.extract_feat(x, test_mode=True)
            logits.append(m.cls_head(feats))
    assert torch.equal(logits[0], logits[1])
