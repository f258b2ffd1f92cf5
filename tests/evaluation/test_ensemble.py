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


# --------------------------------------------------------------------------
# The six-stream preset (InfoGCN's ensemble.py: position 1.5, motion 1)
# --------------------------------------------------------------------------
SIX = ['k1', 'k2', 'k8', 'k1-motion', 'k2-motion', 'k8-motion']


@pytest.fixture
def six_score_files(tmp_path):
    rng = np.random.default_rng(0)
    scores = rng.random((6, 4, 3))
    paths = []
    for stream, s in zip(SIX, scores):
        path = tmp_path / f'{stream}.pkl'
        save_scores(str(path), s, LABELS, IDS)
        paths.append(str(path))
    return paths, scores


def test_infogcn_preset_is_six_streams_position_then_motion():
    from sfhead_mm.evaluation.scores import ENSEMBLE_PRESETS, ENSEMBLE_STREAMS
    assert ENSEMBLE_STREAMS['infogcn'] == SIX
    assert ENSEMBLE_PRESETS['infogcn'] == [1.5, 1.5, 1.5, 1.0, 1.0, 1.0]
    assert set(ENSEMBLE_STREAMS) == set(ENSEMBLE_PRESETS)
    for name, weights in ENSEMBLE_PRESETS.items():
        assert len(weights) == len(ENSEMBLE_STREAMS[name])
    # each stream has its config, named by the stream
    for stream in SIX:
        assert (REPO / 'configs/ctrgcn_sixstream' /
                f'ctrgcn_8xb16-{stream}-u100-80e_ntu60-xsub-keypoint-3d.py'
                ).is_file(), stream


def test_infogcn_preset_fuses_six_files(six_score_files):
    paths, scores = six_score_files
    table = ensemble(paths, preset='infogcn')
    assert [table[p]['weight'] for p in paths] == [1.5] * 3 + [1.0] * 3
    fused = 1.5 * scores[:3].sum(0) + scores[3:].sum(0)
    assert table['fused']['top1'] == pytest.approx(
        float(np.mean(fused.argmax(1) == LABELS)))
    assert table['fused']['weight'] == pytest.approx(7.5)


def test_infogcn_preset_refuses_extra_and_mismatched_files(
        six_score_files, tmp_path):
    paths, scores = six_score_files
    extra = tmp_path / 'extra.pkl'
    save_scores(str(extra), scores[0], LABELS, IDS)
    with pytest.raises(ScoreFileError,
                       match=r"'infogcn' has weights for k1, k2, k8, "
                       r'k1-motion, k2-motion, k8-motion \(6 files.*got 7'):
        ensemble(paths + [str(extra)], preset='infogcn')
    shuffled = tmp_path / 'shuffled.pkl'
    save_scores(str(shuffled), scores[5], LABELS, ['s0', 's2', 's1', 's3'])
    with pytest.raises(ScoreFileError, match=r"sample 1 .*'s2'"):
        ensemble(paths[:5] + [str(shuffled)], preset='infogcn')
    other_split = tmp_path / 'other_split.pkl'
    save_scores(str(other_split), scores[5][:2], LABELS[:2], IDS[:2])
    with pytest.raises(ScoreFileError, match='2 samples'):
        ensemble(paths[:5] + [str(other_split)], preset='infogcn')
    with pytest.raises(ScoreFileError, match='same score file'):
        ensemble(paths[:5] + [paths[0]], preset='infogcn')


def test_cli_infogcn_preset(six_score_files):
    paths, _ = six_score_files
    result = subprocess.run(
        [sys.executable, 'tools/ensemble.py', *paths, '--preset', 'infogcn'],
        capture_output=True, text=True, cwd=REPO, env=subprocess_env())
    assert result.returncode == 0, result.stderr
    assert 'fused' in result.stdout and '1.50' in result.stdout
    assert '7.50' in result.stdout
