"""The review of replay, cache and cost (#13) and of repeats under the verdict rules (#10)."""

from __future__ import annotations

import json

import pytest
from test_iterate import PRICES, ROWS, USAGE_CONFTEST

# A target answering each call of an input by its pattern: "1" yes, "0" no, "e" raises.
PATTERN_CONFTEST = r"""

@dr.target(id="pattern")
def pattern(input):
    log(input)
    n = sum(1 for line in open(LOG) if json.loads(line) == input)
    step = input[(n - 1) % len(input)]
    if step == "e":
        raise RuntimeError(f"call {n} of {input} failed")
    return "yes" if step == "1" else "no"
"""


def _append_conftest(project, text):
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.fixture
def metered(project, qa):
    _append_conftest(project, USAGE_CONFTEST)
    (project.path / "prices.json").write_text(json.dumps(PRICES), encoding="utf-8")
    qa(ROWS)
    return project


@pytest.fixture
def patterned(project):
    _append_conftest(project, PATTERN_CONFTEST)
    return project


def _metered(project, *extra):
    result = project.run("--dataset=qa.jsonl", "--target=metered", "--scorer=contains", *extra)
    return result, project.last_run()


# -- 1. a target error costs nothing measurable, and does not make the cost unmeasurable ---------


def test_target_error_does_not_make_the_cost_unmeasurable(metered, qa, mode):
    qa([*ROWS, {"id": "q5", "input": "raise please", "expected": "x"}])
    result, record = _metered(metered, "--prices=prices.json", "--max-cost=1", *mode)
    assert len(metered.calls()) == 5
    assert result.ret == 1  # the errored row fails, the budget does not
    result.assert_outcomes(passed=4, errors=1)  # the target error is the row's ERROR
    cost = record.gates[-1]
    assert cost.gate == "cost" and cost.passed, cost
    assert cost.value == pytest.approx(0.011)
    assert "1 target call reported no usage ($0)" in cost.detail
    assert record.usage["unpriced"] == [] and record.usage["no_usage"] == 1
    assert record.items[4].cost_usd == 0.0
    assert "budget --max-cost failed" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*(1 reported no usage)*", "*PASS  cost*$0.0110*<= $1*"])


def test_cost_cannot_be_measured_when_no_successful_call_reported_usage(project, qa):
    qa([{"id": "a", "input": "x"}, {"id": "b", "input": "raise me"}])
    (project.path / "prices.json").write_text(json.dumps(PRICES), encoding="utf-8")
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--prices=prices.json", "--max-cost=1"
    )
    assert result.ret == 1
    gate = project.last_run().gates[-1]
    assert not gate.passed and gate.value is None
    result.stdout.fnmatch_lines(
        ["*budget --max-cost failed: not measured*no successful target call reported its usage*"]
    )


def test_token_gate_shows_whole_tokens(metered):
    result, _ = _metered(metered, "--max-tokens=5000")
    result.stdout.fnmatch_lines(["*FAIL  tokens    7,400  <= 5,000*"])


# -- 2. rows --replay-strict refused made no call ------------------------------------------------


def test_replay_strict_refused_rows_are_not_target_calls(metered, qa):
    _metered(metered, "--run-name=orig")
    qa([ROWS[0], {**ROWS[1], "input": "bye changed"}, *ROWS[2:], {"id": "q7", "input": "new"}])
    result, record = _metered(
        metered, "--replay=orig", "--replay-strict", "--prices=prices.json", "--max-cost=1"
    )
    assert len(metered.calls()) == 4  # no call in the replay
    refused = {i.item_id: i for i in record.items if i.item_id in ("q2", "q7")}
    assert {i.via for i in refused.values()} == {"refused"}
    assert {i.status for i in refused.values()} == {"errored"}
    assert record.usage["called"] == 0 and record.replay["called"] == 0
    assert record.replay["missing"] == ["q2", "q7"]
    assert record.gates[-1].gate == "cost" and record.gates[-1].passed
    assert result.ret == 1  # the two refused rows are errors
    result.stdout.fnmatch_lines(["*usage: 0 target calls*", "*PASS  cost*"])
    assert "budget --max-cost failed" not in result.stdout.str()


# -- 4. rescore keeps the stored run's repeat policy ---------------------------------------------


