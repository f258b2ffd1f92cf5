"""PKU-MMD phase I converter: 150-float rows, label rows, clip cutting
(1-based inclusive), split files, the 51-class range and bad input."""
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Dict, Sequence, Tuple

import numpy as np
import pytest

from data_prep import pku_mmd
from tests.conftest import REPO, subprocess_env


# ---------------------------------------------------------------------------
# Writing files in the published formats
# ---------------------------------------------------------------------------
def sequence(num_frames: int, two_bodies: bool = False,
             seed: int = 0) -> np.ndarray:
    """[T, 2, 25, 3] with 6-decimal values; body 2 all zeros unless asked."""
    rng = np.random.default_rng(seed)
    data = np.round(rng.uniform(-1, 3, (num_frames, 2, 25, 3)), 6)
    data[data == 0] = 0.5
    if not two_bodies:
        data[:, 1] = 0
    return data


def write_skeleton(path: Path, data: np.ndarray) -> Path:
    """One row per frame: x1 y1 z1 ... x25 y25 z25 of body 1, then body 2."""
    rows = [' '.join(repr(float(v)) for v in frame.reshape(-1))
            for frame in data]
    path.write_text('\n'.join(rows) + '\n')
    return path


def write_labels(path: Path, rows: Sequence[Tuple]) -> Path:
    path.write_text(''.join(','.join(str(v) for v in row) + '\n'
                            for row in rows))
    return path


def write_split(path: Path, train: Sequence[str],
                val: Sequence[str]) -> Path:
    """The official layout, including the official "Validataion" typo."""
    path.write_text('Training videos: \n' + ', '.join(train) + '\n'
                    'Validataion videos: \n' + ', '.join(val) + '\n')
    return path


def make_release(tmp_path: Path, videos: Dict[str, Tuple[np.ndarray, list]]):
    skeleton_dir = tmp_path / 'PKU_Skeleton_Renew'
    label_dir = tmp_path / 'Train_Label_PKU_final'
    skeleton_dir.mkdir()
    label_dir.mkdir()
    for video, (data, rows) in videos.items():
        write_skeleton(skeleton_dir / f'{video}.txt', data)
        write_labels(label_dir / f'{video}.txt', rows)
    return skeleton_dir, label_dir


def f32(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32)


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------
def test_read_skeleton_150_floats_per_row(tmp_path):
    data = sequence(7, two_bodies=True)
    path = write_skeleton(tmp_path / '0002-L.txt', data)
    assert all(len(line.split()) == 150
               for line in path.read_text().splitlines())
    keypoint = pku_mmd.read_skeleton(str(path))
    assert keypoint.shape == (2, 7, 25, 3) and keypoint.dtype == np.float32
    # row t = x1 y1 z1 ... of body 1, then body 2
    np.testing.assert_array_equal(keypoint[0, 3, 4], f32(data[3, 0, 4]))
    np.testing.assert_array_equal(keypoint[1, 6, 24], f32(data[6, 1, 24]))
    np.testing.assert_array_equal(keypoint, f32(data.transpose(1, 0, 2, 3)))


def test_read_labels(tmp_path):
    path = tmp_path / '0002-L.txt'
    path.write_text('41,59,126,1\n\n8, 140 ,200,2\n')
    rows = pku_mmd.read_labels(str(path))
    assert rows == [
        pku_mmd.LabelRow(1, 1, 41, 59, 126, 1.0),
        pku_mmd.LabelRow(3, 2, 8, 140, 200, 2.0)
    ]


def test_read_split_file_official_format(tmp_path):
    path = write_split(tmp_path / 'cross-subject.txt',
                       ['0002-L', '0002-M', '0002-R'], ['0291-L', '0291-M'])
    train, val = pku_mmd.read_split_file(str(path))
    assert train == ['0002-L', '0002-M', '0002-R']
    assert val == ['0291-L', '0291-M']
    same_line = tmp_path / 'x.txt'
    same_line.write_text('Training videos: 0002-L, 0003-L\n'
                         'Validation videos: 0004-L\n')
    assert pku_mmd.read_split_file(str(same_line)) == (['0002-L', '0003-L'],
                                                       ['0004-L'])


