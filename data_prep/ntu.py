"""NTU RGB+D 60 / 120 raw ``.skeleton`` files -> mmaction PoseDataset pickle.

Input: the ``.skeleton`` files of the official release, found recursively
under one or more ``--data-root`` folders (``nturgb+d_skeletons/`` of the
S001-S017 and S018-S032 archives, or one folder per setup). A file is named
``SsssCcccPpppRrrrAaaa.skeleton``: setup, camera, performer (subject),
replication and action, all 1-based.

Output (3D, metres, Kinect camera space)::

    dict(split=dict(xsub_train=[...], xsub_val=[...], xview_train=[...],
                    xview_val=[...]),          # ntu60; ntu120: xsub, xset
         annotations=[dict(frame_dir='S001C001P001R001A001', label=0,
                           total_frames=T,
                           keypoint=float32 [M, T, 25, 3]), ...],
         meta=dict(dataset='ntu60', num_classes=60, ...))

``label`` is the action number minus 1. ``M`` is 1 or 2 (see below).
``PoseDataset`` reads ``split`` and ``annotations``; ``meta`` is extra.

Splits (the official protocols, with mmaction's split names):

* ``xsub``: training performers ``NTU60_TRAIN_SUBJECTS`` (NTU60) or
  ``NTU120_TRAIN_SUBJECTS`` (NTU120), every other performer is ``val``.
* ``xview`` (NTU60): cameras 2 and 3 train, camera 1 val.
* ``xset`` (NTU120): even setup numbers train, odd ones val.

Skipped before parsing: the samples of the official missing-skeleton lists
(``lists/ntu60_missing_skeletons.txt``, 302 samples, and
``lists/ntu120_missing_skeletons.txt``, 535 samples including the 302; both
byte-identical copies of ``NTU_RGBD_samples_with_missing_skeletons.txt`` and
``NTU_RGBD120_samples_with_missing_skeletons.txt`` of
github.com/shahroudy/NTURGB-D), and, for ``--dataset ntu60``, files of
setups 18-32 (NTU120 only).

File format (parsed exactly; anything else is a "malformed" sample whose
message names the file, the line and what was expected)::

    <frame count>
    per frame:  <body count>
      per body: bodyID clippedEdges handLeftConfidence handLeftState
                handRightConfidence handRightState isRestricted leanX leanY
                trackingState                         (10 values)
                <joint count>                         (25)
                25 x: x y z depthX depthY colorX colorY orientationW
                      orientationX orientationY orientationZ trackingState
                                                      (12 values)

Only ``x y z`` are kept.

Body selection and denoising: ONE pipeline, the one of
``get_raw_denoised_data.py`` (SGN, Zhang et al. CVPR 2020), which CTR-GCN
(Chen et al. ICCV 2021) and its successors use to build their NTU data.
We chose it because it is the reference for 3D NTU skeletons in the line
of work SF-Head is compared with: CTR-GCN ships it in its ``data/ntu*/``
scripts and its published numbers (and those of the works that reuse these
scripts) were obtained on data denoised this way. It also only ever
removes whole bodies and frames, never edits a coordinate, so every kept
value is the raw Kinect value. Per sample:

1. Frames with no body are removed (their indices do not count below).
2. If more than one body ID occurs in the sample:

   a. *length*: bodies seen in at most ``NOISE_LENGTH_FRAMES`` (11) frames
      are dropped. (The original crashes if this drops every body; here the
      rule is then not applied.)
   b. *spread*: a frame of a body is noisy when its x extent exceeds
      ``NOISE_SPREAD_XY_RATIO`` (0.8) times its y extent (a person stands
      taller than wide; a mis-detected object or a collapsed skeleton does
      not). A body whose noisy-frame ratio is at least
      ``NOISE_SPREAD_FRAME_RATIO`` (0.69754) is dropped, in order of first
      appearance, never the last remaining body; otherwise its motion
      becomes ``min(motion, motion over its non-noisy frames)``.
   c. The remaining bodies are sorted by motion, descending (ties keep the
      order of first appearance), where the motion of a body is
      ``sum over x, y, z of the variance of all its joint positions over
      all its frames`` (``np.var(joints.reshape(-1, 3), 0).sum()``, as in
      ``get_raw_skes_data.py``).

3. At most 2 body tracks: the most moving body starts track 1; each next
   body (by motion) joins track 1 if its frame span ``[first, last]`` does
   not overlap the span of track 1 (``min(ends) - max(starts) <= 0``), else
   track 2 if it does not overlap track 2 (empty at first), else it is
   dropped ("motion rank>2"). This stitches the new body IDs Kinect assigns
   to the same person after a tracking loss.
4. Frames where no kept track has a body are removed; a track that misses
   some frames is zero there (the zero-padded second body of the original).
   ``M`` is the number of tracks: 1 for a single person, 2 otherwise, so
   mmaction's ``FormatGCNInput(num_person=2)`` pads single-person samples
   (with zeros or, with ``mode='loop'``, a copy).

Unlike CTR-GCN's data, the output is neither centred nor padded to 300
frames (its ``seq_transformation.py`` does that; in mmaction,
``PreNormalize3D`` and ``UniformSampleFrames`` do), a body is written at
its own frames (the original assumes it has no gap), and track 2 starts
empty (the original initialises its span to ``[0, 0]``, which makes it
always start at frame 0).

The summary reports per reason how many bodies, frames and samples were
dropped, and lists every bad sample with its message; ``--strict`` stops at
the first bad sample instead (exit code 1, no output written).

Example::

    python data_prep/ntu.py --dataset ntu120 \\
        --data-root data/nturgbd_raw/nturgb+d_skeletons \\
        --out data/skeleton/ntu120_3d.pkl --workers 8
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing import Pool
from typing import (Dict, FrozenSet, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np

if __package__ in (None, ''):  # run as a script: python data_prep/ntu.py
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from data_prep.common import (check_out_arg, progress,  # noqa: E402
                              stop_strict, write_dataset)

__all__ = [
    'NTU60_TRAIN_SUBJECTS', 'NTU120_TRAIN_SUBJECTS', 'XVIEW_TRAIN_CAMERAS',
    'DATASETS', 'SampleError', 'SampleName', 'BodyTrack', 'SampleResult',
    'ConversionReport', 'parse_sample_name', 'read_skeleton_file',
    'load_missing_list', 'denoise_bodies', 'select_bodies', 'split_names',
    'convert_sample', 'convert_ntu', 'main'
]

NUM_JOINTS = 25
BODY_INFO_FIELDS = 10
JOINT_FIELDS = 12
LISTS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'lists')

# Thresholds of get_raw_denoised_data.py (see the module docstring).
NOISE_LENGTH_FRAMES = 11
NOISE_SPREAD_XY_RATIO = 0.8
NOISE_SPREAD_FRAME_RATIO = 0.69754

#: Official cross-subject training performers of NTU RGB+D 60.
NTU60_TRAIN_SUBJECTS: FrozenSet[int] = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35,
     38))
#: Official cross-subject training performers of NTU RGB+D 120.
NTU120_TRAIN_SUBJECTS: FrozenSet[int] = NTU60_TRAIN_SUBJECTS | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81,
     82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103))
#: Cross-view training cameras of NTU RGB+D 60 (camera 1 is the val view).
XVIEW_TRAIN_CAMERAS: FrozenSet[int] = frozenset((2, 3))

#: Reasons a whole body is dropped, in summary order.
BODY_DROP_REASONS = ('length', 'spread', 'motion rank>2')
#: Reasons a sample is skipped, in summary order. The first two are
#: expected (counted only); the others are bad input (listed, and fatal
#: with ``--strict``).
SKIP_REASONS = ('missing-list', 'outside-dataset', 'empty', 'malformed',
                'non-finite', 'label', 'duplicate')
EXPECTED_SKIPS = ('missing-list', 'outside-dataset')


@dataclass(frozen=True)
class DatasetSpec:
    """What differs between NTU RGB+D 60 and 120."""

    name: str
    num_classes: int
    max_setup: int
    benchmarks: Tuple[str, ...]
    train_subjects: FrozenSet[int]
    missing_list: str


DATASETS: Dict[str, DatasetSpec] = dict(
    ntu60=DatasetSpec('ntu60', 60, 17, ('xsub', 'xview'),
                      NTU60_TRAIN_SUBJECTS,
                      osp.join(LISTS_DIR, 'ntu60_missing_skeletons.txt')),
    ntu120=DatasetSpec('ntu120', 120, 32, ('xsub', 'xset'),
                       NTU120_TRAIN_SUBJECTS,
                       osp.join(LISTS_DIR, 'ntu120_missing_skeletons.txt')))


class SampleError(ValueError):
    """A bad input sample.

    Args:
        message (str): Names the file (and line) and what was expected.
        reason (str): The summary category, one of ``SKIP_REASONS``.
    """

    def __init__(self, message: str, reason: str = 'malformed') -> None:
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------------------
# Names and lists
# ---------------------------------------------------------------------------
_NAME_RE = re.compile(r'^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$')


@dataclass(frozen=True)
class SampleName:
    """The fields of ``SsssCcccPpppRrrrAaaa`` (all 1-based)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int


