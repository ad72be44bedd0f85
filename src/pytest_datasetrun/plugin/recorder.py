"""The process that writes the run (xdist controller, or the only process): takes every item's
result from the reports as they stream in, then builds, gates and stores one run record.

Results are not kept in memory: each payload goes to a spool file (:mod:`.spool`) as it arrives.
At the end one pass over the spool, in dataset order, computes the counts and per-scorer figures
with running sums (:class:`~pytest_datasetrun.record.aggregate.RunningAggregates`); models are
built only for what asks for them (baseline comparison, hooks, ``--repeat``, prices)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.plugin.spool import ResultSpool, SpooledItems
from pytest_datasetrun.record.aggregate import RunningAggregates
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import (
    DatasetInfo,
    RunRecord,
    ScorerInfo,
    TargetInfo,
    new_run_id,
)
from pytest_datasetrun.store.environment import capture_environment
from pytest_datasetrun.store.itemsfile import loads

__all__ = ("RunRecorder",)


class RunRecorder:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.started = datetime.now(timezone.utc)
        self.started_clock = time.perf_counter()
        self.run_id = new_run_id(self.started)
        self.selected: list[str] | None = None
        self.results = ResultSpool(_spool_dir(ctx))
        self.sums = RunningAggregates()
        self.fallback: dict[str, tuple[str, str | None, str | None]] = {}
        self.overrides: dict[str, tuple[str, str]] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.crashed = False
        self.record: RunRecord | None = None
        self.messages: list[str] = []
        self.workers = 0
        self.comparison: Any = None
        # nodeid -> (dataset path, row index), filled once collection is known
        self.cases: dict[str, tuple[str, int]] = {}

    # -- which items were selected -------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from pytest_datasetrun.plugin.nodes import DatasetCase

        if hasattr(self.config, "workerinput") or _is_xdist_controller(self.config):
            return
        cases = [item for item in session.items if isinstance(item, DatasetCase)]
        self.cases = {item.nodeid: (str(item.path), item.row.index) for item in cases}
        self.selected = list(self.cases)

    def node_collection_finished(self, ids: list[str]) -> None:
        if self.selected is not None:
            return
        known = self._known_ids()
        self.cases = {nodeid: known[nodeid] for nodeid in ids if nodeid in known}
        self.selected = list(self.cases)

    def _known_ids(self) -> dict[str, tuple[str, int]]:
        root = self.config.rootpath
        known: dict[str, tuple[str, int]] = {}
        for path in self.ctx.options.datasets:
            dataset = self.ctx.dataset(path)
            prefix = Path(os.path.relpath(path, root)).as_posix()
            for item in dataset.items:
                known[f"{prefix}::{item.slug}"] = (str(path), item.index)
        return known

    # -- results as they arrive ----------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if isinstance(report, pytest.SubtestReport):
            return
        # Taken off the report (the terminal has shown it by now), so one copy lives, here.
        payload = report.__dict__.pop("datasetrun", None)
        if payload is not None:
            meta = getattr(report, "datasetrun_meta", None)
            if meta:
                self.meta.setdefault(meta["dataset"], meta)
            self._pytest_verdict(report, payload)
            self.results.add(report.nodeid, payload.encode())
            return
        if report.nodeid in self.results:
            if report.when == "teardown" and report.failed:
                self.overrides[report.nodeid] = ("errored", f"teardown: {_error_text(report)}")
            return
        if report.nodeid not in self.cases:
            return
        if report.skipped:
            self._fallback(report, "skipped", None)
        elif report.failed and report.when in ("setup", "call", "???"):
            if report.when == "???":
                self.crashed = True
            self._fallback(report, "errored", _error_text(report))

    def _pytest_verdict(self, report: pytest.TestReport, payload: str) -> None:
        """pytest has the last word on a row's outcome: xfail, strict xpass, plugins' changes."""
        if report.skipped and hasattr(report, "wasxfail"):
            self.overrides[report.nodeid] = ("skipped", f"xfail: {report.wasxfail}")
        elif report.failed and '"status":"passed"' in payload:
            self.overrides[report.nodeid] = ("failed", _error_text(report))

    def _fallback(self, report: pytest.TestReport, status: str, error: str | None) -> None:
        error_type = "crash" if report.when == "???" else None
        self.fallback[report.nodeid] = (status, error, error_type)

    def _row_result(
        self, nodeid: str, status: str, error: str | None = None, error_type: str | None = None
    ) -> ItemResult:
        """A result made from the dataset row alone, for a row that produced none."""
        path, index = self.cases[nodeid]
        row = self.ctx.dataset(Path(path)).items[index]
        return ItemResult(
            item_id=row.id,
            node_id=nodeid,
            dataset=path,
            index=index,
            input=row.input,
            expected=row.expected,
            status=status,  # type: ignore[arg-type]
            error=error,
            error_type=error_type,
            tags=row.tags,
            metadata=row.metadata,
        )

    # -- the record ----------------------------------------------------------------------------
    # tryfirst: the record and its verdicts exist before junitxml writes its file.
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        option = self.config.option
        if (
            option.collectonly
            or getattr(option, "setuponly", False)
            or getattr(option, "setupplan", False)
        ):
            return  # nothing was evaluated
        if not self.selected and not self.results:
            self.messages.append("no dataset items were selected, so no run was recorded")
            return
        items = self.items()
        self.sums = RunningAggregates(self._scorer_infos(), self.ctx.options.target_errors)
        items.scan(self.sums.add)  # in dataset order: the figures aggregate_scores gives
        items.item_errors = self.sums.item_errors
        record = self.build(exitstatus, items)
        self.record = record
        from pytest_datasetrun.plugin.finish import finish_run

        try:
            done = finish_run(self.ctx, session, record, items)
        finally:
            self.results.close()
        self.messages.extend(done.messages)
        self.comparison = done.comparison
        from pytest_datasetrun.plugin.reporting import report_run_verdicts

        report_run_verdicts(self.config, record, done.comparison)
        from pytest_datasetrun.plugin.outputs import write_reports

        self.messages.extend(write_reports(self.ctx, record, done.comparison))

    def build(self, exitstatus: int, items: SpooledItems) -> RunRecord:
        """The run's record: summary, counts and aggregates (its items stay in ``items``)."""
        finished = datetime.now(timezone.utc)
        scorers = self._scorer_infos()
        counts = self.sums.counts()
        interrupted = int(exitstatus) == int(pytest.ExitCode.INTERRUPTED)
        target = self._target_info()
        return RunRecord(
            run_id=self.run_id,
            name=self.ctx.options.run_name or _default_name(self.ctx, target),
            status="partial" if counts.not_run or interrupted or self.crashed else "completed",
            started_at=self.started,
            finished_at=finished,
            duration_s=round(time.perf_counter() - self.started_clock, 6),
            exit_status=int(exitstatus),
            datasets=self._dataset_infos(),
            target=target,
            scorers=scorers,
            options={**self.ctx.options.recorded(), **self.ctx.iteration.recorded()},
            environment=capture_environment(self.config.rootpath, self._workers()),
            counts=counts,
            aggregates=self.sums.aggregates(),
            repeats=self._repeats(items),
        )

    def _workers(self) -> int:
        requested = getattr(self.config.option, "numprocesses", None)
        if isinstance(requested, int) and _is_xdist_controller(self.config):
            return requested
        return len(self.sums.workers)

    def _repeats(self, items: SpooledItems) -> dict[str, Any] | None:
        options = self.ctx.options
        if options.repeat <= 1:
            return None
        from pytest_datasetrun.analysis.repeats import repeat_summary

        return repeat_summary(items.load(), options.repeat, options.repeat_policy)

    def items(self) -> SpooledItems:
        """Every selected row's result (spooled or made from the row), in dataset order."""
        order = {str(p): n for n, p in enumerate(self.ctx.options.datasets)}
        keyed: list[tuple[int, int, str]] = []
        for nodeid in self.selected or list(self.results):
            if nodeid in self.cases:
                dataset, index = self.cases[nodeid]
            elif nodeid in self.results:  # not among the collected ids: its payload says where
                item = loads(self.results.read(nodeid))
                dataset, index = item.get("dataset", ""), item.get("index", 0)
            else:
                continue
            keyed.append((order.get(dataset, len(order)), index, nodeid))
        keyed.sort(key=lambda key: key[:2])
        return SpooledItems(
            self.results, [key[2] for key in keyed], self.overrides, self._row_payload
        )

    def _row_outcome(self, nodeid: str) -> tuple[str, str | None, str | None]:
        """Status, error and error type of a row that produced no result."""
        if nodeid in self.fallback:
            return self.fallback[nodeid]
        if nodeid in self.ctx.interrupted:
            return "errored", self.ctx.interrupted[nodeid], None
        return "not_run", None, None

    def _row_payload(self, nodeid: str) -> bytes:
        status, error, error_type = self._row_outcome(nodeid)
        return self._row_result(nodeid, status, error, error_type).model_dump_json().encode()

    def _dataset_infos(self) -> list[DatasetInfo]:
        infos = []
        for path in self.ctx.options.datasets:
            dataset = self.ctx.dataset(path)
            infos.append(
                DatasetInfo(
                    path=_display(self.config, path),
                    name=dataset.name,
                    sha256=dataset.sha256,
                    total=dataset.total,
                    selected=self.sums.per_dataset.get(str(path), 0),
                    format=dataset.format,
                )
            )
        return infos

    def _target_info(self) -> TargetInfo | None:
        for meta in self.meta.values():
            return TargetInfo(**meta["target"])
        ref = self.ctx.options.target
        return TargetInfo(id=ref, name=ref, kind="unknown") if ref else None

    def _scorer_infos(self) -> list[ScorerInfo]:
        seen: dict[str, ScorerInfo] = {}
        for meta in self.meta.values():
            for scorer in meta["scorers"]:
                seen.setdefault(scorer["id"], ScorerInfo(**scorer))
        return list(seen.values())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        _terminal_summary(self, terminalreporter)

    def xdist_hooks(self) -> object:
        return _XdistHooks(self)


