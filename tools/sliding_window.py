"""Sliding-window action recognition over a long skeleton sequence.

Used by ``tools/infer.py --window W --stride S``: the sequence (an NTU
``.skeleton``, a PKU-MMD ``.txt``, a ``.npy``, one entry of a PoseDataset
``.pkl``, or a video through ``tools/extract_pose.py``) is cut into windows
of ``W`` frames every ``S`` frames; each window goes through the config's
test pipeline as one clip (``num_clips=1``: with ``W`` frames and the
config's ``clip_len`` the test pipeline's extra clips would repeat the same
frames); windows are batched through the model; each window gets its top-k.

Frames are 0-based; a window covers ``start_frame <= f < end_frame``.
The timeline is written as a CSV (``start_frame,end_frame,rank,label,
score``, k rows per window) and a PNG. :func:`segments` merges consecutive
windows with the same top-1 label; a boundary between two segments is put
half-way between the centres of the last window of one and the first window
of the next.
"""
import csv
import os
import os.path as osp
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

__all__ = [
    'SequenceError', 'WindowPrediction', 'Segment', 'read_sequence',
    'as_sequence',
    'config_keypoint_dims', 'check_sequence_fits', 'window_starts',
    'predict_windows', 'segments', 'write_timeline_csv', 'plot_timeline'
]


class SequenceError(ValueError):
    """A sequence cannot be read or does not fit the model; the message
    names the file, what was found and what was expected."""


@dataclass
class WindowPrediction:
    """Top-k of one window: frames ``start <= f < end``."""
    start: int
    end: int
    labels: List[int]
    scores: List[float]


@dataclass
class Segment:
    """Consecutive windows with the same top-1 label: frames
    ``start <= f < end`` (boundaries half-way between window centres)."""
    start: int
    end: int
    label: int
    score: float  # mean score of ``label`` over its windows


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def _drop_empty_bodies(keypoint: np.ndarray) -> np.ndarray:
    """Bodies that are all zeros over the whole sequence are dropped
    (PKU-MMD rows always hold two bodies)."""
    keep = np.abs(keypoint).reshape(len(keypoint), -1).max(1) > 0
    return keypoint[keep] if keep.any() else keypoint[:1]


def _read_pickle_entry(path: str, sample: Optional[str]) -> Dict:
    """One annotation of a PoseDataset pickle (``sample`` = frame_dir)."""
    with open(path, 'rb') as f:
        data = pickle.load(f)
    annotations = data.get('annotations') if isinstance(data, dict) else \
        data if isinstance(data, list) else None
    if not annotations:
        raise SequenceError(f'{path}: no annotations; expected a PoseDataset'
                            ' pickle dict(split=..., annotations=[...]) or a'
                            ' list of annotations')
    if sample is None:
        if len(annotations) > 1:
            names = [a.get('frame_dir') for a in annotations[:5]]
            raise SequenceError(
                f'{path} holds {len(annotations)} sequences; choose one with '
                f'--sample FRAME_DIR (e.g. {names})')
        return annotations[0]
    for ann in annotations:
        if ann.get('frame_dir') == sample:
            return ann
    raise SequenceError(f'{path}: no annotation with frame_dir {sample!r}')


