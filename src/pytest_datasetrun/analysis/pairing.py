"""Two runs' items reduced to what a comparison reads, one item at a time.

A :class:`RunRows` takes each item (its JSON object from the items file, or a model) and keeps
its verdict and, per scorer, its value or error in compact columns, so comparing two 100k-row
runs never holds either run's items. The rules are those of the whole models:
:func:`~pytest_datasetrun.analysis.gates.item_verdict` for flips and
:func:`~pytest_datasetrun.record.values.row_value` for a scorer's value; a row whose target
failed keeps its scores (rare, and the rule reads them all). An object that is not a valid item
is validated as an :class:`~pytest_datasetrun.record.results.ItemResult`, as before, so the
error is pydantic's.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.record.aggregate import LightItem
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.record.values import ERRORED, TARGET_FAILED, RowValue, row_value
from pytest_datasetrun.store.runref import file_ref
from pytest_datasetrun.store.runstore import items_path

if TYPE_CHECKING:
    from pytest_datasetrun.store.runstore import RunStore

__all__ = ("Paired", "Pairs", "RunRows", "VERDICTS", "from_target", "stored_rows")

VERDICTS: tuple[str | None, ...] = (None, "passed", "failed", "errored")
_VERDICT_CODE = {verdict: code for code, verdict in enumerate(VERDICTS)}
_STATUSES = frozenset(("passed", "failed", "errored", "skipped", "not_run"))
_ABSENT, _VALUE, _ERRORED = 0, 1, 2  # a scorer on a row: no value, a value, raised

Score = tuple[str, str, float | None, str | None]  # id, name, value, error


class _Column:
    """One scorer's state and value on every row."""

    __slots__ = ("codes", "values")

    def __init__(self, rows: int) -> None:
        self.codes = bytearray(rows)
        self.values = array("d", bytes(8 * rows))

    def grow(self) -> None:
        self.codes.append(_ABSENT)
        self.values.append(0.0)


class RunRows:
    """One run's rows by item id (first position, last item with the id), kept compactly."""

    def __init__(self, scorers: Mapping[str, str] | None = None) -> None:
        self.rows: dict[str, int] = {}
        self.items = 0  # items seen, repeated ids included
        self.names: dict[str, str] = dict(scorers or {})  # scorer id -> name, first seen first
        self._verdicts = bytearray()
        self._columns: dict[str, _Column] = {}
        self._failed: dict[int, LightItem] = {}  # rows whose target failed: the whole rule

    def add(self, item: Mapping[str, Any] | ItemResult) -> None:
        """Take one item: its JSON object, or a model."""
        if isinstance(item, ItemResult):
            self._add_model(item)
            return
        fields = _fields(item)
        if fields is None:  # not a plain valid item: pydantic decides (and names the field)
            self._add_model(ItemResult.model_validate(item))
        else:
            self._add(*fields, item)

    def add_all(self, items: Iterable[Mapping[str, Any] | ItemResult]) -> RunRows:
        """Take every item, in order; returns ``self``."""
        for item in items:
            self.add(item)
        return self

    @classmethod
    def of(
        cls, record: RunRecord, items: Iterable[Mapping[str, Any] | ItemResult] | None = None
    ) -> RunRows:
        """The rows of a run: ``items`` (JSON objects or models), else the record's own items."""
        rows = cls({info.id: info.name for info in record.scorers})
        return rows.add_all(record.items if items is None else items)

    def verdict(self, row: int) -> str | None:
        """The row's :func:`~pytest_datasetrun.analysis.gates.item_verdict`."""
        return VERDICTS[self._verdicts[row]]

    def value(self, row: int, sid: str, target_errors: str) -> tuple[RowValue, bool]:
        """:func:`~pytest_datasetrun.record.values.row_value` of the row, and :func:`from_target`."""
        light = self._failed.get(row)
        if light is not None:
            value = row_value(light, sid, target_errors)  # type: ignore[arg-type]
            return value, from_target(light, sid, value)
        column = self._columns.get(sid)
        code = _ABSENT if column is None else column.codes[row]
        if code == _VALUE:
            assert column is not None
            return column.values[row], False
        return (ERRORED if code == _ERRORED else None), False

    def _add_model(self, item: ItemResult) -> None:
        scores = [(s.id, s.name, s.value, s.error) for s in item.scores]
        self._add(item.item_id, item.status, item.error, scores, item)

    def _add(
        self,
        item_id: str,
        status: str,
        error: str | None,
        scores: list[Score],
        source: Mapping[str, Any] | ItemResult,
    ) -> None:
        self.items += 1
        row = self.rows.setdefault(item_id, len(self.rows))
        if row == len(self._verdicts):
            self._verdicts.append(0)
            for column in self._columns.values():
                column.grow()
        else:  # a repeated id: the last item counts
            self._failed.pop(row, None)
            for column in self._columns.values():
                column.codes[row] = _ABSENT
        errored = status == "errored" or error is not None
        seen: set[str] = set()
        for sid, name, value, score_error in scores:
            self.names.setdefault(sid, name)
            errored = errored or score_error is not None
            if sid in seen:
                continue  # row_value reads the first score with the id
            seen.add(sid)
            column = self._column(sid)
            if score_error is not None:
                column.codes[row] = _ERRORED
            elif value is not None:
                column.codes[row], column.values[row] = _VALUE, value
        skipped = status in ("skipped", "not_run")
        verdict = None if skipped else "errored" if errored else status
        self._verdicts[row] = _VERDICT_CODE[verdict]
        if status == "errored" and error is not None:  # the target failed
            self._failed[row] = LightItem(
                source.model_dump() if isinstance(source, ItemResult) else source
            )

    def _column(self, sid: str) -> _Column:
        column = self._columns.get(sid)
        if column is None:
            column = self._columns[sid] = _Column(len(self._verdicts))
        return column


