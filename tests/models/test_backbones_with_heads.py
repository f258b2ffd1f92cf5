"""SF-Head and FR-Head on InfoGCN, HD-GCN, BlockGCN and ProtoGCN.

- Each backbone's shipped ``_sfhead`` / ``_frhead`` config, shrunk to tiny
  widths and 12 frames, trains for two iterations through MMEngine's
  Runner on a small synthetic PoseDataset pickle: the logged losses are
  finite, and the auxiliary losses alone have a gradient on the backbone.
- The hooks of the auxiliary heads on modules with tuple outputs (ProtoGCN's
  original graph convolution returns ``(x, graph)``): element 0 is read
  and replaced, the rest passes through.
- FR-Head receives the very scores ``loss_cls`` was computed from when the
  classifier computes its loss its own way (InfoGCNHead, ProtoGCNHead).
"""
import collections
import math
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch import nn

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction before use)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

from sfhead_mm.models.aux_head import AuxHead
from sfhead_mm.models.plugin import AttachError
from tests.conftest import REPO

register_all_modules()

NUM_CLASSES = 4
FRAMES = 12
CONFIG_DIRS = {
    'infogcn': 'infogcn_{}1xb64-joint-u64-110e',
    'hdgcn': 'hdgcn_{}1xb64-joint-u64-90e',
    'blockgcn': 'blockgcn_{}1xb64-joint-u64-140e',
    'protogcn': 'protogcn_{}4xb16-joint-u100-150e',
}
# three blocks of 16, 16, 32 channels (stride 2 at the third)
TINY = dict(base_channels=16, num_stages=3, inflate_stages=[3],
            down_stages=[3])
TINY_EXTRA = {'blockgcn': dict(topology_features=8),
              'protogcn': dict(num_prototype=10)}
HEADS = {
    # groups=2: the tiny widths 16/32 need C divisible by 4g
    'sfhead': dict(sf_head=dict(placement='branch', groups=2)),
    'frhead': dict(fr_head=dict(stages=[1, 2, 3],
                                stage_weights=[0.1, 0.5, 1.0],
                                hidden_channels=32, temporal_bins=4)),
}
AUX_LOSSES = {'sfhead': ('loss_sf_con', 'loss_sf_red'),
              'frhead': ('loss_fr', )}


@pytest.fixture(scope='module')
def ann_file(tmp_path_factory) -> str:
    """Eight two-person clips of four classes, 16-20 frames each."""
    rng = np.random.default_rng(0)
    annotations, split = [], dict(xsub_train=[], xsub_val=[])
    for i in range(8):
        frames = 16 + i % 5
        name = f'clip{i}'
        annotations.append(dict(
            frame_dir=name, label=i % NUM_CLASSES, total_frames=frames,
            keypoint=rng.normal(size=(2, frames, 25, 3)).astype(np.float32)))
        split['xsub_train' if i < 6 else 'xsub_val'].append(name)
    path = tmp_path_factory.mktemp('tiny_ntu') / 'tiny_ntu_3d.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return str(path)


def tiny_config(backbone: str, head: str, ann_file: str,
                work_dir: str) -> Config:
    """The shipped NTU60 xsub config of ``backbone`` + ``head``, at tiny
    width, 12 frames, two training iterations and no validation."""
    name = CONFIG_DIRS[backbone].format(f'{head}_')
    cfg = Config.fromfile(
        REPO / 'configs' / backbone / f'{name}_ntu60-xsub-keypoint-3d.py')
    assert cfg.model.type == 'SFRecognizerGCN'
    cfg.model.backbone.update(TINY, **TINY_EXTRA.get(backbone, {}))
    cfg.model.cls_head.update(in_channels=32, num_classes=NUM_CLASSES)
    for key, fields in HEADS[head].items():  # the shipped head line
        cfg.model[key].update(fields)
    loader = cfg.train_dataloader
    loader.update(batch_size=3, num_workers=0, persistent_workers=False)
    loader.dataset.dataset.ann_file = ann_file
    for transform in loader.dataset.dataset.pipeline:
        if transform['type'] == 'UniformSampleFrames':
            transform['clip_len'] = FRAMES
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = []
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.update(checkpoint=None,
                             logger=dict(type='LoggerHook', interval=1))
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'WARNING'
    return cfg


class RecordLosses(Hook):
    """Keeps the log values of every training iteration."""

    def __init__(self) -> None:
        self.rows = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.rows.append({k: float(torch.as_tensor(v).detach())
                          for k, v in outputs.items()})


