"""benchmarks/report.py on hand-made rows: the main-grid comparisons,
Holm, the verdict, look-alike pairs and the per-class plot."""
import json

import numpy as np
import pytest

from benchmarks import report, report_diagnostics, report_grid
from benchmarks.stats import holm, paired_difference, t_interval

NAMES = ['pick up with one hand', 'pick up with two hands', 'drop trash',
         'walk around', 'sit down', 'stand up', 'donning', 'doffing',
         'throw', 'carry']
SCHEDULE = dict(dataset='nw-ucla', split='test', passes=20, warmup=2,
                frames=52, batch=16, lr=0.1, weight_decay=0.0001,
                base_channels=32, subset=0)


def row(variant, seed, top1, swaps=0):
    """A row with 10 clips per class; ``swaps`` clips of 'donning' are
    predicted 'doffing'."""
    cm = np.eye(10, dtype=int) * 10
    cm[6, 6] -= swaps
    cm[6, 7] += swaps
    per_class = {n: cm[i, i] / 10 for i, n in enumerate(NAMES)}
    return dict(SCHEDULE, variant=variant, seed=seed, top1=top1,
                per_class=per_class, confusion=cm.tolist())


def write(path, rows):
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)


def grid(base, gains, swaps=(3, 1)):
    rows = [row('baseline', s, b, swaps=swaps[0]) for s, b in enumerate(base)]
    for variant, gain in gains.items():
        name = 'sfhead_branch+tau=0.03' if variant == 'sfhead_branch' else \
            variant
        rows += [row(name, s, b + g, swaps=swaps[1])
                 for s, (b, g) in enumerate(zip(base, gain))]
    return rows


def render(tmp_path, rows):
    out = tmp_path / 'docs' / 'benchmarks.md'
    return report.main([
        '--test', write(tmp_path / 't.jsonl', rows),
        '--tune', str(tmp_path / 'no.jsonl'), '--demo',
        str(tmp_path / 'no.jsonl'), '--short-pilot',
        str(tmp_path / 'no.jsonl'), '--cost', str(tmp_path / 'no.json'),
        '--out', str(out)]), out


BASE = [0.80, 0.82, 0.78, 0.81] * 3
GAINS = dict(sfhead_branch=[0.02, 0.03, 0.025, 0.02] * 3,
             sfhead_inline=[0.01, -0.01, 0.0, 0.02] * 3,
             frhead=[-0.01, 0.0, 0.01, -0.02] * 3)


def test_main_grid_comparisons_verdict_pairs_and_plot(tmp_path):
    page, out = render(tmp_path, grid(BASE, GAINS))
    results = {v: paired_difference([100 * x for x in g])
               for v, g in GAINS.items()}
    adjusted = holm({v: r.p_t for v, r in results.items()})
    sf = results['sfhead_branch']
    low, high = t_interval([100 * x for x in GAINS['sfhead_branch']],
                           1 - 0.05 / 3)
    assert (f'| + SF-Head, branch (tau=0.03) vs baseline | primary | 12 | '
            f'{sf.mean:+.2f} [{sf.ci_low:+.2f}, {sf.ci_high:+.2f}] | '
            f'[{low:+.2f}, {high:+.2f}] | {sf.p_t:.4f} | '
            f'{sf.p_sign_flip:.4f} | {adjusted["sfhead_branch"]:.4f} |') \
        in page
    assert '| + FR-Head vs baseline | secondary | 12 |' in page
    verdict = (f'SF-Head (branch) improves CTR-GCN on NW-UCLA: '
               f'{sf.mean:+.2f} points [{sf.ci_low:+.2f}, '
               f'{sf.ci_high:+.2f}] over 12 seeds.')
    assert adjusted['sfhead_branch'] < 0.05
    assert page.count(verdict) == 2  # at the top and in the grid section
    # look-alike pairs: donning/doffing 3 of 20 clips in the baseline, 1 in
    # each head; pooled over the five pairs (100 clips): 3 % and 1 %
    assert '| donning / doffing | 15.00 ± 0.00 (sd 0.00, n=12) | 5.00' in page
    pooled = report_grid.POOLED
    assert f'| {pooled} | 3.00 ± 0.00 (sd 0.00, n=12) | 1.00' in page
    assert (f'| {report_grid.POOLED} | -2.00 [-2.00, -2.00] | -2.00 [-2.00, '
            '-2.00] | -2.00 [-2.00, -2.00] |') in page
    assert 'Lowers look-alike confusion (pooled 95% CI below 0): + SF-Head' \
        in page
    assert (out.parent / 'benchmarks_per_class.png').read_bytes()[:4] == \
        b'\x89PNG'
    # inline's gains are not significant: branch stays the default
    assert "**Defaults.** The branch placement helps, so by the" in page
    # every run's top-1, by seed, in the order of the comparisons
    assert ('| seed | CTR-GCN (baseline) | + SF-Head, branch (tau=0.03) | '
            '+ SF-Head, inline | + FR-Head |') in page
    assert '| 1 | 82.00 | 85.00 | 81.00 | 82.00 |' in page
    base = paired_difference([100 * b for b in BASE])
    assert (f'| mean | {base.mean:.2f} ± {base.half:.2f} (sd {base.sd:.2f}, '
            'n=12) |') in page


