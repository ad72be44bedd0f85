"""Unit tests of compare.py, and of the ``compare`` command in cli_compare.py."""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from pytest_datasetrun.analysis.compare import (
    Comparison,
    compare_runs,
    parse_max_regression,
)
from pytest_datasetrun.cli.compare import register
from pytest_datasetrun.errors import ConfigError, StoreError
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import DatasetInfo, RunRecord, ScorerInfo
from pytest_datasetrun.report.comparison import render_comparison
from pytest_datasetrun.store.runstore import write_run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SHA = "ab" * 32

Scores = dict[str, float | str | None]


def item(item_id: str, status: str = "passed", **scores: float | str) -> ItemResult:
    """Scores are values, or a string for an errored scorer."""
    results = [
        ScorerResult(id=sid, name=sid, error=value) if isinstance(value, str)
        else ScorerResult(id=sid, name=sid, value=value)
        for sid, value in scores.items()
    ]  # fmt: skip
    return ItemResult(item_id=item_id, status=status, scores=results)  # type: ignore[arg-type]


def run(run_id: str, items: list[ItemResult], *, sha: str = SHA, minutes: int = 0) -> RunRecord:
    scorers = list(dict.fromkeys(s.id for i in items for s in i.scores))
    return RunRecord(
        run_id=run_id, name=f"name-{run_id}", started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0, duration_s=1.0, items=items,
        datasets=[DatasetInfo(path="qa.json", name="qa", sha256=sha, total=len(items))],
        scorers=[ScorerInfo(id=sid, name=sid) for sid in scorers],
    )  # fmt: skip


def exact_run(run_id: str, values: list[float], **kwargs: object) -> RunRecord:
    items = [
        item(f"q{i:03d}", "passed" if v >= 1 else "failed", exact=v) for i, v in enumerate(values)
    ]
    return run(run_id, items, **kwargs)  # type: ignore[arg-type]


def only(comparison: Comparison, scorer: str = "exact") -> object:
    return next(s for s in comparison.scorers if s.id == scorer)


# -- per-scorer statistics ----------------------------------------------------------------------


def test_identical_runs_show_no_change() -> None:
    base = exact_run("b", [1.0, 0.0] * 20)
    c = compare_runs(base, exact_run("c", [1.0, 0.0] * 20))
    s = only(c)
    assert (s.n, s.diff, s.p_value, s.ci_low, s.ci_high) == (40, 0.0, 1.0, 0.0, 0.0)
    assert not (s.significant or s.regression or s.too_small or c.regressed)
    assert s.note == "identical on every paired item"
    assert c.newly_failed == c.newly_passed == c.warnings == []


def test_a_clear_drop_is_a_significant_regression() -> None:
    base = exact_run("b", [1.0] * 40)
    cand = exact_run("c", [1.0] * 20 + [0.0] * 20)
    c = compare_runs(base, cand)
    s = only(c)
    assert (s.base_mean, s.cand_mean, s.diff) == (1.0, 0.5, -0.5)
    assert s.p_value < 0.001 and s.significant and s.regression and c.regressed
    assert s.ci_low < -0.3 and s.ci_high < 0
    assert s.note == "significant drop of 0.500"
    assert c.newly_failed == [f"q{i:03d}" for i in range(20, 40)]


def test_a_drop_within_max_regression_is_not_a_regression() -> None:
    """10 of 200 items drop from 1 to 0: a mean drop of 0.05, exact p = 2 / 2**10."""
    base = exact_run("b", [1.0] * 200)
    cand = exact_run("c", [1.0] * 190 + [0.0] * 10)
    assert only(compare_runs(base, cand)).p_value == 2 / 2**10
    tolerant = compare_runs(base, cand, max_regression=0.1)
    assert only(tolerant).significant and not tolerant.regressed
    assert only(tolerant).note == "significant drop of 0.050, within the allowed 0.1"
    assert "  allowed drop (max drop 0.1)\n" in render_comparison(tolerant)
    assert compare_runs(base, cand, max_regression=0.02).regressed


def test_max_regression_per_scorer_by_id_name_and_default() -> None:
    base = run("b", [item(f"q{i}", exact=1.0, f1=1.0) for i in range(100)])
    cand = run("c", [item(f"q{i}", exact=float(i >= 10), f1=float(i >= 10)) for i in range(100)])
    c = compare_runs(base, cand, max_regression={"exact": 0.2, "*": 0.05})
    assert [(s.id, s.max_regression, s.regression) for s in c.scorers] == [
        ("exact", 0.2, False),
        ("f1", 0.05, True),
    ]
    unknown = compare_runs(base, cand, max_regression={"exakt": 0.2})
    assert "max-regression names scorer 'exakt', which is not in both runs" in unknown.warnings


def test_a_significant_rise_is_an_improvement() -> None:
    c = compare_runs(exact_run("b", [0.0] * 30), exact_run("c", [1.0] * 30))
    s = only(c)
    assert s.improvement and not s.regression and not c.regressed
    assert c.newly_passed == [f"q{i:03d}" for i in range(30)]


