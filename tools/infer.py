"""Top-k actions for one skeleton file, through the config's test pipeline.

Reads NTU ``.skeleton`` (bodies denoised and selected as by
``data_prep/ntu.py``), NW-UCLA ``.json`` (``all_sqe``) and ``.npy``
arrays [M, T, V, C] (or [T, V, C] for one person).

Example:
    python tools/infer.py CONFIG CKPT S001C001P001R001A001.skeleton \
        --dataset ntu60 --topk 5

Long sequences (``--window W --stride S``, see ``tools/sliding_window.py``):
a PKU-MMD ``.txt``, an NTU ``.skeleton``, a ``.npy``, one entry of a
PoseDataset ``.pkl`` (``--sample FRAME_DIR``) or a video (2D configs; pose
by ``tools/extract_pose.py``, rtmlib) get a top-k per window, written as a
timeline CSV and PNG::

    python tools/infer.py CONFIG CKPT 0002-L.txt --dataset pku-mmd \
        --window 100 --stride 25 --timeline work_dirs/0002-L_timeline.csv
    python tools/infer.py CONFIG_2D CKPT_2D video.mp4 --window 32
"""
import argparse
import os.path as osp
import sys
from typing import List, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # data_prep/ holds the file-format readers
    sys.path.insert(0, REPO)

import sfhead_mm  # noqa: E402,F401
from mmaction.apis import inference_recognizer  # noqa: E402
from mmengine.dataset import Compose  # noqa: E402
from sfhead_mm.apis import load_recognizer  # noqa: E402
from sfhead_mm.datasets.class_names import get_class_names  # noqa: E402
from sfhead_mm.engine.launch import USER_ERRORS  # noqa: E402
from tools.extract_pose import VIDEO_FORMATS  # noqa: E402  (no rtmlib)

FORMATS = ('.skeleton', '.json', '.npy')


class SkeletonFileError(ValueError):
    """A skeleton file cannot be read or does not fit the config."""


def read_keypoints(path: str) -> np.ndarray:
    """float32 [M, T, V, C] from any supported file."""
    if not osp.isfile(path):
        raise SkeletonFileError(f'skeleton file not found: {path}')
    ext = osp.splitext(path)[1].lower()
    if ext == '.skeleton':
        from data_prep.ntu import read_skeleton_file, select_bodies
        keypoint = select_bodies(read_skeleton_file(path))
    elif ext == '.json':
        from data_prep.nw_ucla import load_sequence
        keypoint = load_sequence(path)['keypoint']
    elif ext == '.npy':
        keypoint = np.load(path, allow_pickle=False)
        if keypoint.ndim == 3:
            keypoint = keypoint[None]
        if keypoint.ndim != 4:
            raise SkeletonFileError(
                f'{path}: expected an array [M, T, V, C] or [T, V, C], got '
                f'shape {keypoint.shape}')
    else:
        raise SkeletonFileError(f'{path}: unsupported file type {ext!r}; '
                                f'supported: {FORMATS}')
    keypoint = np.asarray(keypoint, dtype=np.float32)
    if keypoint.shape[1] == 0:
        raise SkeletonFileError(f'{path}: no frames')
    if keypoint.shape[0] == 0:
        raise SkeletonFileError(f'{path}: no persons (shape '
                                f'{list(keypoint.shape)}, M = 0)')
    if not np.isfinite(keypoint).all():
        raise SkeletonFileError(f'{path}: non-finite coordinates')
    return keypoint


