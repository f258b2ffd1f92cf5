"""tools/analyze_ambiguous.py on hand-made score files."""
import numpy as np
import pytest

from sfhead_mm.evaluation import save_scores
from tools.analyze_ambiguous import main

NAMES = ['wave', 'salute', 'drink', 'eat']
LABELS = np.array([0, 0, 1, 1, 2, 2, 3, 3])


def one_hot(preds):
    return np.eye(4)[preds]


def test_per_class_change_and_confusions(tmp_path, monkeypatch):
    # A: wave 1/2 (one -> salute), salute 0/2 (both -> wave), drink 2/2,
    #    eat 2/2.  B: wave 2/2, salute 1/2, drink 1/2 (-> eat), eat 2/2.
    a = one_hot([0, 1, 0, 0, 2, 2, 3, 3])
    b = one_hot([0, 0, 1, 0, 2, 3, 3, 3])
    ids = [f's{i}' for i in range(8)]
    save_scores(str(tmp_path / 'a.pkl'), a, LABELS, ids)
    save_scores(str(tmp_path / 'b.pkl'), b, LABELS, ids)
    import sfhead_mm.datasets.class_names as cn
    monkeypatch.setitem(cn.CLASS_NAMES, 'toy', NAMES)
    result = main([str(tmp_path / 'a.pkl'), str(tmp_path / 'b.pkl'),
                   '--dataset', 'toy', '--out-dir', str(tmp_path / 'out')])
    deltas = {name: delta for name, _, _, delta, _ in result['classes']}
    assert deltas == pytest.approx(
        dict(wave=0.5, salute=0.5, drink=-0.5, eat=0.0))
    assert [c[3] for c in result['classes']] == sorted(deltas.values(),
                                                        reverse=True)
    # wave -> salute fell from .5 to 0, salute -> wave from 1.0 to .5
    # (equal drops keep the confusion matrix's row-major order)
    assert result['fell'] == [('wave', 'salute', 0.5, 0.0),
                              ('salute', 'wave', 1.0, 0.5)]
    assert ('drink', 'eat', 0.0, 0.5) in result['rose']
    png = tmp_path / 'out' / 'per_class_change.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'wave' in (tmp_path / 'out' / 'per_class_change.md').read_text()


def test_groups_restrict_the_plot_to_grouped_classes(tmp_path):
    k = 120
    labels = np.arange(k).repeat(2)
    scores = np.eye(k)[labels]
    ids = [str(i) for i in range(len(labels))]
    save_scores(str(tmp_path / 'a.pkl'), scores, labels, ids)
    save_scores(str(tmp_path / 'b.pkl'), scores, labels, ids)
    result = main([str(tmp_path / 'a.pkl'), str(tmp_path / 'b.pkl'),
                   '--dataset', 'ntu120', '--groups', 'ntu120-sfhead'])
    assert len(result['classes']) == 23
    assert {g for *_, g in result['classes']} >= {'take off/wear jacket'}