def test_read_split_file_errors(tmp_path):
    no_val = tmp_path / 'a.txt'
    no_val.write_text('Training videos: \n0002-L\n')
    with pytest.raises(ValueError, match='Validataion videos:'):
        pku_mmd.read_split_file(str(no_val))
    both = write_split(tmp_path / 'b.txt', ['0002-L'], ['0002-L'])
    with pytest.raises(ValueError, match='both .* 0002-L'):
        pku_mmd.read_split_file(str(both))


# ---------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------
def test_clip_is_1_based_inclusive_value_by_value():
    data = sequence(10)
    skeleton = f32(data.transpose(1, 0, 2, 3))
    row = pku_mmd.LabelRow(1, 1, 5, 3, 5, 1.0)  # frames 3, 4, 5
    clip = pku_mmd.cut_clip(skeleton, row)
    assert clip.shape == (1, 3, 25, 3)  # all-zero body 2 dropped
    for i, frame in enumerate((3, 4, 5)):
        np.testing.assert_array_equal(clip[0, i], f32(data[frame - 1, 0]))
    zero_based = pku_mmd.cut_clip(skeleton, row, frame_base=0)
    np.testing.assert_array_equal(zero_based[0], f32(data[3:6, 0]))


def test_clip_boundaries():
    skeleton = f32(sequence(10).transpose(1, 0, 2, 3))

    def clip(start, end, base=1):
        row = pku_mmd.LabelRow(4, 2, 1, start, end, 1.0)
        return pku_mmd.cut_clip(skeleton, row, base, 'labels/0002-L.txt')

    np.testing.assert_array_equal(clip(1, 10)[0], skeleton[0])  # whole
    assert clip(10, 10).shape == (1, 1, 25, 3)  # last frame alone
    assert clip(0, 9, base=0).shape == (1, 10, 25, 3)
    for start, end, base in [(0, 5, 1), (5, 11, 1), (6, 5, 1), (5, 10, 0)]:
        with pytest.raises(pku_mmd.SampleError) as info:
            clip(start, end, base)
        assert info.value.reason == 'interval'
        message = str(info.value)
        assert message.startswith('labels/0002-L.txt:4: frames ')
        assert 'outside the sequence' in message and '10 rows' in message


def test_second_body_kept_when_present_in_the_clip():
    data = sequence(12, two_bodies=True)
    data[:6, 1] = 0  # the second person enters at frame 7 (1-based)
    skeleton = f32(data.transpose(1, 0, 2, 3))
    early = pku_mmd.cut_clip(skeleton, pku_mmd.LabelRow(1, 1, 12, 1, 6, 1))
    late = pku_mmd.cut_clip(skeleton, pku_mmd.LabelRow(2, 2, 12, 5, 9, 1))
    assert early.shape == (1, 6, 25, 3)
    assert late.shape == (2, 5, 25, 3)
    assert not late[1, :2].any()  # frames 5, 6: zero padded
    np.testing.assert_array_equal(late[1, 2:], f32(data[6:9, 1]))


def test_51_classes():
    skeleton = f32(sequence(5).transpose(1, 0, 2, 3))
    assert pku_mmd.cut_clip(
        skeleton, pku_mmd.LabelRow(1, 1, 51, 1, 5, 1)).shape[1] == 5
    for action in (0, 52):
        with pytest.raises(pku_mmd.SampleError) as info:
            pku_mmd.cut_clip(skeleton,
                             pku_mmd.LabelRow(7, 3, action, 1, 5, 1), 1,
                             'lab/0002-L.txt')
        assert info.value.reason == 'label'
        assert str(info.value).startswith(
            f'lab/0002-L.txt:7: action {action} is out of range; '
            f'expected 1..51')


def test_all_zero_clip_is_empty():
    skeleton = np.zeros((2, 5, 25, 3), np.float32)
    with pytest.raises(pku_mmd.SampleError) as info:
        pku_mmd.cut_clip(skeleton, pku_mmd.LabelRow(2, 2, 3, 1, 5, 1), 1,
                         'l.txt')
    assert info.value.reason == 'empty' and 'l.txt:2: clip 2' in str(
        info.value)