def parse_sample_name(name: str) -> SampleName:
    """Parse ``'S001C002P003R002A013'``; a folder and a ``.skeleton``
    suffix are allowed (``'x/S001C002P003R002A013.skeleton'``).

    Raises:
        SampleError: (reason ``malformed``) if the name has another form.
    """
    stem = osp.basename(name)
    if stem.endswith('.skeleton'):
        stem = stem[:-len('.skeleton')]
    match = _NAME_RE.match(stem)
    if match is None:
        raise SampleError(
            f'{name}: expected a file name like S001C001P001R001A001.skeleton'
            f' (setup, camera, performer, replication, action)')
    return SampleName(*(int(g) for g in match.groups()))


def load_missing_list(path: str) -> FrozenSet[str]:
    """Sample names of a missing-skeleton list, one per line.

    Lines that are not a sample name (the official files start with two
    sentences and a blank line) are ignored; a ``.skeleton`` suffix is
    allowed.
    """
    names = set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            token = line.strip()
            if token.endswith('.skeleton'):
                token = token[:-len('.skeleton')]
            if _NAME_RE.match(token):
                names.add(token)
    return frozenset(names)


def split_names(name: SampleName, spec: DatasetSpec,
                benchmarks: Sequence[str]) -> List[str]:
    """The split names (``xsub_train``, ...) a sample belongs to."""
    rules = dict(
        xsub=name.performer in spec.train_subjects,
        xview=name.camera in XVIEW_TRAIN_CAMERAS,
        xset=name.setup % 2 == 0)
    return [
        f'{benchmark}_{"train" if rules[benchmark] else "val"}'
        for benchmark in benchmarks
    ]


