"""The run store: a small TinyDB index of run summaries plus one items file per run.

Layout for the default store ``.datasetrun/runs.json``::

    .datasetrun/runs.json                 # TinyDB, table "runs": one summary document per run
    .datasetrun/runs.json.lock            # filelock guarding every read-modify-write
    .datasetrun/runs.items/<run_id>.json  # the run's items, one JSON list, one item per line

Writing a run costs the same whatever the history: one items file plus one read and one rewrite
of the small index. Every file is replaced atomically (temp file, fsync, ``os.replace``), so
readers never lock and a crash never leaves half a file. A store that cannot be read is never
overwritten. Items are read one at a time (:mod:`~pytest_datasetrun.store.itemsfile`).
This is the only module that imports tinydb and filelock.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError
from tinydb.storages import Storage

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.itemsfile import (
    ItemsWriter,
    dumps,
    fsync_dir,
    iter_items_file,
    loads,
    write_items_file,
)
from pytest_datasetrun.store.runref import RunName, file_ref, load_run_file, resolve_ref

__all__ = (
    "DEFAULT_STORE",
    "LOCK_TIMEOUT_S",
    "AtomicJSONStorage",
    "RunStore",
    "StoreWarning",
    "WriteOutcome",
    "items_path",
    "check_run_id",
    "delete_runs",
    "open_store",
    "write_run",
)

DEFAULT_STORE = Path(".datasetrun") / "runs.json"
LOCK_TIMEOUT_S = 60.0
LOCK_TIMEOUT_ENV = "DATASETRUN_LOCK_TIMEOUT"
_TABLE = "runs"
_ITEM = TypeAdapter(ItemResult)
# A run id becomes a file name: one path component, no leading dot, nothing a shell or a
# filesystem treats specially (issue 11, item 4: an index naming `../../x` must not be read).
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class StoreWarning(UserWarning):
    """Part of a store was skipped because it cannot be read; the rest is still usable."""


def check_run_id(run_id: object) -> str:
    """``run_id`` if it is safe to use as a file name in the store, else a :class:`StoreError`.

    :param run_id: the id, as read from an index or given by a caller.
    :returns: the id.
    :raises StoreError: the id is not letters, digits, ``_``, ``.`` and ``-`` (at most 128).
    """
    if isinstance(run_id, str) and _RUN_ID.fullmatch(run_id):
        return run_id
    raise StoreError(
        f"{run_id!r} is not a valid run id: a run id is 1 to 128 letters, digits, '_', '.' "
        f"or '-', starting with a letter or digit"
    )


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
        _atomic_write(self.path, dumps(data))


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


def items_path(store: str | os.PathLike[str], run_id: str) -> Path:
    """The file holding the items of ``run_id`` in ``store``: ``<dir>/<stem>.items/<run_id>.json``.

    :param store: the store (index) path.
    :param run_id: the run's id.
    :returns: the items file path.
    """
    store = Path(store)
    return store.parent / f"{store.stem}.items" / f"{check_run_id(run_id)}.json"


def write_run(
    path: str | os.PathLike[str],
    record: RunRecord,
    items: ItemsWriter | Iterable[bytes | str] | None = None,
) -> WriteOutcome:
    """Add a run to the store (or replace the run with the same id), safely across processes.

    The items file is written first, then the summary joins the index, all under the store lock.
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
    _make_dirs(store.parent)
    if items is None:
        items = (_ITEM.dump_json(item, fallback=repr) for item in record.items)
    with _locked(store):
        data, reason = _read_index(store)
        target = (
            store.with_name(f"{store.stem}.recovered-{record.run_id}.json") if reason else store
        )
        destination = items_path(target, record.run_id)
        try:
            if isinstance(items, ItemsWriter):
                items.commit(destination, _file_mode(destination))
            else:
                write_items_file(destination, items, _file_mode(destination))
            _index_run(target, None if reason else data, summary)
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


def open_store(path: str | os.PathLike[str] = DEFAULT_STORE) -> RunStore:
    """Open a store for reading (nothing is read or created until asked).

    :param path: the store path.
    :returns: a :class:`RunStore`.
    """
    return RunStore(Path(path))


