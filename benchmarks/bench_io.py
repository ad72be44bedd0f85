"""IO-bound targets: ``--max-concurrency`` and ``-n 2`` against a bare ``asyncio.gather`` floor.

Run ``python benchmarks/bench_io.py`` (``--quick``, ``--repeat N``); prints a markdown table.

400 rows (100 with ``--quick``); the target sleeps 50 ms, with ``asyncio.sleep`` (an async target)
or ``time.sleep`` (a sync one), and is scored with ``exact_match``; the run store is off. The
plugin runs with ``--max-concurrency 32``, serially (``--max-concurrency 1``), with ``-n 2``, and
with ``-n 2 --max-concurrency 32``. The floor is a bare script making the same calls in one
process: ``asyncio.gather`` under a ``Semaphore(32)`` for the async target, a
``ThreadPoolExecutor(32)`` for the sync one. pytest's own start-up (one trivial test) is measured
too, so each run can be stated against "floor + start-up" (target: within 1.5x).

A second table runs fast targets, 400 rows sleeping 5 ms, where the plugin's own per-row cost
shows: ``--max-concurrency 32`` against the same floor (target: within 1.3x of floor + start-up),
and against a second baseline, floor + a plain ``@pytest.mark.parametrize`` of 400 tests that do
nothing (pytest's own per-item protocol, which every dataset row goes through too). With
``--against REF`` the plugin at REF runs beside the working tree in the same run;
``--fast-only`` runs this second table alone.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import (  # noqa: E402 - the sibling module, found through the path above
    AGAINST,
    MODES,
    PYTEST,
    PYTHON,
    Config,
    Measurement,
    measure,
    script_main,
    startup_configs,
    table,
)

__all__ = ("main", "run", "make_project")

ROWS, QUICK_ROWS = 400, 100
DELAY_S, FAST_DELAY_S = 0.05, 0.005
CONCURRENCY = 32
VARIANTS = ("async", "sync")

CONFTEST = '''"""IO-bound benchmark targets: each call sleeps {DELAY_MS:g} ms."""

import asyncio
import time

import pytest_datasetrun as dr


@dr.target(id="async")
async def async_sleep(input):
    await asyncio.sleep({DELAY_S})
    return input


@dr.target(id="sync")
def sync_sleep(input):
    time.sleep({DELAY_S})
    return input
'''

FLOOR = '''"""The floor: the same calls in one process, {CONCURRENCY} at a time, no pytest."""

import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


async def async_sleep(input):
    await asyncio.sleep({DELAY_S})
    return input


def sync_sleep(input):
    time.sleep({DELAY_S})
    return input


async def run_async(rows):
    semaphore = asyncio.Semaphore({CONCURRENCY})

    async def one(row):
        async with semaphore:
            return await async_sleep(row["input"])

    return await asyncio.gather(*(one(row) for row in rows))


def run_sync(rows):
    with ThreadPoolExecutor({CONCURRENCY}) as pool:
        return list(pool.map(lambda row: sync_sleep(row["input"]), rows))


rows = [json.loads(line) for line in Path("qa.jsonl").read_text().splitlines()]
outputs = asyncio.run(run_async(rows)) if sys.argv[1] == "async" else run_sync(rows)
passed = sum(output == row["expected"] for output, row in zip(outputs, rows))
print(f"{{passed}} passed")
'''

PLAIN = '''"""The second baseline: {ROWS} plain pytest tests that do nothing."""

import pytest


@pytest.mark.parametrize("row", range({ROWS}))
def test_row(row):
    pass
'''

# label -> extra pytest arguments; the first is the one the 1.5x target is about.
PLUGIN_RUNS: dict[str, tuple[str, ...]] = {
    f"plugin --max-concurrency {CONCURRENCY}": ("--max-concurrency", str(CONCURRENCY)),
    f"plugin -n 2 --max-concurrency {CONCURRENCY}": (
        "-n",
        "2",
        "--max-concurrency",
        str(CONCURRENCY),
    ),
    "plugin -n 2": ("-n", "2", "--max-concurrency", "1"),
    "plugin serial (--max-concurrency 1)": ("--max-concurrency", "1"),
}


def make_project(root: Path, rows: int, delay_s: float = DELAY_S) -> Path:
    path = root / f"io-{rows}-{delay_s * 1000:g}ms"
    path.mkdir(parents=True)
    fill = {"DELAY_S": delay_s, "DELAY_MS": delay_s * 1000, "CONCURRENCY": CONCURRENCY}
    (path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (path / "conftest.py").write_text(CONFTEST.format(**fill), encoding="utf-8")
    (path / "floor.py").write_text(FLOOR.format(**fill), encoding="utf-8")
    lines = [
        f'{{"id": "q{i:04d}", "input": "row {i}", "expected": "row {i}"}}\n' for i in range(rows)
    ]
    (path / "qa.jsonl").write_text("".join(lines), encoding="utf-8")
    return path


def configs(project: Path, variant: str, rows: int) -> list[Config]:
    """The floor script, then the plugin runs, for one target variant."""
    expect = f"{rows} passed"
    base = (*PYTEST, "--dataset=qa.jsonl", f"--target={variant}", "--scorer=exact_match>=1")
    floor = Config(f"floor {variant}", (PYTHON, "floor.py", variant), project, expect)
    return [floor] + [
        Config(
            f"{label} {variant}",
            (*base, "--no-run-store", *flags),
            project,
            expect,
            # Slow runs need no warm-up: the fast ones before them already filled the caches.
            warmup=flags[-1] != "1",
        )
        for label, flags in PLUGIN_RUNS.items()
    ]


def fast_configs(root: Path, project: Path, variant: str, rows: int) -> list[Config]:
    """Floor, plain parametrize of ``rows`` no-op tests, the plugin (and the plugin at ``--against``)."""
    floor, plugin = configs(project, variant, rows)[:2]
    plain = root / f"plain-{rows}"
    if not plain.exists():
        plain.mkdir()
        (plain / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (plain / "test_plain.py").write_text(PLAIN.format(ROWS=rows), encoding="utf-8")
    baseline = Config(f"plain parametrize, {rows} no-op tests", PYTEST, plain, floor.expect)
    against = [
        Config(f"{plugin.label} {label}", plugin.cmd, project, plugin.expect, env=env)
        for label, env in AGAINST
    ]
    return [floor, baseline, plugin, *against]


def sleep_bound(rows: int, flags: Sequence[str]) -> float:
    """The least time the sleeps alone allow with these flags: waves of ``workers x concurrency``."""
    workers = int(flags[flags.index("-n") + 1]) if "-n" in flags else 1
    concurrency = int(flags[flags.index("--max-concurrency") + 1])
    return math.ceil(rows / (workers * concurrency)) * DELAY_S


def io_table(
    results: dict[str, list[Measurement]], startups: dict[str, Measurement], rows: int
) -> str:
    headers = ["run"]
    for variant in VARIANTS:
        headers += [f"{variant} wall", "CPU", "vs floor + start-up"]
    headers.append("sleep-bound minimum")
    lines: list[list[object]] = []
    floors = {variant: results[variant][0] for variant in VARIANTS}
    line: list[object] = [f"floor: bare script, {CONCURRENCY} at once"]
    for variant in VARIANTS:
        line += [f"{floors[variant].wall_s:.2f} s", f"{floors[variant].cpu_s:.2f} s", ""]
    lines.append([*line, f"{math.ceil(rows / CONCURRENCY) * DELAY_S:.2f} s"])
    for mode, startup in startups.items():
        lines.append(
            [f"pytest start-up, {mode} (1 trivial test)"]
            + [
                cell
                for _ in VARIANTS
                for cell in (f"{startup.wall_s:.2f} s", f"{startup.cpu_s:.2f} s", "")
            ]
            + [""]
        )
    for index, (label, flags) in enumerate(PLUGIN_RUNS.items(), start=1):
        startup = startups["-n 2" if "-n" in flags else "serial"]
        line = [label]
        for variant in VARIANTS:
            m, floor = results[variant][index], floors[variant]
            line += [
                m.wall,
                f"{m.cpu_s:.2f} s",
                f"{m.wall_s / (floor.wall_s + startup.wall_s):.2f}x",
            ]
        lines.append([*line, f"{sleep_bound(rows, flags):.2f} s"])
    return table(headers, lines)


def fast_table(results: dict[str, list[Measurement]], startup: Measurement) -> str:
    """Floor, floor + start-up, the plain baseline and the plugin runs, for fast targets."""
    lines: list[list[object]] = []
    for variant, (floor, plain, *plugins) in results.items():
        base = floor.wall_s + startup.wall_s
        second = floor.wall_s + plain.wall_s
        lines += [
            [f"floor {variant}", floor.wall, _min_max(floor), f"{floor.cpu_s:.2f} s", "", ""],
            [f"floor {variant} + pytest start-up", f"{base:.2f} s", "", "", "", ""],
            [plain.label, plain.wall, _min_max(plain), f"{plain.cpu_s:.2f} s", "", ""],
            [f"floor {variant} + plain parametrize", f"{second:.2f} s", "", "", "", ""],
        ]
        lines += [
            [m.label, m.wall, _min_max(m), f"{m.cpu_s:.2f} s",
             f"{m.wall_s / base:.2f}x", f"{m.wall_s / second:.2f}x"]
            for m in plugins
        ]  # fmt: skip
    headers = ["run", "wall (median)", "min–max", "CPU", "vs floor + start-up"]
    return table([*headers, "vs floor + plain parametrize"], lines)


def _min_max(m: Measurement) -> str:
    walls = [run.wall_s for run in m.runs]
    return f"{min(walls):.2f}–{max(walls):.2f} s"


def run(root: Path, repeat: int, quick: bool, fast_only: bool = False) -> str:
    """Measure and return the markdown section."""
    rows = QUICK_ROWS if quick else ROWS
    startups = dict(zip(MODES, measure(startup_configs(root), repeat), strict=True))
    fast = make_project(root, ROWS, FAST_DELAY_S)
    fast_results = {
        variant: measure(fast_configs(root, fast, variant, ROWS), repeat) for variant in VARIANTS
    }
    fast_section = [
        f"### Fast targets: {ROWS} rows, target sleeps {FAST_DELAY_S * 1000:g} ms "
        f"(median of {repeat})",
        "",
        fast_table(fast_results, startups["serial"]),
        "",
        "Target: `--max-concurrency 32` within 1.3x of floor + start-up. The plain parametrize "
        "baseline is pytest's own cost for as many items (start-up included).",
    ]
    if fast_only:
        return "\n".join(fast_section)
    project = make_project(root, rows)
    results = {variant: measure(configs(project, variant, rows), repeat) for variant in VARIANTS}
    return "\n".join(
        [
            f"### IO-bound: {rows} rows, target sleeps {DELAY_S * 1000:g} ms (median of {repeat})",
            "",
            io_table(results, startups, rows),
            "",
            "`vs floor + start-up` divides the wall time by the floor's plus pytest's start-up "
            "(the `-n 2` start-up for `-n 2` runs); target: within 1.5x for "
            f"`--max-concurrency {CONCURRENCY}`. CPU is user + system of the whole process tree. "
            "The sleep-bound minimum is ceil(rows / (workers x concurrency)) x 50 ms, "
            "start-up excluded.",
            "",
            *fast_section,
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    fast_only = "--fast-only" in args
    args = [arg for arg in args if arg != "--fast-only"]
    script_main(__doc__.splitlines()[0], functools.partial(run, fast_only=fast_only), args)


if __name__ == "__main__":
    main()
