"""Reading a verdict out of an LLM judge's reply: JSON anywhere in the text, or ``Score: 4/5``."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._util import clip

__all__ = ("Verdict", "parse_verdict", "normalise")

_DECODER = json.JSONDecoder()
_MAX_OBJECTS = 50
_SCORE_LINE = re.compile(
    r"\b(?:score|rating|grade)\b\**\s*[:=]?\s*\**\s*"
    r"(?P<score>[-+]?\d+(?:\.\d+)?)\s*(?:/\s*(?P<out_of>\d+(?:\.\d+)?)|out of\s+(?P<of>\d+))?",
    re.IGNORECASE,
)
_REASON_LINE = re.compile(
    r"\b(?:reason|reasoning|explanation|rationale)\b\**\s*:\s*(?P<reason>.+)", re.I | re.S
)
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale")

Verdict = tuple[float, float | None, str | None]
"""``(score, out_of, reason)``: the raw score, the scale the judge wrote (``4/5`` → 5), why."""


def _objects(text: str) -> list[tuple[dict[str, Any], tuple[int, int]]]:
    """The outermost JSON objects in ``text``, with their spans."""
    found: list[tuple[dict[str, Any], tuple[int, int]]] = []
    for start in [m.start() for m in re.finditer(r"\{", text)][:_MAX_OBJECTS]:
        if any(a <= start < b for _, (a, b) in found):
            continue  # inside an object already read
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append((value, (start, end)))
    return found


def _number(raw: Any) -> tuple[float, float | None]:
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"the judge's score is not a number: {raw!r}")
    if isinstance(raw, (int, float)):
        return float(raw), None
    match = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?))?\s*", str(raw))
    if match is None:
        raise ValueError(f"the judge's score is not a number: {clip(str(raw), 40)!r}")
    return float(match[1]), float(match[2]) if match[2] else None


def _from_mapping(obj: Mapping[str, Any]) -> Verdict:
    score, out_of = _number(obj["score"])
    reason = next((obj[key] for key in _REASON_KEYS if obj.get(key)), None)
    return score, out_of, None if reason is None else str(reason)


def parse_verdict(reply: str | Mapping[str, Any]) -> Verdict:
    """Find the score and reason in a judge's reply.

    Read: a mapping with ``score``; every JSON object with a ``score`` key anywhere in the text
    (code fences and surrounding prose are fine); every line like ``Score: 4/5``,
    ``**Rating**: 7 out of 10`` or ``score = 0.8`` outside those objects (with ``Reason: ...``
    if any). When they give different scores the reply is ambiguous: an error quoting them,
    never a silent pick of the first (issue #10).

    :param reply: the judge's reply.
    :raises ValueError: when no score can be found, or several different ones.
    """
    if isinstance(reply, Mapping):
        if "score" not in reply:
            raise ValueError(f"the judge's reply has no 'score': {clip(repr(reply), 80)}")
        return _from_mapping(reply)
    found = _candidates(reply)
    if not found:
        raise ValueError(f"no score in the judge's reply: {clip(reply.strip(), 120)!r}")
    first = found[0][0]
    clashing = [quote for verdict, quote in found if _disagree(first, verdict)]
    if clashing:
        quotes = "; ".join(dict.fromkeys([found[0][1], *clashing]))
        raise ValueError(f"the judge's reply gives different scores: {quotes}")
    if first[2] is None:
        reason = _REASON_LINE.search(reply)
        first = (first[0], first[1], clip(reason["reason"].strip(), 500) if reason else None)
    return first


def _candidates(reply: str) -> list[tuple[Verdict, str]]:
    """Every score in the reply, in order: JSON objects first, then score lines outside them."""
    objects = _objects(reply)
    found = [
        (_from_mapping(obj), clip(reply[a:b], 80)) for obj, (a, b) in objects if "score" in obj
    ]
    for match in _SCORE_LINE.finditer(reply):
        if any(a <= match.start() < b for _, (a, b) in objects):
            continue
        out_of = match["out_of"] or match["of"]
        verdict = (float(match["score"]), float(out_of) if out_of else None, None)
        found.append((verdict, repr(match.group(0).strip())))
    return found


def _disagree(a: Verdict, b: Verdict) -> bool:
    """Two scores disagree on the number, or on the scale when both wrote one."""
    return a[0] != b[0] or (a[1] is not None and b[1] is not None and a[1] != b[1])


def normalise(score: float, out_of: float | None, scale: int | None) -> float:
    """Map a raw judge score to ``[0, 1]``.

    Without ``scale`` the judge was asked for 0..1; a written ``x/N`` then means ``x / N``.
    With ``scale`` N the judge was asked for 1..N, mapped linearly: 1 → 0, N → 1.

    :raises ValueError: when the score lies outside its range, or ``x/M`` contradicts ``scale``.
    """
    if not math.isfinite(score):
        raise ValueError(f"the judge's score is not finite: {score}")
    if scale is None:
        value = score / out_of if out_of else score
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"the judge's score {score:g} is outside 0..1")
        return value
    if out_of is not None and out_of != scale:
        raise ValueError(f"the judge scored {score:g}/{out_of:g}, not on the 1..{scale} scale")
    if not 1.0 <= score <= scale:
        raise ValueError(f"the judge's score {score:g} is outside 1..{scale}")
    return (score - 1.0) / (scale - 1.0)
