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
    return {"answer": input, "usage": {"prompt_tokens": 1000 * words, "completion_tokens": 100, "model": "m1"}}


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
    assert two.counts == one.counts and two.aggregates.keys() == one.aggregates.keys()
    second.stdout.fnmatch_lines(["*cache (read-write): 4 hits, 0 misses, 0 writes*"])


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
    metered.run("--dataset=qa.jsonl", "--target=metered", "--cache=elsewhere")
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
    result.stdout.fnmatch_lines(["*1 corrupt entries treated as misses*"])
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