@pytest.mark.parametrize('branch,inline,words', [
    (False, True, "`placement='inline'` becomes the default"),
    (False, False, 'Neither placement helps significantly'),
    (True, True, "The branch placement helps")])
def test_defaults_rule_picks_the_placement(branch, inline, words):
    assert words in report_grid.defaults_sentence(branch, inline)


def test_inline_becomes_the_default_when_only_inline_helps(tmp_path):
    gains = dict(GAINS, sfhead_branch=GAINS['sfhead_inline'],
                 sfhead_inline=GAINS['sfhead_branch'])
    page, _ = render(tmp_path, grid(BASE, gains))
    assert "**Defaults.** The inline placement helps and the branch" in page


def test_no_verdict_before_the_planned_seeds_are_in(tmp_path):
    short = {v: g[:4] for v, g in GAINS.items()}
    page, _ = render(tmp_path, grid(BASE[:4], short))
    assert ('The main grid is in progress (4 of 12 planned seeds are in '
            'for all three comparisons, which Holm corrects together), so '
            'no claim is made yet.') in page
    assert 'improves' not in page and '**Defaults.**' not in page


def test_no_verdict_while_a_secondary_comparison_lacks_a_seed(tmp_path):
    # the primary has its 12 seeds, inline only 11: Holm's adjustment of
    # the primary p-value is not final, so neither verdict nor defaults
    rows = [r for r in grid(BASE, GAINS)
            if not (r['variant'] == 'sfhead_inline' and r['seed'] == 11)]
    page, _ = render(tmp_path, rows)
    assert '| + SF-Head, branch (tau=0.03) vs baseline | primary | 12 |' \
        in page
    assert 'in progress (11 of 12 planned seeds' in page
    assert 'improves' not in page and '**Defaults.**' not in page


def test_a_failed_run_is_listed_and_left_out(tmp_path):
    rows = grid(BASE, GAINS)
    rows[0] = dict(rows[0], top1=None, failed='non-finite loss at '
                   'iteration 7', per_class=None, confusion=None)
    page, _ = render(tmp_path, rows)
    assert '- CTR-GCN (baseline), seed 0: non-finite loss at iteration 7' \
        in page
    assert '| 0 |  | 82.00 | 81.00 | 79.00 |' in page  # no baseline top-1
    assert '| + SF-Head, branch (tau=0.03) vs baseline | primary | 11 |' \
        in page
    # 12 seeds finished (one without a difference): the verdict is given
    assert 'over 11 seeds' in page and 'in progress' not in page


@pytest.mark.parametrize('gain,words', [
    ([0.01, -0.01, 0.0, 0.005] * 3, 'does not measurably help'),
    ([0.05, -0.05, 0.0, 0.005] * 3, 'is inconclusive'),
    ([-0.03, -0.02, -0.025, -0.03] * 3, 'makes CTR-GCN worse')])
