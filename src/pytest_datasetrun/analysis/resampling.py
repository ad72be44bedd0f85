"""The resampling machinery behind :mod:`pytest_datasetrun.analysis.stats`.

Bootstrap sums by multinomial category counts, sign-flip sums from precomputed subset-sum
tables, BCa levels and quantiles: the loops avoid a Python step per item where they can.
"""

from __future__ import annotations

import math
import random
import statistics
from bisect import bisect_left, bisect_right
from typing import Literal

from pytest_datasetrun.analysis import vectorised

__all__ = (
    "CIMethod",
    "interval",
    "multinomial_sums",
    "resampled_sums",
    "sign_flip_sums",
    "subset_sums",
)

CIMethod = Literal["bca", "percentile"]
_NORMAL = statistics.NormalDist()
_CHUNK = 8  # items per precomputed subset-sum table in the sign-flip test (one random byte each)
# A bit mask per distinct magnitude beats numpy up to about 16 magnitudes, and
# the pure per-byte loop up to about 256.
_FEW_LEVELS, _MAX_LEVELS = 16, 256


def interval(
    data: list[float],
    observed: float,
    sums: list[float],
    alpha: float,
    method: CIMethod,
) -> tuple[float, float]:
    """The interval from the bootstrap resample sums of ``data`` (none: ``data`` is constant)."""
    if not sums:
        return data[0], data[0]
    sums.sort()
    n = len(data)
    levels = _bca_levels(data, observed, sums, alpha) if method == "bca" else None
    low_q, high_q = levels or (alpha, 1.0 - alpha)
    return _quantile(sums, low_q) / n, _quantile(sums, high_q) / n


# Scores usually take few distinct values (pass/fail diffs are -1, 0 or 1): then a resample is
# drawn as multinomial counts of the values, a few C-level bit operations per value instead of
# one Python step per item. Otherwise the resampled positions are drawn one by one, once for
# all the columns of that length. Both ways draw exactly from the bootstrap distribution.


def multinomial_sums(
    counts: list[tuple[float, int]], n_resamples: int, rng: random.Random
) -> list[float]:
    values, weights = [v for v, _ in counts], [c for _, c in counts]
    n = sum(weights)
    shares = _conditional_shares(weights)
    draws = (_multinomial(rng, n, shares) for _ in range(n_resamples))
    return [math.fsum(map(float.__mul__, values, draw)) for draw in draws]


def resampled_sums(
    columns: list[list[float]], n_resamples: int, rng: random.Random
) -> list[list[float]]:
    """Resample sums of equally long columns; the positions are what ``rng.choices`` draws."""
    fast = vectorised.choice_sums(columns, n_resamples, rng)  # the same draws, with numpy
    if fast is not None:
        return fast
    positions = range(len(columns[0]))
    getters = [column.__getitem__ for column in columns]
    sums: list[list[float]] = [[] for _ in columns]
    for _ in range(n_resamples):
        drawn = rng.choices(positions, k=len(positions))
        for column_sums, getter in zip(sums, getters, strict=True):
            column_sums.append(sum(map(getter, drawn)))
    return sums


def _conditional_shares(weights: list[int]) -> list[list[bool]]:
    """The binary digits of each category's share of the draws left (all but the last)."""
    shares, remaining_weight = [], sum(weights)
    for weight in weights[:-1]:
        shares.append(_digits(weight / remaining_weight))
        remaining_weight -= weight
    return shares


def _multinomial(rng: random.Random, n: int, shares: list[list[bool]]) -> list[float]:
    """Counts of ``n`` draws from categories with these shares (conditional binomials)."""
    draws: list[float] = []
    for share in shares:
        count = _binomial(rng, n, share)
        draws.append(float(count))
        n -= count
    draws.append(float(n))
    return draws


def _digits(p: float) -> list[bool]:
    """The binary digits of ``0 <= p < 1`` after the point, up to the last 1 (exact)."""
    digits = []
    while p > 0.0:
        p *= 2.0
        digits.append(p >= 1.0)
        if p >= 1.0:
            p -= 1.0
    return digits


