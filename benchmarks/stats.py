"""Paired comparisons over seeds, as the evidence protocol states them
(``docs/protocol.md``): mean paired difference with a 95% t-interval, the
paired t-test, the exact sign-flip (permutation) test, and Holm's
correction over several comparisons.

A "paired difference" is ``other - base`` at the same seed, in points
(percentage points of top-1). "±" in the report is always the half-width
of the 95% confidence interval, never a standard deviation.
"""
import itertools
from typing import Dict, NamedTuple, Optional, Sequence

import numpy as np

__all__ = ['PairedResult', 'paired_difference', 'sign_flip_p', 'holm',
           't_half_width', 't_interval']


class PairedResult(NamedTuple):
    """Summary of per-seed differences (points).

    ``ci_low``/``ci_high`` bound the 95% t-interval of the mean, ``half``
    is its half-width; ``p_t`` the two-sided paired t-test p-value,
    ``p_sign_flip`` the exact two-sided sign-flip p-value; all None with
    fewer than 2 seeds.
    """
    n: int
    mean: float
    sd: Optional[float]
    ci_low: Optional[float]
    ci_high: Optional[float]
    half: Optional[float]
    p_t: Optional[float]
    p_sign_flip: Optional[float]


def sign_flip_p(diffs: Sequence[float]) -> float:
    """Exact two-sided sign-flip test of ``mean(diffs) == 0``.

    Under the null, each paired difference is as likely to have either
    sign; the p-value is the share of the ``2^n`` sign assignments whose
    absolute mean is at least the observed one (the observed assignment
    included, so the smallest possible p is 2 / 2^n).

    Args:
        diffs (Sequence[float]): n paired differences, n <= 22.

    Returns:
        float: the p-value.
    """
    d = np.asarray(diffs, dtype=np.float64)
    n = len(d)
    if n == 0:
        raise ValueError('sign_flip_p: no differences')
    if n > 22:
        raise ValueError(f'sign_flip_p: {n} differences; the exact test '
                         'enumerates 2^n sign patterns (n <= 22)')
    observed = abs(d.mean())
    count = 0
    # enumerate sign patterns in chunks of 2^12 to bound memory
    chunk = min(n, 12)
    low = np.array(list(itertools.product((1.0, -1.0), repeat=chunk)))
    low_sums = low @ d[:chunk]  # (2^chunk,)
    for high in itertools.product((1.0, -1.0), repeat=n - chunk):
        total = low_sums + float(np.dot(high, d[chunk:]))
        count += int(np.sum(np.abs(total) / n >= observed - 1e-12))
    return count / 2.0**n


def paired_difference(diffs: Sequence[float]) -> PairedResult:
    """Mean, 95% t-interval, t-test and sign-flip test of ``diffs``."""
    from scipy import stats
    d = np.asarray(diffs, dtype=np.float64)
    n = len(d)
    if n == 0:
        raise ValueError('paired_difference: no differences')
    mean = float(d.mean())
    if n < 2:
        return PairedResult(n, mean, None, None, None, None, None, None)
    sd = float(d.std(ddof=1))
    half = t_half_width(sd, n)
    if sd > 0:
        p_t = float(stats.ttest_1samp(d, 0.0).pvalue)
    else:  # every seed moved by the same amount
        p_t = 1.0 if mean == 0 else 0.0
    return PairedResult(n, mean, sd, mean - half, mean + half, half, p_t,
                        sign_flip_p(d))


def holm(pvalues: Dict[str, float]) -> Dict[str, float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, <= 1).

    Args:
        pvalues (dict): comparison name -> raw p-value.

    Returns:
        dict: comparison name -> adjusted p-value; reject at level a when
        the adjusted value is <= a.
    """
    names = sorted(pvalues, key=lambda k: pvalues[k])
    m, running, adjusted = len(names), 0.0, {}
    for rank, name in enumerate(names):
        running = max(running, min(1.0, (m - rank) * pvalues[name]))
        adjusted[name] = running
    return adjusted


def t_half_width(sd: float, n: int, level: float = 0.95) -> float:
    """Half-width of the two-sided t-interval at ``level`` of a mean of
    ``n`` values with standard deviation ``sd`` (ddof 1)."""
    from scipy import stats
    return float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))


def t_interval(diffs: Sequence[float], level: float) -> tuple:
    """The two-sided t-interval of ``mean(diffs)`` at ``level`` (e.g.
    ``1 - 0.05 / 3`` for a Bonferroni interval over three comparisons);
    (None, None) with fewer than 2 values."""
    d = np.asarray(diffs, dtype=np.float64)
    if len(d) < 2:
        return None, None
    half = t_half_width(float(d.std(ddof=1)), len(d), level)
    return float(d.mean()) - half, float(d.mean()) + half
