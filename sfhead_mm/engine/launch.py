"""What ``tools/train.py`` and ``tools/test.py`` share: config loading with
clear errors, command-line merging and the checks run before a Runner is
built. Kept here (not in ``tools/``) so that tests call the same code.
"""
import argparse
import atexit
import gc
import logging
import os
import os.path as osp
import sys
from typing import Any, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from sfhead_mm.compat import (CheckpointReadError, UnsafeCheckpointError,
                              setup_distributed)
from sfhead_mm.datasets.transforms import check_keypoint_shapes
from sfhead_mm.datasets.validation import (AnnotationError,
                                           check_dataloader_annotations)

__all__ = [
    'ConfigError', 'USER_ERRORS', 'add_common_args', 'load_config',
    'merge_common_args', 'enable_amp', 'prepare_config',
    'warn_single_sample_batches', 'finish_distributed',
    'end_distributed_run'
]


class ConfigError(ValueError):
    """A config or its data cannot be used; the message says what to fix."""


# Errors whose message is the whole story: tools print them without a trace.
USER_ERRORS = (ConfigError, AnnotationError, UnsafeCheckpointError,
               CheckpointReadError)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by train and test (mmaction's command line)."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config fields, e.g. '
        'train_cfg.max_epochs=3 model.cls_head.num_classes=8')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher (dist_train.sh uses pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(path: str,
                cfg_options: Optional[dict] = None) -> Config:
    """Load a config file, failing early with the path when it is missing."""
    if not osp.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def merge_common_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``--work-dir`` and ``--launcher`` (CLI > config > file name)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to MMEngine's ``AmpOptimWrapper``.

    MMEngine's AMP wrapper supports accelerators only; on a CPU machine we
    stop with a clear message instead of its assertion.
    """
    if not torch.cuda.is_available():
        raise ConfigError(
            '--amp needs a CUDA GPU (MMEngine AmpOptimWrapper does not run '
            'on CPU); drop --amp on this machine.')
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise ConfigError(
            f'--amp works with optim_wrapper.type OptimWrapper, got '
            f'{wrapper_type!r}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def prepare_config(cfg: Config,
                   loaders: Sequence[str] = ('train_dataloader',
                                             'val_dataloader',
                                             'test_dataloader')) -> Any:
    """Run the pre-flight checks and distributed set-up, in that order.

    Checks: annotation files (format, split, labels vs ``num_classes``),
    then keypoint shapes (joints vs the graph, channels vs the backbone:
    a 2D pickle with a 3D config stops here, not in BatchNorm).

    Args:
        cfg: the merged config.
        loaders: the dataloader fields whose annotation files are checked.

    Returns:
        The backend initialised for CPU distributed runs, or None.
    """
    loaded: dict = {}  # each annotation file is read once
    check_dataloader_annotations(cfg, loaders, loaded)
    check_keypoint_shapes(cfg, loaders, loaded)
    if 'train_dataloader' in loaders:
        warn_single_sample_batches(cfg)
    return setup_distributed(cfg, cfg.get('launcher', 'none'))


def warn_single_sample_batches(cfg: Config) -> Optional[str]:
    """Warn (once, before training) that F-RL has no negatives when each
    process sees one clip per batch: ``loss_sf_red`` is then 0 and the
    SF-Head trains on F-CL alone.

    Returns:
        str | None: the warning, or None when there is nothing to say.
    """
    loader = cfg.get('train_dataloader') or {}
    if cfg.get('model', {}).get('sf_head') is None or \
            loader.get('batch_size') != 1:
        return None
    message = ('train_dataloader.batch_size is 1: the SF-Head feature '
               'redundancy loss (F-RL) compares each clip with the other '
               'clips of its batch, so loss_sf_red will be 0 (no '
               'negatives). Use a batch size of at least 2 per process.')
    print_log(message, logger='current', level=logging.WARNING)
    return message


def finish_distributed() -> bool:
    """Destroy the default process group, if any, after a barrier.

    The barrier lets no rank close its connections while a peer may still
    be using them.

    Returns:
        bool: whether there was a group, i.e. this was a distributed run.
    """
    if not (torch.distributed.is_available()
            and torch.distributed.is_initialized()):
        return False
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    return True


def end_distributed_run() -> None:
    """End a finished process: return if it was not distributed; else
    :func:`finish_distributed`, then exit with status 0, skipping only the
    interpreter's and C++'s teardown.

    The caller must still hold the runner (its DDP model owns the
    process group), so that nothing frees the group in this process.

    Why: freeing a gloo process group from Python can deadlock or abort.
    Its destructor runs with the GIL held and waits for the group's worker
    threads, while a worker may still be destroying the last collective,
    whose tensors need the GIL to be freed (seen here in a gdb trace of a
    finished rank that hung: ``~ProcessGroupGloo`` in the main thread,
    ``~AsyncBarrierWork`` -> ``decref_pyobject`` -> ``gil_scoped_acquire``
    in ``pt_gloo_runloop``). DDP's reducer, which holds the group, is
    freed only by a garbage collection, by default the one at interpreter
    exit, where the GIL can no longer be taken: most likely why a finished
    rank now and then (about 1 in 100 2-rank runs) aborted there with
    "terminate called without an active exception" and ``dist_train.sh``
    reported the run as failed. So: no garbage collection from here on; the
    ``atexit`` handlers run (persistent DataLoader workers,
    ``logging.shutdown``, visualizer back-ends, the work-dir lock), the
    streams are flushed, then ``os._exit(0)``.
    """
    if not finish_distributed():
        return
    gc.disable()
    atexit._run_exitfuncs()  # what a normal exit runs first (CPython)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)
