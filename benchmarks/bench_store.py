"""Benchmark of the run store: ``write_run`` against a plain ``json.dump``, and history growth.

Run ``python benchmarks/bench_store.py`` (or ``--quick``); prints markdown tables.

* Runs of 1k, 10k and 100k items (about 0.9 KB of JSON each, 3 scores): ``write_run`` into a fresh
  store against two baselines on the same data, in the same process: ``json.dump`` of
  ``[item.model_dump(mode="json") ...]`` (what a naive writer does) and ``json.dump`` of
  ``json.dumps`` of already-dumped dicts (pure encoding and file write, no fsync).
* The cost of writing the 1st, 10th, ... 100th 1k-item run into one store.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import RunRecord, ScorerInfo, aggregate_scores, count_items
from pytest_datasetrun.store.runstore import items_path, write_run

__all__ = ("main",)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCORERS = [ScorerInfo(id=s, name=s, threshold=0.5) for s in ("exact", "f1", "judge")]


def make_item(i: int) -> ItemResult:
    """A realistic item: a question with some context, an answer, three scores."""
    scores = [
        ScorerResult(
            id=info.id, name=info.name, value=(i * 7 % 10) / 10, passed=i % 3 != 0,
            threshold=0.5, reason=f"{info.name}: {i % 5} of 5 key facts present", duration_s=0.001,
        )
        for info in SCORERS
    ]  # fmt: skip
    return ItemResult(
        item_id=f"q{i:06d}", node_id=f"data/qa.jsonl::q{i:06d}", dataset="qa", index=i,
        input={"question": f"What is the capital of region {i}?", "context": "lorem ipsum " * 4},
        expected=f"City {i}", output=f"The capital of region {i} is City {i}.",
        status="passed" if i % 3 else "failed", scores=scores, tags=["geo", "smoke"],
        duration_s=0.42, target_duration_s=0.4,
    )  # fmt: skip


def make_record(items: list[ItemResult], k: int = 0) -> RunRecord:
    started = T0 + timedelta(minutes=k)
    return RunRecord(
        run_id=f"{started:%Y%m%dT%H%M%S}000Z-{k:06x}", name="bench", started_at=started,
        finished_at=started, duration_s=1.0, scorers=SCORERS, counts=count_items(items),
        aggregates=aggregate_scores(items, SCORERS), items=items,
    )  # fmt: skip


def median_time(action: Callable[[int], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls ``action(0)``, ``action(1)``, ..."""
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        action(k)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_sizes(sizes: list[int], repeats: int, tmp: Path) -> None:
    print(
        "| items | JSON size | `write_run` | `json.dump(model_dump)` | `json.dumps(dicts)` | ratio to model_dump |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        items = [make_item(i) for i in range(n)]
        record = make_record(items)
        store = tmp / f"size{n}" / "runs.json"
        dicts = [item.model_dump(mode="json") for item in items]

        def naive(k: int, n: int = n, items: list[ItemResult] = items) -> None:
            with open(tmp / f"naive{n}-{k}.json", "w") as handle:
                json.dump([item.model_dump(mode="json") for item in items], handle)

        def plain(k: int, n: int = n, dicts: list[dict[str, object]] = dicts) -> None:
            with open(tmp / f"plain{n}-{k}.json", "w") as handle:
                handle.write(json.dumps(dicts))

        def ours(k: int, record: RunRecord = record, store: Path = store) -> None:
            write_run(store, record.model_copy(update={"run_id": f"{record.run_id}{k}"}))

        t_ours, t_naive, t_plain = (median_time(f, repeats) for f in (ours, naive, plain))
        size = items_path(store, f"{record.run_id}0").stat().st_size
        print(
            f"| {n:,} | {size / 1e6:.1f} MB | {t_ours:.3f} s | {t_naive:.3f} s | {t_plain:.3f} s "
            f"| {t_ours / t_naive:.2f} |"
        )


def bench_history(runs: int, n: int, tmp: Path) -> None:
    items = [make_item(i) for i in range(n)]
    store = tmp / "history" / "runs.json"
    times = []
    for k in range(runs):
        record = make_record(items, k)
        start = time.perf_counter()
        write_run(store, record)
        times.append(time.perf_counter() - start)
    marks = sorted({0, 9, runs // 2 - 1, runs - 1})
    print(f"\n| run # (of {runs} x {n:,}-item runs, one store) | `write_run` time |")
    print("|---:|---:|")
    for k in marks:
        print(f"| {k + 1} | {times[k] * 1000:.1f} ms |")
    print(f"| median of all | {statistics.median(times) * 1000:.1f} ms |")
    print(f"\nindex after {runs} runs: {store.stat().st_size / 1e3:.0f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k items, 30 history runs")
    parser.add_argument("--dir", help="where to write (default: the system temp dir)")
    args = parser.parse_args()
    sizes, repeats, history = (
        ([1_000, 10_000], 3, 30) if args.quick else ([1_000, 10_000, 100_000], 5, 100)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        bench_sizes(sizes, repeats, Path(tmp))
        bench_history(history, 1_000, Path(tmp))


if __name__ == "__main__":
    main()
