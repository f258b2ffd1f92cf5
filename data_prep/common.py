"""What every converter under ``data_prep/`` shares: atomic pickle output,
the per-split summary line and the progress bar."""
import os
import os.path as osp
import pickle
import tempfile
from typing import Iterable, List, Optional, TypeVar

import numpy as np
from tqdm import tqdm

__all__ = ['PICKLE_PROTOCOL', 'progress', 'summarize', 'write_pickle_atomic']

PICKLE_PROTOCOL = 4  # stable bytes across Python versions >= 3.4
T = TypeVar('T')


def progress(items: Iterable[T], desc: str,
             total: Optional[int] = None) -> Iterable[T]:
    """A tqdm progress bar on stderr, so a long conversion shows how far it
    got (also in CI logs)."""
    return tqdm(items, desc=desc, total=total, unit='seq', dynamic_ncols=True)


def write_pickle_atomic(obj: object, path: str) -> None:
    """Pickle ``obj`` to ``path`` atomically.

    The bytes go to a temporary file in the same directory, which then
    replaces ``path`` in one ``os.replace``: a reader sees the old file or
    the new one, never half a file, and a failure leaves the old one intact.

    Args:
        obj (object): What to pickle (protocol 4, for stable bytes).
        path (str): Output file; its directory is created if missing.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(obj, f, protocol=PICKLE_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def summarize(dataset: dict) -> List[str]:
    """One line per split: sample count, classes, frames min/median/max."""
    by_name = {a['frame_dir']: a for a in dataset['annotations']}
    lines = []
    for split_name, names in dataset['split'].items():
        if not names:
            lines.append(f'{split_name}: 0 samples')
            continue
        frames = np.array([by_name[n]['total_frames'] for n in names])
        labels = sorted({by_name[n]['label'] for n in names})
        lines.append(
            f'{split_name}: {len(names)} samples, {len(labels)} classes, '
            f'frames min/median/max {frames.min()}/'
            f'{int(np.median(frames))}/{frames.max()}')
    return lines
