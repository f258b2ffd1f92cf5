"""SF-Head losses: F-RL (eq. 11) and F-CL (eq. 12-14) on the modified
cosine distance (eq. 10), and :class:`SFHeadLoss`, both at once.

Equation numbers are those of the SF-Head paper. How a recognizer uses them,
per block that carries an :class:`~sfhead_mm.models.SFHead`::

    out = head(x)                                # x: (N*M, C, T, V)
    fs, ft, fc, fo, fa = [
        clip_features(f, M)                      # (N, C/4 * T * V)
        for f in (out.f_s, out.f_t, out.f_c, out.f_o, out.f_a)]
    loss_red = redundancy_loss(fs, ft)           # weighted scalar
    loss_con = consistency_loss(fa, [fc, fs, ft, fo])
    # or both at once, faster: SFHeadLoss(...)(out, num_persons=M)

Features are per clip: the mean over the M persons of a clip, flattened
over all g groups. Each loss already multiplies by its ``loss_weight``
(``lambda_red = 0.1``, ``lambda_con = 0.2`` by default, eq. 17:
``L = L_CE + lambda_con L_con + lambda_red L_red``), so the caller
multiplies nothing; with the head on several blocks each loss is averaged
over blocks (``SFHeadLoss(...).forward_blocks(outputs, M)`` does this in
one pass). All compute in float32 whatever the input dtype
(AMP-safe). Our choices where the paper is silent or ambiguous are in
``docs/method.md``.
"""
import math
from typing import NamedTuple, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .layers import gram

__all__ = [
    'clip_features', 'modified_cosine_distance', 'FeatureRedundancyLoss',
    'FeatureConsistencyLoss', 'SFHeadLoss', 'SFLossTerms'
]


