"""Train a skeleton recognizer (mmaction's command line, plus pre-flight checks).

Example:
    python tools/train.py configs/demo/ctrgcn_sfhead_demo.py --work-dir work_dirs/demo
    bash tools/dist_train.sh CONFIG 8          # torchrun, NCCL on GPUs, gloo on CPU
"""
import argparse
import os
import sys

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
from mmengine.runner import Runner
from sfhead_mm.engine.launch import (USER_ERRORS, add_common_args, enable_amp,
                                     end_distributed_run, load_config,
                                     merge_common_args, prepare_config)
from sfhead_mm.engine.resume import resolve_resume_checkpoint
from sfhead_mm.engine.safety_hooks import (NonFiniteLossError,
                                           NonFiniteWeightsError,
                                           WorkDirLockedError,
                                           acquire_work_dir_lock,
                                           use_safety_hooks)

from mmaction.registry import RUNNERS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train an action recognizer',
        epilog='example: python tools/train.py '
        'configs/demo/ctrgcn_sfhead_demo.py --work-dir work_dirs/demo '
        '--cfg-options train_cfg.max_epochs=2')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (CUDA only)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the LR by the actual total batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='different seeds for different ranks')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic CUDNN kernels')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> Runner:
    """Returns the runner, which the caller holds until the process ends
    (see ``end_distributed_run``)."""
    args = parse_args(argv)
    cfg = load_config(args.config)
    cfg = merge_common_args(cfg, args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if cfg.get('randomness') is None or args.seed is not None:
        cfg.randomness = dict(
            seed=args.seed if args.seed is not None else
            (cfg.get('randomness') or {}).get('seed'),
            diff_rank_seed=args.diff_rank_seed,
            deterministic=args.deterministic)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    use_safety_hooks(cfg)
    main_rank = int(os.environ.get('RANK', os.environ.get('SLURM_PROCID',
                                                          0))) == 0
    if main_rank:  # before anything is written to the work dir
        acquire_work_dir_lock(cfg.work_dir)
    if args.resume is not None:
        # MMEngine would follow last_checkpoint's absolute path, or start
        # from scratch without a word; see sfhead_mm/engine/resume.py
        cfg.load_from = resolve_resume_checkpoint(
            cfg.work_dir, None if args.resume == 'auto' else args.resume,
            report=print if main_rank else (lambda _: None))
        cfg.resume = cfg.load_from is not None
    prepare_config(cfg, loaders=('train_dataloader', 'val_dataloader'))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    try:
        runner = main()  # held until the end: see end_distributed_run
    except USER_ERRORS + (NonFiniteLossError, NonFiniteWeightsError,
                          WorkDirLockedError) as err:
        sys.exit(f'error: {err}')
    end_distributed_run()
