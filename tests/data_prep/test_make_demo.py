"""Tests of the synthetic "ambiguous actions" set (data_prep/make_demo.py).

Generation is numpy only and takes well under a second for the small sets
used here; only the loading test imports mmaction.
"""
import os
import pickle
import subprocess
import sys
from collections import defaultdict
from typing import Dict, List

import numpy as np
import pytest

import data_prep.make_demo as make_demo
from data_prep.make_demo import (BONES, CLASS_NAMES, NUM_JOINTS,
                                 REVERSED_PAIRS, make_demo_dataset,
                                 parse_frame_dir)
from tests.conftest import REPO, subprocess_env

SCRIPT = str(REPO / 'data_prep' / 'make_demo.py')
MAJOR_BONES = ('spine', 'chest', 'clavicle', 'upper_arm', 'forearm', 'thigh',
               'shank')


@pytest.fixture(scope='module')
def small_set() -> dict:
    """6 subjects x 8 classes x 2 repetitions = 96 samples."""
    return make_demo_dataset(seed=0, subjects=6, per_class=2)


@pytest.fixture(scope='module')
def wide_set() -> dict:
    """All 20 default subjects, 2 repetitions: 40 samples per class."""
    return make_demo_dataset(seed=0, subjects=20, per_class=2)


def bone_lengths(keypoint: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-frame bone lengths of one sample.

    Args:
        keypoint (np.ndarray): Shape [1, T, 25, 3].

    Returns:
        dict[str, np.ndarray]: Bone name -> lengths [B, T], one row per bone
        with that name (e.g. both thighs).
    """
    joints = keypoint[0].astype(np.float64)
    lengths = defaultdict(list)
    for child, parent, name in BONES:
        lengths[name].append(
            np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1))
    return {name: np.stack(rows) for name, rows in lengths.items()}


def canonical_trajectory(keypoint: np.ndarray,
                         num_steps: int = 48) -> np.ndarray:
    """Undo the camera and resample a sample to a fixed length.

    Rotates about the vertical axis so that the mean right->left hip vector
    points along +x, subtracts the mean spine-base position and resamples
    linearly in normalized time.

    Args:
        keypoint (np.ndarray): Shape [1, T, 25, 3].
        num_steps (int): Output length.

    Returns:
        np.ndarray: Shape [num_steps, 25, 3].
    """
    joints = keypoint[0].astype(np.float64)
    hips = (joints[:, 12] - joints[:, 16]).mean(0)
    angle = np.arctan2(hips[2], hips[0])
    cos, sin = np.cos(angle), np.sin(angle)
    yaw = np.array([[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]])
    joints = (joints - joints[:, 0].mean(0)) @ yaw.T
    num_frames = len(joints)
    flat = joints.reshape(num_frames, -1)
    source = np.linspace(0, 1, num_frames)
    target = np.linspace(0, 1, num_steps)
    resampled = np.stack(
        [np.interp(target, source, flat[:, k]) for k in range(flat.shape[1])],
        1)
    return resampled.reshape(num_steps, NUM_JOINTS, 3)


def mean_trajectory(dataset: dict, label: int) -> np.ndarray:
    """Mean canonical trajectory of a class, shape [48, 25, 3]."""
    return np.mean([
        canonical_trajectory(a['keypoint']) for a in dataset['annotations']
        if a['label'] == label
    ], 0)


def trajectory_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-joint Euclidean distance in metres."""
    return float(np.linalg.norm(a - b, axis=-1).mean())


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------
def test_same_seed_gives_identical_pickle_bytes(small_set: dict) -> None:
    again = make_demo_dataset(seed=0, subjects=6, per_class=2)
    for first, second in zip(small_set['annotations'], again['annotations']):
        np.testing.assert_array_equal(first['keypoint'], second['keypoint'])
    assert pickle.dumps(small_set, protocol=make_demo.PICKLE_PROTOCOL) == \
        pickle.dumps(again, protocol=make_demo.PICKLE_PROTOCOL)


def test_different_seed_gives_different_data(small_set: dict) -> None:
    other = make_demo_dataset(seed=1, subjects=6, per_class=2)
    assert other['meta']['seed'] == 1
    for first, second in zip(small_set['annotations'], other['annotations']):
        assert first['frame_dir'] == second['frame_dir']
        assert first['keypoint'].shape != second['keypoint'].shape or \
            not np.allclose(first['keypoint'], second['keypoint'])


def test_smaller_set_is_a_subset_of_the_larger(small_set: dict) -> None:
    smaller = make_demo_dataset(seed=0, subjects=2, per_class=1)
    by_name = {a['frame_dir']: a for a in small_set['annotations']}
    assert len(smaller['annotations']) == 2 * len(CLASS_NAMES)
    for annotation in smaller['annotations']:
        np.testing.assert_array_equal(
            annotation['keypoint'],
            by_name[annotation['frame_dir']]['keypoint'])


# ---------------------------------------------------------------------------
# Format
# ---------------------------------------------------------------------------
def test_annotation_shapes_and_dtypes(small_set: dict) -> None:
    assert len(small_set['annotations']) == 6 * len(CLASS_NAMES) * 2
    low, high = make_demo.FRAMES_RANGE
    for annotation in small_set['annotations']:
        keypoint = annotation['keypoint']
        assert keypoint.dtype == np.float32
        assert keypoint.ndim == 4
        persons, frames, joints, coords = keypoint.shape
        assert (persons, joints, coords) == (1, NUM_JOINTS, 3)
        assert frames == annotation['total_frames']
        assert low <= frames <= high
        assert np.isfinite(keypoint).all()
        assert isinstance(annotation['label'], int)


def test_meta_and_labels(small_set: dict) -> None:
    meta = small_set['meta']
    assert meta['class_names'] == CLASS_NAMES
    assert len(CLASS_NAMES) == 8
    assert meta['generator'] == 'sfhead_mm demo'
    assert meta['seed'] == 0
    labels = {a['label'] for a in small_set['annotations']}
    assert labels == set(range(8))


def test_both_splits_cover_every_class(small_set: dict) -> None:
    label_of = {a['frame_dir']: a['label'] for a in small_set['annotations']}
    for split_name in ('xsub_train', 'xsub_val'):
        names = small_set['split'][split_name]
        assert {label_of[n] for n in names} == set(range(8)), split_name


def test_split_is_disjoint_by_subject(small_set: dict) -> None:
    split = small_set['split']
    all_names = [a['frame_dir'] for a in small_set['annotations']]
    assert len(set(all_names)) == len(all_names)
    assert sorted(split['xsub_train'] + split['xsub_val']) == \
        sorted(all_names)
    train_subjects = {parse_frame_dir(n)[0] for n in split['xsub_train']}
    val_subjects = {parse_frame_dir(n)[0] for n in split['xsub_val']}
    assert train_subjects == {1, 3, 5}
    assert val_subjects == {2, 4, 6}
    for annotation in small_set['annotations']:
        subject, label, _ = parse_frame_dir(annotation['frame_dir'])
        assert subject == annotation['subject']
        assert label == annotation['label']


def test_frame_dir_naming() -> None:
    assert make_demo.frame_dir_name(3, 4, 2) == 'S003_A05_R02'
    assert parse_frame_dir('S003_A05_R02') == (3, 4, 2)


def test_coordinates_are_metres_with_y_up(small_set: dict) -> None:
    for annotation in small_set['annotations']:
        first_frame = annotation['keypoint'][0, 0]
        head_y = first_frame[3, 1]
        feet_y = first_frame[[15, 19], 1].mean()
        depth = first_frame[:, 2].mean()
        # every clip starts standing, except "stand up" which starts seated
        lowest = 0.9 if annotation['label'] == 7 else 1.3
        assert lowest < head_y - feet_y < 2.1, annotation['frame_dir']
        assert 2.0 < depth < 4.5


# ---------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('forward, backward', REVERSED_PAIRS)
def test_reversed_pairs_are_time_reversals(wide_set: dict, forward: int,
                                           backward: int) -> None:
    forward_mean = mean_trajectory(wide_set, forward)
    backward_mean = mean_trajectory(wide_set, backward)
    reversed_gap = trajectory_distance(forward_mean, backward_mean[::-1])
    plain_gap = trajectory_distance(forward_mean, backward_mean)
    self_reversal_gap = trajectory_distance(forward_mean, forward_mean[::-1])
    # the motion is not symmetric in time, so reversal is a real difference
    assert self_reversal_gap > 0.03
    # ... and the partner is that reversal, up to sampling noise
    assert reversed_gap < 0.5 * plain_gap, (reversed_gap, plain_gap)
    assert reversed_gap < 0.5 * self_reversal_gap
    assert reversed_gap < 0.03


def test_lookalike_pairs_differ_on_average(wide_set: dict) -> None:
    for first, second in make_demo.LOOKALIKE_PAIRS:
        gap = trajectory_distance(
            mean_trajectory(wide_set, first), mean_trajectory(wide_set,
                                                              second))
        assert gap > 0.015, (first, second, gap)


def test_bones_are_rigid_without_noise(monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    monkeypatch.setattr(make_demo, 'JOINT_NOISE_M', 0.0)
    monkeypatch.setattr(make_demo, 'HAND_NOISE_M', 0.0)
    dataset = make_demo_dataset(seed=0, subjects=2, per_class=1)
    for annotation in dataset['annotations']:
        for name, lengths in bone_lengths(annotation['keypoint']).items():
            spread = np.abs(lengths - lengths[:, :1]).max()
            assert spread < 1e-4, (annotation['frame_dir'], name, spread)


def test_bone_lengths_constant_over_time_up_to_noise(small_set: dict) -> None:
    for annotation in small_set['annotations']:
        lengths = bone_lengths(annotation['keypoint'])
        for name in MAJOR_BONES:
            # two joints with 1.2 cm noise each: about 1.7 cm along the bone
            assert lengths[name].std(axis=1).max() < 0.03, (
                annotation['frame_dir'], name)


def test_bone_lengths_differ_between_subjects(small_set: dict) -> None:
    per_subject: Dict[int, List[float]] = defaultdict(list)
    for annotation in small_set['annotations']:
        thigh = bone_lengths(annotation['keypoint'])['thigh'].mean()
        per_subject[annotation['subject']].append(thigh)
    subject_means = np.array([np.mean(v) for v in per_subject.values()])
    within_subject = max(np.std(v) for v in per_subject.values())
    assert within_subject < 0.005
    assert subject_means.std() > 4 * within_subject
    assert subject_means.max() - subject_means.min() > 0.02


# ---------------------------------------------------------------------------
# Command line and file writing
# ---------------------------------------------------------------------------
def test_help_shows_a_full_example() -> None:
    result = subprocess.run([sys.executable, SCRIPT, '--help'],
                            capture_output=True, text=True, check=True,
                            env=subprocess_env())
    assert 'example:' in result.stdout
    assert '--out data/demo/ambiguous_demo_3d.pkl' in result.stdout


def test_cli_writes_a_pose_dataset_pickle(tmp_path) -> None:
    out = tmp_path / 'new_dir' / 'demo.pkl'
    result = subprocess.run(
        [
            sys.executable, SCRIPT, '--out',
            str(out), '--seed', '3', '--subjects', '2', '--per-class', '1'
        ],
        capture_output=True, text=True, cwd=str(tmp_path), check=True,
        env=subprocess_env())
    assert 'xsub_train: 8 samples, 8 classes' in result.stdout
    assert 'xsub_val: 8 samples, 8 classes' in result.stdout
    assert os.listdir(out.parent) == ['demo.pkl']  # no temporary left over
    with open(out, 'rb') as f:
        assert pickle.load(f)['meta']['seed'] == 3
    # the file is exactly what the function gives
    with open(out, 'rb') as f:
        assert f.read() == pickle.dumps(
            make_demo_dataset(seed=3, subjects=2, per_class=1),
            protocol=make_demo.PICKLE_PROTOCOL)

    import sfhead_mm  # noqa: F401  repairs mmaction before it is imported
    from mmaction.datasets import PoseDataset
    from mmaction.datasets.transforms import (FormatGCNInput, GenSkeFeat,
                                              PackActionInputs, PoseDecode,
                                              PreNormalize3D,
                                              UniformSampleFrames)
    pipeline = [
        PreNormalize3D(),
        GenSkeFeat(dataset='nturgb+d', feats=['j']),
        UniformSampleFrames(clip_len=32, num_clips=1, test_mode=True),
        PoseDecode(),
        FormatGCNInput(num_person=2),
        PackActionInputs()
    ]
    for split_name in ('xsub_train', 'xsub_val'):
        dataset = PoseDataset(
            ann_file=str(out), pipeline=pipeline, split=split_name,
            test_mode=True)
        assert len(dataset) == 8
        sample = dataset[0]
        assert tuple(sample['inputs'].shape) == (1, 2, 32, NUM_JOINTS, 3)
        assert int(sample['data_samples'].gt_label) in range(8)


def test_cli_rejects_bad_arguments(tmp_path) -> None:
    assert make_demo.main(['--out', str(tmp_path / 'demo.npz')]) == 2
    out = str(tmp_path / 'demo.pkl')
    assert make_demo.main(['--out', out, '--subjects', '1']) == 2
    assert make_demo.main(['--out', out, '--per-class', '0']) == 2
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='subjects'):
        make_demo_dataset(subjects=1)


def test_failed_generation_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    out = tmp_path / 'demo.pkl'
    out.write_bytes(b'old dataset')

    def broken_generator(**kwargs) -> dict:
        raise RuntimeError('generator failed')

    monkeypatch.setattr(make_demo, 'make_demo_dataset', broken_generator)
    with pytest.raises(RuntimeError, match='generator failed'):
        make_demo.main(['--out', str(out), '--subjects', '2'])
    assert out.read_bytes() == b'old dataset'
    assert os.listdir(tmp_path) == ['demo.pkl']


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    out = tmp_path / 'demo.pkl'
    out.write_bytes(b'old dataset')

    def dump_half_then_fail(obj, f, protocol=None) -> None:
        f.write(b'half a pickle')
        raise OSError('disk full')

    import sfhead_mm.fileio
    monkeypatch.setattr(sfhead_mm.fileio.pickle, 'dump', dump_half_then_fail)
    with pytest.raises(OSError, match='disk full'):
        make_demo.main(['--out', str(out), '--subjects', '2',
                        '--per-class', '1'])
    assert out.read_bytes() == b'old dataset'
    assert os.listdir(tmp_path) == ['demo.pkl']