def test_rescore_uses_the_stored_repeat_policy(patterned, qa, capsys):
    from pytest_datasetrun.cli.main import main

    qa(
        [
            {"id": "a", "input": "110", "expected": "yes"},
            {"id": "b", "input": "100", "expected": "yes"},
        ]
    )
    args = ["--dataset=qa.jsonl", "--target=pattern", "--scorer=exact_match>=1", "--repeat=3"]
    result = patterned.run(*args, "--repeat-policy=any", "--run-name=r3any")
    assert result.ret == 0
    calls = len(patterned.calls())
    store = str(patterned.path / ".datasetrun" / "runs.json")
    rescore = ["rescore", "r3any", "--scorer", "exact_match>=1", "--store", store]
    assert main([*rescore, "--no-store"]) == 0, capsys.readouterr().out
    assert "policy any" in capsys.readouterr().out
    assert main([*rescore, "--repeat-policy", "all"]) == 1
    record = patterned.last_run()
    assert record.options["repeat_policy"] == "all"
    assert [i.status for i in record.items] == ["failed", "failed"]
    assert main([*rescore, "--repeat-policy", "some"]) == 2
    assert "--repeat-policy: 'some' is not all, majority, any" in capsys.readouterr().err
    assert len(patterned.calls()) == calls  # rescore never calls the target


# -- 5. --max-cost-increase compares the rows both runs share ------------------------------------


def test_cost_increase_compares_shared_rows(metered):
    _metered(metered, "--prices=prices.json", "-k", "q1", "--run-name=small")
    result, record = _metered(
        metered, "--prices=prices.json", "--baseline=small", "--max-cost-increase=10"
    )
    assert result.ret == 0, result.stdout.str()
    gate = record.gates[-1]
    assert gate.passed and gate.value == pytest.approx(0.0)
    assert "over the 1 row both runs share" in gate.detail


def test_cost_increase_against_a_cached_baseline_uses_the_original_calls(metered):
    _metered(metered, "--prices=prices.json", "--cache")
    _, cached = _metered(metered, "--prices=prices.json", "--cache", "--run-name=free")
    assert cached.usage["cost_usd"] == 0 and cached.usage["cached"] == 4
    result, record = _metered(
        metered, "--prices=prices.json", "--baseline=free", "--max-cost-increase=10"
    )
    assert result.ret == 0, result.stdout.str()
    gate = record.gates[-1]
    assert gate.passed and gate.value == pytest.approx(0.0)
    assert "$0.0110 vs baseline $0.0110" in gate.detail


def test_cost_increase_is_skipped_when_the_baseline_has_no_measured_cost(metered):
    metered.run("--dataset=qa.jsonl", "--target=echo", "--run-name=nousage")
    result, record = _metered(
        metered, "--prices=prices.json", "--baseline=nousage", "--max-cost-increase=10"
    )
    assert result.ret == 0, result.stdout.str()
    gate = record.gates[-1]
    assert gate.passed and gate.value is None
    assert gate.detail.startswith("skipped: the baseline has no measured cost")


# -- 6. an errored attempt of a repeated row counts as 0 -----------------------------------------


@pytest.mark.parametrize(
    ("extra", "mean", "ret"),
    [([], 1 / 3, 1), (["--target-errors=exclude"], 1.0, 0)],
    ids=["zero", "exclude"],
)
def test_errored_attempt_counts_as_zero_in_the_row_mean(patterned, qa, mode, extra, mean, ret):
    qa(
        [
            {"id": "f", "input": "1ee", "expected": "yes"},
            {"id": "g", "input": "1", "expected": "yes"},
        ]
    )
    result = patterned.run(
        "--dataset=qa.jsonl",
        "--target=pattern",
        "--scorer=exact_match>=1",
        "--repeat=3",
        "--repeat-policy=any",
        "--fail-under=exact_match=0.9",
        *extra,
        *mode,
    )
    assert len(patterned.calls()) == 6
    assert result.ret == ret, result.stdout.str()
    # the policy passes both rows (1 of 3 attempts passed); a failing gate is its own test
    result.assert_outcomes(passed=2, failed=0 if ret == 0 else 1)
    record = patterned.last_run()
    f = record.items[0].score("exact_match")
    assert f.value == pytest.approx(mean)
    assert record.aggregates["exact_match"].mean == pytest.approx((mean + 1) / 2)


# -- 7. --cache takes no value -------------------------------------------------------------------


def test_cache_does_not_swallow_the_node_id(metered):
    result = metered.run("--dataset=qa.jsonl", "--target=metered", "--cache", "qa.jsonl::q1")
    assert result.ret == 0, result.stdout.str()
    assert metered.calls() == ["hello"]  # only the selected row
    assert not (metered.path / "qa.jsonl::q1").exists()
    assert (metered.path / ".datasetrun" / "cache" / "calls.sqlite3").exists()
    metered.run("--dataset=qa.jsonl", "--target=metered", "--cache-dir=build/c", "qa.jsonl::q1")
    assert (metered.path / "build" / "c" / "calls.sqlite3").exists()
    assert metered.last_run().cache["mode"] == "read-write"