# ---------------------------------------------------------------------------
# The .skeleton reader
# ---------------------------------------------------------------------------
class _Lines:
    """A cursor over the lines of one file that reports where it failed."""

    def __init__(self, path: str, lines: List[str]) -> None:
        self.path = path
        self.lines = lines
        self.index = 0  # 0-based index of the next line

    def error(self, line_index: int, message: str,
              reason: str = 'malformed') -> SampleError:
        return SampleError(f'{self.path}:{line_index + 1}: {message}',
                           reason)

    def take(self, expected: str) -> List[str]:
        """The next line split into tokens."""
        if self.index >= len(self.lines):
            raise self.error(
                self.index, f'expected {expected}, got the end of the file '
                f'(truncated file?)')
        tokens = self.lines[self.index].split()
        self.index += 1
        return tokens

    def count(self, expected: str) -> int:
        """The next line as one non-negative integer."""
        tokens = self.take(expected)
        if len(tokens) != 1 or not (tokens[0].isascii() and
                                    tokens[0].isdigit()):
            raise self.error(self.index - 1,
                             f'expected {expected} (one integer >= 0), got '
                             f'{" ".join(tokens)[:80]!r}')
        return int(tokens[0])


def _joint_block(cursor: _Lines, where: str) -> np.ndarray:
    """The 25 joint lines of one body -> xyz, float64 [25, 3]."""
    start = cursor.index
    rows = [line.split() for line in cursor.lines[start:start + NUM_JOINTS]]
    if len(rows) < NUM_JOINTS or any(len(r) != JOINT_FIELDS for r in rows):
        for joint in range(NUM_JOINTS):  # the slow path says what is wrong
            what = (f'joint line {joint + 1} of {NUM_JOINTS} of {where} '
                    f'with {JOINT_FIELDS} values (x y z depthX depthY colorX '
                    f'colorY orientationW orientationX orientationY '
                    f'orientationZ trackingState)')
            if joint >= len(rows):
                raise cursor.error(
                    start + joint, f'expected {what}, got the end of the '
                    f'file (truncated file?)')
            if len(rows[joint]) != JOINT_FIELDS:
                raise cursor.error(
                    start + joint,
                    f'expected {what}, got {len(rows[joint])} values')
    cursor.index += NUM_JOINTS
    try:
        xyz = np.array([row[:3] for row in rows], dtype=np.float64)
    except ValueError:
        for joint, row in enumerate(rows):
            try:
                [float(v) for v in row[:3]]
            except ValueError:
                raise cursor.error(
                    start + joint, f'expected numbers x y z for joint '
                    f'{joint + 1} of {where}, got {" ".join(row[:3])!r}'
                ) from None
        raise
    with np.errstate(over='ignore'):  # finite once stored as float32
        finite = np.isfinite(xyz.astype(np.float32)).all(axis=1)
    if not finite.all():
        joint = int(np.argmin(finite))
        raise cursor.error(
            start + joint, f'joint {joint + 1} of {where} has a non-finite '
            f'coordinate (x y z = {" ".join(rows[joint][:3])}); expected '
            f'finite numbers', 'non-finite')
    return xyz


