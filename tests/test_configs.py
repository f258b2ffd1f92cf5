"""The config tree: each +SF-Head config is its baseline plus the head, and
each file's dataset, split and classes match its name."""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.conftest import REPO

# NTU configs; NW-UCLA and PKU-MMD ones are checked in tests/datasets.
SF_CONFIGS = sorted(
    str(p.relative_to(REPO))
    for p in (REPO / 'configs').glob('*/*_sfhead_*_ntu*'))


def test_demo_sfhead_config_is_baseline_plus_head():
    sf = Config.fromfile(REPO / 'configs/demo/ctrgcn_sfhead_demo.py')
    base = Config.fromfile(REPO / 'configs/demo/ctrgcn_demo.py')
    assert base.model.type == 'RecognizerGCN'
    assert base.model.backbone.type == 'CTRGCN'
    assert sf.model.sf_head.placement == 'branch'
    assert _without_head(sf) == _without_head(base)


def test_config_tree_is_complete():
    models = {'stgcn', 'stgcnpp', '2s-agcn', 'ctrgcn'}
    splits = {'ntu60-xsub', 'ntu60-xview', 'ntu120-xsub', 'ntu120-xset'}
    found = {(Path(p).parent.name, p.split('80e_')[1].split('-keypoint')[0],
              _keypoint_dims(p)) for p in SF_CONFIGS}
    assert {(m, s, d) for m in models for s in splits
            for d in ('2d', '3d')} <= found


def _keypoint_dims(path: str) -> str:
    """'2d' or '3d', from the file name's ``-keypoint-2d``/``-3d``."""
    return path.rsplit('-keypoint-', 1)[1][:2]


def _without_head(cfg: Config) -> dict:
    d = copy.deepcopy(cfg.to_dict())
    d.pop('custom_imports', None)
    d['model'].pop('sf_head', None)
    d['model'].pop('type')
    return d


@pytest.mark.parametrize('sf_path', SF_CONFIGS)
def test_sfhead_config_is_baseline_plus_head(sf_path):
    base_path = sf_path.replace('_sfhead', '')
    sf = Config.fromfile(REPO / sf_path)
    base = Config.fromfile(REPO / base_path)
    assert base.model.type == 'RecognizerGCN'
    assert 'sf_head' not in base.model
    assert sf.model.type == 'SFRecognizerGCN'
    assert sf.model.sf_head.placement == 'branch'
    assert sf.custom_imports.imports == ['sfhead_mm']
    assert _without_head(sf) == _without_head(base)
    # the file name says which data it trains on
    dataset, split = sf_path.split('80e_')[1].split('-keypoint')[0].split('-')
    inner = base.train_dataloader.dataset.dataset
    assert inner.split == f'{split}_train'
    assert base.val_dataloader.dataset.split == f'{split}_val'
    assert base.test_dataloader.dataset.split == f'{split}_val'
    assert f'{dataset}_{_keypoint_dims(sf_path)}.pkl' in inner.ann_file
    assert base.test_dataloader.dataset.ann_file == inner.ann_file
    assert base.model.cls_head.num_classes == int(dataset[3:])


STREAM_FEATS = {'joint': ['j'], 'bone': ['b'], 'joint-motion': ['jm'],
                'bone-motion': ['bm']}


@pytest.mark.parametrize('sf_path', SF_CONFIGS)
def test_stream_in_the_name_is_the_stream_of_every_pipeline(sf_path):
    stream = sf_path.split('8xb16-')[1].split('-u100')[0]
    cfg = Config.fromfile(REPO / sf_path)
    pipelines = (cfg.train_dataloader.dataset.dataset.pipeline,
                 cfg.val_dataloader.dataset.pipeline,
                 cfg.test_dataloader.dataset.pipeline)
    for pipeline in pipelines:
        feats = [t['feats'] for t in pipeline if t['type'] == 'GenSkeFeat']
        assert feats == [STREAM_FEATS[stream]], (sf_path, feats)


def test_stream_configs_cover_mmaction_ntu_streams():
    # bone and motion streams for every model where mmaction ships the
    # baseline stream config (NTU60 xsub; NTU120 xsub for ST-GCN), and
    # CTR-GCN on the same pipelines; the same in 3D and in 2D (COCO-17)
    streams = {(Path(p).parent.name, p.split('8xb16-')[1].split('-u100')[0],
                p.split('80e_')[1].split('-keypoint')[0], _keypoint_dims(p))
               for p in SF_CONFIGS}
    for dims in ('2d', '3d'):
        for model in ('stgcn', 'stgcnpp', '2s-agcn', 'ctrgcn'):
            for stream in STREAM_FEATS:
                assert (model, stream, 'ntu60-xsub', dims) in streams
        for model in ('stgcn', 'ctrgcn'):
            for stream in STREAM_FEATS:
                assert (model, stream, 'ntu120-xsub', dims) in streams


def test_head_parameter_budget_on_ctrgcn_ntu_config():
    """The paper's claim: < 0.01M head parameters over all CTR-GCN blocks."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(
        REPO / 'configs/ctrgcn/'
        'ctrgcn_sfhead_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py')
    model = MODELS.build(cfg.model)
    assert len(model.sf_head.heads) == 10
    head = sum(p.numel() for p in model.sf_head.parameters())
    assert head < 10_000
    backbone = sum(p.numel() for p in model.backbone.parameters())
    assert backbone == 1_431_252  # the original CTR-GCN backbone
