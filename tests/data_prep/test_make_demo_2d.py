"""``data_prep/make_demo.py --dims 2``: the demo motions as a pose
estimator's COCO-17 keypoints with scores, in mmaction's 2D pickle format."""
import pickle

import numpy as np
import pytest

import data_prep.make_demo as make_demo
from data_prep.make_demo import (COCO_KEYPOINTS, IMAGE_SHAPE,
                                 make_demo_dataset)
K = {name: i for i, name in enumerate(COCO_KEYPOINTS)}


@pytest.fixture(scope='module')
def set_2d() -> dict:
    return make_demo_dataset(seed=0, subjects=2, per_class=1, dims=2)


def test_annotations_have_mmactions_2d_fields(set_2d):
    assert set_2d['meta']['layout'] == 'coco'
    assert set_2d['meta']['units'] == 'pixels'
    height, width = IMAGE_SHAPE
    for ann in set_2d['annotations']:
        T = ann['total_frames']
        assert ann['keypoint'].shape == (1, T, 17, 2)
        assert ann['keypoint_score'].shape == (1, T, 17)
        assert ann['keypoint'].dtype == ann['keypoint_score'].dtype == \
            np.float32
        assert ann['img_shape'] == ann['original_shape'] == (1080, 1920)
        scores = ann['keypoint_score']
        assert 0 < scores.min() and scores.max() <= 1
        x, y = ann['keypoint'][..., 0], ann['keypoint'][..., 1]
        assert 0 < x.min() and x.max() < width
        assert 0 < y.min() and y.max() < height


def test_same_motions_as_3d_in_the_image(set_2d):
    """The 3D set's samples, seen by the colour camera: subjects face the
    camera (their left on the image's right), head above hips above
    ankles, ears scored lower than the nose."""
    set_3d = make_demo_dataset(seed=0, subjects=2, per_class=1)
    for a2, a3 in zip(set_2d['annotations'], set_3d['annotations']):
        assert a2['frame_dir'] == a3['frame_dir']
        assert a2['total_frames'] == a3['total_frames']
        kp = a2['keypoint'][0]
        assert (kp[:, K['left_shoulder'], 0] >
                kp[:, K['right_shoulder'], 0]).mean() > 0.9
        assert (kp[:, K['left_eye'], 0] > kp[:, K['right_eye'], 0]).mean() \
            > 0.9
        assert (kp[:, K['nose'], 1] < kp[:, K['left_hip'], 1]).all()
        assert (kp[:, K['left_hip'], 1] < kp[:, K['left_ankle'], 1]).all()
    scores = np.concatenate(
        [a['keypoint_score'][0] for a in set_2d['annotations']])
    assert scores[:, K['left_ear']].mean() < scores[:, K['nose']].mean()


def test_nturgb_layout_in_2d_and_bad_combination():
    data = make_demo_dataset(seed=0, subjects=2, per_class=1, dims=2,
                             layout='nturgb+d')
    assert data['annotations'][0]['keypoint'].shape[2:] == (25, 2)
    with pytest.raises(ValueError, match="'nturgb\\+d' layout only"):
        make_demo_dataset(subjects=2, per_class=1, dims=3, layout='coco')


def test_cli_dims_2_layout_coco(tmp_path):
    out = tmp_path / 'demo_2d.pkl'
    assert make_demo.main(['--dims', '2', '--layout', 'coco', '--out',
                           str(out), '--subjects', '2', '--per-class',
                           '1']) == 0
    with open(out, 'rb') as f:
        assert f.read() == pickle.dumps(
            make_demo_dataset(seed=0, subjects=2, per_class=1, dims=2),
            protocol=make_demo.PICKLE_PROTOCOL)
    assert make_demo.main(['--out', str(tmp_path / 'x.pkl'), '--layout',
                           'coco']) == 2
