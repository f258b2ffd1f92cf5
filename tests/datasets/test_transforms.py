"""The layout transforms value by value, their parity with mmaction's
GenSkeFeat, the shape checks, and the NW-UCLA protocol transforms."""
import math

import numpy as np
import pytest
from mmaction.datasets.transforms import GenSkeFeat
from mmcv.transforms import Compose

from sfhead_mm.datasets.layouts import LayoutError
from sfhead_mm.datasets.transforms import (CenterOnJoint, CheckKeypointShape,
                                           GenSkeFeatLayout,
                                           JointToBoneLayout,
                                           KeypointShapeError,
                                           MinMaxNormalize,
                                           RandomRotateScale3D,
                                           RepeatSampleFrames, bone_pairs)

# A 5-joint chain with a branch: 0 is the root.
CHAIN = dict(num_node=5, inward=[(1, 0), (2, 1), (3, 1), (4, 3)], center=0)


def _sample(M=1, T=4, V=5, C=3, seed=0, name='sample_a'):
    rng = np.random.default_rng(seed)
    return dict(keypoint=rng.normal(0, 1, (M, T, V, C)).astype(np.float32),
                frame_dir=name, total_frames=T)


# --------------------------------------------------------------------------
# bones and motion
# --------------------------------------------------------------------------
def test_bones_are_joint_minus_parent_by_hand():
    kp = np.zeros((1, 2, 5, 3), np.float32)
    kp[0, 0] = [[0, 0, 0], [1, 0, 0], [1, 2, 0], [3, 0, 1], [3, 0, 5]]
    kp[0, 1] = kp[0, 0] * 2
    out = JointToBoneLayout(layout=CHAIN)(dict(keypoint=kp))['keypoint']
    expected0 = [[0, 0, 0],     # root: zero bone
                 [1, 0, 0],     # 1 - 0
                 [0, 2, 0],     # 2 - 1
                 [2, 0, 1],     # 3 - 1
                 [0, 0, 4]]     # 4 - 3
    np.testing.assert_array_equal(out[0, 0], expected0)
    np.testing.assert_array_equal(out[0, 1], np.array(expected0) * 2)
    assert out.dtype == np.float32


def test_gen_ske_feat_layout_streams_by_hand():
    kp = np.zeros((1, 3, 5, 3), np.float32)
    for t in range(3):
        kp[0, t, :, 0] = np.arange(5) * (t + 1)       # x = joint * (t + 1)
        kp[0, t, :, 1] = t                            # y = t
    results = GenSkeFeatLayout(layout=CHAIN, feats=['j', 'b', 'jm', 'bm'])(
        dict(keypoint=kp.copy(), frame_dir='x'))
    out = results['keypoint']
    assert out.shape == (1, 3, 5, 12)
    j, b, jm, bm = np.split(out, 4, axis=-1)
    np.testing.assert_array_equal(j, kp)
    # bones: x of joint v minus x of its parent, y cancels
    parent = {1: 0, 2: 1, 3: 1, 4: 3}
    for t in range(3):
        for v in range(5):
            want = 0 if v == 0 else (v - parent[v]) * (t + 1)
            assert b[0, t, v, 0] == want and b[0, t, v, 1] == 0
    # motion: next minus current, the last frame zero
    for t in range(2):
        np.testing.assert_array_equal(jm[0, t, :, 0], np.arange(5))
        np.testing.assert_array_equal(jm[0, t, :, 1], 1)
        np.testing.assert_array_equal(bm[0, t], b[0, t + 1] - b[0, t])
    assert not jm[0, 2].any() and not bm[0, 2].any()


# CTR-GCN's NTU graph (the repo's CTR-GCN NTU configs): its edges are
# mmaction's JointToBone pairs for 'nturgb+d'.
NTU_CTRGCN = dict(
    num_node=25,
    inward=[(0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5),
            (7, 6), (8, 20), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12),
            (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18),
            (21, 22), (22, 7), (23, 24), (24, 11)],
    center=20)


