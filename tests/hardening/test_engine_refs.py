"""Hardening: target and scorer references, and what a dataset file may name (issue 11, items 1 and 9).

Each case checks the exit code, one line naming what is wrong, no traceback, and that the run
stored before it is unchanged. A dataset naming code must not run it: the cases that would run a
shell command check that the command's file was never written.
"""

from __future__ import annotations

import json

import pytest
from engine_support import Seed, assert_clean

COLLECTION_ERROR = 2

MODULES = {
    "consts.py": "CONST = 42\nNAME = 'hello'\n\ndef agent(input):\n    return input\n",
    "scoring.py": "def tone(output):\n    return 1.0\n\n\ndef judge_model(prompt):\n    return '{\"score\": 1}'\n",
    "raises_on_import.py": "import os\n\n\ndef setup():\n    return 1 / 0\n\n\nsetup()\n",
    "syntax_error.py": "def agent(input):\n    return (input\n",
    "missing_dep.py": "import not_installed_anywhere_xyz\n\n\ndef agent(input):\n    return input\n",
}


@pytest.fixture
def refs(project):
    for name, text in MODULES.items():
        (project.path / name).write_text(text, encoding="utf-8")
    # The project's modules are importable by module:attr, as from the rootdir.
    project.pytester.syspathinsert()
    return Seed(project)


def pwned(project) -> bool:
    return (project.path / "PWNED").exists()


SHELL = "echo x > PWNED"


# -- a dataset file may not name code --------------------------------------------------------