def test_verdict_says_plainly_when_the_head_does_not_help(gain, words):
    res = paired_difference([100 * g for g in gain])
    sentence = report_grid.verdict_sentence(res, holm(dict(a=res.p_t))['a'],
                                       planned=12, finished=12)
    assert words in sentence
    assert report_grid.verdict_sentence(paired_difference([1.0]), None,
                                   planned=12, finished=1) \
        .startswith('The main grid is in progress (1 of 12')


def test_commands_name_each_variant_with_its_own_seeds():
    rows = [row('baseline', s, 0.8) for s in (0, 1, 2)] + [
        row('sfhead_branch+lambda_con=0+lambda_red=0', 0, 0.8),
        row('sfhead_branch', 0, 0.8), row('sfhead_branch', 1, 0.8),
        row('sfhead_branch', 2, 0.8)]
    lines = report.commands(rows)
    assert len(lines) == 2
    assert lines[0].endswith('--seeds 0 --variants '
                             "'sfhead_branch+lambda_con=0+lambda_red=0'")
    assert lines[1].endswith('--seeds 0 1 2 --variants baseline '
                             'sfhead_branch')
    assert '--passes 20 --warmup 2 --frames 52' in lines[0]


def test_diagnostics_section_from_diagnose_sf_json(tmp_path):
    results = [
        dict(run_dir='w/baseline_seed0_abc', model='RecognizerGCN',
             sf_head=None, effective_rank=dict(b0=16.0, b1=32.0),
             channels=dict(b0=32, b1=64), head={}, gradients=None),
        dict(run_dir='w/sfhead_branch_seed0_def', model='SFRecognizerGCN',
             sf_head={}, effective_rank=dict(b0=8.0, b1=48.0),
             channels=dict(b0=32, b1=64),
             head=dict(b0=dict(abs_w_t=0.5, abs_w_s=0.25,
                               temporal_gate_std=0.1, spatial_gate_std=0.2,
                               channel_gate_std=0.3),
                       b1=dict(abs_w_t=0.7, abs_w_s=0.35,
                               temporal_gate_std=0.3, spatial_gate_std=0.4,
                               channel_gate_std=0.5)),
             gradients=dict(sf_over_ce=0.5, cosine=-0.1))]
    path = tmp_path / 'diag.json'
    path.write_text(json.dumps(results))
    lines = report_diagnostics.diagnostics_section(str(path))
    rows = [line for line in lines if line.startswith('| `')]
    assert rows[0].startswith('| `baseline_seed0_abc` | 0.50 0.50 | 0.500 |')
    assert rows[1] == ('| `sfhead_branch_seed0_def` | 0.25 0.75 | 0.500 | '
                       '0.600, 0.300 | 0.200, 0.300, 0.400 | 0.500 | '
                       '-0.100 |')
    assert all(r.count('|') == 8 for r in rows)  # 7 cells, like the header
    # paired by seed: mean share 0.5 in both runs
    assert ('Mean effective-rank share, SF-Head minus baseline at the same '
            'seed: +0.000 (seed 0); mean +0.000.') in lines
    assert 'Not run yet' in report_diagnostics.diagnostics_section(
        str(tmp_path / 'none.json'))[2]


def test_gradient_share_section_table_plot_and_same_run_check(tmp_path):
    log = [dict(iter=20 * k, epoch=1 + k // 3, aux_over_cls=0.1 / (k + 1),
                cosine=0.05 - 0.01 * k, aux_grad_norm=1.0,
                cls_grad_norm=1.0) for k in range(1, 40)]
    row = dict(SCHEDULE, split='tune', passes=40, variant='sfhead_branch',
               seed=0, top1=0.7749, threads=1, epoch_seed=True,
               gradient_share=log)
    # the P2 rows came from code that recorded neither threads nor seeding
    p2 = [dict(SCHEDULE, split='tune', passes=40, variant='sfhead_branch',
               seed=s, top1=t) for s, t in ((1, 0.70), (0, 0.7644))]
    png = tmp_path / 'g.png'
    lines = report_diagnostics.gradient_share_section([row], p2, str(png))
    first = [g for g in log if g['epoch'] <= 2]
    assert (f'| + SF-Head, branch, seed 0 (top-1 77.49 %; P2 row: 76.44 %) '
            f'| 1-2 | {np.mean([g["aux_over_cls"] for g in first]):.3f} | '
            f'{np.mean([g["cosine"] for g in first]):+.3f} |') in lines
    assert any(line.startswith('|  | 11-20 |') for line in lines)
    assert png.read_bytes()[:4] == b'\x89PNG'
    assert 'Not run yet' in report_diagnostics.gradient_share_section(
        [], [], str(png))[2]


