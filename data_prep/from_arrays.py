"""Your own skeletons -> mmaction ``PoseDataset`` pickle.

Input: a folder with one file per sequence and a labels CSV.

* ``<name>.npy``: a float array ``[T, V, C]`` (one person) or
  ``[M, T, V, C]``: T frames, V joints, C values per joint (3 for x, y, z;
  2 for x, y). Or ``<name>.json``: the same nested lists, bare or under a
  ``"keypoint"`` (or ``"skeletons"``) key.
* ``labels.csv`` with the header ``name,label,split``: the file name
  without extension, the class index (0-based int) and the split the
  sequence belongs to (any name, e.g. ``train`` / ``val``; the config selects
  splits by these names).

Output::

    dict(split={split: [name, ...]},
         annotations=[dict(frame_dir=name, label=int, total_frames=T,
                           keypoint=float32 [M, T, V, C]), ...],
         meta=dict(num_joints=V, channels=C, class_names=[...] (optional)))

Every sequence must have the same V and C (those of most sequences, or
``--num-joints`` / ``--channels``). Bad input (a CSV row without a file,
an unreadable file, a wrong shape, no frames, NaN or infinite values, a V or
C unlike the others, a label that is not a non-negative int, a duplicate
name): by default the row is skipped and listed at the end, with
``--strict`` the first one stops the run. The pickle is written atomically
once everything is read, so there is never a partial output file. Files in
the folder that the CSV does not name are listed and ignored.

Example (see README, "Bring your own skeleton")::

    python data_prep/from_arrays.py --data-root data/my_skeleton \\
        --labels data/my_skeleton/labels.csv \\
        --out data/skeleton/my_skeleton_3d.pkl --num-joints 7 --channels 3
"""
import argparse
import csv
import json
from collections import Counter
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

if __package__ in (None, ''):  # run as a script: make `data_prep` importable
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from data_prep.common import (check_out_arg, progress,  # noqa: E402
                              write_dataset)
from sfhead_mm.fileio import load_pickle_safely  # noqa: E402

__all__ = ['SequenceError', 'load_array', 'read_labels', 'convert', 'main']

EXTENSIONS = ('.npy', '.json')


class SequenceError(ValueError):
    """One input row or file cannot be used; the message names it."""


def load_array(path: str) -> np.ndarray:
    """Read one sequence as float32 ``[M, T, V, C]``.

    Raises:
        SequenceError: naming the file and what is wrong.
    """
    try:
        if path.endswith('.npy'):
            data = np.load(path, allow_pickle=False)
        else:
            with open(path, 'r', encoding='utf-8') as f:
                data = json.load(f)
            if isinstance(data, dict):
                key = next((k for k in ('keypoint', 'skeletons') if k in data),
                           None)
                if key is None:
                    raise SequenceError(
                        f'{path}: a JSON object needs a "keypoint" (or '
                        f'"skeletons") field, found {sorted(data)[:10]}')
                data = data[key]
            data = np.asarray(data, dtype=np.float64)
    except SequenceError:
        raise
    except (OSError, ValueError, TypeError, EOFError, RecursionError) as err:
        # EOFError: a 0-byte .npy; RecursionError: absurdly nested JSON
        detail = str(err).splitlines()[0][:200] if str(err) else ''
        raise SequenceError(f'{path}: not readable as a [T, V, C] array '
                            f'({type(err).__name__}: {detail})') from None
    if not np.issubdtype(data.dtype, np.number):
        raise SequenceError(f'{path}: holds {data.dtype}, expected numbers')
    if data.ndim == 3:
        data = data[None]
    if data.ndim != 4:
        raise SequenceError(
            f'{path}: shape {list(data.shape)}, expected [T, V, C] or '
            '[M, T, V, C]')
    if data.shape[1] == 0 or data.size == 0:
        raise SequenceError(f'{path}: empty sequence (shape '
                            f'{list(data.shape)})')
    with np.errstate(over='ignore'):  # checked after the cast: 1e300 -> inf
        data = data.astype(np.float32)
    bad = np.argwhere(~np.isfinite(data))
    if len(bad):
        m, t, v, _ = bad[0]
        raise SequenceError(
            f'{path}: NaN, infinite or beyond-float32 (|x| > 3.4e38) value '
            f'at person {m}, frame {t}, joint {v} ({len(bad)} in all)')
    return data


