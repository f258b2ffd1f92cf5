"""NTU RGB+D converter: the published .skeleton format, splits, missing
lists, denoising / body selection and every bad-input case."""
import os
import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
import pytest

from data_prep import ntu
from tests.conftest import REPO, subprocess_env

Frame = List[Tuple[str, np.ndarray]]


# ---------------------------------------------------------------------------
# Writing .skeleton files in the published format
# ---------------------------------------------------------------------------
def _num(value: float) -> str:
    return repr(float(value))


def skeleton_text(frames: Sequence[Frame]) -> str:
    """The text of a ``.skeleton`` file, every field of the format written.

    Args:
        frames: per frame, the bodies as ``(bodyID, xyz [25, 3])``.
    """
    lines = [str(len(frames))]
    for frame in frames:
        lines.append(str(len(frame)))
        for body_id, xyz in frame:
            # bodyID clippedEdges handLeftConfidence handLeftState
            # handRightConfidence handRightState isRestricted leanX leanY
            # trackingState
            lines.append(f'{body_id} 0 1 1 1 1 0 0.01119184 -0.256052 2')
            lines.append('25')
            for j, (x, y, z) in enumerate(xyz):
                # x y z depthX depthY colorX colorY orientationW
                # orientationX orientationY orientationZ trackingState
                lines.append(' '.join([
                    _num(x), _num(y), _num(z), f'{250 + j}.5', f'{190 + j}.25',
                    f'{1000 + j}.125', f'{500 + j}.75', '-0.2612345',
                    '0.05058', '0.9533', '-0.1429', '2'
                ]))
    return '\n'.join(lines) + '\n'


def write_skeleton(path: Path, frames: Sequence[Frame]) -> Path:
    path.write_text(skeleton_text(frames))
    return path


def person(offset=(0.0, 0.0, 3.0), seed=0) -> np.ndarray:
    """A standing body: 0.4 m wide, 1.6 m tall (passes the spread rule);
    coordinates rounded to 6 decimals so they print exactly."""
    rng = np.random.default_rng(seed)
    xyz = np.stack([
        rng.uniform(-0.2, 0.2, 25),
        np.linspace(-0.8, 0.8, 25),
        rng.uniform(-0.1, 0.1, 25)
    ], 1)
    return np.round(xyz + np.asarray(offset), 6)


def lying(offset=(0.0, 0.0, 3.0)) -> np.ndarray:
    """A body wider than tall: every frame is noisy for the spread rule."""
    xyz = person(offset)
    return np.round(xyz[:, [1, 0, 2]] - xyz[:, [1, 0, 2]].mean(0) +
                    np.asarray(offset), 6)


def moving(body_id: str, base: np.ndarray, amplitude: float,
           frames: Sequence[int]) -> List[Tuple[int, str, np.ndarray]]:
    """``base`` swaying sideways by ``amplitude`` metres in some frames."""
    return [(t, body_id, np.round(base + [amplitude * np.sin(t), 0, 0], 6))
            for t in frames]


def assemble(num_frames: int, *bodies) -> List[Frame]:
    frames: List[Frame] = [[] for _ in range(num_frames)]
    for body in bodies:
        for t, body_id, xyz in body:
            frames[t].append((body_id, xyz))
    return frames


def stacked(body) -> np.ndarray:
    """The float32 [T, 25, 3] of a ``moving`` body, as the converter stores
    it."""
    return np.stack([xyz for *_, xyz in body]).astype(np.float32)


def expected_xyz(xyz: np.ndarray) -> np.ndarray:
    """What the converter stores for written coordinates: float32."""
    return np.array([[float(_num(v)) for v in row] for row in xyz],
                    dtype=np.float32)


# ---------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------
def test_reader_parses_header_bodies_and_joints(tmp_path):
    a0, a1, a2 = person(seed=1), person(seed=2), person(seed=3)
    b0 = person((1.0, 0.0, 3.5), seed=4)
    frames = [[('72057594037931101', a0), ('72057594037931102', b0)],
              [('72057594037931101', a1)], [],
              [('72057594037931101', a2)]]
    path = write_skeleton(tmp_path / 'S001C001P001R001A001.skeleton', frames)
    text = path.read_text().splitlines()
    assert text[0] == '4' and text[1] == '2'
    assert len(text[2].split()) == 10 and text[3] == '25'
    assert all(len(line.split()) == 12 for line in text[4:29])

    parsed = ntu.read_skeleton_file(str(path))
    assert [len(f) for f in parsed] == [2, 1, 0, 1]
    assert [b for b, _ in parsed[0]] == ['72057594037931101',
                                         '72057594037931102']
    for got, want in [(parsed[0][0][1], a0), (parsed[0][1][1], b0),
                      (parsed[1][0][1], a1), (parsed[3][0][1], a2)]:
        assert got.shape == (25, 3)
        np.testing.assert_array_equal(got, want)  # x y z, exactly


