"""COCO-17 keypoints from videos with rtmlib (YOLOX + RTMPose on
onnxruntime; no mmcv, mmdet or mmpose), written as a PoseDataset pickle or
a ``.npy`` that the 2D configs and ``tools/infer.py`` read.

Install the optional extra first: ``pip install -e .[pose]``.

Person selection (no tracker): in every frame each detected person is
ranked by (box area in pixels) x (mean keypoint score) and the best
``--num-person`` are kept, slot 0 the best; missing persons are zeros
(keypoints and scores), as in mmaction's ``ntu60_2d.pkl``.

Models: by default rtmlib's published ``balanced`` body models
(YOLOX-m person detector, RTMPose-m body7 COCO-17), downloaded on first use
into rtmlib's cache. On a machine without internet, download the zips below
elsewhere, unzip them and pass the ``end2end.onnx`` files with
``--det-model`` / ``--pose-model``; the input sizes are read from the files.

Output:

* ``.pkl``: ``dict(split=dict(videos=[...]), annotations=[dict(
  frame_dir=<video name>, label=-1, total_frames=T, img_shape=(H, W),
  original_shape=(H, W), fps=..., keypoint=float32 [M, T, 17, 2] (pixels),
  keypoint_score=float32 [M, T, 17])])``, one annotation per video;
* ``.npy`` (one video): float32 [M, T, 17, 3] = x, y, score.

Example::

    python tools/extract_pose.py my_video.mp4 --out work_dirs/my_video.pkl
    python tools/extract_pose.py videos/ --out work_dirs/videos_2d.pkl \\
        --det-model yolox_m/end2end.onnx --pose-model rtmpose_m/end2end.onnx
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

__all__ = ['PoseError', 'PoseExtractor', 'select_persons', 'main',
           'DEFAULT_DET_MODEL', 'DEFAULT_POSE_MODEL', 'VIDEO_FORMATS']

#: rtmlib's ``Body(mode='balanced')`` models (zips holding end2end.onnx).
DEFAULT_DET_MODEL = (
    'https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/onnx_sdk/'
    'yolox_m_8xb8-300e_humanart-c2c7a14a.zip')
DEFAULT_POSE_MODEL = (
    'https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/onnx_sdk/'
    'rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.zip')
DEFAULT_DET_SIZE = (640, 640)  # (H, W) of YOLOX's input
DEFAULT_POSE_SIZE = (192, 256)  # (W, H) of RTMPose's input
VIDEO_FORMATS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')
NUM_KEYPOINTS = 17


class PoseError(ValueError):
    """A video or model file cannot be used; the message names the file
    and what to do."""


def _require_rtmlib():
    try:
        import rtmlib  # noqa: F401
    except ImportError as err:
        raise PoseError(
            'tools/extract_pose.py needs the optional pose extra (rtmlib, '
            'onnxruntime): pip install -e .[pose]') from err


def _onnx_input_hw(path: str) -> Optional[Tuple[int, int]]:
    """(H, W) of an ONNX model's image input [1, 3, H, W], or None when
    the file leaves them dynamic."""
    import onnxruntime as ort
    try:
        session = ort.InferenceSession(path,
                                       providers=['CPUExecutionProvider'])
    except Exception as err:  # onnxruntime raises its own types
        raise PoseError(f'{path}: not a readable ONNX model ({err})') from err
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or not all(isinstance(d, int) for d in shape[2:]):
        return None
    return int(shape[2]), int(shape[3])


def _resolve(model: Optional[str], default: str, flag: str) -> str:
    """A local .onnx must exist; the default URL is rtmlib's to fetch."""
    if model is None:
        return default
    if model.startswith(('http://', 'https://')):
        return model
    if not osp.isfile(model):
        raise PoseError(
            f'{flag} {model}: file not found. Download {default} on a '
            f'machine with internet, unzip it and pass its end2end.onnx')
    return model


