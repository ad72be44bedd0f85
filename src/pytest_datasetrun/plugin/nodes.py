"""The pytest nodes: a dataset file collects one :class:`DatasetCase` item per row."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.errors import ConfigError, DatasetrunError
from pytest_datasetrun.plugin.keys import context_key, emitting_key, outcome_key
from pytest_datasetrun.plugin.markers import marker_tags, register_tag_markers
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.render import failure_text

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from pytest_datasetrun.data.dataset import DatasetItem
    from pytest_datasetrun.record.results import ScorerResult

__all__ = ("DatasetFile", "DatasetCase", "CaseFailure", "ScorerFailed")

_PACKAGE_DIR = str(Path(__file__).parent.parent)  # the whole package, every wing


class CaseFailure(AssertionError):
    """The item's scorers fell below their thresholds or errored; the message is the whole report."""


# Shown by pytest as "EvaluationFailed: <headline>" in the short summary.
CaseFailure.__name__ = CaseFailure.__qualname__ = "EvaluationFailed"
CaseFailure.__module__ = "builtins"


class ScorerFailed(CaseFailure):
    """One scorer's own subtest report (``--scorer-reports``); the row reports the verdict."""


ScorerFailed.__module__ = "builtins"


class DatasetFile(pytest.File):
    """A dataset file given with ``--dataset``; yields one item per row in file order."""

    def collect(self) -> Any:
        ctx = self.config.stash[context_key]
        dataset = ctx.dataset(self.path)
        ctx.engine(self.path)
        ctx.validate_rows(dataset)
        if ctx.options.max_concurrency > 1:
            _check_prefetchable(self, ctx.target)
        register_tag_markers(
            self.config, dict.fromkeys(tag for row in dataset.items for tag in row.tags)
        )
        fixtureinfo = None
        for row in dataset.items:
            case = DatasetCase.from_parent(
                self, name=row.slug, callobj=_run_case, row=row, fixtureinfo=fixtureinfo
            )
            # Every row has the same function and parent: resolve its fixtures once per file.
            fixtureinfo = getattr(case, "_fixtureinfo", None)
            yield case

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> str | TerminalRepr:  # type: ignore[override]
        if isinstance(excinfo.value, DatasetrunError):
            return safe_text(f"datasetrun: {excinfo.value}", multiline=True)
        return super().repr_failure(excinfo)


def _check_prefetchable(collector: pytest.Collector, target: Any) -> None:
    """With --max-concurrency > 1 rows run ahead of their own setup: no per-row fixtures."""
    manager = getattr(collector.session, "_fixturemanager", None)
    for name in target.fixture_names:
        if name == "request":
            scope = "function"
        else:
            defs = manager.getfixturedefs(name, collector) if manager is not None else None
            scope = defs[-1].scope if defs else None
        if scope == "function":
            raise ConfigError(
                f"target {target.id!r} takes the function-scoped fixture {name!r}; with --max-concurrency > 1 "
                "rows are evaluated ahead of their own setup, so targets may only take session-, package- or "
                "module-scoped fixtures (or run with --max-concurrency 1)"
            )


def _run_case(request: pytest.FixtureRequest) -> None:
    node = request.node
    assert isinstance(node, DatasetCase)
    node.evaluate(request)


class DatasetCase(pytest.Function):
    """One dataset row as a pytest item: runs the target, then the scorers."""

    def __init__(self, *, row: DatasetItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row = row
        self.extra_keyword_matches.update(row.tags)
        for tag in marker_tags(self.config, row.tags):
            self.add_marker(tag)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The label heads failure sections. pytest shows a dotted label that ends the node id with
        # its dots as "::" in -v output, so such ids get a label that is not a suffix.
        slug = self.row.slug
        label = slug if "." not in slug else f"{slug} (row {self.row.index + 1})"
        return self.path, (self.row.line - 1 if self.row.line else None), label

    def evaluate(self, request: pytest.FixtureRequest) -> None:
        ctx = self.config.stash[context_key]
        try:
            outcome = ctx.scheduler.outcome(self, request)
        except KeyboardInterrupt:
            # pytest makes no report for it; the run record still names the row that was hit.
            ctx.interrupted[self.nodeid] = (
                "KeyboardInterrupt: interrupted while this row was running"
            )
            raise
        self.stash[outcome_key] = outcome
        if outcome.exception is not None:
            raise outcome.exception
        result = outcome.result
        if ctx.options.scorer_reports != "none":
            try:
                self._scorer_reports(request, ctx.options.scorer_reports)
            except CaseFailure:
                pass  # re-raised by subtests under -x/--maxfail: fail with the whole report below
        if result.status != "passed":
            raise CaseFailure(failure_text(self.nodeid, result))

    def _scorer_reports(self, request: pytest.FixtureRequest, which: str) -> None:
        chosen = [
            s
            for s in self.stash[outcome_key].result.scores
            if which == "all" or s.error or s.passed is False
        ]
        if not chosen:
            return
        subtests = request.getfixturevalue("subtests")
        self.stash[emitting_key] = True
        try:
            for score in chosen:
                with subtests.test(msg=score.id):
                    if score.error:
                        raise ScorerFailed(safe_text(f"{score.id} errored: {score.error}"))
                    if score.passed is False:
                        raise ScorerFailed(safe_text(_below(score)))
        finally:
            self.stash[emitting_key] = False

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | TerminalRepr:
        outcome = self.stash.get(outcome_key, None)
        if isinstance(excinfo.value, DatasetrunError):
            return safe_text(f"datasetrun: {excinfo.value}", multiline=True)
        if isinstance(excinfo.value, CaseFailure) or _replayed(excinfo.value):
            return excinfo.getrepr(style="value")
        if outcome is not None and excinfo.value is outcome.exception:
            if not _has_user_frame(excinfo) and not self.config.getoption("fulltrace", False):
                # A timeout or a workflow's status: no frame of the user's to show (#11).
                return safe_text(f"{type(excinfo.value).__name__}: {excinfo.value}")
            tbstyle = self.config.getoption("tbstyle", "auto")
            rendered = excinfo.getrepr(
                style="short" if tbstyle in ("auto", None) else tbstyle,
                tbfilter=_user_frames,
                truncate_locals=True,
            )
            # A target's message often quotes data: show its control characters escaped.
            text = str(rendered)
            escaped = safe_text(text, multiline=True)
            return rendered if escaped == text else escaped
        return super().repr_failure(excinfo)


def _replayed(exc: BaseException) -> bool:
    """A stored target error of a replayed run: its message is all there is to show."""
    from pytest_datasetrun.engine.replay import RecalledError

    return isinstance(exc, RecalledError)


def _user_frames(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
    traceback = excinfo.traceback
    kept = traceback.filter(lambda entry: not _internal(str(entry.path)))
    return kept or traceback


def _has_user_frame(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    return any(not _internal(str(entry.path)) for entry in excinfo.traceback)


def _internal(path: str) -> bool:
    return path.startswith(_PACKAGE_DIR) or any(
        part in path
        for part in ("/_pytest/", "/pluggy/", "/concurrent/futures/", "/asyncio/", "/threading.py")
    )


def _below(score: ScorerResult) -> str:
    if "repeat_policy" in score.metadata:  # a repeated row: the policy decided, not the mean
        return f"{score.id} failed the repeat policy: {score.reason}"
    reason = f": {score.reason}" if score.reason else ""
    return f"{score.id} = {_fmt(score.value)} < {score.threshold:g}{reason}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
