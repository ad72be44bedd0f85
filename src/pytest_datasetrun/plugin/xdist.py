"""``--dist load`` that keeps every worker fed deeply enough to prefetch ``--max-concurrency`` rows.

xdist's own load scheduler stops sending to a worker that holds two pending tests once a test
takes 0.1 s or more, which every LLM call does; a worker then sees at most two rows ahead and
``--max-concurrency`` collapses to about 2 per worker. This subclass keeps ``depth`` rows
pending on each worker; everything else is xdist's.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScheduling

__all__ = ("PrefetchLoadScheduling",)


class PrefetchLoadScheduling(LoadScheduling):
    def __init__(self, config: Any, log: Any = None, *, depth: int) -> None:
        super().__init__(config, log)
        self.depth = depth

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down:
            return
        held = len(self.node2pending[node])
        if self.pending and held < self.depth:
            self._send_tests(node, min(self.depth - held, len(self.pending)))
            return
        # The "long-running tests" heuristic is what starves prefetching: ignore durations.
        super().check_schedule(node, duration=0)
