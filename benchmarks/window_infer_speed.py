"""Sliding-window inference speed (``tools/infer.py --window``) of CTR-GCN
at NTU width on CPU, against real time at 30 fps.

The model is built from
``configs/ctrgcn/ctrgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py``
(deploy model: 10 blocks, 64/128/256 channels, 25 joints, 2 persons,
``clip_len`` 100) with its initial weights (speed does not depend on them).
The sequence is demo clips (``data_prep/make_demo.py``) end to end, as long
as ``--seconds`` at 30 fps. For each stride, the whole of
:func:`tools.sliding_window.predict_windows` is timed (the config's test
pipeline per window, batching, forward, top-k), after one warm-up batch;
the best of ``--repeats`` runs is kept. "x real time" = sequence duration at
30 fps / wall time. The process CPU time (all threads) and the machine's
load average are printed too: on a shared machine the wall time counts the
other processes' share of the cores.

Usage (from the repository root)::

    python benchmarks/window_infer_speed.py
    python benchmarks/window_infer_speed.py --seconds 60 --strides 25 50 \\
        --window 100 --batch-size 16 --threads 2
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import List

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sfhead_mm  # noqa: E402,F401  repairs mmaction before its import

CONFIG = ('configs/ctrgcn/'
          'ctrgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py')
FPS = 30


def build_model(config: str):
    """The deploy model of ``config`` with initial weights, eval, CPU."""
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    from sfhead_mm.engine.launch import load_config
    from sfhead_mm.models.deploy import deploy_model_cfg
    cfg = load_config(osp.join(ROOT, config))
    cfg.model = Config(deploy_model_cfg(cfg.model))
    return init_recognizer(cfg, None, device='cpu')


def long_sequence(frames: int) -> dict:
    """Demo clips end to end, cut to ``frames`` frames: keypoint
    float32 [1, frames, 25, 3]."""
    from data_prep.make_demo import make_demo_dataset
    clips, total, subjects = [], 0, 2
    while total < frames:
        data = make_demo_dataset(seed=0, subjects=subjects, per_class=2)
        clips = [a['keypoint'] for a in data['annotations']]
        total = sum(c.shape[1] for c in clips)
        subjects *= 2
    keypoint = np.concatenate(clips, 1)[:, :frames]
    return dict(keypoint=keypoint, total_frames=frames, dims=3)


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--seconds', type=float, default=60.0,
                        help='sequence length at 30 fps (default: 60)')
    parser.add_argument('--window', type=int, default=100,
                        help='W (default: 100, the config\'s clip_len)')
    parser.add_argument('--strides', type=int, nargs='+', default=[25, 50],
                        help='S values (default: 25 50)')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch\'s choice)')
    parser.add_argument('--repeats', type=int, default=2)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from tools.sliding_window import predict_windows

    model = build_model(args.config)
    frames = int(args.seconds * FPS)
    seq = long_sequence(frames)
    params = sum(p.numel() for p in model.parameters())
    print(f'{args.config}: deploy model {params / 1e6:.2f} M parameters; '
          f'sequence {frames} frames ({args.seconds:g} s at {FPS} fps); '
          f'window {args.window}; batch {args.batch_size}; torch threads '
          f'{torch.get_num_threads()}; CPUs {os.cpu_count()}')
    print(f'load average before: {os.getloadavg()[0]:.1f}')
    print('| stride | windows | wall s | CPU s | frames/s | x real time |')
    print('|---:|---:|---:|---:|---:|---:|')
    warm = args.window + args.batch_size - 1  # one full batch, stride 1
    predict_windows(model, dict(seq, keypoint=seq['keypoint'][:, :warm],
                                total_frames=warm),
                    args.window, 1, batch_size=args.batch_size,
                    progress=False)
    for stride in args.strides:
        best, cpu = float('inf'), float('inf')
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            windows = predict_windows(model, seq, args.window, stride,
                                      batch_size=args.batch_size,
                                      progress=False)
            wall = time.perf_counter() - start
            if wall < best:
                best, cpu = wall, time.process_time() - start_cpu
        print(f'| {stride} | {len(windows)} | {best:.2f} | {cpu:.2f} | '
              f'{frames / best:.0f} | {frames / FPS / best:.1f} |',
              flush=True)
    print(f'load average after: {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
