"""The run store: TinyDB index and item files, RUN references, environment capture."""

from __future__ import annotations

from pytest_datasetrun.store.runstore import RunStore, open_store

__all__ = ("RunStore", "open_store")
