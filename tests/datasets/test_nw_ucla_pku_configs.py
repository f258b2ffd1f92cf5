"""The NW-UCLA and PKU-MMD config trees: each +SF-Head file is its baseline
plus the head, each file's data, split, classes, stream and schedule match
its name, and a shrunk NW-UCLA config trains on the real data through
tools/train.py."""
import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from tests.conftest import REPO, subprocess_env



def _configs(dataset: str, head: str = '') -> list:
    """Baselines (``head=''``) or ``<model>_<head>_...`` files."""
    infix = f'_{head}' if head else ''
    pattern = re.compile(rf'^[^_]+{infix}_\dxb16-.*_{dataset}-')
    return sorted(p.relative_to(REPO).as_posix()
                  for p in (REPO / 'configs').glob('*/*.py')
                  if pattern.match(p.name))


NW_UCLA = _configs('nw-ucla')
PKU_MMD = _configs('pku-mmd')
SF_CONFIGS = _configs('nw-ucla', 'sfhead') + _configs('pku-mmd', 'sfhead')
STREAMS = {'joint': ['j'], 'bone': ['b'], 'joint-motion': ['jm'],
           'bone-motion': ['bm']}


def _stream(path: str) -> str:
    return re.search(r'_\dxb16-(.+?)-(?:52f|u100)-', path).group(1)


def _without_head(cfg: Config) -> dict:
    d = copy.deepcopy(cfg.to_dict())
    d.pop('custom_imports', None)
    d['model'].pop('sf_head', None)
    d['model'].pop('type')
    return d


def _feature_step(pipeline, types=('GenSkeFeat', 'GenSkeFeatLayout')):
    steps = [s for s in pipeline if s['type'] in types]
    assert len(steps) == 1
    return steps[0]


def test_config_tree_is_complete():
    found = {(Path(p).parent.name, _stream(p), 'nw-ucla' in p)
             for p in SF_CONFIGS}
    wanted = {('ctrgcn', s, True) for s in STREAMS}
    wanted |= {(m, s, False) for m in ('ctrgcn', 'stgcn', 'stgcnpp',
                                       '2s-agcn') for s in STREAMS}
    assert wanted <= found
    assert len(NW_UCLA) + len(PKU_MMD) == len(SF_CONFIGS) == 20
    assert sorted(p.replace('_sfhead', '') for p in SF_CONFIGS) == sorted(
        NW_UCLA + PKU_MMD)


@pytest.mark.parametrize('sf_path', SF_CONFIGS)
def test_sfhead_config_is_baseline_plus_head(sf_path):
    base_path = sf_path.replace('_sfhead', '')
    text = (REPO / sf_path).read_text()
    base_name = Path(base_path).name
    code = [line for line in text.splitlines()
            if line.strip() and not line.startswith('#')]
    assert code == [
        f"_base_ = './{base_name}'",
        "custom_imports = dict(imports=['sfhead_mm'], "
        'allow_failed_imports=False)',
        "model = dict(type='SFRecognizerGCN', "
        "sf_head=dict(placement='branch'))"]
    protocol = ("CTR-GCN's published NW-UCLA" if 'nw-ucla' in sf_path else
                "mmaction's NTU pipeline")
    assert protocol in ' '.join(
        line.lstrip('# ') for line in text.splitlines()
        if line.startswith('#'))
    sf = Config.fromfile(REPO / sf_path)
    base = Config.fromfile(REPO / base_path)
    assert base.model.type == 'RecognizerGCN'
    assert 'sf_head' not in base.model
    assert sf.model.type == 'SFRecognizerGCN'
    assert sf.model.sf_head == dict(placement='branch')
    assert sf.custom_imports.imports == ['sfhead_mm']
    assert _without_head(sf) == _without_head(base)


@pytest.mark.parametrize('path', NW_UCLA)
def test_nw_ucla_baselines(path):
    cfg = Config.fromfile(REPO / path)
    header = (REPO / path).read_text().split('_base_')[0]
    assert 'CTR-GCN NW-UCLA protocol' in header
    assert 'feeder_ucla.py' in header
    assert cfg.model.backbone.type == 'CTRGCN'
    assert cfg.model.backbone.graph_cfg == dict(layout='nw-ucla',
                                                mode='spatial')
    assert cfg.model.backbone.num_person == 1
    assert cfg.model.cls_head.num_classes == 10
    train = cfg.train_dataloader
    assert train.batch_size == 16 and train.drop_last
    assert train.dataset.type == 'RepeatDataset' and train.dataset.times == 5
    inner = train.dataset.dataset
    assert inner.ann_file == 'data/skeleton/nw_ucla_3d.pkl'
    assert inner.split == 'xview_train'
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert loader.dataset.split == 'xview_val'
        assert loader.dataset.ann_file == inner.ann_file
        assert loader.dataset.test_mode
    pipelines = dict(train=inner.pipeline,
                     val=cfg.val_dataloader.dataset.pipeline,
                     test=cfg.test_dataloader.dataset.pipeline)
    for name, pipeline in pipelines.items():
        types = [s['type'] for s in pipeline]
        augment = ['RandomRotateScale3D'] if name == 'train' else []
        assert types == ['CenterOnJoint', *augment, 'MinMaxNormalize',
                         'RepeatSampleFrames', 'PoseDecode',
                         'GenSkeFeatLayout', 'FormatGCNInput',
                         'PackActionInputs']
        sample = pipeline[types.index('RepeatSampleFrames')]
        assert sample['clip_len'] == 52
        assert sample.get('test_mode', False) == (name != 'train')
        feats = _feature_step(pipeline)
        assert feats['layout'] == 'nw-ucla' and feats['channels'] == 3
        assert feats['feats'] == STREAMS[_stream(path)]
        assert pipeline[0] == dict(type='CenterOnJoint', joint=1, frame=0)
    rotate = inner.pipeline[1]
    assert rotate['max_angle'] == 60
    assert tuple(rotate['scale_range']) == (0.5, 1.5)
    # the published schedule
    assert cfg.train_cfg.max_epochs == 65
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001, nesterov=True)
    warmup, step = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR',
                                                              0.2, 5)
    assert (step.type, step.milestones, step.gamma) == ('MultiStepLR', [50],
                                                        0.1)
    assert cfg.auto_scale_lr.base_batch_size == 16


