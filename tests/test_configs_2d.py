"""The 2D (COCO-17) config tree: mmaction's keypoint-2d pipeline and graph in
every 2D baseline, the user's three-line config on mmaction's file equals our
twin, and each backbone's +SF-Head / +FR-Head twin takes the 3 channels
(x, y, score) of a 2D sample through the config's own train pipeline.

The generic checks (twin = baseline + head, split, classes, ann file and
stream in the name) run on 2D and 3D alike in tests/test_configs.py and
tests/test_frhead_configs.py."""
import copy
import functools
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from tests.conftest import REPO

BASELINES_2D = sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'configs').glob(
        '*/*_8xb16-*-keypoint-2d.py')
    if '_sfhead_' not in p.name and '_frhead_' not in p.name)


def _pipelines(cfg: Config) -> tuple:
    return (cfg.train_dataloader.dataset.dataset.pipeline,
            cfg.val_dataloader.dataset.pipeline,
            cfg.test_dataloader.dataset.pipeline)


def test_every_2d_baseline_reads_coco_keypoints_with_scores():
    """PreNormalize2D, GenSkeFeat on 'coco' (which appends the score to x,
    y), a 'coco' graph and 3 input channels, on ``ntu*_2d.pkl``."""
    assert len(BASELINES_2D) == 34
    for path in BASELINES_2D:
        cfg = Config.fromfile(REPO / path)
        assert cfg.model.backbone.graph_cfg.layout == 'coco', path
        assert cfg.model.backbone.get('in_channels', 3) == 3, path
        assert cfg.train_dataloader.dataset.dataset.ann_file.endswith(
            '_2d.pkl'), path
        for pipeline in _pipelines(cfg):
            types = [t['type'] for t in pipeline]
            assert types[:2] == ['PreNormalize2D', 'GenSkeFeat'], path
            assert pipeline[1]['dataset'] == 'coco', path


@pytest.mark.parametrize('model', ['stgcn', 'stgcnpp', '2s-agcn'])
def test_three_lines_on_mmactions_2d_config_equal_our_twin(tmp_path, model):
    """A user's config: mmaction's keypoint-2d file plus the head lines."""
    name = f'{model}_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'
    user = tmp_path / 'user.py'
    user.write_text(
        f"_base_ = 'mmaction::skeleton/{model}/{name}'\n"
        "custom_imports = dict(imports=['sfhead_mm'], "
        "allow_failed_imports=False)\n"
        "model = dict(type='SFRecognizerGCN', "
        "sf_head=dict(placement='branch'))\n")
    ours = Config.fromfile(
        REPO / 'configs' / model / name.replace('_8xb16', '_sfhead_8xb16'))
    assert Config.fromfile(user).to_dict() == ours.to_dict()


@functools.lru_cache(maxsize=1)
def _two_2d_samples() -> list:
    from data_prep.make_demo import make_demo_dataset
    data = make_demo_dataset(seed=0, subjects=2, per_class=1, dims=2)
    return [data['annotations'][0], data['annotations'][-1]]


TWINS = [f'{m}/{m}_sfhead_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'
         for m in ('stgcn', 'stgcnpp', '2s-agcn', 'ctrgcn')] + [
             'ctrgcn/ctrgcn_frhead_8xb16-joint-u100-80e_ntu60-xsub-'
             'keypoint-2d.py']


# shrunk for CI time (full-width 2D models are built by
# tests/test_frhead_configs.py): 3 blocks of 16/16/32 channels
TINY = dict(base_channels=16, num_stages=3, inflate_stages=[3],
            down_stages=[3])


@pytest.mark.parametrize('twin', TWINS)
def test_head_twin_trains_on_2d_keypoints(twin):
    """The twin's model shrunk to 3 blocks, the config's train pipeline
    (clip shortened to 16 frames), one loss + backward: the head sees GCN
    features and makes no 3D assumption."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(REPO / 'configs' / twin)
    cfg.model.backbone.update(TINY)
    cfg.model.cls_head.in_channels = 32
    if 'sf_head' in cfg.model:
        cfg.model.sf_head.groups = 4
    if 'fr_head' in cfg.model:
        cfg.model.fr_head.update(stages=[1, 3], stage_weights=[0.5, 1.0])
    pipeline = copy.deepcopy(cfg.train_dataloader.dataset.dataset.pipeline)
    for t in pipeline:
        if t['type'] == 'UniformSampleFrames':
            t['clip_len'] = 16
    transform = Compose(pipeline)
    batch = pseudo_collate([transform(copy.deepcopy(s))
                            for s in _two_2d_samples()])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    data = model.data_preprocessor(batch, True)
    inputs = data['inputs']
    assert inputs.shape == (2, 1, 2, 16, 17, 3)  # N, clips, M, T, V, C
    # channel 2 is the score; x, y are normalised image coordinates
    person = inputs[:, 0, 0]
    assert 0 < float(person[..., 2].min()) <= float(person[..., 2].max()) <= 1
    assert float(person[..., :2].abs().max()) < 1
    losses = model(**data, mode='loss')
    aux = [k for k in losses if k.startswith(('loss_sf', 'loss_fr'))]
    assert aux, sorted(losses)
    for key in aux:
        assert math.isfinite(float(losses[key])), key
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all()
               for p in model.parameters())
