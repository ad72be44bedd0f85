"""One scorer's paired comparison: its values, test, correction and verdict sentence."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from pytest_datasetrun.analysis import stats
from pytest_datasetrun.analysis.correction import adjust_p_values
from pytest_datasetrun.analysis.paired import PairedTest, ci_agrees, paired_test
from pytest_datasetrun.analysis.pairing import Pairs
from pytest_datasetrun.analysis.power import is_binary

__all__ = ("ScorerComparison", "Settings", "compare_scorers")


class ScorerComparison(BaseModel):
    """One scorer's paired comparison. Means are over the paired items only.

    ``base_errors``/``cand_errors`` count rows where the *scorer* raised (left out of the
    pairs); ``base_target_errors``/``cand_target_errors`` rows whose *target* failed (a 0 in
    the pairs, or left out with ``target_errors="exclude"``). ``p_value`` is the test's own
    p-value, ``p_adjusted`` the one corrected for the scorers of the comparison; ``significant``
    means ``p_adjusted < significance``. The interval ``[ci_low, ci_high]`` has coverage
    ``ci_level`` and is made by ``ci_method``; ``ci_agrees`` is false when it excludes 0 while
    the corrected test is not significant, or the reverse (the test decides).
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    n: int = 0
    base_errors: int = 0
    cand_errors: int = 0
    base_target_errors: int = 0
    cand_target_errors: int = 0
    base_mean: float | None = None
    cand_mean: float | None = None
    diff: float | None = None
    test: str | None = None
    informative: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_method: str | None = None
    ci_agrees: bool = True
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool = False
    max_regression: float = 0.0
    regression: bool = False
    improvement: bool = False
    too_small: bool = False
    mde: float | None = None
    note: str = ""


class Settings(BaseModel):
    """How the scorers of one comparison are tested."""

    significance: float = 0.05
    confidence: float = 0.95
    seed: int = 0
    target_errors: str = "zero"
    correction: str = "holm"


def compare_scorers(
    names: dict[str, str], deltas: dict[str, float], pairs: Pairs, settings: Settings
) -> list[ScorerComparison]:
    """Compare every scorer; the p-values are corrected together (Holm by default)."""
    results, columns = [], []
    for sid, name in names.items():
        result = ScorerComparison(id=sid, name=name, max_regression=deltas[sid])
        columns.append(_paired_values(result, pairs, settings.target_errors))
        results.append(result)
    tests = _tests(columns, settings)
    adjusted = adjust_p_values([t.p_value if t else None for t in tests], settings.correction)
    tested = sum(t is not None for t in tests)
    for result, (base, cand), test, p_adj in zip(results, columns, tests, adjusted, strict=True):
        if result.n:
            _fill(result, base, cand, test, p_adj, settings)
        result.note = _note(result, settings, tested)
    return results


def _paired_values(
    result: ScorerComparison, pairs: Pairs, target_errors: str
) -> tuple[list[float], list[float]]:
    """The scorer's values on the rows where it has one in both runs; counts the errors."""
    paired = pairs.scorer(result.id, target_errors)
    result.base_errors, result.cand_errors = paired.base_errors, paired.cand_errors
    result.base_target_errors = paired.base_target_errors
    result.cand_target_errors = paired.cand_target_errors
    result.n = len(paired.base)
    return paired.base, paired.cand


def _tests(
    columns: list[tuple[list[float], list[float]]], settings: Settings
) -> list[PairedTest | None]:
    diffs = [[c - b for b, c in zip(*column, strict=True)] for column in columns]
    testable = [i for i, d in enumerate(diffs) if len(d) >= 2]
    resampled = [i for i in testable if not is_binary(*columns[i])]  # 0/1: an exact interval
    # Scorers with the same differences on every pair get the same test and interval (the same
    # inputs and seed): each distinct column is resampled once.
    first = {tuple(diffs[i]): i for i in reversed(resampled)}
    intervals = stats.paired_bootstrap_cis(
        [diffs[i] for i in first.values()], settings.confidence, seed=settings.seed
    )
    ci_of: dict[int, tuple[float, float] | None] = dict.fromkeys(testable)
    ci_of.update(zip(first.values(), intervals, strict=True))
    tests: dict[int, PairedTest | None] = {}
    for i in range(len(columns)):
        same = first.get(tuple(diffs[i]), i) if i in resampled else i
        if same in tests:
            tests[i] = tests[same]
        elif i in ci_of:
            tests[i] = paired_test(
                *columns[i], ci_of[same], significance=settings.significance,
                confidence=settings.confidence, seed=settings.seed,
            )  # fmt: skip
        else:
            tests[i] = None
    return [tests[i] for i in range(len(columns))]


