"""``SFRecognizerGCN``: mmaction's ``RecognizerGCN`` plus plug-in SF-Heads
and/or an FR-Head.

A user adds to any skeleton config::

    custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
    model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
    # or fr_head=dict(...), or both

The heads attach by forward hooks to the backbone blocks' ``gcn`` modules
(SF-Head) or the blocks themselves (FR-Head, see ``plugin.py`` and
``fr_head.py``); the backbone's code is untouched.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from mmaction.models import RecognizerGCN
from mmaction.registry import MODELS
from .fr_head import FRHead
from .losses import clip_features, sf_head_losses
from .plugin import (find_attach_points, infer_out_channels,
                     init_children_in_own_stream, own_random_stream,
                     select_stages)

__all__ = ['SFHeadPlugin', 'SFRecognizerGCN']

PLACEMENTS = ('branch', 'inline')


def _module_key(name: str) -> str:
    """``backbone.gcn.3.gcn`` -> ``backbone_gcn_3_gcn`` (ModuleDict key)."""
    return name.replace('.', '_')


class _HeadHook:
    """Forward hook running one head on its attachment module's output."""

    def __init__(self, plugin: 'SFHeadPlugin', key: str) -> None:
        self.plugin = plugin
        self.key = key

    def __call__(self, module: nn.Module, args, output: Tensor):
        return self.plugin.on_attach_output(self.key, output)


class SFHeadPlugin(nn.Module):
    """The SF-Heads of one recognizer, their hooks and their losses.

    Args:
        placement (str): ``'branch'`` (training-only side branch; the main
            path is unchanged and the head never runs at test time) or
            ``'inline'`` (the head output replaces the gcn output, in
            training and test). Defaults to ``'branch'``.
        stages (list[int], optional): 1-based numbers of the attachment
            points that carry a head. Defaults to all.
        attach_to (str | list[str], optional): module-path patterns for
            backbones without gcn/tcn blocks. Defaults to the block rule.
        in_channels (list[int], optional): channels per attachment point,
            when they cannot be read from the modules. Defaults to None.
        groups (int): SSTE groups g. Defaults to 8.
        kernel_size (int): AC-FA gate kernel. Defaults to 7.
        alpha (float): modified cosine distance alpha. Defaults to 1.0.
        tau (float): F-RL temperature. Defaults to 0.1.
        m (float): margin m of F-RL/F-CL. Defaults to 0.4.
        gamma (float): F-CL focal exponent. Defaults to 2.0.
        eps (float): F-CL phi threshold. Defaults to 0.01.
        lambda_con (float): F-CL weight. Defaults to 0.2.
        lambda_red (float): F-RL weight. Defaults to 0.1.
        phi (str): sign of F-CL's phi (eq. 13), ``'focal'`` or
            ``'printed'``; see :class:`FeatureConsistencyLoss`. Defaults to
            ``'focal'``.
    """

    def __init__(self,
                 placement: str = 'branch',
                 stages: Optional[Sequence[int]] = None,
                 attach_to: Optional[Union[str, Sequence[str]]] = None,
                 in_channels: Optional[Sequence[int]] = None,
                 groups: int = 8,
                 kernel_size: int = 7,
                 alpha: float = 1.0,
                 tau: float = 0.1,
                 m: float = 0.4,
                 gamma: float = 2.0,
                 eps: float = 0.01,
                 lambda_con: float = 0.2,
                 lambda_red: float = 0.1,
                 phi: str = 'focal') -> None:
        super().__init__()
        if placement not in PLACEMENTS:
            raise ValueError(f'sf_head.placement={placement!r}: expected one '
                             f'of {PLACEMENTS}')
        for field, value in (('lambda_con', lambda_con),
                             ('lambda_red', lambda_red)):
            if not value >= 0:
                raise ValueError(f'sf_head.{field}={value}: expected a '
                                 'weight >= 0')
        self.placement = placement
        self.stages = stages
        self.attach_to = attach_to
        self.in_channels = in_channels
        self.head_cfg = dict(groups=groups, kernel_size=kernel_size)
        self.loss_con = MODELS.build(
            dict(type='FeatureConsistencyLoss', m=m, gamma=gamma, eps=eps,
                 alpha=alpha, loss_weight=lambda_con, phi=phi))
        self.loss_red = MODELS.build(
            dict(type='FeatureRedundancyLoss', m=m, tau=tau, alpha=alpha,
                 loss_weight=lambda_red))
        self.heads = nn.ModuleDict()
        self.capturing = False
        self.captured: Dict[str, object] = {}

    def init_weights(self) -> None:
        """Called by the Runner's initialisation; see
        :func:`init_children_in_own_stream`."""
        init_children_in_own_stream(self)

    def attach(self, model: nn.Module) -> List[str]:
        """Build one head per attachment point and hook it in.

        Returns:
            list[str]: the attachment module names, in forward order.
        """
        points = select_stages(
            find_attach_points(model, self.attach_to), self.stages,
            field='sf_head.stages')
        if self.in_channels is not None and len(self.in_channels) != len(
                points):
            raise ValueError(
                f'sf_head.in_channels has {len(self.in_channels)} entries '
                f'for {len(points)} attachment points')
        for i, (name, module) in enumerate(points):
            channels = (self.in_channels[i] if self.in_channels is not None
                        else infer_out_channels(name, module))
            key = _module_key(name)
            self.heads[key] = MODELS.build(
                dict(type='SFHead', in_channels=channels, name=name,
                     **self.head_cfg))
            module.register_forward_hook(_HeadHook(self, key))
        return [name for name, _ in points]

    def on_attach_output(self, key: str, output: Tensor) -> Optional[Tensor]:
        """Run the head where needed; return the replacement output.

        Branch: runs only while a training loss is computed, output kept.
        Inline: always runs; its output replaces the gcn output.
        """
        if self.placement == 'branch' and not self.capturing:
            return None
        result = self.heads[key](
            output, with_output=self.placement == 'inline')
        if self.capturing:
            self.captured[key] = result
        return result.out if self.placement == 'inline' else None

    def losses(self, num_persons: int) -> Dict[str, Tensor]:
        """``loss_sf_con`` and ``loss_sf_red``, each the mean over blocks
        (eq. 17; lambdas applied by the loss modules), and the F-RL
        diagnostics ``sf_red_top1`` and ``sf_red_logit_span`` (see
        :meth:`FeatureRedundancyLoss.diagnostics`), mean over blocks."""
        terms = []
        for result in self.captured.values():
            features = [
                clip_features(f, num_persons) for f in
                (result.f_t, result.f_s, result.f_c, result.f_o, result.f_a)
            ]
            terms.append(sf_head_losses(features, self.loss_con,
                                        self.loss_red))
        self.captured = {}
        mean = [torch.stack(column).mean() for column in zip(*terms)]
        # the diagnostics' names lack "loss": MMEngine logs them but does
        # not add them to the total
        return dict(loss_sf_con=mean[0], loss_sf_red=mean[1],
                    sf_red_top1=mean[2], sf_red_logit_span=mean[3])


