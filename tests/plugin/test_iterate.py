"""Iterating without paying twice: the call cache, --replay, rescore, usage and budgets."""

from __future__ import annotations

import json
import sqlite3

import pytest

# A target that reports usage the way an OpenAI-style result does, and a versioned one.
USAGE_CONFTEST = r"""

@dr.target(id="metered")
def metered(input):
    log(input)
    if input.startswith("raise"):
        raise ValueError("metered target failed on " + input)
    words = len(input.split())
    return {"answer": input, "model": "m1", "usage": {"prompt_tokens": 1000 * words, "completion_tokens": 100}}


@dr.scorer(id="fake_judge")
def fake_judge(output):
    # what llm_judge records: the reply's usage and the model it asked
    usage = {"input_tokens": 500, "output_tokens": 50}
    return dr.Score(1.0, metadata={"usage": usage, "model": "openai:judge-m"})


@dr.target(id="versioned", version=os.environ.get("DR_VERSION", "1"))
def versioned(input):
    log(input)
    return input
"""

ROWS = [
    {"id": "q1", "input": "hello", "expected": "hello"},
    {"id": "q2", "input": "bye now", "expected": "bye"},
    {"id": "q3", "input": "what is up", "expected": "other"},
    {"id": "q4", "input": "fine", "expected": "fine"},
]
PRICES = {"m1": {"input": 1.0, "output": 10.0}}  # USD per million tokens

# What may differ between a run and its cached re-run.
_VOLATILE = {
    "duration_s",
    "target_duration_s",
    "started_at",
    "finished_at",
    "cache",
    "via",
    "worker",
}


@pytest.fixture
def metered(project, qa):
    _add_usage_targets(project)
    (project.path / "prices.json").write_text(json.dumps(PRICES), encoding="utf-8")
    qa(ROWS)
    return project


def _add_usage_targets(project):
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text(encoding="utf-8") + USAGE_CONFTEST, encoding="utf-8")


def _stable(items):
    return [
        {k: v for k, v in item.model_dump().items() if k not in _VOLATILE}
        | {"scores": [{**s.model_dump(), "duration_s": 0} for s in item.scores]}
        for item in items
    ]


def _log_lines(project):
    return len(project.calls())


def test_second_cached_run_makes_no_calls_and_the_same_record(metered, mode):
    args = ["--dataset=qa.jsonl", "--target=metered", "--scorer=contains", "--cache", *mode]
    first = metered.run(*args)
    assert first.ret == 0, first.stdout.str()
    assert _log_lines(metered) == 4
    one = metered.last_run()
    assert one.cache["misses"] == 4 and one.cache["writes"] == 4 and one.cache["hits"] == 0
    assert [i.cache for i in one.items] == [{"hits": 0, "misses": 1, "writes": 1}] * 4

    second = metered.run(*args)
    assert second.ret == 0
    assert _log_lines(metered) == 4  # zero target calls
    two = metered.last_run()
    assert two.cache == {**one.cache, "hits": 4, "misses": 0, "writes": 0}
    assert [i.via for i in two.items] == ["cache"] * 4
    assert [i.cache for i in two.items] == [{"hits": 1, "misses": 0, "writes": 0}] * 4
    assert _stable(two.items) == _stable(one.items)
    # a cached row keeps its original call's latency (what latency scorers judge)
    assert [i.target_duration_s for i in two.items] == [i.target_duration_s for i in one.items]
    assert two.counts == one.counts and two.aggregates.keys() == one.aggregates.keys()
    second.stdout.fnmatch_lines(["*cache (read-write): 4 hits, 0 misses, 0 writes*"])
    verbose = metered.run(*args, "-v")
    verbose.stdout.fnmatch_lines(["*PASSED (cached) [[]contains=1*"])


def test_cache_modes(metered):
    base = ["--dataset=qa.jsonl", "--target=metered", "-p", "no:randomly"]
    metered.run(*base, "--cache", "--cache-mode=read-only")
    assert _log_lines(metered) == 4
    assert metered.last_run().cache["writes"] == 0  # read-only never writes
    metered.run(*base, "--cache")  # read-write fills it
    metered.run(*base, "--cache-mode=refresh")  # calls again and overwrites
    assert _log_lines(metered) == 12
    assert metered.last_run().cache == {
        "mode": "refresh",
        "dir": str((metered.path / ".datasetrun" / "cache").resolve()),
        "hits": 0,
        "misses": 4,
        "writes": 4,
        "corrupt": 0,
    }
    metered.run(*base, "--cache", "--cache-mode=off")
    assert _log_lines(metered) == 16
    assert metered.last_run().cache is None