def test_reader_keeps_xyz_not_the_other_fields(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    joint = '0.1 0.2 0.3 277.4 191.8 1036.2 519.1 -0.26 0.05 0.95 -0.14 2'
    path.write_text('1\n1\n7 0 1 1 1 1 0 0.0 0.0 2\n25\n' +
                    '\n'.join([joint] * 25) + '\n\n')
    [[(body_id, xyz)]] = ntu.read_skeleton_file(str(path))
    assert body_id == '7'
    np.testing.assert_array_equal(xyz, np.tile([0.1, 0.2, 0.3], (25, 1)))


def test_convert_sample_two_bodies_value_by_value(tmp_path):
    quiet, active = person(seed=1), person((1.0, 0.0, 3.2), seed=2)
    frames = assemble(20, moving('1', quiet, 0.01, range(20)),
                      moving('2', active, 0.2, range(20)))
    path = write_skeleton(tmp_path / 'S002C003P004R001A051.skeleton', frames)
    result = ntu.convert_sample(str(path), ntu.DATASETS['ntu60'])
    ann = result.annotation
    assert result.skip_reason is None
    assert ann['frame_dir'] == 'S002C003P004R001A051'
    assert ann['label'] == 50 and ann['total_frames'] == 20
    kp = ann['keypoint']
    assert kp.dtype == np.float32 and kp.shape == (2, 20, 25, 3)
    for t in range(20):  # the more moving body first
        np.testing.assert_array_equal(kp[0, t], expected_xyz(frames[t][1][1]))
        np.testing.assert_array_equal(kp[1, t], expected_xyz(frames[t][0][1]))


def test_second_body_zero_padded_where_missing(tmp_path):
    a, b = person(seed=1), person((1.0, 0.0, 3.0), seed=2)
    frames = assemble(30, moving('1', a, 0.2, range(30)),
                      moving('2', b, 0.05, range(5, 25)))
    kp = ntu.select_bodies(frames)
    assert kp.shape == (2, 30, 25, 3)
    assert not kp[1, :5].any() and not kp[1, 25:].any()
    np.testing.assert_array_equal(kp[1, 5], frames[5][1][1].astype(np.float32))


def test_single_body_gives_m1(tmp_path):
    frames = assemble(3, moving('9', person(), 0.1, range(3)))
    kp = ntu.select_bodies(frames)
    assert kp.shape == (1, 3, 25, 3)  # no denoising with one body ID


# ---------------------------------------------------------------------------
# Denoising and body selection
# ---------------------------------------------------------------------------
def test_three_bodies_two_most_moving_kept_in_order():
    little = moving('10', person(seed=1), 0.02, range(30))
    most = moving('20', person((1.0, 0, 3), seed=2), 0.30, range(30))
    middle = moving('30', person((-1.0, 0, 3), seed=3), 0.10, range(30))
    frames = assemble(30, little, most, middle)
    dropped = Counter()
    kp = ntu.select_bodies(frames, dropped)
    assert kp.shape == (2, 30, 25, 3)
    np.testing.assert_array_equal(kp[0], stacked(most))
    np.testing.assert_array_equal(kp[1], stacked(middle))
    assert dropped['motion rank>2'] == 1
    assert dropped['length'] == dropped['spread'] == 0


def test_short_body_dropped_by_length():
    main_body = moving('1', person(seed=1), 0.05, range(30))
    flicker = moving('2', person((1.0, 0, 3), seed=2), 0.9, range(11))
    other = moving('3', person((-1.0, 0, 3), seed=3), 0.02, range(30))
    dropped = Counter()
    kp = ntu.select_bodies(assemble(30, main_body, flicker, other), dropped)
    # the 11-frame body moves most but is noise: it must not take a slot
    assert dropped['length'] == 1 and dropped['motion rank>2'] == 0
    np.testing.assert_array_equal(kp[0], stacked(main_body))
    np.testing.assert_array_equal(kp[1], stacked(other))


def test_wide_body_dropped_by_spread():
    real = moving('1', person(seed=1), 0.05, range(30))
    noise = moving('2', lying((1.0, 0, 3)), 0.5, range(30))
    dropped = Counter()
    kp = ntu.select_bodies(assemble(30, real, noise), dropped)
    assert dropped['spread'] == 1
    assert kp.shape == (1, 30, 25, 3)
    np.testing.assert_array_equal(kp[0], stacked(real))


def test_spread_never_drops_the_last_body():
    frames = assemble(30, moving('1', lying(), 0.1, range(30)))
    assert ntu.select_bodies(frames).shape == (1, 30, 25, 3)


def test_new_body_id_after_tracking_loss_joins_the_track():
    first = moving('1', person(seed=1), 0.3, range(0, 15))
    again = moving('2', person(seed=1), 0.3, range(15, 30))
    partner = moving('3', person((1.0, 0, 3), seed=2), 0.1, range(30))
    dropped = Counter()
    kp = ntu.select_bodies(assemble(30, first, again, partner), dropped)
    assert kp.shape == (2, 30, 25, 3) and sum(dropped.values()) == 0
    np.testing.assert_array_equal(
        kp[0], stacked(first + again))
    np.testing.assert_array_equal(kp[1], stacked(partner))


def test_frames_without_a_kept_body_are_removed():
    body = moving('1', person(seed=1), 0.1, range(2, 20))
    frames = assemble(22, body)
    dropped = Counter()
    kp = ntu.select_bodies(frames, dropped)
    assert kp.shape == (1, 18, 25, 3) and dropped['frames'] == 4


# ---------------------------------------------------------------------------
# Names, splits, missing lists
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name, dataset, want', [
    ('S001C001P001R001A001', 'ntu60', ['xsub_train', 'xview_val']),
    ('S002C002P003R001A002', 'ntu60', ['xsub_val', 'xview_train']),
    ('S017C003P038R002A060', 'ntu60', ['xsub_train', 'xview_train']),
    ('S005C001P040R002A010', 'ntu60', ['xsub_val', 'xview_val']),
    ('S018C001P045R001A061', 'ntu120', ['xsub_train', 'xset_train']),
    ('S019C002P044R001A120', 'ntu120', ['xsub_val', 'xset_val']),
    ('S001C001P103R001A001', 'ntu120', ['xsub_train', 'xset_val']),
    ('S032C003P106R002A100', 'ntu120', ['xsub_val', 'xset_train']),
])
def test_split_rules(name, dataset, want):
    spec = ntu.DATASETS[dataset]
    assert ntu.split_names(
        ntu.parse_sample_name(name), spec, spec.benchmarks) == want


