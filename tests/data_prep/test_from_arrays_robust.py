"""data_prep/from_arrays.py on hostile input (issue 12, items 3, 10, 11):
V and C by the majority, no silent replacement of a good output, one line
per bad file instead of a crash."""
import json
import pickle

import numpy as np
import pytest

from data_prep.from_arrays import SequenceError, convert, main, read_labels


def _folder(tmp_path, shapes, labels_text=None):
    data = tmp_path / 'seqs'
    data.mkdir()
    rows = ['name,label,split']
    for i, (name, shape) in enumerate(shapes.items()):
        np.save(data / f'{name}.npy', np.zeros(shape, np.float32))
        rows.append(f'{name},{i % 2},{"train" if i % 2 == 0 else "val"}')
    (data / 'labels.csv').write_text(labels_text or '\n'.join(rows) + '\n')
    return data


def test_odd_first_file_does_not_decide_v(tmp_path):
    # 'a' (7 joints) comes first; the three others have 25
    data = _folder(tmp_path, dict(a=(4, 7, 3), b=(4, 25, 3), c=(4, 25, 3),
                                  d=(4, 25, 3)))
    dataset, skipped, _ = convert(str(data), str(data / 'labels.csv'),
                                  show_progress=False)
    assert [a['frame_dir'] for a in dataset['annotations']] == ['b', 'c', 'd']
    assert dataset['meta']['num_joints'] == 25
    assert len(skipped) == 1 and 'a.npy: 7 joints x 3 channels, expected ' \
        '25 x 3 (like 3 of the 4 sequences' in skipped[0]
    # --num-joints chooses
    dataset, _, _ = convert(str(data), str(data / 'labels.csv'),
                            num_joints=7, show_progress=False)
    assert [a['frame_dir'] for a in dataset['annotations']] == ['a']


def test_existing_output_not_replaced_by_a_worse_one(tmp_path, capsys):
    data = _folder(tmp_path, dict(a=(4, 25, 3), b=(4, 25, 3), c=(4, 25, 3),
                                  d=(4, 25, 3)))
    out = tmp_path / 'out.pkl'
    args = ['--data-root', str(data), '--labels', str(data / 'labels.csv'),
            '--out', str(out), '--no-progress']
    assert main(args) == 0
    good = out.read_bytes()
    # the val files go bad: the new output would lose the split 'val'
    for name in ('b', 'd'):
        (data / f'{name}.npy').write_bytes(b'')
    assert main(args) == 1
    assert "lost the split(s) ['val']" in capsys.readouterr().err
    assert out.read_bytes() == good
    assert main(args + ['--force']) == 0
    assert set(pickle.loads(out.read_bytes())['split']) == {'train'}


def test_bad_files_are_one_line_each(tmp_path):
    data = _folder(tmp_path, dict(a=(4, 25, 3), b=(4, 25, 3), e=(4, 25, 3)))
    (data / 'b.npy').write_bytes(b'')  # 0 bytes
    (data / 'c.json').write_text('[' * 100000 + ']' * 100000)
    (data / 'a.json').write_text(json.dumps(np.zeros((4, 25, 3)).tolist()))
    with open(data / 'labels.csv', 'a') as f:
        f.write('c,0,train\n')
    dataset, skipped, _ = convert(str(data), str(data / 'labels.csv'),
                                  show_progress=False)
    assert [a['frame_dir'] for a in dataset['annotations']] == ['e']
    text = '\n'.join(skipped)
    assert 'both a.npy and a.json' in text
    assert 'b.npy: not readable as a [T, V, C] array (EOFError' in text
    assert 'c.json: not readable as a [T, V, C] array (RecursionError' \
        in text


def test_labels_csv_encodings_and_digits(tmp_path):
    path = tmp_path / 'labels.csv'
    path.write_bytes('\ufeffname,label,split\nä,1,train\n'.encode('utf-8'))
    rows, problems = read_labels(str(path))
    assert rows == [(2, 'ä', 1, 'train')] and problems == []
    path.write_bytes('name,label,split\nä,1,train\n'.encode('cp1252'))
    with pytest.raises(SequenceError, match=r'labels\.csv: the labels CSV '
                       r"is not UTF-8 \(byte b'\\xe4' at offset 17\)"):
        read_labels(str(path))
    path.write_text('name,label,split\na,\u0663,train\nb,\u00b2,train\n',
                    encoding='utf-8')
    rows, problems = read_labels(str(path))
    assert rows == [] and len(problems) == 2
    assert 'is not a non-negative int' in problems[1]
