"""Benchmark of the run store, every figure beside its baseline measured in the same run.

Run ``python benchmarks/bench_store.py`` (or ``--quick``); prints markdown tables. Needs
``orjson`` (the ``fast`` extra): the baselines are orjson scripts.

1. **Writing a run** of 1k/10k/100k items (about 0.9 KB of JSON each, 3 scores). Floor: what a
   hand-written writer does with the same items as dicts: ``orjson.dumps`` of the list, write to
   a temporary file, ``fsync``, ``os.replace``, ``fsync`` of the directory. Measured:
   ``write_run`` from the items' JSON texts (what the plugin holds: one payload per result) and
   from pydantic ``ItemResult`` models (``run_dataset``). Configurations run round-robin.
2. **History**: a 1k-item run written as the 1st run of an empty store and as the 500th run of
   a store holding 499 (the same run id each time, so it replaces itself), round-robin.
3. **Reading**, each a fresh ``pytest-datasetrun`` process, round-robin with an orjson script
   doing the same: ``runs`` and ``show latest`` of a 500-run store; ``show`` and ``export`` of a
   100k-item run against an orjson load-and-print script; ``compare`` of two 10k-item runs
   against an orjson load-and-pair script (at 100k items the comparison's permutation test alone
   takes minutes; the pairing floor at 100k is shown for scale). Peak memory is
   the sampled PSS of the process tree (``ru_maxrss`` would count the benchmark's own pages in
   the forked child).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.record.run import RunRecord, ScorerInfo, aggregate_scores, count_items
from pytest_datasetrun.store.runstore import items_path, write_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PYTHON, Config, load_average, machine_info, measure  # noqa: E402

__all__ = ("main",)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCORERS = [ScorerInfo(id=s, name=s, threshold=0.5) for s in ("exact", "f1", "judge")]
CLI = (PYTHON, "-m", "pytest_datasetrun")


def make_item(i: int, shift: int = 0) -> ItemResult:
    """A realistic item: a question with some context, an answer, three scores."""
    scores = [
        ScorerResult(
            id=info.id, name=info.name, value=((i + shift) * 7 % 10) / 10, passed=i % 3 != 0,
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


def _stats(times: list[float]) -> tuple[float, float, float]:
    return statistics.median(times), min(times), max(times)


def _fmt(times: list[float], unit: float = 1.0, suffix: str = " s", digits: int = 3) -> str:
    med, lo, hi = _stats(times)
    return f"{med * unit:.{digits}f}{suffix} ({lo * unit:.{digits}f}–{hi * unit:.{digits}f})"


def round_robin(
    actions: dict[str, Callable[[int], object]], repeats: int
) -> dict[str, list[float]]:
    """Time each action ``repeats`` times, interleaved, after one untimed warm-up round."""
    times: dict[str, list[float]] = {label: [] for label in actions}
    for k in range(-1, repeats):
        for label, action in actions.items():
            start = time.perf_counter()
            action(k + 1)
            if k >= 0:
                times[label].append(time.perf_counter() - start)
    return times


def floor_write(path: Path, dicts: list[dict[str, object]]) -> None:
    """The floor: orjson of the items, temp file, fsync, rename, directory fsync."""
    data = orjson.dumps(dicts)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".floor.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    os.fsync(dir_fd)
    os.close(dir_fd)


def bench_write(sizes: list[int], repeats: int, tmp: Path) -> str:
    rows = [
        "| items | JSON size | floor: orjson + write + fsync + rename | `write_run` from payloads "
        "| ratio | `write_run` from models | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        items = [make_item(i) for i in range(n)]
        record = make_record(items)
        summary = record.model_copy(update={"items": []})
        dicts = [item.model_dump(mode="json") for item in items]
        payloads = [item.model_dump_json() for item in items]
        store = tmp / f"size{n}" / "runs.json"
        store.parent.mkdir(parents=True)

        def run_id(k: int, base: str = record.run_id) -> str:
            return f"{base}{k % 3}"

        times = round_robin(
            {
                "floor": lambda k, d=dicts, s=store: floor_write(
                    s.parent / f"floor{k % 3}.json", d
                ),
                "payloads": lambda k, r=summary, p=payloads, s=store: write_run(
                    s, r.model_copy(update={"run_id": run_id(k)}), p
                ),
                "models": lambda k, r=record, s=store: write_run(
                    s, r.model_copy(update={"run_id": run_id(k)})
                ),
            },
            repeats,
        )
        floor = statistics.median(times["floor"])
        size = items_path(store, run_id(0)).stat().st_size
        rows.append(
            f"| {n:,} | {size / 1e6:.1f} MB | {_fmt(times['floor'])} | {_fmt(times['payloads'])} "
            f"| {statistics.median(times['payloads']) / floor:.2f}x | {_fmt(times['models'])} "
            f"| {statistics.median(times['models']) / floor:.2f}x |"
        )
        del items, record, summary, dicts, payloads
    return "\n".join(rows)


def bench_history(runs: int, n: int, repeats: int, tmp: Path) -> tuple[str, Path]:
    """The 1st run into an empty store against the ``runs``-th into a full one, round-robin."""
    items = [make_item(i) for i in range(n)]
    payloads = [item.model_dump_json() for item in items]
    summary = make_record(items).model_copy(update={"items": []})
    store = tmp / "history" / "runs.json"
    fill = []
    for k in range(runs - 1):
        start = time.perf_counter()
        write_run(store, _nth(summary, k), payloads)
        fill.append(time.perf_counter() - start)
    last = _nth(summary, runs - 1)

    def first(k: int) -> None:
        shutil.rmtree(tmp / "first", ignore_errors=True)
        write_run(tmp / "first" / "runs.json", last, payloads)

    def nth(k: int) -> None:  # the same run id each time: it replaces itself, the store stays full
        write_run(store, last, payloads)

    cpu: dict[str, list[float]] = {"first": [], "nth": []}

    def timed(label: str, action: Callable[[int], None]) -> Callable[[int], None]:
        def run(k: int) -> None:  # CPU time too: less swayed by other work on the machine
            start = time.process_time()
            action(k)
            cpu[label].append(time.process_time() - start)

        return run

    times = round_robin({"first": timed("first", first), "nth": timed("nth", nth)}, repeats * 3)
    ratio = statistics.median(times["nth"]) / statistics.median(times["first"])
    cpu = {label: values[1:] for label, values in cpu.items()}  # without the warm-up round
    cpu_ratio = statistics.median(cpu["nth"]) / statistics.median(cpu["first"])
    lines = [
        f"| write of one {n:,}-item run | `write_run` wall (median, min–max of {repeats * 3}) "
        "| CPU time |",
        "|---|---:|---:|",
        f"| 1st run (empty store) | {_fmt(times['first'], 1000, ' ms', 1)} "
        f"| {_fmt(cpu['first'], 1000, ' ms', 1)} |",
        f"| {runs}th run ({runs - 1} runs in the store) | {_fmt(times['nth'], 1000, ' ms', 1)} "
        f"| {_fmt(cpu['nth'], 1000, ' ms', 1)} |",
        f"| **{runs}th / 1st** | **{ratio:.2f}x** | **{cpu_ratio:.2f}x** |",
        "",
        f"Filling the store (not interleaved): runs 1–10 {_fmt(fill[:10], 1000, ' ms', 1)}, "
        f"runs {runs - 10}–{runs - 1} {_fmt(fill[-10:], 1000, ' ms', 1)}. "
        f"Index after {runs} runs: {store.stat().st_size / 1e3:.0f} KB.",
    ]
    return "\n".join(lines), store


def _nth(summary: RunRecord, k: int) -> RunRecord:
    started = T0 + timedelta(minutes=k)
    run_id = f"{started:%Y%m%dT%H%M%S}000Z-{k:06x}"
    return summary.model_copy(update={"run_id": run_id, "started_at": started})


_PAIR_SCRIPT = """
import sys, orjson
def load(path):
    with open(path, "rb") as handle:
        return orjson.loads(handle.read())
