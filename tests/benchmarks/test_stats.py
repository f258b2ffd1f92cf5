"""benchmarks/stats.py against hand-computed values."""
import math

import pytest

from benchmarks.stats import holm, paired_difference, sign_flip_p


def test_paired_difference_hand_values():
    # diffs 1, 2, 3: mean 2, sd 1; t(0.975, 2) = 4.3026527; with 2 degrees
    # of freedom the t CDF is 1/2 + t / (2 sqrt(2 + t^2)), so the two-sided
    # p of t = 2 sqrt(3) is 1 - t / sqrt(2 + t^2)
    res = paired_difference([1.0, 2.0, 3.0])
    assert (res.n, res.mean, res.sd) == (3, 2.0, 1.0)
    assert res.half == pytest.approx(4.302652729749464 / math.sqrt(3))
    assert (res.ci_low, res.ci_high) == pytest.approx(
        (2 - res.half, 2 + res.half))
    t = 2 * math.sqrt(3)
    assert res.p_t == pytest.approx(1 - t / math.sqrt(2 + t * t))
    assert res.p_sign_flip == 0.25  # |sum| 6 in 2 of the 8 sign patterns


def test_one_seed_has_no_interval_and_constant_diffs_are_exact():
    res = paired_difference([1.5])
    assert res.mean == 1.5 and res.half is None and res.p_t is None
    assert paired_difference([2.0, 2.0, 2.0]).p_t == 0.0
    assert paired_difference([0.0, 0.0]).p_t == 1.0


def test_sign_flip_enumerates_all_patterns():
    # 13 positive differences: only all-plus and all-minus reach the
    # observed |mean| (exercises the chunked enumeration)
    assert sign_flip_p(list(range(1, 14))) == pytest.approx(2 / 2**13)
    # symmetric differences: every pattern is at least as extreme as 0
    assert sign_flip_p([1.0, -1.0]) == 1.0
    with pytest.raises(ValueError, match='n <= 22'):
        sign_flip_p([1.0] * 23)


def test_holm_step_down():
    adjusted = holm(dict(a=0.01, b=0.04, c=0.03))
    # sorted a, c, b: 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04)
    assert adjusted == pytest.approx(dict(a=0.03, c=0.06, b=0.06))
    assert holm(dict(a=0.6, b=0.9)) == pytest.approx(dict(a=1.0, b=1.0))


def test_t_interval_matches_the_95_interval_and_widens_with_level():
    from benchmarks.stats import t_interval
    d = [1.0, 2.5, -0.5, 3.0, 1.5]
    res = paired_difference(d)
    low, high = t_interval(d, 0.95)
    assert (low, high) == pytest.approx((res.ci_low, res.ci_high))
    wide = t_interval(d, 1 - 0.05 / 3)
    assert wide[0] < low and wide[1] > high
    assert t_interval([1.0], 0.95) == (None, None)
