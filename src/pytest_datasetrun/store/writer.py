"""Writing to the run store: add or replace a run, delete runs, all under the store lock."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import PydanticSerializationError

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.files import atomic_write, file_mode, locked, make_dirs
from pytest_datasetrun.store.index import (
    IndexFile,
    check_run_id,
    clear_leftovers,
    index_run,
    items_path,
    lists_run,
    pending_path,
    read_index,
    remove_runs,
)
from pytest_datasetrun.store.itemsfile import ItemsWriter, fsync_dir

__all__ = ("WriteOutcome", "delete_runs", "write_run")

_ITEM = TypeAdapter(ItemResult)


@dataclass(frozen=True)
class WriteOutcome:
    """Where :func:`write_run` put a run.

    :param path: the store actually written (the recovered store when the main one was broken).
    :param run_id: the run's id.
    :param recovered_from: the unreadable store that was left untouched, or ``None``.
    :param reason: why that store could not be read (empty when it could).
    """

    path: Path
    run_id: str
    recovered_from: Path | None = None
    reason: str = ""


def write_run(
    path: str | os.PathLike[str],
    record: RunRecord,
    items: ItemsWriter | Iterable[bytes | str] | None = None,
) -> WriteOutcome:
    """Add a run to the store (or replace the run with the same id), safely across processes.

    The items file is written and synced first, then the summary joins the index (a new run is
    appended in place: see :func:`~pytest_datasetrun.store.index.index_run`), all under the lock.
    A run already in the store keeps its items file until the index names the new summary (see
    :func:`_replace`): a write that fails leaves the store as it was, one cut short never leaves
    the index naming a missing or half-written items file.
    If the store exists but cannot be read it is left alone and the run goes to a new store
    ``<stem>.recovered-<run_id>.json`` beside it; the outcome says so.

    :param path: the store path; missing parent directories are created.
    :param record: the finished run; its items are written unless ``items`` is given.
    :param items: the items instead, as one-line JSON texts in dataset order, or as an
        :class:`~pytest_datasetrun.store.itemsfile.ItemsWriter` that holds them already.
    :returns: where the run was written.
    :raises StoreError: the store cannot be locked or written, or the run id is not valid.
    """
    check_run_id(record.run_id)
    store = Path(path)
    summary = _summary(record)
    make_dirs(store.parent)
    if items is None:
        items = (_ITEM.dump_json(item, fallback=repr) for item in record.items)
    with locked(store):
        index, reason = read_index(store)
        target = (
            store.with_name(f"{store.stem}.recovered-{record.run_id}.json") if reason else store
        )
        try:
            _write(target, IndexFile() if reason else index, summary, items)
        except OSError as exc:
            raise StoreError(f"cannot write run {record.run_id} to store {target}: {exc}") from None
    return WriteOutcome(target, record.run_id, store if reason else None, reason)


def _write(
    target: Path,
    index: IndexFile,
    summary: dict[str, Any],
    items: ItemsWriter | Iterable[bytes | str],
) -> None:
    """Put the run's items file and summary in place (the lock is held); on failure the items
    file and the index are as they were, and no temporary file is left."""
    destination = items_path(target, summary["run_id"])
    pending = pending_path(target)
    clear_leftovers(target)  # what a write killed halfway left
    writer: ItemsWriter | None = None
    try:
        if isinstance(items, ItemsWriter):
            writer = items
        else:
            writer = ItemsWriter(destination, tmp=pending)
            for payload in items:
                writer.append(payload)
        if destination.exists():
            _replace(target, index, summary, writer, destination)
            return
        writer.commit(destination, file_mode(destination))
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    try:
        index_run(target, index, summary)
    except BaseException:
        # An items file the index does not name would be an orphan (an append that failed and
        # could not be undone may name it, though: then it stays).
        with contextlib.suppress(OSError):
            if not lists_run(read_index(target)[0], summary["run_id"]):
                destination.unlink(missing_ok=True)
        raise


def _replace(
    target: Path,
    index: IndexFile,
    summary: dict[str, Any],
    writer: ItemsWriter,
    destination: Path,
) -> None:
    """Replace the existing items file only once the index names the new summary.

    The new file waits, synced, at the pending path while the index is written; a write that
    fails there leaves the old index and items file. Killed between the index and the rename,
    the store holds the new summary and the old items file, whole, and a stale pending file.
    """
    pending = pending_path(target)
    if writer.finish(file_mode(destination)) != pending:
        os.replace(writer.tmp, pending)
        writer.tmp = pending
    try:
        before: bytes | None = target.read_bytes()
    except FileNotFoundError:
        before = None
    index_run(target, index, summary)
    try:
        os.replace(pending, destination)
    except BaseException:
        with contextlib.suppress(OSError):  # the index names the old run again
            if before is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, before)
        raise
    fsync_dir(destination.parent)


def _summary(record: RunRecord) -> dict[str, Any]:
    """The run's index document: the record without items, leaving out fields at their default
    (readers validate documents into :class:`RunRecord`, which puts the defaults back)."""
    try:
        return record.model_dump(mode="json", exclude={"items"}, exclude_defaults=True)
    except PydanticSerializationError:  # an option or metadata value JSON cannot hold
        return record.model_dump(
            mode="json", exclude={"items"}, exclude_defaults=True, fallback=repr
        )


def delete_runs(path: str | os.PathLike[str], run_ids: list[str]) -> int:
    """Remove runs (their index entries and items files) under the store lock.

    :param path: the store path.
    :param run_ids: full run ids.
    :returns: how many index entries were removed.
    :raises StoreError: the store cannot be read or locked.
    """
    store = Path(path)
    doomed = set(run_ids)
    with locked(store):
        index, reason = read_index(store)
        if reason or (index.raw is None and index.data is None):
            raise StoreError(f"run store {store} cannot be read: {reason or 'missing'}")
        clear_leftovers(store)  # what a write killed halfway left
        removed = remove_runs(store, index, doomed)
        for run_id in doomed:
            items_path(store, run_id).unlink(missing_ok=True)
    return removed