def read_sequence(path: str, sample: Optional[str] = None,
                  dims: Optional[int] = None) -> Dict:
    """Read a long sequence into the fields mmaction's pipeline expects.

    Args:
        path (str): ``.skeleton`` (NTU), ``.txt`` (PKU-MMD: one row of
            150 floats per frame), ``.json`` (NW-UCLA), ``.npy``
            ([M, T, V, C] or [T, V, C]) or ``.pkl`` (PoseDataset).
        sample (str, optional): ``frame_dir`` of the ``.pkl`` entry; needed
            when the pickle holds more than one.
        dims (int, optional): keypoint dimensions of the model (2 or 3).
            Decides what a ``.npy`` with C=3 holds: x, y, z (3) or x, y,
            score (2, as ``tools/extract_pose.py`` writes).

    Returns:
        dict: ``keypoint`` float32 [M, T, V, C] (C = 2 in 2D) and, in 2D,
        ``keypoint_score`` float32 [M, T, V] and ``img_shape``; plus
        ``total_frames`` and ``dims``.
    """
    if not osp.isfile(path):
        raise SequenceError(f'sequence file not found: {path}')
    ext = osp.splitext(path)[1].lower()
    seq: Dict = {}
    if ext == '.txt':
        from data_prep.pku_mmd import read_skeleton
        seq['keypoint'] = _drop_empty_bodies(read_skeleton(path))
    elif ext == '.pkl':
        ann = _read_pickle_entry(path, sample)
        if 'keypoint' not in ann:
            raise SequenceError(f'{path}: annotation '
                                f'{ann.get("frame_dir")!r} has no keypoint')
        seq['keypoint'] = np.asarray(ann['keypoint'], np.float32)
        for key in ('keypoint_score', 'img_shape'):
            if key in ann:
                seq[key] = ann[key]
    elif ext == '.npy':
        array = np.load(path, allow_pickle=False)
        if array.ndim == 3:
            array = array[None]
        if array.ndim != 4 or array.shape[-1] not in (2, 3):
            raise SequenceError(
                f'{path}: expected an array [M, T, V, C] or [T, V, C] with '
                f'C = 3 (x, y, z or x, y, score) or 2 (x, y), got shape '
                f'{array.shape}')
        array = array.astype(np.float32)
        if array.shape[-1] == 2 or dims == 2:
            seq['keypoint'] = array[..., :2]
            seq['keypoint_score'] = array[..., 2] if array.shape[-1] == 3 \
                else np.ones(array.shape[:3], np.float32)
        else:
            seq['keypoint'] = array
    else:  # the single-clip readers of tools/infer.py
        from tools.infer import read_keypoints
        seq['keypoint'] = read_keypoints(path)
    return as_sequence(seq, path)


def as_sequence(seq: Dict, path: str) -> Dict:
    """Check and complete a sequence dict (``keypoint`` [M, T, V, C], and
    ``keypoint_score`` in 2D): float32, finite, ``dims`` and
    ``total_frames`` set; a 2D one without scores gets scores of 1."""
    keypoint = np.asarray(seq['keypoint'], np.float32)
    if keypoint.ndim != 4 or keypoint.shape[1] == 0:
        raise SequenceError(f'{path}: expected keypoints [M, T, V, C] with '
                            f'T > 0, got shape {keypoint.shape}')
    if not np.isfinite(keypoint).all():
        raise SequenceError(f'{path}: non-finite coordinates')
    seq['keypoint'] = keypoint
    seq['dims'] = 2 if 'keypoint_score' in seq or keypoint.shape[-1] == 2 \
        else 3
    if seq['dims'] == 2:
        seq['keypoint_score'] = np.asarray(
            seq.get('keypoint_score', np.ones(keypoint.shape[:3])),
            np.float32)
    seq['total_frames'] = int(keypoint.shape[1])
    return seq


# ---------------------------------------------------------------------------
# Checks against the model
# ---------------------------------------------------------------------------
def config_keypoint_dims(cfg) -> Optional[int]:
    """2 or 3 from the test pipeline's ``PreNormalize2D``/``3D`` (else the
    ``GenSkeFeat`` dataset: 'coco'/'openpose' are 2D, 'nturgb+d' 3D);
    None when the pipeline does not say."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    types = [t['type'] for t in pipeline]
    if 'PreNormalize2D' in types:
        return 2
    if 'PreNormalize3D' in types:
        return 3
    for t in pipeline:
        if t['type'] == 'GenSkeFeat':
            return {'coco': 2, 'openpose': 2, 'nturgb+d': 3}.get(
                t.get('dataset'))
    return None


def check_sequence_fits(model, seq: Dict, path: str, config: str) -> None:
    """Refuse a 2D sequence on a 3D model (and the reverse) and a joint
    count that is not the graph's, naming the file and the config."""
    want = config_keypoint_dims(model.cfg)
    got = seq['dims']
    if want is not None and want != got:
        what = {2: '2D keypoints (x, y, score: a pose estimator, a video)',
                3: '3D joints (x, y, z: Kinect, NTU/PKU-MMD)'}
        fix = {2: 'a keypoint-2d config and its checkpoint',
               3: 'a keypoint-3d config and its checkpoint'}
        raise SequenceError(
            f'{path}: {what[got]}, but {config} is a {want}D model '
            f'({"PreNormalize2D" if want == 2 else "PreNormalize3D"} in its '
            f'test pipeline); use {fix[got]}')
    joints = seq['keypoint'].shape[2]
    num_node = model.backbone.graph.num_node
    if joints != num_node:
        raise SequenceError(
            f'{path}: {joints} joints per frame, but the graph of {config} '
            f'has {num_node} (model.backbone.graph_cfg.layout)')


