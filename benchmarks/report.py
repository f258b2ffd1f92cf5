"""Generate ``docs/benchmarks.md`` from the evidence runner's results
(``benchmarks/nw_ucla.py``) and the cost measurement (``tools/benchmark.py``).
No number is typed by hand: rerun the commands on the page to regenerate it.

Sections: the pilot on the tuning split (schedule, SF-Head settings, F-RL
diagnostics), the main grid on the test split (the comparisons fixed in
``docs/protocol.md``, ambiguous pairs, per-class change), the synthetic
demo set, cost, and the short 3-epoch pilot of an earlier protocol.

Example:
    python benchmarks/report.py
"""
import argparse
import json
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.nw_ucla import (LABELS, RUN_FIELDS,  # noqa: E402
                                parse_variant, variant_label)
from benchmarks.pilot_rules import (describe_rules,  # noqa: E402
                                    describe_sf_rule)
from benchmarks.grid_rules import (HALF_WIDTH_TARGET,  # noqa: E402
                                   planned_seeds, primary_diffs)
from benchmarks.stats import holm, paired_difference, t_interval  # noqa

RESULTS = osp.join(REPO, 'benchmarks', 'results')
# the cost at the evidence grid's own shape, every variant of the grid
COST_GRID_COMMAND = (
    'python tools/benchmark.py --config configs/ctrgcn/ctrgcn_sfhead_1xb16-'
    'joint-52f-65e_nw-ucla-xview-keypoint-3d.py --cfg-options '
    'model.backbone.base_channels=32 model.cls_head.in_channels=128 '
    '--batch 16 --frames 32 --persons 1 --reps 10 --threads 1 --json '
    'benchmarks/results/cost_nw-ucla.json')
#: The comparisons of the main grid, fixed in docs/protocol.md: the first
#: is the primary one; all three are Holm-corrected together.
COMPARISONS = (('sfhead_branch', 'primary'), ('sfhead_inline', 'secondary'),
               ('frhead', 'secondary'))
#: NW-UCLA look-alike pairs, fixed in docs/protocol.md before the grid.
AMBIGUOUS_PAIRS = (('pick up with one hand', 'pick up with two hands'),
                   ('drop trash', 'throw'), ('donning', 'doffing'),
                   ('sit down', 'stand up'), ('walk around', 'carry'))
# Schedule fields a comparison must share (everything but variant, seed).
SHARED = tuple(f for f in RUN_FIELDS if f not in ('variant', 'seed'))


def load_rows(path: str) -> List[dict]:
    """Rows of a results file; [] when it does not exist yet."""
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def group_runs(rows: List[dict]) -> Dict[tuple, Dict[str, Dict[int, dict]]]:
    """schedule (the shared fields) -> variant -> seed -> row."""
    groups: Dict[tuple, Dict[str, Dict[int, dict]]] = defaultdict(
        lambda: defaultdict(dict))
    for row in rows:
        groups[tuple(row.get(f) for f in SHARED)][row['variant']][
            row['seed']] = row
    return groups


def describe(schedule: tuple) -> str:
    fields = dict(zip(SHARED, schedule))
    text = (f'{fields["passes"]} passes (warm-up {fields["warmup"]}), '
            f'{fields["frames"]} frames, width {fields["base_channels"]}, '
            f'batch {fields["batch"]}, lr {fields["lr"]}, '
            f'wd {fields["weight_decay"]}')
    if fields.get('threads'):
        text += f', {fields["threads"]} thread(s)'
    return text + (f', first {fields["subset"]} clips'
                   if fields['subset'] else '')


def points(values: Sequence[float]) -> str:
    """``mean ± 95% CI half-width (n)`` in points of ``values`` (0-1)."""
    v = 100 * np.asarray(values, dtype=np.float64)
    if len(v) == 1:
        return f'{v[0]:.2f} (1 seed)'
    res = paired_difference(v)
    return f'{res.mean:.2f} ± {res.half:.2f} (sd {res.sd:.2f}, n={res.n})'


def diff_cell(base: Dict[int, dict], other: Dict[int, dict],
              measure=lambda r: r['top1']) -> Tuple[str, Optional[object]]:
    """``mean [low, high]`` of the paired differences in points."""
    seeds = sorted(set(base) & set(other))
    if not seeds:
        return 'no common seed', None
    diffs = [100 * (measure(other[s]) - measure(base[s])) for s in seeds]
    res = paired_difference(diffs)
    if res.n == 1:
        return f'{res.mean:+.2f} (1 seed)', res
    return f'{res.mean:+.2f} [{res.ci_low:+.2f}, {res.ci_high:+.2f}]', res


