"""Helpers shared by the benchmarks: timed subprocess runs, medians, machine info, tables.

Every measurement is a fresh subprocess, wall-clock timed from the parent with
``time.perf_counter``; its CPU time (user + system, the process and every descendant it reaped)
comes with it. Its peak memory comes from ``os.wait4``: on Linux the ``ru_maxrss`` of a
reaped child is the largest resident set of that child *or any descendant it reaped* (so, for
``-n 2``, the largest of the controller and its two workers, not their sum). The peak of the
*sum* over the process tree comes from sampling ``/proc`` (PSS, so pages a forked child shares
with its parent count once) every 50 ms while the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = (
    "PYTHON",
    "PYTEST",
    "MODES",
    "startup_configs",
    "Run",
    "Measurement",
    "BenchError",
    "Config",
    "check",
    "run_process",
    "measure",
    "machine_info",
    "load_average",
    "table",
    "ratio",
    "add_common_args",
    "workdir",
    "AGAINST",
    "use_against",
    "use_snapshot",
)

PYTHON = sys.executable
#: How every pytest run starts; the benchmarks append their own arguments.
PYTEST = (PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider")
#: The process layouts compared: one pytest process, and pytest-xdist with two workers.
MODES: dict[str, tuple[str, ...]] = {"serial": (), "-n 2": ("-n", "2")}


class BenchError(RuntimeError):
    """A measured run did not do what it should (non-zero exit, wrong outcome)."""


@dataclass(frozen=True)
class Run:
    """One finished subprocess."""

    wall_s: float
    cpu_s: float
    maxrss_kb: int
    returncode: int
    output: str
    tree_rss_kb: int = 0


@dataclass
class Measurement:
    """The runs of one configuration; reports medians."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def cpu_s(self) -> float:
        """User + system CPU of the process tree: steadier than wall time on a busy machine."""
        return statistics.median(run.cpu_s for run in self.runs)

    @property
    def spread_s(self) -> float:
        """Max minus min wall time: a quick sense of the noise."""
        walls = [run.wall_s for run in self.runs]
        return max(walls) - min(walls)

    @property
    def wall(self) -> str:
        """The median wall time, with half the spread when there were several runs."""
        spread = f" ±{self.spread_s / 2:.2f}" if len(self.runs) > 1 else ""
        return f"{self.wall_s:.2f} s{spread}"

    @property
    def maxrss_mb(self) -> float:
        return statistics.median(run.maxrss_kb for run in self.runs) / 1024

    @property
    def tree_rss_mb(self) -> float:
        """Peak of the summed PSS of the process tree (sampled; 0 where /proc is missing)."""
        return statistics.median(run.tree_rss_kb for run in self.runs) / 1024


def run_process(
    cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600
) -> Run:
    """Run ``cmd`` in ``cwd``, timing it and reading its peak RSS; stdout+stderr are kept."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=_env(env)
        )
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        status, usage = _wait(proc, timeout)
        sampler.stop()
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss, status, text, sampler.peak_kb)


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants from ``/proc``."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.peak_kb = max(self.peak_kb, sum(map(_rss_kb, _tree(self.pid))))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return pids


def _rss_kb(pid: int) -> int:
    """The process's proportional set size: shared pages (a forked child's) split, not doubled."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, os.struct_rusage]:
    """Reap ``proc`` with ``os.wait4`` (which also gives its rusage); kill it past ``timeout``."""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode == -signal.SIGKILL:
        raise BenchError(f"killed after {timeout:g} s: {' '.join(map(str, proc.args))}")  # type: ignore[arg-type]
    return proc.returncode, usage


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    # The user's PYTEST_ADDOPTS / PYTEST_PLUGINS must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(_SNAPSHOT_ENV)
    env.update(extra or {})
    return env


def check(run: Run, expect: str, label: str) -> Run:
    """Raise :class:`BenchError` unless the run exited 0 and printed ``expect``."""
    if run.returncode != 0 or expect not in run.output:
        tail = "\n".join(run.output.splitlines()[-25:])
        raise BenchError(
            f"{label}: exit {run.returncode}, expected {expect!r} in the output:\n{tail}"
        )
    return run


@dataclass(frozen=True)
class Config:
    """One configuration to measure: a command, where to run it, what success looks like."""

    label: str
    cmd: Sequence[str]
    cwd: Path
    expect: str
    env: dict[str, str] | None = None
    before: Callable[[], None] | None = None
    warmup: bool = True


def measure(configs: Sequence[Config], repeat: int, warmup: bool = True) -> list[Measurement]:
    """Run every config ``repeat`` times, round-robin, so drift hits all of them alike.

    With ``warmup`` each config (unless its own ``warmup`` is off) first runs once untimed, to
    fill the bytecode caches and the OS file cache.
    """
    results = [Measurement(c.label) for c in configs]
    rounds = ([None] if warmup else []) + list(range(repeat))
    for round_ in rounds:
        for config, result in zip(configs, results, strict=True):
            if round_ is None and not config.warmup:
                continue
            if config.before is not None:
                config.before()
            run = check(
                run_process(config.cmd, config.cwd, config.env), config.expect, config.label
            )
            if round_ is not None:
                result.runs.append(run)
            _progress(
                f"{config.label}: {run.wall_s:.2f} s{'' if round_ is not None else ' (warm-up)'}"
            )
    return results