def window_starts(total_frames: int, window: int, stride: int,
                  path: str = 'the sequence') -> List[int]:
    """First frames of the windows: 0, S, 2S, ... and, if the last one
    stops short of the end, one more window ending at the last frame.

    Raises:
        SequenceError: ``window`` longer than the sequence, or a
            non-positive window or stride.
    """
    if window < 1 or stride < 1:
        raise SequenceError(f'--window and --stride must be >= 1, got '
                            f'{window} and {stride}')
    if window > total_frames:
        raise SequenceError(
            f'{path}: --window {window} is longer than the sequence '
            f'({total_frames} frames); use --window <= {total_frames}')
    starts = list(range(0, total_frames - window + 1, stride))
    if starts[-1] + window < total_frames:
        starts.append(total_frames - window)
    return starts


# ---------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------
def _window_pipeline(cfg) -> list:
    """The test pipeline with one clip per window."""
    import copy
    pipeline = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
    for t in pipeline:
        if t['type'] == 'UniformSampleFrames':
            t['num_clips'] = 1
    return pipeline


def _window_sample(seq: Dict, start: int, end: int, name: str) -> Dict:
    sample = dict(keypoint=seq['keypoint'][:, start:end].copy(),
                  total_frames=end - start, label=-1, start_index=0,
                  modality='Pose', frame_dir=f'{name}_{start}')
    if seq['dims'] == 2:
        sample['keypoint_score'] = seq['keypoint_score'][:, start:end].copy()
        sample['img_shape'] = tuple(seq.get('img_shape', (1080, 1920)))
    return sample


def _probabilities(scores: torch.Tensor) -> torch.Tensor:
    """Class probabilities of one window's ``pred_score`` (softmax unless
    the head already averaged probabilities)."""
    scores = scores.float()
    if scores.min() < 0 or abs(float(scores.sum()) - 1) > 1e-3:
        scores = scores.softmax(0)
    return scores


@torch.no_grad()
def predict_windows(model, seq: Dict, window: int, stride: int,
                    topk: int = 5, batch_size: int = 16,
                    name: str = 'sequence', progress: bool = True,
                    path: str = 'the sequence') -> List[WindowPrediction]:
    """Top-k of every window, windows batched through ``model.test_step``.

    Args:
        model: an mmaction recognizer in eval mode with ``model.cfg``.
        seq (dict): from :func:`read_sequence`.
        window (int): W, frames per window.
        stride (int): S, frames between window starts.
        topk (int): labels kept per window. Defaults to 5.
        batch_size (int): windows per forward. Defaults to 16.
        name (str): prefix of the windows' ``frame_dir``.
        progress (bool): show a progress bar. Defaults to True.
        path (str): the file, for error messages.

    Returns:
        list[WindowPrediction]: one per window, in time order.
    """
    from mmengine.dataset import Compose, pseudo_collate
    starts = window_starts(seq['total_frames'], window, stride, path)
    pipeline = Compose(_window_pipeline(model.cfg))
    results: List[WindowPrediction] = []
    bar = tqdm(total=len(starts), desc='windows', unit='win',
               disable=not progress)
    for first in range(0, len(starts), batch_size):
        chunk = starts[first:first + batch_size]
        batch = pseudo_collate([
            pipeline(_window_sample(seq, s, s + window, name))
            for s in chunk
        ])
        for s, out in zip(chunk, model.test_step(batch)):
            probs = _probabilities(out.pred_score)
            top = probs.topk(min(topk, len(probs)))
            results.append(WindowPrediction(
                s, s + window, top.indices.tolist(),
                [float(v) for v in top.values]))
        bar.update(len(chunk))
    bar.close()
    return results