class RunStore:
    """Read access to a run store. Reading never locks and never writes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    def __len__(self) -> int:
        return len(self._documents())

    def runs(self) -> list[RunRecord]:
        """Every run's summary (no items), oldest first (sorted by run id).

        A document that is not a valid run summary is skipped with a :class:`StoreWarning`
        naming it, so one damaged entry does not hide every other run.

        :returns: the summaries; empty when the store does not exist.
        :raises StoreError: the store exists but cannot be read.
        """
        runs = []
        for doc_id, doc in self._documents().items():
            try:
                runs.append(self._summary(doc_id, doc))
            except StoreError as exc:
                warnings.warn(f"{exc}; skipped", StoreWarning, stacklevel=2)
        return sorted(runs, key=lambda run: run.run_id)

    def resolve(self, ref: str) -> str:
        """The run id a reference names (see :mod:`pytest_datasetrun.store.runref` for the forms).

        :param ref: a run id, unique id prefix, run name, ``latest``, ``latest~N`` or run file.
        :returns: the run id.
        :raises StoreError: the reference matches no run or several, or the store is missing.
        """
        path = file_ref(ref)
        if path is not None:
            return load_run_file(path).run_id
        self._require_exists()
        return resolve_ref(ref, self._names(self._documents()), store=self.path)

    def get(self, ref: str, *, with_items: bool = True) -> RunRecord:
        """The run a reference names.

        :param ref: as for :meth:`resolve`.
        :param with_items: load the run's items too (a run file always has them).
        :returns: the run record.
        :raises StoreError: the reference does not resolve, or the run's files cannot be read.
        """
        path = file_ref(ref)
        if path is not None:
            return load_run_file(path)
        self._require_exists()
        documents = self._documents()
        names = self._names(documents)
        run_id = resolve_ref(ref, names, store=self.path)
        doc_id = next(name.doc_id for name in names if name.run_id == run_id)
        record = self._summary(doc_id, documents[doc_id])
        if with_items:
            record.items = self.items(run_id)
        return record

    def items(self, run_id: str) -> list[ItemResult]:
        """The items of one run, in dataset order.

        :param run_id: a full run id.
        :returns: the items.
        :raises StoreError: the run's items file is missing or cannot be read.
        """
        return list(self.iter_items(run_id))

    def iter_items(self, run_id: str) -> Iterator[ItemResult]:
        """The items of one run, in dataset order, read and validated one at a time.

        :param run_id: a full run id.
        :returns: an iterator over the items.
        :raises StoreError: the run's items file is missing or cannot be read.
        """
        path = items_path(self.path, run_id)
        for raw in self.iter_raw_items(run_id):
            try:
                yield _ITEM.validate_python(raw)
            except ValidationError as exc:
                raise StoreError(
                    f"the items of run {run_id} cannot be read from {path}: {exc}"
                ) from None

    def iter_raw_items(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The items of one run as parsed JSON objects (not validated), one at a time.

        :param run_id: a full run id.
        :returns: an iterator over the items' JSON objects.
        :raises StoreError: the run's items file is missing or cannot be read.
        """
        path = items_path(self.path, run_id)
        try:
            yield from iter_items_file(path)
        except FileNotFoundError:
            raise StoreError(
                f"the items of run {run_id} are missing: {path} does not exist "
                f"(the store index {self.path} still lists the run)"
            ) from None
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"the items of run {run_id} cannot be read from {path}: {exc}"
            ) from None

    def _names(self, documents: Mapping[str, Any]) -> list[RunName]:
        """Id and name of every run, oldest first, validating only the summaries that look odd.

        Like :meth:`runs`, a document without a valid run id is skipped with a warning.
        """
        names = []
        for doc_id, doc in documents.items():
            run_id = doc.get("run_id")
            if isinstance(run_id, str) and _RUN_ID.fullmatch(run_id):
                names.append(RunName(run_id, str(doc.get("name", "")), doc_id))
                continue
            try:
                self._summary(doc_id, doc)
            except StoreError as exc:
                warnings.warn(f"{exc}; skipped", StoreWarning, stacklevel=3)
        return sorted(names, key=lambda name: name.run_id)

    def _require_exists(self) -> None:
        if not self.path.exists():
            raise StoreError(
                f"run store {self.path} does not exist: no run has been recorded there yet "
                f"(run pytest with --dataset first, or pass --store)"
            )

    def _documents(self) -> Mapping[str, Any]:
        try:
            data = AtomicJSONStorage(self.path).read()
        except (OSError, ValueError) as exc:
            raise StoreError(f"run store {self.path} cannot be read: {exc}") from None
        problem = _shape_problem(data)
        if problem:
            raise StoreError(f"run store {self.path} cannot be read: {problem}")
        return (data or {}).get(_TABLE, {})

    def _summary(self, doc_id: str, doc: Mapping[str, Any]) -> RunRecord:
        where = f"run store {self.path}: document {doc_id} of table '{_TABLE}'"
        try:
            record = RunRecord.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise StoreError(
                f"{where} is not a run summary: field '{field}': {first['msg']}"
            ) from None
        try:
            check_run_id(record.run_id)
        except StoreError as exc:
            raise StoreError(f"{where}: {exc}") from None
        return record


