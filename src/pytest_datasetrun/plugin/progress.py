"""Live progress of a long ``--max-concurrency`` run, in the terminal's title.

pytest's progress output (and xdist's) owns the terminal's lines, so the counts go where they
cannot break them: the window or tab title, written straight to the controlling terminal
(``/dev/tty``) at most once a second: ``datasetrun 120/1000 · 8 in flight · 2 errors · 4.1/s ·
ETA 3m34s``. Nothing is written when pytest's output is not a terminal (CI logs, pipes, files).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

import pytest

__all__ = ("LiveProgress", "progress_text", "maybe_register")

_EVERY_S = 1.0


def progress_text(done: int, total: int, in_flight: int, errors: int, elapsed: float) -> str:
    """The one-line status: done / in flight / errors / rate / ETA."""
    rate = done / elapsed if elapsed > 0 else 0.0
    left = max(total - done, 0)
    eta = _duration(left / rate) if rate > 0 and left else "-"
    return (
        f"datasetrun {done}/{total} · {in_flight} in flight · {errors} error"
        f"{'' if errors == 1 else 's'} · {rate:.1f}/s · ETA {eta}"
    )


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def maybe_register(
    config: pytest.Config, max_concurrency: int, in_flight: Callable[[], int] | None = None
) -> None:
    """Show progress only for concurrent runs whose output is a terminal, on the controller."""
    if max_concurrency <= 1 or hasattr(config, "workerinput"):
        return
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None or not getattr(reporter, "isatty", False):
        return
    try:
        tty = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115 - closed at unconfigure
    except OSError:
        return
    plugin = LiveProgress(tty, in_flight)
    config.pluginmanager.register(plugin, "datasetrun-progress")
    config.add_cleanup(plugin.close)


class LiveProgress:
    def __init__(self, out: IO[str], in_flight: Callable[[], int] | None = None) -> None:
        self.out = out
        # The process's own prefetching (one process); otherwise the rows pytest is running.
        self.in_flight = in_flight
        self.started = time.monotonic()
        self.last = 0.0
        self.session: pytest.Session | None = None
        self.running: set[str] = set()
        self.done = 0
        self.errors = 0

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.running.add(nodeid)
        self._show()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or isinstance(report, pytest.SubtestReport):
            return
        self.done += 1
        self.errors += getattr(report, "datasetrun_status", None) == "errored"
        self._show()

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.running.discard(nodeid)

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < _EVERY_S:
            return
        self.last = now
        total = getattr(self.session, "testscollected", 0) or self.done
        flying = self.in_flight() if self.in_flight is not None else len(self.running)
        text = progress_text(self.done, total, flying, self.errors, now - self.started)
        self._title(text)

    def _title(self, text: str) -> None:
        try:
            self.out.write(f"\x1b]0;{text}\x07")
            self.out.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        self._show(force=True)
        try:
            self.out.close()
        except OSError:
            pass
