"""Dataset tags become markers for -m, never a marker that changes how the row runs (data is data)."""

from __future__ import annotations

from pathlib import Path

import pytest

MARKERS_SEEN = """

def pytest_collection_modifyitems(items):
    for item in items:
        log({"row": item.name, "markers": sorted(m.name for m in item.iter_markers())})
"""


@pytest.fixture
def tagged(project, qa):
    qa(
        [
            {"id": "rerun-me", "input": "raise-once", "tags": ["flaky", "billing"]},
            {"id": "traced", "input": "ok", "tags": ["langsmith", "timeout", "skip"]},
            {"id": "plain", "input": "fine", "tags": ["billing"]},
        ]
    )
    path = Path(project.path) / "conftest.py"
    path.write_text(path.read_text() + MARKERS_SEEN)
    return project


def test_a_tag_named_like_a_plugins_marker_does_not_steer_the_row(tagged, mode):
    # pytest-rerunfailures (its "flaky" marker re-runs a failed test), pytest-timeout and
    # LangSmith's plugin are installed with the test extra: their markers are registered.
    result = tagged.run(
        "--dataset=qa.jsonl", "--target=echo", "-p", "rerunfailures", "-p", "langsmith_plugin",
        "--strict-markers", *mode,
    )  # fmt: skip
    calls = [c for c in tagged.calls() if c == "raise-once"]
    assert calls == ["raise-once"]  # run once: not re-run as a "flaky" test
    assert "RERUN" not in result.stdout.str()
    assert (
        "the dataset tag 'flaky' is also the marker of an installed plugin" in result.stdout.str()
    )
    if not mode:  # the collection log of the single process
        markers = {c["row"]: c["markers"] for c in tagged.calls() if isinstance(c, dict)}
        assert markers["rerun-me"] == ["billing"]
        assert markers["traced"] == []  # langsmith, timeout: a plugin's; skip: pytest's
    record = tagged.last_run()
    assert [item.status for item in record.items] == ["errored", "passed", "passed"]
    assert record.items[0].tags == ["flaky", "billing"]  # the tags are kept as data


@pytest.mark.parametrize(("selection", "rows"), [("-k flaky", 1), ("-m billing", 2)])
def test_such_a_tag_still_selects_with_k_and_other_tags_with_m(tagged, selection, rows):
    option, expression = selection.split(" ")
    result = tagged.run(
        "--dataset=qa.jsonl", "--target=echo", "--strict-markers", option, expression
    )
    assert result.ret in (0, 1)
    assert len(tagged.last_run().items) == rows
