"""The ``show`` command: one run's summary, scorer statistics, usage, gates and items."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO, cast

from pytest_datasetrun.cli.common import EXIT_OK, store_from_args
from pytest_datasetrun.cli.items import ItemSource, SafeWriter
from pytest_datasetrun.cli.summary import plain, started_at
from pytest_datasetrun.errors import StoreError
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.table import (
    fit_widths,
    marks,
    num,
    one_line,
    render_line,
    render_table,
)
from pytest_datasetrun.store.runref import file_ref

if TYPE_CHECKING:
    from pytest_datasetrun.store.runstore import RunStore

__all__ = ("register_show",)


def register_show(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("show", help="show one run: summary, scorer statistics, items")
    cmd.add_argument("run", metavar="RUN", help="run id, id prefix, name, latest, latest~N or file")
    cmd.add_argument("--json", action="store_true", help="print the whole record with items")
    cmd.add_argument("--failed", action="store_true", help="list only failed and errored items")
    cmd.set_defaults(func=_cmd_show)


def _cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    store = store_from_args(args)
    if args.json:
        from pytest_datasetrun.cli.items import run_with_items, write_record_json

        full, source = run_with_items(store, args.run)
        write_record_json(full, source, cast(TextIO, SafeWriter(out)))
        return EXIT_OK
    record, items = _summary_with_items(store, args.run)
    out.write(safe_text(_header(record), multiline=True) + "\n")
    out.write(render_table(*_aggregate_table(record)) + "\n")
    usage = _usage_lines(record)
    if usage:
        out.write(safe_text("\n".join(usage) + "\n\n", multiline=True))
    if record["gates"]:
        out.write(safe_text(_gates(record["gates"]), multiline=True))
    _write_items(record, items, out, failed_only=args.failed)
    return EXIT_OK


def _summary_with_items(store: RunStore, ref: str) -> tuple[dict[str, Any], ItemSource]:
    """The run's stored summary, defaults filled in, and a way to stream its items."""
    if file_ref(ref) is not None:
        from pytest_datasetrun.cli.items import run_with_items

        full, source = run_with_items(store, ref)
        return cast(dict[str, Any], plain(full.summary())), source
    record = plain(store.document(ref))
    if record is None:
        raise StoreError(f"run {ref} in store {store.path} is not a run summary")
    run_id = record["run_id"]
    return record, lambda: store.iter_raw_items(run_id)


class _Sources(NamedTuple):
    """What :func:`~pytest_datasetrun.report.usage.usage_lines` reads of a run."""

    replay: dict[str, Any] | None
    replayed_from: str | None
    cache: dict[str, Any] | None
    usage: dict[str, Any] | None


def _usage_lines(record: dict[str, Any]) -> list[str]:
    """Replay, cache and usage lines: tokens, latency p50/p95 and cost, when recorded."""
    from pytest_datasetrun.report.usage import usage_lines

    fields = (record[key] for key in _Sources._fields)
    return usage_lines(cast(Any, _Sources(*fields)))


def _gates(gates: list[dict[str, Any]]) -> str:
    from pytest_datasetrun.record.run import GateResult
    from pytest_datasetrun.report.gates import gate_value

    yes, no, _ = marks()
    lines = []
    for gate in map(GateResult.model_validate, gates):
        mark = yes if gate.passed else no
        lines.append(f"  {mark} {gate.gate} {gate.limit}: {gate_value(gate)}")
    return "gates\n" + "\n".join(lines) + "\n\n"


def _write_items(
    record: dict[str, Any], items: ItemSource, out: TextIO, *, failed_only: bool
) -> None:
    """The item table, in two passes: cells spooled to a temporary file, then aligned."""
    columns, symbols = _scorer_columns(record), marks()
    widths: dict[str, int] = {}
    shown = total = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for item in items():
            total += 1
            if failed_only and item.get("status") not in ("failed", "errored"):
                continue
            shown += 1
            cells = _item_cells(item, columns, symbols)
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


def _item_cells(
    item: dict[str, Any], columns: dict[str, str], symbols: tuple[str, str, str]
) -> dict[str, str]:
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
        cells[sid] = _score_cell(scores.get(sid), symbols)
    return cells


def _header(record: dict[str, Any]) -> str:
    env, c, target = record["environment"], record["counts"], record["target"]
    lines = [
        f"run      {record['run_id']}  {record['name']}",
        f"status   {record['status']}, exit status {record['exit_status']}, "
        f"{record['duration_s']:.1f} s, started {started_at(record):%Y-%m-%d %H:%M:%S %Z}",
    ]
    for info in record["datasets"]:
        lines.append(
            f"dataset  {info['name']} ({info['path']}, {info['selected']} of {info['total']} "
            f"rows, sha256 {info['sha256'][:12]})"
        )
    if target:
        lines.append(f"target   {target['name']} ({target['kind']}: {target['id']})")
    if env["git_commit"]:
        dirty = " (dirty)" if env["git_dirty"] else ""
        lines.append(f"git      {env['git_commit'][:12]} on {env['git_branch'] or '?'}{dirty}")
    lines.append(
        f"counts   {c['selected']} selected: {c['passed']} passed, {c['failed']} failed, "
        f"{c['errored']} errored, {c['skipped']} skipped, {c['not_run']} not run"
    )
    return "\n".join(lines) + "\n"


def _aggregate_table(record: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = ["scorer", "n", "mean", "min", "max", "stdev", "threshold", "pass rate", "errors"]
    rows = [
        [a["name"], str(a["n"]), num(a["mean"]), num(a["min"]), num(a["max"]), num(a["stdev"]),
         num(a["threshold"]), num(a["pass_rate"]), str(a["errors"])]
        for a in record["aggregates"].values()
    ]  # fmt: skip
    return headers, rows


def _scorer_columns(record: dict[str, Any]) -> dict[str, str]:
    """Scorer id -> name, in declaration order (scorers seen only on items are added later)."""
    columns = {info["id"]: info["name"] for info in record["scorers"]}
    for agg in record["aggregates"].values():
        columns.setdefault(agg["id"], agg["name"])
    return columns


def _titles(columns: dict[str, str]) -> dict[str, str]:
    """Column titles: the scorer names, or the ids when two names are the same."""
    if len(set(columns.values())) < len(columns):
        return {sid: sid for sid in columns}
    return columns


def _score_cell(score: dict[str, Any] | None, symbols: tuple[str, str, str]) -> str:
    yes, no, err = symbols
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
