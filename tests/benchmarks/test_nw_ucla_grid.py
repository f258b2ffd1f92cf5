"""The NW-UCLA evidence runner on a tiny grid of the real data, and the
report generated from its results."""
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, subprocess_env

DATA = REPO.parent / 'shared' / 'data' / 'nw_ucla'
pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f'NW-UCLA data not found at {DATA}')


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=REPO, env=subprocess_env(),
                          timeout=900)


def test_tiny_grid_results_and_report(tmp_path):
    results = tmp_path / 'results.jsonl'
    grid = ['benchmarks/nw_ucla.py', '--variants', 'baseline',
            'sfhead_branch', 'sf_tau_0.5', '--seeds', '0', '--epochs', '1',
            '--subset',
            '24', '--base-channels', '32', '--results', str(results),
            '--work-root', str(tmp_path / 'work'), '--data', str(DATA)]
    result = run(*grid)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r['variant'] for r in rows] == ['baseline', 'sfhead_branch',
                                            'sf_tau_0.5']
    for row in rows:
        assert row['seed'] == 0 and row['num_test'] == 24
        assert 0 <= row['top1'] <= 1 and 0 <= row['mean_class_acc'] <= 1
        assert len(row['per_class']) == 10
        assert row['wall_time_s'] > 0
        # the fully resolved config the run used (MMEngine's dump)
        assert 'indices=24' in row['config']
        assert "type='CTRGCN'" in row['config']
    assert "placement='branch'" in rows[1]['config']
    assert 'tau=0.5' in rows[2]['config']
    assert 'sf_head' not in rows[0]['config']
    # a rerun skips the finished runs
    result = run(*grid)
    assert result.returncode == 0
    assert result.stdout.count('done, skipped') == 3
    assert len(results.read_text().splitlines()) == 3
    # the report is generated from the results file
    out = tmp_path / 'docs' / 'benchmarks.md'
    result = run('benchmarks/report.py', '--results', str(results), '--cost',
                 str(tmp_path / 'no_cost.json'), '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    page = out.read_text()
    top1 = 100 * rows[0]['top1']
    assert f'| CTR-GCN (baseline) | 1 | {top1:.2f} |' in page
    assert '| + SF-Head, branch | 1 |' in page
    assert 'python benchmarks/nw_ucla.py' in page
    assert '94.4' in page  # the published reference point
    # the ablation against the default SF branch on the same seed
    diff = 100 * (rows[2]['top1'] - rows[1]['top1'])
    assert f'| SF branch, tau 0.5 | 0 | {diff:+.2f} ({diff:+.2f}) |' in page
    assert 'so the defaults stay (placement=' in page
    assert (out.parent / 'benchmarks_per_class.png').read_bytes()[:4] == \
        b'\x89PNG'
