"""The config tree: each +SF-Head config is its baseline plus the head, and
each file's dataset, split, classes, stream, frames, epochs and batch match
its name."""
import copy
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.conftest import REPO

# NTU configs; NW-UCLA and PKU-MMD ones are checked in tests/datasets.
SF_CONFIGS = sorted(
    str(p.relative_to(REPO))
    for p in (REPO / 'configs').glob('*/*_sfhead_*_ntu*'))

# mmaction's naming: {model}[_head]_{gpus}xb{batch}-{stream}-{frames}-
# {epochs}e_{dataset}-{split}-keypoint-{2d|3d}.py; frames 'u100' is
# UniformSampleFrames(clip_len=100)
NAME = re.compile(
    r'(?P<model>[a-z0-9-]+?)(?:_(?P<head>sfhead|frhead))?_(?P<gpus>\d+)xb'
    r'(?P<batch>\d+)-(?P<stream>[a-z0-9-]+?)-'
    r'u(?P<frames>\d+)-(?P<epochs>\d+)e_(?P<dataset>ntu60|ntu120)-'
    r'(?P<split>xsub|xview|xset)-keypoint-(?P<dims>[23]d)\.py$')

# The four backbones of issue 14 (3D joint stream, four NTU splits each).
NEW_BACKBONES = ('infogcn', 'hdgcn', 'blockgcn', 'protogcn')


def parse_name(path: str) -> dict:
    """The fields of a config's file name (see ``NAME``)."""
    match = NAME.fullmatch(Path(path).name)
    assert match, f'{path} does not follow the naming scheme'
    return match.groupdict()


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
    found = set()
    for p in SF_CONFIGS:
        f = parse_name(p)
        found.add((f['model'], f'{f["dataset"]}-{f["split"]}', f['dims'],
                   f['stream']))
    assert {(m, s, d, 'joint') for m in models for s in splits
            for d in ('2d', '3d')} <= found
    # issue 14: the joint stream in 3D on the four NTU splits
    assert {(m, s, '3d', 'joint') for m in NEW_BACKBONES
            for s in splits} <= found


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
    # the file name says which data it trains on, how and for how long
    name = parse_name(sf_path)
    dataset, split = name['dataset'], name['split']
    inner = base.train_dataloader.dataset.dataset
    assert inner.split == f'{split}_train'
    assert base.val_dataloader.dataset.split == f'{split}_val'
    assert base.test_dataloader.dataset.split == f'{split}_val'
    assert f'{dataset}_{name["dims"]}.pkl' in inner.ann_file
    assert base.test_dataloader.dataset.ann_file == inner.ann_file
    assert base.model.cls_head.num_classes == int(dataset[3:])
    assert base.train_dataloader.batch_size == int(name['batch'])
    repeats = base.train_dataloader.dataset.get('times', 1)
    assert base.train_cfg.max_epochs * repeats == int(name['epochs'])
    pipelines = dict(train=inner.pipeline,
                     val=base.val_dataloader.dataset.pipeline,
                     test=base.test_dataloader.dataset.pipeline)
    for loader, pipeline in pipelines.items():
        clip_lens = [t['clip_len'] for t in pipeline
                     if t['type'] == 'UniformSampleFrames']
        assert clip_lens == [int(name['frames'])], (loader, clip_lens)


STREAM_FEATS = {'joint': ['j'], 'bone': ['b'], 'joint-motion': ['jm'],
                'bone-motion': ['bm']}


# the four mmaction streams (the six-stream ensemble's (I - P^k) streams
# have their own transform and tests)
STREAM_CONFIGS = [p for p in SF_CONFIGS
                  if parse_name(p)['stream'] in STREAM_FEATS]


@pytest.mark.parametrize('sf_path', STREAM_CONFIGS)
def test_stream_in_the_name_is_the_stream_of_every_pipeline(sf_path):
    stream = parse_name(sf_path)['stream']
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
    streams = set()
    for p in SF_CONFIGS:
        f = parse_name(p)
        streams.add((f['model'], f['stream'], f'{f["dataset"]}-{f["split"]}',
                     f['dims']))
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


def _new_backbone_config(model: str, split: str, head: str = '') -> Config:
    """The 3D joint config of one issue-14 backbone (``head``: '',
    'sfhead' or 'frhead')."""
    paths = [p for p in (REPO / 'configs' / model).glob('*.py')
             if (parse_name(str(p))['head'] or '') == head and
             f'_{split}-keypoint-3d' in p.name]
    assert len(paths) == 1, (model, split, head, paths)
    return Config.fromfile(paths[0])


