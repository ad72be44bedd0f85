"""``compare`` of two large runs beside an orjson load-and-pair script of the same runs (issue 15).

Run ``python benchmarks/bench_compare.py`` (``--quick``: 1k and 10k items; ``--against REF``
also measures the code at git REF, interleaved). Needs ``orjson`` (the ``fast`` extra).

Two runs of N items each (10k and 100k, about 1.1 KB of JSON an item) are written into a store,
in two shapes: ``store``, the items of ``bench_store.py`` (three scorers with the same values,
which move by +0.7 or -0.3 between the runs: one distinct column of differences, few distinct
values), and ``mixed``, three different scorers: a 0/1 one (exact McNemar), a continuous one
(every difference distinct: per-item resampling) and one in tenths.
Each figure is a fresh process, configurations round-robin after an untimed warm-up:

- **floor**: a script that ``orjson``-loads both items files whole, pairs the items by id and
  averages each scorer's differences (no statistics);
- ``pytest-datasetrun compare latest~1 latest`` (every test, interval and MDE of the real
  comparison), with the working tree's code and, with ``--against``, the code at REF.

Wall time is the median with min and max; peak memory is the sampled PSS of the process tree.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import AGAINST, PYTHON, Config, Measurement, load_average, measure, script_main  # noqa: E402
from bench_store import _PAIR_SCRIPT, CLI, make_item, make_record, two_runs  # noqa: E402

from pytest_datasetrun.store.runstore import items_path, write_run  # noqa: E402

__all__ = ("main",)

_SH = "/bin/sh"
_AGAINST_MAX = 10_000


def _shell(*args: str) -> tuple[str, ...]:
    """``args`` with stdout to /dev/null; exit status 1 (a regression) counts as success."""
    quoted = " ".join(f"'{a}'" for a in args)
    return (_SH, "-c", f"{quoted} > /dev/null || test $? -eq 1")


def _mixed_payload(i: int, k: int, rng: random.Random) -> bytes:
    item = make_item(i, k).model_dump(mode="json")
    values = (float(rng.random() < 0.7 - 0.02 * k), rng.random(), rng.randrange(11) / 10)
    for score, value in zip(item["scores"], values, strict=True):
        score["value"] = value
    return orjson.dumps(item)


def mixed_runs(store: Path, n: int) -> list[str]:
    """Two runs of ``n`` items whose three scorers differ (0/1, continuous, tenths)."""
    store.parent.mkdir(parents=True)
    for k in (0, 1):
        rng = random.Random(k)
        record = make_record([make_item(0)], k).model_copy(update={"items": []})
        write_run(store, record, (_mixed_payload(i, k, rng) for i in range(n)))
    ids = sorted(p.stem for p in items_path(store, "x").parent.glob("*.json"))
    return [str(items_path(store, run_id)) for run_id in ids]


def _configs(root: Path, shape: str, n: int, against: bool) -> list[Config]:
    store = root / f"{shape}{n}" / "runs.json"
    files = (two_runs if shape == "store" else mixed_runs)(store, n)
    script = root / "pair.py"
    script.write_text(_PAIR_SCRIPT)
    compare = (*CLI, "--store", str(store), "compare", "latest~1", "latest")
    configs = [
        Config(f"floor {shape} {n}", _shell(PYTHON, str(script), *files), root, ""),
        Config(f"compare {shape} {n}", _shell(*compare), root, ""),
    ]
    configs += [
        Config(f"compare {shape} {n} {label}", _shell(*compare), root, "", env=env)
        for label, env in (AGAINST if against else ())
    ]
    return configs


def _cell(result: Measurement) -> str:
    walls = [run.wall_s for run in result.runs]
    return (
        f"{statistics.median(walls):.2f} s ({min(walls):.2f}–{max(walls):.2f}), "
        f"CPU {result.cpu_s:.2f} s, {result.tree_rss_mb:.0f} MiB"
    )


def _table(cases: Sequence[tuple[str, int]], results: dict[str, Measurement]) -> str:
    labels = ["", *(f" {label}" for label, _ in AGAINST)]
    head = "| runs | items (each run) | floor: orjson load-and-pair | " + " | ".join(
        f"`compare{label}` | ratio" for label in labels
    )
    lines = [head + " |", "|---|---:|---:|" + "---:|---:|" * len(labels)]
    for shape, n in cases:
        floor = results[f"floor {shape} {n}"]
        cells = [shape, f"{n:,} + {n:,}", _cell(floor)]
        for label in labels:
            result = results.get(f"compare {shape} {n}{label}")
            ratio = f"{result.wall_s / floor.wall_s:.2f}x" if result else ""
            cells += [_cell(result) if result else "not measured", ratio]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(root: Path, repeat: int, quick: bool) -> str:
    """Measure every shape and size; returns the markdown table."""
    sizes = [1_000, 10_000] if quick else [10_000, 100_000]
    cases = [(shape, n) for n in sizes for shape in ("store", "mixed")]
    # --against code before issue 15 needs minutes per 100k comparison: only up to 10k items.
    configs = [c for shape, n in cases for c in _configs(root, shape, n, n <= _AGAINST_MAX)]
    results = {result.label: result for result in measure(configs, repeat)}
    return (
        f"#### `compare` beside its floor (median, min–max of {repeat}; CPU and peak PSS are "
        f"medians)\n\n{_table(cases, results)}\n\n{load_average()} at the end"
    )


def main(argv: Sequence[str] | None = None) -> None:
    script_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    main()
