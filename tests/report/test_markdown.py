"""--report-md and $GITHUB_STEP_SUMMARY: the run as Markdown, data text never in effect."""

from __future__ import annotations

import pytest

ROWS = [
    {"id": "ok", "input": "abc", "expected": "abc"},
    {"id": "bad", "input": "<script>alert(1)</script> | *x*", "expected": "no"},
    {"id": "boom", "input": "raise-me"},
]


def test_report_md_has_counts_scorers_gates_failing_rows_and_the_run(project, qa, mode):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "--fail-under=exact_match=0.9",
        "--report-md=out/report.md",
        *mode,
    )
    assert result.ret == 1
    text = (project.path / "out" / "report.md").read_text(encoding="utf-8")
    run_id = project.last_run().run_id
    assert text.startswith("## ❌ datasetrun: qa@echo")
    assert "| 3 | 1 | 1 | 1 | 0 | 0 |" in text  # rows, passed, failed, errored, skipped, not run
    assert "| exact\\_match | 3 | 0.333 |" in text  # the errored row counts as 0 (#10.2)
    assert "### Quality gate: failed (1 of 1)" in text
    assert "### Failing rows: 1 failed, 1 errored" in text
    assert "ValueError: target exploded on raise-me" in text
    # model/dataset text is escaped: no live HTML, no broken table
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*x\\*" in text
    assert f"pytest-datasetrun show {run_id} --failed" in text


def test_step_summary_is_appended_when_set(project, qa, monkeypatch):
    qa(ROWS[:1])
    summary = project.path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## ✅ datasetrun: qa@echo")
    assert "Failing rows" not in text


def test_baseline_comparison_and_flips_in_markdown(project, qa):
    qa([{"id": f"r{i}", "input": "abc", "expected": "abc"} for i in range(30)])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--run-name=main")
    qa([{"id": f"r{i}", "input": "abc" if i % 2 else "x", "expected": "abc"} for i in range(30)])
    project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "--baseline=main",
        "--report-md=r.md",
    )
    text = (project.path / "r.md").read_text(encoding="utf-8")
    assert "### Baseline comparison: ❌ regression in exact_match" in text
    assert "- passed → failed (15): r0, r2, r4" in text
    assert "### Failing rows: 15 failed, 0 errored" in text


@pytest.mark.parametrize("value", ["a|b", "`x`", "<b>x</b>", "line\nbreak", "#h [l](u)"])
def test_md_cell_neutralises_markdown_and_html(value):
    from pytest_datasetrun.report.markdown import md_cell

    cell = md_cell(value)
    assert "\n" not in cell and "<" not in cell
    assert all(c not in cell.replace("\\" + c, "") for c in "|`[]#")
