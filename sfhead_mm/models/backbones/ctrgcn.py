"""CTR-GCN backbone (Chen et al., ICCV 2021), faithful to the original code.

Reference: "Channel-wise Topology Refinement Graph Convolution for
Skeleton-Based Action Recognition", https://arxiv.org/abs/2107.12213, code
``Uason-Chen/CTR-GCN``, ``model/ctrgcn.py``. The model here is the same
function with the same parameters as the original ``Model`` (without its
``fc``, which is mmaction's ``GCNHead``), written from scratch with two
changes that do not change the function:

* The three adjacency subsets of a graph convolution are computed together:
  the subsets' ``conv1``/``conv2``/``conv3`` are one convolution with
  ``S`` times the output channels, their ``conv4`` one batched matmul (stored
  as a convolution grouped by subset), and the aggregation one ``einsum``
  that also sums over subsets, instead of a Python loop over ``S`` separate
  ``CTRGC`` modules. The state dict maps one to one onto the original's: the
  stacked weights are the subsets' weights concatenated along dim 0.
* Reassociations of linear maps: ``conv1``/``conv2`` are applied after the
  temporal mean instead of before (1x1 convolutions are affine, so
  ``mean_T(conv(x)) == conv(mean_T(x))`` at ``1/T`` of the cost), and
  ``conv4(rel) * alpha + A`` is computed as
  ``(alpha * W4) rel + (alpha * b4 + A)``.

Aggregation direction: the original CTRGC computes
``einsum('ncuv,nctv->nctu', topology, x)``, i.e. the refined topology is
indexed (target u, source v) like the graph's ``A[u, v]`` and
``out[n, c, t, u] = sum_v topology[n, c, u, v] * x[n, c, t, v]``. mmaction's
``projects/ctrgcn`` and PySKL use the transposed product
(``'ncuv,nctu->nctv'``). This module follows the original.

The original's ``drop_out`` before the classifier is ``GCNHead(dropout=...)``
in mmaction, so the backbone has no dropout argument.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList

from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from .blocks import (_CONSTANT_BN, _KAIMING_CONV, GCNTCNBlock,
                     MultiScaleTemporalConv, TemporalConvBN, run_block_stack)
from .ctrgc import CTRGC, CTRGraphConv

__all__ = [
    'CTRGCN', 'CTRGCNBlock', 'CTRGC', 'CTRGraphConv', 'MultiScaleTemporalConv',
    'TemporalConvBN'
]


class CTRGCNBlock(GCNTCNBlock):
    """The original ``TCN_GCN_unit``: ``relu(tcn(gcn(x)) + residual(x))``.

    A :class:`GCNTCNBlock` with ``gcn`` a :class:`CTRGraphConv` and ``tcn``
    a :class:`MultiScaleTemporalConv`.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        A (torch.Tensor): Adjacency subsets, (S, V, V).
        stride (int): Temporal stride. Defaults to 1.
        residual (bool): Whether to add the block residual (identity, or a
            strided 1x1 conv + BN when shapes change). Defaults to True.
        rel_reduction (int): See :class:`CTRGC`. Defaults to 8.
        tcn_kernel_size (int): See :class:`MultiScaleTemporalConv`.
            Defaults to 5.
        tcn_dilations (Sequence[int]): See :class:`MultiScaleTemporalConv`.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation of the
            residual projection (``gcn`` and ``tcn`` have their own).
            Defaults to Kaiming (fan_out) conv, BN weight 1, biases 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 rel_reduction: int = 8,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = [
                     _KAIMING_CONV, _CONSTANT_BN
                 ]) -> None:
        super().__init__(
            CTRGraphConv(in_channels, out_channels, A, rel_reduction),
            in_channels,
            out_channels,
            stride=stride,
            residual=residual,
            tcn_kernel_size=tcn_kernel_size,
            tcn_dilations=tcn_dilations,
            init_cfg=init_cfg)


