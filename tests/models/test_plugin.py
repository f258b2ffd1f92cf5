"""SFRecognizerGCN: attaching SF-Heads to mmaction backbones, ours and a
foreign one; branch vs inline placement; deploy export; bad config."""
import copy
import subprocess
import sys

import pytest
import torch
from torch import nn

import sfhead_mm  # noqa: F401
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules

register_all_modules()

STGCN = dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                         mode='stgcn_spatial'),
             base_channels=32, num_stages=3, inflate_stages=[3],
             down_stages=[3])
STGCNPP = dict(STGCN, gcn_adaptive='init', gcn_with_res=True,
               tcn_type='mstcn', graph_cfg=dict(layout='nturgb+d',
                                                mode='spatial'))
AAGCN = dict(STGCN, type='AAGCN', graph_cfg=dict(layout='nturgb+d',
                                                mode='spatial'))
CTRGCN = dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d',
                                           mode='spatial'),
              base_channels=32, num_stages=3, inflate_stages=[3],
              down_stages=[3])
BACKBONES = dict(stgcn=STGCN, stgcnpp=STGCNPP, aagcn=AAGCN, ctrgcn=CTRGCN)


def build(backbone, sf_head=None, recognizer='SFRecognizerGCN',
          num_classes=8):
    cfg = dict(type=recognizer, backbone=copy.deepcopy(backbone),
               cls_head=dict(type='GCNHead', num_classes=num_classes,
                             in_channels=64))
    if sf_head is not None:
        cfg['sf_head'] = sf_head
    return MODELS.build(cfg)


def batch(n=4, m=2, t=16, v=25, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 1, m, t, v, 3, generator=g)
    inputs[:, :, 1] = 0  # padded second person, as FormatGCNInput does
    samples = [ActionDataSample().set_gt_label(i % 8) for i in range(n)]
    return inputs, samples


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_attaches_to_every_block_and_logs_both_losses(name):
    model = build(BACKBONES[name], dict())
    assert model.sf_attach_points == [
        f'backbone.gcn.{i}.gcn' for i in range(3)]
    losses = model(*batch(), mode='loss')
    for key in ('loss_cls', 'loss_sf_con', 'loss_sf_red'):
        assert torch.isfinite(losses[key]), key


def test_frl_diagnostics_are_logged_but_not_summed():
    model = build(CTRGCN, dict(groups=4))
    losses = model(*batch(), mode='loss')
    top1, span = losses['sf_red_top1'], losses['sf_red_logit_span']
    assert 0 <= top1.item() <= 1 and span.item() > 0
    assert not top1.requires_grad and not span.requires_grad
    total, log_vars = model.parse_losses(losses)
    assert 'sf_red_top1' in log_vars and 'sf_red_logit_span' in log_vars
    want = losses['loss_cls'] + losses['loss_sf_con'] + losses['loss_sf_red']
    torch.testing.assert_close(total, want)
    # the plug-in's phi reaches its consistency loss
    assert model.sf_head.criterion.consistency.phi == 'focal'
    assert build(CTRGCN, dict(groups=4, phi='printed')
                 ).sf_head.criterion.consistency.phi == 'printed'


def test_stages_select_blocks_one_based():
    model = build(STGCN, dict(stages=[1, 3]))
    assert model.sf_attach_points == ['backbone.gcn.0.gcn',
                                      'backbone.gcn.2.gcn']
    assert len(model.sf_head.heads) == 2


def test_losses_are_mean_over_blocks():
    model = build(STGCN, dict(lambda_con=1.0, lambda_red=1.0))
    inputs, samples = batch()
    per_block = {}
    plugin = model.sf_head
    original = plugin.loss
    con_loss = plugin.criterion.consistency
    red_loss = plugin.criterion.redundancy

    def spy(cls_score, data_samples, num_persons):
        # each block's loss, computed from the same captured outputs
        for key, result in plugin.captured.items():
            from sfhead_mm.models.losses import clip_features
            fs = [clip_features(f, num_persons) for f in
                  (result.f_t, result.f_s, result.f_c, result.f_o,
                   result.f_a)]
            per_block[key] = (con_loss(fs[4], [fs[2], fs[1], fs[0],
                                               fs[3]]),
                              red_loss(fs[1], fs[0]))
        return original(cls_score, data_samples, num_persons)

    plugin.loss = spy
    losses = model(inputs, samples, mode='loss')
    con = sum(v[0] for v in per_block.values()) / 3
    red = sum(v[1] for v in per_block.values()) / 3
    assert len(per_block) == 3
    torch.testing.assert_close(losses['loss_sf_con'], con)
    torch.testing.assert_close(losses['loss_sf_red'], red)


