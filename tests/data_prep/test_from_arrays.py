"""data_prep/from_arrays.py: a folder of .npy/.json sequences + a labels CSV
-> PoseDataset pickle; every bad row named, skipped or (--strict) fatal."""
import json
import pickle

import numpy as np
import pytest

from data_prep import from_arrays
from data_prep.from_arrays import SequenceError, convert, load_array, main


def _write_csv(folder, rows, header='name,label,split'):
    path = folder / 'labels.csv'
    path.write_text('\n'.join([header] + [','.join(map(str, r))
                                          for r in rows]) + '\n')
    return path


@pytest.fixture
def folder(tmp_path):
    """Four sequences in the three accepted forms, plus an unlisted file."""
    data = tmp_path / 'seqs'
    data.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        'a': rng.normal(size=(5, 7, 3)),             # [T, V, C]
        'b': rng.normal(size=(2, 6, 7, 3)),          # [M, T, V, C]
        'c': rng.normal(size=(4, 7, 3)),             # JSON, bare lists
        'd': rng.normal(size=(3, 7, 3)),             # JSON, "keypoint"
    }
    np.save(data / 'a.npy', arrays['a'])
    np.save(data / 'b.npy', arrays['b'])
    (data / 'c.json').write_text(json.dumps(arrays['c'].tolist()))
    (data / 'd.json').write_text(json.dumps(dict(
        keypoint=arrays['d'].tolist())))
    np.save(data / 'unlisted.npy', arrays['a'])
    _write_csv(data, [('a', 0, 'train'), ('b', 1, 'train'), ('c', 1, 'val'),
                      ('d', 0, 'val')])
    return data, arrays


def test_conversion(folder):
    data, arrays = folder
    dataset, skipped, ignored = convert(str(data), str(data / 'labels.csv'),
                                        show_progress=False)
    assert skipped == []
    assert [p.split('/')[-1] for p in ignored] == ['unlisted.npy']
    assert dataset['split'] == dict(train=['a', 'b'], val=['c', 'd'])
    by_name = {a['frame_dir']: a for a in dataset['annotations']}
    for name, array in arrays.items():
        ann = by_name[name]
        want = array if array.ndim == 4 else array[None]
        assert ann['keypoint'].dtype == np.float32
        np.testing.assert_allclose(ann['keypoint'], want, rtol=1e-6)
        assert ann['total_frames'] == want.shape[1]
    assert [by_name[n]['label'] for n in 'abcd'] == [0, 1, 1, 0]
    assert dataset['meta']['num_joints'] == 7
    assert dataset['meta']['channels'] == 3


def test_cli_is_deterministic_and_summarises(folder, tmp_path, capsys):
    data, _ = folder
    args = ['--data-root', str(data), '--labels', str(data / 'labels.csv'),
            '--no-progress', '--class-names', 'still,wave']
    assert main(args + ['--out', str(tmp_path / 'x.pkl')]) == 0
    assert main(args + ['--out', str(tmp_path / 'y.pkl')]) == 0
    assert (tmp_path / 'x.pkl').read_bytes() == \
        (tmp_path / 'y.pkl').read_bytes()
    out = capsys.readouterr().out
    assert 'train: 2 samples, 2 classes' in out
    assert '7 joints x 3 channels' in out
    assert 'ignored 1 file(s) not in' in out and 'unlisted.npy' in out
    with open(tmp_path / 'x.pkl', 'rb') as f:
        assert pickle.load(f)['meta']['class_names'] == ['still', 'wave']


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        from_arrays.parse_args(['--help'])
    assert 'python data_prep/from_arrays.py --data-root' in \
        capsys.readouterr().out


BAD_ROWS = {
    # case: (how to break row 'e', words the message must have)
    'missing_file': (None, ['no e.npy or e.json']),
    'nan': (np.full((3, 7, 3), np.nan), ['NaN', 'e.npy']),
    'empty': (np.zeros((0, 7, 3)), ['empty sequence', 'e.npy']),
    'wrong_joints': (np.zeros((3, 9, 3)), ['9 joints x 3 channels',
                                           'expected 7 x 3']),
    'wrong_channels': (np.zeros((3, 7, 2)), ['7 joints x 2 channels']),
    'wrong_ndim': (np.zeros((3, 7)), ['shape [3, 7]', '[T, V, C]']),
    'bad_label': ('label', ['label', 'x1', 'non-negative int']),
    'duplicate': ('duplicate', ["duplicate name 'a'"]),
}


def _break(data, case):
    broken, _ = BAD_ROWS[case]
    rows = [('a', 0, 'train'), ('b', 1, 'train'), ('c', 1, 'val'),
            ('d', 0, 'val')]
    if isinstance(broken, np.ndarray):
        np.save(data / 'e.npy', broken)
    if isinstance(broken, str) and broken == 'label':
        rows.append(('e', 'x1', 'val'))
        np.save(data / 'e.npy', np.zeros((3, 7, 3)))
    elif isinstance(broken, str) and broken == 'duplicate':
        rows.append(('a', 0, 'val'))
    else:
        rows.append(('e', 1, 'val'))
    _write_csv(data, rows)


@pytest.mark.parametrize('case', sorted(BAD_ROWS))
def test_bad_row_is_skipped_and_listed(case, folder, tmp_path, capsys):
    data, _ = folder
    _break(data, case)
    out = tmp_path / 'out.pkl'
    assert main(['--data-root', str(data), '--labels',
                 str(data / 'labels.csv'), '--out', str(out),
                 '--no-progress']) == 0
    text = capsys.readouterr().out
    listed = text.split('skipped 1 bad row(s):')[1]
    for word in BAD_ROWS[case][1]:
        assert word in listed
    with open(out, 'rb') as f:
        assert len(pickle.load(f)['annotations']) == 4


@pytest.mark.parametrize('case', sorted(BAD_ROWS))
def test_bad_row_stops_with_strict(case, folder, tmp_path, capsys):
    data, _ = folder
    _break(data, case)
    out = tmp_path / 'out.pkl'
    assert main(['--data-root', str(data), '--labels',
                 str(data / 'labels.csv'), '--out', str(out), '--strict',
                 '--no-progress']) == 1
    err = capsys.readouterr().err
    for word in BAD_ROWS[case][1]:
        assert word in err
    assert 'nothing written' in err
    assert not out.exists()


def test_required_shape_and_header(folder, tmp_path):
    data, _ = folder
    with pytest.raises(SequenceError, match='expected 25 x 3'):
        convert(str(data), str(data / 'labels.csv'), num_joints=25,
                strict=True, show_progress=False)
    bad_header = _write_csv(tmp_path, [('a', 0)], header='name,label')
    with pytest.raises(SequenceError, match=r"missing \['split'\]"):
        convert(str(data), str(bad_header), show_progress=False)


def test_load_array_json_without_keypoint(tmp_path):
    path = tmp_path / 'x.json'
    path.write_text(json.dumps(dict(points=[[1, 2, 3]])))
    with pytest.raises(SequenceError, match='needs a "keypoint"'):
        load_array(str(path))
