"""Training hooks registered in mmaction's ``HOOKS``."""
import json
import os.path as osp
import random
import time
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS

__all__ = ['AuxLossWarmupHook', 'EpochSeedHook', 'DDPConsistencyHook',
           'TrainTimeHook']


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


@HOOKS.register_module()
class AuxLossWarmupHook(Hook):
    """Switch the auxiliary head losses on after a number of epochs.

    Before epoch ``start_epoch`` (0-based, MMEngine's ``runner.epoch``; so
    the epochs logged as ``Epoch(train) [1]`` .. ``[start_epoch]``) the
    recognizer's ``aux_loss_scale`` is 0: ``loss_sf_con``, ``loss_sf_red``
    and ``loss_fr`` are logged as 0 and add nothing to the gradient. From
    ``start_epoch`` on the scale is 1.

    The heads still run during the warm-up and their losses are multiplied
    by 0, so every head parameter takes part in the backward pass: DDP with
    ``find_unused_parameters=False`` (the default) does not fail, and no
    extra set-up is needed. (FR-Head prototypes keep their EMA updates in
    the warm-up, from the classifier's predictions at the time.) The scale
    is set at every epoch start, so ``--resume`` lands on the right side of
    the boundary.

    Args:
        start_epoch (int): first 0-based epoch with the auxiliary losses.
            Defaults to 0 (no warm-up).
    """

    priority = 'NORMAL'

    def __init__(self, start_epoch: int = 0) -> None:
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(f'AuxLossWarmupHook.start_epoch={start_epoch!r}:'
                             ' expected an int >= 0')
        self.start_epoch = start_epoch

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if not hasattr(model, 'aux_loss_scale'):
            raise TypeError(
                f'AuxLossWarmupHook needs a recognizer with auxiliary heads '
                f"(model.type='SFRecognizerGCN'); got {type(model).__name__}")
        from mmengine.runner import IterBasedTrainLoop
        if self.start_epoch > 0 and isinstance(runner.train_loop,
                                               IterBasedTrainLoop):
            raise ValueError(
                'AuxLossWarmupHook.start_epoch counts epochs, but the train '
                'loop is iteration based (train_cfg.by_epoch=False); use an '
                'epoch-based train_cfg or start_epoch=0')

    def before_train_epoch(self, runner) -> None:
        model = self._model(runner)
        scale = 0.0 if runner.epoch < self.start_epoch else 1.0
        if scale != model.aux_loss_scale or runner.epoch == 0:
            runner.logger.info(
                f'AuxLossWarmupHook: auxiliary head losses x{scale:g} from '
                f'epoch {runner.epoch + 1} (start_epoch={self.start_epoch})')
        model.aux_loss_scale = scale


@HOOKS.register_module()
class TrainTimeHook(Hook):
    """Training time that survives ``--resume``.

    After every epoch, the CPU seconds of this process (all its threads)
    and the wall seconds spent in training so far, added to what the
    checkpoint it resumed from had recorded, go into the message hub's
    runtime info as ``train_cpu_s`` and ``train_wall_s``; the checkpoint
    saved after that epoch stores them. Read them from the final
    checkpoint: ``torch.load(ckpt)['message_hub']['runtime_info']``. The
    unfinished epoch of a killed attempt is not counted (it is trained
    again). Priority NORMAL: before ``CheckpointHook`` saves.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        info = runner.message_hub.runtime_info
        self._base = (float(info.get('train_cpu_s', 0.0)),
                      float(info.get('train_wall_s', 0.0)))
        self._start = (time.process_time(), time.perf_counter())

    def after_train_epoch(self, runner) -> None:
        cpu = self._base[0] + time.process_time() - self._start[0]
        wall = self._base[1] + time.perf_counter() - self._start[1]
        runner.message_hub.update_info('train_cpu_s', round(cpu, 1))
        runner.message_hub.update_info('train_wall_s', round(wall, 1))
