"""What the run ran on: git state, versions, platform."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pytest_datasetrun.record.run import Environment

__all__ = ("GitState", "capture_environment", "plugin_version")


def plugin_version() -> str:
    """The installed distribution's version, from package metadata (not the package root)."""
    try:
        return version("pytest-datasetrun")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


_QUERIES = {
    "commit": ("rev-parse", "HEAD"),
    "branch": ("rev-parse", "--abbrev-ref", "HEAD"),
    "status": ("status", "--porcelain", "--untracked-files=no"),
}
_TIMEOUT_S = 5.0


class GitState:
    """The git state of a directory, asked for in the background and read when it is needed.

    The queries start at once (a ``git status`` of a large repository takes a while) and run
    while the session does; :meth:`read` waits for what is still running (up to 5 s each).
    The state is the one the run started from. ``git status`` runs without optional locks
    (``GIT_OPTIONAL_LOCKS=0``): it never holds ``.git/index.lock``, so a target or test that
    runs git meanwhile is not refused, and stopping it leaves no stale lock behind.
    """

    def __init__(self, root: Path) -> None:
        self._running: dict[str, subprocess.Popen[str] | None] = {
            name: _start(root, args) for name, args in _QUERIES.items()
        }
        self._answers: dict[str, str | None] | None = None

    def read(self) -> dict[str, str | None]:
        """Each query's output (``None`` where git failed, timed out or is not installed)."""
        if self._answers is None:
            self._answers = {name: _answer(proc) for name, proc in self._running.items()}
            self._running.clear()
        return self._answers

    def close(self) -> None:
        """Stop the queries nobody read (a session that recorded nothing) and close their pipes."""
        for proc in self._running.values():
            if proc is None:
                continue
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self._running.clear()


def _start(root: Path, args: tuple[str, ...]) -> subprocess.Popen[str] | None:
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, ValueError):
        return None


def _answer(proc: subprocess.Popen[str] | None) -> str | None:
    if proc is None:
        return None
    try:
        out, _ = proc.communicate(timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    return out.strip() if proc.returncode == 0 else None


def capture_environment(root: Path, workers: int, git: GitState | None = None) -> Environment:
    """Collect the environment; git fields stay ``None`` outside a repository (CI variables fill in).

    :param git: the git state asked for earlier (by default it is asked for now).
    """
    import pytest

    answers = (git or GitState(root)).read()
    commit = answers["commit"] or os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA")
    branch = answers["branch"]
    if branch in (None, "HEAD"):
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or branch
    status = answers["status"] if commit else None
    return Environment(
        git_commit=commit,
        git_dirty=None if status is None else bool(status),
        git_branch=branch,
        python=platform.python_version(),
        pytest=pytest.__version__,
        plugin=plugin_version(),
        platform=f"{sys.platform}-{platform.machine()}",
        workers=workers,
    )
