"""What the run ran on: git state, versions, platform."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pytest_datasetrun.record.run import Environment

__all__ = ("capture_environment", "plugin_version")


def plugin_version() -> str:
    """The installed distribution's version, from package metadata (not the package root)."""
    try:
        return version("pytest-datasetrun")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def capture_environment(root: Path, workers: int) -> Environment:
    """Collect the environment; git fields stay ``None`` outside a repository (CI variables fill in)."""
    import pytest

    commit = (
        _git(root, "rev-parse", "HEAD")
        or os.environ.get("GITHUB_SHA")
        or os.environ.get("CI_COMMIT_SHA")
    )
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    if branch in (None, "HEAD"):
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or branch
    status = _git(root, "status", "--porcelain", "--untracked-files=no") if commit else None
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
