"""``tools/extract_pose.py`` through the real rtmlib + onnxruntime code path
(YOLOX person detector, RTMPose top-down, their pre- and post-processing),
on a short video written here with OpenCV.

This machine cannot download weights, so the two ONNX files are made here
with the real models' input and output signatures: a YOLOX without NMS
(``input`` float32 [1, 3, 640, 640] -> ``output`` [1, 8400, 85]: box, object
score, 80 class scores per anchor of the 8/16/32 grids) and an RTMPose-m
body7 (``input`` [1, 3, 256, 192] -> ``simcc_x`` [1, 17, 384], ``simcc_y``
[1, 17, 512]). Their outputs are constants (plus 0 x the image mean, so the
image is an input of the graph): two people's boxes and a fixed pose in the
crop. So this checks the decoding, the crop geometry back to image pixels,
the person-selection rule, the file formats and the video -> pose -> action
command, not the networks' accuracy.
"""
import pickle

import numpy as np
import pytest

pytest.importorskip(
    'rtmlib', reason='the pose extra is not installed: pip install -e '
    '.[pose] (make install does it)')
onnx = pytest.importorskip('onnx', reason='onnx is needed to write the '
                           'test models')
cv2 = pytest.importorskip('cv2')

from tests.conftest import write_config  # noqa: E402

WIDTH, HEIGHT, FRAMES = 320, 240, 40
RATIO = min(640 / HEIGHT, 640 / WIDTH)  # YOLOX's letterbox scale
# two people (xyxy, image pixels): a big one and a small one, + a tiny one
BOXES = [(40, 30, 140, 230), (200, 100, 250, 200), (280, 200, 290, 210)]
# the constant pose, as fractions of RTMPose's 192 x 256 crop
POSE = np.stack([np.full(17, 0.5), np.linspace(0.2, 0.8, 17)], 1)
PEAK = 0.8  # simcc maximum -> keypoint score


