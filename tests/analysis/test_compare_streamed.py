"""The streamed comparison (items read one at a time) in real sessions and the ``compare`` command.

``--baseline`` in a session (serial and ``-n 2``) and ``pytest-datasetrun compare`` read the
stored items file and the spooled results without building models; both must store and print
what :func:`compare_runs` computes from the complete models, and the figures the per-item
implementation gave for these runs (recorded in ``session_recorded.json``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.analysis.compare import compare_runs
from pytest_datasetrun.cli.main import main
from pytest_datasetrun.store.runstore import open_store

RECORDED_FILE = Path(__file__).with_name("session_recorded.json")
RECORDED = json.loads(RECORDED_FILE.read_text()) if RECORDED_FILE.exists() else None
_RUN_FIELDS = ("base_run", "cand_run", "base_name", "cand_name", "warnings")


def _rows(shift: int, every: int) -> list[dict[str, Any]]:
    """Every ``every``-th row (from ``shift``) answers wrong, and differs in part."""
    rng = random.Random(shift)
    words = ["alpha", "beta", "gamma", "delta", "eps"]
    rows = []
    for i in range(80):
        expected = " ".join(rng.sample(words, 3))
        answer = expected if (i + shift) % every else " ".join(rng.sample(words, 3))
        rows.append({"id": f"r{i:02d}", "input": answer, "expected": expected})
    return rows


def _figures(comparison: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in comparison.items() if key not in _RUN_FIELDS}


def test_session_and_command_give_the_in_memory_and_recorded_figures(
    project: Any, qa: Any, mode: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    scorers = ("--scorer=exact_match>=1", "--scorer=token_f1>=0.5")
    qa(_rows(0, 5))
    project.run("--dataset=qa.jsonl", "--target=echo", *scorers, "--run-name=main", *mode)
    qa(_rows(1, 3))
    result = project.run("--dataset=qa.jsonl", "--target=echo", *scorers, "--baseline=main", *mode)
    assert result.ret in (0, 1)
    store_path = project.path / ".datasetrun" / "runs.json"
    store = open_store(store_path)
    expected = compare_runs(store.get("main"), store.get("latest")).model_dump(mode="json")
    stored = store.get("latest", with_items=False).comparison
    assert stored == expected
    capsys.readouterr()
    code = main(["--store", str(store_path), "compare", "main", "latest", "--json"])
    assert code == (1 if expected["regressed"] else 0)
    assert json.loads(capsys.readouterr().out) == expected
    if RECORDED is None:  # recording the figures (with the per-item implementation)
        RECORDED_FILE.write_text(json.dumps(_figures(expected), indent=1, sort_keys=True) + "\n")
    assert _figures(expected) == RECORDED


@pytest.mark.parametrize("bad", ['{"item_id": 3}', '{"item_id": "q", "scores": [{"id": 1}]}'])
def test_an_invalid_stored_item_is_a_store_error_naming_the_run(
    project: Any, qa: Any, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    qa(_rows(0, 5)[:5])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match")
    store_path = project.path / ".datasetrun" / "runs.json"
    run = open_store(store_path).get("latest", with_items=False)
    path = store_path.parent / "runs.items" / f"{run.run_id}.json"
    path.write_text(f"[\n{bad}\n]\n")
    capsys.readouterr()
    assert main(["--store", str(store_path), "compare", "latest", "latest"]) == 2
    assert f"the items of run {run.run_id} cannot be read from {path}" in capsys.readouterr().err
