"""The run store: a small TinyDB index of run summaries plus one items file per run.

Layout for the default store ``.datasetrun/runs.json``::

    .datasetrun/runs.json                 # TinyDB, table "runs": one summary per run and line
    .datasetrun/runs.json.lock            # filelock guarding every read-modify-write
    .datasetrun/runs.items/<run_id>.json  # the run's items, one JSON list, one item per line

Files are replaced atomically (temp file, fsync, ``os.replace``) but for a new run's index line,
appended in place (a torn one is skipped): readers never lock, a crash loses no run. This module
reads; :mod:`~pytest_datasetrun.store.writer` writes, :mod:`~pytest_datasetrun.store.index` and
:mod:`~pytest_datasetrun.store.lined` the index, :mod:`~pytest_datasetrun.store.files` the lock.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.store.index import (
    RUN_ID,
    TABLE,
    Documents,
    StoreWarning,
    check_run_id,
    items_path,
    read_documents,
)
from pytest_datasetrun.store.itemsfile import iter_items_file
from pytest_datasetrun.store.runref import RunName, file_ref, load_run_file, resolve_ref

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from pytest_datasetrun.record.results import ItemResult
    from pytest_datasetrun.record.run import RunRecord
    from pytest_datasetrun.store.files import LOCK_TIMEOUT_S
    from pytest_datasetrun.store.tinystorage import AtomicJSONStorage
    from pytest_datasetrun.store.writer import WriteOutcome, delete_runs, write_run

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
# Writing and TinyDB are for writers: a reader (``runs``, ``show``) does not import them.
_ELSEWHERE = {
    "LOCK_TIMEOUT_S": "files",
    "AtomicJSONStorage": "tinystorage",
    "WriteOutcome": "writer",
    "delete_runs": "writer",
    "write_run": "writer",
}


@functools.cache
def _item_adapter() -> TypeAdapter[ItemResult]:
    # pydantic loads when a run is validated, not when the store is opened: listing runs and
    # showing one (``pytest-datasetrun runs`` / ``show``) read plain JSON.
    from pydantic import TypeAdapter

    from pytest_datasetrun.record.results import ItemResult

    return TypeAdapter(ItemResult)


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"pytest_datasetrun.store.{module}"), name)


def open_store(path: str | os.PathLike[str] = DEFAULT_STORE) -> RunStore:
    """Open a store for reading (nothing is read or created until asked).

    :param path: the store path.
    :returns: a :class:`RunStore`.
    """
    return RunStore(Path(path))


T = TypeVar("T")


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
        runs = self._readable(self._summary)
        return sorted(runs, key=lambda run: run.run_id)

    def documents(self) -> list[dict[str, Any]]:
        """Every run's summary as stored, oldest first: plain JSON, not validated.

        Fields at their default may be left out (:class:`RunRecord` has the defaults). A document
        without a run id, name and start time is validated instead: kept when it is a run after
        all, else skipped with a :class:`StoreWarning`, as :meth:`runs` does.

        :returns: the documents; empty when the store does not exist.
        :raises StoreError: the store exists but cannot be read.
        """
        docs = self._readable(self._plain)
        return sorted(docs, key=lambda doc: str(doc["run_id"]))

    def _readable(self, read: Callable[[Any, Any], T]) -> list[T]:
        """``read`` of every stored document; one it cannot read is skipped with a warning."""
        out = []
        documents = self._documents()
        for doc_id in documents:
            try:
                out.append(read(doc_id, documents[doc_id]))
            except StoreError as exc:  # stacklevel 3: the caller of runs()/documents()
                warnings.warn(f"{exc}; skipped", StoreWarning, stacklevel=3)
        return out

    def document(self, ref: str) -> dict[str, Any]:
        """The summary of the run a reference names, as :meth:`documents` gives it.

        :param ref: as for :meth:`resolve` (a run file gives its summary, validated).
        :raises StoreError: the reference does not resolve, or the summary is not a run.
        """
        path = file_ref(ref)
        if path is not None:
            return load_run_file(path).summary()
        self._require_exists()
        documents = self._documents()
        names = self._names(documents)
        run_id = resolve_ref(ref, names, store=self.path)
        doc_id = next(name.doc_id for name in names if name.run_id == run_id)
        return self._plain(doc_id, documents[doc_id])

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
        from pydantic import ValidationError

        path, adapter = items_path(self.path, run_id), _item_adapter()
        for raw in self.iter_raw_items(run_id):
            try:
                yield adapter.validate_python(raw)
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

    def _names(self, documents: Documents) -> list[RunName]:
        """Id and name of every run, oldest first, validating only the summaries that look odd.

        Like :meth:`runs`, a document without a valid run id is skipped with a warning.
        """
        if documents.lines is not None:  # each line leads with a valid run id and the name
            lines = sorted(documents.lines, key=lambda line: line.run_id)
            return [RunName(line.run_id, line.name, line.doc_id) for line in lines]
        names = []
        for doc_id, doc in documents.items():
            run_id = doc.get("run_id")
            if isinstance(run_id, str) and RUN_ID.fullmatch(run_id):
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

    def _documents(self) -> Documents:
        return read_documents(self.path)

    def _plain(self, doc_id: str, doc: Any) -> dict[str, Any]:
        """``doc`` when it has what every reader of plain summaries needs, else validated."""
        run_id, name, started = (doc.get(k) for k in ("run_id", "name", "started_at"))
        if isinstance(run_id, str) and RUN_ID.fullmatch(run_id) and isinstance(name, str):
            return dict(doc) if isinstance(started, str) else self._summary(doc_id, doc).summary()
        return self._summary(doc_id, doc).summary()

    def _summary(self, doc_id: str, doc: Mapping[str, Any]) -> RunRecord:
        from pydantic import ValidationError

        from pytest_datasetrun.record.run import RunRecord

        where = f"run store {self.path}: document {doc_id} of table '{TABLE}'"
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
