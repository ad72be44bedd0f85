"""The run store: TinyDB index and item files, RUN references, environment capture."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_datasetrun.store.runstore import RunStore, open_store

__all__ = ("RunStore", "open_store")


def __getattr__(name: str) -> Any:
    # Lazy: importing one store module (location, itemsfile) does not import the reader.
    if name in __all__:
        from pytest_datasetrun.store import runstore

        return getattr(runstore, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
