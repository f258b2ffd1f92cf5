"""Train-step speed of ``CTRGCN`` against the loop-over-subsets reference.

Times forward + backward (+ an SGD step) of the backbone with a mean-feature
loss, for :class:`sfhead_mm.models.CTRGCN` (subsets stacked, one batched
aggregation) and ``tests/models/ctrgcn_reference.ReferenceCTRGCN`` (one CTRGC
per subset, Python loop, the original code's structure), both loaded with the
same weights. The two models alternate step by step (shared machines drift
in load); prints the median over ``--reps`` timed steps after ``--warmup``
untimed ones, and the ratio reference / ours. Measured on a 2-core CPU
(torch 2.13): 4795 vs 3591 ms per step at the defaults, 1.34x (1.39x in
another run; 1.43x with ``--threads 1``); again with ``--threads 1``, one
core busy with a training run (load average about 2): 6496 vs 5153 ms,
1.26x.

The reference is our own loop, not the original code: for ours against
the original ``Uason-Chen/CTR-GCN`` model (same train step with the
classifier), see ``benchmarks/backbone_speed.py --ctrgcn``.

Usage (from the repository root)::

    python benchmarks/ctrgcn_speed.py                     # batch 16, T 64
    python benchmarks/ctrgcn_speed.py --batch 4 --frames 32 --reps 5
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sfhead_mm  # noqa: E402,F401  repairs mmaction before its import
from sfhead_mm.models.backbones.ctrgcn import CTRGCN  # noqa: E402
from tests.models.ctrgcn_reference import (  # noqa: E402
    ReferenceCTRGCN, reference_to_ctrgcn_state_dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=16, help='clips N')
    parser.add_argument('--frames', type=int, default=64, help='frames T')
    parser.add_argument('--persons', type=int, default=2, help='persons M')
    parser.add_argument('--layout', default='nturgb+d', help='graph layout')
    parser.add_argument('--base-channels', type=int, default=64)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (default: torch default)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def make_train_step(model: torch.nn.Module, x: torch.Tensor):
    """A closure running forward + backward + SGD step, returning seconds."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train()

    def step() -> float:
        if x.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model(x).mean().backward()
        optimizer.step()
        if x.is_cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    return step


def time_interleaved(steps: dict, warmup: int, reps: int) -> dict:
    """Median seconds per step; the models alternate so load drifts hit
    both alike (the CI and dev machines are shared)."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times = {name: [] for name in steps}
    for _ in range(reps):
        for name, step in steps.items():
            times[name].append(step())
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    graph_cfg = dict(layout=args.layout, mode='spatial')
    ours = CTRGCN(graph_cfg, base_channels=args.base_channels,
                  num_person=args.persons)
    reference = ReferenceCTRGCN(
        ours.graph.A, base_channels=args.base_channels,
        num_person=args.persons)
    ours.load_state_dict(reference_to_ctrgcn_state_dict(
        reference.state_dict()))
    ours.to(args.device)
    reference.to(args.device)
    V = ours.graph.num_node
    x = torch.randn(args.batch, args.persons, args.frames, V, 3,
                    device=args.device)
    with torch.no_grad():
        diff = (ours(x) - reference(x)).abs().max().item()

    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'N={args.batch} M={args.persons} T={args.frames} V={V} '
          f'base={args.base_channels} warmup={args.warmup} reps={args.reps}')
    print(f'max |ours - reference| on one forward: {diff:.2e}')
    medians = time_interleaved(
        dict(reference=make_train_step(reference, x),
             ours=make_train_step(ours, x)), args.warmup, args.reps)
    t_ref, t_ours = medians['reference'], medians['ours']
    print(f'reference (loop over subsets): {t_ref * 1e3:9.1f} ms / step')
    print(f'ours (subsets stacked):        {t_ours * 1e3:9.1f} ms / step')
    print(f'speed-up reference / ours:     {t_ref / t_ours:9.2f}x')


if __name__ == '__main__':
    main()
