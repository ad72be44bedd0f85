"""When items are evaluated: inline (``--max-concurrency 1``) or prefetched in a bounded window.

With N > 1, when an item runs, it and the next selected items *of this process* (up to N in
flight) are submitted to the worker pool; each item then waits only for its own result. The
upcoming items come from ``session.items`` (serial) or from xdist's queue of items assigned to
this worker, so deselected items are never run and no item is evaluated by two workers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.engine.concurrency import WorkerPool

if TYPE_CHECKING:
    from pytest_datasetrun.engine.runner import Outcome
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
        return engine.evaluate(
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
            for upcoming in self._upcoming(current):
                if len(self._futures) >= self.size:
                    break
                if upcoming.nodeid not in self._futures:
                    self._submit(upcoming, kwargs)

    def _submit(self, item: DatasetCase, kwargs: dict[str, Any]) -> None:
        if self._queue is not None:
            self._queue.claim(item.nodeid)
        self._futures[item.nodeid] = self.pool.submit(lambda: self.evaluate(item, kwargs))

    def _upcoming(self, current: DatasetCase) -> Iterator[DatasetCase]:
        from pytest_datasetrun.plugin.nodes import DatasetCase

        items = current.session.items
        if self._queue is not None:
            indices = self._queue.upcoming()
        else:
            if self._positions is None:
                self._positions = {it.nodeid: i for i, it in enumerate(items)}
            start = self._positions.get(current.nodeid, len(items)) + 1
            indices = range(start, min(len(items), start + self.size * _LOOKAHEAD_FACTOR))
        for index in indices:
            candidate = items[index]
            if isinstance(candidate, DatasetCase) and not _skip_marked(candidate):
                yield candidate

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


def _skip_marked(item: pytest.Item) -> bool:
    """Rows that may never run their call are evaluated only when reached."""
    return any(item.get_closest_marker(name) is not None for name in ("skip", "skipif", "xfail"))


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

    def upcoming(self) -> list[int]:
        with self.interactor.torun.lock() as queue:
            pending = [self.interactor.nextitem_index, *queue]
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
