"""The recorder's xdist hooks on the controller: collection, scheduling, workers up and down."""

from __future__ import annotations

from typing import Any, Protocol

import pytest

__all__ = ("WorkerListener", "XdistHooks", "distributes_rows", "is_xdist_controller")


class WorkerListener(Protocol):
    """What the hooks tell the recorder."""

    def node_collection_finished(self, ids: list[str]) -> None: ...

    def worker_down(self, node: Any, error: Any) -> None: ...


class XdistHooks:
    """The recorder's xdist hooks: registered only when xdist is installed (its hooks are unknown otherwise)."""

    def __init__(
        self, config: pytest.Config, max_concurrency: int, recorder: WorkerListener
    ) -> None:
        self.config = config
        self.max_concurrency = max_concurrency
        self.recorder = recorder

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.recorder.node_collection_finished(ids)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        from pytest_datasetrun.plugin.xdist import (
            PrefetchLoadScheduling,
            survive_unreplaceable_workers,
        )

        survive_unreplaceable_workers(config)
        concurrency = self.max_concurrency
        if concurrency <= 1 or config.getoption("dist") != "load":
            return None

        return PrefetchLoadScheduling(config, log, depth=concurrency + 1, window=concurrency)

    def pytest_testnodeready(self, node: Any) -> None:
        from pytest_datasetrun.plugin.signals import local_worker_started

        local_worker_started(self.config, node)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        from pytest_datasetrun.plugin.signals import local_worker_gone

        local_worker_gone(self.config, node)
        self.recorder.worker_down(node, error)


def is_xdist_controller(config: pytest.Config) -> bool:
    return bool(
        getattr(config.option, "dist", "no") != "no"
        and getattr(config.option, "numprocesses", None)
    )


def distributes_rows(config: pytest.Config) -> bool:
    """Whether this process hands every row to xdist workers (and collects and runs none itself).

    Not with ``--collect-only``: xdist then stays out of the way and this process collects.
    """
    return is_xdist_controller(config) and not config.getoption("collectonly", False)
