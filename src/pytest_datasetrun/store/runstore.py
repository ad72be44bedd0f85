"""The run store: a small TinyDB index of run summaries plus one items file per run.

Layout for the default store ``.datasetrun/runs.json``::

    .datasetrun/runs.json                 # TinyDB, table "runs": one summary document per run
    .datasetrun/runs.json.lock            # filelock guarding every read-modify-write
    .datasetrun/runs.items/<run_id>.json  # the run's items, one JSON list

Writing a run costs the same whatever the history: one items file plus a rewrite of the small
index. Every file is replaced atomically (temp file, fsync, ``os.replace``), so readers never
lock and a crash never leaves half a file. A store that cannot be read is never overwritten.
This is the only module that imports tinydb and filelock.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError
from tinydb import Query, TinyDB
from tinydb.storages import Storage

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.runref import file_ref, load_run_file, resolve_ref

__all__ = (
    "DEFAULT_STORE",
    "LOCK_TIMEOUT_S",
    "AtomicJSONStorage",
    "RunStore",
    "StoreWarning",
    "WriteOutcome",
    "items_path",
    "check_run_id",
    "open_store",
    "write_run",
)

DEFAULT_STORE = Path(".datasetrun") / "runs.json"
LOCK_TIMEOUT_S = 60.0
LOCK_TIMEOUT_ENV = "DATASETRUN_LOCK_TIMEOUT"
_TABLE = "runs"
_ITEMS = TypeAdapter(list[ItemResult])
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
        return json.loads(raw) if raw.strip() else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        _atomic_write(self.path, json.dumps(data, ensure_ascii=False).encode())


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


def write_run(path: str | os.PathLike[str], record: RunRecord) -> WriteOutcome:
    """Add a run to the store (or replace the run with the same id), safely across processes.

    The items file is written first, then the summary joins the index, all under the store lock.
    If the store exists but cannot be read it is left alone and the run goes to a new store
    ``<stem>.recovered-<run_id>.json`` beside it; the outcome says so.

    :param path: the store path; missing parent directories are created.
    :param record: the finished run, with its items.
    :returns: where the run was written.
    :raises StoreError: the store cannot be locked or written, or the run id is not valid.
    """
    check_run_id(record.run_id)
    store = Path(path)
    # Serialise before taking the lock: for 100k items this is most of the cost.
    items = _ITEMS.dump_json(record.items, fallback=repr)
    summary = _summary(record)
    _make_dirs(store.parent)
    with _locked(store):
        reason = _unreadable_reason(store)
        target = (
            store.with_name(f"{store.stem}.recovered-{record.run_id}.json") if reason else store
        )
        items_file = items_path(target, record.run_id)
        try:
            _atomic_write(items_file, items)
            _index_run(target, summary)
        except BaseException as exc:
            # The index does not list the run: its items file would be an orphan.
            with contextlib.suppress(OSError):
                items_file.unlink(missing_ok=True)
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
        return resolve_ref(ref, self.runs(), store=self.path)

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
        runs = self.runs()
        run_id = resolve_ref(ref, runs, store=self.path)
        record = next(run for run in runs if run.run_id == run_id)
        if with_items:
            record.items = self.items(run_id)
        return record

    def items(self, run_id: str) -> list[ItemResult]:
        """The items of one run, in dataset order.

        :param run_id: a full run id.
        :returns: the items.
        :raises StoreError: the run's items file is missing or cannot be read.
        """
        path = items_path(self.path, run_id)
        try:
            with _gc_paused():
                return _ITEMS.validate_json(path.read_bytes())
        except FileNotFoundError:
            raise StoreError(
                f"the items of run {run_id} are missing: {path} does not exist "
                f"(the store index {self.path} still lists the run)"
            ) from None
        except (OSError, ValidationError) as exc:
            raise StoreError(
                f"the items of run {run_id} cannot be read from {path}: {exc}"
            ) from None

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


def _index_run(store: Path, summary: dict[str, Any]) -> None:
    # A fresh TinyDB per write: instances cache ``_next_id``, which is stale once another
    # process has written. We hold the store lock, so nobody writes in between.
    with TinyDB(store, storage=AtomicJSONStorage) as db:
        table = db.table(_TABLE)
        same = Query().run_id == summary["run_id"]
        existing = [doc.doc_id for doc in table.search(same)]
        if existing:
            table.remove(doc_ids=existing)
        table.insert(summary)


def _unreadable_reason(store: Path) -> str:
    """Why an existing store cannot be read ('' when it can, or when it does not exist)."""
    try:
        data = AtomicJSONStorage(store).read()
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return _shape_problem(data)


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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing 100k items allocates millions of objects, all reachable: the cyclic GC would
    # walk them again and again for nothing (measured: 4x slower reads).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    _fsync_dir(path.parent)


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


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; directories cannot be opened on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
