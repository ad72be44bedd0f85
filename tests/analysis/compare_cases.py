"""Pairs of runs whose comparisons were recorded with the implementation before issue 15.

``compare_recorded.json`` beside this file holds ``compare_runs(...).model_dump(mode="json")``
of every case, made by the per-item implementation (items as models, one Python step per
resampled item) before the streamed one replaced it; ``test_compare_recorded.py`` checks the
current code gives the same figures. Rerun ``python tests/analysis/compare_cases.py`` only to
record a deliberate change of the figures.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import DatasetInfo, RunRecord, ScorerInfo

RECORDED = Path(__file__).with_name("compare_recorded.json")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

Case = tuple[RunRecord, RunRecord, dict[str, Any]]


def _score(sid: str, value: float | None, error: str | None = None) -> ScorerResult:
    return ScorerResult(id=sid, name=sid, value=value, error=error, threshold=0.5)


def _item(rng: random.Random, i: int, values: dict[str, float], errors: bool) -> ItemResult:
    roll = rng.random() if errors else 1.0
    if roll < 0.02:  # the target failed: no scores
        return ItemResult(item_id=f"q{i:05d}", status="errored", error="boom", error_type="E")
    if roll < 0.03:
        return ItemResult(item_id=f"q{i:05d}", status="skipped")
    scores = [_score(sid, v) for sid, v in values.items()]
    if roll < 0.05:  # one scorer raised
        scores[0] = _score(scores[0].id, None, "scorer raised")
    passed = all(s.value is None or s.value >= 0.5 for s in scores)
    return ItemResult(
        item_id=f"q{i:05d}", status="passed" if passed else "failed", scores=scores
    )  # fmt: skip


def _run(run_id: str, items: list[ItemResult], minutes: int) -> RunRecord:
    scorers = list(dict.fromkeys(s.id for i in items for s in i.scores))
    return RunRecord(
        run_id=run_id, name=f"name-{run_id}", started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0, duration_s=1.0, items=items,
        datasets=[DatasetInfo(path="qa.json", name="qa", sha256="ab" * 32, total=len(items))],
        scorers=[ScorerInfo(id=sid, name=sid, threshold=0.5) for sid in scorers],
    )  # fmt: skip


def _values(kind: str, rng: random.Random, i: int, shift: float) -> dict[str, float]:
    if kind == "tenths":  # the shape of benchmarks/bench_store.py: few distinct differences
        v = ((i + int(shift * 10)) * 7 % 10) / 10
        return {"exact": v, "f1": v, "judge": round(min(1.0, v + rng.random() * 0.2), 1)}
    if kind == "continuous":  # every difference distinct: per-item resampling
        return {"f1": min(1.0, rng.random() + shift), "sim": rng.betavariate(2, 2)}
    # mixed: a 0/1 scorer (exact McNemar), a continuous one and one in tenths
    return {
        "exact": float(rng.random() < 0.6 + shift),
        "f1": min(1.0, rng.random() * 0.9 + shift),
        "judge": round(rng.random(), 1),
    }


def _pair(
    kind: str, n: int, seed: int, shift: float, errors: bool = False
) -> tuple[RunRecord, RunRecord]:
    base_rng, cand_rng = random.Random(seed), random.Random(seed + 1)
    base = [_item(base_rng, i, _values(kind, base_rng, i, 0.0), errors) for i in range(n)]
    cand = [_item(cand_rng, i, _values(kind, cand_rng, i, shift), errors) for i in range(n)]
    return _run(f"20260101T000000000Z-{seed:06x}", base, 0), _run(
        f"20260101T000100000Z-{seed:06x}", cand, 1
    )


def _odd_pair() -> tuple[RunRecord, RunRecord]:
    """Duplicates, added and removed items, a scorer in one run only, a partial run."""
    base, cand = _pair("mixed", 120, 11, 0.05, errors=True)
    base.items.append(base.items[3].model_copy(update={"status": "failed"}))  # a duplicate id
    cand.items = cand.items[5:] + [
        ItemResult(item_id="new-1", scores=[_score("exact", 1.0), _score("extra", 0.3)]),
        cand.items[7].model_copy(update={"scores": [_score("exact", 0.0)]}),  # last one wins
    ]
    cand.status = "partial"
    return base, cand


def cases() -> dict[str, Case]:
    """Every recorded case: base, candidate and the keyword arguments of ``compare_runs``."""
    found: dict[str, Case] = {}
    for kind, n, shift in (("tenths", 600, 0.1), ("continuous", 400, 0.03), ("mixed", 500, 0.08)):
        found[f"{kind}-{n}"] = (*_pair(kind, n, 1, shift), {})
        found[f"{kind}-{n}-errors-seed7"] = (*_pair(kind, n, 2, shift, True), {"seed": 7})
    found["mixed-exclude-none"] = (
        *_pair("mixed", 300, 3, -0.1, True),
        {"target_errors": "exclude", "correction": "none", "max_regression": 0.02},
    )
    found["continuous-small"] = (*_pair("continuous", 12, 4, 0.2), {"confidence": 0.9})
    found["tenths-identical"] = (*_pair("tenths", 200, 5, 0.0), {})
    found["odd"] = (*_odd_pair(), {"max_regression": {"exact": 0.01, "*": 0.5}})
    return found


def record() -> None:
    """Write the comparisons of every case to :data:`RECORDED`."""
    from pytest_datasetrun.analysis.compare import compare_runs

    figures = {
        name: compare_runs(base, cand, **kwargs).model_dump(mode="json")
        for name, (base, cand, kwargs) in cases().items()
    }
    RECORDED.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    record()
