"""SF-Head: Synchronized and Fine-grained Head, and :class:`SFHeads`, the
auxiliary head that puts one on each chosen backbone block.

Equation numbers are those of the SF-Head paper; ``docs/method.md`` says
what the paper leaves open and what we chose. One head reads one block's
GCN output ``X`` of shape (B, C, T, V), B = N clips x M persons:

- :class:`SynchronizedSpatialTemporalExtraction` (SSTE, eq. 1): splits each
  of the ``g`` channel groups into ``x1..x4`` and gates ``x1`` temporally,
  ``x3`` spatially.
- :class:`~sfhead_mm.models.layers.CrossDimensionGate` (AC-FA's ACDA, ATDA,
  ASDA, eq. 2-7) and the C-FA sum (eq. 8/9).
- :class:`SFHead`: the two above, and the inline output.

The losses that consume the branch features live in ``losses.py``.
"""
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .aux_head import AuxHead
from .layers import (GATE_CONVS, CrossDimensionGate, shuffled_concat,
                     weighted_gated_sum)
# importable from here as before they moved to layers/
from .layers import banded_conv2d, channel_shuffle, gate_band_dim  # noqa

__all__ = [
    'SynchronizedSpatialTemporalExtraction', 'SFHead', 'SFHeadOutput',
    'SFHeads'
]

PLACEMENTS = ('branch', 'inline')


class SFHeadOutput(NamedTuple):
    """What :meth:`SFHead.forward` returns.

    ``out`` is (B, C, T, V), the inline-placement output (None when the
    forward was asked not to build it). The branch features
    are (B, C/4, T, V): each is the same branch of all ``g`` groups stacked
    along channels (group-major), ready for :func:`clip_features`.
    """
    out: Optional[Tensor]
    f_t: Tensor
    f_s: Tensor
    f_c: Tensor
    f_o: Tensor
    f_a: Tensor


