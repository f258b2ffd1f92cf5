"""data_prep/nw_ucla.py: the real NW-UCLA files (split, classes, labels, the
single-frame sequences) and every kind of bad input on hand-made files."""
import json
import pickle
import re

import numpy as np
import pytest

from data_prep import nw_ucla
from data_prep.nw_ucla import (ACTION_TO_LABEL, CLASS_NAMES, NWUCLAError,
                               convert, load_sequence, main)
from tests.datasets.nw_ucla_data import (annotations_by_name, converted,
                                         names, requires_nw_ucla)

SINGLE_FRAME = ('a02_s09_e04_v02', 'a02_s09_e04_v03')


# --------------------------------------------------------------------------
# The real data
# --------------------------------------------------------------------------
@requires_nw_ucla
def test_real_cross_view_split_and_classes():
    dataset, skipped = converted()
    assert skipped == ()
    assert list(dataset['split']) == [
        'xview_train', 'xview_val', 'xview_tunetrain', 'xview_tuneval']
    train, val = names('xview_train'), names('xview_val')
    assert (len(train), len(val)) == (1020, 464)
    assert len(dataset['annotations']) == 1484
    assert not set(train) & set(val)
    assert {n[-3:] for n in train} == {'v01', 'v02'}
    assert {n[-3:] for n in val} == {'v03'}
    by_name = annotations_by_name()
    for split in (train, val):
        assert sorted({by_name[n]['label'] for n in split}) == list(range(10))
    assert dataset['meta']['class_names'] == list(CLASS_NAMES)
    assert len(CLASS_NAMES) == 10


@requires_nw_ucla
def test_real_tuning_split_is_a_subject_split_of_the_training_views():
    train = set(names('xview_train'))
    tune_train, tune_val = names('xview_tunetrain'), names('xview_tuneval')
    assert (len(tune_train), len(tune_val)) == (829, 191)
    # a partition of the training views; view 3 (the test split) untouched
    assert set(tune_train) | set(tune_val) == train
    assert not set(tune_train) & set(tune_val)
    assert not (set(tune_train) | set(tune_val)) & set(names('xview_val'))
    by_name = annotations_by_name()
    assert {by_name[n]['subject'] for n in tune_val} == {9, 10}
    assert {by_name[n]['subject'] for n in tune_train} == set(range(1, 9))
    for split in (tune_train, tune_val):
        assert sorted({by_name[n]['label'] for n in split}) == list(range(10))
        assert {by_name[n]['view'] for n in split} == {1, 2}


@requires_nw_ucla
def test_real_labels_match_file_names_and_shapes():
    label_of_action = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 8: 6, 9: 7,
                       11: 8, 12: 9}
    for ann in converted()[0]['annotations']:
        action = int(re.match(r'a(\d\d)_', ann['frame_dir']).group(1))
        assert ann['label'] == label_of_action[action], ann['frame_dir']
        kp = ann['keypoint']
        assert kp.dtype == np.float32
        assert kp.shape == (1, ann['total_frames'], 20, 3)
        assert np.isfinite(kp).all()
    # the order of the class names is the order of the action ids
    assert CLASS_NAMES[label_of_action[8]] == 'donning'
    assert CLASS_NAMES[label_of_action[12]] == 'carry'


@requires_nw_ucla
def test_real_single_frame_sequences_are_kept():
    by_name = annotations_by_name()
    for name in SINGLE_FRAME:
        assert by_name[name]['total_frames'] == 1
        assert by_name[name]['keypoint'].shape == (1, 1, 20, 3)
    assert SINGLE_FRAME[0] in names('xview_train')
    assert SINGLE_FRAME[1] in names('xview_val')
    lines = nw_ucla._quirks(converted()[0]['annotations'])
    assert any('single-frame' in line and SINGLE_FRAME[0] in line
               for line in lines)


@requires_nw_ucla
def test_real_values_are_the_json_values():
    from tests.datasets.nw_ucla_data import NW_UCLA_DIR
    name = 'a04_s04_e02_v01'  # has a frame with zero joints, kept as is
    with open(NW_UCLA_DIR / f'{name}.json') as f:
        raw = np.asarray(json.load(f)['skeletons'], dtype=np.float32)
    ann = annotations_by_name()[name]
    np.testing.assert_array_equal(ann['keypoint'][0], raw)
    assert (ann['keypoint'][0] == 0).all(-1).any()


# --------------------------------------------------------------------------
# Hand-made files
# --------------------------------------------------------------------------
def _skeleton(frames: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (frames, 20, 3)).round(4).tolist()