@pytest.mark.parametrize('layout', ['nturgb+d', NTU_CTRGCN])
@pytest.mark.parametrize('feats', [['j'], ['b'], ['jm'], ['bm'],
                                   ['j', 'b', 'jm', 'bm']])
def test_equals_mmaction_gen_ske_feat_3d(layout, feats):
    sample = _sample(M=2, T=6, V=25)
    ours = GenSkeFeatLayout(layout=layout, feats=feats)(dict(sample))
    theirs = GenSkeFeat(dataset='nturgb+d', feats=feats)(dict(sample))
    np.testing.assert_allclose(ours['keypoint'], theirs['keypoint'],
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize('feats', [['j'], ['b', 'bm'], ['jm']])
def test_equals_mmaction_gen_ske_feat_2d_with_score(feats):
    rng = np.random.default_rng(1)
    sample = dict(keypoint=rng.normal(0, 1, (1, 5, 17, 2)).astype(np.float32),
                  keypoint_score=rng.uniform(0, 1, (1, 5, 17)).astype(
                      np.float32), frame_dir='coco_clip')
    ours = GenSkeFeatLayout(layout='coco', feats=feats, channels=3)(
        {k: v.copy() if hasattr(v, 'copy') else v for k, v in sample.items()})
    theirs = GenSkeFeat(dataset='coco', feats=feats)(
        {k: v.copy() if hasattr(v, 'copy') else v for k, v in sample.items()})
    assert 'keypoint_score' not in ours
    np.testing.assert_allclose(ours['keypoint'], theirs['keypoint'],
                               rtol=0, atol=1e-6)


def test_bone_pairs_of_named_layouts():
    assert bone_pairs('nw-ucla')[:3] == [(0, 1), (1, 2), (3, 2)]
    assert len(bone_pairs('nw-ucla')) == 19
    assert bone_pairs(NTU_CTRGCN) == bone_pairs('nturgb+d')


def test_bad_pair_names_the_pair_and_num_node():
    layout = dict(num_node=7, inward=[(1, 0), (9, 2)], center=0)
    for build in (lambda: GenSkeFeatLayout(layout=layout, feats=['b']),
                  lambda: JointToBoneLayout(layout=layout)):
        with pytest.raises(LayoutError, match=r'bone pair \(9, 2\) names '
                           r'joint 9 but num_node is 7'):
            build()


def test_two_parents_is_an_error():
    layout = dict(num_node=3, inward=[(1, 0), (1, 2)], center=0)
    with pytest.raises(LayoutError, match='joint 1 is the child of two'):
        GenSkeFeatLayout(layout=layout, feats=['b'])


def test_unknown_feats():
    with pytest.raises(ValueError, match="out of \\['j', 'b', 'jm', 'bm'\\]"):
        GenSkeFeatLayout(layout=CHAIN, feats=['bone'])


# --------------------------------------------------------------------------
# shape checks: 2D data with a 3D config, wrong skeleton
# --------------------------------------------------------------------------
def test_2d_data_with_3d_config_names_the_sample():
    sample = _sample(C=2, name='S001C001P001R001A001')
    for transform in (GenSkeFeatLayout(layout=CHAIN, channels=3),
                      CheckKeypointShape(channels=3)):
        with pytest.raises(KeypointShapeError) as err:
            transform(dict(sample))
        message = str(err.value)
        assert "'S001C001P001R001A001'" in message
        assert 'C=2 channels' in message and '2D: x, y' in message
        assert 'expects 3' in message
    # 2D + score is 3 channels: accepted
    sample['keypoint_score'] = np.ones(sample['keypoint'].shape[:3])
    assert CheckKeypointShape(channels=3)(dict(sample)) is not None


def test_wrong_joint_count_names_sample_and_layout():
    with pytest.raises(KeypointShapeError,
                       match=r"sample 'x'.*V=17 joints.*expects 20.*"
                       r"'nw-ucla'"):
        GenSkeFeatLayout(layout='nw-ucla')(_sample(V=17, name='x'))
    with pytest.raises(KeypointShapeError, match='expects 25'):
        CheckKeypointShape(layout='nturgb+d')(_sample(V=17))


# --------------------------------------------------------------------------
# NW-UCLA protocol transforms
# --------------------------------------------------------------------------
def test_center_on_joint():
    sample = _sample(T=3, V=5)
    kp = sample['keypoint'].copy()
    out = CenterOnJoint(joint=1, frame=0)(sample)['keypoint']
    np.testing.assert_allclose(out, kp - kp[0, 0, 1], atol=1e-6)
    assert not out[0, 0, 1].any()
    with pytest.raises(KeypointShapeError, match="sample 'sample_a'.*joint=7"):
        CenterOnJoint(joint=7)(_sample(V=5))


def _ctrgcn_view_transform(x, agx, agy, s):
    """CTR-GCN's rand_view_transform, written out again: row vectors times
    Ry . Rx . S with its matrices."""
    agx, agy = math.radians(agx), math.radians(agy)
    rx = np.array([[1, 0, 0], [0, math.cos(agx), math.sin(agx)],
                   [0, -math.sin(agx), math.cos(agx)]])
    ry = np.array([[math.cos(agy), 0, -math.sin(agy)], [0, 1, 0],
                   [math.sin(agy), 0, math.cos(agy)]])
    return (x.reshape(-1, 3) @ (ry @ rx @ (s * np.eye(3)))).reshape(x.shape)


def test_random_rotate_scale_matches_ctrgcn_formula():
    sample = _sample(T=4, V=5)
    kp = sample['keypoint'].astype(np.float64)
    np.random.seed(3)
    out = RandomRotateScale3D()(sample)['keypoint']
    np.random.seed(3)
    agx, agy = np.random.randint(-60, 61), np.random.randint(-60, 61)
    s = np.random.uniform(0.5, 1.5)
    np.testing.assert_allclose(out, _ctrgcn_view_transform(kp, agx, agy, s),
                               atol=1e-5)
    # lengths scale by s
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1),
                               s * np.linalg.norm(kp, axis=-1), rtol=1e-5)


