"""The index's one-run-per-line layout: stores of every earlier layout keep working."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from tests.store.test_store import make_record
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.runstore import StoreWarning, delete_runs, open_store, write_run


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.json"


def _compact(obj: object) -> bytes:
    try:
        import orjson
    except ImportError:  # orjson is optional (the fast extra)
        return json.dumps(obj, separators=(",", ":")).encode()
    return orjson.dumps(obj)


def _old_layout(store: Path, records: list[RunRecord], style: str) -> None:
    """The store as earlier versions wrote it: full summaries, compact JSON or TinyDB's own."""
    for record in records:
        write_run(store, record)  # the items files
    table = {str(k): record.summary() for k, record in enumerate(records, start=1)}
    if style == "compact":  # what 0.1 wrote (one line: orjson with the fast extra, else json)
        store.write_bytes(_compact({"runs": table}))
    else:  # a store written by TinyDB (json.dumps with its default separators)
        store.unlink()
        with TinyDB(store, storage=JSONStorage) as db:
            for record in records:
                db.table("runs").insert(record.summary())


@pytest.mark.parametrize("style", ["compact", "tinydb"])
def test_a_store_in_an_earlier_layout_reads_and_takes_new_runs(store: Path, style: str) -> None:
    records = [make_record(3, minute=k, tag=f"{k:06x}") for k in range(3)]
    _old_layout(store, records, style)
    reader = open_store(store)
    assert [run.run_id for run in reader.runs()] == [r.run_id for r in records]
    assert reader.get("latest~1") == records[1] and reader.resolve("nightly") == records[2].run_id
    new = make_record(2, minute=9, tag="ffffff")
    write_run(store, new)
    assert store.read_bytes().startswith(b'{"runs":{\n"1":{"run_id":')
    assert [run.run_id for run in open_store(store).runs()] == [
        *(r.run_id for r in records),
        new.run_id,
    ]
    assert open_store(store).get("latest") == new and open_store(store).get(records[0].run_id)


def test_the_index_is_one_line_per_run_that_tinydb_and_json_read(store: Path) -> None:
    records = [make_record(2, minute=k, tag=f"{k:06x}") for k in range(3)]
    for record in records:
        write_run(store, record)
    lines = store.read_bytes().splitlines()
    assert len(lines) == 5 and lines[0] == b'{"runs":{' and lines[-1] == b"}}"
    with TinyDB(store, storage=JSONStorage, access_mode="r") as db:
        docs = db.table("runs").all()
    assert [doc.doc_id for doc in docs] == [1, 2, 3]
    # What earlier versions do with a document: validate it as a RunRecord.
    assert [RunRecord.model_validate(doc) for doc in docs] == [
        r.model_copy(update={"items": []}) for r in records
    ]
    assert set(json.loads(store.read_text())["runs"]) == {"1", "2", "3"}


def test_replacing_and_deleting_runs_keeps_tinydb_ids(store: Path) -> None:
    records = [make_record(2, minute=k, tag=f"{k:06x}") for k in range(3)]
    for record in records:
        write_run(store, record)
    write_run(store, records[1])  # the same id again: it moves to a new last document
    write_run(store, records[2])
    table = json.loads(store.read_text())["runs"]
    assert {k: doc["run_id"] for k, doc in table.items()} == {
        "1": records[0].run_id,
        "4": records[1].run_id,
        "5": records[2].run_id,
    }
    assert delete_runs(store, [records[2].run_id, records[0].run_id]) == 2
    assert [run.run_id for run in open_store(store).runs()] == [records[1].run_id]
    assert json.loads(store.read_text()) == {"runs": {"4": table["4"]}}
    assert delete_runs(store, [records[1].run_id]) == 1 and len(open_store(store)) == 0
    write_run(store, records[0])
    assert list(json.loads(store.read_text())["runs"]) == ["1"]


@pytest.mark.parametrize("name", ['quote " and \\ backslash', "é ünïcode ✓", "line\nbreak", ""])
def test_any_run_name_resolves(store: Path, name: str) -> None:
    record = make_record(1, name=name)
    write_run(store, record)
    write_run(store, make_record(1, minute=1, tag="bbbbbb"))
    assert store.read_bytes().count(b"\n") == 4
    assert open_store(store).get(name, with_items=False).name == name if name else True
    assert open_store(store).get(record.run_id) == record


def test_a_damaged_line_hides_only_its_run(store: Path) -> None:
    records = [make_record(1, minute=k, tag=f"{k:06x}") for k in range(3)]
    for record in records:
        write_run(store, record)
    lines = store.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"duration_s":5.0', b'"duration_s":5.0,,')
    store.write_bytes(b"\n".join(lines))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = open_store(store).runs()
    assert [run.run_id for run in runs] == [records[0].run_id, records[2].run_id]
    assert any(
        issubclass(w.category, StoreWarning) and "document 2" in str(w.message) for w in caught
    )
    assert open_store(store).get("latest") == records[2]


def test_documents_are_the_stored_summaries(store: Path, tmp_path: Path) -> None:
    records = [make_record(2, minute=k, tag=f"{k:06x}") for k in range(2)]
    for record in records:
        write_run(store, record)
    docs = open_store(store).documents()
    assert [doc["run_id"] for doc in docs] == [r.run_id for r in records]
    assert "status" not in docs[0]  # at its default: left out
    assert RunRecord.model_validate(docs[1]) == records[1].model_copy(update={"items": []})
    assert open_store(store).document("latest~1") == docs[0]
    exported = tmp_path / "run.json"
    exported.write_text(records[0].model_dump_json())
    assert open_store(store).document(str(exported)) == records[0].summary()


@pytest.mark.parametrize(
    ("body", "lined"),
    [
        (b"", True),
        (b'"1":{"run_id":"a","name":"n"}', True),
        (b'"1":{"run_id":"a","name":"n"},\n"2":{"run_id":"b","name":"m","x":[1]}', True),
        (b'"1":{"run_id":"a","name":"n"},\n"1":{"run_id":"b","name":"m"}', False),  # same id
        (b'"1":{"run_id":"a","name":"n"}\n"2":{"run_id":"b","name":"m"}', False),  # no comma
        (b'"1":{"run_id":"a","name":"n"},\n{"x":1}', False),  # no lead
        (b'"1":{"name":"n","run_id":"a"}', False),  # the run id does not lead
        (b'"1":{"run_id":"../a","name":"n"}', False),  # not a run id
        (b'"1":{"run_id":"a","name":"n"},\n', False),  # a trailing separator
        (b'"1":{"run_id":"a","name":"n"', False),  # an open document
    ],
)
def test_only_an_index_in_the_line_layout_is_spliced(body: bytes, lined: bool) -> None:
    from pytest_datasetrun.store.lined import is_lined

    assert is_lined(b'{"runs":{\n' + body + b"\n}}\n") is lined