def read_skeleton_file(path: str) -> List[List[Tuple[str, np.ndarray]]]:
    """Parse one ``.skeleton`` file (format in the module docstring).

    Args:
        path (str): The file.

    Returns:
        list[list[tuple[str, np.ndarray]]]: Per frame, the bodies as
        ``(bodyID, xyz)`` with ``xyz`` float64 [25, 3] in metres.

    Raises:
        SampleError: naming the file and line: a truncated file (fewer
            frames, bodies or joint lines than declared), a line with the
            wrong number of values, a joint count other than 25, a
            non-numeric or non-finite coordinate, a body ID twice in a
            frame, or extra content after the last frame.
    """
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise SampleError(f'{path}: cannot read it as a text file ({err})')
    cursor = _Lines(path, text.splitlines())
    num_frames = cursor.count('the frame count on the first line')
    frames = []
    for frame in range(num_frames):
        num_bodies = cursor.count(
            f'the body count of frame {frame + 1} of {num_frames}')
        bodies = []
        for body in range(num_bodies):
            where = f'body {body + 1} of {num_bodies} in frame {frame + 1}'
            info = cursor.take(f'the body info line of {where}')
            if len(info) != BODY_INFO_FIELDS:
                raise cursor.error(
                    cursor.index - 1,
                    f'expected the body info line of {where} with '
                    f'{BODY_INFO_FIELDS} values (bodyID clippedEdges '
                    f'handLeftConfidence handLeftState handRightConfidence '
                    f'handRightState isRestricted leanX leanY trackingState)'
                    f', got {len(info)}')
            body_id = info[0]
            if any(body_id == other for other, _ in bodies):
                raise cursor.error(
                    cursor.index - 1,
                    f'body ID {body_id} occurs twice in frame {frame + 1}; '
                    f'expected one entry per body and frame', 'duplicate')
            num_joints = cursor.count(f'the joint count of {where}')
            if num_joints != NUM_JOINTS:
                raise cursor.error(
                    cursor.index - 1, f'expected the joint count '
                    f'{NUM_JOINTS} for {where}, got {num_joints}')
            bodies.append((body_id, _joint_block(cursor, where)))
        frames.append(bodies)
    for index in range(cursor.index, len(cursor.lines)):
        if cursor.lines[index].strip():
            raise cursor.error(
                index, f'expected the end of the file after the '
                f'{num_frames} declared frames, got more content')
    return frames