def _smoothed_top1(windows: Sequence[WindowPrediction],
                   min_windows: int) -> List[int]:
    """Top-1 labels with every run shorter than ``min_windows`` windows
    given to the run before it (to the run after it at the start)."""
    labels = [w.labels[0] for w in windows]
    if min_windows <= 1:
        return labels
    changed = True
    while changed:
        changed = False
        runs = []  # [first, last] index of each run
        for i, label in enumerate(labels):
            if runs and labels[runs[-1][1]] == label:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        if len(runs) == 1:
            break
        for k, (first, last) in enumerate(runs):
            if last - first + 1 < min_windows:
                fill = labels[runs[k - 1][1]] if k else labels[runs[1][0]]
                labels[first:last + 1] = [fill] * (last - first + 1)
                changed = True
                break  # recompute the runs
    return labels


def segments(windows: Sequence[WindowPrediction],
             min_windows: int = 1) -> List[Segment]:
    """Merge consecutive windows with the same top-1 label.

    A boundary between windows ``a`` (label x) and ``b`` (label y) is put at
    the mean of their centres; the first segment starts at the first
    window's start, the last ends at the last window's end.

    Args:
        windows: from :func:`predict_windows`, in time order.
        min_windows (int): runs of fewer windows than this are first given
            the label of the run before them (a flicker filter). Defaults
            to 1 (none).
    """
    out: List[Segment] = []
    group: List[WindowPrediction] = []
    top1 = _smoothed_top1(windows, min_windows)

    def close(end: int, label: int) -> None:
        start = out[-1].end if out else group[0].start
        scores = [dict(zip(w.labels, w.scores)).get(label, 0.0)
                  for w in group]
        out.append(Segment(start, end, label, float(np.mean(scores))))

    label = None
    for w, new in zip(windows, top1):
        if group and new != label:
            prev = group[-1]
            close(int(round((prev.start + prev.end + w.start + w.end) / 4)),
                  label)
            group = []
        group.append(w)
        label = new
    if group:
        close(group[-1].end, label)
    return out


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def write_timeline_csv(path: str, windows: Sequence[WindowPrediction],
                       class_names: Sequence[str]) -> None:
    """``start_frame,end_frame,rank,label,score`` (k rows per window;
    0-based frames, end exclusive; ``label`` is the class name)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['start_frame', 'end_frame', 'rank', 'label',
                         'score'])
        for w in windows:
            for rank, (label, score) in enumerate(zip(w.labels, w.scores),
                                                  1):
                writer.writerow([w.start, w.end, rank, class_names[label],
                                 f'{score:.4f}'])


def plot_timeline(path: str, windows: Sequence[WindowPrediction],
                  class_names: Sequence[str], total_frames: int,
                  title: str = '',
                  truth: Optional[Sequence[Tuple[int, int, int]]] = None,
                  min_windows: int = 1) -> None:
    """PNG: the top-1 segments as a coloured band over the frames, and each
    top-1 class's score at the window centres.

    Args:
        truth: optional (start, end, label) ground-truth intervals, drawn
            as a second band.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    top1 = sorted({w.labels[0] for w in windows})
    colours = {c: plt.cm.tab10(i % 10) for i, c in enumerate(top1)}
    fig, (band, curve) = plt.subplots(
        2, 1, figsize=(10, 3.6), sharex=True,
        gridspec_kw=dict(height_ratios=[1, 3]))
    rows = [('predicted', [(s.start, s.end, s.label)
                           for s in segments(windows, min_windows)])]
    if truth:
        rows.append(('truth', list(truth)))
    for y, (_, spans) in enumerate(rows):
        for start, end, label in spans:
            colour = colours.get(label, (0.7, 0.7, 0.7, 1))
            band.broken_barh([(start, end - start)], (y + 0.1, 0.8),
                             color=colour)
    band.set_yticks([r + 0.5 for r in range(len(rows))],
                    [name for name, _ in rows])
    band.set_ylim(0, len(rows))
    centres = [(w.start + w.end) / 2 for w in windows]
    for c in top1:
        values = [dict(zip(w.labels, w.scores)).get(c, 0.0) for w in windows]
        curve.plot(centres, values, '-o', ms=2, color=colours[c],
                   label=class_names[c])
    curve.set_xlim(0, total_frames)
    curve.set_ylim(0, 1)
    curve.set_xlabel('frame')
    curve.set_ylabel('score (window centre)')
    curve.legend(fontsize=7, loc='upper right', ncol=2)
    if title:
        band.set_title(title, fontsize=9)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