def test_cache_dir_from_ini_and_command_line(metered):
    metered.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\ndatasetrun_cache = read-write\n"
        "datasetrun_cache_dir = build/calls\n"
    )
    metered.run("--dataset=qa.jsonl", "--target=metered")
    assert (metered.path / "build" / "calls" / "calls.sqlite3").exists()
    metered.run("--dataset=qa.jsonl", "--target=metered", "--cache-dir=elsewhere")
    assert (metered.path / "elsewhere" / "calls.sqlite3").exists()
    assert _log_lines(metered) == 8


def test_cache_key_has_version_and_repeat_index(project, qa, monkeypatch):
    qa([{"id": "a", "input": "x"}, {"id": "b", "input": "y"}])
    _add_usage_targets(project)
    args = ["--dataset=qa.jsonl", "--target=versioned", "--cache", "--repeat=3"]
    project.run(*args)
    assert _log_lines(project) == 6  # three samples per row, not one sample three times
    project.run(*args)
    assert _log_lines(project) == 6
    monkeypatch.setenv("DR_VERSION", "2")
    project.run(*args)
    assert _log_lines(project) == 12
    assert project.last_run().cache["misses"] == 6
    assert project.last_run().target.version == "2"


def test_errors_are_not_cached(project, qa):
    qa([{"id": "ok", "input": "fine"}, {"id": "bad", "input": "raise-me"}])
    project.run("--dataset=qa.jsonl", "--target=echo", "--cache")
    project.run("--dataset=qa.jsonl", "--target=echo", "--cache")
    assert project.calls() == ["fine", "raise-me", "raise-me"]


def test_corrupt_entry_is_a_miss_with_a_warning(project, qa):
    qa([{"id": "a", "input": "x"}, {"id": "b", "input": "y"}])
    project.run("--dataset=qa.jsonl", "--target=echo", "--cache")
    db = project.path / ".datasetrun" / "cache" / "calls.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            'UPDATE calls SET value = \'{"output": "tampered"\' WHERE key = (SELECT key FROM calls LIMIT 1)'
        )
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--cache", "-W", "always")
    assert result.ret == 0
    assert len(project.calls()) == 3  # the corrupt one was called again
    record = project.last_run()
    assert record.cache["corrupt"] == 1 and record.cache["hits"] == 1
    assert "tampered" not in json.dumps([i.output for i in record.items])
    result.stdout.fnmatch_lines(["*1 corrupt entry treated as a miss*"])
    result.stdout.fnmatch_lines(["*cache entry of row*is corrupt*"])


def test_unusable_cache_file_runs_without_it(project, qa):
    qa([{"id": "a", "input": "x"}])
    cache = project.path / ".datasetrun" / "cache"
    cache.mkdir(parents=True)
    (cache / "calls.sqlite3").write_text("not a database at all" * 100, encoding="utf-8")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--cache")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*cache*cannot be used*running without it*"])
    assert project.last_run().cache["mode"] == "off (unusable)"


def test_cache_under_xdist_and_concurrency(project, qa):
    rows = [{"id": f"r{i}", "input": f"v{i % 10}"} for i in range(40)]  # duplicate inputs
    qa(rows)
    args = ["--dataset=qa.jsonl", "--target=echo", "--cache", "-n", "2", "--max-concurrency", "8"]
    assert project.run(*args).ret == 0
    first = len(project.calls())
    assert 10 <= first <= 40
    assert project.run(*args).ret == 0
    assert len(project.calls()) == first
    assert project.last_run().cache["hits"] == 40


# -- replay ------------------------------------------------------------------------------------


def _stored_run(project, *extra):
    result = project.run("--dataset=qa.jsonl", "--target=metered", "--scorer=contains", *extra)
    return result, project.last_run()