@pytest.mark.parametrize('head', sorted(HEADS))
@pytest.mark.parametrize('backbone', sorted(CONFIG_DIRS))
def test_tiny_backbone_with_head_trains_through_runner(
        tmp_path, ann_file, backbone, head):
    cfg = tiny_config(backbone, head, ann_file, str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    record = RecordLosses()
    runner.register_hook(record)
    runner.train()

    assert runner.iter == 2 and len(record.rows) == 2
    for row in record.rows:
        for key in ('loss', 'loss_cls') + AUX_LOSSES[head]:
            assert math.isfinite(row[key]), (key, row)
        assert all(row[key] > 0 for key in AUX_LOSSES[head]), row

    # the auxiliary losses alone reach the first block of the trained model
    model = runner.model
    data = model.data_preprocessor(next(iter(runner.train_dataloader)),
                                   training=True)
    losses = model(**data, mode='loss')
    aux = sum(losses[key] for key in AUX_LOSSES[head])
    block = model.backbone.gcn[0]
    params = [p for p in block.parameters() if p.requires_grad]
    grads = torch.autograd.grad(aux, params, allow_unused=True)
    grads = [g for g in grads if g is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


# ------------------------------------------------------------ tuple outputs
GraphOutput = collections.namedtuple('GraphOutput', 'x graph')


class TupleGraphConv(nn.Module):
    """A gcn that returns ``(x, graph)`` (as ProtoGCN's original unit)."""

    def __init__(self, channels: int, kind: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)
        self.kind = kind

    def forward(self, x):
        y = self.conv(x)
        graph = torch.ones(x.shape[0], 4)
        if self.kind == 'namedtuple':
            return GraphOutput(y, graph)
        if self.kind == 'list':
            return [y, graph]
        if self.kind == 'not_a_tensor':
            return ('x', graph)
        return (y, graph)


class TupleBlock(nn.Module):

    def __init__(self, channels: int, kind: str) -> None:
        super().__init__()
        self.gcn = TupleGraphConv(channels, kind)
        self.tcn = nn.Conv2d(channels, channels, 1)
        self.seen = None

    def forward(self, x):
        out = self.gcn(x)
        self.seen = out  # what the tcn side of the block receives
        return self.tcn(out[0])


class Doubling(AuxHead):
    """A test head that is part of the model: records and doubles."""

    @property
    def training_only(self) -> bool:
        return False

    def observe(self, key, output):
        return output, output * 2


def _tuple_model(kind: str) -> nn.Module:
    model = nn.Module()
    model.backbone = nn.Module()
    model.backbone.gcn = nn.ModuleList([TupleBlock(8, kind)])
    return model


@pytest.mark.parametrize('kind', ['tuple', 'namedtuple', 'list'])
def test_tuple_output_head_reads_and_replaces_element_0_only(kind):
    model = _tuple_model(kind)
    head = Doubling()
    assert head.attach(model) == ['backbone.gcn.0.gcn']
    block = model.backbone.gcn[0]
    x = torch.randn(2, 8, 5, 4)
    plain = block.gcn.conv(x)
    with head.capture():
        block(x)
    torch.testing.assert_close(head.captured['backbone_gcn_0_gcn'], plain)
    seen = block.seen
    assert type(seen) is {'tuple': tuple, 'namedtuple': GraphOutput,
                          'list': list}[kind]
    assert len(seen) == 2
    torch.testing.assert_close(seen[0], plain * 2)  # replaced
    torch.testing.assert_close(seen[1], torch.ones(2, 4))  # passed through


def test_tuple_output_without_tensor_first_is_refused():
    model = _tuple_model('not_a_tensor')
    model.backbone.gcn[0].forward = (
        lambda x: model.backbone.gcn[0].gcn(x))
    head = Doubling(field='my_head')
    head.attach(model)
    with pytest.raises(AttachError, match='my_head.*element 0'):
        model.backbone.gcn[0](torch.randn(2, 8, 5, 4))


# --------------------------------------- scores of heads with their loss()
SCORE_CASES = {
    'InfoGCNHead': (dict(type='InfoGCN', graph_cfg=dict(layout='nturgb+d'),
                         **TINY), dict(type='InfoGCNHead', in_channels=32)),
    'ProtoGCNHead': (dict(type='ProtoGCN', graph_cfg=dict(layout='nturgb+d'),
                          num_prototype=10, **TINY),
                     dict(type='ProtoGCNHead', in_channels=32)),
}


@pytest.mark.parametrize('name', sorted(SCORE_CASES))
def test_fr_head_gets_the_scores_of_loss_cls(name):
    """InfoGCNHead samples z in training, so scores computed again would
    differ: FR-Head must get the decoded scores of the loss itself."""
    torch.manual_seed(0)
    backbone, cls_head = SCORE_CASES[name]
    model = MODELS.build(dict(
        type='SFRecognizerGCN', backbone=backbone,
        cls_head=dict(cls_head, num_classes=NUM_CLASSES),
        **HEADS['frhead']))
    model.init_weights()
    seen = {}
    loss = model.fr_head.loss

    def keep(cls_score, data_samples, num_persons):
        seen['score'] = cls_score
        return loss(cls_score, data_samples, num_persons)

    model.fr_head.loss = keep
    samples = [ActionDataSample().set_gt_label(i % NUM_CLASSES)
               for i in range(4)]
    losses = model(torch.randn(4, 1, 2, FRAMES, 25, 3), samples, mode='loss')
    score = seen['score']
    assert score.shape == (4, NUM_CLASSES)
    again = model.cls_head.loss_by_feat(score, samples)['loss_cls']
    torch.testing.assert_close(again, losses['loss_cls'])
    assert torch.isfinite(losses['loss_fr'])
