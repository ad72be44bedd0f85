"""Catalogue of bad dataset files (issue 11): each is one clear error, never a traceback.

Every case runs a real pytest session on the file and asserts the exit code (usage error), that
one paragraph names the file, the line or row and the field where there is one, that no
traceback or INTERNALERROR is printed, and that an earlier run in the store is left as it was.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{n}: &a{n} [{','.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join(lines) + "\nitems:\n  - input: *a9\n"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes | str
    expect: tuple[str, ...]
    args: tuple[str, ...] = ()


BIG = "9" * 5000
CASES = {
    "yaml-alias-bomb": Case("d.yaml", _bomb(), ("d.yaml, line", "alias bomb")),
    "yaml-recursive-alias": Case(
        "d.yaml", "- &r {input: x, metadata: {me: *r}}\n", ("d.yaml, line 1", "contains it")
    ),
    "yaml-too-deep": Case(
        "d.yaml",
        "- input: " + "[" * 300 + "]" * 300 + "\n",
        ("d.yaml, line 1", "nested deeper than 100"),
    ),
    "yaml-duplicate-key": Case(
        "d.yaml", "- input: a\n  input: b\n", ("d.yaml, line 2, field 'input'", "duplicate key")
    ),
    "yaml-big-int": Case("d.yaml", f"- input: {BIG}\n", ("d.yaml", "4300 digits")),
    "yaml-nan": Case(
        "d.yaml",
        "- input: .nan\n",
        ("d.yaml, line 1, row 1, field 'input'", "write it as a string"),
    ),
    "yaml-empty": Case("d.yaml", "", ("d.yaml", "empty")),
    "yaml-not-a-list": Case("d.yaml", "just text\n", ("d.yaml", "expected a list of rows")),
    "json-duplicate-key-in-row": Case(
        "d.json",
        '[\n{"input": 1},\n{"input": 2, "input": 3}\n]',
        ("d.json, line 3, row 2, field 'input'", "duplicate key"),
    ),
    "json-duplicate-header-key": Case(
        "d.json", '{"items": [], "items": []}', ("d.json, line 1, field 'items'", "duplicate key")
    ),
    "json-too-deep-for-parser": Case(
        "d.json", "[" * 5000 + "]" * 5000, ("d.json, line 1, row 1", "nested")
    ),
    "json-too-deep-for-record": Case(
        "d.json",
        '[{"input": ' + "[" * 300 + "]" * 300 + "}]",
        ("d.json, line 1, row 1, field 'input", "nested deeper than 100"),
    ),
    "json-big-int": Case(
        "d.json", f'[{{"input": {BIG}}}]', ("d.json, line 1, row 1", "4300 digits")
    ),
    "json-infinity": Case(
        "d.json",
        '[{"input": "x", "expected": Infinity}]',
        ("d.json, line 1, row 1, field 'expected'", "write it as a string"),
    ),
    "json-empty": Case("d.json", "", ("d.json", "empty")),
    "json-empty-list": Case("d.json", "[]", ("d.json", "no rows")),
    "json-trailing-garbage": Case("d.json", '[{"input": 1}] x', ("d.json, line 1", "extra data")),
    "jsonl-duplicate-key": Case(
        "d.jsonl",
        '{"input": 1}\n{"id": "a", "input": 2, "id": "b"}\n',
        ("d.jsonl, line 2, row 2, field 'id'", "duplicate key"),
    ),
    "jsonl-too-deep": Case(
        "d.jsonl",
        '{"input": ' + "[" * 1200 + "]" * 1200 + "}\n",
        ("d.jsonl, line 1, row 1", "nested"),
    ),
    "jsonl-big-int": Case(
        "d.jsonl",
        f'{{"input": 1}}\n{{"input": {BIG}}}\n',
        ("d.jsonl, line 2, row 2", "4300 digits"),
    ),
    "jsonl-nan": Case(
        "d.jsonl",
        '{"input": "x", "metadata": {"score": NaN}}\n',
        ("d.jsonl, line 1, row 1, field 'metadata.score'", "write it as a string"),
    ),
    "jsonl-empty": Case("d.jsonl", "", ("d.jsonl", "empty")),
    "jsonl-blank-lines-only": Case("d.jsonl", "\n\n   \n", ("d.jsonl", "empty")),
    "jsonl-bad-line-after-cr-endings": Case(
        "d.jsonl",
        '{"input": 1}\r{"input": 2}\r{"input":',
        ("d.jsonl, line 3, row 3", "invalid JSON"),
    ),
    "csv-short-row-with-tags": Case(
        "d.csv",
        "id,input,tags\na,hello,x\nb,bye\n",
        ("d.csv, line 3, row 2, field 'tags'", "fewer cells"),
    ),
    "csv-short-row-missing-input": Case(
        "d.csv", "id,input\nonly-an-id\n", ("d.csv, line 2, row 1, field 'input'", "fewer cells")
    ),
    "csv-long-row": Case("d.csv", "input\nx,y\n", ("d.csv, line 2, row 1", "more cells")),
    "csv-duplicate-header": Case(
        "d.csv",
        "input,expected,expected\na,b,c\n",
        ("d.csv, line 1, field 'expected'", "duplicate column"),
    ),
    "csv-duplicate-header-by-case": Case(
        "d.csv", "input,Input\na,b\n", ("d.csv, line 1, field 'input'", "duplicate column")
    ),
    "csv-empty": Case("d.csv", "", ("d.csv", "empty")),
    "csv-header-only": Case("d.csv", "input,expected\n", ("d.csv", "no rows")),
    "csv-unclosed-quote": Case(
        "d.csv", 'input\nok\n"never closed\n', ("d.csv, line 3", "malformed CSV")
    ),
    "csv-no-input-column": Case(
        "d.csv", "question,answer\nq,a\n", ("d.csv, line 1, field 'input'", "--dataset-fields")
    ),
    "csv-cp1252": Case(
        "d.csv",
        "input;expected\ncaf\xe9;ok\n".encode("cp1252"),
        ("d.csv, line 2", "cp1252", "--dataset-encoding=cp1252"),
    ),
    "csv-bad-json-cell": Case(
        "d.csv",
        "input\n{oops\n",
        ("d.csv, line 2, row 1, field 'input'", "invalid JSON in cell"),
        ("--dataset-json-cells=input",),
    ),
    "csv-bad-metadata-cell": Case(
        "d.csv",
        'input,metadata\nx,"[1, 2"\n',
        ("d.csv, line 2, row 1, field 'metadata'", "invalid JSON in cell"),
    ),
    "mapped-input-missing": Case(
        "d.jsonl",
        '{"question": "q"}\n{"prompt": "p"}\n',
        ("d.jsonl, line 2, row 2, field 'question'", "mapped"),
        ("--dataset-fields=input=question",),
    ),
    "mapped-expected-missing": Case(
        "d.jsonl",
        '{"q": "x", "a": {"text": 1}}\n{"q": "y", "a": {}}\n',
        ("d.jsonl, line 2, row 2, field 'a.text'", "mapped"),
        ("--dataset-fields=input=q,expected=a.text",),
    ),
    "header-fields-not-a-row-field": Case(
        "d.json",
        '{"fields": {"answer": "a"}, "items": [{"a": 1}]}',
        ("d.json, field 'fields'", "not a row field"),
    ),
    "promptfoo-file-reference": Case(
        "d.yaml",
        "prompts: [x]\ntests:\n  - file://tests.csv\n",
        ("d.yaml, row 1, field 'tests'", "not followed"),
    ),
    "langsmith-row-without-inputs": Case(
        "d.jsonl",
        '{"inputs": {"q": 1}, "outputs": {}}\n{"outputs": {}}\n',
        ("d.jsonl, line 2, row 2, field 'inputs'", "langsmith"),
    ),
    "openai-evals-row-without-input": Case(
        "d.jsonl",
        '{"input": "q", "ideal": "a"}\n{"ideal": "b"}\n',
        ("d.jsonl, line 2, row 2, field 'input'", "openai-evals"),
    ),
    "utf16-file": Case(
        "d.jsonl",
        '{"input": 1}\n'.encode("utf-16"),
        ("d.jsonl, line 1", "utf-16", "--dataset-encoding=utf-16"),
    ),
    "yaml-unknown-tag": Case(
        "d.yaml", "- input: !include other.yaml\n", ("d.yaml, line 1", "invalid YAML")
    ),
    "yaml-python-tag": Case(
        "d.yaml",
        "- input: !!python/object/apply:os.system ['echo hi']\n",
        ("d.yaml, line 1", "invalid YAML"),
    ),
    "json-top-level-number": Case("d.json", "42", ("d.json", "expected a list of rows")),
    "jsonl-row-not-an-object": Case(
        "d.jsonl", '{"input": 1}\n[1, 2]\n', ("d.jsonl, line 2, row 2", "must be an object")
    ),
    "jsonl-same-id-as-int-and-string": Case(
        "d.jsonl",
        '{"id": 1, "input": 1}\n{"id": "1", "input": 2}\n',
        ("d.jsonl, line 2, row 2, field 'id'", "duplicate id"),
    ),
    "csv-tags-json-not-a-list": Case(
        "d.csv", 'input,tags\nx,"[1, 2]"\n', ("d.csv, line 2, row 1, field 'tags.0'",)
    ),
    "hf-disk-format-on-a-file": Case(
        "d.jsonl", '{"input": 1}\n', ("d.jsonl", "is not a folder"), ("--dataset-format=hf-disk",)
    ),
    "unknown-extension": Case(
        "d.txt", "x", ("d.txt", "unknown dataset extension", "--dataset-format")
    ),
    "parquet-that-is-not": Case("d.parquet", "not parquet at all", ("d.parquet", "parquet")),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_dataset_file(project, case: Case) -> None:
    if case.name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    path = project.path / case.name
    path.write_bytes(case.data.encode("utf-8") if isinstance(case.data, str) else case.data)
    before = seed_store(project)
    result = project.run(f"--dataset={case.name}", "--target=echo", *case.args)
    assert_one_clear_error(project, result, case.expect, before)


# Under xdist the controller loads the datasets once the workers have started (so that the load
# does not hold them up); a bad file must still be one clean error, and no worker may be left.
XDIST_CASES = ["mapped-expected-missing", "jsonl-same-id-as-int-and-string", "yaml-python-tag"]


@pytest.mark.parametrize("name", XDIST_CASES)
def test_bad_dataset_file_under_xdist(project, name: str) -> None:
    case = CASES[name]
    (project.path / case.name).write_bytes(case.data.encode("utf-8"))
    before = seed_store(project)
    older = _children()
    result = project.run(f"--dataset={case.name}", "--target=echo", "-n", "2", *case.args)
    assert_one_clear_error(project, result, case.expect, before)
    output = result.stdout.str() + result.stderr.str()
    assert "crashed" not in output and "worker" not in output.replace("2/2 workers", ""), output
    assert _children_gone(older) == {}, "child processes left running"


def test_bad_row_scorer_under_xdist(project) -> None:
    (project.path / "d.jsonl").write_text(
        '{"input": "a"}\n{"input": "b", "scorers": ["exact_match>=2"]}\n', encoding="utf-8"
    )
    older = _children()
    result = project.run("--dataset=d.jsonl", "--target=echo", "-n", "2")
    assert_one_clear_error(project, result, ("d.jsonl, line 2, row 2, field 'scorers'",))
    assert _children_gone(older) == {}, "child processes left running"


def test_unexpected_error_in_the_controllers_load_stops_the_workers(project, qa) -> None:
    """Not a bad dataset but a bug (or Ctrl-C) while the controller loads: no worker outlives it."""
    qa()
    conftest = project.path / "conftest.py"
    conftest.write_text(
        conftest.read_text(encoding="utf-8")
        + textwrap.dedent(
            """

            def pytest_configure(config):
                if hasattr(config, "workerinput"):
                    return
                # The loader the controller's run context imports when it loads a dataset.
                from pytest_datasetrun.data import dataset

                original = dataset.load_dataset

                def broken(*args, **kwargs):
                    raise ValueError("an importer's bug")

                dataset.load_dataset = broken
                config.add_cleanup(lambda: setattr(dataset, "load_dataset", original))
            """
        ),
        encoding="utf-8",
    )
    older = _children()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "-n", "2")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    assert "an importer's bug" in output and "node down" not in output, output
    assert _children_gone(older) == {}, "child processes left running"


def _children_gone(older: dict[str, str], within_s: float = 10.0) -> dict[str, str]:
    """The child processes started since ``older`` still running after ``within_s`` (a killed
    worker takes a moment to go); a child the test process had before is not the session's."""
    deadline = time.monotonic() + within_s
    while left := {pid: cmd for pid, cmd in _children().items() if pid not in older}:
        if time.monotonic() > deadline:
            return left
        time.sleep(0.05)
    return {}