class _XdistHooks:
    """Registered only when xdist is installed (its hooks are unknown otherwise)."""

    def __init__(self, recorder: RunRecorder) -> None:
        self.recorder = recorder

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.recorder.node_collection_finished(ids)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        from pytest_datasetrun.plugin.xdist import (
            PrefetchLoadScheduling,
            survive_unreplaceable_workers,
        )

        survive_unreplaceable_workers(config)
        concurrency = self.recorder.ctx.options.max_concurrency
        if concurrency <= 1 or config.getoption("dist") != "load":
            return None

        return PrefetchLoadScheduling(config, log, depth=concurrency + 1, window=concurrency)

    def pytest_testnodeready(self, node: Any) -> None:
        from pytest_datasetrun.plugin.signals import local_worker_started

        local_worker_started(self.recorder.config, node)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        from pytest_datasetrun.plugin.signals import local_worker_gone

        local_worker_gone(self.recorder.config, node)
        self.recorder.workers += 1
        if error:
            self.recorder.crashed = True


def _is_xdist_controller(config: pytest.Config) -> bool:
    return bool(
        getattr(config.option, "dist", "no") != "no"
        and getattr(config.option, "numprocesses", None)
    )


def _display(config: pytest.Config, path: Path) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)


def _error_text(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    text = report.longreprtext.strip().splitlines()
    return text[-1] if text else f"failed during {report.when}"


def _default_name(ctx: RunContext, target: TargetInfo | None) -> str:
    datasets = "+".join(ctx.dataset(p).name for p in ctx.options.datasets)
    return f"{datasets}@{target.id}" if target else datasets


def _terminal_summary(recorder: RunRecorder, terminalreporter: Any) -> None:
    from pytest_datasetrun.report.escape import safe_text
    from pytest_datasetrun.report.summary import summary_lines

    writer = getattr(terminalreporter, "_tw", None)
    width = getattr(writer, "fullwidth", None)
    short = recorder.config.get_verbosity() < 0
    record = recorder.record
    lines = summary_lines(record, width=width, short=short) if record is not None else []
    if not lines and not recorder.messages:
        return
    terminalreporter.write_sep("=", "datasetrun")
    for line in lines:
        terminalreporter.write_line(line)
    record = recorder.record
    if record is not None and record.gates:
        from pytest_datasetrun.report.gates import render_gates

        text = render_gates(record.gates, width=width).rstrip("\n")
        text = text.split("\n")[0] if short else text
        if not short:
            terminalreporter.write_sep("-", "quality gate")
        terminalreporter.write_line(safe_text(text, multiline=True))
    comparison = getattr(recorder, "comparison", None)
    if comparison is not None:
        from pytest_datasetrun.report.comparison import render_comparison

        text = render_comparison(comparison).rstrip("\n")
        text = "baseline " + text.split("\n")[-1] if short else text
        if not short:
            terminalreporter.write_sep("-", "baseline comparison")
        terminalreporter.write_line(safe_text(text, multiline=True))
    for message in recorder.messages:
        terminalreporter.write_line(safe_text(message), red=message.startswith("ERROR"))


def _spool_dir(ctx: RunContext) -> Path | None:
    """Where the results wait for the end of the session: beside the store's item files."""
    store = ctx.options.store
    return None if store is None else Path(store).parent
