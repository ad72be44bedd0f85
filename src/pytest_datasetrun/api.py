"""``run_dataset()``: the plugin's engine for scripts and notebooks, without a pytest session."""

from __future__ import annotations

import concurrent.futures
import inspect
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_datasetrun.analysis.repeats import repeat_summary
from pytest_datasetrun.data.dataset import Dataset, DatasetItem, load_dataset, validate_rows
from pytest_datasetrun.engine.registry import Registry
from pytest_datasetrun.engine.runner import Engine, Outcome, Settings
from pytest_datasetrun.engine.spec import SpecList
from pytest_datasetrun.engine.targets import Target, as_target
from pytest_datasetrun.record.results import jsonable
from pytest_datasetrun.record.run import (
    DatasetInfo,
    RunRecord,
    ScorerInfo,
    TargetInfo,
    aggregate_scores,
    count_items,
    new_run_id,
)
from pytest_datasetrun.store.environment import capture_environment

__all__ = ("run_dataset", "rescore_run")


def run_dataset(
    dataset: str | Path | Dataset | Sequence[dict[str, Any]],
    target: Any,
    scorers: Iterable[Any] = (),
    *,
    max_concurrency: int = 1,
    item_timeout: float | None = None,
    max_retries: int = 0,
    retry_on: Sequence[str] = (),
    repeat: int = 1,
    repeat_policy: str = "all",
    name: str | None = None,
    store: str | Path | None = None,
    cache: str | Path | None = None,
    cache_mode: str = "read-write",
    replay: RunRecord | str | None = None,
    replay_strict: bool = False,
    trust_dataset_imports: bool = False,
) -> RunRecord:
    """Evaluate ``target`` on every row of ``dataset`` and return the run record.

    The same loading, target adapters, scorers, retries, timeouts, repeats and record as
    ``pytest --dataset``; no pytest session, hooks or fixtures are involved.

    :param dataset: a dataset file, a loaded :class:`Dataset`, or a list of row dicts.
    :param target: a callable, agent, runnable or workflow object, a :class:`Target`, or a
        string: an entry-point target id or a ``module:attr`` path.
    :param scorers: spec strings (``"exact_match>=1"``), :class:`Scorer` objects or functions;
        added to the target's and the dataset file's scorers.
    :param max_concurrency: rows evaluated at once (threads; async targets share one loop).
    :param store: when given, the run is also written to this run store.
    :param cache: a call-cache directory (``--cache-dir DIR``); ``cache_mode`` as ``--cache-mode``.
    :param replay: a stored run whose outputs replace target calls (``--replay``): its record,
        or a run reference (id, prefix, name, ``latest~N``, a run file) looked up in ``store``,
        else in the store pytest would use here (``$DATASETRUN_STORE``, the ini file, the default).
    :param trust_dataset_imports: let the dataset's own ``scorers`` (header and rows) name
        scorers, or scorer params such as ``model=``, by ``module:attr`` import path.
    :returns: the complete :class:`RunRecord`, items in dataset order.
    """
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    if isinstance(replay, str):
        replay = _stored_run(replay, store)
    data = _dataset(dataset)
    resolved = _target(Registry.discover([], [], []), target)
    # Scorers decorated beside the target (its module) are found by name, as conftest ones are.
    home = inspect.getmodule(resolved.obj) or inspect.getmodule(type(resolved.obj))
    registry = Registry.discover([home] if home else [], [], [])
    chosen = registry.resolve_scorers(
        [
            SpecList(f"target {resolved.id!r}", resolved.scorers),
            SpecList(f"{data.path}, field 'scorers'", data.scorers, trust_dataset_imports),
            SpecList("run_dataset(scorers=...)", list(scorers)),
        ]
    )
    engine = Engine(
        resolved,
        chosen,
        Settings(
            item_timeout, max_retries, tuple(retry_on), repeat=repeat, repeat_policy=repeat_policy
        ),
        row_scorers=lambda item: registry.resolve_row_scorers(
            chosen,
            item.scorers,
            f"{data.path}, row {item.index + 1}, field 'scorers'",
            trusted=trust_dataset_imports,
        ),
        cache=_cache(cache, cache_mode),
        replay=_replay(replay, replay_strict),
    )
    try:
        outcomes = _evaluate(engine, data.items, max_concurrency, data.path)
    finally:
        engine.cancelled.set()
        engine.loop.close()
        if engine.cache is not None:
            engine.cache.close()
    items = [outcome.result for outcome in outcomes]
    infos = [
        ScorerInfo(id=s.key, name=s.name, threshold=s.threshold, params=jsonable(s.params))
        for s in chosen
    ]
    record = RunRecord(
        run_id=new_run_id(started),
        name=name or f"{data.name}@{resolved.id}",
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        duration_s=round(time.perf_counter() - clock, 6),
        datasets=[
            DatasetInfo(
                path=data.path,
                name=data.name,
                sha256=data.sha256,
                total=data.total,
                selected=data.total,
                format=data.format,
            )
        ],
        target=TargetInfo(
            id=resolved.id, name=resolved.name, kind=resolved.kind, version=resolved.version
        ),
        scorers=infos,
        options={
            "target": resolved.id,
            "scorers": [s.key for s in chosen],
            "max_concurrency": max_concurrency,
            "item_timeout": item_timeout,
            "max_retries": max_retries,
            "retry_on": list(retry_on),
            "repeat": repeat,
            "repeat_policy": repeat_policy,
            "source": "run_dataset",
        },
        environment=capture_environment(Path.cwd(), 0),
        counts=count_items(items),
        aggregates=aggregate_scores(items, infos),
        repeats=repeat_summary(items, repeat, repeat_policy) if repeat > 1 else None,
        items=items,
    )
    _provenance(record, replay, cache_mode if engine.cache is not None else None, cache)
    record.exit_status = 0 if record.counts.passed == record.counts.selected else 1
    if store is not None:
        from pytest_datasetrun.store.runstore import write_run

        write_run(Path(store), record)
    return record


