"""Turning the plugin on for a session that names datasets: options, validation, collection wiring."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.errors import ConfigError, DatasetrunError
from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.plugin.keys import context_key, emitting_key, outcome_key
from pytest_datasetrun.plugin.nodes import DatasetCase, DatasetFile
from pytest_datasetrun.plugin.options import Options, read_options
from pytest_datasetrun.plugin.prefetch import make_scheduler
from pytest_datasetrun.plugin.reporting import RowReporting, annotate_row, tag_scorer_report
from pytest_datasetrun.plugin.signals import install_stop_signals

__all__ = ("activate", "ItemHooks")

_FREEZE_EVERY = 1000


def activate(config: pytest.Config) -> None:
    options = read_options(config)
    ctx = RunContext(config, options)
    ctx.scheduler = make_scheduler(ctx)
    is_worker = hasattr(config, "workerinput")
    from pytest_datasetrun.plugin.iterate import read_iteration_options
    from pytest_datasetrun.plugin.sources import prepare_sources

    ctx.iteration = read_iteration_options(config)
    if not is_worker:
        # Validate on the controller (or only process) before any worker starts: one clean error.
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
    from pytest_datasetrun.plugin.xdisthooks import is_xdist_controller

    return is_xdist_controller(config) and ctx.iteration.replay is None


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


def _process_ends_with_session(config: pytest.Config) -> bool:
    """True for an xdist worker or the ``pytest`` command itself, whose process exits next.

    Unfreezing there would only make the interpreter's final collection rescan every object
    (a second per 10,000 rows); a pytest run inside another program (pytester, a notebook)
    unfreezes, so that its objects can be collected afterwards.
    """
    return hasattr(config, "workerinput") or tuple(config.invocation_params.args) == tuple(
        sys.argv[1:]
    )


class ItemHooks:
    """Collection and reporting hooks active in every process of a dataset run."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.paths = set(ctx.options.datasets)
        self.names = {path.name for path in self.paths}
        self.meta_sent: set[str] = set()
        self.reported = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # The collected tree, and the results as they accumulate, live for the whole session:
        # moving them out of the garbage collector's generations stops every full collection
        # from rescanning them (see benchmarks/RESULTS.md).
        gc.freeze()
        if not _process_ends_with_session(self.ctx.config):
            self.ctx.config.add_cleanup(gc.unfreeze)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> DatasetFile | None:
        # Called for every file pytest visits: resolve (a syscall) only a file with a dataset's name.
        if file_path.name in self.names and (
            file_path in self.paths or file_path.resolve() in self.paths
        ):
            return DatasetFile.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        # A Hugging Face save_to_disk folder given as a dataset is one dataset, not a directory.
        if path.name in self.names and path in self.paths:
            return DatasetFile.from_parent(parent, path=path)
        return None

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.ctx.scheduler.release(nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.when == "call" and isinstance(item, DatasetCase):
            if item.stash.get(emitting_key, False):
                tag_scorer_report(report)
                return report
            outcome = item.stash.get(outcome_key, None)
            if outcome is not None:
                annotate_row(item, report, outcome.result)
                report.datasetrun = outcome.result.payload()
                del item.stash[outcome_key]  # the payload is all that is kept
                self.reported += 1
                if self.reported % _FREEZE_EVERY == 0:
                    gc.freeze()
                key = str(item.path)
                if key not in self.meta_sent:
                    self.meta_sent.add(key)
                    report.datasetrun_meta = self._meta(item)
        return report

    def _meta(self, item: DatasetCase) -> dict[str, Any]:
        from pytest_datasetrun.plugin.partials import scorer_entries

        target = self.ctx.target
        engine = self.ctx.engine(Path(item.path))
        return {
            "dataset": str(item.path),
            "target": {
                "id": target.id,
                "name": target.name,
                "kind": target.kind,
                "version": target.version,
            },
            "scorers": scorer_entries(engine),
        }
