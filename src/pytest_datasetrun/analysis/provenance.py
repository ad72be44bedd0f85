"""Where a run's outputs came from: the replay and cache summaries stored on the run record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_datasetrun.record.results import ItemResult

__all__ = ("cache_summary", "replay_summary", "sample_vias", "target_calls")


def sample_vias(item: ItemResult) -> list[str]:
    """Where each of the row's samples came from (one per repeat); none for a row not run."""
    if item.status == "not_run":
        return []
    return [repeat.via for repeat in item.repeats] if item.repeats else [item.via]


def target_calls(item: ItemResult) -> int:
    """The target calls the row made in this run (samples replayed, cached or refused: none)."""
    if item.status == "skipped":  # as the costs have always counted it: not a spending row
        return 0
    return sample_vias(item).count("target")


def replay_summary(
    items: Sequence[ItemResult],
    changed: Sequence[str] = (),
    strict: bool = False,
    rerun_hint: str = "--replay-errors=rerun retries them",
) -> dict[str, Any]:
    """Which rows were replayed, how many called the target, stored errors kept, changed rows.

    :param rerun_hint: how to retry the kept target errors ("" where nothing can).
    """
    vias = [sample_vias(item) for item in items]
    summary: dict[str, Any] = {
        "rows": [item.item_id for item, v in zip(items, vias, strict=True) if "replay" in v],
        "called": sum("target" in v for v in vias),
        "missing": [item.item_id for item, v in zip(items, vias, strict=True) if "refused" in v],
        "errors_kept": sum(
            item.via == "replay" and item.status == "errored" and not item.scores for item in items
        ),
        "changed": list(changed),
        "strict": strict,
        "rerun_hint": rerun_hint,
    }
    if any(item.repeats for item in items):
        summary["samples_replayed"] = sum(v.count("replay") for v in vias)
        summary["calls"] = sum(v.count("target") for v in vias)
    return summary


def cache_summary(items: Sequence[ItemResult], mode: str, directory: str) -> dict[str, Any]:
    """The run's cache hits, misses, writes and corrupt entries, summed over its items."""
    marks = [item.cache for item in items if item.cache]
    counts = {k: sum(m.get(k, 0) for m in marks) for k in ("hits", "misses", "writes", "corrupt")}
    return {"mode": mode, "dir": directory, **counts}