@pytest.mark.parametrize(
    "extra",
    [[], ["-n", "2", "--max-concurrency", "8"]],
    ids=["serial", "xdist-concurrency"],
)
def test_replay_regates_a_stored_run_at_zero_calls(metered, qa, extra):
    rows = ROWS + [{"id": "q5", "input": "raise please", "expected": "x"}]
    qa(rows)
    _, stored = _stored_run(metered)
    calls = _log_lines(metered)
    assert calls == 5
    result = metered.run(
        "--dataset=qa.jsonl",
        "--target=metered",
        f"--replay={stored.run_id}",
        "--scorer=exact_match",
        "--fail-under=exact_match=0.9",
        *extra,
    )
    assert _log_lines(metered) == calls  # the target was never called
    assert result.ret == 1
    record = metered.last_run()
    assert record.replayed_from == stored.run_id
    assert record.replay["rows"] == ["q1", "q2", "q3", "q4", "q5"]
    assert record.replay["called"] == 0 and record.replay["errors_kept"] == 1
    assert [i.via for i in record.items] == ["replay"] * 5
    assert [i.output for i in record.items] == [i.output for i in stored.items]
    assert [i.target_duration_s for i in record.items] == [
        i.target_duration_s for i in stored.items
    ]
    q5 = record.items[4]
    assert q5.status == "errored" and q5.error_type == "ValueError"
    assert "metered target failed" in q5.error and "replayed from run" in q5.error
    assert record.gates[0].passed is False  # the new scorer's gate, measured on stored outputs
    result.stdout.fnmatch_lines(["*replay: 5 rows replayed from run*, 0 called the target*"])


def test_replay_errors_rerun_and_missing_rows(metered, qa):
    qa([{"id": "q1", "input": "hello"}, {"id": "q5", "input": "raise please"}])
    _stored_run(metered)
    qa(
        [
            {"id": "q1", "input": "hello"},
            {"id": "q5", "input": "raise please"},
            {"id": "new", "input": "new row"},
        ]
    )
    metered.run(
        "--dataset=qa.jsonl", "--target=metered", "--replay=latest", "--replay-errors=rerun"
    )
    assert metered.calls() == ["hello", "raise please", "raise please", "new row"]
    record = metered.last_run()
    assert [i.via for i in record.items] == ["replay", "target", "target"]
    assert record.replay["called"] == 2


def test_replay_strict_never_calls_the_target(metered, qa):
    qa([{"id": "q1", "input": "hello"}])
    _stored_run(metered)
    qa([{"id": "q1", "input": "hello"}, {"id": "new", "input": "new row"}])
    result = metered.run(
        "--dataset=qa.jsonl", "--target=metered", "--replay=latest~0", "--replay-strict"
    )
    assert metered.calls() == ["hello"]
    assert result.ret == 1
    new = metered.last_run().items[1]
    assert new.status == "errored" and new.error_type == "ReplayMissing"
    assert "not in the replayed run" in new.error
    assert metered.last_run().replay["missing"] == ["new"]


def test_changed_dataset_warns_naming_the_rows(metered, qa):
    _stored_run(metered)
    qa([dict(ROWS[0]), {**ROWS[1], "input": "changed input"}, *ROWS[2:]])
    result = metered.run("--dataset=qa.jsonl", "--target=metered", "--replay=latest")
    result.stdout.fnmatch_lines(
        ["*dataset changed since run*rows whose input changed are not replayed: q2*"]
    )
    assert metered.calls()[-1] == "changed input"
    assert metered.last_run().replay["changed"] == ["q2"]
    assert [i.via for i in metered.last_run().items] == ["replay", "target", "replay", "replay"]


def test_replay_of_a_run_file_and_bad_reference(metered, pytester):
    _, stored = _stored_run(metered)
    run_file = metered.path / "run.json"
    run_file.write_text(stored.model_dump_json(), encoding="utf-8")
    metered.run("--dataset=qa.jsonl", "--target=metered", "--replay=run.json")
    assert _log_lines(metered) == 4 and metered.last_run().replayed_from == stored.run_id
    result = metered.run("--dataset=qa.jsonl", "--target=metered", "--replay=nonesuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--replay nonesuch: no run matches 'nonesuch'*"])
    assert "Traceback" not in result.stderr.str()


def test_replay_with_repeats_uses_each_stored_sample(project, qa):
    qa([{"id": "a", "input": "always"}, {"id": "b", "input": "mostly"}])
    project.run(
        "--dataset=qa.jsonl", "--target=coin", "--repeat=4", "--scorer=contains(substring='yes')"
    )
    stored = project.last_run()
    project.run(
        "--dataset=qa.jsonl",
        "--target=coin",
        "--repeat=4",
        "--replay=latest",
        "--scorer=contains(substring='yes')",
    )
    assert len(project.calls()) == 8
    replayed = project.last_run()
    assert [[r.output for r in i.repeats] for i in replayed.items] == [
        [r.output for r in i.repeats] for i in stored.items
    ]


