"""Who drives the backbone: the auxiliary heads' losses or the classifier's.

In branch placement an auxiliary head (SF-Head, FR-Head) reaches the
backbone only through its losses' gradient. :func:`backbone_gradient_share`
measures that gradient against the classification loss's on one batch;
:class:`GradientShareHook` logs it every few iterations of a training run,
without changing the run (buffers and random states are restored).
"""
import json
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS

__all__ = ['backbone_gradient_share', 'GradientShareHook']


def backbone_gradient_share(model: torch.nn.Module, data_batch: dict,
                            cls_prefix: str = 'loss_cls',
                            aux_prefixes: Sequence[str] = ('loss_sf',
                                                           'loss_fr'),
                            module: str = 'backbone'
                            ) -> Optional[Dict[str, float]]:
    """Gradient norms of the classification and auxiliary losses with
    respect to ``module``'s parameters, on one batch, in train mode.

    Args:
        model (nn.Module): an unwrapped recognizer (``data_preprocessor``
            and ``loss`` as in MMEngine's ``BaseModel``).
        data_batch (dict): a batch as the train dataloader yields it.
        cls_prefix (str): loss keys of the classifier. Defaults to
            ``'loss_cls'``.
        aux_prefixes (Sequence[str]): loss keys of the auxiliary heads.
            Defaults to SF-Head's and FR-Head's.
        module (str): the parameters' module. Defaults to ``'backbone'``.

    Returns:
        dict or None: ``cls_grad_norm``, ``aux_grad_norm``,
        ``aux_over_cls`` (their ratio) and ``cosine`` (of the two gradients,
        flattened); None when the model returns no auxiliary loss. Nothing
        is accumulated into ``.grad``; BN statistics do move (see the hook).
    """
    params = [p for n, p in model.named_parameters()
              if n.startswith(module + '.') and p.requires_grad]
    if not params:
        raise ValueError(f'backbone_gradient_share: the model has no '
                         f'trainable parameter under {module!r}')
    with torch.enable_grad():
        data = model.data_preprocessor(data_batch, True)
        losses = model.loss(data['inputs'], data['data_samples'])
        cls = [v for k, v in losses.items() if k.startswith(cls_prefix)]
        aux = [v for k, v in losses.items()
               if k.startswith(tuple(aux_prefixes))]
        if not aux or not cls:
            return None
        grads = []
        for loss in (sum(cls), sum(aux)):
            g = torch.autograd.grad(loss, params, retain_graph=True,
                                    allow_unused=True)
            grads.append(torch.cat([
                (x if x is not None else torch.zeros_like(p)).flatten()
                for x, p in zip(g, params)]).float())
    cls_norm, aux_norm = float(grads[0].norm()), float(grads[1].norm())
    return dict(cls_grad_norm=cls_norm, aux_grad_norm=aux_norm,
                aux_over_cls=aux_norm / cls_norm if cls_norm else float('nan'),
                cosine=float(torch.nn.functional.cosine_similarity(
                    grads[0], grads[1], dim=0)))


@HOOKS.register_module()
class GradientShareHook(Hook):
    """Every ``interval`` training iterations, measure on that iteration's
    batch how hard the auxiliary losses push the backbone compared with the
    classification loss (:func:`backbone_gradient_share`), log it as
    ``aux_grad_ratio`` / ``aux_grad_cosine`` and append it to
    ``<work_dir>/<out_file>`` (one JSON object per line with ``iter`` and
    ``epoch``).

    The extra forward pass would move BN running statistics, FR-Head's
    prototypes and the random streams; the hook saves and restores all
    three, so a run with the hook trains exactly like one without it (at
    the cost of about two extra backward passes per measurement). Rank 0
    only under DDP (its own batch).

    Args:
        interval (int): iterations between measurements. Defaults to 50.
        cls_prefix (str): classifier loss keys. Defaults to ``'loss_cls'``.
        aux_prefixes (Sequence[str]): auxiliary loss keys. Defaults to
            ``('loss_sf', 'loss_fr')``.
        module (str): whose parameters. Defaults to ``'backbone'``.
        out_file (str): file name in the work dir. Defaults to
            ``'gradient_share.jsonl'``.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 50,
                 cls_prefix: str = 'loss_cls',
                 aux_prefixes: Sequence[str] = ('loss_sf', 'loss_fr'),
                 module: str = 'backbone',
                 out_file: str = 'gradient_share.jsonl') -> None:
        if interval < 1:
            raise ValueError(f'GradientShareHook: interval must be >= 1, '
                             f'got {interval}')
        self.interval = interval
        self.cls_prefix = cls_prefix
        self.aux_prefixes = tuple(aux_prefixes)
        self.module = module
        self.out_file = out_file

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if (data_batch is None or runner.rank != 0 or
                not self.every_n_train_iters(runner, self.interval)):
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
        cpu_rng = torch.get_rng_state()
        cuda_rng = (torch.cuda.get_rng_state_all()
                    if torch.cuda.is_available() else None)
        try:
            share = backbone_gradient_share(model, data_batch,
                                            self.cls_prefix,
                                            self.aux_prefixes, self.module)
        finally:
            with torch.no_grad():
                for n, b in model.named_buffers():
                    b.copy_(buffers[n])
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        if share is None:
            return
        runner.message_hub.update_scalar('train/aux_grad_ratio',
                                         share['aux_over_cls'])
        runner.message_hub.update_scalar('train/aux_grad_cosine',
                                         share['cosine'])
        with open(osp.join(runner.work_dir, self.out_file), 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter + 1,
                                    epoch=runner.epoch + 1, **share)) + '\n')