def _binomial(rng: random.Random, n: int, digits: list[bool]) -> int:
    """An exact Binomial(n, p) draw, comparing uniforms with ``p`` one binary digit at a time.

    A trial whose next random bit is below ``p``'s digit succeeds, above it fails, equal goes
    on; ``popcount`` decides all undecided trials at once, so it takes about ``log2(n) + 2``
    rounds whatever ``p`` is. The digits are worked out once per category, not per draw.
    """
    getrandbits = rng.getrandbits
    successes = 0
    for digit in digits:
        if not n:
            break
        if digit:  # a 0 bit succeeds, a 1 bit goes on
            ones = getrandbits(n).bit_count()
            successes += n - ones
            n = ones
        else:  # a 1 bit fails, a 0 bit goes on
            n -= getrandbits(n).bit_count()
    return successes


def sign_flip_sums(magnitudes: list[float], n_resamples: int, rng: random.Random) -> list[float]:
    """Sums of random subsets of ``magnitudes``: one random byte picks a subset of 8 items.

    Every way below draws the same bytes in the same order (item ``i`` is in the subset when bit
    ``i % 8`` of byte ``i // 8`` is set), so the subsets are the same and the sums agree to
    rounding: numpy adds as the pure loop does; with few distinct magnitudes a
    bit mask per magnitude counts its items in the subset (``v * count``, added by ``fsum``).
    """
    levels: dict[float, list[int]] = {}
    for i, value in enumerate(magnitudes):
        levels.setdefault(value, []).append(i)
    if len(levels) <= _FEW_LEVELS:
        return _level_flip_sums(levels, len(magnitudes), n_resamples, rng)
    fast = vectorised.flip_sums(magnitudes, n_resamples, rng)
    if fast is not None:
        return fast
    if len(levels) <= _MAX_LEVELS:
        return _level_flip_sums(levels, len(magnitudes), n_resamples, rng)
    tables = [subset_sums(magnitudes[i : i + _CHUNK]) for i in range(0, len(magnitudes), _CHUNK)]
    tables[-1] = (tables[-1] * (256 // len(tables[-1])))[:256]  # pad: high bits pick no item
    return [
        sum(map(list.__getitem__, tables, rng.randbytes(len(tables)))) for _ in range(n_resamples)
    ]


def _level_flip_sums(
    levels: dict[float, list[int]], n: int, n_resamples: int, rng: random.Random
) -> list[float]:
    """Sign-flip sums from one bit mask per distinct magnitude (C-level ``&`` and popcount)."""
    size = -(-n // _CHUNK)
    masks = []
    for value, positions in levels.items():
        bits = bytearray(size)
        for i in positions:
            bits[i >> 3] |= 1 << (i & 7)
        masks.append((value, int.from_bytes(bits, "little")))
    sums = []
    for _ in range(n_resamples):
        drawn = int.from_bytes(rng.randbytes(size), "little")
        sums.append(math.fsum([value * (drawn & mask).bit_count() for value, mask in masks]))
    return sums


def subset_sums(values: list[float]) -> list[float]:
    """``sums[mask]`` is the sum of the values whose bit is set in ``mask``."""
    sums = [0.0]
    for value in values:
        sums += [s + value for s in sums]
    return sums


def _bca_levels(
    data: list[float], observed: float, sums: list[float], alpha: float
) -> tuple[float, float] | None:
    """The BCa-adjusted quantile levels, or ``None`` when the adjustment is undefined."""
    # Resample sums equal to the observed one count half (mid-rank, as scipy does); "equal"
    # allows for rounding, since a resample adds the same values in another order.
    tie = 1e-9 * math.fsum(abs(d) for d in data)
    below, upto = bisect_left(sums, observed - tie), bisect_right(sums, observed + tie)
    share_below = (below + upto) / (2 * len(sums))
    if not 0.0 < share_below < 1.0:
        return None
    bias = _NORMAL.inv_cdf(share_below)
    mean = observed / len(data)
    deviations = [d - mean for d in data]
    # The jackknife acceleration of the mean reduces to the skewness of the data.
    acceleration = math.fsum(d**3 for d in deviations) / (
        6.0 * math.fsum(d * d for d in deviations) ** 1.5
    )
    levels = []
    for z in (_NORMAL.inv_cdf(alpha), _NORMAL.inv_cdf(1.0 - alpha)):
        denominator = 1.0 - acceleration * (bias + z)
        if denominator <= 0.0:
            return None
        levels.append(_NORMAL.cdf(bias + (bias + z) / denominator))
    return levels[0], levels[1]


def _quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = min(int(position), len(ordered) - 1)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
