"""Test a checkpoint; optionally dump the per-sample scores.

Example:
    python tools/test.py configs/demo/ctrgcn_sfhead_demo.py \
        work_dirs/demo/epoch_6.pth --dump work_dirs/demo/scores.pkl
"""
import argparse
import os.path as osp
import sys

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from sfhead_mm.engine.checkpoint_loading import load_weights_strictly
from sfhead_mm.engine.launch import (USER_ERRORS, ConfigError,
                                     add_common_args, end_distributed_run,
                                     load_config, merge_common_args,
                                     prepare_config)
from sfhead_mm.evaluation import ScoreCollector, save_scores

from mmaction.registry import RUNNERS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a recognizer checkpoint',
        epilog='example: python tools/test.py CONFIG work_dirs/x/epoch_6.pth '
        '--dump scores.pkl')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--dump', type=str,
        help='write the scores, labels and sample ids to this .pkl '
        '(input of tools/ensemble.py and tools/analyze_ambiguous.py)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> Runner:
    """Returns the runner, which the caller holds until the process ends
    (see ``end_distributed_run``)."""
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint file not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options)
    cfg = merge_common_args(cfg, args)
    # not cfg.load_from: MMEngine loads it with strict=False
    cfg.load_from = None
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ConfigError(f'--dump must end with .pkl, got {args.dump}')
        evaluator = cfg.test_evaluator
        evaluator = list(evaluator) if isinstance(
            evaluator, (list, tuple)) else [evaluator]
        cfg.test_evaluator = evaluator + [dict(type='ScoreCollector')]
    prepare_config(cfg, loaders=('test_dataloader', ))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    load_weights_strictly(model, args.checkpoint, cfg.model, args.config)
    runner.logger.info(f'Loaded checkpoint {args.checkpoint} (strict)')
    runner.test()
    if args.dump is not None and is_main_process():
        dump_scores(runner, args)
    return runner


def dump_scores(runner: Runner, args: argparse.Namespace) -> None:
    """Write the collected scores with each sample's ``frame_dir``."""
    collector = next(m for m in runner.test_evaluator.metrics
                     if isinstance(m, ScoreCollector))
    dataset = runner.test_dataloader.dataset
    sample_ids = [
        str(dataset.get_data_info(i).get('frame_dir', i))
        for i in range(len(dataset))
    ]
    ds_cfg = runner.cfg.test_dataloader.dataset
    save_scores(
        args.dump, collector.scores, collector.labels, sample_ids,
        meta=dict(config=osp.abspath(args.config),
                  checkpoint=osp.abspath(args.checkpoint),
                  ann_file=ds_cfg.get('ann_file'),
                  split=ds_cfg.get('split')))
    print(f'scores of {len(sample_ids)} samples -> {args.dump}')


if __name__ == '__main__':
    try:
        runner = main()  # held until the end: see end_distributed_run
    except USER_ERRORS as err:
        sys.exit(f'error: {err}')
    end_distributed_run()
