"""Apply the pilot's decision rules of docs/protocol.md to the tuning rows.

Prints the P1 choices (passes, then frames) as shell assignments, so a
script can chain the pilot's steps without a person reading the numbers
in between, and exits 3 while a rule still lacks the rows it needs::

    python benchmarks/pilot_rules.py passes   # -> PASSES=40
    python benchmarks/pilot_rules.py frames   # -> FRAMES=32 (given PASSES)
    python benchmarks/pilot_rules.py sf       # -> SF='sfhead_branch+...'
    python benchmarks/pilot_rules.py needs-alpha-2   # exit 0 if so
    python benchmarks/pilot_rules.py combination     # -> COMBINATION='...'
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


def mean_top1(rows: list[dict], passes: int, frames: int,
              variant: str = 'baseline') -> float | None:
    """Mean top-1 of ``variant`` over the pilot seeds at one schedule; None
    while a seed is missing."""
    by_seed = {r['seed']: r['top1'] for r in rows
               if r['variant'] == variant and r['passes'] == passes
               and r['frames'] == frames and r['seed'] in PILOT_SEEDS}
    if len(by_seed) < len(PILOT_SEEDS):
        return None
    return statistics.mean(by_seed.values())


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


# P2: the default settings (S0) and the one-factor alternatives
SF_DEFAULT = 'sfhead_branch'
SF_ALTERNATIVES = ('sfhead_branch+phi=printed', 'sfhead_branch+tau=0.03',
                   'sfhead_branch+lambda_con=0.4+lambda_red=0.2')
SPAN_FLOOR = 1.0  # F-RL logit span below which alpha 2 is tried
SF_ALPHA_2 = 'sfhead_branch+alpha=2.0'


def combine(variants: list[str]) -> str:
    """One variant with every field of ``variants`` (one-factor settings of
    the branch head), e.g. ``sfhead_branch+phi=printed+tau=0.03``."""
    fields = [f for v in variants for f in v.split('+')[1:]]
    return '+'.join([SF_DEFAULT] + fields)


def choose_sf(rows: list[dict], passes: int, frames: int) -> dict:
    """P2's rule: an alternative replaces S0's value only if its mean top-1
    is more than 1 point above S0's. Several winners: their combination is
    run on the same seeds and used unless it is more than 1 point below the
    best single winner (then that one is used).

    Returns:
        dict: ``switches`` (the alternatives that win), ``missing`` (settings
        without all seeds), ``combination`` (the variant combining several
        switches, else None), ``choice`` (the variant to use, or None while
        the rule cannot decide: rows missing, or the combination not run
        yet), ``alpha_2`` (True when the logit span at tau 0.03 stayed
        below 1, so alpha 2 must be tried).
    """
    spans = [r.get('last_pass', {}).get('sf_red_logit_span') for r in rows
             if r['variant'] == 'sfhead_branch+tau=0.03'
             and r['passes'] == passes and r['frames'] == frames]
    spans = [v for v in spans if v is not None]
    alpha_2 = bool(spans) and statistics.mean(spans) < SPAN_FLOOR
    alternatives = SF_ALTERNATIVES + ((SF_ALPHA_2, ) if alpha_2 else ())
    means = {v: mean_top1(rows, passes, frames, v)
             for v in (SF_DEFAULT, ) + alternatives}
    missing = [v for v, m in means.items() if m is None]
    switches = [] if means[SF_DEFAULT] is None else [
        v for v in alternatives
        if means[v] is not None and means[v] - means[SF_DEFAULT] > MARGIN]
    choice = combination = None
    if not missing:
        choice = (SF_DEFAULT if not switches else
                  switches[0] if len(switches) == 1 else None)
    if not missing and len(switches) > 1:
        combination = combine(switches)
        combined = mean_top1(rows, passes, frames, combination)
        if combined is not None:
            means[combination] = combined
            best = max(switches, key=lambda v: means[v])
            choice = (combination if combined >= means[best] - MARGIN
                      else best)
    return dict(means=means, missing=missing, switches=switches,
                combination=combination, choice=choice, alpha_2=alpha_2)


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


def describe_sf_rule(rows: list[dict]) -> str:
    """P2's rule applied, as a report sentence."""
    passes = choose_passes(rows)
    frames = None if passes is None else choose_frames(rows, passes)
    if frames is None:
        return 'P2 rule: waits for P1.'
    sf = choose_sf(rows, passes, frames)
    if sf['missing']:
        return (f'P2 rule (a setting replaces the default only if its mean '
                f'top-1 over seeds 0-2 is more than 1 point above it): not '
                f'decided yet, {len(sf["missing"])} of '
                f'{len(SF_ALTERNATIVES) + 1} settings lack a seed.')
    text = ('P2 rule: ' + ', '.join(
        f'{v} {100 * m:.2f} %' for v, m in sf['means'].items()) + '; ')
    if sf['choice'] is None:
        text += (f'several settings win ({", ".join(sf["switches"])}): '
                 f'their combination runs next.')
    elif sf['combination']:
        text += (f'several settings win ({", ".join(sf["switches"])}), '
                 f'their combination was run, so **{sf["choice"]}**.')
    else:
        text += f'so **{sf["choice"]}**.'
    if sf['alpha_2']:
        text += (' (The F-RL logit span stayed below 1 at tau 0.03, so '
                 f'{SF_ALPHA_2} is one of the settings.)')
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('rule', choices=['passes', 'frames', 'sf',
                                         'needs-alpha-2', 'combination'])
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
    if args.rule == 'frames':
        print(f'FRAMES={frames}')
        return 0
    sf = choose_sf(rows, passes, frames)
    if args.rule == 'needs-alpha-2':  # exit 0: yes, 1: no
        return 0 if sf['alpha_2'] else 1
    if args.rule == 'combination':  # exit 0: run it (printed), 1: none
        if sf['combination'] is None:
            return 1
        print(f"COMBINATION='{sf['combination']}'")
        return 0
    if sf['choice'] is None:
        why = (f'rows missing for {sf["missing"]}' if sf['missing'] else
               f'several switches {sf["switches"]}: run their combination '
               f'on the same seeds first')
        print(f'P2: undecided, {why}', file=sys.stderr)
        return 3
    print(f"SF='{sf['choice']}'")
    return 0


if __name__ == '__main__':
    sys.exit(main())
