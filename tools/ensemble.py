"""Fuse the score files of several streams (joint, bone, motion, ...).

Example:
    python tools/ensemble.py j.pkl b.pkl jm.pkl bm.pkl --preset ctrgcn
    python tools/ensemble.py k1.pkl k2.pkl k8.pkl k1m.pkl k2m.pkl k8m.pkl \
        --preset infogcn
    python tools/ensemble.py j.pkl b.pkl --weights 1 1
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np

from sfhead_mm.evaluation.functional import topk_accuracy
from sfhead_mm.evaluation.scores import (ENSEMBLE_PRESETS, ENSEMBLE_STREAMS,
                                         ScoreFileError, check_same_samples,
                                         fuse_scores, load_scores)


def ensemble(paths: List[str],
             weights: Optional[List[float]] = None,
             preset: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """Top-1/top-5 of each file and of the weighted fusion.

    Raises:
        ScoreFileError: unreadable or mismatched files, wrong weights.
    """
    if preset is not None:
        if weights is not None:
            raise ScoreFileError('give --weights or --preset, not both')
        if preset not in ENSEMBLE_PRESETS:
            raise ScoreFileError(f'unknown preset {preset!r}; presets: '
                                 f'{sorted(ENSEMBLE_PRESETS)}')
        weights = ENSEMBLE_PRESETS[preset][:len(paths)]
        streams = ENSEMBLE_STREAMS[preset]
        if len(paths) > len(streams):
            raise ScoreFileError(
                f'preset {preset!r} has weights for {", ".join(streams)} '
                f'({len(streams)} files, in that order), got {len(paths)}')
    if weights is None:
        weights = [1.0] * len(paths)
    seen: Dict[str, str] = {}
    for path in paths:  # a.pkl and ./a.pkl would weigh one file twice
        real = osp.realpath(path)
        if real in seen:
            raise ScoreFileError(f'{path} and {seen[real]} are the same '
                                 'score file; give each stream once')
        seen[real] = path
    files = {p: load_scores(p) for p in paths}
    check_same_samples(files)
    labels = next(iter(files.values()))['labels']
    table = {
        p: dict(weight=w, top1=topk_accuracy(d['scores'], labels, 1),
                top5=topk_accuracy(d['scores'], labels, 5))
        for (p, d), w in zip(files.items(), weights)
    }
    fused = fuse_scores([d['scores'] for d in files.values()], weights)
    table['fused'] = dict(weight=float(np.sum(weights)),
                          top1=topk_accuracy(fused, labels, 1),
                          top5=topk_accuracy(fused, labels, 5))
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Fuse per-stream score files from tools/test.py --dump',
        epilog='presets (weights in stream order; give the files in that '
        'order): ' + '; '.join(
            f'{k}={v} ({", ".join(ENSEMBLE_STREAMS[k])})'
            for k, v in ENSEMBLE_PRESETS.items()) +
        '. example: python tools/ensemble.py j.pkl b.pkl jm.pkl bm.pkl '
        '--preset ctrgcn')
    parser.add_argument('scores', nargs='+', help='score files (.pkl)')
    parser.add_argument('--weights', type=float, nargs='+')
    parser.add_argument('--preset', choices=sorted(ENSEMBLE_PRESETS))
    args = parser.parse_args(argv)
    if args.weights is not None and len(args.weights) != len(args.scores):
        raise ScoreFileError(f'{len(args.weights)} weights for '
                             f'{len(args.scores)} score files')
    table = ensemble(args.scores, args.weights, args.preset)
    width = max(len(k) for k in table)
    print(f'{"scores":<{width}}  weight   top-1   top-5')
    for name, row in table.items():
        print(f'{name:<{width}}  {row["weight"]:6.2f}  {row["top1"]:.4f}  '
              f'{row["top5"]:.4f}')


if __name__ == '__main__':
    try:
        main()
    except ScoreFileError as err:
        sys.exit(f'error: {err}')