def from_target(item: Any, sid: str, value: object) -> bool:
    """Whether the row's value for the scorer is a 0 (or left out) because its target failed."""
    if value is TARGET_FAILED:
        return True
    score = item.score(sid)
    failed = item.status == "errored" and item.error is not None
    return value == 0.0 and failed and (score is None or score.value is None)


def _fields(item: Mapping[str, Any]) -> tuple[str, str, str | None, list[Score]] | None:
    """The fields a comparison reads, or ``None`` when they are not plainly valid."""
    item_id, status, error = (
        item.get("item_id"),
        item.get("status", "passed"),
        item.get("error"),
    )
    if not isinstance(item_id, str) or status not in _STATUSES or not _text(error):
        return None
    scores = []
    for score in item.get("scores") or ():
        fields = _score(score)
        if fields is None:
            return None
        scores.append(fields)
    return item_id, status, error, scores


def _score(score: object) -> Score | None:
    if not isinstance(score, dict):
        return None
    sid, name, value, error = (
        score.get("id"),
        score.get("name"),
        score.get("value"),
        score.get("error"),
    )
    if not isinstance(sid, str) or not isinstance(name, str) or not _text(error):
        return None
    if value is None or type(value) is float:
        return sid, name, value, error
    if type(value) is int:
        return sid, name, float(value), error
    return None


def _text(value: object) -> bool:
    return value is None or isinstance(value, str)


class Paired:
    """One scorer's values on the rows where both runs have one, and the errors left out."""

    __slots__ = (
        "base",
        "base_errors",
        "base_target_errors",
        "cand",
        "cand_errors",
        "cand_target_errors",
    )

    def __init__(self) -> None:
        self.base: list[float] = []
        self.cand: list[float] = []
        self.base_errors = self.cand_errors = 0
        self.base_target_errors = self.cand_target_errors = 0


class Pairs:
    """The rows two runs share: (base row, candidate row), in the base run's order."""

    def __init__(self, base: RunRows, cand: RunRows) -> None:
        self.base, self.cand = base, cand
        self.ids: list[str] = []
        self.rows: list[tuple[int, int]] = []
        for item_id, row in base.rows.items():
            other = cand.rows.get(item_id)
            if other is not None:
                self.ids.append(item_id)
                self.rows.append((row, other))

    def __len__(self) -> int:
        return len(self.rows)

    def scorer(self, sid: str, target_errors: str) -> Paired:
        """The scorer's paired values, as ``row_value`` gives them on both sides."""
        paired = Paired()
        base, cand = self.base, self.cand
        for b, c in self.rows:
            before, before_target = base.value(b, sid, target_errors)
            after, after_target = cand.value(c, sid, target_errors)
            paired.base_errors += before is ERRORED
            paired.cand_errors += after is ERRORED
            paired.base_target_errors += before_target
            paired.cand_target_errors += after_target
            if isinstance(before, float) and isinstance(after, float):
                paired.base.append(before)
                paired.cand.append(after)
        return paired


def stored_rows(store: RunStore, ref: str) -> tuple[RunRecord, RunRows]:
    """The run ``ref`` names (its summary) and its rows, its items file read an item at a time.

    :raises StoreError: as :meth:`RunStore.get <pytest_datasetrun.store.runstore.RunStore.get>`
        does, and for an item that is not a valid item result.
    """
    record = store.get(ref, with_items=False)
    if record.items or file_ref(ref) is not None:  # a run file holds its items
        return record, RunRows.of(record)
    try:
        rows = RunRows.of(record, store.iter_raw_items(record.run_id))
    except ValidationError as exc:
        path = items_path(store.path, record.run_id)
        raise StoreError(
            f"the items of run {record.run_id} cannot be read from {path}: {exc}"
        ) from None
    return record, rows