# ---------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------
def _release(tmp_path):
    videos = {
        '0002-L': (sequence(30, seed=1), [(1, 1, 10, 1), (51, 11, 30, 2)]),
        '0002-M': (sequence(20, True, seed=2), [(12, 5, 15, 1)]),
        '0291-L': (sequence(15, seed=3), [(8, 2, 14, 1)]),
        '0300-R': (sequence(9, seed=4), [(3, 1, 9, 1)]),  # in no split
    }
    skeleton_dir, label_dir = make_release(tmp_path, videos)
    xsub = write_split(tmp_path / 'cross-subject.txt', ['0002-L', '0002-M'],
                       ['0291-L'])
    xview = write_split(tmp_path / 'cross-view.txt', ['0002-M', '0291-L'],
                        ['0002-L'])
    return videos, skeleton_dir, label_dir, xsub, xview


def test_convert_clips_and_splits(tmp_path):
    videos, skeleton_dir, label_dir, xsub, xview = _release(tmp_path)
    dataset, report = pku_mmd.convert_pku_mmd(
        str(skeleton_dir), str(label_dir),
        dict(xsub=str(xsub), xview=str(xview)), show_progress=False)
    anns = {a['frame_dir']: a for a in dataset['annotations']}
    assert list(anns) == ['0002-L_1', '0002-L_2', '0002-M_1', '0291-L_1']
    assert [a['label'] for a in anns.values()] == [0, 50, 11, 7]
    assert [a['total_frames'] for a in anns.values()] == [10, 20, 11, 13]
    np.testing.assert_array_equal(anns['0002-L_2']['keypoint'][0],
                                  f32(videos['0002-L'][0][10:30, 0]))
    np.testing.assert_array_equal(anns['0002-M_1']['keypoint'],
                                  f32(videos['0002-M'][0][4:15]).transpose(
                                      1, 0, 2, 3))
    assert dataset['split'] == dict(
        xsub_train=['0002-L_1', '0002-L_2', '0002-M_1'],
        xsub_val=['0291-L_1'],
        xview_train=['0002-M_1', '0291-L_1'],
        xview_val=['0002-L_1', '0002-L_2'])
    assert report.videos_skipped['not-in-split'] == 1
    assert report.bodies[1] == 3 and report.bodies[2] == 1
    assert report.bad == []


def _bad_release(tmp_path):
    videos, skeleton_dir, label_dir, xsub, xview = _release(tmp_path)
    lines = (skeleton_dir / '0002-M.txt').read_text().splitlines()
    lines[4] = ' '.join(lines[4].split()[:149])
    (skeleton_dir / '0002-M.txt').write_text('\n'.join(lines) + '\n')
    write_labels(label_dir / '0002-L.txt', [(1, 1, 10, 1), (52, 11, 30, 2),
                                            (3, 25, 31, 1)])
    return skeleton_dir, label_dir, xsub, xview


def test_wrong_width_row_names_file_and_line(tmp_path):
    skeleton_dir, *_ = _bad_release(tmp_path)
    path = skeleton_dir / '0002-M.txt'
    with pytest.raises(pku_mmd.SampleError) as info:
        pku_mmd.read_skeleton(str(path))
    assert str(info.value) == (
        f'{path}:5: expected 150 values (2 bodies x 25 joints x xyz) in the '
        f'row of frame 5, got 149')


def test_blank_row_inside_the_sequence(tmp_path):
    path = write_skeleton(tmp_path / '0002-L.txt', sequence(4))
    lines = path.read_text().splitlines()
    path.write_text('\n'.join(lines[:2] + [''] + lines[2:]) + '\n')
    with pytest.raises(pku_mmd.SampleError,
                       match=r':3: expected 150 .* got 0'):
        pku_mmd.read_skeleton(str(path))


def test_nan_and_text_values(tmp_path):
    data = sequence(4)
    path = write_skeleton(tmp_path / '0002-L.txt', data)
    lines = path.read_text().splitlines()
    tokens = lines[2].split()
    tokens[7] = 'nan'
    path.write_text('\n'.join(lines[:2] + [' '.join(tokens)] + lines[3:]))
    with pytest.raises(pku_mmd.SampleError) as info:
        pku_mmd.read_skeleton(str(path))
    assert info.value.reason == 'non-finite'
    assert str(info.value).startswith(
        f'{path}:3: non-finite value nan in column 8')
    tokens[7] = 'x1'
    path.write_text('\n'.join(lines[:2] + [' '.join(tokens)] + lines[3:]))
    with pytest.raises(pku_mmd.SampleError,
                       match=r':3: expected a number in column 8 .* \'x1\''):
        pku_mmd.read_skeleton(str(path))


