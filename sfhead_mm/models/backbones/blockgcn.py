"""BlockGCN backbone (Zhou et al., CVPR 2024), with a per-sample topology.

Reference: "BlockGCN: Redefine Topology Awareness for Skeleton-Based Action
Recognition" (CVPR 2024), code
``ZhouYuxuanYX/BlockGCN`` (``model/BlockGCN.py``). Written from the paper
and from reading that code; same parameters as the original ``Model``
(without its ``fc``, which is mmaction's ``GCNHead``).

Model, in the paper's terms:

* Input: a per-joint linear embedding (128 channels) plus a learned joint
  position embedding, ``data_bn`` over (M, V, C).
* Ten blocks (128 x4, 256 x6, stride 2 at the 5th and 8th). The graph
  convolution (BlockGC) splits the channels into 8 blocks (heads); per
  adjacency subset ``s`` (3) and head ``h`` a learned V x V topology,
  initialised to the identity and column-normalised, plus a learned
  embedding of the hop distance between the two joints (also
  column-normalised) aggregates the joints, then a 1x1 conv grouped by head;
  the subsets are summed, ``relu(bn(.) + down(x))``. Then CTR-GCN's
  multi-scale temporal convolution and the block residual.
* Topology encoding (the persistent-homology branch): from the raw joints,
  the V x V matrix of distances between the joints' (person- and
  time-averaged) positions, scaled to [0, 1]; its rows are V points in R^V
  whose 0-dimensional Vietoris-Rips persistence diagram is vectorised by 64
  learned structure elements (centres, sharpness) to a 64-d code. Before
  each block a ``Linear(64, C) + BN + ReLU`` of the code is added to every
  joint and frame of the block input.

0-dimensional persistence of a Vietoris-Rips filtration is exact and cheap:
every point is born at 0 and the deaths are the edge lengths of a minimum
spanning tree of the points' distance graph (single linkage). It is computed
here by a batched Prim's algorithm (:func:`rips_zero_dim_deaths`) instead of
the original's call to ``torch-topological``/``giotto-ph`` on the CPU; the
gradient reaches the chosen edges' lengths as in the original.

Deliberate changes, each fixing a defect of the original code:

* Per-sample topology. The original computes one code per clip, (N, 64),
  and adds ``code.repeat(2, 1)`` to the (N * M, C, T, V) features, whose
  rows are ordered (clip, person): with N > 1, row ``n * 2 + m`` gets the
  code of clip ``(2 * n + m) mod N``, i.e. mostly another clip's topology.
  Here each body gets its own clip's code (``repeat_interleave(M)``), for
  any M (the original hard-codes M = 2 for NTU and edits the line for
  NW-UCLA).
* Per-sample scaling. The original divides the distance matrices by the
  maximum over the whole batch, so a clip's code depends on its batch mates
  (and differs between training and single-clip inference); here each
  clip's matrix is divided by its own maximum.
* Zero-length bars are kept. ``giotto-ph`` drops pairs that die at birth
  (two joints at the same averaged position) and ``torch-topological`` pads
  the shorter diagrams of a batch with NaN entries that each add 1 to
  every structure element; here every clip has its V - 1 bars. Identical
  whenever the joints' averaged positions are distinct (real skeletons).
* The code comes from the backbone input. The original reads a separate
  joint tensor even for the bone or motion streams; in mmaction the backbone
  only sees its stream, so for non-joint streams the topology is that of
  the stream's vectors.

Changes that keep the function: the three subsets' aggregations are one
batched product and their grouped 1x1 convs one grouped conv over the
subsets' concatenated channels (weights and biases kept per subset:
``weight`` (3, C_out, C_in / H) and ``bias`` (3, C_out) are the original
``fc2.{s}``; ``topology`` is ``fc1``, ``hop_embedding`` is ``rpe``).

Attachment of our auxiliary heads: each block is ``backbone.gcn[i]`` with
children ``gcn`` (BlockGC, the original's ``l{i+1}.gcn1``) and ``tcn``
(``l{i+1}.tcn1``), so the default gcn/tcn rule applies.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from .blocks import (_CONSTANT_BN, _GRAPH_CONV_INIT, _KAIMING_CONV,
                     GCNTCNBlock, batch_norm_joints, channel_projection)
from .convert import convert_blockgcn_checkpoint
from .topology import (PersistenceEncoding, TopologyProjection,
                       rips_zero_dim_deaths)

__all__ = [
    'BlockGCN', 'BlockGCNBlock', 'BlockGraphConv', 'PersistenceEncoding',
    'TopologyProjection', 'convert_blockgcn_checkpoint', 'hop_distances',
    'rips_zero_dim_deaths'
]


def hop_distances(A: np.ndarray) -> torch.Tensor:
    """Shortest-path hop distance between joints, as the original ``hops``.

    Args:
        A (np.ndarray): Adjacency subsets (S, V, V); an edge wherever any
            subset is non-zero (self loops included).

    Returns:
        torch.Tensor: (V, V) int64, 0 on the diagonal and, as in the
        original, between joints that are not connected at all.
    """
    reach = (np.abs(A).sum(0) != 0).astype(np.int64)
    V = reach.shape[0]
    hops = np.zeros((V, V), dtype=np.int64)
    seen = np.eye(V, dtype=bool)
    frontier = np.eye(V, dtype=np.int64)
    for d in range(1, V):
        frontier = ((frontier @ reach.T) != 0).astype(np.int64)
        new = frontier.astype(bool) & ~seen
        if not new.any():
            break
        hops[new] = d
        seen |= new
    return torch.from_numpy(hops)


class BlockGraphConv(BaseModule):
    """BlockGC, the original ``unit_gcn``: all subsets at once.

    With ``H`` heads of ``C_in / H`` channels and ``S`` subsets:
    ``W_s = norm(topology_s) + norm(hop_embedding_s[:, hops])`` (H, V, V),
    ``norm`` dividing each column by its L2 norm + 1e-4;
    ``z_s[h, c, t, w] = sum_v x[h, c, t, v] W_s[h, v, w]``;
    ``y = sum_s conv_s(z_s)``, ``conv_s`` a 1x1 conv grouped by head;
    ``relu(bn(y) + down(x))``.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        A (torch.Tensor): Adjacency subsets (S, V, V); their union gives the
            hop distances, S the number of subsets.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Kaiming (fan_out) ``down`` conv,
            BN weight 1 and ``bn`` weight 1e-6, biases 0; the subsets'
            grouped convs Kaiming (fan_out) (in :meth:`init_weights`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: torch.Tensor,
        init_cfg: Optional[Union[Dict, List[Dict]]] = _GRAPH_CONV_INIT
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        S, V = A.shape[0], A.shape[-1]
        H = 8 if in_channels > 8 else 1
        if in_channels % H or out_channels % H:
            raise ValueError(
                f'BlockGraphConv: in_channels={in_channels} and '
                f'out_channels={out_channels} must be multiples of the {H} '
                'heads (8 when in_channels > 8).')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = S
        self.num_heads = H
        self.register_buffer(
            'hops', hop_distances(np.asarray(A)), persistent=False)
        self.topology = nn.Parameter(torch.eye(V).repeat(S, H, 1, 1))
        self.hop_embedding = nn.Parameter(
            torch.zeros(S, H, int(self.hops.max()) + 1))
        self.weight = nn.Parameter(
            torch.empty(S, out_channels, in_channels // H))
        self.bias = nn.Parameter(torch.zeros(S, out_channels))
        for s in range(S):
            nn.init.kaiming_normal_(self.weight[s], mode='fan_out')
        self.down = channel_projection(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def init_weights(self) -> None:
        """``init_cfg``, then the subsets' convs as the original's."""
        super().init_weights()
        with torch.no_grad():
            for s in range(self.num_subsets):
                nn.init.kaiming_normal_(self.weight[s], mode='fan_out')
            self.bias.zero_()

    def joint_weights(self) -> torch.Tensor:
        """The aggregation weights ``W`` (S, H, V, V), indexed (v, w)."""
        def column_normalise(w: torch.Tensor) -> torch.Tensor:
            return w / (w.norm(p=2, dim=-2, keepdim=True) + 1e-4)

        hop = self.hop_embedding[:, :, self.hops]  # S, H, V, V
        return column_normalise(self.topology) + column_normalise(hop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V)."""
        B, C, T, V = x.shape
        S, H = self.num_subsets, self.num_heads
        weights = self.joint_weights()  # S, H, V, W
        # heads as the batch of one product: (H, B*C/H*T, V) @ (H, V, S*W)
        x_h = x.view(B, H, C // H * T, V).transpose(0, 1)
        w_h = weights.permute(1, 2, 0, 3).reshape(H, V, S * V)
        z = torch.matmul(x_h, w_h.unsqueeze(1)).view(H, B, C // H, T, S, V)
        # grouped conv input, per head the subsets' channels: (h, s, c)
        z = z.permute(1, 0, 4, 2, 3, 5).reshape(B, H * S * (C // H), T, V)
        weight = self.weight.view(S, H, self.out_channels // H, C // H)
        weight = weight.permute(1, 2, 0, 3).reshape(self.out_channels,
                                                    S * (C // H), 1, 1)
        y = F.conv2d(z, weight, self.bias.sum(0), groups=H)
        return self.relu(self.bn(y) + self.down(x))


class BlockGCNBlock(GCNTCNBlock):
    """The original ``TCN_GCN_unit``: ``relu(tcn(gcn(x)) + residual(x))``.

    A :class:`GCNTCNBlock` with ``gcn`` a :class:`BlockGraphConv` and
    ``tcn`` CTR-GCN's :class:`MultiScaleTemporalConv`; always a residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Adjacency subsets, (S, V, V).
        stride (int): Temporal stride. Defaults to 1.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation of the
            residual projection. Defaults to Kaiming (fan_out) conv, BN
            weight 1, biases 0 (``gcn`` and ``tcn`` carry their own).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = [
                     _KAIMING_CONV, _CONSTANT_BN
                 ]) -> None:
        super().__init__(
            BlockGraphConv(in_channels, out_channels, A),
            in_channels,
            out_channels,
            stride=stride,
            tcn_kernel_size=tcn_kernel_size,
            tcn_dilations=tcn_dilations,
            init_cfg=init_cfg)


@MODELS.register_module()
class BlockGCN(BaseModule):
    """BlockGCN backbone, a drop-in for mmaction's ``STGCN`` backbone.

    Input ``(N, M, T, V, C)`` joints, output ``(N, M, C_out, T_out, V)`` for
    mmaction's ``GCNHead``. See the module docstring for the model and for
    the deliberate changes from the original code (per-sample topology).

    Block ``i`` (1-based) has ``base_channels * 2**j`` channels, ``j`` the
    number of ``inflate_stages <= i``, and stride 2 if ``i in down_stages``;
    before it, ``topology_proj[i - 1]`` of the clip's topology code is added
    to its input. Blocks are ``self.gcn[i - 1]`` with children ``gcn``
    (BlockGC, the original ``l{i}.gcn1``) and ``tcn`` (``l{i}.tcn1``).

    Args:
        graph_cfg (dict): Arguments of mmaction's ``Graph``, e.g.
            ``dict(layout='nturgb+d', mode='spatial')`` (the original's).
        in_channels (int): Channels of a joint. Defaults to 3.
        base_channels (int): Width of the embedding and the first stage.
            Defaults to 128.
        num_stages (int): Number of blocks. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based blocks that double the
            width. Defaults to ``(5, )``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to ``(5, 8)``.
        num_person (int): Persons M per clip, used by ``data_bn``.
            Defaults to 2.
        topology_features (int): Length of the topology code (structure
            elements); 0 removes the topology branch. Defaults to 64.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config of
            the backbone (e.g. ``Pretrained``). Defaults to None.

    Examples:
        >>> import torch
        >>> import sfhead_mm  # noqa: F401
        >>> from sfhead_mm.models import BlockGCN
        >>> model = BlockGCN(dict(layout='nturgb+d', mode='spatial'))
        >>> model.init_weights()
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 16, 25])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 128,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, ),
                 down_stages: Sequence[int] = (5, 8),
                 num_person: int = 2,
                 topology_features: int = 64,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        V = A.size(-1)
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_person = num_person
        self.to_joint_embedding = nn.Linear(in_channels, base_channels)
        self.pos_embedding = nn.Parameter(torch.randn(1, V, base_channels))
        self.data_bn = nn.BatchNorm1d(num_person * V * base_channels)

        num_branches = len(tcn_dilations) + 2
        blocks, projections = [], []
        block_in = width = base_channels
        for i in range(1, num_stages + 1):
            if i in tuple(inflate_stages):
                width *= 2
            if width % num_branches != 0:
                raise ValueError(
                    f'BlockGCN block {i}: width {width} is not a multiple '
                    f'of {num_branches} temporal branches '
                    '(len(tcn_dilations) + 2); change base_channels or '
                    'tcn_dilations.')
            if topology_features:
                projections.append(
                    TopologyProjection(topology_features, block_in))
            blocks.append(
                BlockGCNBlock(
                    block_in,
                    width,
                    A,
                    stride=2 if i in tuple(down_stages) else 1,
                    tcn_kernel_size=tcn_kernel_size,
                    tcn_dilations=tcn_dilations))
            block_in = width
        self.out_channels = block_in
        self.gcn = ModuleList(blocks)
        if topology_features:
            self.topology = PersistenceEncoding(topology_features)
            self.topology_proj = nn.ModuleList(projections)
        else:
            self.topology = None
            self.topology_proj = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Extract skeleton features.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            torch.Tensor: Features, (N, M, C_out, T_out, V).
        """
        N, M, T, V, C = x.shape
        code = self.topology(x) if self.topology is not None else None
        x = self.to_joint_embedding(x) + self.pos_embedding  # N, M, T, V, C'
        x = batch_norm_joints(self.data_bn, x)  # N * M, C, T, V
        for i, block in enumerate(self.gcn):
            if code is not None:
                x = x + self.topology_proj[i](code, M)
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])