@MODELS.register_module()
class SynchronizedSpatialTemporalExtraction(nn.Module):
    """SSTE (eq. 1): synchronized temporal and spatial gating of one group.

    The input is one channel group, (B*g, C/g, T, V), split along channels
    into four equal parts ``x1, x2, x3, x4`` of ``C' = C/(4g)`` channels:

    - ``f_t = x1 * sigmoid(w_t * GAP(x1) + b_t)``, GAP over T and V;
    - ``f_s = x3 * sigmoid(w_s * GN(x3) + b_s)``, GroupNorm with one group
      per channel (no affine of its own: ``w_s, b_s`` are the affine);
    - ``f_c = x2`` and ``f_o = x4`` pass through.

    ``w_*`` start at 0 and ``b_*`` at 1, so both gates start as
    ``x * sigmoid(1)``.

    Args:
        branch_channels (int): ``C' = C / (4g)``, channels of each part.
    """

    def __init__(self, branch_channels: int) -> None:
        super().__init__()
        if branch_channels < 1:
            raise ValueError(f'SynchronizedSpatialTemporalExtraction: '
                             f'branch_channels must be >= 1, got '
                             f'{branch_channels}')
        self.branch_channels = branch_channels
        shape = (1, branch_channels, 1, 1)
        self.temporal_weight = nn.Parameter(torch.zeros(shape))  # w_t
        self.temporal_bias = nn.Parameter(torch.ones(shape))  # b_t
        self.spatial_weight = nn.Parameter(torch.zeros(shape))  # w_s
        self.spatial_bias = nn.Parameter(torch.ones(shape))  # b_s
        self.norm_eps = 1e-5  # nn.GroupNorm's default

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Split and gate one group.

        Args:
            x (Tensor): (B*g, 4C', T, V).

        Returns:
            tuple[Tensor]: ``(f_t, f_s, f_c, f_o)``, each (B*g, C', T, V).
        """
        x1, x2, x3, x4 = x.chunk(4, dim=1)  # each (B*g, C', T, V)
        # eq. 1, temporal branch: GAP over (T, V) -> (B*g, C', 1, 1)
        gap = x1.mean(dim=(2, 3), keepdim=True)
        f_t = x1 * torch.sigmoid(self.temporal_weight * gap +
                                 self.temporal_bias)
        # eq. 1, spatial branch: per-channel GroupNorm -> (B*g, C', T, V).
        # w_s * GN(x3) + b_s is GroupNorm's own per-channel affine, so one
        # group_norm call computes it without two extra passes over x3.
        affine = self.spatial_weight.view(-1), self.spatial_bias.view(-1)
        f_s = x3 * torch.sigmoid(
            F.group_norm(x3, self.branch_channels, *affine, self.norm_eps))
        return f_t, f_s, x2, x4

    def extra_repr(self) -> str:
        return f'branch_channels={self.branch_channels}'


@MODELS.register_module()
class SFHead(nn.Module):
    """Synchronized and Fine-grained Head for one GCN block.

    ``X`` (B, C, T, V) is viewed as ``g`` groups (B*g, C/g, T, V); SSTE
    (eq. 1) gives ``f_t, f_s, f_c, f_o``; AC-FA (eq. 2-9) aggregates

        f_a = softmax(eta) . [ATDA(f_t), ASDA(f_s), ACDA(f_c), f_o]

    with ``eta`` four learnable scalars (init equal, so 1/4 each). The inline
    output concatenates ``[f_t, f_s, f_a, f_o]`` per group back to
    (B, C, T, V) and shuffles channels with 2 groups. Under the ``branch``
    placement only the branch features are used (by the losses).

    Args:
        in_channels (int): C, channels of the block's GCN output. Must be
            divisible by ``4 * groups``.
        groups (int): g, number of channel groups. Defaults to 8.
        kernel_size (int): Kernel side of the three AC-FA gate convolutions.
            Defaults to 7.
        gate_conv (str): how the gates run their convolution,
            ``'auto'``, ``'banded'`` or ``'conv2d'`` (see :class:`SFHeads`).
            Defaults to ``'auto'``.
        name (str): The block this head sits on (e.g. ``'backbone.gcn.3'``),
            used in error messages. Defaults to ``''``.

    Initialisation is the parameters' own (SSTE ``w=0, b=1``, ``eta=0``,
    PyTorch defaults for conv and BN). The head is a plain ``nn.Module``
    rather than an MMEngine ``BaseModule`` so that it stays scriptable with
    ``torch.jit.script`` (``BaseModule``'s ``is_init`` property is not).
    """

    def __init__(self,
                 in_channels: int,
                 groups: int = 8,
                 kernel_size: int = 7,
                 gate_conv: str = 'auto',
                 name: str = '') -> None:
        super().__init__()
        where = f'SFHead on block {name!r}' if name else 'SFHead'
        if groups < 1:
            raise ValueError(f'{where}: groups must be >= 1, got {groups}')
        if in_channels < 1 or in_channels % (4 * groups) != 0:
            valid = [
                g for g in range(1, in_channels // 4 + 1)
                if in_channels % (4 * g) == 0
            ]
            raise ValueError(
                f'{where}: in_channels C={in_channels} is not divisible by '
                f'4 * groups = 4 * {groups} = {4 * groups} (SSTE splits each '
                f'of the g groups into 4 equal parts). groups values that '
                f'work for C={in_channels}: {valid or "none"}; set groups '
                f'in the head config or leave this block without a head.')
        self.in_channels = in_channels
        self.groups = groups
        self.kernel_size = kernel_size
        self.name = name
        branch_channels = in_channels // (4 * groups)  # C'
        self.sste = SynchronizedSpatialTemporalExtraction(branch_channels)
        self.temporal_gate = CrossDimensionGate('temporal', kernel_size,
                                                gate_conv)
        self.spatial_gate = CrossDimensionGate('spatial', kernel_size,
                                               gate_conv)
        self.channel_gate = CrossDimensionGate('channel', kernel_size,
                                               gate_conv)
        # eq. 8/9: one weight per [ATDA(f_t), ASDA(f_s), ACDA(f_c), f_o]
        self.eta = nn.Parameter(torch.zeros(4))

    def forward(self, x: Tensor, with_output: bool = True) -> SFHeadOutput:
        """Run SSTE and AC-FA on one block's GCN output.

        Args:
            x (Tensor): (B, C, T, V), B = N clips x M persons.
            with_output (bool): build ``out`` (the inline output); the
                branch placement needs only the features. Defaults to True.

        Returns:
            SFHeadOutput: ``out`` (B, C, T, V); ``f_t, f_s, f_c, f_o, f_a``
            each (B, C/4, T, V).
        """
        B, C, T, V = x.shape
        if C != self.in_channels:
            raise ValueError('SFHead ' + self.name + ': expected ' +
                             str(self.in_channels) + ' channels, got ' +
                             str(C))
        g = self.groups
        xg = x.reshape(B * g, C // g, T, V)  # (B*g, C/g, T, V)
        f_t, f_s, f_c, f_o = self.sste(xg)  # eq. 1, each (B*g, C', T, V)
        # AC-FA gates (eq. 2-7): ATDA on f_t, ASDA on f_s, ACDA on f_c
        gates = [self.temporal_gate.weights(f_t),
                 self.spatial_gate.weights(f_s),
                 self.channel_gate.weights(f_c)]
        # C-FA (eq. 8/9): softmax(eta) . [ATDA(f_t), ASDA(f_s), ACDA(f_c), f_o]
        f_a = weighted_gated_sum([f_t, f_s, f_c], gates, f_o,
                                 torch.softmax(self.eta, dim=0))
        out: Optional[Tensor] = None
        if with_output:  # concat [f_t, f_s, f_a, f_o] per group, shuffle 2
            out = shuffled_concat([f_t, f_s, f_a, f_o], B)

        # branch features: (B*g, C', T, V) -> (B, g*C' = C/4, T, V), groups
        # stacked along channels (group-major)
        c4 = C // 4
        return SFHeadOutput(
            out=out,
            f_t=f_t.reshape(B, c4, T, V),
            f_s=f_s.reshape(B, c4, T, V),
            f_c=f_c.reshape(B, c4, T, V),
            f_o=f_o.reshape(B, c4, T, V),
            f_a=f_a.reshape(B, c4, T, V))

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, groups={self.groups}, '
                f'kernel_size={self.kernel_size}, name={self.name!r}')


# SFHeadLoss fields that SFHeads also accepts flat, with their defaults
_FLAT_LOSS_FIELDS = dict(alpha=1.0, tau=0.1, m=0.4, gamma=2.0, eps=0.01,
                         lambda_con=0.2, lambda_red=0.1, phi='focal')


@MODELS.register_module()
class SFHeads(AuxHead):
    """The SF-Heads of one recognizer: an :class:`SFHead` on each chosen
    block's ``gcn`` output, and their losses (``sf_head=dict(...)``).

    Under ``placement='branch'`` (the paper's "training only, no inference
    cost") the heads run only inside :meth:`capture`; the main path is
    unchanged and deploy drops their weights. Under ``'inline'`` (the
    authors' public code) each head's output replaces the gcn output, in
    training and test.

    The loss fields may be given flat (``sf_head=dict(tau=0.05)``) or as
    ``loss=dict(type='SFHeadLoss', tau=0.05)``, not both.

    Args:
        placement (str): ``'branch'`` or ``'inline'``. Defaults to
            ``'branch'``.
        stages (list[int], optional): 1-based numbers of the attachment
            points that carry a head. Defaults to all.
        attach_to (str | list[str], optional): module-path patterns for
            backbones without gcn/tcn blocks. Defaults to the block rule.
        in_channels (list[int], optional): channels per attachment point,
            when they cannot be read from the modules. Defaults to None.
        groups (int): SSTE groups g. Defaults to 8.
        kernel_size (int): AC-FA gate kernel. Defaults to 7.
        gate_conv (str): how the AC-FA gates run their 2->1 convolution:
            ``'banded'`` (a banded conv1d, faster on CPU), ``'conv2d'`` (the
            plain convolution: far fewer operator calls, faster and lighter
            on a GPU) or ``'auto'`` (banded on CPU, conv2d elsewhere). Same
            values up to float rounding. Defaults to ``'auto'``.
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
        loss (dict, optional): the loss config instead of the flat fields.
            Defaults to None: ``dict(type='SFHeadLoss', <flat fields>)``.
    """

    def __init__(self,
                 placement: str = 'branch',
                 stages: Optional[Sequence[int]] = None,
                 attach_to: Optional[Union[str, Sequence[str]]] = None,
                 in_channels: Optional[Sequence[int]] = None,
                 groups: int = 8,
                 kernel_size: int = 7,
                 gate_conv: str = 'auto',
                 alpha: float = 1.0,
                 tau: float = 0.1,
                 m: float = 0.4,
                 gamma: float = 2.0,
                 eps: float = 0.01,
                 lambda_con: float = 0.2,
                 lambda_red: float = 0.1,
                 phi: str = 'focal',
                 loss: Optional[dict] = None) -> None:
        super().__init__(stages, attach_to, in_channels, field='sf_head')
        if placement not in PLACEMENTS:
            raise ValueError(f'sf_head.placement={placement!r}: expected one '
                             f'of {PLACEMENTS}')
        for field, value in (('lambda_con', lambda_con),
                             ('lambda_red', lambda_red)):
            if not value >= 0:
                raise ValueError(f'sf_head.{field}={value}: expected a '
                                 'weight >= 0')
        flat = dict(alpha=alpha, tau=tau, m=m, gamma=gamma, eps=eps,
                    lambda_con=lambda_con, lambda_red=lambda_red, phi=phi)
        if loss is None:
            loss = dict(type='SFHeadLoss', **flat)
        else:
            both = [k for k, v in flat.items() if v != _FLAT_LOSS_FIELDS[k]]
            if both:
                raise ValueError(
                    f'sf_head: {both} given both flat and as sf_head.loss; '
                    f'move them into sf_head.loss=dict(type=...)')
        self.placement = placement
        if gate_conv not in GATE_CONVS:
            raise ValueError(f'sf_head.gate_conv={gate_conv!r}: expected one '
                             f'of {GATE_CONVS}')
        self.head_cfg = dict(groups=groups, kernel_size=kernel_size,
                             gate_conv=gate_conv)
        self.criterion = MODELS.build(loss)
        self.heads = nn.ModuleDict()

    @property
    def training_only(self) -> bool:
        """Branch heads only train; inline heads are part of the model."""
        return self.placement == 'branch'

    def add_point(self, key: str, channels: int, stage: int,
                  name: str) -> None:
        self.heads[key] = SFHead(channels, name=name, **self.head_cfg)

    def observe(self, key: str, output: Tensor) -> tuple:
        """Run the head; inline: its output replaces the gcn output."""
        result = self.heads[key](
            output, with_output=self.placement == 'inline')
        return result, result.out if self.placement == 'inline' else None

    def loss(self, cls_score: Optional[Tensor], data_samples,
             num_persons: int) -> dict:
        """``loss_sf_con`` and ``loss_sf_red``, each the mean over blocks
        (eq. 17; lambdas applied by the loss), and the F-RL diagnostics
        ``sf_red_top1`` and ``sf_red_logit_span`` (see
        :meth:`FeatureRedundancyLoss.diagnostics`), mean over blocks.
        ``cls_score`` and ``data_samples`` are not used."""
        mean = self.criterion.forward_blocks(
            list(self.take_captured().values()), num_persons)
        # the diagnostics' names lack "loss": MMEngine logs them but does
        # not add them to the total
        return dict(loss_sf_con=mean.loss_con, loss_sf_red=mean.loss_red,
                    sf_red_top1=mean.red_top1,
                    sf_red_logit_span=mean.red_logit_span)
