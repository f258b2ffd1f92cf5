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
from typing import Dict, List

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.variants import variant_label  # noqa: E402
from benchmarks.pilot_rules import (describe_rules,  # noqa: E402
                                    describe_sf_rule)
from benchmarks.grid_rules import (FIRST_SEEDS,  # noqa: E402
                                   HALF_WIDTH_TARGET)
from benchmarks.report_diagnostics import (  # noqa: E402
    diagnostics_section, gradient_share_section)
from benchmarks.report_grid import (ambiguous_table,  # noqa: E402
                                   main_grid_section)
from benchmarks.report_tables import (SHARED, describe,  # noqa: E402
                                      diff_cell, failed_lines, group_runs,
                                      load_rows, points, split_failed)
from benchmarks.stats import t_half_width  # noqa: E402
from data_prep.make_demo import LOOKALIKE_PAIRS as DEMO_PAIRS  # noqa: E402

RESULTS = osp.join(REPO, 'benchmarks', 'results')
DEFAULT_OUT = osp.join(REPO, 'docs', 'benchmarks.md')
README = osp.join(REPO, 'README.md')
# the cost at the evidence grid's own shape, every variant of the grid
COST_GRID_COMMAND = (
    'python tools/benchmark.py --config configs/ctrgcn/ctrgcn_sfhead_1xb16-'
    'joint-52f-65e_nw-ucla-xview-keypoint-3d.py --cfg-options '
    'model.backbone.base_channels=32 model.cls_head.in_channels=128 '
    '--batch 16 --frames 32 --persons 1 --reps 10 --threads 1 --json '
    'benchmarks/results/cost_nw-ucla.json')
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


def grid_sizing_lines(groups) -> List[str]:
    """The pilot's SD of the paired differences (default SF-Head branch
    minus baseline) and the main grid's 95% half-width it implies at its
    first 12 seeds, per schedule with at least 2 pairs."""
    lines = []
    for schedule, variants in sorted(groups.items()):
        base, sf = variants.get('baseline', {}), variants.get(
            'sfhead_branch', {})
        _, res = diff_cell(base, sf)
        if res is None or res.n < 2:
            continue
        seeds = sorted(set(base) & set(sf))
        half = t_half_width(res.sd, FIRST_SEEDS)
        lines += [f'Sizing ({describe(schedule)}): the SD of the paired '
                  f'differences, SF-Head branch (defaults) minus baseline, '
                  f'over seeds {", ".join(map(str, seeds))} is '
                  f'{res.sd:.2f} points; at {FIRST_SEEDS} seeds that gives '
                  f'a 95% half-width of {half:.2f} points (the protocol asks '
                  f'at most {HALF_WIDTH_TARGET}; the test split has 464 '
                  f'clips against 191 here).', '']
    return lines


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
    lines += ['', describe_sf_rule(rows), ''] + grid_sizing_lines(groups)
    lines += ['The diagnostics are the means over the last pass of the '
              'logged `sf_red_top1` (the share of clips whose own f_t is '
              'their f_s\'s best match; chance is 1/16) and '
              '`sf_red_logit_span` (max - min of m d / tau in a batch; '
              'below about 1 the F-RL softmax is nearly uniform).', '']
    return lines


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
    lines += [''] + failed_lines(failed)
    # every class of the synthetic set belongs to one look-alike pair
    # (data_prep/make_demo.py), so the pairs table is the whole confusion
    # story there; descriptive, like the rest of this section
    for schedule, variants in sorted(groups.items()):
        base = variants.get('baseline', {})
        if base:
            names = list(next(iter(base.values()))['per_class'])
            lines += ambiguous_table(
                variants, names,
                [(names[a], names[b]) for a, b in DEMO_PAIRS])
    return lines


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
                (' --no-epoch-seed' if f.get('epoch_seed') is False else '') +
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
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--readme', default=None,
                        help='README whose quoted verdict is replaced '
                        '(default: the repository\'s README when --out is '
                        'the default page; otherwise none)')
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
        '## Commands that reproduce every row', '',
        'Rows without a thread count come from code that did not record '
        'it; per the protocol\'s addendum they ran with `--threads 1`, '
        'except the 40-pass, 52-frame baseline seeds 0 and 1 (2 threads).',
        '', '```bash'
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
    readme = args.readme or (README if osp.abspath(args.out) == DEFAULT_OUT
                             else None)
    if readme:
        sync_readme_verdict(readme, verdict)
    print(f'{len(tune)} tuning, {len(test)} test, {len(demo)} demo runs -> '
          f'{args.out}' + (f' (verdict quoted in {readme})' if readme
                           else ''))
    return content


#: README's sentence before its quote of the verdict (one '> ' line)
VERDICT_MARKER = 'Its verdict today, word for word:'


def sync_readme_verdict(path: str, verdict: str) -> None:
    """Replace the quoted verdict after ``VERDICT_MARKER`` in ``path`` by
    ``verdict``, so README repeats the page word for word."""
    from sfhead_mm.fileio import write_text_atomic
    with open(path) as f:
        lines = f.read().split('\n')
    marks = [i for i, line in enumerate(lines) if line.endswith(
        VERDICT_MARKER)]
    quote = [i for i in range(marks[0] + 1, min(marks[0] + 3, len(lines)))
             if lines[i].startswith('> ')] if len(marks) == 1 else []
    if not quote:
        raise SystemExit(f'error: {path}: expected one line ending with '
                         f'{VERDICT_MARKER!r} followed by a "> " quote line '
                         '(the verdict); found ' +
                         (f'{len(marks)} such lines' if len(marks) != 1
                          else 'no quote line after it'))
    lines[quote[0]] = f'> {verdict}'
    write_text_atomic('\n'.join(lines), path)


if __name__ == '__main__':
    main()
