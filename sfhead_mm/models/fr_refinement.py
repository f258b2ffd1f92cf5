"""The parts of one FR-Head stage: :class:`PrototypeContrast` (contrastive
refinement of one descriptor against class prototypes, eq. FR-proto,
FR-score, FR-cl of :mod:`~sfhead_mm.models.fr_head`) and
:class:`SpatialTemporalRefinement` (the spatial and temporal descriptors of
one block output, each refined)."""
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from torch import Tensor, nn

__all__ = [
    'PrototypeContrast', 'PrototypeContrastOutput',
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