def _graph_with_constant(name, in_shape, outputs, path):
    """ONNX model: outputs = constants + 0 * mean(input)."""
    from onnx import TensorProto, helper, numpy_helper
    nodes = [helper.make_node('ReduceMean', ['input'], ['mean'], keepdims=0),
             helper.make_node('Mul', ['mean', 'zero'], ['nothing'])]
    inits = [numpy_helper.from_array(np.zeros((), np.float32), 'zero')]
    outs = []
    for out_name, value in outputs.items():
        inits.append(numpy_helper.from_array(value.astype(np.float32),
                                             f'{out_name}_const'))
        nodes.append(helper.make_node('Add', [f'{out_name}_const',
                                              'nothing'], [out_name]))
        outs.append(helper.make_tensor_value_info(
            out_name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info(
            'input', TensorProto.FLOAT, list(in_shape))], outs, inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid('', 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _yolox_output():
    """Raw YOLOX head output whose decoding gives BOXES (scores 0.9)."""
    out = np.zeros((1, 80 * 80 + 40 * 40 + 20 * 20, 85), np.float32)
    out[..., 4] = 0.0  # no object elsewhere
    for anchor, (x1, y1, x2, y2) in enumerate(BOXES):
        cx, cy = (x1 + x2) / 2 * RATIO, (y1 + y2) / 2 * RATIO
        gx, gy = int(cx // 8), int(cy // 8)
        index = gy * 80 + gx
        out[0, index, :4] = [cx / 8 - gx, cy / 8 - gy,
                             np.log((x2 - x1) * RATIO / 8),
                             np.log((y2 - y1) * RATIO / 8)]
        out[0, index, 4] = 1.0
        out[0, index, 5] = 0.9  # class 0: person
    return out


def _simcc():
    x = np.zeros((1, 17, 384), np.float32)
    y = np.zeros((1, 17, 512), np.float32)
    for k, (fx, fy) in enumerate(POSE):
        x[0, k, int(round(fx * 192 * 2))] = PEAK
        y[0, k, int(round(fy * 256 * 2))] = PEAK
    return dict(simcc_x=x, simcc_y=y)


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp('pose')
    det = _graph_with_constant('yolox', (1, 3, 640, 640),
                               dict(output=_yolox_output()), d / 'det.onnx')
    pose = _graph_with_constant('rtmpose', (1, 3, 256, 192), _simcc(),
                                d / 'pose.onnx')
    video = d / 'two_people.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'),
                             30, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for t in range(FRAMES):
        image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
        for x1, y1, x2, y2 in BOXES:
            cv2.rectangle(image, (x1, y1 + t % 3), (x2, y2), (200, 180, 160),
                          -1)
        writer.write(image)
    writer.release()
    return dict(det=det, pose=pose, video=str(video), dir=d)


def _extract(assets, out, *extra):
    from tools.extract_pose import main
    return main([assets['video'], '--out', str(out), '--det-model',
                 assets['det'], '--pose-model', assets['pose'],
                 '--no-progress', *extra])


def _expected_keypoints(box):
    """RTMPose's crop: the box centre, the box size x 1.25 widened to the
    crop's 3:4 aspect; the POSE fractions placed in it."""
    x1, y1, x2, y2 = box
    w, h = (x2 - x1) * 1.25, (y2 - y1) * 1.25
    w, h = (h * 0.75, h) if w < h * 0.75 else (w, w / 0.75)
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    return centre + (POSE - 0.5) * np.array([w, h])


def test_video_to_pose_dataset_pickle(assets, tmp_path):
    out = tmp_path / 'poses.pkl'
    assert _extract(assets, out) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['split'] == dict(videos=['two_people'])
    ann = data['annotations'][0]
    assert ann['total_frames'] == FRAMES
    assert ann['img_shape'] == ann['original_shape'] == (HEIGHT, WIDTH)
    assert ann['keypoint'].shape == (2, FRAMES, 17, 2)
    assert ann['keypoint_score'].shape == (2, FRAMES, 17)
    np.testing.assert_allclose(ann['keypoint_score'], PEAK)
    # slot 0: the biggest person, slot 1: the next; the tiny one dropped
    for slot, box in enumerate(BOXES[:2]):
        np.testing.assert_allclose(ann['keypoint'][slot, 0],
                                   _expected_keypoints(box), atol=1.5)
    np.testing.assert_allclose(ann['keypoint'][:, 0], ann['keypoint'][:, -1])


def test_npy_output_and_one_person(assets, tmp_path):
    out = tmp_path / 'poses.npy'
    assert _extract(assets, out, '--num-person', '1') == 0
    array = np.load(out)
    assert array.shape == (1, FRAMES, 17, 3)
    np.testing.assert_allclose(array[0, 0, :, :2],
                               _expected_keypoints(BOXES[0]), atol=1.5)
    np.testing.assert_allclose(array[..., 2], PEAK)


def test_clear_errors(assets, tmp_path):
    from tools.extract_pose import DEFAULT_DET_MODEL, PoseError, main
    with pytest.raises(PoseError, match='missing.onnx: file not found. '
                       'Download .*yolox_m'):
        main([assets['video'], '--out', str(tmp_path / 'x.pkl'),
              '--det-model', str(tmp_path / 'missing.onnx'),
              '--pose-model', assets['pose']])
    assert 'yolox_m' in DEFAULT_DET_MODEL
    broken = tmp_path / 'broken.mp4'
    broken.write_text('not a video')
    with pytest.raises(PoseError, match='broken.mp4'):
        _extract(dict(assets, video=str(broken)), tmp_path / 'x.pkl')
    with pytest.raises(PoseError, match='video not found'):
        _extract(dict(assets, video=str(tmp_path / 'none.mp4')),
                 tmp_path / 'x.pkl')


TINY_2D = """
model = dict(backbone=dict(base_channels=16, num_stages=3,
                           inflate_stages=[3], down_stages=[3]),
             cls_head=dict(in_channels=32))
"""


def _random_checkpoint(tmp_path, base):
    """A tiny model of ``base`` with its initial weights, saved as an
    MMEngine checkpoint (the front end is what is tested here)."""
    import torch
    from mmengine.config import Config
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    config = write_config(tmp_path, base, str(tmp_path / 'unused.pkl'),
                          TINY_2D, name=base.split('/')[-1])
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = tmp_path / 'random.pth'
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), ckpt)
    return config, str(ckpt)


def test_video_to_action_in_one_command(assets, tmp_path):
    """``tools/infer.py CONFIG CKPT video.mp4 --window 32``: pose by the
    front end, then the sliding window on the 2D model."""
    from tools.infer import main
    from tools.sliding_window import SequenceError
    config, ckpt = _random_checkpoint(tmp_path,
                                      'configs/demo/ctrgcn_demo_2d.py')
    csv_path = tmp_path / 'video_timeline.csv'
    windows = main([config, ckpt, assets['video'], '--window', '32',
                    '--stride', '4', '--topk', '3', '--det-model',
                    assets['det'], '--pose-model', assets['pose'],
                    '--timeline', str(csv_path), '--no-progress'])
    assert [(w.start, w.end) for w in windows] == [
        (0, 32), (4, 36), (8, 40)]
    assert all(len(w.labels) == 3 for w in windows)
    assert csv_path.with_suffix('.png').is_file()
    # the same video on a 3D model is refused before any pose work
    (tmp_path / '3d').mkdir()
    config_3d, ckpt_3d = _random_checkpoint(tmp_path / '3d',
                                            'configs/demo/ctrgcn_demo.py')
    with pytest.raises(SequenceError, match='a video gives 2D keypoints'):
        main([config_3d, ckpt_3d, assets['video'], '--window', '32',
              '--no-progress'])
    # and the reverse: 3D joints (a PKU-MMD file) on the 2D model
    txt = tmp_path / '0002-L.txt'
    txt.write_text('\n'.join(' '.join(['0.1'] * 150) for _ in range(40)))
    with pytest.raises(SequenceError, match='3D joints .* is a 2D model'):
        main([config, ckpt, str(txt), '--window', '32', '--no-progress'])
