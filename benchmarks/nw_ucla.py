"""NW-UCLA evidence grid: CTR-GCN baseline vs + SF-Head (branch, inline)
vs + FR-Head, several seeds, one reduced schedule that fits a 2-core CPU.

Each finished run appends one JSON line to the results file (top-1, mean
class accuracy, per-class accuracy, wall time, train step time, the exact
config); a rerun skips the runs already there, so the grid can be
completed over several sittings. ``benchmarks/report.py`` turns the file
into ``docs/benchmarks.md``.

Example (the committed results: the main grid, then the ablations):
    python benchmarks/nw_ucla.py
    python benchmarks/nw_ucla.py --variants sf_stages_8-10 sf_lambda_x0.5 \
        sf_tau_0.5 sf_alpha_2 sf_eps_0.1 --seeds 0
    python benchmarks/nw_ucla.py --variants sf_lambda_x2 --seeds 0 1 2
    python benchmarks/report.py
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

BASELINE_CONFIG = osp.join(
    REPO, 'configs/ctrgcn/ctrgcn_1xb16-joint-52f-65e_nw-ucla-xview-'
    'keypoint-3d.py')

# model overrides of each variant on the baseline config, and its label
VARIANTS: Dict[str, str] = {
    'baseline': "model = dict(type='RecognizerGCN')",
    'sfhead_branch': ("model = dict(type='SFRecognizerGCN', "
                      "sf_head=dict(placement='branch'))"),
    'sfhead_inline': ("model = dict(type='SFRecognizerGCN', "
                      "sf_head=dict(placement='inline'))"),
    'frhead': "model = dict(type='SFRecognizerGCN', fr_head=dict())",
}
LABELS: Dict[str, str] = {
    'baseline': 'CTR-GCN (baseline)',
    'sfhead_branch': '+ SF-Head, branch',
    'sfhead_inline': '+ SF-Head, inline',
    'frhead': '+ FR-Head',
}
# One-seed ablations of the SF-Head (branch) choices SPEC 2.3 leaves open
# and of its weights and stages: name -> (sf_head fields, label).
ABLATIONS: Dict[str, tuple] = {
    'sf_stages_8-10': (dict(stages=[8, 9, 10]), 'SF branch, blocks 8-10'),
    'sf_lambda_x0.5': (dict(lambda_con=0.1, lambda_red=0.05),
                       'SF branch, lambdas x0.5'),
    'sf_lambda_x2': (dict(lambda_con=0.4, lambda_red=0.2),
                     'SF branch, lambdas x2'),
    'sf_tau_0.5': (dict(tau=0.5), 'SF branch, tau 0.5'),
    'sf_alpha_2': (dict(alpha=2.0), 'SF branch, alpha 2'),
    'sf_eps_0.1': (dict(eps=0.1), 'SF branch, eps 0.1'),
}
for _name, (_fields, _label) in ABLATIONS.items():
    VARIANTS[_name] = ("model = dict(type='SFRecognizerGCN', sf_head=dict("
                       "placement='branch', " + ', '.join(
                           f'{k}={v!r}' for k, v in _fields.items()) + '))')
    LABELS[_name] = _label


def schedule_text(args: argparse.Namespace) -> str:
    """The reduced schedule as config lines (same for every variant)."""
    warmup = min(args.warmup, args.epochs)
    step = max(int(round(args.epochs * 50 / 65)), warmup)
    # linear warm-up as CTR-GCN's `base_lr * (epoch + 1) / warmup` (the
    # published 5 epochs: 0.02, 0.04, ..., 0.1); none for warmup <= 1
    warm = ("    dict(type='LinearLR', start_factor=" + f'{1 / warmup:.4g}, '
            f'end_factor=1.0, by_epoch=True, begin=0, end={warmup}),'
            if warmup > 1 else '')
    lines = [
        f'model.update(backbone=dict(base_channels={args.base_channels}), '
        f'cls_head=dict(in_channels={4 * args.base_channels}))',
        f'train_cfg = dict(max_epochs={args.epochs}, '
        f'val_interval={args.epochs})',
        'param_scheduler = [',
        warm,
        "    dict(type='MultiStepLR', milestones=[" + str(step) +
        f'], gamma=0.1, by_epoch=True, begin=0, end={args.epochs})',
        ']',
        'train_dataloader = dict(batch_size=16, num_workers=0, '
        'persistent_workers=False, dataset=dict(times='
        f'{args.repeat}, dataset=dict(ann_file=ann_file' +
        (f', indices={args.subset}' if args.subset else '') + ')))',
        'val_dataloader = dict(num_workers=0, persistent_workers=False, '
        'dataset=dict(ann_file=ann_file' +
        (f', indices={args.subset}' if args.subset else '') + '))',
        'test_dataloader = val_dataloader',
        'default_hooks = dict(checkpoint=dict(interval=-1, save_last=True),'
        ' logger=dict(interval=20))',
    ]
    return '\n'.join(lines)


def write_config(run_dir: str, variant: str, ann_file: str,
                 args: argparse.Namespace) -> str:
    os.makedirs(run_dir, exist_ok=True)
    path = osp.join(run_dir, 'config.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = {BASELINE_CONFIG!r}\n'
                f'ann_file = {ann_file!r}\n'
                f'{VARIANTS[variant]}\n{schedule_text(args)}\n')
    return path


def run_key(variant: str, seed: int, args: argparse.Namespace) -> str:
    return (f'{variant}|seed={seed}|epochs={args.epochs}|'
            f'repeat={args.repeat}|width={args.base_channels}|'
            f'subset={args.subset}')


def finished_keys(results: str) -> set:
    if not osp.isfile(results):
        return set()
    with open(results) as f:
        return {json.loads(line)['key'] for line in f if line.strip()}


def mean_step_time(work_dir: str) -> float:
    """Median of the logged per-iteration train times (s)."""
    times = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                times += [json.loads(line)['time'] for line in f
                          if '"time"' in line and '"loss"' in line]
    return float(np.median(times)) if times else float('nan')


def run_one(variant: str, seed: int, ann_file: str,
            args: argparse.Namespace) -> dict:
    """Train, test with --dump, and measure one (variant, seed)."""
    from sfhead_mm.evaluation import (confusion_matrix, load_scores,
                                      per_class_accuracy)
    from sfhead_mm.datasets.class_names import get_class_names
    run_dir = osp.join(args.work_root, f'{variant}_seed{seed}')
    config = write_config(run_dir, variant, ann_file, args)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    start = time.time()
    train = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/train.py'), config,
         '--work-dir', run_dir, '--seed', str(seed)], env=env,
        capture_output=True, text=True)
    train_s = time.time() - start
    if train.returncode != 0:
        raise RuntimeError(f'{variant} seed {seed}: training failed:\n' +
                           train.stderr[-3000:])
    ckpt = osp.join(run_dir, f'epoch_{args.epochs}.pth')
    scores = osp.join(run_dir, 'scores.pkl')
    test = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/test.py'), config, ckpt,
         '--work-dir', run_dir, '--dump', scores], env=env,
        capture_output=True, text=True)
    if test.returncode != 0:
        raise RuntimeError(f'{variant} seed {seed}: test failed:\n' +
                           test.stderr[-3000:])
    data = load_scores(scores)
    pred, labels = data['scores'].argmax(1), data['labels']
    cm = confusion_matrix(pred, labels, data['scores'].shape[1])
    per_class = per_class_accuracy(cm)
    names = get_class_names('nw-ucla')
    with open(config) as f:  # MMEngine's dump: the fully resolved config
        config_text = f.read()
    import torch
    return dict(
        key=run_key(variant, seed, args), variant=variant, seed=seed,
        top1=float((pred == labels).mean()),
        mean_class_acc=float(np.nanmean(per_class)),
        per_class={n: float(a) for n, a in zip(names, per_class)},
        num_test=int(len(labels)), wall_time_s=round(train_s, 1),
        train_step_s=mean_step_time(run_dir), epochs=args.epochs,
        repeat=args.repeat, warmup=args.warmup,
        base_channels=args.base_channels,
        subset=args.subset, config=config_text,
        hardware=dict(machine=platform.machine(),
                      processor=platform.processor(),
                      cpus=os.cpu_count(), torch=torch.__version__,
                      threads=torch.get_num_threads()),
        finished=datetime.datetime.now().isoformat(timespec='seconds'))


def prepare_annotations(args: argparse.Namespace) -> str:
    """Convert the NW-UCLA JSON folder once (cached in the work root)."""
    from data_prep.common import write_pickle_atomic
    from data_prep.nw_ucla import convert
    path = osp.join(args.work_root, 'nw_ucla_3d.pkl')
    if not osp.isfile(path):
        if not osp.isdir(args.data):
            raise SystemExit(f'error: NW-UCLA folder not found: {args.data}')
        dataset, skipped = convert(args.data, show_progress=True)
        write_pickle_atomic(dataset, path)
    return path


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n  python benchmarks/nw_ucla.py   # the main grid\n'
        '  python benchmarks/nw_ucla.py --variants baseline --seeds 0 '
        '--epochs 1 --subset 32 --results /tmp/r.jsonl  # a smoke run')
    parser.add_argument('--data', default=osp.join(
        REPO, '..', 'shared', 'data', 'nw_ucla'))
    parser.add_argument('--work-root', default=osp.join(
        REPO, 'work_dirs', 'bench_nw_ucla'))
    parser.add_argument('--results', default=osp.join(
        REPO, 'benchmarks', 'results', 'nw_ucla.jsonl'))
    parser.add_argument('--variants', nargs='+',
                        default=['baseline', 'sfhead_branch', 'sfhead_inline',
                                 'frhead'], choices=list(VARIANTS))
    parser.add_argument('--seeds', nargs='+', type=int,
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--repeat', type=int, default=1,
                        help='passes over the training set per epoch '
                        '(published: 5)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='linear warm-up epochs (published: 5)')
    parser.add_argument('--base-channels', type=int, default=32,
                        help='CTR-GCN width (published: 64)')
    parser.add_argument('--subset', type=int, default=0,
                        help='first N samples of each split (0: all)')
    args = parser.parse_args(argv)
    os.makedirs(args.work_root, exist_ok=True)
    os.makedirs(osp.dirname(osp.abspath(args.results)), exist_ok=True)
    ann_file = prepare_annotations(args)
    done = finished_keys(args.results)
    grid = [(s, v) for s in args.seeds for v in args.variants]
    for i, (seed, variant) in enumerate(grid, 1):
        key = run_key(variant, seed, args)
        if key in done:
            print(f'[{i}/{len(grid)}] {key}: done, skipped')
            continue
        print(f'[{i}/{len(grid)}] {key}: training ...', flush=True)
        row = run_one(variant, seed, ann_file, args)
        with open(args.results, 'a') as f:
            f.write(json.dumps(row) + '\n')
        print(f'[{i}/{len(grid)}] {key}: top-1 {row["top1"]:.4f}, mean '
              f'class {row["mean_class_acc"]:.4f}, {row["wall_time_s"]} s',
              flush=True)


if __name__ == '__main__':
    main()