def _summary(record: RunRecord) -> dict[str, Any]:
    try:
        return record.summary()
    except PydanticSerializationError:  # an option or metadata value JSON cannot hold
        return record.model_dump(mode="json", exclude={"items"}, fallback=repr)


def _index_run(store: Path, data: dict[str, Any] | None, summary: dict[str, Any]) -> None:
    """Put ``summary`` into the index ``data`` (as read under the lock) and write it once.

    The file stays a TinyDB database: table ``runs``, documents keyed by their id, the next id
    one above the largest, as ``Table.insert`` would do after removing the run's old summary.
    """
    data = data if data is not None else {}
    table = data.setdefault(_TABLE, {})
    for doc_id in [key for key, doc in table.items() if doc.get("run_id") == summary["run_id"]]:
        del table[doc_id]
    next_id = max((int(doc_id) for doc_id in table), default=0) + 1
    table[str(next_id)] = summary
    _atomic_write(store, dumps(data))


def _read_index(store: Path) -> tuple[dict[str, Any] | None, str]:
    """The index as read once under the lock, and why it cannot be read ('' when it can)."""
    try:
        data = AtomicJSONStorage(store).read()
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return data, _shape_problem(data)


def _shape_problem(data: object) -> str:
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


@contextlib.contextmanager
def _locked(store: Path) -> Iterator[None]:
    """Hold the store lock, with a clear :class:`StoreError` on timeout."""
    timeout = _lock_timeout()
    lock = filelock.FileLock(f"{store}.lock", timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StoreError(
            f"run store {store} is locked: another process held {lock.lock_file} for more "
            f"than {timeout:g} s; is another pytest session writing it?"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot lock run store {store}: {exc}") from None
    try:
        yield
    finally:
        lock.release()


def _lock_timeout() -> float:
    """Seconds to wait for the store lock: ``$DATASETRUN_LOCK_TIMEOUT``, else 60."""
    try:
        value = float(os.environ.get(LOCK_TIMEOUT_ENV, LOCK_TIMEOUT_S))
    except ValueError:
        return LOCK_TIMEOUT_S
    return value if value >= 0 else LOCK_TIMEOUT_S


def _make_dirs(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the run store directory {directory}: {exc}") from None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; new files get the usual ``0o666 & ~umask``."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    # os.umask can only be read by setting it; do it once per process.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def delete_runs(path: str | os.PathLike[str], run_ids: list[str]) -> int:
    """Remove runs (their index entries and items files) under the store lock.

    :param path: the store path.
    :param run_ids: full run ids.
    :returns: how many index entries were removed.
    :raises StoreError: the store cannot be read or locked.
    """
    store = Path(path)
    doomed = set(run_ids)
    with _locked(store):
        data, reason = _read_index(store)
        if reason or data is None:
            raise StoreError(f"run store {store} cannot be read: {reason or 'missing'}")
        table = data.get(_TABLE, {})
        removed = [key for key, doc in table.items() if doc.get("run_id") in doomed]
        for key in removed:
            del table[key]
        _atomic_write(store, dumps(data))
        for run_id in doomed:
            items_path(store, run_id).unlink(missing_ok=True)
    return len(removed)
