"""tools/ensemble.py on hand-made score files."""
import subprocess
import sys

import numpy as np
import pytest

from sfhead_mm.evaluation import ScoreFileError, save_scores
from tests.conftest import REPO, subprocess_env
from tools.ensemble import ensemble

LABELS = np.array([0, 1, 2, 1])
IDS = ['s0', 's1', 's2', 's3']
# joint is right on samples 0 and 1; bone on 2 and 3
JOINT = np.array([[.9, .1, 0], [.2, .7, .1], [.5, .3, .2], [.6, .35, .05]])
BONE = np.array([[.3, .4, .3], [.5, .4, .1], [.1, .1, .8], [.1, .8, .1]])


@pytest.fixture
def score_files(tmp_path):
    j, b = tmp_path / 'j.pkl', tmp_path / 'b.pkl'
    save_scores(str(j), JOINT, LABELS, IDS)
    save_scores(str(b), BONE, LABELS, IDS)
    return str(j), str(b)


def test_fused_accuracy_matches_hand_computation(score_files):
    table = ensemble(list(score_files), weights=[0.6, 0.6])
    fused = 0.6 * JOINT + 0.6 * BONE
    expected = float(np.mean(fused.argmax(1) == LABELS))
    assert table['fused']['top1'] == pytest.approx(expected)
    assert table[score_files[0]]['top1'] == pytest.approx(0.5)
    assert table[score_files[1]]['top1'] == pytest.approx(0.5)
    # by hand (x 1/0.6): s0 [1.2 .5 .3] -> 0, s1 [.7 1.1 .2] -> 1,
    # s2 [.6 .4 1.0] -> 2, s3 [.7 1.15 .15] -> 1: the fusion gets all four
    assert expected == 1.0


def test_preset_weights_are_the_published_ones(score_files):
    table = ensemble(list(score_files), preset='ctrgcn')
    assert [table[p]['weight'] for p in score_files] == [0.6, 0.6]
    table = ensemble(list(score_files), preset='mmaction')
    assert [table[p]['weight'] for p in score_files] == [2.0, 2.0]


def test_mismatched_files_are_refused(tmp_path, score_files):
    short = tmp_path / 'short.pkl'
    save_scores(str(short), JOINT[:3], LABELS[:3], IDS[:3])
    with pytest.raises(ScoreFileError, match='3 samples.*4'):
        ensemble([score_files[0], str(short)])
    classes = tmp_path / 'classes.pkl'
    save_scores(str(classes), JOINT[:, :2], LABELS, IDS)
    with pytest.raises(ScoreFileError, match='2 classes'):
        ensemble([score_files[0], str(classes)])
    order = tmp_path / 'order.pkl'
    save_scores(str(order), BONE, LABELS, ['s1', 's0', 's2', 's3'])
    with pytest.raises(ScoreFileError, match="sample 0 .*'s1'"):
        ensemble([score_files[0], str(order)])
    not_scores = tmp_path / 'x.pkl'
    not_scores.write_bytes(b'\x80\x04K\x01.')
    with pytest.raises(ScoreFileError, match='not a sfhead_mm score file'):
        ensemble([score_files[0], str(not_scores)])


def test_cli_prints_table_and_errors_cleanly(score_files, tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/ensemble.py', *score_files, '--preset',
         'ctrgcn'], capture_output=True, text=True, cwd=REPO,
        env=subprocess_env())
    assert result.returncode == 0, result.stderr
    assert 'fused' in result.stdout and '0.6' in result.stdout
    result = subprocess.run(
        [sys.executable, 'tools/ensemble.py', score_files[0],
         str(tmp_path / 'missing.pkl')], capture_output=True, text=True,
        cwd=REPO, env=subprocess_env())
    assert result.returncode == 1
    assert 'missing.pkl' in result.stderr and 'Traceback' not in result.stderr
