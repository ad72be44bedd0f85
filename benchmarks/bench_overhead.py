"""Per-item overhead: the plugin against a plain ``@pytest.mark.parametrize`` test doing the same work.

Run ``python benchmarks/bench_overhead.py`` (``--quick``, ``--repeat N``); prints markdown tables.

Both sides run the same trivial target (it returns its input) on the same rows and make the same
three checks (exact match, contains, a custom ``length_ok``). The plugin side is
``pytest --dataset=qa.jsonl --target=echo --scorer exact_match>=1 --scorer contains>=1
--scorer length_ok``, with ``--no-run-store`` and with the run store on (a fresh store every run);
the plain side is ``pytest test_plain.py`` over the rows loaded from the same file. Each runs
serially and with ``-n 2``. ``µs/item`` is ``(wall - pytest start-up) / rows``, start-up being
an empty run of one trivial test, measured in the same session. The full mode also reports a
scaling table (1k, 10k, 50k, 100k rows) with wall time and peak RSS, serial and ``-n 2``: the
largest single process and the sum over the process tree (controller and workers).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import (  # noqa: E402 - the sibling module, found through the path above
    AGAINST,
    MODES,
    PYTEST,
    Config,
    Measurement,
    measure,
    ratio,
    script_main,
    startup_configs,
    table,
)

__all__ = ("main", "run", "make_projects")

ROWS, QUICK_ROWS = 10_000, 1_000
SCALING_ROWS = (1_000, 10_000, 50_000, 100_000)

# The same source on both sides: the target and the custom scorer, as plain functions.
FUNCTIONS = '''
def echo(input):
    """The trivial target: returns its input."""
    return input


def length_ok(output, expected):
    """A custom scorer: the output is at least as long as the expected text."""
    return len(str(output)) >= len(str(expected or ""))
'''

CONFTEST = f'''"""Registers the benchmark's target and custom scorer with pytest-datasetrun."""

import pytest_datasetrun as dr

{FUNCTIONS}

dr.target(id="echo")(echo)
dr.scorer(id="length_ok", threshold=0.5)(length_ok)
'''

PLAIN_TEST = f'''"""The baseline: one parametrized test per row, the same target and checks as plain functions."""

import json
from pathlib import Path

import pytest

{FUNCTIONS}

def exact_match(output, expected):
    return output.strip() == expected.strip()


def contains(output, expected):
    return expected in output


