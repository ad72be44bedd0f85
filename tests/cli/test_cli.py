"""Tests of the ``pytest-datasetrun`` command line, through ``main([...])`` and one subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_datasetrun.cli import main
from pytest_datasetrun.cli.export import EXPORT_FIELDS
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import (
    DatasetInfo,
    Environment,
    GateResult,
    RunRecord,
    ScorerInfo,
    TargetInfo,
    aggregate_scores,
    count_items,
)
from pytest_datasetrun.report.table import render_table
from pytest_datasetrun.store.runstore import write_run

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
SCORERS = [
    ScorerInfo(id="exact", name="exact", threshold=1.0),
    ScorerInfo(id="judge", name="judge"),
]


def _scores(exact: float | None, judge: float) -> list[ScorerResult]:
    exact_result = (
        ScorerResult(id="exact", name="exact", error="boom in scorer", threshold=1.0)
        if exact is None
        else ScorerResult(id="exact", name="exact", value=exact, passed=exact >= 1.0, threshold=1.0)
    )
    return [exact_result, ScorerResult(id="judge", name="judge", value=judge, reason="looks fine")]


def _items() -> list[ItemResult]:
    return [
        ItemResult(
            item_id="ok", input={"q": "2+2"}, expected="4", output="4", scores=_scores(1.0, 0.9)
        ),
        ItemResult(
            item_id="wrong",
            input={"q": "3+3"},
            expected="6",
            output="7",
            status="failed",
            scores=_scores(0.0, 0.25),
        ),
        ItemResult(
            item_id="crash",
            input={"q": "1/0"},
            expected="x",
            status="errored",
            error="division by zero",
            error_type="ZeroDivisionError",
        ),
        ItemResult(
            item_id="flaky",
            input={"q": "?"},
            expected="y",
            output="y",
            status="errored",
            scores=_scores(None, 0.5),
        ),
    ]


def make_record(minute: int, name: str, dataset: str = "qa") -> RunRecord:
    started = T0 + timedelta(minutes=minute)
    items = _items()
    return RunRecord(
        run_id=f"{started:%Y%m%dT%H%M%S}000Z-{minute:06x}",
        name=name,
        started_at=started,
        finished_at=started + timedelta(seconds=3),
        duration_s=3.0,
        datasets=[
            DatasetInfo(
                path=f"data/{dataset}.json", name=dataset, sha256="ab" * 32, total=4, selected=4
            )
        ],
        target=TargetInfo(id="app:agent", name="agent", kind="function"),
        scorers=SCORERS,
        environment=Environment(git_commit="0123456789abcdef", git_branch="main", git_dirty=True),
        counts=count_items(items),
        aggregates=aggregate_scores(items, SCORERS),
        gates=[GateResult(gate="mean(exact)", value=0.5, limit=">= 0.8", passed=False)],
        items=items,
    )


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("DATASETRUN_STORE", raising=False)
    path = tmp_path / "runs.json"
    for minute, name, dataset in [(0, "base", "qa"), (1, "nightly", "qa"), (2, "nightly", "math")]:
        write_run(path, make_record(minute, name, dataset))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_runs_lists_newest_first_within_100_columns(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--store", str(store), "runs")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["id", "name", "status"]
    assert [line.split()[0][-6:] for line in lines[1:]] == ["000002", "000001", "000000"]
    assert lines[0].split()[-2:] == ["exact", "judge"]
    assert lines[1].split()[-3:] == [
        "1/1/2/0/0",
        "0.33",
        "0.41",
    ]  # the target error counts as 0 (#10)
    assert re.fullmatch(
        r"\d+[dhm] ago|now", lines[1].split("completed")[1].split("math")[0].strip()
    )
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize(
    ("options", "expected"),
    [(["--limit", "1"], ["000002"]), (["--name", "base"], ["000000"]), (["--dataset", "qa"], ["000001", "000000"]),
     (["--dataset", "data/math.json"], ["000002"]), (["--name", "nope"], [])],
)  # fmt: skip
def test_runs_filters(
    store: Path, capsys: pytest.CaptureFixture[str], options: list[str], expected: list[str]
) -> None:
    code, out, _ = run(capsys, "runs", "--store", str(store), "--json", *options)
    assert code == 0
    summaries = json.loads(out)
    assert [s["run_id"][-6:] for s in summaries] == expected
    assert all("items" not in s and s["counts"]["selected"] == 4 for s in summaries)


def test_runs_limit_footer(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--store", str(store), "runs", "--limit", "2")
    assert len(out.splitlines()) == 4 and "(2 of 3 runs shown" in out


def test_store_from_environment_and_missing_store(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATASETRUN_STORE", str(store))
    assert json.loads(run(capsys, "runs", "--json")[1])[0]["name"] == "nightly"
    monkeypatch.setenv("DATASETRUN_STORE", str(tmp_path / "none.json"))
    assert run(capsys, "runs", "--json") == (0, "[]\n", "")


def test_show_prints_header_aggregates_gates_and_items(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--store", str(store), "show", "base")
    assert code == 0
    assert "20261125T180000000Z-000000  base" in out
    assert "git      0123456789ab on main (dirty)" in out
    assert "4 selected: 1 passed, 1 failed, 2 errored" in out
    assert "✗ mean(exact) >= 0.8: 0.50" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert rows["exact"].split()[1:4] == [
        "3",
        "0.33",
        "0.00",
    ]  # n, mean, min: the target error is a 0 (#10)
    assert rows["ok"].split()[1:5] == ["passed", "1.00", "✓", "0.90"]
    assert rows["wrong"].split()[1:4] == ["failed", "0.00", "✗"]
    assert rows["crash"].split()[2:5] == ["-", "-", "ZeroDivisionError:"]
    assert rows["flaky"].split()[2:4] == ["E", "0.50"] and "boom in scorer" in rows["flaky"]


def test_show_failed_keeps_failed_and_errored(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "--store", str(store), "show", "latest", "--failed")
    ids = [
        line.split()[0]
        for line in out.split("failed and errored items: 3 of 4\n")[1].splitlines()[1:]
    ]
    assert ids == ["wrong", "crash", "flaky"]


def test_show_json_is_the_whole_record(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--store", str(store), "show", "latest~1", "--json")
    record = RunRecord.model_validate_json(out)
    assert record == make_record(1, "nightly")


def test_show_uses_ascii_marks_when_stdout_cannot_encode(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="ascii"))
    assert main(["--store", str(store), "show", "base"]) == 0
    sys.stdout.flush()
    text = buffer.getvalue().decode("ascii")
    assert "1.00 ok" in text and "0.00 x" in text


def test_export_jsonl_has_one_row_per_item_and_scorer(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--store", str(store), "export", "base", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 7  # 3 scored items x 2 scorers + 1 errored target
    assert all(tuple(row) == EXPORT_FIELDS for row in rows)
    crash = [row for row in rows if row["item_id"] == "crash"]
    assert crash == [
        {"run_id": "20261125T180000000Z-000000", "item_id": "crash", "status": "errored", "input": {"q": "1/0"},
         "expected": "x", "output": None, "scorer_id": None, "value": None, "passed": None, "threshold": None,
         "reason": None, "error": "division by zero"}
    ]  # fmt: skip
    flaky_exact = next(r for r in rows if r["item_id"] == "flaky" and r["scorer_id"] == "exact")
    assert flaky_exact["error"] == "boom in scorer" and flaky_exact["value"] is None


def test_export_csv_json_encodes_values(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "base.csv"
    target.parent.mkdir()
    assert (
        run(capsys, "--store", str(store), "export", "base", "--format", "csv", "-o", str(target))[
            0
        ]
        == 0
    )
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7 and tuple(rows[0]) == EXPORT_FIELDS
    assert json.loads(rows[0]["input"]) == {"q": "2+2"} and json.loads(rows[0]["output"]) == "4"
    assert (rows[0]["passed"], rows[1]["passed"], rows[2]["passed"]) == ("true", "", "false")
    assert rows[4]["scorer_id"] == "" and rows[4]["error"] == "division by zero"


def test_export_json_round_trips_as_a_run_file(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "baseline.json"
    assert (
        run(
            capsys,
            "--store",
            str(store),
            "export",
            "nightly",
            "--format",
            "json",
            "-o",
            str(exported),
        )[0]
        == 0
    )
    assert RunRecord.model_validate_json(exported.read_text()) == make_record(2, "nightly", "math")
    code, out, _ = run(
        capsys, "--store", str(tmp_path / "elsewhere.json"), "show", str(exported), "--json"
    )
    assert code == 0 and json.loads(out) == json.loads(exported.read_text())


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["show", "nightlyy"], "did you mean 'nightly'"), (["show", "2026"], "ambiguous"),
     (["show", "latest~9"], "out of range"), (["export", "base", "-o", "/nonexistent/dir/x.jsonl"], "cannot write")],
)  # fmt: skip
def test_user_errors_exit_2_without_traceback(
    store: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--store", str(store), *argv)
    assert (code, out) == (2, "")
    assert (
        err.startswith("pytest-datasetrun: error: ") and message in err and "Traceback" not in err
    )


def test_missing_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--store", str(tmp_path / "none.json"), "show", "latest")
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize(
    ("argv", "code"), [([], 2), (["export"], 2), (["runs", "--limit", "x"], 2), (["--help"], 0)]
)
def test_usage(capsys: pytest.CaptureFixture[str], argv: list[str], code: int) -> None:
    assert run(capsys, *argv)[0] == code


def test_render_table_truncates_flexible_columns() -> None:
    table = render_table(["id", "text"], [["a", "x" * 80], ["bb", "short"]], width=30)
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 30 and lines[1].endswith("…")
    assert lines[2] == "bb  short"


def test_python_dash_m_runs(store: Path) -> None:
    env = {**os.environ, "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_datasetrun", "--store", str(store), "runs"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "20261125T180200000Z-000002" in proc.stdout
