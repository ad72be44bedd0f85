"""What every hardening case checks: a clean exit and that no run stored earlier changed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

ROWS = [{"id": f"r{i}", "input": f"v{i}", "expected": f"v{i}"} for i in range(4)]


@pytest.fixture
def snapshot(project) -> Callable[[], dict[str, object]]:
    """The default store's runs (each summary, by run id) and every other file in it, by path."""

    def take() -> dict[str, object]:
        root = project.path / ".datasetrun"
        if not root.exists():
            return {}
        files: dict[str, object] = {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock") and p.name != "runs.json"
        }
        index = root / "runs.json"
        if index.exists():
            for doc in json.loads(index.read_text())["runs"].values():
                files[f"run {doc['run_id']}"] = doc
        return files

    return take


@pytest.fixture
def earlier(project, qa, snapshot) -> dict[str, object]:
    """A project with one stored run; returns the store as it was."""
    qa(ROWS)
    assert project.run("--dataset=qa.jsonl", "--target=echo").ret == 0
    (project.path / "calls.log").unlink()  # the faulty session's calls are counted alone
    return snapshot()


@pytest.fixture
def kept(earlier, snapshot) -> Callable[[], None]:
    """Assert that no run stored before the session under test changed."""

    def check() -> None:
        now = snapshot()
        assert {key: now.get(key) for key in earlier} == earlier

    return check


@pytest.fixture
def clean() -> Callable[..., str]:
    """Assert the exit status and that no traceback or INTERNALERROR was printed; the output."""

    def check(result: pytest.RunResult, *, code: int) -> str:
        out = result.stdout.str() + result.stderr.str()
        assert result.ret == code, out
        assert "Traceback" not in out and "INTERNALERROR" not in out
        return out

    return check
