"""CTR-GCN (+SF-Head, +FR-Head) on the SF-Head paper's own schedule,
configs/_base_/schedules/sgd-warmup5-cosine-90e.py: SGD momentum 0.9,
wd 4e-4, batch 64, 90 epochs, 5 warm-up epochs, cosine 0.1 -> 1e-4."""
import copy
import math

import pytest
from mmengine.config import Config

from tests.conftest import REPO

NAME = 'ctrgcn{}_1xb64-joint-u100-90e_ntu120-xsub-keypoint-3d.py'
PAPER = REPO / 'configs/ctrgcn' / NAME.format('_sfhead')
BASELINE = REPO / 'configs/ctrgcn' / NAME.format('')
MMACTION_SCHEDULE = REPO / 'configs/ctrgcn' / \
    'ctrgcn_sfhead_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'


def _plain(d) -> dict:
    """A config dict without the ``_scope_`` keys mmengine adds."""
    d = copy.deepcopy(d.to_dict() if hasattr(d, 'to_dict') else d)
    if isinstance(d, dict):
        return {k: _plain(v) for k, v in d.items() if k != '_scope_'}
    if isinstance(d, list):
        return [_plain(v) for v in d]
    return d


def test_schedule_fields_are_the_papers():
    cfg = Config.fromfile(PAPER)
    assert cfg.model.type == 'SFRecognizerGCN'
    assert cfg.model.sf_head.placement == 'branch'
    assert _plain(cfg.optim_wrapper.optimizer) == dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-4, nesterov=True)
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.train_dataloader.dataset.times == 1  # real epochs
    assert cfg.train_cfg.max_epochs == 90
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 5)
    assert (cosine.type, cosine.begin, cosine.end, cosine.T_max,
            cosine.eta_min) == ('CosineAnnealingLR', 5, 90, 85, 1e-4)
    # the same data and split as the mmaction-schedule config beside it
    other = Config.fromfile(MMACTION_SCHEDULE)
    assert cfg.model == other.model
    for key in ('val_dataloader', 'test_dataloader'):
        assert cfg[key] == other[key]
    assert cfg.train_dataloader.dataset.dataset == \
        other.train_dataloader.dataset.dataset
    assert other.train_cfg.max_epochs * other.train_dataloader.dataset.times \
        == 80


def _learning_rates(cfg: Config, epoch_length: int = 3) -> list:
    """The lr of every training iteration, stepping the schedulers as
    mmengine's ParamSchedulerHook does (iter-based after each iteration,
    epoch-based after each epoch)."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS

    from mmaction.utils import register_all_modules
    register_all_modules()
    model = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = []
    for item in _plain(cfg.param_scheduler):
        cls = PARAM_SCHEDULERS.get(item.pop('type'))
        if item.pop('convert_to_iter_based', False):
            schedulers.append(cls.build_iter_from_epoch(
                wrapper.optimizer, epoch_length=epoch_length, **item))
        else:
            schedulers.append(cls(wrapper.optimizer, **item))
    rates = []
    for _ in range(cfg.train_cfg.max_epochs):
        for _ in range(epoch_length):
            rates.append(wrapper.optimizer.param_groups[0]['lr'])
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return rates


def test_learning_rate_warms_up_for_5_epochs_then_cosine_to_1e_4():
    epoch_length = 3
    rates = _learning_rates(Config.fromfile(PAPER), epoch_length)
    per_epoch = rates[::epoch_length]
    assert len(per_epoch) == 90
    warm = per_epoch[:5]
    # CTR-GCN's warm-up, base_lr * (epoch + 1) / 5
    assert warm == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1])
    assert rates[5 * epoch_length] == pytest.approx(0.1)
    after = rates[5 * epoch_length:]
    assert all(a >= b for a, b in zip(after, after[1:]))
    # the cosine formula, iteration by iteration, ends at eta_min
    total = 85 * epoch_length
    expected = [1e-4 + (0.1 - 1e-4) * (1 + math.cos(math.pi * i / total)) / 2
                for i in range(total)]
    assert after == pytest.approx(expected, rel=1e-6)
    assert after[-1] == pytest.approx(1e-4, abs=2e-5)


def test_twins_differ_only_by_head_and_models_build():
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    base = Config.fromfile(BASELINE)
    assert base.model.type == 'RecognizerGCN'
    for head in ('sf_head', 'fr_head'):
        twin = Config.fromfile(
            REPO / 'configs/ctrgcn' / NAME.format(f'_{head.replace("_", "")}'))
        assert twin.model.type == 'SFRecognizerGCN'
        assert _without_head(twin) == _without_head(base)
        model = MODELS.build(twin.model)
        assert model.cls_head.fc.out_features == 120
        assert getattr(model, head) is not None


def _without_head(cfg: Config) -> dict:
    d = copy.deepcopy(cfg.to_dict())
    d.pop('custom_imports', None)
    for key in ('sf_head', 'fr_head', 'type'):
        d['model'].pop(key, None)
    return d
