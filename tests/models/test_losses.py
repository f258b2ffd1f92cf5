"""Tests of the SF-Head losses against hand computations (SPEC 2.3).

Reference values are computed here with ``math``/``numpy`` only, never by
calling the code under test.
"""
import math

import numpy as np
import pytest
import torch

import sfhead_mm  # noqa: F401  isort: skip  (repairs mmaction first)
from mmaction.registry import MODELS  # noqa: E402

from sfhead_mm.models.losses import (FeatureConsistencyLoss,  # noqa: E402
                                     FeatureRedundancyLoss, SFHeadLoss,
                                     clip_features,
                                     modified_cosine_distance)
from sfhead_mm.models.sf_head import SFHeadOutput  # noqa: E402


def sf_head_losses(features, con, red):
    """:class:`SFHeadLoss` with the settings of ``con`` and ``red`` on
    per-clip ``[f_t, f_s, f_c, f_o, f_a]`` (None where a feature is
    missing), given by name."""
    assert con.alpha == red.alpha and con.m == red.m
    loss = SFHeadLoss(m=con.m, tau=red.tau, alpha=con.alpha,
                      gamma=con.gamma, eps=con.eps,
                      lambda_con=con.loss_weight,
                      lambda_red=red.loss_weight, phi=con.phi)
    features = list(features) + [None] * (5 - len(features))
    return loss(SFHeadOutput(None, *features), num_persons=1)


