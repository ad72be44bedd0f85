"""Per-process state of a dataset run: loaded datasets, the resolved target and scorers, engines."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.plugin.options import Options

if TYPE_CHECKING:
    # Imported where they are used: an xdist controller runs no row and never needs the engine,
    # and its datasets are loaded only once the workers have started (plugin.lateload).
    from pytest_datasetrun.data.dataset import Dataset, DatasetItem
    from pytest_datasetrun.engine.concurrency import LoopThread
    from pytest_datasetrun.engine.registry import Registry
    from pytest_datasetrun.engine.runner import Engine
    from pytest_datasetrun.engine.scorer import Scorer
    from pytest_datasetrun.engine.targets import Target

__all__ = ("RunContext", "display_path")


def display_path(config: pytest.Config, path: Path) -> str:
    """How a dataset path is named to the user: relative to the invocation dir when possible."""
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:
        return str(path)


class RowScheduler(Protocol):
    """When rows are evaluated: :mod:`pytest_datasetrun.plugin.prefetch` implements it."""

    def outcome(self, item: Any, request: pytest.FixtureRequest) -> Any: ...

    def release(self, nodeid: str) -> None: ...

    def close(self) -> None: ...


class _NoScheduler:
    def outcome(self, item: Any, request: pytest.FixtureRequest) -> Any:
        raise RuntimeError("no scheduler: the run context was not activated")

    def release(self, nodeid: str) -> None:
        pass

    def close(self) -> None:
        pass


class RunContext:
    """Everything one pytest process needs to evaluate dataset items."""

    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self._loop: LoopThread | None = None
        self._datasets: dict[Path, Dataset] = {}
        self._registry: Registry | None = None
        self._target: Target | None = None
        self._engines: dict[Path, Engine] = {}
        self._row_cache: dict[tuple[str, int], list[Scorer]] = {}
        self.interrupted: dict[str, str] = {}
        # From xdist's own handshake, not the environment, which a nested run inherits.
        workerinput = getattr(config, "workerinput", None)
        self.worker: str | None = workerinput.get("workerid") if workerinput else None
        # Set by activation (plugin.prefetch builds it from this context).
        self.scheduler: RowScheduler = _NoScheduler()
        # The call cache and a replayed run (plugin.sources), set by activation.
        self.iteration: Any = None
        self.cache: Any = None
        self.replay: Any = None
        self.replay_changed: list[str] = []

    @property
    def loop(self) -> LoopThread:
        """The process's asyncio loop thread (made on first use; it starts its thread then too)."""
        if self._loop is None:
            from pytest_datasetrun.engine.concurrency import LoopThread

            self._loop = LoopThread()
        return self._loop

    def dataset(self, path: Path) -> Dataset:
        """Load (once per process) and validate a dataset file."""
        if path not in self._datasets:
            from pytest_datasetrun.data.dataset import load_dataset

            self._datasets[path] = load_dataset(
                path,
                display=display_path(self.config, path),
                settings=self.options.dataset_settings,
            )
        return self._datasets[path]

    @property
    def store_path(self) -> Path:
        """The run store this session writes to and reads its baseline from."""
        return self.options.store_path

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from pytest_datasetrun.engine.registry import Registry

            hook = self.config.hook
            self._registry = Registry.discover(
                self.config.pluginmanager.get_plugins(),
                _flatten(hook.pytest_datasetrun_targets(config=self.config)),
                _flatten(hook.pytest_datasetrun_scorers(config=self.config)),
            )
        return self._registry

    @property
    def target(self) -> Target:
        if self._target is None:
            if not self.options.target:
                raise ConfigError(
                    "no target given: pass --target REF (or set datasetrun_target in the ini file). "
                    + self.registry.targets.listing()
                    + "."
                )
            self._target = self.registry.resolve_target(
                self.options.target, search=self.config.rootpath
            )
            shared = self._target.sharing_warning(self.options.max_concurrency)
            if shared is not None:
                warnings.warn(pytest.PytestWarning(f"datasetrun: {shared}"), stacklevel=2)
        return self._target

    def engine(self, path: Path) -> Engine:
        """The engine for one dataset: target + (target, dataset file, command line/ini) scorers."""
        if path not in self._engines:
            from pytest_datasetrun.engine.runner import Engine, Settings

            dataset = self.dataset(path)
            scorers = self._scorers(dataset)
            settings = Settings(
                timeout=self.options.item_timeout,
                max_retries=self.options.max_retries,
                retry_on=self.options.retry_on,
                repeat=self.options.repeat,
                repeat_policy=self.options.repeat_policy,
                target_errors=self.options.target_errors,
            )
            self._engines[path] = Engine(
                self.target,
                scorers,
                settings,
                loop=self.loop,
                row_scorers=lambda item, d=dataset: self._row_scorers(d, item),
                should_retry=self._should_retry,
                cache=self.cache,
                replay=self.replay,
            )
        return self._engines[path]

    def _scorers(self, dataset: Dataset) -> list[Scorer]:
        from pytest_datasetrun.engine.spec import SpecList

        shown = display_path(self.config, Path(dataset.path))
        return self.registry.resolve_scorers(
            [
                SpecList(f"target {self.target.id!r}", self.target.scorers),
                # A dataset file is data: it may not name code unless the user trusts it.
                SpecList(
                    f"{shown}, field 'scorers'",
                    dataset.scorers,
                    trusted=self.options.trust_dataset_imports,
                ),
                SpecList(self.options.label("scorer"), self.options.scorers),
            ]
        )

    def _row_scorers(self, dataset: Dataset, item: DatasetItem) -> list[Scorer]:
        key = (dataset.path, item.index)
        if key not in self._row_cache:
            self._row_cache[key] = self._resolve_row_scorers(dataset, item)
        return self._row_cache[key]

    def validate_rows(self, dataset: Dataset) -> None:
        """Resolve every row's own scorers now, so a bad spec is a collection error, not a failing item."""
        for item in dataset.items:
            if item.scorers:
                self._row_scorers(dataset, item)

    def _resolve_row_scorers(self, dataset: Dataset, item: DatasetItem) -> list[Scorer]:
        line = f", line {item.line}" if item.line else ""
        shown = display_path(self.config, Path(dataset.path))
        source = f"{shown}{line}, row {item.index + 1}, field 'scorers'"
        return self.registry.resolve_row_scorers(
            self.engine(Path(dataset.path)).scorers,
            item.scorers,
            source,
            trusted=self.options.trust_dataset_imports,
        )

    def _should_retry(self, exc: BaseException, attempt: int) -> bool | None:
        return self.config.hook.pytest_datasetrun_should_retry(exc=exc, attempt=attempt)

    def engine_cancel(self) -> None:
        """Stop retries that are waiting (used when the session stops early)."""
        for engine in self._engines.values():
            engine.cancelled.set()

    def close(self) -> None:
        self.engine_cancel()
        self.scheduler.close()
        if self._loop is not None:
            self._loop.close()
        if self.cache is not None:
            self.cache.close()


def _flatten(results: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in results:
        if value is None:
            continue
        flat.extend(value if isinstance(value, (list, tuple)) else [value])
    return flat
