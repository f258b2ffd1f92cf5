"""The main grid's section of the benchmark report: the comparisons fixed
in ``docs/protocol.md`` (Holm over three, the 98.3% Bonferroni interval),
the verdict by the protocol's decision rule, the look-alike pairs and the
per-class plot."""
from typing import Dict, List, Optional, Sequence, Tuple
import os.path as osp

import numpy as np

from benchmarks.grid_rules import (HALF_WIDTH_TARGET, planned_seeds,
                                   primary_diffs)
from benchmarks.variants import LABELS, parse_variant, variant_label
from benchmarks.report_tables import (SHARED, describe, diff_cell,
                                      failed_lines, group_runs,
                                      paired_diffs, points, split_failed)
from benchmarks.stats import holm, paired_difference, t_interval

#: The comparisons of the main grid, fixed in docs/protocol.md: the first
#: is the primary one; all three are Holm-corrected together.
COMPARISONS = (('sfhead_branch', 'primary'), ('sfhead_inline', 'secondary'),
               ('frhead', 'secondary'))
#: NW-UCLA look-alike pairs, fixed in docs/protocol.md before the grid.
AMBIGUOUS_PAIRS = (('pick up with one hand', 'pick up with two hands'),
                   ('drop trash', 'throw'), ('donning', 'doffing'),
                   ('sit down', 'stand up'), ('walk around', 'carry'))


Pairs = Sequence[Tuple[str, str]]


def within_pair_confusion(row: dict, names: List[str],
                          pairs: Pairs = AMBIGUOUS_PAIRS) -> Dict[str, float]:
    """Share of the clips of each look-alike pair predicted as the other
    class of the pair, and ``POOLED``: the same over all the pairs."""
    cm = np.asarray(row['confusion'], dtype=np.float64)
    out, crossed, clips = {}, 0.0, 0.0
    for a, b in pairs:
        i, j = names.index(a), names.index(b)
        total = cm[i].sum() + cm[j].sum()
        out[f'{a} / {b}'] = (cm[i, j] + cm[j, i]) / total if total else \
            np.nan
        crossed, clips = crossed + cm[i, j] + cm[j, i], clips + total
    out[POOLED] = crossed / clips if clips else np.nan
    return out


POOLED = 'all pairs, pooled'
#: Bonferroni level over the three comparisons (Holm's first step)
CORRECTED_LEVEL = 1 - 0.05 / len(COMPARISONS)


def main_grid_section(rows: List[dict], png: str) -> Tuple[List[str], str]:
    """The protocol's comparisons on the test split, and the verdict."""
    if not rows:
        verdict = ('The main grid on the test split has not run yet, so '
                   'this page makes no claim about whether SF-Head helps.')
        return ['## Main grid (test split: view 3)', '', verdict, ''], \
            verdict
    all_rows = rows
    rows, failed = split_failed(rows)
    groups = group_runs(rows)
    schedule, variants = max(groups.items(),
                             key=lambda kv: len(kv[1].get('baseline', {})))
    base = variants.get('baseline', {})
    level = f'{100 * CORRECTED_LEVEL:.1f}%'
    lines = ['## Main grid (test split: view 3)', '',
             f'Schedule: {describe(schedule)}. Differences are per seed, '
             'variant minus baseline, in points of top-1; the first '
             'interval is the 95% t-interval of the mean difference, the '
             f'second the {level} interval (Bonferroni over the three '
             'comparisons); p-values are two-sided; Holm corrects the three '
             't-test p-values together.', '',
             f'| comparison | kind | seeds | mean Δ [95% CI] | {level} CI | '
             'paired t p | sign-flip p | Holm-adjusted p (t) |',
             '|---|---|---|---|---|---|---|---|']
    # the protocol may fix head fields (e.g. 'sfhead_branch+tau=0.03'):
    # compare by base variant, the one with the most seeds if several
    by_base: Dict[str, str] = {}
    for name in sorted(variants, key=lambda v: -len(variants[v])):
        by_base.setdefault(parse_variant(name)[0], name)
    results, cells, corrected = {}, {}, {}
    for name, kind in COMPARISONS:
        if name in by_base and base:
            cells[name], results[name] = diff_cell(
                base, variants[by_base[name]])
            corrected[name] = t_interval(
                paired_diffs(base, variants[by_base[name]]),
                CORRECTED_LEVEL)
    raw = {k: r.p_t for k, r in results.items() if r is not None and
           r.p_t is not None}
    adjusted = holm(raw) if raw else {}
    fmt = (lambda p: '' if p is None else f'{p:.4f}')
    for name, kind in COMPARISONS:
        r = results.get(name)
        if r is None:
            lines.append(f'| {LABELS[name]} vs baseline | {kind} | 0 | not '
                         'run | | | | |')
            continue
        low, high = corrected[name]
        wide = '' if low is None else f'[{low:+.2f}, {high:+.2f}]'
        lines.append(f'| {variant_label(by_base[name])} vs baseline | '
                     f'{kind} | {r.n} | {cells[name]} | {wide} | '
                     f'{fmt(r.p_t)} | {fmt(r.p_sign_flip)} | '
                     f'{fmt(adjusted.get(name))} |')
    primary = results.get('sfhead_branch')
    # each comparison's finished seeds (failed seeds count as finished);
    # the protocol's rule plans the seeds from the primary one
    fields = dict(zip(SHARED, schedule))
    seeds_in = {name: primary_diffs(all_rows, by_base[name],
                                    fields['passes'], fields['frames'])
                if name in by_base else {} for name, _ in COMPARISONS}
    planned = planned_seeds(seeds_in['sfhead_branch'])
    # Holm adjusts the three p-values together, so neither the verdict nor
    # the defaults rule is read before every comparison has its seeds
    finished = min(len(diffs) for diffs in seeds_in.values())
    verdict = verdict_sentence(primary, adjusted.get('sfhead_branch'),
                               planned=planned, finished=finished)
    lines += ['', f'**Verdict.** {verdict}', '']
    if finished >= planned:
        placements = {name: helps(results.get(name), adjusted.get(name))
                      for name in ('sfhead_branch', 'sfhead_inline')}
        lines += [f'**Defaults.** {defaults_sentence(**placements)}', '']
    lines += failed_lines(failed)
    lines += per_seed_table(variants, ['baseline'] + [
        by_base[name] for name, _ in COMPARISONS if name in by_base])
    names = list(next(iter(base.values()))['per_class']) if base else []
    if names:
        lines += ambiguous_table(variants, names)
        if per_class_plot(variants, names, png):
            lines += ['![per-class change](' + osp.basename(png) + ')', '']
    return lines, verdict


