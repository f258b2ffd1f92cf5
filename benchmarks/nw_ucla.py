"""Evidence runner: CTR-GCN baseline vs + SF-Head (branch, inline) vs
+ FR-Head on NW-UCLA (or the synthetic demo set), many seeds, one protocol.

One run = (dataset, split pair, variant, seed, schedule, shape). Each run
trains with ``tools/train.py`` in its own work dir, tests its final-epoch
checkpoint (the primary measure; no best-checkpoint picking) with
``tools/test.py --dump`` and appends one JSON row to the protocol's results
file: top-1, per-class accuracy, the confusion matrix, the per-sample scores,
CPU and wall time, the last pass's logged diagnostics and the resolved
config. The key of a row is every field of the run, so a changed field is a
new run; a rerun skips the rows already there; a killed run resumes from its
last checkpoint. One training at a time, on the threads given.

Split pairs: ``tune`` trains on NW-UCLA subjects 1-8 of views 1+2 and tests
on subjects 9-10 (``xview_tunetrain`` -> ``xview_tuneval``), where every
choice is made; ``test`` is the cross-view protocol (views 1+2 -> view 3),
run once the protocol in ``docs/benchmarks.md`` is fixed. The demo set has
one pair (its ``xsub_train`` -> ``xsub_val``), run as ``test``.

Schedule (counted in passes over the training split): SGD Nesterov,
linear warm-up for ``--warmup`` passes, then cosine to 0, updated every
iteration.

Variants: ``baseline``, ``sfhead_branch``, ``sfhead_inline``, ``frhead``,
and any of those with fields of its head appended as ``+field=value``, e.g.
``sfhead_branch+tau=0.03+phi=printed`` or ``frhead+loss_weight=0``.

Examples:
    # pilot on the tuning split: baseline, 20 and 40 passes
    python benchmarks/nw_ucla.py --split tune --passes 20 --variants baseline
    python benchmarks/nw_ucla.py --split tune --passes 40 --variants baseline
    # a smoke run
    python benchmarks/nw_ucla.py --split tune --passes 1 --subset 32 \\
        --variants baseline --seeds 0 --results /tmp/r.jsonl
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.run_config import (BASE_CONFIGS, DEFAULT_FRAMES,  # noqa: E402
                                   SPLIT_PAIRS, build_config, run_dir_of,
                                   run_key, run_spec)
from benchmarks.variants import parse_variant, variant_label  # noqa: E402

# class names: the package's NW-UCLA list; the demo set's own, in its file
CLASS_SET = {'nw-ucla': 'nw-ucla'}


def total_train_time(checkpoint: str) -> Dict[str, Optional[float]]:
    """``TrainTimeHook``'s CPU and wall seconds over every attempt that
    led to ``checkpoint`` (None for runs from before the hook)."""
    import torch
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    info = state.get('message_hub', {}).get('runtime_info', {})
    return dict(train_cpu_s_total=info.get('train_cpu_s'),
                train_wall_s_total=info.get('train_wall_s'))


def gradient_share_log(run_dir: str) -> Optional[List[dict]]:
    """``GradientShareHook``'s records of a run, one per measured
    iteration (a resumed run's repeated iterations: the last record), or
    None when the run did not log them."""
    path = osp.join(run_dir, 'gradient_share.jsonl')
    if not osp.isfile(path):
        return None
    by_iter = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                entry = json.loads(line)
                by_iter[entry['iter']] = entry
    return [by_iter[i] for i in sorted(by_iter)]


def last_pass_scalars(work_dir: str, passes: int) -> Dict[str, float]:
    """Means of every logged scalar (losses, diagnostics, time) over the
    last pass's log lines in MMEngine's ``scalars.json``."""
    values: Dict[str, List[float]] = {}
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' not in files:
            continue
        with open(osp.join(root, 'scalars.json')) as f:
            for line in f:
                entry = json.loads(line)
                if entry.get('epoch') != passes or 'loss' not in entry:
                    continue
                for key, value in entry.items():
                    if key not in ('epoch', 'iter', 'step') and isinstance(
                            value, (int, float)):
                        values.setdefault(key, []).append(float(value))
    return {k: float(np.mean(v)) for k, v in sorted(values.items())}


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_tool(argv: List[str], env: dict, what: str) -> Tuple[float, float]:
    """Run a tool; returns (wall s, CPU s); raises with its stderr tail."""
    wall, cpu = time.time(), _child_cpu_seconds()
    proc = subprocess.run([sys.executable] + argv, env=env,
                          capture_output=True, text=True)
    wall, cpu = time.time() - wall, _child_cpu_seconds() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f'{what} failed (exit {proc.returncode}):\n' +
                           proc.stderr[-3000:])
    return wall, cpu


def class_names(dataset: str, ann_file: str) -> List[str]:
    """The class names of ``dataset`` (the demo set: from its file's
    ``meta``, since the generator decides them)."""
    if dataset in CLASS_SET:
        from sfhead_mm.datasets.class_names import get_class_names
        return list(get_class_names(CLASS_SET[dataset]))
    from sfhead_mm.fileio import load_pickle_safely
    meta = load_pickle_safely(ann_file).get('meta', {})
    if 'class_names' not in meta:
        raise SystemExit(f'error: {ann_file}: no meta.class_names (expected '
                         'the demo generator\'s output, '
                         'data_prep/make_demo.py)')
    return list(meta['class_names'])


# NonFiniteLossHook's message, as tools/train.py prints it
NON_FINITE = 'non-finite loss at iteration'


def run_one(spec: dict, ann_file: str, args: argparse.Namespace) -> dict:
    """Train (or resume), test the final checkpoint, return the row."""
    from sfhead_mm.evaluation import (confusion_matrix, load_scores,
                                      per_class_accuracy)
    run_dir = run_dir_of(spec, args.work_root)
    os.makedirs(run_dir, exist_ok=True)
    config = osp.join(run_dir, 'config.py')
    build_config(spec, ann_file, args.gradient_share).dump(config)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads),
                   MKL_NUM_THREADS=str(args.threads))
    final = osp.join(run_dir, f'epoch_{spec["passes"]}.pth')
    resumed_from: Optional[str] = None
    train_wall = train_cpu = 0.0
    if not osp.isfile(final):
        cmd = [osp.join(REPO, 'tools/train.py'), config, '--work-dir',
               run_dir, '--seed', str(spec['seed'])]
        marker = osp.join(run_dir, 'last_checkpoint')
        if osp.isfile(marker):
            with open(marker) as f:
                resumed_from = osp.basename(f.read().strip())
            print(f'  resuming from {resumed_from}', flush=True)
            cmd.append('--resume')
        try:
            train_wall, train_cpu = _run_tool(cmd, env, f'{run_key(spec)}: '
                                              'training')
        except RuntimeError as err:
            if NON_FINITE not in str(err):
                raise  # a crash or a kill: rerunning resumes it
            # a diverged run stays diverged on rerun (same seed, same
            # start): record it, so the grid goes on and the report lists it
            reason = [line for line in str(err).splitlines()
                      if NON_FINITE in line][-1].split(':')[1].strip()
            return dict(key=run_key(spec), **spec,
                        label=variant_label(spec['variant']), top1=None,
                        failed=reason, code=code_version(),
                        finished=datetime.datetime.now().isoformat(
                            timespec='seconds'))
    scores = osp.join(run_dir, 'scores.pkl')
    test_wall, test_cpu = _run_tool(
        [osp.join(REPO, 'tools/test.py'), config, final, '--work-dir',
         run_dir, '--dump', scores], env, f'{run_key(spec)}: test')
    data = load_scores(scores)
    score, labels = data['scores'], data['labels']
    pred = score.argmax(1)
    num_classes = score.shape[1]
    cm = confusion_matrix(pred, labels, num_classes)
    names = class_names(spec['dataset'], ann_file)
    import torch
    with open(config) as f:
        config_text = f.read()
    return dict(
        key=run_key(spec), **spec, label=variant_label(spec['variant']),
        top1=float((pred == labels).mean()),
        mean_class_acc=float(np.nanmean(per_class_accuracy(cm))),
        per_class={n: None if np.isnan(a) else float(a)  # no test sample
                   for n, a in zip(names, per_class_accuracy(cm))},
        confusion=cm.astype(int).tolist(), num_test=int(len(labels)),
        labels=labels.astype(int).tolist(),
        sample_names=[str(s) for s in data['sample_ids']],
        scores=np.round(score.astype(np.float64), 5).tolist(),
        train_wall_s=round(train_wall, 1), train_cpu_s=round(train_cpu, 1),
        **total_train_time(final),
        test_wall_s=round(test_wall, 1), resumed_from=resumed_from,
        last_pass=last_pass_scalars(run_dir, spec['passes']),
        gradient_share=gradient_share_log(run_dir),
        code=code_version(), config=config_text,
        hardware=dict(machine=platform.machine(), cpus=os.cpu_count(),
                      torch=torch.__version__),  # threads: a run field
        finished=datetime.datetime.now().isoformat(timespec='seconds'))


def commit_results(results: str, what: str) -> None:
    """Commit only the results file, in the repository that holds it
    (which may not be the one whose code runs; see ``pilot_tune.sh``).
    Other staged changes stay staged."""
    folder = osp.dirname(osp.abspath(results))
    top = subprocess.run(['git', '-C', folder, 'rev-parse',
                          '--show-toplevel'], capture_output=True,
                         text=True, check=True).stdout.strip()
    rel = osp.relpath(osp.abspath(results), top)
    subprocess.run(['git', '-C', top, 'add', rel], check=True)
    for _ in range(10):  # another commit may hold the index lock briefly
        proc = subprocess.run(
            ['git', '-C', top, 'commit', '-q', '-m',
             f'{osp.basename(rel)}: {what}', '--only', '--', rel],
            capture_output=True, text=True)
        if proc.returncode == 0:
            return
        time.sleep(3)
    print(f'warning: could not commit {rel}: {proc.stderr.strip()}',
          flush=True)


def code_version() -> str:
    """The commit of the code that runs (``+dirty`` with local edits)."""
    def git(*args):
        return subprocess.run(['git', '-C', REPO, *args],
                              capture_output=True, text=True).stdout.strip()
    head = git('rev-parse', 'HEAD') or 'unknown'
    dirty = git('status', '--porcelain', '--untracked-files=no', '--',
                'sfhead_mm', 'tools', 'configs', 'benchmarks')
    return head + ('+dirty' if dirty else '')


def finished_keys(results: str) -> set:
    if not osp.isfile(results):
        return set()
    with open(results) as f:
        return {json.loads(line)['key'] for line in f if line.strip()}


def prepare_annotations(args: argparse.Namespace) -> str:
    """The dataset pickle, made once and cached in the work root."""
    from data_prep.common import write_pickle_atomic
    if args.dataset == 'demo':
        from data_prep.make_demo import make_demo_dataset
        path = osp.join(args.work_root, 'demo_3d.pkl')
        if not osp.isfile(path):
            write_pickle_atomic(make_demo_dataset(seed=0), path)
        return path
    from data_prep.nw_ucla import convert
    path = osp.join(args.work_root, 'nw_ucla_3d_tune.pkl')
    if not osp.isfile(path):
        if not osp.isdir(args.data):
            raise SystemExit(f'error: NW-UCLA folder not found: {args.data}')
        dataset, _ = convert(args.data, show_progress=True)
        write_pickle_atomic(dataset, path)
    return path


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('Examples:')[1:]))
    parser.add_argument('--dataset', choices=list(BASE_CONFIGS),
                        default='nw-ucla')
    parser.add_argument('--split', choices=('tune', 'test'), default='tune',
                        help='tune: subjects 1-8 -> 9-10 of views 1+2; '
                        'test: views 1+2 -> view 3 (default: %(default)s)')
    parser.add_argument('--data', default=osp.join(
        REPO, '..', 'shared', 'data', 'nw_ucla'))
    parser.add_argument('--work-root', default=osp.join(
        REPO, 'work_dirs', 'bench'))
    parser.add_argument('--results', default=None,
                        help='results file (default: benchmarks/results/'
                        '<dataset>_<split>.jsonl)')
    parser.add_argument('--variants', nargs='+', default=[
        'baseline', 'sfhead_branch', 'sfhead_inline', 'frhead'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--passes', type=int, default=20,
                        help='passes over the training split')
    parser.add_argument('--warmup', type=int, default=2,
                        help='linear warm-up passes')
    parser.add_argument('--frames', type=int, default=None,
                        help='clip length (default: 52 NW-UCLA, 32 demo)')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--lr', type=float, default=0.1)
    parser.add_argument('--weight-decay', type=float, default=1e-4)
    parser.add_argument('--base-channels', type=int, default=32,
                        help='CTR-GCN width (published: 64)')
    parser.add_argument('--subset', type=int, default=0,
                        help='first N samples of each split (0: all)')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads per run (0: torch default)')
    parser.add_argument('--epoch-seed', action=argparse.BooleanOptionalAction,
                        default=True, help='reseed python, numpy and torch '
                        'at every epoch (EpochSeedHook), so that a resumed run '
                        'trains exactly like an uninterrupted one (default: '
                        'on; a run field)')
    parser.add_argument('--gradient-share', type=int, default=0,
                        metavar='N', help='log the auxiliary losses\' '
                        'backbone gradient over the classifier\'s every N '
                        'iterations (GradientShareHook; training unchanged, '
                        'so not a run field: give such runs their own '
                        '--results and --work-root)')
    parser.add_argument('--git-commit', action='store_true',
                        help='commit the results file after each finished '
                        'row (only that file), so a long grid survives an '
                        'interrupted session')
    args = parser.parse_args(argv)
    if args.split not in SPLIT_PAIRS[args.dataset]:
        parser.error(f'--split {args.split}: the {args.dataset} set has '
                     f'only {list(SPLIT_PAIRS[args.dataset])}')
    if args.frames is None:
        args.frames = DEFAULT_FRAMES[args.dataset]
    if args.results is None:
        args.results = osp.join(REPO, 'benchmarks', 'results',
                                f'{args.dataset}_{args.split}.jsonl')
    for name in args.variants:
        try:
            parse_variant(name)
        except ValueError as err:
            parser.error(str(err))
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    os.makedirs(args.work_root, exist_ok=True)
    os.makedirs(osp.dirname(osp.abspath(args.results)), exist_ok=True)
    ann_file = prepare_annotations(args)
    done = finished_keys(args.results)
    grid = [run_spec(v, s, args) for s in args.seeds for v in args.variants]
    for i, spec in enumerate(grid, 1):
        key = run_key(spec)
        if key in done:
            print(f'[{i}/{len(grid)}] {key}: done, skipped')
            continue
        print(f'[{i}/{len(grid)}] {key}: training ...', flush=True)
        row = run_one(spec, ann_file, args)
        with open(args.results, 'a') as f:
            f.write(json.dumps(row) + '\n')
        if args.git_commit:
            commit_results(args.results, f'{row["label"]}, seed '
                           f'{spec["seed"]}, {spec["passes"]} passes' +
                           (' (failed)' if row.get('failed') else ''))
        if row.get('failed'):
            print(f'[{i}/{len(grid)}] {key}: FAILED, {row["failed"]}',
                  flush=True)
            continue
        print(f'[{i}/{len(grid)}] {key}: top-1 {row["top1"]:.4f}, mean '
              f'class {row["mean_class_acc"]:.4f}, train '
              f'{row["train_wall_s"]} s wall / {row["train_cpu_s"]} s CPU',
              flush=True)


if __name__ == '__main__':
    main()