def startup_configs(root: Path) -> list[Config]:
    """pytest's own start-up: a project with one trivial test, serial and ``-n 2``."""
    path = root / "startup"
    if not path.exists():
        path.mkdir(parents=True)
        (path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (path / "test_one.py").write_text("def test_one():\n    pass\n", encoding="utf-8")
    return [
        Config(f"start-up {mode}", (*PYTEST, *flags), path, "1 passed")
        for mode, flags in MODES.items()
    ]


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> str:
    """A markdown bullet list describing the machine and the software measured."""
    cpu = platform.processor() or platform.machine()
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: {platform.system()} {platform.release()}, {cpu}, "
        f"{affinity} usable cores (os.cpu_count() = {os.cpu_count()}), {_memory()}",
        f"- python: {platform.python_version()} ({platform.python_implementation()})",
        f"- pytest {_version('pytest')}, pytest-xdist {_version('pytest-xdist')}, "
        f"pytest-datasetrun {_version('pytest-datasetrun')}, pydantic {_version('pydantic')}, "
        f"tinydb {_version('tinydb')}",
        f"- code measured: {_checkout()}",
        f"- {load_average()} at the start (other work on the machine skews the timings)",
    ]
    return "\n".join(lines)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


REPO = Path(__file__).resolve().parent.parent
# Set by use_snapshot(): every measured subprocess then imports the plugin from the snapshot.
_SNAPSHOT_ENV: dict[str, str] = {}
_SNAPSHOT: list[str] = []


def use_snapshot(root: Path) -> str:
    """Measure ``git archive HEAD src`` instead of the working tree; returns the commit.

    The package is installed in editable mode, so edits made to ``src/`` while a long run goes
    on would otherwise change the code under measurement halfway. ``PYTHONPATH`` comes before
    the editable install's path entry, so the snapshot is what every subprocess imports.
    """
    commit = _git("rev-parse", "--short", "HEAD")
    target = root / "snapshot"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    _SNAPSHOT_ENV["PYTHONPATH"] = str(target / "src")
    _SNAPSHOT.append(commit)
    return commit


# Set by use_against(): (label, env) of an earlier commit measured beside the current code.
AGAINST: list[tuple[str, dict[str, str]]] = []


def use_against(root: Path, ref: str) -> str:
    """Also measure ``git archive REF src``, interleaved with the current code in the same run."""
    commit = _git("rev-parse", "--short", ref)
    if not commit:
        raise BenchError(f"--against: {ref!r} is not a commit")
    target = root / f"against-{commit}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    AGAINST.append((f"@{commit}", {"PYTHONPATH": str(target / "src")}))
    return commit


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip()


def _checkout() -> str:
    """The commit measured, and whether ``src/`` differed from it."""
    if _SNAPSHOT:
        return f"commit {_SNAPSHOT[-1]} (`--snapshot`: a `git archive HEAD src` copy)"
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    dirty = _git("status", "--porcelain", "--", "src")
    return f"commit {commit}" + (" + uncommitted changes in src/" if dirty else "")


def _memory() -> str:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return "memory unknown"
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024**2:.1f} GiB RAM"
    return "memory unknown"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A markdown table; ``align`` holds one of ``l``/``r`` per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = ["---" if a == "l" else "---:" for a in align]
    lines = [headers, rule, *[[str(cell) for cell in row] for row in rows]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repeat", type=int, default=3, metavar="N", help="runs per figure; medians (default 3)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a CI smoke check")
    parser.add_argument("--dir", help="where to create the projects (default: system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="measure the committed src/ (git archive HEAD), not the working tree",
    )
    parser.add_argument(
        "--against",
        metavar="REF",
        help="also measure the plugin at git REF, interleaved in the same run (bench_overhead)",
    )


@contextlib.contextmanager
def workdir(parent: str | None, keep: bool) -> Iterator[Path]:
    """A temporary directory for the generated projects, optionally kept after the run."""
    path = Path(tempfile.mkdtemp(prefix="datasetrun-bench-", dir=parent))
    try:
        yield path
    finally:
        if keep:
            _progress(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def script_main(
    description: str, run: Callable[[Path, int, bool], str], argv: Sequence[str] | None
) -> None:
    """The command line of one benchmark script: common options, a work dir, the printed report."""
    parser = argparse.ArgumentParser(description=description)
    add_common_args(parser)
    args = parser.parse_args(argv)
    with workdir(args.dir, args.keep) as root:
        if args.snapshot:
            use_snapshot(root)
        if args.against:
            use_against(root, args.against)
        section = run(root, args.repeat, args.quick)
    print(machine_info() + "\n\n" + section)