def per_seed_table(variants: Dict[str, Dict[int, dict]],
                   names: List[str]) -> List[str]:
    """Top-1 (%) of every finished run of the grid, a row per seed, and
    each variant's mean over its seeds (failed runs: an empty cell)."""
    names = [n for n in names if variants.get(n)]
    if not names:
        return []
    seeds = sorted(set().union(*(variants[n] for n in names)))
    lines = ['### Top-1 per seed', '',
             'Final-checkpoint top-1 on view 3 (%), the values the '
             'differences above are taken from (an empty cell: not run '
             'yet, or failed and listed above); last row: mean ± 95% CI '
             'half-width over each variant\'s seeds.', '',
             '| seed | ' + ' | '.join(variant_label(n) for n in names) +
             ' |', '|---' * (len(names) + 1) + '|']
    for seed in seeds:
        cells = [f'{100 * variants[n][seed]["top1"]:.2f}'
                 if seed in variants[n] else '' for n in names]
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    lines.append('| mean | ' + ' | '.join(
        points([r['top1'] for r in variants[n].values()]) for n in names) +
        ' |')
    return lines + ['']


def helps(result, p_holm: Optional[float]) -> bool:
    """The protocol's "helps": Holm-adjusted p < 0.05 and a positive mean
    difference."""
    return (result is not None and p_holm is not None and p_holm < 0.05
            and result.mean > 0)


def defaults_sentence(sfhead_branch: bool, sfhead_inline: bool) -> str:
    """The protocol's defaults rule, read once the grid is complete:
    which placement the package should default to, given whether each
    placement helps (Holm-adjusted p < 0.05 and a positive mean)."""
    if sfhead_branch:
        return ("The branch placement helps, so by the protocol's defaults "
                "rule `placement='branch'` and the grid's SF-Head setting "
                'are the package defaults.')
    if sfhead_inline:
        return ("The inline placement helps and the branch does not, so by "
                "the protocol's defaults rule `placement='inline'` becomes "
                'the default, with its inference cost stated beside the '
                'gain.')
    return ("Neither placement helps significantly, so by the protocol's "
            "defaults rule the default stays `placement='branch'` (no "
            'inference cost) and README says, where it introduces the '
            'head, that neither placement helped here.')


