"""The xdist controller loads and checks the datasets once its workers have started, not before.

A controller used to load every dataset before xdist started any worker, so the whole load (a
second per 100k rows) was time in which one core sat idle and no worker had begun (issue 15).
Now the controller loads them right after xdist has started its workers, while they import and
load the same files, and before it takes any event from them. A bad dataset still gives one
clean usage error: the workers, which meet the same problem in their own load and were sent no
row, are stopped without a word.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from pytest_datasetrun.errors import DatasetrunError

__all__ = ("LoadAfterStart",)


class LoadAfterStart:
    """On the xdist controller: load and check the datasets once xdist has started its workers.

    :param load: loads and checks every dataset (raises :class:`DatasetrunError`).
    """

    def __init__(self, config: pytest.Config, load: Callable[[], None]) -> None:
        self.config = config
        self.load = load

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, Any, Any]:
        result = yield  # xdist's own sessionstart has started the workers
        try:
            self.load()
        except DatasetrunError as exc:
            _stop_workers(self.config)
            raise pytest.UsageError(f"datasetrun: {exc}") from None
        except BaseException:  # a bug, Ctrl-C, a warning made an error: no worker may outlive it
            _stop_workers(self.config)
            raise
        return result


def _stop_workers(config: pytest.Config) -> None:
    """Stop the workers xdist started: no row was sent to them, so there is nothing to finish."""
    dsession = config.pluginmanager.getplugin("dsession")
    manager = getattr(dsession, "nodemanager", None)
    if manager is not None:
        manager.group.terminate(timeout=0)