@MODELS.register_module()
class SFRecognizerGCN(RecognizerGCN):
    """``RecognizerGCN`` with SF-Heads and/or an FR-Head on its backbone.

    Both heads are auxiliary: their losses are added to ``loss_cls`` and
    logged as their own keys (``loss_sf_con``, ``loss_sf_red``,
    ``loss_fr``). ``aux_loss_scale`` multiplies all of them; it is 1 unless
    :class:`~sfhead_mm.engine.AuxLossWarmupHook` sets it to 0 for warm-up
    epochs (the heads still run, so DDP sees every parameter used).

    Args:
        sf_head (dict, optional): :class:`SFHeadPlugin` fields. None: no
            SF-Head. Defaults to None.
        fr_head (dict, optional): :class:`~sfhead_mm.models.FRHead` fields
            (``type`` defaults to ``'FRHead'``). None: no FR-Head. Defaults
            to None. With both None this is the plain recognizer.
        **kwargs: ``RecognizerGCN`` arguments (backbone, cls_head, ...).
    """

    def __init__(self,
                 sf_head: Optional[dict] = None,
                 fr_head: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.aux_loss_scale = 1.0
        self.sf_head = None
        self.sf_attach_points: List[str] = []
        self.fr_head: Optional[FRHead] = None
        self.fr_attach_points: List[str] = []
        # the heads' random draws must not shift the backbone's init
        with own_random_stream():
            if sf_head is not None:
                self.sf_head = SFHeadPlugin(**sf_head)
                self.sf_attach_points = self.sf_head.attach(self)
            if fr_head is not None:
                self.fr_head = MODELS.build(
                    dict(dict(type='FRHead'), **fr_head))
                self.fr_attach_points = self.fr_head.attach(self)

    def loss(self, inputs: Tensor, data_samples, **kwargs) -> dict:
        """Classification loss plus the auxiliary heads' losses.

        The FR-Head mines true/false positives from the logits of the very
        ``cls_head`` forward that ``loss_cls`` uses (captured by a hook, not
        recomputed).

        Args:
            inputs: (N, num_clips, M, T, V, C).
        """
        if self.sf_head is None and self.fr_head is None:
            return super().loss(inputs, data_samples, **kwargs)
        if self.sf_head is not None:
            self.sf_head.capturing = True
        if self.fr_head is not None:
            self.fr_head.start_capture()
        try:
            losses = super().loss(inputs, data_samples, **kwargs)
        finally:
            if self.sf_head is not None:
                self.sf_head.capturing = False
            if self.fr_head is not None:
                self.fr_head.stop_capture()
        aux = {}
        if self.sf_head is not None:
            aux.update(self.sf_head.losses(num_persons=inputs.shape[2]))
        if self.fr_head is not None:
            aux.update(self.fr_head.losses(data_samples,
                                           num_persons=inputs.shape[2]))
        if self.aux_loss_scale != 1.0:
            aux = {k: v * self.aux_loss_scale if 'loss' in k else v
                   for k, v in aux.items()}
        losses.update(aux)
        return losses