def np_d(u, v, alpha):
    """eq. 10 in numpy, 0 cosine for a zero vector."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    cos = 0.0 if nu == 0 or nv == 0 else float(u @ v) / (nu * nv)
    return 1 - math.exp(-alpha * (cos + 1))


def unit2(cos):
    """A 2D unit vector whose cosine with (1, 0) is ``cos``."""
    return [cos, math.sqrt(max(0.0, 1 - cos * cos))]


def cos_for_d(d, alpha):
    """Invert eq. 10: the cosine giving distance ``d``."""
    return -math.log(1 - d) / alpha - 1


# ---------------------------------------------------------------- eq. 10
@pytest.mark.parametrize('alpha', [1.0, 0.5, 3.0])
def test_modified_cosine_distance_hand_vectors(alpha):
    u = torch.tensor([[1., 0., 0.]] * 4)
    v = torch.tensor([
        [2., 0., 0.],  # parallel
        [0., 3., 0.],  # orthogonal
        [-5., 0., 0.],  # opposite
        [0., 0., 0.],  # zero vector (padded person)
    ])
    d = modified_cosine_distance(u, v, alpha)
    expected = [
        1 - math.exp(-2 * alpha), 1 - math.exp(-alpha), 0.0,
        1 - math.exp(-alpha)
    ]
    assert d.shape == (4, )
    np.testing.assert_allclose(d.numpy(), expected, atol=1e-6)
    # grows with similarity and stays in [0, 1 - e^{-2 alpha}]
    assert d[0] > d[1] > d[2]


def test_modified_cosine_distance_pairwise_matches_numpy():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(3, 5))
    v = rng.normal(size=(4, 5))
    v[2] = 0.0
    d = modified_cosine_distance(
        torch.tensor(u), torch.tensor(v), alpha=0.7, pairwise=True)
    expected = [[np_d(u[i], v[j], 0.7) for j in range(4)] for i in range(3)]
    assert d.shape == (3, 4)
    np.testing.assert_allclose(d.numpy(), expected, atol=1e-6)


def test_modified_cosine_distance_zero_vectors_finite_grad():
    u = torch.zeros(2, 6, requires_grad=True)
    v = torch.zeros(2, 6, requires_grad=True)
    d = modified_cosine_distance(u, v)
    assert torch.isfinite(d).all()
    np.testing.assert_allclose(d.detach().numpy(), [1 - math.exp(-1)] * 2)
    d.sum().backward()
    assert torch.isfinite(u.grad).all() and torch.isfinite(v.grad).all()


# ---------------------------------------------------------------- eq. 11
def np_redundancy(fs, ft, m, tau, alpha):
    n = len(fs)
    s = np.array([[m * np_d(fs[i], ft[j], alpha) / tau for j in range(n)]
                  for i in range(n)])
    total = 0.0
    for i in range(n):
        # log softmax_j(m d(f_s^i, f_t^j)/tau)[i]
        total += s[i, i] - math.log(sum(math.exp(x) for x in s[i]))
        # log softmax_j(m d(f_t^i, f_s^j)/tau)[i], d symmetric
        row = [s[j, i] for j in range(n)]
        total += s[i, i] - math.log(sum(math.exp(x) for x in row))
    return -total / (2 * n)


@pytest.mark.parametrize('n', [2, 3])
def test_redundancy_loss_matches_numpy(n):
    rng = np.random.default_rng(n)
    fs = rng.normal(size=(n, 7))
    ft = fs + 0.3 * rng.normal(size=(n, 7))
    loss_fn = FeatureRedundancyLoss(m=0.4, tau=0.1, alpha=1.0, loss_weight=1)
    got = loss_fn(torch.tensor(fs), torch.tensor(ft))
    expected = np_redundancy(fs, ft, 0.4, 0.1, 1.0)
    assert got.dim() == 0
    assert got.item() == pytest.approx(expected, rel=1e-5)

    # default loss_weight is lambda_red = 0.1 and is applied inside
    weighted = FeatureRedundancyLoss()(torch.tensor(fs), torch.tensor(ft))
    assert weighted.item() == pytest.approx(0.1 * expected, rel=1e-5)


def test_redundancy_loss_hand_batch_other_hparams():
    # 2 clips in 2D: f_s^1 = (1, 0), f_t^1 = (1, 1), f_s^2 = (0, 1),
    # f_t^2 = (-1, 0); cosines: s1.t1 = 1/sqrt2, s1.t2 = -1, s2.t1 = 1/sqrt2,
    # s2.t2 = 0
    fs = [[1., 0.], [0., 1.]]
    ft = [[1., 1.], [-1., 0.]]
    m, tau, alpha = 0.8, 0.5, 2.0
    c = 1 / math.sqrt(2)
    dd = lambda cos: 1 - math.exp(-alpha * (cos + 1))  # noqa: E731
    S = [[m * dd(c) / tau, m * dd(-1) / tau],
         [m * dd(c) / tau, m * dd(0) / tau]]
    lse = lambda xs: math.log(sum(math.exp(x) for x in xs))  # noqa: E731
    expected = -((S[0][0] - lse(S[0])) + (S[0][0] - lse([S[0][0], S[1][0]])) +
                 (S[1][1] - lse(S[1])) +
                 (S[1][1] - lse([S[0][1], S[1][1]]))) / 4
    got = FeatureRedundancyLoss(
        m=m, tau=tau, alpha=alpha, loss_weight=1.0)(
            torch.tensor(fs), torch.tensor(ft))
    assert got.item() == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- eq. 12-14
def np_term(d, m, gamma, eps, phi='focal'):
    """eq. 14 with eq. 13's phi: ``-(1-d)^gamma log d`` ('focal', the
    default) or ``(1-d)^gamma log d`` ('printed')."""
    sign = -1.0 if phi == 'focal' else 1.0
    phi = sign * (1 - d)**gamma * math.log(d) if min(d, 1 - d) > eps \
        else 0.0
    return math.log(math.exp(m) + (1 - math.exp(m)) * d) + phi


def np_term_slope(d, m, gamma, phi):
    """d(term)/dd of eq. 14 with phi active, by hand."""
    sign = -1.0 if phi == 'focal' else 1.0
    e_m = math.exp(m)
    margin = (1 - e_m) / (e_m + (1 - e_m) * d)
    phi_slope = (-gamma * (1 - d)**(gamma - 1) * math.log(d) +
                 (1 - d)**gamma / d)
    return margin + sign * phi_slope


@pytest.mark.parametrize('phi', ['focal', 'printed'])
def test_consistency_loss_phi_sign_value_and_slope_at_cos_zero(phi):
    # orthogonal f_a and F (post-ReLU features reach cos 0): d = 1 - e^-1.
    # The printed sign has a positive slope there (+0.135: minimising it
    # lowers d, i.e. pushes f_a away from F); the focal form pulls f_a
    # towards F (slope -0.968) and its phi is >= 0.
    m, gamma, eps, alpha = 0.4, 2.0, 0.01, 1.0
    d0 = 1 - math.exp(-1)
    slope = np_term_slope(d0, m, gamma, phi)
    assert slope == pytest.approx(0.135 if phi == 'printed' else -0.968,
                                  abs=1e-3)
    loss = FeatureConsistencyLoss(m=m, gamma=gamma, eps=eps, alpha=alpha,
                                  loss_weight=1.0, phi=phi)
    d = torch.tensor([[d0]], dtype=torch.float64, requires_grad=True)
    value = loss.loss_from_distance(d)
    value.backward()
    assert value.item() == pytest.approx(np_term(d0, m, gamma, eps, phi),
                                         rel=1e-9)
    assert d.grad.item() == pytest.approx(slope, rel=1e-7)
    phi_part = value.item() - math.log(math.exp(m) + (1 - math.exp(m)) * d0)
    assert (phi_part > 0) == (phi == 'focal')
    # the same through the features (float32 inside): f_a orthogonal to F
    f_a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    feats = [torch.tensor([[0.0, 2.0]], dtype=torch.float64)] * 4
    through = loss(f_a, feats)
    assert through.item() == pytest.approx(4 * np_term(d0, m, gamma, eps,
                                                       phi), rel=1e-6)


def test_consistency_loss_rejects_an_unknown_phi():
    with pytest.raises(ValueError, match="phi="):
        FeatureConsistencyLoss(phi='positive')


@pytest.mark.parametrize('phi', ['focal', 'printed'])
def test_consistency_loss_phi_branch_around_eps(phi):
    alpha, m, gamma, eps = 1.0, 0.4, 2.0, 0.01
    f_a = [1.0, 0.0]
    # d just above eps (phi active), just below (phi 0), mid-range, and an
    # all-zero F (cos 0)
    targets = [0.0105, 0.0095, 0.5]
    feats = [unit2(cos_for_d(t, alpha)) for t in targets] + [[0.0, 0.0]]
    ds = [np_d(f_a, f, alpha) for f in feats]
    np.testing.assert_allclose(ds[:3], targets, rtol=1e-9)
    assert ds[0] > eps > ds[1]
    expected = sum(np_term(d, m, gamma, eps, phi) for d in ds)
    # phi really is non-zero above eps and zero below
    assert np_term(ds[0], m, gamma, eps, phi) != pytest.approx(
        math.log(math.exp(m) + (1 - math.exp(m)) * ds[0]))

    loss_fn = FeatureConsistencyLoss(
        m=m, gamma=gamma, eps=eps, alpha=alpha, loss_weight=1.0, phi=phi)
    got = loss_fn(
        torch.tensor([f_a], dtype=torch.float64),
        [torch.tensor([f], dtype=torch.float64) for f in feats])
    assert got.item() == pytest.approx(expected, rel=1e-4)


def test_consistency_loss_near_one_and_batch_mean():
    # alpha = 5: d(parallel) = 1 - e^-10, so 1 - d < eps and phi = 0; a
    # second clip has d in the active range. L_con = mean over clips of the
    # sum over the four F.
    alpha, m, gamma, eps = 5.0, 0.4, 2.0, 0.01
    f_a = [[2.0, 0.0], [1.0, 0.0]]
    clip0 = [[3., 0.], [1., 0.], [5., 0.], [0.5, 0.]]  # all parallel
    cos_mid = cos_for_d(0.6, alpha)
    clip1 = [unit2(cos_mid), [0., 1.], [-1., 0.], [1., 0.]]
    ds0 = [np_d(f_a[0], f, alpha) for f in clip0]
    ds1 = [np_d(f_a[1], f, alpha) for f in clip1]
    assert all(1 - d < eps for d in ds0)
    assert ds1[2] == 0.0  # opposite: d = 0, phi 0, log(e^m) = m
    expected = (sum(np_term(d, m, gamma, eps) for d in ds0) +
                sum(np_term(d, m, gamma, eps) for d in ds1)) / 2
    features = [
        torch.tensor([clip0[k], clip1[k]], dtype=torch.float64)
        for k in range(4)
    ]
    loss_fn = FeatureConsistencyLoss(
        m=m, gamma=gamma, eps=eps, alpha=alpha, loss_weight=1.0)
    got = loss_fn(torch.tensor(f_a, dtype=torch.float64), features)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # default loss_weight is lambda_con = 0.2
    weighted = FeatureConsistencyLoss(m=m, gamma=gamma, eps=eps,
                                      alpha=alpha)(
                                          torch.tensor(f_a), features)
    assert weighted.item() == pytest.approx(0.2 * expected, rel=1e-4)


def test_consistency_loss_phi_branch_around_one_minus_eps():
    # the upper side of min(d, 1 - d) > eps: 1 - d just above eps (phi
    # active) and just below (phi 0). alpha = 5 makes d ~ 0.99 reachable;
    # gamma = 0.5 keeps phi visible next to the margin term.
    alpha, m, gamma, eps = 5.0, 0.4, 0.5, 0.01
    f_a = [1.0, 0.0]
    targets = [1 - 0.0105, 1 - 0.0095, 0.3, 0.995]
    feats = [unit2(cos_for_d(t, alpha)) for t in targets]
    ds = [np_d(f_a, f, alpha) for f in feats]
    np.testing.assert_allclose(ds, targets, rtol=1e-9)
    assert 1 - ds[0] > eps > 1 - ds[1]
    expected = sum(np_term(d, m, gamma, eps) for d in ds)
    with_phi_everywhere = sum(
        math.log(math.exp(m) + (1 - math.exp(m)) * d) -
        (1 - d)**gamma * math.log(d) for d in ds)
    assert abs(expected - with_phi_everywhere) > 1e-3  # the gate matters
    got = FeatureConsistencyLoss(
        m=m, gamma=gamma, eps=eps, alpha=alpha, loss_weight=1.0)(
            torch.tensor([f_a], dtype=torch.float64),
            [torch.tensor([f], dtype=torch.float64) for f in feats])
    assert got.item() == pytest.approx(expected, rel=1e-4, abs=1e-7)


def test_consistency_loss_finite_gradients_at_d_zero():
    # opposite vectors give d = 0 exactly: the phi branch is unused there
    # and must not leak log(0) or 0^(gamma-1) into the gradient.
    for gamma in (0.0, 0.5, 2.0):
        f_a = torch.tensor([[1., 0.], [0., 0.]], requires_grad=True)
        F_ = torch.tensor([[-1., 0.], [0., 0.]], requires_grad=True)
        loss = FeatureConsistencyLoss(gamma=gamma, eps=0.0)(f_a, [F_] * 4)
        loss.backward()
        assert torch.isfinite(loss)
        assert torch.isfinite(f_a.grad).all()
        assert torch.isfinite(F_.grad).all()


# ---------------------------------------------------------------- helpers
def test_clip_features_averages_persons_then_flattens():
    # N = 2 clips, M = 2 persons, C' = 1, T = 2, V = 2
    f = torch.tensor([
        [[[1., 2.], [3., 4.]]],  # clip 0 person 0
        [[[3., 4.], [5., 6.]]],  # clip 0 person 1
        [[[1., 1.], [1., 1.]]],  # clip 1 person 0
        [[[0., 0.], [0., 0.]]],  # clip 1 person 1 (padded)
    ])
    got = clip_features(f, 2)
    np.testing.assert_allclose(
        got.numpy(), [[2., 3., 4., 5.], [.5, .5, .5, .5]])
    assert clip_features(f, 1).shape == (4, 4)
    with pytest.raises(ValueError, match='num_persons'):
        clip_features(f, 3)


@pytest.mark.parametrize('zero_person,phi', [(False, 'focal'),
                                             (True, 'focal'),
                                             (False, 'printed')])
def test_sf_head_losses_equal_the_two_losses_values_and_grads(zero_person,
                                                              phi):
    # the shared-Gram path must give what the separately tested losses give
    torch.manual_seed(0)
    N, D = 6, 40
    base = [torch.randn(N, D, dtype=torch.float64) for _ in range(5)]
    if zero_person:  # a clip whose features are all zero (padding)
        for f in base:
            f[2] = 0
    con = FeatureConsistencyLoss(m=0.4, gamma=2.0, eps=0.01, alpha=1.5,
                                 loss_weight=0.2, phi=phi)
    red = FeatureRedundancyLoss(m=0.4, tau=0.1, alpha=1.5, loss_weight=0.1)
    fast = [f.clone().requires_grad_() for f in base]
    slow = [f.clone().requires_grad_() for f in base]
    got = sf_head_losses(fast, con, red)
    f_t, f_s, f_c, f_o, f_a = slow
    want = (con(f_a, [f_c, f_s, f_t, f_o]), red(f_s, f_t))
    assert (got.loss_con, got.loss_red) == (got[0], got[1])
    for a, b in zip(got[:2], want):
        assert torch.isfinite(a)
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-5,
                                   atol=1e-7)
    (got[0] + 3 * got[1]).backward()
    (want[0] + 3 * want[1]).backward()
    for a, b in zip(fast, slow):
        assert torch.isfinite(a.grad).all()
        torch.testing.assert_close(a.grad.double(), b.grad.double(),
                                   rtol=1e-4, atol=1e-8)


def test_redundancy_diagnostics_hand_matrix():
    # logits m d / tau = 4 d: rows [3.2, 2.8] and [3.0, 2.4]; row 0's best
    # match is its own f_t, row 1's is not; span 4 * (0.8 - 0.6) = 0.8
    red = FeatureRedundancyLoss(m=0.4, tau=0.1)
    d = torch.tensor([[0.8, 0.7], [0.75, 0.6]], dtype=torch.float64)
    top1, span = red.diagnostics(d)
    assert top1.item() == 0.5
    assert span.item() == pytest.approx(0.8, rel=1e-12)
    # a lower temperature widens the span by the same factor
    top1, span = FeatureRedundancyLoss(m=0.4, tau=0.025).diagnostics(d)
    assert span.item() == pytest.approx(3.2, rel=1e-12)


def test_sf_head_losses_diagnostics_from_features():
    # f_s^i = f_t^i (own match is perfect: cos 1) and the three clips are
    # orthogonal to each other (cos 0): top1 = 1, span = m/tau * (d(1) -
    # d(0)) = 4 * (e^-1 - e^-2)
    eye = torch.eye(3, dtype=torch.float64)
    other = torch.ones(3, 3, dtype=torch.float64)
    terms = sf_head_losses([eye, eye, other, other, other],
                           FeatureConsistencyLoss(), FeatureRedundancyLoss())
    assert terms.red_top1.item() == 1.0
    assert terms.red_logit_span.item() == pytest.approx(
        4 * (math.exp(-1) - math.exp(-2)), rel=1e-6)
    assert not terms.red_top1.requires_grad
    # with every f_t equal, no clip can be matched: chance level, span 0
    terms = sf_head_losses([other, eye, other, other, other],
                           FeatureConsistencyLoss(), FeatureRedundancyLoss())
    assert terms.red_logit_span.item() == pytest.approx(0.0, abs=1e-12)


def test_sf_head_losses_stay_float32_under_autocast():
    # D-long dot products of large features overflow float16 (max 65504);
    # the losses must compute them in float32 whatever autocast says
    torch.manual_seed(0)
    feats = [100 * torch.randn(4, 20000) for _ in range(5)]
    con, red = FeatureConsistencyLoss(), FeatureRedundancyLoss()
    want = sf_head_losses(feats, con, red)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = sf_head_losses([f.bfloat16() for f in feats], con, red)
        pairwise = modified_cosine_distance(feats[0].bfloat16(),
                                            feats[1].bfloat16(),
                                            pairwise=True)
    assert pairwise.dtype == torch.float32
    for a, b in zip(got[:2], want[:2]):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=2e-2, atol=1e-3)
    with pytest.raises(ValueError, match='expected'):
        sf_head_losses(feats[:4], con, red)


def test_losses_build_from_registry():
    red = MODELS.build(dict(type='FeatureRedundancyLoss', tau=0.2))
    con = MODELS.build(dict(type='FeatureConsistencyLoss', eps=0.02))
    assert isinstance(red, FeatureRedundancyLoss) and red.tau == 0.2
    assert isinstance(con, FeatureConsistencyLoss) and con.eps == 0.02
    assert (red.m, red.alpha, red.loss_weight) == (0.4, 1.0, 0.1)
    assert (con.m, con.gamma, con.alpha, con.loss_weight) == (0.4, 2.0, 1.0,
                                                               0.2)


@pytest.mark.parametrize('cls,kwargs,field', [
    (FeatureRedundancyLoss, dict(tau=0.0), 'tau'),
    (FeatureRedundancyLoss, dict(tau=-1.0), 'tau'),
    (FeatureRedundancyLoss, dict(alpha=0.0), 'alpha'),
    (FeatureRedundancyLoss, dict(m=0.0), 'm'),
    (FeatureRedundancyLoss, dict(m=50.0), 'm'),
    (FeatureRedundancyLoss, dict(loss_weight=-0.1), 'loss_weight'),
    (FeatureConsistencyLoss, dict(gamma=-1.0), 'gamma'),
    (FeatureConsistencyLoss, dict(eps=0.5), 'eps'),
    (FeatureConsistencyLoss, dict(eps=-0.01), 'eps'),
    (FeatureConsistencyLoss, dict(alpha=-2.0), 'alpha'),
    (FeatureConsistencyLoss, dict(m=-0.4), 'm'),
    (FeatureConsistencyLoss, dict(loss_weight=-1), 'loss_weight'),
])
def test_bad_hyper_parameters_raise(cls, kwargs, field):
    with pytest.raises(ValueError, match=rf'\b{field}='):
        cls(**kwargs)


def test_head_and_loss_make_no_tensor_from_python_data():
    """One head's forward, its losses and their backward create no tensor
    from Python data (``aten::lift_fresh``): on a GPU such a tensor is
    copied from pageable host memory, which waits for all queued GPU work.
    Indexing the Gram with a Python list of sources did this twice per
    head and step."""
    from sfhead_mm.models.losses import SFHeadLoss
    from sfhead_mm.models.sf_head import SFHead
    head, criterion = SFHead(32, groups=2), SFHeadLoss()
    x = torch.randn(4, 32, 8, 5, requires_grad=True)

    def step():
        terms = criterion(head(x, with_output=False), num_persons=2)
        (terms.loss_con + terms.loss_red).backward()

    step()
    with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    names = [event.name for event in prof.events()]
    assert 'aten::index' in names or 'aten::slice' in names  # it traced
    assert 'aten::lift_fresh' not in names


def test_forward_blocks_is_the_mean_of_per_block_losses():
    """All blocks at once (different C and T per block, as in a backbone)
    give each term's mean over the blocks, and the same gradients."""
    from sfhead_mm.models.sf_head import SFHead
    torch.manual_seed(0)
    heads = [SFHead(32, groups=2), SFHead(64, groups=2)]
    inputs = [torch.randn(6, 32, 8, 5), torch.randn(6, 64, 4, 5)]
    criterion = SFHeadLoss(tau=0.05, phi='printed')

    def run(batched):
        xs = [x.clone().requires_grad_() for x in inputs]
        outputs = [h(x, with_output=False) for h, x in zip(heads, xs)]
        if batched:
            terms = criterion.forward_blocks(outputs, num_persons=2)
        else:
            per_block = [criterion(o, num_persons=2) for o in outputs]
            terms = [torch.stack(column).mean() for column in zip(*per_block)]
        (terms[0] + terms[1]).backward()
        return [t.detach() for t in terms], [x.grad for x in xs]

    (terms, grads), (expected, expected_grads) = run(True), run(False)
    for value, reference in zip(terms, expected):
        assert torch.allclose(value, reference, rtol=1e-5, atol=1e-7)
    for grad, reference in zip(grads, expected_grads):
        assert torch.allclose(grad, reference, rtol=1e-4, atol=1e-9)
    assert terms[0] > 0 and terms[1] > 0
    with pytest.raises(ValueError, match='no head outputs'):
        criterion.forward_blocks([])


def test_batched_distances_are_the_mean_of_each_block():
    """loss_from_distance and diagnostics on (L, N, ...) distances."""
    torch.manual_seed(1)
    d_red = torch.rand(3, 4, 4) * 0.8
    d_con = torch.rand(3, 4, 4) * 0.8 + 0.1
    red = FeatureRedundancyLoss(tau=0.05)
    con = FeatureConsistencyLoss()
    assert torch.allclose(red.loss_from_distance(d_red),
                          torch.stack([red.loss_from_distance(d)
                                       for d in d_red]).mean())
    assert torch.allclose(con.loss_from_distance(d_con),
                          torch.stack([con.loss_from_distance(d)
                                       for d in d_con]).mean())
    per_block = [red.diagnostics(d) for d in d_red]
    top1, span = red.diagnostics(d_red)
    assert torch.allclose(top1, torch.stack([p[0] for p in per_block]).mean())
    assert torch.allclose(span, torch.stack([p[1] for p in per_block]).mean())
