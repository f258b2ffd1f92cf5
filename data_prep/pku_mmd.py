"""PKU-MMD phase I skeletons + action labels -> mmaction PoseDataset pickle.

PKU-MMD phase I (Liu et al. 2017) has 1076 untrimmed Kinect v2 videos
(``0002-L`` ... : subject group and view L/M/R), each with

* a skeleton file ``<video>.txt``: one row per frame, 150 whitespace
  separated floats = 2 bodies x 25 joints x (x, y, z), the NTU RGB+D joint
  layout; the second body is all zeros when only one person is there;
* a label file ``<video>.txt`` (same name, another folder): one row per
  action instance, ``action,start,end,confidence`` with action 1..51.

Every label row becomes one clip (a PoseDataset sample)::

    dict(frame_dir='0002-L_3', label=action - 1, total_frames=end-start+1,
         keypoint=float32 [M, T, 25, 3])

Conventions (state them when you compare with other conversions):

* ``frame_dir`` is ``<video>_<k>`` with ``k`` the 1-based number of the
  row in the label file (blank lines not counted), so a clip can be traced
  back to its label row.
* Frames are 1-based and the interval is inclusive at both ends: frame
  ``f`` is row ``f`` of the skeleton file (its line ``f``), and the clip is
  rows ``start .. end``, i.e. ``skeleton[start - 1:end]`` 0-based, with
  ``end - start + 1`` frames. The official README only says "action_id,
  start_frame, end_frame, confidence" and does not state the base; we
  take 1-based inclusive, the reading of the brief this converter was
  written to. ``--frame-base 0`` switches to 0-based (clip =
  ``skeleton[start:end + 1]``). A clip needs ``base <= start <= end <=
  T - 1 + base`` for a video of ``T`` rows.
* Bodies: a body that is all zeros over the whole clip is dropped, so
  ``M`` is 1 for one person and 2 for two (the order of the file is kept);
  in the frames of a clip where a kept body is missing it stays zero.
  ``FormatGCNInput(num_person=2)`` pads ``M = 1`` back to 2. We drop
  rather than pad so that one-person clips are stored like NTU's and cost
  half the memory.
* Labels: ``action - 1``, 51 classes.

Splits: the official ``cross-subject.txt`` / ``cross-view.txt`` files::

    Training videos:
    0002-L, 0002-M, 0002-R, ...
    Validataion videos:            (sic, the official spelling)
    0291-L, 0291-M, ...

give ``xsub_train``/``xsub_val`` and ``xview_train``/``xview_val``. Pass them
as ``--split-file cross-subject.txt cross-view.txt`` (recognised by name)
or as ``xsub=PATH xview=PATH``. A video in none of the given lists is
skipped (counted).

Bad input is a message that names the file and line (or the clip) and says
what was expected: a row of another width, a non-numeric or NaN value, an
empty skeleton file, a malformed label row, an action out of 1..51, an
interval outside the sequence, a clip where both bodies are all zeros. A
bad skeleton file skips its video, a bad label row its clip; all are listed
in the summary, or with ``--strict`` the first one stops the run (exit code
1, nothing written).

Example::

    python data_prep/pku_mmd.py \\
        --skeleton-dir data/pku_mmd/PKU_Skeleton_Renew \\
        --label-dir data/pku_mmd/Train_Label_PKU_final \\
        --split-file data/pku_mmd/cross-subject.txt \\
            data/pku_mmd/cross-view.txt \\
        --out data/skeleton/pku_mmd_3d.pkl
"""
import argparse
import os
import os.path as osp
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

if __package__ in (None, ''):  # run as a script: python data_prep/pku_mmd.py
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from data_prep.common import (check_out_arg, progress,  # noqa: E402
                              stop_strict, write_dataset)

__all__ = [
    'NUM_CLASSES', 'ROW_WIDTH', 'SampleError', 'LabelRow',
    'ConversionReport', 'read_skeleton', 'read_labels', 'read_label_rows',
    'read_split_file',
    'cut_clip', 'convert_pku_mmd', 'main'
]

