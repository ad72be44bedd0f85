"""The paired test of one scorer: exact McNemar for 0/1 scores, sign-flip permutation otherwise.

:func:`paired_test` returns the p-value, the interval shown beside it and the minimum
detectable effect, chosen so that the interval never contradicts the test: for 0/1 scores the
interval inverts the exact test at level ``1 - significance``; otherwise it is the BCa
bootstrap interval at ``confidence`` and :attr:`PairedTest.ci_agrees` says whether it agrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_datasetrun.analysis import power, stats

__all__ = ("PairedTest", "paired_test", "EXACT_TEST", "PERMUTATION_TEST")

EXACT_TEST = "exact McNemar"
PERMUTATION_TEST = "sign-flip permutation"


@dataclass(frozen=True, slots=True)
class PairedTest:
    """What the test of one scorer's paired differences found.

    :param test: :data:`EXACT_TEST` (0/1 scores) or :data:`PERMUTATION_TEST`.
    :param p_value: the two-sided p-value, before any correction for several scorers.
    :param ci: the interval of the mean difference, or ``None`` with a single pair.
    :param ci_level: its coverage.
    :param ci_method: how it was made.
    :param mde: the minimum detectable effect at 80 % power (``inf``: none is detectable).
    :param informative: the pairs that carry evidence (discordant or non-zero differences).
    :param min_p: the smallest p-value these pairs could ever give.
    """

    test: str
    p_value: float
    ci: tuple[float, float] | None
    ci_level: float
    ci_method: str
    mde: float
    informative: int
    min_p: float


def paired_test(
    base: Sequence[float],
    cand: Sequence[float],
    bootstrap_ci: tuple[float, float] | None,
    *,
    significance: float,
    confidence: float,
    seed: int,
) -> PairedTest:
    """Test one scorer's pairs; ``bootstrap_ci`` is used only for non-0/1 scores."""
    if power.is_binary(base, cand):
        return _exact(power.discordance(base, cand), significance)
    diffs = [c - b for b, c in zip(base, cand, strict=True)]
    nonzero = sum(1 for d in diffs if d != 0.0)
    return PairedTest(
        test=PERMUTATION_TEST,
        p_value=stats.paired_permutation_test(diffs, seed=seed),
        ci=bootstrap_ci,
        ci_level=confidence,
        ci_method="BCa bootstrap",
        mde=stats.minimum_detectable_effect(diffs, alpha=significance),
        informative=nonzero,
        min_p=stats.min_attainable_p(nonzero),
    )


def _exact(d: power.Discordance, significance: float) -> PairedTest:
    return PairedTest(
        test=EXACT_TEST,
        p_value=power.mcnemar_exact_p(d.worse, d.better),
        ci=power.mcnemar_interval(d.worse, d.better, d.n, significance),
        ci_level=1.0 - significance,
        ci_method="exact (inverts the McNemar test)",
        mde=power.mcnemar_mde(d, significance),
        informative=d.discordant,
        min_p=stats.min_attainable_p(d.discordant),
    )


def ci_agrees(test: PairedTest, significance: float) -> bool:
    """Whether the interval excludes 0 exactly when the (uncorrected) p-value is significant."""
    if test.ci is None:
        return True
    excludes = test.ci[0] > 0.0 or test.ci[1] < 0.0
    return excludes == (test.p_value < significance) or math.isclose(test.p_value, significance)