def clip_features(f: Tensor, num_persons: int) -> Tensor:
    """Per-clip flattened features for the losses.

    Args:
        f (Tensor): (N*M, C', T, V) branch features of all bodies, the M
            persons of a clip adjacent (mmaction's ``RecognizerGCN`` order).
        num_persons (int): M.

    Returns:
        Tensor: (N, C'*T*V), the mean over the M persons, flattened.
    """
    if num_persons < 1 or f.shape[0] % num_persons != 0:
        raise ValueError(f'clip_features: batch of {f.shape[0]} bodies is '
                         f'not a multiple of num_persons={num_persons}')
    B = f.shape[0]
    f = f.reshape(B // num_persons, num_persons, -1)  # (N, M, C'*T*V)
    return f.mean(dim=1)


# lower bound of the norms in the cosine of eq. 10
NORM_EPS = 1e-8


def _inverse_norm_from_squared(sq: Tensor, eps: float) -> Tensor:
    """``1 / max(sqrt(sq), eps)`` for squared norms ``sq``.

    ``clamp_min`` on the squared norm makes an all-zero row give a finite
    value and zero gradients, not 0/0.
    """
    return sq.clamp_min(eps * eps).rsqrt()


def _inverse_norm(x: Tensor, eps: float) -> Tensor:
    """``1 / max(||x_i||, eps)`` per row of ``x`` (N, D) -> (N,)."""
    return _inverse_norm_from_squared((x * x).sum(dim=-1), eps)


def _distance(cos: Tensor, alpha: float) -> Tensor:
    return 1 - torch.exp(-alpha * (cos + 1))  # eq. 10


def _float32(x: Tensor) -> torch.autocast:
    """A context that keeps autocast from running the dot products of
    D-long features (D = C/4 * T * V, tens of thousands) in float16."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def modified_cosine_distance(u: Tensor,
                             v: Tensor,
                             alpha: float = 1.0,
                             pairwise: bool = False,
                             eps: float = NORM_EPS) -> Tensor:
    """Modified cosine distance, eq. 10: ``1 - exp(-alpha (cos(u, v) + 1))``.

    It lies in ``[0, 1 - exp(-2 alpha)]`` and grows with similarity. An
    all-zero vector (e.g. a padded second person) has cosine 0 with anything,
    so ``d = 1 - exp(-alpha)``, with finite gradients.

    Args:
        u (Tensor): (N, D).
        v (Tensor): (N, D), or (K, D) when ``pairwise``.
        alpha (float): Smoothness of the distance. Defaults to 1.0.
        pairwise (bool): If True return the (N, K) matrix
            ``d(u_i, v_j)``; else the (N,) vector ``d(u_i, v_i)``.
            Defaults to False.
        eps (float): Lower bound of the norms. Defaults to 1e-8.

    Returns:
        Tensor: (N,) or (N, K), float32 at least.
    """
    with _float32(u):
        u, v = u.float(), v.float()
        inv_u, inv_v = _inverse_norm(u, eps), _inverse_norm(v, eps)
        if pairwise:
            cos = (u @ v.t()) * inv_u[:, None] * inv_v[None, :]  # (N, K)
        else:
            cos = torch.linalg.vecdot(u, v) * inv_u * inv_v  # (N,)
        return _distance(cos, alpha)


def _check_common(owner: str, m: float, alpha: float,
                  loss_weight: float) -> None:
    if not 0 < m <= 5:
        raise ValueError(f'{owner}: m must be in (0, 5] (paper: 0.4), '
                         f'got m={m}')
    if not alpha > 0:
        raise ValueError(f'{owner}: alpha must be > 0, got alpha={alpha}')
    if not loss_weight >= 0:
        raise ValueError(f'{owner}: loss_weight must be >= 0, got '
                         f'loss_weight={loss_weight}')


@MODELS.register_module()
class FeatureRedundancyLoss(nn.Module):
    """F-RL, eq. 11: symmetric InfoNCE between spatial and temporal features.

    With ``S[i, j] = m * d(f_s^i, f_t^j) / tau`` (d of eq. 10), the spatial and
    temporal features of the same clip are positives and those of other clips
    negatives::

        L_red = -1/(2N) sum_i [ log softmax_j(S[i, :])[i]
                              + log softmax_j(S^T[i, :])[i] ]

    (``S^T[i, j] = m d(f_t^i, f_s^j) / tau`` since d is symmetric.) The
    returned value is ``loss_weight * L_red``.

    Args:
        m (float): Contrast scale. Defaults to 0.4.
        tau (float): Temperature. Defaults to 0.1 (not given by the paper).
        alpha (float): Smoothness of d (eq. 10). Defaults to 1.0 (not given
            by the paper).
        loss_weight (float): lambda_red of eq. 17. Defaults to 0.1.
    """

    def __init__(self,
                 m: float = 0.4,
                 tau: float = 0.1,
                 alpha: float = 1.0,
                 loss_weight: float = 0.1) -> None:
        super().__init__()
        _check_common('FeatureRedundancyLoss', m, alpha, loss_weight)
        if not tau > 0:
            raise ValueError(f'FeatureRedundancyLoss: tau must be > 0, got '
                             f'tau={tau}')
        self.m = m
        self.tau = tau
        self.alpha = alpha
        self.loss_weight = loss_weight

    def forward(self, f_s: Tensor, f_t: Tensor) -> Tensor:
        """Weighted F-RL of a batch.

        Args:
            f_s (Tensor): (N, D) per-clip spatial features.
            f_t (Tensor): (N, D) per-clip temporal features.

        Returns:
            Tensor: scalar, ``loss_weight * L_red``.
        """
        return self.loss_from_distance(
            modified_cosine_distance(f_s, f_t, self.alpha, pairwise=True))

    def loss_from_distance(self, d: Tensor) -> Tensor:
        """Weighted F-RL from ``d[..., i, j] = d(f_s^i, f_t^j)`` (N, N),
        eq. 10; with leading dims (e.g. (L, N, N) for L blocks), the mean
        of their losses."""
        N = d.shape[-1]
        logits = self.m * d / self.tau  # (..., N, N)
        rows = logits.reshape(-1, N)  # every block's rows, one batch
        cols = logits.transpose(-2, -1).reshape(-1, N)
        target = torch.arange(N, device=d.device).repeat(rows.shape[0] // N)
        loss = 0.5 * (F.cross_entropy(rows, target) +
                      F.cross_entropy(cols, target))  # eq. 11
        return self.loss_weight * loss

    @torch.no_grad()
    def diagnostics(self, d: Tensor) -> Tuple[Tensor, Tensor]:
        """How much F-RL can tell clips apart, from ``d`` (N, N) as in
        :meth:`loss_from_distance`.

        Returns:
            tuple[Tensor]: ``(top1, logit_span)``: the fraction of clips
            whose own f_t is their f_s's best match (chance 1/N), and
            ``max - min`` of the logits ``m d / tau`` over the batch (below
            about 1, the softmax of eq. 11 is nearly uniform whatever the
            features). Scalars without gradient; with leading dims (L
            blocks), the mean over them of each.
        """
        logits = self.m * d / self.tau  # (..., N, N)
        target = torch.arange(d.shape[-1], device=d.device)
        top1 = (logits.argmax(dim=-1) == target).float().mean()
        span = logits.amax(dim=(-2, -1)) - logits.amin(dim=(-2, -1))
        return top1, span.mean()

    def extra_repr(self) -> str:
        return (f'm={self.m}, tau={self.tau}, alpha={self.alpha}, '
                f'loss_weight={self.loss_weight}')


@MODELS.register_module()
class FeatureConsistencyLoss(nn.Module):
    """F-CL, eq. 12-14: soft-margin consistency of f_a with each branch.

    For each clip i and each ``F in [f_c, f_s, f_t, f_o]``, with
    ``d = d(f_a^i, F^i)`` (eq. 10)::

        term = log(e^m + (1 - e^m) d) + phi                          (14)
        phi  = -(1 - d)^gamma log(d)  if min(d, 1 - d) > eps else 0  (13)
        L_con = 1/N sum_i sum_F term

    The sign of phi: eq. 13 is printed as ``(1 - d)^gamma log(d)``, which
    is <= 0 with its maximum 0, while the paper's text says phi "reaches
    the minimum value 0" at the extremes and cites the focal mechanism.
    Only the focal form ``-(1 - d)^gamma log(d)`` (>= 0, minimum 0) matches
    the text, and only it pulls f_a towards its sources like the first
    term: with post-ReLU features (cos >= 0, d in [0.63, 0.86] at alpha=1)
    the printed sign pushes f_a away from F at low cosine (dL/dd = +0.135
    at cos 0). ``phi='focal'`` is the default; ``phi='printed'`` keeps the
    formula as printed, for comparison.

    The returned value is ``loss_weight * L_con``. Both ``log`` arguments are
    guarded so that values and gradients stay finite at ``d = 0`` (the
    unused ``phi`` branch is evaluated on a safe placeholder, not on d).

    Args:
        m (float): Margin; the first log term lies in ``[0, m]``.
            Defaults to 0.4.
        gamma (float): Focusing exponent of phi. Defaults to 2.0.
        eps (float): Threshold of phi, in ``[0, 0.5)``. Defaults to 0.01
            (not given by the paper).
        alpha (float): Smoothness of d (eq. 10). Defaults to 1.0 (not given
            by the paper).
        loss_weight (float): lambda_con of eq. 17. Defaults to 0.2.
        phi (str): the sign of eq. 13: ``'focal'`` (``-(1 - d)^gamma
            log d``, >= 0) or ``'printed'`` (``(1 - d)^gamma log d``, as
            printed). Defaults to ``'focal'``.
    """

    PHI_FORMS = ('focal', 'printed')

    def __init__(self,
                 m: float = 0.4,
                 gamma: float = 2.0,
                 eps: float = 0.01,
                 alpha: float = 1.0,
                 loss_weight: float = 0.2,
                 phi: str = 'focal') -> None:
        super().__init__()
        _check_common('FeatureConsistencyLoss', m, alpha, loss_weight)
        if not gamma >= 0:
            raise ValueError(f'FeatureConsistencyLoss: gamma must be >= 0, '
                             f'got gamma={gamma}')
        if not 0 <= eps < 0.5:
            raise ValueError(f'FeatureConsistencyLoss: eps must be in '
                             f'[0, 0.5), got eps={eps}')
        self.m = m
        self.gamma = gamma
        if phi not in self.PHI_FORMS:
            raise ValueError(f'FeatureConsistencyLoss: phi must be one of '
                             f'{self.PHI_FORMS}, got phi={phi!r}')
        self.eps = eps
        self.alpha = alpha
        self.loss_weight = loss_weight
        self.phi = phi

    def forward(self, f_a: Tensor, features: Sequence[Tensor]) -> Tensor:
        """Weighted F-CL of a batch.

        Args:
            f_a (Tensor): (N, D) per-clip aggregated features.
            features (Sequence[Tensor]): The per-clip originals, each (N, D);
                by convention ``[f_c, f_s, f_t, f_o]``.

        Returns:
            Tensor: scalar, ``loss_weight * L_con``.
        """
        if len(features) == 0:
            raise ValueError('FeatureConsistencyLoss: features is empty')
        d = torch.stack(
            [modified_cosine_distance(f_a, f, self.alpha) for f in features],
            dim=1)  # (N, |F|)
        return self.loss_from_distance(d)

    def loss_from_distance(self, d: Tensor) -> Tensor:
        """Weighted F-CL from ``d[..., i, k] = d(f_a^i, F_k^i)`` (N, |F|),
        eq. 10; with leading dims (L blocks), the mean of their losses.
        """
        e_m = math.exp(self.m)
        # eq. 12: positive for d < e^m / (e^m - 1) > 1, i.e. always (d < 1);
        # the clamp only guards against rounding.
        margin = torch.log((e_m + (1 - e_m) * d).clamp_min(1e-12))
        # eq. 13: evaluate phi on d where it applies and on a harmless 0.5
        # elsewhere, so neither log(0) nor 0^(gamma-1) reaches autograd.
        active = torch.minimum(d, 1 - d) > self.eps
        d_safe = torch.where(active, d, torch.full_like(d, 0.5))
        phi = (1 - d_safe).pow(self.gamma) * torch.log(d_safe)
        if self.phi == 'focal':
            phi = -phi
        phi = torch.where(active, phi, torch.zeros_like(phi))
        loss = (margin + phi).sum(dim=-1).mean()  # eq. 14
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'm={self.m}, gamma={self.gamma}, eps={self.eps}, '
                f'alpha={self.alpha}, loss_weight={self.loss_weight}, '
                f'phi={self.phi!r}')


class SFLossTerms(NamedTuple):
    """What :class:`SFHeadLoss` returns for one block: the weighted
    ``loss_con`` and ``loss_red`` and the two F-RL diagnostics of
    :meth:`FeatureRedundancyLoss.diagnostics` (no gradient)."""
    loss_con: Tensor
    loss_red: Tensor
    red_top1: Tensor
    red_logit_span: Tensor


# F-CL compares f_a with these (eq. 14); F-RL contrasts f_s with f_t (eq. 11)
CONSISTENCY_SOURCES = ('f_c', 'f_s', 'f_t', 'f_o')
# SFHeadOutput's branch features, in the order they are stacked for the
# Gram: the F-CL sources first, so that they are the slice [0, 4) of it.
# A slice, not a list index: indexing a CUDA tensor with a Python list
# copies the list to the GPU from pageable memory, which waits for all
# queued GPU work (two such waits per head and step).
FEATURES = CONSISTENCY_SOURCES + ('f_a', )
SOURCES = slice(0, len(CONSISTENCY_SOURCES))
FEATURE_INDEX = {f: i for i, f in enumerate(FEATURES)}


@MODELS.register_module()
class SFHeadLoss(nn.Module):
    """F-CL (eq. 12-14) and F-RL (eq. 11) of one block's SF-Head output,
    from one Gram matrix of its features.

    The same values as :class:`FeatureConsistencyLoss` on
    ``(f_a, [f_c, f_s, f_t, f_o])`` and :class:`FeatureRedundancyLoss` on
    ``(f_s, f_t)`` (the readable per-equation reference, which the tests
    compare against), but every norm and within-clip dot product comes from
    one batched matmul over the stacked features: two passes over them
    (forward and backward) instead of about thirty small ones. Computed in
    float32 whatever the input dtype (AMP-safe). :meth:`forward_blocks`
    takes all blocks at once: only the cosines are computed per block, the
    distances, losses and diagnostics once for all of them (on CTR-GCN the
    heads' operator calls per train step fall by about a fifth, and on a
    GPU their cost follows that count: ``benchmarks/op_count.py``).

    Args:
        m (float): margin / contrast scale of both losses. Defaults to 0.4
            (paper).
        tau (float): F-RL temperature. Defaults to 0.1 (ours).
        alpha (float): smoothness of the distance d (eq. 10). Defaults to
            1.0 (ours).
        gamma (float): F-CL focusing exponent. Defaults to 2.0 (paper).
        eps (float): F-CL phi threshold. Defaults to 0.01 (ours).
        lambda_con (float): F-CL weight of eq. 17. Defaults to 0.2 (paper).
        lambda_red (float): F-RL weight of eq. 17. Defaults to 0.1 (paper).
        phi (str): sign of eq. 13, ``'focal'`` or ``'printed'`` (see
            :class:`FeatureConsistencyLoss`). Defaults to ``'focal'``.
    """

    def __init__(self,
                 m: float = 0.4,
                 tau: float = 0.1,
                 alpha: float = 1.0,
                 gamma: float = 2.0,
                 eps: float = 0.01,
                 lambda_con: float = 0.2,
                 lambda_red: float = 0.1,
                 phi: str = 'focal') -> None:
        super().__init__()
        self.consistency = FeatureConsistencyLoss(
            m=m, gamma=gamma, eps=eps, alpha=alpha, loss_weight=lambda_con,
            phi=phi)
        self.redundancy = FeatureRedundancyLoss(
            m=m, tau=tau, alpha=alpha, loss_weight=lambda_red)

    def forward(self, output, num_persons: int = 1) -> SFLossTerms:
        """Weighted F-CL and F-RL of one block.

        Args:
            output (SFHeadOutput): the head's branch features ``f_t, f_s,
                f_c, f_o, f_a``, each (N*M, C/4, T, V) (or (N, D) with
                ``num_persons=1``), read by name.
            num_persons (int): M; features are averaged over the persons
                of a clip (:func:`clip_features`). Defaults to 1.

        Returns:
            SFLossTerms: ``(loss_con, loss_red, red_top1, red_logit_span)``.
        """
        return self.forward_blocks([output], num_persons)

    def forward_blocks(self, outputs: Sequence,
                       num_persons: int = 1) -> SFLossTerms:
        """Each term's mean over blocks (eq. 17): the mean of the blocks'
        own terms, up to float rounding.

        Args:
            outputs (Sequence[SFHeadOutput]): one head output per block
                (each block's own C, T), all of the same N*M clips.
            num_persons (int): M. Defaults to 1.

        Returns:
            SFLossTerms: the four terms, each averaged over the blocks.
        """
        if len(outputs) == 0:
            raise ValueError('SFHeadLoss: no head outputs to compute the '
                             'losses of')
        cosines = [self.block_cosines(output, num_persons)
                   for output in outputs]
        cos_con = torch.stack([c[0] for c in cosines])  # (L, N, 4)
        cos_red = torch.stack([c[1] for c in cosines])  # (L, N, N)
        d_red = _distance(cos_red, self.redundancy.alpha)
        return SFLossTerms(
            self.consistency.loss_from_distance(
                _distance(cos_con, self.consistency.alpha)),
            self.redundancy.loss_from_distance(d_red),
            *self.redundancy.diagnostics(d_red))

    def block_cosines(self, output,
                      num_persons: int = 1) -> Tuple[Tensor, Tensor]:
        """One block's cosines (eq. 10), float32, from one Gram matrix.

        Returns:
            tuple[Tensor]: ``cos_con`` (N, 4), ``cos(f_a^i, F^i)`` for
            ``F`` in :data:`CONSISTENCY_SOURCES`, and ``cos_red`` (N, N),
            ``cos(f_s^i, f_t^j)``.
        """
        missing = [f for f in FEATURES
                   if not isinstance(getattr(output, f, None), Tensor)]
        if missing:
            raise ValueError(f'SFHeadLoss: expected tensors {FEATURES}, '
                             f'missing {missing}')
        features = [clip_features(getattr(output, f), num_persons)
                    for f in FEATURES]  # each (N, D)
        with _float32(features[0]):
            features = [f.float() for f in features]
            grams = gram(torch.stack(features, dim=1))  # (N, 5, 5)
            inv = _inverse_norm_from_squared(  # (N, 5): 1 / max(||f||, eps)
                grams.diagonal(dim1=1, dim2=2), NORM_EPS)
            a = FEATURE_INDEX['f_a']
            cos_con = grams[:, a, SOURCES] * inv[:, a:a + 1] * inv[:, SOURCES]
            # F-RL: f_s^i with f_t^j across clips, (N, N)
            s, t = FEATURE_INDEX['f_s'], FEATURE_INDEX['f_t']
            cos_red = (features[s] @ features[t].t()) * inv[:, s, None] * inv[
                None, :, t]
        return cos_con, cos_red
