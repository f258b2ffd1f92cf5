"""Cost of the SF-Head on CTR-GCN, measured in one run on this machine.

Builds the models from a config (default: CTR-GCN + SF-Head, NTU60 xsub) and
reports, as medians over ``--reps`` interleaved rounds after ``--warmup``:
parameters with and without the head; train step time (forward + backward +
SGD step) of the plain model vs branch and inline heads; inference latency
of the plain model vs the exported branch model vs the inline model.

Example:
    python tools/benchmark.py --batch 16 --frames 64 --reps 5
"""
import argparse
import copy
import json
import statistics
import time
from typing import Callable, Dict, List

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from sfhead_mm.engine.launch import load_config
from sfhead_mm.models.deploy import deploy_model_cfg, strip_training_heads

DEFAULT_CONFIG = ('configs/ctrgcn/ctrgcn_sfhead_8xb16-joint-u100-80e_'
                  'ntu60-xsub-keypoint-3d.py')


def interleaved_timings(fns: Dict[str, Callable[[], None]], reps: int,
                        warmup: int) -> Dict[str, List[float]]:
    """Seconds per call of each function, ``reps`` rounds after ``warmup``.

    Each round calls every function once, in turn, so slow drifts of the
    machine (other jobs, clock changes) hit all of them alike; ratios are
    then taken within a round.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(times: Dict[str, List[float]], name: str,
                 base: str) -> float:
    """Median over rounds of ``time[name] / time[base]`` in the same round."""
    return statistics.median(
        t / b for t, b in zip(times[name], times[base]))


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def main(argv=None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python '
                                     'tools/benchmark.py --batch 16 '
                                     '--frames 64 --reps 5')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--frames', type=int, default=64)
    parser.add_argument('--persons', type=int, default=2)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    parser.add_argument('--json', default=None,
                        help='also write the figures and the table here')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = load_config(args.config).model
    if 'sf_head' not in cfg:
        raise SystemExit(f'error: {args.config} has no model.sf_head')
    torch.manual_seed(0)
    branch_cfg = copy.deepcopy(cfg)
    branch_cfg.sf_head.placement = 'branch'
    inline_cfg = copy.deepcopy(cfg)
    inline_cfg.sf_head.placement = 'inline'
    models = dict(plain=MODELS.build(deploy_model_cfg(branch_cfg)),
                  branch=MODELS.build(branch_cfg),
                  inline=MODELS.build(inline_cfg))
    # the exported branch model: deploy weights loaded strictly into plain
    exported = MODELS.build(deploy_model_cfg(branch_cfg))
    kept, _ = strip_training_heads(models['branch'].state_dict(), branch_cfg)
    exported.load_state_dict(kept, strict=True)
    models['exported'] = exported

    V = 25
    num_classes = cfg.cls_head.num_classes
    inputs = torch.randn(args.batch, 1, args.persons, args.frames, V, 3)
    samples = [ActionDataSample().set_gt_label(i % num_classes)
               for i in range(args.batch)]

    def train_step(model):
        optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step():
            model.train()
            losses = model(inputs, samples, mode='loss')
            loss = sum(v for k, v in losses.items() if k.startswith('loss'))
            optim.zero_grad()
            loss.backward()
            optim.step()
        return step

    def infer(model):

        def run():
            model.eval()
            with torch.no_grad():
                model(inputs, mode='tensor')
        return run

    r = dict(reps=args.reps, warmup=args.warmup)
    train = interleaved_timings(
        {name: train_step(models[name])
         for name in ('plain', 'branch', 'inline')}, **r)
    infer_times = interleaved_timings(
        {name: infer(models[name])
         for name in ('plain', 'exported', 'inline')}, **r)
    results = dict(
        params_plain=count(models['plain']),
        params_head=count(models['branch'].sf_head),
        **{f'train_{k}': statistics.median(v) for k, v in train.items()},
        **{f'infer_{k}': statistics.median(v)
           for k, v in infer_times.items()},
        ratio_train_branch=paired_ratio(train, 'branch', 'plain'),
        ratio_train_inline=paired_ratio(train, 'inline', 'plain'),
        ratio_infer_exported=paired_ratio(infer_times, 'exported', 'plain'),
        ratio_infer_inline=paired_ratio(infer_times, 'inline', 'plain'),
    )
    p = results
    lines = [
        f'config `{args.config}`; input N={args.batch} M={args.persons} '
        f'T={args.frames} V={V}; {torch.get_num_threads()} threads; '
        f'median of {args.reps} interleaved rounds after {args.warmup} '
        'warm-up; ratio: median of the per-round ratios', '',
        '| measure | plain | with SF-Head | ratio |', '|---|---|---|---|',
        f'| parameters | {p["params_plain"]:,} | +{p["params_head"]:,} head '
        f'({p["params_head"] / 1e6:.4f} M) | '
        f'{(p["params_plain"] + p["params_head"]) / p["params_plain"]:.4f} |'
    ]
    for name in ('branch', 'inline'):
        lines.append(f'| train step, {name} (s) | {p["train_plain"]:.3f} | '
                     f'{p["train_" + name]:.3f} | '
                     f'{p["ratio_train_" + name]:.3f} |')
    for name in ('exported', 'inline'):
        label = 'exported branch' if name == 'exported' else name
        lines.append(f'| inference, {label} (s) | {p["infer_plain"]:.3f} | '
                     f'{p["infer_" + name]:.3f} | '
                     f'{p["ratio_infer_" + name]:.3f} |')
    table = '\n'.join(lines)
    print(table)
    if args.json:
        from sfhead_mm.fileio import write_text_atomic
        payload = json.dumps(dict(results=results, table=table,
                                  args=vars(args)), indent=1)
        write_text_atomic(payload, args.json)
    return results


if __name__ == '__main__':
    main()
