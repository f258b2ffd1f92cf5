"""FR-Head: Feature Refinement Head (the predecessor of SF-Head).

An auxiliary, training-only head. At a few backbone blocks it reads the
block output ``X`` of shape (B, C, T, V), B = N clips x M persons, and

1. decouples it (:class:`SpatialTemporalRefinement`) into a spatial
   descriptor (mean over persons and T; one squeezed vector per joint) and a
   temporal one (mean over persons and V; squeezed, then pooled to a fixed
   number of time bins, so any clip length works);
2. refines each descriptor contrastively (:class:`PrototypeContrast`)
   against class prototypes, with penalties for the batch's ambiguous
   samples (false negatives and false positives of the main classifier).

:class:`FRHead` is the multi-stage head the recognizer builds from
``fr_head=dict(...)``: an :class:`~sfhead_mm.models.aux_head.AuxHead` that
reads block outputs and adds ``loss_fr`` (eq. FR-total below) to the
recognizer's losses. The stage modules are in ``fr_refinement.py``.

Notation for one descriptor, K classes, z_n the projected feature of clip n,
y_n its label, p_n the classifier's softmax, yhat_n = argmax p_n:

- TP / FN / FP of class k: clips with y=k and yhat=k (and p_n[y_n] above
  ``tp_threshold``) / y=k and yhat!=k / yhat=k and y!=k.
- Prototype EMA (FR-proto): for every class with at least one TP in the
  (global) batch, ``P_k <- m * P_k + (1 - m) * mean(z_n : n TP of k)``.
- Scores (FR-score), all cosines of L2-normalised vectors:
  ``s_nk = cos(z_n, P_k)``;
  ``w_n = alpha * (1 - p_n[y_n])``;
  FN penalty ``pen_fn_n = w_n * [y_n has FNs] * (cos(z_n, c_fn(y_n)) - 1)``;
  FP penalty ``pen_fp_n = w_n * [y_n has FPs] * (-cos(z_n, c_fp(y_n)) - 1)``,
  with c_fn(k) / c_fp(k) the mean feature of class k's FNs / FPs.
  Both penalties are <= 0 and only change the true-class score.
- Loss (FR-cl): ``L_cl = CE((s + pen_fn * onehot(y)) / tau, y)
  + CE((s + pen_fp * onehot(y)) / tau, y)``, mean over clips.
- Stage loss: ``L_cl(spatial) + L_cl(temporal)``.
- Total (FR-total): ``loss_fr = loss_weight * sum_l w_l * L_stage_l``
  (``L = L_CE + loss_fr``; published: 0.1 and w = 0.1, 0.2, 0.5, 1.0).

Differences from the published implementation (on purpose):

- Prototypes are registered buffers: saved in checkpoints, restored by
  ``--resume`` and ``load_from``, moved with the module, no ``.cuda()``.
- Under DDP the per-class sums and counts of TP, FN and FP features are
  all-reduced before use, so every rank applies the same EMA update (the
  prototypes stay identical) and the penalty centroids are those of the
  global batch. Values are the global ones; gradients flow through this
  rank's own features only (the other ranks' share is a constant).
- The temporal descriptor is pooled to ``temporal_bins`` bins instead of
  flattening all T frames into a Linear layer, so training and test clips
  may have any length.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from mmaction.registry import MODELS
from .aux_head import AuxHead
from .fr_refinement import (PrototypeContrast, PrototypeContrastOutput,
                            SpatialTemporalRefinement)
from .plugin import AttachError, find_attach_points

__all__ = [
    'FRHead', 'PrototypeContrast', 'PrototypeContrastOutput',
    'SpatialTemporalRefinement'
]


def _infer_num_joints(model: nn.Module) -> int:
    """V from ``backbone.graph`` (mmaction's ``Graph``: ``num_node``/``A``)."""
    graph = getattr(getattr(model, 'backbone', None), 'graph', None)
    if isinstance(getattr(graph, 'num_node', None), int):
        return graph.num_node
    A = getattr(graph, 'A', None)
    if A is not None:
        return int(A.shape[-1])
    raise AttachError(
        'fr_head.num_joints: cannot read the number of joints from '
        'backbone.graph (no num_node or A); set fr_head.num_joints')


@MODELS.register_module()
class FRHead(AuxHead):
    """Multi-stage FR-Head, attached to a recognizer's backbone blocks.

    Built by ``SFRecognizerGCN(fr_head=dict(...))``; the per-stage modules
    are created by :meth:`attach`, when the backbone is known. Training
    only: in predict/tensor mode nothing of it runs.

    Args:
        stages (list[int], optional): 1-based numbers of the blocks whose
            output is refined (with ``attach_to``: of the matched modules);
            None for all. Defaults to ``(1, 5, 8, 10)`` (published, after
            CTR-GCN blocks 1, 5, 8, 10 of 10).
        stage_weights (list[float], optional): w_l, one per entry of
            ``stages``, in the same order; None for 1.0 each. Defaults to
            ``(0.1, 0.2, 0.5, 1.0)`` (published).
        loss_weight (float): overall weight of ``loss_fr``. Defaults to 0.1.
        temperature (float): tau. Defaults to 0.125.
        alpha (float): FN/FP penalty scale. Defaults to 0.125.
        momentum (float): prototype EMA momentum. Defaults to 0.9.
        hidden_channels (int): H, projected feature and prototype size.
            Defaults to 256 (published).
        temporal_bins (int): time steps of the pooled temporal descriptor
            (ours; the published code flattens all T frames). Defaults to
            16, the frame count of CTR-GCN's last stages on 64-frame clips.
        tp_threshold (float): minimum true-class probability of a true
            positive. Defaults to 0.0 (published).
        num_classes (int, optional): K. Defaults to ``cls_head.num_classes``;
            if given it must agree with it.
        num_joints (int, optional): V. Defaults to the backbone graph's.
        attach_to (str | list[str], optional): module-path patterns for
            backbones without gcn/tcn blocks (their outputs are read).
            Defaults to None: the outputs of the blocks that have ``gcn``
            and ``tcn`` children.
        in_channels (list[int], optional): channels per selected stage, in
            block order, when they cannot be read from the modules.
            Defaults to None.
    """

    reads = 'block'  # the block output, not its gcn's

    def __init__(self,
                 stages: Optional[Sequence[int]] = (1, 5, 8, 10),
                 stage_weights: Optional[Sequence[float]] = (0.1, 0.2, 0.5,
                                                             1.0),
                 loss_weight: float = 0.1,
                 temperature: float = 0.125,
                 alpha: float = 0.125,
                 momentum: float = 0.9,
                 hidden_channels: int = 256,
                 temporal_bins: int = 16,
                 tp_threshold: float = 0.0,
                 num_classes: Optional[int] = None,
                 num_joints: Optional[int] = None,
                 attach_to: Optional[Union[str, Sequence[str]]] = None,
                 in_channels: Optional[Sequence[int]] = None) -> None:
        super().__init__(stages, attach_to, in_channels, field='fr_head')
        if stages is not None and stage_weights is not None and len(
                stage_weights) != len(stages):
            raise ValueError(
                f'fr_head.stage_weights={list(stage_weights)} has '
                f'{len(stage_weights)} entries for the {len(stages)} '
                f'fr_head.stages={list(stages)}: give one weight per stage')
        checks = [
            ('loss_weight', loss_weight, loss_weight >= 0, 'a weight >= 0'),
            ('temperature', temperature, temperature > 0, 'a value > 0'),
            ('alpha', alpha, alpha >= 0, 'a value >= 0'),
            ('momentum', momentum, 0 <= momentum < 1, 'a value in [0, 1)'),
            ('hidden_channels', hidden_channels,
             isinstance(hidden_channels, int) and hidden_channels > 0,
             'a positive int'),
            ('temporal_bins', temporal_bins,
             isinstance(temporal_bins, int) and
             0 < temporal_bins <= hidden_channels,
             f'an int in 1..hidden_channels ({hidden_channels})'),
        ]
        if stage_weights is not None:
            checks.append(('stage_weights', list(stage_weights),
                           all(w >= 0 for w in stage_weights),
                           'weights >= 0'))
        for field, value, ok, expected in checks:
            if not ok:
                raise ValueError(
                    f'fr_head.{field}={value}: expected {expected}')
        self.stages = None if stages is None else list(stages)
        self.stage_weights = (None if stage_weights is None else
                              [float(w) for w in stage_weights])
        self.loss_weight = loss_weight
        self.hidden_channels = hidden_channels
        self.temporal_bins = temporal_bins
        self.contrast_cfg = dict(temperature=temperature, alpha=alpha,
                                 momentum=momentum,
                                 tp_threshold=tp_threshold)
        self.num_classes = num_classes
        self.num_joints = num_joints
        self.refiners = nn.ModuleDict()
        self.weights: Dict[str, float] = {}
        self.weight_of: Dict[int, float] = {}

    def attach(self, model: nn.Module) -> List[str]:
        """Read ``num_classes`` from ``cls_head`` and ``num_joints`` from the
        backbone graph, then attach (:meth:`AuxHead.attach`).

        Args:
            model: the recognizer (needs ``backbone`` and ``cls_head``).

        Returns:
            list[str]: names of the modules whose outputs are refined.
        """
        head_classes = getattr(getattr(model, 'cls_head', None),
                               'num_classes', None)
        if head_classes is None:
            raise AttachError(
                'fr_head needs the main classifier (model.cls_head with '
                'num_classes) for its true/false positive mining')
        if self.num_classes is None:
            self.num_classes = head_classes
        elif self.num_classes != head_classes:
            raise ValueError(
                f'fr_head.num_classes={self.num_classes} disagrees with '
                f'model.cls_head.num_classes={head_classes}; leave '
                'fr_head.num_classes unset to take it from cls_head')
        if self.num_joints is None:
            self.num_joints = _infer_num_joints(model)
        if self.hidden_channels < self.num_joints:
            raise ValueError(
                f'fr_head.hidden_channels={self.hidden_channels}: expected '
                f'at least num_joints={self.num_joints}')
        stages = self.stages if self.stages is not None else list(range(
            1, 1 + len(find_attach_points(model, self.attach_to))))
        weights = self.stage_weights or [1.0] * len(stages)
        if len(weights) != len(stages):
            raise ValueError(
                f'fr_head.stage_weights has {len(weights)} entries for '
                f'{len(stages)} stages')
        self.weight_of = dict(zip(stages, weights))
        return super().attach(model)

    def add_point(self, key: str, channels: int, stage: int,
                  name: str) -> None:
        self.refiners[key] = SpatialTemporalRefinement(
            channels, self.num_classes, self.num_joints,
            self.hidden_channels, self.temporal_bins, **self.contrast_cfg)
        self.weights[key] = self.weight_of[stage]

    def loss(self, cls_score: Optional[Tensor], data_samples,
             num_persons: int) -> Dict[str, Tensor]:
        """``loss_fr`` from the captured block outputs and the logits.

        Args:
            cls_score: (N, K) the very ``cls_head`` output that ``loss_cls``
                was computed from (dropout included); used detached.
            data_samples: the batch's ``ActionDataSample`` s (gt_label).
            num_persons: M, bodies per clip in the block outputs.
        """
        captured, logits = self.take_captured(), cls_score
        if logits is None:
            raise ValueError(
                'fr_head needs the classifier scores for its true/false '
                'positive mining, and this cls_head computes its loss its '
                'own way (it overrides loss()) without calling its forward '
                'or a single nn.Linear with num_classes outputs, where '
                'SFRecognizerGCN looks for them; use a cls_head whose loss '
                'is loss_by_feat(forward(feats)), e.g. GCNHead')
        labels = torch.stack([s.gt_label for s in data_samples]).to(
            logits.device)
        if labels.dim() > 1 and labels.shape[-1] != 1:
            raise ValueError(
                'fr_head needs one hard class label per clip; got labels of '
                f'shape {tuple(labels.shape)} (soft/multi labels)')
        labels = labels.reshape(-1).long()
        if logits.shape[0] != labels.shape[0]:
            raise ValueError(
                f'fr_head: {logits.shape[0]} classifier rows for '
                f'{labels.shape[0]} labels; FR-Head trains on one clip per '
                'sample (num_clips=1 in the train pipeline)')
        if labels.numel():
            # one host read for both bounds (on a GPU, each read is a wait)
            low, high = torch.stack(torch.aminmax(labels)).tolist()
            if low < 0 or high >= self.num_classes:
                bad = low if low < 0 else high
                raise ValueError(
                    f'fr_head: label {bad} outside 0..'
                    f'{self.num_classes - 1} (model.cls_head.num_classes='
                    f'{self.num_classes})')
        probs = logits.detach().float().softmax(dim=1)
        total = logits.new_zeros((), dtype=torch.float32)
        for key, refiner in self.refiners.items():
            x = captured[key]
            if x.shape[-1] != self.num_joints:
                raise ValueError(
                    f'fr_head: {key} outputs {x.shape[-1]} joints, expected '
                    f'num_joints={self.num_joints}')
            total = total + self.weights[key] * refiner(
                x, num_persons, labels, probs)
        return dict(loss_fr=self.loss_weight * total)
