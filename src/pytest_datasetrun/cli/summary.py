"""Stored run summaries as plain JSON, with the defaults of ``RunRecord`` filled in.

``runs`` and ``show`` read the index documents as they are stored (fields at their default
left out) instead of validating every one into pydantic models: a command that lists or shows
runs starts without importing pydantic. A document these functions cannot read is validated
into a ``RunRecord`` instead (:func:`plain`), which names what is wrong with it.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from typing import Any

from pytest_datasetrun.store.index import StoreWarning

__all__ = ("plain", "started_at")

_TOP: dict[str, Any] = {
    "status": "completed",
    "exit_status": 0,
    "datasets": [],
    "target": None,
    "scorers": [],
    "options": {},
    "environment": {},
    "counts": {},
    "aggregates": {},
    "gates": [],
    "comparison": None,
    "repeats": None,
    "replayed_from": None,
    "replay": None,
    "cache": None,
    "usage": None,
}
_COUNTS = dict.fromkeys(("selected", "passed", "failed", "errored", "skipped", "not_run"), 0)
_AGGREGATE: dict[str, Any] = {
    **dict.fromkeys(("mean", "min", "max", "stdev", "threshold", "pass_rate")),
    **dict.fromkeys(("n", "passed", "failed", "errors", "target_errors"), 0),
}
_ENVIRONMENT: dict[str, Any] = {
    **dict.fromkeys(("git_commit", "git_dirty", "git_branch")),
    **dict.fromkeys(("python", "pytest", "plugin", "platform"), ""),
    "workers": 0,
}
_NESTED = {"datasets": {"selected": 0, "format": ""}, "scorers": {"threshold": None, "params": {}}}


def plain(doc: dict[str, Any]) -> dict[str, Any] | None:
    """``doc`` with every default filled in, checked as far as ``runs`` and ``show`` read it.

    :param doc: a stored summary (:meth:`RunStore.documents`).
    :returns: the summary, or ``None`` (with a warning) when it is not a run summary.
    """
    try:
        return _filled(doc)
    except (AttributeError, KeyError, TypeError, ValueError):
        pass
    from pydantic import ValidationError

    from pytest_datasetrun.record.run import RunRecord

    try:
        return _filled(RunRecord.model_validate(doc).summary())
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        warnings.warn(
            f"run {doc.get('run_id')!r} is not a run summary: field '{field}': "
            f"{first['msg']}; skipped",
            StoreWarning,
            stacklevel=2,
        )
        return None


def started_at(doc: dict[str, Any]) -> datetime:
    """The run's start time (UTC when the stored time has no offset)."""
    return _when(doc["started_at"])


def _filled(doc: dict[str, Any]) -> dict[str, Any]:
    out = {**_TOP, **doc}  # the shared defaults are replaced below, or only read
    out["counts"] = {**_COUNTS, **out["counts"]}
    out["environment"] = {**_ENVIRONMENT, **out["environment"]}
    out["aggregates"] = {sid: {**_AGGREGATE, **agg} for sid, agg in out["aggregates"].items()}
    for key, defaults in _NESTED.items():
        out[key] = [{**defaults, **entry} for entry in out[key]]
    if out["target"] is not None:
        out["target"] = {"version": "", **out["target"]}
    out["gates"] = [{"detail": "", **gate} for gate in out["gates"]]
    for field in ("run_id", "name", "status"):
        if not isinstance(out[field], str):
            raise TypeError(field)
    numbers = [out["duration_s"], out["exit_status"], *out["counts"].values()]
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise TypeError("a number that is not one")
    started_at(out)
    return out


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
