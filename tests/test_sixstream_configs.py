"""The six-stream config tree (configs/ctrgcn_sixstream/): InfoGCN's
(I - A^k) x streams, k in {1, 2, 8}, position and motion, on NTU60 xsub and
NTU120 xsub/xset; baselines with +SF-Head and +FR-Head twins."""
import copy

import numpy as np
import pytest
from mmengine.config import Config

from tests.conftest import REPO

DIR = REPO / 'configs/ctrgcn_sixstream'
STREAMS = {'k1': (1, ['j']), 'k2': (2, ['j']), 'k8': (8, ['j']),
           'k1-motion': (1, ['jm']), 'k2-motion': (2, ['jm']),
           'k8-motion': (8, ['jm'])}
SPLITS = ('ntu60-xsub', 'ntu120-xsub', 'ntu120-xset')


def _name(head: str, stream: str, split: str) -> str:
    return f'ctrgcn{head}_8xb16-{stream}-u100-80e_{split}-keypoint-3d.py'


BASELINES = [_name('', s, sp) for sp in SPLITS for s in STREAMS]
TWINS = [(head, b) for head in ('_sfhead', '_frhead') for b in BASELINES]


def _load(name: str) -> Config:
    return Config.fromfile(DIR / name)


def _pipelines(cfg: Config) -> list:
    return [cfg.train_dataloader.dataset.dataset.pipeline,
            cfg.val_dataloader.dataset.pipeline,
            cfg.test_dataloader.dataset.pipeline]


def test_tree_is_exactly_six_streams_three_splits_three_heads():
    expected = {_name(h, s, sp) for h in ('', '_sfhead', '_frhead')
                for s in STREAMS for sp in SPLITS}
    assert {p.name for p in DIR.glob('*.py')} == expected
    assert len(expected) == 54


def _without_head(cfg: Config) -> dict:
    d = copy.deepcopy(cfg.to_dict())
    d.pop('custom_imports', None)
    for key in ('sf_head', 'fr_head', 'type'):
        d['model'].pop(key, None)
    return d


@pytest.mark.parametrize('head, base_name', TWINS)
def test_twin_is_baseline_plus_head(head, base_name):
    base = _load(base_name)
    twin = _load(base_name.replace('ctrgcn_', f'ctrgcn{head}_', 1))
    assert base.model.type == 'RecognizerGCN'
    assert 'sf_head' not in base.model and 'fr_head' not in base.model
    assert twin.model.type == 'SFRecognizerGCN'
    assert twin.custom_imports.imports == ['sfhead_mm']
    if head == '_sfhead':
        assert twin.model.sf_head.placement == 'branch'
        assert 'fr_head' not in twin.model
    else:
        assert list(twin.model.fr_head.stages) == [1, 5, 8, 10]
        assert 'sf_head' not in twin.model
    assert _without_head(twin) == _without_head(base)


@pytest.mark.parametrize('name', BASELINES)
def test_name_says_stream_split_and_data(name):
    stream = name.split('8xb16-')[1].split('-u100')[0]
    dataset, split = name.split('80e_')[1].split('-keypoint')[0].split('-')
    k, feats = STREAMS[stream]
    cfg = _load(name)
    for pipeline in _pipelines(cfg):
        types = [t['type'] for t in pipeline]
        assert 'GenSkeFeat' not in types and 'GenSkeFeatLayout' not in types
        steps = [t for t in pipeline
                 if t['type'] == 'GenSkeFeatAdjacencyPower']
        assert len(steps) == 1, (name, types)
        step = steps[0]
        assert (step['k'], list(step['feats']), step['root']) == (k, feats, 1)
        # the stream's tree is the model's graph, re-rooted as InfoGCN's
        assert step['layout'] == cfg.model.backbone.graph_cfg.layout
    inner = cfg.train_dataloader.dataset.dataset
    assert inner.split == f'{split}_train'
    assert cfg.val_dataloader.dataset.split == f'{split}_val'
    assert cfg.test_dataloader.dataset.split == f'{split}_val'
    assert f'{dataset}_3d.pkl' in inner.ann_file
    assert cfg.test_dataloader.dataset.ann_file == inner.ann_file
    assert cfg.model.cls_head.num_classes == int(dataset[3:])
    # everything but the stream is the joint-stream config of the split
    joint = Config.fromfile(
        REPO / 'configs/ctrgcn' / name.replace(f'-{stream}-', '-joint-'))
    assert cfg.model == joint.model
    assert cfg.optim_wrapper == joint.optim_wrapper
    assert cfg.param_scheduler == joint.param_scheduler


def _ntu_sample(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    keypoint = rng.normal(size=(2, 40, 25, 3)).astype(np.float32)
    return dict(keypoint=keypoint, total_frames=40, frame_dir='S001A001',
                label=3, start_index=0, modality='Pose')


def _test_output(cfg: Config) -> np.ndarray:
    from mmengine.dataset import Compose

    from mmaction.utils import register_all_modules
    register_all_modules()
    out = Compose(cfg.test_dataloader.dataset.pipeline)(_ntu_sample())
    return out['inputs'].numpy()


def test_pipelines_run_and_k8_position_is_the_joint_stream():
    """On NTU the tree rooted at the spine middle is 7 deep, so (I - A^8) x
    is x: the k8 stream equals mmaction's joint stream exactly, and the
    others do not."""
    joint = _test_output(Config.fromfile(
        REPO / 'configs/ctrgcn/'
        'ctrgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'))
    assert joint.shape == (10, 2, 100, 25, 3)  # clips, M, T, V, C
    for stream in STREAMS:
        out = _test_output(_load(_name('', stream, 'ntu60-xsub')))
        assert out.shape == joint.shape, stream
        assert np.isfinite(out).all()
        assert np.array_equal(out, joint) == (stream == 'k8'), stream


def test_models_build_for_every_split_and_head():
    """The model dict is one per (split, head) (checked against the joint
    config above); build each once."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    for split in SPLITS:
        for head in ('', '_sfhead', '_frhead'):
            cfg = _load(_name(head, 'k2-motion', split))
            model = MODELS.build(cfg.model)
            assert model.backbone.graph.num_node == 25
            assert model.cls_head.fc.out_features == \
                cfg.model.cls_head.num_classes
            for name in ('sf_head', 'fr_head'):
                attached = getattr(model, name, None) is not None
                assert attached == (head == f'_{name.replace("_", "")}')
