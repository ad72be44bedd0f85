"""Benchmark of the target-call cache: lookup and write cost per entry at 1k and 100k entries.

Run ``python benchmarks/bench_cache.py`` (``--quick``: 1k and 10k); prints a markdown table.

Three stores of the same entries (an output of about 0.5 KB plus usage), side by side:

* ``CallCache``: the shipped store, one SQLite file in WAL mode (``engine/cache.py``);
* baseline ``json file``: one JSON object of every entry, read whole for a lookup and rewritten
  atomically (temp file + ``os.replace``) for a write, which is what a process-safe cache in
  one JSON file has to do;
* ``sharded files``: one JSON file per entry under ``<key[:2]>/``, written atomically.

Each store is filled to N entries first (not timed); then ``--lookups`` random existing keys are
read and ``--writes`` new entries written, one at a time, each timed; the table shows the median
per entry. The json-file baseline takes fewer samples at 100k, where one operation takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_datasetrun.engine.cache import CallCache, call_key
from pytest_datasetrun.record.results import Usage

__all__ = ("main",)

USAGE = Usage(input_tokens=812, output_tokens=96, total_tokens=908, model="gpt-4o-mini")


def output(n: int) -> dict[str, object]:
    answer = f"Answer {n}: refunds are issued to the original payment method within 5 days. " * 6
    return {"answer": answer, "category": "billing", "tool_calls": [{"name": "lookup", "id": n}]}


class JsonFile:
    """The baseline: every entry in one JSON file, read whole and rewritten whole."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "cache.json"

    def fill(self, keys: list[str]) -> None:
        data = {k: {"output": output(i), "usage": USAGE.model_dump()} for i, k in enumerate(keys)}
        self.path.write_text(json.dumps(data))

    def get(self, key: str) -> object:
        return json.loads(self.path.read_bytes()).get(key)

    def put(self, key: str, value: object) -> None:
        data = json.loads(self.path.read_bytes())
        data[key] = {"output": value, "usage": USAGE.model_dump()}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)


class ShardedFiles:
    """One JSON file per entry, two-character shard directories."""

    def __init__(self, directory: Path) -> None:
        self.root = directory / "shards"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def fill(self, keys: list[str]) -> None:
        for i, key in enumerate(keys):
            self.put(key, output(i))

    def get(self, key: str) -> object:
        return json.loads(self._path(key).read_bytes())

    def put(self, key: str, value: object) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"output": value, "usage": USAGE.model_dump()}))
        os.replace(tmp, path)


class Sqlite:
    """The shipped CallCache, filled in one transaction (the fill is not what is measured)."""

    def __init__(self, directory: Path) -> None:
        self.cache = CallCache(directory / "sqlite")

    def fill(self, keys: list[str]) -> None:
        self.cache.open()
        conn = self.cache._conn
        assert conn is not None
        conn.execute("BEGIN")
        for i, key in enumerate(keys):
            self.cache.put(key, "bench", output(i), USAGE)
        conn.execute("COMMIT")

    def get(self, key: str) -> object:
        entry, problem = self.cache.get(key)
        assert entry is not None and problem is None
        return entry

    def put(self, key: str, value: object) -> None:
        assert self.cache.put(key, "bench", value, USAGE)


def per_op(fn: Callable[[str], object], keys: list[str]) -> float:
    """Median seconds per call of ``fn`` over ``keys``."""
    times = []
    for key in keys:
        started = time.perf_counter()
        fn(key)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(store_cls: type, size: int, lookups: int, writes: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = store_cls(Path(tmp))
        keys = [call_key("bench", "1", f"question {i}", 0) for i in range(size)]
        store.fill(keys)
        rng = random.Random(size)
        lookup = per_op(store.get, rng.sample(keys, min(lookups, size)))
        fresh = [call_key("bench", "1", f"new {i}", 0) for i in range(writes)]
        write = per_op(lambda key: store.put(key, output(0)), fresh)
    return lookup, write


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k entries")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args(argv)
    sizes = (1_000, 10_000) if args.quick else (1_000, 100_000)
    stores = {
        "CallCache (sqlite WAL)": Sqlite,
        "sharded files": ShardedFiles,
        "json file (baseline)": JsonFile,
    }
    print("| store | entries | lookup / entry | write / entry |")
    print("|---|---:|---:|---:|")
    for size in sizes:
        for name, cls in stores.items():
            slow = cls is JsonFile and size > 1_000
            lookups, writes = (5, 5) if slow else (args.lookups, args.writes)
            lookup, write = measure(cls, size, lookups, writes)
            print(f"| {name} | {size:,} | {_us(lookup)} | {_us(write)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
