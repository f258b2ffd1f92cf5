"""Foundation end to end: Runner training from an inherited mmaction config,
resume, 2-process gloo DDP via dist_train.sh, mim train, bad input."""
import json
import pickle
import subprocess
import sys

import pytest
import torch

from tests.conftest import (REPO, TINY_STGCN, free_port, launcher_failure,
                            subprocess_env, write_config)

PY = sys.executable


def run(cmd, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                            env=subprocess_env(), timeout=timeout, **kwargs)
    return result


def train(config, work_dir, *extra) -> subprocess.CompletedProcess:
    return run([PY, 'tools/train.py', config, '--work-dir', str(work_dir),
                *extra])


def test_inherited_config_trains_one_epoch(tmp_path, tiny_stgcn_config):
    from mmengine.config import Config
    cfg = Config.fromfile(tiny_stgcn_config)
    # inherited from mmaction's file by the `mmaction::` path
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.model.backbone.type == 'STGCN'
    result = train(tiny_stgcn_config, tmp_path / 'wd')
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / 'wd' / 'epoch_1.pth').is_file()
    assert 'acc/top1' in result.stdout + result.stderr


# `end` fixed, so that stopping after epoch 2 (max_epochs=2) is the same
# schedule cut short, as an interrupted 3-epoch run is.
RESUME_SCHEDULE = TINY_STGCN + """
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=3,
                        begin=0, end=3, by_epoch=True,
                        convert_to_iter_based=True)]
"""


def test_resume_matches_uninterrupted_run(tmp_path, demo_ann_file):
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, RESUME_SCHEDULE)
    full, part = tmp_path / 'full', tmp_path / 'part'
    # --no-validate: mmaction's test-mode UniformSampleFrames re-seeds numpy's
    # global RNG at every validation, which would hide a missing re-seed.
    result = train(config, full, '--no-validate', '--cfg-options',
                   'train_cfg.max_epochs=3')
    assert result.returncode == 0, result.stderr[-3000:]
    result = train(config, part, '--no-validate', '--cfg-options',
                   'train_cfg.max_epochs=2')
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (part / 'epoch_3.pth').exists()
    result = train(config, part, '--resume', '--no-validate', '--cfg-options',
                   'train_cfg.max_epochs=3')
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'resumed epoch: 2' in result.stdout + result.stderr
    a = torch.load(full / 'epoch_3.pth', weights_only=True)['state_dict']
    b = torch.load(part / 'epoch_3.pth', weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    # the weights did move during the resumed epoch
    c = torch.load(part / 'epoch_2.pth', weights_only=True)['state_dict']
    assert any(not torch.equal(b[k], c[k]) for k in b)


def test_dist_train_two_gloo_processes(tmp_path, demo_ann_file):
    config = write_config(
        tmp_path, 'configs/demo/stgcn_demo.py', demo_ann_file, TINY_STGCN +
        "custom_hooks = [dict(type='EpochSeedHook'), "
        "dict(type='DDPConsistencyHook')]\n")
    work_dir = tmp_path / 'dist'
    env = subprocess_env()
    # one thread per rank: two ranks share the 2 cores
    env.update(PORT=str(free_port()), PYTHON=PY, OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
         str(work_dir)], capture_output=True, text=True, cwd=REPO, env=env,
        timeout=600)
    assert result.returncode == 0, launcher_failure(result)
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    report = json.loads((work_dir / 'ddp_consistency.json').read_text())
    assert report['world_size'] == 2
    assert report['consistent'] and report['max_abs_diff'] == 0.0


def test_mim_train_runs_our_config(tmp_path, tiny_stgcn_config):
    mim = str((REPO / '.venv' / 'bin' / 'mim')) if (
        REPO / '.venv' / 'bin' / 'mim').exists() else 'mim'
    result = run([mim, 'train', 'mmaction2', tiny_stgcn_config,
                  '--work-dir', str(tmp_path / 'mim')])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert (tmp_path / 'mim' / 'epoch_1.pth').is_file()


# Bad input: stops before training, naming the file or field -------------
def test_missing_config_file(tmp_path):
    result = train(str(tmp_path / 'nope.py'), tmp_path / 'wd')
    assert result.returncode != 0
    assert 'config file not found' in result.stderr
    assert 'nope.py' in result.stderr
    assert not (tmp_path / 'wd').exists()


def _bad_data_case(tmp_path, ann_file, extra=TINY_STGCN):
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          str(ann_file), extra)
    from sfhead_mm.datasets import AnnotationError
    from tools.train import main
    with pytest.raises(AnnotationError) as err:
        main([config, '--work-dir', str(tmp_path / 'wd')])
    assert not list((tmp_path).glob('wd/*.pth'))
    return str(err.value)


def test_missing_dataset_file(tmp_path):
    message = _bad_data_case(tmp_path, tmp_path / 'missing.pkl')
    assert 'train_dataloader' in message and 'missing.pkl' in message
    assert 'not found' in message


def test_dataset_not_a_pickle(tmp_path):
    path = tmp_path / 'fake.pkl'
    path.write_text('{"skeletons": []}')
    message = _bad_data_case(tmp_path, path)
    assert 'fake.pkl' in message and 'not a pickle' in message


def test_dataset_pickle_of_wrong_shape(tmp_path):
    path = tmp_path / 'wrong.pkl'
    path.write_bytes(pickle.dumps(dict(samples=[1, 2])))
    message = _bad_data_case(tmp_path, path)
    assert '"annotations"' in message and 'wrong.pkl' in message


def test_num_classes_smaller_than_labels(tmp_path, demo_ann_file):
    extra = TINY_STGCN + 'model.update(cls_head=dict(in_channels=16, ' \
        'num_classes=5))\n'
    message = _bad_data_case(tmp_path, demo_ann_file, extra)
    assert 'num_classes=5' in message and 'labels go up to 7' in message
    assert 'model.cls_head.num_classes' in message


def test_bad_input_exit_message_from_cli(tmp_path):
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          str(tmp_path / 'absent.pkl'), TINY_STGCN)
    result = train(config, tmp_path / 'wd')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith('error: ')
    assert 'absent.pkl' in result.stderr
    assert 'Traceback' not in result.stderr


def test_2d_pickle_with_3d_config_stops_before_training(tmp_path,
                                                        demo_ann_file):
    """Users hit `running_mean should contain 51 elements not 75` today."""
    with open(demo_ann_file, 'rb') as f:
        data = pickle.load(f)
    for ann in data['annotations']:
        ann['keypoint'] = ann['keypoint'][..., :2]
    path = tmp_path / 'demo_2d.pkl'
    path.write_bytes(pickle.dumps(data))
    message = _bad_data_case(tmp_path, path)
    assert 'demo_2d.pkl' in message and 'sample 0' in message
    assert 'in_channels=3' in message
