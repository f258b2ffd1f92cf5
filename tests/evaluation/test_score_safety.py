"""Score files are read without running code, and wrong ones are refused
(issue 12, items 2, 9, 11)."""
import os
import pickle

import numpy as np
import pytest

from sfhead_mm.evaluation import ScoreFileError, load_scores, save_scores


class _Payload:
    """Unpickling this would create ``marker`` (through os.system)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def _valid(scores=None):
    scores = np.eye(3, dtype=np.float32) if scores is None else scores
    return dict(format='sfhead_mm-scores-v1', scores=scores,
                labels=np.arange(3), sample_ids=['a', 'b', 'c'], meta={})


def test_malicious_score_file_is_refused_by_both_tools(tmp_path):
    from tools import analyze_ambiguous, ensemble
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pkl'
    data = _valid()
    data['meta'] = dict(note=_Payload(marker))
    evil.write_bytes(pickle.dumps(data, protocol=4))
    good = tmp_path / 'good.pkl'
    save_scores(str(good), np.eye(3), np.arange(3), ['a', 'b', 'c'])
    calls = [lambda: load_scores(str(evil)),
             lambda: ensemble.main([str(good), str(evil)]),
             lambda: analyze_ambiguous.main([str(good), str(evil),
                                             '--out-dir', str(tmp_path)])]
    for call in calls:
        with pytest.raises(ScoreFileError,
                           match=r'evil\.pkl: refused, not loaded: it names '
                           r'posix\.system'):
            call()
    assert not marker.exists()
    assert load_scores(str(good))['scores'].shape == (3, 3)


def test_non_finite_scores_refused(tmp_path):
    scores = np.eye(3, dtype=np.float32)
    scores[1] = np.nan
    path = tmp_path / 'nan.pkl'
    path.write_bytes(pickle.dumps(_valid(scores), protocol=4))
    with pytest.raises(ScoreFileError, match=r"1 of 3 samples are NaN or "
                       r"infinite \(first: 'b'\)"):
        load_scores(str(path))


def test_one_file_given_twice_is_refused(tmp_path, monkeypatch):
    from tools.ensemble import ensemble
    save_scores(str(tmp_path / 'a.pkl'), np.eye(3), np.arange(3),
                ['a', 'b', 'c'])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScoreFileError, match='are the same score file'):
        ensemble(['a.pkl', './a.pkl'])
