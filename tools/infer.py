"""Top-k actions for one skeleton file, through the config's test pipeline.

Reads NTU ``.skeleton`` (bodies denoised and selected as by
``data_prep/ntu.py``), NW-UCLA ``.json`` (``all_sqe``) and ``.npy``
arrays [M, T, V, C] (or [T, V, C] for one person).

Example:
    python tools/infer.py CONFIG CKPT S001C001P001R001A001.skeleton \
        --dataset ntu60 --topk 5
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
    if not np.isfinite(keypoint).all():
        raise SkeletonFileError(f'{path}: non-finite coordinates')
    return keypoint


def predict(model, path: str, topk: int,
            class_names: List[str]) -> List[Tuple[str, float]]:
    """The ``topk`` (class name, probability) pairs for one file."""
    keypoint = read_keypoints(path)
    M, T, V, C = keypoint.shape
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


def main(argv=None) -> List[Tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python tools/infer.py'
                                     ' CONFIG CKPT a01_s01_e01_v01.json '
                                     '--dataset nw-ucla')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('file', help=f'skeleton file ({", ".join(FORMATS)})')
    parser.add_argument('--dataset', help='class names: ntu60, ntu120, '
                        'pku-mmd, nw-ucla (default: indices)')
    parser.add_argument('--topk', type=int, default=5)
    args = parser.parse_args(argv)
    model = load_recognizer(args.config, args.checkpoint, deploy=True)
    num_classes = model.cfg.model.cls_head.num_classes
    names = get_class_names(args.dataset) if args.dataset else [
        str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise SkeletonFileError(f'--dataset {args.dataset} has {len(names)}'
                                f' classes, the model {num_classes}')
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
