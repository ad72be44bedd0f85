"""Exact tests for 0/1 scores: McNemar's test on the discordant pairs, its interval and power.

When every score of a comparison is 0 or 1, a pair either agrees (both 0 or both 1: no
information about the change) or is *discordant*: the candidate lost a pass (``worse``) or
gained one (``better``). Under the null hypothesis of no change a discordant pair is as likely
to go either way, so ``worse ~ Binomial(worse + better, 1/2)``: the exact McNemar (sign) test.
Everything here follows from that one binomial, so the p-value, the interval and the minimum
detectable effect agree by construction.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = (
    "Discordance",
    "discordance",
    "is_binary",
    "mcnemar_exact_p",
    "mcnemar_interval",
    "mcnemar_power",
    "mcnemar_mde",
    "min_discordant",
)

_POWER = 0.8
_NORMAL = statistics.NormalDist()
EXACT_POWER_MAX_N = 400  # beyond this many pairs the power uses Connor's normal approximation


@dataclass(frozen=True, slots=True)
class Discordance:
    """The pairs of a 0/1 comparison: ``worse`` (1 -> 0), ``better`` (0 -> 1), of ``n``."""

    n: int
    worse: int
    better: int

    @property
    def discordant(self) -> int:
        return self.worse + self.better


def is_binary(*columns: Sequence[float]) -> bool:
    """Whether every value of every column is 0 or 1 (and there is at least one)."""
    return any(columns) and all(v in (0.0, 1.0) for column in columns for v in column)


def discordance(base: Sequence[float], cand: Sequence[float]) -> Discordance:
    """Count the discordant pairs of two paired 0/1 columns."""
    worse = sum(1 for b, c in zip(base, cand, strict=True) if b > c)
    better = sum(1 for b, c in zip(base, cand, strict=True) if b < c)
    return Discordance(len(base), worse, better)


def mcnemar_exact_p(worse: int, better: int) -> float:
    """Two-sided exact McNemar p-value: ``2 * P(X <= min(worse, better))``, X ~ Bin(m, 1/2).

    :returns: the p-value in ``(0, 1]``; 1.0 when no pair is discordant.
    """
    m = worse + better
    if m == 0:
        return 1.0
    tail, term = 0, 1
    for x in range(min(worse, better) + 1):  # exact integers: sum of C(m, x)
        tail += term
        term = term * (m - x) // (x + 1)
    return min(1.0, 2 * tail / (1 << m))


def min_discordant(alpha: float) -> int:
    """The fewest discordant pairs with which the exact test can reach ``p < alpha``."""
    m = 1
    while math.ldexp(2.0, -m) >= alpha:  # the smallest p with m pairs is 2 / 2**m
        m += 1
    return m


def mcnemar_interval(worse: int, better: int, n: int, alpha: float) -> tuple[float, float]:
    """The interval for the change in pass rate that inverts the exact test at level ``alpha``.

    The Clopper-Pearson interval ``[lo, hi]`` for the share ``pi`` of discordant pairs that
    improved, mapped to the mean difference ``(2 * pi - 1) * m / n``. It excludes 0 exactly when
    :func:`mcnemar_exact_p` is below ``alpha``.

    :returns: ``(low, high)`` of candidate-minus-base pass rate; ``(0, 0)`` with no discordance.
    """
    m = worse + better
    if m == 0:
        return 0.0, 0.0
    lo = 0.0 if better == 0 else _beta_quantile(alpha / 2, better, m - better + 1)
    hi = 1.0 if better == m else _beta_quantile(1 - alpha / 2, better + 1, m - better)
    return (2 * lo - 1) * m / n, (2 * hi - 1) * m / n


def mcnemar_power(n: int, p_worse: float, p_better: float, alpha: float) -> float:
    """The exact power of the two-sided exact McNemar test with ``n`` pairs.

    Each pair independently loses a pass with probability ``p_worse`` and gains one with
    probability ``p_better``; the power is the probability that the test gives ``p < alpha``.
    """
    discordant = p_worse + p_better
    if n > EXACT_POWER_MAX_N:
        return _normal_power(n, p_worse, p_better, alpha)
    same = max(0.0, 1.0 - discordant)
    share = p_worse / discordant if discordant > 0 else 0.5
    spread = 10 * math.sqrt(n * discordant * same) + 10  # P(M = m) < 1e-20 outside
    first = max(min_discordant(alpha), int(n * discordant - spread))
    last = min(n, int(n * discordant + spread) + 1)
    power = 0.0
    for m in range(first, last + 1):
        power += _binom_pmf(n, m, discordant, same) * _reject_probability(m, share, alpha)
    return min(1.0, power)


def _normal_power(n: int, p_worse: float, p_better: float, alpha: float) -> float:
    """Connor's (1987) normal approximation to McNemar's power, for large ``n``."""
    psi, delta = p_worse + p_better, abs(p_worse - p_better)
    if psi <= 0 or psi <= delta * delta:
        return 1.0 if delta > 0 else 0.0
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    return _NORMAL.cdf((delta * math.sqrt(n) - z * math.sqrt(psi)) / math.sqrt(psi - delta**2))


@lru_cache(maxsize=1024)
def mcnemar_mde(d: Discordance, alpha: float, power: float = _POWER) -> float:
    """The smallest change in pass rate the exact test detects with probability ``power``.

    The model keeps the *noise* seen in the comparison, the symmetric part of the discordance
    (``2 * min(worse, better) / n``: rows that flipped either way by chance), and adds a true
    change of size ``delta`` on top of it in one direction: a pair gets worse with probability
    ``noise / 2 + delta`` and better with ``noise / 2``. The MDE is the smallest ``delta``
    whose exact power reaches ``power``.

    :returns: the MDE in pass-rate units; ``math.inf`` when no change up to 1 is detectable.
    """
    if d.n < min_discordant(alpha):
        return math.inf
    noise = 2 * min(d.worse, d.better) / d.n
    low, high = 0.0, 1.0 - noise
    if mcnemar_power(d.n, noise / 2 + high, noise / 2, alpha) < power:
        return math.inf
    for _ in range(30):  # the power grows with delta; bisect to 1e-9
        mid = (low + high) / 2
        if mcnemar_power(d.n, noise / 2 + mid, noise / 2, alpha) >= power:
            high = mid
        else:
            low = mid
    return high


# -- binomial helpers ----------------------------------------------------------------------------


def _binom_pmf(n: int, m: int, p: float, q: float) -> float:
    """P(M = m) for M ~ Bin(n, p), with q = 1 - p given to keep precision."""
    if p <= 0.0:
        return 1.0 if m == 0 else 0.0
    if q <= 0.0:
        return 1.0 if m == n else 0.0
    log = (
        math.lgamma(n + 1) - math.lgamma(m + 1) - math.lgamma(n - m + 1)
        + m * math.log(p) + (n - m) * math.log(q)
    )  # fmt: skip
    return math.exp(log)


def _reject_probability(m: int, share: float, alpha: float) -> float:
    """P(exact test rejects | m discordant pairs, each worse with probability ``share``)."""
    k = _critical(m, alpha)  # rejects when min(worse, better) <= k
    if k < 0:
        return 0.0
    return _cdf(m, k, share) + _cdf(m, k, 1.0 - share)  # better <= k, or worse <= k


@lru_cache(maxsize=4096)
def _critical(m: int, alpha: float) -> int:
    """The largest k with ``mcnemar_exact_p(k, m - k) < alpha`` (-1 when there is none)."""
    k = -1
    while 2 * (k + 1) < m and mcnemar_exact_p(k + 1, m - k - 1) < alpha:
        k += 1
    return k


def _cdf(m: int, k: int, p: float) -> float:
    """P(X <= k) for X ~ Bin(m, p), summed by the pmf recurrence."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= m else 0.0
    log_term, log_ratio = m * math.log1p(-p), math.log(p) - math.log1p(-p)
    logs = [log_term]
    for j in range(k):  # log P(X = j + 1) from log P(X = j)
        log_term += math.log((m - j) / (j + 1)) + log_ratio
        logs.append(log_term)
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(v - top) for v in logs))


