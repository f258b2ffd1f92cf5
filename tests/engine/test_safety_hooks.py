"""Training that cannot lose or poison its results (issue 12, items 2, 5,
6, 7): a non-finite loss stops the run, an interrupted best-checkpoint save
leaves the previous best loadable, one training per work dir, and --resume
uses the work dir's own checkpoints."""
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import types

import pytest
import torch

from sfhead_mm.engine.checkpoint_loading import read_checkpoint
from sfhead_mm.engine.safety_hooks import (NonFiniteLossError,
                                           NonFiniteLossHook,
                                           NonFiniteWeightsError,
                                           WorkDirLockedError,
                                           WorkDirLockHook,
                                           acquire_work_dir_lock,
                                           release_work_dir_lock)
from tests.conftest import REPO, subprocess_env

# Runs tools/train.py after making every validation a new best; the
# process SIGTERMs itself half-way through writing the
# file whose name contains it (MMEngine opens the target itself, ours a
# temporary file beside it: both go through open/io.open).
DRIVER = textwrap.dedent("""
    import builtins, io, os, runpy, signal, sys, time
    from mmengine.hooks import CheckpointHook
    CheckpointHook.rule_map = dict(CheckpointHook.rule_map,
                                   greater=lambda x, y: True)
    die_in = os.environ['DIE_IN']
    real_open = builtins.open

    def name_of(file):
        if isinstance(file, int):
            return os.readlink(f'/proc/self/fd/{file}')
        return os.fspath(file)

    class Dying:
        def __init__(self, f):
            self.f = f
        def write(self, data):
            self.f.write(data[:len(data) // 2])
            self.f.flush()
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def __getattr__(self, name):
            return getattr(self.f, name)

    def patched_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if 'w' in mode and die_in in os.path.basename(
                name_of(file)):
            return Dying(f)
        return f

    builtins.open = io.open = patched_open
    sys.argv = ['tools/train.py'] + sys.argv[1:]
    runpy.run_path('tools/train.py', run_name='__main__')
""")

BEST = ['default_hooks.checkpoint.save_best=acc/top1',
        'default_hooks.checkpoint.rule=greater',
        'default_hooks.checkpoint.max_keep_ckpts=1']


