"""Issue 10: target errors, several scorers, 0/1 power and intervals that agree with the test."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import pytest

from pytest_datasetrun.analysis.compare import compare_runs
from pytest_datasetrun.analysis.correction import adjust_p_values
from pytest_datasetrun.analysis.gates import evaluate_gates, parse_gates
from pytest_datasetrun.analysis.power import (
    Discordance,
    mcnemar_exact_p,
    mcnemar_interval,
    mcnemar_mde,
    mcnemar_power,
)
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import DatasetInfo, RunRecord, ScorerInfo, aggregate_scores
from pytest_datasetrun.report.comparison import render_comparison

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def item(item_id: str, status: str = "passed", **scores: float | str) -> ItemResult:
    """Scores are values, or a string for an errored scorer."""
    results = [
        ScorerResult(id=sid, name=sid, error=value) if isinstance(value, str)
        else ScorerResult(id=sid, name=sid, value=value)
        for sid, value in scores.items()
    ]  # fmt: skip
    return ItemResult(item_id=item_id, status=status, scores=results)  # type: ignore[arg-type]


def run(run_id: str, items: list[ItemResult]) -> RunRecord:
    scorers = list(dict.fromkeys(s.id for i in items for s in i.scores))
    return RunRecord(
        run_id=run_id, name=run_id, started_at=T0, finished_at=T0, duration_s=1.0, items=items,
        datasets=[DatasetInfo(path="qa.json", name="qa", sha256="ab" * 32, total=len(items))],
        scorers=[ScorerInfo(id=sid, name=sid) for sid in scorers],
    )  # fmt: skip


def exact_run(run_id: str, values: list[float]) -> RunRecord:
    return run(run_id, [item(f"q{i:03d}", exact=v) for i, v in enumerate(values)])


def only(comparison: Any, scorer: str = "exact") -> Any:
    return next(s for s in comparison.scorers if s.id == scorer)


def crashed(item_id: str) -> ItemResult:
    """A row whose target raised: no scores at all."""
    return ItemResult(item_id=item_id, status="errored", error="TimeoutError: too slow")


# -- 10.2 target errors count as 0, scorer errors stay errored ----------------------------------


def test_a_candidate_that_times_out_where_the_base_passed_regresses() -> None:
    base = exact_run("b", [1.0] * 30)
    cand = run("c", [item(f"q{i:03d}", exact=1.0) for i in range(20)] + [
        crashed(f"q{i:03d}") for i in range(20, 30)
    ])  # fmt: skip
    s = only(compare_runs(base, cand))
    assert (s.n, s.cand_target_errors, s.cand_errors) == (30, 10, 0)
    assert s.cand_mean == pytest.approx(20 / 30) and s.regression
    assert "target errors (counted as 0): 0 base, 10 candidate" in s.note
    text = render_comparison(compare_runs(base, cand))
    assert text.splitlines()[-1] == (
        "result: REGRESSION in exact (target-errored rows counted as 0: 0 base, 10 candidate)"
    )
    # Opting out leaves them out, as before, and says so.
    s = only(compare_runs(base, cand, target_errors="exclude"))
    assert (s.n, s.cand_target_errors, s.regression) == (20, 10, False)
    assert "target errors (left out): 0 base, 10 candidate" in s.note


def test_a_scorer_error_is_never_a_zero() -> None:
    base = exact_run("b", [1.0] * 10)
    cand = run("c", [item(f"q{i:03d}", exact="judge broke") for i in range(10)])
    s = only(compare_runs(base, cand))
    assert (s.n, s.cand_errors, s.cand_target_errors, s.regression) == (0, 10, 0, False)


def test_fail_under_counts_target_errors_as_zero_and_leaves_scorer_errors_out() -> None:
    items = [item("a", exact=1.0), item("b", exact=1.0), crashed("c"), item("d", exact="boom")]
    record = run("r", items)
    record.aggregates = aggregate_scores(record.items, record.scorers)
    (gate,) = evaluate_gates(record, parse_gates(["exact=0.7"]))
    assert gate.value == pytest.approx(2 / 3) and not gate.passed
    assert gate.detail == "over 3 items (1 target errors counted as 0, 1 scorer errors left out)"
    agg = record.aggregates["exact"]
    assert (agg.n, agg.errors, agg.target_errors, agg.mean) == (3, 1, 1, pytest.approx(2 / 3))
    record.options["target_errors"] = "exclude"
    record.aggregates = aggregate_scores(record.items, record.scorers, "exclude")
    (gate,) = evaluate_gates(record, parse_gates(["exact=0.7"]))
    assert gate.value == 1.0 and gate.passed
    assert gate.detail == "over 2 items (1 target errors left out, 1 scorer errors left out)"


def test_pass_rate_puts_errored_rows_in_the_denominator() -> None:
    scores = [ScorerResult(id="exact", name="exact", value=1.0, passed=True, threshold=1.0)]
    items = [
        ItemResult(item_id="a", scores=scores),
        crashed("b"),
        ItemResult(item_id="c", status="errored", scores=[
            ScorerResult(id="exact", name="exact", error="boom", threshold=1.0)
        ]),
    ]  # fmt: skip
    record = run("r", items)
    record.scorers[0].threshold = 1.0
    agg = aggregate_scores(items, record.scorers)["exact"]
    assert (agg.passed, agg.failed, agg.errors, agg.target_errors) == (1, 1, 1, 1)
    assert agg.pass_rate == pytest.approx(1 / 3)
    assert aggregate_scores(items, record.scorers, "exclude")["exact"].pass_rate == 1 / 3
    assert record.counts.model_dump()["pass_rate"] is None  # counts not set on a bare record


def test_aggregate_stdev_is_the_sample_stdev() -> None:
    record = run("r", [item("a", x=0.0), item("b", x=1.0)])
    assert aggregate_scores(record.items, record.scorers)["x"].stdev == pytest.approx(0.5**0.5)


# -- 10.3 Holm across the scorers of one comparison ---------------------------------------------


def test_holm_adjusted_p_values() -> None:
    # statsmodels.stats.multitest.multipletests(p, method="holm") gives the same values.
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.005, None])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02, None])
    assert adjust_p_values([0.01, 0.04], "none") == [0.01, 0.04]
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values([0.1], "bonferroni")


def _two_scorers(drops: int) -> tuple[object, object]:
    """40 rows, two 0/1 scorers that each lose ``drops`` passes (and gain none)."""
    base = run("b", [item(f"q{i:03d}", a=1.0, b=1.0) for i in range(40)])
    cand = run("c", [
        item(f"q{i:03d}", a=0.0 if i < drops else 1.0, b=0.0 if i >= 40 - drops else 1.0)
        for i in range(40)
    ])  # fmt: skip
    return base, cand


def test_holm_keeps_a_borderline_pair_of_drops_from_failing_the_run() -> None:
    base, cand = _two_scorers(6)  # p = 2 / 2**6 = 0.03125 for each scorer
    c = compare_runs(base, cand)
    assert c.correction == "holm" and not c.regressed
    a = only(c, "a")
    assert (a.p_value, a.p_adjusted, a.significant) == (0.03125, 0.0625, False)
    assert "Holm-corrected over 2 scorers: p 0.0625" in a.note
    assert "p 0.03125 alone would be below 0.05" in a.note
    assert not a.ci_agrees  # the uncorrected interval excludes 0: flagged, the test decides
    text = render_comparison(c)
    assert "significance 0.05, Holm-corrected over 2 scorers" in text
    assert "p (Holm)" in text.splitlines()[4] and "*: this interval and the verdict" in text
    assert text.splitlines()[-1] == "result: no regression (Holm-corrected)"
    c = compare_runs(base, cand, correction="none")
    assert c.regressed and only(c, "a").p_adjusted == 0.03125 and only(c, "a").ci_agrees


def test_holm_controls_the_family_wise_error_of_five_null_scorers() -> None:
    rng = random.Random(10)
    flagged = {"holm": 0, "none": 0}
    for _trial in range(100):
        rows = []
        for i in range(30):
            rows.append(
                (i, {f"s{k}": float(rng.random() < 0.5) for k in range(5)},
                 {f"s{k}": float(rng.random() < 0.5) for k in range(5)})
            )  # fmt: skip
        base = run("b", [item(f"q{i:03d}", **b) for i, b, _ in rows])
        cand = run("c", [item(f"q{i:03d}", **c) for i, _, c in rows])
        for method in flagged:
            c = compare_runs(base, cand, correction=method)
            flagged[method] += any(s.significant for s in c.scorers)
    assert flagged["holm"] / 100 <= 0.06 < flagged["none"] / 100


# -- 10.4 honest MDE for 0/1 scores --------------------------------------------------------------


def test_four_changed_rows_in_sixty_are_too_small_to_tell() -> None:
    base = exact_run("b", [1.0] * 60)
    values = [1.0] * 60
    values[0] = values[1] = values[2] = values[3] = 0.0
    s = only(compare_runs(base, exact_run("c", values)))
    assert s.test == "exact McNemar" and s.informative == 4
    assert s.p_value == 0.125 and s.too_small
    assert s.note == "too small to tell: 4 discordant pairs can never reach p < 0.05"


@pytest.mark.parametrize("n", [20, 60, 200])
@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_the_stated_mde_is_detected_at_80_percent_power(n: int, noise: float) -> None:
    """Simulate pairs with the stated MDE as the true change: >= 78 % are significant."""
    flips = round(noise * n / 2)
    mde = mcnemar_mde(Discordance(n, flips, flips), 0.05)
    assert mde < 1.0
    p_worse, p_better = flips / n + mde, flips / n
    assert mcnemar_power(n, p_worse, p_better, 0.05) >= 0.8
    rng = random.Random(n * 1000 + flips)
    trials, detected = 4000, 0
    for _ in range(trials):
        worse = better = 0
        for _ in range(n):
            u = rng.random()
            worse += u < p_worse
            better += p_worse <= u < p_worse + p_better
        detected += mcnemar_exact_p(worse, better) < 0.05
    assert detected / trials >= 0.78


def test_the_mde_uses_the_discordant_pairs_not_the_normal_formula() -> None:
    values = [1.0] * 60
    values[:4] = [0.0, 0.0, 0.0, 0.0]
    cand = [1.0] * 60
    cand[2:6] = [0.0] * 4  # 2 worse, 2 better, 56 unchanged: noise 4/60
    s = only(compare_runs(exact_run("b", values), exact_run("c", cand)))
    assert s.informative == 4 and s.mde == pytest.approx(0.1823, abs=1e-3)
    assert s.mde > 0.091  # the normal formula's 2.8 * sd / sqrt(n) was optimistic


# -- 10.5 the interval never contradicts the test ------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_exact_interval_excludes_zero_exactly_when_p_is_significant(alpha: float) -> None:
    """Every split of 1..55 discordant pairs (the other pairs only scale the interval)."""
    for m in range(1, 56):
        for better in range(m + 1):
            low, high = mcnemar_interval(m - better, better, 55, alpha)
            significant = mcnemar_exact_p(m - better, better) < alpha
            assert (low > 0 or high < 0) == significant, (m, better)
            assert low <= (2 * better - m) / 55 <= high


def test_compare_shows_the_interval_of_the_test_for_0_1_scores() -> None:
    rng = random.Random(5)
    for _trial in range(60):
        n = rng.randrange(10, 56)
        base = exact_run("b", [float(rng.random() < 0.7) for _ in range(n)])
        cand = exact_run("c", [float(rng.random() < 0.55) for _ in range(n)])
        s = only(compare_runs(base, cand))
        assert s.ci_agrees and s.ci_method == "exact (inverts the McNemar test)"
        assert (s.ci_low > 0 or s.ci_high < 0) == s.significant


def test_a_bootstrap_interval_that_disagrees_with_the_test_is_labelled() -> None:
    """Non-0/1 scores: the interval is a bootstrap one; when it contradicts the test, it says so."""
    rng = random.Random(3)
    flagged = 0
    for _trial in range(60):
        n = rng.randrange(8, 20)
        before = [rng.random() for _ in range(n)]
        shift = rng.uniform(0.0, 0.4)
        after = [min(1.0, max(0.0, v - shift + rng.gauss(0, 0.3))) for v in before]
        base = run("b", [item(f"q{i:03d}", s=v) for i, v in enumerate(before)])
        cand = run("c", [item(f"q{i:03d}", s=v) for i, v in enumerate(after)])
        c = compare_runs(base, cand)
        s = only(c, "s")
        assert s.test == "sign-flip permutation" and s.ci_method == "BCa bootstrap"
        assert s.ci_agrees == ((s.ci_low > 0 or s.ci_high < 0) == s.significant)
        if not s.ci_agrees:
            flagged += 1
            assert "the bootstrap interval and the test disagree, the test decides" in s.note
            assert "*: this interval and the verdict's test disagree" in render_comparison(c)
    assert flagged  # such cases exist: they are labelled, never silent
