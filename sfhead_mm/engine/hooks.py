"""Training hooks registered in mmaction's ``HOOKS``."""
import json
import os.path as osp
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS

__all__ = ['EpochSeedHook', 'DDPConsistencyHook']


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Re-seed python, numpy and torch at the start of every epoch.

    MMEngine seeds once, at Runner start-up, and does not save the random
    states in checkpoints, so a resumed run draws different augmentations
    (mmaction's ``UniformSampleFrames`` uses numpy's global state) and
    dropout masks than an uninterrupted one. Seeding each epoch from
    ``(seed, epoch, rank)`` makes ``--resume`` reproduce the uninterrupted
    run exactly on CPU (and as far as CUDA kernels allow on GPU).

    Args:
        seed (int, optional): base seed. Defaults to the Runner's seed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        base = self.seed if self.seed is not None else runner.seed
        seed = (int(base) * 1_000_003 + runner.epoch * 1009 +
                get_rank()) % (2**31)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)


@HOOKS.register_module()
class DDPConsistencyHook(Hook):
    """Check that every rank holds the same parameters and buffers.

    After training (and after each epoch when ``every_epoch``), each rank
    gathers all ranks' flattened state and compares; a mismatch means
    DDP did not synchronise (a wrong wrapper, an unsynchronised buffer).
    The result is logged and written to ``work_dir/ddp_consistency.json``.

    Args:
        every_epoch (bool): also check after every epoch. Defaults to False.
        atol (float): tolerated absolute difference. Defaults to 0.
        raise_on_mismatch (bool): raise instead of only logging.
            Defaults to True.
    """

    priority = 'LOW'

    def __init__(self,
                 every_epoch: bool = False,
                 atol: float = 0.,
                 raise_on_mismatch: bool = True) -> None:
        self.every_epoch = every_epoch
        self.atol = atol
        self.raise_on_mismatch = raise_on_mismatch

    def _check(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = [
            t.detach().float().flatten().cpu()
            for t in model.state_dict().values() if t.is_floating_point()
        ]
        flat = torch.cat(state)
        gathered = all_gather(flat.to(next(model.parameters()).device))
        max_diff = max(
            float((g.cpu() - flat).abs().max()) for g in gathered)
        consistent = max_diff <= self.atol
        report = dict(
            epoch=runner.epoch, world_size=get_world_size(),
            num_values=flat.numel(), max_abs_diff=max_diff,
            consistent=consistent)
        runner.logger.info(f'DDP consistency: {report}')
        if get_rank() == 0:
            with open(osp.join(runner.work_dir, 'ddp_consistency.json'),
                      'w') as f:
                json.dump(report, f)
        if not consistent and self.raise_on_mismatch:
            raise RuntimeError(
                f'ranks hold different weights (max abs diff {max_diff})')

    def after_train_epoch(self, runner) -> None:
        if self.every_epoch:
            self._check(runner)

    def after_train(self, runner) -> None:
        self._check(runner)