# ---------------------------------------------------------------------------
# Denoising and body selection
# ---------------------------------------------------------------------------
def _motion(joints: np.ndarray) -> float:
    """Sum over x, y, z of the variance of all joint positions, [n, 25, 3]."""
    return float(np.var(joints.reshape(-1, 3), axis=0).sum())


@dataclass
class BodyTrack:
    """One body ID of a sample: where it is and how much it moves."""

    body_id: str
    frames: np.ndarray   # int [n], indices into the non-empty frames
    joints: np.ndarray   # float64 [n, 25, 3]
    motion: float = field(init=False)

    def __post_init__(self) -> None:
        self.motion = _motion(self.joints)

    @property
    def span(self) -> Tuple[int, int]:
        return int(self.frames[0]), int(self.frames[-1])


def _collect_bodies(frames: List[List[Tuple[str, np.ndarray]]]
                    ) -> List[BodyTrack]:
    """Group by body ID, in order of first appearance."""
    by_id: Dict[str, Tuple[List[int], List[np.ndarray]]] = {}
    for index, frame in enumerate(frames):
        for body_id, xyz in frame:
            indices, joints = by_id.setdefault(body_id, ([], []))
            indices.append(index)
            joints.append(xyz)
    return [
        BodyTrack(body_id, np.asarray(indices), np.stack(joints))
        for body_id, (indices, joints) in by_id.items()
    ]


def denoise_bodies(bodies: List[BodyTrack],
                   dropped: Optional[Counter] = None) -> List[BodyTrack]:
    """Steps 2a-2c of the module docstring.

    Args:
        bodies (list[BodyTrack]): In order of first appearance.
        dropped (Counter, optional): Incremented per drop reason
            (``length``, ``spread``).

    Returns:
        list[BodyTrack]: The kept bodies, most moving first.
    """
    dropped = Counter() if dropped is None else dropped
    if len(bodies) <= 1:
        return list(bodies)
    long_enough = [b for b in bodies if len(b.frames) > NOISE_LENGTH_FRAMES]
    if long_enough:
        dropped['length'] += len(bodies) - len(long_enough)
        bodies = long_enough
    kept = list(bodies)
    for body in bodies:
        if len(kept) == 1:
            break
        x, y = body.joints[..., 0], body.joints[..., 1]
        valid = (x.max(1) - x.min(1)) <= NOISE_SPREAD_XY_RATIO * (
            y.max(1) - y.min(1))
        num_noisy = int((~valid).sum())
        if num_noisy == 0:
            continue
        if num_noisy / len(valid) >= NOISE_SPREAD_FRAME_RATIO:
            kept.remove(body)
            dropped['spread'] += 1
        else:
            body.motion = min(body.motion, _motion(body.joints[valid]))
    return sorted(kept, key=lambda b: -b.motion)


def _overlaps(span: Optional[Tuple[int, int]], other: Tuple[int, int]) -> bool:
    """Whether two frame spans overlap (sharing one frame does not count)."""
    if span is None:
        return False
    return min(span[1], other[1]) - max(span[0], other[0]) > 0


