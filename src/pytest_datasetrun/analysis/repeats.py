"""Run-level statistics of ``--repeat K``: pass@1, pass@k, pass^k and the rows whose repeats disagree."""

from __future__ import annotations

import statistics
from typing import Any

from pytest_datasetrun.analysis.stats import pass_at_k, pass_hat_k
from pytest_datasetrun.record.results import ItemResult

__all__ = ("repeat_summary",)


def repeat_summary(items: list[ItemResult], k: int, policy: str) -> dict[str, Any] | None:
    """Summarise the repeats of every evaluated row; ``None`` when there were none.

    ``pass@k`` is the chance that at least one of k attempts passes, ``pass^k`` that all k
    pass (unbiased estimators over each row's K attempts, averaged over rows).
    """
    repeated = [item for item in items if item.repeats]
    if not repeated:
        return None
    per_row = [(len(item.repeats), sum(r.passed for r in item.repeats)) for item in repeated]
    summary: dict[str, Any] = {"k": k, "policy": policy, "rows": len(repeated)}
    for j in sorted({1, k}):
        summary[f"pass@{j}"] = statistics.fmean(pass_at_k(n, c, j) for n, c in per_row)
        summary[f"pass^{j}"] = statistics.fmean(pass_hat_k(n, c, j) for n, c in per_row)
    summary["flaky"] = [
        item.item_id
        for item in repeated
        if 0 < sum(r.passed for r in item.repeats) < len(item.repeats)
    ]
    return summary