def _scheduler(cfg: Config, type_: str) -> dict:
    found = [s for s in cfg.param_scheduler if s['type'] == type_]
    assert len(found) == 1, (type_, cfg.param_scheduler)
    return found[0]


# The published setting each baseline follows (issue 14's table and the
# original code's configs): frames, epochs, lr, weight decay, batch x GPUs.
PUBLISHED_SETTING = {
    'infogcn': dict(frames=64, epochs=110, lr=0.1, wd=5e-4, batch=64),
    'hdgcn': dict(frames=64, epochs=90, lr=0.1, wd=4e-4, batch=64),
    'blockgcn': dict(frames=64, epochs=140, lr=0.05, wd=4e-4, batch=64),
    'protogcn': dict(frames=100, epochs=150, lr=0.1, wd=5e-4, batch=64),
}


@pytest.mark.parametrize('model', NEW_BACKBONES)
def test_new_backbone_baselines_follow_their_published_setting(model):
    cfg = _new_backbone_config(model, 'ntu120-xsub')
    want = PUBLISHED_SETTING[model]
    loader = cfg.train_dataloader
    assert loader.dataset.times == 1  # epochs are real epochs
    assert cfg.train_cfg.max_epochs == want['epochs']
    assert [t['clip_len'] for t in loader.dataset.dataset.pipeline
            if t['type'] == 'UniformSampleFrames'] == [want['frames']]
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay,
            optimizer.momentum) == ('SGD', want['lr'], want['wd'], 0.9)
    assert cfg.auto_scale_lr.base_batch_size == want['batch']
    head = cfg.model.cls_head
    if model == 'infogcn':  # CE(smoothing 0.1) + 0.1 MMD + 1e-4 |mean z|
        assert (head.type, head.label_smooth_eps, head.lambda_mmd,
                head.lambda_mean) == ('InfoGCNHead', 0.1, 0.1, 1e-4)
        assert _scheduler(cfg, 'LinearLR')['end'] == 5  # warm-up 5
        assert _scheduler(cfg, 'MultiStepLR')['milestones'] == [90, 100]
    elif model == 'hdgcn':  # CE, cosine
        assert head.type == 'GCNHead'
        cosine = _scheduler(cfg, 'CosineAnnealingLR')
        assert cosine['end'] == 90
    elif model == 'blockgcn':
        assert head.type == 'GCNHead'
        assert _scheduler(cfg, 'MultiStepLR')['milestones'] == [110, 120]
    else:  # ProtoGCN: CE + 0.2 contrastive, cosine
        assert (head.type, head.loss_weight_csc, head.momentum,
                head.temperature) == ('ProtoGCNHead', 0.2, 0.9, 0.125)
        assert _scheduler(cfg, 'CosineAnnealingLR')['T_max'] == 150


# Issue 14's table: exact parameters at NTU120, joint, with the classifier.
NTU120_PARAMS = {'infogcn': 1_572_227, 'hdgcn': 1_675_400,
                 'blockgcn': 1_388_200, 'protogcn': 4_367_960}
# SF-Head groups per backbone (see the _sfhead configs' comments) and the
# widths of their blocks (the group rule: C divisible by 4 * groups).
SF_GROUPS = {'infogcn': (8, [64] * 3 + [128] * 3 + [256] * 3),
             'hdgcn': (8, [64] * 4 + [128] * 3 + [256] * 3),
             'blockgcn': (8, [128] * 4 + [256] * 6),
             'protogcn': (8, [96] * 4 + [192] * 3 + [384] * 3)}


@pytest.mark.parametrize('model', NEW_BACKBONES)
def test_new_backbone_configs_build_with_exact_parameters(model):
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    base = MODELS.build(_new_backbone_config(model, 'ntu120-xsub').model)
    assert sum(p.numel() for p in base.parameters()) == NTU120_PARAMS[model]
    sf_cfg = _new_backbone_config(model, 'ntu120-xsub', 'sfhead')
    groups, widths = SF_GROUPS[model]
    assert sf_cfg.model.sf_head.groups == groups
    sf = MODELS.build(sf_cfg.model)
    assert [h.in_channels for h in sf.sf_head.heads.values()] == widths
    assert all(c % (4 * groups) == 0 for c in widths)
    assert sf.sf_attach_points == [
        f'backbone.gcn.{i}.gcn' for i in range(len(widths))]
    # the paper's budget: about 0.01 M head parameters on every backbone
    assert sum(p.numel() for p in sf.sf_head.parameters()) < 10_000
    assert sum(p.numel() for p in sf.parameters()) - sum(
        p.numel() for p in sf.sf_head.parameters()) == NTU120_PARAMS[model]