def test_diagnostics_show_the_gradient_at_start_and_end(tmp_path):
    result = dict(run_dir='w/sf', effective_rank=dict(b0=8.0),
                  channels=dict(b0=32), head={},
                  gradients=dict(sf_over_ce=0.006, cosine=-0.016),
                  gradients_at_start=dict(sf_over_ce=0.4, cosine=0.02))
    path = tmp_path / 'diag.json'
    path.write_text(json.dumps([result]))
    row = [line for line in report_diagnostics.diagnostics_section(str(path))
           if line.startswith('| `')][0]
    assert row.endswith('| 0.400 -> 0.006 | +0.020 -> -0.016 |')


def test_cpu_time_leaves_out_resumed_runs():
    rows = [dict(train_cpu_s=1000.0, resumed_from=None),
            dict(train_cpu_s=1200.0, resumed_from=None),
            dict(train_cpu_s=300.0, resumed_from='epoch_28.pth')]
    assert report.whole_run_cpu(rows) == '1100 (1 resumed run(s) left out)'
    assert report.whole_run_cpu(rows[2:]) == \
        'n/a (1 resumed run(s) left out)'
    # a row with the hook's total counts, resumed or not
    total = dict(train_cpu_s=300.0, resumed_from='epoch_28.pth',
                 train_cpu_s_total=1300.0)
    assert report.whole_run_cpu(rows[:2] + [total]) == '1167'


def test_verdict_says_when_the_sign_flip_test_disagrees():
    # 5 seeds, all positive: t-test p < 0.05, but the exact sign-flip test
    # cannot go below 2 / 2^5 = 0.0625
    res = paired_difference([1.0, 1.2, 0.9, 1.1, 1.0])
    assert res.p_t < 0.05 and res.p_sign_flip == pytest.approx(0.0625)
    sentence = report_grid.verdict_sentence(res, res.p_t, planned=5,
                                            finished=5)
    assert sentence.startswith('SF-Head (branch) improves')
    assert sentence.endswith('(the sign-flip test disagrees at 0.05: p = '
                             '0.0625).')


def test_readme_quotes_the_page_verdict_word_for_word(tmp_path):
    # the repository's README and page agree now ...
    from tests.conftest import REPO
    page = (REPO / 'docs' / 'benchmarks.md').read_text()
    verdict = [line for line in page.splitlines()
               if line.startswith('**Verdict.** ')][0][len('**Verdict.** '):]
    assert f'\n> {verdict}\n' in (REPO / 'README.md').read_text()
    # ... and report.py keeps them so
    readme = tmp_path / 'README.md'
    readme.write_text(f'intro\n\nsays. {report.VERDICT_MARKER}\n\n> old '
                      'verdict\n\nmore\n')
    report.sync_readme_verdict(str(readme), 'New verdict.')
    assert readme.read_text() == (f'intro\n\nsays. {report.VERDICT_MARKER}'
                                  '\n\n> New verdict.\n\nmore\n')
    readme.write_text('no marker\n')
    with pytest.raises(SystemExit, match='found 0 such lines'):
        report.sync_readme_verdict(str(readme), 'x')


def test_pilot_reports_the_grid_sizing_from_paired_differences():
    rows = [row('baseline', s, b) for s, b in enumerate([0.80, 0.78, 0.79])]
    rows += [row('sfhead_branch', s, b) for s, b in
             enumerate([0.81, 0.77, 0.80])]  # +1, -1, +1 points
    lines = report.grid_sizing_lines(report.group_runs(rows))
    sd = np.std([1.0, -1.0, 1.0], ddof=1)
    assert f'over seeds 0, 1, 2 is {sd:.2f} points' in lines[0]
    assert f'half-width of {2.201 * sd / np.sqrt(12):.2f} points' in lines[0]
