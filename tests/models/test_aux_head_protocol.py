"""A third-party auxiliary head: defined here, registered in MODELS and
plugged in by config alone (``aux_heads=[dict(type=...)]``), with no edit to
sfhead_mm. It attaches by the shared rule, captures, gets the scores
``loss_cls`` used, logs its losses, is scaled by ``aux_loss_scale`` and is
dropped by deploy because it says it is training-only."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import sfhead_mm  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from sfhead_mm.models import AuxHead
from sfhead_mm.models.deploy import (deploy_model_cfg, strip_training_heads,
                                     training_only_prefixes)

register_all_modules()


@MODELS.register_module(force=True)
class ToyEnergyHead(AuxHead):
    """Penalises the energy of a 1x1 projection of each block output."""

    reads = 'block'

    def __init__(self, weight: float = 1.0, **kwargs) -> None:
        super().__init__(field='toy', **kwargs)
        self.weight = weight
        self.projections = nn.ModuleDict()

    def add_point(self, key, channels, stage, name):
        self.projections[key] = nn.Conv2d(channels, 1, 1)

    def loss(self, cls_score, data_samples, num_persons):
        seen = self.take_captured()
        energy = sum(self.projections[k](x).pow(2).mean()
                     for k, x in seen.items())
        return dict(loss_toy=self.weight * energy,
                    toy_scores=cls_score.detach().clone())


MODEL = dict(
    type='SFRecognizerGCN',
    backbone=dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='stgcn_spatial'),
                  base_channels=8, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(type='GCNHead', num_classes=4, in_channels=16),
    sf_head=dict(groups=2),
    aux_heads=[dict(type='ToyEnergyHead', stages=[1, 3], weight=2.0)])


def batch():
    x = torch.randn(4, 1, 2, 8, 25, 3,
                    generator=torch.Generator().manual_seed(0))
    return x, [ActionDataSample().set_gt_label(i % 4) for i in range(4)]


def test_toy_head_plugs_in_by_config():
    model = MODELS.build(copy.deepcopy(MODEL))
    toy = model.aux_head0
    assert model.aux_heads == [model.sf_head, toy]
    assert toy.attach_points == ['backbone.gcn.0', 'backbone.gcn.2']
    assert 'aux_head0.projections.backbone_gcn_2.weight' in model.state_dict()
    x, samples = batch()
    losses = model(x, samples, mode='loss')
    labels = torch.tensor([s.gt_label.item() for s in samples])
    # the scores handed to the head are those loss_cls was computed from
    torch.testing.assert_close(losses['loss_cls'],
                               F.cross_entropy(losses['toy_scores'], labels))
    assert losses['loss_toy'] > 0 and 'loss_sf_con' in losses
    losses['loss_toy'].backward()
    assert toy.projections['backbone_gcn_0'].weight.grad is not None
    model.aux_loss_scale = 0.0  # scales losses, not logged values
    scaled = model(x, samples, mode='loss')
    assert scaled['loss_toy'] == 0 and scaled['toy_scores'].abs().sum() > 0
    model.eval()  # training-only: the head does not run at test time
    with torch.no_grad():
        model(x, copy.deepcopy(samples), mode='predict')
    assert toy.captured == {}


def test_deploy_asks_the_toy_head():
    cfg = dict(MODEL, aux_heads=[dict(MODEL['aux_heads'][0], name='toy')])
    assert training_only_prefixes(cfg) == ('sf_head.', 'toy.')
    model = MODELS.build(copy.deepcopy(cfg))
    kept, removed = strip_training_heads(model.state_dict(), cfg)
    assert removed and all(k.startswith(('sf_head.', 'toy.')) for k in removed)
    deploy = deploy_model_cfg(cfg)
    assert deploy['type'] == 'RecognizerGCN' and 'aux_heads' not in deploy
    MODELS.build(deploy).load_state_dict(kept, strict=True)


def test_a_head_that_is_no_aux_head_is_refused():
    cfg = dict(MODEL, aux_heads=[dict(type='GCNHead', num_classes=4,
                                      in_channels=16)])
    with pytest.raises(TypeError, match='aux_head0: GCNHead is not an '
                       'AuxHead'):
        MODELS.build(cfg)


def test_sf_head_loss_by_config_or_flat_not_both():
    from sfhead_mm.models import SFHeads
    by_config = SFHeads(loss=dict(type='SFHeadLoss', tau=0.05, phi='printed'))
    assert by_config.criterion.redundancy.tau == 0.05
    assert by_config.criterion.consistency.phi == 'printed'
    assert SFHeads(tau=0.05).criterion.redundancy.tau == 0.05
    with pytest.raises(ValueError, match=r"\['tau'\] given both flat and "
                       'as sf_head.loss'):
        SFHeads(tau=0.2, loss=dict(type='SFHeadLoss'))


@MODELS.register_module(force=True)
class OwnLossGCNHead(MODELS.get('GCNHead')):
    """A cls_head with its own loss() (like InfoGCN's): extra terms."""

    def loss(self, feats, data_samples, **kwargs):
        losses = self.loss_by_feat(self(feats), data_samples)
        losses['loss_extra'] = feats.mean() * 0
        return losses


def test_cls_head_with_its_own_loss_keeps_its_terms():
    cfg = dict(MODEL, cls_head=dict(MODEL['cls_head'], type='OwnLossGCNHead'),
               aux_heads=[])
    losses = MODELS.build(cfg)(*batch(), mode='loss')
    assert {'loss_cls', 'loss_extra', 'loss_sf_con'} <= set(losses)
    with pytest.raises(ValueError, match="name 'backbone' is taken"):
        MODELS.build(dict(MODEL, aux_heads=[dict(MODEL['aux_heads'][0],
                                                 name='backbone')]))


@pytest.mark.parametrize('name', ['InfoGCN', 'ProtoGCN'])
def test_heads_with_their_own_loss_hand_over_the_scores_loss_cls_used(name):
    # InfoGCNHead decodes a freshly sampled latent at each call, so only
    # the scores of the very same call reproduce loss_cls
    from tests.models.test_backbones_in_recognizer import CASES
    backbone, head = CASES[name]
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='SFRecognizerGCN', backbone=backbone,
        cls_head=dict(head, num_classes=4),
        aux_heads=[dict(type='ToyEnergyHead', stages=[1, 3])]))
    model.init_weights()
    x = torch.randn(4, 1, 2, 12, 25, 3,
                    generator=torch.Generator().manual_seed(1))
    samples = [ActionDataSample().set_gt_label(i % 4) for i in range(4)]
    losses = model(x, samples, mode='loss')
    again = model.cls_head.loss_by_feat(losses['toy_scores'], samples)
    torch.testing.assert_close(again['loss_cls'], losses['loss_cls'])