def whole_run_cpu(rows) -> str:
    """Mean training CPU seconds per run: ``train_cpu_s_total`` (every
    attempt, from ``TrainTimeHook``) where the row has it; otherwise only
    runs that trained in one go count (before the hook, a resumed run
    recorded only its last attempt's time)."""
    rows = list(rows)
    whole = [r['train_cpu_s_total'] if r.get('train_cpu_s_total')
             else r['train_cpu_s'] for r in rows
             if r.get('train_cpu_s_total') or not r.get('resumed_from')]
    resumed = len(rows) - len(whole)
    text = f'{np.mean(whole):.0f}' if whole else 'n/a'
    return text + (f' ({resumed} resumed run(s) left out)' if resumed
                   else '')


def pilot_section(rows: List[dict]) -> List[str]:
    """P1 (baseline by schedule) and P2 (SF-Head settings), tuning split."""
    if not rows:
        return ['## Pilot (tuning split)', '', 'Not run yet: '
                '`bash benchmarks/pilot_tune.sh passes`.', '']
    groups = group_runs(rows)
    lines = [
        '## Pilot (tuning split: subjects 1-8 -> 9-10 of views 1+2)', '',
        'Rules fixed before the runs in `docs/protocol.md`. "±" is the '
        'half-width of the 95% t-interval over seeds; brackets are the 95% '
        'interval of the paired difference.', '',
        '### P1: baseline by schedule', '',
        '| schedule | seeds | top-1 per seed (%) | top-1 (%) | train CPU '
        'time per run (s) |', '|---|---|---|---|---|']
    for schedule, variants in sorted(groups.items()):
        base = variants.get('baseline')
        if not base:
            continue
        per_seed = ', '.join(f'{100 * base[s]["top1"]:.1f}'
                             for s in sorted(base))
        lines.append(f'| {describe(schedule)} | {len(base)} | {per_seed} | '
                     f'{points([r["top1"] for r in base.values()])} | '
                     f'{whole_run_cpu(base.values())} |')
    lines += ['', describe_rules(rows), '', '### P2: SF-Head settings', '',
              '| schedule | setting | seeds | top-1 (%) | Δ vs baseline '
              '(points) | Δ vs default SF (points) | F-RL own-match rate | '
              'F-RL logit span |', '|---|---|---|---|---|---|---|---|']
    any_sf = False
    for schedule, variants in sorted(groups.items()):
        base, default = variants.get('baseline', {}), variants.get(
            'sfhead_branch', {})
        for name, runs in variants.items():
            if name == 'baseline':
                continue
            any_sf = True
            vs_base = diff_cell(base, runs)[0] if base else 'no baseline'
            vs_default = ('(itself)' if name == 'sfhead_branch' else
                          diff_cell(default, runs)[0] if default else '')
            top1 = points([r['top1'] for r in runs.values()])
            diag = [np.mean([r['last_pass'].get(k, np.nan)
                             for r in runs.values()])
                    for k in ('sf_red_top1', 'sf_red_logit_span')]
            lines.append(
                f'| {describe(schedule)} | {variant_label(name)} | '
                f'{len(runs)} | {top1} | {vs_base} | {vs_default} | '
                + ' | '.join('' if np.isnan(v) else f'{v:.3f}' for v in diag)
                + ' |')
    if not any_sf:
        lines.append('| (not run yet: `bash benchmarks/pilot_tune.sh sf`) '
                     '| | | | | | | |')
    lines += ['', describe_sf_rule(rows), '',
              'The diagnostics are the means over the last pass of the '
              'logged `sf_red_top1` (the share of clips whose own f_t is '
              'their f_s\'s best match; chance is 1/16) and '
              '`sf_red_logit_span` (max - min of m d / tau in a batch; '
              'below about 1 the F-RL softmax is nearly uniform).', '']
    return lines


