"""The +FR-Head config tree: one beside each +SF-Head config, equal to its
baseline except the head, with the published FR-Head settings, and
attaching after the first block, the first block after each stride-2 step
and the last block (1, 5, 8, 10 of every 10-block backbone; 1, 4, 7, 9 of
InfoGCN's 9 blocks)."""
import copy
import inspect
from pathlib import Path

import pytest
from mmengine.config import Config

from sfhead_mm.models.fr_head import FRHead
from tests.conftest import REPO

# Every experiment config; the demo's 4-block CTR-GCN has no FR-Head twin
# (the published stages 1, 5, 8, 10 need 10 blocks).
SF_CONFIGS = sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'configs').glob('*/*_sfhead_*')
    if p.parent.name != 'demo')
FR_CONFIGS = sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'configs').glob('*/*_frhead_*'))
PUBLISHED = dict(stages=[1, 5, 8, 10], stage_weights=[0.1, 0.2, 0.5, 1.0],
                 loss_weight=0.1, temperature=0.125, alpha=0.125,
                 momentum=0.9)
# The same places on backbones whose strides are elsewhere.
STAGES = {'infogcn': [1, 4, 7, 9]}
# Channels of the refined block outputs, per backbone directory (default:
# the 64/128/256 backbones).
CHANNELS = {'blockgcn': [128, 256, 256, 256],
            'protogcn': [96, 192, 384, 384]}


def test_one_frhead_config_beside_each_sfhead_config():
    assert SF_CONFIGS
    assert [p.replace('_sfhead_', '_frhead_') for p in SF_CONFIGS] == \
        FR_CONFIGS


def _without_head(cfg: Config) -> dict:
    d = copy.deepcopy(cfg.to_dict())
    d.pop('custom_imports', None)
    d['model'].pop('fr_head', None)
    d['model'].pop('type')
    return d


@pytest.mark.parametrize('fr_path', FR_CONFIGS)
def test_frhead_config_is_baseline_plus_head(fr_path):
    base_path = fr_path.replace('_frhead', '')
    assert Path(REPO / base_path).is_file(), base_path
    fr = Config.fromfile(REPO / fr_path)
    base = Config.fromfile(REPO / base_path)
    assert base.model.type == 'RecognizerGCN'
    assert 'fr_head' not in base.model and 'sf_head' not in fr.model
    assert fr.model.type == 'SFRecognizerGCN'
    assert fr.custom_imports.imports == ['sfhead_mm']
    # the published settings: in the config, or FRHead's defaults
    defaults = inspect.signature(FRHead.__init__).parameters
    settings = {k: fr.model.fr_head.get(k, defaults[k].default)
                for k in PUBLISHED}
    published = dict(PUBLISHED, stages=STAGES.get(
        Path(fr_path).parent.name, PUBLISHED['stages']))
    assert {k: list(v) if isinstance(v, tuple) else v
            for k, v in settings.items()} == published
    assert _without_head(fr) == _without_head(base)


# One per backbone, plus the other datasets' joint configs where they exist.
BUILD = sorted(
    p for p in FR_CONFIGS
    if 'ntu60-xsub' in p or ('-joint-' in p and '-joint-motion-' not in p
                             and '_ntu' not in p))


@pytest.mark.parametrize('fr_path', BUILD)
def test_published_stages_on_each_backbone(fr_path):
    """Blocks 1, 5, 8, 10: first block, first block after each stride-2
    step, last block; FR-Head channels, joints and classes come from the
    model."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(REPO / fr_path)
    model = MODELS.build(cfg.model)
    backbone = Path(fr_path).parent.name
    stages = STAGES.get(backbone, PUBLISHED['stages'])
    assert len(model.backbone.gcn) == stages[-1]
    assert model.fr_attach_points == [f'backbone.gcn.{i - 1}' for i in stages]
    assert list(model.fr_head.weights.values()) == [0.1, 0.2, 0.5, 1.0]
    assert model.fr_head.num_classes == cfg.model.cls_head.num_classes
    assert model.fr_head.num_joints == model.backbone.graph.num_node
    channels = [r.spatial_squeeze[0].in_channels
                for r in model.fr_head.refiners.values()]
    assert channels == CHANNELS.get(backbone, [64, 128, 256, 256])
    last = model.fr_head.refiners[f'backbone_gcn_{stages[-1] - 1}']
    assert last.temporal.prototypes.shape == (
        cfg.model.cls_head.num_classes, 256)
