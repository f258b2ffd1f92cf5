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
import ast
import datetime
import hashlib
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

BASE_CONFIGS = {
    'nw-ucla': 'configs/ctrgcn/ctrgcn_1xb16-joint-52f-65e_nw-ucla-xview-'
    'keypoint-3d.py',
    'demo': 'configs/demo/ctrgcn_demo.py',
}
# (train split, test split) of each split pair, per dataset
SPLIT_PAIRS = {
    'nw-ucla': dict(tune=('xview_tunetrain', 'xview_tuneval'),
                    test=('xview_train', 'xview_val')),
    'demo': dict(test=('xsub_train', 'xsub_val')),
}
DEFAULT_FRAMES = {'nw-ucla': 52, 'demo': 32}
# class names: the package's NW-UCLA list; the demo set's own, in its file
CLASS_SET = {'nw-ucla': 'nw-ucla'}

# The four main variants: recognizer and auxiliary head of each.
VARIANTS: Dict[str, dict] = {
    'baseline': dict(type='RecognizerGCN'),
    'sfhead_branch': dict(type='SFRecognizerGCN',
                          sf_head=dict(placement='branch')),
    'sfhead_inline': dict(type='SFRecognizerGCN',
                          sf_head=dict(placement='inline')),
    'frhead': dict(type='SFRecognizerGCN', fr_head=dict()),
}
LABELS: Dict[str, str] = {
    'baseline': 'CTR-GCN (baseline)',
    'sfhead_branch': '+ SF-Head, branch',
    'sfhead_inline': '+ SF-Head, inline',
    'frhead': '+ FR-Head',
}
# Names of the one-seed ablations of the short pilot (old results file).
ABLATIONS: Dict[str, str] = {
    'sf_stages_8-10': 'sfhead_branch+stages=[8, 9, 10]',
    'sf_lambda_x0.5': 'sfhead_branch+lambda_con=0.1+lambda_red=0.05',
    'sf_lambda_x2': 'sfhead_branch+lambda_con=0.4+lambda_red=0.2',
    'sf_tau_0.5': 'sfhead_branch+tau=0.5',
    'sf_alpha_2': 'sfhead_branch+alpha=2.0',
    'sf_eps_0.1': 'sfhead_branch+eps=0.1',
}
# Fields that define a run (its key), in the order they are shown. The
# torch thread count is one: 1 and 2 threads give different float rounding
# (548 of CTR-GCN's 660 tensors differ after 3 SGD steps), so runs paired by
# seed must share it. Rows written before it was a field lack it.
RUN_FIELDS = ('dataset', 'split', 'variant', 'seed', 'passes', 'warmup',
              'frames', 'batch', 'lr', 'weight_decay', 'base_channels',
              'subset', 'threads')