def within_pair_confusion(row: dict, names: List[str]) -> Dict[str, float]:
    """Share of the clips of each look-alike pair predicted as the other
    class of the pair, and ``POOLED``: the same over all five pairs."""
    cm = np.asarray(row['confusion'], dtype=np.float64)
    out, crossed, clips = {}, 0.0, 0.0
    for a, b in AMBIGUOUS_PAIRS:
        i, j = names.index(a), names.index(b)
        total = cm[i].sum() + cm[j].sum()
        out[f'{a} / {b}'] = (cm[i, j] + cm[j, i]) / total if total else \
            np.nan
        crossed, clips = crossed + cm[i, j] + cm[j, i], clips + total
    out[POOLED] = crossed / clips if clips else np.nan
    return out


POOLED = 'all five pairs, pooled'
#: Bonferroni level over the three comparisons (Holm's first step)
CORRECTED_LEVEL = 1 - 0.05 / len(COMPARISONS)


def split_failed(rows: List[dict]) -> Tuple[List[dict], List[dict]]:
    """(finished rows, failed rows): a run that stopped on a non-finite
    loss has ``top1`` None and a ``failed`` reason."""
    return ([r for r in rows if r.get('top1') is not None],
            [r for r in rows if r.get('top1') is None])


def failed_lines(failed: List[dict]) -> List[str]:
    """The runs left out of every comparison, as the protocol asks."""
    if not failed:
        return []
    return ['Runs left out (they stopped on a non-finite loss; their seeds '
            'are left out of every comparison that needs them):', ''] + [
        f'- {variant_label(r["variant"])}, seed {r["seed"]}: '
        f'{r.get("failed", "failed")}' for r in failed] + ['']


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
            seeds = sorted(set(base) & set(variants[by_base[name]]))
            corrected[name] = t_interval(
                [100 * (variants[by_base[name]][s]['top1'] -
                        base[s]['top1']) for s in seeds], CORRECTED_LEVEL)
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
    # the seeds the protocol's rule plans (failed seeds count as finished)
    fields = dict(zip(SHARED, schedule))
    diffs = {} if 'sfhead_branch' not in by_base else primary_diffs(
        all_rows, by_base['sfhead_branch'], fields['passes'],
        fields['frames'])
    planned = planned_seeds(diffs)
    verdict = verdict_sentence(primary, adjusted.get('sfhead_branch'),
                               planned=planned, finished=len(diffs))
    lines += ['', f'**Verdict.** {verdict}', ''] + failed_lines(failed)
    names = list(next(iter(base.values()))['per_class']) if base else []
    if names:
        lines += ambiguous_table(variants, names)
        if per_class_plot(variants, names, png):
            lines += ['![per-class change](' + osp.basename(png) + ')', '']
    return lines, verdict


def verdict_sentence(primary, p_holm: Optional[float], planned: int = 0,
                     finished: int = 0) -> str:
    """The protocol's decision rule for the primary comparison, as one
    plain sentence; no claim before the ``planned`` seeds are all in."""
    if primary is None or primary.n < 2 or finished < planned:
        return (f'The main grid is in progress ({finished} of {planned} '
                'planned seeds of the primary comparison, SF-Head branch vs '
                'baseline, have finished), so no claim is made yet.')
    ci = f'{primary.mean:+.2f} points [{primary.ci_low:+.2f}, ' \
        f'{primary.ci_high:+.2f}] over {primary.n} seeds'
    flip = ''
    if p_holm is not None and (p_holm < 0.05) != (
            primary.p_sign_flip < 0.05):
        flip = (f' (the sign-flip test disagrees at 0.05: p = '
                f'{primary.p_sign_flip:.4f})')
    if p_holm is not None and p_holm < 0.05 and primary.mean > 0:
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


def ambiguous_table(variants, names) -> List[str]:
    """Within-pair confusion per variant, and each head's paired change
    from the baseline (per pair and pooled)."""
    label = (lambda v: LABELS.get(v, variant_label(v)))
    lines = ['### Look-alike pairs', '',
             'Within-pair confusion: the share of the clips of a pair '
             'predicted as the other class of the pair (lower is better), '
             'in %; mean ± 95% CI half-width over seeds.', '',
             '| pair | ' + ' | '.join(label(v) for v in variants) + ' |',
             '|---|' + '---|' * len(variants)]
    per_variant = {v: {s: within_pair_confusion(r, names)
                       for s, r in runs.items()}
                   for v, runs in variants.items()}
    keys = [f'{a} / {b}' for a, b in AMBIGUOUS_PAIRS] + [POOLED]
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


