"""From what a target returned to what a scorer sees: statuses, ``output=`` rules, built-in rules."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from pytest_datasetrun.engine.adapters import Extracted, extract
from pytest_datasetrun.engine.adapters.base import get

__all__ = (
    "TargetStatusError",
    "WORKFLOW_ERROR_STATUSES",
    "WORKFLOW_SUCCESS_STATUSES",
    "unwrap_status",
    "read_output",
    "is_repr_only",
)

WORKFLOW_ERROR_STATUSES = (
    "failed",
    "failure",
    "tripwire",
    "suspended",
    "paused",
    "error",
    "errored",
    "cancelled",
    "canceled",
    "timeout",
    "timed_out",
    "aborted",
    "rejected",
    "incomplete",
    "interrupted",
)
WORKFLOW_SUCCESS_STATUSES = (
    "success",
    "succeeded",
    "successful",
    "completed",
    "complete",
    "ok",
    "done",
    "finished",
)
_JSON_TYPES = (str, int, float, bool, type(None), list, tuple, dict)


class TargetStatusError(RuntimeError):
    """A workflow returned a status that is not a success."""

    def __init__(self, status: str, detail: object = None, *, unknown: bool = False) -> None:
        self.status = status
        if unknown:
            message = (
                f"workflow ended with unknown status '{status}': success is one of "
                f"{', '.join(WORKFLOW_SUCCESS_STATUSES)}; errors are {', '.join(WORKFLOW_ERROR_STATUSES)}"
            )
        else:
            message = f"workflow ended with status '{status}'"
        if detail not in (None, ""):
            message += f": {detail}"
        super().__init__(message)


def unwrap_status(result: Any) -> Any:
    """A workflow result's ``result``/``output`` on a success status; raise for any other status."""
    status = get(result, "status")
    if status is None:
        return result
    word = str(getattr(status, "value", status)).strip().lower()
    if word in WORKFLOW_SUCCESS_STATUSES:
        for key in ("result", "output"):
            value = get(result, key)
            if value is not None:
                return value
        return None
    detail = get(result, "error") or get(result, "reason")
    raise TargetStatusError(str(status), detail, unknown=word not in WORKFLOW_ERROR_STATUSES)


def read_output(result: Any, rule: Callable[[Any], Any] | str | None) -> Extracted:
    """Apply the target's ``output=`` rule, else the built-in rules, else keep the result."""
    if rule is None:
        return extract(result) or Extracted(result)
    value = rule(result) if callable(rule) else _path(result, rule)
    return Extracted(value, trace=None if value is result else result)


def _path(result: Any, path: str) -> Any:
    """``a.b.0.c``: attributes or mapping keys, and list indexes."""
    value = result
    for step in path.split("."):
        if isinstance(value, (list, tuple)) and step.lstrip("-").isdigit():
            value = value[int(step)]
        elif isinstance(value, Mapping):
            value = value[step]
        else:
            value = getattr(value, step)
        if inspect.ismethod(value):
            value = value()
    return value


def is_repr_only(output: Any, recorded: Any) -> bool:
    """Whether the record could only keep ``repr(output)``: an object with no JSON form."""
    return not isinstance(output, _JSON_TYPES) and isinstance(recorded, str)