def _beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q`` quantile of Beta(a, b), integer-ish a and b, by bisection on the binomial tail."""
    low, high = 0.0, 1.0
    for _ in range(40):  # to 1e-12
        mid = (low + high) / 2
        if _beta_cdf(mid, a, b) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _beta_cdf(x: float, a: float, b: float) -> float:
    """Beta(a, b) CDF for integer a, b >= 1: ``P(Bin(a + b - 1, x) >= a)``."""
    n, k = int(a + b - 1), int(a)
    return math.fsum(_upper_terms(n, k, x))


def _upper_terms(n: int, k: int, x: float) -> Iterator[float]:
    """``P(X = j)`` for ``j >= k``, X ~ Bin(n, x), except terms that underflow to 0.0.

    The terms fall away from the mode on both sides, so the walk outwards from it stops at the
    first 0.0: the ones left out are 0.0 too and change no sum (``fsum`` is exact), which saves
    most of the work for thousands of pairs. Each term is :func:`_binom_pmf`'s, with the
    logarithms that do not depend on ``j`` taken once.
    """
    q, centre = 1.0 - x, (n + 1) * x
    mode = min(n, max(k, int(centre)))
    if x <= 0.0 or q <= 0.0:

        def pmf(j: int) -> float:
            return _binom_pmf(n, j, x, q)

    else:
        lgamma, whole, log_p, log_q = math.lgamma, math.lgamma(n + 1), math.log(x), math.log(q)

        def pmf(j: int) -> float:
            return math.exp(whole - lgamma(j + 1) - lgamma(n - j + 1) + j * log_p + (n - j) * log_q)

    for j in range(mode, n + 1):
        term = pmf(j)
        if term == 0.0 and j > centre:
            break
        yield term
    for j in range(mode - 1, k - 1, -1):
        term = pmf(j)
        if term == 0.0:
            break
        yield term