ROWS = [json.loads(line) for line in Path(__file__).with_name("qa.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_row(row):
    output = echo(row["input"])
    assert exact_match(output, row["expected"])
    assert contains(output, row["expected"])
    assert length_ok(output, row["expected"])
'''

PLUGIN_ARGS = (
    "--dataset=qa.jsonl",
    "--target=echo",
    "--scorer=exact_match>=1",
    "--scorer=contains>=1",
    "--scorer=length_ok",
)


def write_rows(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            text = f"The answer to question {i} is {i * 7 % 1000}."
            handle.write(json.dumps({"id": f"q{i:06d}", "input": text, "expected": text}) + "\n")


def make_projects(root: Path, rows: int) -> dict[str, Path]:
    """Write the plugin project and the plain project, each with ``rows`` dataset rows."""
    projects = {"plugin": root / f"plugin-{rows}", "plain": root / f"plain-{rows}"}
    for kind, path in projects.items():
        path.mkdir(parents=True)
        (path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        write_rows(path / "qa.jsonl", rows)
        if kind == "plugin":
            (path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        else:
            (path / "test_plain.py").write_text(PLAIN_TEST, encoding="utf-8")
    return projects


def _clear_store(project: Path) -> None:
    shutil.rmtree(project / ".datasetrun", ignore_errors=True)


def item_configs(projects: dict[str, Path], rows: int, mode: str) -> list[Config]:
    """The three runs compared in one mode: plain, plugin without store, plugin with store."""
    flags = MODES[mode]
    plugin, plain = projects["plugin"], projects["plain"]
    expect = f"{rows} passed"
    return [
        Config(f"plain {mode}", (*PYTEST, *flags, "test_plain.py"), plain, expect),
        Config(
            f"plugin --no-run-store {mode}",
            (*PYTEST, *flags, *PLUGIN_ARGS, "--no-run-store"),
            plugin,
            expect,
        ),
        Config(
            f"plugin + store {mode}",
            (*PYTEST, *flags, *PLUGIN_ARGS),
            plugin,
            expect,
            before=lambda: _clear_store(plugin),
        ),
        *(
            Config(
                f"plugin{label} --no-run-store {mode}",
                (*PYTEST, *flags, *PLUGIN_ARGS, "--no-run-store"),
                plugin,
                expect,
                env=env,
            )
            for label, env in AGAINST
        ),
    ]


def _per_item(m: Measurement, startup: Measurement, rows: int) -> str:
    return f"{(m.wall_s - startup.wall_s) / rows * 1e6:,.0f}"


def time_table(measurements: list[Measurement], startup: Measurement, mode: str, rows: int) -> str:
    """One row per run: wall and CPU time, per-item cost, and both against the plain baseline."""
    plain = measurements[0]
    lines: list[list[object]] = [
        [
            f"{m.label.removesuffix(' ' + mode)}",
            m.wall,
            f"{m.cpu_s:.2f} s",
            f"{(m.wall_s - startup.wall_s) / rows * 1e6:,.0f}",
            ratio(m.wall_s, plain.wall_s),
            ratio(m.cpu_s, plain.cpu_s),
        ]
        for m in measurements
    ]
    lines.append(
        ["pytest start-up (1 trivial test)", f"{startup.wall_s:.2f} s", f"{startup.cpu_s:.2f} s"]
        + [""] * 3
    )
    return table([f"{mode}", "wall", "CPU", "µs/item", "vs plain (wall)", "vs plain (CPU)"], lines)


def scaling_table(by_rows: dict[int, list[Measurement]], mode: str) -> str:
    """Per size: wall and peak RSS (largest process, and summed over the tree) beside plain's."""
    lines = []
    for rows, measurements in by_rows.items():
        plain = measurements[0]
        lines += [
            [
                f"{rows:,}",
                m.label.removesuffix(" " + mode),
                f"{m.wall_s:.1f} s",
                ratio(m.wall_s, plain.wall_s),
                f"{m.maxrss_mb:,.0f} MiB",
                f"{m.tree_rss_mb:,.0f} MiB",
                ratio(m.tree_rss_mb, plain.tree_rss_mb),
                f"{m.tree_rss_mb * 1024 / rows:,.1f}",
            ]
            for m in measurements
        ]
    headers = [f"rows ({mode})", "run", "wall", "vs plain", "peak RSS (largest process)",
               "peak PSS (tree sum)", "vs plain (tree)", "KiB/row (tree)"]  # fmt: skip
    return table(headers, lines, align="rlrrrrrr")


def scaling(root: Path, mode: str) -> dict[int, list[Measurement]]:
    """Plain and plugin + store at each size, one run each after a warm-up of the smallest."""
    by_rows = {}
    for rows in SCALING_ROWS:
        projects = make_projects(root / f"scaling-{mode.replace(' ', '')}", rows)
        configs = [c for c in item_configs(projects, rows, mode) if "--no-run-store" not in c.label]
        by_rows[rows] = measure(configs, 1, warmup=rows == SCALING_ROWS[0])
    return by_rows


def run(root: Path, repeat: int, quick: bool) -> str:
    """Measure and return the markdown section."""
    rows = QUICK_ROWS if quick else ROWS
    projects = make_projects(root, rows)
    startups = dict(zip(MODES, measure(startup_configs(root), repeat), strict=True))
    by_mode = {mode: measure(item_configs(projects, rows, mode), repeat) for mode in MODES}
    out = [f"### Per-item overhead: {rows:,} rows, trivial target, 3 scorers (median of {repeat})"]
    for mode, measurements in by_mode.items():
        out += ["", time_table(measurements, startups[mode], mode, rows)]
    out += [
        "",
        "`±` is half the spread (max - min) of the runs; CPU is user + system of the whole "
        "process tree; µs/item = (wall - start-up) / rows; target: plugin within 1.3x of plain.",
    ]
    if not quick:
        out += ["", "### Scaling: wall time and peak memory (one run each)"]
        for mode in MODES:
            out += ["", scaling_table(scaling(root, mode), mode)]
        out += [
            "",
            "Largest process: `ru_maxrss` from `os.wait4` (for `-n 2` the controller or a worker, "
            "whichever is larger). Tree sum: the peak of the summed PSS (proportional set size) of "
            "the pytest process and all its descendants, sampled from `/proc` every 50 ms; "
            "target: within 1.3x of plain.",
        ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    script_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    main()
