"""Key-by-key comparison of two JSON values, the engine of the ``json_match`` scorer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pytest_datasetrun.score import Score

from ._json import json_path
from ._util import clip

__all__ = ("JsonReport", "compare_json", "json_equal")

_MAX_REPORTED = 100


def json_equal(value: Any, reference: Any, *, subset: bool = False) -> bool:
    """Deep JSON equality: booleans never equal numbers, ``1 == 1.0``, tuples are lists.

    :param value: the actual value.
    :param reference: the expected value.
    :param subset: objects in ``value`` may have keys ``reference`` lacks (at any depth).
    """
    if isinstance(value, bool) or isinstance(reference, bool):
        return type(value) is type(reference) and value == reference
    if isinstance(reference, dict):
        if not isinstance(value, dict) or (not subset and value.keys() != reference.keys()):
            return False
        return all(
            k in value and json_equal(value[k], v, subset=subset) for k, v in reference.items()
        )
    if isinstance(reference, (list, tuple)):
        return (
            isinstance(value, (list, tuple))
            and len(value) == len(reference)
            and all(json_equal(a, b, subset=subset) for a, b in zip(value, reference, strict=True))
        )
    return bool(value == reference)


def _drop(value: Any, ignore: set[str]) -> Any:
    if not ignore:
        return value
    if isinstance(value, dict):
        return {k: _drop(v, ignore) for k, v in value.items() if k not in ignore}
    if isinstance(value, (list, tuple)):
        return [_drop(v, ignore) for v in value]
    return value


@dataclass
class JsonReport:
    """The status of each compared key: ``match``, ``mismatch``, ``missing`` or ``extra``."""

    statuses: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for status in self.statuses.values() if status in statuses)

    def score(self, mode: str) -> Score:
        """Turn the report into a score for ``mode`` (exact, subset or partial)."""
        matched = self.count("match")
        total = (
            len(self.statuses) if mode != "subset" else self.count("match", "mismatch", "missing")
        )
        if mode == "exact":
            value = float(matched == len(self.statuses))
        else:
            value = matched / total if total else 1.0
        summary = f"{matched}/{total} keys match"
        reason = "; ".join([summary, *self.notes[:3]]) + (" ..." if len(self.notes) > 3 else "")
        reported = dict(list(self.statuses.items())[:_MAX_REPORTED])
        metadata = {"keys": reported, "matched": matched, "compared": len(self.statuses)}
        return Score(value, reason=reason, metadata=metadata)


def _pairs(value: Any, reference: Any) -> Iterator[tuple[Any, Any, Any, bool, bool]]:
    if isinstance(reference, dict) and isinstance(value, dict):
        for key in [*reference, *(k for k in value if k not in reference)]:
            yield key, value.get(key), reference.get(key), key in value, key in reference
    else:
        longest = max(len(value), len(reference))
        for index in range(longest):
            in_value, in_reference = index < len(value), index < len(reference)
            yield (
                index,
                value[index] if in_value else None,
                reference[index] if in_reference else None,
                in_value,
                in_reference,
            )


def _same_shape(value: Any, reference: Any) -> bool:
    if isinstance(reference, dict):
        return isinstance(value, dict)
    return isinstance(reference, (list, tuple)) and isinstance(value, (list, tuple))


def compare_json(
    value: Any, reference: Any, *, subset: bool = False, ignore: set[str] | None = None
) -> JsonReport:
    """Compare ``value`` with ``reference`` one top-level key (or list index) at a time.

    :param value: the actual JSON value.
    :param reference: the expected JSON value.
    :param subset: extra keys in nested objects of ``value`` do not make a mismatch.
    :param ignore: key names dropped at any depth on both sides before comparing.
    """
    value, reference = _drop(value, ignore or set()), _drop(reference, ignore or set())
    report = JsonReport()
    if not _same_shape(value, reference):
        equal = json_equal(value, reference, subset=subset)
        report.statuses["$"] = "match" if equal else "mismatch"
        if not equal:
            report.notes.append(f"{clip(_dump(value))} != {clip(_dump(reference))}")
        return report
    for key, got, want, in_value, in_reference in _pairs(value, reference):
        path = json_path((key,))
        if not in_reference:
            report.statuses[path] = "extra"
            if not subset:
                report.notes.append(f"extra {path}")
        elif not in_value:
            report.statuses[path] = "missing"
            report.notes.append(f"missing {path}")
        elif json_equal(got, want, subset=subset):
            report.statuses[path] = "match"
        else:
            report.statuses[path] = "mismatch"
            report.notes.append(f"{path}: {clip(_dump(got))} != {clip(_dump(want))}")
    return report


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:  # a circular structure
        return repr(value)
