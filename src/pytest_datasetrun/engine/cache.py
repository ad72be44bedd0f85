"""The target-call cache: one SQLite file (WAL mode) of target outputs keyed by call.

Why SQLite: a lookup is one B-tree probe and a write one small transaction, whatever the number
of entries (a JSON file rewritten per entry costs O(n) per write); WAL lets every xdist worker
and prefetch thread read while one writes, and each entry is written atomically. A torn or
edited entry (its digest does not match) is a miss, never a wrong output.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from pytest_datasetrun.record.results import Usage

__all__ = (
    "CACHE_FILE",
    "CACHE_MODES",
    "CacheEntry",
    "CacheStats",
    "CallCache",
    "call_key",
)

CACHE_MODES = ("read-write", "read-only", "refresh", "off")
CACHE_FILE = "calls.sqlite3"
_BUSY_TIMEOUT_S = 60.0
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, target TEXT NOT NULL, "
    "created REAL NOT NULL, value TEXT NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS calls_target ON calls(target)",
    "CREATE INDEX IF NOT EXISTS calls_created ON calls(created)",
)


def call_key(target_id: str, version: str, value: Any, repeat: int) -> str:
    """The entry key of one call: target id and version, the input and the repeat index."""
    canonical = json.dumps(
        [target_id, version, to_jsonable_python(value, fallback=repr), repeat],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A cached call: the output (its JSON form), the usage it reported and its latency."""

    output: Any
    usage: Usage | None = None
    duration: float = 0.0


@dataclass
class CacheStats:
    """What a cache holds: entries per target, file size, oldest and newest entry times."""

    path: Path
    entries: int
    size_bytes: int
    per_target: dict[str, int]
    oldest: float | None
    newest: float | None


class CallCache:
    """Target outputs by :func:`call_key`, in ``DIR/calls.sqlite3``; thread- and process-safe.

    :param directory: the cache directory (created on first use).
    :param mode: ``read-write``, ``read-only`` (never writes), ``refresh`` (never reads, writes).
    """

    def __init__(self, directory: Path, mode: str = "read-write") -> None:
        if mode not in CACHE_MODES or mode == "off":
            raise ValueError(f"cache mode {mode!r} is not one of read-write, read-only, refresh")
        self.directory = directory
        self.path = directory / CACHE_FILE
        self.mode = mode
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.broken: str | None = None

    @property
    def reads(self) -> bool:
        return self.mode != "refresh" and self.broken is None

    @property
    def writes(self) -> bool:
        return self.mode != "read-only" and self.broken is None

    def open(self) -> str | None:
        """Open (and create, unless read-only) the file now; returns why it is unusable, or None."""
        with self._lock:
            self._connection()
        return self.broken

    def get(self, key: str) -> tuple[CacheEntry | None, str | None]:
        """The entry under ``key`` (None on a miss), and why a stored entry was unusable."""
        if not self.reads:
            return None, None
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None, None
            try:
                row = conn.execute(
                    "SELECT value, digest FROM calls WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                return None, f"cache {self.path} could not be read: {exc}"
        return (None, None) if row is None else _decode(row[0], row[1])

    def put(
        self, key: str, target_id: str, output: Any, usage: Usage | None, duration: float = 0.0
    ) -> bool:
        """Store a call's output; False when the mode forbids it or the output is not JSON."""
        if not self.writes:
            return False
        try:
            value = json.dumps(
                {
                    "output": to_jsonable_python(output, serialize_unknown=False),
                    "usage": usage.model_dump() if usage is not None else None,
                    "duration": duration,
                },
                ensure_ascii=False,
            )
        except Exception:  # noqa: BLE001 - an output JSON cannot hold is simply not cached
            return False
        digest = hashlib.sha256(value.encode()).hexdigest()
        with self._lock:
            conn = self._connection()
            if conn is None:
                return False
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?)",
                    (key, target_id, time.time(), value, digest),
                )
            except sqlite3.DatabaseError:
                return False
        return True

    def stats(self) -> CacheStats:
        """Entries per target, size and age range (an absent cache has no entries)."""
        per_target: dict[str, int] = {}
        oldest = newest = None
        conn = self._connection() if self.path.exists() else None
        if conn is not None:
            rows = conn.execute("SELECT target, COUNT(*) FROM calls GROUP BY target").fetchall()
            per_target = {str(target): int(count) for target, count in rows}
            oldest, newest = conn.execute("SELECT MIN(created), MAX(created) FROM calls").fetchone()
        size = sum(p.stat().st_size for p in self._files())
        return CacheStats(self.path, sum(per_target.values()), size, per_target, oldest, newest)

    def clear(self, *, older_than: float | None = None, target: str | None = None) -> int:
        """Delete entries (all, or older than ``older_than`` seconds, or of one target)."""
        conn = self._connection() if self.path.exists() else None
        if conn is None:
            return 0
        where, params = ["1"], []
        if older_than is not None:
            where.append("created < ?")
            params.append(time.time() - older_than)
        if target is not None:
            where.append("target = ?")
            params.append(target)
        deleted = conn.execute(f"DELETE FROM calls WHERE {' AND '.join(where)}", params).rowcount
        if len(where) == 1:
            conn.execute("VACUUM")
        return int(deleted)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _files(self) -> Iterator[Path]:
        for suffix in ("", "-wal", "-shm"):
            path = self.path.with_name(self.path.name + suffix)
            if path.exists():
                yield path

    def _connection(self) -> sqlite3.Connection | None:
        if self.mode == "read-only" and not self.path.exists():
            return None  # read-only never writes, not even an empty database (every get misses)
        if self._conn is None and self.broken is None:
            try:
                self._conn = _connect(self.path)
            except (sqlite3.DatabaseError, OSError) as exc:
                self.broken = f"cache {self.path} cannot be used ({exc}); running without it"
        return self._conn


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            conn.execute(statement)
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


def _decode(value: str, digest: str) -> tuple[CacheEntry | None, str | None]:
    if hashlib.sha256(value.encode()).hexdigest() != digest:
        return None, "its digest does not match its content"
    try:
        data = json.loads(value)
        usage = data.get("usage")
        usage = Usage(**usage) if usage else None
        return CacheEntry(data["output"], usage, float(data.get("duration") or 0.0)), None
    except Exception as exc:  # noqa: BLE001 - any unreadable entry is a miss
        return None, f"it cannot be decoded ({type(exc).__name__}: {exc})"
