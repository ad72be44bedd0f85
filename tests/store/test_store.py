"""Unit tests of the run store: layout, atomic writes, locking, recovery and run references."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import RunRecord, ScorerInfo, aggregate_scores, count_items
from pytest_datasetrun.store import files as store_files
from pytest_datasetrun.store import itemsfile
from pytest_datasetrun.store.itemsfile import ItemsWriter, iter_items_file
from pytest_datasetrun.store.runstore import items_path, open_store, write_run

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def make_record(
    n: int = 3, *, minute: int = 0, name: str = "nightly", tag: str = "aaaaaa"
) -> RunRecord:
    """A finished run of ``n`` items scored by 'exact'; run ids sort by ``minute``."""
    started = T0 + timedelta(minutes=minute)
    items = [
        ItemResult(
            item_id=f"q{i}",
            input={"question": f"question {i} é"},
            expected=f"a{i}",
            output=f"a{i}" if i % 2 == 0 else "wrong",
            status="passed" if i % 2 == 0 else "failed",
            scores=[
                ScorerResult(
                    id="exact",
                    name="exact",
                    value=float(i % 2 == 0),
                    passed=i % 2 == 0,
                    threshold=1.0,
                )
            ],
        )
        for i in range(n)
    ]
    scorers = [ScorerInfo(id="exact", name="exact", threshold=1.0)]
    return RunRecord(
        run_id=f"{started:%Y%m%dT%H%M%S}000Z-{tag}",
        name=name,
        started_at=started,
        finished_at=started + timedelta(seconds=5),
        duration_s=5.0,
        scorers=scorers,
        counts=count_items(items),
        aggregates=aggregate_scores(items, scorers),
        items=items,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.json"


def test_round_trip_keeps_items_out_of_the_index(store: Path) -> None:
    record = make_record(5)
    outcome = write_run(store, record)
    assert (outcome.path, outcome.run_id, outcome.recovered_from) == (store, record.run_id, None)
    index = json.loads(store.read_text())
    (doc,) = index["runs"].values()
    assert "items" not in doc and doc["run_id"] == record.run_id
    assert items_path(store, record.run_id) == store.parent / "runs.items" / f"{record.run_id}.json"
    assert len(json.loads(items_path(store, record.run_id).read_text())) == 5
    (summary,) = open_store(store).runs()
    assert summary.items == [] and summary.counts == record.counts
    assert open_store(store).get(record.run_id) == record


def test_values_json_cannot_hold_are_stored_as_their_repr(store: Path) -> None:
    record = make_record(1)
    record.options = {"when": object()}
    record.items[0].output = {"answer": object()}
    write_run(store, record)
    stored = open_store(store).get("latest")
    assert stored.options["when"].startswith("<object object at")
    assert stored.items[0].output["answer"].startswith("<object object at")


def test_runs_are_sorted_by_run_id_and_one_items_file_each(store: Path) -> None:
    for minute in (3, 1, 2):
        write_run(store, make_record(minute=minute))
    runs = open_store(store).runs()
    assert [run.run_id for run in runs] == sorted(run.run_id for run in runs)
    assert len(open_store(store)) == 3
    assert len(list((store.parent / "runs.items").glob("*.json"))) == 3


def test_writing_the_same_run_again_replaces_it(store: Path) -> None:
    write_run(store, make_record(2))
    write_run(store, make_record(4))
    assert len(open_store(store)) == 1
    assert len(open_store(store).get("latest").items) == 4


def _crash_on(monkeypatch: pytest.MonkeyPatch, victim: str) -> None:
    real_replace = os.replace

    def replace(src: str, dst: str | os.PathLike[str]) -> None:
        if Path(dst).name.endswith(victim):
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def crash_syncing(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """``os.fsync`` of ``path`` (a new run is appended to the index in place) fails."""
    inode, real_fsync = path.stat().st_ino, os.fsync

    def fsync(fd: int) -> None:
        if os.fstat(fd).st_ino == inode:
            raise OSError("simulated crash")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("victim", ["runs.json", ".json"], ids=["index", "items"])
def test_crash_mid_write_leaves_the_old_store_intact(
    store: Path, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    write_run(store, make_record(minute=0))
    before = store.read_bytes()
    _crash_on(monkeypatch, victim)
    if victim == "runs.json":
        crash_syncing(monkeypatch, store)
    with pytest.raises(StoreError, match="simulated crash"):
        write_run(store, make_record(minute=1))
    monkeypatch.undo()
    assert store.read_bytes() == before
    assert [run.name for run in open_store(store).runs()] == ["nightly"]
    leftovers = [p for p in store.parent.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def _writer(path: str, worker: int, count: int) -> None:
    for k in range(count):
        write_run(path, make_record(20, minute=k, tag=f"w{worker}k{k:03d}"))


def test_concurrent_writer_processes_lose_no_run(store: Path) -> None:
    # spawn: forking a multi-threaded process (an xdist worker) may deadlock (Python 3.12 warns)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(store), w, 6)) for w in range(4)]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(120)
    assert [proc.exitcode for proc in workers] == [0, 0, 0, 0]
    index = json.loads(store.read_text())
    assert len(index["runs"]) == 24
    runs = open_store(store).runs()
    assert len({run.run_id for run in runs}) == 24
    assert all(len(open_store(store).items(run.run_id)) == 20 for run in runs)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'{"runs": [1]}', b'{"runs": {"1": "x"}}'],
    ids=["not-json", "list", "table-not-object", "doc-not-object"],
)
def test_unreadable_store_is_never_overwritten(store: Path, content: bytes) -> None:
    store.parent.mkdir(parents=True)
    store.write_bytes(content)
    record = make_record()
    outcome = write_run(store, record)
    assert store.read_bytes() == content
    assert outcome.recovered_from == store and outcome.reason
    assert outcome.path == store.with_name(f"runs.recovered-{record.run_id}.json")
    assert open_store(outcome.path).get("latest") == record
    with pytest.raises(StoreError, match="cannot be read"):
        open_store(store).runs()


def test_empty_store_file_counts_as_an_empty_store(store: Path) -> None:
    store.parent.mkdir(parents=True)
    store.write_bytes(b"")
    assert write_run(store, make_record()).recovered_from is None
    assert len(open_store(store)) == 1


def test_lock_timeout_is_a_clear_store_error(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import filelock

    store.parent.mkdir(parents=True)
    monkeypatch.setattr(store_files, "LOCK_TIMEOUT_S", 0.05)
    with filelock.FileLock(f"{store}.lock"), pytest.raises(StoreError, match="is locked"):
        write_run(store, make_record())
    assert not store.exists()


def test_missing_store_reads_as_empty_but_get_says_it_does_not_exist(store: Path) -> None:
    assert open_store(store).runs() == [] and len(open_store(store)) == 0
    with pytest.raises(StoreError, match="does not exist"):
        open_store(store).get("latest")


def test_missing_items_file_is_a_store_error(store: Path) -> None:
    record = make_record()
    write_run(store, record)
    items_path(store, record.run_id).unlink()
    assert open_store(store).get("latest", with_items=False).run_id == record.run_id
    with pytest.raises(StoreError, match="items of run .* are missing"):
        open_store(store).get("latest")


# -- run references -----------------------------------------------------------------------------


@pytest.fixture
def three_runs(store: Path) -> list[RunRecord]:
    records = [
        make_record(minute=0, name="base", tag="aaa111"),
        make_record(minute=1, name="nightly", tag="bbb222"),
        make_record(minute=2, name="nightly", tag="ccc333"),
    ]
    for record in records:
        write_run(store, record)
    return records


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("latest", 2), ("latest~0", 2), ("latest~1", 1), ("latest~2", 0), ("nightly", 2), ("base", 0),
     ("20261125T1801", 1), ("20261125T180200000Z-ccc333", 2)],
)  # fmt: skip
def test_reference_forms(store: Path, three_runs: list[RunRecord], ref: str, expected: int) -> None:
    assert open_store(store).resolve(ref) == three_runs[expected].run_id
    assert open_store(store).get(ref, with_items=False).run_id == three_runs[expected].run_id


def test_latest_out_of_range(store: Path, three_runs: list[RunRecord]) -> None:
    with pytest.raises(
        StoreError, match=r"latest~3 is out of range: .* holds 3 run\(s\).*latest~2"
    ):
        open_store(store).resolve("latest~3")


def test_ambiguous_prefix_lists_the_candidates(store: Path, three_runs: list[RunRecord]) -> None:
    with pytest.raises(StoreError, match="ambiguous") as info:
        open_store(store).resolve("2026")
    assert all(record.run_id in str(info.value) for record in three_runs)


def test_unknown_name_suggests_close_matches(store: Path, three_runs: list[RunRecord]) -> None:
    with pytest.raises(StoreError, match="did you mean 'nightly'"):
        open_store(store).resolve("nigthly")
    with pytest.raises(StoreError, match="known names: 'base', 'nightly'"):
        open_store(store).resolve("zzzz")


def test_a_run_file_is_a_reference(
    store: Path, tmp_path: Path, three_runs: list[RunRecord]
) -> None:
    exported = tmp_path / "baseline.json"
    exported.write_text(three_runs[0].model_dump_json())
    missing_store = open_store(tmp_path / "nowhere.json")
    assert missing_store.get(str(exported)) == three_runs[0]
    assert missing_store.resolve(str(exported)) == three_runs[0].run_id


@pytest.mark.parametrize(
    ("content", "message"), [("{oops", "cannot be read"), ('{"name": 1}', "field 'run_id'")]
)
def test_a_bad_run_file_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(StoreError, match=message):
        open_store(tmp_path / "runs.json").get(str(bad))


def test_empty_store_has_no_latest(store: Path) -> None:
    store.parent.mkdir(parents=True)
    store.write_text("{}")
    with pytest.raises(StoreError, match="no runs yet"):
        open_store(store).resolve("latest")


# -- the items file: one item per line, streamed, orjson optional ------------------------------


@pytest.fixture(params=["orjson", "json"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with orjson (the ``fast`` extra) and with the standard json fallback."""
    if request.param == "json":
        monkeypatch.setattr(itemsfile, "orjson", None)
    else:
        pytest.importorskip("orjson")
    return str(request.param)


