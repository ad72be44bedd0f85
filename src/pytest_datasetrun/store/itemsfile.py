"""A run's items file: a JSON list with one item per line, written and read as a stream.

The file is plain JSON (``json.load`` reads it whole)::

    [
    {"item_id": "q1", ...},
    {"item_id": "q2", ...}
    ]

One item per line lets a writer append each result as it arrives and a reader parse one item at
a time, so memory stays flat however many items a run has. Files written by earlier versions (the
whole list on one line) are still read, whole. ``orjson`` is used when installed (the ``fast``
extra), the standard ``json`` module otherwise.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

try:  # the ``fast`` extra
    import orjson
except ImportError:  # pragma: no cover - exercised when orjson is not installed
    orjson = None  # type: ignore[assignment]

__all__ = ("ItemsWriter", "dumps", "fsync_dir", "iter_items_file", "loads")

_BUFFER = 1 << 20


def loads(data: bytes | str) -> Any:
    """Parse JSON, with orjson when it is installed (``json`` reads what orjson refuses: NaN)."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json.loads accepts NaN and Infinity, which json.dumps writes
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact one-line UTF-8 JSON (non-ASCII kept as is), with orjson when it is installed.

    Values JSON cannot hold raise ``TypeError`` (orjson) or ``TypeError``/``ValueError`` (json).
    """
    if orjson is not None:
        with contextlib.suppress(TypeError):  # e.g. an int beyond 64 bits
            return orjson.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class ItemsWriter:
    """Appends one-line JSON items to a temporary file beside ``path``; :meth:`commit` moves it.

    Until :meth:`commit` the items file at ``path`` is untouched; :meth:`discard` (or an exception
    inside a ``with`` block) removes the temporary file. ``tmp`` names that file (truncated if it
    exists) instead of a new unique name: for a writer holding the store lock.
    """

    def __init__(self, path: Path, tmp: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if tmp is None:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            tmp = Path(name)
        else:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600
            )
        self.tmp = tmp
        self._handle: IO[bytes] = os.fdopen(fd, "wb", buffering=_BUFFER)
        self._handle.write(b"[")
        self._sep = b"\n"
        self.count = 0

    def append(self, payload: bytes | str) -> None:
        """Add one item, given as its one-line JSON text."""
        if isinstance(payload, str):
            payload = payload.encode()
        self._handle.write(self._sep)
        self._handle.write(payload)
        self._sep = b",\n"
        self.count += 1

    def finish(self, mode: int = 0o644) -> Path:
        """Finish the list, fsync it and give it ``mode``; it stays at :attr:`tmp`, returned."""
        handle = self._handle
        if not handle.closed:
            handle.write(b"\n]\n")
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        os.chmod(self.tmp, mode)
        return self.tmp

    def commit(self, path: Path | None = None, mode: int = 0o644) -> Path:
        """Finish the list, fsync it and atomically replace ``path`` (default: the one given)."""
        path = path or self.path
        self.finish(mode)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.tmp, path)
        fsync_dir(path.parent)
        return path

    def discard(self) -> None:
        """Drop the temporary file (the items file at ``path`` is left as it was)."""
        with contextlib.suppress(OSError):
            self._handle.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ItemsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.discard()


def iter_items_file(path: Path) -> Iterator[dict[str, Any]]:
    """The items of an items file, parsed one at a time (earlier one-line files: whole).

    :raises OSError: the file cannot be read.
    :raises ValueError: a line is not JSON (``json.JSONDecodeError`` or ``orjson.JSONDecodeError``).
    """
    with open(path, "rb", buffering=_BUFFER) as handle:
        first = handle.readline()
        if first.strip() != b"[":
            yield from _whole(first + handle.read())
            return
        for line in handle:
            line = line.rstrip(b"\r\n")
            if line.endswith(b","):
                line = line[:-1]
            if not line or line == b"]":
                continue
            item = loads(line)
            if not isinstance(item, dict):
                raise ValueError(f"an item is a {type(item).__name__}, not a JSON object")
            yield item


def _whole(data: bytes) -> Iterator[dict[str, Any]]:
    enabled = gc.isenabled()
    gc.disable()  # millions of reachable objects: the cyclic GC would rescan them for nothing
    try:
        items = loads(data)
    finally:
        if enabled:
            gc.enable()
    if not isinstance(items, list):
        raise ValueError(f"expected a JSON list of items, got {type(items).__name__}")
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"an item is a {type(item).__name__}, not a JSON object")
        yield item


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; directories cannot be opened on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
