"""``pytest-datasetrun cache stats|clear`` and ``rescore_run`` / ``run_dataset(cache=...)``."""

from __future__ import annotations

import json

from pytest_datasetrun.api import rescore_run, run_dataset
from pytest_datasetrun.cli.cache import parse_age
from pytest_datasetrun.cli.main import main

ROWS = [{"id": "a", "input": "x", "expected": "x"}, {"id": "b", "input": "y", "expected": "z"}]


def test_run_dataset_with_cache_then_cache_commands(tmp_path, capsys):
    calls = []

    def target(input):
        calls.append(input)
        return input

    cache = tmp_path / "cache"
    run_dataset(ROWS, target, ["exact_match"], cache=cache)
    record = run_dataset(ROWS, target, ["exact_match"], cache=cache)
    assert calls == ["x", "y"]
    assert record.cache["hits"] == 2 and [i.via for i in record.items] == ["cache", "cache"]

    assert main(["cache", "stats", "--dir", str(cache), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["entries"] == 2 and stats["targets"] == {"target": 2}
    assert main(["cache", "clear", "--dir", str(cache), "--older-than", "7d"]) == 0
    assert "deleted 0 entries older than 7d" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(cache), "--target", "target"]) == 0
    assert "deleted 2 entries of target 'target'" in capsys.readouterr().out
    assert main(["cache", "stats", "--dir", str(cache)]) == 0
    assert ": 0 entries" in capsys.readouterr().out


def test_bad_age_is_a_usage_error(tmp_path, capsys):
    assert main(["cache", "clear", "--dir", str(tmp_path), "--older-than", "soon"]) == 2
    assert "--older-than: 'soon' is not an age" in capsys.readouterr().err
    assert parse_age("12h") == 43200 and parse_age("2w") == 1209600


def test_rescore_run_keeps_outputs_and_errors(tmp_path):
    def target(input):
        if input == "boom":
            raise ValueError("exploded")
        return input.upper()

    stored = run_dataset([*ROWS, {"id": "c", "input": "boom"}], target, ["exact_match"])
    record = rescore_run(stored, ["contains(substring='X')"], store=tmp_path / "runs.json")
    assert record.replayed_from == stored.run_id
    assert [i.output for i in record.items] == ["X", "Y", None]
    assert record.items[2].status == "errored" and "exploded" in record.items[2].error
    assert [i.score("contains").value for i in record.items[:2]] == [1.0, 0.0]
    assert record.usage["called"] == 0 and record.usage["replayed"] == 3


def test_public_names_resolve():
    import pytest_datasetrun as dr

    for name in dr.__all__:
        assert getattr(dr, name) is not None, name
    assert dr.rescore_run is rescore_run


def test_cache_stats_on_a_missing_dir_or_a_file_that_is_not_a_database(tmp_path, capsys):
    from pytest_datasetrun.cli.main import main

    missing = tmp_path / "nothing"
    assert main(["cache", "stats", "--dir", str(missing)]) == 0
    assert "no cache in" in capsys.readouterr().out
    assert not missing.exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "calls.sqlite3").write_text("not a database" * 100, encoding="utf-8")
    assert main(["cache", "stats", "--dir", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "cannot be used" in err and "Traceback" not in err
