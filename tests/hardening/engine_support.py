"""Helpers for the engine hardening cases: a clean error, and an earlier run left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD_ROWS = [{"id": "g1", "input": "hello", "expected": "hello"}]


def store_files(root: Path) -> dict[str, bytes]:
    """Every file of the default run store, by relative path."""
    store = root / ".datasetrun"
    if not store.exists():
        return {}
    return {
        str(path.relative_to(store)): path.read_bytes()
        for path in sorted(store.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


class Seed:
    """One good run stored before a case runs, to check the case left it as it was."""

    def __init__(self, project: object) -> None:
        self.project = project
        project.dataset(GOOD_ROWS, "good.jsonl")  # type: ignore[attr-defined]
        result = project.run("--dataset=good.jsonl", "--target=echo", "--scorer=exact_match>=1")  # type: ignore[attr-defined]
        assert result.ret == 0, result.stdout.str()
        self.files = store_files(project.path)  # type: ignore[attr-defined]
        self.record = self._load()
        assert self.record["counts"]["passed"] == 1

    def _load(self) -> dict[str, object]:
        from pytest_datasetrun.store.runstore import open_store

        store = open_store(self.project.path / ".datasetrun" / "runs.json")  # type: ignore[attr-defined]
        runs = store.runs()
        return store.get(runs[0].run_id).model_dump(mode="json")

    def assert_untouched(self) -> None:
        """No run was written: the store's files are byte for byte what they were."""
        assert store_files(self.project.path) == self.files  # type: ignore[attr-defined]

    def assert_kept(self) -> None:
        """A new run may have been added; the earlier one reads back unchanged."""
        assert self._load() == self.record


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def assert_clean(result: pytest.RunResult, ret: int, *parts: str) -> str:
    """Exit code ``ret``; one line holding every part, in order; no traceback, no INTERNALERROR.

    :returns: the line with the message.
    """
    text = output(result)
    assert result.ret == ret, text
    assert "Traceback" not in text, text
    assert "INTERNALERROR" not in text, text
    lines = [line for line in text.splitlines() if parts[0] in line]
    assert lines, f"{parts[0]!r} not in:\n{text}"
    line = lines[0]
    position = 0
    for part in parts:
        found = line.find(part, position)
        assert found >= 0, f"{part!r} not in {line!r}"
        position = found + len(part)
    return line
