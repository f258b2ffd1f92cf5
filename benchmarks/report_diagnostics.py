"""The diagnostics sections of the benchmark report (tuning split): what
the SF losses do to the backbone (``benchmarks/diagnose_sf.py``) and their
share of its gradient over training (``GradientShareHook`` rows)."""
import json
import os.path as osp
import re
from typing import List, Optional

import numpy as np

from benchmarks.run_config import RUN_FIELDS
from benchmarks.variants import variant_label
from benchmarks.report_tables import REPO


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
        'SSTE weights and gate-output spreads averaged over the blocks '
        '(w_t and w_s start at 0, where SSTE\'s gates sigmoid(w gap + b) '
        'are constants that ignore the input); '
        'the SF losses\' backbone gradient norm over CE\'s, and their '
        'cosine, on training batches, with the weights the Runner started '
        'from and with the final ones.', '',
        '| run | effective rank / C per block | mean | mean abs w_t, w_s | '
        'gate output SD (temporal, spatial, channel) | SF / CE gradient, '
        'start -> end | cosine, start -> end |',
        '|---|---|---|---|---|---|---|']
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
    return lines + [''] + rank_change_lines(results)


def rank_change_lines(results: List[dict]) -> List[str]:
    """The SF runs' mean effective-rank share minus the baseline's at the
    same seed (run dirs named ``<variant>_seed<N>_<hash>``)."""
    by_seed = {}
    for r in results:
        match = re.search(r'_seed(\d+)_', osp.basename(r['run_dir']))
        if match is None:
            continue
        kind = 'sf' if r.get('sf_head') or r['head'] else 'baseline'
        share = np.mean([r['effective_rank'][k] / r['channels'][k]
                         for k in r['effective_rank']])
        by_seed.setdefault(int(match.group(1)), {})[kind] = share
    pairs = {s: v['sf'] - v['baseline'] for s, v in sorted(by_seed.items())
             if {'sf', 'baseline'} <= set(v)}
    if not pairs:
        return []
    per_seed = ', '.join(f'{d:+.3f} (seed {s})' for s, d in pairs.items())
    return [f'Mean effective-rank share, SF-Head minus baseline at the same '
            f'seed: {per_seed}; mean {np.mean(list(pairs.values())):+.3f}.',
            '']


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
    lines += ['Measured every 20 iterations on that iteration\'s batch by '
              '`GradientShareHook`, which leaves training unchanged '
              '(`tests/engine/test_gradient_share.py`). Beside each run, the '
              'P2 row of the same setting and seed: equal top-1 only when '
              'both ran with the same seeding (this run is reseeded every '
              'epoch so that it survives a resume; the P2 rows are not).',
              '',
              '| run | epochs | SF / CE gradient norm | cosine |',
              '|---|---|---|---|']
    for r in rows:
        log = r['gradient_share']
        passes = r['passes']
        check = same_run_top1(r, tune)
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


def same_run_top1(row: dict, rows: List[dict]) -> Optional[float]:
    """Top-1 of the row in ``rows`` with the same fields as ``row`` among
    those both record (older rows lack newer fields); None if none."""
    for other in rows:
        shared = [f for f in RUN_FIELDS if f in row and f in other
                  and f != 'epoch_seed']
        if all(row[f] == other[f] for f in shared):
            return other['top1']
    return None


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