def predict(model, path: str, topk: int,
            class_names: List[str]) -> List[Tuple[str, float]]:
    """The ``topk`` (class name, probability) pairs for one file."""
    keypoint = read_keypoints(path)
    M, T, V, C = keypoint.shape
    max_persons = max([t.get('num_person', 2) for t in
                       model.cfg.test_dataloader.dataset.pipeline
                       if t['type'] == 'FormatGCNInput'] or [2])
    if M > max_persons:
        raise SkeletonFileError(
            f'{path}: {M} persons, but the config\'s pipeline takes at most '
            f'{max_persons} (FormatGCNInput num_person); keep the ones to '
            f'classify, e.g. save np.load(file)[:{max_persons}]')
    num_node = model.backbone.graph.num_node
    if V != num_node:
        raise SkeletonFileError(
            f'{path}: {V} joints per frame, but the config\'s graph has '
            f'{num_node} (model.backbone.graph_cfg.layout)')
    expected_c = model.cfg.model.backbone.get('in_channels', 3)
    feats = [t.get('feats', ['j']) for t in
             model.cfg.test_dataloader.dataset.pipeline
             if 'GenSkeFeat' in t['type']]
    if feats and C * len(feats[0]) != expected_c or not feats and \
            C != expected_c:
        raise SkeletonFileError(
            f'{path}: {C}D keypoints, but the config expects '
            f'{expected_c} input channels (a {C}D file with a '
            f'{expected_c}D config?)')
    data = dict(keypoint=keypoint, total_frames=T, label=-1,
                start_index=0, modality='Pose',
                frame_dir=osp.splitext(osp.basename(path))[0])
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    scores = inference_recognizer(model, data, pipeline).pred_score
    scores = scores.float().softmax(0) if scores.min() < 0 or \
        abs(float(scores.sum()) - 1) > 1e-3 else scores.float()
    top = scores.topk(min(topk, len(scores)))
    return [(class_names[i], float(p))
            for p, i in zip(top.values, top.indices.tolist())]


def uses_windows(path: str) -> bool:
    """Whether ``path`` is a format only the window mode reads (a PKU-MMD
    ``.txt``, a PoseDataset ``.pkl`` or a video)."""
    return osp.splitext(path)[1].lower() in ('.txt', '.pkl') + VIDEO_FORMATS


def add_window_args(parser: argparse.ArgumentParser) -> None:
    """The long-sequence options (``--window`` and what goes with it)."""
    group = parser.add_argument_group(
        'long sequences (tools/sliding_window.py)',
        'A top-k per window of W frames every S frames (0-based frames, '
        'end exclusive), each window one clip of the test pipeline, '
        'windows batched. Reads .skeleton, .txt (PKU-MMD), .npy, .pkl '
        '(PoseDataset entry) and videos (' + ', '.join(VIDEO_FORMATS) +
        '; 2D configs, pose by tools/extract_pose.py).')
    group.add_argument('--window', type=int, metavar='W',
                       help='frames per window')
    group.add_argument('--stride', type=int, metavar='S',
                       help='frames between window starts (default: W // 2, '
                       'half-window overlap: 16x real time for a CTR-GCN at '
                       'NTU width on 2 CPU cores, see README)')
    group.add_argument('--batch-size', type=int, default=16,
                       help='windows per forward (default: 16)')
    group.add_argument('--timeline', metavar='CSV',
                       help='timeline CSV (start_frame,end_frame,rank,label,'
                       'score); the plot goes beside it as .png (default: '
                       '<file name>_timeline.csv in the current directory)')
    group.add_argument('--min-windows', type=int, default=1, metavar='K',
                       help='printed segments and plot: a top-1 run shorter '
                       'than K windows takes the label before it (default: '
                       '1, none; the CSV always has every window)')
    group.add_argument('--labels', metavar='LABEL_FILE',
                       help='PKU-MMD label file of the sequence (action,'
                       'start,end,confidence; 1-based, inclusive): drawn as '
                       'a truth band in the plot, and each action\'s middle '
                       'frame checked against the top-1 segments')
    group.add_argument('--sample', metavar='FRAME_DIR',
                       help='which entry of a .pkl with several')
    group.add_argument('--det-model', help='video: person detector .onnx '
                       '(see tools/extract_pose.py --help)')
    group.add_argument('--pose-model', help='video: pose estimator .onnx')
    group.add_argument('--no-progress', action='store_true',
                       help='no progress bar')


def read_long_sequence(model, args) -> dict:
    """The sequence of ``args.file`` (a video goes through the pose
    front end), checked against the model."""
    from tools.sliding_window import (SequenceError, as_sequence,
                                      check_sequence_fits,
                                      config_keypoint_dims, read_sequence)
    dims = config_keypoint_dims(model.cfg)
    if osp.splitext(args.file)[1].lower() in VIDEO_FORMATS:
        if dims == 3:
            raise SequenceError(
                f'{args.file}: a video gives 2D keypoints (COCO-17), but '
                f'{args.config} is a 3D model (PreNormalize3D in its test '
                f'pipeline); use a keypoint-2d config and its checkpoint')
        from tools.extract_pose import PoseExtractor
        extractor = PoseExtractor(det_model=args.det_model,
                                  pose_model=args.pose_model)
        seq = as_sequence(extractor.extract_video(
            args.file, progress=not args.no_progress), args.file)
    else:
        seq = read_sequence(args.file, args.sample, dims)
    check_sequence_fits(model, seq, args.file, args.config)
    return seq


