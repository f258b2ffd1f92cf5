"""Hooks that keep a training from losing or poisoning its results.

- :class:`SafeCheckpointHook`: MMEngine's ``CheckpointHook`` with atomic
  saves (temporary file in the same directory, fsync, rename), old
  checkpoints (best and ``max_keep_ckpts``) removed only after the new one
  is complete, no checkpoint from non-finite weights, and best-checkpoint
  paths of a copied work dir pointing at the copy.
- :class:`NonFiniteLossHook`: stops at the first NaN/inf loss with the
  iteration, the loss terms and the batch's sample names.
- :class:`WorkDirLockHook`: one training per work dir (a lock file with pid
  and host; stale locks of dead processes are recovered).

:func:`use_safety_hooks` puts all three into a config; ``tools/train.py``
calls it. With ``mim train`` add them in the config (see README).
"""
import atexit
import json
import os
import os.path as osp
import socket
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS

__all__ = [
    'AtomicLocalBackend', 'NonFiniteLossError', 'NonFiniteLossHook',
    'NonFiniteWeightsError', 'SafeCheckpointHook', 'WorkDirLockHook',
    'WorkDirLockedError', 'acquire_work_dir_lock', 'release_work_dir_lock',
    'use_safety_hooks'
]

ATOMIC_BACKEND = 'sfhead_atomic_local'
LOCK_NAME = '.sfhead_mm.lock'


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or inf."""


class NonFiniteWeightsError(RuntimeError):
    """A checkpoint would be written from NaN/inf weights."""


class WorkDirLockedError(RuntimeError):
    """Another training holds the work dir."""


# --------------------------------------------------------------------------
# atomic checkpoint saves
# --------------------------------------------------------------------------
@register_backend(ATOMIC_BACKEND, force=True)
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put`` is atomic: a reader (or a resumed run)
    sees the old file or the complete new one, never a truncated file.

    MMEngine's ``LocalBackend.put`` opens the target with ``'wb'``, so a
    SIGTERM (a SLURM time limit) during the write leaves it truncated.
    """

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        """Write ``obj`` to a temporary file beside ``filepath``, fsync it,
        then rename it onto ``filepath``."""
        filepath = str(filepath)
        directory = osp.dirname(osp.abspath(filepath))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.',
                                   suffix='.tmp', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise
        try:  # make the rename itself durable
            dir_fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` only record the path."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.pending: List[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if is_model_wrapper(model) else model


def _non_finite_weights(model: torch.nn.Module) -> List[str]:
    return [
        name for name, value in _unwrap(model).state_dict().items()
        if value.is_floating_point() and not bool(torch.isfinite(value).all())
    ]


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that cannot leave the work dir without a complete
    checkpoint.

    Same arguments as MMEngine's ``CheckpointHook``. Differences:

    - local saves go through :class:`AtomicLocalBackend` (unless
      ``backend_args`` chooses a backend);
    - an outdated checkpoint (previous best, beyond ``max_keep_ckpts``) is
      removed after the new one is complete, not before;
    - a save from non-finite weights raises :class:`NonFiniteWeightsError`
      instead of writing the file;
    - on ``--resume`` from a copied or moved work dir, best-checkpoint paths
      recorded in the checkpoint point into this work dir, so the original
      directory's files are never removed; leftover temporary files of an
      interrupted save are removed and reported.
    """

    def before_train(self, runner) -> None:
        out_dir = self.out_dir or runner.work_dir
        if (self.backend_args is None and self.file_client_args is None
                and '://' not in str(out_dir)):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        if not isinstance(self.file_backend, LocalBackend):
            return
        self._relocate_best_paths(runner)
        if is_main_process() and osp.isdir(self.out_dir):
            for name in sorted(os.listdir(self.out_dir)):
                if name.startswith('.') and name.endswith('.tmp') and \
                        '.pth.' in name:
                    os.remove(osp.join(self.out_dir, name))
                    runner.logger.warning(
                        f'removed {name}, the incomplete file of a save '
                        f'that was interrupted, from {self.out_dir}')

    def _relocate_best_paths(self, runner) -> None:
        """Point best-checkpoint paths of another directory into out_dir."""

        def relocate(path: Optional[str], key: str) -> Optional[str]:
            if not path or osp.dirname(osp.abspath(path)) == osp.abspath(
                    self.out_dir):
                return path
            local = osp.join(self.out_dir, osp.basename(path))
            runner.logger.info(
                f'{key} was recorded as {path} (another directory); using '
                f'{local} so that nothing outside {self.out_dir} is removed')
            runner.message_hub.update_info(key, local)
            return local

        if getattr(self, 'best_ckpt_path', None):
            self.best_ckpt_path = relocate(self.best_ckpt_path, 'best_ckpt')
        for key, path in (getattr(self, 'best_ckpt_path_dict', None)
                          or {}).items():
            self.best_ckpt_path_dict[key] = relocate(path,
                                                     f'best_ckpt_{key}')

    def _kept_paths(self) -> set:
        kept = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        kept.update((getattr(self, 'best_ckpt_path_dict', None)
                     or {}).values())
        return {osp.abspath(p) for p in kept if p}

    def _with_deferred_removal(self, runner, save, *args) -> None:
        bad = _non_finite_weights(runner.model)
        if bad:
            raise NonFiniteWeightsError(
                f'not saving a checkpoint at epoch {runner.epoch}, iteration '
                f'{runner.iter}: non-finite weights in {bad[:3]} '
                f'({len(bad)} tensors); the training diverged')
        backend = self.file_backend
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            save(runner, *args)
        finally:
            self.file_backend = backend
        kept = self._kept_paths()
        for path in deferred.pending:
            if osp.abspath(path) in kept:
                continue
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        self._with_deferred_removal(runner,
                                    super()._save_checkpoint_with_step, step,
                                    meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        self._with_deferred_removal(runner, super()._save_best_checkpoint,
                                    metrics)


# --------------------------------------------------------------------------
# non-finite loss
# --------------------------------------------------------------------------
def _pack_transforms(dataset: Any) -> List[Any]:
    """PackActionInputs transforms of a (possibly wrapped) dataset."""
    found, stack = [], [dataset]
    while stack:
        ds = stack.pop()
        stack += list(getattr(ds, 'datasets', []) or [])
        if getattr(ds, 'dataset', None) is not None:
            stack.append(ds.dataset)
        pipeline = getattr(ds, 'pipeline', None)
        found += [t for t in getattr(pipeline, 'transforms', [])
                  if type(t).__name__ == 'PackActionInputs']
    return found


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop the training at the first non-finite loss.

    MMEngine 0.10.7 has no such hook. A NaN/inf loss makes every later
    weight NaN, and the run would still exit 0 with NaN checkpoints. This
    hook runs after each training iteration, before the checkpoint hook,
    and raises :class:`NonFiniteLossError` naming the iteration, each loss
    term and the batch's samples (``frame_dir``, which it adds to the train
    pipeline's ``PackActionInputs`` meta keys).

    Under DDP every rank checks its own loss and the ranks agree by one
    all-reduce of a flag, so they all stop at the same iteration: a rank
    that stopped alone would leave the others waiting in their next
    collective until the process-group timeout.

    Args:
        interval (int): check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f'NonFiniteLossHook: interval must be >= 1, '
                             f'got {interval}')
        self.interval = interval

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        for pack in _pack_transforms(getattr(loader, 'dataset', None)):
            if 'frame_dir' not in pack.meta_keys:
                pack.meta_keys = tuple(pack.meta_keys) + ('frame_dir', )

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[Dict[str, Any]] = None) -> None:
        if not outputs or 'loss' not in outputs or \
                not self.every_n_train_iters(runner, self.interval):
            return
        loss = torch.as_tensor(outputs['loss'])
        finite = bool(torch.isfinite(loss).all())
        others = 0  # ranks other than this one with a non-finite loss
        if get_world_size() > 1:
            flag = torch.tensor([0.0 if finite else 1.0], device=loss.device)
            all_reduce(flag)  # sum over ranks
            others = round(float(flag.item())) - (0 if finite else 1)
        if finite and not others:
            return
        if finite:
            raise NonFiniteLossError(
                f'non-finite loss on {others} other rank(s) at iteration '
                f'{runner.iter + 1} (epoch {runner.epoch + 1}); this rank\'s '
                'loss is finite. Every rank stops here; that rank\'s error '
                'names the loss terms and samples.')
        terms = ', '.join(
            f'{k}={float(torch.as_tensor(v).float().mean()):.4g}'
            for k, v in outputs.items())
        samples = [
            str(s.metainfo.get('frame_dir', '?')) for s in
            (data_batch or {}).get('data_samples', []) or []
            if hasattr(s, 'metainfo')
        ]
        raise NonFiniteLossError(
            f'non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx + 1}): {terms}; batch '
            f'samples: {samples}. No checkpoint is written from these '
            'weights. Check those samples and the learning rate, then '
            '--resume from the last checkpoint.')


# --------------------------------------------------------------------------
# work-dir lock
# --------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


_HELD: Dict[str, int] = {}  # lock path -> pid of this process


def acquire_work_dir_lock(work_dir: str, logger: Any = None) -> str:
    """Take the training lock of ``work_dir`` (re-entrant in one process).

    The lock is ``work_dir/.sfhead_mm.lock`` with the pid, host, start time
    and command of its holder. A lock of a dead process on this host is
    recovered (and reported); a lock that is only a partial write is too.

    Returns:
        str: the lock file's path.

    Raises:
        WorkDirLockedError: naming the other run and what to do.
    """
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(osp.realpath(work_dir), LOCK_NAME)
    if _HELD.get(path) == os.getpid():
        return path
    info = dict(pid=os.getpid(), host=socket.gethostname(),
                started=time.strftime('%Y-%m-%d %H:%M:%S'),
                command=' '.join(sys.argv))
    report = logger.warning if logger is not None else print
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path, encoding='utf-8') as f:
                    other = json.load(f)
                pid, host = int(other['pid']), str(other['host'])
            except (OSError, ValueError, KeyError, TypeError):
                if osp.exists(path) and time.time() - osp.getmtime(path) < 5:
                    time.sleep(1)  # its holder may still be writing it
                    continue
                report(f'recovered the unreadable lock file {path}')
                _remove_quietly(path)
                continue
            if host == info['host'] and pid == os.getpid():
                _HELD[path] = pid  # ours (taken under another spelling)
                return path
            if host == info['host'] and not _pid_alive(pid):
                report(f'recovered the stale lock {path} of process {pid} '
                       f'(started {other.get("started")}), which is dead')
                _remove_quietly(path)
                continue
            raise WorkDirLockedError(
                f'work dir {work_dir} is in use by another training: pid '
                f'{pid} on {host}, started {other.get("started")}, command '
                f'{other.get("command")!r}. Use another --work-dir, or wait '
                f'for it to finish; if that run is dead (on another host), '
                f'delete {path}.')
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(info, f)
        _HELD[path] = os.getpid()
        atexit.register(release_work_dir_lock, work_dir)
        return path
    raise WorkDirLockedError(f'could not take the lock {path}; retry')


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def release_work_dir_lock(work_dir: str) -> None:
    """Remove the lock of ``work_dir`` if this process holds it."""
    path = osp.join(osp.realpath(work_dir), LOCK_NAME)
    if _HELD.get(path) != os.getpid():
        return
    del _HELD[path]
    try:
        with open(path, encoding='utf-8') as f:
            if int(json.load(f)['pid']) != os.getpid():
                return
    except (OSError, ValueError, KeyError, TypeError):
        return
    _remove_quietly(path)


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """One training per work dir: two runs in one ``--work-dir`` would
    share the log and ``scalars.json`` and delete each other's checkpoints.

    The main process takes :func:`acquire_work_dir_lock` before the run
    and releases it after (and at exit, if the run fails).
    """

    priority = 'HIGHEST'

    def before_run(self, runner) -> None:
        if is_main_process():
            acquire_work_dir_lock(runner.work_dir, runner.logger)

    def after_run(self, runner) -> None:
        if is_main_process():
            release_work_dir_lock(runner.work_dir)


# --------------------------------------------------------------------------
# wiring
# --------------------------------------------------------------------------
SAFETY_HOOKS: Sequence[str] = ('WorkDirLockHook', 'NonFiniteLossHook')


def use_safety_hooks(cfg: Any) -> None:
    """Use :class:`SafeCheckpointHook` for the config's checkpoint hook and
    add :class:`WorkDirLockHook` and :class:`NonFiniteLossHook` (once).

    A checkpoint hook of another type than MMEngine's ``CheckpointHook``
    (a user's own) is left alone.
    """
    hooks = cfg.get('default_hooks') or {}
    checkpoint = hooks.get('checkpoint')
    if checkpoint is not None and checkpoint.get('type') in (
            'CheckpointHook', CheckpointHook):
        checkpoint['type'] = 'SafeCheckpointHook'
    custom = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in custom}
    cfg.custom_hooks = custom + [
        dict(type=name) for name in SAFETY_HOOKS if name not in present
    ]