def _children() -> dict[str, str]:
    """The live child processes of this process by pid (Linux /proc; empty elsewhere)."""
    me = str(os.getpid())
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me and fields[0] != "Z":
                cmdline = (stat.parent / "cmdline").read_bytes()
                found[stat.parent.name] = cmdline.replace(b"\0", b" ").decode()[:200]
        except OSError:
            continue
    return found


def seed_store(project) -> dict[str, bytes]:
    """An earlier run in the store, which a failing session must leave exactly as it was."""
    from pytest_datasetrun.api import run_dataset

    store = project.path / ".datasetrun" / "runs.json"
    run_dataset([{"id": "seed", "input": "x"}], lambda input: input, name="earlier", store=store)
    return snapshot(project)


def snapshot(project) -> dict[str, bytes]:
    folder = project.path / ".datasetrun"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_one_clear_error(project, result, expect, before=None) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: datasetrun: ")]
    assert len(errors) == 1, output
    for fragment in expect:
        assert fragment in errors[0], (fragment, errors[0])
    if before is None:
        assert project.runs() == []
    else:
        assert snapshot(project) == before


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (("--dataset-fields=answer=a",), "--dataset-fields: 'answer' is not a row field"),
        (("--dataset-fields=input",), "--dataset-fields: 'input' is not field=path"),
        (("--dataset-fields=input=a..b",), "is not a dotted path"),
        (("--dataset-format=excel",), "--dataset-format: unknown format 'excel'"),
        (("--dataset-encoding=klingon",), "--dataset-encoding: unknown encoding 'klingon'"),
    ],
    ids=["fields-unknown-field", "fields-no-path", "fields-empty-segment", "format", "encoding"],
)
def test_bad_reading_option(project, qa, args, expect) -> None:
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and expect in output, output