def demo_section(rows: List[dict]) -> List[str]:
    lines = ['## Synthetic demo set (controlled test, labelled synthetic)',
             '']
    if not rows:
        return lines + ['Not run yet: `bash benchmarks/main_grid.sh demo`.',
                        '']
    rows, failed = split_failed(rows)
    groups = group_runs(rows)
    lines += ['Paired by seed like the main grid; p-values two-sided, not '
              'corrected (this set is not part of the verdict).', '',
              '| schedule | variant | seeds | top-1 (%) | Δ vs baseline '
              '[95% CI] (points) | paired t p | sign-flip p |',
              '|---|---|---|---|---|---|---|']
    for schedule, variants in sorted(groups.items()):
        base = variants.get('baseline', {})
        for name, runs in variants.items():
            delta, res = ('', None) if name == 'baseline' or not base else \
                diff_cell(base, runs)
            tests = ' | '.join('' if res is None or p is None else f'{p:.4f}'
                               for p in ((res.p_t, res.p_sign_flip)
                                         if res else (None, None)))
            lines.append(f'| {describe(schedule)} | {variant_label(name)} | '
                         f'{len(runs)} | '
                         f'{points([r["top1"] for r in runs.values()])} | '
                         f'{delta} | {tests} |')
    return lines + [''] + failed_lines(failed)


def diagnostics_section(path: str) -> List[str]:
    """The figures of ``benchmarks/diagnose_sf.py`` (tuning split): channel
    diversity, the head's own parameters, the backbone gradient shares."""
    lines = ['## Diagnostics (tuning split)', '']
    if not osp.isfile(path):
        return lines + [f'Not run yet: `python benchmarks/diagnose_sf.py '
                        f'<run dirs> --json {osp.relpath(path, REPO)}`.', '']
    with open(path) as f:
        results = json.load(f)
    lines += [
        'Effective rank of each GCN block\'s output (exp of the entropy of '
        'its normalised singular values; 1 = all channels alike, C = all '
        'used equally), as a share of C, per block from first to last; '
        'SSTE weights and gate-output spreads averaged over the blocks; '
        'the SF losses\' backbone gradient norm over CE\'s, and their '
        'cosine, on training batches, with the weights the Runner started '
        'from and with the final ones.', '',
        '| run | effective rank / C per block | mean | mean abs w_t, w_s | '
        'gate output SD (temporal, spatial, channel) | SF / CE gradient, '
        'start -> end | cosine, start -> end |', '|---|---|---|---|---|---|---|']
    for r in results:
        name = osp.basename(r['run_dir'].rstrip('/'))
        share = [r['effective_rank'][k] / r['channels'][k]
                 for k in r['effective_rank']]
        head = list(r['head'].values())

        def mean_of(key):
            values = [h[key] for h in head if key in h]
            return f'{np.mean(values):.3f}' if values else ''
        weights = (f'{mean_of("abs_w_t")}, {mean_of("abs_w_s")}'
                   if head else '')
        gates = ', '.join(mean_of(f'{g}_gate_std') for g in
                          ('temporal', 'spatial', 'channel')) if head else ''
        end, start = r.get('gradients') or {}, r.get('gradients_at_start')
        grads = ' | |'
        if end:
            grads = (f'{end["sf_over_ce"]:.3f} | {end["cosine"]:+.3f} |'
                     if not start else
                     f'{start["sf_over_ce"]:.3f} -> {end["sf_over_ce"]:.3f} '
                     f'| {start["cosine"]:+.3f} -> {end["cosine"]:+.3f} |')
        lines.append(
            f'| `{name}` | {" ".join(f"{v:.2f}" for v in share)} | '
            f'{np.mean(share):.3f} | {weights} | {gates} | ' + grads)
    return lines + ['']


