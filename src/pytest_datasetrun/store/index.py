"""The store index: a TinyDB database file, table ``runs``, one summary document per run."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.store.files import append_at, atomic_write
from pytest_datasetrun.store.itemsfile import dumps, loads
from pytest_datasetrun.store.lined import (
    Line,
    append_line,
    encode_table,
    join_lines,
    lined_ids,
    put_line,
    recover_lines,
    split_lines,
)

__all__ = (
    "RUN_ID",
    "TABLE",
    "StoreWarning",
    "Documents",
    "IndexFile",
    "check_run_id",
    "index_run",
    "items_path",
    "lists_run",
    "clear_leftovers",
    "pending_path",
    "read_documents",
    "read_index",
    "remove_runs",
    "shape_problem",
)

TABLE = "runs"


class StoreWarning(UserWarning):
    """Part of a store was skipped because it cannot be read; the rest is still usable."""


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


def pending_path(store: Path) -> Path:
    """Where a write (holding the lock) stages a run's new items file: ``<stem>.items/.pending.tmp``.

    No run's file (a run id starts with a letter or digit); one a write killed halfway left
    behind is stale, and the next write removes it.
    """
    return store.parent / f"{store.stem}.items" / ".pending.tmp"


#: A temporary file older than this is a killed write's: a live write's is seconds old.
STALE_TMP_S = 3600.0


def clear_leftovers(store: Path) -> None:
    """Remove what writes killed halfway left (the lock is held): the pending items file, and
    temporary copies of the index and of items files older than :data:`STALE_TMP_S`."""
    pending_path(store).unlink(missing_ok=True)
    cutoff = time.time() - STALE_TMP_S
    patterns = (
        (store.parent, f".{glob.escape(store.name)}.*.tmp"),
        (store.parent / f"{store.stem}.items", ".*.json.*.tmp"),
    )
    for folder, pattern in patterns:
        for leftover in folder.glob(pattern):
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


@dataclass
class IndexFile:
    """The index as read under the lock: its lines, or the parsed JSON in another layout.

    :param raw: the file when it is in the one-run-per-line layout
        (:mod:`~pytest_datasetrun.store.lined`), else ``None``.
    :param data: the parsed database when the file is in another layout (``None``: no file).
    :param ids: the document ids of ``raw``, in order, when known.
    :param torn: the file's last append was cut short; ``raw`` holds its complete lines and the
        next write replaces the file whole.
    """

    raw: bytes | None = None
    data: dict[str, Any] | None = None
    ids: list[bytes] | None = None
    torn: bool = False


def read_index(store: Path) -> tuple[IndexFile, str]:
    """The index as read once under the lock, and why it cannot be read ('' when it can).

    A file in the one-run-per-line layout is split, not parsed; any other is parsed in full.
    """
    try:
        raw = store.read_bytes()
    except FileNotFoundError:
        return IndexFile(), ""
    except OSError as exc:
        return IndexFile(), f"{type(exc).__name__}: {exc}"
    if not raw.strip():
        return IndexFile(), ""
    ids = lined_ids(raw)
    if ids is not None:
        return IndexFile(raw=raw, ids=ids), ""
    try:
        data = loads(raw)
    except ValueError as exc:
        recovered = recover_lines(raw)
        if recovered is None:
            return IndexFile(), f"{type(exc).__name__}: {exc}"
        return IndexFile(raw=join_lines(line.raw for line in recovered[0]), torn=True), ""
    return IndexFile(data=data), shape_problem(data)


def lists_run(index: IndexFile, run_id: str) -> bool:
    """Whether ``index`` has a document of ``run_id``."""
    if index.raw is not None:
        return any(line.run_id == run_id for line in split_lines(index.raw) or ())
    table = (index.data or {}).get(TABLE, {})
    return any(isinstance(doc, dict) and doc.get("run_id") == run_id for doc in table.values())


def index_run(store: Path, index: IndexFile, summary: dict[str, Any]) -> None:
    """Put ``summary`` into ``index`` (replacing the run's old summary) and write it once.

    The file stays a TinyDB database: table ``runs``, documents keyed by their id, the next id
    one above the largest, as ``Table.insert`` would do after removing the run's old summary.
    A new run in an intact file in the line layout is appended in place (fsync, no rename);
    every other write replaces the file atomically.
    """
    run_id = summary["run_id"]
    if index.raw is None:
        data = index.data if index.data is not None else {}
        table = data.setdefault(TABLE, {})
        for doc_id in [key for key, doc in table.items() if doc.get("run_id") == run_id]:
            del table[doc_id]
        next_id = max((int(doc_id) for doc_id in table), default=0) + 1
        table[str(next_id)] = summary
        atomic_write(store, encode_table(data) or dumps(data))
        return
    added = None if index.torn else append_line(index.raw, run_id, summary, index.ids)
    if added is not None and append_at(store, added[0], index.raw[added[0] :], added[1]):
        return
    new = put_line(index.raw, run_id, summary)
    if new is None:  # pragma: no cover - write_run checked the run id; name is a str
        raise StoreError(f"run {run_id} cannot be indexed: its name is not text")
    atomic_write(store, new)


def remove_runs(store: Path, index: IndexFile, run_ids: set[str]) -> int:
    """Drop the documents of ``run_ids`` from ``index`` and write it once.

    :returns: how many documents were removed.
    """
    lines = split_lines(index.raw) if index.raw is not None else None
    if lines is not None:
        kept = [line for line in lines if line.run_id not in run_ids]
        atomic_write(store, join_lines(line.raw for line in kept))
        return len(lines) - len(kept)
    data = index.data or {}
    table = data.get(TABLE, {})
    removed = [key for key, doc in table.items() if doc.get("run_id") in run_ids]
    for key in removed:
        del table[key]
    atomic_write(store, encode_table(data) or dumps(data))
    return len(removed)


class Documents(Mapping[str, Any]):
    """The run documents of an index by document id, each line parsed when first asked for.

    :param path: the store, for error messages.
    :param lines: the index's lines, or ``None`` when it is in another layout.
    :param table: the parsed ``runs`` table of an index in another layout.
    """

    def __init__(self, path: Path, lines: list[Line] | None, table: Mapping[str, Any]) -> None:
        self.path = path
        self.lines = lines
        self._table = table
        self._by_id = {line.doc_id: line for line in lines or ()}

    def __getitem__(self, doc_id: str) -> Any:
        if self.lines is None:
            return self._table[doc_id]
        line = self._by_id[doc_id]
        try:
            return line.document()
        except ValueError as exc:
            raise StoreError(
                f"run store {self.path} cannot be read: document {doc_id}: {exc}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id if self.lines is not None else self._table)

    def __len__(self) -> int:
        return len(self._by_id if self.lines is not None else self._table)


def read_documents(path: Path) -> Documents:
    """The documents of the index at ``path`` for a reader (no lock; empty when missing).

    :raises StoreError: the file cannot be read or is not a TinyDB database.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Documents(path, None, {})
    except OSError as exc:
        raise StoreError(f"run store {path} cannot be read: {exc}") from None
    lines = split_lines(raw) if raw.strip() else []
    if lines is not None:
        return Documents(path, lines, {})
    try:
        data = loads(raw)
    except ValueError as exc:
        recovered = recover_lines(raw)
        if recovered is None:
            raise StoreError(f"run store {path} cannot be read: {exc}") from None
        _warn_torn(path, recovered[1])
        return Documents(path, recovered[0], {})
    problem = shape_problem(data)
    if problem:
        raise StoreError(f"run store {path} cannot be read: {problem}")
    return Documents(path, None, data.get(TABLE, {}))


def _warn_torn(path: Path, ignored: int) -> None:
    # stacklevel 5: the caller of RunStore.get()/resolve()/document() (runs(): runs() itself)
    warnings.warn(
        f"run store {path}: a write to it was cut short; the {ignored} bytes after its last "
        f"complete run cannot be read and are skipped (the next write repairs the file)",
        StoreWarning,
        stacklevel=5,
    )


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
