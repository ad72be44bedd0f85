"""The hooks every process that collects and runs rows has: collection, reports, row payloads."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.plugin.keys import emitting_key, outcome_key
from pytest_datasetrun.plugin.nodes import DatasetCase, DatasetFile
from pytest_datasetrun.plugin.reporting import annotate_row, tag_scorer_report

__all__ = ("ItemHooks",)

_FREEZE_EVERY = 1000


class ItemHooks:
    """Collection and reporting hooks active in every process of a dataset run."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.paths = set(ctx.options.datasets)
        self.names = {path.name for path in self.paths}
        self.meta_sent: set[str] = set()
        self.reported = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # The collected tree, and the results as they accumulate, live for the whole session:
        # moving them out of the garbage collector's generations stops every full collection
        # from rescanning them (see benchmarks/RESULTS.md).
        gc.freeze()
        if not _process_ends_with_session(self.ctx.config):
            self.ctx.config.add_cleanup(gc.unfreeze)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> DatasetFile | None:
        # Called for every file pytest visits: resolve (a syscall) only a file with a dataset's name.
        if file_path.name in self.names and (
            file_path in self.paths or file_path.resolve() in self.paths
        ):
            return DatasetFile.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        # A Hugging Face save_to_disk folder given as a dataset is one dataset, not a directory.
        if path.name in self.names and path in self.paths:
            return DatasetFile.from_parent(parent, path=path)
        return None

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.ctx.scheduler.release(nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.when == "call" and isinstance(item, DatasetCase):
            if item.stash.get(emitting_key, False):
                tag_scorer_report(report)
                return report
            outcome = item.stash.get(outcome_key, None)
            if outcome is not None:
                annotate_row(item, report, outcome.result)
                report.datasetrun = outcome.result.payload()
                del item.stash[outcome_key]  # the payload is all that is kept
                self.reported += 1
                if self.reported % _FREEZE_EVERY == 0:
                    gc.freeze()
                key = str(item.path)
                if key not in self.meta_sent:
                    self.meta_sent.add(key)
                    report.datasetrun_meta = self._meta(item)
        return report

    def _meta(self, item: DatasetCase) -> dict[str, Any]:
        from pytest_datasetrun.plugin.partials import scorer_entries

        target = self.ctx.target
        engine = self.ctx.engine(Path(item.path))
        return {
            "dataset": str(item.path),
            "target": {
                "id": target.id,
                "name": target.name,
                "kind": target.kind,
                "version": target.version,
            },
            "scorers": scorer_entries(engine),
        }


def _process_ends_with_session(config: pytest.Config) -> bool:
    """True for an xdist worker or the ``pytest`` command itself, whose process exits next.

    Unfreezing there would only make the interpreter's final collection rescan every object
    (a second per 10,000 rows); a pytest run inside another program (pytester, a notebook)
    unfreezes, so that its objects can be collected afterwards.
    """
    return hasattr(config, "workerinput") or tuple(config.invocation_params.args) == tuple(
        sys.argv[1:]
    )
