"""GenSkeFeatAdjacencyPower: InfoGCN's (I - A^k) x against a hand-made
numpy reference, on a 4-joint chain and on NTU."""
import numpy as np
import pytest

from mmaction.registry import TRANSFORMS
from sfhead_mm.datasets import (GenSkeFeatAdjacencyPower, GenSkeFeatLayout,
                                KeypointShapeError, LayoutError)
from sfhead_mm.datasets.adjacency_power import adjacency_power, joint_parents

# A chain 0 - 1 - 2 - 3 rooted at 0: bones (child, parent).
CHAIN = dict(num_node=4, inward=[(1, 0), (2, 1), (3, 2)], center=0)
# The same chain written by hand as A[v, parent(v)] = 1.
A_CHAIN = np.array([[0, 0, 0, 0],
                    [1, 0, 0, 0],
                    [0, 1, 0, 0],
                    [0, 0, 1, 0]], dtype=np.float64)


def _sample(rng, V=4, C=3, T=5, M=2):
    return dict(keypoint=rng.normal(size=(M, T, V, C)).astype(np.float32),
                frame_dir='S001C001P001R001A001')


def _reference(x, A, k):
    """(I - A^k) x per person, frame and channel; x is [M, T, V, C]."""
    matrix = np.eye(len(A)) - np.linalg.matrix_power(A, k)
    out = np.zeros_like(x, dtype=np.float64)
    for m in range(x.shape[0]):
        for t in range(x.shape[1]):
            out[m, t] = matrix @ x[m, t]  # [V, V] @ [V, C]
    return out


@pytest.mark.parametrize('k', [1, 2, 8])
def test_position_and_motion_match_numpy_reference(k):
    rng = np.random.default_rng(k)
    sample = _sample(rng)
    x = sample['keypoint'].copy()
    step = TRANSFORMS.build(dict(type='GenSkeFeatAdjacencyPower',
                                 layout=CHAIN, k=k, feats=['j', 'jm']))
    out = step(dict(sample))['keypoint']
    assert out.shape == (2, 5, 4, 6) and out.dtype == np.float32
    position = _reference(x, A_CHAIN, k)
    motion = np.zeros_like(position)
    motion[:, :-1] = position[:, 1:] - position[:, :-1]
    np.testing.assert_allclose(out[..., :3], position, atol=1e-5)
    np.testing.assert_allclose(out[..., 3:], motion, atol=1e-5)


def test_chain_by_hand():
    """The ancestor reading of the docstring, joint by joint."""
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1) ** 2  # 0 1 4 9
    run = lambda k, **kw: GenSkeFeatAdjacencyPower(  # noqa: E731
        CHAIN, k, **kw)(dict(keypoint=x))['keypoint'].ravel()
    np.testing.assert_array_equal(run(1), [0, 1 - 0, 4 - 1, 9 - 4])
    np.testing.assert_array_equal(run(2), [0, 1, 4 - 0, 9 - 1])
    np.testing.assert_array_equal(run(8), [0, 1, 4, 9])  # A^8 = 0: joints
    # re-rooted at joint 3 the chain points the other way
    np.testing.assert_array_equal(run(1, root=3), [0 - 1, 1 - 4, 4 - 9, 9])
    assert joint_parents(CHAIN, root=3) == [1, 2, 3, None]


def test_k1_is_the_bone_stream_except_the_root():
    rng = np.random.default_rng(0)
    sample = _sample(rng, V=25)
    ours = GenSkeFeatAdjacencyPower('nturgb+d', 1)(dict(sample))['keypoint']
    bone = GenSkeFeatLayout('nturgb+d', ['b'])(dict(sample))['keypoint']
    root = 20  # spine shoulder, the root of mmaction's NTU bones
    others = [v for v in range(25) if v != root]
    np.testing.assert_allclose(ours[:, :, others], bone[:, :, others],
                               atol=1e-6)
    np.testing.assert_array_equal(ours[:, :, root],
                                  sample['keypoint'][:, :, root])


def test_infogcn_ntu_tree_rooted_at_spine_middle():
    """InfoGCN roots NTU at the spine middle (joint 1): the spine base and
    the spine shoulder are its children, the tree is 7 deep (to the hand
    tips), so A^7 != 0 and A^8 = 0: the k = 8 stream is the joints."""
    parents = joint_parents('nturgb+d', root=1)
    assert parents[1] is None and parents[0] == 1 and parents[20] == 1
    assert parents[21] == 22 and parents[22] == 7  # hand tip -> thumb -> hand
    assert not np.allclose(adjacency_power('nturgb+d', 7, root=1), np.eye(25))
    np.testing.assert_array_equal(adjacency_power('nturgb+d', 8, root=1),
                                  np.eye(25))


def test_score_channel_is_averaged_not_differenced():
    x = np.zeros((1, 2, 4, 2), dtype=np.float32)
    score = np.array([[[.2, .4, .6, .8], [.2, .4, .6, .8]]], dtype=np.float32)
    out = GenSkeFeatAdjacencyPower(CHAIN, 2, feats=['j', 'jm'])(
        dict(keypoint=x, keypoint_score=score))['keypoint']
    assert out.shape == (1, 2, 4, 6)
    # joint 2's 2nd ancestor is 0, joint 3's is 1; 0 and 1 have none
    np.testing.assert_allclose(out[0, 0, :, 2], [.2, .4, .4, .6])
    np.testing.assert_allclose(out[0, 0, :, 5], [.2, .4, .4, .6])  # motion
    np.testing.assert_allclose(out[0, 1, :, 5], 0)  # last frame zero


def test_wrong_joint_count_names_field_and_expected_value():
    sample = _sample(np.random.default_rng(0), V=5)
    step = GenSkeFeatAdjacencyPower(CHAIN, 2)
    with pytest.raises(KeypointShapeError,
                       match=r'S001C001P001R001A001.*keypoint has V=5.*'
                       r'expects 4'):
        step(sample)


@pytest.mark.parametrize('kwargs, message', [
    (dict(k=0), 'k must be an int >= 1'),
    (dict(k=1, feats=['b']), r"feats must be .*\['j', 'jm'\]"),
    (dict(k=1, root=7), r'root must be a joint index in 0..3'),
])
def test_bad_arguments_are_refused_at_build(kwargs, message):
    with pytest.raises((ValueError, LayoutError), match=message):
        GenSkeFeatAdjacencyPower(CHAIN, **kwargs)


def test_cycle_is_refused():
    ring = dict(num_node=3, inward=[(0, 1), (1, 2), (2, 0)], center=0)
    with pytest.raises(LayoutError, match='cycle'):
        adjacency_power(ring, 1)
    with pytest.raises(LayoutError, match='cycle'):
        adjacency_power(ring, 1, root=0)
