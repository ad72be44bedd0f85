"""Unit tests of flaky.py, and of the ``flaky`` and ``history`` commands in cli_compare.py."""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_datasetrun.analysis.flaky import flaky_items, group_runs, item_history, step_items
from pytest_datasetrun.cli.compare import register
from pytest_datasetrun.errors import ConfigError, StoreError
from pytest_datasetrun.record.results import ItemResult, RepeatResult, ScorerResult
from pytest_datasetrun.record.run import DatasetInfo, Environment, RunRecord
from pytest_datasetrun.store.runstore import write_run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LETTERS = {"P": "passed", "F": "failed", "E": "errored", "S": "skipped"}


def item(item_id: str, letter: str, repeats: str = "") -> ItemResult:
    status = LETTERS[letter]
    value = 1.0 if letter == "P" else 0.0
    score = ScorerResult(id="exact", name="exact", value=value, passed=value == 1.0)
    return ItemResult(
        item_id=item_id,
        status=status,  # type: ignore[arg-type]
        error="Timeout" if letter == "E" else None,
        scores=[] if letter in "ES" else [score],
        repeats=[RepeatResult(passed=r == "P") for r in repeats],
    )


def run(day: int, verdicts: dict[str, str], dataset: str = "qa", **repeats: str) -> RunRecord:
    """``verdicts``: item id -> P/F/E/S; ``repeats``: item id -> the verdicts of its repeats."""
    return RunRecord(
        run_id=f"2026010{day}T000000000Z-{dataset}",
        name=f"day{day}",
        started_at=T0 + timedelta(days=day),
        finished_at=T0 + timedelta(days=day),
        duration_s=1.0,
        datasets=[DatasetInfo(path=f"data/{dataset}.json", name=dataset, sha256="00", total=3)],
        environment=Environment(git_commit=f"{day:040d}"),
        items=[item(i, v, repeats.get(i, "")) for i, v in verdicts.items()],
    )


@pytest.fixture
def runs() -> list[RunRecord]:
    return [
        run(1, {"stable": "P", "alternating": "P", "late": "P", "skip": "P", "rep": "P"}),
        run(
            2, {"stable": "P", "alternating": "F", "late": "P", "skip": "S", "rep": "P"}, rep="PFP"
        ),
        run(3, {"stable": "P", "alternating": "P", "late": "E", "skip": "P"}),
    ]


def test_flaky_items_rank_by_flip_rate(runs: list[RunRecord]) -> None:
    found = flaky_items(runs)
    assert [(f.item_id, f.flips, f.flip_rate) for f in found] == [
        ("alternating", 2, 1.0),
        ("rep", 0, 0.0),
    ]
    assert found[0].verdicts == ["passed", "failed", "passed"]
    assert found[1].repeat_flaky_runs == ["20260102T000000000Z-qa"]
    (late,) = step_items(runs)  # P P E: changed once and stayed, a step, not flaky (#10)
    assert (late.item_id, late.kind, late.last_verdict, late.runs) == ("late", "step", "errored", 3)
    assert late.changed_in == "20260103T000000000Z-qa"


def test_skipped_runs_are_seen_but_give_no_verdict(runs: list[RunRecord]) -> None:
    assert "skip" not in [f.item_id for f in flaky_items(runs)]
    runs[1].items[3] = item("skip", "F")
    (skip,) = [f for f in flaky_items(runs) if f.item_id == "skip"]
    assert (skip.runs, skip.verdicts) == (3, ["passed", "failed", "passed"])


def test_flaky_items_sorts_runs_by_start_time(runs: list[RunRecord]) -> None:
    assert flaky_items(reversed(runs)) == flaky_items(runs)
    assert flaky_items(runs[:1]) == []


def test_item_history_lists_every_run_with_the_item(runs: list[RunRecord]) -> None:
    history = item_history(runs, "rep")
    assert [(h.name, h.verdict, h.repeats, h.repeats_passed) for h in history] == [
        ("day1", "passed", 0, 0),
        ("day2", "passed", 3, 2),
    ]
    assert history[0].scores == {"exact": 1.0}
    assert history[1].git_commit == f"{2:040d}"
    late = item_history(runs, "late")[-1]
    assert (late.status, late.verdict, late.error, late.scores) == (
        "errored",
        "errored",
        "Timeout",
        {},
    )
    assert item_history(runs, "nope") == []


# -- the flaky and history commands -------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    out = io.StringIO()
    return args.func(args, out=out), out.getvalue()


@pytest.fixture
def store(tmp_path: Path, runs: list[RunRecord]) -> str:
    path = str(tmp_path / "runs.json")
    for record in runs:
        write_run(path, record)
    write_run(path, run(4, {"stable": "F"}, dataset="other"))
    write_run(path, run(5, {"stable": "P"}, dataset="other"))
    return path


