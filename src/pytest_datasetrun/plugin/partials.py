"""Each xdist worker sums the rows it runs: counts, scorer sums and usage totals as rows finish.

A worker keeps a :class:`PartialSums` over the rows it ran and hands it to the controller in
``workeroutput`` when it finishes; the controller adds the workers' sums up instead of reading
every result back at the end of the session, a serial pass that grew with the run while both
cores sat idle (issue 15). A single process reads its results back at the end as before: there
the pass costs the same as summing along the way, one hook call per report less. A row is summed
with its final status: pytest's word (xfail, a strict xpass, a failed teardown) is applied here
as the writing process applies it.

The writing process uses the sums only when they account for exactly the rows it holds (see
:func:`usable`); anything else (a lost worker, a row run twice, a scorer that first appears
part-way through the run) falls back to the pass over the spooled results in dataset order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_datasetrun.analysis.totals import UsageTotals
from pytest_datasetrun.plugin.spool import ItemView
from pytest_datasetrun.record.aggregate import RunningAggregates
from pytest_datasetrun.record.results import jsonable
from pytest_datasetrun.record.run import ScorerInfo
from pytest_datasetrun.store.itemsfile import loads

if TYPE_CHECKING:
    from pytest_datasetrun.engine.runner import Engine
    from pytest_datasetrun.plugin.context import RunContext

__all__ = (
    "WIRE_KEY",
    "PartialSums",
    "add_up",
    "error_text",
    "final_word",
    "run_scorers",
    "scorer_entries",
    "teardown_word",
    "usable",
)

#: The key of a worker's sums in its ``workeroutput``.
WIRE_KEY = "datasetrun_sums"


class PartialSums:
    """The sums of the rows this worker ran."""

    def __init__(self, seed: Callable[[], Sequence[ScorerInfo]], target_errors: str) -> None:
        """:param seed: every scorer of the run's datasets, asked for when the first row ends."""
        self._seed = seed
        self.target_errors = target_errors
        self.seed: list[str] = []
        self.sums = RunningAggregates((), target_errors)
        self.usage = UsageTotals()
        self.items = 0
        self.overridden = 0
        # Rows whose result came and whose teardown has not (pytest may still change the verdict).
        self._waiting: dict[str, tuple[dict[str, Any], bool]] = {}

    @pytest.hookimpl(tryfirst=True)  # before the recorder takes the payload off the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if isinstance(report, pytest.SubtestReport):
            return
        payload = report.__dict__.get("datasetrun")
        if payload is not None:
            item = loads(payload)
            word = final_word(report, payload)
            if word is not None:
                item["status"], item["error"] = word
            self._waiting[report.nodeid] = (item, word is not None)
        elif report.when == "teardown" and report.nodeid in self._waiting:
            item, overridden = self._waiting.pop(report.nodeid)
            if report.failed:
                item["status"], item["error"] = teardown_word(report)
                overridden = True
            self._sum(item, overridden)

    def _sum(self, item: dict[str, Any], overridden: bool) -> None:
        if not self.items:
            infos = self._seed()
            self.seed = [info.id for info in infos]
            self.sums = RunningAggregates(infos, self.target_errors)
        view = ItemView(item)
        self.sums.add(item, view)
        self.usage.add(view)  # type: ignore[arg-type]  # the fields usage totals read
        self.items += 1
        self.overridden += overridden

    def finish(self) -> dict[str, Any]:
        """Sum the rows still waiting for a teardown report; the sums as plain data."""
        for item, overridden in self._waiting.values():
            self._sum(item, overridden)
        self._waiting.clear()
        return {
            "seed": self.seed,
            "items": self.items,
            "overridden": self.overridden,
            "sums": self.sums.to_wire(),
            "usage": self.usage.to_wire(),
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if output is not None:  # an xdist worker: the controller adds them up
            output[WIRE_KEY] = self.finish()


def scorer_entries(engine: Engine) -> list[dict[str, Any]]:
    """The engine's scorers as the run record describes them (``ScorerInfo`` fields)."""
    return [
        {"id": s.key, "name": s.name, "threshold": s.threshold, "params": jsonable(s.params)}
        for s in engine.scorers
    ]


def run_scorers(ctx: RunContext) -> list[ScorerInfo]:
    """Every scorer of the run's datasets, once, in dataset order."""
    seen: dict[str, ScorerInfo] = {}
    for path in ctx.options.datasets:
        for entry in scorer_entries(ctx.engine(path)):
            seen.setdefault(entry["id"], ScorerInfo(**entry))
    return list(seen.values())


def usable(
    partials: Iterable[Mapping[str, Any]], seed: Sequence[str], spooled: int, overridden: int
) -> bool:
    """Whether the partial sums account for exactly the ``spooled`` results the writer holds.

    :param seed: the scorers the writer sums over (the ones the datasets reported).
    :param spooled: results received once each (a row reported twice makes this fail).
    :param overridden: rows whose status the writer changed after their result was made.
    """
    partials = list(partials)
    summed = [p for p in partials if p["items"]]  # a worker that ran no row summed nothing
    return (
        sum(p["items"] for p in summed) == spooled
        and sum(p["overridden"] for p in partials) == overridden
        and all(set(p["seed"]) == set(seed) for p in summed)
        and all(set(p["sums"]["aggregates"]) <= set(seed) for p in summed)
    )


def add_up(
    partials: Iterable[Mapping[str, Any]],
    seed: Sequence[ScorerInfo],
    target_errors: str,
    unspooled: Iterable[bytes],
) -> tuple[RunningAggregates, UsageTotals]:
    """The run's sums: every process's (:func:`usable`) and the rows that produced no result."""
    sums = RunningAggregates(seed, target_errors)
    totals = UsageTotals()
    for partial in partials:
        sums.merge(partial["sums"])
        totals.merge(partial["usage"])
    for payload in unspooled:  # skipped, not run, lost with a worker: made from the dataset
        item = loads(payload)
        view = ItemView(item)
        sums.add(item, view)
        totals.add(view)  # type: ignore[arg-type]  # the fields usage totals read
    return sums, totals


def final_word(report: pytest.TestReport, payload: str) -> tuple[str, str] | None:
    """pytest has the last word on a row's outcome: xfail, strict xpass, plugins' changes."""
    if report.skipped and hasattr(report, "wasxfail"):
        return "skipped", f"xfail: {report.wasxfail}"
    if report.failed and '"status":"passed"' in payload:
        return "failed", error_text(report)
    return None


def teardown_word(report: pytest.TestReport) -> tuple[str, str]:
    """A row whose teardown failed is errored, whatever its result said."""
    return "errored", f"teardown: {error_text(report)}"


def error_text(report: pytest.TestReport) -> str:
    """The one line that says why a report failed."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    text = report.longreprtext.strip().splitlines()
    return text[-1] if text else f"failed during {report.when}"