def test_branch_aux_losses_reach_backbone_gcn():
    model = build(STGCN, dict())
    losses = model(*batch(), mode='loss')
    (losses['loss_sf_con'] + losses['loss_sf_red']).backward()
    gcn = model.backbone.gcn[1].gcn
    grads = [p.grad for p in gcn.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    # ... and not into the classifier, which the aux losses do not use
    assert all(p.grad is None for p in model.cls_head.parameters())


@pytest.mark.parametrize('name', ['stgcn', 'ctrgcn'])
def test_branch_test_output_equals_plain_recognizer(name):
    torch.manual_seed(0)
    model = build(BACKBONES[name], dict(placement='branch')).eval()
    plain = build(BACKBONES[name], recognizer='RecognizerGCN').eval()
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith('sf_head.')}
    plain.load_state_dict(state, strict=True)
    inputs, samples = batch()
    calls = []
    for head in model.sf_head.heads.values():
        head.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        a = model(inputs, mode='tensor')
        b = plain(inputs, mode='tensor')
        pa = model(inputs, copy.deepcopy(samples), mode='predict')
        pb = plain(inputs, copy.deepcopy(samples), mode='predict')
    assert torch.equal(a, b)
    assert torch.equal(pa[0].pred_score, pb[0].pred_score)
    assert calls == []


def test_inline_head_runs_in_both_modes():
    torch.manual_seed(0)
    model = build(STGCN, dict(placement='inline')).eval()
    plain = build(STGCN, recognizer='RecognizerGCN').eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith('sf_head.')})
    calls = []
    for head in model.sf_head.heads.values():
        head.register_forward_hook(lambda *a: calls.append(1))
    inputs, samples = batch()
    with torch.no_grad():
        a = model(inputs, mode='tensor')
        b = plain(inputs, mode='tensor')
    assert len(calls) == 3
    assert not torch.allclose(a, b)
    model.train()
    losses = model(inputs, samples, mode='loss')
    assert len(calls) == 6 and torch.isfinite(losses['loss_sf_con'])


# A backbone that is neither ours nor mmaction's ---------------------------
class ForeignLayer(nn.Module):

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.spatial = nn.Sequential(nn.Conv2d(cin, cout, 1),
                                     nn.BatchNorm2d(cout), nn.ReLU())
        self.temporal = nn.Conv2d(cout, cout, (3, 1), padding=(1, 0))

    def forward(self, x):
        return self.temporal(self.spatial(x))


@MODELS.register_module(force=True)
class ForeignSkeletonNet(nn.Module):
    """(N, M, T, V, C) -> (N, M, C', T, V), with `layers.i.spatial`."""

    def __init__(self, in_channels: int = 3, channels: int = 64) -> None:
        super().__init__()
        self.layers = nn.ModuleList([ForeignLayer(in_channels, channels),
                                     ForeignLayer(channels, channels)])

    def forward(self, x):
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 4, 2, 3).reshape(N * M, C, T, V)
        for layer in self.layers:
            x = layer(x)
        return x.reshape((N, M) + x.shape[1:])


def test_foreign_backbone_by_config_alone():
    foreign = dict(type='ForeignSkeletonNet', channels=64)
    with pytest.raises(ValueError, match='children named `gcn` and `tcn`'):
        build(foreign, dict())
    model = build(foreign, dict(attach_to='backbone.layers.*.spatial'))
    assert model.sf_attach_points == ['backbone.layers.0.spatial',
                                      'backbone.layers.1.spatial']
    losses = model(*batch(), mode='loss')
    (losses['loss_sf_con'] + losses['loss_sf_red']).backward()
    grad = model.backbone.layers[0].spatial[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0


# Bad config: clear errors at build time, naming the field -----------------
@pytest.mark.parametrize('sf_head, match', [
    (dict(placement='side'), "sf_head.placement='side'"),
    (dict(stages=[0, 2]), r'sf_head.stages=\[0, 2\].*1\.\.3'),
    (dict(stages=[4]), r'sf_head.stages=\[4\]'),
    (dict(lambda_con=-0.1), 'sf_head.lambda_con'),
    (dict(lambda_red=-1), 'sf_head.lambda_red'),
    (dict(attach_to='backbone.nothing.*'), 'matches no module'),
    (dict(groups=5), r'backbone.gcn.0.gcn.*C=32'),
])
def test_bad_sf_head_config(sf_head, match):
    with pytest.raises(ValueError, match=match):
        build(STGCN, sf_head)


# Deploy export ---------------------------------------------------------------
def test_export_deploy_loads_strictly_into_plain_config(tmp_path):
    from mmengine.config import Config

    from tests.conftest import REPO
    cfg_path = tmp_path / 'sf.py'
    cfg_path.write_text(
        f"model = dict(type='SFRecognizerGCN', backbone={STGCN!r}, "
        "cls_head=dict(type='GCNHead', num_classes=8, in_channels=64), "
        "sf_head=dict(placement='branch'))\n")
    model = MODELS.build(Config.fromfile(cfg_path).model)
    ckpt = tmp_path / 'ckpt.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'deploy' / 'deploy.pth'
    result = subprocess.run(
        [sys.executable, 'tools/export_deploy.py', str(cfg_path), str(ckpt),
         str(out)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    head_params = sum(p.numel() for p in model.sf_head.parameters())
    assert f'removed {head_params} head parameters' in result.stdout
    state = torch.load(out, weights_only=True)['state_dict']
    assert not any(k.startswith('sf_head.') for k in state)
    plain = build(STGCN, recognizer='RecognizerGCN')
    plain.load_state_dict(state, strict=True)
