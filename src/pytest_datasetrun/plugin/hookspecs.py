"""Hooks that conftest files and plugins implement to extend pytest-datasetrun.

Mark implementations ``@pytest.hookimpl(optionalhook=True)`` so that running with
``-p no:datasetrun`` does not fail on an unknown hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_datasetrun.record.results import ItemResult
    from pytest_datasetrun.record.run import RunRecord

__all__ = (
    "pytest_datasetrun_targets",
    "pytest_datasetrun_scorers",
    "pytest_datasetrun_should_retry",
    "pytest_datasetrun_item_result",
    "pytest_datasetrun_run_finished",
)


@pytest.hookspec
def pytest_datasetrun_targets(config: pytest.Config) -> list[Any] | None:
    """Register targets: return a list of :class:`~pytest_datasetrun.Target` objects, or of
    callables/objects decorated with :func:`~pytest_datasetrun.target`.

    :param config: the pytest config.
    """


@pytest.hookspec
def pytest_datasetrun_scorers(config: pytest.Config) -> list[Any] | None:
    """Register scorers: return a list of :class:`~pytest_datasetrun.Scorer` objects or decorated functions.

    :param config: the pytest config.
    """


@pytest.hookspec(firstresult=True)
def pytest_datasetrun_should_retry(exc: BaseException, attempt: int) -> bool | None:
    """Decide whether a target error is retried (with ``--max-retries``); the first non-None answer wins.

    Runs in whichever thread called the target. Without an answer, the ``--retry-on`` exception
    names decide (default: every ``Exception`` except timeouts).

    :param exc: the exception the target raised.
    :param attempt: the 1-based number of the attempt that failed.
    """


@pytest.hookspec
def pytest_datasetrun_item_result(result: ItemResult, config: pytest.Config) -> None:
    """Called on the process that writes the run (controller or only process) for every item result."""


@pytest.hookspec
def pytest_datasetrun_run_finished(record: RunRecord, config: pytest.Config) -> None:
    """Called once with the complete run record, after it has been written to the store."""
