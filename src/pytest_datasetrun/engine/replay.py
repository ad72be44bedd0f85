"""Replaying a stored run: each row takes its target output (or target error) from that run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pytest_datasetrun.data.dataset import DatasetItem
from pytest_datasetrun.record.results import ItemResult, Usage, jsonable

__all__ = ("Recalled", "RecalledError", "ReplaySource", "REPLAY_ERRORS")

REPLAY_ERRORS = ("keep", "rerun")


@dataclass(frozen=True)
class Recalled:
    """An output (or a target error) that did not come from calling the target."""

    output: Any = None
    error: str | None = None
    error_type: str | None = None
    usage: Usage | None = None
    duration: float = 0.0  # the original call's latency


class RecalledError(Exception):
    """A replayed target error, or a row --replay-strict refuses to call the target for."""

    def __init__(self, text: str, error_type: str | None) -> None:
        super().__init__(text)
        self.text = text
        self.error_type = error_type or "ReplayError"


# Shown by pytest as "ReplayedError: <the stored error>" in the short summary.
RecalledError.__name__ = RecalledError.__qualname__ = "ReplayedError"
RecalledError.__module__ = "builtins"


class ReplaySource:
    """The outputs of a stored run, by dataset file name and row id.

    :param run_id: the stored run (named in messages and errors).
    :param items: its items.
    :param strict: a row the run cannot answer is an error instead of a target call.
    :param rerun_errors: call the target again for rows whose stored call errored.
    :param rerun_hint: how to call the target again for them, said beside a kept error
        (``--replay-errors=rerun`` in pytest; nothing where no such option exists).
    """

    def __init__(
        self,
        run_id: str,
        items: Iterable[ItemResult],
        *,
        strict: bool,
        rerun_errors: bool,
        rerun_hint: str = "--replay-errors=rerun calls the target again",
    ) -> None:
        self.run_id = run_id
        self.rerun_hint = rerun_hint
        self.strict = strict
        self.rerun_errors = rerun_errors
        self._by_file: dict[tuple[str, str], ItemResult] = {}
        self._by_id: dict[str, list[ItemResult]] = {}
        for item in items:
            self._by_file[(PurePath(item.dataset).name, item.item_id)] = item
            self._by_id.setdefault(item.item_id, []).append(item)

    def stored(self, item: DatasetItem, dataset: str) -> ItemResult | None:
        """The stored result of this row, matched by file name and id (or id alone if unique)."""
        found = self._by_file.get((PurePath(dataset).name, item.id))
        if found is None:
            same_id = self._by_id.get(item.id, [])
            found = same_id[0] if len(same_id) == 1 else None
        return found

    def changed(self, item: DatasetItem, dataset: str) -> bool:
        """The row is in the stored run but its input is not the one replayed there."""
        stored = self.stored(item, dataset)
        return stored is not None and stored.input != jsonable(item.input)

    def recall(self, item: DatasetItem, dataset: str, repeat: int) -> Recalled | None:
        """The stored output of this row and repeat; None means: call the target."""
        stored = self.stored(item, dataset)
        if stored is None or stored.input != jsonable(item.input):
            why = "is not in" if stored is None else "has a different input than in"
            return self._missing(f"row {item.id!r} {why} the replayed run {self.run_id}")
        output, error = _stored_call(stored, repeat)
        if output is _ABSENT:
            return self._missing(
                f"repeat {repeat + 1} of row {item.id!r} is not in run {self.run_id}"
            )
        single = not stored.repeats
        duration = stored.target_duration_s if single else stored.repeats[repeat].duration_s
        if error is not None:
            if self.rerun_errors:
                return None
            hint = f"; {self.rerun_hint}" if self.rerun_hint else ""
            return Recalled(
                error=f"{error} (replayed from run {self.run_id}{hint})",
                error_type=stored.error_type,
                duration=duration,
            )
        return Recalled(output=output, usage=stored.usage if single else None, duration=duration)

    def _missing(self, why: str) -> Recalled | None:
        if not self.strict:
            return None
        return Recalled(
            error=f"{why} (--replay-strict: the target is not called)", error_type="ReplayMissing"
        )


_ABSENT = object()


def _stored_call(stored: ItemResult, repeat: int) -> tuple[Any, str | None]:
    """The output and target error of one stored call; ``_ABSENT`` when it was never made."""
    if stored.repeats:
        if repeat >= len(stored.repeats):
            return _ABSENT, None
        one = stored.repeats[repeat]
        return one.output, one.error
    xfailed = (stored.error or "").startswith("xfail")  # skipped by pytest after its call
    if repeat > 0 or stored.status == "not_run" or (stored.status == "skipped" and not xfailed):
        return _ABSENT, None
    target_error = stored.status == "errored" and stored.error is not None and not stored.scores
    return stored.output, stored.error if target_error else None