def test_errored_scores_are_left_out_of_the_pairs_but_counted() -> None:
    base = run("b", [item("a", exact=1.0), item("b", exact="boom"), item("c", exact=1.0)])
    cand = run("c", [item("a", exact=1.0), item("b", exact=0.0), item("c", exact="boom")])
    s = only(compare_runs(base, cand))
    assert (s.n, s.base_errors, s.cand_errors, s.base_mean) == (1, 1, 1, 1.0)
    assert s.too_small and s.p_value is None
    assert (
        s.note
        == "only 1 paired item: too small to tell; scorer errors (left out): 1 base, 1 candidate"
    )


def test_few_pairs_can_never_be_significant() -> None:
    c = compare_runs(exact_run("b", [1.0] * 5), exact_run("c", [0.0] * 5))
    s = only(c)
    assert s.p_value == 2 / 2**5 and not s.significant and s.too_small and not c.regressed
    assert s.note == "too small to tell: 5 discordant pairs can never reach p < 0.05"


def test_too_small_when_the_mde_exceeds_the_allowed_drop() -> None:
    values = [1.0, 0.0] * 15
    cand = [0.0, 1.0, 1.0, 0.0] * 7 + [1.0, 0.0]
    s = only(compare_runs(exact_run("b", values), exact_run("c", cand), max_regression=0.05))
    assert not s.significant and s.mde > 0.05 and s.too_small
    assert s.note.startswith("no significant change; 30 pairs reliably detect changes of ")
    assert s.note.endswith(", so a drop of 0.05 is too small to tell")


def test_comparison_is_deterministic_and_json_safe() -> None:
    base = exact_run("b", [1.0, 0.5, 0.0, 0.25] * 50)
    cand = exact_run("c", [1.0, 0.0, 0.0, 0.75] * 50)
    first, again = compare_runs(base, cand, seed=3), compare_runs(base, cand, seed=3)
    assert first == again
    dumped = json.loads(json.dumps(first.model_dump(mode="json")))
    assert dumped["regressed"] is first.regressed
    assert Comparison.model_validate(dumped) == first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"significance": 0.0}, "significance must be between 0 and 1"),
        ({"confidence": 1.5}, "confidence must be between 0 and 1"),
        ({"max_regression": -0.1}, "delta must be between 0 and 1"),
        ({"max_regression": {"exact": 2.0}}, "delta must be between 0 and 1"),
    ],
)
def test_compare_runs_rejects_bad_settings(kwargs: dict[str, object], message: str) -> None:
    base = exact_run("b", [1.0])
    with pytest.raises(ConfigError, match=message):
        compare_runs(base, base, **kwargs)  # type: ignore[arg-type]


# -- items and warnings -------------------------------------------------------------------------


def test_item_flips_errors_and_membership() -> None:
    base = run("b", [
        item("pf", "passed", exact=1.0), item("fp", "failed", exact=0.0),
        item("new-error", "passed", exact=1.0), item("fixed", "errored", exact="boom"),
        item("gone", "passed", exact=1.0), item("stable", "failed", exact=0.0),
        item("skip", "skipped"),
    ])  # fmt: skip
    cand = run("c", [
        item("pf", "failed", exact=0.0), item("fp", "passed", exact=1.0),
        item("new-error", "failed", exact="boom"), item("fixed", "passed", exact=1.0),
        item("added", "passed", exact=1.0), item("stable", "failed", exact=0.0),
        item("skip", "passed", exact=1.0),
    ])  # fmt: skip
    c = compare_runs(base, cand)
    assert (c.newly_failed, c.newly_passed) == (["pf"], ["fp"])
    assert (c.new_errors, c.fixed_errors) == (["new-error"], ["fixed"])
    assert (c.removed, c.added, c.shared) == (["gone"], ["added"], 6)
    text = render_comparison(c)
    assert "only in base (1): gone\nonly in candidate (1): added\n" in text
    assert "new errors (1): new-error\nfixed errors (1): fixed\n" in text


def test_warnings_for_changed_dataset_partial_runs_and_unshared_scorers() -> None:
    base = run("b", [item("a", exact=1.0, f1=0.5)])
    cand = run("c", [item("z", exact=1.0, judge=0.5)], sha="cd" * 32)
    cand.status = "partial"
    c = compare_runs(base, cand)
    assert c.warnings == [
        "the runs used different dataset files (qa sha256 abababababab vs qa sha256 "
        "cdcdcdcdcdcd): items are paired by id, and a row may have changed",
        "the candidate run c is partial (interrupted)",
        "no item id is in both runs: nothing to compare",
        "scorer 'f1' ran only in the base run: not compared",
        "scorer 'judge' ran only in the candidate run: not compared",
    ]
    assert [s.id for s in c.scorers] == ["exact"]
    assert only(c).note == "no item has a value in both runs"


# -- parsing and rendering ----------------------------------------------------------------------


