"""benchmarks/pilot_rules.py: the protocol's P1 rules on hand-made rows,
at and around their 1-point margins, and the exit code while rows are
missing."""
import json
import subprocess
import sys

import pytest

from benchmarks import pilot_rules


def rows(passes, frames, top1s, variant='baseline'):
    return [dict(variant=variant, seed=s, passes=passes, frames=frames,
                 top1=t) for s, t in enumerate(top1s)]


@pytest.mark.parametrize('long_top1, expected', [
    ([0.760, 0.760, 0.760], 40),   # +1.5 points: more than 1 -> 40
    ([0.752, 0.752, 0.752], 20),   # +0.7 points: not enough -> 20
    ([0.700, 0.700, 0.700], 20),   # worse -> 20
])
def test_passes_rule(long_top1, expected):
    short = rows(20, 52, [0.745, 0.745, 0.745])
    assert pilot_rules.choose_passes(short + rows(40, 52, long_top1)) \
        == expected


def test_passes_rule_waits_for_all_seeds_and_ignores_other_rows():
    short = rows(20, 52, [0.745, 0.745, 0.745])
    long = rows(40, 52, [0.9, 0.9])  # seed 2 missing
    noise = rows(40, 52, [0.0, 0.0, 0.0], variant='sfhead_branch')
    assert pilot_rules.choose_passes(short + long + noise) is None


@pytest.mark.parametrize('short_top1, expected', [
    ([0.77, 0.77, 0.77], 32),   # 0.5 points below 52 frames: within 1
    ([0.80, 0.80, 0.80], 32),   # better
    ([0.76, 0.76, 0.76], 52),   # 1.5 points below: keep 52
])
def test_frames_rule(short_top1, expected):
    base = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3)
    assert pilot_rules.choose_frames(
        base + rows(40, 32, short_top1), passes=40) == expected


def test_cli_prints_shell_assignments_and_exits_3_when_incomplete(tmp_path):
    path = tmp_path / 'rows.jsonl'
    done = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3)
    path.write_text(''.join(json.dumps(r) + '\n' for r in done))
    cmd = [sys.executable, pilot_rules.__file__, '--rows', str(path)]
    out = subprocess.run(cmd + ['passes'], capture_output=True, text=True)
    assert (out.returncode, out.stdout.strip()) == (0, 'PASSES=40')
    out = subprocess.run(cmd + ['frames'], capture_output=True, text=True)
    assert out.returncode == 3 and '32-frame rows' in out.stderr


def test_report_sentence_names_means_and_choices():
    base = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3)
    text = pilot_rules.describe_rules(base)
    assert '77.50 % vs 20 passes 74.50 % (+3.00 points), so **40 passes**' \
        in text and 'Frames rule' in text and 'not decided yet' in text
    text = pilot_rules.describe_rules(base + rows(40, 32, [0.76] * 3))
    assert '32 frames 76.00 % vs 52 frames 77.50 % (-1.50 points), so ' \
        '**52 frames**' in text


def sf_rows(top1s: dict, span=1.5):
    out = rows(40, 32, [0.775] * 3)
    for variant, t in top1s.items():
        for seed in (0, 1, 2):
            out.append(dict(variant=variant, seed=seed, passes=40, frames=32,
                            top1=t, last_pass=dict(sf_red_logit_span=span)))
    return out


ALTS = pilot_rules.SF_ALTERNATIVES


def test_sf_rule_keeps_defaults_unless_an_alternative_wins_by_1_point():
    even = {pilot_rules.SF_DEFAULT: 0.78, **{v: 0.785 for v in ALTS}}
    assert pilot_rules.choose_sf(sf_rows(even), 40, 32)['choice'] == \
        'sfhead_branch'
    one = dict(even, **{ALTS[1]: 0.795})  # tau 0.03: +1.5 points
    assert pilot_rules.choose_sf(sf_rows(one), 40, 32)['choice'] == ALTS[1]
    two = dict(one, **{ALTS[0]: 0.80})
    decided = pilot_rules.choose_sf(sf_rows(two), 40, 32)
    assert decided['choice'] is None and decided['switches'] == list(ALTS[:2])
    partial = sf_rows(even)[:-1]  # one seed of one setting missing
    assert pilot_rules.choose_sf(partial, 40, 32)['choice'] is None


