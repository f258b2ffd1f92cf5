"""Shared fixtures: a small demo dataset and tiny configs on top of ours."""
import os
import pickle
import sys
from pathlib import Path

import pytest

# One torch thread per test process: `make test` runs two pytest workers on
# the two cores, and two OpenMP threads per worker oversubscribe them. On a
# busy core OpenMP's waiting threads then stall each other: a tiny CTR-GCN
# train step measured 4.1 s with 2 threads beside another process and
# 0.045 s with 1. Set before torch is imported; subprocesses inherit it.
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / 'shared' / 'data'
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import sfhead_mm  # noqa: E402,F401
import torch  # noqa: E402

torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


@pytest.fixture(scope='session')
def demo_ann_file(tmp_path_factory) -> str:
    """A small synthetic demo set (4 subjects -> 2 train, 2 val)."""
    from data_prep.make_demo import make_demo_dataset
    path = tmp_path_factory.mktemp('demo') / 'demo.pkl'
    with open(path, 'wb') as f:
        pickle.dump(make_demo_dataset(seed=0, subjects=4, per_class=2), f)
    return str(path)


TINY_STGCN = """
model = dict(
    backbone=dict(base_channels=8, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=16))
"""


def write_config(directory, base: str, ann_file: str, extra: str = '',
                 max_epochs: int = 1, name: str = 'tiny.py') -> str:
    """A config that inherits ``base`` (a repo config) and shrinks it.

    Returns:
        str: the path of the written config.
    """
    base_path = base if os.path.isabs(base) else str(REPO / base)
    text = f"""
_base_ = {base_path!r}
ann_file = {ann_file!r}
train_dataloader = dict(batch_size=8, dataset=dict(
    dataset=dict(ann_file=ann_file)))
val_dataloader = dict(dataset=dict(ann_file=ann_file))
test_dataloader = dict(dataset=dict(ann_file=ann_file))
train_cfg = dict(max_epochs={max_epochs})
param_scheduler = [dict(type='ConstantLR', factor=1.0)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1,
                                     save_best=None))
{extra}
"""
    path = Path(directory) / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def tiny_stgcn_config(tmp_path, demo_ann_file) -> str:
    return write_config(tmp_path, 'configs/demo/stgcn_demo.py', demo_ann_file,
                        TINY_STGCN)


def subprocess_env() -> dict:
    """Environment for subprocesses: this venv first on PATH."""
    env = dict(os.environ)
    env['PATH'] = str(Path(sys.executable).parent) + os.pathsep + env['PATH']
    env['PYTHONWARNINGS'] = 'ignore'
    # tiny test models run faster on one thread, and parallel test
    # processes do not fight over the cores
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


TINY_CTRGCN_SF = """
model = dict(
    type='SFRecognizerGCN',
    backbone=dict(_delete_=True, type='CTRGCN',
                  graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=32),
    sf_head=dict(placement='{placement}', groups=4))
"""


def _train_tiny(tmp_path_factory, ann_file: str, placement: str) -> tuple:
    import subprocess
    directory = tmp_path_factory.mktemp(f'trained_{placement}')
    config = write_config(directory, 'configs/demo/stgcn_demo.py', ann_file,
                          TINY_CTRGCN_SF.format(placement=placement))
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(directory / 'wd')], capture_output=True, text=True, cwd=REPO,
        env=subprocess_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return config, str(directory / 'wd' / 'epoch_1.pth')


@pytest.fixture(scope='session')
def trained_demo(tmp_path_factory, demo_ann_file) -> tuple:
    """(config, checkpoint) of a tiny CTR-GCN + branch SF-Head, 1 epoch."""
    return _train_tiny(tmp_path_factory, demo_ann_file, 'branch')


@pytest.fixture(scope='session')
def trained_demo_inline(tmp_path_factory, demo_ann_file) -> tuple:
    """(config, checkpoint) of a tiny CTR-GCN + inline SF-Head, 1 epoch."""
    return _train_tiny(tmp_path_factory, demo_ann_file, 'inline')


def launcher_failure(result, chars: int = 3000) -> str:
    """A failed ``dist_train.sh`` run's stderr for an assertion message:
    the ranks' last lines before torchrun's own report (which alone would
    fill the message), then the end of that report."""
    err = result.stderr
    cut = err.find('torch/distributed/elastic/multiprocessing/api.py')
    ranks = err[:cut] if cut > 0 else err
    return ranks[-chars:] + '\n[torchrun]\n' + err[-1000:]


def free_port() -> int:
    """A TCP port nobody listens on now (for torchrun's rendezvous)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
