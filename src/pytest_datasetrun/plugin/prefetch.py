"""When items are evaluated: inline (``--max-concurrency 1``) or prefetched in a bounded window.

With N > 1, when an item runs, it and the next selected items *of this process* (up to N in
flight) are started; each item then waits only for its own result. The window is topped up in
batches (once it is down by N/8 rows), not at every row. A sync target's rows run on the worker
pool; an async target's calls are tasks on the engine's loop, started a batch per loop wake-up,
and each row's scoring then goes to the pool (no thread waits on an async call). The upcoming
items come from ``session.items`` (serial) or from xdist's queue of items assigned to this
worker, so deselected items are never run and no item is evaluated by two workers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.engine.asynccall import calls_on_loop, first_call
from pytest_datasetrun.engine.concurrency import Escaped, WorkerPool, contained

if TYPE_CHECKING:
    from pytest_datasetrun.engine.runner import Engine, FirstCall
    from pytest_datasetrun.engine.runner import RowOutcome as Outcome
    from pytest_datasetrun.plugin.context import RunContext
    from pytest_datasetrun.plugin.nodes import DatasetCase

    # A row whose async call is started on the loop: its future, engine, item and fixtures.
    _LoopRow = tuple[concurrent.futures.Future[Outcome], Engine, DatasetCase, dict[str, Any]]

__all__ = ("Scheduler", "InlineScheduler", "PrefetchScheduler", "make_scheduler")

_LOOKAHEAD_FACTOR = 4
_BATCH_DIVISOR = 8  # top the window up once it is down by size / 8 rows


class Scheduler:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def outcome(self, item: DatasetCase, request: pytest.FixtureRequest) -> Outcome:
        raise NotImplementedError

    def target_kwargs(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        names = self.ctx.target.fixture_names
        return {name: request.getfixturevalue(name) for name in names}

    def evaluate(
        self, item: DatasetCase, kwargs: dict[str, Any], first: FirstCall | None = None
    ) -> Outcome:
        engine = self.ctx.engine(item.path)
        return engine.evaluate_row(
            item.row,
            kwargs,
            node_id=item.nodeid,
            dataset=str(item.path),
            worker=self.ctx.worker,
            first=first,
        )

    def release(self, nodeid: str) -> None:
        """The row's protocol is over (it may never have reached its call)."""

    def close(self) -> None:
        pass


class InlineScheduler(Scheduler):
    def outcome(self, item: DatasetCase, request: pytest.FixtureRequest) -> Outcome:
        return self.evaluate(item, self.target_kwargs(request))


