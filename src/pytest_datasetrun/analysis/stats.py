"""Small-sample statistics for comparing runs: paired bootstrap CI, sign-flip test, MDE, pass@k.

Pure Python and deterministic: every random quantity comes from ``random.Random(seed)``.
The resampling loops avoid a Python step per item where they can (see
:mod:`pytest_datasetrun.analysis.resampling`), so comparing 1,000 pairs on several scorers takes well under a
second.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pytest_datasetrun.analysis.resampling import (
    CIMethod,
    interval,
    multinomial_sums,
    resampled_sums,
    sign_flip_sums,
    subset_sums,
)

__all__ = (
    "BOOTSTRAP_RESAMPLES",
    "EXACT_MAX_N",
    "PERMUTATION_RESAMPLES",
    "CIMethod",
    "Description",
    "describe",
    "minimum_detectable_effect",
    "min_attainable_p",
    "paired_bootstrap_ci",
    "paired_bootstrap_cis",
    "paired_permutation_test",
    "pass_at_k",
    "pass_hat_k",
)

BOOTSTRAP_RESAMPLES = 2000
PERMUTATION_RESAMPLES = 5000  # cheaper per resample, and p-values near 0.05 need more
EXACT_MAX_N = 16  # the sign-flip test enumerates all 2**n signs up to here (65,536 sums)

_NORMAL = statistics.NormalDist()
_LEVEL_COST = 24  # a multinomial category costs about as much as drawing 24 items one by one


@dataclass(frozen=True, slots=True)
class Description:
    """Summary statistics of a list of numbers; ``None`` where the list is empty."""

    n: int
    mean: float | None
    min: float | None
    max: float | None
    stdev: float | None


def describe(values: Iterable[float]) -> Description:
    """Count, mean, min, max and sample standard deviation (0.0 for a single value).

    :param values: the numbers.
    :returns: a :class:`Description`.
    """
    data = [float(v) for v in values]
    if not data:
        return Description(0, None, None, None, None)
    stdev = statistics.stdev(data) if len(data) > 1 else 0.0
    return Description(len(data), math.fsum(data) / len(data), min(data), max(data), stdev)


def paired_bootstrap_ci(
    diffs: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    method: CIMethod = "bca",
) -> tuple[float, float]:
    """A bootstrap confidence interval for the mean of paired differences.

    The pairs are resampled with replacement ``n_resamples`` times. The default ``"bca"``
    (bias-corrected and accelerated, Efron 1987) adjusts the percentiles for skew and median
    bias, as ``scipy.stats.bootstrap`` does by default; it falls back to plain percentiles when
    the correction is undefined (every resample on one side of the observed mean).

    :param diffs: the per-pair differences (candidate minus base).
    :param confidence: the coverage, in ``(0, 1)``.
    :param n_resamples: the number of bootstrap resamples.
    :param seed: the seed of the resampling; the same inputs and seed give the same interval.
    :param method: ``"bca"`` or ``"percentile"``.
    :returns: ``(low, high)``; ``(d, d)`` when every difference equals ``d``.
    :raises ValueError: no differences, or an out-of-range argument.
    """
    return paired_bootstrap_cis([diffs], confidence, n_resamples, seed, method)[0]


def paired_bootstrap_cis(
    columns: Sequence[Sequence[float]],
    confidence: float = 0.95,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    method: CIMethod = "bca",
) -> list[tuple[float, float]]:
    """:func:`paired_bootstrap_ci` of several columns (one per scorer), faster.

    Each interval equals :func:`paired_bootstrap_ci` of its column with the same arguments;
    columns of equal length share the cost of drawing the resampled positions.

    :param columns: the differences of each scorer.
    :param confidence: as for :func:`paired_bootstrap_ci`.
    :param n_resamples: as for :func:`paired_bootstrap_ci`.
    :param seed: as for :func:`paired_bootstrap_ci`.
    :param method: as for :func:`paired_bootstrap_ci`.
    :returns: one ``(low, high)`` per column, in order.
    :raises ValueError: an empty column, or an out-of-range argument.
    """
    data = [_checked(column) for column in columns]
    _check_confidence(confidence)
    _check_resamples(n_resamples)
    if method not in ("bca", "percentile"):
        raise ValueError(f"method must be 'bca' or 'percentile', not {method!r}")
    sums: list[list[float]] = [[] for _ in data]
    observed = [math.fsum(column) for column in data]
    by_length: dict[int, list[int]] = {}
    for i, column in enumerate(data):
        if min(column) == max(column):
            continue  # a constant column: no resampling needed
        counts = sorted(Counter(column).items())
        if (len(counts) - 1) * _LEVEL_COST < len(column):
            observed[i] = math.fsum(value * count for value, count in counts)  # as resampled
            sums[i] = multinomial_sums(counts, n_resamples, random.Random(seed))
        else:
            by_length.setdefault(len(column), []).append(i)
    for positions in by_length.values():
        shared = resampled_sums([data[i] for i in positions], n_resamples, random.Random(seed))
        for i, column_sums in zip(positions, shared, strict=True):
            sums[i] = column_sums
    alpha = (1.0 - confidence) / 2
    return [
        interval(column, total, resampled, alpha, method)
        for column, total, resampled in zip(data, observed, sums, strict=True)
    ]


def paired_permutation_test(
    diffs: Sequence[float], n_resamples: int = PERMUTATION_RESAMPLES, seed: int = 0
) -> float:
    """The two-sided p-value of the sign-flip (paired permutation) test of "no difference".

    Under the null hypothesis each difference is as likely positive as negative, so its sign is
    flipped at random and the observed ``|sum|`` is ranked among the flipped sums. Zero
    differences do not change any sum and are dropped. With at most :data:`EXACT_MAX_N`
    non-zero differences all ``2**n`` sign patterns are enumerated (an exact p-value);
    otherwise ``n_resamples`` random patterns give ``(hits + 1) / (n_resamples + 1)``, which is
    never 0 (Phipson & Smyth 2010; ``scipy.stats.permutation_test`` does the same).

    :param diffs: the per-pair differences.
    :param n_resamples: the number of random sign patterns when the test is not exact.
    :param seed: the seed of the random sign patterns.
    :returns: the p-value in ``(0, 1]``; 1.0 when every difference is zero.
    :raises ValueError: no differences, or an out-of-range argument.
    """
    data = _checked(diffs)
    _check_resamples(n_resamples)
    magnitudes = [abs(d) for d in data if d != 0.0]
    if not magnitudes:
        return 1.0
    total = math.fsum(magnitudes)
    observed = abs(math.fsum(data))
    floor = observed - 1e-9 * total  # flipped sums round differently: keep exact ties as ties
    # A sign pattern flips the subset S, giving the sum total - 2 * sum(S).
    if len(magnitudes) <= EXACT_MAX_N:
        every_sum = subset_sums(magnitudes)
        hits = sum(1 for s in every_sum if abs(total - 2.0 * s) >= floor)
        return hits / len(every_sum)
    sums = sign_flip_sums(magnitudes, n_resamples, random.Random(seed))
    hits = sum(1 for s in sums if abs(total - 2.0 * s) >= floor)
    return (hits + 1) / (n_resamples + 1)


def min_attainable_p(n: int) -> float:
    """The smallest p-value the exact sign-flip test can give with ``n`` non-zero differences.

    :param n: the number of pairs.
    :returns: ``2 / 2**n`` (1.0 for ``n <= 1``); below 0.05 only from ``n = 6``.
    """
    return 1.0 if n <= 1 else math.ldexp(1.0, 1 - n)  # 2 / 2**n, 0.0 once it underflows


def minimum_detectable_effect(
    diffs_or_sd: Sequence[float] | float,
    n: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """The smallest true mean difference a paired comparison of ``n`` pairs reliably detects.

    Normal approximation for a two-sided test: ``(z[1 - alpha/2] + z[power]) * sd / sqrt(n)``,
    where ``sd`` is the standard deviation of the differences. With ``alpha=0.05`` and
    ``power=0.8`` the factor is 2.80: a true change of 2.8 standard errors is found significant
    80 % of the time, and smaller changes are missed more often.

    :param diffs_or_sd: the differences (their sample standard deviation is used) or the
        standard deviation itself.
    :param n: the number of pairs (default: the number of differences).
    :param alpha: the significance level.
    :param power: the wanted probability of detecting an effect of the returned size.
    :returns: the effect size, in the units of the differences; ``math.inf`` when fewer than
        two differences leave the standard deviation unknown.
    :raises ValueError: an out-of-range argument, or ``n`` missing for a bare standard deviation.
    """
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError(f"alpha and power must be in (0, 1), got alpha={alpha}, power={power}")
    if isinstance(diffs_or_sd, (int, float)):
        if n is None:
            raise ValueError("n is required when a standard deviation is given")
        sd = float(diffs_or_sd)
        if sd < 0 or math.isnan(sd):
            raise ValueError(f"the standard deviation must be >= 0, got {sd}")
    else:
        data = [float(d) for d in diffs_or_sd]
        n = len(data) if n is None else n
        if len(data) < 2:
            return math.inf
        sd = statistics.stdev(data)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    factor = _NORMAL.inv_cdf(1.0 - alpha / 2) + _NORMAL.inv_cdf(power)
    return factor * sd / math.sqrt(n)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k: the chance that at least one of k attempts passes.

    From ``n`` attempts of which ``c`` passed: ``1 - C(n-c, k) / C(n, k)`` (Chen et al. 2021,
    "Evaluating Large Language Models Trained on Code", eq. 1), computed exactly.

    :param n: the number of attempts.
    :param c: how many passed.
    :param k: the budget of attempts, ``1 <= k <= n``.
    :returns: the estimate in ``[0, 1]``.
    :raises ValueError: inconsistent counts.
    """
    _check_counts(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass^k: the chance that all of k attempts pass.

    From ``n`` attempts of which ``c`` passed: ``C(c, k) / C(n, k)`` (Yao et al. 2024,
    "tau-bench"); a measure of reliability where pass@k measures capability.

    :param n: the number of attempts.
    :param c: how many passed.
    :param k: the number of attempts that must all pass, ``1 <= k <= n``.
    :returns: the estimate in ``[0, 1]``.
    :raises ValueError: inconsistent counts.
    """
    _check_counts(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


# -- argument checks ----------------------------------------------------------------------------


def _checked(diffs: Sequence[float]) -> list[float]:
    data = [float(d) for d in diffs]
    if not data:
        raise ValueError("at least one difference is needed")
    if any(math.isnan(d) or math.isinf(d) for d in data):
        raise ValueError("the differences must be finite numbers")
    return data


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")


def _check_counts(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
