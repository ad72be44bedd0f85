"""The ``export`` command: one row per (item, scorer) as CSV, JSON lines or JSON."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, cast

from pytest_datasetrun.cli.common import EXIT_OK, store_from_args
from pytest_datasetrun.cli.items import ItemSource, SafeWriter, run_with_items, write_record_json
from pytest_datasetrun.errors import DatasetrunError
from pytest_datasetrun.record.run import RunRecord

__all__ = ("EXPORT_FIELDS", "export_rows", "register_export")

EXPORT_FIELDS = (
    "run_id", "item_id", "status", "input", "expected", "output",
    "scorer_id", "value", "passed", "threshold", "reason", "error",
)  # fmt: skip


def register_export(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("export", help="export one run as jsonl, csv or json")
    cmd.add_argument("run", metavar="RUN", help="run id, id prefix, name, latest, latest~N or file")
    cmd.add_argument("--format", choices=("jsonl", "csv", "json"), default="jsonl")
    cmd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    cmd.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    record, items = run_with_items(store_from_args(args), args.run)
    if args.output is None:
        # JSON escapes decode to the same text; CSV is escaped only when a terminal shows it.
        escape = args.format != "csv" or sys.stdout.isatty()
        _write_export(
            record,
            items,
            args.format,
            cast(TextIO, SafeWriter(sys.stdout)) if escape else sys.stdout,
        )
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            _write_export(record, items, args.format, out)
    except OSError as exc:
        raise DatasetrunError(f"cannot write export file {args.output}: {exc}") from None
    return EXIT_OK


def _write_export(record: RunRecord, items: ItemSource, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        write_record_json(record, items, out)
    elif fmt == "jsonl":
        for row in export_rows(record, items()):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_csv_cells(row) for row in export_rows(record, items()))


def export_rows(
    record: RunRecord, items: Iterable[dict[str, Any]] | None = None
) -> Iterator[dict[str, Any]]:
    """One flat row per (item, scorer); an item without scores still gets one row.

    :param record: a run (with its items, unless ``items`` is given).
    :param items: the run's items as JSON objects (as the store streams them), instead.
    :returns: rows with the keys of :data:`EXPORT_FIELDS`; ``error`` is the scorer's error,
        else the item's (target) error.
    """
    if items is None:
        items = (item.model_dump(mode="json", fallback=repr) for item in record.items)
    for item in items:
        base = {
            "run_id": record.run_id, "item_id": item.get("item_id"), "status": item.get("status"),
            "input": item.get("input"), "expected": item.get("expected"),
            "output": item.get("output"),
        }  # fmt: skip
        error = item.get("error")
        scores: list[dict[str, Any] | None] = list(item.get("scores") or ()) or [None]
        for score in scores:
            yield base | _score_fields(score) | {"error": (score and score.get("error")) or error}


def _score_fields(score: dict[str, Any] | None) -> dict[str, Any]:
    if score is None:
        return dict.fromkeys(("scorer_id", "value", "passed", "threshold", "reason"))
    return {
        "scorer_id": score.get("id"), "value": score.get("value"), "passed": score.get("passed"),
        "threshold": score.get("threshold"), "reason": score.get("reason"),
    }  # fmt: skip


def _csv_cells(row: dict[str, Any]) -> dict[str, Any]:
    cells = dict(row)
    for key in ("input", "expected", "output"):
        cells[key] = json.dumps(row[key], ensure_ascii=False)
    if row["passed"] is not None:
        cells["passed"] = "true" if row["passed"] else "false"
    return cells