def read_labels(path: str) -> Tuple[List[Tuple[int, str, int, str]],
                                    List[str]]:
    """Read ``name,label,split`` rows.

    Returns:
        tuple: ``(rows, problems)``, rows as (line, name, label, split),
        problems one message per bad row (naming the line).

    Raises:
        SequenceError: the file is missing or its header is wrong.
    """
    try:  # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [k for k in ('name', 'label', 'split')
                       if k not in header]
            if missing:
                raise SequenceError(
                    f'{path}: the header must have name,label,split; '
                    f'missing {missing} (found {header})')
            rows, problems, seen = [], [], set()
            for line, row in enumerate(reader, start=2):
                name = (row['name'] or '').strip()
                label = (row['label'] or '').strip()
                split = (row['split'] or '').strip()
                where = f'{path}:{line} ({name or "no name"})'
                if not name or not split:
                    problems.append(f'{where}: name and split must not be '
                                    'empty')
                elif not (label.isascii() and label.isdigit()):
                    problems.append(f'{where}: label {label!r} is not a '
                                    'non-negative int (0-based class index)')
                elif name in seen:
                    problems.append(f'{where}: duplicate name {name!r}')
                else:
                    seen.add(name)
                    rows.append((line, name, int(label), split))
            return rows, problems
    except UnicodeDecodeError as err:
        raise SequenceError(
            f'{path}: the labels CSV is not UTF-8 (byte '
            f'{err.object[err.start:err.start + 1]!r} at offset {err.start});'
            ' save it as UTF-8 (Excel: "CSV UTF-8")') from None
    except OSError as err:
        raise SequenceError(f'{path}: cannot read the labels CSV '
                            f'({err})') from None