def test_flaky_command_groups_by_dataset(store: str) -> None:
    code, out = cli("--store", store, "flaky")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == [
        "item", "dataset", "runs", "flips", "flip", "rate", "repeats", "differ", "verdicts",
        "(oldest", "first)",
    ]  # fmt: skip
    assert [line.split()[:2] for line in lines[1:3]] == [["alternating", "qa"], ["rep", "qa"]]
    assert lines[1].split()[-1] == "PFP"
    assert lines[3] == "verdicts: P passed, F failed, E errored"
    assert lines[4] == (
        "changed once and stayed, not flaky (2): late (qa) P->E in 20260103T000000000Z-qa, "
        "stable (other) F->P in 20260105T000000000Z-other"
    )


def test_flaky_command_filters_limits_and_prints_json(store: str) -> None:
    code, out = cli("--store", store, "flaky", "--dataset", "qa.json", "--limit", "1")
    assert code == 0 and "stable" not in out and "dataset" not in out
    assert "(1 of 2 flaky items shown; --limit 0 shows all)\n" in out
    code, out = cli("--store", store, "flaky", "--dataset", "other", "--json")
    assert [(d["dataset"], d["item_id"], d["flips"], d["kind"]) for d in json.loads(out)] == [
        ("other", "stable", 1, "step")
    ]
    with pytest.raises(ConfigError, match="--limit: -1 is negative"):
        cli("--store", store, "flaky", "--limit", "-1")


def test_flaky_command_without_flaky_items(tmp_path: Path) -> None:
    path = str(tmp_path / "runs.json")
    write_run(path, run(1, {"a": "P"}))
    assert cli("--store", path, "flaky") == (0, "no flaky items in 1 runs\n")


def test_history_command(store: str) -> None:
    code, out = cli("--store", store, "history", "late")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    assert lines[0].split() == ["run", "name", "when", "commit", "verdict", "exact", "error"]
    assert lines[3].split()[-3:] == ["errored", "-", "Timeout"]  # no exact score
    code, out = cli("--store", store, "history", "rep")
    assert out.splitlines()[0].split()[-2:] == ["repeats", "error"]
    assert out.splitlines()[2].endswith("1.00   2/3 passed")
    code, out = cli("--store", store, "history", "stable", "--dataset", "other", "--json")
    assert [(e["name"], e["verdict"]) for e in json.loads(out)] == [
        ("day4", "failed"), ("day5", "passed")
    ]  # fmt: skip


def test_history_of_an_unknown_item_is_an_error(store: str) -> None:
    with pytest.raises(StoreError, match="item 'nope' is in none of the 5 runs searched"):
        cli("--store", store, "history", "nope")


# -- issue 10.6: comparable runs only, steps apart from flapping ---------------------------------


def _target(record: RunRecord, target: str, sha: str = "00", threshold: float = 1.0) -> RunRecord:
    from pytest_datasetrun.record.run import ScorerInfo, TargetInfo

    record.target = TargetInfo(id=target, name=target, kind="function")
    record.datasets[0].sha256 = sha
    record.scorers = [ScorerInfo(id="exact", name="exact", threshold=threshold)]
    return record


def test_two_deterministic_targets_run_alternately_are_not_flaky() -> None:
    records = [
        _target(run(day, {"q": "P" if day % 2 else "F"}), "good" if day % 2 else "bad")
        for day in range(1, 7)
    ]
    assert len(flaky_items(records)) == 1  # mixed together, every row looks flaky
    groups = group_runs(records)
    assert sorted(groups) == ["qa@bad", "qa@good"]
    assert all(flaky_items(g) == [] and step_items(g) == [] for g in groups.values())


def test_runs_are_grouped_by_dataset_content_and_scorer_configuration() -> None:
    records = [
        _target(run(1, {"q": "P"}), "t", sha="aa" * 32),
        _target(run(2, {"q": "F"}), "t", sha="bb" * 32),
        _target(run(3, {"q": "P"}), "t", sha="aa" * 32, threshold=0.5),
        _target(run(4, {"q": "P"}), "t", sha="aa" * 32),
    ]
    groups = group_runs(records)
    assert len(groups) == 3
    assert [len(g) for g in groups.values()] == [2, 1, 1]
    assert all(label.startswith("qa sha256 ") for label in groups)
    assert len({label.split(" scorers ")[-1] for label in groups}) == 2  # two configurations


def test_a_one_time_change_is_a_step_and_flapping_is_flaky() -> None:
    records = [run(d, {"fixed": "FFFPPP"[d - 1], "flaps": "PFPFPF"[d - 1]}) for d in range(1, 7)]
    (flaps,) = flaky_items(records)
    (fixed,) = step_items(records)
    assert (flaps.item_id, flaps.kind, flaps.flips) == ("flaps", "flaky", 5)
    assert (fixed.item_id, fixed.kind, fixed.changed_in) == ("fixed", "step", records[3].run_id)