def rescore_run(
    run: RunRecord,
    scorers: Iterable[Any],
    *,
    name: str | None = None,
    store: str | Path | None = None,
    max_concurrency: int = 1,
    repeat_policy: str | None = None,
) -> RunRecord:
    """Score a stored run's outputs again with ``scorers``; the target is never called.

    The rows come from the run itself (input, expected, metadata, tags); rows the run never
    evaluated (skipped, not run) are left out, and stored target errors stay errors.

    :param run: the stored run, with its items (``open_store(...).get(ref)``).
    :param scorers: spec strings, :class:`Scorer` objects or functions.
    :param repeat_policy: how a repeated row passes; default: the stored run's policy.
    :returns: the new run record (``replayed_from`` names ``run``).
    """
    from pytest_datasetrun.errors import ConfigError

    if len({item.dataset for item in run.items}) > 1:
        raise ConfigError(f"run {run.run_id} holds several datasets; rescore one dataset at a time")
    rows = [
        {
            "id": i.item_id,
            "input": i.input,
            "expected": i.expected,
            "metadata": i.metadata,
            "tags": i.tags,
        }
        for i in run.items
        if i.status != "not_run" and not (i.status == "skipped" and i.output is None)
    ]
    info = run.dataset
    data = validate_rows(info.path if info else "<rows>", rows)
    ident = run.target.id if run.target else "target"
    placeholder = Target(id=ident, name=run.target.name if run.target else ident, obj=_never_called)
    return run_dataset(
        data,
        placeholder,
        scorers,
        name=name or f"{run.name} (rescored)",
        store=store,
        max_concurrency=max_concurrency,
        repeat=max(1, max((len(i.repeats) for i in run.items), default=1)),
        repeat_policy=repeat_policy or str(run.options.get("repeat_policy") or "all"),
        replay=run,
        replay_strict=True,
    )


def _never_called(input: Any) -> Any:
    raise RuntimeError("rescore never calls the target")


def _cache(directory: str | Path | None, mode: str) -> Any:
    if directory is None or mode == "off":
        return None
    from pytest_datasetrun.engine.cache import CallCache

    return CallCache(Path(directory), mode)


def _stored_run(ref: str, store: str | Path | None) -> RunRecord:
    """The run ``replay=ref`` names; :class:`StoreError` says which reference and store."""
    from pytest_datasetrun.errors import StoreError
    from pytest_datasetrun.store.location import find_ini, resolve_store
    from pytest_datasetrun.store.runstore import open_store

    ini = find_ini(Path.cwd())
    value = ini.get("datasetrun_store")
    path = resolve_store(
        store, ini_value=str(value) if value else None, rootdir=ini.rootdir, cwd=Path.cwd()
    )
    try:
        return open_store(path).get(ref)
    except StoreError as exc:
        why = str(exc).replace("pass --store", "pass store=PATH")
        raise StoreError(f"run_dataset(replay={ref!r}): {why}") from None


def _replay(run: RunRecord | None, strict: bool) -> Any:
    if run is None:
        return None
    from pytest_datasetrun.engine.replay import ReplaySource

    return ReplaySource(run.run_id, run.items, strict=strict, rerun_errors=False, rerun_hint="")


def _provenance(
    record: RunRecord, replay: RunRecord | None, mode: str | None, cache: str | Path | None
) -> None:
    from pytest_datasetrun.analysis.costs import apply_costs, usage_summary
    from pytest_datasetrun.analysis.provenance import cache_summary, replay_summary

    if replay is not None:
        record.replayed_from = replay.run_id
        record.replay = replay_summary(record.items, rerun_hint="")
    if mode is not None:
        record.cache = cache_summary(record.items, mode, str(cache))
    apply_costs(record.items, None)
    record.usage = usage_summary(record.items, None)


def _dataset(value: str | Path | Dataset | Sequence[dict[str, Any]]) -> Dataset:
    if isinstance(value, Dataset):
        return value
    if isinstance(value, (str, Path)):
        return load_dataset(value)
    return validate_rows("<rows>", list(value))


def _target(registry: Registry, value: Any) -> Target:
    if isinstance(value, str):
        return registry.resolve_target(value)
    found = as_target(value)
    found.check()
    return found


def _evaluate(
    engine: Engine, items: list[DatasetItem], concurrency: int, dataset: str
) -> list[Outcome]:
    if concurrency <= 1:
        return [engine.evaluate(item, dataset=dataset) for item in items]
    with concurrent.futures.ThreadPoolExecutor(
        concurrency, thread_name_prefix="datasetrun"
    ) as pool:
        futures = [pool.submit(engine.evaluate, item, dataset=dataset) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            engine.cancelled.set()
            for future in futures:
                future.cancel()
            raise