# -- 8. replaying fewer repeats than asked for --------------------------------------------------


def test_replay_summary_counts_samples_when_repeat_exceeds_the_stored_repeats(patterned, qa):
    qa([{"id": "a", "input": "1"}, {"id": "b", "input": "10"}])
    args = ["--dataset=qa.jsonl", "--target=pattern", "--scorer=contains"]
    patterned.run(*args, "--repeat=3", "--run-name=r3")
    result = patterned.run(*args, "--repeat=5", "--replay=r3")
    assert len(patterned.calls()) == 6 + 4  # 2 new samples per row
    record = patterned.last_run()
    assert record.replay["rows"] == ["a", "b"]
    assert record.replay["samples_replayed"] == 6 and record.replay["calls"] == 4
    assert record.usage["called"] == 4
    assert [[r.via for r in i.repeats] for i in record.items] == [
        ["replay"] * 3 + ["target"] * 2
    ] * 2
    result.stdout.fnmatch_lines(
        [
            "*replay: 2 rows replayed from run *, 2 called the target (6 samples replayed, 4 calls)*",
            "*usage: 4 target calls*",
        ]
    )


# -- 9. budget values from the ini file are named by their ini key ------------------------------


@pytest.mark.parametrize("name", ["max_cost", "max_tokens", "max_latency_p95", "max_cost_increase"])
def test_bad_budget_in_the_ini_is_named_by_its_key(metered, name):
    metered.pytester.makeini(f"[pytest]\ndatasetrun_{name} = x\n")
    result = metered.run("--dataset=qa.jsonl", "--target=metered")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*datasetrun_{name}: 'x' is not a number*"])
    assert "Traceback" not in result.stderr.str()
    flag = "--" + name.replace("_", "-")
    result = metered.run("--dataset=qa.jsonl", "--target=metered", f"{flag}=y")
    result.stderr.fnmatch_lines([f"*{flag}: 'y' is not a number*"])


# -- 10. rescore speaks of its own options; project modules import; read-only cache -------------


def test_rescore_messages_and_project_scorers(metered, qa, capsys):
    from pytest_datasetrun.cli.main import main

    qa([ROWS[0], {"id": "q5", "input": "raise please"}])
    _metered(metered)
    (metered.path / "rescore_scorers.py").write_text(
        "def has_h(output):\n    return 1.0 if 'h' in str(output) else 0.0\n", encoding="utf-8"
    )
    store = str(metered.path / ".datasetrun" / "runs.json")
    assert main(["rescore", "latest", "--scorer", "has_h", "--store", store]) == 2
    err = capsys.readouterr().err
    assert "rescore --scorer" in err and "conftest" in err and "run_dataset" not in err
    code = main(["rescore", "latest", "--scorer", "rescore_scorers:has_h", "--store", store])
    out = capsys.readouterr().out
    assert code == 1  # the stored target error stays an error
    assert "1 stored target error kept" in out and "--replay-errors" not in out
    record = metered.last_run()
    assert record.items[0].score("has_h").value == 1.0
    assert "--replay-errors" not in (record.items[1].error or "")
    assert len(metered.calls()) == 2


def test_read_only_cache_creates_no_database(metered):
    result = metered.run(
        "--dataset=qa.jsonl", "--target=metered", "--cache-dir=ro", "--cache-mode=read-only"
    )
    assert result.ret == 0
    assert not (metered.path / "ro").exists()
    assert metered.last_run().cache["misses"] == 4
    assert len(metered.calls()) == 4


# -- 12. smaller output issues -------------------------------------------------------------------


def test_scorer_table_header_lines_up_with_short_scorer_ids(patterned, qa):
    qa([{"id": "a", "input": "1", "expected": "yes"}])
    result = patterned.run("--dataset=qa.jsonl", "--target=pattern", "--scorer=em=exact_match")
    lines = result.stdout.lines
    header = next(line for line in lines if line.startswith("scorer"))
    row = next(line for line in lines if line.startswith("em "))
    column = header.index(" n ") + 1
    assert row[column] == "1", (header, row)  # the n column lines up under its header


def test_replay_from_a_missing_store_names_run_store(metered):
    result = metered.run(
        "--dataset=qa.jsonl", "--target=metered", "--replay=latest", "--run-store=missing.json"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*or pass --run-store)*"])