def _write(folder, name, content, raw=False):
    path = folder / f'{name}.json'
    path.write_text(content if raw else json.dumps(content))
    return path


@pytest.fixture
def good_folder(tmp_path):
    """Three good files (views 1, 2, 3), written in reverse name order."""
    folder = tmp_path / 'all_sqe'
    folder.mkdir()
    for i, name in enumerate(['a12_s02_e01_v03', 'a08_s01_e00_v02',
                              'a01_s01_e00_v01']):
        action = int(name[1:3])
        _write(folder, name, dict(file_name=name, label=ACTION_TO_LABEL[
            action], skeletons=_skeleton(5 + i, seed=i)))
    return folder


def test_small_conversion_split_labels_and_order(good_folder):
    dataset, skipped = convert(str(good_folder), show_progress=False)
    assert skipped == []
    assert dataset['split'] == dict(
        xview_train=['a01_s01_e00_v01', 'a08_s01_e00_v02'],
        xview_val=['a12_s02_e01_v03'],
        xview_tunetrain=['a01_s01_e00_v01', 'a08_s01_e00_v02'],
        xview_tuneval=[])
    labels = {a['frame_dir']: a['label'] for a in dataset['annotations']}
    assert labels == {'a01_s01_e00_v01': 0, 'a08_s01_e00_v02': 6,
                      'a12_s02_e01_v03': 9}
    ann = dataset['annotations'][0]
    assert (ann['action'], ann['subject'], ann['repetition'], ann['view']) \
        == (1, 1, 0, 1)


def test_output_is_deterministic(good_folder, tmp_path, capsys):
    first, second = tmp_path / 'a.pkl', tmp_path / 'b.pkl'
    assert main(['--data-root', str(good_folder), '--out', str(first),
                 '--no-progress']) == 0
    # a file added and removed again changes nothing
    extra = _write(good_folder, 'a05_s03_e00_v01', dict(
        file_name='a05_s03_e00_v01', label=5, skeletons=_skeleton(3)))
    extra.unlink()
    assert main(['--data-root', str(good_folder), '--out', str(second),
                 '--no-progress']) == 0
    assert first.read_bytes() == second.read_bytes()
    out = capsys.readouterr().out
    assert 'xview_train: 2 samples' in out
    assert 'xview_val: 1 samples' in out
    assert 'differ from the standard cross-view protocol' in out


def test_bad_out_is_refused_before_reading(good_folder, tmp_path, capsys):
    # a directory as --out: refused at once, nothing converted
    (tmp_path / 'out.pkl').mkdir()
    assert main(['--data-root', str(good_folder), '--out',
                 str(tmp_path / 'out.pkl'), '--no-progress']) == 2
    err = capsys.readouterr().err
    assert '--out' in err and 'is a directory' in err


def test_help_has_a_full_example(capsys):
    with pytest.raises(SystemExit) as exit_info:
        nw_ucla.parse_args(['--help'])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert 'python data_prep/nw_ucla.py --data-root' in text
    assert '--out data/skeleton/nw_ucla_3d.pkl' in text
    assert '--strict' in text


def test_single_frame_file_is_kept(tmp_path):
    name = 'a02_s09_e04_v02'
    _write(tmp_path, name, dict(file_name=name, label=2,
                                skeletons=_skeleton(1)))
    ann = load_sequence(str(tmp_path / f'{name}.json'))
    assert ann['total_frames'] == 1
    assert ann['keypoint'].shape == (1, 1, 20, 3)


