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

from pytest_datasetrun.analysis.totals import UsageTotals
from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.plugin.partials import (
    WIRE_KEY,
    add_up,
    error_text,
    final_word,
    teardown_word,
    usable,
)
from pytest_datasetrun.plugin.runinfo import dataset_infos, default_name, scorer_infos, target_info
from pytest_datasetrun.plugin.spool import ItemView, ResultSpool, SpooledItems
from pytest_datasetrun.plugin.xdisthooks import XdistHooks, is_xdist_controller
from pytest_datasetrun.record.aggregate import RunningAggregates
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import (
    RunRecord,
    new_run_id,
)
from pytest_datasetrun.store.environment import GitState, capture_environment
from pytest_datasetrun.store.itemsfile import loads

__all__ = ("RunRecorder",)


class RunRecorder:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.started = datetime.now(timezone.utc)
        self.started_clock = time.perf_counter()
        self.run_id = new_run_id(self.started)
        # Asked for now, read when the run is recorded: git status runs while the rows do (not
        # for a session that evaluates nothing, such as an IDE's --collect-only).
        self.git: GitState | None = None
        if _evaluates(self.config):
            self.git = GitState(self.config.rootpath)
            self.config.add_cleanup(self.git.close)
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
        # The sums each worker kept (None once one finished without them), and how the
        # record's figures were summed: "partials" or "scan" (a pass over every result).
        self.partials: list[dict[str, Any]] | None = []
        self.summed_from = ""
        # nodeid -> (dataset path, row index), filled once collection is known
        self.cases: dict[str, tuple[str, int]] = {}

    # -- which items were selected -------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from pytest_datasetrun.plugin.nodes import DatasetCase

        if hasattr(self.config, "workerinput") or is_xdist_controller(self.config):
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
                self.overrides[report.nodeid] = teardown_word(report)
            return
        if report.nodeid not in self.cases:
            return
        if report.skipped:
            self._fallback(report, "skipped", None)
        elif report.failed and report.when in ("setup", "call", "???"):
            if report.when == "???":
                self.crashed = True
            self._fallback(report, "errored", error_text(report))

    def _pytest_verdict(self, report: pytest.TestReport, payload: str) -> None:
        """pytest has the last word on a row's outcome: xfail, strict xpass, plugins' changes."""
        word = final_word(report, payload)
        if word is not None:
            self.overrides[report.nodeid] = word

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
        if not _evaluates(self.config):
            return
        if not self.selected and not self.results:
            self.messages.append("no dataset items were selected, so no run was recorded")
            return
        items = self.items()
        items.totals = self._sum(items)
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

    def _sum(self, items: SpooledItems) -> UsageTotals:
        """The run's counts and aggregates into ``self.sums``; its usage totals.

        The sums each process kept as its rows finished are added up when they account for
        exactly the results spooled here (:func:`~.partials.usable`); otherwise every result is
        read back in dataset order, which gives the same figures.
        """
        seed = scorer_infos(self.meta)
        target_errors = self.ctx.options.target_errors
        partials = self._partials()
        spool = self.results
        if partials is not None and spool.added == len(spool) and not self.crashed:
            in_order = sum(nodeid in spool for nodeid in items.order)
            ids = [info.id for info in seed]
            if in_order == len(spool) and usable(partials, ids, len(spool), len(self.overrides)):
                self.sums, totals = add_up(partials, seed, target_errors, items.unspooled())
                self.summed_from = "partials"
                return totals
        self.sums, totals = RunningAggregates(seed, target_errors), UsageTotals()

        def add(item: dict[str, Any], view: ItemView) -> None:
            self.sums.add(item, view)
            totals.add(view)  # type: ignore[arg-type]  # the fields usage totals read

        items.scan(add)  # in dataset order: the figures aggregate_scores gives
        self.summed_from = "scan"
        return totals

    def _partials(self) -> list[dict[str, Any]] | None:
        """The sums of every xdist worker, or ``None`` (a single process, or a worker's missing)."""
        if not is_xdist_controller(self.config):
            return None
        if self.partials is None or len(self.partials) != self.workers:
            return None
        return self.partials

    def build(self, exitstatus: int, items: SpooledItems) -> RunRecord:
        """The run's record: summary, counts and aggregates (its items stay in ``items``)."""
        finished = datetime.now(timezone.utc)
        scorers = scorer_infos(self.meta)
        counts = self.sums.counts()
        interrupted = int(exitstatus) == int(pytest.ExitCode.INTERRUPTED)
        target = target_info(self.meta, self.ctx.options.target)
        return RunRecord(
            run_id=self.run_id,
            name=self.ctx.options.run_name or default_name(self.ctx, target),
            status="partial" if counts.not_run or interrupted or self.crashed else "completed",
            started_at=self.started,
            finished_at=finished,
            duration_s=round(time.perf_counter() - self.started_clock, 6),
            exit_status=int(exitstatus),
            datasets=dataset_infos(self.ctx, self.sums.per_dataset),
            target=target,
            scorers=scorers,
            options={**self.ctx.options.recorded(), **self.ctx.iteration.recorded()},
            environment=capture_environment(self.config.rootpath, self._workers(), self.git),
            counts=counts,
            aggregates=self.sums.aggregates(),
            repeats=self._repeats(items),
        )

    def _workers(self) -> int:
        requested = getattr(self.config.option, "numprocesses", None)
        if isinstance(requested, int) and is_xdist_controller(self.config):
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

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from pytest_datasetrun.plugin.terminal import write_summary

        write_summary(terminalreporter, self.config, self.record, self.comparison, self.messages)

    def xdist_hooks(self) -> object:
        return XdistHooks(self.config, self.ctx.options.max_concurrency, self)

    def worker_down(self, node: Any, error: Any) -> None:
        """An xdist worker finished (or was lost: ``error``)."""
        self.workers += 1
        if error:
            self.crashed = True
        partial = getattr(node, "workeroutput", {}).get(WIRE_KEY)
        if partial is None:
            self.partials = None  # a worker without sums: read every result back instead
        elif self.partials is not None:
            self.partials.append(partial)


def _evaluates(config: pytest.Config) -> bool:
    """Whether the session runs rows (not ``--collect-only``, ``--setup-only``, ``--setup-plan``)."""
    option = config.option
    return not (
        option.collectonly
        or getattr(option, "setuponly", False)
        or getattr(option, "setupplan", False)
    )


def _spool_dir(ctx: RunContext) -> Path | None:
    """Where the results wait for the end of the session: beside the store's item files."""
    store = ctx.options.store
    return None if store is None else Path(store).parent