def convert(data_root: str,
            labels: str,
            num_joints: Optional[int] = None,
            channels: Optional[int] = None,
            class_names: Optional[Sequence[str]] = None,
            strict: bool = False,
            show_progress: bool = True) -> Tuple[Dict, List[str], List[str]]:
    """Convert a folder of sequences and its labels CSV.

    Args:
        data_root (str): Folder of ``<name>.npy`` / ``<name>.json``.
        labels (str): The ``name,label,split`` CSV.
        num_joints (int, optional): Required V. Defaults to None (the first
            usable sequence sets it).
        channels (int, optional): Required C. Defaults to None (likewise).
        class_names (Sequence[str], optional): Stored as
            ``meta.class_names``; labels must then be below its length.
        strict (bool): Raise at the first bad row. Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple: ``(dataset, skipped, ignored)``: the PoseDataset dict, one
        message per skipped row, the files no row names.

    Raises:
        SequenceError: ``strict`` and a bad row, or nothing usable.
    """
    if not osp.isdir(data_root):
        raise SequenceError(f'{data_root}: no such folder')
    rows, skipped = read_labels(labels)
    if skipped and strict:
        raise SequenceError(skipped[0])
    files: Dict[str, str] = {}
    both = set()  # name.npy and name.json: which one is meant is unclear
    for entry in sorted(os.listdir(data_root)):
        stem, ext = osp.splitext(entry)
        if ext in EXTENSIONS:
            if stem in files:
                both.add(stem)
            files.setdefault(stem, osp.join(data_root, entry))
    loaded = []
    items = progress(rows, desc='sequences') if show_progress else rows
    for line, name, label, split_name in items:
        try:
            if name not in files:
                raise SequenceError(
                    f'{labels}:{line}: no {name}.npy or {name}.json in '
                    f'{data_root}')
            if name in both:
                raise SequenceError(
                    f'{labels}:{line}: both {name}.npy and {name}.json are in '
                    f'{data_root}; keep only one')
            path = files[name]
            if class_names is not None and label >= len(class_names):
                raise SequenceError(
                    f'{labels}:{line} ({name}): label {label} but only '
                    f'{len(class_names)} class names')
            loaded.append((name, label, split_name, path, load_array(path)))
        except SequenceError as err:
            if strict:
                raise
            skipped.append(str(err))
    # V and C: as given, else those of most sequences (not of the first
    # file, which may be the odd one out)
    shapes = Counter(k.shape[2:] for *_, k in loaded)
    if shapes and (num_joints is None or channels is None):
        ranked = [s for s, _ in shapes.most_common()
                  if (num_joints is None or s[0] == num_joints) and
                  (channels is None or s[1] == channels)]
        if ranked:
            num_joints, channels = ranked[0]
        else:
            top_v, top_c = shapes.most_common(1)[0][0]
            num_joints = top_v if num_joints is None else num_joints
            channels = top_c if channels is None else channels
    annotations, split = [], {}
    for name, label, split_name, path, keypoint in loaded:
        _, T, V, C = keypoint.shape
        if (V, C) != (num_joints, channels):
            how = 'as given' if shapes[(num_joints, channels)] == 0 else (
                f'like {shapes[(num_joints, channels)]} of the '
                f'{len(loaded)} sequences')
            err = SequenceError(
                f'{path}: {V} joints x {C} channels, expected {num_joints} '
                f'x {channels} ({how}; set --num-joints/--channels to '
                'choose)')
            if strict:
                raise err
            skipped.append(str(err))
            continue
        annotations.append(
            dict(frame_dir=name, label=label, total_frames=int(T),
                 keypoint=keypoint))
        split.setdefault(split_name, []).append(name)
    if not annotations:
        raise SequenceError(
            f'{labels}: no usable sequence' +
            (':\n  ' + '\n  '.join(skipped) if skipped else ''))
    named = {name for _, name, _, _ in rows}
    ignored = sorted(path for stem, path in files.items() if stem not in named)
    meta = dict(num_joints=num_joints, channels=channels,
                source=osp.abspath(data_root))
    if class_names is not None:
        meta['class_names'] = list(class_names)
    dataset = dict(split=dict(sorted(split.items())),
                   annotations=annotations, meta=meta)
    return dataset, skipped, ignored


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a folder of per-sequence skeleton arrays '
        '(<name>.npy [T, V, C] or [M, T, V, C], or <name>.json) and a '
        'name,label,split CSV to an mmaction PoseDataset pickle. Bad rows '
        'are skipped and listed (or stop the run with --strict); the output '
        'is written atomically, never partially.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python data_prep/from_arrays.py --data-root data/my_skeleton '
        '--labels data/my_skeleton/labels.csv \\\n'
        '      --out data/skeleton/my_skeleton_3d.pkl --num-joints 7 '
        '--channels 3\n'
        'then train with a config whose dataset has '
        "ann_file='data/skeleton/my_skeleton_3d.pkl', split='train' / 'val'"
        ' (README, "Bring your own skeleton")')
    parser.add_argument('--data-root', required=True,
                        help='folder of <name>.npy / <name>.json files')
    parser.add_argument('--labels', required=True,
                        help='CSV with the header name,label,split')
    parser.add_argument('--out', required=True, help='output .pkl')
    parser.add_argument('--num-joints', type=int,
                        help='required joints per skeleton V')
    parser.add_argument('--channels', type=int,
                        help='required values per joint C (3: x, y, z)')
    parser.add_argument('--class-names',
                        help='comma-separated class names in label order '
                        '(stored as meta.class_names)')
    parser.add_argument('--strict', action='store_true',
                        help='stop at the first bad row')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out even when the new '
                        'one lost a split or most of its samples')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if check_out_arg(args.out, [args.labels]):
        return 2
    names = args.class_names.split(',') if args.class_names else None
    try:
        dataset, skipped, ignored = convert(
            args.data_root, args.labels, args.num_joints, args.channels,
            names, args.strict, not args.no_progress)
    except SequenceError as err:
        print(f'error: {err}', file=sys.stderr)
        print('nothing written', file=sys.stderr)
        return 1
    meta = dataset['meta']
    report = [f'{meta["num_joints"]} joints x {meta["channels"]} channels']
    if ignored:
        report.append(
            f'ignored {len(ignored)} file(s) not in {args.labels}: '
            f'{", ".join(osp.basename(p) for p in ignored[:10])}'
            f'{", ..." if len(ignored) > 10 else ""}')
    if skipped:
        report.append(f'skipped {len(skipped)} bad row(s):')
        report += [f'  {line}' for line in skipped]
    loss = lost_from_existing(args.out, dataset)
    if loss and not args.force:
        for line in report:
            print(line)
        print(f'error: not replacing {args.out}: the new output {loss}; '
              'fix the input, or give --force to replace it anyway',
              file=sys.stderr)
        return 1
    return write_dataset(dataset, args.out, report, 'sequences')


def lost_from_existing(out: str, dataset: dict) -> Optional[str]:
    """What ``dataset`` lost against the pickle already at ``out``.

    Returns:
        str | None: e.g. ``lost the split(s) ['val']`` or ``has 1 samples,
        the existing file 40``; None when nothing is there, it is not a
        readable dataset, or nothing was lost.
    """
    if not osp.isfile(out):
        return None
    try:
        old = load_pickle_safely(out)
        old_splits = set(old['split'])
        old_count = len(old['annotations'])
    except Exception:  # not ours to judge: write_dataset replaces it
        return None
    lost = sorted(old_splits - set(dataset['split']))
    if lost:
        return f'lost the split(s) {lost} that {out} has'
    new_count = len(dataset['annotations'])
    if new_count * 2 < old_count:
        return (f'has {new_count} samples, fewer than half of the '
                f'{old_count} in the existing file')
    return None


if __name__ == '__main__':
    sys.exit(main())