def run_driver(config, work_dir, epochs, die_in):
    env = dict(subprocess_env(), DIE_IN=die_in)
    args = [sys.executable, '-c', DRIVER, config, '--work-dir',
            str(work_dir), '--cfg-options', f'train_cfg.max_epochs={epochs}',
            *BEST]
    return subprocess.run(args, capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


def test_sigterm_in_best_save_then_resume_a_copied_work_dir(
        tmp_path, tiny_stgcn_config, monkeypatch, capsys):
    from mmengine.hooks import CheckpointHook

    from tools import train
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    killed = run_driver(tiny_stgcn_config, original, 2,
                        die_in='best_acc_top1_epoch_2')
    assert killed.returncode == -15, killed.stderr[-2000:]
    names = sorted(os.listdir(original))
    # the previous best is complete; no truncated new best beside it
    read_checkpoint(str(original / 'best_acc_top1_epoch_1.pth'))
    assert 'best_acc_top1_epoch_2.pth' not in names
    assert any(n.endswith('.tmp') for n in names), names  # the partial
    assert '.sfhead_mm.lock' in names  # a SIGTERM runs no clean-up

    shutil.copytree(original, copy)
    before = {n: os.path.getmtime(original / n) for n in names}
    # resumed in this process (as the driver: every validation a new best)
    monkeypatch.setattr(CheckpointHook, 'rule_map', dict(
        CheckpointHook.rule_map, greater=lambda x, y: True))
    train.main([tiny_stgcn_config, '--work-dir', str(copy), '--resume',
                '--cfg-options', 'train_cfg.max_epochs=3', *BEST])
    out = capsys.readouterr().out
    assert f'resuming from {copy / "epoch_2.pth"}' in out
    assert 'outside this work dir' in out
    assert 'recovered the stale lock' in out
    assert 'incomplete file of a save that was interrupted' in out
    copied = sorted(os.listdir(copy))
    assert not [n for n in copied if n.endswith('.tmp')]
    assert 'best_acc_top1_epoch_3.pth' in copied
    assert 'best_acc_top1_epoch_1.pth' not in copied  # replaced, in the copy
    # the original work dir is untouched
    assert {n: os.path.getmtime(original / n)
            for n in os.listdir(original)} == before


def test_resume_says_when_there_is_nothing_to_resume(tmp_path, capsys):
    from sfhead_mm.engine.resume import resolve_resume_checkpoint
    (tmp_path / 'last_checkpoint').write_text('')
    (tmp_path / 'epoch_2.pth').write_bytes(b'')
    assert resolve_resume_checkpoint(str(tmp_path)) is None
    out = capsys.readouterr().out
    assert 'last_checkpoint is empty' in out
    assert f'not resuming from {tmp_path / "epoch_2.pth"}' in out
    assert f'no checkpoint to resume from in {tmp_path}' in out


def test_non_finite_loss_stops_training_without_checkpoint(
        tmp_path, tiny_stgcn_config, monkeypatch):
    from tools import train
    work_dir = tmp_path / 'wd'
    with pytest.raises(NonFiniteLossError) as err:
        train.main([tiny_stgcn_config, '--work-dir', str(work_dir),
                    '--cfg-options', 'optim_wrapper.optimizer.lr=1e30'])
    message = str(err.value)
    assert 'non-finite loss at iteration' in message
    assert 'loss_cls=nan' in message
    assert "'S0" in message  # the batch's sample names (frame_dir)
    assert not list(work_dir.glob('*.pth'))
    release_work_dir_lock(str(work_dir))

    # without the loss check, the checkpoint hook refuses NaN weights
    monkeypatch.setattr(NonFiniteLossHook, 'after_train_iter',
                        lambda *args, **kwargs: None)
    work_dir = tmp_path / 'wd2'
    with pytest.raises(NonFiniteWeightsError, match='non-finite weights'):
        train.main([tiny_stgcn_config, '--work-dir', str(work_dir),
                    '--cfg-options', 'optim_wrapper.optimizer.lr=1e30'])
    assert not list(work_dir.glob('*.pth'))
    release_work_dir_lock(str(work_dir))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_work_dir_lock(tmp_path, tiny_stgcn_config, capsys, monkeypatch):
    from tools import train
    work_dir = tmp_path / 'wd'
    work_dir.mkdir()
    lock = work_dir / '.sfhead_mm.lock'
    host = socket.gethostname()
    other = subprocess.Popen([sys.executable, '-c',
                              'import time; time.sleep(60)'])
    try:
        lock.write_text(json.dumps(dict(pid=other.pid, host=host,
                                        started='x', command='train A')))
        with pytest.raises(WorkDirLockedError) as err:
            train.main([tiny_stgcn_config, '--work-dir', str(work_dir)])
        assert f'pid {other.pid} on {host}' in str(err.value)
        assert "'train A'" in str(err.value)
        assert not list(work_dir.glob('*.py'))  # nothing written
        # the hook (for configs run by mim train) refuses the same way

        runner = type('Runner', (), dict(work_dir=str(work_dir),
                                         logger=None))()
        with pytest.raises(WorkDirLockedError):
            WorkDirLockHook().before_run(runner)
    finally:
        other.kill()
        other.wait()
    # a lock of a dead process is recovered, and reported
    lock.write_text(json.dumps(dict(pid=_dead_pid(), host=host,
                                    started='x', command='train A')))
    acquire_work_dir_lock(str(work_dir))
    assert 'recovered the stale lock' in capsys.readouterr().out
    assert json.loads(lock.read_text())['pid'] == os.getpid()
    release_work_dir_lock(str(work_dir))
    assert not lock.exists()
    # re-entrant in one process, whatever the spelling of the path
    # (tools/train.py takes it before the Runner, the hook again)
    monkeypatch.chdir(tmp_path)
    acquire_work_dir_lock('wd')
    acquire_work_dir_lock(str(work_dir) + '/')
    release_work_dir_lock(str(work_dir))
    assert not lock.exists()
    # another host's lock is never taken over
    lock.write_text(json.dumps(dict(pid=1, host='elsewhere', started='x',
                                    command='train B')))
    with pytest.raises(WorkDirLockedError, match='on elsewhere'):
        acquire_work_dir_lock(str(work_dir))


@pytest.mark.parametrize('tool', ['train', 'run_demo'])
def test_training_tools_use_the_safety_hooks(tmp_path, tiny_stgcn_config,
                                             monkeypatch, tool):
    """The config that tools/train.py and `make demo` (run_demo.py) give
    the Runner has the three hooks, once each."""
    import importlib

    from mmengine.runner import Runner
    module = importlib.import_module(f'tools.{tool}')
    built = []

    def capture(cfg):
        built.append(cfg)
        raise KeyboardInterrupt  # stop before training

    monkeypatch.setattr(Runner, 'from_cfg', staticmethod(capture))
    args = [tiny_stgcn_config, '--work-dir', str(tmp_path / 'wd')]
    with pytest.raises(KeyboardInterrupt):
        module.main(args if tool == 'train' else ['--config', *args])
    release_work_dir_lock(str(tmp_path / 'wd'))
    cfg = built[0]
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    types = [h['type'] for h in cfg.custom_hooks]
    assert types == ['EpochSeedHook', 'WorkDirLockHook', 'NonFiniteLossHook']



def _non_finite_on_one_rank(rank: int, store: str, queue) -> None:
    """One of two gloo ranks: rank 1's loss is NaN; report what each
    rank's NonFiniteLossHook raised."""
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{store}',
                            rank=rank, world_size=2)
    runner = types.SimpleNamespace(iter=6, epoch=1)
    loss = torch.tensor(float('nan') if rank == 1 else 0.5)
    try:
        NonFiniteLossHook().after_train_iter(
            runner, batch_idx=2, data_batch={},
            outputs=dict(loss=loss, loss_cls=loss))
        queue.put((rank, 'no error'))
    except NonFiniteLossError as err:
        queue.put((rank, str(err)))
    finally:
        dist.destroy_process_group()


def test_non_finite_loss_on_one_ddp_rank_stops_every_rank(tmp_path):
    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_non_finite_on_one_rank,
                         args=(rank, str(tmp_path / 'store'), queue))
             for rank in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0, 'a rank hung or crashed'
    messages = dict(queue.get(timeout=5) for _ in procs)
    assert messages[1].startswith('non-finite loss at iteration 7')
    assert 'loss_cls=nan' in messages[1]
    assert messages[0].startswith('non-finite loss on 1 other rank(s) at '
                                  'iteration 7')
