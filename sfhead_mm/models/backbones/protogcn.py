"""ProtoGCN backbone and its classifier (Liu et al., CVPR 2025).

Reference: "Revealing Key Details to See Differences: A Novel Prototypical
Perspective for Skeleton-based Action Recognition" (CVPR 2025), code
``firework8/ProtoGCN`` (PySKL based;
``protogcn/models/gcns/protogcn.py``, ``gcns/utils/{gcn,tcn}.py``,
``heads/``, ``losses/Class_Specific_Contrastive_Loss.py``). Written from the
paper and from reading that code; same function and parameters as the
original backbone + ``SimpleHead`` (with its contrastive-loss projection).

Model, in the paper's terms:

* ``data_bn`` over (V, C) shared by the persons (PySKL's ``'VC'``).
* Ten blocks (96 x4, 192 x3, 384 x3, stride 2 at the 5th and 8th, no block
  residual in the first). The graph convolution (motion topology
  enhancement): K (8) learned topologies, initialised
  ``N(0.04, 0.02^2)`` (PySKL's ``mode='random'`` graph), are refined per
  sample by ``alpha * tanh(x1_u - x2_v)`` (channel-wise, as CTR-GCN) and
  ``beta * softmax_u(x1 . x2)`` (one map per subset) from the temporal
  means of two 1x1 convs; the features of a 1x1 ``pre`` conv are aggregated
  per subset and a 1x1 ``post`` conv mixes the subsets;
  ``relu(bn(.) + down(x))``. The temporal convolution has six branches
  (kernel 3 at dilations 1-4, max-pool, 1x1) over the joints plus their
  mean (a global joint added back with a learned per-joint weight), then
  BN-ReLU-1x1 conv and BN.
* Prototype reconstruction: the refinement maps of the last block
  (``alpha``/``beta`` terms, ``K * C_mid`` channels, averaged over the
  persons) are read, at each joint pair, as a query over ``num_prototype``
  (400 at NTU) memory vectors (softmax attention, dropout 0.1), then a 1x1
  conv + BN + ReLU and the channel mean give a V x V graph per clip.
* Head (:class:`ProtoGCNHead`): mean over (M, T, V), ``fc_cls``; the
  class-specific contrastive loss projects the reconstructed graph
  (``Linear(V * V, 256)``) and contrasts it (temperature 0.125) with a
  per-class memory updated with momentum 0.9 from the batch's true
  positives; ``loss = CE + 0.2 * L_csc``.

The backbone returns ``(features, graph)``: ``features`` (N, M, C, T, V)
as every GCN backbone, ``graph`` (N, V * V) for the head's contrastive loss.

Attachment of our auxiliary heads: each block is ``backbone.gcn[i]`` with
children ``gcn`` and ``tcn`` (the original's names). Unlike the original,
whose ``unit_gcn`` returns ``(x, graph)``, ``gcn`` returns the tensor only,
so the default gcn/tcn rule applies unchanged; the last block's refinement
maps are computed by ``gcn.refinement(x)`` from the block input (a second,
cheap evaluation of the same two 1x1 convs on the temporal mean).

Changes that keep the function:

* ``conv1``/``conv2`` are applied after the temporal mean (1x1 convs are
  affine: ``mean_T(conv(x)) == conv(mean_T(x))``, at ``1/T`` of the cost).
* The prototype network runs on all clips at once instead of a loop.
* The class memory of the contrastive loss is a buffer (saved in
  checkpoints; the original keeps it in a plain attribute, lost on resume).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from .blocks import GCNTCNBlock, channel_projection
from .protogcn_head import ProtoGCNHead, class_specific_contrastive_loss

__all__ = [
    'ProtoGCN', 'ProtoGCNBlock', 'ProtoGCNHead', 'ProtoGraphConv',
    'ProtoTemporalConv', 'PrototypeReconstruction',
    'class_specific_contrastive_loss'
]


class ProtoGraphConv(nn.Module):
    """Motion topology enhancement, the original ``unit_gcn``.

    For subset ``k`` and mid channel ``c``:
    ``x1, x2 = conv1(mean_T x), conv2(mean_T x)`` (N, K, C_mid, V);
    ``inter[k, c, u, v] = alpha[0] * tanh(x1[k, c, u] - x2[k, c, v])``;
    ``intra[k, u, v] = beta[0] * softmax_u(sum_c x1[k, c, u] x2[k, c, v])``;
    ``out[k, c, t, v] = sum_u pre(x)[k, c, t, u] (A_k + inter + intra)[u, v]``;
    ``relu(bn(post(out)) + down(x))``. As in the original only the first
    element of ``alpha`` and ``beta`` (K each, initialised 0) is used.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        A (torch.Tensor): Initial topologies, (K, V, V).
        ratio (float): ``C_mid = int(ratio * C_out)``. Defaults to 0.125.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 ratio: float = 0.125) -> None:
        super().__init__()
        K = A.size(0)
        mid = int(ratio * out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = K
        self.mid_channels = mid
        self.A = nn.Parameter(A.clone())
        self.pre = nn.Sequential(
            nn.Conv2d(in_channels, mid * K, 1), nn.BatchNorm2d(mid * K),
            nn.ReLU())
        self.post = nn.Conv2d(mid * K, out_channels, 1)
        self.alpha = nn.Parameter(torch.zeros(K))
        self.beta = nn.Parameter(torch.zeros(K))
        self.conv1 = nn.Conv2d(in_channels, mid * K, 1)
        self.conv2 = nn.Conv2d(in_channels, mid * K, 1)
        self.down = channel_projection(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def refinement(self, x: torch.Tensor) -> torch.Tensor:
        """The sample-dependent part of the topology, ``inter + intra``.

        Args:
            x (torch.Tensor): Block input, (B, C_in, T, V).

        Returns:
            torch.Tensor: (B, K, C_mid, V, V), indexed (u, v): the weight
            of joint u in the aggregate of joint v.
        """
        B, _, T, V = x.shape
        K, C = self.num_subsets, self.mid_channels
        x_mean = x.mean(dim=2, keepdim=True)  # conv1/2 commute with mean_T
        x1 = self.conv1(x_mean).view(B, K, C, V)
        x2 = self.conv2(x_mean).view(B, K, C, V)
        inter = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))
        intra = torch.softmax(x1.transpose(2, 3) @ x2, dim=-2)  # B, K, V, V
        return inter * self.alpha[0] + (intra * self.beta[0]).unsqueeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V)."""
        B, _, T, V = x.shape
        K, C = self.num_subsets, self.mid_channels
        topology = self.refinement(x) + self.A[:, None]  # B, K, C, V, V
        pre = self.pre(x).view(B, K, C, T, V)
        out = torch.matmul(pre, topology).view(B, K * C, T, V)
        return self.relu(self.bn(self.post(out)) + self.down(x))


class ProtoTemporalConv(nn.Module):
    """The original ``mstcn``: multi-scale branches with a global joint.

    The mean over the joints is appended as joint V; the branches (per
    ``ms_cfg`` entry ``(k, d)``: 1x1 conv-BN-ReLU then a ``k x 1`` conv of
    dilation d; ``('max', k)``: 1x1 conv-BN-ReLU then max-pool; ``'1x1'``:
    a strided 1x1 conv) are concatenated (the first branch takes the
    remainder channels); the global joint's output is added to every joint
    with the learned per-joint weight ``add_coeff``; then
    BN-ReLU-1x1 conv, BN and dropout.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Temporal stride. Defaults to 1.
        ms_cfg (Sequence): Branches. Defaults to the original's
            ``[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1']``.
        num_joints (int): Length of ``add_coeff``, of which the first V
            are used. The blocks pass ``max(25, V)``: the original's 25 for
            any layout up to 25 joints (where it fails beyond).
            Defaults to 25.
        dropout (float): Dropout at the end. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 ms_cfg: Sequence = ((3, 1), (3, 2), (3, 3), (3, 4),
                                     ('max', 3), '1x1'),
                 num_joints: int = 25,
                 dropout: float = 0.) -> None:
        super().__init__()
        num_branches = len(ms_cfg)
        mid = out_channels // num_branches
        first = out_channels - mid * (num_branches - 1)
        self.add_coeff = nn.Parameter(torch.zeros(num_joints))
        branches = []
        for i, cfg in enumerate(ms_cfg):
            channels = first if i == 0 else mid
            if cfg == '1x1':
                branches.append(
                    nn.Conv2d(in_channels, channels, 1, stride=(stride, 1)))
                continue
            kind, size = tuple(cfg)
            if kind == 'max':
                last = nn.MaxPool2d((size, 1), stride=(stride, 1),
                                    padding=(1, 0))
            else:
                last = nn.Conv2d(
                    channels,
                    channels, (kind, 1),
                    stride=(stride, 1),
                    padding=((kind - 1) * size // 2, 0),
                    dilation=(size, 1))
            branches.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, channels, 1),
                    nn.BatchNorm2d(channels), nn.ReLU(), last))
        self.branches = nn.ModuleList(branches)
        self.transform = nn.Sequential(
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        V = x.size(-1)
        x = torch.cat([x, x.mean(dim=-1, keepdim=True)], dim=-1)
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        out = out[..., :V] + out[..., V:] * self.add_coeff[:V]
        return self.drop(self.bn(self.transform(out)))


class ProtoGCNBlock(GCNTCNBlock):
    """The original ``GCN_Block``: ``relu(tcn(gcn(x)) + residual(x))``.

    A :class:`GCNTCNBlock` with ``gcn`` a :class:`ProtoGraphConv` and
    ``tcn`` a :class:`ProtoTemporalConv`; PyTorch's default initialisation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Initial topologies, (K, V, V).
        stride (int): Temporal stride. Defaults to 1.
        residual (bool): Whether to add the block residual. Defaults to True.
        ratio (float): See :class:`ProtoGraphConv`. Defaults to 0.125.
        tcn_ms_cfg (Sequence): See :class:`ProtoTemporalConv`.
        tcn_dropout (float): See :class:`ProtoTemporalConv`. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 ratio: float = 0.125,
                 tcn_ms_cfg: Sequence = ((3, 1), (3, 2), (3, 3), (3, 4),
                                         ('max', 3), '1x1'),
                 tcn_dropout: float = 0.) -> None:
        super().__init__(
            ProtoGraphConv(in_channels, out_channels, A, ratio),
            in_channels,
            out_channels,
            stride=stride,
            residual=residual,
            tcn=ProtoTemporalConv(
                out_channels,
                out_channels,
                stride=stride,
                num_joints=max(25, A.size(-1)),
                ms_cfg=tcn_ms_cfg,
                dropout=tcn_dropout))


class PrototypeReconstruction(nn.Module):
    """The original ``Prototype_Reconstruction_Network``.

    ``dropout(memory(softmax(query(g))))`` for each joint pair's
    C-dimensional refinement vector ``g``: a soft selection among
    ``num_prototype`` learned prototypes.

    Args:
        channels (int): Width C of the refinement vectors.
        num_prototype (int): Number of prototypes. Defaults to 100.
        dropout (float): Dropout on the output. Defaults to 0.1.
    """

    def __init__(self,
                 channels: int,
                 num_prototype: int = 100,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.query_matrix = nn.Linear(channels, num_prototype, bias=False)
        self.memory_matrix = nn.Linear(num_prototype, channels, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) -> (..., C)."""
        query = torch.softmax(self.query_matrix(x), dim=-1)
        return self.dropout(self.memory_matrix(query))


@MODELS.register_module()
class ProtoGCN(BaseModule):
    """ProtoGCN backbone; returns ``(features, graph)``.

    Input ``(N, M, T, V, C)`` joints; output ``features``
    ``(N, M, C_out, T_out, V)`` and the reconstructed ``graph`` ``(N, V*V)``
    for :class:`ProtoGCNHead`. See the module docstring for the model.

    Block ``i`` (1-based) has ``base_channels * ch_ratio**j`` channels, ``j``
    the number of ``inflate_stages <= i``, stride 2 if ``i in down_stages``;
    the first block has no block residual. Blocks are ``self.gcn[i - 1]``
    with children ``gcn`` and ``tcn`` (as the original).

    Args:
        graph_cfg (dict): Arguments of mmaction's ``Graph``; only the number
            of joints V is used (the topologies start random, as PySKL's
            ``mode='random'``), e.g. ``dict(layout='nturgb+d')``.
        in_channels (int): Channels of a joint. Defaults to 3.
        base_channels (int): Width of the first stage. Defaults to 96.
        ch_ratio (float): Width factor at each inflate stage. Defaults to 2.
        num_stages (int): Number of blocks. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based blocks that widen.
            Defaults to ``(5, 8)``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to ``(5, 8)``.
        num_subsets (int): Learned topologies K (PySKL's ``num_filter``).
            Defaults to 8.
        graph_init_mean (float): Mean of the initial topologies (PySKL's
            ``init_off``). Defaults to 0.04.
        graph_init_std (float): Their standard deviation (``init_std``).
            Defaults to 0.02.
        ratio (float): Mid channels of the graph convolutions per subset,
            as a fraction of the output channels. Defaults to 0.125.
        num_prototype (int): Prototypes of the reconstruction network (the
            NTU configs use 400). Defaults to 400.
        tcn_ms_cfg (Sequence): Temporal branches. Defaults to the NTU
            configs' ``[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1']``.
        tcn_dropout (float): Dropout of the temporal convs after the first
            block. Defaults to 0.
        data_bn_type (str): ``'VC'`` (one BN over V*C shared by the persons,
            the original default), ``'MVC'`` or ``'none'``.
            Defaults to ``'VC'``.
        num_person (int): Persons M per clip (for ``'MVC'``). Defaults to 2.
        init_cfg (dict or list[dict], optional): Initialisation config of
            the backbone (e.g. ``Pretrained``). The layers keep PyTorch's
            default initialisation, as the original. Defaults to None.

    Examples:
        >>> import torch
        >>> import sfhead_mm  # noqa: F401
        >>> from sfhead_mm.models import ProtoGCN
        >>> model = ProtoGCN(dict(layout='nturgb+d'))
        >>> feats, graph = model(torch.randn(2, 2, 64, 25, 3))
        >>> feats.shape, graph.shape
        (torch.Size([2, 2, 384, 16, 25]), torch.Size([2, 625]))
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 96,
                 ch_ratio: float = 2,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 num_subsets: int = 8,
                 graph_init_mean: float = 0.04,
                 graph_init_std: float = 0.02,
                 ratio: float = 0.125,
                 num_prototype: int = 400,
                 tcn_ms_cfg: Sequence = ((3, 1), (3, 2), (3, 3), (3, 4),
                                         ('max', 3), '1x1'),
                 tcn_dropout: float = 0.,
                 data_bn_type: str = 'VC',
                 num_person: int = 2,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        V = self.graph.num_node
        A = torch.randn(num_subsets, V, V) * graph_init_std + graph_init_mean
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels * V)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * V)
        elif data_bn_type == 'none':
            self.data_bn = nn.Identity()
        else:
            raise ValueError(f"ProtoGCN: data_bn_type must be 'VC', 'MVC' "
                             f"or 'none', got {data_bn_type!r}.")
        self.data_bn_type = data_bn_type
        self.in_channels = in_channels

        blocks = []
        block_in, width = in_channels, base_channels
        if in_channels != base_channels:
            blocks.append(
                ProtoGCNBlock(in_channels, base_channels, A.clone(),
                              residual=False, ratio=ratio,
                              tcn_ms_cfg=tcn_ms_cfg))
            block_in = base_channels
        inflations = 0
        for i in range(2, num_stages + 1):
            inflations += i in tuple(inflate_stages)
            width = int(base_channels * ch_ratio**inflations + 1e-4)
            blocks.append(
                ProtoGCNBlock(
                    block_in,
                    width,
                    A.clone(),
                    stride=1 + (i in tuple(down_stages)),
                    ratio=ratio,
                    tcn_ms_cfg=tcn_ms_cfg,
                    tcn_dropout=tcn_dropout))
            block_in = width
        self.gcn = ModuleList(blocks)
        self.out_channels = block_in
        last = blocks[-1].gcn
        graph_channels = last.num_subsets * last.mid_channels
        self.prn = PrototypeReconstruction(graph_channels, num_prototype)
        self.post = nn.Conv2d(graph_channels, graph_channels, 1)
        self.bn = nn.BatchNorm2d(graph_channels)
        self.relu = nn.ReLU()

    def forward(self,
                x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Extract skeleton features and the reconstructed graph.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Features
            (N, M, C_out, T_out, V) and graph (N, V * V).
        """
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 3, 4, 2)  # N, M, V, C, T
        if self.data_bn_type == 'MVC':
            x = self.data_bn(x.reshape(N, M * V * C, T))
        else:
            x = self.data_bn(x.reshape(N * M, V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2)
        x = x.reshape(N * M, C, T, V)
        for block in self.gcn[:-1]:
            x = block(x)
        last = self.gcn[-1]
        refinement = last.gcn.refinement(x)  # N*M, K, C_mid, V, V
        x = last(x)
        graph = refinement.view(N, M, -1, V * V).mean(dim=1)  # N, C', V*V
        graph = self.prn(graph.transpose(1, 2)).transpose(1, 2)
        graph = self.relu(self.bn(self.post(graph.reshape(N, -1, V, V))))
        return x.reshape((N, M) + x.shape[1:]), graph.mean(dim=1).view(N, -1)