def verdict_sentence(primary, p_holm: Optional[float], planned: int = 0,
                     finished: int = 0) -> str:
    """The protocol's decision rule for the primary comparison, as one
    plain sentence; no claim before the ``planned`` seeds are all in
    (``finished``: the fewest seeds any of the three comparisons has)."""
    if primary is None or primary.n < 2 or finished < planned:
        return (f'The main grid is in progress ({finished} of {planned} '
                'planned seeds are in for all three comparisons, which '
                'Holm corrects together), so no claim is made yet.')
    ci = f'{primary.mean:+.2f} points [{primary.ci_low:+.2f}, ' \
        f'{primary.ci_high:+.2f}] over {primary.n} seeds'
    flip = ''  # the two raw tests disagree: say so beside the decision
    if (primary.p_t < 0.05) != (primary.p_sign_flip < 0.05):
        flip = (f' (the sign-flip test disagrees at 0.05: p = '
                f'{primary.p_sign_flip:.4f})')
    if helps(primary, p_holm):
        return f'SF-Head (branch) improves CTR-GCN on NW-UCLA: {ci}{flip}.'
    if p_holm is not None and p_holm < 0.05:
        return (f'SF-Head (branch) makes CTR-GCN worse on NW-UCLA: '
                f'{ci}{flip}.')
    if primary.half > HALF_WIDTH_TARGET:
        return ('The experiment is inconclusive about SF-Head (branch) on '
                f'NW-UCLA: {ci}, not significant, and the interval is wider '
                f'than ±{HALF_WIDTH_TARGET} points{flip}.')
    return ('SF-Head (branch) does not measurably help CTR-GCN on NW-UCLA: '
            f'{ci}, not significant, which rules out a gain of more than '
            f'{max(primary.ci_high, 0):.2f} points{flip}.')


def ambiguous_table(variants, names,
                    pairs: Pairs = AMBIGUOUS_PAIRS) -> List[str]:
    """Within-pair confusion per variant, and each head's paired change
    from the baseline (per pair and pooled over ``pairs``)."""
    label = (lambda v: LABELS.get(v, variant_label(v)))
    lines = ['### Look-alike pairs', '',
             'Within-pair confusion: the share of the clips of a pair '
             'predicted as the other class of the pair (lower is better), '
             'in %; mean ± 95% CI half-width over seeds.', '',
             '| pair | ' + ' | '.join(label(v) for v in variants) + ' |',
             '|---|' + '---|' * len(variants)]
    per_variant = {v: {s: within_pair_confusion(r, names, pairs)
                       for s, r in runs.items()}
                   for v, runs in variants.items()}
    keys = [f'{a} / {b}' for a, b in pairs] + [POOLED]
    for key in keys:
        cells = []
        for v in variants:
            vals = [c[key] for c in per_variant[v].values()
                    if not np.isnan(c[key])]
            cells.append(points(vals) if vals else '')
        lines.append(f'| {key} | ' + ' | '.join(cells) + ' |')
    base = per_variant.get('baseline', {})
    heads = [v for v in variants if v != 'baseline']
    if not base or not heads:
        return lines + ['']
    lines += ['', 'Change from the baseline, paired by seed (points; '
              'negative = less look-alike confusion), mean [95% CI]:', '',
              '| pair | ' + ' | '.join(label(v) for v in heads) + ' |',
              '|---|' + '---|' * len(heads)]
    lowers = []
    for key in keys:
        cells = []
        for v in heads:
            seeds = [s for s in sorted(set(base) & set(per_variant[v]))
                     if not np.isnan(base[s][key]) and
                     not np.isnan(per_variant[v][s][key])]
            if not seeds:
                cells.append('')
                continue
            res = paired_difference([100 * (per_variant[v][s][key] -
                                            base[s][key]) for s in seeds])
            cells.append(f'{res.mean:+.2f} (1 seed)' if res.n == 1 else
                         f'{res.mean:+.2f} [{res.ci_low:+.2f}, '
                         f'{res.ci_high:+.2f}]')
            if key == POOLED and res.n >= 2 and res.ci_high < 0:
                lowers.append(label(v))
        lines.append(f'| {key} | ' + ' | '.join(cells) + ' |')
    return lines + ['', 'Lowers look-alike confusion (pooled 95% CI below '
                    '0): ' + (', '.join(lowers) if lowers else 'none') + '.',
                    '']


def per_class_plot(variants, names, png: str) -> bool:
    """Per-class top-1 change of each head over the baseline, mean over
    seeds with 95% CI error bars (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from sfhead_mm.fileio import save_figure_atomic
    base = variants.get('baseline', {})
    heads = [v for v in variants if v != 'baseline' and
             len(set(variants[v]) & set(base)) >= 2]
    if not heads:
        return False
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(heads)
    for k, head in enumerate(heads):
        seeds = sorted(set(variants[head]) & set(base))
        means, halves = [], []
        for name in names:
            diffs = [100 * ((variants[head][s]['per_class'][name] or 0) -
                            (base[s]['per_class'][name] or 0))
                     for s in seeds]
            res = paired_difference(diffs)
            means.append(res.mean)
            halves.append(res.half or 0.0)
        ax.bar(np.arange(len(names)) + (k - (len(heads) - 1) / 2) * width,
               means, width, yerr=halves, capsize=2,
               label=variant_label(head))
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=40, ha='right', fontsize=8)
    ax.set_ylabel('per-class top-1 change vs baseline (points)')
    ax.set_title('Per-class change over the baseline, mean over seeds, '
                 '95% CI', fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, png)
    plt.close(fig)
    return True
