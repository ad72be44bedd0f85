"""Agent scorers: which tools were called, whether any tool failed, and how long the call took.

Tool calls and results are read through the convention of :mod:`.toolcalls`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from pytest_datasetrun.score import Score

from ._util import clip, require_expected
from .jsondiff import json_equal
from .toolcalls import ToolCall, extract_tool_calls, extract_tool_errors

__all__ = ("tool_calls", "no_tool_errors", "latency", "match_calls", "expected_calls")

# ``subset``/``superset`` mean what they mean in LangChain agentevals' trajectory match: the
# calls made are a subset / superset of the expected ones. The other two names say which side
# they constrain (they were called ``superset``/``subset`` before issue #10).
_MODES = ("strict_order", "unordered", "subset", "superset", "within_expected", "contains_expected")
_ARGUMENT_MODES = ("exact", "subset", "superset", "within_expected", "contains_expected", "ignore")
_SIDES = {"within_expected": "subset", "contains_expected": "superset"}
_ARGUMENT_KEYS = ("arguments", "args", "input", "tool_kwargs")
_NAME_KEYS = ("name", "tool_name", "function")


def _same_call(arguments: str) -> Callable[[ToolCall, ToolCall], bool]:
    side = _SIDES.get(arguments, arguments)

    def same(actual: ToolCall, wanted: ToolCall) -> bool:
        if actual.name != wanted.name:
            return False
        if side == "ignore" or wanted.arguments is None:  # no arguments expected: any match
            return True
        if side == "subset":  # every argument given was expected
            return json_equal(wanted.arguments, actual.arguments, subset=True)
        return json_equal(actual.arguments, wanted.arguments, subset=side == "superset")

    return same


def expected_calls(source: Any) -> list[ToolCall]:
    """The expected calls of ``source``; a call written without arguments accepts any."""
    calls = extract_tool_calls(source)
    raw = _raw_calls(source)
    if raw is None or len(raw) != len(calls):
        return calls
    return [
        replace(call, arguments=None) if _without_arguments(item) else call
        for call, item in zip(calls, raw, strict=True)
    ]


def _raw_calls(source: Any) -> list[Any] | None:
    items = source.get("tool_calls") if isinstance(source, Mapping) else source
    if not isinstance(items, (list, tuple)):
        return None
    if all(isinstance(i, str) or (isinstance(i, Mapping) and _is_call(i)) for i in items):
        return list(items)
    return None


def _is_call(item: Mapping[str, Any]) -> bool:
    return any(k in item for k in _NAME_KEYS) and not {"role", "tool_calls", "type"} & set(item)


def _without_arguments(item: Any) -> bool:
    if isinstance(item, str):
        return True
    function = item.get("function")
    source = function if isinstance(function, Mapping) else item
    return not any(key in source for key in _ARGUMENT_KEYS)


def _pair_up(
    actual: list[ToolCall], wanted: list[ToolCall], same: Callable[[ToolCall, ToolCall], bool]
) -> dict[int, int]:
    """Maximum matching of wanted to actual calls (Kuhn's augmenting paths): wanted -> actual."""
    owner: dict[int, int] = {}

    def assign(w: int, seen: set[int]) -> bool:
        for a, call in enumerate(actual):
            if a not in seen and same(call, wanted[w]):
                seen.add(a)
                if a not in owner or assign(owner[a], seen):
                    owner[a] = w
                    return True
        return False

    for w in range(len(wanted)):
        assign(w, set())
    return {w: a for a, w in owner.items()}


def _in_order(
    actual: list[ToolCall], wanted: list[ToolCall], same: Callable[[ToolCall, ToolCall], bool]
) -> dict[int, int]:
    """The longest common subsequence of the two call lists: wanted index -> actual index."""
    rows, cols = len(wanted), len(actual)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for w in range(rows - 1, -1, -1):
        for a in range(cols - 1, -1, -1):
            table[w][a] = (
                table[w + 1][a + 1] + 1
                if same(actual[a], wanted[w])
                else max(table[w + 1][a], table[w][a + 1])
            )
    pairs, w, a = {}, 0, 0
    while w < rows and a < cols:
        if same(actual[a], wanted[w]) and table[w][a] == table[w + 1][a + 1] + 1:
            pairs[w] = a
            w, a = w + 1, a + 1
        elif table[w + 1][a] >= table[w][a + 1]:
            w += 1
        else:
            a += 1
    return pairs


def match_calls(
    actual: list[ToolCall], wanted: list[ToolCall], *, mode: str, arguments: str
) -> tuple[int, int, list[ToolCall], list[ToolCall]]:
    """Match actual against wanted calls: ``(matched, compared, missing, unexpected)``.

    ``compared`` is the denominator of the partial score for the mode; ``missing`` are wanted
    calls without a partner, ``unexpected`` actual calls without one (that the mode forbids).
    ``strict_order`` pairs calls by their longest common subsequence, so one extra call early
    on costs one call, not every later position.
    """
    same = _same_call(arguments)
    mode = _SIDES.get(mode, mode)
    pairs = (
        _in_order(actual, wanted, same)
        if mode == "strict_order"
        else _pair_up(actual, wanted, same)
    )
    missing = [w for i, w in enumerate(wanted) if i not in pairs]
    used = set(pairs.values())
    unexpected = [a for i, a in enumerate(actual) if i not in used]
    compared = {
        "strict_order": max(len(actual), len(wanted)),
        "unordered": max(len(actual), len(wanted)),
        "superset": len(wanted),  # every expected call was made; others allowed
        "subset": len(actual),  # every call made was expected; some may be missing
    }[mode]
    return (
        len(pairs),
        compared,
        missing if mode != "subset" else [],
        unexpected if mode != "superset" else [],
    )


def _names(calls: list[ToolCall]) -> str:
    shown = ", ".join(call.render() for call in calls[:4])
    return shown + (f" (+{len(calls) - 4})" if len(calls) > 4 else "")


def tool_calls(
    output: Any,
    expected: Any = None,
    *,
    calls: list[Any] | None = None,
    mode: str = "strict_order",
    arguments: str = "exact",
    partial: bool = False,
    trace: Any = None,
) -> Score:
    """The agent made the expected tool calls (names, and arguments as configured).

    :param output: the agent's output, read by :func:`.toolcalls.extract_tool_calls`.
    :param trace: the full result when the output is only the answer (a LangGraph state, an
        agent's messages); given by the engine and read instead of ``output`` when present.
    :param expected: the expected calls, used when ``calls`` is not given: a list of
        ``{"name", "arguments"}`` (or any call shape the convention reads), or of bare names
        (any arguments).
    :param calls: the expected calls, as for ``expected``.
    :param mode: ``strict_order`` (the same calls in the same order; partial credit by longest
        common subsequence), ``unordered`` (the same calls in any order), and as in LangChain
        agentevals ``subset`` (the calls made are a subset of the expected: every call made was
        expected, some may be missing; also ``within_expected``) or ``superset`` (every
        expected call was made, others allowed; also ``contains_expected``).
    :param arguments: ``exact`` (equal JSON), ``subset``/``within_expected`` (every argument
        given was expected, with the expected value), ``superset``/``contains_expected`` (the
        expected arguments appear in the actual ones) or ``ignore`` (names only). An expected
        call written without arguments matches any arguments.
    :param partial: score the share of matched calls instead of all-or-nothing.
    :raises ValueError: without expected calls, or for an unknown mode.
    """
    if mode not in _MODES:
        raise ValueError(f"scorer 'tool_calls': mode must be one of {_MODES}, not {mode!r}")
    if arguments not in _ARGUMENT_MODES:
        raise ValueError(f"scorer 'tool_calls': arguments must be one of {_ARGUMENT_MODES}")
    source = calls if calls is not None else expected
    require_expected(source, "tool_calls", "the calls param or expected calls")
    wanted = expected_calls(source)
    actual = extract_tool_calls(output if trace is None else trace)
    matched, compared, missing, unexpected = match_calls(
        actual, wanted, mode=mode, arguments=arguments
    )
    ok = not missing and not unexpected
    value = (matched / compared if compared else 1.0) if partial else float(ok)
    notes = [f"{matched}/{compared} calls match"]
    notes += [f"missing {_names(missing)}"] if missing else []
    notes += [f"unexpected {_names(unexpected)}"] if unexpected else []
    metadata = {
        "actual": [call.name for call in actual],
        "expected": [call.name for call in wanted],
        "missing": [call.render() for call in missing],
        "unexpected": [call.render() for call in unexpected],
    }
    return Score(value, reason="; ".join(notes), metadata=metadata)


def no_tool_errors(output: Any, *, prefixes: list[str] | None = None, trace: Any = None) -> Score:
    """No tool result in the agent's output reports an error.

    See :func:`.toolcalls.extract_tool_errors` for what counts as an error.

    :param output: the agent's output (messages, or a dict with ``tool_results``).
    :param trace: the full result, read instead of ``output`` when the engine gives one.
    :param prefixes: text prefixes flagging a ``role: tool`` message as an error
        (case-insensitive; default ``error``, ``exception``, ``traceback``).
    """
    source = output if trace is None else trace
    if prefixes is None:
        count, errors = extract_tool_errors(source)
    else:
        count, errors = extract_tool_errors(source, prefixes=tuple(p.lower() for p in prefixes))
    metadata = {
        "tool_results": count,
        "errors": [{"tool": e.tool, "message": clip(e.message, 200)} for e in errors],
    }
    if not errors:
        return Score(1.0, reason=f"no errors in {count} tool results", metadata=metadata)
    shown = "; ".join(f"{e.tool}: {clip(e.message, 60)}" for e in errors[:3])
    return Score(0.0, reason=f"{len(errors)} tool error(s): {shown}", metadata=metadata)


def latency(
    output: Any, duration: float | None, *, budget_s: float | None = None, curve: str = "inverse"
) -> Score:
    """The target answered within a time budget (the ``duration`` of the target call).

    :param output: the target's output (unused).
    :param duration: seconds the target call took, given by the engine.
    :param budget_s: the budget in seconds.
    :param curve: over budget, ``inverse`` scores ``budget_s / duration`` (twice the budget
        scores 0.5); ``step`` scores 0.
    :raises ValueError: without a positive budget or a duration, or for an unknown curve.
    """
    if budget_s is None or budget_s <= 0:
        raise ValueError("scorer 'latency' needs a positive budget_s param (seconds)")
    if curve not in ("inverse", "step"):
        raise ValueError(f"scorer 'latency': curve must be 'inverse' or 'step', not {curve!r}")
    if duration is None or duration < 0:
        raise ValueError(f"scorer 'latency' got no valid duration ({duration!r})")
    if duration <= budget_s:
        return Score(1.0, reason=f"{duration:.3f}s within the {budget_s:g}s budget")
    value = budget_s / duration if curve == "inverse" else 0.0
    return Score(value, reason=f"{duration:.3f}s over the {budget_s:g}s budget")