BAD_INPUTS = {
    # case: (file name, content or raw text, words the message must have)
    'no_skeletons': ('a01_s02_e00_v01', dict(file_name='a01_s02_e00_v01',
                                             label=1),
                     ['no "skeletons" field']),
    'nan': ('a01_s02_e00_v01', dict(
        file_name='a01_s02_e00_v01', label=1,
        skeletons=[[[0.0, 0.0, 0.0]] * 20, [[0.0, float('nan'), 0.0]] * 20]),
        ['NaN', 'frame 1, joint 0']),
    'empty': ('a01_s02_e00_v01', dict(file_name='a01_s02_e00_v01', label=1,
                                      skeletons=[]), ['empty sequence']),
    'joint_count': ('a01_s02_e00_v01', dict(
        file_name='a01_s02_e00_v01', label=1,
        skeletons=[[[0.0, 0.0, 0.0]] * 20, [[0.0, 0.0, 0.0]] * 19]),
        ['frame 1 has 19 joints', 'expected 20']),
    'coordinate_count': ('a01_s02_e00_v01', dict(
        file_name='a01_s02_e00_v01', label=1,
        skeletons=[[[0.0, 0.0]] * 20]), ['expected 3 numbers']),
    'label_out_of_range': ('a01_s02_e00_v01', dict(
        file_name='a01_s02_e00_v01', label=11, skeletons=_skeleton(2)),
        ['label 11 is out of range', '1..10']),
    'label_not_matching_name': ('a08_s02_e00_v01', dict(
        file_name='a08_s02_e00_v01', label=8, skeletons=_skeleton(2)),
        ['label 8 does not match the file name', 'a08 is label 7']),
    'file_name_field': ('a01_s02_e00_v01', dict(
        file_name='a01_s02_e00_v02', label=1, skeletons=_skeleton(2)),
        ['"file_name" is']),
    'bad_file_name': ('walk_01', dict(label=4, skeletons=_skeleton(2)),
                      ['is not aAA_sSS_eEE_vVV']),
    'unknown_action': ('a07_s02_e00_v01', dict(label=7,
                                               skeletons=_skeleton(2)),
                       ['a07 is not an NW-UCLA action']),
    'bad_view': ('a01_s02_e00_v04', dict(label=1, skeletons=_skeleton(2)),
                 ['view v04']),
    'not_json': ('a01_s02_e00_v01', '{"skeletons": [[[1, 2', ['not readable '
                                                              'JSON']),
    'nested_too_deep': ('a01_s02_e00_v01', '[' * 100000 + ']' * 100000,
                        ['nested too deeply']),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_is_skipped_and_listed(case, good_folder, tmp_path,
                                         capsys):
    name, content, words = BAD_INPUTS[case]
    _write(good_folder, name, content, raw=isinstance(content, str))
    out = tmp_path / 'out.pkl'
    assert main(['--data-root', str(good_folder), '--out', str(out),
                 '--no-progress']) == 0
    text = capsys.readouterr().out
    assert 'skipped 1 bad file(s):' in text
    listed = text.split('skipped 1 bad file(s):')[1]
    assert f'{name}.json' in listed
    for word in words:
        assert word in listed
    with open(out, 'rb') as f:
        dataset = pickle.load(f)
    assert len(dataset['annotations']) == 3
    assert name not in [a['frame_dir'] for a in dataset['annotations']]


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_stops_with_strict_and_writes_nothing(
        case, good_folder, tmp_path, capsys):
    name, content, words = BAD_INPUTS[case]
    _write(good_folder, name, content, raw=isinstance(content, str))
    out = tmp_path / 'out.pkl'
    assert main(['--data-root', str(good_folder), '--out', str(out),
                 '--strict', '--no-progress']) == 1
    err = capsys.readouterr().err
    assert f'{name}.json' in err
    for word in words:
        assert word in err
    assert 'nothing written' in err
    assert not out.exists()
    assert list(tmp_path.glob('*.tmp')) == [] and \
        list(tmp_path.glob('.*.tmp')) == []


def test_strict_failure_keeps_an_existing_output(good_folder, tmp_path):
    out = tmp_path / 'out.pkl'
    out.write_bytes(b'previous')
    _write(good_folder, 'a01_s02_e00_v01', dict(label=1, skeletons=[]))
    assert main(['--data-root', str(good_folder), '--out', str(out),
                 '--strict', '--no-progress']) == 1
    assert out.read_bytes() == b'previous'


def test_error_without_usable_files(tmp_path, capsys):
    empty = tmp_path / 'empty'
    empty.mkdir()
    out = tmp_path / 'out.pkl'
    assert main(['--data-root', str(empty), '--out', str(out)]) == 1
    assert 'no .json files' in capsys.readouterr().err
    _write(empty, 'a01_s02_e00_v01', dict(label=1, skeletons=[]))
    assert main(['--data-root', str(empty), '--out', str(out)]) == 1
    assert 'none of the 1 files could be used' in capsys.readouterr().err
    assert not out.exists()
    assert main(['--data-root', str(tmp_path / 'missing'), '--out',
                 str(out)]) == 1
    assert 'no such folder' in capsys.readouterr().err


def test_load_sequence_errors_name_the_file(tmp_path):
    path = _write(tmp_path, 'a01_s02_e00_v01', [1, 2, 3])
    with pytest.raises(NWUCLAError, match=re.escape(str(path))):
        load_sequence(str(path))