# -- rescore -----------------------------------------------------------------------------------


def test_rescore_writes_a_new_run_without_calls(metered, capsys):
    from pytest_datasetrun.cli.main import main

    _, stored = _stored_run(metered)
    store = str(metered.path / ".datasetrun" / "runs.json")
    code = main(
        [
            "rescore",
            stored.run_id,
            "--scorer",
            "exact_match",
            "--fail-under",
            "exact_match=0.9",
            "--store",
            store,
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  mean exact_match" in out and "stored in" in out
    assert _log_lines(metered) == 4
    record = metered.last_run()
    assert record.run_id != stored.run_id and record.replayed_from == stored.run_id
    assert [s.id for s in record.scorers] == ["exact_match"]
    assert [i.score("exact_match").value for i in record.items] == [1.0, 0.0, 0.0, 1.0]
    assert main(["rescore", stored.run_id, "--scorer", "contains", "--store", store]) == 0


def test_rescore_needs_a_scorer(metered, capsys):
    from pytest_datasetrun.cli.main import main

    _stored_run(metered)
    store = str(metered.path / ".datasetrun" / "runs.json")
    assert main(["rescore", "latest", "--store", store]) == 2
    assert "give at least one --scorer" in capsys.readouterr().err


# -- usage, cost and budgets -------------------------------------------------------------------


def test_usage_cost_and_latency_in_the_record(metered):
    result, record = _stored_run(metered, "--prices=prices.json")
    usage = record.usage
    assert usage["called"] == 4 and usage["input_tokens"] == 7000 and usage["output_tokens"] == 400
    assert usage["cost_usd"] == pytest.approx((7000 * 1.0 + 400 * 10.0) / 1e6)
    assert usage["latency_p50_s"] is not None and usage["latency_p95_s"] >= usage["latency_p50_s"]
    assert record.items[1].usage.input_tokens == 2000 and record.items[1].usage.model == "m1"
    assert record.items[1].cost_usd == pytest.approx(0.003)
    result.stdout.fnmatch_lines(
        ["*usage: 4 target calls; tokens 7,400 (in 7,000, out 400*cost $0.0110*"]
    )


def test_prices_from_the_ini_file(metered):
    metered.pytester.makeini("[pytest]\ndatasetrun_prices =\n    m1 = 2 0\n")
    _, record = _stored_run(metered)
    assert record.usage["cost_usd"] == pytest.approx(7000 * 2 / 1e6)


def test_bad_price_table_is_a_usage_error(metered):
    metered.pytester.makeini("[pytest]\ndatasetrun_prices =\n    m1 = cheap\n")
    result = metered.run("--dataset=qa.jsonl", "--target=metered")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*datasetrun_prices, line 1: 'm1 = cheap' is not MODEL = INPUT OUTPUT*"]
    )


def test_price_file_entry_with_an_unknown_key_is_a_usage_error(metered):
    prices = {"m1": {"input": 1.0, "output": 10.0, "cached_input": 0.5}}
    (metered.path / "prices.json").write_text(json.dumps(prices), encoding="utf-8")
    result = metered.run("--dataset=qa.jsonl", "--target=metered", "--prices=prices.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--prices *prices.json, model 'm1': unknown key 'cached_input'; give {input: USD, output: USD}*"
        ]
    )
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize(
    ("option", "line"),
    [
        ("--max-cost=0.005", "*budget --max-cost failed: cost $0.0110, limit <= $0.005*"),
        ("--max-tokens=5000", "*budget --max-tokens failed: 7,400 tokens, limit <= 5,000*"),
        ("--max-latency-p95=0", "*budget --max-latency-p95 failed: p95 latency * s, limit <= 0 s*"),
    ],
)
def test_budgets_fail_the_session_naming_budget_and_figure(metered, mode, option, line):
    result, record = _stored_run(metered, "--prices=prices.json", option, *mode)
    assert result.ret == 1
    result.assert_outcomes(
        passed=4, failed=1
    )  # the rows pass; the budget is datasetrun::quality-gate
    result.stdout.fnmatch_lines([line])
    assert record.gates[-1].passed is False and record.exit_status == 1