base = {item["item_id"]: item for item in load(sys.argv[1])}
diffs = {}
for item in load(sys.argv[2]):
    other = base.get(item["item_id"])
    if other is None:
        continue
    before = {s["id"]: s["value"] for s in other["scores"]}
    for s in item["scores"]:
        if s["id"] in before and s["value"] is not None and before[s["id"]] is not None:
            diffs.setdefault(s["id"], []).append(s["value"] - before[s["id"]])
print({sid: sum(d) / len(d) for sid, d in diffs.items()})
"""

_LOAD_SCRIPT = """
import sys, orjson
with open(sys.argv[1], "rb") as handle:
    items = orjson.loads(handle.read())
out = sys.stdout
for item in items:
    out.write(orjson.dumps(item).decode() + "\\n")
"""


def two_runs(store: Path, n: int) -> list[str]:
    """Two runs of ``n`` items (scores shifted between them) in ``store``; their items files."""
    store.parent.mkdir(parents=True)
    for k, shift in ((0, 0), (1, 1)):
        items = [make_item(i, shift) for i in range(n)]
        record = make_record(items, k)
        write_run(
            store, record.model_copy(update={"items": []}), (i.model_dump_json() for i in items)
        )
        del items, record
    ids = sorted(p.stem for p in items_path(store, "x").parent.glob("*.json"))
    return [str(items_path(store, run_id)) for run_id in ids]


def bench_read(
    history: Path, n: int, m: int, repeats: int, tmp: Path, *, history_only: bool = False
) -> str:
    """CLI commands as fresh processes beside orjson scripts, round-robin."""
    big, small = tmp / "big" / "runs.json", tmp / "small" / "runs.json"
    files, pair = (["", ""], ["", ""]) if history_only else (two_runs(big, n), two_runs(small, m))
    (tmp / "pair.py").write_text(_PAIR_SCRIPT)
    (tmp / "load.py").write_text(_LOAD_SCRIPT)
    devnull = {"PYTHONUNBUFFERED": "0"}
    sh = ("/bin/sh", "-c")

    def cli(*args: str) -> tuple[str, ...]:
        quoted = " ".join(f"'{a}'" for a in (*CLI, *args))
        return (*sh, f"{quoted} > /dev/null || test $? -eq 1")  # compare: 1 = regression

    def script(name: str, *args: str) -> tuple[str, ...]:
        quoted = " ".join(f"'{a}'" for a in (PYTHON, str(tmp / name), *args))
        return (*sh, f"{quoted} > /dev/null")

    configs = [
        Config("python -c pass", (PYTHON, "-c", "pass"), tmp, "", env=devnull),
        Config("runs (500 runs)", cli("--store", str(history), "runs"), tmp, "", env=devnull),
        Config("show latest (500 runs, 1k items)", cli("--store", str(history), "show", "latest"), tmp, "", env=devnull),
        Config(f"floor: orjson load + print ({n:,} items)", script("load.py", files[1]), tmp, "", env=devnull),
        Config(f"show latest ({n:,} items)", cli("--store", str(big), "show", "latest"), tmp, "", env=devnull),
        Config(f"export latest --format jsonl ({n:,} items)", cli("--store", str(big), "export", "latest"), tmp, "", env=devnull),
        Config(f"floor: orjson load-and-pair ({n:,} + {n:,} items)", script("pair.py", *files), tmp, "", env=devnull),
        Config(f"floor: orjson load-and-pair ({m:,} + {m:,} items)", script("pair.py", *pair), tmp, "", env=devnull),
        Config(f"compare latest~1 latest ({m:,} + {m:,} items)", cli("--store", str(small), "compare", "latest~1", "latest"), tmp, "", env=devnull),
    ]  # fmt: skip
    results = measure(configs[:3] if history_only else configs, repeats)
    rows = [
        "| command | wall (median, min–max) | CPU user+sys (median, min–max) | peak PSS |",
        "|---|---:|---:|---:|",
    ]
    for result in results:
        walls, cpus = [run.wall_s for run in result.runs], [run.cpu_s for run in result.runs]
        rows.append(
            f"| {result.label} | {_fmt(walls, 1000, ' ms', 0)} | {_fmt(cpus, 1000, ' ms', 0)} "
            f"| {result.tree_rss_mb:.0f} MiB |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k items, 100 history runs")
    parser.add_argument("--repeat", type=int, default=5, metavar="N", help="timed runs per figure")
    parser.add_argument("--dir", help="where to write (default: the system temp dir)")
    parser.add_argument(
        "--history-only",
        action="store_true",
        help="only the history figures and the reads of the history store",
    )
    args = parser.parse_args()
    sizes, history, big = (
        ([1_000, 10_000], 100, 10_000) if args.quick else ([1_000, 10_000, 100_000], 500, 100_000)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        write = "" if args.history_only else bench_write(sizes, args.repeat, root)
        hist, store = bench_history(history, 1_000, args.repeat, root)
        small = 10_000 if not args.quick else 1_000
        read = bench_read(store, big, small, args.repeat, root, history_only=args.history_only)
    print(machine_info())
    if write:
        print(f"\n#### Writing a run (median and min–max of {args.repeat}, round-robin)\n")
        print(write)
    print(f"\n#### History: {history} runs into one store\n\n{hist}")
    print(f"\n#### Reading (fresh processes, median and min–max of {args.repeat}, round-robin)\n")
    print(read)
    print(f"\n{load_average()} at the end")


if __name__ == "__main__":
    main()
