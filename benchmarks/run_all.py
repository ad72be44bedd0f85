"""Run every benchmark of pytest-datasetrun and print one markdown report.

Usage::

    python benchmarks/run_all.py               # full: 10k rows, 100k-row memory, 400 IO rows
    python benchmarks/run_all.py --quick       # CI smoke check: 1k rows, 100 IO rows, no memory
    python benchmarks/run_all.py --repeat 5 --only overhead,io --output out.md

Progress goes to stderr, the report to stdout (and to ``--output``). Sections:

1. per-item overhead against a plain ``@pytest.mark.parametrize`` test (``bench_overhead.py``);
2. IO-bound targets against a bare ``asyncio.gather`` floor (``bench_io.py``);
3. the run store against orjson floors (``bench_store.py``, run as its own script).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import bench_io  # noqa: E402 - the sibling modules, found through the path above
import bench_overhead  # noqa: E402
from _common import (  # noqa: E402
    PYTHON,
    BenchError,
    add_common_args,
    check,
    load_average,
    machine_info,
    run_process,
    use_snapshot,
    workdir,
)

__all__ = ("main",)

SECTIONS = ("overhead", "io", "store")


def store_section(root: Path, repeat: int, quick: bool) -> str:
    """``bench_store.py`` runs in its own process."""
    cmd = [PYTHON, str(HERE / "bench_store.py"), "--dir", str(root), "--repeat", str(repeat)]
    if quick:
        cmd.append("--quick")
    result = check(run_process(cmd, HERE), "| items |", "bench_store.py")
    return "\n".join(
        [
            "### Run store: every figure beside its orjson floor (bench_store.py)",
            "",
            result.output.strip(),
        ]
    )


RUNNERS: dict[str, Callable[[Path, int, bool], str]] = {
    "overhead": bench_overhead.run,
    "io": bench_io.run,
    "store": store_section,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    with workdir(args.dir, args.keep) as root:
        return _run(args, chosen, root, argv)


def _run(
    args: argparse.Namespace, chosen: list[str], root: Path, argv: Sequence[str] | None
) -> int:
    if args.snapshot:
        use_snapshot(root)
    command = shlex.join(["python", "benchmarks/run_all.py", *(argv or sys.argv[1:])])
    started = time.perf_counter()
    parts = [
        f"## pytest-datasetrun benchmarks ({'quick' if args.quick else 'full'})",
        "",
        machine_info(),
        f"- command: `{command}`",
    ]
    try:
        for name in chosen:
            print(f"-- {name}", file=sys.stderr, flush=True)
            parts += ["", RUNNERS[name](root, args.repeat, args.quick)]
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    parts += [
        "",
        f"Total benchmark time: {time.perf_counter() - started:.0f} s; {load_average()} at the end.",
    ]
    report = "\n".join(parts) + "\n"
    print(report, end="")
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
