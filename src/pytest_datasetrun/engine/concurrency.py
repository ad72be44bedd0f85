"""One event loop per process, in a daemon thread, plus a bounded pool of daemon worker threads.

The main thread stays pytest's: it blocks on futures (so Ctrl-C reaches it), and abandoned work
never keeps the process alive because every thread here is a daemon.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

__all__ = (
    "LoopThread",
    "Escaped",
    "contained",
    "WorkerPool",
    "TargetTimeout",
    "ScorerTimeout",
    "run_with_timeout",
    "run_each_with_timeout",
)

R = TypeVar("R")


class TargetTimeout(TimeoutError):
    """A call did not finish within ``--item-timeout``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class ScorerTimeout(TimeoutError):
    """A scorer did not finish within ``--item-timeout``; the scorer is recorded as errored."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the scorer did not finish within {seconds:g} s (--item-timeout)")
        self.seconds = seconds


class _DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """The loop's default executor (``asyncio.to_thread``): one daemon thread per job.

    The standard pool's threads are joined when the interpreter exits, so one hanging sync call
    handed to it (a judge's sync model) would keep the finished session from exiting.
    """

    def submit(
        self, fn: Callable[..., R], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[R]:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed back to the awaiting coroutine
                future.set_exception(exc)

        threading.Thread(target=work, name="datasetrun-executor", daemon=True).start()
        return future


class LoopThread:
    """A process-wide asyncio loop, started on first use, so loop-bound clients survive across items."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                ready = threading.Event()
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._serve, args=(ready,), name="datasetrun-loop", daemon=True
                )
                self._thread.start()
                ready.wait()
            return self._loop

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.set_default_executor(_DaemonExecutor())
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def run(
        self,
        awaitable: Awaitable[R],
        timeout: float | None = None,
        *,
        timeout_error: Callable[[float], BaseException] = TargetTimeout,
    ) -> R:
        """Run ``awaitable`` on the loop and wait for it; on timeout cancel it and raise ``timeout_error``."""
        future = asyncio.run_coroutine_threadsafe(contained(awaitable), self.loop)
        try:
            result = future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise timeout_error(timeout or 0.0) from None
        except BaseException:
            future.cancel()
            raise
        if isinstance(result, Escaped):
            raise result.exception
        return result

    def close(self) -> None:
        """Cancel what is still running and stop the loop (does not wait for abandoned sync work)."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        if self._thread is not None:
            self._thread.join(timeout=2)


class Escaped:
    """A ``KeyboardInterrupt``/``SystemExit`` raised by a coroutine, carried out of the loop.

    Raised inside a task, either would stop the loop thread itself (and every call waiting on it
    would wait forever); handed back, it is raised again in the thread that waits for the call.
    """

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


async def contained(awaitable: Awaitable[R]) -> R | Escaped:
    """Await ``awaitable`` on the loop; a ``KeyboardInterrupt``/``SystemExit`` comes back as :class:`Escaped`."""
    try:
        return await awaitable
    except (KeyboardInterrupt, SystemExit) as exc:
        return Escaped(exc)


def run_with_timeout(
    func: Callable[[], R],
    timeout: float,
    timeout_error: Callable[[float], BaseException] = TargetTimeout,
) -> R:
    """Run a sync call in a daemon thread; past ``timeout`` abandon it and raise ``timeout_error``."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=work, name="datasetrun-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise timeout_error(timeout)
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_each_with_timeout(
    jobs: Sequence[Callable[[], R]], timeout: float, on_timeout: Callable[[int], R]
) -> list[R]:
    """Run ``jobs`` one after another on one daemon thread, each bounded by ``timeout``.

    One thread per batch, not per job (starting a thread costs ~0.1 ms). A job past its timeout
    is abandoned with its thread, ``on_timeout(index)`` stands for its result, and the jobs after
    it go on on a new thread.
    """
    results: list[R] = []
    while len(results) < len(jobs):
        first = len(results)
        batch = list(jobs[first:])
        outputs: dict[int, tuple[bool, Any]] = {}
        ready = [threading.Event() for _ in batch]
        abandoned = threading.Event()

        def work(
            batch: list[Callable[[], R]] = batch,
            outputs: dict[int, Any] = outputs,
            ready: list[threading.Event] = ready,
            abandoned: threading.Event = abandoned,
        ) -> None:
            for index, job in enumerate(batch):
                if abandoned.is_set():
                    return
                try:
                    outputs[index] = (True, job())
                except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                    outputs[index] = (False, exc)
                ready[index].set()

        threading.Thread(target=work, name="datasetrun-scorers", daemon=True).start()
        for index in range(len(batch)):
            if not ready[index].wait(timeout):
                abandoned.set()
                results.append(on_timeout(first + index))
                break
            ok, value = outputs[index]
            if not ok:
                raise value
            results.append(value)
    return results


class WorkerPool:
    """At most ``size`` jobs at once on a fixed set of daemon threads; queued jobs can be cancelled.

    Threads start as jobs arrive (never more than ``size``) and then take job after job from one
    queue: submitting costs a queue put, not a thread start.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: queue.SimpleQueue[
            tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None
        ]
        self._jobs = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def submit(
        self, job: Callable[[], R], future: concurrent.futures.Future[R] | None = None
    ) -> concurrent.futures.Future[R]:
        """Queue ``job``; its result goes to ``future`` (a new one unless given)."""
        future = concurrent.futures.Future() if future is None else future
        with self._lock:
            if self._idle == 0 and len(self._threads) < self.size:
                thread = threading.Thread(target=self._serve, name="datasetrun-worker", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= self._idle > 0
        self._jobs.put((future, job))
        return future

    def _serve(self) -> None:
        while True:
            entry = self._jobs.get()
            if entry is None:
                return
            future, job = entry
            if self._stopping.is_set() or not future.set_running_or_notify_cancel():
                if not future.done():
                    future.cancel()
            else:
                try:
                    future.set_result(job())
                except BaseException as exc:  # noqa: BLE001 - handed back to the waiting item
                    future.set_exception(exc)
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Stop starting new jobs; running ones are abandoned (their threads are daemons)."""
        self._stopping.set()
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
