"""Numeric scorers: read a number from the output and compare it with the expected one."""

from __future__ import annotations

import math
import numbers as _numbers
import re
from typing import Any

from pytest_datasetrun.score import Score

from ._util import clip, require_expected, to_text

__all__ = ("numeric_close", "parse_number", "find_numbers", "is_close")

_MINUS = "-\u2212"  # ASCII hyphen-minus and U+2212 MINUS SIGN
_NUMBER = re.compile(
    r"(?:(?<![\w.])(?P<sign>[+\u2212-]))?"
    r"(?<![\d.])(?P<digits>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exponent>[eE][-+]?\d+)?"
    r"(?P<percent>\s?%)?"
)
_PICKS = ("first", "last")
_PERCENT = ("number", "fraction")


def _to_float(match: re.Match[str], percent: str) -> float:
    number = float(match["digits"].replace(",", "") + (match["exponent"] or ""))
    if match["sign"] and match["sign"] in _MINUS:
        number = -number
    if match["percent"] and percent == "fraction":
        number /= 100.0
    return number


def find_numbers(text: str, *, percent: str = "number") -> list[float]:
    """Return every number in ``text``, in order.

    Reads ``1,234.5`` (comma thousands separators), signs (``-``, ``+``, ``−``), ``.5``,
    exponents (``2e-3``) and percentages (``12%`` is 12, or 0.12 with ``percent="fraction"``).
    A sign counts only when it does not follow a letter or digit, so ``10-20`` is 10 and 20.

    :param text: any text.
    :param percent: ``"number"`` or ``"fraction"``.
    """
    return [_to_float(match, percent) for match in _NUMBER.finditer(text)]


def parse_number(value: Any, *, percent: str = "number") -> float:
    """Read ``value`` as one number: a real number, or text that is exactly one number.

    :param value: a number, a numeric string (``" -1,234.5 "``, ``"12%"``) or a dict/object
        read through :func:`~pytest_datasetrun.scorers._util.to_text`.
    :param percent: ``"number"`` or ``"fraction"``.
    :raises ValueError: when ``value`` is not exactly one number.
    """
    if isinstance(value, _numbers.Real) and not isinstance(value, bool):
        return float(value)
    text = to_text(value).strip()
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f"not a number: {clip(text, 60)!r}")
    return _to_float(match, percent)


def _read_output(output: Any, extract: bool, pick: str, percent: str) -> float | None:
    if not extract:
        try:
            return parse_number(output, percent=percent)
        except ValueError:
            return None
    if isinstance(output, _numbers.Real) and not isinstance(output, bool):
        return float(output)
    found = find_numbers(to_text(output), percent=percent)
    if not found:
        return None
    return found[0] if pick == "first" else found[-1]


def _check(pick: str, percent: str, on_missing: str) -> None:
    if pick not in _PICKS:
        raise ValueError(f"scorer 'numeric_close': pick must be 'first' or 'last', not {pick!r}")
    if percent not in _PERCENT:
        raise ValueError(f"scorer 'numeric_close': percent must be one of {_PERCENT}")
    if on_missing not in ("error", "fail"):
        raise ValueError("scorer 'numeric_close': on_missing must be 'error' or 'fail'")


def is_close(a: float, b: float, *, abs_tol: float, rel_tol: float) -> bool:
    """``|a - b| <= abs_tol + rel_tol * max(|a|, |b|)``; infinities are close only to themselves.

    The two tolerances add up (as in ``numpy.isclose``) rather than :func:`math.isclose`'s
    maximum, so the default ``rel_tol`` absorbs float rounding: 41.9 is within 0.1 of 42.
    """
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= abs_tol + rel_tol * max(abs(a), abs(b))


def _json_number(number: float) -> float | str:
    return number if math.isfinite(number) else str(number)


def _best_match(got: float, wanted: list[float], abs_tol: float, rel_tol: float) -> float:
    """The expected value that matches best, in any order: a close one (``inf`` matches
    ``inf``), else the nearest (issue #10: ``nan`` distances no longer pick the first)."""
    for ref in wanted:
        if is_close(got, ref, abs_tol=abs_tol, rel_tol=rel_tol):
            return ref

    def distance(ref: float) -> float:
        diff = abs(got - ref)
        return diff if not math.isnan(diff) else math.inf

    return min(wanted, key=distance)


def numeric_close(
    output: Any,
    expected: Any,
    *,
    abs_tol: float = 0.0,
    rel_tol: float = 1e-9,
    extract: bool = False,
    pick: str = "last",
    percent: str = "number",
    on_missing: str = "error",
) -> Score:
    """Output number is close to the expected number: ``|a - b| <= abs_tol + rel_tol * max(|a|, |b|)``.

    :param output: a number, or text: exactly one number, or any text with ``extract=true``.
    :param expected: the expected number (or numeric text), or a list of acceptable ones.
    :param abs_tol: absolute tolerance.
    :param rel_tol: relative tolerance (``1e-9`` by default: equal up to float rounding).
    :param extract: find the numbers in free text and use one of them.
    :param pick: with ``extract``, the ``"first"`` or the ``"last"`` number in the text.
    :param percent: ``"number"`` (``12%`` is 12) or ``"fraction"`` (``12%`` is 0.12).
    :param on_missing: ``"error"`` (the scorer errors when the output has no number) or
        ``"fail"`` (it scores 0).
    :raises ValueError: when expected is missing or not numeric, or (``on_missing="error"``)
        when no number is found in the output.
    """
    _check(pick, percent, on_missing)
    require_expected(expected, "numeric_close")
    refs = expected if isinstance(expected, (list, tuple)) else [expected]
    try:
        wanted = [parse_number(ref, percent=percent) for ref in refs]
    except ValueError as exc:
        raise ValueError(f"scorer 'numeric_close': expected value is {exc}") from exc
    got = _read_output(output, extract, pick, percent)
    if got is None:
        text = clip(to_text(output), 60)
        message = (
            f"no number in the output {text!r}" if extract else f"output is {text!r}, not a number"
        )
        if on_missing == "fail":
            return Score(0.0, reason=message)
        raise ValueError(f"scorer 'numeric_close': {message}")
    best = _best_match(got, wanted, abs_tol, rel_tol)
    close = is_close(got, best, abs_tol=abs_tol, rel_tol=rel_tol)
    diff = abs(got - best)
    reason = f"{got:g} {'≈' if close else '!='} {best:g} (|diff| {diff:g})"
    metadata = {
        "value": _json_number(got),
        "expected": _json_number(best),
        "diff": _json_number(diff),
    }
    return Score(float(close), reason=reason, metadata=metadata)
