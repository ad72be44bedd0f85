"""Where a run goes when its store cannot take it: one whole-run JSON file, path announced."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.store.files import atomic_write
from pytest_datasetrun.store.index import check_run_id

__all__ = ("fallback_dirs", "write_fallback")


def fallback_dirs(store: Path, invocation_dir: Path) -> list[Path]:
    """The directories tried, in order: the store's, the one pytest ran from, the temp dir."""
    return [store.parent, invocation_dir, Path(tempfile.gettempdir())]


def write_fallback(record: RunRecord, directories: Iterable[Path]) -> Path | None:
    """Write the whole run (with items) as a run file in the first directory that takes it.

    The file is what ``pytest-datasetrun export RUN --format json`` writes, so ``show``,
    ``compare`` and ``--baseline`` read it as a run file.

    :param record: the run that could not be stored.
    :param directories: where to try, in order.
    :returns: the file written, or ``None`` when no directory took it.
    """
    data = record.model_dump_json(indent=2, fallback=repr).encode()
    name = f"datasetrun-unsaved-{check_run_id(record.run_id)}.json"
    for directory in directories:
        path = directory / name
        with contextlib.suppress(OSError):
            if directory.is_dir():
                atomic_write(path, data)
                return path
    return None
