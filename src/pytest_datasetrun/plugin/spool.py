"""Results spooled to disk as they arrive, so the writing process holds no row it has finished.

Each result's payload (its one-line JSON) is appended to an unnamed temporary file next to the
run store; memory keeps only where it is. At the end the items are read back one at a time, in
dataset order, to write the items file, call the per-item hook, or build the models a baseline
comparison needs (:class:`SpooledItems`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import TypeAdapter

from pytest_datasetrun.record.aggregate import LightItem, LightScore
from pytest_datasetrun.record.results import ItemResult, Usage
from pytest_datasetrun.store.itemsfile import dumps, loads

if TYPE_CHECKING:
    from pytest_datasetrun.analysis.totals import UsageTotals

__all__ = ("ItemView", "ResultSpool", "SpooledItems")

_BUFFER = 1 << 20
_USAGE = TypeAdapter(Usage)


class ResultSpool:
    """Payloads by node id, in an unnamed temporary file (gone when closed or the process ends)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._file: IO[bytes] | None = None
        self._where: dict[str, tuple[int, int]] = {}
        self._size = 0
        self._dirty = False
        self.added = 0  # payloads received, a replaced one included

    def _open(self) -> IO[bytes]:
        try:
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
            self._file = tempfile.TemporaryFile(dir=self.directory, buffering=_BUFFER)  # noqa: SIM115
        except OSError:  # an unwritable store dir: the system's temp dir; the write reports it
            self._file = tempfile.TemporaryFile(buffering=_BUFFER)  # noqa: SIM115
        return self._file

    def __contains__(self, nodeid: object) -> bool:
        return nodeid in self._where

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def add(self, nodeid: str, payload: bytes) -> None:
        """Keep ``payload`` as the result of ``nodeid`` (a later one replaces it)."""
        (self._file or self._open()).write(payload)
        self._where[nodeid] = (self._size, len(payload))
        self._size += len(payload)
        self._dirty = True
        self.added += 1

    def read(self, nodeid: str) -> bytes:
        """The payload kept for ``nodeid``."""
        assert self._file is not None
        if self._dirty:
            self._file.flush()
            self._dirty = False
        offset, length = self._where[nodeid]
        return os.pread(self._file.fileno(), length, offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._where.clear()


#: Makes the payload of a row that produced none: (node id) -> one-line JSON.
RowPayload = Callable[[str], bytes]
#: Final say on a row's outcome: node id -> (status, error) replacing the payload's.
Overrides = dict[str, tuple[str, str]]


class SpooledItems:
    """A finished run's items, in dataset order, read from the spool each time they are asked for.

    :param spool: the payloads that arrived.
    :param order: every node id of the run, in dataset order.
    :param overrides: the rows whose status and error pytest changed after the payload was made.
    :param row_payload: the payload of a row that has none in the spool (skipped, not run, ...).
    :param item_errors: how many items have an error (target or scorer), counted as they came.
    """

    def __init__(
        self,
        spool: ResultSpool,
        order: Sequence[str],
        overrides: Overrides,
        row_payload: RowPayload,
        item_errors: int = 0,
    ) -> None:
        self.spool = spool
        self.item_errors = item_errors
        self.order = order
        self.overrides = overrides
        self.row_payload = row_payload
        self._models: list[ItemResult] | None = None
        #: The run's usage totals (without a price table), summed with its counts.
        self.totals: UsageTotals | None = None

    def __len__(self) -> int:
        return len(self.order)

    def payloads(self) -> Iterator[bytes]:
        """Each item's one-line JSON, in dataset order."""
        for nodeid in self.order:
            if nodeid not in self.spool:
                yield self.row_payload(nodeid)
            elif nodeid in self.overrides:
                yield dumps(overridden(loads(self.spool.read(nodeid)), self.overrides[nodeid]))
            else:
                yield self.spool.read(nodeid)

    def unspooled(self) -> Iterator[bytes]:
        """The payloads made from the dataset for the rows that produced no result."""
        for nodeid in self.order:
            if nodeid not in self.spool:
                yield self.row_payload(nodeid)

    def models(self) -> Iterator[ItemResult]:
        """Each item as an :class:`ItemResult`, built one at a time."""
        if self._models is not None:
            yield from self._models
            return
        for payload in self.payloads():
            yield ItemResult.model_validate_json(payload)

    def scan(self, each: Callable[[dict[str, Any], ItemView], object]) -> None:
        """Call ``each`` with every item's JSON object and light view, in dataset order."""
        for payload in self.payloads():
            item = loads(payload)
            each(item, ItemView(item))

    def load(self) -> list[ItemResult]:
        """Every item as a model, built once and kept (only for what needs them all at once)."""
        if self._models is None:
            self._models = list(self.models())
        return self._models


class ItemView(LightItem):
    """The fields of an item that run totals (usage, latency, judge calls) read."""

    __slots__ = ("cost_usd", "repeats", "target_duration_s", "usage", "via")

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(item)
        self.cost_usd = item.get("cost_usd")
        self.target_duration_s = item.get("target_duration_s", 0.0)
        self.via = item.get("via", "target")
        usage = item.get("usage")
        self.usage = None if usage is None else _USAGE.validate_python(usage)
        self.repeats = [_Repeat(repeat) for repeat in item.get("repeats") or ()]


class _Repeat:
    __slots__ = ("duration_s", "error", "scores", "via")

    def __init__(self, repeat: dict[str, Any]) -> None:
        self.scores = [LightScore(score) for score in repeat.get("scores") or ()]
        self.via = repeat.get("via", "target")
        self.error = repeat.get("error")
        self.duration_s = repeat.get("duration_s", 0.0)


def overridden(item: dict[str, Any], override: tuple[str, str]) -> dict[str, Any]:
    """The item's JSON object with pytest's final status and error."""
    item["status"], item["error"] = override
    return item
