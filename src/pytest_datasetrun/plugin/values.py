"""Parsing option values; every error names the flag or the ini key the value came from."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

__all__ = ("number", "significance", "seconds", "check_choice", "check_policy")


def number(raw: Any, name: str, kind: type, minimum: float) -> Any:
    try:
        value = kind(raw)
    except (TypeError, ValueError, OverflowError):
        raise pytest.UsageError(
            f"{name}: {raw!r} is not a{'n integer' if kind is int else ' number'}"
        ) from None
    if kind is float and not math.isfinite(value):
        raise pytest.UsageError(f"{name}: {raw!r} is not a finite number")
    if value < minimum:
        raise pytest.UsageError(f"{name}: {raw!r} is too small (the minimum is {minimum})")
    return value


def significance(raw: Any, name: str) -> float:
    value = float(number(raw, name, float, 0.0))
    if not 0.0 < value < 1.0:
        raise pytest.UsageError(f"{name}: {raw!r} must be between 0 and 1, e.g. 0.05")
    return value


def seconds(raw: Any, name: str) -> float | None:
    """A timeout: a finite, positive number of seconds that threads and event loops can wait."""
    if raw in (None, ""):
        return None
    value = float(number(raw, name, float, -math.inf))
    if not 0 < value <= threading.TIMEOUT_MAX:
        raise pytest.UsageError(
            f"{name}: {raw!r} is not a positive number of seconds (e.g. 30 or 2.5); "
            "leave the option out for no timeout"
        )
    return value


def check_choice(value: str, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise pytest.UsageError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def check_policy(policy: str, name: str) -> None:
    if policy in ("all", "majority", "any"):
        return
    if policy.startswith("rate:"):
        try:
            rate = float(policy[5:])
        except ValueError:
            rate = -1.0
        if 0.0 <= rate <= 1.0:
            return
    raise pytest.UsageError(
        f"{name}: {policy!r} is not all, majority, any or rate:R with R in [0, 1]"
    )
