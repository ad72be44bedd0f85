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
from pytest_datasetrun.store.files import file_mode, locked, make_dirs
from pytest_datasetrun.store.index import (
    IndexFile,
    check_run_id,
    index_run,
    items_path,
    read_index,
    remove_runs,
)
from pytest_datasetrun.store.itemsfile import ItemsWriter, write_items_file

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
        destination = items_path(target, record.run_id)
        try:
            if isinstance(items, ItemsWriter):
                items.commit(destination, file_mode(destination))
            else:
                write_items_file(destination, items, file_mode(destination))
            index_run(target, IndexFile() if reason else index, summary)
        except BaseException as exc:
            # The index does not list the run: its items file would be an orphan.
            with contextlib.suppress(OSError):
                destination.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StoreError(
                    f"cannot write run {record.run_id} to store {target}: {exc}"
                ) from None
            raise
    return WriteOutcome(target, record.run_id, store if reason else None, reason)


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
        removed = remove_runs(store, index, doomed)
        for run_id in doomed:
            items_path(store, run_id).unlink(missing_ok=True)
    return removed
