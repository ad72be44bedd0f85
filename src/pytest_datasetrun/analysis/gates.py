"""Run-level quality gates: ``--fail-under``, ``--min-pass-rate`` and ``--max-errors``.

A gate is checked once per run, on the finished :class:`~pytest_datasetrun.record.run.RunRecord`.
Parsing validates the options up front (:class:`~pytest_datasetrun.errors.ConfigError` naming
the option and the bad value); evaluation never raises and always reports the measured value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import (
    Aggregate,
    GateResult,
    RunRecord,
    aggregate_scores,
    count_items,
)

__all__ = (
    "GateSpec",
    "evaluate_gates",
    "item_has_error",
    "item_verdict",
    "parse_gates",
    "split_values",
)

_TOLERANCE = 1e-9  # a mean of 0.85 computed as 0.8499999999999999 meets --fail-under x=0.85


@dataclass(frozen=True, slots=True)
class GateSpec:
    """The run-level gates asked for; an empty spec checks nothing.

    :param fail_under: scorer id or name -> the minimum mean score.
    :param min_pass_rate: the minimum share of selected items that passed.
    :param max_errors: the maximum number of errored items.
    :param max_error_rate: the maximum share of selected items that errored (``N%``).
    """

    fail_under: dict[str, float] = field(default_factory=dict)
    min_pass_rate: float | None = None
    max_errors: int | None = None
    max_error_rate: float | None = None

    def __bool__(self) -> bool:
        return bool(self.fail_under) or any(
            limit is not None
            for limit in (self.min_pass_rate, self.max_errors, self.max_error_rate)
        )


def parse_gates(
    fail_under: Iterable[str] = (),
    min_pass_rate: str | float | None = None,
    max_errors: str | int | None = None,
) -> GateSpec:
    """Parse the gate options.

    :param fail_under: ``SCORER=MIN`` values (``MIN`` in ``[0, 1]``); each may hold several,
        comma-separated.
    :param min_pass_rate: a share in ``[0, 1]``, or a percentage such as ``"90%"``.
    :param max_errors: a count ``N`` (``"0"`` allows none) or a percentage ``"N%"`` of the
        selected items.
    :returns: the :class:`GateSpec`.
    :raises ConfigError: a value that does not parse or is out of range; the message names
        the option and the value.
    """
    minimums: dict[str, float] = {}
    for value in split_values(fail_under):
        scorer, minimum = _scorer_value("--fail-under", value, "SCORER=MIN, e.g. exact_match=0.8")
        if scorer in minimums:
            raise ConfigError(f"--fail-under: scorer '{scorer}' is given twice ({value!r})")
        minimums[scorer] = minimum
    rate = None if min_pass_rate is None else _share("--min-pass-rate", str(min_pass_rate))
    count, share = _max_errors(max_errors)
    return GateSpec(minimums, rate, count, share)


def evaluate_gates(
    record: RunRecord, spec: GateSpec, *, item_errors: int | None = None
) -> list[GateResult]:
    """Check every gate of ``spec`` on a finished run.

    A gate on a scorer that did not run, or produced no value, fails with a detail saying so.

    :param record: the run, with its items when ``--max-errors`` is checked (else the
        record's counts are used).
    :param spec: the gates.
    :param item_errors: the number of items with an error (:func:`item_has_error`), when the
        record comes without its items (counted while they streamed in).
    :returns: one :class:`~pytest_datasetrun.record.run.GateResult` per gate, in option order.
    """
    target_errors = str(record.options.get("target_errors", "zero"))
    aggregates = record.aggregates or aggregate_scores(record.items, record.scorers, target_errors)
    results = [
        _fail_under(scorer, minimum, aggregates, target_errors)
        for scorer, minimum in spec.fail_under.items()
    ]
    if spec.min_pass_rate is not None:
        results.append(_pass_rate(record, spec.min_pass_rate))
    if spec.max_errors is not None or spec.max_error_rate is not None:
        results.append(_errors(record, spec, item_errors))
    return results


def item_has_error(item: ItemResult) -> bool:
    """Whether the target raised on this item or any of its scorers errored."""
    return (
        item.status == "errored"
        or item.error is not None
        or any(score.error is not None for score in item.scores)
    )


def item_verdict(item: ItemResult) -> str | None:
    """``"passed"``, ``"failed"`` or ``"errored"``; ``None`` for a skipped or not-run item."""
    if item.status in ("skipped", "not_run"):
        return None
    return "errored" if item_has_error(item) else item.status


def split_values(values: Iterable[str] | str | None) -> list[str]:
    """Repeated option values, each possibly comma-separated, as one flat list.

    :param values: the option's values (a single string counts as one value).
    :returns: the non-empty, stripped parts.
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


# -- parsing ------------------------------------------------------------------------------------


def _scorer_value(option: str, value: str, usage: str) -> tuple[str, float]:
    scorer, sep, number = value.partition("=")
    if not sep or not scorer.strip():
        raise ConfigError(f"{option}: {value!r} is not of the form {usage}")
    return scorer.strip(), _share(option, number, value)


def _share(option: str, text: str, whole: str | None = None) -> float:
    """A number in ``[0, 1]``, or a percentage ``"N%"`` in ``[0, 100]``."""
    text = text.strip()
    percent = text.endswith("%")
    number = _number(option, text[:-1] if percent else text, whole or text)
    share = number / 100 if percent else number
    if not 0.0 <= share <= 1.0:
        allowed = "between 0% and 100%" if percent else "between 0 and 1"
        raise ConfigError(f"{option}: {whole or text!r} is out of range; use a value {allowed}")
    return share


def _number(option: str, text: str, whole: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ConfigError(f"{option}: {whole!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ConfigError(f"{option}: {whole!r} is not a finite number")
    return number


def _max_errors(value: str | int | None) -> tuple[int | None, float | None]:
    if value is None:
        return None, None
    text = str(value).strip()
    if text.endswith("%"):
        return None, _share("--max-errors", text)
    try:
        count = int(text)
    except ValueError:
        raise ConfigError(
            f"--max-errors: {text!r} is not a whole number or a percentage (e.g. 5 or 2%)"
        ) from None
    if count < 0:
        raise ConfigError(f"--max-errors: {text!r} is negative; use 0 to allow no errors")
    return count, None


# -- evaluation ---------------------------------------------------------------------------------


def _fail_under(
    scorer: str, minimum: float, aggregates: dict[str, Aggregate], target_errors: str
) -> GateResult:
    gate, limit = f"mean {scorer}", f">= {minimum:g}"
    agg = aggregates.get(scorer) or next((a for a in aggregates.values() if a.name == scorer), None)
    if agg is None:
        known = ", ".join(sorted(aggregates)) or "none"
        detail = f"scorer '{scorer}' did not run (scorers in this run: {known})"
        return GateResult(gate=gate, value=None, limit=limit, passed=False, detail=detail)
    if agg.mean is None:
        detail = f"no value: all {agg.errors} scores errored" if agg.errors else "no value"
        return GateResult(gate=gate, value=None, limit=limit, passed=False, detail=detail)
    detail = f"over {agg.n} items" + _errors_detail(agg, target_errors)
    passed = agg.mean >= minimum - _TOLERANCE
    return GateResult(gate=gate, value=agg.mean, limit=limit, passed=passed, detail=detail)


def _errors_detail(agg: Aggregate, target_errors: str) -> str:
    """Say how the errored rows entered the mean (issue 10.2)."""
    parts = []
    if agg.target_errors:
        how = "counted as 0" if target_errors == "zero" else "left out"
        parts.append(f"{agg.target_errors} target errors {how}")
    if agg.errors:
        parts.append(f"{agg.errors} scorer errors left out")
    return f" ({', '.join(parts)})" if parts else ""


def _pass_rate(record: RunRecord, minimum: float) -> GateResult:
    counts = (
        record.counts if record.counts.selected or not record.items else count_items(record.items)
    )
    gate, limit = "pass rate", f">= {minimum:g}"
    if not counts.selected:
        return GateResult(gate=gate, value=None, limit=limit, passed=False, detail="no items")
    rate = counts.passed / counts.selected  # Counts.pass_rate: errored items count as not passed
    detail = f"{counts.passed} of {counts.selected} items passed"
    if counts.errored:
        detail += f" ({counts.errored} errored, counted as not passed)"
    passed = rate >= minimum - _TOLERANCE
    return GateResult(gate=gate, value=rate, limit=limit, passed=passed, detail=detail)


def _errors(record: RunRecord, spec: GateSpec, item_errors: int | None = None) -> GateResult:
    if item_errors is not None:
        errors, selected = item_errors, record.counts.selected
    elif record.items:
        errors, selected = sum(map(item_has_error, record.items)), len(record.items)
    else:
        errors, selected = record.counts.errored, record.counts.selected
    detail = f"{errors} of {selected} items errored"
    if spec.max_error_rate is not None:
        share = errors / selected if selected else 0.0
        passed = share <= spec.max_error_rate + _TOLERANCE
        limit = f"<= {spec.max_error_rate * 100:g}%"
        return GateResult(gate="errors", value=share, limit=limit, passed=passed, detail=detail)
    assert spec.max_errors is not None
    passed = errors <= spec.max_errors
    limit = f"<= {spec.max_errors}"
    return GateResult(gate="errors", value=errors, limit=limit, passed=passed, detail=detail)