def test_sf_rule_adds_alpha_2_when_the_span_stays_below_1():
    even = {pilot_rules.SF_DEFAULT: 0.78, **{v: 0.78 for v in ALTS}}
    flat = pilot_rules.choose_sf(sf_rows(even, span=0.9), 40, 32)
    assert flat['alpha_2'] and flat['choice'] is None
    assert flat['missing'] == [pilot_rules.SF_ALPHA_2]
    tried = dict(even, **{pilot_rules.SF_ALPHA_2: 0.80})
    assert pilot_rules.choose_sf(sf_rows(tried, span=0.9), 40, 32)[
        'choice'] == pilot_rules.SF_ALPHA_2
    steep = pilot_rules.choose_sf(sf_rows(even, span=1.2), 40, 32)
    assert not steep['alpha_2'] and steep['choice'] == 'sfhead_branch'


def test_sf_rule_sentence():
    base = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3) + \
        rows(40, 32, [0.775] * 3)
    even = {pilot_rules.SF_DEFAULT: 0.78, **{v: 0.785 for v in ALTS}}
    done = base + sf_rows(even, span=1.5)[3:]  # without its baseline rows
    assert pilot_rules.describe_sf_rule(done).endswith(
        'so **sfhead_branch**.')
    assert 'not decided yet, 4 of 4 settings lack a seed' in \
        pilot_rules.describe_sf_rule(base)
    assert pilot_rules.describe_sf_rule(rows(20, 52, [0.7] * 3)) == \
        'P2 rule: waits for P1.'


def test_cli_needs_alpha_2_exit_code(tmp_path):
    path = tmp_path / 'rows.jsonl'
    even = {pilot_rules.SF_DEFAULT: 0.78, **{v: 0.78 for v in ALTS}}
    cmd = [sys.executable, pilot_rules.__file__, '--rows', str(path),
           'needs-alpha-2']
    for span, code in ((0.9, 0), (1.2, 1)):
        done = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3) + \
            sf_rows(even, span=span)
        path.write_text(''.join(json.dumps(r) + '\n' for r in done))
        assert subprocess.run(cmd, capture_output=True).returncode == code


def test_sf_rule_runs_the_combination_of_several_winners():
    two = {pilot_rules.SF_DEFAULT: 0.78, ALTS[0]: 0.80, ALTS[1]: 0.795,
           ALTS[2]: 0.78}
    waiting = pilot_rules.choose_sf(sf_rows(two), 40, 32)
    combo = 'sfhead_branch+phi=printed+tau=0.03'
    assert waiting['combination'] == combo and waiting['choice'] is None
    # within 1 point of the best single switch (phi, 80.0): the combination
    good = pilot_rules.choose_sf(sf_rows(dict(two, **{combo: 0.791})),
                                 40, 32)
    assert good['choice'] == combo
    # more than 1 point below it: the best single switch
    bad = pilot_rules.choose_sf(sf_rows(dict(two, **{combo: 0.789})), 40, 32)
    assert bad['choice'] == ALTS[0]
    assert pilot_rules.choose_sf(sf_rows(
        {pilot_rules.SF_DEFAULT: 0.78, **{v: 0.78 for v in ALTS}}),
        40, 32)['combination'] is None


def test_cli_combination(tmp_path):
    path = tmp_path / 'rows.jsonl'
    cmd = [sys.executable, pilot_rules.__file__, '--rows', str(path)]
    p1 = rows(20, 52, [0.745] * 3) + rows(40, 52, [0.775] * 3)
    two = {pilot_rules.SF_DEFAULT: 0.78, ALTS[0]: 0.80, ALTS[1]: 0.795,
           ALTS[2]: 0.78}
    path.write_text(''.join(json.dumps(r) + '\n'
                            for r in p1 + sf_rows(two)))
    out = subprocess.run(cmd + ['combination'], capture_output=True,
                         text=True)
    assert (out.returncode, out.stdout.strip()) == (
        0, "COMBINATION='sfhead_branch+phi=printed+tau=0.03'")
    assert subprocess.run(cmd + ['sf'], capture_output=True).returncode == 3
    combo = sf_rows({'sfhead_branch+phi=printed+tau=0.03': 0.80})[3:]
    path.write_text(''.join(json.dumps(r) + '\n'
                            for r in p1 + sf_rows(two) + combo))
    out = subprocess.run(cmd + ['sf'], capture_output=True, text=True)
    assert out.stdout.strip() == "SF='sfhead_branch+phi=printed+tau=0.03'"