def test_train_subject_lists():
    assert len(ntu.NTU60_TRAIN_SUBJECTS) == 20
    assert len(ntu.NTU120_TRAIN_SUBJECTS) == 53
    assert ntu.NTU60_TRAIN_SUBJECTS < ntu.NTU120_TRAIN_SUBJECTS


def test_official_missing_lists_302_and_535():
    ntu60 = ntu.load_missing_list(ntu.DATASETS['ntu60'].missing_list)
    ntu120 = ntu.load_missing_list(ntu.DATASETS['ntu120'].missing_list)
    assert len(ntu60) == 302 and len(ntu120) == 535
    assert ntu60 < ntu120
    assert ntu60 == {n for n in ntu120 if int(n[1:4]) <= 17}
    assert 'S001C002P005R002A008' in ntu60
    assert 'S032C003P067R002A077' in ntu120


def _dataset_folder(tmp_path: Path, names: Sequence[str]) -> Path:
    root = tmp_path / 'nturgb+d_skeletons'
    root.mkdir()
    for i, name in enumerate(names):
        frames = assemble(
            15, moving('1', person(seed=i), 0.05 * (i + 1), range(15)))
        write_skeleton(root / f'{name}.skeleton', frames)
    return root


def test_convert_ntu60_splits_and_missing_list_skip(tmp_path):
    names = ['S001C001P001R001A001', 'S001C002P005R002A008',  # missing list
             'S001C002P003R001A002', 'S017C003P038R002A060',
             'S018C001P045R001A061']  # NTU120 only
    root = _dataset_folder(tmp_path, names)
    dataset, report = ntu.convert_ntu([str(root)], 'ntu60',
                                      show_progress=False)
    kept = ['S001C001P001R001A001', 'S001C002P003R001A002',
            'S017C003P038R002A060']
    assert [a['frame_dir'] for a in dataset['annotations']] == kept
    assert [a['label'] for a in dataset['annotations']] == [0, 1, 59]
    assert dataset['split'] == dict(
        xsub_train=['S001C001P001R001A001', 'S017C003P038R002A060'],
        xsub_val=['S001C002P003R001A002'],
        xview_train=['S001C002P003R001A002', 'S017C003P038R002A060'],
        xview_val=['S001C001P001R001A001'])
    assert report.skipped == Counter({'missing-list': 1,
                                      'outside-dataset': 1})
    assert report.bad == []
    assert 'samples skipped: missing-list 1, outside-dataset 1, empty 0, ' \
        'malformed 0' in report.lines()[1]


