"""Writing a run that is already in the store again: a failed or cut-short replace loses nothing."""

from __future__ import annotations

import errno
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from tests.store.test_store import make_record
from tinydb import TinyDB

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.runstore import (
    AtomicJSONStorage,
    delete_runs,
    items_path,
    open_store,
    write_run,
)
from pytest_datasetrun.store.writer import _summary

PENDING = ".pending.tmp"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.json"


def _old_and_new() -> tuple[RunRecord, RunRecord]:
    """Two records of one run id: the stored one (2 items) and its replacement (4 items)."""
    old, new = make_record(2), make_record(4)
    new.name = "rescored"
    assert old.run_id == new.run_id
    return old, new


def _items(store: Path, run_id: str) -> list[dict[str, object]]:
    return [item.model_dump() for item in open_store(store).get(run_id).items]


def _files(store: Path) -> dict[str, bytes]:
    """Every file of the store but the lock: its path relative to the store's directory, bytes."""
    return {
        str(path.relative_to(store.parent)): path.read_bytes()
        for path in sorted(store.parent.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def _seed(store: Path, layout: str, old: RunRecord) -> None:
    write_run(store, make_record(1, minute=1, tag="bbbbbb"))  # another run, left alone
    write_run(store, old)
    if layout == "tinydb":  # an index in another layout (written by TinyDB): replaced whole
        store.unlink()
        with TinyDB(store, storage=AtomicJSONStorage) as db:
            for record in (make_record(1, minute=1, tag="bbbbbb"), old):
                db.table("runs").insert(_summary(record))


def _full_disk_at(target: Path, real_replace=os.replace):  # noqa: ANN001, ANN202
    def replace(src: str, dst: str | os.PathLike[str]) -> None:
        if Path(dst) == target:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    return replace


def _failed_replace(
    store: Path, monkeypatch: pytest.MonkeyPatch, layout: str, fault: tuple[str, Any], match: str
) -> RunRecord:
    """Replace :func:`_old_and_new`'s stored run while ``os.<name>`` is ``fake`` (``fault``):
    the write must fail with ``match`` and leave every file of the store byte for byte."""
    old, new = _old_and_new()
    _seed(store, layout, old)
    before, old_items = _files(store), _items(store, old.run_id)
    monkeypatch.setattr(os, *fault)
    with pytest.raises(StoreError, match=match):
        write_run(store, new)
    monkeypatch.undo()
    assert _files(store) == before  # index, old items file: byte for byte; no temp file
    assert _items(store, old.run_id) == old_items
    return new


@pytest.mark.parametrize("layout", ["lined", "tinydb"])
def test_a_failed_index_write_keeps_the_run_being_replaced(
    store: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    fault = ("replace", _full_disk_at(store))
    new = _failed_replace(store, monkeypatch, layout, fault, "No space left on device")
    assert open_store(store).get(new.run_id).name == "nightly"
    write_run(store, new)  # the disk has room again
    assert len(open_store(store).get(new.run_id).items) == 4


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
def test_a_failed_index_fsync_keeps_the_run_being_replaced(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(f".{store.name}."):
            raise OSError(errno.EIO, "simulated fsync error")  # the index's temporary file
        real_fsync(fd)

    _failed_replace(store, monkeypatch, "lined", ("fsync", fsync), "simulated fsync error")


def test_a_failed_items_rename_puts_the_old_index_back(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index names the new run, then the new items file cannot take the old one's place."""
    _, new = _old_and_new()
    fault = ("replace", _full_disk_at(items_path(store, new.run_id)))
    _failed_replace(store, monkeypatch, "lined", fault, "No space left on device")


def _crash_at(store: str, stage: str) -> None:
    """Replace the run of :func:`_old_and_new`, dying (no clean-up) at ``stage``."""
    real_replace = os.replace
    path = Path(store)
    victim = path if stage == "index" else items_path(path, make_record(2).run_id)

    def replace(src: str, dst: str | os.PathLike[str]) -> None:
        if Path(dst) == victim:
            os._exit(0)  # the process is killed: no except or finally block runs
        real_replace(src, dst)

    os.replace = replace  # type: ignore[assignment]
    write_run(path, _old_and_new()[1])
    os._exit(1)  # pragma: no cover - the write reached the stage


@pytest.mark.parametrize("stage", ["index", "items"])
def test_a_replace_cut_short_leaves_a_readable_run(store: Path, stage: str) -> None:
    """Killed before the index is renamed: the store as it was; after it (before the items file
    takes the old one's place): the new summary and the old items, whole. Either way a staged
    file stays behind, which readers never see and the next write removes."""
    old, new = _old_and_new()
    _seed(store, "lined", old)
    before, old_items = _files(store), _items(store, old.run_id)
    child = multiprocessing.get_context("spawn").Process(target=_crash_at, args=(str(store), stage))
    child.start()
    child.join(120)
    assert child.exitcode == 0
    staged = items_path(store, old.run_id).with_name(PENDING)
    assert staged.is_file()
    assert _items(store, old.run_id) == old_items  # the items file was never half-written
    assert open_store(store).get(old.run_id).name == ("nightly" if stage == "index" else "rescored")
    if stage == "index":  # (the index's own temporary file stays too, as it always did)
        assert {k: v for k, v in _files(store).items() if not k.endswith(".tmp")} == before
    assert {run.run_id for run in open_store(store).runs()} == {
        make_record(1, minute=1, tag="bbbbbb").run_id,
        old.run_id,
    }
    write_run(store, make_record(1, minute=2, tag="cccccc"))  # the next write clears it
    assert not staged.exists()
    staged.write_bytes(b"[\n")  # prune (delete_runs) clears it too
    delete_runs(store, [old.run_id])
    assert not staged.exists()
    assert not items_path(store, old.run_id).exists()


def test_a_new_run_with_a_stray_items_file_is_a_replace_of_that_file(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An items file the index does not name (a write killed before its index line) is not
    overwritten or deleted by a failed write either."""
    record = make_record(2)
    write_run(store, make_record(1, minute=1, tag="bbbbbb"))
    stray = items_path(store, record.run_id)
    stray.write_bytes(b"[\n]\n")
    before = _files(store)
    monkeypatch.setattr(os, "replace", _full_disk_at(store))
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", _fail_fsync_of(store))
        with pytest.raises(StoreError):
            write_run(store, record)
    monkeypatch.undo()
    assert _files(store) == before
    write_run(store, record)
    assert len(open_store(store).get(record.run_id).items) == 2


def _fail_fsync_of(path: Path, real_fsync=os.fsync):  # noqa: ANN001, ANN202
    inode = path.stat().st_ino

    def fsync(fd: int) -> None:
        if os.fstat(fd).st_ino == inode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    return fsync


def test_an_append_that_cannot_be_undone_keeps_the_items_file_it_names(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new run's index line was written, its fsync failed and the old end could not be put
    back: readers see the run, so its items file must stay."""
    from pytest_datasetrun.store import index as store_index

    record = make_record(2)
    write_run(store, make_record(1, minute=1, tag="bbbbbb"))
    real_append_at = store_index.append_at

    def append_at(path: Path, offset: int, expected: bytes, data: bytes) -> bool:
        real_append_at(path, offset, expected, data)
        raise OSError(errno.EIO, "simulated fsync error")

    monkeypatch.setattr(store_index, "append_at", append_at)
    with pytest.raises(StoreError, match="simulated fsync error"):
        write_run(store, record)
    monkeypatch.undo()
    assert len(open_store(store).get(record.run_id).items) == 2