def gradient_share_section(rows: List[dict], tune: List[dict],
                           png: str) -> List[str]:
    """The SF losses' share of the backbone gradient over a whole training
    run (``GradientShareHook`` rows), as a plot and a table by stage."""
    lines = ['### The SF losses\' backbone gradient over training', '']
    rows = [r for r in rows if r.get('gradient_share')]
    if not rows:
        return lines + ['Not run yet: `PASSES=40 FRAMES=32 SF=sfhead_branch '
                        'FROZEN=1 FROZEN_DIR=work_dirs/frozen_main_grid bash '
                        'benchmarks/pilot_tune.sh gradient-share`.', '']
    same = {r['key']: r['top1'] for r in tune}
    lines += ['Measured every 20 iterations on that iteration\'s batch by '
              '`GradientShareHook`, which leaves training unchanged: the '
              'run\'s top-1 is the P2 row\'s at the same key.', '',
              '| run | epochs | SF / CE gradient norm | cosine |',
              '|---|---|---|---|']
    for r in rows:
        log = r['gradient_share']
        passes = r['passes']
        check = same.get(r['key'])
        label = (f'{variant_label(r["variant"])}, seed {r["seed"]} (top-1 '
                 f'{100 * r["top1"]:.2f} %; P2 row: ' +
                 ('none' if check is None else f'{100 * check:.2f} %') + ')')
        stages = [(1, 2), (3, 10), (11, 20), (21, 30), (31, passes)]
        for first, last in stages:
            part = [g for g in log if first <= g['epoch'] <= last]
            if not part:
                continue
            lines.append(
                f'| {label} | {first}-{last} | '
                f'{np.mean([g["aux_over_cls"] for g in part]):.3f} | '
                f'{np.mean([g["cosine"] for g in part]):+.3f} |')
            label = ''
    if plot_gradient_share(rows, png):
        lines += ['', '![SF / CE gradient over training](' +
                  osp.basename(png) + ')']
    return lines + ['']


