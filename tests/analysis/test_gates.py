"""Unit tests of gates.py: parsing the gate options, evaluating them on a run, rendering."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pytest_datasetrun.analysis.gates import (
    GateSpec,
    evaluate_gates,
    item_has_error,
    item_verdict,
    parse_gates,
)
from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import RunRecord, ScorerInfo, aggregate_scores, count_items
from pytest_datasetrun.report.gates import render_gates

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def item(
    item_id: str, status: str = "passed", error: str | None = None, **scores: object
) -> ItemResult:
    results = [
        ScorerResult(id=sid, name=sid, error=value) if isinstance(value, str)
        else ScorerResult(id=sid, name=sid, value=value)
        for sid, value in scores.items()
    ]  # fmt: skip
    return ItemResult(item_id=item_id, status=status, error=error, scores=results)  # type: ignore[arg-type]


def run(items: list[ItemResult], *, aggregate: bool = True) -> RunRecord:
    scorers = [ScorerInfo(id="exact", name="exact_match"), ScorerInfo(id="f1", name="token_f1")]
    return RunRecord(
        run_id="r1", name="r1", started_at=NOW, finished_at=NOW, duration_s=1.0,
        scorers=scorers, items=items, counts=count_items(items),
        aggregates=aggregate_scores(items, scorers) if aggregate else {},
    )  # fmt: skip


@pytest.fixture
def record() -> RunRecord:
    """10 items: exact mean 0.7, f1 mean 0.55 over 9 values (1 errored), 7 passed."""
    items = [item(f"q{i}", exact=1.0, f1=0.6) for i in range(7)]
    items += [item("q7", "failed", exact=0.0, f1=0.5), item("q8", "failed", exact=0.0, f1=0.3)]
    items.append(item("q9", "errored", exact=0.0, f1="ZeroDivisionError"))
    return run(items)


# -- parsing ------------------------------------------------------------------------------------


def test_parse_gates_reads_every_form() -> None:
    spec = parse_gates(["exact=0.8", "f1=0.5, judge=70%"], "0.9", "5")
    assert spec == GateSpec({"exact": 0.8, "f1": 0.5, "judge": 0.7}, 0.9, 5, None)
    assert parse_gates([], 0.75, "2.5%") == GateSpec({}, 0.75, None, 0.025)
    assert parse_gates([], "90%", None).min_pass_rate == 0.9


def test_an_empty_spec_is_false_and_checks_nothing(record: RunRecord) -> None:
    spec = parse_gates()
    assert not spec
    assert parse_gates(max_errors="0")
    assert evaluate_gates(record, spec) == []
    assert render_gates([]) == ""


@pytest.mark.parametrize(
    ("fail_under", "min_pass_rate", "max_errors", "message"),
    [
        (["exact"], None, None, "--fail-under: 'exact' is not of the form SCORER=MIN"),
        (["=0.5"], None, None, "--fail-under: '=0.5' is not of the form"),
        (["exact=high"], None, None, "--fail-under: 'exact=high' is not a number"),
        (["exact=1.5"], None, None, "--fail-under: 'exact=1.5' is out of range"),
        (["exact=nan"], None, None, "--fail-under: 'exact=nan' is not a finite number"),
        (["exact=0.5", "exact=0.6"], None, None, "scorer 'exact' is given twice"),
        ([], "1.2", None, "--min-pass-rate: '1.2' is out of range"),
        ([], "most", None, "--min-pass-rate: 'most' is not a number"),
        ([], "120%", None, "--min-pass-rate: '120%' is out of range; use a value between 0%"),
        ([], None, "-1", "--max-errors: '-1' is negative"),
        ([], None, "a few", "--max-errors: 'a few' is not a whole number or a percentage"),
        ([], None, "150%", "--max-errors: '150%' is out of range"),
    ],
)
def test_parse_gates_names_the_option_and_the_bad_value(
    fail_under: list[str], min_pass_rate: str | None, max_errors: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_gates(fail_under, min_pass_rate, max_errors)
    assert message in str(excinfo.value)


# -- evaluation ---------------------------------------------------------------------------------


def test_fail_under_compares_the_mean_score(record: RunRecord) -> None:
    passing, failing = evaluate_gates(record, parse_gates(["exact=0.7", "f1=0.56"]))
    assert (passing.gate, passing.value, passing.limit, passing.passed) == (
        "mean exact", pytest.approx(0.7), ">= 0.7", True,
    )  # fmt: skip
    assert failing.value == pytest.approx(5.0 / 9)
    assert not failing.passed
    assert failing.detail == "over 9 items (1 scorer errors left out)"


def test_fail_under_finds_a_scorer_by_name(record: RunRecord) -> None:
    (result,) = evaluate_gates(record, parse_gates(["token_f1=0.5"]))
    assert result.passed and result.value == pytest.approx(5.0 / 9)


def test_fail_under_a_scorer_that_did_not_run_fails(record: RunRecord) -> None:
    (result,) = evaluate_gates(record, parse_gates(["judge=0.1"]))
    assert not result.passed and result.value is None
    assert result.detail == "scorer 'judge' did not run (scorers in this run: exact, f1)"


def test_fail_under_a_scorer_whose_every_score_errored_fails() -> None:
    record = run([item("a", "errored", f1="boom", exact=1.0), item("b", "errored", f1="boom")])
    (result,) = evaluate_gates(record, parse_gates(["f1=0.0"]))
    assert not result.passed and result.detail == "no value: all 2 scores errored"


def test_fail_under_tolerates_float_rounding() -> None:
    record = run([item("a", exact=0.0), item("b", exact=0.0), item("c", exact=0.3)])
    assert record.aggregates["exact"].mean < 0.1  # 0.09999999999999999: the rounding at stake
    assert evaluate_gates(record, parse_gates(["exact=0.1"]))[0].passed
    assert not evaluate_gates(record, parse_gates(["exact=0.1001"]))[0].passed


def test_aggregates_are_computed_from_items_when_the_record_has_none(record: RunRecord) -> None:
    bare = run(record.items, aggregate=False)
    assert evaluate_gates(bare, parse_gates(["exact=0.7"]))[0].value == pytest.approx(0.7)


def test_min_pass_rate_is_the_share_of_selected_items_passed(record: RunRecord) -> None:
    (result,) = evaluate_gates(record, parse_gates(min_pass_rate="0.75"))
    assert (result.gate, result.value, result.passed) == ("pass rate", 0.7, False)
    assert result.detail == "7 of 10 items passed (1 errored, counted as not passed)"
    assert evaluate_gates(record, parse_gates(min_pass_rate="70%"))[0].passed


def test_min_pass_rate_of_an_empty_run_fails() -> None:
    (result,) = evaluate_gates(run([]), parse_gates(min_pass_rate=0.0))
    assert not result.passed and result.detail == "no items"


def test_max_errors_counts_target_and_scorer_errors() -> None:
    items = [
        item("ok", exact=1.0),
        item("target", "errored", error="Timeout"),
        item("scorer", "failed", exact="ValueError"),
    ]
    (result,) = evaluate_gates(run(items), parse_gates(max_errors="1"))
    assert (result.value, result.limit, result.passed) == (2, "<= 1", False)
    assert evaluate_gates(run(items), parse_gates(max_errors="2"))[0].passed
    (share,) = evaluate_gates(run(items), parse_gates(max_errors="50%"))
    assert share.value == pytest.approx(2 / 3) and not share.passed and share.limit == "<= 50%"


def test_max_errors_falls_back_to_the_counts_without_items(record: RunRecord) -> None:
    summary = record.model_copy(update={"items": []})
    (result,) = evaluate_gates(summary, parse_gates(max_errors="0"))
    assert result.value == 1 and not result.passed


def test_item_error_and_verdict() -> None:
    assert not item_has_error(item("a", exact=1.0))
    assert item_has_error(item("b", "failed", exact="boom"))
    assert item_has_error(item("c", error="Timeout"))
    assert item_verdict(item("d", "failed", exact="boom")) == "errored"
    assert item_verdict(item("e", "skipped")) is None
    assert item_verdict(item("f", "failed", exact=0.0)) == "failed"


# -- rendering ----------------------------------------------------------------------------------


def test_render_gates_names_each_gate_its_value_and_limit(record: RunRecord) -> None:
    spec = parse_gates(["exact=0.6", "judge=0.5"], "0.5", "5%")
    text = render_gates(evaluate_gates(record, spec), width=120)
    assert text.splitlines() == [
        "quality gate: FAILED (2 of 4 gates)",
        "  PASS  mean exact    0.700  >= 0.6  over 10 items",
        "  FAIL  mean judge        -  >= 0.5  scorer 'judge' did not run (scorers in this run: exact, f1)",
        "  PASS  pass rate     0.700  >= 0.5  7 of 10 items passed (1 errored, counted as not passed)",
        "  FAIL  errors        10.0%  <= 5%   1 of 10 items errored",
    ]


def test_render_gates_all_passed(record: RunRecord) -> None:
    text = render_gates(evaluate_gates(record, parse_gates(max_errors="3")), width=120)
    assert text == "quality gate: passed\n  PASS  errors        1  <= 3  1 of 10 items errored\n"


def test_render_gates_fits_the_width(record: RunRecord) -> None:
    spec = parse_gates(["exact=0.6", "judge=0.5"], "0.5", "5%")
    text = render_gates(evaluate_gates(record, spec), width=60)
    assert text.splitlines() == [
        "quality gate: FAILED (2 of 4 gates)",
        "  PASS  mean exact    0.700  >= 0.6  over 10 items",
        "  FAIL  mean judge        -  >= 0.5  scorer 'judge' did not",
        "                                     run (scorers in this",
        "                                     run: exact, f1)",
        "  PASS  pass rate     0.700  >= 0.5  7 of 10 items passed (1",
        "                                     errored, counted as not",
        "                                     passed)",
        "  FAIL  errors        10.0%  <= 5%   1 of 10 items errored",
    ]
    narrow = render_gates(evaluate_gates(record, spec), width=40).splitlines()
    assert narrow[3:6] == [
        "  FAIL  mean judge        -  >= 0.5",
        "      scorer 'judge' did not run",
        "      (scorers in this run: exact, f1)",
    ]
    assert all(len(line) <= 40 for line in narrow)
    long = evaluate_gates(record, parse_gates(["exact=0.6"]))[0].model_copy(
        update={"gate": "mean " + "an_alias_long_enough_to_overflow_the_line" * 2}
    )
    assert render_gates([long], width=60).splitlines()[1] == (
        "  PASS  mean an_alias_long_…    0.700  >= 0.6  over 10 items"
    )
