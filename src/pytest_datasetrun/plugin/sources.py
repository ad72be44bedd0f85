"""Where outputs come from besides the target: the call cache and a replayed stored run.

Every process (controller and xdist workers) opens its own cache connection and reads the
replayed run from the store; the controller validates and warns before any worker starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.errors import DatasetrunError

if TYPE_CHECKING:
    from pytest_datasetrun.plugin.context import RunContext
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("prepare_sources", "record_sources")


def prepare_sources(ctx: RunContext, *, controller: bool) -> None:
    """Open the cache and load the replayed run; on the controller, validate and warn."""
    options = ctx.iteration
    if options.cache_mode != "off":
        from pytest_datasetrun.engine.cache import CallCache

        cache = CallCache(options.cache_dir, options.cache_mode)
        broken = cache.open()
        if broken is None:
            ctx.cache = cache
        elif controller:
            _warn(ctx.config, f"datasetrun: {broken}")
    if options.replay:
        try:
            ctx.replay, stored = _load_replay(ctx)
        except DatasetrunError as exc:
            # The store's words name the CLI's --store; in pytest the option is --run-store.
            why = str(exc).replace("pass --store", "pass --run-store")
            raise pytest.UsageError(f"datasetrun: --replay {options.replay}: {why}") from None
        if controller:
            ctx.replay_changed = _changed_rows(ctx, stored)
            if ctx.replay_changed:
                shown = ", ".join(ctx.replay_changed[:10])
                more = len(ctx.replay_changed) - 10
                _warn(
                    ctx.config,
                    f"datasetrun: the dataset changed since run {stored.run_id} (sha256 differs); "
                    f"rows whose input changed are not replayed: {shown}"
                    + (f" and {more} more" if more > 0 else ""),
                )


def _load_replay(ctx: RunContext) -> tuple[Any, RunRecord]:
    from pytest_datasetrun.engine.replay import ReplaySource
    from pytest_datasetrun.store.runstore import open_store

    options = ctx.iteration
    assert options.replay is not None
    stored = open_store(ctx.store_path).get(options.replay)
    source = ReplaySource(
        stored.run_id,
        stored.items,
        strict=options.replay_strict,
        rerun_errors=options.rerun_errors,
    )
    return source, stored


def _changed_rows(ctx: RunContext, stored: RunRecord) -> list[str]:
    hashes = {Path(info.path).name: info.sha256 for info in stored.datasets}
    changed = []
    for path in ctx.options.datasets:
        dataset = ctx.dataset(path)
        if hashes.get(path.name) in (None, dataset.sha256):
            continue
        changed += [item.id for item in dataset.items if ctx.replay.changed(item, str(path))]
    return changed


def _warn(config: pytest.Config, message: str) -> None:
    config.issue_config_time_warning(pytest.PytestConfigWarning(message), stacklevel=2)


def record_sources(ctx: RunContext, record: RunRecord) -> None:
    """Fill the record's replay and cache summaries from its items."""
    from pytest_datasetrun.analysis.provenance import cache_summary, replay_summary

    options = ctx.iteration
    if ctx.replay is not None:
        record.replayed_from = ctx.replay.run_id
        record.replay = replay_summary(record.items, ctx.replay_changed, options.replay_strict)
    if options.cache_mode != "off":
        mode = options.cache_mode if ctx.cache is not None else "off (unusable)"
        record.cache = cache_summary(record.items, mode, str(options.cache_dir))
