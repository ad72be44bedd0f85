"""A new run is appended to the index in place; a torn append loses no earlier run (issue 15)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
from tests.store.test_store import crash_syncing, make_record
from tinydb import TinyDB

from pytest_datasetrun.cli import main
from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.lined import put_line
from pytest_datasetrun.store.runstore import (
    AtomicJSONStorage,
    StoreWarning,
    delete_runs,
    items_path,
    open_store,
    write_run,
)
from pytest_datasetrun.store.writer import _summary

TAIL = b"\n}}\n"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.json"


def _records(count: int) -> list[RunRecord]:
    return [make_record(2, minute=k, tag=f"{k:06x}") for k in range(count)]


def _ids(records: list[RunRecord]) -> list[str]:
    return [record.run_id for record in records]


def _read(store: Path) -> tuple[list[str], list[str]]:
    """The run ids the reader gives, and the StoreWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = _ids(open_store(store).runs())
    return ids, [str(w.message) for w in caught if issubclass(w.category, StoreWarning)]


def test_a_new_run_is_appended_in_place(store: Path) -> None:
    records = _records(3)
    write_run(store, records[0])
    inode = store.stat().st_ino
    for record in records[1:]:
        write_run(store, record)
    assert store.stat().st_ino == inode  # no temp file renamed over it
    assert list(json.loads(store.read_bytes())["runs"]) == ["1", "2", "3"]
    with TinyDB(store, storage=AtomicJSONStorage) as db:
        assert [doc["run_id"] for doc in db.table("runs").all()] == _ids(records)


def test_replacing_or_deleting_a_run_replaces_the_file(store: Path) -> None:
    records = _records(3)
    for record in records:
        write_run(store, record)
    inode = store.stat().st_ino
    write_run(store, records[1])  # the same run id again
    assert store.stat().st_ino != inode
    inode = store.stat().st_ino
    delete_runs(store, [records[0].run_id])
    assert store.stat().st_ino != inode
    assert _read(store) == (_ids(records[1:]), [])


def test_an_append_writes_the_bytes_a_whole_rewrite_wrote(store: Path) -> None:
    """Append, then read: the same file and the same records as the atomic replace gave."""
    records = _records(5)
    write_run(store, records[0])
    for k, record in enumerate(records[1:], start=2):
        before = store.read_bytes()
        write_run(store, record)
        assert store.read_bytes() == put_line(before, record.run_id, _summary(record))
        assert open_store(store).runs() == [r.model_copy(update={"items": []}) for r in records[:k]]
        assert open_store(store).get("latest") == record


def _is_json(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def _torn_states(store: Path) -> tuple[list[RunRecord], list[tuple[str, bytes, bool]]]:
    """Three runs, then every state a crash can leave while appending a fourth.

    Each state: its label, the file, and whether the fourth run's line is complete in it.
    """
    records = _records(4)
    for record in records[:3]:
        write_run(store, record)
    old = store.read_bytes()
    write_run(store, records[3])
    new = store.read_bytes()
    start = len(old) - len(TAIL)  # where the append overwrites the tail
    line_end = new.index(TAIL, start)  # the fourth line ends here
    states = []
    for cut in range(start, len(new)):
        done = cut >= line_end
        states.append((f"cut at +{cut - start}", new[:cut] + old[cut:], done))  # tail remnants
        states.append((f"zeros after +{cut - start}", new[:cut] + bytes(64), done))
    states.append(("garbage after the file", new + b"\x00garbage\n}", True))
    return records, states


def test_a_torn_append_loses_no_earlier_run(store: Path) -> None:
    records, states = _torn_states(store)
    for label, content, done in states:
        store.write_bytes(content)
        ids, warned = _read(store)
        assert ids == _ids(records if done else records[:3]), label
        assert all(str(store) in message for message in warned), label
        assert warned or _is_json(content), label
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StoreWarning)  # as checked above
            assert open_store(store).get("latest") == records[3 if done else 2], label
        with TinyDB(store, storage=AtomicJSONStorage) as db:
            assert len(db.table("runs")) == len(ids), label


def test_the_next_write_repairs_a_torn_append(store: Path) -> None:
    records, states = _torn_states(store)
    fifth = make_record(2, minute=9, tag="ffffff")
    for label, content, done in states[::5] + states[-3:]:
        store.write_bytes(content)
        outcome = write_run(store, fifth)
        assert outcome.path == store and outcome.recovered_from is None, label
        table = json.loads(store.read_bytes())["runs"]  # valid JSON again
        expected = [*_ids(records if done else records[:3]), fifth.run_id]
        assert [doc["run_id"] for doc in table.values()] == expected, label
        assert _read(store) == (expected, []), label


def test_the_runs_command_reads_a_torn_store(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records, states = _torn_states(store)
    label, content, _ = next(state for state in states if state[0] == "cut at +100")
    store.write_bytes(content)
    assert main(["--store", str(store), "runs"]) == 0
    out, err = capsys.readouterr()
    assert all(record.run_id in out for record in records[:3]) and records[3].run_id not in out
    assert f"warning: run store {store}" in err and "cut short" in err


def test_damage_a_torn_append_cannot_leave_is_still_an_error(store: Path) -> None:
    from pytest_datasetrun.store.lined import recover_lines

    records = _records(3)
    for record in records:
        write_run(store, record)
    lines = store.read_bytes().split(b"\n")
    lines[1] = lines[1][:-1]  # the separator after the first line is gone: two lines follow
    store.write_bytes(b"\n".join(lines))
    assert recover_lines(store.read_bytes()) is None
    outcome = write_run(store, make_record(1, minute=9, tag="ffffff"))
    assert outcome.recovered_from == store and outcome.path != store  # left untouched


def test_a_failed_append_puts_the_old_tail_back(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(3)
    for record in records[:2]:
        write_run(store, record)
    before = store.read_bytes()
    crash_syncing(monkeypatch, store)
    with pytest.raises(StoreError, match="simulated crash"):
        write_run(store, records[2])
    monkeypatch.undo()
    assert store.read_bytes() == before
    assert not items_path(store, records[2].run_id).exists()
    write_run(store, records[2])
    assert _read(store) == (_ids(records), [])


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
def test_the_items_file_is_synced_before_the_index_line(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(2)
    write_run(store, records[0])
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_run(store, records[1])
    monkeypatch.undo()
    items = str(items_path(store, records[1].run_id).parent)
    index = [k for k, path in enumerate(synced) if path == str(store)]
    assert index, synced  # the index itself is synced: appended in place, not renamed
    assert any(path.startswith(items) for path in synced[: index[0]]), synced
