"""Per-class accuracy change of model B over model A, and the confusions
that fell or rose most (the paper's Fig. 3 analysis).

Example:
    python tools/analyze_ambiguous.py baseline.pkl sfhead.pkl \
        --dataset ntu120 --groups ntu120-sfhead --out-dir work_dirs/analysis
"""
import argparse
import os.path as osp
import sys
import textwrap
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # headless
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sfhead_mm.datasets.class_names import get_class_names  # noqa: E402
from sfhead_mm.evaluation.functional import (  # noqa: E402
    confusion_matrix, per_class_accuracy)
from sfhead_mm.evaluation.groups import resolve_groups  # noqa: E402
from sfhead_mm.evaluation.scores import (ScoreFileError,  # noqa: E402
                                         check_same_samples, load_scores)
from sfhead_mm.fileio import save_figure_atomic, write_text_atomic  # noqa: E402


def analyze(a: dict, b: dict, class_names: Sequence[str],
            groups: Optional[Dict[str, List[int]]] = None,
            top: int = 10) -> dict:
    """Per-class deltas (B - A) and confusion-pair changes.

    Returns:
        dict with ``classes`` (list of (name, acc_a, acc_b, delta, group)),
        sorted by delta descending (only grouped classes when ``groups``),
        and ``fell`` / ``rose``: (true, predicted, rate_a, rate_b) pairs.
    """
    labels, k = a['labels'], a['scores'].shape[1]
    cm_a = confusion_matrix(a['scores'].argmax(1), labels, k)
    cm_b = confusion_matrix(b['scores'].argmax(1), labels, k)
    acc_a, acc_b = per_class_accuracy(cm_a), per_class_accuracy(cm_b)
    group_of = {}
    for name, ids in (groups or {}).items():
        for i in ids:
            group_of[i] = name
    keep = sorted(group_of) if groups else [
        i for i in range(k) if not np.isnan(acc_a[i])
    ]
    classes = sorted(
        ((class_names[i], float(acc_a[i]), float(acc_b[i]),
          float(acc_b[i] - acc_a[i]), group_of.get(i)) for i in keep),
        key=lambda row: -row[3])
    support = np.maximum(cm_a.sum(1, keepdims=True), 1)
    rate_a, rate_b = cm_a / support, cm_b / support
    change = rate_b - rate_a
    np.fill_diagonal(change, 0)
    order = np.argsort(change, axis=None, kind='stable')

    def pairs(indices):
        rows = []
        for flat in indices:
            i, j = np.unravel_index(flat, change.shape)
            if change[i, j] == 0:
                break
            rows.append((class_names[i], class_names[j],
                         float(rate_a[i, j]), float(rate_b[i, j])))
        return rows

    return dict(classes=classes, fell=pairs(order[:top]),
                rose=pairs(order[::-1][:top]))


def plot(classes: list, out: str, title: str) -> None:
    """Bar chart of per-class accuracy change, coloured by group."""
    groups = sorted({g for *_, g in classes if g is not None})
    cmap = plt.get_cmap('tab10')
    colors = [
        cmap(groups.index(g) % 10) if g is not None else 'tab:blue'
        for *_, g in classes
    ]
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(classes) + 2), 5))
    deltas = [100 * c[3] for c in classes]
    ax.bar(range(len(classes)), deltas, color=colors)
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([c[0] for c in classes], rotation=60, ha='right',
                       fontsize=8)
    ax.set_ylabel('accuracy change B - A (points)')
    ax.set_title('\n'.join(textwrap.wrap(title, 60)), fontsize=10)
    if groups:
        handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 10))
                   for i in range(len(groups))]
        ax.legend(handles, groups, fontsize=7, loc='upper right')
    fig.tight_layout()
    save_figure_atomic(fig, out)
    plt.close(fig)


def table(result: dict) -> str:
    lines = ['| class | acc A | acc B | change |', '|---|---|---|---|']
    lines += [f'| {n} | {a:.3f} | {b:.3f} | {d:+.3f} |'
              for n, a, b, d, _ in result['classes']]
    for key, title in (('fell', 'confusions that fell most'),
                       ('rose', 'confusions that rose most')):
        lines += ['', f'{title} (true -> predicted: rate A -> rate B)', '']
        lines += ['| true | predicted | rate A | rate B |', '|---|---|---|---|']
        lines += [f'| {t} | {p} | {ra:.3f} | {rb:.3f} |'
                  for t, p, ra, rb in result[key]]
    return '\n'.join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='example: python tools/analyze_ambiguous.py baseline.pkl '
        'sfhead.pkl --dataset ntu120 --groups ntu120-sfhead')
    parser.add_argument('a', help='score file of model A (the reference)')
    parser.add_argument('b', help='score file of model B')
    parser.add_argument('--dataset', help='class names: ntu60, ntu120, '
                        'pku-mmd, nw-ucla (default: class indices)')
    parser.add_argument('--groups', help='ambiguous group preset, e.g. '
                        'ntu120-sfhead (default: all classes)')
    parser.add_argument('--top', type=int, default=10)
    parser.add_argument('--out-dir', default=None,
                        help='default: the directory of B')
    args = parser.parse_args(argv)
    a, b = load_scores(args.a), load_scores(args.b)
    check_same_samples({args.a: a, args.b: b})
    k = a['scores'].shape[1]
    names = get_class_names(args.dataset) if args.dataset else [
        str(i) for i in range(k)]
    if len(names) != k:
        raise ScoreFileError(f'--dataset {args.dataset} has {len(names)} '
                             f'classes, the score files have {k}')
    groups = resolve_groups(args.groups, names) if args.groups else None
    result = analyze(a, b, names, groups, args.top)
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.b))
    png = osp.join(out_dir, 'per_class_change.png')
    plot(result['classes'], png,
         f'per-class accuracy change: {osp.basename(args.b)} over '
         f'{osp.basename(args.a)}')
    text = table(result)
    md = osp.join(out_dir, 'per_class_change.md')
    write_text_atomic(text + '\n', md)
    print(text)
    print(f'\nplot: {png}\ntable: {md}')
    return result


if __name__ == '__main__':
    try:
        main()
    except (ScoreFileError, KeyError, ValueError) as err:
        sys.exit(f'error: {err}')