def run_windows(model, args, names: List[str]) -> list:
    """``--window``: per-window top-k, timeline CSV + PNG, printed
    segments. Returns the :class:`WindowPrediction` list."""
    from tools.sliding_window import (plot_timeline, predict_windows,
                                      segments, write_timeline_csv)
    seq = read_long_sequence(model, args)
    stride = args.stride or max(1, args.window // 2)
    stem = osp.splitext(osp.basename(args.file))[0]
    windows = predict_windows(
        model, seq, args.window, stride, args.topk, args.batch_size,
        name=stem, progress=not args.no_progress, path=args.file)
    csv_path = args.timeline or f'{stem}_timeline.csv'
    png_path = osp.splitext(csv_path)[0] + '.png'
    write_timeline_csv(csv_path, windows, names)
    truth = read_truth(args.labels) if args.labels else None
    plot_timeline(png_path, windows, names, seq['total_frames'],
                  title=f'{osp.basename(args.file)}: window {args.window}, '
                  f'stride {stride}', truth=truth,
                  min_windows=args.min_windows)
    print(f'{args.file}: {seq["total_frames"]} frames, {len(windows)} '
          f'windows of {args.window} every {stride}')
    for seg in segments(windows, args.min_windows):
        print(f'  frames {seg.start:>6}-{seg.end:<6} {names[seg.label]}  '
              f'{seg.score:.3f}')
    if truth:
        found = segments(windows, args.min_windows)

        def label_at(frame: int) -> int:
            return next((s.label for s in found if s.start <= frame < s.end),
                        found[-1].label)

        hits = sum(label_at((start + end) // 2) == label
                   for start, end, label in truth)
        print(f'labelled actions: {hits} of {len(truth)} have the top-1 '
              f'segment of their label at their middle frame')
    print(f'timeline: {csv_path}, {png_path}')
    return windows


def read_truth(path: str) -> List[Tuple[int, int, int]]:
    """(start, end, label) of a PKU-MMD label file: 0-based frames, end
    exclusive, 0-based labels."""
    from data_prep.pku_mmd import read_labels
    return [(row.start - 1, row.end, row.action - 1)
            for row in read_labels(path)]


def main(argv=None) -> List[Tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python tools/infer.py'
                                     ' CONFIG CKPT a01_s01_e01_v01.json '
                                     '--dataset nw-ucla')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('file', help=f'skeleton file ({", ".join(FORMATS)}'
                        '; with --window also .txt, .pkl and videos)')
    parser.add_argument('--dataset', help='class names: ntu60, ntu120, '
                        'pku-mmd, nw-ucla (default: indices)')
    parser.add_argument('--topk', type=int, default=5)
    add_window_args(parser)
    args = parser.parse_args(argv)
    if args.window is None and uses_windows(args.file):
        ext = osp.splitext(args.file)[1].lower()
        raise SkeletonFileError(
            f'{args.file}: unsupported file type {ext!r} without --window; '
            f'supported: {FORMATS}; .txt (PKU-MMD), .pkl and videos are '
            f'long sequences: give --window W (and --stride S)')
    model = load_recognizer(args.config, args.checkpoint, deploy=True)
    num_classes = model.cfg.model.cls_head.num_classes
    names = get_class_names(args.dataset) if args.dataset else [
        str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise SkeletonFileError(f'--dataset {args.dataset} has {len(names)}'
                                f' classes, the model {num_classes}')
    if args.window is not None:
        return run_windows(model, args, names)
    result = predict(model, args.file, args.topk, names)
    print(f'{args.file}:')
    for rank, (name, prob) in enumerate(result, 1):
        print(f'  {rank}. {name}  {prob:.3f}')
    return result


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS + (ValueError, KeyError) as err:
        # the readers' own errors (ValueError subclasses) name the file
        sys.exit(f'error: {err}')
