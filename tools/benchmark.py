"""Cost of the SF-Head on CTR-GCN, measured in one run on this machine.

Builds the models from a config (default: CTR-GCN + SF-Head, NTU60 xsub) and
reports, as medians over ``--reps`` repetitions after ``--warmup``:
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
from typing import Callable, Dict

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from sfhead_mm.engine.launch import load_config
from sfhead_mm.models.deploy import deploy_model_cfg, strip_training_heads

DEFAULT_CONFIG = ('configs/ctrgcn/ctrgcn_sfhead_8xb16-joint-u100-80e_'
                  'ntu60-xsub-keypoint-3d.py')


def median_seconds(fn: Callable[[], None], reps: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        model.train()
        optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step():
            losses = model(inputs, samples, mode='loss')
            loss = sum(v for k, v in losses.items() if k.startswith('loss'))
            optim.zero_grad()
            loss.backward()
            optim.step()
        return step

    def infer(model):
        model.eval()

        def run():
            with torch.no_grad():
                model(inputs, mode='tensor')
        return run

    r = dict(reps=args.reps, warmup=args.warmup)
    results = dict(
        params_plain=count(models['plain']),
        params_head=count(models['branch'].sf_head),
        train_plain=median_seconds(train_step(models['plain']), **r),
        train_branch=median_seconds(train_step(models['branch']), **r),
        train_inline=median_seconds(train_step(models['inline']), **r),
        infer_plain=median_seconds(infer(models['plain']), **r),
        infer_exported=median_seconds(infer(models['exported']), **r),
        infer_inline=median_seconds(infer(models['inline']), **r),
    )
    p = results
    lines = [
        f'config `{args.config}`; input N={args.batch} M={args.persons} '
        f'T={args.frames} V={V}; {torch.get_num_threads()} threads; '
        f'median of {args.reps} after {args.warmup} warm-up', '',
        '| measure | plain | with SF-Head | ratio |', '|---|---|---|---|',
        f'| parameters | {p["params_plain"]:,} | +{p["params_head"]:,} head '
        f'({p["params_head"] / 1e6:.4f} M) | '
        f'{(p["params_plain"] + p["params_head"]) / p["params_plain"]:.4f} |'
    ]
    for name in ('branch', 'inline'):
        lines.append(f'| train step, {name} (s) | {p["train_plain"]:.3f} | '
                     f'{p["train_" + name]:.3f} | '
                     f'{p["train_" + name] / p["train_plain"]:.3f} |')
    for name in ('exported', 'inline'):
        label = 'exported branch' if name == 'exported' else name
        lines.append(f'| inference, {label} (s) | {p["infer_plain"]:.3f} | '
                     f'{p["infer_" + name]:.3f} | '
                     f'{p["infer_" + name] / p["infer_plain"]:.3f} |')
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