def test_symlink_loop_as_dataset_path(project) -> None:
    (project.path / "loop.jsonl").symlink_to(project.path / "loop.jsonl")
    result = project.run("--dataset=loop.jsonl", "--target=echo")
    assert_one_clear_error(project, result, ("loop.jsonl", "cannot be read"))


def test_fifo_as_dataset_path_does_not_block(project) -> None:
    import os

    os.mkfifo(project.path / "pipe.jsonl")
    result = project.run("--dataset=pipe.jsonl", "--target=echo")
    assert_one_clear_error(project, result, ("pipe.jsonl", "not a regular file"))


def test_folder_that_is_not_a_dataset(project) -> None:
    (project.path / "data").mkdir()
    (project.path / "data" / "x.txt").write_text("x")
    result = project.run("--dataset=data", "--target=echo")
    assert_one_clear_error(project, result, ("data", "is a directory"))


def test_non_utf8_file_name(project) -> None:
    import os

    name = b"caf\xe9.jsonl"
    with open(os.path.join(os.fsencode(project.path), name), "wb") as handle:
        handle.write(b'{"input": 1}\n{"input": 2, "oops": 3}\n')
    shown = os.fsdecode(name)
    result = project.run(f"--dataset={shown}", "--target=echo")
    assert_one_clear_error(project, result, ("caf", "line 2, row 2, field 'oops'"))


def test_valid_unicode_line_separators_are_not_split(project) -> None:
    rows = [{"id": "a", "input": "x\u2028y\u2029z\u0085w", "expected": "x\u2028y\u2029z\u0085w"}]
    (project.path / "qa.jsonl").write_text(json.dumps(rows[0], ensure_ascii=False) + "\n", "utf-8")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1")
    assert result.ret == 0
    assert project.last_run().items[0].input == rows[0]["input"]