NUM_CLASSES = 51
NUM_BODIES = 2
NUM_JOINTS = 25
ROW_WIDTH = NUM_BODIES * NUM_JOINTS * 3  # 150
SPLIT_FILE_NAMES = {'cross-subject.txt': 'xsub', 'cross-view.txt': 'xview'}
TRAIN_HEADER = 'training videos:'
VAL_HEADERS = ('validataion videos:', 'validation videos:')
#: Skips that are expected (counted, not listed, never fatal).
EXPECTED_SKIPS = ('not-in-split', 'no-label')


class SampleError(ValueError):
    """A bad input sample (a video or one clip of it).

    Args:
        message (str): Names the file (and line or clip) and what was
            expected.
        reason (str): The summary category. Defaults to ``'malformed'``.
    """

    def __init__(self, message: str, reason: str = 'malformed') -> None:
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------
def _read_lines(path: str) -> List[str]:
    """The lines of a text file, trailing blank lines removed."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise SampleError(f'{path}: cannot read it as a text file ({err})')
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _raise_bad_row(path: str, lines: List[str]) -> None:
    """Find the first row that is not 150 numbers and say why."""
    for index, line in enumerate(lines):
        tokens = line.split()
        where = f'{path}:{index + 1}'
        if len(tokens) != ROW_WIDTH:
            raise SampleError(
                f'{where}: expected {ROW_WIDTH} values (2 bodies x 25 '
                f'joints x xyz) in the row of frame {index + 1}, got '
                f'{len(tokens)}')
        for column, token in enumerate(tokens):
            try:
                float(token)
            except ValueError:
                raise SampleError(
                    f'{where}: expected a number in column {column + 1} of '
                    f'the row of frame {index + 1}, got {token!r}') from None
    raise SampleError(f'{path}: could not parse the rows')  # not reached


def read_skeleton(path: str) -> np.ndarray:
    """Read one skeleton file.

    Args:
        path (str): ``<video>.txt``, one row of 150 floats per frame.

    Returns:
        np.ndarray: float32 [2, T, 25, 3] (bodies first, as PoseDataset).

    Raises:
        SampleError: naming the file and line: a row of another width, a
            non-numeric or non-finite value (reason ``non-finite``), or no
            row at all (reason ``empty``).
    """
    lines = _read_lines(path)
    if not lines:
        raise SampleError(
            f'{path}: empty sequence (no rows); expected one row of '
            f'{ROW_WIDTH} values per frame', 'empty')
    try:
        data = np.loadtxt(lines, dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        data = None
    if data is None or data.shape != (len(lines), ROW_WIDTH):
        _raise_bad_row(path, lines)  # blank lines are skipped by loadtxt
    with np.errstate(over='ignore'):  # finite once stored as float32
        data32 = data.astype(np.float32)
    finite = np.isfinite(data32).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        column = int(np.argmin(np.isfinite(data32[row])))
        raise SampleError(
            f'{path}:{row + 1}: non-finite value {lines[row].split()[column]}'
            f' in column {column + 1} of the row of frame {row + 1}; '
            f'expected finite numbers', 'non-finite')
    keypoint = data.reshape(len(lines), NUM_BODIES, NUM_JOINTS, 3)
    return keypoint.transpose(1, 0, 2, 3).astype(np.float32)


@dataclass(frozen=True)
class LabelRow:
    """One action instance: ``action,start,end,confidence`` (``line`` and
    ``index`` are 1-based: the file line and the row number)."""

    line: int
    index: int
    action: int
    start: int
    end: int
    confidence: float


def read_labels(path: str) -> List[LabelRow]:
    """Read one label file.

    Returns:
        list[LabelRow]: Rows in file order; blank lines are skipped.

    Raises:
        SampleError: naming the file and line, for a row that is not
            ``action,start,end,confidence`` with integer action, start and
            end (checking the ranges is :func:`cut_clip`'s job).
    """
    rows = read_label_rows(path)
    for row in rows:
        if isinstance(row, SampleError):
            raise row
    return rows


def read_label_rows(path: str) -> List[Union[LabelRow, SampleError]]:
    """Read one label file, keeping each malformed row as its error.

    Row ``index`` counts every non-blank row, malformed ones included, so a
    clip keeps its name whatever the rows before it look like.

    Returns:
        list: per non-blank row, a :class:`LabelRow` or the
        :class:`SampleError` (reason ``malformed``) naming file and line.

    Raises:
        SampleError: the file itself cannot be read.
    """
    rows: List[Union[LabelRow, SampleError]] = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(',')]
        try:
            if len(fields) != 4:
                raise ValueError
            action, start, end = (int(f) for f in fields[:3])
            confidence = float(fields[3])
        except ValueError:
            rows.append(SampleError(
                f'{path}:{number}: expected a row "action,start,end,'
                f'confidence" (3 integers and a number), got {line!r}'))
            continue
        rows.append(
            LabelRow(number, len(rows) + 1, action, start, end, confidence))
    return rows


def read_split_file(path: str) -> Tuple[List[str], List[str]]:
    """Read an official split file (``cross-subject.txt``, ``cross-view.txt``).

    The video names follow a ``Training videos:`` and a ``Validataion
    videos:`` (or ``Validation videos:``) line, comma separated, on the
    same line or the next ones.

    Returns:
        tuple[list[str], list[str]]: Training and validation video names.

    Raises:
        ValueError: naming the file, if a header is missing, a list is
            empty or a video is in both lists.
    """
    with open(path, encoding='utf-8') as f:
        text = f.read()
    lists: Dict[str, List[str]] = {}
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        lowered = stripped.lower()
        for header, key in [(TRAIN_HEADER, 'train')] + [(h, 'val')
                                                        for h in VAL_HEADERS]:
            if lowered.startswith(header):
                current = key
                if key in lists:
                    raise ValueError(f'{path}: a second "{stripped}" line')
                lists[key] = []
                stripped = stripped[len(header):]
                break
        if current is not None:
            lists[current] += [v.strip() for v in stripped.split(',')
                               if v.strip()]
    for key, header in (('train', 'Training videos:'),
                        ('val', 'Validataion videos:')):
        if not lists.get(key):
            raise ValueError(
                f'{path}: expected a "{header}" line followed by a comma '
                f'separated list of videos (the official split file format)')
    both = sorted(set(lists['train']) & set(lists['val']))
    if both:
        raise ValueError(f'{path}: videos in both the training and the '
                         f'validation list: {", ".join(both[:5])}')
    return lists['train'], lists['val']


# ---------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------
def cut_clip(skeleton: np.ndarray, row: LabelRow, frame_base: int = 1,
             where: str = '') -> np.ndarray:
    """The clip of one label row, all-zero bodies dropped.

    Args:
        skeleton (np.ndarray): [2, T, 25, 3] from :func:`read_skeleton`.
        row (LabelRow): The action instance.
        frame_base (int): 1 (the default): frame ``f`` is row ``f``; 0:
            frame ``f`` is row ``f + 1``. The interval is inclusive.
        where (str): The label file, for messages.

    Returns:
        np.ndarray: float32 [M, end - start + 1, 25, 3], M in {1, 2}.

    Raises:
        SampleError: reason ``label`` for an action outside 1..51,
            ``interval`` for an interval outside the sequence, ``empty``
            when both bodies are all zeros in the clip.
    """
    at = f'{where}:{row.line}'
    if not 1 <= row.action <= NUM_CLASSES:
        raise SampleError(
            f'{at}: action {row.action} is out of range; expected 1..'
            f'{NUM_CLASSES} (label = action - 1)', 'label')
    num_frames = skeleton.shape[1]
    last = num_frames - 1 + frame_base
    if not frame_base <= row.start <= row.end <= last:
        raise SampleError(
            f'{at}: frames {row.start}..{row.end} are outside the sequence;'
            f' expected {frame_base} <= start <= end <= {last} '
            f'({num_frames} rows, {frame_base}-based, inclusive)', 'interval')
    clip = skeleton[:, row.start - frame_base:row.end - frame_base + 1]
    present = clip.any(axis=(1, 2, 3))
    if not present.any():
        raise SampleError(
            f'{at}: clip {row.index} (frames {row.start}..{row.end}) has '
            f'only zero coordinates; expected at least one body', 'empty')
    return np.ascontiguousarray(clip[present])


# ---------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------
@dataclass
class ConversionReport:
    """Counts for the summary; ``bad`` lists (name, reason, message)."""

    videos_skipped: Counter = field(default_factory=Counter)
    clips_skipped: Counter = field(default_factory=Counter)
    bodies: Counter = field(default_factory=Counter)
    bad: List[Tuple[str, str, str]] = field(default_factory=list)

    def lines(self) -> List[str]:

        def counts(counter: Counter, always: Sequence[str]) -> str:
            shown = list(always) + sorted(set(counter) - set(always))
            return ', '.join(f'{r} {counter[r]}' for r in shown)

        lines = [
            f'clips: {self.bodies[1]} with 1 body, {self.bodies[2]} with 2 '
            f'bodies (all-zero bodies dropped)',
            'videos skipped: ' + counts(self.videos_skipped,
                                        ('not-in-split', 'malformed')),
            'clips skipped: ' + counts(self.clips_skipped,
                                       ('label', 'interval', 'empty')),
        ]
        lines += [f'  {name}: {reason}: {message}'
                  for name, reason, message in self.bad]
        return lines


def _list_txt(directory: str, what: str) -> Dict[str, str]:
    if not osp.isdir(directory):
        raise FileNotFoundError(f'{what} {directory!r} is not a folder')
    return {
        name[:-len('.txt')]: osp.join(directory, name)
        for name in sorted(os.listdir(directory)) if name.endswith('.txt')
    }


def convert_pku_mmd(skeleton_dir: str,
                    label_dir: str,
                    split_files: Dict[str, str],
                    frame_base: int = 1,
                    strict: bool = False,
                    show_progress: bool = True
                    ) -> Tuple[dict, ConversionReport]:
    """Cut every labelled interval of every video into a clip.

    Args:
        skeleton_dir (str): Folder of ``<video>.txt`` skeleton files.
        label_dir (str): Folder of ``<video>.txt`` label files.
        split_files (dict[str, str]): ``{'xsub': path, 'xview': path}``
            (either or both).
        frame_base (int): 1 or 0, see :func:`cut_clip`. Defaults to 1.
        strict (bool): Raise :class:`SampleError` at the first bad video or
            clip instead of skipping it. Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[dict, ConversionReport]: The PoseDataset dict and the counts.
    """
    membership: Dict[str, Dict[str, str]] = {}  # video -> benchmark -> part
    split: Dict[str, List[str]] = {}
    for benchmark in sorted(split_files, key=['xsub', 'xview'].index):
        train, val = read_split_file(split_files[benchmark])
        for part, videos in (('train', train), ('val', val)):
            split[f'{benchmark}_{part}'] = []
            for video in videos:
                membership.setdefault(video, {})[benchmark] = part
    skeletons = _list_txt(skeleton_dir, '--skeleton-dir')
    labels = _list_txt(label_dir, '--label-dir')
    report = ConversionReport()
    report.videos_skipped['no-label'] = len(set(skeletons) - set(labels))
    annotations = []

    def skip(counter: Counter, name: str, err: SampleError) -> None:
        if strict:
            raise err
        counter[err.reason] += 1
        report.bad.append((name, err.reason, str(err)))

    videos = progress(sorted(labels), 'PKU-MMD videos', len(labels)) \
        if show_progress else sorted(labels)
    for video in videos:
        if video not in membership:
            report.videos_skipped['not-in-split'] += 1
            continue
        try:
            if video not in skeletons:
                raise SampleError(
                    f'{labels[video]}: no skeleton file {video}.txt in '
                    f'{skeleton_dir}; expected one per label file',
                    'no-skeleton')
            rows = read_label_rows(labels[video])
            skeleton = read_skeleton(skeletons[video])
        except SampleError as err:
            skip(report.videos_skipped, video, err)
            continue
        for index, row in enumerate(rows, start=1):
            name = f'{video}_{index}'
            try:
                if isinstance(row, SampleError):  # only this clip is lost
                    raise row
                clip = cut_clip(skeleton, row, frame_base, labels[video])
            except SampleError as err:
                skip(report.clips_skipped, name, err)
                continue
            report.bodies[clip.shape[0]] += 1
            annotations.append(
                dict(
                    frame_dir=name,
                    label=row.action - 1,
                    total_frames=int(clip.shape[1]),
                    keypoint=clip))
            for benchmark, part in membership[video].items():
                split[f'{benchmark}_{part}'].append(name)
    meta = dict(
        dataset='pku_mmd_phase1',
        num_classes=NUM_CLASSES,
        layout='nturgb+d',
        frame_base=frame_base,
        interval='inclusive',
        frame_dir='<video>_<1-based label row>',
        videos_skipped=dict(sorted(report.videos_skipped.items())),
        clips_skipped=dict(sorted(report.clips_skipped.items())),
        bad_samples=[name for name, _, _ in report.bad])
    return dict(split=split, annotations=annotations, meta=meta), report


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def parse_split_files(values: Sequence[str]) -> Dict[str, str]:
    """``['xsub=a.txt', 'cross-view.txt']`` -> ``{'xsub': 'a.txt',
    'xview': 'cross-view.txt'}``."""
    result: Dict[str, str] = {}
    for value in values:
        key, sep, path = value.partition('=')
        if not sep:
            key, path = SPLIT_FILE_NAMES.get(osp.basename(value)), value
            if key is None:
                raise ValueError(
                    f'--split-file {value!r}: name it xsub=PATH or xview=PATH'
                    f' (only cross-subject.txt and cross-view.txt are '
                    f'recognised by name)')
        if key not in ('xsub', 'xview'):
            raise ValueError(f'--split-file {value!r}: expected xsub=PATH or '
                             f'xview=PATH')
        if key in result:
            raise ValueError(f'--split-file: two files for {key}')
        if not osp.isfile(path):
            raise FileNotFoundError(f'--split-file {path!r} does not exist')
        result[key] = path
    return result


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cut PKU-MMD phase I skeleton sequences into labelled '
        'clips (51 classes, NTU 25-joint layout, 3D) and write an mmaction '
        'PoseDataset pickle with cross-subject / cross-view splits.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python data_prep/pku_mmd.py '
        '--skeleton-dir data/pku_mmd/PKU_Skeleton_Renew '
        '--label-dir data/pku_mmd/Train_Label_PKU_final '
        '--split-file data/pku_mmd/cross-subject.txt '
        'data/pku_mmd/cross-view.txt --out data/skeleton/pku_mmd_3d.pkl\n\n'
        'frames: 1-based, interval inclusive (clip = rows start..end); '
        'frame_dir: <video>_<label row>\n'
        'splits: xsub_train/xsub_val, xview_train/xview_val; bad videos or '
        'clips are skipped\nand listed in the summary, or stop the run with '
        '--strict.')
    parser.add_argument('--skeleton-dir', required=True,
                        help='folder of <video>.txt skeleton files')
    parser.add_argument('--label-dir', required=True,
                        help='folder of <video>.txt label files')
    parser.add_argument(
        '--split-file', nargs='+', required=True, metavar='[NAME=]PATH',
        help='official split files: cross-subject.txt and/or cross-view.txt,'
        ' or xsub=PATH / xview=PATH')
    parser.add_argument('--out', required=True, help='output .pkl path')
    parser.add_argument(
        '--frame-base', type=int, choices=(0, 1), default=1,
        help='index of the first frame in the label files (default: 1)')
    parser.add_argument(
        '--strict', action='store_true',
        help='stop at the first bad video or clip (exit code 1, nothing '
        'written)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if check_out_arg(args.out):
        return 2
    try:
        split_files = parse_split_files(args.split_file)
        dataset, report = convert_pku_mmd(args.skeleton_dir, args.label_dir,
                                          split_files, args.frame_base,
                                          args.strict)
    except SampleError as err:
        return stop_strict(err)
    except (ValueError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return write_dataset(dataset, args.out, report.lines(), 'clips')


if __name__ == '__main__':
    sys.exit(main())