def test_parse_max_regression_forms() -> None:
    assert parse_max_regression([]) is None
    assert parse_max_regression(["0.05"]) == 0.05
    assert parse_max_regression(["exact=0.1", "f1=0.02"]) == {"exact": 0.1, "f1": 0.02}
    assert parse_max_regression("exact=0.1, 0.03") == {"exact": 0.1, "*": 0.03}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["lots"], "--max-regression: 'lots' is not SCORER=DELTA or DELTA"),
        (["exact="], "--max-regression: 'exact=' is not SCORER=DELTA"),
        (["=0.1"], "--max-regression: '=0.1' names no scorer"),
        (["exact=1.5"], "--max-regression: 'exact=1.5' is out of range"),
        (["-0.1"], "--max-regression: '-0.1' is out of range"),
        (["exact=0.1", "exact=0.2"], "scorer 'exact' is given twice"),
        (["0.1", "0.2"], "a bare DELTA is given twice"),
    ],
)
def test_parse_max_regression_names_the_bad_value(values: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_max_regression(values)
    assert message in str(excinfo.value)


def test_render_comparison_shows_the_table_flips_and_verdict() -> None:
    base = exact_run("b", [1.0] * 40)
    cand = exact_run("c", [1.0] * 25 + [0.0] * 15, sha="cd" * 32)
    text = render_comparison(compare_runs(base, cand, max_regression=0.1))
    lines = text.splitlines()
    assert lines[:3] == [
        "base      b  name-b",
        "candidate c  name-c",
        "40 shared items, 0 only in base, 0 only in candidate; significance 0.05, one scorer tested",
    ]
    assert lines[4].split() == ["scorer", "n", "base", "cand", "diff", "CI", "p", "verdict"]
    assert lines[5].startswith("exact   40  1.000  0.625  -0.375  [")
    assert lines[5].endswith("<0.0001  REGRESSION (max drop 0.1)")
    assert (
        "passed -> failed (15): q025, q026, q027, q028, q029, q030, q031, q032, q033, q034 (+5 more)"
        in lines
    )
    assert lines[-2].startswith("warning: the runs used different dataset files")
    assert lines[-1] == "result: REGRESSION in exact"


def test_render_comparison_without_regression() -> None:
    base = exact_run("b", [1.0, 0.0] * 10)
    text = render_comparison(compare_runs(base, base))
    assert text.splitlines()[5].endswith("1.0000  identical")
    assert text.endswith("result: no regression\n")


# -- the compare command ------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    out = io.StringIO()
    return args.func(args, out=out), out.getvalue()


@pytest.fixture
def store(tmp_path: object) -> str:
    path = str(tmp_path / "runs.json")  # type: ignore[operator]
    write_run(path, exact_run("20260101T000000000Z-aaaaaa", [1.0] * 40))
    write_run(path, exact_run("20260102T000000000Z-bbbbbb", [1.0] * 20 + [0.0] * 20, minutes=1))
    write_run(path, exact_run("20260103T000000000Z-cccccc", [1.0] * 40, minutes=2))
    return path


def test_compare_command_exits_1_on_a_regression(store: str) -> None:
    code, out = cli("--store", store, "compare", "20260101", "20260102")
    assert code == 1
    assert out.endswith("result: REGRESSION in exact\n")
    code, out = cli("--store", store, "compare", "latest~2", "latest", "--max-regression", "0.1")
    assert (code, out.splitlines()[-1]) == (0, "result: no regression")


def test_compare_command_json_and_options(store: str) -> None:
    code, out = cli(
        "--store", store, "compare", "name-20260101T000000000Z-aaaaaa", "latest~1",
        "--json", "--max-regression", "exact=0.6", "--significance", "0.01", "--seed", "4",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 0 and data["regressed"] is False
    assert (data["significance"], data["seed"], data["scorers"][0]["max_regression"]) == (
        0.01,
        4,
        0.6,
    )


def test_compare_command_reports_bad_refs_and_values(store: str) -> None:
    with pytest.raises(StoreError):
        cli("--store", store, "compare", "nope", "latest")
    with pytest.raises(ConfigError, match="'x=y'"):
        cli("--store", store, "compare", "latest", "latest", "--max-regression", "x=y")


def test_repeated_item_ids_are_warned_about_and_the_last_one_is_used() -> None:
    base = run("b", [item("a", exact=1.0), item("a", exact=0.0), item("b", exact=1.0)])
    c = compare_runs(base, run("c", [item("a", exact=0.0), item("b", exact=1.0)]))
    assert c.warnings == [
        "the base run repeats item ids (1 duplicates); the last item with each id is compared"
    ]
    assert (c.shared, only(c).diff) == (2, 0.0)


def test_thousands_of_pairs() -> None:
    values = [1.0, 0.0, 0.5, 0.25, 0.75] * 400
    c = compare_runs(exact_run("b", values), exact_run("c", values[1:] + values[:1]))
    assert only(c).n == 2000 and only(c).p_value == 1.0  # same values, shuffled: no change