def select_bodies(frames: List[List[Tuple[str, np.ndarray]]],
                  dropped: Optional[Counter] = None) -> np.ndarray:
    """Denoise and keep at most 2 body tracks (module docstring, 1-4).

    Args:
        frames (list): Output of :func:`read_skeleton_file`.
        dropped (Counter, optional): Incremented per reason: ``length``,
            ``spread``, ``motion rank>2`` (bodies) and ``frames`` (frames
            removed because no kept body is in them, empty ones included).

    Returns:
        np.ndarray: float32 [M, T, 25, 3], M in {1, 2}; T may be 0 when no
        frame has a body.
    """
    dropped = Counter() if dropped is None else dropped
    non_empty = [frame for frame in frames if frame]
    dropped['frames'] += len(frames) - len(non_empty)
    bodies = denoise_bodies(_collect_bodies(non_empty), dropped)
    if not bodies:
        return np.zeros((1, 0, NUM_JOINTS, 3), dtype=np.float32)
    tracks: List[List[BodyTrack]] = [[bodies[0]], []]
    spans: List[Optional[Tuple[int, int]]] = [bodies[0].span, None]
    for body in bodies[1:]:
        for track in (0, 1):
            if not _overlaps(spans[track], body.span):
                tracks[track].append(body)
                start, end = body.span
                if spans[track] is not None:
                    start = min(start, spans[track][0])
                    end = max(end, spans[track][1])
                spans[track] = (start, end)
                break
        else:
            dropped['motion rank>2'] += 1
    tracks = [track for track in tracks if track]
    keypoint = np.zeros((len(tracks), len(non_empty), NUM_JOINTS, 3))
    for index, track in enumerate(tracks):
        for body in track:
            keypoint[index, body.frames] = body.joints
    has_body = np.any(keypoint != 0, axis=(0, 2, 3))
    dropped['frames'] += int((~has_body).sum())
    return keypoint[:, has_body].astype(np.float32)


# ---------------------------------------------------------------------------
# One sample, the whole dataset
# ---------------------------------------------------------------------------
@dataclass
class SampleResult:
    """What converting one file gave: an annotation or a skip reason."""

    name: str
    annotation: Optional[dict] = None
    skip_reason: Optional[str] = None
    message: Optional[str] = None
    dropped: Counter = field(default_factory=Counter)


def convert_sample(path: str, spec: DatasetSpec,
                   missing: FrozenSet[str] = frozenset()) -> SampleResult:
    """Convert one ``.skeleton`` file; bad input becomes a skip, not a raise.

    Args:
        path (str): The file; its name gives the label and the splits.
        spec (DatasetSpec): ``DATASETS['ntu60']`` or ``DATASETS['ntu120']``.
        missing (frozenset[str]): Sample names to skip (missing list).

    Returns:
        SampleResult: ``annotation`` = ``dict(frame_dir, label,
        total_frames, keypoint)``, or ``skip_reason`` and ``message``.
    """
    base = osp.basename(path)
    name = base[:-len('.skeleton')] if base.endswith('.skeleton') else base
    result = SampleResult(name)
    try:
        fields = parse_sample_name(path)
        if name in missing:
            result.skip_reason = 'missing-list'
            return result
        if not 1 <= fields.setup <= 32:
            raise SampleError(f'{path}: setup S{fields.setup:03d} is out of '
                              f'range; expected S001-S032')
        if fields.setup > spec.max_setup:
            result.skip_reason = 'outside-dataset'
            return result
        if not 1 <= fields.action <= spec.num_classes:
            raise SampleError(
                f'{path}: sample {name}: action A{fields.action:03d} is out '
                f'of range; expected A001-A{spec.num_classes:03d} for '
                f'{spec.name} (label = action - 1)', 'label')
        if not 1 <= fields.camera <= 3:
            raise SampleError(f'{path}: camera C{fields.camera:03d} is out '
                              f'of range; expected C001-C003')
        keypoint = select_bodies(read_skeleton_file(path), result.dropped)
        if keypoint.shape[1] == 0:
            raise SampleError(
                f'{path}: sample {name} is empty (no frame has a body); '
                f'expected at least one frame with a skeleton', 'empty')
    except SampleError as err:
        result.skip_reason, result.message = err.reason, str(err)
        result.dropped = Counter()
        return result
    result.annotation = dict(
        frame_dir=name,
        label=fields.action - 1,
        total_frames=int(keypoint.shape[1]),
        keypoint=keypoint)
    return result


