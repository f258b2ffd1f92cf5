"""Strict weight loading in every tool that evaluates or deploys weights
(issue 12, item 1) and one-line errors for unreadable checkpoints (item 10).
"""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from sfhead_mm.engine.checkpoint_loading import (CheckpointError,
                                                 load_weights_strictly,
                                                 read_checkpoint)
from tests.conftest import REPO, TINY_STGCN, subprocess_env, write_config


@pytest.fixture(scope='module')
def wrong_checkpoints(tmp_path_factory, demo_ann_file) -> dict:
    """Checkpoints that do not fit the tiny CTR-GCN + SF-Head config."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    directory = tmp_path_factory.mktemp('wrong')
    config = write_config(directory, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, TINY_STGCN)
    stgcn = MODELS.build(Config.fromfile(config).model)
    paths = dict(stgcn=directory / 'stgcn.pth',
                 no_state_dict=directory / 'meta_only.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=stgcn.state_dict()),
               paths['stgcn'])
    torch.save(dict(meta=dict(epoch=1), optimizer={}),
               paths['no_state_dict'])
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.parametrize('kind', ['stgcn', 'no_state_dict'])
def test_wrong_checkpoint_refused_by_test_infer_and_onnx(
        tmp_path, trained_demo, wrong_checkpoints, kind):
    from tools import export_onnx, infer
    from tools import test as test_tool
    config, _ = trained_demo
    ckpt = wrong_checkpoints[kind]
    skeleton = tmp_path / 'clip.npy'
    np.save(skeleton, np.random.rand(1, 20, 25, 3).astype(np.float32))
    calls = {
        'test.py': lambda: test_tool.main(
            [config, ckpt, '--work-dir', str(tmp_path / 'wd')]),
        'infer.py': lambda: infer.main([config, ckpt, str(skeleton)]),
        'export_onnx.py': lambda: export_onnx.main(
            [config, ckpt, str(tmp_path / 'm.onnx')]),
    }
    for tool, call in calls.items():
        with pytest.raises(CheckpointError) as err:
            call()
        assert ckpt in str(err.value), tool
        if kind == 'stgcn':
            assert config in str(err.value), tool
            assert 'backbone.gcn.0.gcn.ctrgc' in str(err.value), tool
        else:
            assert "no 'state_dict'" in str(err.value), tool
    assert not (tmp_path / 'm.onnx').exists()


def test_correct_branch_checkpoint_loads_without_warning(tmp_path,
                                                         trained_demo):
    """infer.py builds the deploy model; the branch heads' weights are
    skipped by name, so nothing warns about mismatched keys."""
    config, ckpt = trained_demo
    skeleton = tmp_path / 'clip.npy'
    np.save(skeleton, np.random.rand(1, 20, 25, 3).astype(np.float32))
    result = subprocess.run(
        [sys.executable, 'tools/infer.py', config, ckpt, str(skeleton)],
        capture_output=True, text=True, cwd=REPO, env=subprocess_env(),
        timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert '1. ' in result.stdout
    for warning in ('do not match', 'unexpected key', 'missing keys'):
        assert warning not in output


def test_training_only_heads_matched_by_name(trained_demo):
    """The branch SF-Head checkpoint loads into the deploy model; a copy
    with one backbone weight missing does not."""
    from mmengine.config import Config

    from mmaction.registry import MODELS
    from sfhead_mm.models.deploy import deploy_model_cfg
    config, ckpt = trained_demo
    cfg = Config.fromfile(config)
    model = MODELS.build(deploy_model_cfg(cfg.model))
    skipped = load_weights_strictly(model, ckpt, cfg.model, config)
    assert skipped and all(k.startswith('sf_head.') for k in skipped)
    state = torch.load(ckpt, weights_only=True)
    weights = state['state_dict']
    assert torch.equal(model.cls_head.fc.weight, weights['cls_head.fc.weight'])
    del weights['cls_head.fc.weight']
    weights['backbone.data_bn.bias'] = torch.full_like(
        weights['backbone.data_bn.bias'], float('nan'))
    broken = ckpt + '.broken.pth'
    torch.save(state, broken)
    with pytest.raises(CheckpointError, match=r'missing .*cls_head\.fc\.'
                       r'weight'):
        load_weights_strictly(model, broken, cfg.model, config)
    weights['cls_head.fc.weight'] = model.cls_head.fc.weight.detach()
    torch.save(state, broken)
    with pytest.raises(CheckpointError,
                       match=r'non-finite .*backbone\.data_bn\.bias'):
        load_weights_strictly(model, broken, cfg.model, config)


def test_unreadable_checkpoints_named_in_one_line(tmp_path, trained_demo):
    _, ckpt = trained_demo
    data = open(ckpt, 'rb').read()
    cases = {
        'empty.pth': (b'', 'is empty'),
        'truncated.pth': (data[:len(data) // 2], 'is truncated'),
        'text.pth': (b'epoch 1 top1 0.5\n', 'not a PyTorch checkpoint'),
        'annotations.pkl': (pickle.dumps(dict(
            split=dict(xsub_train=['a']),
            annotations=[dict(frame_dir='a', label=0, keypoint=np.zeros(
                (1, 2, 25, 3), np.float32))]), protocol=4),
            'plain pickle, not a checkpoint'),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError, match=message) as err:
            read_checkpoint(str(path))
        assert str(path) in str(err.value)
        assert '\n' not in str(err.value)
    tensor = tmp_path / 'tensor.pth'
    torch.save(torch.ones(3), tensor)
    with pytest.raises(CheckpointError, match='holds a Tensor'):
        read_checkpoint(str(tensor))
    # MMEngine's own loading (load_from, Runner.resume) goes through our
    # registered loader: also one line naming the file
    from mmengine.runner.checkpoint import CheckpointLoader

    from sfhead_mm.engine.launch import USER_ERRORS
    for name in ('empty.pth', 'truncated.pth', 'text.pth'):
        path = str(tmp_path / name)
        with pytest.raises(USER_ERRORS) as err:
            CheckpointLoader.load_checkpoint(path, map_location='cpu')
        assert path in str(err.value) and '\n' not in str(err.value)
