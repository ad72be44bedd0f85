"""Text from data reaches the terminal with its control characters escaped (issue 11, item 2)."""

from __future__ import annotations

import json
import re

import pytest

from pytest_datasetrun.cli import main
from pytest_datasetrun.report.escape import safe_text

# Clear the screen, retitle the window, a one-byte CSI, a carriage return that hides what came
# before, a right-to-left override and a Unicode line separator.
EVIL = "ok\x1b[2J\x1b]0;pwned\x07\x9b31m\rhidden\u202eevil\u2028tail"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def raw_controls(text: str) -> list[str]:
    return sorted({f"U+{ord(ch):04X}" for ch in RAW.findall(text)})


def strings(value: object) -> list[str]:
    """Every string inside decoded JSON."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in strings(v)] if isinstance(value, list) else []


def test_safe_text_escapes_controls_and_keeps_json_valid():
    assert safe_text("a\x1b[1mb") == "a\\u001b[1mb"
    assert safe_text("line\nnext\tcol", multiline=True) == "line\nnext\tcol"
    assert safe_text("line\nnext") == "line\\u000anext"
    dumped = json.dumps({"v": EVIL}, ensure_ascii=False)
    assert json.loads(safe_text(dumped)) == {"v": EVIL}
    assert raw_controls(safe_text(EVIL)) == []


@pytest.fixture
def evil_run(project, qa):
    qa([
        {"id": "evil", "input": EVIL, "expected": "x", "metadata": {"note": EVIL}},
        {"id": "plain", "input": "fine", "expected": "fine"},
        {"id": "boom", "input": "raise" + EVIL},
    ])  # fmt: skip
    return project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "-v",
        f"--run-name=name{EVIL}",
    )  # fmt: skip


def test_pytest_output_has_no_raw_control_characters(evil_run):
    out = evil_run.stdout.str() + evil_run.stderr.str()
    assert evil_run.ret == 1
    assert raw_controls(out) == []
    assert "\\u001b[2J" in out  # the failure report shows the output, escaped
    assert "nameok\\u001b[2J" in out  # the datasetrun section names the run, escaped


@pytest.mark.parametrize(
    "command",
    [["runs"], ["show", "latest"], ["show", "latest", "--json"], ["compare", "latest", "latest"],
     ["history", "evil"], ["export", "latest"], ["export", "latest", "--format", "json"]],
    ids=lambda c: "-".join(c),
)  # fmt: skip
def test_cli_output_has_no_raw_control_characters(evil_run, project, capsys, command):
    store = str(project.path / ".datasetrun" / "runs.json")
    assert main(["--store", store, *command]) == 0
    out, err = capsys.readouterr()
    assert raw_controls(out + err) == []
    if "--json" in command or command[0] == "export":  # JSON escapes decode to the same text
        lines = [out] if command[-1] in ("--json", "json") else out.splitlines()
        decoded = [json.loads(line) for line in lines]
        assert EVIL in strings(decoded)


def test_cli_error_quoting_a_run_name_is_escaped(evil_run, project, capsys):
    store = str(project.path / ".datasetrun" / "runs.json")
    assert main(["--store", store, "show", "name\x1b[2"]) == 2
    _, err = capsys.readouterr()
    assert "no run matches" in err and raw_controls(err) == []
