"""The ``compare``, ``flaky`` and ``history`` commands of ``pytest-datasetrun``.

:func:`register` adds them to the command line's subparsers; each handler takes the parsed
arguments and returns the exit code (``compare``: 1 when a scorer regressed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pytest_datasetrun.analysis.compare import compare_rows, parse_max_regression
from pytest_datasetrun.analysis.flaky import (
    FlakyItem,
    HistoryEntry,
    flaky_items,
    group_runs,
    item_history,
    step_items,
)
from pytest_datasetrun.analysis.pairing import stored_rows
from pytest_datasetrun.cli.common import EXIT_OK, EXIT_REGRESSION, store_from_args
from pytest_datasetrun.errors import ConfigError, StoreError
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.report.comparison import render_comparison
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.table import render_table

if TYPE_CHECKING:
    from pytest_datasetrun.store.runstore import RunStore

__all__ = ("register", "run_compare", "run_flaky", "run_history")

_REF_HELP = "run id, id prefix, name, latest, latest~N, or an exported run file"
_VERDICT_MARKS = {"passed": "P", "failed": "F", "errored": "E"}
_SHOWN_VERDICTS = 30
_SHOWN_STEPS = 10


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compare``, ``flaky`` and ``history`` commands.

    :param subparsers: the command line's subparsers action.
    """
    cmd = subparsers.add_parser(
        "compare",
        help="compare a candidate run with a baseline; exit status 1 on a regression",
        description="Pair the items of two runs by id and test every scorer's change "
        "(exact McNemar for 0/1 scores, else sign-flip permutation; Holm-corrected across "
        "scorers). Exit status 1 when a scorer's mean "
        "drops significantly by more than its --max-regression.",
    )
    cmd.add_argument("base", metavar="BASE", help=f"the baseline run: {_REF_HELP}")
    cmd.add_argument("candidate", metavar="CANDIDATE", help=f"the candidate run: {_REF_HELP}")
    cmd.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cmd.add_argument(
        "--max-regression",
        action="append",
        default=[],
        metavar="[SCORER=]DELTA",
        help="tolerated drop in mean score, for one scorer or (bare DELTA) all; repeatable",
    )
    cmd.add_argument("--significance", type=float, default=0.05, metavar="A", help="default 0.05")
    cmd.add_argument("--confidence", type=float, default=0.95, metavar="C", help="default 0.95")
    cmd.add_argument("--seed", type=int, default=0, metavar="N", help="resampling seed (0)")
    cmd.add_argument(
        "--target-errors",
        choices=("zero", "exclude"),
        default="zero",
        help="a row whose target failed counts as 0 for every scorer (zero, the default) or is "
        "left out (exclude)",
    )
    cmd.add_argument(
        "--regression-correction",
        choices=("holm", "none"),
        default="holm",
        help="Holm-Bonferroni across the scorers (holm, the default) or none",
    )
    cmd.set_defaults(func=run_compare)

    cmd = subparsers.add_parser("flaky", help="items whose verdict changes between runs")
    cmd.add_argument("--dataset", metavar="NAME", help="only runs on this dataset (name or path)")
    cmd.add_argument("--limit", type=int, default=20, metavar="N", help="at most N items (0: all)")
    cmd.add_argument("--json", action="store_true", help="print the flaky items as JSON")
    cmd.set_defaults(func=run_flaky)

    cmd = subparsers.add_parser("history", help="one item's results across runs")
    cmd.add_argument("item", metavar="ITEM", help="the item id")
    cmd.add_argument("--dataset", metavar="NAME", help="only runs on this dataset (name or path)")
    cmd.add_argument("--json", action="store_true", help="print the history as JSON")
    cmd.set_defaults(func=run_history)


def run_compare(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``compare BASE CANDIDATE``: print the comparison; 1 when a scorer regressed, else 0.

    :param args: the parsed arguments.
    :param out: where to print (default: stdout).
    :returns: the exit code.
    """
    out = out or sys.stdout
    max_regression = parse_max_regression(args.max_regression)
    store = _store(args)
    (base, base_rows), (cand, cand_rows) = (
        stored_rows(store, args.base),
        stored_rows(store, args.candidate),
    )
    comparison = compare_rows(
        base,
        base_rows,
        cand,
        cand_rows,
        max_regression=max_regression,
        significance=args.significance,
        confidence=args.confidence,
        seed=args.seed,
        target_errors=args.target_errors,
        correction=args.regression_correction,
    )
    if args.json:
        _dump_json(comparison.model_dump(mode="json"), out)
    else:
        out.write(safe_text(render_comparison(comparison), multiline=True))
    return EXIT_REGRESSION if comparison.regressed else EXIT_OK


def run_flaky(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``flaky``: the items whose verdict changed, per dataset, most flaky first.

    :param args: the parsed arguments.
    :param out: where to print (default: stdout).
    :returns: the exit code (0).
    """
    out = out or sys.stdout
    if args.limit < 0:
        raise ConfigError(f"flaky --limit: {args.limit} is negative; use 0 for all items")
    found: list[tuple[str, FlakyItem]] = []
    steps: list[tuple[str, FlakyItem]] = []
    groups = group_runs(_runs_with_items(args))  # same dataset content, target, scorers (#10)
    for group, records in groups.items():
        found.extend((group, item) for item in flaky_items(records))
        steps.extend((group, item) for item in step_items(records))
    shown = found[: args.limit] if args.limit else found
    if args.json:
        _dump_json([{"dataset": d, **i.model_dump(mode="json")} for d, i in shown + steps], out)
        return 0
    runs = sum(len(records) for records in groups.values())
    out.write(
        _render_flaky(shown, several=len(groups) > 1)
        if found
        else f"no flaky items in {runs} runs\n"
    )
    if len(shown) < len(found):
        out.write(f"({len(shown)} of {len(found)} flaky items shown; --limit 0 shows all)\n")
    if steps:
        out.write(_render_steps(steps, several=len(groups) > 1))
    return 0


def run_history(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``history ITEM``: one item's verdict, scores and error in every run that has it.

    :param args: the parsed arguments.
    :param out: where to print (default: stdout).
    :returns: the exit code (0).
    :raises StoreError: no run has the item.
    """
    out = out or sys.stdout
    records = _runs_with_items(args)
    history = item_history(records, args.item)
    if not history:
        raise StoreError(f"item '{args.item}' is in none of the {len(records)} runs searched")
    if args.json:
        _dump_json([entry.model_dump(mode="json") for entry in history], out)
    else:
        out.write(_render_history(history))
    return 0


# -- loading ------------------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> RunStore:
    return store_from_args(args)


def _runs_with_items(args: argparse.Namespace) -> list[RunRecord]:
    store = _store(args)
    records = []
    for run in store.runs():
        if args.dataset is None or _on_dataset(run, args.dataset):
            try:
                run.items = store.items(run.run_id)
            except StoreError as exc:  # one damaged run should not hide the history
                print(safe_text(f"warning: skipped: {exc}"), file=sys.stderr)
                continue
            records.append(run)
    return records


def _on_dataset(run: RunRecord, dataset: str) -> bool:
    return any(dataset in (d.name, d.path, Path(d.path).name) for d in run.datasets)


# -- rendering ----------------------------------------------------------------------------------


def _render_flaky(found: list[tuple[str, FlakyItem]], *, several: bool) -> str:
    headers = ["item", *(["dataset"] if several else []), "runs", "flips", "flip rate",
               "repeats differ", "verdicts (oldest first)"]  # fmt: skip
    rows = [
        [item.item_id, *([dataset] if several else []), str(item.runs), str(item.flips),
         f"{item.flip_rate:.2f}", str(len(item.repeat_flaky_runs)), _marks(item.verdicts)]
        for dataset, item in found
    ]  # fmt: skip
    legend = "verdicts: P passed, F failed, E errored\n"
    return render_table(headers, rows) + legend


def _render_steps(steps: list[tuple[str, FlakyItem]], *, several: bool) -> str:
    shown = [
        f"{item.item_id}{f' ({group})' if several else ''} {_marks(item.verdicts[:1])}->"
        f"{_marks([item.last_verdict or ''])} in {item.changed_in}"
        for group, item in steps[:_SHOWN_STEPS]
    ]
    more = f" (+{len(steps) - _SHOWN_STEPS} more)" if len(steps) > _SHOWN_STEPS else ""
    return f"changed once and stayed, not flaky ({len(steps)}): {', '.join(shown)}{more}\n"


def _render_history(history: list[HistoryEntry]) -> str:
    scorers = list(dict.fromkeys(sid for entry in history for sid in entry.scores))
    commits = any(e.git_commit for e in history)
    repeats = any(e.repeats for e in history)
    headers = ["run", "name", "when", *(["commit"] if commits else []), "verdict", *scorers,
               *(["repeats"] if repeats else []), "error"]  # fmt: skip
    rows = [
        [e.run_id, e.name, f"{e.started_at:%Y-%m-%d %H:%M}",
         *([(e.git_commit or "")[:10]] if commits else []), e.verdict or e.status,
         *(_score(e.scores, sid) for sid in scorers),
         *([f"{e.repeats_passed}/{e.repeats} passed" if e.repeats else ""] if repeats else []),
         f"{e.error_type}: {e.error}" if e.error_type and e.error else e.error or ""]
        for e in history
    ]  # fmt: skip
    return render_table(headers, rows, flexible=(1, len(headers) - 1))  # name, error


def _score(scores: dict[str, float | None], sid: str) -> str:
    if sid not in scores:
        return "-"
    value = scores[sid]
    return "E" if value is None else f"{value:.2f}"


def _marks(verdicts: list[str]) -> str:
    marks = "".join(_VERDICT_MARKS.get(v, "?") for v in verdicts)
    return marks if len(marks) <= _SHOWN_VERDICTS else "~" + marks[-_SHOWN_VERDICTS:]


def _dump_json(data: object, out: TextIO) -> None:
    out.write(safe_text(json.dumps(data, indent=2, ensure_ascii=False), multiline=True) + "\n")