def _fill(
    result: ScorerComparison,
    base: list[float],
    cand: list[float],
    test: PairedTest | None,
    p_adjusted: float | None,
    settings: Settings,
) -> None:
    result.base_mean = math.fsum(base) / len(base)
    result.cand_mean = math.fsum(cand) / len(cand)
    result.diff = result.cand_mean - result.base_mean
    if test is None or p_adjusted is None:  # a single pair
        result.too_small = True
        return
    alpha = settings.significance
    result.test, result.informative = test.test, test.informative
    result.p_value, result.p_adjusted, result.mde = test.p_value, p_adjusted, test.mde
    if test.ci is not None:
        result.ci_low, result.ci_high = test.ci
    result.ci_level, result.ci_method = test.ci_level, test.ci_method
    result.significant = p_adjusted < alpha
    result.ci_agrees = ci_agrees(test, alpha) and (test.p_value < alpha) == result.significant
    result.regression = result.significant and -result.diff > result.max_regression
    result.improvement = result.significant and result.diff > 0
    # Too few pairs for any p < alpha, or too few of them changed (4 flips: p >= 0.125).
    cannot_reject = stats.min_attainable_p(result.n) >= alpha or (
        test.informative > 0 and test.min_p >= alpha
    )
    blind_to_delta = result.max_regression > 0 and result.mde > result.max_regression
    result.too_small = not result.significant and (cannot_reject or blind_to_delta)


def _note(result: ScorerComparison, settings: Settings, tested: int) -> str:
    errors = errors_note(result, settings.target_errors)
    if result.n == 0:
        return "no item has a value in both runs" + errors
    if result.n == 1:
        return "only 1 paired item: too small to tell" + errors
    assert result.diff is not None and result.p_adjusted is not None and result.mde is not None
    alpha = settings.significance
    corrected = settings.correction == "holm" and tested > 1
    text = _change(result, alpha)
    if corrected:
        text += f" (Holm-corrected over {tested} scorers: p {result.p_adjusted:.4g})"
        if result.p_value is not None and result.p_value < alpha and not result.significant:
            text += f"; p {result.p_value:.4g} alone would be below {alpha:g}"
    if not result.ci_agrees and result.ci_method and "bootstrap" in result.ci_method:
        text += "; the bootstrap interval and the test disagree, the test decides"
    return text + errors


def _change(result: ScorerComparison, alpha: float) -> str:
    assert result.diff is not None and result.mde is not None
    kind = "discordant pairs" if result.test == "exact McNemar" else "non-zero differences"
    if result.regression:
        allowed = f" (allowed {result.max_regression:g})" if result.max_regression else ""
        return f"significant drop of {-result.diff:.3f}{allowed}"
    if result.significant:
        text = f"significant {'rise' if result.diff > 0 else 'drop'} of {abs(result.diff):.3f}"
        if result.diff < 0:
            text += f", within the allowed {result.max_regression:g}"
        return text
    if result.informative == 0:
        return "identical on every paired item"
    if stats.min_attainable_p(result.informative) >= alpha:
        return f"too small to tell: {result.informative} {kind} can never reach p < {alpha:g}"
    if math.isinf(result.mde):
        return f"no significant change; {result.n} pairs cannot reliably detect any change"
    text = (
        f"no significant change; {result.n} pairs reliably detect changes of "
        f"{result.mde:.3f} or more"
    )
    if result.too_small:
        text += f", so a drop of {result.max_regression:g} is too small to tell"
    return text


def errors_note(result: ScorerComparison, target_errors: str) -> str:
    """How the errored rows entered this scorer's comparison ("" when none did)."""
    parts = []
    if result.base_target_errors or result.cand_target_errors:
        how = "counted as 0" if target_errors == "zero" else "left out"
        parts.append(
            f"target errors ({how}): {result.base_target_errors} base, "
            f"{result.cand_target_errors} candidate"
        )
    if result.base_errors or result.cand_errors:
        parts.append(
            f"scorer errors (left out): {result.base_errors} base, {result.cand_errors} candidate"
        )
    return "; " + "; ".join(parts) if parts else ""