def test_items_file_is_a_json_list_with_one_item_per_line(tmp_path: Path, codec: str) -> None:
    store = tmp_path / "runs.json"
    record = make_record(4)
    write_run(store, record)
    path = items_path(store, record.run_id)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 6
    assert json.loads(path.read_text(encoding="utf-8")) == [
        item.model_dump(mode="json") for item in record.items
    ]
    assert open_store(store).get(record.run_id) == record
    assert json.loads(store.read_text(encoding="utf-8"))["runs"]["1"]["run_id"] == record.run_id


def test_items_written_by_earlier_versions_on_one_line_are_read(tmp_path: Path) -> None:
    store = tmp_path / "runs.json"
    record = make_record(3)
    write_run(store, record)
    path = items_path(store, record.run_id)
    path.write_text(json.dumps([i.model_dump(mode="json") for i in record.items]), "utf-8")
    assert open_store(store).items(record.run_id) == record.items


def test_an_empty_run_has_an_empty_list(tmp_path: Path, codec: str) -> None:
    store = tmp_path / "runs.json"
    record = make_record(0)
    write_run(store, record)
    assert json.loads(items_path(store, record.run_id).read_text()) == []
    assert open_store(store).get("latest").items == []


def test_payloads_and_an_items_writer_are_written_as_given(tmp_path: Path, codec: str) -> None:
    store = tmp_path / "runs.json"
    record = make_record(3)
    payloads = [item.model_dump_json() for item in record.items]
    write_run(store, record.model_copy(update={"items": []}), payloads)
    assert open_store(store).items(record.run_id) == record.items
    writer = ItemsWriter(items_path(store, "streamed"))
    for payload in payloads:
        writer.append(payload.encode())
    second = record.model_copy(update={"run_id": record.run_id + "x", "items": []})
    write_run(store, second, writer)
    assert open_store(store).items(second.run_id) == record.items
    assert not list(items_path(store, "x").parent.glob(".*.tmp"))


def test_a_discarded_writer_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), ItemsWriter(tmp_path / "items" / "run.json") as writer:
        writer.append(b'{"item_id": "a"}')
        raise RuntimeError("interrupted")
    assert list((tmp_path / "items").iterdir()) == []


def test_a_write_reads_the_index_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "runs.json"
    write_run(store, make_record(2, minute=1))
    reads = []
    original = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        reads.extend([path] if path == store else [])
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    write_run(store, make_record(2, minute=2))
    assert len(reads) == 1
    monkeypatch.undo()
    assert len(open_store(store)) == 2


def test_a_broken_line_is_a_store_error_naming_the_file(tmp_path: Path, codec: str) -> None:
    store = tmp_path / "runs.json"
    record = make_record(2)
    write_run(store, record)
    path = items_path(store, record.run_id)
    path.write_text(path.read_text().replace('"q1"', '"q1'), "utf-8")
    with pytest.raises(StoreError, match=f"cannot be read from {path}"):
        open_store(store).items(record.run_id)
    assert next(iter_items_file(path))["item_id"] == "q0"  # the lines before it still stream
