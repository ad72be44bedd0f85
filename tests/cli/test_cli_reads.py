"""``runs`` and ``show`` read plain stored summaries: same output, usage shown, lean start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_cli import make_record

from pytest_datasetrun.cli import main
from pytest_datasetrun.cli.summary import plain
from pytest_datasetrun.store.runstore import open_store, write_run

USAGE = {
    "called": 4,
    "cached": 0,
    "replayed": 0,
    "rows_with_usage": 2,
    "input_tokens": 1200,
    "output_tokens": 300,
    "total_tokens": 1500,
    "tokens_per_row": 750.0,
    "latency_p50_s": 0.2,
    "latency_p95_s": 0.9,
    "cost_usd": 0.0123,
    "unpriced": [],
    "no_usage": 2,
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("DATASETRUN_STORE", raising=False)
    path = tmp_path / "runs.json"
    write_run(path, make_record(0, "base"))
    write_run(path, make_record(1, "priced").model_copy(update={"usage": USAGE, "gates": []}))
    return path


def test_show_prints_the_runs_usage_when_recorded(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", str(store), "show", "priced"]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("usage:")]
    assert "tokens 1,500 (in 1,200, out 300; 750 per row)" in line
    assert "latency p50 0.200 s, p95 0.900 s" in line and "cost $0.0123" in line
    assert main(["--store", str(store), "show", "base"]) == 0
    assert "usage:" not in capsys.readouterr().out


def test_cache_help_has_no_store_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "--help"]) == 0
    assert "--store" not in capsys.readouterr().out
    assert main(["runs", "--help"]) == 0
    assert "--run-store PATH, --store PATH" in capsys.readouterr().out


def test_plain_summaries_have_the_models_defaults(store: Path) -> None:
    lean = {doc["name"]: doc for doc in open_store(store).documents()}
    assert "status" not in lean["base"]  # stored without its defaults
    for record in (make_record(0, "base"), make_record(1, "priced")):
        priced = {"usage": USAGE, "gates": []}
        expected = record.model_copy(update=priced if record.name == "priced" else {})
        assert plain(lean[record.name]) == plain(expected.summary())


def test_a_damaged_summary_is_skipped_with_a_warning(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = store.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"counts":{"selected":4', b'"counts":{"selected":"4x"', 1)
    store.write_bytes(b"\n".join(lines))
    assert main(["--store", str(store), "runs"]) == 0
    out, err = capsys.readouterr()
    assert "priced" in out and "base" not in out
    assert "warning: run '20261125T180000000Z-000000' is not a run summary" in err
    assert "counts.selected" in err


@pytest.mark.parametrize("argv", [["runs"], ["show", "latest"], ["runs", "--json"]])
def test_reading_commands_start_without_heavy_imports(store: Path, argv: list[str]) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from pytest_datasetrun.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({['--store', str(store), *argv]!r})\n"
        "heavy = ('pydantic', 'tinydb', 'filelock', 'asyncio', 'pytest')\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    status, modules = proc.stdout.split(" ", 1)
    assert status == "0"
    # `runs --json` prints validated summaries: pydantic, and only it (as does `show` of a run
    # with gates, to word them)
    assert json.loads(modules.replace("'", '"')) == (["pydantic"] if "--json" in argv else [])
