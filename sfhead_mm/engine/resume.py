"""Which checkpoint ``--resume`` continues from, said out loud.

MMEngine's ``find_latest_checkpoint`` returns the absolute path written in
``work_dir/last_checkpoint``: a copied work dir resumes from the original
directory's checkpoint, a moved one fails on the old path, an empty file
gives "checkpoint file not found: " and an empty work dir silently trains
from scratch. :func:`resolve_resume_checkpoint` looks in the work dir itself,
skips (and reports) checkpoints that do not load, and says which one it
resumes from, or that there is none.
"""
import glob
import os.path as osp
import re
from typing import Callable, List, Optional

from sfhead_mm.engine.checkpoint_loading import (CheckpointError,
                                                 read_checkpoint)

__all__ = ['resolve_resume_checkpoint']


def _candidates(work_dir: str, report: Callable[[str], None]) -> List[str]:
    """Checkpoints to try, best first: ``last_checkpoint`` (as recorded if
    it lies in ``work_dir``, else the file of the same name in ``work_dir``),
    then ``epoch_*.pth`` / ``iter_*.pth`` from the newest."""
    found: List[str] = []
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, encoding='utf-8', errors='replace') as f:
            recorded = f.read().strip()
        if not recorded:
            report(f'{record} is empty; looking for checkpoints in '
                   f'{work_dir}')
        elif osp.dirname(osp.abspath(recorded)) == osp.abspath(work_dir):
            found.append(recorded)
        else:
            local = osp.join(work_dir, osp.basename(recorded))
            report(f'{record} names {recorded}, outside this work dir (a '
                   f'copied or moved work dir); using {local}')
            found.append(local)

    def number(path: str) -> int:
        return int(re.findall(r'\d+', osp.basename(path))[-1])

    numbered = [
        p for p in glob.glob(osp.join(work_dir, '*.pth'))
        if re.fullmatch(r'(epoch|iter)_\d+\.pth', osp.basename(p))
    ]
    for path in sorted(numbered, key=number, reverse=True):
        if osp.abspath(path) not in map(osp.abspath, found):
            found.append(path)
    return found


def resolve_resume_checkpoint(work_dir: str,
                              requested: Optional[str] = None,
                              report: Callable[[str], None] = print
                              ) -> Optional[str]:
    """The checkpoint to resume from, checked to load.

    Args:
        work_dir: the run's work dir.
        requested: an explicit ``--resume PATH``, or None for "the latest
            in the work dir".
        report: where the messages go (one line each).

    Returns:
        str | None: the checkpoint, or None when the work dir has none
        that loads (the run then starts from scratch, and says so).

    Raises:
        CheckpointError: an explicit ``requested`` checkpoint that does not
            load or lacks the epoch/iteration MMEngine resumes from.
    """
    if requested is not None:
        _check_resumable(requested)
        report(f'resuming from {requested}')
        return requested
    for path in _candidates(work_dir, report):
        try:
            _check_resumable(path)
        except CheckpointError as err:
            report(f'not resuming from {path}: {err}')
            continue
        report(f'resuming from {path}')
        return path
    report(f'no checkpoint to resume from in {work_dir}; training from '
           'scratch')
    return None


def _check_resumable(path: str) -> None:
    ckpt = read_checkpoint(path)
    meta = ckpt.get('meta')
    if not isinstance(meta, dict) or 'epoch' not in meta or \
            'iter' not in meta or 'state_dict' not in ckpt:
        raise CheckpointError(
            f'{path} cannot be resumed from: it lacks state_dict or '
            "meta['epoch']/meta['iter'] (a deploy or foreign checkpoint? "
            'use load_from to start from its weights)')
