"""BlockGCN's topology encoding: 0-dim persistence of the joints' layout.

The persistent-homology branch of BlockGCN (:mod:`.blockgcn`): per clip, the
V x V matrix of distances between the joints' (person- and time-averaged)
positions, scaled by its own maximum; its rows are V points in R^V whose
0-dimensional Vietoris-Rips persistence diagram is vectorised by learned
structure elements into a code (:class:`PersistenceEncoding`); each block
adds a projection of the code to its input (:class:`TopologyProjection`).

0-dimensional persistence of a Vietoris-Rips filtration is exact and cheap:
every point is born at 0 and the deaths are the edge lengths of a minimum
spanning tree (:func:`rips_zero_dim_deaths`, a batched Prim's algorithm),
instead of the original's ``torch-topological``/``giotto-ph`` on the CPU.
"""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

__all__ = [
    'PersistenceEncoding', 'TopologyProjection', 'rips_zero_dim_deaths'
]


def rips_zero_dim_deaths(points: torch.Tensor) -> torch.Tensor:
    """Deaths of the 0-dim Vietoris-Rips persistence of each point cloud.

    All V points are born at 0; the V - 1 finite bars die at the edge
    lengths of a minimum spanning tree of the Euclidean distance graph
    (Prim's algorithm, batched; the tree is chosen without gradient, the
    lengths are differentiable). The infinite bar is left out, as in the
    original.

    Args:
        points (torch.Tensor): (B, V, D) point clouds.

    Returns:
        torch.Tensor: (B, V - 1) deaths, in the order the tree grows.
    """
    B, V, _ = points.shape
    dist = torch.cdist(points, points)
    if V < 2:
        return dist.new_zeros(B, 0)
    rows = torch.arange(B, device=points.device)
    with torch.no_grad():
        d = dist.detach()
        in_tree = torch.zeros(B, V, dtype=torch.bool, device=points.device)
        in_tree[:, 0] = True
        best = d[:, 0].masked_fill(in_tree, float('inf'))
        best_from = torch.zeros(B, V, dtype=torch.long, device=points.device)
        heads, tails = [], []
        for _ in range(V - 1):
            new = best.argmin(dim=1)
            heads.append(best_from[rows, new])
            tails.append(new)
            in_tree[rows, new] = True
            d_new = d[rows, new]
            closer = d_new < best
            best = torch.where(closer, d_new, best).masked_fill(
                in_tree, float('inf'))
            best_from = torch.where(closer, new[:, None], best_from)
        heads = torch.stack(heads, dim=1)
        tails = torch.stack(tails, dim=1)
    return dist[rows[:, None], heads, tails]


class PersistenceEncoding(BaseModule):
    """The topology code of a clip: persistence diagram -> 64 numbers.

    ``D[u, v] = ||mean_{M,T} x_u - mean_{M,T} x_v||`` scaled by its own
    maximum; the rows of ``D`` are V points in R^V; their 0-dim
    Vietoris-Rips bars ``(0, d_j)`` are vectorised by structure elements
    ``e``: ``code[e] = sum_j exp(-(s_e0^2 c_e0^2 + s_e1^2 (c_e1 - d_j)^2))``
    (``torch-topological``'s ``StructureElementLayer`` on dimension-0
    bars). ``centres`` start uniform in [0, 1), ``sharpness`` at 3.

    Args:
        num_elements (int): Structure elements, the code length.
            Defaults to 64.
        eps (float): Floor of a clip's maximum distance (a clip whose joints
            all coincide gets a zero matrix instead of NaN).
            Defaults to 1e-6.
    """

    def __init__(self, num_elements: int = 64, eps: float = 1e-6) -> None:
        super().__init__(init_cfg=None)
        self.num_elements = num_elements
        self.eps = eps
        self.centres = nn.Parameter(torch.rand(num_elements, 2))
        self.sharpness = nn.Parameter(torch.full((num_elements, 2), 3.))

    def distance_matrix(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled joint distance matrices.

        Args:
            x (torch.Tensor): Skeletons, (N, M, T, V, C).

        Returns:
            torch.Tensor: (N, V, V) in [0, 1], each clip divided by its own
            maximum.
        """
        mean = x.mean(dim=(1, 2))  # N, V, C
        D = torch.cdist(mean, mean)
        scale = D.amax(dim=(1, 2), keepdim=True).clamp_min(self.eps)
        return D / scale

    def vectorise(self, deaths: torch.Tensor) -> torch.Tensor:
        """Structure elements over dimension-0 bars ``(0, d_j)``.

        Args:
            deaths (torch.Tensor): (N, J).

        Returns:
            torch.Tensor: (N, num_elements).
        """
        s2 = self.sharpness.pow(2)
        birth_term = s2[:, 0] * self.centres[:, 0].pow(2)  # E
        death_term = s2[:, 1] * (self.centres[:, 1] -
                                 deaths.unsqueeze(-1)).pow(2)  # N, J, E
        return torch.exp(-(birth_term + death_term)).sum(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, T, V, C) skeletons -> (N, num_elements) codes."""
        D = self.distance_matrix(x)
        return self.vectorise(rips_zero_dim_deaths(D))


class TopologyProjection(nn.Module):
    """``relu(bn(Linear(code)))``, added to every joint and frame of a block.

    The original ``TopoTrans``, with each body given its own clip's code.

    Args:
        in_features (int): Code length (64).
        out_channels (int): Channels of the block input.
    """

    def __init__(self, in_features: int, out_channels: int) -> None:
        super().__init__()
        self.mlp = nn.Linear(in_features, out_channels)
        self.bn = nn.BatchNorm1d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, code: torch.Tensor, num_person: int) -> torch.Tensor:
        """(N, F) codes -> (N * M, C, 1, 1), rows ordered (clip, person)."""
        code = code.repeat_interleave(num_person, dim=0)
        return self.relu(self.bn(self.mlp(code)))[:, :, None, None]
