"""Speed of the AC-FA gates' 2->1 convolution: ``F.conv2d`` vs
:func:`sfhead_mm.models.sf_head.banded_conv2d` (the same convolution as a
banded conv1d, which the head uses).

For each gate map of CTR-GCN + SF-Head at NTU size (B' = N * M * g bodies x
groups; the channel gate's (T, V), the temporal gate's (C', V) and the
spatial gate's (T, C') maps of the three block widths), times forward +
backward ("train") and forward without autograd ("infer") of: ``F.conv2d``
on the NCHW map (what ``nn.Conv2d`` does), ``F.conv2d`` on the channels-last
map, and ``banded_conv2d``. Rounds interleave the three; prints medians and
the ratio conv2d / banded (above 1: banded is faster), and the
sums over all maps.

Usage (from the repository root)::

    python benchmarks/gate_conv_speed.py
    python benchmarks/gate_conv_speed.py --batch 4 --reps 5 --threads 1
"""
import argparse
import os.path as osp
import statistics
import sys
from typing import Callable, Dict, Tuple

import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sfhead_mm  # noqa: E402,F401  repairs mmaction before its import
from sfhead_mm.models.sf_head import (banded_conv2d,  # noqa: E402
                                      gate_band_dim)
from tools.benchmark import interleaved_timings, paired_ratio  # noqa: E402

# CTR-GCN blocks: (channels C, frames T at that depth for T=64 input)
BLOCKS = ((64, 64), (128, 32), (256, 16))


def gate_maps(batch: int, persons: int, frames: int, groups: int,
              joints: int = 25) -> Dict[str, Tuple[Tuple[int, ...], int]]:
    """name -> ((B', 2, H, W), band_dim) for every distinct gate map."""
    maps = {}
    bodies = batch * persons * groups
    for channels, depth_frames in BLOCKS:
        t = max(1, depth_frames * frames // 64)
        c = channels // (4 * groups)  # C'
        for axis, name, (h, w) in (('channel', 'channel (T, V)', (t, joints)),
                                   ('temporal', "temporal (C', V)",
                                    (c, joints)),
                                   ('spatial', "spatial (T, C')", (t, c))):
            maps[f'C={channels} {name}'] = ((bodies, 2, h, w),
                                            gate_band_dim(axis, h, w))
    return maps


def make_calls(shape: Tuple[int, ...], band_dim: int,
               kernel: int) -> Dict[str, Dict[str, Callable[[], None]]]:
    x = torch.randn(*shape, requires_grad=True)
    w = torch.randn(1, shape[1], kernel, kernel, requires_grad=True)
    x_cl = x.detach().contiguous(
        memory_format=torch.channels_last).requires_grad_()
    pad = kernel // 2
    forward = dict(
        conv2d=lambda: F.conv2d(x, w, padding=pad),
        conv2d_channels_last=lambda: F.conv2d(x_cl, w, padding=pad),
        banded=lambda: banded_conv2d(x, w, band_dim))

    def train(fn):
        return lambda: fn().sum().backward()

    def infer(fn):
        def run():
            with torch.no_grad():
                fn()
        return run

    return dict(train={k: train(f) for k, f in forward.items()},
                infer={k: infer(f) for k, f in forward.items()})


def main(argv=None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=16, help='clips N')
    parser.add_argument('--frames', type=int, default=64, help='input T')
    parser.add_argument('--persons', type=int, default=2, help='persons M')
    parser.add_argument('--groups', type=int, default=8, help='SSTE g')
    parser.add_argument('--kernel', type=int, default=7)
    parser.add_argument('--reps', type=int, default=9)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f'N={args.batch} M={args.persons} T={args.frames} g={args.groups} '
          f'k={args.kernel}; {torch.get_num_threads()} threads; median ms '
          f'of {args.reps} interleaved rounds; ratio = conv2d / banded')
    print('| gate map (B\', 2, H, W) | mode | conv2d | conv2d channels-last '
          '| banded | ratio |')
    print('|---|---|---|---|---|---|')
    ratios = {}
    totals = {mode: dict(conv2d=0.0, conv2d_channels_last=0.0, banded=0.0)
              for mode in ('train', 'infer')}
    maps = gate_maps(args.batch, args.persons, args.frames, args.groups)
    for name, (shape, band_dim) in maps.items():
        for mode, calls in make_calls(shape, band_dim, args.kernel).items():
            times = interleaved_timings(calls, args.reps, args.warmup)
            ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
            ratio = 1 / paired_ratio(times, 'banded', 'conv2d')
            ratios[f'{name} {mode}'] = ratio
            for k in ms:
                totals[mode][k] += ms[k]
            print(f'| {name} {tuple(shape)} | {mode} | {ms["conv2d"]:.2f} | '
                  f'{ms["conv2d_channels_last"]:.2f} | {ms["banded"]:.2f} | '
                  f'{ratio:.2f} |')
    for mode, t in totals.items():
        ratios[f'all gates {mode}'] = t['conv2d'] / t['banded']
        print(f'| all gates (sum of the medians) | {mode} | '
              f'{t["conv2d"]:.2f} | {t["conv2d_channels_last"]:.2f} | '
              f'{t["banded"]:.2f} | {t["conv2d"] / t["banded"]:.2f} |')
    return ratios


if __name__ == '__main__':
    main()
