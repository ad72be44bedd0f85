"""The ``runs`` and ``show`` commands: list the stored runs, show one."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO, cast

from pytest_datasetrun.cli.common import EXIT_OK, store_from_args
from pytest_datasetrun.cli.items import ItemSource, SafeWriter, run_with_items, write_record_json
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.gates import gate_value
from pytest_datasetrun.report.table import (
    fit_widths,
    marks,
    num,
    one_line,
    render_line,
    render_table,
)

__all__ = ("register_runs", "register_show")


def register_runs(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        sys.stdout.write(safe_text(f"no runs in store {store.path}") + "\n")
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
            *(num(means.get(name)) for name in scorers),
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


def register_show(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("show", help="show one run: summary, scorer statistics, items")
    cmd.add_argument("run", metavar="RUN", help="run id, id prefix, name, latest, latest~N or file")
    cmd.add_argument("--json", action="store_true", help="print the whole record with items")
    cmd.add_argument("--failed", action="store_true", help="list only failed and errored items")
    cmd.set_defaults(func=_cmd_show)


def _cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    record, items = run_with_items(store_from_args(args), args.run)
    if args.json:
        write_record_json(record, items, cast(TextIO, SafeWriter(out)))
        return EXIT_OK
    out.write(safe_text(_header(record), multiline=True) + "\n")
    out.write(render_table(*_aggregate_table(record)) + "\n")
    if record.gates:
        yes, no, _ = marks()
        gates = [
            f"  {yes if g.passed else no} {g.gate} {g.limit}: {gate_value(g)}" for g in record.gates
        ]
        out.write(safe_text("gates\n" + "\n".join(gates) + "\n\n", multiline=True))
    _write_items(record, items, out, failed_only=args.failed)
    return EXIT_OK


def _write_items(record: RunRecord, items: ItemSource, out: TextIO, *, failed_only: bool) -> None:
    """The item table, in two passes: cells spooled to a temporary file, then aligned."""
    columns = _scorer_columns(record)
    widths: dict[str, int] = {}
    shown = total = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for item in items():
            total += 1
            if failed_only and item.get("status") not in ("failed", "errored"):
                continue
            shown += 1
            cells = _item_cells(item, columns)
            for key, cell in cells.items():
                widths[key] = max(widths.get(key, 0), len(cell))
            spool.write(json.dumps(cells, ensure_ascii=False) + "\n")
        which = "failed and errored items" if failed_only else "items"
        out.write(f"{which}: {shown} of {total}\n")
        titles = _titles(columns)
        keys = ["\x00id", "\x00status", *columns, "\x00error"]
        headers = [one_line(h) for h in ("id", "status", *titles.values(), "error")]
        natural = [max(len(h), widths.get(k, 0)) for k, h in zip(keys, headers, strict=True)]
        fitted = fit_widths(headers, natural)
        out.write(render_line(headers, fitted) + "\n")
        spool.seek(0)
        for line in spool:
            cells = json.loads(line)
            out.write(render_line([cells.get(k, "-") for k in keys], fitted) + "\n")


def _item_cells(item: dict[str, Any], columns: dict[str, str]) -> dict[str, str]:
    """One item's cells by column key (new scorers seen on the item join ``columns``)."""
    scores = {}
    for score in item.get("scores") or ():
        columns.setdefault(score["id"], score.get("name") or score["id"])
        scores[score["id"]] = score
    cells = {
        "\x00id": one_line(item.get("item_id", "")),
        "\x00status": one_line(item.get("status", "")),
        "\x00error": one_line(_error_text(item)),
    }
    for sid in columns:
        cells[sid] = _score_cell(scores.get(sid))
    return cells


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
        [a.name, str(a.n), num(a.mean), num(a.min), num(a.max), num(a.stdev),
         num(a.threshold), num(a.pass_rate), str(a.errors)]
        for a in record.aggregates.values()
    ]  # fmt: skip
    return headers, rows


def _scorer_columns(record: RunRecord) -> dict[str, str]:
    """Scorer id -> name, in declaration order (scorers seen only on items are added later)."""
    columns = {info.id: info.name for info in record.scorers}
    for agg in record.aggregates.values():
        columns.setdefault(agg.id, agg.name)
    return columns


def _titles(columns: dict[str, str]) -> dict[str, str]:
    """Column titles: the scorer names, or the ids when two names are the same."""
    if len(set(columns.values())) < len(columns):
        return {sid: sid for sid in columns}
    return columns


def _score_cell(score: dict[str, Any] | None) -> str:
    yes, no, err = marks()
    if score is None:
        return "-"
    if score.get("error") is not None:
        return err
    mark = {True: f" {yes}", False: f" {no}", None: ""}[score.get("passed")]
    return f"{num(score.get('value'))}{mark}"


def _error_text(item: dict[str, Any]) -> str:
    error, error_type = item.get("error"), item.get("error_type")
    if error:
        return f"{error_type}: {error}" if error_type else str(error)
    failed = [s for s in item.get("scores") or () if s.get("error") is not None]
    return "; ".join(f"{s.get('name') or s['id']}: {s['error']}" for s in failed)
