"""When items are evaluated: inline (``--max-concurrency 1``) or prefetched in a bounded window.

With N > 1, when an item runs, it and the next selected items *of this process* (up to N in
flight) are submitted to the worker pool; each item then waits only for its own result. The
upcoming items come from ``session.items`` (serial) or from xdist's queue of items assigned to
this worker, so deselected items are never run and no item is evaluated by two workers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.engine.concurrency import WorkerPool

if TYPE_CHECKING:
    from pytest_datasetrun.engine.runner import RowOutcome as Outcome
    from pytest_datasetrun.plugin.context import RunContext
    from pytest_datasetrun.plugin.nodes import DatasetCase

__all__ = ("Scheduler", "InlineScheduler", "PrefetchScheduler", "make_scheduler")

_LOOKAHEAD_FACTOR = 4


class Scheduler:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def outcome(self, item: DatasetCase, request: pytest.FixtureRequest) -> Outcome:
        raise NotImplementedError

    def target_kwargs(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        names = self.ctx.target.fixture_names
        return {name: request.getfixturevalue(name) for name in names}

    def evaluate(self, item: DatasetCase, kwargs: dict[str, Any]) -> Outcome:
        engine = self.ctx.engine(item.path)
        return engine.evaluate_row(
            item.row, kwargs, node_id=item.nodeid, dataset=str(item.path), worker=self.ctx.worker
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
        self._futures: dict[str, concurrent.futures.Future[Outcome]] = {}
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
            if session.shouldfail or session.shouldstop:
                return
            upcoming = self._upcoming(current)
            while len(self._futures) < self.size:
                candidate = next(upcoming, None)
                if candidate is None:
                    break
                self._submit(candidate, kwargs)

    def _submit(self, item: DatasetCase, kwargs: dict[str, Any]) -> None:
        if self._queue is not None:
            self._queue.claim(item.nodeid)
        self._futures[item.nodeid] = self.pool.submit(lambda: self.evaluate(item, kwargs))

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
            return sum(1 for future in self._futures.values() if future.running())

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
