"""Turning the plugin on for a session that names datasets: options, validation, collection wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.errors import ConfigError, DatasetrunError
from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.plugin.keys import context_key
from pytest_datasetrun.plugin.options import Options, read_options
from pytest_datasetrun.plugin.reporting import RowReporting
from pytest_datasetrun.plugin.signals import install_stop_signals
from pytest_datasetrun.plugin.xdisthooks import distributes_rows

__all__ = ("activate",)


def activate(config: pytest.Config) -> None:
    options = read_options(config)
    ctx = RunContext(config, options)
    is_worker = hasattr(config, "workerinput")
    # An xdist controller collects and runs no row: no scheduler, no item hooks, no engine.
    runs_rows = is_worker or not distributes_rows(config)
    if runs_rows:
        from pytest_datasetrun.plugin.prefetch import make_scheduler

        ctx.scheduler = make_scheduler(ctx)
    from pytest_datasetrun.plugin.iterate import read_iteration_options
    from pytest_datasetrun.plugin.sources import prepare_sources

    ctx.iteration = read_iteration_options(config)
    if not is_worker:
        # Validate on the controller (or only process) before any row runs: one clean error
        # (an xdist controller checks its datasets once the workers are starting: lateload).
        try:
            _validate(ctx, after_start=_load_after_start(config, ctx))
        except DatasetrunError as exc:
            raise pytest.UsageError(f"datasetrun: {exc}") from None
    if not is_worker:
        _check_rootdir(config, options.datasets)
    prepare_sources(ctx, controller=not is_worker)
    config.stash[context_key] = ctx
    config.add_cleanup(ctx.close)
    install_stop_signals(config)
    _add_dataset_args(config, options.datasets)
    if runs_rows:
        from pytest_datasetrun.plugin.itemhooks import ItemHooks

        config.pluginmanager.register(ItemHooks(ctx), "datasetrun-items")
    config.pluginmanager.register(RowReporting(config), "datasetrun-reporting")
    if not is_worker:
        from pytest_datasetrun.plugin.progress import maybe_register

        counter = getattr(ctx.scheduler, "in_flight", None)
        xdist = getattr(config.option, "numprocesses", None)
        maybe_register(config, options.max_concurrency, None if xdist else counter)
    if is_worker:  # its sums go to the controller (a single process sums at the end)
        from pytest_datasetrun.plugin.partials import PartialSums, run_scorers

        partials = PartialSums(lambda: run_scorers(ctx), options.target_errors)
        config.pluginmanager.register(partials, "datasetrun-partials")
    if not is_worker:
        from pytest_datasetrun.plugin.recorder import RunRecorder

        recorder = RunRecorder(ctx)
        config.pluginmanager.register(recorder, "datasetrun-recorder")
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(recorder.xdist_hooks(), "datasetrun-xdist")


def _check_rootdir(config: pytest.Config, datasets: tuple[Path, ...]) -> None:
    outside = [path for path in datasets if not path.is_relative_to(config.rootpath)]
    if len(outside) > 1:
        raise pytest.UsageError(
            f"datasetrun: {', '.join(map(str, outside))} are outside the rootdir {config.rootpath}, so their "
            "rows would share node ids (::id); run pytest from a directory above them or pass --rootdir"
        )
    if outside:
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"datasetrun: {outside[0]} is outside the rootdir {config.rootpath}, so its items get node ids "
                "without a file part (::id); run pytest from a directory above the dataset or pass --rootdir"
            ),
            stacklevel=2,
        )


def _validate(ctx: RunContext, *, after_start: bool) -> None:
    """Everything that can be checked before the target and scorers are known.

    :param after_start: load the datasets once xdist has started its workers (:mod:`.lateload`)
        instead of now.
    """
    from pytest_datasetrun.engine.spec import parse_spec

    options = ctx.options
    for spec in options.scorers:
        parse_spec(spec, source=options.label("scorer"))
    try:
        _validate_gates(options)
    except ConfigError as exc:
        raise ConfigError(_as_given(options, str(exc))) from None
    if after_start:
        from pytest_datasetrun.plugin.lateload import LoadAfterStart

        def load() -> None:
            for path in options.datasets:
                _check_dataset(ctx, path)

        ctx.config.pluginmanager.register(LoadAfterStart(ctx.config, load), "datasetrun-load")
    else:
        for path in options.datasets:
            _check_dataset(ctx, path)
    iteration = ctx.iteration
    if iteration.budgets or iteration.prices_lines or iteration.prices_file:
        from pytest_datasetrun.analysis.costs import parse_prices

        parse_prices(iteration.prices_lines, iteration.prices_file)
        iteration.budget_spec()
    if options.baseline:
        # Before any target is called: a typo in --baseline must not cost a whole run.
        from pytest_datasetrun.store.runstore import open_store

        open_store(ctx.store_path).resolve(options.baseline)


def _load_after_start(config: pytest.Config, ctx: RunContext) -> bool:
    """On an xdist controller, unless a replayed run is checked against the datasets now."""
    return distributes_rows(config) and ctx.iteration.replay is None


def _check_dataset(ctx: RunContext, path: Path) -> None:
    dataset = ctx.dataset(path)
    for warning in dataset.warnings:  # what an importer could not carry over
        ctx.config.issue_config_time_warning(pytest.PytestConfigWarning(warning), stacklevel=2)
    _validate_specs(ctx, dataset)


def _validate_gates(options: Options) -> None:
    if options.fail_under or options.min_pass_rate or options.max_errors:
        from pytest_datasetrun.analysis.gates import parse_gates

        parse_gates(list(options.fail_under), options.min_pass_rate, options.max_errors)
    if options.max_regression:
        from pytest_datasetrun.analysis.compare import parse_max_regression

        parse_max_regression(list(options.max_regression))


def _as_given(options: Options, message: str) -> str:
    """Name a gate option the way the user gave it (the ini key when the ini set it)."""
    for name in ("fail_under", "min_pass_rate", "max_errors", "max_regression"):
        flag = "--" + name.replace("_", "-") + ":"
        if message.startswith(flag):
            return options.label(name) + message[len(flag) - 1 :]
    return message


def _validate_specs(ctx: RunContext, dataset: Any) -> None:
    from pytest_datasetrun.engine.spec import parse_spec
    from pytest_datasetrun.errors import DatasetError
    from pytest_datasetrun.plugin.context import display_path

    shown = display_path(ctx.config, Path(dataset.path))
    for spec in dataset.scorers:
        parse_spec(spec, source=f"{shown}, field 'scorers'")
    for item in dataset.items:
        for spec in item.scorers:
            try:
                parse_spec(spec)
            except DatasetrunError as exc:
                message = str(exc).removeprefix("--scorer: ").removeprefix("--scorer ")
                raise DatasetError(
                    shown, message, line=item.line, row=item.index + 1, field="scorers"
                ) from None


def _add_dataset_args(config: pytest.Config, datasets: tuple[Path, ...]) -> None:
    """Make pytest collect the datasets.

    ``--dataset`` without positional args makes a dataset-only run (``testpaths`` is not
    collected); ini datasets and positional args add to what pytest collects anyway.
    """
    if config.getoption("dataset") and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(p) for p in datasets]
        return
    base = config.invocation_params.dir
    covered = [(base / arg.split("::", 1)[0]).resolve() for arg in config.args]
    config.args.extend(
        str(p) for p in datasets if not any(p == c or c in p.parents for c in covered)
    )
