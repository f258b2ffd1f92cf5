"""NW-UCLA ``all_sqe`` JSON files -> mmaction ``PoseDataset`` pickle.

Input: one file per sequence, ``aAA_sSS_eEE_vVV.json`` (action, subject,
repetition, view) holding ``{"file_name": "aAA_sSS_eEE_vVV", "skeletons":
[T][20][3], "label": 1..10}``: 20 Kinect v1 joints (layout ``'nw-ucla'``),
metres, camera frame, y up. These are the files CTR-GCN and FR-Head read.

Output::

    dict(split=dict(xview_train=[...],   # views 1 and 2 (1020 sequences)
                    xview_val=[...],     # view 3 (464 sequences)
                    xview_tunetrain=[...],  # views 1, 2, subjects 1-8 (829)
                    xview_tuneval=[...]),   # views 1, 2, subjects 9-10 (191)
         annotations=[dict(frame_dir='a01_s01_e00_v01', label=0..9,
                           total_frames=T,
                           keypoint=float32 [1, T, 20, 3],
                           action=1, subject=1, repetition=0, view=1), ...],
         meta=dict(class_names=[...10 names in label order...],
                   layout='nw-ucla', source='NW-UCLA all_sqe', ...))

The two ``xview_tune*`` splits divide the training views by subject, so
that every choice (schedule, loss settings) is made on a validation split
and view 3, the test split, is used once: train on ``xview_tunetrain``,
validate on ``xview_tuneval``. NW-UCLA ships no validation split; subjects
9 and 10 are the last two of the ten.

Labels: the file's ``label`` minus one. The action ids of the file names
map to labels a01-a06 -> 1-6, a08 -> 7, a09 -> 8, a11 -> 9, a12 -> 10 (the
dataset has no a07 or a10); a file whose ``label`` disagrees with its name
is bad input.

What is kept, and why (the published protocol, CTR-GCN's UCLA feeder, keeps
every sequence as it is):

* ``a02_s09_e04_v02`` and ``a02_s09_e04_v03`` have a single frame. They are
  kept; the 52-frame sampler (``RepeatSampleFrames``) repeats that frame.
* Frames where some or all joints are exactly zero (tracking dropouts) are
  kept unchanged and counted in the summary; the protocol centres and
  normalises them like any other frame.

Bad input (unreadable JSON, no ``skeletons``, an empty sequence, a frame
without 20 joints of 3 values, NaN or infinite coordinates, a ``label``
outside 1..10 or not matching the file name, a file name that is not
``aAA_sSS_eEE_vVV``, a view outside 1..3): by default the file is skipped and
listed, with the reason, at the end; with ``--strict`` the first one stops
the conversion. Either way no partial output file is ever written (the
pickle is written atomically once everything is read).

Example::

    python data_prep/nw_ucla.py --data-root ../shared/data/nw_ucla \\
        --out data/skeleton/nw_ucla_3d.pkl
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

if __package__ in (None, ''):  # run as a script: make `data_prep` importable
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from data_prep.common import (check_out_arg, progress,  # noqa: E402
                              write_dataset)
from sfhead_mm.datasets.class_names import get_class_names  # noqa: E402

__all__ = [
    'ACTION_TO_LABEL', 'CLASS_NAMES', 'NUM_JOINTS', 'TRAIN_VIEWS',
    'TEST_VIEWS', 'TUNE_VAL_SUBJECTS', 'split_names', 'NWUCLAError', 'load_sequence', 'convert', 'main'
]

NUM_JOINTS = 20
#: File-name action id -> the JSON's 1-based label.
ACTION_TO_LABEL = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 9: 8, 11: 9,
                   12: 10}
#: Class names in label order (label 0 = action a01), the dataset's own
#: names (``sfhead_mm.datasets.class_names``).
CLASS_NAMES = tuple(get_class_names('nw-ucla'))
TRAIN_VIEWS = (1, 2)
TEST_VIEWS = (3, )
#: Subjects of the training views held out as the tuning validation split.
TUNE_VAL_SUBJECTS = (9, 10)
SPLITS = ('xview_train', 'xview_val', 'xview_tunetrain', 'xview_tuneval')
#: Sizes of the splits of the full dataset (the first two: the standard
#: cross-view protocol; the last two: our subject split of its training set).
STANDARD_SIZES = {'xview_train': 1020, 'xview_val': 464,
                  'xview_tunetrain': 829, 'xview_tuneval': 191}

NAME_RE = re.compile(r'^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})$')


class NWUCLAError(ValueError):
    """One input file cannot be used; the message names it and says why."""


def _parse_name(name: str, path: str) -> Tuple[int, int, int, int]:
    match = NAME_RE.match(name)
    if match is None:
        raise NWUCLAError(
            f'{path}: file name {name!r} is not aAA_sSS_eEE_vVV '
            '(action, subject, repetition, view)')
    action, subject, repetition, view = map(int, match.groups())
    if action not in ACTION_TO_LABEL:
        raise NWUCLAError(
            f'{path}: action a{action:02d} is not an NW-UCLA action '
            f'(expected one of {["a%02d" % a for a in ACTION_TO_LABEL]})')
    if view not in TRAIN_VIEWS + TEST_VIEWS:
        raise NWUCLAError(f'{path}: view v{view:02d} is not 1, 2 or 3')
    return action, subject, repetition, view


def _skeleton_array(skeletons: object, path: str) -> np.ndarray:
    """The ``skeletons`` field as float [T, 20, 3], or a precise error."""
    if not isinstance(skeletons, list):
        raise NWUCLAError(
            f'{path}: "skeletons" must be a list of frames [T][20][3], got '
            f'{type(skeletons).__name__}')
    if not skeletons:
        raise NWUCLAError(f'{path}: empty sequence ("skeletons" has 0 '
                          'frames)')
    try:
        array = np.asarray(skeletons, dtype=np.float64)
    except (TypeError, ValueError):
        array = None  # ragged or non-numeric: find the first bad entry
    if array is None or array.shape[1:] != (NUM_JOINTS, 3):
        for t, frame in enumerate(skeletons):
            if not isinstance(frame, list) or len(frame) != NUM_JOINTS:
                got = len(frame) if isinstance(frame, list) else \
                    type(frame).__name__
                raise NWUCLAError(
                    f'{path}: frame {t} has {got} joints, expected '
                    f'{NUM_JOINTS} (Kinect v1)')
            for v, joint in enumerate(frame):
                if not isinstance(joint, list) or len(joint) != 3 or not all(
                        isinstance(x, (int, float)) and
                        not isinstance(x, bool) for x in joint):
                    raise NWUCLAError(
                        f'{path}: frame {t}, joint {v} is {joint!r}, '
                        'expected 3 numbers [x, y, z]')
        raise NWUCLAError(f'{path}: "skeletons" is not [T][20][3]')
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        t, v, _ = bad[0]
        raise NWUCLAError(
            f'{path}: NaN or infinite coordinate at frame {t}, joint {v} '
            f'({len(bad)} non-finite values in all)')
    return array


def load_sequence(path: str) -> Dict:
    """Read and check one ``all_sqe`` JSON file.

    Args:
        path (str): ``.../aAA_sSS_eEE_vVV.json``.

    Returns:
        dict: The annotation (``frame_dir``, ``label`` 0..9,
        ``total_frames``, ``keypoint`` float32 [1, T, 20, 3], ``action``,
        ``subject``, ``repetition``, ``view``).

    Raises:
        NWUCLAError: naming the file and what is wrong with it.
    """
    name = osp.splitext(osp.basename(path))[0]
    action, subject, repetition, view = _parse_name(name, path)
    try:
        with open(path, 'r', encoding='utf-8') as f:
            content = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NWUCLAError(f'{path}: not readable JSON ({err})') from None
    except RecursionError:
        raise NWUCLAError(f'{path}: JSON nested too deeply to read (expected '
                          '{"skeletons": [T][20][3], ...})') from None
    if not isinstance(content, dict):
        raise NWUCLAError(
            f'{path}: expected a JSON object with "skeletons" and "label", '
            f'got {type(content).__name__}')
    for key in ('skeletons', 'label'):
        if key not in content:
            raise NWUCLAError(
                f'{path}: no "{key}" field (found {sorted(content)}); '
                'expected {"file_name", "skeletons": [T][20][3], '
                '"label": 1..10}')
    if content.get('file_name', name) != name:
        raise NWUCLAError(
            f'{path}: "file_name" is {content["file_name"]!r} but the file '
            f'is named {name!r}')
    label = content['label']
    if isinstance(label, bool) or not isinstance(label, int) \
            or not 1 <= label <= len(CLASS_NAMES):
        raise NWUCLAError(
            f'{path}: label {label!r} is out of range, expected an int in '
            f'1..{len(CLASS_NAMES)}')
    if label != ACTION_TO_LABEL[action]:
        raise NWUCLAError(
            f'{path}: label {label} does not match the file name: action '
            f'a{action:02d} is label {ACTION_TO_LABEL[action]} '
            f'({CLASS_NAMES[ACTION_TO_LABEL[action] - 1]!r})')
    skeleton = _skeleton_array(content['skeletons'], path)
    return dict(
        frame_dir=name,
        label=label - 1,
        total_frames=int(skeleton.shape[0]),
        keypoint=skeleton[None].astype(np.float32),
        action=action,
        subject=subject,
        repetition=repetition,
        view=view)


def _quirks(annotations: List[Dict]) -> List[str]:
    """Lines about what was kept as is: single frames, zero frames/joints."""
    single = [a['frame_dir'] for a in annotations if a['total_frames'] == 1]
    zero_frames, zero_joints, where = 0, 0, []
    for a in annotations:
        zero = np.all(a['keypoint'][0] == 0, axis=-1)  # [T, V]
        frames = int(np.all(zero, axis=1).sum())
        joints = int(zero.sum())
        zero_frames += frames
        zero_joints += joints
        if joints:
            where.append(a['frame_dir'])
    lines = []
    if single:
        lines.append(f'kept {len(single)} single-frame sequence(s) '
                     f'({", ".join(single)}); the 52-frame sampler repeats '
                     'the frame')
    if zero_joints:
        lines.append(
            f'kept {zero_frames} all-zero frame(s) and {zero_joints} zero '
            f'joint(s) in {len(where)} sequence(s) ({", ".join(where[:5])}'
            f'{", ..." if len(where) > 5 else ""}) as recorded, as the '
            'published protocol does')
    return lines


def split_names(view: int, subject: int) -> Tuple[str, ...]:
    """The splits a sequence of ``view`` and ``subject`` belongs to."""
    if view not in TRAIN_VIEWS:
        return ('xview_val', )
    tune = ('xview_tuneval' if subject in TUNE_VAL_SUBJECTS else
            'xview_tunetrain')
    return ('xview_train', tune)


def convert(src: str,
            strict: bool = False,
            show_progress: bool = True) -> Tuple[Dict, List[str]]:
    """Convert a folder of ``all_sqe`` JSON files.

    Args:
        src (str): Folder with the ``aAA_sSS_eEE_vVV.json`` files.
        strict (bool): Stop at the first bad file (raise). Defaults to False
            (skip it and report it).
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple: ``(dataset, skipped)``: the PoseDataset dict and one line per
        skipped file (the error message, naming the file).

    Raises:
        NWUCLAError: ``strict`` and a bad file, or no usable file at all.
    """
    if not osp.isdir(src):
        raise NWUCLAError(f'{src}: no such folder (expected the NW-UCLA '
                          'all_sqe folder of aAA_sSS_eEE_vVV.json files)')
    paths = sorted(glob.glob(osp.join(src, '*.json')))
    if not paths:
        raise NWUCLAError(f'{src}: no .json files (expected the NW-UCLA '
                          'all_sqe files aAA_sSS_eEE_vVV.json)')
    annotations, skipped = [], []
    items = progress(paths, desc='NW-UCLA') if show_progress else paths
    for path in items:
        try:
            annotations.append(load_sequence(path))
        except NWUCLAError as err:
            if strict:
                raise
            skipped.append(str(err))
    if not annotations:
        raise NWUCLAError(f'{src}: none of the {len(paths)} files could be '
                          'used:\n  ' + '\n  '.join(skipped))
    split = {name: [] for name in SPLITS}
    for ann in annotations:
        for key in split_names(ann['view'], ann['subject']):
            split[key].append(ann['frame_dir'])
    dataset = dict(
        split=split,
        annotations=annotations,
        meta=dict(
            class_names=list(CLASS_NAMES),
            layout='nw-ucla',
            source='NW-UCLA all_sqe JSON files',
            protocol='cross-view: views 1, 2 train; view 3 test; '
            'tuning: views 1, 2 subjects 1-8 train, subjects 9-10 val',
            action_to_label={f'a{a:02d}': lab - 1
                             for a, lab in ACTION_TO_LABEL.items()}))
    return dataset, skipped


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the NW-UCLA all_sqe JSON files (one per '
        'sequence, aAA_sSS_eEE_vVV.json) to an mmaction PoseDataset pickle '
        'with the cross-view split: xview_train (views 1, 2; 1020 '
        'sequences) and xview_val (view 3; 464), and a tuning split of the '
        'training views by subject: xview_tunetrain (subjects 1-8; 829) '
        'and xview_tuneval (subjects 9, 10; 191). Labels 0..9 in the order '
        'of meta.class_names. Single-frame sequences and zero frames are '
        'kept, as the published protocol keeps them. Bad files are '
        'skipped and listed (or stop the run with --strict); the output is '
        'written atomically, never partially.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python data_prep/nw_ucla.py --data-root ../shared/data/nw_ucla '
        '--out data/skeleton/nw_ucla_3d.pkl\n'
        '  python tools/train.py configs/ctrgcn/'
        'ctrgcn_1xb16-joint-52f-65e_nw-ucla-xview-keypoint-3d.py')
    parser.add_argument('--data-root', required=True,
                        help='folder of the all_sqe JSON files')
    parser.add_argument(
        '--out', default='data/skeleton/nw_ucla_3d.pkl',
        help='output .pkl (directory created; default: %(default)s, the '
        'ann_file of the NW-UCLA configs)')
    parser.add_argument(
        '--strict', action='store_true',
        help='stop at the first bad file instead of skipping and listing it')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if check_out_arg(args.out):  # before reading 1484 files
        return 2
    try:
        dataset, skipped = convert(args.data_root, strict=args.strict,
                                   show_progress=not args.no_progress)
    except NWUCLAError as err:
        print(f'error: {err}', file=sys.stderr)
        if args.strict:
            print('stopped (--strict); nothing written', file=sys.stderr)
        return 1
    report = list(_quirks(dataset['annotations']))
    sizes = {k: len(v) for k, v in dataset['split'].items()}
    if sizes != STANDARD_SIZES:
        report.append(f'note: split sizes {sizes} differ from the standard '
                      f'cross-view protocol {STANDARD_SIZES}')
    if skipped:
        report.append(f'skipped {len(skipped)} bad file(s):')
        report += [f'  {line}' for line in skipped]
    return write_dataset(dataset, args.out, report, 'sequences')


if __name__ == '__main__':
    sys.exit(main())
