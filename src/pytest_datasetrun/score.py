"""The value a scorer returns, and the rules that turn any return value into one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Score", "InvalidScore", "coerce_score", "score_value")


@dataclass(frozen=True, slots=True)
class Score:
    """A scorer's verdict on one output.

    :param value: a number in ``[0, 1]`` (``True``/``False`` count as 1 and 0).
    :param reason: a short human explanation, shown in failures and stored with the run.
    :param metadata: JSON-safe details (per-key reports, judge model, ...), stored with the run.
    """

    value: float
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class InvalidScore(ValueError):
    """A scorer returned something that is not a score; the scorer is reported as errored."""


def coerce_score(raw: object) -> Score:
    """Turn a scorer's return value into a :class:`Score`, or raise :class:`InvalidScore`."""
    if isinstance(raw, Score):
        return Score(_check_value(raw.value), raw.reason, dict(raw.metadata or {}))
    return Score(_check_value(raw))


def score_value(raw: object) -> float:
    """The value of a scorer that returned a plain number or bool (``coerce_score(raw).value``)."""
    return _check_value(raw)


def _check_value(value: object) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, (int, float)):
        raise InvalidScore(
            f"a scorer must return a float in [0, 1], a bool or Score(...), got {type(value).__name__}: {value!r:.80}"
        )
    number = float(value)
    if math.isnan(number):
        raise InvalidScore("the scorer returned NaN")
    if not 0.0 <= number <= 1.0:
        raise InvalidScore(f"the scorer returned {number!r}, outside [0, 1]")
    return number
