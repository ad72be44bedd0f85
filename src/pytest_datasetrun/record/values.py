"""How one scorer's value on one row enters aggregates, gates and comparisons.

One rule everywhere (issue 10.2): a row whose *target* failed (raised, timed out, gave a bad
status) gave no answer, so it counts as 0 for every scorer (``target_errors="zero"``, the
default) or is left out (``"exclude"``); a *scorer* that raised is errored: never a 0, always
left out of means and pairs, and counted apart.
"""

from __future__ import annotations

from typing import Literal, cast

from pytest_datasetrun.record.results import ItemResult

__all__ = (
    "TargetErrors",
    "TARGET_ERRORS",
    "ERRORED",
    "TARGET_FAILED",
    "row_value",
    "target_failed",
)

TargetErrors = Literal["zero", "exclude"]
TARGET_ERRORS: tuple[TargetErrors, ...] = ("zero", "exclude")


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ERRORED = _Marker("ERRORED")  # the scorer raised: left out, counted as a scorer error
TARGET_FAILED = _Marker("TARGET_FAILED")  # the target failed and target errors are excluded

RowValue = float | _Marker | None


def target_failed(item: ItemResult) -> bool:
    """Whether the row's target gave no answer (it raised, timed out or returned a bad status)."""
    return item.status == "errored" and item.error is not None


def row_value(item: ItemResult, scorer_id: str, target_errors: str = "zero") -> RowValue:
    """The scorer's value on the row for aggregates, gates and comparisons.

    :returns: the value; ``0.0`` for a row whose target failed (``target_errors="zero"``) or
        :data:`TARGET_FAILED` (``"exclude"``); :data:`ERRORED` for a scorer that raised;
        ``None`` when the scorer did not apply to the row (skipped, not run, not configured).
    """
    score = next((s for s in item.scores if s.id == scorer_id), None)
    if score is not None and score.error is not None:
        return ERRORED
    if score is not None and score.value is not None:
        return float(score.value)
    if target_failed(item):
        return 0.0 if check_target_errors(target_errors) == "zero" else TARGET_FAILED
    return None


def check_target_errors(value: str) -> TargetErrors:
    """``value`` as a :data:`TargetErrors`.

    :raises ValueError: a value other than ``zero`` or ``exclude``.
    """
    if value not in TARGET_ERRORS:
        raise ValueError(f"target errors must be 'zero' or 'exclude', not {value!r}")
    return cast(TargetErrors, value)
