"""benchmarks/grid_rules.py: the main grid's seed rule (12 seeds, then
blocks of 4 up to 20 while the primary CI is wider than +-1.5 points)."""
import json
import subprocess
import sys

from benchmarks import grid_rules


def grid_rows(diffs, sf='sfhead_branch', passes=40, frames=32):
    out = []
    for seed, d in enumerate(diffs):
        out.append(dict(variant='baseline', seed=seed, passes=passes,
                        frames=frames, top1=0.80))
        out.append(dict(variant=sf, seed=seed, passes=passes, frames=frames,
                        top1=0.80 + d / 100))
    return out


def planned(diffs):
    return grid_rules.planned_seeds(grid_rules.primary_diffs(
        grid_rows(diffs), 'sfhead_branch', 40, 32))


def test_twelve_seeds_while_they_are_not_all_in():
    assert planned([]) == 12
    assert planned([10.0, -10.0] * 5) == 12  # wide, but only 10 seeds


def test_narrow_interval_stops_at_twelve_whatever_the_mean():
    assert planned([1.0, -1.0] * 6) == 12
    assert planned([-5.0, -6.0] * 6) == 12  # large effect, narrow CI


def test_wide_interval_adds_blocks_of_four_up_to_twenty():
    wide = [3.0, -3.0] * 6  # sd 3.13: half-width 1.99 at n=12
    assert planned(wide) == 16
    # 16 seeds, sd 2.68: half-width 1.43
    assert planned(wide + [0.0] * 4) == 16
    assert planned(wide + [3.0, -3.0] * 2) == 20  # still wide at 16
    assert planned([9.0, -9.0] * 10) == 20  # capped


def test_other_schedules_and_variants_are_ignored():
    rows = grid_rows([3.0, -3.0] * 6) + grid_rows([0.0] * 12, passes=20)
    diffs = grid_rules.primary_diffs(rows, 'sfhead_branch+tau=0.03', 40, 32)
    assert diffs == {}


def test_cli(tmp_path):
    path = tmp_path / 'rows.jsonl'
    path.write_text(''.join(json.dumps(r) + '\n'
                            for r in grid_rows([3.0, -3.0] * 6)))
    cmd = [sys.executable, grid_rules.__file__, 'seeds', '--sf',
           'sfhead_branch', '--rows', str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '16'
    out = subprocess.run(cmd[:-1] + [str(tmp_path / 'none.jsonl')],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '12'


def test_a_failed_seed_counts_as_finished_without_a_difference():
    rows = grid_rows([1.0, -1.0] * 6)
    rows[0]['top1'] = None  # seed 0's baseline diverged
    diffs = grid_rules.primary_diffs(rows, 'sfhead_branch', 40, 32)
    assert diffs[0] is None and len(diffs) == 12
    assert grid_rules.planned_seeds(diffs) == 12
