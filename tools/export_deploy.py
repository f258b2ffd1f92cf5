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
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from sfhead_mm.compat import load_checkpoint_weights_only
from sfhead_mm.engine.launch import USER_ERRORS, ConfigError, load_config

# State-dict prefixes of heads that exist only for training, per placement.
TRAINING_ONLY_PREFIXES = {'branch': ('sf_head.', )}


def strip_training_heads(
        state_dict: Dict[str, torch.Tensor],
        model_cfg) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Drop the training-only head weights.

    Returns:
        (deploy state dict, names of the removed entries)
    """
    sf = model_cfg.get('sf_head')
    placement = (sf or {}).get('placement', 'branch') if sf else None
    prefixes = TRAINING_ONLY_PREFIXES.get(placement, ())
    kept = {k: v for k, v in state_dict.items() if not k.startswith(prefixes)}
    return kept, [k for k in state_dict if k.startswith(prefixes)]


def deploy_model_cfg(model_cfg) -> dict:
    """The plain recognizer config the deploy checkpoint loads into."""
    cfg = dict(model_cfg)
    sf = cfg.get('sf_head')
    if sf is None or sf.get('placement', 'branch') == 'branch':
        cfg.pop('sf_head', None)
        if cfg.get('type') == 'SFRecognizerGCN':
            cfg['type'] = 'RecognizerGCN'
    return cfg


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Strip training-only heads from a checkpoint',
        epilog='example: python tools/export_deploy.py CONFIG '
        'work_dirs/x/epoch_6.pth work_dirs/x/deploy.pth')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint file not found: {args.checkpoint}')
    ckpt = load_checkpoint_weights_only(args.checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    kept, removed = strip_training_heads(state, cfg.model)

    # Prove the result loads strictly into the deploy model before writing.
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(deploy_model_cfg(cfg.model))
    model.load_state_dict(kept, strict=True)
    parameter_names = {n for n, _ in MODELS.build(cfg.model).named_parameters()}
    removed_params = sum(state[k].numel() for k in removed
                         if k in parameter_names)
    removed_buffers = sum(state[k].numel() for k in removed
                          if k not in parameter_names)

    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.out + '.tmp'
    torch.save(dict(meta=dict(ckpt.get('meta', {}), deploy=True),
                    state_dict=kept), tmp)
    os.replace(tmp, args.out)
    total = sum(p.numel() for p in model.parameters())
    print(f'removed {removed_params} head parameters (+{removed_buffers} '
          f'buffer values); deploy model has {total} parameters -> '
          f'{args.out}')


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS as err:
        sys.exit(f'error: {err}')
