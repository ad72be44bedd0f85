"""The store index: a TinyDB database file, table ``runs``, one summary document per run."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.store.files import atomic_write
from pytest_datasetrun.store.itemsfile import dumps, loads

__all__ = (
    "RUN_ID",
    "TABLE",
    "AtomicJSONStorage",
    "check_run_id",
    "index_run",
    "items_path",
    "read_index",
    "remove_runs",
    "shape_problem",
)

TABLE = "runs"
# A run id becomes a file name: one path component, no leading dot, nothing a shell or a
# filesystem treats specially (issue 11, item 4: an index naming `../../x` must not be read).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_run_id(run_id: object) -> str:
    """``run_id`` if it is safe to use as a file name in the store, else a :class:`StoreError`.

    :param run_id: the id, as read from an index or given by a caller.
    :returns: the id.
    :raises StoreError: the id is not letters, digits, ``_``, ``.`` and ``-`` (at most 128).
    """
    if isinstance(run_id, str) and RUN_ID.fullmatch(run_id):
        return run_id
    raise StoreError(
        f"{run_id!r} is not a valid run id: a run id is 1 to 128 letters, digits, '_', '.' "
        f"or '-', starting with a letter or digit"
    )


def items_path(store: str | os.PathLike[str], run_id: str) -> Path:
    """The file holding the items of ``run_id`` in ``store``: ``<dir>/<stem>.items/<run_id>.json``.

    :param store: the store (index) path.
    :param run_id: the run's id.
    :returns: the items file path.
    """
    store = Path(store)
    return store.parent / f"{store.stem}.items" / f"{check_run_id(run_id)}.json"


class AtomicJSONStorage(Storage):
    """A TinyDB storage that re-reads the file on every read and replaces it atomically on write.

    No file handle is held, so a fresh instance always sees the latest committed state.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return loads(raw) if raw.strip() else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, dumps(data))


def index_run(store: Path, data: dict[str, Any] | None, summary: dict[str, Any]) -> None:
    """Put ``summary`` into the index ``data`` (as read under the lock) and write it once.

    The file stays a TinyDB database: table ``runs``, documents keyed by their id, the next id
    one above the largest, as ``Table.insert`` would do after removing the run's old summary.
    """
    data = data if data is not None else {}
    table = data.setdefault(TABLE, {})
    for doc_id in [key for key, doc in table.items() if doc.get("run_id") == summary["run_id"]]:
        del table[doc_id]
    next_id = max((int(doc_id) for doc_id in table), default=0) + 1
    table[str(next_id)] = summary
    atomic_write(store, dumps(data))


def remove_runs(store: Path, data: dict[str, Any], run_ids: set[str]) -> int:
    """Drop the documents of ``run_ids`` from the index ``data`` and write it once.

    :returns: how many documents were removed.
    """
    table = data.get(TABLE, {})
    removed = [key for key, doc in table.items() if doc.get("run_id") in run_ids]
    for key in removed:
        del table[key]
    atomic_write(store, dumps(data))
    return len(removed)


def read_index(store: Path) -> tuple[dict[str, Any] | None, str]:
    """The index as read once under the lock, and why it cannot be read ('' when it can)."""
    try:
        data = AtomicJSONStorage(store).read()
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return data, shape_problem(data)


def shape_problem(data: object) -> str:
    """What makes parsed JSON not a TinyDB database ('' when it is one)."""
    if data is None:
        return ""
    if not isinstance(data, dict):
        return f"expected a JSON object of tables, got {type(data).__name__}"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"table '{name}' is a {type(table).__name__}, not an object of documents"
        for doc_id, doc in table.items():
            if not (doc_id.isdigit() and isinstance(doc, dict)):
                return f"table '{name}' has an entry '{doc_id}' that is not a document"
    return ""