def parse_variant(name: str) -> Tuple[str, dict]:
    """``'sfhead_branch+tau=0.03'`` -> ``('sfhead_branch', {'tau': 0.03})``.

    Raises:
        ValueError: unknown base variant or a field that is not
        ``name=python-literal``.
    """
    name = ABLATIONS.get(name, name)
    base, *items = name.split('+')
    if base not in VARIANTS:
        raise ValueError(f'variant {name!r}: unknown base {base!r}; expected '
                         f'one of {list(VARIANTS)} (or an old ablation name '
                         f'{list(ABLATIONS)})')
    fields = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key.isidentifier():
            raise ValueError(f'variant {name!r}: {item!r} is not field=value')
        try:
            fields[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            fields[key] = value  # a bare string, e.g. phi=printed
    if fields and base == 'baseline':
        raise ValueError(f'variant {name!r}: the baseline has no head fields')
    return base, fields


def variant_label(name: str) -> str:
    """A readable label: the base's label and the changed fields."""
    base, fields = parse_variant(name)
    extra = ', '.join(f'{k}={v!r}' for k, v in fields.items())
    return LABELS[base] + (f' ({extra})' if extra else '')


# Head fields a dataset's backbone needs. The demo's CTR-GCN has 4 blocks
# (inflated at 3), so FR-Head's published blocks 1, 5, 8, 10 of 10 become
# their roles there: the first block, the first inflated one, the last.
DATASET_HEAD_FIELDS: Dict[str, Dict[str, dict]] = {
    'demo': {'frhead': dict(stages=[1, 3, 4], stage_weights=[0.1, 0.2, 1.0])},
}


def variant_model(name: str, dataset: str = 'nw-ucla') -> dict:
    """The ``model`` overrides of a variant on ``dataset``."""
    base, fields = parse_variant(name)
    model = json.loads(json.dumps(VARIANTS[base]))  # a deep copy
    head = 'fr_head' if 'fr_head' in model else 'sf_head'
    model.get(head, {}).update(DATASET_HEAD_FIELDS.get(dataset, {}).get(
        base, {}))
    if fields:
        model[head].update(fields)
    return model


def run_spec(variant: str, seed: int, args: argparse.Namespace) -> dict:
    """Every field of one run (see ``RUN_FIELDS``)."""
    return dict(dataset=args.dataset, split=args.split, variant=variant,
                seed=seed, passes=args.passes, warmup=args.warmup,
                frames=args.frames, batch=args.batch, lr=args.lr,
                weight_decay=args.weight_decay,
                base_channels=args.base_channels, subset=args.subset,
                threads=args.threads)


def run_key(spec: dict) -> str:
    """The run's key: all its fields, ``name=value`` joined by ``|``."""
    return '|'.join(f'{k}={spec[k]}' for k in RUN_FIELDS)


def run_dir_of(spec: dict, work_root: str) -> str:
    """A work dir per key (a changed field never reuses another's dir)."""
    digest = hashlib.sha1(run_key(spec).encode()).hexdigest()[:10]
    slug = ''.join(c if c.isalnum() or c in '-_.' else '_'
                   for c in spec['variant'])[:60]
    return osp.join(work_root, f'{spec["dataset"]}_{spec["split"]}',
                    f'{slug}_seed{spec["seed"]}_{digest}')


def build_config(spec: dict, ann_file: str, gradient_share: int = 0):
    """The run's full MMEngine config (base config + variant + protocol);
    ``gradient_share`` > 0 adds ``GradientShareHook`` at that interval
    (it leaves training unchanged, so it is not a run field)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, BASE_CONFIGS[spec['dataset']]))
    train_split, test_split = SPLIT_PAIRS[spec['dataset']][spec['split']]
    width = spec['base_channels']
    cfg.ann_file = ann_file
    cfg.model.update(variant_model(spec['variant'], spec['dataset']))
    backbone = cfg.model.backbone
    backbone.base_channels = width
    # the last width: doubled at each inflate stage (CTRGCN default: 5, 8)
    doublings = len(backbone.get('inflate_stages', [5, 8]))
    cfg.model.cls_head.in_channels = width * 2**doublings
    subset = dict(indices=spec['subset']) if spec['subset'] else {}
    for loader, split in (('train_dataloader', train_split),
                          ('test_dataloader', test_split)):
        dataset = cfg[loader].dataset
        inner = dataset.dataset if 'dataset' in dataset else dataset
        inner.update(ann_file=ann_file, split=split, **subset)
        for step in inner.pipeline:
            if 'clip_len' in step:
                step['clip_len'] = spec['frames']
        cfg[loader].update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.batch_size = spec['batch']
    if 'times' in cfg.train_dataloader.dataset:
        cfg.train_dataloader.dataset.times = 1  # one epoch = one pass
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop',
                         max_epochs=spec['passes'], val_interval=10**6)
    cfg.optim_wrapper = dict(optimizer=dict(
        type='SGD', lr=spec['lr'], momentum=0.9, nesterov=True,
        weight_decay=spec['weight_decay']))
    warmup, passes = min(spec['warmup'], spec['passes']), spec['passes']
    schedulers = []
    if warmup > 0:
        schedulers.append(dict(
            type='LinearLR', start_factor=0.01, end_factor=1.0,
            by_epoch=True, begin=0, end=warmup,
            convert_to_iter_based=True))
    if passes > warmup:
        schedulers.append(dict(
            type='CosineAnnealingLR', T_max=passes - warmup, eta_min=0.0,
            by_epoch=True, begin=warmup, end=passes,
            convert_to_iter_based=True))
    cfg.param_scheduler = schedulers
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True,
        save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.randomness = dict(seed=spec['seed'], deterministic=False)
    # training time summed over resumed attempts, kept in the checkpoints
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(
        type='TrainTimeHook')]
    if gradient_share:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(
            type='GradientShareHook', interval=gradient_share)]
    return cfg


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