def test_convert_ntu120_xset(tmp_path):
    names = ['S018C001P045R001A061', 'S019C002P044R001A120',
             'S001C002P005R002A008', 'S019C001P046R001A075']  # 2 missing
    root = _dataset_folder(tmp_path, names)
    dataset, report = ntu.convert_ntu([str(root)], 'ntu120', ['xset'],
                                      show_progress=False)
    assert dataset['split'] == dict(xset_train=['S018C001P045R001A061'],
                                    xset_val=['S019C002P044R001A120'])
    assert report.skipped['missing-list'] == 2


def test_output_is_deterministic(tmp_path):
    names = ['S001C001P001R001A001', 'S001C002P003R001A002']
    root = _dataset_folder(tmp_path, names)
    one, _ = ntu.convert_ntu([str(root)], show_progress=False)
    two, _ = ntu.convert_ntu([str(root)], workers=2, show_progress=False)
    assert pickle.dumps(one, protocol=4) == pickle.dumps(two, protocol=4)


# ---------------------------------------------------------------------------
# Bad input: one test each; the message names the file and line / sample
# ---------------------------------------------------------------------------
def _good_frames(n=15) -> List[Frame]:
    return assemble(n, moving('1', person(), 0.1, range(n)))


def _convert_error(path: Path, dataset='ntu60') -> ntu.SampleResult:
    result = ntu.convert_sample(str(path), ntu.DATASETS[dataset])
    assert result.annotation is None
    assert str(path) in result.message
    return result


