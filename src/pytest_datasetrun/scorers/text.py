"""Text scorers that check an output's content: equality, substrings, patterns, length.

Every scorer here reads the output through :func:`~pytest_datasetrun.scorers._util.to_text`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pytest_datasetrun.score import Score

from ._util import references, require_expected, shorten, to_text

__all__ = (
    "exact_match",
    "contains",
    "contains_all",
    "contains_any",
    "excludes",
    "starts_with",
    "regex",
    "length",
)

_WHITESPACE = re.compile(r"\s+")
_REGEX_MODES = ("search", "match", "full")


_FORMS = ("NFC", "NFKC", "NFD", "NFKD")


def _normalise(
    text: str,
    *,
    strip: bool = True,
    ignore_case: bool = False,
    ignore_whitespace: bool = False,
    ignore_punctuation: bool = False,
    normalize: str | None = None,
) -> str:
    if normalize is not None:
        text = unicodedata.normalize(normalize, text)  # type: ignore[arg-type]
    if ignore_punctuation:
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
    if ignore_whitespace:
        text = _WHITESPACE.sub(" ", text).strip()
    elif strip:
        text = text.strip()
    return text.casefold() if ignore_case else text


def exact_match(
    output: Any,
    expected: Any,
    *,
    ignore_case: bool = False,
    ignore_whitespace: bool = False,
    ignore_punctuation: bool = False,
    strip: bool = True,
    normalize: str | None = None,
) -> Score:
    """Output text equals the expected text (or any element of an expected list).

    :param output: the target's output, read as text.
    :param expected: the reference text, or a list of acceptable texts.
    :param ignore_case: compare case-insensitively (Unicode casefold).
    :param ignore_whitespace: collapse whitespace runs to one space before comparing.
    :param ignore_punctuation: drop Unicode punctuation and symbols (categories ``P*`` and
        ``S*``: ``$``, ``+``, ``€``, ``©``...) before comparing, a Unicode-wide form of HF
        evaluate's ``string.punctuation`` removal.
    :param strip: strip leading and trailing whitespace (on by default).
    :param normalize: a Unicode normal form applied first: ``NFC``, ``NFKC`` (``ﬁ`` → ``fi``,
        full-width ``１`` → ``1``), ``NFD`` or ``NFKD``.
    :raises ValueError: when the row has no expected value, or for an unknown form.
    """
    if normalize is not None and normalize not in _FORMS:
        raise ValueError(f"scorer 'exact_match': normalize must be one of {_FORMS}")
    options = {
        "normalize": normalize,
        "strip": strip,
        "ignore_case": ignore_case,
        "ignore_whitespace": ignore_whitespace,
        "ignore_punctuation": ignore_punctuation,
    }
    refs = references(expected, "exact_match")
    got = _normalise(to_text(output), **options)
    for ref in refs:
        if _normalise(ref, **options) == got:
            return Score(1.0, reason=f"matches {shorten(ref)}")
    wanted = shorten(refs[0]) if len(refs) == 1 else f"any of {len(refs)} references"
    return Score(0.0, reason=f"{shorten(to_text(output))} != {wanted}")


def _needles(param: Any, expected: Any, scorer: str, name: str) -> list[str]:
    source = param if param is not None else expected
    require_expected(source, scorer, f"the {name} param or an expected value")
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError(f"scorer '{scorer}' got an empty list of strings")
        return [to_text(item) for item in source]
    return [to_text(source)]


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


def contains(
    output: Any, expected: Any = None, *, substring: str | None = None, ignore_case: bool = False
) -> Score:
    """Output text contains a substring (the ``substring`` param, else the expected text).

    :param output: the target's output, read as text.
    :param expected: the substring, used when ``substring`` is not given; a list of
        acceptable alternatives passes when any one is contained.
    :param substring: the substring to look for.
    :param ignore_case: compare case-insensitively.
    :raises ValueError: when neither ``substring`` nor ``expected`` is given.
    """
    needles = _needles(substring, expected, "contains", "substring")
    present, _ = _found(output, needles, ignore_case)
    if present:
        return Score(1.0, reason=f"contains {shorten(present[0])}")
    return Score(
        0.0, reason=f"missing {_listing(needles) if len(needles) > 1 else shorten(needles[0])}"
    )


def _found(output: Any, needles: list[str], ignore_case: bool) -> tuple[list[str], list[str]]:
    text = _fold(to_text(output), ignore_case)
    present = [needle for needle in needles if _fold(needle, ignore_case) in text]
    absent = [needle for needle in needles if needle not in present]
    return present, absent


def _listing(strings: list[str]) -> str:
    return ", ".join(shorten(s, 40) for s in strings[:5]) + (" ..." if len(strings) > 5 else "")


def contains_all(
    output: Any,
    expected: Any = None,
    *,
    substrings: list[str] | None = None,
    ignore_case: bool = False,
    partial: bool = False,
) -> Score:
    """Output text contains every one of several substrings.

    :param output: the target's output, read as text.
    :param expected: the substrings (a list, or one string), used when ``substrings`` is not given.
    :param substrings: the substrings to look for.
    :param ignore_case: compare case-insensitively.
    :param partial: score the share of substrings found instead of all-or-nothing.
    """
    needles = _needles(substrings, expected, "contains_all", "substrings")
    present, absent = _found(output, needles, ignore_case)
    value = len(present) / len(needles) if partial else float(not absent)
    reason = f"missing {_listing(absent)}" if absent else f"contains all {len(needles)}"
    return Score(value, reason=reason, metadata={"found": present, "missing": absent})


def contains_any(
    output: Any,
    expected: Any = None,
    *,
    substrings: list[str] | None = None,
    ignore_case: bool = False,
) -> Score:
    """Output text contains at least one of several substrings.

    :param output: the target's output, read as text.
    :param expected: the substrings (a list, or one string), used when ``substrings`` is not given.
    :param substrings: the substrings to look for.
    :param ignore_case: compare case-insensitively.
    """
    needles = _needles(substrings, expected, "contains_any", "substrings")
    present, _ = _found(output, needles, ignore_case)
    reason = f"contains {_listing(present)}" if present else f"none of {_listing(needles)}"
    return Score(float(bool(present)), reason=reason, metadata={"found": present})


def excludes(
    output: Any,
    expected: Any = None,
    *,
    substrings: list[str] | None = None,
    ignore_case: bool = False,
) -> Score:
    """Output text contains none of the given strings (forbidden words, leaked secrets...).

    :param output: the target's output, read as text.
    :param expected: the forbidden strings, used when ``substrings`` is not given.
    :param substrings: the forbidden strings.
    :param ignore_case: compare case-insensitively.
    """
    needles = _needles(substrings, expected, "excludes", "substrings")
    present, _ = _found(output, needles, ignore_case)
    reason = f"contains {_listing(present)}" if present else f"none of {len(needles)} present"
    return Score(float(not present), reason=reason, metadata={"found": present})


def starts_with(
    output: Any,
    expected: Any = None,
    *,
    prefix: str | None = None,
    ignore_case: bool = False,
    strip: bool = True,
) -> Score:
    """Output text starts with a prefix (the ``prefix`` param, else the expected text).

    :param output: the target's output, read as text.
    :param expected: the prefix (or a list of acceptable prefixes), used when ``prefix`` is unset.
    :param prefix: the prefix.
    :param ignore_case: compare case-insensitively.
    :param strip: ignore leading whitespace of the output (on by default).
    """
    prefixes = _needles(prefix, expected, "starts_with", "prefix")
    text = _fold(to_text(output), ignore_case)
    text = text.lstrip() if strip else text
    for candidate in prefixes:
        if text.startswith(_fold(candidate, ignore_case)):
            return Score(1.0, reason=f"starts with {shorten(candidate)}")
    return Score(0.0, reason=f"{shorten(text, 30)} does not start with {_listing(prefixes)}")


def regex(
    output: Any,
    expected: Any = None,
    *,
    pattern: str | None = None,
    mode: str = "search",
    ignore_case: bool = False,
    multiline: bool = False,
    dotall: bool = False,
) -> Score:
    """Output text matches a regular expression (the ``pattern`` param, else the expected text).

    Python :mod:`re` syntax. A pattern with catastrophic backtracking can be slow on long
    outputs; that is the pattern's cost, not bounded here.

    :param output: the target's output, read as text.
    :param expected: the pattern, used when ``pattern`` is not given; with a list of
        patterns, any one matching passes.
    :param pattern: the pattern.
    :param mode: ``"search"`` (anywhere), ``"match"`` (at the start) or ``"full"`` (whole text).
    :param ignore_case: :data:`re.IGNORECASE`.
    :param multiline: :data:`re.MULTILINE` (``^``/``$`` at each line).
    :param dotall: :data:`re.DOTALL` (``.`` matches newlines).
    :raises ValueError: for a missing or invalid pattern, or an unknown mode.
    """
    sources = _needles(pattern, expected, "regex", "pattern")
    if mode not in _REGEX_MODES:
        raise ValueError(f"scorer 'regex': mode must be one of {_REGEX_MODES}, got {mode!r}")
    flags = (
        (re.IGNORECASE if ignore_case else 0)
        | (re.MULTILINE if multiline else 0)
        | (re.DOTALL if dotall else 0)
    )
    text = to_text(output)
    for source in sources:
        found = _regex_find(source, flags, mode, text)
        if found is not None:
            return Score(1.0, reason=f"/{source}/ matched {shorten(found.group(0), 40)}")
    shown = "/ or /".join(sources[:3]) + ("/ ..." if len(sources) > 3 else "/")
    return Score(0.0, reason=f"no {mode} for /{shown}")


def _regex_find(source: str, flags: int, mode: str, text: str) -> re.Match[str] | None:
    try:
        compiled = re.compile(source, flags)
    except re.error as exc:
        raise ValueError(f"scorer 'regex': invalid pattern {source!r}: {exc}") from exc
    return {"search": compiled.search, "match": compiled.match, "full": compiled.fullmatch}[mode](
        text
    )


def length(
    output: Any,
    *,
    min: int | None = None,  # shadows the builtin on purpose: users write length(max=200)
    max: int | None = None,
    unit: str = "chars",
) -> Score:
    """Output text length lies within ``[min, max]``, counted in characters or words.

    :param output: the target's output, read as text.
    :param min: the least allowed length (inclusive); no lower bound when unset.
    :param max: the greatest allowed length (inclusive); no upper bound when unset.
    :param unit: ``"chars"`` or ``"words"`` (whitespace-separated).
    :raises ValueError: when neither bound is set, or the unit is unknown.
    """
    if min is None and max is None:
        raise ValueError("scorer 'length' needs a min or max param")
    if unit not in ("chars", "words"):
        raise ValueError(f"scorer 'length': unit must be 'chars' or 'words', got {unit!r}")
    text = to_text(output)
    size = len(text) if unit == "chars" else len(text.split())
    too_short = min is not None and size < min
    too_long = max is not None and size > max
    if min is None:
        bounds = f"at most {max}"
    elif max is None:
        bounds = f"at least {min}"
    else:
        bounds = f"within [{min}, {max}]"
    verdict = "too short, " if too_short else "too long, " if too_long else ""
    return Score(
        float(not (too_short or too_long)),
        reason=f"{size} {unit}: {verdict}{bounds}",
        metadata={"length": size, "unit": unit},
    )
