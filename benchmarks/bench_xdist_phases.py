"""Where an ``-n 2`` run's time goes: each process's CPU by phase, and when each phase begins.

Run ``python benchmarks/bench_xdist_phases.py`` (``--quick``: 1k rows; ``--repeat N``;
``--against REF``); prints markdown tables.

The projects are ``bench_overhead.py``'s (10k and 50k rows, trivial target, three scorers); the
plugin runs with its store on. A small probe plugin, loaded with ``-p`` into the controller and
both workers, notes the wall clock and the process's CPU (``getrusage``) when pytest starts, when
xdist starts its workers (``pytest_xdist_setupnodes``), when each worker has collected, when the
last row has run (``pytest_sessionfinish``) and at the very end. Times are seconds from the
controller's start (when pytest loads the probe: the interpreter and pytest are up by then);
medians over the runs. The wall and CPU columns are the same runs' totals.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import (  # noqa: E402 - the sibling module, found through the path above
    _SNAPSHOT_ENV,
    AGAINST,
    PYTEST,
    BenchError,
    check,
    run_process,
    script_main,
    table,
)
from bench_overhead import PLUGIN_ARGS, make_projects  # noqa: E402

__all__ = ("main", "run")

ROWS, QUICK_ROWS = (10_000, 50_000), (1_000,)
PROBE = "datasetrun_phase_probe"
PROBE_SOURCE = '''
"""Notes (wall clock, own CPU) at the phases of a pytest process; one JSON line per process."""
import json, os, resource, time
import pytest

MARKS = {}


def mark(name):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    MARKS.setdefault(name, (time.time(), usage.ru_utime + usage.ru_stime))


mark("start")


def pytest_xdist_setupnodes(config, specs):
    mark("spawn")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    mark("collected")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    mark("ran")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    mark("end")
    who = getattr(config, "workerinput", {}).get("workerid", "controller")
    with open(os.environ["DATASETRUN_PROBE_OUT"], "a") as out:
        out.write(json.dumps({"who": who, "marks": MARKS}) + "\\n")
'''


def _configs(root: Path, rows: int) -> list[tuple[str, list[str], Path, dict[str, str]]]:
    projects = make_projects(root / f"phases-{rows}", rows)
    probe_dir = root / "probe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / f"{PROBE}.py").write_text(PROBE_SOURCE, encoding="utf-8")
    current = _SNAPSHOT_ENV.get("PYTHONPATH")
    runs = [("plain", ["test_plain.py"], projects["plain"], current)]
    runs.append(("plugin + store", list(PLUGIN_ARGS), projects["plugin"], current))
    for label, env in AGAINST:
        runs.append(
            (f"plugin{label} + store", list(PLUGIN_ARGS), projects["plugin"], env["PYTHONPATH"])
        )
    configs = []
    for label, args, cwd, path in runs:
        env = {
            "PYTHONPATH": ":".join(p for p in (path, str(probe_dir)) if p),
            "PYTEST_ADDOPTS": f"-p {PROBE}",
            "DATASETRUN_PROBE_OUT": str(root / "probe" / "out.jsonl"),
        }
        configs.append((label, [*PYTEST, "-n", "2", *args], cwd, env))
    return configs


def _phases(lines: list[dict[str, object]]) -> dict[str, float]:
    """One run's figures from its processes' marks (seconds from the controller's start)."""
    by = {line["who"]: line["marks"] for line in lines}
    controller = by.pop("controller")
    if len(by) != 2:
        raise BenchError(f"expected the marks of 2 workers, got {sorted(by)}")
    t0 = controller["start"][0]
    workers = list(by.values())
    return {
        "spawn": controller["spawn"][0] - t0,
        "spawn cpu": controller["spawn"][1],
        "collected": max(w["collected"][0] for w in workers) - t0,
        "ran": max(w["ran"][0] for w in workers) - t0,
        "end": controller["end"][0] - t0,
        "controller cpu": controller["end"][1],
        "workers cpu": sum(w["end"][1] for w in workers),
        "workers cpu to collected": sum(w["collected"][1] for w in workers),
    }


def _measure(root: Path, rows: int, repeat: int) -> dict[str, list[dict[str, float]]]:
    configs = _configs(root, rows)
    out = root / "probe" / "out.jsonl"
    results: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in configs}
    for round_ in range(repeat + 1):  # the first round warms the caches and is not kept
        for label, cmd, cwd, env in configs:
            out.unlink(missing_ok=True)
            shutil.rmtree(cwd / ".datasetrun", ignore_errors=True)  # a fresh store each run
            done = check(run_process(cmd, cwd, env), f"{rows} passed", label)
            lines = [json.loads(line) for line in out.read_text().splitlines()]
            if round_:
                results[label].append({"wall": done.wall_s, "cpu": done.cpu_s, **_phases(lines)})
            print(f"  .. {label} {rows}: {done.wall_s:.2f} s", file=sys.stderr)
    return results


def _table(results: dict[str, list[dict[str, float]]]) -> str:
    headers = [
        "-n 2",
        "wall",
        "CPU (tree)",
        "controller CPU",
        "workers' CPU",
        "controller CPU before spawn",
        "workers started",
        "workers collected",
        "last row done",
        "controller exits",
    ]
    rows = []
    for label, runs in results.items():
        med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        rows.append(
            [
                label,
                f"{med['wall']:.2f} s",
                f"{med['cpu']:.2f} s",
                f"{med['controller cpu']:.2f} s",
                f"{med['workers cpu']:.2f} s",
                f"{med['spawn cpu']:.2f} s",
                f"{med['spawn']:.2f} s",
                f"{med['collected']:.2f} s",
                f"{med['ran']:.2f} s",
                f"{med['end']:.2f} s",
            ]
        )
    return table(headers, rows, "l" + "r" * (len(headers) - 1))


def run(root: Path, repeat: int, quick: bool) -> str:
    """Measure and return the markdown section."""
    out = []
    for rows in QUICK_ROWS if quick else ROWS:
        out += [f"### `-n 2`, {rows:,} rows: phases (median of {repeat})", ""]
        out += [_table(_measure(root, rows, repeat)), ""]
    out.append(
        "Times from the controller's start: `workers started` is when xdist starts them, "
        "`workers collected` when the later of the two has its items, `last row done` when the "
        "later has run its last row. CPU is each process's own (`getrusage` at its end); "
        "`workers' CPU` sums both."
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    script_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    main()