def test_row_scorer_import_path_is_refused(project, refs, mode):
    project.dataset([{"id": "r1", "input": SHELL, "scorers": ["os:system"]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", *mode)
    assert_clean(
        result,
        COLLECTION_ERROR if not mode else 1,  # xdist reports a worker's collection error as 1
        "qa.jsonl, line 1, row 1, field 'scorers'",
        "'os:system' is an import path",
        "--trust-dataset-imports",
    )
    assert not pwned(project)
    refs.assert_untouched()


def test_row_scorer_object_with_import_path_is_refused(project, refs):
    row = {"id": "r1", "input": SHELL, "scorers": [{"scorer": "os:system", "threshold": 0}]}
    project.dataset([{"id": "r0", "input": "ok"}, row])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(result, COLLECTION_ERROR, "qa.jsonl, line 2, row 2, field 'scorers'", "os:system")
    assert not pwned(project)
    refs.assert_untouched()


def test_json_header_scorer_import_path_is_refused(project, refs):
    document = {"name": "h", "scorers": ["builtins:eval"], "items": [{"id": "a", "input": "1+1"}]}
    (project.path / "head.json").write_text(json.dumps(document), encoding="utf-8")
    result = project.run("--dataset=head.json", "--target=echo")
    assert_clean(
        result, COLLECTION_ERROR, "head.json, field 'scorers'", "'builtins:eval' is an import path"
    )
    refs.assert_untouched()


def test_yaml_header_scorer_import_path_is_refused(project, refs):
    text = "scorers:\n  - builtins:exec\nitems:\n  - id: a\n    input: open('PWNED', 'w')\n"
    (project.path / "qa.yaml").write_text(text, encoding="utf-8")
    result = project.run("--dataset=qa.yaml", "--target=echo")
    assert_clean(result, COLLECTION_ERROR, "qa.yaml, field 'scorers'", "'builtins:exec'")
    assert not pwned(project)
    refs.assert_untouched()


def test_csv_row_scorer_import_path_is_refused(project, refs):
    text = 'id,input,scorers\nc1,hello,"[""subprocess:getoutput""]"\n'
    (project.path / "qa.csv").write_text(text, encoding="utf-8")
    result = project.run("--dataset=qa.csv", "--target=echo")
    assert_clean(
        result, COLLECTION_ERROR, "qa.csv, line 2, row 1, field 'scorers'", "subprocess:getoutput"
    )
    refs.assert_untouched()


def test_judge_model_import_path_in_a_row_is_refused(project, refs):
    scorer = {"scorer": "llm_judge", "params": {"model": "os:system", "rubric": SHELL}}
    project.dataset([{"id": "r1", "input": "x", "scorers": [scorer]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "qa.jsonl, line 1, row 1, field 'scorers'",
        "scorer 'llm_judge': model='os:system' names code to import",
    )
    assert not pwned(project)
    refs.assert_untouched()


def test_judge_model_import_path_in_a_spec_string_is_refused(project, refs):
    spec = "llm_judge(model='scoring:judge_model', rubric='ok?')"
    project.dataset([{"id": "r1", "input": "x", "scorers": [spec]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(result, COLLECTION_ERROR, "row 1, field 'scorers'", "model='scoring:judge_model'")
    refs.assert_untouched()


def test_semantic_embedder_import_path_in_a_row_is_refused(project, refs):
    scorer = {"scorer": "semantic_similarity", "params": {"embedder": "os:system"}}
    project.dataset([{"id": "r1", "input": SHELL, "expected": "x", "scorers": [scorer]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(result, COLLECTION_ERROR, "row 1, field 'scorers'", "embedder='os:system'")
    assert not pwned(project)
    refs.assert_untouched()


def test_schema_file_outside_the_project_is_refused(project, refs):
    scorer = {"scorer": "json_schema", "params": {"schema": "/etc/passwd"}}
    project.dataset([{"id": "r1", "input": "{}", "scorers": [scorer]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "row 1, field 'scorers'",
        "schema='/etc/passwd' is a file outside the working directory",
    )
    refs.assert_untouched()


def test_a_registered_scorer_and_a_schema_in_the_project_are_fine(project, refs):
    (project.path / "schema.json").write_text('{"type": "object"}', encoding="utf-8")
    scorers = [{"scorer": "json_schema", "params": {"schema": "schema.json"}}, "length_ok"]
    project.dataset([{"id": "r1", "input": {"a": 1}, "expected": "", "scorers": scorers}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == 0, result.stdout.str()
    assert [s.value for s in project.last_run().items[0].scores] == [1.0, 1.0]
    refs.assert_kept()


def test_trust_dataset_imports_flag_allows_import_paths(project, refs):
    project.dataset([{"id": "r1", "input": "x", "scorers": ["scoring:tone>=1"]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--trust-dataset-imports")
    assert result.ret == 0, result.stdout.str()
    assert project.last_run().items[0].scores[0].id == "tone"
    refs.assert_kept()


def test_trust_dataset_imports_ini_key_allows_import_paths(project, refs):
    project.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\ndatasetrun_trust_dataset_imports = true\n"
    )
    judge = {"scorer": "llm_judge", "params": {"model": "scoring:judge_model", "rubric": "ok?"}}
    project.dataset([{"id": "r1", "input": "x", "scorers": ["scoring:tone", judge]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == 0, result.stdout.str()
    assert [s.id for s in project.last_run().items[0].scores] == ["tone", "llm_judge"]
    refs.assert_kept()


def test_command_line_and_ini_scorers_stay_trusted(project, refs):
    project.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\ndatasetrun_scorers =\n    scoring:tone>=1\n"
    )
    project.dataset([{"id": "r1", "input": "x"}])
    assert project.run("--dataset=qa.jsonl", "--target=echo").ret == 0
    judge = "llm_judge(model='scoring:judge_model', rubric='ok?')"
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--scorer={judge}")
    assert result.ret == 0, result.stdout.str()
    assert project.last_run().items[0].scores[0].value == 1.0
    refs.assert_kept()


def test_row_overrides_a_trusted_scorer_without_naming_code(project, refs):
    # The command line names the judge's model; the row only changes its rubric: allowed.
    judge = "llm_judge(model='scoring:judge_model', rubric='a')"
    override = {"scorer": "llm_judge", "params": {"rubric": "b"}}
    project.dataset([{"id": "r1", "input": "x", "scorers": [override]}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--scorer={judge}")
    assert result.ret == 0, result.stdout.str()
    assert project.last_run().items[0].scores[0].value == 1.0


# -- target and scorer references ------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "parts"),
    [
        (
            "--target=consts:CONST",
            ["target 'consts:CONST' is an int (42), not a target", "callable"],
        ),
        ("--target=consts:NAME", ["target 'consts:NAME' is a str ('hello'), not a target"]),
        ("--target=os:path", ["target 'os:path' is the module 'posixpath', not a target"]),
        (
            "--scorer=consts:CONST",
            ["scorer 'consts:CONST' is an int (42), not a scorer", "function"],
        ),
        ("--scorer=consts:NAME>=1", ["scorer 'consts:NAME' is a str ('hello'), not a scorer"]),
    ],
    ids=["target-int", "target-str", "target-module", "scorer-int", "scorer-str"],
)
def test_non_callable_reference_is_one_clear_line(project, refs, option, parts):
    project.dataset([{"id": "r1", "input": "x"}])
    args = [option] if option.startswith("--target") else ["--target=echo", option]
    result = project.run("--dataset=qa.jsonl", *args)
    assert_clean(result, COLLECTION_ERROR, *parts)
    refs.assert_untouched()


def test_target_module_raising_on_import_shows_the_users_frame(project, refs):
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=raises_on_import:agent")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "target 'raises_on_import:agent': importing module 'raises_on_import' raised "
        "ZeroDivisionError: division by zero",
    )
    text = result.stdout.str()
    assert "raises_on_import.py:5 in setup: return 1 / 0" in text
    assert "importlib" not in text and "pytest_datasetrun" not in text.split("datasetrun:", 1)[1]
    refs.assert_untouched()


def test_scorer_module_with_a_syntax_error_shows_the_line(project, refs):
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=syntax_error:agent")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "scorer 'syntax_error:agent': importing module 'syntax_error' raised SyntaxError",
    )
    assert "syntax_error.py:2" in result.stdout.str()
    refs.assert_untouched()


def test_target_module_with_a_missing_dependency_names_it(project, refs):
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=missing_dep:agent")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "target 'missing_dep:agent': importing module 'missing_dep' raised ModuleNotFoundError",
        "not_installed_anywhere_xyz",
    )
    assert "missing_dep.py:1 in <module>" in result.stdout.str()
    refs.assert_untouched()


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("no_such_module_xyz:agent", ["cannot import module 'no_such_module_xyz'"]),
        ("consts:nothing", ["module 'consts' has no attribute 'nothing'"]),
        (":agent", ["':agent' is not an import path of the form package.module:attr"]),
        ("consts:", ["'consts:' is not an import path of the form package.module:attr"]),
        (".consts:agent", ["'.consts:agent' is not an import path"]),
    ],
    ids=["no-module", "no-attr", "no-module-name", "no-attr-name", "relative"],
)
def test_unresolvable_target_reference(project, refs, ref, parts):
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", f"--target={ref}")
    assert_clean(result, COLLECTION_ERROR, *parts)
    refs.assert_untouched()


def test_non_callable_reference_under_xdist(project, refs):
    project.dataset([{"id": "r1", "input": "x"}, {"id": "r2", "input": "y"}])
    result = project.run("--dataset=qa.jsonl", "--target=consts:CONST", "-n", "2")
    assert result.ret != 0
    text = result.stdout.str() + result.stderr.str()
    assert "target 'consts:CONST' is an int (42), not a target" in text
    assert "Traceback" not in text and "INTERNALERROR" not in text
    refs.assert_untouched()


def test_judge_base_url_in_a_row_is_refused(project, refs):
    """A dataset file may not choose the server every row's input and output are sent to."""
    params = {"model": "openai:gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1", "rubric": "ok?"}
    project.dataset(
        [{"id": "r1", "input": "x", "scorers": [{"scorer": "llm_judge", "params": params}]}]
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(
        result,
        COLLECTION_ERROR,
        "qa.jsonl, line 1, row 1, field 'scorers'",
        "base_url='http://127.0.0.1:9/v1' chooses the server the rows' text is sent to",
    )


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        (
            "consts:CONST",
            ["target 'broken': an int is not a target"],
        ),
        (
            "raises_on_import:agent",
            [
                "the target entry point 'broken' (raises_on_import:agent) cannot be loaded: "
                "ZeroDivisionError: division by zero"
            ],
        ),
    ],
    ids=["non-callable", "raises-on-load"],
)
def test_broken_target_entry_point_is_one_clear_message(project, refs, monkeypatch, value, parts):
    import importlib.metadata
    from importlib.metadata import EntryPoint

    group = "pytest_datasetrun.targets"
    eps = [EntryPoint(name="broken", value=value, group=group)]
    real = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda **kw: eps if kw.get("group") == group else real(**kw),
    )
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=broken")
    assert_clean(result, COLLECTION_ERROR, *parts)
    refs.assert_untouched()
