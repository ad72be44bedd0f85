"""Session end on the writing process: gates, baseline comparison, storing, the terminal section."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .errors import DatasetrunError

if TYPE_CHECKING:
    from .record import RunRecord
    from .session import RunRecorder

__all__ = ("finish_run", "summary_lines")


def finish_run(recorder: RunRecorder, session: pytest.Session, record: RunRecord) -> None:
    config = recorder.config
    options = recorder.ctx.options
    gates_failed = _apply_gates(recorder, record)
    regression = _compare_baseline(recorder, record)
    if (gates_failed or regression) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        record.exit_status = int(session.exitstatus)
    hook = config.hook
    for item in record.items:
        hook.pytest_datasetrun_item_result(result=item, config=config)
    if options.store is not None:
        _write(recorder, record)
    hook.pytest_datasetrun_run_finished(record=record, config=config)


def _write(recorder: RunRecorder, record: RunRecord) -> None:
    from .store import write_run

    store = recorder.ctx.options.store
    assert store is not None
    try:
        outcome = write_run(store, record)
    except DatasetrunError as exc:
        recorder.messages.append(f"ERROR: the run was not stored: {exc}")
        return
    except OSError as exc:
        recorder.messages.append(f"ERROR: the run was not stored in {store}: {exc}")
        return
    recovered = getattr(outcome, "recovered_from", None)
    if recovered is not None:
        recorder.messages.append(
            f"ERROR: the run store {recovered} cannot be read, so it was left untouched; "
            f"this run was written to {outcome.path} instead"
        )
    recorder.messages.append(f"run {record.run_id} stored in {_rel(recorder, outcome.path)}")


def _apply_gates(recorder: RunRecorder, record: RunRecord) -> bool:
    options = recorder.ctx.options
    if not (options.fail_under or options.min_pass_rate or options.max_errors):
        return False
    from .gates import evaluate_gates, parse_gates

    try:
        spec = parse_gates(list(options.fail_under), options.min_pass_rate, options.max_errors)
    except DatasetrunError as exc:
        recorder.messages.append(f"ERROR: {exc}")
        return True
    record.gates = evaluate_gates(record, spec)
    return any(not gate.passed for gate in record.gates)


def _compare_baseline(recorder: RunRecorder, record: RunRecord) -> bool:
    options = recorder.ctx.options
    if not options.baseline:
        return False
    from .activation import baseline_store
    from .compare import compare_runs, parse_max_regression
    from .store import open_store

    try:
        base = open_store(baseline_store(recorder.ctx)).get(options.baseline)
        limits = (
            parse_max_regression(list(options.max_regression)) if options.max_regression else None
        )
        comparison = compare_runs(
            base, record, max_regression=limits, significance=options.significance
        )
    except DatasetrunError as exc:
        recorder.messages.append(f"ERROR: baseline comparison failed: {exc}")
        return True
    record.comparison = comparison.model_dump(mode="json")
    recorder.comparison = comparison
    return bool(comparison.regressed)


def _rel(recorder: RunRecorder, path: object) -> str:
    from pathlib import Path

    try:
        return Path(str(path)).relative_to(recorder.config.invocation_params.dir).as_posix()
    except ValueError:
        return str(path)


def summary_lines(recorder: RunRecorder) -> list[str]:
    """The ``datasetrun`` terminal section: counts, per-scorer aggregates, gates, where it was stored."""
    record = recorder.record
    if record is None:
        return []
    c = record.counts
    lines = [
        f"{record.name}  ({record.status}, {record.duration_s:.2f} s)",
        f"items: {c.selected} selected, {c.passed} passed, {c.failed} failed, {c.errored} errored, "
        f"{c.skipped} skipped, {c.not_run} not run",
    ]
    if record.aggregates:
        width = max(len(key) for key in record.aggregates)
        lines.append(
            f"{'scorer'.ljust(width)}  {'n':>5}  {'mean':>6}  {'min':>6}  {'max':>6}  {'stdev':>6}  {'pass':>6}  errors"
        )
        for key, agg in record.aggregates.items():
            lines.append(
                f"{key.ljust(width)}  {agg.n:>5}  {_f(agg.mean)}  {_f(agg.min)}  {_f(agg.max)}  {_f(agg.stdev)}  "
                f"{_pct(agg.pass_rate)}  {agg.errors}"
            )
    if record.repeats:
        r = record.repeats
        k = r["k"]
        lines.append(
            f"repeats: k={k}, policy {r['policy']}: pass@1 {r['pass@1']:.3f}, pass@{k} {r[f'pass@{k}']:.3f}, "
            f"pass^{k} {r[f'pass^{k}']:.3f}"
        )
        if r["flaky"]:
            shown = ", ".join(r["flaky"][:10]) + (
                f" (+{len(r['flaky']) - 10} more)" if len(r["flaky"]) > 10 else ""
            )
            lines.append(f"flaky rows (repeats disagree): {shown}")
    return lines


def _f(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value:>6.3f}"


def _pct(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value * 100:>5.1f}%"