def test_budgets_within_limits_pass(metered):
    result, record = _stored_run(
        metered, "--prices=prices.json", "--max-cost=1", "--max-tokens=8000", "--max-latency-p95=60"
    )
    assert result.ret == 0
    assert [g.gate for g in record.gates] == ["cost", "tokens", "latency p95"]
    assert all(g.passed for g in record.gates)


def test_cost_budget_without_prices_cannot_pass(metered):
    result, record = _stored_run(metered, "--max-cost=1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*budget --max-cost failed: not measured*no price table*"])


def test_cached_and_replayed_rows_cost_nothing(metered):
    _stored_run(metered, "--prices=prices.json", "--cache")
    result, record = _stored_run(metered, "--prices=prices.json", "--cache", "--max-cost=0")
    assert result.ret == 0
    assert record.usage["cost_usd"] == 0 and record.usage["cached"] == 4
    assert [i.cost_usd for i in record.items] == [0.0] * 4
    result.stdout.fnmatch_lines(["*usage: 0 target calls (4 rows cached/replayed: cost $0)*"])
    result, record = _stored_run(
        metered, "--prices=prices.json", "--replay=latest~1", "--max-cost=0"
    )
    assert result.ret == 0 and record.usage["replayed"] == 4 and record.usage["cost_usd"] == 0


def test_max_cost_increase_against_the_baseline(metered, qa):
    _stored_run(metered, "--prices=prices.json", "--run-name=base")
    longer = {**ROWS[1], "input": "bye now one two three four"}  # q2 costs $0.003 -> $0.007
    added = {"id": "q6", "input": "one two three four five six seven eight", "expected": "x"}
    qa([ROWS[0], longer, *ROWS[2:], added])
    result, record = _stored_run(
        metered, "--prices=prices.json", "--baseline=base", "--max-cost-increase=20"
    )
    assert result.ret == 1
    gate = record.gates[-1]
    assert gate.gate == "cost increase" and not gate.passed
    # q6 is not in the baseline: only the 4 shared rows are compared
    assert gate.value == pytest.approx((0.015 - 0.011) / 0.011 * 100)
    result.stdout.fnmatch_lines(
        ["*budget --max-cost-increase failed: cost +36.4%, limit <= +20%*over the 4 rows both*"]
    )


def test_judge_usage_is_counted_separately_and_in_the_budgets(metered):
    prices = {**PRICES, "judge-m": {"input": 2.0, "output": 20.0}}
    (metered.path / "prices.json").write_text(json.dumps(prices), encoding="utf-8")
    result, record = _stored_run(
        metered, "--prices=prices.json", "--scorer=fake_judge", "--max-tokens=9000"
    )
    usage = record.usage
    assert usage["judge_calls"] == 4 and usage["judge_total_tokens"] == 2200
    assert usage["total_tokens"] == 7400 and usage["spent_tokens"] == 9600
    assert usage["judge_cost_usd"] == pytest.approx(4 * (500 * 2 + 50 * 20) / 1e6)
    assert usage["cost_usd"] == pytest.approx(0.011 + 0.008)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*judge tokens 2,200 over 4 calls*cost $0.0190 (judge $0.0080)*",
            "*budget --max-tokens failed: 9,600 tokens, limit <= 9,000*4 judge calls*",
        ]
    )
    # a replay still pays for its judge calls
    _, replayed = _stored_run(
        metered, "--prices=prices.json", "--scorer=fake_judge", "--replay=latest"
    )
    assert replayed.usage["called"] == 0 and replayed.usage["cost_usd"] == pytest.approx(0.008)


def test_latency_line_in_every_run_and_replay_with_baseline(metered):
    result, stored = _stored_run(metered, "--run-name=base")
    result.stdout.fnmatch_lines(["*usage: 4 target calls; tokens 7,400*latency p50 * s, p95 * s*"])
    result = metered.run(
        "--dataset=qa.jsonl",
        "--target=metered",
        "--scorer=contains",
        "--replay=base",
        "--baseline=base",
        "--max-regression=0.01",
    )
    assert result.ret == 0
    record = metered.last_run()
    assert record.comparison is not None and not record.comparison["regressed"]
    assert _log_lines(metered) == 4