@dataclass
class ConversionReport:
    """Counts for the summary; ``bad`` lists (name, reason, message)."""

    dropped: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    bad: List[Tuple[str, str, str]] = field(default_factory=list)

    def lines(self) -> List[str]:
        bodies = ', '.join(f'{reason} {self.dropped[reason]}'
                           for reason in BODY_DROP_REASONS)
        shown = [r for r in SKIP_REASONS
                 if r in ('missing-list', 'empty', 'malformed')
                 or self.skipped[r]]
        skipped = ', '.join(f'{r} {self.skipped[r]}' for r in shown)
        lines = [
            f'bodies dropped: {bodies}; frames removed (no kept body): '
            f'{self.dropped["frames"]}', f'samples skipped: {skipped}'
        ]
        lines += [f'  {name}: {reason}: {message}'
                  for name, reason, message in self.bad]
        return lines


def find_skeleton_files(roots: Sequence[str]) -> List[Tuple[str, str]]:
    """``(sample name, path)`` of every ``*.skeleton`` file, sorted by name
    (then path); the search is recursive and follows no symlinked dirs."""
    found = []
    for root in roots:
        if not osp.isdir(root):
            raise FileNotFoundError(f'--data-root {root!r} is not a folder')
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            for file in files:
                if file.endswith('.skeleton'):
                    found.append((file[:-len('.skeleton')],
                                  osp.join(directory, file)))
    return sorted(found)


_WORKER_ARGS: tuple = ()


def _init_worker(spec: DatasetSpec, missing: FrozenSet[str]) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = (spec, missing)


def _convert_in_worker(path: str) -> SampleResult:
    return convert_sample(path, *_WORKER_ARGS)


def _results(paths: List[str], spec: DatasetSpec, missing: FrozenSet[str],
             workers: int) -> Iterator[SampleResult]:
    """Results in the order of ``paths``, with 1 or more processes."""
    if workers <= 1:
        for path in paths:
            yield convert_sample(path, spec, missing)
        return
    with Pool(workers, initializer=_init_worker,
              initargs=(spec, missing)) as pool:
        yield from pool.imap(_convert_in_worker, paths, chunksize=16)