def plot_gradient_share(rows: List[dict], png: str) -> bool:
    """Ratio and cosine against the iteration, one line per run (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from sfhead_mm.fileio import save_figure_atomic
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for r in rows:
        log = r['gradient_share']
        iters = [g['iter'] for g in log]
        label = f'{variant_label(r["variant"])}, seed {r["seed"]}'
        top.plot(iters, [g['aux_over_cls'] for g in log], label=label)
        bottom.plot(iters, [g['cosine'] for g in log], label=label)
    top.set_ylabel('|grad SF| / |grad CE|')
    top.set_yscale('log')
    bottom.set_ylabel('cosine(grad SF, grad CE)')
    bottom.axhline(0, color='black', linewidth=0.8)
    bottom.set_xlabel('training iteration')
    top.set_title('SF losses vs CE on the backbone, tuning split',
                  fontsize=10)
    top.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, png)
    plt.close(fig)
    return True


def short_pilot_section(rows: List[dict]) -> List[str]:
    """The 3-epoch rows of the earlier protocol, labelled as what they
    were (no decision uses them)."""
    if not rows:
        return []
    by_variant: Dict[str, Dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_variant[row['variant']][row['seed']] = row['top1']
    lines = ['## Short pilot of an earlier protocol (3 epochs, test split)',
             '', 'Kept for the record; not used for any decision. 3 passes '
             '(189 iterations) with a step schedule, width 32, and, before '
             'the same-start fix, heads built from the global random '
             'stream, so a variant and the baseline did not start from the '
             'same backbone weights at a seed: these differences mix the '
             'head with a different initialisation.', '',
             '| variant | seeds | top-1 per seed (%) |', '|---|---|---|']
    for name, seeds in by_variant.items():
        lines.append(f'| {name} | {len(seeds)} | ' + ', '.join(
            f'{100 * seeds[s]:.1f}' for s in sorted(seeds)) + ' |')
    return lines + ['']


def cost_table(path: str) -> List[str]:
    if not osp.isfile(path):
        return [f'(no cost measurement yet: its command under "Commands" '
                f'writes {osp.relpath(path, REPO)})']
    with open(path) as f:
        return json.load(f)['table'].splitlines()


def commands(rows: List[dict]) -> List[str]:
    """The runner commands that reproduce ``rows``: one per schedule and
    set of seeds, naming the variants run on exactly those seeds."""
    seeds: Dict[tuple, Dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        seeds[tuple(row.get(f) for f in SHARED)][row['variant']].add(
            row['seed'])
    lines = []
    for key, by_variant in sorted(seeds.items()):
        f = dict(zip(SHARED, key))
        same_seeds: Dict[tuple, List[str]] = defaultdict(list)
        for variant, run_seeds in by_variant.items():
            same_seeds[tuple(sorted(run_seeds))].append(variant)
        for run_seeds, variants in sorted(same_seeds.items()):
            lines.append(
                f'python benchmarks/nw_ucla.py --dataset {f["dataset"]} '
                f'--split {f["split"]} --passes {f["passes"]} --warmup '
                f'{f["warmup"]} --frames {f["frames"]} --batch {f["batch"]} '
                f'--lr {f["lr"]} --weight-decay {f["weight_decay"]} '
                f'--base-channels {f["base_channels"]}' +
                (f' --subset {f["subset"]}' if f['subset'] else '') +
                (f' --threads {f["threads"]}' if f.get('threads') else '') +
                ' --seeds ' + ' '.join(map(str, run_seeds)) +
                ' --variants ' + ' '.join(f"'{v}'" if '+' in v else v
                                          for v in sorted(variants)))
    return lines


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tune', default=osp.join(RESULTS,
                                                   'nw-ucla_tune.jsonl'))
    parser.add_argument('--test', default=osp.join(RESULTS,
                                                   'nw-ucla_test.jsonl'))
    parser.add_argument('--demo', default=osp.join(RESULTS,
                                                   'demo_test.jsonl'))
    parser.add_argument('--short-pilot', default=osp.join(
        RESULTS, 'nw_ucla.jsonl'), help='the 3-epoch rows (old protocol)')
    parser.add_argument('--cost', default=osp.join(RESULTS, 'cost.json'))
    parser.add_argument('--diagnostics', default=osp.join(
        RESULTS, 'diagnostics_tune.json'))
    parser.add_argument('--gradient-share', default=osp.join(
        RESULTS, 'nw-ucla_tune_gradient_share.jsonl'))
    parser.add_argument('--cost-grid',
                        default=osp.join(RESULTS, 'cost_nw-ucla.json'))
    parser.add_argument('--cost-seven',
                        default=osp.join(RESULTS, 'cost_seven.json'))
    parser.add_argument('--out', default=osp.join(REPO, 'docs',
                                                  'benchmarks.md'))
    args = parser.parse_args(argv)
    from sfhead_mm.fileio import write_text_atomic
    tune, test, demo = (load_rows(p) for p in (args.tune, args.test,
                                                args.demo))
    png = osp.join(osp.dirname(osp.abspath(args.out)),
                   'benchmarks_per_class.png')
    grid_lines, verdict = main_grid_section(test, png)
    text = [
        '# Benchmarks: does SF-Head help CTR-GCN on NW-UCLA?', '',
        '_Generated by `python benchmarks/report.py` from the results files '
        'in `benchmarks/results/`; do not edit by hand._', '',
        f'**Verdict.** {verdict}', '',
        'Protocol (splits, schedule, seeds, comparisons, tests, decision '
        'rules), written before the runs: [protocol.md](protocol.md).', ''
    ] + grid_lines + pilot_section(tune) + diagnostics_section(
        args.diagnostics) + gradient_share_section(
        load_rows(args.gradient_share), tune, osp.join(
            osp.dirname(osp.abspath(args.out)),
            'benchmarks_gradient_share.png')) + demo_section(demo) + [
        '## Cost on this CPU', '',
        '### At the grid\'s shape (NW-UCLA, CTR-GCN width 32, 32 frames, '
        'batch 16), FR-Head included', ''
    ] + cost_table(args.cost_grid) + [
        '', '### CTR-GCN at NTU size', ''
    ] + cost_table(args.cost) + [
        '', '### The seven backbones of the paper\'s Table 4 at NTU size', ''
    ] + cost_table(args.cost_seven) + [''] + short_pilot_section(
        load_rows(args.short_pilot)) + [
        '## Commands that reproduce every row', '', '```bash'
    ] + commands(tune + test + demo) + [
        c + ' --gradient-share 20 --work-root work_dirs/bench_gradient_share '
        '--results benchmarks/results/nw-ucla_tune_gradient_share.jsonl'
        for c in commands(load_rows(args.gradient_share))] + [
        COST_GRID_COMMAND,
        'python tools/benchmark.py --batch 16 --frames 64 --reps 10 --json '
        'benchmarks/results/cost.json',
        'python tools/benchmark.py --cost-table --batch 2 --frames 64 '
        '--persons 2 --reps 12 --warmup 1 --threads 1 --json '
        'benchmarks/results/cost_seven.json',
        'python benchmarks/report.py', '```', '']
    content = '\n'.join(text)
    write_text_atomic(content, args.out)
    print(f'{len(tune)} tuning, {len(test)} test, {len(demo)} demo runs -> '
          f'{args.out}')
    return content


if __name__ == '__main__':
    main()
