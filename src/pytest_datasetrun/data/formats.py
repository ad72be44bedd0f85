"""Reading a dataset source: choose the parser by format option, extension or folder layout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pytest_datasetrun.data.parsed import Parsed, RawRow
from pytest_datasetrun.data.settings import FILE_KINDS, LoadSettings
from pytest_datasetrun.errors import DatasetError

__all__ = ("RawRow", "Parsed", "Source", "kind_of", "read_source", "EXTENSIONS")

EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
}
_BINARY = ("parquet", "arrow", "hf-disk")


@dataclass
class Source:
    """A parsed dataset source: its kind, rows and the sha256 of its bytes."""

    kind: str
    parsed: Parsed
    sha256: str


def kind_of(path: Path, shown: str, settings: LoadSettings) -> str:
    if settings.format in FILE_KINDS:
        return settings.format
    if path.is_dir():
        return "hf-disk"
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(
            shown,
            f"unknown dataset extension '{path.suffix or '(none)'}'; use one of "
            + ", ".join(sorted(EXTENSIONS))
            + " (or name the format with --dataset-format)",
        )
    return kind


def read_source(path: Path, shown: str, settings: LoadSettings) -> Source:
    """Parse the file (or ``save_to_disk`` folder) at ``path``; errors name ``shown``."""
    try:
        kind = kind_of(path, shown, settings)
        if path.exists() and not (path.is_file() or path.is_dir()):
            # A FIFO would block the session; a device could be read forever.
            raise DatasetError(shown, "is not a regular file (a pipe or a device?)")
        if kind in _BINARY:
            from pytest_datasetrun.data import arrowfile

            return Source(kind, *arrowfile.read(path, kind, shown))
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(shown, "file not found") from None
    except IsADirectoryError:
        raise DatasetError(shown, "is a directory, not a dataset file") from None
    except OSError as exc:
        raise DatasetError(shown, f"cannot be read ({exc.strerror or exc})") from None
    text = decode(data, shown, settings.encoding)
    return Source(kind, _parse(kind, text, shown, settings), hashlib.sha256(data).hexdigest())


def _parse(kind: str, text: str, shown: str, settings: LoadSettings) -> Parsed:
    if kind == "csv":
        from pytest_datasetrun.data.csvfile import parse_csv

        return parse_csv(text, shown, json_cells=settings.json_cells)
    if kind == "yaml":
        from pytest_datasetrun.data.yamlfile import parse_yaml

        return parse_yaml(text, shown)
    from pytest_datasetrun.data.jsontext import parse_json, parse_jsonl

    return parse_jsonl(text, shown) if kind == "jsonl" else parse_json(text, shown)


def decode(data: bytes, shown: str, encoding: str) -> str:
    """The file's text; a file that is not in ``encoding`` names a likely one and the fix."""
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            shown,
            f"is not {encoding} text (byte 0x{data[exc.start]:02X} at offset {exc.start}); "
            f"{_guess(data)}",
            line=line,
        ) from None


def _guess(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        guess = "utf-16"
    else:
        try:
            data.decode("cp1252")
            guess = "cp1252"
        except UnicodeDecodeError:
            guess = "latin-1"
    return (
        f"it looks like {guess} (Windows and Excel exports often are): pass "
        f"--dataset-encoding={guess}, or save the file as UTF-8"
    )
