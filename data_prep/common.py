"""What every converter under ``data_prep/`` shares: atomic pickle output,
the per-split summary line and the progress bar."""
import os.path as osp
import sys
from typing import Iterable, List, Optional, Sequence, TypeVar

import numpy as np
from tqdm import tqdm

from sfhead_mm.fileio import (PICKLE_PROTOCOL, OutputPathError,
                              check_output_path, write_pickle_atomic)

__all__ = [
    'PICKLE_PROTOCOL', 'check_out_arg', 'non_finite_sample', 'progress',
    'stop_strict', 'summarize', 'write_dataset', 'write_pickle_atomic'
]

T = TypeVar('T')


def progress(items: Iterable[T], desc: str,
             total: Optional[int] = None) -> Iterable[T]:
    """A tqdm progress bar on stderr, so a long conversion shows how far it
    got (also in CI logs)."""
    return tqdm(items, desc=desc, total=total, unit='seq', dynamic_ncols=True)


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


def check_out_arg(out: str, inputs: Sequence[str] = ()) -> int:
    """Check ``--out`` before a conversion (which can take hours).

    Returns:
        int: 0 when it can be written; 2 after printing why not (not a
        ``.pkl``, a directory, below a file, no write permission, one of
        ``inputs``).
    """
    if not out.endswith('.pkl'):
        print(f'error: --out must end with .pkl (mmaction\'s PoseDataset '
              f'reads pickles), got {out!r}', file=sys.stderr)
        return 2
    try:
        check_output_path(out, inputs, what='--out')
    except OutputPathError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return 0


def non_finite_sample(annotations: Sequence[dict]) -> Optional[str]:
    """The first sample whose stored arrays hold NaN/inf, described.

    The last guard of every converter: readers check their input, but a
    value that is finite in float64 (1e300) is inf once stored as float32.

    Returns:
        str | None: ``sample I (frame_dir): "keypoint" has N non-finite
        values, first at [m, t, v, c]``, or None when all are finite.
    """
    for i, ann in enumerate(annotations):
        for key in ('keypoint', 'keypoint_score'):
            if key not in ann:
                continue
            bad = np.argwhere(~np.isfinite(np.asarray(ann[key],
                                                      dtype=np.float32)))
            if len(bad):
                return (f'sample {i} ({ann.get("frame_dir", "?")}): "{key}" '
                        f'has {len(bad)} non-finite values, first at '
                        f'{bad[0].tolist()}')
    return None


def write_dataset(dataset: dict, out: str, report: Sequence[str] = (),
                  unit: str = 'samples') -> int:
    """The end of every converter: print the per-split summary and the
    converter's report, then write ``out`` atomically.

    Returns:
        int: the exit code: 0, or 1 when nothing was converted (and nothing
        written).
    """
    for line in summarize(dataset) + list(report):
        print(line)
    bad = non_finite_sample(dataset['annotations'])
    if bad is not None:
        print(f'error: {bad}; {out} was not written', file=sys.stderr)
        return 1
    if not dataset['annotations']:
        print(f'error: no {unit} converted; {out} was not written',
              file=sys.stderr)
        return 1
    write_pickle_atomic(dataset, out)
    print(f'wrote {out} ({osp.getsize(out) / 2**20:.1f} MiB, '
          f'{len(dataset["annotations"])} {unit})')
    return 0


def stop_strict(err: Exception) -> int:
    """Report the bad sample that stopped a ``--strict`` run.

    Args:
        err: the converter's ``SampleError`` (it has a ``reason``).

    Returns:
        int: the exit code, 1; nothing was written.
    """
    print(f'error ({err.reason}): {err}', file=sys.stderr)
    print('stopped (--strict); --out was not written (an existing file '
          'there is unchanged)', file=sys.stderr)
    return 1
