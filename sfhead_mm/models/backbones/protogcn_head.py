"""ProtoGCN's classifier and class-specific contrastive loss (see
:mod:`.protogcn`)."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList

__all__ = ['ProtoGCNHead', 'class_specific_contrastive_loss']


def class_specific_contrastive_loss(
        features: torch.Tensor, memory: torch.Tensor, labels: torch.Tensor,
        scores: torch.Tensor, momentum: float,
        temperature: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """ProtoGCN's class-specific contrastive loss and the updated memory.

    ``mask[i, k] = 1`` for true positives (label k and predicted k);
    the memory of each class with true positives becomes
    ``momentum * memory + (1 - momentum) * mean of its true positives'
    features`` (with gradient to those features in this step, as the
    original); ``loss = CE(cos(features_i, memory_k) / temperature, y_i)``.

    Args:
        features (torch.Tensor): Projected graphs, (N, D).
        memory (torch.Tensor): Class memory, (D, K).
        labels (torch.Tensor): (N,) class indices.
        scores (torch.Tensor): (N, K) class scores (no gradient needed).
        momentum (float): Memory momentum.
        temperature (float): Softmax temperature.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: The loss and the new memory
        (detached), (D, K).
    """
    K = memory.size(1)
    pred = scores.argmax(dim=1)
    mask = (F.one_hot(labels, K) * F.one_hot(pred, K)).to(features.dtype)
    counts = mask.sum(dim=0, keepdim=True)  # 1, K
    means = features.t() @ mask / (counts + 1e-12)  # D, K
    keep = torch.where(counts > 1e-8, momentum, 1.0).to(features.dtype)
    new_memory = memory.to(features.dtype) * keep + (1 - keep) * means
    feats = F.normalize(features, dim=1, eps=1e-12)
    protos = F.normalize(new_memory.t(), dim=1, eps=1e-12)  # K, D
    logits = feats @ protos.t() / temperature  # N, K
    return F.cross_entropy(logits, labels), new_memory.detach()


@MODELS.register_module()
class ProtoGCNHead(BaseHead):
    """ProtoGCN's classifier with its class-specific contrastive loss.

    Takes the backbone's ``(features, graph)``; ``forward`` classifies
    ``features`` as mmaction's ``GCNHead`` (mean over M, T, V, then
    ``fc_cls``); ``loss`` adds
    ``loss_csc = loss_weight_csc * L_csc(cl_fc(graph))`` (see
    :func:`class_specific_contrastive_loss`; the class memory ``memory``
    (``hidden_channels``, K) is a buffer initialised N(0, 1) as the
    original's).

    Args:
        num_classes (int): Number of classes K.
        in_channels (int): Channels of the backbone features (384).
        num_nodes (int): Joints V (the graph has V * V entries).
            Defaults to 25.
        hidden_channels (int): Width of the projection. Defaults to 256.
        loss_weight_csc (float): Weight of the contrastive loss.
            Defaults to 0.2 (the NTU configs).
        temperature (float): Defaults to 0.125.
        momentum (float): Memory momentum. Defaults to 0.9.
        dropout (float): Dropout before ``fc_cls``. Defaults to 0.
        loss_cls (dict): Classification loss. Defaults to
            ``dict(type='CrossEntropyLoss')``.
        average_clips (str): As in ``GCNHead``. Defaults to ``'prob'``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to ``fc_cls`` N(0, 0.01), bias 0 (the original's);
            ``cl_fc`` keeps PyTorch's default.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_nodes: int = 25,
                 hidden_channels: int = 256,
                 loss_weight_csc: float = 0.2,
                 temperature: float = 0.125,
                 momentum: float = 0.9,
                 dropout: float = 0.,
                 loss_cls: Dict = dict(type='CrossEntropyLoss'),
                 average_clips: str = 'prob',
                 init_cfg: Optional[Union[Dict, List[Dict]]] = dict(
                     type='Normal',
                     override=dict(type='Normal', name='fc_cls', std=0.01)),
                 **kwargs) -> None:
        super().__init__(
            num_classes,
            in_channels,
            loss_cls=loss_cls,
            average_clips=average_clips,
            init_cfg=init_cfg,
            **kwargs)
        self.loss_weight_csc = loss_weight_csc
        self.temperature = temperature
        self.momentum = momentum
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.cl_fc = nn.Linear(num_nodes * num_nodes, hidden_channels)
        self.register_buffer('memory',
                             torch.randn(hidden_channels, num_classes))

    def forward(self, x: Union[torch.Tensor, Tuple[torch.Tensor, ...]],
                **kwargs) -> torch.Tensor:
        """``(features, graph)`` or features (N, M, C, T, V) -> (N, K)."""
        if isinstance(x, (tuple, list)):
            x = x[0]
        return self.fc_cls(self.dropout(x.mean(dim=(3, 4)).mean(dim=1)))

    def loss(self, feats: Tuple[torch.Tensor, torch.Tensor],
             data_samples: SampleList, **kwargs) -> Dict:
        """Classification loss plus the class-specific contrastive loss.

        Args:
            feats (tuple[torch.Tensor, torch.Tensor]): The backbone's
                features (N, M, C, T, V) and graph (N, V * V).
            data_samples (list[ActionDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_cls``, ``top{k}_acc`` and ``loss_csc``.
        """
        return self.loss_and_scores(feats, data_samples)[0]

    def loss_and_scores(self, feats: Tuple[torch.Tensor, torch.Tensor],
                        data_samples: SampleList,
                        **kwargs) -> Tuple[Dict, torch.Tensor]:
        """:meth:`loss` and the (N, K) scores ``loss_cls`` was computed
        from, for auxiliary heads that read them (FR-Head)."""
        features, graph = feats
        scores = self(features)
        losses = self.loss_by_feat(scores, data_samples)
        labels = torch.stack([s.gt_label for s in data_samples]).view(-1)
        loss, memory = class_specific_contrastive_loss(
            self.cl_fc(graph), self.memory, labels.to(scores.device),
            scores.detach(), self.momentum, self.temperature)
        self.memory.copy_(memory)
        losses['loss_csc'] = self.loss_weight_csc * loss
        return losses, scores
