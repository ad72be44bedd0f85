"""``--dist load`` that keeps every worker fed deeply enough to prefetch ``--max-concurrency`` rows.

xdist's own load scheduler stops sending to a worker that holds two pending tests once a test
takes 0.1 s or more, which every LLM call does; a worker then sees at most two rows ahead and
``--max-concurrency`` collapses to about 2 per worker. This subclass keeps ``depth`` rows
pending on each worker; everything else is xdist's, except what happens when a worker dies.

A worker that dies (a crash, or a remote worker whose connection is lost) had up to ``window``
rows in flight at once, and any of them may have killed it. xdist would blame the first and
send the others to another worker, which runs the crashing row again (issue 11, item 7). Here
every row that may have started is reported as lost with the worker, none of them runs again,
and only the rows the worker had not started are sent elsewhere.

A lost remote worker that cannot be replaced leaves the run to the others, and the controller
stops waiting for what it would have done: if it was lost before sending its collection, xdist
would wait for that collection before scheduling anything, and the session hung beside its idle
workers; if the others had already been told to stop, the rows it had not started cannot run
anywhere, and the session ends with them not run instead of an INTERNALERROR.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScheduling

__all__ = ("PrefetchLoadScheduling", "lost_row_report", "survive_unreplaceable_workers")


class PrefetchLoadScheduling(LoadScheduling):
    def __init__(self, config: Any, log: Any = None, *, depth: int, window: int = 1) -> None:
        super().__init__(config, log)
        self.depth = depth
        self.window = window

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down:
            return
        held = len(self.node2pending[node])
        if self.pending and held < self.depth:
            self._send_tests(node, min(self.depth - held, len(self.pending)))
            return
        # The "long-running tests" heuristic is what starves prefetching: ignore durations.
        super().check_schedule(node, duration=0)

    def _send_tests(self, node: Any, num: int) -> None:
        tests = self.pending[:num]
        if not tests:
            return
        del self.pending[:num]
        try:
            node.send_runtest_some(tests)
        except OSError:
            # The worker is gone and its "errordown" event is still queued: keep the rows here
            # for the others instead of an INTERNALERROR ("cannot send (already closed?)").
            self.pending[:0] = tests
            return
        self.node2pending[node].extend(tests)

    def remove_node(self, node: Any) -> str | None:
        pending = self.node2pending.pop(node)
        if not pending:
            return None
        # The worker runs its rows in the order they were sent: the first `window` may have started.
        started, untouched = pending[: self.window], pending[self.window :]
        self.pending.extend(untouched)
        for other in self.node2pending:
            self.check_schedule(other)
        for index in started:
            report = lost_row_report(self.collection[index], node, len(started))
            self.config.hook.pytest_runtest_logreport(report=report)
        return None  # reported here: xdist would blame one row, and some plugins re-run it


def lost_row_report(nodeid: str, node: Any, in_flight: int) -> pytest.TestReport:
    """The failed report of a row that was running on a worker when the worker was lost."""
    fspath = nodeid.split("::")[0]
    together = f" (one of {in_flight} rows running at once)" if in_flight > 1 else ""
    message = (
        f"worker {node.gateway.id!r} crashed or was lost while running {nodeid!r}{together}; "
        f"the row is not run again"
    )
    report = pytest.TestReport(
        nodeid=nodeid,
        location=(fspath, None, fspath),
        keywords={},
        outcome="failed",
        longrepr=message,
        when="???",  # type: ignore[arg-type]  # what xdist uses for a crash item
    )
    report.node = node  # type: ignore[attr-defined]
    return report


def survive_unreplaceable_workers(config: Any) -> None:
    """A lost remote worker that cannot be started again ends its part of the run, not the session.

    xdist replaces a dead worker by starting one from the same ``--tx`` spec; for a socket or ssh
    worker whose host is gone that raises, and the session ends in an INTERNALERROR with every
    other worker's results unwritten. Here the failure is one line, and the run goes on (and is
    recorded) with the workers that are left.
    """
    dsession = config.pluginmanager.getplugin("dsession")
    if dsession is None or not hasattr(dsession, "_clone_node"):
        return
    clone_node = dsession._clone_node

    def clone_or_carry_on(node: Any) -> Any:
        try:
            return clone_node(node)
        except Exception as exc:  # execnet raises OSError, EOFError, HostNotFound, ...
            dsession.report_line(
                f"\ncannot replace lost worker {node.gateway.id} ({node.gateway.spec}): "
                f"{type(exc).__name__}: {exc}; the run goes on with the other workers"
            )
            _carry_on_without(dsession, node)
            return None

    dsession._clone_node = clone_or_carry_on


def _carry_on_without(dsession: Any, node: Any) -> None:
    """Stop waiting for what a lost worker that has no replacement would have done."""
    sched = dsession.sched
    if sched is None:
        return
    if not sched.collection_is_completed and not _has_collected(sched, node):
        # Lost before it sent its collection: xdist schedules nothing until one collection per
        # --tx worker has come, so the controller and the other workers would wait forever.
        sched.numnodes -= 1
        if sched.numnodes > 0 and sched.collection_is_completed:
            sched.schedule()
    unassigned = getattr(sched, "pending", None) or getattr(sched, "workqueue", None)
    starting = [n for n in getattr(dsession, "_active_nodes", ()) if n not in (node, *sched.nodes)]
    if unassigned and not starting and all(other.shutting_down for other in sched.nodes):
        # Its unstarted rows went back to the queue after every worker left had been told to
        # stop (xdist does so once the queue is empty), or had finished: nobody can take them.
        # End the session when those workers are done (the rows are recorded as not run)
        # instead of an INTERNALERROR ("Unexpectedly no active workers available").
        dsession.report_line(
            f"{len(unassigned)} row(s) that {node.gateway.id} had not started are not run: "
            f"the workers left are already finishing"
        )
        dsession.triggershutdown()


def _has_collected(sched: Any, node: Any) -> bool:
    collections = getattr(sched, "node2collection", None)
    if collections is None:  # --dist loadscope / loadfile
        collections = getattr(sched, "registered_collections", {})
    return node in collections
