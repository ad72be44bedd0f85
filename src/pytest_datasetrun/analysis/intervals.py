"""A confidence interval for a mean from its summary (n, mean, sample stdev): Student's t."""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ("mean_interval",)


def mean_interval(
    n: int, mean: float | None, stdev: float | None, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The two-sided t interval of a mean, clipped to ``[0, 1]`` (scores live there).

    :param n: the number of values.
    :param mean: their mean.
    :param stdev: their sample standard deviation.
    :returns: ``(low, high)``, or ``None`` with fewer than two values.
    """
    if n < 2 or mean is None or stdev is None:
        return None
    half = _t_quantile((1 + confidence) / 2, n - 1) * stdev / math.sqrt(n)
    return max(0.0, mean - half), min(1.0, mean + half)


def _t_quantile(p: float, df: int) -> float:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, Cornish-Fisher above."""
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        a = 4 * p * (1 - p)
        return (2 * p - 1) * math.sqrt(2 / a)
    z = NormalDist().inv_cdf(p)
    v = float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )
