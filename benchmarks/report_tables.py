"""Shared pieces of the benchmark report (``benchmarks/report.py``): reading
results files, grouping runs by schedule, and the cells every section
uses ("±" is always a 95% CI half-width, never an SD)."""
import json
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.run_config import RUN_FIELDS  # noqa: E402
from benchmarks.variants import variant_label  # noqa: E402
from benchmarks.stats import paired_difference  # noqa: E402

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
    if fields.get('epoch_seed'):
        text += ', reseeded every epoch'
    return text + (f', first {fields["subset"]} clips'
                   if fields['subset'] else '')


def points(values: Sequence[float]) -> str:
    """``mean ± 95% CI half-width (n)`` in points of ``values`` (0-1)."""
    v = 100 * np.asarray(values, dtype=np.float64)
    if len(v) == 1:
        return f'{v[0]:.2f} (1 seed)'
    res = paired_difference(v)
    return f'{res.mean:.2f} ± {res.half:.2f} (sd {res.sd:.2f}, n={res.n})'


def paired_diffs(base: Dict[int, dict], other: Dict[int, dict],
                 measure=lambda r: r['top1']) -> List[float]:
    """``other - base`` in points at each seed both have, by seed."""
    return [100 * (measure(other[s]) - measure(base[s]))
            for s in sorted(set(base) & set(other))]


def diff_cell(base: Dict[int, dict], other: Dict[int, dict],
              measure=lambda r: r['top1']) -> Tuple[str, Optional[object]]:
    """``mean [low, high]`` of the paired differences in points."""
    diffs = paired_diffs(base, other, measure)
    if not diffs:
        return 'no common seed', None
    res = paired_difference(diffs)
    if res.n == 1:
        return f'{res.mean:+.2f} (1 seed)', res
    return f'{res.mean:+.2f} [{res.ci_low:+.2f}, {res.ci_high:+.2f}]', res


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
