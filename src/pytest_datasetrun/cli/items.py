"""A run and its items for the commands that print them: items stream from the store, one at a time.

A 100k-item run is never held in memory: ``show`` and ``export`` read the items file once per
pass, as parsed JSON objects, and write as they go.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.store.itemsfile import dumps
from pytest_datasetrun.store.runref import file_ref

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord
    from pytest_datasetrun.store.runstore import RunStore

__all__ = ("ItemSource", "SafeWriter", "run_with_items", "write_record_json")

#: Called once per pass over the items: yields each item as its JSON object, in dataset order.
ItemSource = Callable[[], Iterator[dict[str, Any]]]


def run_with_items(store: RunStore, ref: str) -> tuple[RunRecord, ItemSource]:
    """The run ``ref`` names (its summary) and a way to stream its items.

    A run file is read whole (it holds its items); a stored run's items are read lazily.
    """
    if file_ref(ref) is not None:
        record = store.get(ref)
        items = record.items
        record.items = []

        def from_file() -> Iterator[dict[str, Any]]:
            return (item.model_dump(mode="json", fallback=repr) for item in items)

        return record, from_file
    record = store.get(ref, with_items=False)
    return record, lambda: store.iter_raw_items(record.run_id)


def write_record_json(record: RunRecord, items: ItemSource, out: TextIO) -> None:
    """The whole record as one JSON object (a run file), items streamed one per line."""
    head = json.dumps(record.summary(), indent=2, ensure_ascii=False)
    out.write(head[: head.rindex("}")].rstrip() + ',\n  "items": [')
    sep = "\n    "
    for item in items():
        out.write(sep)
        out.write(dumps(item).decode())
        sep = ",\n    "
    out.write("\n  ]\n}\n" if sep != "\n    " else "]\n}\n")


class SafeWriter:
    """A text stream that escapes control characters on their way to the terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(safe_text(text, multiline=True))
