"""A TinyDB storage for the run store index, for code that opens the index with TinyDB."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from pytest_datasetrun.store.files import atomic_write
from pytest_datasetrun.store.itemsfile import dumps, loads
from pytest_datasetrun.store.lined import encode_table, join_lines, recover_lines

__all__ = ("AtomicJSONStorage",)


class AtomicJSONStorage(Storage):
    """A TinyDB storage that re-reads the file on every read and replaces it atomically on write.

    No file handle is held, so a fresh instance always sees the latest committed state; writes
    keep the store's one-run-per-line layout (:mod:`~pytest_datasetrun.store.lined`). A file whose
    last append was cut short reads as its complete lines.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            return loads(raw)
        except ValueError:
            recovered = recover_lines(raw)
            if recovered is None:
                raise
            return loads(join_lines(line.raw for line in recovered[0]))

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, encode_table(data) or dumps(data))
