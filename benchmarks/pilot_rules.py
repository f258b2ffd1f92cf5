"""Apply the pilot's decision rules of docs/protocol.md to the tuning rows.

Prints the P1 choices (passes, then frames) as shell assignments, so a
script can chain the pilot's steps without a person reading the numbers
in between, and exits 3 while a rule still lacks the rows it needs::

    python benchmarks/pilot_rules.py passes   # -> PASSES=40
    python benchmarks/pilot_rules.py frames   # -> FRAMES=32 (given PASSES)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

TUNE_ROWS = Path(__file__).parent / 'results' / 'nw-ucla_tune.jsonl'
PILOT_SEEDS = (0, 1, 2)
MARGIN = 0.01  # "more than 1 point" / "within 1 point", as a fraction


def baseline_top1(rows: list[dict], passes: int, frames: int) -> list[float]:
    """Top-1 of the pilot seeds' baseline rows at one schedule, seed order."""
    by_seed = {r['seed']: r['top1'] for r in rows
               if r['variant'] == 'baseline' and r['passes'] == passes
               and r['frames'] == frames and r['seed'] in PILOT_SEEDS}
    return [by_seed[s] for s in PILOT_SEEDS if s in by_seed]


def mean_top1(rows: list[dict], passes: int, frames: int) -> float | None:
    """Mean baseline top-1 over the pilot seeds; None while one is missing."""
    top1 = baseline_top1(rows, passes, frames)
    return statistics.mean(top1) if len(top1) == len(PILOT_SEEDS) else None


def choose_passes(rows: list[dict]) -> int | None:
    """20 unless the 40-pass mean is more than 1 point above the 20-pass
    mean (52 frames); None while either schedule lacks a seed."""
    short, long = mean_top1(rows, 20, 52), mean_top1(rows, 40, 52)
    if short is None or long is None:
        return None
    return 40 if long - short > MARGIN else 20


def choose_frames(rows: list[dict], passes: int) -> int | None:
    """32 if its mean is within 1 point of 52's at the chosen passes."""
    full, short = mean_top1(rows, passes, 52), mean_top1(rows, passes, 32)
    if full is None or short is None:
        return None
    return 32 if short >= full - MARGIN else 52


def describe_rules(rows: list[dict]) -> str:
    """The P1 rules applied, as report sentences with the means."""
    passes = choose_passes(rows)
    if passes is None:
        return ('P1 rule (20 passes unless 40 passes is more than 1 point '
                'better in the mean over seeds 0-2): not decided yet, runs '
                'missing.')
    short, long = 100 * mean_top1(rows, 20, 52), 100 * mean_top1(rows, 40, 52)
    text = (f'P1 rule: 40 passes {long:.2f} % vs 20 passes {short:.2f} % '
            f'({long - short:+.2f} points), so **{passes} passes**.')
    frames = choose_frames(rows, passes)
    if frames is None:
        return text + (f' Frames rule (32 replaces 52 if within 1 point at '
                       f'{passes} passes): not decided yet, runs missing.')
    full = 100 * mean_top1(rows, passes, 52)
    fewer = 100 * mean_top1(rows, passes, 32)
    return text + (f' Frames rule: 32 frames {fewer:.2f} % vs 52 frames '
                   f'{full:.2f} % ({fewer - full:+.2f} points), so '
                   f'**{frames} frames**.')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('rule', choices=['passes', 'frames'])
    parser.add_argument('--rows', type=Path, default=TUNE_ROWS)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.rows.read_text().splitlines()
            if line.strip()]
    passes = choose_passes(rows)
    if passes is None:
        print('P1 passes: not all pilot seeds have finished', file=sys.stderr)
        return 3
    if args.rule == 'passes':
        print(f'PASSES={passes}')
        return 0
    frames = choose_frames(rows, passes)
    if frames is None:
        print(f'P1 frames: the 32-frame rows at {passes} passes are missing',
              file=sys.stderr)
        return 3
    print(f'FRAMES={frames}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
