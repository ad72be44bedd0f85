"""SIGTERM and SIGHUP stop a dataset run the way Ctrl-C does: the partial run is stored.

CI cancellation, ``timeout``, ``docker stop`` and Kubernetes send SIGTERM; a closed terminal
sends SIGHUP. Their default action kills the process before pytest can write anything, so each
is turned into a :class:`KeyboardInterrupt` in the main thread (issue 11, item 6). A handler some
other code installed first is left alone, and the previous handlers come back at unconfigure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType
from typing import Any

import pytest

__all__ = (
    "STOP_SIGNALS",
    "SignalInterrupt",
    "install_stop_signals",
    "local_worker_gone",
    "local_worker_started",
    "worker_pids_key",
)

# Local xdist workers (popen) by gateway id -> pid. A signal sent to the controller alone
# (`timeout`, `docker stop`) is passed on to them, so they stop now instead of running their
# current row to the end and then failing to report it to a controller that has gone.
worker_pids_key = pytest.StashKey[dict[str, int]]()

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class SignalInterrupt(KeyboardInterrupt):
    """A stop signal, raised where Ctrl-C would raise :class:`KeyboardInterrupt`."""


def install_stop_signals(config: pytest.Config) -> None:
    """Handle SIGTERM and SIGHUP like Ctrl-C for the rest of this session."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if previous is not signal.SIG_DFL:
            continue  # someone else's (or SIG_IGN, e.g. under nohup): respect it
        signal.signal(signum, lambda signum, frame: _interrupt(config, signum, frame))
        config.add_cleanup(lambda signum=signum, previous=previous: _restore(signum, previous))


def local_worker_started(config: pytest.Config, node: Any) -> None:
    """Remember a local (popen) xdist worker's pid, to pass stop signals on to it."""
    spec = node.gateway.spec
    rinfo = getattr(node.gateway, "_cache_rinfo", None)  # execnet caches it at worker setup
    if spec.popen and not spec.via and rinfo is not None:
        config.stash.setdefault(worker_pids_key, {})[node.gateway.id] = int(rinfo.pid)


def local_worker_gone(config: pytest.Config, node: Any) -> None:
    config.stash.get(worker_pids_key, {}).pop(node.gateway.id, None)


def _interrupt(config: pytest.Config, signum: int, frame: FrameType | None) -> None:
    for pid in config.stash.get(worker_pids_key, {}).values():
        with contextlib.suppress(OSError):
            os.kill(pid, signum)
    raise SignalInterrupt(f"{signal.Signals(signum).name} received: stopping as for Ctrl-C")


def _restore(signum: int, previous: signal._HANDLER) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signum, previous)