def select_persons(keypoints: np.ndarray, scores: np.ndarray,
                   boxes: np.ndarray, num_person: int
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """The tracker-free rule: rank by box area x mean keypoint score.

    Args:
        keypoints (np.ndarray): [P, 17, 2] of the P detected persons.
        scores (np.ndarray): [P, 17].
        boxes (np.ndarray): [P, 4] xyxy.
        num_person (int): M, persons kept.

    Returns:
        tuple[np.ndarray, np.ndarray]: [M, 17, 2] and [M, 17], best first,
        zeros where fewer than M were found.
    """
    out_kp = np.zeros((num_person, NUM_KEYPOINTS, 2), np.float32)
    out_sc = np.zeros((num_person, NUM_KEYPOINTS), np.float32)
    if len(keypoints) == 0:
        return out_kp, out_sc
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * \
        np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    rank = np.argsort(-(area * scores.mean(1)), kind='stable')[:num_person]
    out_kp[:len(rank)] = keypoints[rank]
    out_sc[:len(rank)] = scores[rank]
    return out_kp, out_sc


class PoseExtractor:
    """rtmlib's YOLOX person detector + RTMPose, frame by frame.

    Args:
        det_model (str, optional): detector ``.onnx`` (or URL). Defaults
            to rtmlib's YOLOX-m (``DEFAULT_DET_MODEL``).
        pose_model (str, optional): RTMPose ``.onnx`` (or URL), COCO-17.
            Defaults to RTMPose-m body7 (``DEFAULT_POSE_MODEL``).
        num_person (int): persons kept per frame. Defaults to 2.
        det_score_thr (float): detection score threshold. Defaults to 0.5.
        device (str): onnxruntime device, ``'cpu'`` or ``'cuda'``.
    """

    def __init__(self, det_model: Optional[str] = None,
                 pose_model: Optional[str] = None, num_person: int = 2,
                 det_score_thr: float = 0.5, device: str = 'cpu') -> None:
        _require_rtmlib()
        from rtmlib import RTMPose, YOLOX
        if num_person < 1:
            raise PoseError(f'--num-person must be >= 1, got {num_person}')
        det = _resolve(det_model, DEFAULT_DET_MODEL, '--det-model')
        pose = _resolve(pose_model, DEFAULT_POSE_MODEL, '--pose-model')
        det_size = (_onnx_input_hw(det) if osp.isfile(det) else None) \
            or DEFAULT_DET_SIZE
        pose_hw = _onnx_input_hw(pose) if osp.isfile(pose) else None
        pose_size = (pose_hw[1], pose_hw[0]) if pose_hw else \
            DEFAULT_POSE_SIZE
        try:
            self.detector = YOLOX(det, model_input_size=det_size,
                                  score_thr=det_score_thr,
                                  backend='onnxruntime', device=device)
            self.pose = RTMPose(pose, model_input_size=pose_size,
                                backend='onnxruntime', device=device)
        except PoseError:
            raise
        except Exception as err:  # a failed download or a bad file
            raise PoseError(
                f'could not load the pose models ({err}). Offline? Download '
                f'{DEFAULT_DET_MODEL} and {DEFAULT_POSE_MODEL} elsewhere, '
                f'unzip them and pass --det-model/--pose-model '
                f'.../end2end.onnx') from err
        self.num_person = num_person

    def frame(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """[M, 17, 2] keypoints (pixels) and [M, 17] scores of one BGR
        image [H, W, 3]."""
        boxes = np.asarray(self.detector(image), np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return select_persons(np.zeros((0, NUM_KEYPOINTS, 2)),
                                  np.zeros((0, NUM_KEYPOINTS)), boxes,
                                  self.num_person)
        keypoints, scores = self.pose(image, bboxes=boxes.tolist())
        return select_persons(keypoints, scores, boxes, self.num_person)

    def extract_video(self, path: str, progress: bool = True) -> Dict:
        """One video -> a PoseDataset annotation (``label=-1``).

        Returns:
            dict: ``frame_dir``, ``label``, ``total_frames``,
            ``img_shape``, ``original_shape``, ``fps``, ``keypoint``
            float32 [M, T, 17, 2], ``keypoint_score`` float32 [M, T, 17].
        """
        import cv2
        if not osp.isfile(path):
            raise PoseError(f'video not found: {path}')
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            raise PoseError(f'{path}: OpenCV cannot open this video (codec '
                            f'or container not supported, or not a video)')
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        keypoints, scores, shape = [], [], None
        bar = tqdm(total=total, desc=osp.basename(path), unit='frame',
                   disable=not progress)
        while True:
            ok, image = capture.read()
            if not ok:
                break
            shape = image.shape[:2]
            kp, sc = self.frame(image)
            keypoints.append(kp)
            scores.append(sc)
            bar.update(1)
        bar.close()
        capture.release()
        if not keypoints:
            raise PoseError(f'{path}: no frame could be read (empty or '
                            f'corrupt video)')
        return dict(
            frame_dir=osp.splitext(osp.basename(path))[0], label=-1,
            total_frames=len(keypoints), img_shape=tuple(shape),
            original_shape=tuple(shape), fps=fps,
            keypoint=np.stack(keypoints, 1).astype(np.float32),
            keypoint_score=np.stack(scores, 1).astype(np.float32))


def list_videos(path: str) -> List[str]:
    """The video itself, or the videos of a directory (sorted)."""
    if osp.isdir(path):
        videos = sorted(
            osp.join(path, name) for name in os.listdir(path)
            if osp.splitext(name)[1].lower() in VIDEO_FORMATS)
        if not videos:
            raise PoseError(f'{path}: no videos ({", ".join(VIDEO_FORMATS)})'
                            f' in this directory')
        return videos
    if not osp.isfile(path):
        raise PoseError(f'video not found: {path}')
    return [path]


def write_output(annotations: Sequence[Dict], out: str) -> None:
    """The PoseDataset pickle or the ``.npy`` [M, T, 17, 3] described in
    the module docstring."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if out.endswith('.npy'):
        if len(annotations) != 1:
            raise PoseError(f'--out {out}: a .npy holds one video, got '
                            f'{len(annotations)}; use a .pkl')
        ann = annotations[0]
        np.save(out, np.concatenate(
            [ann['keypoint'], ann['keypoint_score'][..., None]], -1))
        return
    from data_prep.common import write_pickle_atomic
    write_pickle_atomic(
        dict(split=dict(videos=[a['frame_dir'] for a in annotations]),
             annotations=list(annotations)), out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='person selection (no tracker): per frame, persons ranked by '
        'box area x mean keypoint score, the best --num-person kept (slot 0 '
        'the best), zeros where fewer. Default models: rtmlib\'s YOLOX-m '
        f'({DEFAULT_DET_MODEL}) and RTMPose-m body7 ({DEFAULT_POSE_MODEL}); '
        'offline, unzip them elsewhere and pass the end2end.onnx files. '
        'example: python tools/extract_pose.py my_video.mp4 --out '
        'work_dirs/my_video.pkl')
    parser.add_argument('video', help='a video file or a directory of videos')
    parser.add_argument('--out', required=True,
                        help='.pkl (PoseDataset, any number of videos) or '
                        '.npy (one video, [M, T, 17, 3] = x, y, score)')
    parser.add_argument('--num-person', type=int, default=2,
                        help='persons kept per frame (default: 2, as '
                        'mmaction\'s FormatGCNInput)')
    parser.add_argument('--det-model', help='person detector .onnx (YOLOX)')
    parser.add_argument('--pose-model', help='pose estimator .onnx '
                        '(RTMPose, COCO-17)')
    parser.add_argument('--det-score-thr', type=float, default=0.5,
                        help='default: 0.5')
    parser.add_argument('--device', default='cpu',
                        help='onnxruntime device: cpu or cuda')
    parser.add_argument('--no-progress', action='store_true')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.out.endswith(('.pkl', '.npy')):
        raise PoseError(f'--out must end with .pkl or .npy, got {args.out}')
    videos = list_videos(args.video)
    extractor = PoseExtractor(args.det_model, args.pose_model,
                              args.num_person, args.det_score_thr,
                              args.device)
    annotations = [extractor.extract_video(v, not args.no_progress)
                   for v in videos]
    write_output(annotations, args.out)
    for ann in annotations:
        found = (ann['keypoint_score'].max(-1) > 0).sum(0)
        print(f'{ann["frame_dir"]}: {ann["total_frames"]} frames, '
              f'{ann["img_shape"][1]}x{ann["img_shape"][0]}, persons per '
              f'frame min/max {found.min()}/{found.max()}')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except PoseError as err:
        sys.exit(f'error: {err}')
