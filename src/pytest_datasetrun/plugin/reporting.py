"""How rows and their scorer reports count: one verdict per row in the terminal, JUnit and ``--maxfail``.

A row is one test. Its scorer subtest reports (``--scorer-reports failed|all``) stay visible
(``SUBFAILED[scorer]`` in the progress output, ``-v`` lines, other reporters) but never count:
not in pytest's summary line, not in JUnit ``tests``/``failures``, not towards ``-x``/``--maxfail``.
A row whose target or a scorer raised is reported as an *error*, as the run record counts it. A
failing quality gate or baseline regression is reported as a test of its own
(``datasetrun::quality-gate``, ``datasetrun::baseline-regression``), so every CI view shows it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.plugin.junit import row_properties

if TYPE_CHECKING:
    from pytest_datasetrun.record.light import ResultRow
    from pytest_datasetrun.record.results import ItemResult
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("RowReporting", "annotate_row", "tag_scorer_report", "report_run_verdicts")

_Status = tuple[str, str, Any]


def tag_scorer_report(report: pytest.TestReport) -> None:
    """Mark the report of one scorer's subtest (the mark travels with the report through xdist)."""
    report.datasetrun_scorer = True  # type: ignore[attr-defined]


def annotate_row(
    item: pytest.Item, report: pytest.TestReport, result: ItemResult | ResultRow
) -> None:
    """Put the row's status on its call report, and its scores on its JUnit testcase."""
    report.datasetrun_status = result.status  # type: ignore[attr-defined]
    if getattr(item.config.option, "xmlpath", None):
        # junitxml writes the properties of the item's teardown report, which copies these.
        item.user_properties.extend(row_properties(result))


def _is_scorer_report(report: pytest.TestReport) -> bool:
    return isinstance(report, pytest.SubtestReport) and getattr(report, "datasetrun_scorer", False)


class RowReporting:
    """Registered in every process of a dataset run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session: pytest.Session | None = None
        self.passed_scorers = 0
        self.summarising = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self) -> None:
        # From here on (short test summary) the plain outcome word reads better than the scores.
        self.summarising = True

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> Generator[None, _Status | None, _Status | None]:
        res = yield
        if _is_scorer_report(report):
            # Shown (letter and SUBFAILED word), never counted: the row's own report is the verdict.
            return ("", res[1], res[2]) if res else res
        if report.when != "call" or hasattr(report, "wasxfail"):
            return res
        status = getattr(report, "datasetrun_status", None)
        if status is None:
            return res
        errored = report.failed and status == "errored"
        verbose = config.option.verbose > 0 and not self.summarising
        if not (errored or verbose):
            return res
        return _row_status(report, errored, verbose)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        if _is_scorer_report(report):
            if report.failed:
                self._uncount_failure()
            elif report.passed:
                self.passed_scorers += 1
        return (yield)

    def _uncount_failure(self) -> None:
        # pytest's Session (and xdist's DSession) count every failed report towards -x/--maxfail
        # *after* this wrapper's first half: one step back keeps a scorer failure from counting.
        if self.session is not None:
            self.session.testsfailed -= 1
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is not None and hasattr(dsession, "countfailures"):
            dsession.countfailures -= 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        # trylast: after junitxml has written its file.
        xmlpath = getattr(self.config.option, "xmlpath", None)
        if not xmlpath or hasattr(self.config, "workerinput") or not _exists(xmlpath):
            return
        from pytest_datasetrun.plugin.junit import rewrite

        rewrite(
            xmlpath,
            passed_scorers=self.passed_scorers,
            keep_properties=bool(self.config.getini("datasetrun_junit_properties")),
        )


def _exists(path: str) -> bool:
    import os

    return os.path.isfile(path)


def _row_status(report: pytest.TestReport, errored: bool, verbose: bool) -> _Status:
    word = "ERROR" if errored else ("PASSED" if report.passed else "FAILED")
    if verbose:
        from pytest_datasetrun.report.render import verbose_scores

        payload = getattr(report, "datasetrun", None)
        if payload is not None:
            # The payload is compact JSON: where the output came from, if not the target.
            for via, mark in (("cache", " (cached)"), ("replay", " (replayed)")):
                if f'"via":"{via}"' in payload:
                    word += mark
            word = f"{word} [{verbose_scores(payload)}]"
    markup = {"green": True} if report.passed else {"red": True}
    if errored:
        return "error", "E", (word, markup)
    return report.outcome, "." if report.passed else "F", (word, markup)


@dataclass
class _Crash:
    """What pytest's short summary and junitxml read off a failure: its one-line message."""

    message: str
    path: str = "datasetrun"
    lineno: int = 0


class _VerdictRepr:
    """The failure text of a run-level verdict (a TestReport longrepr pytest can print)."""

    def __init__(self, headline: str, text: str) -> None:
        self.reprcrash = _Crash(headline)
        self.text = text

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def report_run_verdicts(config: pytest.Config, record: RunRecord, comparison: Any) -> None:
    """Report a failing quality gate and a baseline regression as failed tests of their own."""
    failed_gates = [gate for gate in record.gates if not gate.passed]
    if failed_gates:
        from pytest_datasetrun.report.gates import render_gates

        headline = "; ".join(_gate_line(g) for g in failed_gates)
        _report(config, "quality-gate", headline, render_gates(record.gates))
    if comparison is not None and getattr(comparison, "regressed", False):
        from pytest_datasetrun.report.comparison import render_comparison

        text = render_comparison(comparison)
        verdict = [line for line in text.splitlines() if line.startswith("result: ")]
        headline = (
            verdict[-1].removeprefix("result: ") if verdict else "regression versus the baseline"
        )
        _report(config, "baseline-regression", headline, text)


def _gate_line(gate: Any) -> str:
    value = "not measured" if gate.value is None else f"{gate.value:.3f}"
    detail = f" ({gate.detail})" if gate.detail else ""
    return f"{gate.gate} = {value}, required {gate.limit}{detail}"


def _report(config: pytest.Config, name: str, headline: str, text: str) -> None:
    nodeid = f"datasetrun::{name}"
    location = ("datasetrun", None, name)
    report = pytest.TestReport(
        nodeid=nodeid,
        location=location,
        keywords={},
        outcome="failed",
        longrepr=_VerdictRepr(headline, text),  # type: ignore[arg-type]
        when="call",
    )
    config.hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    config.hook.pytest_runtest_logreport(report=report)
