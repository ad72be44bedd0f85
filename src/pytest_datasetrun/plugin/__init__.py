"""The pytest entry point: hooks only, each delegating to a module.

A session without ``--dataset`` (or ``datasetrun_datasets``) registers nothing else and imports
neither pydantic nor tinydb.
"""

from __future__ import annotations

import pytest

from pytest_datasetrun.plugin.iterate import add_iteration_options
from pytest_datasetrun.plugin.options import add_options, dataset_paths


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_iteration_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_datasetrun.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not dataset_paths(config):
        return
    from pytest_datasetrun.plugin.activate import activate

    activate(config)
