"""Loading a trained recognizer and its data, for the analysis tools."""
import os.path as osp
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmaction.apis import init_recognizer
from sfhead_mm.engine.checkpoint_loading import load_weights_strictly
from sfhead_mm.engine.launch import ConfigError, load_config
from sfhead_mm.models.deploy import deploy_model_cfg

__all__ = ['load_recognizer', 'iter_batches']


def load_recognizer(config: str, checkpoint: str,
                    deploy: bool = False) -> torch.nn.Module:
    """mmaction's ``init_recognizer`` (CPU, eval mode) on our config, with
    the checkpoint loaded strictly (:func:`load_weights_strictly`).

    Args:
        deploy: build the deploy model (branch heads removed) instead of the
            training model; the checkpoint may be either kind.
    """
    cfg = load_config(config)
    train_model_cfg = cfg.model
    if deploy:
        cfg.model = Config(deploy_model_cfg(cfg.model))
    if not osp.isfile(checkpoint):
        raise ConfigError(f'checkpoint file not found: {checkpoint}')
    # mmaction loads with strict=False (random weights for a checkpoint of
    # another model); we load strictly, training-only heads by name.
    model = init_recognizer(cfg, None, device='cpu')
    load_weights_strictly(model, checkpoint, train_model_cfg, config)
    return model


def iter_batches(model: torch.nn.Module, loader: str = 'test_dataloader',
                 batch_size: Optional[int] = None
                 ) -> Iterator[Tuple[torch.Tensor, list]]:
    """Yield ``(inputs, data_samples)`` of the model config's dataloader,
    built by MMEngine's ``Runner.build_dataloader`` (workers off) and passed
    through the model's data preprocessor; inputs (N, clips, M, T, V, C)."""
    loader_cfg = model.cfg.get(loader).copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if batch_size is not None:
        loader_cfg['batch_size'] = batch_size
    for batch in Runner.build_dataloader(loader_cfg):
        data = model.data_preprocessor(batch, False)
        yield data['inputs'], data['data_samples']
