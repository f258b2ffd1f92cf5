"""`make demo`: train the demo config, test it, print what a user looks at.

Example:
    python tools/run_demo.py --config configs/demo/ctrgcn_sfhead_demo.py \
        --work-dir work_dirs/demo
"""
import argparse
import glob
import os.path as osp
import sys
import time

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
from mmengine.runner import Runner
from sfhead_mm.engine.launch import USER_ERRORS, load_config, prepare_config
from sfhead_mm.engine.safety_hooks import use_safety_hooks


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config',
                        default='configs/demo/ctrgcn_sfhead_demo.py')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args(argv)

    cfg = load_config(args.config)
    cfg.work_dir = args.work_dir
    cfg.launcher = 'none'
    use_safety_hooks(cfg)  # lock, atomic checkpoints, non-finite stop
    prepare_config(cfg)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    hub = runner.message_hub
    losses = {
        key.split('/', 1)[1]: hub.get_scalar(key).current()
        for key in sorted(hub.log_scalars)
        if key.startswith('train/loss')
    }
    num_classes = cfg.model.cls_head.num_classes
    best = sorted(glob.glob(osp.join(cfg.work_dir, 'best_*.pth')))
    last = osp.join(cfg.work_dir, f'epoch_{runner.epoch}.pth')
    print('\n' + '=' * 64)
    print(f'demo finished in {time.time() - start:.0f} s '
          f'({runner.epoch} epochs, config {args.config})')
    print('last training losses: ' +
          ', '.join(f'{k}={v:.4f}' for k, v in losses.items()))
    print(f'test top-1 accuracy: {metrics["acc/top1"]:.4f} '
          f'(chance {1 / num_classes:.4f}), top-5: '
          f'{metrics["acc/top5"]:.4f}, mean class accuracy: '
          f'{metrics["acc/mean1"]:.4f}')
    print(f'checkpoint: {last}' + (f' (best: {best[-1]})' if best else ''))
    print(f'log: {osp.join(runner.log_dir, runner.timestamp + ".log")}')
    print('=' * 64)


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS as err:
        sys.exit(f'error: {err}')
