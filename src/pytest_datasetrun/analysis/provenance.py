"""Where a run's outputs came from: the replay and cache summaries stored on the run record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_datasetrun.record.results import ItemResult

__all__ = ("cache_summary", "replay_summary")


def replay_summary(
    items: Sequence[ItemResult], changed: Sequence[str] = (), strict: bool = False
) -> dict[str, Any]:
    """Which rows were replayed, how many called the target, stored errors kept, changed rows."""
    return {
        "rows": [item.item_id for item in items if item.via == "replay"],
        "called": sum(
            item.via == "target" and item.status != "not_run" and item.error_type != "ReplayMissing"
            for item in items
        ),
        "missing": [item.item_id for item in items if item.error_type == "ReplayMissing"],
        "errors_kept": sum(
            item.via == "replay" and item.status == "errored" and not item.scores for item in items
        ),
        "changed": list(changed),
        "strict": strict,
    }


def cache_summary(items: Sequence[ItemResult], mode: str, directory: str) -> dict[str, Any]:
    """The run's cache hits, misses, writes and corrupt entries, summed over its items."""
    marks = [item.cache for item in items if item.cache]
    counts = {k: sum(m.get(k, 0) for m in marks) for k in ("hits", "misses", "writes", "corrupt")}
    return {"mode": mode, "dir": directory, **counts}