class PrefetchScheduler(Scheduler):
    def __init__(self, ctx: RunContext, size: int) -> None:
        super().__init__(ctx)
        self.pool = WorkerPool(size)
        self.size = size
        self._batch = max(1, size // _BATCH_DIVISOR)
        self._futures: dict[str, concurrent.futures.Future[Outcome]] = {}
        self._to_start: list[_LoopRow] = []  # async calls to start on the loop, one wake-up
        self._calling = 0  # async calls running on the loop (changed on the loop thread only)
        self._positions: dict[str, int] | None = None
        self._cursor = 0  # serial: the next item of session.items to consider for prefetching
        self._skip: dict[str, bool] = {}  # xdist: skip markers resolved once per row
        self._queue = _xdist_queue(ctx.config)
        self._lock = threading.RLock()

    def outcome(self, item: DatasetCase, request: pytest.FixtureRequest) -> Outcome:
        kwargs = self.target_kwargs(request)
        self._top_up(item, kwargs)
        future = self._futures.pop(item.nodeid)
        return future.result()

    def _top_up(self, current: DatasetCase, kwargs: dict[str, Any]) -> None:
        session = current.session
        guard = self._queue.lock() if self._queue is not None else contextlib.nullcontext()
        with self._lock, guard:
            if current.nodeid not in self._futures:
                self._submit(current, kwargs)
            stopping = session.shouldfail or session.shouldstop
            if not stopping and len(self._futures) <= self.size - self._batch:
                upcoming = self._upcoming(current)
                while len(self._futures) < self.size:
                    candidate = next(upcoming, None)
                    if candidate is None:
                        break
                    self._submit(candidate, kwargs)
            if self._to_start:
                batch, self._to_start = self._to_start, []
                self.ctx.loop.loop.call_soon_threadsafe(self._start, batch)

    def _submit(self, item: DatasetCase, kwargs: dict[str, Any]) -> None:
        if self._queue is not None:
            self._queue.claim(item.nodeid)
        engine = self._engine(item)
        if engine is not None and calls_on_loop(engine):
            future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
            self._to_start.append((future, engine, item, kwargs))
        else:
            future = self.pool.submit(lambda: self.evaluate(item, kwargs))
        self._futures[item.nodeid] = future

    def _engine(self, item: DatasetCase) -> Engine | None:
        try:
            return self.ctx.engine(item.path)
        except Exception:  # noqa: BLE001 - raised again in the row's own evaluation
            return None

    def _start(self, batch: list[_LoopRow]) -> None:
        """On the loop: start each row's call as a task (rows cancelled meanwhile are skipped)."""
        loop = asyncio.get_running_loop()
        for row in batch:
            future, engine, item, kwargs = row
            if future.done():
                continue
            task = loop.create_task(contained(first_call(engine, item.row, kwargs)))
            self._calling += 1
            task.add_done_callback(functools.partial(self._called, row))
            future.add_done_callback(functools.partial(_cancel_task, loop, task))

    def _called(self, row: _LoopRow, task: asyncio.Task[FirstCall | Escaped]) -> None:
        """On the loop: the call is over; the row's scoring goes to the pool."""
        self._calling -= 1
        future, _, item, kwargs = row
        if future.done():
            return
        if task.cancelled():
            future.cancel()
            return
        error = task.exception()
        if error is not None:
            if future.set_running_or_notify_cancel():
                future.set_exception(error)
            return
        first = task.result()
        if isinstance(first, Escaped):  # KeyboardInterrupt/SystemExit: raised in the row's turn
            if future.set_running_or_notify_cancel():
                future.set_exception(first.exception)
            return
        self.pool.submit(lambda: self.evaluate(item, kwargs, first), future=future)

    def _upcoming(self, current: DatasetCase) -> Iterator[DatasetCase]:
        """Rows after ``current`` to prefetch, not yet submitted, each looked at once (serial)."""
        if self._queue is not None:
            yield from self._upcoming_on_worker(current)
            return
        items = current.session.items
        if self._positions is None:
            self._positions = {it.nodeid: i for i, it in enumerate(items)}
        position = self._positions.get(current.nodeid, len(items))
        self._cursor = max(self._cursor, position + 1)
        limit = min(len(items), position + 1 + self.size * _LOOKAHEAD_FACTOR)
        while self._cursor < limit:
            candidate = items[self._cursor]
            self._cursor += 1
            if _prefetchable(candidate) and candidate.nodeid not in self._futures:
                yield candidate

    def _upcoming_on_worker(self, current: DatasetCase) -> Iterator[DatasetCase]:
        assert self._queue is not None
        items = current.session.items
        for index in self._queue.upcoming(self.size * _LOOKAHEAD_FACTOR):
            candidate = items[index]
            if candidate.nodeid in self._futures:
                continue
            if candidate.nodeid not in self._skip:
                self._skip[candidate.nodeid] = not _prefetchable(candidate)
            if not self._skip[candidate.nodeid]:
                yield candidate

    def in_flight(self) -> int:
        """Rows whose evaluation has started and not finished (for live progress)."""
        with self._lock:
            running = sum(1 for future in self._futures.values() if future.running())
        return running + self._calling

    def release(self, nodeid: str) -> None:
        # A row skipped or broken in setup never takes its result: drop it so it stops counting.
        with self._lock:
            future = self._futures.pop(nodeid, None)
        if future is not None:
            future.cancel()

    def close(self) -> None:
        self.pool.shutdown()
        self.ctx.engine_cancel()
        with self._lock:
            for future in self._futures.values():
                future.cancel()
            self._futures.clear()


def _cancel_task(
    loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], future: concurrent.futures.Future[Any]
) -> None:
    """A row's result was given up (released, or the session is closing): stop its call."""
    if future.cancelled():
        with contextlib.suppress(RuntimeError):  # the loop is closed already
            loop.call_soon_threadsafe(task.cancel)


def _prefetchable(item: pytest.Item) -> bool:
    """A dataset row without skip markers: rows that may never run their call wait their turn."""
    from pytest_datasetrun.plugin.nodes import DatasetCase

    if not isinstance(item, DatasetCase):
        return False
    return not any(item.get_closest_marker(name) for name in ("skip", "skipif", "xfail"))


class _XdistQueue:
    """This worker's queue of assigned item indices, and a guard against stealing prefetched items."""

    def __init__(self, interactor: Any) -> None:
        self.interactor = interactor
        self.claimed: set[str] = set()
        original = interactor.steal

        def steal(indices: list[int]) -> None:
            # Work stealing (--dist worksteal) must not move an item this worker already started:
            # refuse the whole request, which the protocol allows ("all or none").
            with interactor.torun.lock():
                items = interactor.session.items
                if any(items[i].nodeid in self.claimed for i in indices):
                    interactor.sendevent("unscheduled", indices=[])
                    return
                original(indices)

        interactor.steal = steal

    def lock(self) -> Any:
        return self.interactor.torun.lock()

    def claim(self, nodeid: str) -> None:
        self.claimed.add(nodeid)

    def upcoming(self, limit: int) -> list[int]:
        """The next ``limit`` indices this worker will run (the queue is not copied whole)."""
        with self.interactor.torun.lock() as queue:
            pending = [self.interactor.nextitem_index, *itertools.islice(queue, limit)]
        return [index for index in pending if isinstance(index, int)]


def _xdist_queue(config: pytest.Config) -> _XdistQueue | None:
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            return _XdistQueue(plugin)
    return None


def make_scheduler(ctx: RunContext) -> Scheduler:
    if ctx.options.max_concurrency > 1:
        return PrefetchScheduler(ctx, ctx.options.max_concurrency)
    return InlineScheduler(ctx)