def test_random_rotate_scale_ranges():
    np.random.seed(0)
    transform = RandomRotateScale3D(max_angle=60, scale_range=(0.5, 1.5))
    angles = [transform._angle(60) for _ in range(2000)]
    assert min(angles) == -60 and max(angles) == 60
    assert all(a == int(a) for a in angles)
    with pytest.raises(KeypointShapeError, match='needs 3D'):
        transform(_sample(C=2))


def test_min_max_normalize():
    sample = _sample(M=1, T=6, V=5)
    sample['keypoint'][..., 2] = 4.0  # a channel without range
    out = MinMaxNormalize()(sample)['keypoint']
    flat = out.reshape(-1, 3)
    np.testing.assert_allclose(flat[:, :2].min(0), -1, atol=1e-6)
    np.testing.assert_allclose(flat[:, :2].max(0), 1, atol=1e-6)
    assert (flat[:, 2] == 0).all()


@pytest.mark.parametrize('total', [1, 7, 52, 201])
def test_repeat_sample_frames_test_mode(total):
    state = np.random.get_state()[1].copy()
    results = RepeatSampleFrames(clip_len=52, test_mode=True)(
        dict(total_frames=total))
    np.testing.assert_array_equal(
        results['frame_inds'],
        np.linspace(0, total - 1, 52).astype(int))
    assert (np.random.get_state()[1] == state).all()  # no RNG used
    assert results['num_clips'] == 1 and results['clip_len'] == 52


