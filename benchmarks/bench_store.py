"""Benchmark of the run store, every figure beside its baseline measured in the same run.

Run ``python benchmarks/bench_store.py`` (or ``--quick``); prints markdown tables. Needs
``orjson`` (the ``fast`` extra): the baselines are orjson scripts.

1. **Writing a run** of 1k/10k/100k items (about 0.9 KB of JSON each, 3 scores). Floor: what a
   hand-written writer does with the same items as dicts: ``orjson.dumps`` of the list, write to
   a temporary file, ``fsync``, ``os.replace``, ``fsync`` of the directory. Measured:
   ``write_run`` from the items' JSON texts (what the plugin holds: one payload per result) and
   from pydantic ``ItemResult`` models (``run_dataset``). Configurations run round-robin.
2. **History**: a 1k-item run written as the 1st run of an empty store, as a new run into a
   store holding 499 (the 500th, 501st, ...), and replacing one of those runs, round-robin.
   Each code version writes in its own worker process; ``--against REF`` adds the plugin at
   git REF, interleaved with this checkout.
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
import subprocess
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
from _common import (  # noqa: E402
    AGAINST,
    PYTHON,
    Config,
    load_average,
    machine_info,
    measure,
    use_against,
)

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
    """The 1st run into an empty store against new runs into a full one, round-robin.

    Each code version (this checkout, and each ``--against`` commit) writes in its own worker
    process holding a copy of one filled store; the parent asks them in turn for one timed
    write at a time, so every figure is interleaved with every other.
    """
    items = [make_item(i) for i in range(n)]
    payloads = [item.model_dump_json() for item in items]
    summary = make_record(items).model_copy(update={"items": []})
    store = tmp / "history" / "runs.json"
    fill = []
    for k in range(runs - 1):
        start = time.perf_counter()
        write_run(store, _nth(summary, k), payloads)
        fill.append(time.perf_counter() - start)
    versions = [("this checkout", {}), *AGAINST]
    workers = [
        _Worker(_clone(store, tmp / f"worker{k}"), runs, n, env)
        for k, (_, env) in enumerate(versions)
    ]
    write_run(store, _nth(summary, runs - 1), payloads)  # the reads below: a store of `runs`
    wall: dict[tuple[int, str], list[float]] = {}
    cpu: dict[tuple[int, str], list[float]] = {}
    for round_ in range(-1, repeats * 3):  # round -1: an untimed warm-up
        for k, worker in enumerate(workers):
            for action in _ACTIONS:
                took, used = worker.ask(action)
                if round_ >= 0:
                    wall.setdefault((k, action), []).append(took)
                    cpu.setdefault((k, action), []).append(used)
    for worker in workers:
        worker.close()
    labels = [label for label, _ in versions]
    lines = [
        f"Each a write of one {n:,}-item run; wall time, median (min–max) of {repeats * 3}; "
        f"CPU time ratios after the table. New runs: the {_nth_text(runs + 1)} to the "
        f"{_nth_text(runs + repeats * 3)} (the {_nth_text(runs)} in the warm-up round); "
        f"replaced: one of the first {runs - 1} runs, again each round.",
        "",
        _history_table(labels, wall, runs),
        "",
        "CPU time: "
        + "; ".join(
            f"{label}: new/1st {_ratio(cpu, k, 'new')}, replaced/1st {_ratio(cpu, k, 'replace')}"
            for k, label in enumerate(labels)
        )
        + ".",
        "",
        f"Filling the store (not interleaved): runs 1–10 {_fmt(fill[:10], 1000, ' ms', 1)}, "
        f"runs {runs - 10}–{runs - 1} {_fmt(fill[-10:], 1000, ' ms', 1)}. "
        f"Index after {runs} runs: {store.stat().st_size / 1e3:.0f} KB.",
    ]
    return "\n".join(lines), store


_ACTIONS = ("first", "new", "replace")


def _nth_text(k: int) -> str:
    suffix = "th" if k % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _history_table(labels: list[str], wall: dict[tuple[int, str], list[float]], runs: int) -> str:
    rows = [
        f"| code | 1st run (empty store) | {_nth_text(runs + 1)}+ run (new) | a run replaced "
        f"| **new / 1st** | replaced / 1st |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k, label in enumerate(labels):
        cells = [_fmt(wall[k, action], 1000, " ms", 1) for action in _ACTIONS]
        rows.append(
            f"| {label} | {' | '.join(cells)} | **{_ratio(wall, k, 'new')}** "
            f"| {_ratio(wall, k, 'replace')} |"
        )
    return "\n".join(rows)


def _ratio(times: dict[tuple[int, str], list[float]], k: int, action: str) -> str:
    return f"{statistics.median(times[k, action]) / statistics.median(times[k, 'first']):.2f}x"


def _clone(store: Path, directory: Path) -> Path:
    """A copy of ``store`` in ``directory``: the index copied, the items files hard-linked
    (a write replaces an items file by renaming, never edits it; the index it may append to)."""
    items = items_path(store, "x").parent
    shutil.copytree(items, directory / items.name, copy_function=os.link)
    shutil.copyfile(store, directory / store.name)
    return directory / store.name


class _Worker:
    """A process of one code version (``env``: its PYTHONPATH) timing writes when asked."""

    def __init__(self, store: Path, runs: int, n: int, env: dict[str, str]) -> None:
        cmd = [PYTHON, __file__, "--history-worker", str(store), str(runs), str(n)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}
        )

    def ask(self, action: str) -> tuple[float, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(action + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the history worker {self.proc.args} died")
        took, used = orjson.loads(answer)
        return float(took), float(used)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def history_worker(store: Path, runs: int, n: int) -> None:
    """Serve ``bench_history``: one timed write per line read (first, new or replace)."""
    payloads = [make_item(i).model_dump_json() for i in range(n)]
    summary = make_record([make_item(i) for i in range(n)]).model_copy(update={"items": []})
    empty = store.parent / "first" / "runs.json"
    added = iter(range(runs - 1, 10**6))
    actions: dict[str, Callable[[], object]] = {
        "first": lambda: write_run(empty, _nth(summary, runs - 1), payloads),
        "new": lambda: write_run(store, _nth(summary, next(added)), payloads),
        "replace": lambda: write_run(store, _nth(summary, runs // 2), payloads),
    }
    for line in sys.stdin:
        action = line.strip()
        shutil.rmtree(empty.parent, ignore_errors=True)  # untimed: the 1st run's empty store
        wall, cpu = time.perf_counter(), time.process_time()
        actions[action]()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(orjson.dumps([wall, cpu]).decode(), flush=True)


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
    parser.add_argument(
        "--against",
        metavar="REF",
        help="also time the history writes of the plugin at git REF, interleaved",
    )
    parser.add_argument("--history-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.history_worker:
        store, runs, n = args.history_worker
        history_worker(Path(store), int(runs), int(n))
        return
    sizes, history, big = (
        ([1_000, 10_000], 100, 10_000) if args.quick else ([1_000, 10_000, 100_000], 500, 100_000)
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        if args.against:
            use_against(root, args.against)
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
