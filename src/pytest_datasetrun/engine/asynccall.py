"""An async target's first call made as a task on the engine's loop, ahead of the row's scoring.

Under ``--max-concurrency`` a row of an async target then holds no thread while its call is in
flight: the loop awaits it, and only the scoring (sync scorers may block) goes to a worker thread.
Retries, back-off, ``--item-timeout`` and usage are the same as :meth:`Engine.evaluate`'s.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.engine.attempt import Attempt, attempt_from, cancelled_retry
from pytest_datasetrun.engine.concurrency import TargetTimeout
from pytest_datasetrun.engine.isolation import call_arguments
from pytest_datasetrun.engine.runner import FirstCall

if TYPE_CHECKING:
    from pytest_datasetrun.data.dataset import DatasetItem
    from pytest_datasetrun.engine.runner import Engine

__all__ = ("calls_on_loop", "first_call")


def calls_on_loop(engine: Engine) -> bool:
    """Whether the row's first call can run on the loop: an async target, no cache or replay."""
    return engine.target.is_async and engine.cache is None and engine.replay is None


async def first_call(engine: Engine, item: DatasetItem, kwargs: dict[str, Any]) -> FirstCall:
    """Call the target for ``item`` (retrying as configured); the result feeds ``evaluate(first=)``."""
    started_at, started = time.time(), time.perf_counter()
    attempt = await _call_target(engine, item, dict(kwargs))
    return FirstCall(attempt, started_at, started)


async def _call_target(engine: Engine, item: DatasetItem, kwargs: dict[str, Any]) -> Attempt:
    attempt = 0
    target = engine.target
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            value, call_kwargs = call_arguments(item, kwargs, target.wants_item)
            raw = await _bounded(target.call(value, call_kwargs), engine.settings.timeout)
            return attempt_from(target, raw, attempt, started)
        except Exception as exc:  # noqa: BLE001 - recorded as the item's target error
            after = engine.after_failure(exc, attempt, started)
            if isinstance(after, Attempt):
                return after
        await asyncio.sleep(after)
        if engine.cancelled.is_set():
            return cancelled_retry(attempt)


async def _bounded(awaitable: Any, timeout: float | None) -> Any:
    """Await ``awaitable``; past ``timeout`` cancel it and raise :class:`TargetTimeout`."""
    if timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        raise TargetTimeout(timeout)
    return task.result()