def test_empty_skeleton_file(tmp_path):
    path = tmp_path / '0002-L.txt'
    path.write_text('\n')
    with pytest.raises(pku_mmd.SampleError) as info:
        pku_mmd.read_skeleton(str(path))
    assert info.value.reason == 'empty'
    assert str(info.value).startswith(f'{path}: empty sequence')


def test_malformed_label_row(tmp_path):
    path = tmp_path / '0002-L.txt'
    path.write_text('1,2,3,1\n4,5\n')
    with pytest.raises(pku_mmd.SampleError,
                       match=r'0002-L.txt:2: expected a row "action,start,'):
        pku_mmd.read_labels(str(path))


def test_default_mode_skips_and_lists(tmp_path, capsys):
    skeleton_dir, label_dir, xsub, xview = _bad_release(tmp_path)
    out = tmp_path / 'pku.pkl'
    code = pku_mmd.main([
        '--skeleton-dir', str(skeleton_dir), '--label-dir', str(label_dir),
        '--split-file', str(xsub), str(xview), '--out', str(out)
    ])
    printed = capsys.readouterr().out
    assert code == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert [a['frame_dir'] for a in data['annotations']] == ['0002-L_1',
                                                             '0291-L_1']
    assert 'videos skipped: not-in-split 1, malformed 1' in printed
    assert 'clips skipped: label 1, interval 1, empty 0' in printed
    label_file = label_dir / '0002-L.txt'
    assert f'0002-L_2: label: {label_file}:2: action 52' in printed
    assert f'0002-L_3: interval: {label_file}:3: frames 25..31' in printed
    assert f'0002-M: malformed: {skeleton_dir / "0002-M.txt"}:5:' in printed


def test_strict_stops_and_writes_nothing(tmp_path, capsys):
    skeleton_dir, label_dir, xsub, xview = _bad_release(tmp_path)
    out = tmp_path / 'pku.pkl'
    out.write_bytes(b'previous')
    code = pku_mmd.main([
        '--skeleton-dir', str(skeleton_dir), '--label-dir', str(label_dir),
        '--split-file', f'xsub={xsub}', '--out', str(out), '--strict'
    ])
    err = capsys.readouterr().err
    assert code == 1 and out.read_bytes() == b'previous'
    assert sorted(p.name for p in tmp_path.iterdir()
                  if p.name.startswith('.pku')) == []
    assert f'{label_dir / "0002-L.txt"}:2: action 52 is out of range' in err


def test_split_file_arguments(tmp_path):
    xsub = write_split(tmp_path / 'cross-subject.txt', ['a'], ['b'])
    other = write_split(tmp_path / 'other.txt', ['a'], ['b'])
    assert pku_mmd.parse_split_files([str(xsub), f'xview={other}']) == dict(
        xsub=str(xsub), xview=str(other))
    with pytest.raises(ValueError, match='name it xsub=PATH'):
        pku_mmd.parse_split_files([str(other)])


def test_help_shows_an_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pku_mmd.main(['--help'])
    assert exit_info.value.code == 0
    assert 'python data_prep/pku_mmd.py --skeleton-dir' in \
        capsys.readouterr().out


def test_cli_end_to_end_pose_dataset(tmp_path):
    _, skeleton_dir, label_dir, xsub, xview = _release(tmp_path)
    out = tmp_path / 'pku_mmd_3d.pkl'
    proc = subprocess.run(
        [sys.executable, 'data_prep/pku_mmd.py', '--skeleton-dir',
         str(skeleton_dir), '--label-dir', str(label_dir), '--split-file',
         str(xsub), str(xview), '--out', str(out)],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'xsub_train: 3 samples, 3 classes' in proc.stdout

    import sfhead_mm  # noqa: F401  (before mmaction.datasets)
    from mmaction.datasets import PoseDataset
    from sfhead_mm.datasets import check_pose_annotations
    ds = PoseDataset(ann_file=str(out), pipeline=[], split='xview_val')
    assert len(ds) == 2 and ds[1]['label'] == 50
    summary = check_pose_annotations(str(out), 'xsub_train', 51)
    assert summary == dict(num_samples=3, max_label=50,
                           keypoint_channels=[3])
