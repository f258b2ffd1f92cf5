"""InfoGCN's latent classifier and its MMD loss (see :mod:`.infogcn`)."""
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList

__all__ = ['InfoGCNHead', 'latent_mmd_loss']


def latent_mmd_loss(z: torch.Tensor, labels: torch.Tensor,
                    z_prior: torch.Tensor) -> torch.Tensor:
    """InfoGCN's MMD term: class means of ``z`` against their prior means.

    ``mean over the classes c present in the batch and the latent channels
    of (mean_{i: y_i = c} z_i - z_prior[c])^2``, the original
    ``get_mmd_loss`` (an MSE over the present classes' rows).

    Args:
        z (torch.Tensor): Latents, (N, D).
        labels (torch.Tensor): Class indices, (N,).
        z_prior (torch.Tensor): Prior class means, (K, D).

    Returns:
        torch.Tensor: A scalar.
    """
    present, index = torch.unique(labels, return_inverse=True)
    sums = z.new_zeros(len(present), z.size(1)).index_add_(0, index, z)
    counts = torch.bincount(index, minlength=len(present)).to(z.dtype)
    means = sums / counts[:, None]
    return F.mse_loss(means, z_prior[present].to(z.dtype))


@MODELS.register_module()
class InfoGCNHead(BaseHead):
    """InfoGCN's classifier: a Gaussian latent ``z`` decoded to classes.

    ``h = relu(fc(mean_{T,V,M} x))``, ``mu = fc_mu(h)``,
    ``logvar = fc_logvar(h)``; in training
    ``z = mu + eps * min(exp(noise_ratio * logvar), 100)``, ``eps ~ N(0, I)``,
    in test ``z = mu``; scores ``decoder(z)``. Loss (the original
    ``main.py``): ``loss_cls`` (label-smoothed cross entropy, see
    ``label_smooth_eps``) plus ``loss_mmd = lambda_mmd * MMD`` (see
    :func:`latent_mmd_loss`; ``z_prior`` is a buffer, so unlike the
    original it is saved in checkpoints) plus
    ``loss_z_mean = lambda_mean * ||mean_i z_i||_2``.

    Args:
        num_classes (int): Number of classes K.
        in_channels (int): Channels of the backbone output (256).
        latent_channels (int, optional): Width of ``fc``, ``mu`` and ``z``.
            Defaults to ``in_channels`` (the original).
        noise_ratio (float): Scale of ``logvar`` in the standard deviation.
            Defaults to 0.5 (the original's default argument).
        z_prior_gain (float): Gain of the orthogonal ``z_prior`` rows.
            Defaults to 3.
        lambda_mmd (float): Weight of the MMD term. Defaults to 0.1.
        lambda_mean (float): Weight of the norm of the mean latent.
            Defaults to 1e-4.
        dropout (float): Dropout on ``h``. Defaults to 0.
        loss_cls (dict): Classification loss. Defaults to
            ``dict(type='CrossEntropyLoss')``.
        label_smooth_eps (float): Label smoothing. Defaults to 0.1 (the
            original's ``LabelSmoothingCrossEntropy``).
        average_clips (str): As in ``GCNHead``. Defaults to ``'prob'``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Xavier uniform (ReLU gain) ``fc``,
            ``fc_mu``, ``fc_logvar``; ``decoder`` N(0, sqrt(2 / K)); biases
            0 (the original leaves PyTorch's default uniform biases).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 latent_channels: Optional[int] = None,
                 noise_ratio: float = 0.5,
                 z_prior_gain: float = 3.,
                 lambda_mmd: float = 0.1,
                 lambda_mean: float = 1e-4,
                 dropout: float = 0.,
                 loss_cls: Dict = dict(type='CrossEntropyLoss'),
                 label_smooth_eps: float = 0.1,
                 average_clips: str = 'prob',
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None,
                 **kwargs) -> None:
        if init_cfg is None:
            xavier = dict(
                type='Xavier', gain=math.sqrt(2.), distribution='uniform')
            init_cfg = dict(
                type='Normal',
                layer='Linear',
                std=math.sqrt(2. / num_classes),
                override=[
                    dict(name=name, **xavier)
                    for name in ('fc', 'fc_mu', 'fc_logvar')
                ])
        super().__init__(
            num_classes,
            in_channels,
            loss_cls=loss_cls,
            label_smooth_eps=label_smooth_eps,
            average_clips=average_clips,
            init_cfg=init_cfg,
            **kwargs)
        latent_channels = latent_channels or in_channels
        self.noise_ratio = noise_ratio
        self.lambda_mmd = lambda_mmd
        self.lambda_mean = lambda_mean
        self.fc = nn.Linear(in_channels, latent_channels)
        self.fc_mu = nn.Linear(latent_channels, latent_channels)
        self.fc_logvar = nn.Linear(latent_channels, latent_channels)
        self.decoder = nn.Linear(latent_channels, num_classes)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        z_prior = torch.empty(num_classes, latent_channels)
        nn.init.orthogonal_(z_prior, gain=z_prior_gain)
        self.register_buffer('z_prior', z_prior)

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """The latent ``z`` (sampled in training, ``mu`` in test).

        Args:
            x (torch.Tensor): Backbone features, (N, M, C, T, V).

        Returns:
            torch.Tensor: (N, D).
        """
        N, M, C, T, V = x.shape
        h = self.dropout(F.relu(self.fc(x.mean(dim=(3, 4)).mean(dim=1))))
        mu = self.fc_mu(h)
        if not self.training:
            return mu
        std = torch.clamp(
            torch.exp(self.fc_logvar(h) * self.noise_ratio), max=100)
        return mu + torch.randn_like(std) * std

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """(N, M, C, T, V) features -> (N, K) class scores."""
        return self.decoder(self.latent(x))

    def loss(self, feats: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """Classification loss plus the latent MMD and mean-norm terms.

        Args:
            feats (torch.Tensor): Backbone features, (N, M, C, T, V).
            data_samples (list[ActionDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_cls``, ``top{k}_acc``, ``loss_mmd``,
            ``loss_z_mean``.
        """
        return self.loss_and_scores(feats, data_samples)[0]

    def loss_and_scores(self, feats: torch.Tensor, data_samples: SampleList,
                        **kwargs) -> Tuple[Dict, torch.Tensor]:
        """:meth:`loss` and the (N, K) scores ``loss_cls`` was computed
        from (decoded from the sampled latent), for auxiliary heads that
        read them (FR-Head)."""
        z = self.latent(feats)
        scores = self.decoder(z)
        losses = self.loss_by_feat(scores, data_samples)
        labels = torch.stack([s.gt_label for s in data_samples]).view(-1)
        labels = labels.to(z.device)
        losses['loss_mmd'] = self.lambda_mmd * latent_mmd_loss(
            z, labels, self.z_prior)
        losses['loss_z_mean'] = self.lambda_mean * z.mean(dim=0).norm(p=2)
        return losses, scores
