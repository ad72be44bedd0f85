"""The offline HTML report: --report-html, ``pytest-datasetrun report``, and the page in Chromium."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pytest_datasetrun.cli import main

pytest.importorskip("jinja2")

XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">"
ROWS = [
    {"id": "ok", "input": "abc", "expected": "abc", "tags": ["easy"]},
    {"id": "xss", "input": XSS, "expected": "safe", "tags": ["attack"]},
    {"id": "boom", "input": "raise-me", "tags": ["attack"]},
    {"id": "multi", "input": "one\ntwo\nthree", "expected": "one\n2\nthree"},
]
ARGS = ["--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "--scorer=length_ok"]


def make_report(project, qa, *extra: str) -> Path:
    qa(ROWS)
    project.run(*ARGS, "--report-html=out/report.html", *extra)
    return project.path / "out" / "report.html"


def test_report_html_is_one_self_contained_file(project, qa, mode):
    html = make_report(project, qa, *mode).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)  # nothing fetched
    assert "default-src 'none'" in html
    # the rows travel as JSON that cannot close its script element
    data = html.split('<script type="application/json" id="rows-data">')[1].split("</script>")[0]
    assert "<" not in data and "\\u003cscript\\u003e" in data
    assert html.count("<script") == 2  # the JSON block and the page's own script


def test_cli_report_with_baseline(project, qa, capsys, monkeypatch):
    qa(ROWS)
    project.run(*ARGS, "--run-name=base")
    qa([{**row, "expected": row.get("input")} for row in ROWS])
    project.run(*ARGS, "--run-name=cand")
    monkeypatch.chdir(project.path)
    code = main(["report", "cand", "--baseline", "base", "-o", "r/cand.html"])
    assert code == 0, capsys.readouterr()
    html = (project.path / "r" / "cand.html").read_text(encoding="utf-8")
    assert "Baseline comparison" in html and "failed → passed" in html
    assert main(["report", "nope", "-o", "x.html"]) == 2


def test_ten_thousand_rows_stay_under_ten_megabytes(tmp_path):
    from pytest_datasetrun.record.results import ItemResult, ScorerResult
    from pytest_datasetrun.record.run import RunRecord, ScorerInfo, aggregate_scores, count_items
    from pytest_datasetrun.report.html import render_html

    items = [
        ItemResult(
            item_id=f"row-{i:05d}",
            input={"question": f"What is item {i}? " + "context " * 20},
            expected=f"answer {i}",
            output={"answer": f"answer {i if i % 7 else i + 1}", "tool_calls": []},
            status="passed" if i % 7 else "failed",
            tags=["a" if i % 2 else "b"],
            scores=[
                ScorerResult(id="exact", name="exact", value=float(i % 7 != 0), threshold=1.0),
                ScorerResult(id="judge", name="judge", value=(i % 10) / 10, reason="ok " * 10),
            ],
            target_duration_s=0.1,
        )
        for i in range(10_000)
    ]
    scorers = [
        ScorerInfo(id="exact", name="exact", threshold=1.0),
        ScorerInfo(id="judge", name="judge"),
    ]
    now = datetime.now(timezone.utc)
    record = RunRecord(
        run_id="20261201T000000000Z-abcdef",
        name="big",
        started_at=now,
        finished_at=now,
        duration_s=1.0,
        scorers=scorers,
        counts=count_items(items),
        aggregates=aggregate_scores(items, scorers),
        items=items,
    )
    path = tmp_path / "big.html"
    path.write_text(render_html(record), encoding="utf-8")
    size = path.stat().st_size
    assert size < 10_000_000, size
    if os.environ.get("DATASETRUN_BIG_REPORT"):  # keep it for the browser measurement
        Path(os.environ["DATASETRUN_BIG_REPORT"]).write_bytes(path.read_bytes())


# -- in a real browser ---------------------------------------------------------------------------


def open_report(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")


def expect_rows(page, n: int) -> None:
    from playwright.sync_api import expect

    # The page's CSP forbids eval, so wait with locators (they run in Playwright's own world).
    expect(page.locator("#rowtable tbody tr")).to_have_count(n)


def rows_shown(page) -> list[str]:
    return page.locator("#rowtable tbody tr td:first-child").all_text_contents()


def test_page_renders_filters_searches_and_sorts(project, qa, page):
    path = make_report(project, qa)
    open_report(page, path)
    assert rows_shown(page) == ["ok", "xss", "boom", "multi"]
    assert page.locator(".card").count() == 2
    page.click(".filters button[data-status='failed']")
    assert rows_shown(page) == ["xss", "multi"]
    page.click(".filters button[data-status='errored']")
    assert rows_shown(page) == ["boom"]
    page.click(".filters button[data-status='all']")
    page.select_option("#tag", "attack")
    assert rows_shown(page) == ["xss", "boom"]
    page.select_option("#tag", "")
    page.fill("#search", "TWO")
    expect_rows(page, 1)
    assert rows_shown(page) == ["multi"]
    page.fill("#search", "")
    expect_rows(page, 4)
    page.click("#rowtable th[data-sort='id']")
    assert rows_shown(page) == ["boom", "multi", "ok", "xss"]
    page.click("#rowtable th[data-sort='id']")
    assert rows_shown(page) == ["xss", "ok", "multi", "boom"]
    assert page.errors == []


def test_row_view_shows_text_diff_and_scores_and_never_runs_model_output(project, qa, page):
    path = make_report(project, qa)
    open_report(page, path)
    page.locator("#rowtable tbody tr", has_text="xss").click()
    page.wait_for_selector("#detail[open]")
    assert page.text_content("#d-output") == XSS  # shown as text
    assert page.locator("#detail img").count() == 0 and page.locator("#detail script").count() == 0
    assert page.title().startswith("datasetrun")  # neither the script nor onerror ran
    assert page.locator("#d-scores tbody tr").count() == 2
    assert "FAIL" in page.text_content("#d-scores")
    page.keyboard.press("Escape")
    page.locator("#rowtable tbody tr", has_text="multi").click()
    diff = page.locator("#d-diff span")
    assert diff.all_text_contents() == ["  one", "- 2", "+ two", "  three"]
    if os.environ.get("DATASETRUN_SCREENSHOT"):
        page.screenshot(path=os.environ["DATASETRUN_SCREENSHOT"])
    assert page.dialogs == [] and page.errors == []
    assert [url for url in page.requests if not url.startswith("file:")] == []


def test_ten_thousand_rows_render_on_demand(page, tmp_path, monkeypatch):
    big = tmp_path / "big.html"
    monkeypatch.setenv("DATASETRUN_BIG_REPORT", str(big))
    test_ten_thousand_rows_stay_under_ten_megabytes(tmp_path)
    started = time.perf_counter()
    open_report(page, big)
    ready = time.perf_counter() - started
    assert page.locator("#rowtable tbody tr").count() == 200  # one page of rows in the DOM
    page.click(".filters button[data-status='failed']")
    assert "1429 matching rows" in page.text_content("#shown")
    page.fill("#search", "row-09996")
    expect_rows(page, 1)
    print(f"10k-row report interactive after {ready:.2f} s")  # measured, not asserted
