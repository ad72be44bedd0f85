"""Parquet, Arrow IPC and Hugging Face ``save_to_disk`` folders, through the ``hf`` extra (pyarrow).

Rows are read batch by batch (``iter_batches``), so a large file is never held as a whole
Arrow table next to its rows; the sha256 is computed over the bytes in chunks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_datasetrun.data.parsed import Parsed, RawRow
from pytest_datasetrun.errors import DatasetError

__all__ = ("read", "BATCH_ROWS")

BATCH_ROWS = 4096


def read(path: Path, kind: str, shown: str) -> tuple[Parsed, str]:
    """The rows of a parquet/arrow file or ``save_to_disk`` folder, and its sha256."""
    pa = _pyarrow(shown, kind)
    files = _disk_files(path, shown) if kind == "hf-disk" else [path]
    rows: list[RawRow] = []
    try:
        for file in files:
            for batch in _batches(file, "parquet" if kind == "parquet" else "arrow"):
                rows.extend(RawRow(row) for row in batch.to_pylist())
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetError(shown, f"cannot be read as {kind}: {exc}") from None
    if not rows:
        raise DatasetError(shown, "the dataset has no rows")
    return Parsed(rows), _sha256(files)


def _pyarrow(shown: str, kind: str) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise DatasetError(
            shown,
            f"reading {kind} needs pyarrow: pip install 'pytest-datasetrun[hf]'",
        ) from None
    return pyarrow


def _batches(file: Path, kind: str) -> Iterator[Any]:
    return _parquet_batches(file) if kind == "parquet" else _ipc_batches(file)


def _parquet_batches(file: Path) -> Iterator[Any]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(file) as reader:
        yield from reader.iter_batches(batch_size=BATCH_ROWS)


def _ipc_batches(file: Path) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.ipc as ipc

    with pa.memory_map(str(file)) as source:
        try:
            reader = ipc.open_file(source)
            batches: Iterator[Any] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:  # Hugging Face writes the streaming format
            source.seek(0)
            batches = iter(ipc.open_stream(source))
        yield from batches


def _disk_files(folder: Path, shown: str) -> list[Path]:
    """The data files of a ``Dataset.save_to_disk`` folder, from its ``state.json``."""
    if not folder.is_dir():
        raise DatasetError(
            shown, "is not a folder; --dataset-format=hf-disk reads save_to_disk folders"
        )
    if (folder / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in folder.iterdir() if (p / "state.json").is_file())
        raise DatasetError(
            shown,
            "is a DatasetDict folder; pass one split's folder, e.g. "
            + ", ".join(str(Path(shown) / split) for split in splits[:3]),
        )
    state = folder / "state.json"
    if not state.is_file():
        raise DatasetError(
            shown, "is a directory, not a dataset file (nor a save_to_disk folder with state.json)"
        )
    try:
        names = [entry["filename"] for entry in json.loads(state.read_text("utf-8"))["_data_files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(shown, f"state.json has no readable _data_files ({exc})") from None
    files = [folder / name for name in names]
    for file in files:
        if file.parent != folder or not file.is_file():
            raise DatasetError(
                shown, f"state.json names a data file that is not there: {file.name}"
            )
    return files


def _sha256(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
