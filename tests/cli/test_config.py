"""One store resolution for pytest and the CLI, typed ini keys, --version, prune, CJK tables."""

from __future__ import annotations

import pytest

from pytest_datasetrun.cli import main
from pytest_datasetrun.report.table import display_width, render_table

ROWS = [{"id": "a", "input": "x", "expected": "x"}, {"id": "b", "input": "y", "expected": "y"}]


@pytest.fixture(autouse=True)
def no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATASETRUN_STORE", raising=False)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_from_a_subdirectory_finds_the_store_pytest_wrote(project, qa, capsys, monkeypatch):
    qa(ROWS)
    project.pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\ndatasetrun_store = "results/runs.json"\n'
    )
    (project.path / "tox.ini").unlink()
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-name=first")
    assert (project.path / "results" / "runs.json").is_file()
    sub = project.path / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, out, _ = cli(capsys, "runs")
    assert code == 0 and "first" in out


def test_environment_variable_wins_over_the_ini_in_both(project, qa, capsys, monkeypatch):
    qa(ROWS)
    project.pytester.makeini("[pytest]\ndatasetrun_store = ini.json\n")
    monkeypatch.setenv("DATASETRUN_STORE", str(project.path / "env.json"))
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-name=envrun")
    assert (project.path / "env.json").is_file() and not (project.path / "ini.json").exists()
    monkeypatch.chdir(project.path)
    assert "envrun" in cli(capsys, "runs")[1]
    # the option beats the environment, in both
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-store=opt.json", "--run-name=o")
    for flag in ("--run-store", "--store"):
        assert "o " in cli(capsys, flag, "opt.json", "runs")[1]
        assert "o " in cli(capsys, "runs", flag, "opt.json")[1]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("pytest-datasetrun ")


@pytest.mark.parametrize("table", ["tool.pytest", "tool.pytest.ini_options"])
def test_typed_ini_keys_in_both_pyproject_tables(project, qa, table):
    qa(ROWS)
    (project.path / "tox.ini").unlink()
    quote = '"' if table.endswith("ini_options") else ""  # ini_options values are strings
    project.pytester.makepyprojecttoml(
        f"[{table}]\n"
        f"datasetrun_max_concurrency = {quote}2{quote}\n"
        f"datasetrun_item_timeout = {quote}5.5{quote}\n"
        f"datasetrun_max_retries = {quote}1{quote}\n"
        f"datasetrun_significance = {quote}0.1{quote}\n"
        f"datasetrun_min_pass_rate = {quote}0.5{quote}\n"
        f"datasetrun_max_errors = {quote}1{quote}\n"
        f"datasetrun_junit_properties = {quote}false{quote}\n"
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    options = project.last_run().options
    assert (options["max_concurrency"], options["item_timeout"], options["max_retries"]) == (
        2,
        5.5,
        1,
    )


def test_bad_typed_ini_value_is_one_usage_error(project, qa):
    qa(ROWS)
    project.pytester.makeini("[pytest]\ndatasetrun_max_concurrency = many\n")
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *datasetrun_max_concurrency: 'many' is not an integer*"])
    assert "Traceback" not in result.stderr.str()


def test_prune_keeps_newest_and_the_ini_baseline(project, qa, capsys, monkeypatch):
    qa(ROWS)
    for name in ("main", "a", "b", "c"):
        project.run("--dataset=qa.jsonl", "--target=echo", f"--run-name={name}")
    project.pytester.makeini("[pytest]\ndatasetrun_baseline = main\n")
    monkeypatch.chdir(project.path)
    code, out, _ = cli(capsys, "prune", "--keep", "1", "--dry-run")
    assert code == 0 and "would delete 2 of 4 runs" in out
    assert len(project.runs()) == 4
    code, out, _ = cli(capsys, "prune", "--keep", "1")
    assert code == 0 and "deleted 2 of 4 runs" in out
    assert sorted(run["name"] for run in project.runs()) == ["c", "main"]
    items = project.path / ".datasetrun" / "runs.items"
    assert len(list(items.iterdir())) == 2  # the deleted runs' items went with them
    code, out, _ = cli(capsys, "prune", "--older-than", "0s")
    assert [run["name"] for run in project.runs()] == ["main"]  # the baseline, however old


def test_prune_needs_a_rule_and_a_valid_age(capsys):
    assert cli(capsys, "prune")[0] == 2
    code, _, err = cli(capsys, "prune", "--older-than", "3x")
    assert code == 2 and "--older-than: '3x' is not an age" in err


def test_tables_align_cjk_text():
    text = render_table(["id", "answer", "n"], [["q1", "日本語の答え", "1"], ["q2", "abc", "2"]])
    lines = text.splitlines()
    assert display_width("日本語の答え") == 12
    assert len({display_width(line[: line.rindex(" ") + 1]) for line in lines}) == 1
    cut = render_table(["id", "answer"], [["q1", "中文" * 40]], width=30).splitlines()[1]
    assert display_width(cut) <= 30 and cut.endswith(("…", "~"))