def test_nw_ucla_warmup_and_steps_follow_ctrgcn():
    """lr per epoch = 0.1 * (epoch + 1) / 5 for 5 epochs, then 0.1, 0.01."""
    import torch
    from mmengine.optim.scheduler import LinearLR, MultiStepLR
    cfg = Config.fromfile(REPO / NW_UCLA[0])
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        kind = {'LinearLR': LinearLR, 'MultiStepLR': MultiStepLR}[
            s.pop('type')]
        schedulers.append(kind(optimizer, **s))
    lrs = []
    for _ in range(65):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for s in schedulers:
            s.step()
    ctrgcn = [0.1 * (e + 1) / 5 if e < 5 else 0.1 * 0.1**(e >= 50)
              for e in range(65)]
    assert lrs == pytest.approx(ctrgcn)


@pytest.mark.parametrize('path', PKU_MMD)
def test_pku_mmd_baselines(path):
    cfg = Config.fromfile(REPO / path)
    header = (REPO / path).read_text().split('_base_')[0]
    assert "mmaction's NTU pipeline" in header
    assert cfg.model.cls_head.num_classes == 51
    inner = cfg.train_dataloader.dataset.dataset
    loaders = (inner, cfg.val_dataloader.dataset, cfg.test_dataloader.dataset)
    for ds in loaders:
        assert ds.ann_file == 'data/skeleton/pku_mmd_3d.pkl'
    assert inner.split == 'xsub_train'
    assert cfg.val_dataloader.dataset.split == 'xsub_val'
    assert cfg.test_dataloader.dataset.split == 'xsub_val'
    for ds in loaders:
        step = _feature_step(ds.pipeline)
        assert step == dict(type='GenSkeFeat', dataset='nturgb+d',
                            feats=STREAMS[_stream(path)])
        assert ds.pipeline[0] == dict(type='PreNormalize3D')
    model = Path(path).parent.name
    assert cfg.model.backbone.type == {
        'ctrgcn': 'CTRGCN', 'stgcn': 'STGCN', 'stgcnpp': 'STGCN',
        '2s-agcn': 'AAGCN'}[model]


def test_nw_ucla_sfhead_model_builds():
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(REPO / [p for p in SF_CONFIGS if 'nw-ucla' in p][0])
    model = MODELS.build(cfg.model)
    assert model.backbone.data_bn.num_features == 1 * 20 * 3
    assert len(model.sf_head.heads) == 10


TINY_NW_UCLA = """
_base_ = {base!r}
ann_file = {ann_file!r}
model = dict(
    backbone=dict(base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=32))
_loader = dict(num_workers=0, persistent_workers=False)
_every_16th = list(range(0, 1020, 16))
train_dataloader = dict(**_loader, dataset=dict(
    times=1, dataset=dict(ann_file=ann_file, indices=_every_16th)))
val_dataloader = dict(**_loader, dataset=dict(
    ann_file=ann_file, indices=list(range(0, 464, 8))))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, save_best=None))
"""


@pytest.mark.parametrize('stream', ['bone-motion'])
def test_nw_ucla_trains_end_to_end(stream, nw_ucla_ann_file, tmp_path):
    """The real NW-UCLA pickle, the published pipeline, a tiny CTR-GCN:
    tools/train.py (pre-flight checks, Runner, validation) runs through."""
    base = REPO / ('configs/ctrgcn/ctrgcn_1xb16-'
                   f'{stream}-52f-65e_nw-ucla-xview-keypoint-3d.py')
    config = tmp_path / 'tiny_nw_ucla.py'
    config.write_text(TINY_NW_UCLA.format(base=str(base),
                                          ann_file=nw_ucla_ann_file))
    work_dir = tmp_path / 'work'
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work_dir)], cwd=REPO, capture_output=True,
        env=dict(subprocess_env(), OMP_NUM_THREADS='1'),
        text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert (work_dir / 'epoch_1.pth').is_file()
    assert 'Epoch(train) [1][4/4]' in log
    assert 'acc/top1' in log