def test_truncated_file_fewer_joint_lines(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    path.write_text('\n'.join(lines[:4 + 10]) + '\n')  # 10 of 25 joints
    result = _convert_error(path)
    assert result.skip_reason == 'malformed'
    assert f'{path}:15:' in result.message
    assert 'joint line 11 of 25 of body 1 of 1 in frame 1' in result.message
    assert 'end of the file' in result.message


def test_truncated_file_fewer_frames(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    text = skeleton_text(_good_frames(2)).replace('2\n', '3\n', 1)
    path.write_text(text)
    result = _convert_error(path)
    assert f'{path}:58:' in result.message
    assert 'body count of frame 3 of 3' in result.message


def test_joint_line_with_wrong_value_count(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    lines[6] = ' '.join(lines[6].split()[:11])
    path.write_text('\n'.join(lines) + '\n')
    result = _convert_error(path)
    assert f'{path}:7:' in result.message
    assert 'joint line 3 of 25' in result.message
    assert 'with 12 values' in result.message
    assert 'got 11 values' in result.message


def test_body_info_line_with_wrong_value_count(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    lines[2] = '72057594037931101 0 1 1'
    path.write_text('\n'.join(lines) + '\n')
    result = _convert_error(path)
    assert f'{path}:3:' in result.message
    assert 'body info line of body 1 of 1 in frame 1' in result.message
    assert '10 values' in result.message


def test_wrong_joint_count(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    lines[3] = '20'
    path.write_text('\n'.join(lines) + '\n')
    result = _convert_error(path)
    assert f'{path}:4: expected the joint count 25' in result.message


def test_nan_coordinate(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    fields = lines[35].split()  # frame 2, joint 4
    fields[1] = 'NaN'
    lines[35] = ' '.join(fields)
    path.write_text('\n'.join(lines) + '\n')
    result = _convert_error(path)
    assert result.skip_reason == 'non-finite'
    assert f'{path}:36: joint 4 of body 1 of 1 in frame 2' in result.message


def test_non_numeric_coordinate(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    lines[5] = 'abc ' + ' '.join(lines[5].split()[1:])
    path.write_text('\n'.join(lines) + '\n')
    result = _convert_error(path)
    assert f'{path}:6: expected numbers x y z for joint 2' in result.message


def test_empty_sequence(tmp_path):
    zero = write_skeleton(tmp_path / 'S001C001P001R001A001.skeleton', [])
    no_body = write_skeleton(tmp_path / 'S001C001P001R001A002.skeleton',
                             [[], [], []])
    for path in (zero, no_body):
        result = _convert_error(path)
        assert result.skip_reason == 'empty'
        assert 'is empty' in result.message


def test_label_out_of_range(tmp_path):
    path = write_skeleton(tmp_path / 'S001C001P001R001A061.skeleton',
                          _good_frames())
    result = _convert_error(path)
    assert result.skip_reason == 'label'
    assert 'sample S001C001P001R001A061: action A061 is out of range' in \
        result.message and 'A001-A060' in result.message
    ok = ntu.convert_sample(str(path), ntu.DATASETS['ntu120'])
    assert ok.annotation['label'] == 60
    zero = write_skeleton(tmp_path / 'S019C001P001R001A000.skeleton',
                          _good_frames())
    assert _convert_error(zero, 'ntu120').skip_reason == 'label'


def test_extra_content_after_the_last_frame(tmp_path):
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    path.write_text(skeleton_text(_good_frames(1)) + '\n1\n')
    result = _convert_error(path)
    assert f'{path}:31: expected the end of the file' in result.message


def test_bad_file_name(tmp_path):
    path = write_skeleton(tmp_path / 'S001C001P001R001.skeleton',
                          _good_frames())
    result = _convert_error(path)
    assert 'expected a file name like S001C001P001R001A001' in result.message


def _cli_folder(tmp_path: Path) -> Tuple[Path, Path]:
    root = _dataset_folder(
        tmp_path, ['S001C001P001R001A001', 'S001C002P003R001A002'])
    bad = root / 'S001C003P002R001A003.skeleton'
    lines = skeleton_text(_good_frames(2)).splitlines()
    bad.write_text('\n'.join(lines[:20]) + '\n')
    return root, bad


def test_strict_stops_and_writes_nothing(tmp_path, capsys):
    root, bad = _cli_folder(tmp_path)
    out = tmp_path / 'out' / 'ntu.pkl'
    code = ntu.main(['--data-root', str(root), '--out', str(out),
                     '--strict'])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert f'{bad}:21:' in err and 'joint line 17 of 25' in err
    # an existing output stays as it was
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(b'previous')
    assert ntu.main(['--data-root', str(root), '--out', str(out),
                     '--strict']) == 1
    assert out.read_bytes() == b'previous'
    assert [p.name for p in out.parent.iterdir()] == ['ntu.pkl']


def test_default_mode_skips_and_lists_bad_samples(tmp_path, capsys):
    root, bad = _cli_folder(tmp_path)
    out = tmp_path / 'ntu.pkl'
    assert ntu.main(['--data-root', str(root), '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'xsub_train: 1 samples' in printed
    assert 'samples skipped: missing-list 0, empty 0, malformed 1' in printed
    assert f'S001C003P002R001A003: malformed: {bad}:21:' in printed
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert len(data['annotations']) == 2
    assert data['meta']['bad_samples'] == ['S001C003P002R001A003']


def test_cli_rejects_a_split_of_the_other_dataset(tmp_path, capsys):
    root = _dataset_folder(tmp_path, ['S001C001P001R001A001'])
    assert ntu.main(['--data-root', str(root), '--out',
                     str(tmp_path / 'x.pkl'), '--split', 'xset']) == 2
    assert 'ntu60 has the benchmarks xsub xview' in capsys.readouterr().err


# ---------------------------------------------------------------------------
# End to end: the CLI as a script, mmaction's PoseDataset, the checker
# ---------------------------------------------------------------------------
def test_cli_end_to_end_pose_dataset(tmp_path):
    names = ['S001C001P001R001A001', 'S001C002P003R001A002',
             'S002C003P004R002A051', 'S001C002P005R002A008']
    root = _dataset_folder(tmp_path, names)
    out = tmp_path / 'ntu60_3d.pkl'
    proc = subprocess.run(
        [sys.executable, 'data_prep/ntu.py', '--dataset', 'ntu60',
         '--data-root', str(root), '--out', str(out)],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'xview_val: 1 samples' in proc.stdout
    assert 'samples skipped: missing-list 1' in proc.stdout

    import sfhead_mm  # noqa: F401  (before mmaction.datasets)
    from mmaction.datasets import PoseDataset
    from sfhead_mm.datasets import check_pose_annotations
    ds = PoseDataset(ann_file=str(out), pipeline=[], split='xsub_train')
    assert len(ds) == 2
    assert ds[0]['keypoint'].shape == (1, 15, 25, 3)
    summary = check_pose_annotations(str(out), 'xsub_val', 60)
    assert summary['num_samples'] == 1 and summary['keypoint_channels'] == [3]


def test_help_shows_an_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        ntu.main(['--help'])
    assert exit_info.value.code == 0
    assert 'python data_prep/ntu.py --dataset ntu120 --data-root' in \
        capsys.readouterr().out


def test_import_does_not_need_the_script_path():
    assert os.path.samefile(ntu.LISTS_DIR, REPO / 'data_prep' / 'lists')
