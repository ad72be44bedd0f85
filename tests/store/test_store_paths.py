"""Run ids never become paths outside the store, and one bad index entry hides no other run
(issue 11, items 4 and 10)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_datasetrun.cli import main
from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.runstore import StoreWarning, items_path, open_store, write_run

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def make_record(*, minute: int = 0, tag: str = "aaaaaa") -> RunRecord:
    started = T0 + timedelta(minutes=minute)
    return RunRecord(
        run_id=f"{started:%Y%m%dT%H%M%S}000Z-{tag}",
        name="nightly",
        started_at=started,
        finished_at=started + timedelta(seconds=5),
        duration_s=5.0,
        items=[ItemResult(item_id="q0", input="question", output="answer")],
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.json"


def add_document(store: Path, doc: dict) -> None:
    index = json.loads(store.read_text())
    index["runs"][str(len(index["runs"]) + 1)] = doc
    store.write_text(json.dumps(index))


@pytest.mark.parametrize(
    "run_id", ["../../x", "../x", "/etc/passwd", "a/b", ".hidden", "", "x" * 129, "a\x00b"]
)
def test_unsafe_run_ids_never_become_paths(store: Path, run_id: str) -> None:
    with pytest.raises(StoreError, match="is not a valid run id"):
        items_path(store, run_id)
    record = make_record()
    record.run_id = run_id
    with pytest.raises(StoreError, match="is not a valid run id"):
        write_run(store, record)
    assert not store.parent.exists()


def test_crafted_index_entry_is_not_read_outside_the_store(store: Path, tmp_path: Path, capsys):
    good = make_record()
    write_run(store, good)
    secret = tmp_path / "x.json"  # where ../../x would point from db/runs.items/
    secret.write_text(json.dumps([{"item_id": "stolen", "input": "secret"}]))
    crafted = good.summary() | {"run_id": "../../x", "name": "evil"}
    add_document(store, crafted)
    assert main(["--store", str(store), "show", "evil"]) == 2
    out, err = capsys.readouterr()
    assert "stolen" not in out + err and "secret" not in out
    assert "no run matches 'evil'" in err
    assert "document 2 of table 'runs'" in err and "'../../x' is not a valid run id" in err
    assert main(["--store", str(store), "show", "latest"]) == 0
    assert good.run_id in capsys.readouterr().out


def test_malformed_summary_is_skipped_with_a_warning(store: Path, capsys) -> None:
    first, second = make_record(minute=1), make_record(minute=2, tag="bbbbbb")
    write_run(store, first)
    add_document(store, {"run_id": "20261125T180500000Z-cccccc", "counts": "garbage"})
    write_run(store, second)
    with pytest.warns(StoreWarning, match="document 2 of table 'runs' is not a run summary"):
        assert [run.run_id for run in open_store(store).runs()] == [first.run_id, second.run_id]
    assert main(["--store", str(store), "runs"]) == 0
    out, err = capsys.readouterr()
    assert first.run_id in out and second.run_id in out
    assert "pytest-datasetrun: warning: run store" in err and "document 2" in err
    assert "Traceback" not in err
