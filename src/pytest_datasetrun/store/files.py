"""Store files on disk: atomic replace, in-place append, file modes, directories, the lock."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.store.itemsfile import fsync_dir

__all__ = (
    "LOCK_TIMEOUT_ENV",
    "LOCK_TIMEOUT_S",
    "append_at",
    "atomic_write",
    "file_mode",
    "locked",
    "make_dirs",
)

LOCK_TIMEOUT_S = 60.0
LOCK_TIMEOUT_ENV = "DATASETRUN_LOCK_TIMEOUT"


@contextlib.contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store lock, with a clear :class:`StoreError` on timeout."""
    import filelock  # only writers lock: readers of the store never import it

    timeout = _lock_timeout()
    lock = filelock.FileLock(f"{store}.lock", timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StoreError(
            f"run store {store} is locked: another process held {lock.lock_file} for more "
            f"than {timeout:g} s; is another pytest session writing it?"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot lock run store {store}: {exc}") from None
    try:
        yield
    finally:
        lock.release()


def _lock_timeout() -> float:
    """Seconds to wait for the store lock: ``$DATASETRUN_LOCK_TIMEOUT``, else 60."""
    try:
        value = float(os.environ.get(LOCK_TIMEOUT_ENV, LOCK_TIMEOUT_S))
    except ValueError:
        return LOCK_TIMEOUT_S
    return value if value >= 0 else LOCK_TIMEOUT_S


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its parents, a :class:`StoreError` when that fails."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the run store directory {directory}: {exc}") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def append_at(path: Path, offset: int, expected: bytes, data: bytes) -> bool:
    """Replace the end of ``path`` from ``offset`` on (``expected``) with ``data``, in place.

    The file is fsynced; it keeps its inode and mode, so no rename or directory fsync is needed.
    If the write fails the old end is put back. A reader may see the file halfway (the caller's
    format must let it read past a torn end).

    :returns: ``False`` (nothing written) when the file does not end with ``expected`` there,
        or cannot be opened for writing (a read-only file: a rename still replaces it).
    """
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - closed by the with block below
    except OSError:
        return False
    with handle:
        handle.seek(offset)
        if handle.read() != expected:
            return False
        handle.seek(offset)
        try:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):  # the old end fits in the blocks it had
                handle.seek(offset)
                handle.write(expected)
                handle.truncate()
                handle.flush()
            raise
    return True


def file_mode(path: Path) -> int:
    """Keep an existing file's mode; new files get the usual ``0o666 & ~umask``."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    # os.umask can only be read by setting it; do it once per process.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask
