"""The ``pytest-datasetrun`` command: list, show and export the runs in a run store.

Subcommands are plugged in through :data:`COMMANDS`: each entry is a
``register(subparsers) -> None`` that adds one or more subparsers whose ``func`` default is
``(args) -> int``. Exit codes: 0 ok, 1 a comparison found a regression, 2 usage error or a run
or store that cannot be found or read.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from .errors import DatasetrunError
from .record import RunRecord
from .results import ItemResult, ScorerResult
from .store import DEFAULT_STORE, RunStore, open_store

__all__ = (
    "COMMANDS",
    "EXIT_OK",
    "EXIT_REGRESSION",
    "EXIT_USAGE",
    "EXPORT_FIELDS",
    "build_parser",
    "export_rows",
    "main",
    "render_table",
    "store_from_args",
)

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
STORE_ENV = "DATASETRUN_STORE"
EXPORT_FIELDS = (
    "run_id", "item_id", "status", "input", "expected", "output",
    "scorer_id", "value", "passed", "threshold", "reason", "error",
)  # fmt: skip
_STORE_HELP = f"run store path (default: ${STORE_ENV} or {DEFAULT_STORE})"

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: the arguments without the program name (default: ``sys.argv[1:]``).
    :returns: the exit code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not hasattr(args, "func"):
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: a command is required", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except DatasetrunError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command of :data:`COMMANDS` registered.

    :returns: the parser; ``--store`` is accepted before or after the command name.
    """
    parser = argparse.ArgumentParser(
        prog="pytest-datasetrun",
        description="Inspect the dataset runs recorded by pytest-datasetrun.",
        epilog="exit codes: 0 ok, 1 regression found (compare), 2 usage error or run not found",
    )
    parser.add_argument("--store", metavar="PATH", help=_STORE_HELP)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    for sub in subparsers.choices.values():
        try:  # SUPPRESS: an absent subcommand --store keeps the global one
            sub.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help=_STORE_HELP)
        except argparse.ArgumentError:
            pass  # the command defines its own --store
    return parser


def store_from_args(args: argparse.Namespace) -> RunStore:
    """The store named by ``--store``, else ``$DATASETRUN_STORE``, else the default.

    :param args: the parsed arguments.
    :returns: the store, relative paths resolved against the current directory.
    """
    path = getattr(args, "store", None) or os.environ.get(STORE_ENV) or DEFAULT_STORE
    return open_store(Path(path))


# -- runs ---------------------------------------------------------------------------------------


def _register_runs(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("runs", help="list recorded runs, newest first")
    cmd.add_argument("--json", action="store_true", help="print the run summaries as JSON")
    cmd.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (0: all)")
    cmd.add_argument("--dataset", metavar="NAME", help="only runs on this dataset (name or path)")
    cmd.add_argument("--name", metavar="NAME", help="only runs with this run name")
    cmd.set_defaults(func=_cmd_runs)


def _cmd_runs(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    runs = [run for run in reversed(store.runs()) if _keep(run, args)]
    shown = runs[: args.limit] if args.limit > 0 else runs
    if args.json:
        sys.stdout.write(json.dumps([run.summary() for run in shown], indent=2) + "\n")
    elif not shown:
        sys.stdout.write(f"no runs in store {store.path}\n")
    else:
        sys.stdout.write(render_table(*_runs_table(shown), flexible=(1, 4, 5)))
        if len(shown) < len(runs):
            sys.stdout.write(f"({len(shown)} of {len(runs)} runs shown; --limit 0 shows all)\n")
    return EXIT_OK


def _keep(run: RunRecord, args: argparse.Namespace) -> bool:
    if args.name is not None and run.name != args.name:
        return False
    if args.dataset is None:
        return True
    return any(
        args.dataset in (info.name, info.path, Path(info.path).name) for info in run.datasets
    )


def _runs_table(runs: list[RunRecord]) -> tuple[list[str], list[list[str]]]:
    """One row per run; the mean of each scorer gets its own column."""
    scorers = list(dict.fromkeys(agg.name for run in runs for agg in run.aggregates.values()))
    headers = ["id", "name", "status", "when", "dataset", "target", "p/f/e/s/nr", *scorers]
    now = datetime.now(timezone.utc)
    rows = []
    for run in runs:
        c, means = run.counts, {agg.name: agg.mean for agg in run.aggregates.values()}
        rows.append([
            run.run_id, run.name, run.status, _age(now - run.started_at),
            ",".join(info.name for info in run.datasets), run.target.name if run.target else "",
            f"{c.passed}/{c.failed}/{c.errored}/{c.skipped}/{c.not_run}",
            *(_num(means.get(name)) for name in scorers),
        ])  # fmt: skip
    return headers, rows


def _age(age: timedelta) -> str:
    """A short relative time: ``now``, ``5m ago``, ``3h ago``, ``12d ago``."""
    seconds = age.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "now"


# -- show ---------------------------------------------------------------------------------------


def _register_show(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("show", help="show one run: summary, scorer statistics, items")
    cmd.add_argument("run", metavar="RUN", help="run id, id prefix, name, latest, latest~N or file")
    cmd.add_argument("--json", action="store_true", help="print the whole record with items")
    cmd.add_argument("--failed", action="store_true", help="list only failed and errored items")
    cmd.set_defaults(func=_cmd_show)


def _cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    record = store_from_args(args).get(args.run)
    if args.json:
        out.write(record.model_dump_json(indent=2) + "\n")
        return EXIT_OK
    out.write(_header(record) + "\n")
    out.write(render_table(*_aggregate_table(record)) + "\n")
    if record.gates:
        yes, no, _ = _marks()
        gates = [
            f"  {yes if g.passed else no} {g.gate} {g.limit}: {_num(g.value)}" for g in record.gates
        ]
        out.write("gates\n" + "\n".join(gates) + "\n\n")
    items = (
        [i for i in record.items if i.status in ("failed", "errored")]
        if args.failed
        else record.items
    )
    which = "failed and errored items" if args.failed else "items"
    out.write(f"{which}: {len(items)} of {len(record.items)}\n")
    out.write(render_table(*_item_table(record, items)))
    return EXIT_OK


def _header(record: RunRecord) -> str:
    env, c = record.environment, record.counts
    lines = [
        f"run      {record.run_id}  {record.name}",
        f"status   {record.status}, exit status {record.exit_status}, {record.duration_s:.1f} s, "
        f"started {record.started_at:%Y-%m-%d %H:%M:%S %Z}",
    ]
    for info in record.datasets:
        lines.append(
            f"dataset  {info.name} ({info.path}, {info.selected} of {info.total} rows, "
            f"sha256 {info.sha256[:12]})"
        )
    if record.target:
        lines.append(f"target   {record.target.name} ({record.target.kind}: {record.target.id})")
    if env.git_commit:
        dirty = " (dirty)" if env.git_dirty else ""
        lines.append(f"git      {env.git_commit[:12]} on {env.git_branch or '?'}{dirty}")
    lines.append(
        f"counts   {c.selected} selected: {c.passed} passed, {c.failed} failed, "
        f"{c.errored} errored, {c.skipped} skipped, {c.not_run} not run"
    )
    return "\n".join(lines) + "\n"


def _aggregate_table(record: RunRecord) -> tuple[list[str], list[list[str]]]:
    headers = ["scorer", "n", "mean", "min", "max", "stdev", "threshold", "pass rate", "errors"]
    rows = [
        [a.name, str(a.n), _num(a.mean), _num(a.min), _num(a.max), _num(a.stdev),
         _num(a.threshold), _num(a.pass_rate), str(a.errors)]
        for a in record.aggregates.values()
    ]  # fmt: skip
    return headers, rows


def _item_table(record: RunRecord, items: list[ItemResult]) -> tuple[list[str], list[list[str]]]:
    scorers = _scorer_columns(record)
    headers = ["id", "status", *scorers.values(), "error"]
    rows = [
        [item.item_id, item.status, *(_score_cell(item, sid) for sid in scorers), _error_text(item)]
        for item in items
    ]
    return headers, rows


def _scorer_columns(record: RunRecord) -> dict[str, str]:
    """Scorer id -> column title, in declaration order, then any scorer seen only on items."""
    columns = {info.id: info.name for info in record.scorers}
    for agg in record.aggregates.values():
        columns.setdefault(agg.id, agg.name)
    for item in record.items:
        for score in item.scores:
            columns.setdefault(score.id, score.name)
    if len(set(columns.values())) < len(columns):  # duplicate names: titles must differ
        return {sid: sid for sid in columns}
    return columns


def _score_cell(item: ItemResult, scorer_id: str) -> str:
    score = next((s for s in item.scores if s.id == scorer_id), None)
    yes, no, err = _marks()
    if score is None:
        return "-"
    if score.error is not None:
        return err
    mark = {True: f" {yes}", False: f" {no}", None: ""}[score.passed]
    return f"{_num(score.value)}{mark}"


def _error_text(item: ItemResult) -> str:
    if item.error:
        return f"{item.error_type}: {item.error}" if item.error_type else item.error
    failed = [s for s in item.scores if s.error is not None]
    return "; ".join(f"{s.name}: {s.error}" for s in failed)


# -- export -------------------------------------------------------------------------------------


def _register_export(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("export", help="export one run as jsonl, csv or json")
    cmd.add_argument("run", metavar="RUN", help="run id, id prefix, name, latest, latest~N or file")
    cmd.add_argument("--format", choices=("jsonl", "csv", "json"), default="jsonl")
    cmd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    cmd.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    record = store_from_args(args).get(args.run)
    if args.output is None:
        _write_export(record, args.format, sys.stdout)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            _write_export(record, args.format, out)
    except OSError as exc:
        raise DatasetrunError(f"cannot write export file {args.output}: {exc}") from None
    return EXIT_OK


def _write_export(record: RunRecord, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(record.model_dump_json(indent=2) + "\n")
    elif fmt == "jsonl":
        for row in export_rows(record):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_csv_cells(row) for row in export_rows(record))


def export_rows(record: RunRecord) -> Iterator[dict[str, Any]]:
    """One flat row per (item, scorer); an item without scores still gets one row.

    :param record: a run with its items.
    :returns: rows with the keys of :data:`EXPORT_FIELDS`; ``error`` is the scorer's error,
        else the item's (target) error.
    """
    for item in record.items:
        base = {
            "run_id": record.run_id, "item_id": item.item_id, "status": item.status,
            "input": item.input, "expected": item.expected, "output": item.output,
        }  # fmt: skip
        scores: list[ScorerResult | None] = list(item.scores) or [None]
        for score in scores:
            yield base | _score_fields(score) | {"error": (score and score.error) or item.error}


def _score_fields(score: ScorerResult | None) -> dict[str, Any]:
    if score is None:
        return dict.fromkeys(("scorer_id", "value", "passed", "threshold", "reason"))
    return {
        "scorer_id": score.id, "value": score.value, "passed": score.passed,
        "threshold": score.threshold, "reason": score.reason,
    }  # fmt: skip


def _csv_cells(row: dict[str, Any]) -> dict[str, Any]:
    cells = dict(row)
    for key in ("input", "expected", "output"):
        cells[key] = json.dumps(row[key], ensure_ascii=False)
    if row["passed"] is not None:
        cells["passed"] = "true" if row["passed"] else "false"
    return cells


# -- plain text tables --------------------------------------------------------------------------


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
    flexible: Sequence[int] | None = None,
) -> str:
    """An aligned plain-text table that fits in ``width`` columns where it can.

    :param headers: the column titles.
    :param rows: the cells, as strings.
    :param width: the line width (default: the terminal's, 100 when not a terminal).
    :param flexible: the columns that may be truncated to fit (default: all but the first).
    :returns: the table, one line per row plus the header, ending with a newline.
    """
    width = width or shutil.get_terminal_size((100, 24)).columns
    flexible = range(1, len(headers)) if flexible is None else flexible
    cells = [[_one_line(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        widest = max(flexible, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= max(8, len(headers[widest])):
            break
        widths[widest] -= 1
    lines = [
        (" " * gap).join(_fit(cell, widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text.ljust(width)
    ellipsis = "…" if _marks()[0] == "✓" else "~"
    return text[: width - 1] + ellipsis


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _marks() -> tuple[str, str, str]:
    """Pass/fail/error marks; ASCII when stdout cannot encode check marks."""
    try:
        "✓✗…".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "x", "E"
    return "✓", "✗", "E"


def _register_compare(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from . import cli_compare

    cli_compare.register(subparsers)


COMMANDS: list[Register] = [_register_runs, _register_show, _register_export, _register_compare]