@pytest.mark.parametrize('total', [1, 7, 201])
def test_repeat_sample_frames_train_mode(total):
    np.random.seed(0)
    inds = RepeatSampleFrames(clip_len=52, repeat=100)(
        dict(total_frames=total))['frame_inds']
    assert inds.shape == (52, )
    assert (np.diff(inds) >= 0).all()
    assert inds.min() >= 0 and inds.max() < total
    assert np.bincount(inds).max() <= 100
    if total == 1:
        assert (inds == 0).all()
    np.random.seed(0)
    again = RepeatSampleFrames(clip_len=52, repeat=100)(
        dict(total_frames=total))['frame_inds']
    np.testing.assert_array_equal(inds, again)


def _ctrgcn_test_reference(value):
    """CTR-GCN's UCLA feeder, test branch, written out again ([T, V, 3])."""
    value = value - value[0, 1, :]
    flat = value.reshape(-1, 3)
    flat = (flat - flat.min(0)) / (flat.max(0) - flat.min(0)) * 2 - 1
    value = flat.reshape(-1, 20, 3)
    idx = np.linspace(0, len(value) - 1, 52).astype(int)
    return value[idx]


def _protocol(test_mode, feats=('j', )):
    steps = [dict(type='CenterOnJoint', joint=1, frame=0)]
    if not test_mode:
        steps.append(dict(type='RandomRotateScale3D'))
    steps += [
        dict(type='MinMaxNormalize'),
        dict(type='RepeatSampleFrames', clip_len=52, test_mode=test_mode),
        dict(type='PoseDecode'),
        dict(type='GenSkeFeatLayout', layout='nw-ucla', feats=list(feats),
             channels=3),
        dict(type='FormatGCNInput', num_person=1)
    ]
    return Compose(steps)


@pytest.mark.parametrize('frames', [1, 30, 120])
def test_nw_ucla_test_pipeline_matches_reference(frames):
    from mmaction.utils import register_all_modules
    register_all_modules()
    raw = np.random.default_rng(frames).normal(0, 1, (frames, 20, 3))
    sample = dict(keypoint=raw[None].astype(np.float32), total_frames=frames,
                  frame_dir='a01_s01_e00_v03')
    pipeline = _protocol(test_mode=True)
    out = pipeline(dict(sample))['keypoint']
    assert out.shape == (1, 1, 52, 20, 3)
    if frames > 1:
        np.testing.assert_allclose(out[0, 0],
                                   _ctrgcn_test_reference(raw), atol=1e-5)
    np.testing.assert_array_equal(out, pipeline(dict(sample))['keypoint'])


def test_nw_ucla_train_pipeline_matches_reference():
    from mmaction.utils import register_all_modules
    register_all_modules()
    raw = np.random.default_rng(5).normal(0, 1, (40, 20, 3))
    sample = dict(keypoint=raw[None].astype(np.float32), total_frames=40,
                  frame_dir='a01_s01_e00_v01')
    np.random.seed(11)
    out = _protocol(test_mode=False, feats=['b'])(dict(sample))['keypoint']
    # the same draws, in the same order, through CTR-GCN's steps
    np.random.seed(11)
    agx, agy = np.random.randint(-60, 61), np.random.randint(-60, 61)
    s = np.random.uniform(0.5, 1.5)
    picks = np.sort(np.random.choice(40 * 100, 52, replace=False) % 40)
    value = _ctrgcn_view_transform(raw - raw[0, 1], agx, agy, s)
    flat = value.reshape(-1, 3)
    value = ((flat - flat.min(0)) / (flat.max(0) - flat.min(0)) * 2 -
             1).reshape(-1, 20, 3)[picks]
    # CTR-GCN's UCLA bone list (1-based), joint 3 the zero root bone
    ucla_bones = [(1, 2), (2, 3), (3, 3), (4, 3), (5, 3), (6, 5), (7, 6),
                  (8, 7), (9, 3), (10, 9), (11, 10), (12, 11), (13, 1),
                  (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                  (20, 19)]
    bone = np.zeros_like(value)
    for child, parent in ucla_bones:
        bone[:, child - 1] = value[:, child - 1] - value[:, parent - 1]
    np.testing.assert_allclose(out[0, 0], bone, atol=1e-5)
