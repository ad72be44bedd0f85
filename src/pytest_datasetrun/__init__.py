"""pytest-datasetrun: evaluate LLM agents, workflows and any callable against datasets in pytest.

Everything public is re-exported here; the modules behind it are private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = (
    "__version__",
    "Score",
    "Target",
    "Scorer",
    "target",
    "scorer",
    "DatasetItem",
    "Dataset",
    "load_dataset",
    "LoadSettings",
    "ItemResult",
    "ScorerResult",
    "Usage",
    "RunRecord",
    "open_store",
    "run_dataset",
    "rescore_run",
)

if TYPE_CHECKING:
    from pytest_datasetrun.api import rescore_run, run_dataset
    from pytest_datasetrun.data.dataset import Dataset, DatasetItem, LoadSettings, load_dataset
    from pytest_datasetrun.engine.scorer import Scorer, scorer
    from pytest_datasetrun.engine.targets import Target, target
    from pytest_datasetrun.record.results import ItemResult, ScorerResult, Usage
    from pytest_datasetrun.record.run import RunRecord
    from pytest_datasetrun.score import Score
    from pytest_datasetrun.store.runstore import open_store

# Names load on first use, so that importing the package (a plain pytest run with the plugin
# installed, or the ``pytest-datasetrun`` command) imports only what it uses.
_LAZY = {
    "Score": "score",
    "Scorer": "engine.scorer",
    "scorer": "engine.scorer",
    "Target": "engine.targets",
    "target": "engine.targets",
    "DatasetItem": "data.dataset",
    "Dataset": "data.dataset",
    "LoadSettings": "data.dataset",
    "load_dataset": "data.dataset",
    "ItemResult": "record.results",
    "ScorerResult": "record.results",
    "Usage": "record.results",
    "RunRecord": "record.run",
    "open_store": "store.runstore",
    "run_dataset": "api",
    "rescore_run": "api",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~40 ms: paid only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pytest-datasetrun")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_datasetrun' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
