"""InfoGCN backbone and its latent classifier (Chi et al., CVPR 2022).

Reference: "InfoGCN: Representation Learning for Human Skeleton-based Action
Recognition" (CVPR 2022), code ``stnoah1/infogcn`` (``model/infogcn.py``,
``model/modules.py``). The original repository has no licence: this module
is written from the paper and from reading that code, nothing is copied.
Same function and the same parameters as the original ``InfoGCN`` model;
its classifier (the latent ``z`` path and ``decoder``) is
:class:`InfoGCNHead`.

Model, in the paper's terms:

* Input: the k-th mode representation ``(I - P^k) x`` of the joints, ``P``
  the one-step-towards-the-root matrix of the skeleton tree
  (``P[child, parent] = 1``), so ``k = 1`` gives bone vectors and larger k
  vectors to the k-th ancestor; then a per-joint linear embedding plus a
  learned joint position embedding, and ``data_bn`` over (M, V, C).
* Nine blocks (64, 64, 64, 128, 128, 128, 256, 256, 256 channels, stride 2
  at the 4th and 7th): a self-attention graph convolution (SA-GC: per frame
  and head, ``softmax(q k^T / sqrt(d))`` times a learned shared topology,
  initialised to the identity, aggregates the joints; one 1x1 conv per head),
  then CTR-GCN's multi-scale temporal convolution followed by a ReLU.
* Head (:class:`InfoGCNHead`): mean over (T, V, M), ``relu(fc)``, a
  Gaussian latent ``z ~ N(mu, exp(noise_ratio * logvar)^2)`` in training
  (``z = mu`` in test), ``decoder(z)`` gives the class scores; the loss adds
  ``lambda_mmd * MMD(class means of z, z_prior)`` and
  ``lambda_mean * ||mean z||`` to the label-smoothed cross entropy.

Attachment of our auxiliary heads: each block is ``backbone.gcn[i]`` with
children ``gcn`` (the SA-GC, the original's ``l{i+1}.agcn``) and ``tcn``
(the original's ``l{i+1}.tcn``), so the default gcn/tcn rule applies.

Changes that keep the function:

* The SA-GC computes its heads together: one batched product of the
  (N, T, H, V, V) topology with the features, then one linear map over the
  heads' concatenated channels whose weight is the heads' 1x1 conv weights
  side by side and whose bias is the sum of their biases (kept per head as
  a (H, C_out) parameter, so parameters and state dict map one to one onto
  the original's ``conv_d.{h}``), instead of a loop over heads with a copy
  of the input per head.
* The graph comes from mmaction's ``Graph``: ``P`` is read from its
  ``inward`` (child, parent) pairs. The original InfoGCN NTU graph is rooted
  at the spine middle (joint 2, 1-based) and chains the hand tips
  (23 -> 22 and 25 -> 24) where mmaction's ``'nturgb+d'`` is rooted at the
  spine shoulder (21) and hangs both tips on the hand. The two give the same
  ``(I - P^k) x`` except at those joints; importing this module registers
  the original tree as ``layout='nturgb+d-infogcn'``
  (:data:`INFOGCN_NTU_LAYOUT`).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from ...datasets.layouts import register_layout
from .blocks import (_GRAPH_CONV_INIT, GCNTCNBlock, MultiScaleTemporalConv,
                     TemporalConvBN, channel_projection, run_block_stack)
from .convert import convert_infogcn_checkpoint
from .infogcn_head import InfoGCNHead, latent_mmd_loss

__all__ = [
    'INFOGCN_NTU_LAYOUT', 'InfoGCN', 'InfoGCNBlock', 'InfoGCNHead',
    'SelfAttentionGraphConv', 'SelfAttentionTopology',
    'convert_infogcn_checkpoint', 'kth_mode_matrix', 'latent_mmd_loss'
]

#: The original InfoGCN NTU skeleton tree, as (child, parent) 0-based pairs
#: (``graph/ntu_rgb_d.py`` of the original: its ``inward`` pairs are
#: (parent, child) of a tree rooted at the spine middle, joint 1 0-based).
INFOGCN_NTU_LAYOUT = dict(
    num_node=25,
    inward=[(0, 1), (20, 1), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5),
            (7, 6), (22, 7), (21, 22), (8, 20), (9, 8), (10, 9), (11, 10),
            (24, 11), (23, 24), (12, 0), (13, 12), (14, 13), (15, 14),
            (16, 0), (17, 16), (18, 17), (19, 18)],
    center=1)
register_layout('nturgb+d-infogcn', **INFOGCN_NTU_LAYOUT)


def kth_mode_matrix(inward: Sequence[Tuple[int, int]], num_node: int,
                    k: int) -> torch.Tensor:
    """``I - P^k``, the matrix of InfoGCN's k-th mode representation.

    Args:
        inward (Sequence[tuple[int, int]]): Bones as (child, parent) pairs,
            as in mmaction's ``Graph.inward``.
        num_node (int): Number of joints V.
        k (int): The mode; ``(I - P^k) x`` maps each joint to its offset
            from its k-th ancestor (the root and joints nearer to it than k
            steps keep ``x``). ``k = 0`` gives the zero matrix.

    Returns:
        torch.Tensor: (V, V), float32, applied as ``out[u] = sum_v M[u, v]
        x[v]``.
    """
    parent = np.zeros((num_node, num_node))
    for child, par in inward:
        parent[child, par] = 1
    matrix = np.eye(num_node) - np.linalg.matrix_power(parent, k)
    return torch.from_numpy(matrix).float()


class SelfAttentionTopology(BaseModule):
    """Per-frame multi-head self-attention maps over the joints.

    ``softmax(q k^T / sqrt(d))`` with ``[q, k] = Linear(LayerNorm(x))`` per
    frame and joint, ``d = in_channels // 8`` per head (the original's
    ``SelfAttention``). The linear weight starts at N(0, 1) as in the
    original.

    Args:
        in_channels (int): Input channels C.
        num_heads (int): Attention heads H.
        head_channels (int): Query/key channels d per head.
    """

    def __init__(self, in_channels: int, num_heads: int,
                 head_channels: int) -> None:
        super().__init__(init_cfg=None)
        self.num_heads = num_heads
        self.head_channels = head_channels
        self.scale = head_channels**-0.5
        self.ln = nn.LayerNorm(in_channels)
        self.to_qk = nn.Linear(in_channels, 2 * num_heads * head_channels)

    def init_weights(self) -> None:
        """The original's N(0, 1) query/key weight (bias left as built)."""
        nn.init.normal_(self.to_qk.weight, 0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attention maps.

        Args:
            x (torch.Tensor): Features, channels last, (B, T, V, C).

        Returns:
            torch.Tensor: (B, T, H, V, V), rows (query joint u) sum to 1.
        """
        B, T, V, _ = x.shape
        qk = self.to_qk(self.ln(x)).view(B, T, V, 2, self.num_heads,
                                         self.head_channels)
        q = qk[:, :, :, 0].transpose(2, 3)  # B, T, H, V, d
        k = qk[:, :, :, 1].transpose(2, 3)
        return torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)


class SelfAttentionGraphConv(BaseModule):
    """SA-GC, the original ``SA_GC``: all heads at once.

    ``relu(bn(sum_h W_h (A_h x) + b_h) + down(x))`` with
    ``A_h = attention_h(x) * S_h`` per frame, ``S`` the learned shared
    topology (H, V, V) initialised to the identity. The heads' 1x1 convs
    are kept as ``weight`` (H, C_out, C_in) and ``bias`` (H, C_out)
    (``weight[h]``/``bias[h]`` are the original ``conv_d.{h}``), applied as
    one linear map over the heads' concatenated channels.

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out.
        num_heads (int): Heads H (the original's ``num_head``, 3).
        num_nodes (int): Joints V.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to the original's: Kaiming (fan_out) ``down`` conv,
            BN weight 1 and ``bn`` weight 1e-6, biases 0; the heads'
            weights N(0, sqrt(2 / (C_out * C_in * H))) (in
            :meth:`init_weights`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_heads: int,
        num_nodes: int,
        init_cfg: Optional[Union[Dict, List[Dict]]] = _GRAPH_CONV_INIT
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_heads = num_heads
        self.attention = SelfAttentionTopology(in_channels, num_heads,
                                               in_channels // 8)
        self.shared_topology = nn.Parameter(
            torch.eye(num_nodes).repeat(num_heads, 1, 1))
        self.weight = nn.Parameter(
            torch.empty(num_heads, out_channels, in_channels))
        self.bias = nn.Parameter(torch.zeros(num_heads, out_channels))
        nn.init.normal_(self.weight, 0,
                        math.sqrt(2. / (out_channels * in_channels *
                                        num_heads)))
        self.down = channel_projection(in_channels, out_channels)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def init_weights(self) -> None:
        """``init_cfg``, then the original ``conv_branch_init`` of heads."""
        super().init_weights()
        H, C_out, C_in = self.weight.shape
        nn.init.normal_(self.weight, 0, math.sqrt(2. / (C_out * C_in * H)))
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, T, V)."""
        B, C, T, V = x.shape
        x_last = x.permute(0, 2, 3, 1)  # B, T, V, C
        topology = self.attention(x_last) * self.shared_topology  # B,T,H,V,V
        # z[b, t, u, h, c] = sum_v topology[b, t, h, u, v] x[b, c, t, v]
        z = topology.transpose(2, 3).reshape(B, T, V * self.num_heads, V)
        z = (z @ x_last).view(B, T, V, self.num_heads * C)
        weight = self.weight.transpose(0, 1).reshape(self.out_channels,
                                                     self.num_heads * C)
        y = F.linear(z, weight, self.bias.sum(0))  # B, T, V, C_out
        y = self.bn(y.permute(0, 3, 1, 2))
        return self.relu(y + self.down(x))


class InfoGCNTemporalConv(MultiScaleTemporalConv):
    """The multi-scale temporal conv of InfoGCN: CTR-GCN's, then a ReLU.

    Same arguments as :class:`MultiScaleTemporalConv`; the original leaves
    its layers at PyTorch's default initialisation (``init_cfg=None``).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, T, V) -> (B, C_out, ceil(T / stride), V)."""
        return F.relu(super().forward(x))


class InfoGCNBlock(GCNTCNBlock):
    """The original ``EncodingBlock``: ``relu(tcn(gcn(x)) + residual(x))``.

    A :class:`GCNTCNBlock` with ``gcn`` a :class:`SelfAttentionGraphConv`
    and ``tcn`` an :class:`InfoGCNTemporalConv`; always a residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        num_heads (int): Attention heads of the SA-GC.
        num_nodes (int): Joints V.
        stride (int): Temporal stride. Defaults to 1.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (``gcn`` and the residual projection carry the
            original's; ``tcn`` keeps PyTorch's default, as the original).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_heads: int,
                 num_nodes: int,
                 stride: int = 1,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(
            SelfAttentionGraphConv(in_channels, out_channels, num_heads,
                                   num_nodes),
            in_channels,
            out_channels,
            stride=stride,
            tcn=InfoGCNTemporalConv(
                out_channels,
                out_channels,
                kernel_size=tcn_kernel_size,
                stride=stride,
                dilations=tcn_dilations,
                residual=False,
                init_cfg=None),
            init_cfg=init_cfg)

    def init_weights(self) -> None:
        """Children's init, then the residual's (Kaiming fan_out, BN 1)."""
        super().init_weights()
        if isinstance(self.residual, TemporalConvBN):
            nn.init.kaiming_normal_(self.residual.conv.weight, mode='fan_out')
            nn.init.zeros_(self.residual.conv.bias)
            nn.init.ones_(self.residual.bn.weight)
            nn.init.zeros_(self.residual.bn.bias)


@MODELS.register_module()
class InfoGCN(BaseModule):
    """InfoGCN encoder, a drop-in for mmaction's ``STGCN`` backbone.

    Input ``(N, M, T, V, C)`` joints, output ``(N, M, C_out, T_out, V)``
    features for :class:`InfoGCNHead` (the original classifier) or
    mmaction's ``GCNHead``. See the module docstring for the model and for
    what differs from the original code (nothing in the function).

    Block ``i`` (1-based) has ``base_channels * 2**j`` output channels,
    ``j`` the number of ``inflate_stages <= i``, and temporal stride 2 if
    ``i in down_stages``. Blocks are ``self.gcn[i - 1]`` with children
    ``gcn`` (SA-GC, the original ``l{i}.agcn``) and ``tcn`` (``l{i}.tcn``).

    Args:
        graph_cfg (dict): Arguments of mmaction's ``Graph``; only the
            skeleton tree (``inward`` pairs) is used, for ``I - P^k``. The
            original NTU tree is ``dict(layout='nturgb+d-infogcn')``.
        in_channels (int): Channels of a joint (3 for xyz). Defaults to 3.
        base_channels (int): Width of the embedding and the first stage.
            Defaults to 64.
        num_stages (int): Number of blocks. Defaults to 9.
        inflate_stages (Sequence[int]): 1-based blocks that double the
            width. Defaults to ``(4, 7)``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to ``(4, 7)``.
        num_heads (int): Attention heads of each SA-GC. Defaults to 3.
        k (int): Mode of the input representation ``(I - P^k) x``; the
            paper's six-stream ensemble uses k in {1, 2, 8}. ``k = 0``
            zeroes the input (the original's default, never used).
            Defaults to 1.
        num_person (int): Persons M per clip, used by ``data_bn``.
            Defaults to 2.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches;
            every width must be a multiple of ``len(tcn_dilations) + 2``.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config of
            the backbone (e.g. ``Pretrained``). The layers carry the
            original initialisation (``data_bn`` weight 1, bias 0, the
            embedding PyTorch's default, ``pos_embedding`` its N(0, 1)
            draw). Defaults to None.

    Examples:
        >>> import torch
        >>> import sfhead_mm  # noqa: F401
        >>> from sfhead_mm.models import InfoGCN
        >>> model = InfoGCN(graph_cfg=dict(layout='nturgb+d-infogcn'))
        >>> model.init_weights()
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 16, 25])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 9,
                 inflate_stages: Sequence[int] = (4, 7),
                 down_stages: Sequence[int] = (4, 7),
                 num_heads: int = 3,
                 k: int = 1,
                 num_person: int = 2,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        V = self.graph.num_node
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_person = num_person
        self.k = k
        self.register_buffer(
            'mode_matrix',
            kth_mode_matrix(self.graph.inward, V, k),
            persistent=False)
        self.to_joint_embedding = nn.Linear(in_channels, base_channels)
        self.pos_embedding = nn.Parameter(torch.randn(1, V, base_channels))
        self.data_bn = nn.BatchNorm1d(num_person * V * base_channels)

        num_branches = len(tcn_dilations) + 2
        blocks = []
        block_in = width = base_channels
        for i in range(1, num_stages + 1):
            if i in tuple(inflate_stages):
                width *= 2
            if width % num_branches != 0:
                raise ValueError(
                    f'InfoGCN block {i}: width {width} is not a multiple of '
                    f'{num_branches} temporal branches (len(tcn_dilations) '
                    f'+ 2); change base_channels or tcn_dilations.')
            if block_in // 8 == 0:
                raise ValueError(
                    f'InfoGCN block {i}: {block_in} input channels leave no '
                    'attention channels (in_channels // 8); use '
                    'base_channels >= 8.')
            blocks.append(
                InfoGCNBlock(
                    block_in,
                    width,
                    num_heads,
                    V,
                    stride=2 if i in tuple(down_stages) else 1,
                    tcn_kernel_size=tcn_kernel_size,
                    tcn_dilations=tcn_dilations))
            block_in = width
        self.out_channels = block_in
        self.gcn = ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Extract skeleton features.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            torch.Tensor: Features, (N, M, C_out, T_out, V).
        """
        x = torch.matmul(self.mode_matrix, x)  # (I - P^k) x over joints
        x = self.to_joint_embedding(x) + self.pos_embedding  # N, M, T, V, C'
        return run_block_stack(self.data_bn, self.gcn, x)
