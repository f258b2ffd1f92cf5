"""No converter writes a non-finite value (issue 12, item 2): finiteness is
checked after the float32 cast, and write_dataset refuses a sample that
still holds NaN/inf; --out is checked before the conversion (item 10)."""
import numpy as np
import pytest

from data_prep.common import write_dataset
from data_prep.from_arrays import SequenceError, load_array, main


def test_finite_in_float64_but_inf_in_float32_is_refused(tmp_path):
    path = tmp_path / 'big.npy'
    array = np.zeros((4, 7, 3))
    array[2, 5, 1] = 1e300  # finite as float64, inf as float32
    np.save(path, array)
    with pytest.raises(SequenceError,
                       match=r'beyond-float32 .* frame 2, joint 5'):
        load_array(str(path))


def test_write_dataset_refuses_non_finite_samples(tmp_path, capsys):
    out = tmp_path / 'out.pkl'
    keypoint = np.zeros((1, 3, 7, 3), np.float32)
    keypoint[0, 1, 4, 2] = np.inf
    dataset = dict(split=dict(train=['a']), annotations=[dict(
        frame_dir='a', label=0, total_frames=3, keypoint=keypoint)])
    assert write_dataset(dataset, str(out)) == 1
    err = capsys.readouterr().err
    assert 'sample 0 (a): "keypoint" has 1 non-finite values, first at ' \
        '[0, 1, 4, 2]' in err
    assert not out.exists()


def test_bad_out_refused_before_converting(tmp_path, capsys):
    (tmp_path / 'labels.csv').write_text('name,label,split\n')
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    code = main(['--data-root', str(tmp_path / 'missing'), '--labels',
                 str(tmp_path / 'labels.csv'), '--out',
                 str(blocker / 'x.pkl'), '--no-progress'])
    assert code == 2
    assert 'is a file, not a directory' in capsys.readouterr().err
    # an output directory that exists is not a file name
    (tmp_path / 'dir.pkl').mkdir()
    assert main(['--data-root', str(tmp_path), '--labels',
                 str(tmp_path / 'labels.csv'), '--out',
                 str(tmp_path / 'dir.pkl'), '--no-progress']) == 2
    assert 'is a directory' in capsys.readouterr().err


@pytest.mark.parametrize('converter', ['ntu', 'pku_mmd'])
def test_dataset_converters_check_out_first(tmp_path, capsys, converter):
    import importlib
    module = importlib.import_module(f'data_prep.{converter}')
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    args = dict(ntu=['--data-root', str(tmp_path), '--dataset', 'ntu60'],
                pku_mmd=['--skeleton-dir', str(tmp_path), '--label-dir',
                         str(tmp_path), '--split-file', 'x=none.txt'])
    code = module.main(args[converter] + ['--out', str(blocker / 'o.pkl')])
    assert code == 2
    assert f'--out {blocker / "o.pkl"} cannot be created: {blocker} is a ' \
        'file' in capsys.readouterr().err


def test_ntu_frame_count_in_other_digits(tmp_path):
    from data_prep.ntu import SampleError, read_skeleton_file
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    for count in ('\u00b2', '\u0663'):  # superscript two, Arabic-Indic 3
        path.write_text(f'{count}\n', encoding='utf-8')
        with pytest.raises(SampleError, match=r':1: expected .*one integer'):
            read_skeleton_file(str(path))


CONVERTER_ARGS = dict(
    ntu=['--dataset', 'ntu60', '--data-root'],
    pku_mmd=['--split-file', 'x=none.txt', '--label-dir', '.',
             '--skeleton-dir'],
    nw_ucla=['--data-root'],
    from_arrays=['--labels', 'labels.csv', '--data-root'],
    make_demo=[])


@pytest.mark.parametrize('converter', sorted(CONVERTER_ARGS))
def test_every_converter_wants_a_pkl_and_a_writable_out(tmp_path, capsys,
                                                        converter,
                                                        monkeypatch):
    # one check (data_prep.common.check_out_arg) for all five converters
    import importlib
    module = importlib.import_module(f'data_prep.{converter}')
    monkeypatch.chdir(tmp_path)
    args = CONVERTER_ARGS[converter] + (
        [str(tmp_path / 'missing')] if CONVERTER_ARGS[converter] else [])
    assert module.main(args + ['--out', str(tmp_path / 'o.npz')]) == 2
    assert f"--out must end with .pkl (mmaction's PoseDataset reads " \
        f"pickles), got '{tmp_path / 'o.npz'}'" in capsys.readouterr().err
    (tmp_path / 'dir.pkl').mkdir()
    assert module.main(args + ['--out', str(tmp_path / 'dir.pkl')]) == 2
    assert 'is a directory' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dir.pkl']
