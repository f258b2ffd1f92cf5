"""FR-Head: Feature Refinement Head (SPEC.md section 2.5, paper 002).

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
``fr_head=dict(...)``; it attaches by forward hooks (see ``plugin.py``) and
adds ``loss_fr`` (eq. FR-total below) to the recognizer's losses.

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
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from torch import Tensor, nn

from mmaction.registry import MODELS
from .plugin import (AttachError, find_attach_points, infer_out_channels,
                     init_children_in_own_stream, select_stages)

__all__ = [
    'FRHead', 'PrototypeContrast', 'PrototypeContrastOutput',
    'SpatialTemporalRefinement'
]


class PrototypeContrastOutput(NamedTuple):
    """What :meth:`PrototypeContrast.refine` returns (N clips, K classes).

    ``loss`` is the scalar L_cl; ``logits_fn`` / ``logits_fp`` (N, K) are the
    two score matrices already divided by the temperature; ``penalty_fn`` /
    ``penalty_fp`` (N,) the penalties added to the true-class score;
    ``prototypes`` (K, H) the prototypes after this batch's update.
    """
    loss: Tensor
    logits_fn: Tensor
    logits_fp: Tensor
    penalty_fn: Tensor
    penalty_fp: Tensor
    prototypes: Tensor


def _global_sum(local: Tensor) -> Tensor:
    """Sum ``local`` over all ranks; value global, gradient local.

    Outside distributed training this is the identity. Inside, the other
    ranks' contribution enters as a constant, so autograd sees
    ``local + const`` (collectives are not differentiable).
    """
    total = local.detach().clone()
    all_reduce(total, op='sum')  # no-op when not distributed
    return local + (total - local.detach())


class PrototypeContrast(nn.Module):
    """Contrastive refinement of one descriptor against class prototypes.

    Args:
        in_features (int): Size of the input descriptor.
        num_classes (int): K, the classifier's number of classes.
        hidden_channels (int): H, size of the projected feature and of each
            prototype. Defaults to 256.
        temperature (float): tau of eq. FR-cl. Defaults to 0.125.
        alpha (float): scale of the FN/FP penalties. Defaults to 0.125.
        momentum (float): m of the prototype EMA. Defaults to 0.9.
        tp_threshold (float): a correct prediction counts as a true positive
            (and updates its prototype) only if its true-class probability
            is above this. Defaults to 0.0 (every correct prediction, as
            published).
    """

    def __init__(self,
                 in_features: int,
                 num_classes: int,
                 hidden_channels: int = 256,
                 temperature: float = 0.125,
                 alpha: float = 0.125,
                 momentum: float = 0.9,
                 tp_threshold: float = 0.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.temperature = temperature
        self.alpha = alpha
        self.momentum = momentum
        self.tp_threshold = tp_threshold
        self.projection = nn.Linear(in_features, hidden_channels)
        # Random initial directions, as published; (K, H), one row a class.
        self.register_buffer('prototypes',
                             torch.randn(num_classes, hidden_channels))

    def forward(self, features: Tensor, labels: Tensor,
                probs: Tensor) -> Tensor:
        """L_cl of one descriptor; updates the prototypes when training.

        Args:
            features: (N, in_features) descriptors of N clips.
            labels: (N,) int64 true classes.
            probs: (N, K) classifier probabilities (no gradient needed).

        Returns:
            Tensor: the scalar loss.
        """
        return self.refine(self.projection(features), labels, probs).loss

    def refine(self, z: Tensor, labels: Tensor,
               probs: Tensor) -> PrototypeContrastOutput:
        """Everything of eq. FR-proto, FR-score and FR-cl on projected
        features ``z`` (N, H)."""
        N, H = z.shape
        K = self.num_classes
        z = z.float()
        probs = probs.detach().float()
        is_true = F.one_hot(labels, K).float()  # (N, K)
        is_pred = F.one_hot(probs.argmax(dim=1), K).float()  # (N, K)
        p_true = (probs * is_true).sum(dim=1)  # (N,)
        tp = is_true * is_pred
        fn = is_true - tp  # row n marks class y_n when n is misclassified
        fp = is_pred - tp  # row n marks class yhat_n when it is wrong
        tp = tp * (p_true > self.tp_threshold).float()[:, None]

        # Per-class sums and counts over the global batch: (3, K, H), (3, K).
        masks = torch.stack([tp, fn, fp])  # (3, N, K)
        sums = torch.einsum('snk,nh->skh', masks, z)
        counts = masks.sum(dim=1)
        packed = _global_sum(torch.cat([sums.flatten(), counts.flatten()]))
        sums = packed[:3 * K * H].view(3, K, H)
        counts = packed[3 * K * H:].view(3, K).detach()
        present = counts > 0.5  # (3, K)
        means = sums / counts.clamp(min=1.0)[..., None]
        tp_mean, fn_mean, fp_mean = means

        # eq. FR-proto: EMA for classes with true positives, else unchanged.
        old = self.prototypes.detach().clone().float()
        updated = self.momentum * old + (1 - self.momentum) * tp_mean
        prototypes = torch.where(present[0][:, None], updated, old)
        if self.training:
            with torch.no_grad():
                self.prototypes.copy_(prototypes.detach())

        # eq. FR-score
        z_unit = F.normalize(z, dim=1)
        scores = z_unit @ F.normalize(prototypes, dim=1).t()  # (N, K)
        weight = self.alpha * (1 - p_true)  # (N,)
        cos_fn = (z_unit * F.normalize(fn_mean, dim=1)[labels]).sum(dim=1)
        cos_fp = (z_unit * F.normalize(fp_mean, dim=1)[labels]).sum(dim=1)
        penalty_fn = weight * present[1][labels].float() * (cos_fn - 1)
        penalty_fp = weight * present[2][labels].float() * (-cos_fp - 1)
        logits_fn = (scores + is_true * penalty_fn[:, None]) / self.temperature
        logits_fp = (scores + is_true * penalty_fp[:, None]) / self.temperature

        # eq. FR-cl
        loss = (F.cross_entropy(logits_fn, labels) +
                F.cross_entropy(logits_fp, labels))
        return PrototypeContrastOutput(loss, logits_fn, logits_fp,
                                       penalty_fn, penalty_fp, prototypes)


class SpatialTemporalRefinement(nn.Module):
    """One FR-Head stage: spatial-temporal decoupling + two refinements.

    Spatial descriptor: mean over persons and T -> (N, C, V), 1x1 conv to
    ``H // V`` channels + BN + ReLU, flattened to ``(H // V) * V``.
    Temporal descriptor: mean over persons and V -> (N, C, T), 1x1 conv to
    ``H // bins`` channels + BN + ReLU, adaptive average pooling to ``bins``
    time steps (any T), flattened to ``(H // bins) * bins``.

    Args:
        in_channels (int): C of the block output.
        num_classes (int): K.
        num_joints (int): V.
        hidden_channels (int): H. Defaults to 256.
        temporal_bins (int): time steps the temporal descriptor is pooled
            to. Defaults to 16.
        **contrast_cfg: :class:`PrototypeContrast` fields (temperature,
            alpha, momentum, tp_threshold).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_joints: int,
                 hidden_channels: int = 256,
                 temporal_bins: int = 16,
                 **contrast_cfg) -> None:
        super().__init__()
        spatial_channels = hidden_channels // num_joints
        temporal_channels = hidden_channels // temporal_bins
        self.num_joints = num_joints
        self.spatial_squeeze = nn.Sequential(
            nn.Conv1d(in_channels, spatial_channels, 1),
            nn.BatchNorm1d(spatial_channels), nn.ReLU())
        self.temporal_squeeze = nn.Sequential(
            nn.Conv1d(in_channels, temporal_channels, 1),
            nn.BatchNorm1d(temporal_channels), nn.ReLU(),
            nn.AdaptiveAvgPool1d(temporal_bins))
        self.spatial = PrototypeContrast(
            spatial_channels * num_joints, num_classes, hidden_channels,
            **contrast_cfg)
        self.temporal = PrototypeContrast(
            temporal_channels * temporal_bins, num_classes, hidden_channels,
            **contrast_cfg)

    def forward(self, x: Tensor, num_persons: int, labels: Tensor,
                probs: Tensor) -> Tensor:
        """Stage loss ``L_cl(spatial) + L_cl(temporal)``.

        Args:
            x: (N * M, C, T, V) block output, persons of a clip adjacent.
            num_persons: M.
            labels: (N,) classes; probs: (N, K) classifier probabilities.
        """
        B, C, T, V = x.shape
        x = x.reshape(B // num_persons, num_persons, C, T, V).mean(dim=1)
        spatial = self.spatial_squeeze(x.mean(dim=2)).flatten(1)  # (N, H')
        temporal = self.temporal_squeeze(x.mean(dim=3)).flatten(1)
        return (self.spatial(spatial, labels, probs) +
                self.temporal(temporal, labels, probs))


class _CaptureHook:
    """Forward hook storing a module's output while the head captures."""

    def __init__(self, head: 'FRHead', key: Optional[str]) -> None:
        self.head = head
        self.key = key

    def __call__(self, module: nn.Module, args, output: Tensor) -> None:
        if not self.head.capturing:
            return None
        if self.key is None:
            self.head.captured_logits = output
        else:
            self.head.captured[self.key] = output
        return None


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
class FRHead(nn.Module):
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
        super().__init__()
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
        self.attach_to = attach_to
        self.in_channels = in_channels
        self.refiners = nn.ModuleDict()
        self.weights: Dict[str, float] = {}
        self.capturing = False
        self.captured: Dict[str, Tensor] = {}
        self.captured_logits: Optional[Tensor] = None

    def _points(self, model: nn.Module
                ) -> List[Tuple[str, nn.Module, str, nn.Module]]:
        """All candidate stages in forward order: ``(name, module whose
        output is read, name, module to read the channels from)``."""
        found = find_attach_points(model, self.attach_to)
        points = []
        for name, module in found:
            if self.attach_to is None:  # read the block, i.e. gcn's parent
                block = name[:-len('.gcn')]
                points.append((block, model.get_submodule(block), name,
                               module))
            else:
                points.append((name, module, name, module))
        return points

    def init_weights(self) -> None:
        """Called by the Runner's initialisation; see
        :func:`~sfhead_mm.models.plugin.init_children_in_own_stream`."""
        init_children_in_own_stream(self)

    def attach(self, model: nn.Module) -> List[str]:
        """Build one refinement per selected stage and hook it in.

        Args:
            model: the recognizer (needs ``backbone`` and ``cls_head``).

        Returns:
            list[str]: names of the modules whose outputs are refined.
        """
        cls_head = getattr(model, 'cls_head', None)
        head_classes = getattr(cls_head, 'num_classes', None)
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

        points = self._points(model)
        stages = (self.stages if self.stages is not None else
                  list(range(1, len(points) + 1)))
        weights = self.stage_weights or [1.0] * len(stages)
        if len(weights) != len(stages):
            raise ValueError(
                f'fr_head.stage_weights has {len(weights)} entries for '
                f'{len(stages)} stages')
        # validates the numbers (1-based, in range, distinct)
        select_stages([(p[0], p[1]) for p in points], stages,
                      field='fr_head.stages')
        weight_of = dict(zip(stages, weights))
        if self.in_channels is not None and len(self.in_channels) != len(
                stages):
            raise ValueError(
                f'fr_head.in_channels has {len(self.in_channels)} entries '
                f'for {len(stages)} stages')
        names = []
        for i, stage in enumerate(sorted(stages)):
            name, module, channel_name, channel_module = points[stage - 1]
            channels = (self.in_channels[i] if self.in_channels is not None
                        else infer_out_channels(channel_name, channel_module))
            key = name.replace('.', '_')
            self.refiners[key] = SpatialTemporalRefinement(
                channels, self.num_classes, self.num_joints,
                self.hidden_channels, self.temporal_bins,
                **self.contrast_cfg)
            self.weights[key] = weight_of[stage]
            names.append(name)
            module.register_forward_hook(_CaptureHook(self, key))
        cls_head.register_forward_hook(_CaptureHook(self, None))
        return names

    def start_capture(self) -> None:
        """Record block outputs and logits during the next forward."""
        self.captured = {}
        self.captured_logits = None
        self.capturing = True

    def stop_capture(self) -> None:
        self.capturing = False

    def losses(self, data_samples, num_persons: int) -> Dict[str, Tensor]:
        """``loss_fr`` from the captured block outputs and logits.

        The logits are the very ``cls_head`` output that ``loss_cls`` was
        computed from (dropout included), detached.

        Args:
            data_samples: the batch's ``ActionDataSample`` s (gt_label).
            num_persons: M, bodies per clip in the block outputs.
        """
        captured, logits = self.captured, self.captured_logits
        self.captured, self.captured_logits = {}, None
        if logits is None or len(captured) != len(self.refiners):
            raise RuntimeError(
                'FRHead.losses() called without a captured forward pass '
                '(start_capture() before the recognizer forward)')
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
        if labels.numel() and (labels.min() < 0 or
                               labels.max() >= self.num_classes):
            raise ValueError(
                f'fr_head: label {int(labels.max())} outside 0..'
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