@MODELS.register_module()
class CTRGCN(BaseModule):
    """CTR-GCN backbone, a drop-in for mmaction's ``STGCN`` backbone.

    `Channel-wise Topology Refinement Graph Convolution for Skeleton-Based
    Action Recognition <https://arxiv.org/abs/2107.12213>`__. Faithful to the
    original ``Uason-Chen/CTR-GCN`` model (``adaptive=True``), including its
    aggregation direction ``einsum('ncuv,nctv->nctu')``, which mmaction's
    ``projects/ctrgcn`` and PySKL transpose; see the module docstring.

    Structure: ``data_bn`` over M*V*C (BatchNorm1d), then ``num_stages``
    :class:`CTRGCNBlock` s in ``self.gcn``. Block ``i`` (1-based) has
    ``base_channels * 2**k`` output channels, ``k`` the number of
    ``inflate_stages <= i``, temporal stride 2 if ``i in down_stages``, and
    the first block has no block residual. With the defaults the widths are
    64,64,64,64,128,128,128,256,256,256 and T is divided by 4.

    Args:
        graph_cfg (dict): Arguments of ``mmaction.models.utils.Graph``, e.g.
            ``dict(layout='nturgb+d', mode='spatial')`` (the original's three
            subsets: self, inward, outward). Any layout ``Graph`` accepts,
            including a dict ``layout=dict(num_node, inward, center)``.
        in_channels (int): Channels of a joint (3 for xyz). Defaults to 3.
        base_channels (int): Width of the first stage. Defaults to 64.
        num_stages (int): Number of blocks. Defaults to 10.
        inflate_stages (Sequence[int]): 1-based blocks that double the width.
            Defaults to ``(5, 8)``.
        down_stages (Sequence[int]): 1-based blocks with temporal stride 2.
            Defaults to ``(5, 8)``.
        num_person (int): Persons M per clip, used by ``data_bn``.
            Defaults to 2.
        rel_reduction (int): Channel reduction of the CTRGC relation convs.
            Defaults to 8.
        tcn_kernel_size (int): Kernel of the dilated temporal branches.
            Defaults to 5.
        tcn_dilations (Sequence[int]): Dilations of the temporal branches.
            Every width must be a multiple of ``len(tcn_dilations) + 2``.
            Defaults to ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config of the
            backbone (e.g. ``Pretrained``). The blocks carry the original
            initialisation; ``data_bn`` starts at weight 1, bias 0.
            Defaults to None.

    Examples:
        >>> import torch
        >>> import sfhead_mm  # noqa: F401
        >>> from sfhead_mm.models import CTRGCN
        >>> model = CTRGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
        >>> model.init_weights()
        >>> model(torch.randn(2, 2, 64, 25, 3)).shape
        torch.Size([2, 2, 256, 16, 25])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 num_person: int = 2,
                 rel_reduction: int = 8,
                 tcn_kernel_size: int = 5,
                 tcn_dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        num_branches = len(tcn_dilations) + 2
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.inflate_stages = tuple(inflate_stages)
        self.down_stages = tuple(down_stages)
        self.num_person = num_person

        self.data_bn = nn.BatchNorm1d(num_person * in_channels * A.size(1))

        blocks = []
        block_in, width = in_channels, base_channels
        for i in range(1, num_stages + 1):
            if i in self.inflate_stages:
                width *= 2
            if width % num_branches != 0:
                raise ValueError(
                    f'CTRGCN block {i}: width {width} is not a multiple of '
                    f'{num_branches} temporal branches (len(tcn_dilations) '
                    f'+ 2); change base_channels or tcn_dilations.')
            blocks.append(
                CTRGCNBlock(
                    block_in,
                    width,
                    A,
                    stride=2 if i in self.down_stages else 1,
                    residual=i > 1,
                    rel_reduction=rel_reduction,
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
        return run_block_stack(self.data_bn, self.gcn, x)
