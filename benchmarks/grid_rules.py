"""The main grid's seed rule of docs/protocol.md, in code.

The grid starts with 12 seeds (0-11). When they are all in and the 95%
CI of the primary comparison (SF-Head branch minus baseline, paired by
seed) is wider than +-1.5 points, 4 more seeds are added, up to 20. The
rule looks only at the interval's width, never at the sign or size of the
mean difference, so it cannot steer the result::

    python benchmarks/grid_rules.py seeds --sf 'sfhead_branch'  # -> 12
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stats import paired_difference  # noqa: E402

TEST_ROWS = Path(__file__).parent / 'results' / 'nw-ucla_test.jsonl'
FIRST_SEEDS = 12
SEED_BLOCK = 4
MAX_SEEDS = 20
HALF_WIDTH_TARGET = 1.5  # points: "decisive" in the terms


def primary_diffs(rows: list[dict], sf: str, passes: int,
                  frames: int) -> dict[int, float | None]:
    """seed -> (SF branch - baseline) top-1 in points, at one schedule;
    None where either run failed (a row with ``top1`` None)."""
    by_variant: dict[str, dict] = {'baseline': {}, sf: {}}
    for r in rows:
        if (r['variant'] in by_variant and r['passes'] == passes
                and r['frames'] == frames):
            by_variant[r['variant']][r['seed']] = r['top1']
    base, head = by_variant['baseline'], by_variant[sf]
    return {s: None if base[s] is None or head[s] is None else
            100 * (head[s] - base[s]) for s in sorted(set(base) & set(head))}


def planned_seeds(diffs: dict[int, float | None]) -> int:
    """How many seeds (0..n-1) the grid needs, given the paired differences
    finished so far (None: a failed seed, finished but without a
    difference): 12, plus blocks of 4 while the CI over the planned seeds
    is wider than the target (at most 20)."""
    planned = FIRST_SEEDS
    while planned < MAX_SEEDS:
        done = [diffs[s] for s in range(planned) if s in diffs]
        if len(done) < planned:
            break  # the planned seeds are not all in yet
        values = [d for d in done if d is not None]
        if len(values) >= 2 and \
                paired_difference(values).half <= HALF_WIDTH_TARGET:
            break
        planned += SEED_BLOCK
    return planned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('rule', choices=['seeds'])
    parser.add_argument('--sf', required=True,
                        help="the SF-Head branch variant of the grid")
    parser.add_argument('--passes', type=int, default=40)
    parser.add_argument('--frames', type=int, default=32)
    parser.add_argument('--rows', type=Path, default=TEST_ROWS)
    args = parser.parse_args()
    rows = ([json.loads(line) for line in args.rows.read_text().splitlines()
             if line.strip()] if args.rows.exists() else [])
    print(planned_seeds(primary_diffs(rows, args.sf, args.passes,
                                      args.frames)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
