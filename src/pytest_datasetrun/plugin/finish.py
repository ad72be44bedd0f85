"""Session end on the writing process: gates, baseline comparison, storing.

Each step is a function of the run context and the record; :func:`finish_run` returns what
happened (messages, the comparison) and the recorder keeps it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.errors import DatasetrunError

if TYPE_CHECKING:
    from pytest_datasetrun.plugin.context import RunContext
    from pytest_datasetrun.plugin.spool import SpooledItems
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("RUN_NOT_STORED", "Finished", "finish_run")

# The session's exit status when a run that was to be stored was not (issue 11, item 5).
# pytest uses 0-5 (5: no tests collected); 6 is free and distinct from every test outcome.
RUN_NOT_STORED = 6


@dataclass
class Finished:
    """What finishing a run produced: lines for the terminal and the baseline comparison."""

    messages: list[str] = field(default_factory=list)
    comparison: Any = None


def finish_run(
    ctx: RunContext, session: pytest.Session, record: RunRecord, items: SpooledItems | None = None
) -> Finished:
    """Gate, compare, announce and store the record; set the session's exit status.

    ``items`` holds the run's items when ``record`` has none: they are read one at a time, and
    built into models only for what needs them all (baseline comparison, replay and cache
    summaries, prices, a fallback run file, the run-finished hook).
    """
    done = Finished()
    config = ctx.config
    from pytest_datasetrun.plugin.sources import record_sources

    if ctx.replay is not None or ctx.iteration.cache_mode != "off" or _reports_wanted(config):
        _load(record, items)  # the summaries and the Markdown/HTML reports read every item
    record_sources(ctx, record)
    gates_failed = _apply_gates(ctx, record, done, items)
    regression = _compare_baseline(ctx, record, done, items)
    gates_failed = _apply_budgets(ctx, record, done, items) or gates_failed
    if (gates_failed or regression) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        record.exit_status = int(session.exitstatus)
    hook = config.hook
    if hook.pytest_datasetrun_item_result.get_hookimpls():
        for item in record.items or (items.models() if items is not None else ()):
            hook.pytest_datasetrun_item_result(result=item, config=config)
    stored = ctx.options.store is None or _write(ctx, record, done, items)
    if not stored and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = RUN_NOT_STORED
    if hook.pytest_datasetrun_run_finished.get_hookimpls():
        _load(record, items)  # the hook is given the complete record
    hook.pytest_datasetrun_run_finished(record=record, config=config)
    return done


def _reports_wanted(config: pytest.Config) -> bool:
    from pytest_datasetrun.plugin.outputs import STEP_SUMMARY_ENV

    return bool(
        config.getoption("report_md", None)
        or config.getoption("report_html", None)
        or os.environ.get(STEP_SUMMARY_ENV)
    )


def _load(record: RunRecord, items: SpooledItems | None) -> None:
    """Give the record its items as models, for what needs them all at once."""
    if items is not None and not record.items:
        record.items = items.load()


def _write(ctx: RunContext, record: RunRecord, done: Finished, items: SpooledItems | None) -> bool:
    """Store the record; ``False`` (after saving it to a fallback file if possible) when not."""
    from pytest_datasetrun.store.runstore import write_run

    store = ctx.options.store
    assert store is not None
    try:
        streamed = items.payloads() if items is not None and not record.items else None
        outcome = write_run(store, record, streamed)
    except (DatasetrunError, OSError) as exc:
        _load(record, items)  # the fallback run file holds the whole record
        _not_stored(
            ctx, record, done, f"{exc}" if isinstance(exc, DatasetrunError) else f"{store}: {exc}"
        )
        return False
    recovered = getattr(outcome, "recovered_from", None)
    if recovered is not None:
        done.messages.append(
            f"ERROR: the run store {recovered} cannot be read, so it was left untouched; "
            f"this run was written to {outcome.path} instead"
        )
    done.messages.append(f"run {record.run_id} stored in {_rel(ctx, outcome.path)}")
    return True


def _not_stored(ctx: RunContext, record: RunRecord, done: Finished, reason: str) -> None:
    from pytest_datasetrun.store.fallback import fallback_dirs, write_fallback

    assert ctx.options.store is not None
    if record.exit_status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        record.exit_status = RUN_NOT_STORED
    dirs = fallback_dirs(ctx.options.store, ctx.config.invocation_params.dir)
    saved = write_fallback(record, dirs)
    where = (
        f"the whole run was saved to {_rel(ctx, saved)} instead (`pytest-datasetrun show` "
        f"and `compare` read it as a run file)"
        if saved is not None
        else "it could not be saved anywhere else either"
    )
    done.messages.append(
        f"ERROR: run {record.run_id} was not stored: {reason}; {where} "
        f"(exit status {RUN_NOT_STORED})"
    )


def _apply_gates(
    ctx: RunContext, record: RunRecord, done: Finished, items: SpooledItems | None
) -> bool:
    options = ctx.options
    if not (options.fail_under or options.min_pass_rate or options.max_errors):
        return False
    from pytest_datasetrun.analysis.gates import evaluate_gates, parse_gates

    try:
        spec = parse_gates(list(options.fail_under), options.min_pass_rate, options.max_errors)
    except DatasetrunError as exc:
        done.messages.append(f"ERROR: {exc}")
        return True
    errors = items.item_errors if items is not None and not record.items else None
    record.gates = evaluate_gates(record, spec, item_errors=errors)
    return any(not gate.passed for gate in record.gates)


def _apply_budgets(
    ctx: RunContext, record: RunRecord, done: Finished, items: SpooledItems | None
) -> bool:
    """Usage totals and cost on the record; budgets added to its gates."""
    from pytest_datasetrun.analysis.budgets import budget_lines, evaluate_budgets
    from pytest_datasetrun.analysis.costs import apply_costs, parse_prices, usage_summary

    options = ctx.iteration
    try:
        prices = parse_prices(options.prices_lines, options.prices_file)
        spec = options.budget_spec()
    except DatasetrunError as exc:
        done.messages.append(f"ERROR: {exc}")
        return True
    if prices is not None:
        _load(record, items)  # each item gets its cost, written with it
    apply_costs(record.items, prices)
    if items is None or record.items:
        record.usage = usage_summary(record.items, prices)
    else:  # no price table (it loads the items): the totals summed with the counts
        assert items.totals is not None, "the recorder sums the usage with the counts"
        record.usage = items.totals.summary()
    if not spec:
        return False
    shared = None
    if spec.max_cost_increase is not None and ctx.options.baseline and prices is not None:
        shared = _shared_costs(ctx, record, prices)
    results = evaluate_budgets(record.usage, spec, shared)
    record.gates = [*record.gates, *results]
    done.messages.extend(f"ERROR: {line}" for line in budget_lines(results))
    return any(not result.passed for result in results)


def _shared_costs(ctx: RunContext, record: RunRecord, prices: Any) -> dict[str, Any] | None:
    from pytest_datasetrun.analysis.costs import shared_row_costs
    from pytest_datasetrun.store.runstore import open_store

    try:
        base = open_store(ctx.store_path).get(str(ctx.options.baseline))
    except DatasetrunError:
        return None
    return shared_row_costs(base.items, record.items, prices)


def _compare_baseline(
    ctx: RunContext, record: RunRecord, done: Finished, items: SpooledItems | None
) -> bool:
    options = ctx.options
    if not options.baseline:
        return False
    from pytest_datasetrun.analysis.compare import compare_rows, parse_max_regression
    from pytest_datasetrun.analysis.pairing import RunRows, stored_rows
    from pytest_datasetrun.store.itemsfile import loads
    from pytest_datasetrun.store.runstore import open_store

    try:
        base, base_rows = stored_rows(open_store(ctx.store_path), options.baseline)
        limits = (
            parse_max_regression(list(options.max_regression)) if options.max_regression else None
        )
        # The spooled items are read one at a time, never built into models (issue 15).
        payloads = items.payloads() if items is not None and not record.items else None
        cand_rows = RunRows.of(record, None if payloads is None else map(loads, payloads))
        comparison = compare_rows(
            base,
            base_rows,
            record,
            cand_rows,
            max_regression=limits,
            significance=options.significance,
            target_errors=options.target_errors,
            correction=options.regression_correction,
        )
    except DatasetrunError as exc:
        done.messages.append(f"ERROR: baseline comparison failed: {exc}")
        return True
    record.comparison = comparison.model_dump(mode="json")
    done.comparison = comparison
    return bool(comparison.regressed)


def _rel(ctx: RunContext, path: object) -> str:
    try:
        return Path(str(path)).relative_to(ctx.config.invocation_params.dir).as_posix()
    except ValueError:
        return str(path)
