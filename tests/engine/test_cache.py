"""The call cache on its own: keys, modes, corrupt entries, many processes, pruning."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from pytest_datasetrun.engine.cache import CallCache, call_key
from pytest_datasetrun.record.results import Usage


def test_key_covers_target_version_input_and_repeat():
    base = call_key("t", "1", {"q": "x"}, 0)
    assert base == call_key("t", "1", {"q": "x"}, 0)
    assert len({base, call_key("u", "1", {"q": "x"}, 0), call_key("t", "2", {"q": "x"}, 0)}) == 3
    assert base != call_key("t", "1", {"q": "y"}, 0) != call_key("t", "1", {"q": "x"}, 1)
    assert call_key("t", "", {"a": 1, "b": 2}, 0) == call_key("t", "", {"b": 2, "a": 1}, 0)


def test_round_trip_with_usage(tmp_path):
    cache = CallCache(tmp_path)
    usage = Usage(input_tokens=3, output_tokens=4, total_tokens=7, model="m")
    assert cache.put("k", "t", {"answer": [1, 2]}, usage)
    entry, problem = cache.get("k")
    assert problem is None and entry is not None
    assert entry.output == {"answer": [1, 2]} and entry.usage == usage
    assert cache.get("missing") == (None, None)


def test_modes(tmp_path):
    CallCache(tmp_path).put("k", "t", "v", None)
    readonly = CallCache(tmp_path, "read-only")
    assert readonly.get("k")[0].output == "v"
    assert not readonly.put("k2", "t", "v", None)
    refresh = CallCache(tmp_path, "refresh")
    assert refresh.get("k") == (None, None)
    assert refresh.put("k", "t", "new", None)
    assert CallCache(tmp_path).get("k")[0].output == "new"
    with pytest.raises(ValueError):
        CallCache(tmp_path, "off")


def test_unserialisable_output_is_not_cached(tmp_path):
    assert not CallCache(tmp_path).put("k", "t", object(), None)


def test_tampered_entry_is_a_miss_with_a_reason(tmp_path):
    cache = CallCache(tmp_path)
    cache.put("k", "t", "v", None)
    with sqlite3.connect(cache.path) as conn:
        conn.execute('UPDATE calls SET value = \'{"output": "x"}\'')
    entry, problem = cache.get("k")
    assert entry is None and "digest" in problem


def test_not_a_database(tmp_path):
    (tmp_path / "calls.sqlite3").write_bytes(b"garbage" * 1000)
    cache = CallCache(tmp_path)
    assert "cannot be used" in cache.open()
    assert cache.get("k") == (None, None) and not cache.put("k", "t", 1, None)


def _writer(directory: str, worker: int, count: int) -> None:
    cache = CallCache(Path(directory))
    for n in range(count):
        # Both processes write the same keys: an entry is whole from either, never torn.
        cache.put(f"key{n}", "t", {"n": n, "by": worker, "pad": "x" * 2000}, None)
    cache.close()


def test_two_processes_writing_the_same_keys(tmp_path):
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(str(tmp_path), w, 200)) for w in (1, 2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    cache = CallCache(tmp_path)
    for n in range(200):
        entry, problem = cache.get(f"key{n}")
        assert problem is None and entry.output["n"] == n and entry.output["by"] in (1, 2)
    assert cache.stats().entries == 200


def test_stats_and_clear(tmp_path):
    cache = CallCache(tmp_path)
    for n in range(5):
        cache.put(f"a{n}", "alpha", n, None)
    cache.put("b", "beta", 1, None)
    with sqlite3.connect(cache.path) as conn:
        conn.execute(
            "UPDATE calls SET created = ? WHERE key IN ('a0', 'a1')", (time.time() - 10 * 86400,)
        )
    stats = cache.stats()
    assert stats.entries == 6 and stats.per_target == {"alpha": 5, "beta": 1}
    assert cache.clear(older_than=7 * 86400) == 2
    assert cache.clear(target="beta") == 1
    assert cache.stats().per_target == {"alpha": 3}
    assert cache.clear() == 3 and cache.stats().entries == 0
    assert CallCache(tmp_path / "absent").stats().entries == 0