def convert_ntu(roots: Sequence[str],
                dataset: str = 'ntu60',
                benchmarks: Optional[Sequence[str]] = None,
                missing_list: Optional[str] = None,
                strict: bool = False,
                workers: int = 1,
                show_progress: bool = True) -> Tuple[dict, ConversionReport]:
    """Convert every ``.skeleton`` file under ``roots``.

    Args:
        roots (Sequence[str]): Folders searched recursively.
        dataset (str): ``'ntu60'`` or ``'ntu120'``. Defaults to ``'ntu60'``.
        benchmarks (Sequence[str], optional): Subset of the dataset's
            benchmarks (``xsub``, ``xview`` / ``xset``). Defaults to all.
        missing_list (str, optional): Missing-skeleton list to skip.
            Defaults to the shipped official list of ``dataset``.
        strict (bool): Raise :class:`SampleError` at the first bad sample
            instead of skipping it. Defaults to False.
        workers (int): Parsing processes. Defaults to 1.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[dict, ConversionReport]: The PoseDataset dict and the counts.
    """
    spec = DATASETS[dataset]
    benchmarks = list(spec.benchmarks if benchmarks is None else benchmarks)
    unknown = [b for b in benchmarks if b not in spec.benchmarks]
    if unknown:
        raise ValueError(f'{dataset} has the benchmarks {spec.benchmarks}, '
                         f'got {unknown}')
    missing = load_missing_list(missing_list or spec.missing_list)
    report = ConversionReport()
    files, paths, seen = find_skeleton_files(roots), [], {}
    for name, path in files:
        if name in seen:
            message = (f'{path}: sample {name} was already found at '
                       f'{seen[name]}; expected each sample once')
            if strict:
                raise SampleError(message, 'duplicate')
            report.skipped['duplicate'] += 1
            report.bad.append((name, 'duplicate', message))
            continue
        seen[name] = path
        paths.append(path)
    results = _results(paths, spec, missing, workers)
    if show_progress:
        results = progress(results, f'{dataset} .skeleton', len(paths))
    annotations = []
    split: Dict[str, List[str]] = {
        f'{b}_{part}': []
        for b in benchmarks for part in ('train', 'val')
    }
    for result in results:
        if result.skip_reason is not None:
            if strict and result.skip_reason not in EXPECTED_SKIPS:
                raise SampleError(result.message, result.skip_reason)
            report.skipped[result.skip_reason] += 1
            if result.skip_reason not in EXPECTED_SKIPS:
                report.bad.append(
                    (result.name, result.skip_reason, result.message))
            continue
        report.dropped.update(result.dropped)
        # Rebuilt here so that the pickle's bytes (its memo of shared
        # strings) do not depend on --workers.
        name, annotation = result.name, result.annotation
        annotations.append(
            dict(
                frame_dir=name,
                label=int(annotation['label']),
                total_frames=int(annotation['total_frames']),
                keypoint=annotation['keypoint']))
        for split_name in split_names(
                parse_sample_name(name), spec, benchmarks):
            split[split_name].append(name)
    report.bad.sort()
    meta = dict(
        dataset=dataset,
        num_classes=spec.num_classes,
        layout='nturgb+d',
        units='metres',
        denoising='get_raw_denoised_data.py (SGN / CTR-GCN), max 2 tracks',
        bodies_dropped={r: report.dropped[r] for r in BODY_DROP_REASONS},
        frames_removed=report.dropped['frames'],
        samples_skipped={r: report.skipped[r] for r in SKIP_REASONS},
        bad_samples=[name for name, _, _ in report.bad])
    return dict(split=split, annotations=annotations, meta=meta), report


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert raw NTU RGB+D 60/120 .skeleton files into an '
        'mmaction PoseDataset pickle (3D, 25 joints, at most 2 bodies, '
        'denoised as in get_raw_denoised_data.py of SGN / CTR-GCN).',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python data_prep/ntu.py --dataset ntu120 '
        '--data-root data/nturgbd_raw/nturgb+d_skeletons '
        '--out data/skeleton/ntu120_3d.pkl --split xsub xset --workers 8\n\n'
        'splits: ntu60 xsub_train/xsub_val, xview_train/xview_val; '
        'ntu120 xsub_train/xsub_val, xset_train/xset_val\n'
        'skipped: the official missing-skeleton lists (data_prep/lists/, '
        '302 / 535 samples);\nbad samples are skipped and listed in the '
        'summary, or stop the run with --strict.')
    parser.add_argument(
        '--data-root', nargs='+', required=True, metavar='DIR',
        help='folder(s) searched recursively for *.skeleton files')
    parser.add_argument('--out', required=True, help='output .pkl path')
    parser.add_argument(
        '--dataset', choices=sorted(DATASETS), default='ntu60',
        help='default: ntu60 (only setups S001-S017 are used)')
    parser.add_argument(
        '--split', nargs='+', metavar='BENCHMARK',
        help='benchmarks to write: xsub and xview (ntu60) or xset (ntu120);'
        " default: all of the dataset's")
    parser.add_argument(
        '--missing-list', metavar='TXT',
        help='samples to skip; default: the shipped official list')
    parser.add_argument(
        '--strict', action='store_true',
        help='stop at the first bad sample (exit code 1, nothing written)')
    parser.add_argument(
        '--workers', type=int, default=1,
        help='parsing processes (default: 1); the output does not depend '
        'on it')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if check_out_arg(args.out):
        return 2
    spec = DATASETS[args.dataset]
    if args.split and not set(args.split) <= set(spec.benchmarks):
        print(f'--split: {args.dataset} has the benchmarks '
              f'{" ".join(spec.benchmarks)}, got {" ".join(args.split)}',
              file=sys.stderr)
        return 2
    try:
        dataset, report = convert_ntu(
            args.data_root, args.dataset, args.split, args.missing_list,
            args.strict, max(1, args.workers))
    except SampleError as err:
        return stop_strict(err)
    except (FileNotFoundError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    return write_dataset(dataset, args.out, report.lines(), 'samples')


if __name__ == '__main__':
    sys.exit(main())
