"""Write a deploy checkpoint: the recognizer without training-only heads.

With ``placement='branch'`` the SF-Heads never run at test time, so the
exported weights load with ``strict=True`` into the plain backbone config
(the same config without ``sf_head``). Inline heads are part of the model
and are kept.

Example:
    python tools/export_deploy.py configs/demo/ctrgcn_sfhead_demo.py \
        work_dirs/demo/epoch_6.pth work_dirs/demo/deploy.pth
"""
import argparse
import sys

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from sfhead_mm.engine.checkpoint_loading import (checkpoint_state_dict,
                                                 load_weights_strictly,
                                                 read_checkpoint)
from sfhead_mm.engine.launch import USER_ERRORS, ConfigError, load_config
from sfhead_mm.fileio import OutputPathError, check_output_path, write_atomic
from sfhead_mm.models.deploy import deploy_model_cfg, strip_training_heads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Strip training-only heads from a checkpoint',
        epilog='example: python tools/export_deploy.py CONFIG '
        'work_dirs/x/epoch_6.pth work_dirs/x/deploy.pth')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    args = parser.parse_args(argv)
    check_output_path(args.out, [args.checkpoint], what='OUT')
    cfg = load_config(args.config)
    ckpt = read_checkpoint(args.checkpoint)
    state = checkpoint_state_dict(ckpt, args.checkpoint)
    kept, removed = strip_training_heads(state, cfg.model)

    # Prove the result loads strictly into the deploy model before writing.
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(deploy_model_cfg(cfg.model))
    load_weights_strictly(model, args.checkpoint, cfg.model, args.config)
    parameter_names = {n for n, _ in MODELS.build(cfg.model).named_parameters()}
    removed_params = sum(state[k].numel() for k in removed
                         if k in parameter_names)
    removed_buffers = sum(state[k].numel() for k in removed
                          if k not in parameter_names)

    deploy = dict(meta=dict(ckpt.get('meta', {}), deploy=True),
                  state_dict=kept)
    try:  # a temporary file beside OUT, removed if anything fails
        write_atomic(args.out, lambda tmp: torch.save(deploy, tmp))
    except OSError as err:
        raise ConfigError(f'could not write {args.out}: {err.strerror or err}'
                          '; nothing was written') from err
    total = sum(p.numel() for p in model.parameters())
    print(f'removed {removed_params} head parameters (+{removed_buffers} '
          f'buffer values); deploy model has {total} parameters -> '
          f'{args.out}')


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS + (OutputPathError, ) as err:
        sys.exit(f'error: {err}')
