"""Unit tests of the agent scorers and of the tool-call reading convention.

LangChain messages are stood in for by small classes with the same attributes
(``type``, ``content``, ``tool_calls``, ``status``, ``tool_call_id``), so no LangChain install
is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_datasetrun.scorers import latency, no_tool_errors, tool_calls
from pytest_datasetrun.scorers.toolcalls import ToolCall, extract_tool_calls, extract_tool_errors


@dataclass
class AIMessage:
    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    type: str = "ai"
    name: str | None = None


@dataclass
class ToolMessage:
    content: str
    tool_call_id: str
    status: str = "success"
    type: str = "tool"
    name: str | None = None


@dataclass
class HumanMessage:
    content: str
    type: str = "human"
    name: str | None = None


def openai_call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


OPENAI_MESSAGES = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Weather in Paris and Oslo?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            openai_call("c1", "get_weather", {"city": "Paris", "unit": "C"}),
            openai_call("c2", "get_weather", {"city": "Oslo", "unit": "C"}),
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
    {"role": "tool", "tool_call_id": "c2", "content": "Error: upstream timeout"},
    {"role": "assistant", "content": "Paris 21C; Oslo unknown."},
]

LANGCHAIN_MESSAGES = [
    HumanMessage("refund order 7"),
    AIMessage(tool_calls=[{"name": "lookup_order", "args": {"id": 7}, "id": "t1"}]),
    ToolMessage("order 7: paid", tool_call_id="t1"),
    AIMessage(tool_calls=[{"name": "refund", "args": {"id": 7, "amount": 10}, "id": "t2"}]),
    ToolMessage("refund failed: card expired", tool_call_id="t2", status="error"),
    AIMessage("Sorry, the refund failed."),
]

WEATHER = [
    {"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}},
    {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "C"}},
]


def test_extract_openai_messages():
    assert extract_tool_calls(OPENAI_MESSAGES) == [
        ToolCall("get_weather", {"city": "Paris", "unit": "C"}),
        ToolCall("get_weather", {"city": "Oslo", "unit": "C"}),
    ]


def test_extract_langchain_message_objects_and_dicts():
    expected = [ToolCall("lookup_order", {"id": 7}), ToolCall("refund", {"id": 7, "amount": 10})]
    assert extract_tool_calls(LANGCHAIN_MESSAGES) == expected
    as_dicts = [
        {"type": m.type, "content": m.content, "tool_calls": getattr(m, "tool_calls", [])}
        for m in LANGCHAIN_MESSAGES
    ]
    assert extract_tool_calls(as_dicts) == expected
    assert extract_tool_calls({"messages": LANGCHAIN_MESSAGES}) == expected


@pytest.mark.parametrize(
    ("output", "calls"),
    [
        ({"tool_calls": [{"name": "a", "args": {"x": 1}}]}, [ToolCall("a", {"x": 1})]),
        (AIMessage(tool_calls=[{"name": "a", "args": {}}]), [ToolCall("a", {})]),
        ({"tool_calls": [{"name": "a", "arguments": '{"x": 1}'}]}, [ToolCall("a", {"x": 1})]),
        ({"tool_calls": [{"name": "a", "arguments": "not json"}]}, [ToolCall("a", "not json")]),
        ({"tool_calls": [{"name": "a", "arguments": ""}]}, [ToolCall("a", {})]),
        ({"tool_calls": [{"name": "a"}]}, [ToolCall("a", {})]),
        ([{"name": "a", "input": {"q": "x"}}], [ToolCall("a", {"q": "x"})]),
        (["search", "answer"], [ToolCall("search"), ToolCall("answer")]),
        ({"name": "solo", "arguments": {}}, [ToolCall("solo", {})]),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "name": "b", "input": {}}]}],
            [ToolCall("b", {})],
        ),
        (None, []),
        ("just text", []),
        ({"answer": 42}, []),
        ([], []),
    ],
)
def test_extract_tool_calls_convention(output, calls):
    assert extract_tool_calls(output) == calls


def test_extract_tool_calls_rejects_a_call_without_name():
    with pytest.raises(ValueError, match="without a name"):
        extract_tool_calls({"tool_calls": [{"arguments": {}}]})


def test_tool_calls_strict_order_on_openai_messages():
    score = tool_calls(OPENAI_MESSAGES, WEATHER)
    assert (score.value, score.reason) == (1.0, "2/2 calls match")
    assert tool_calls(OPENAI_MESSAGES, WEATHER[::-1]).value == 0.0


@pytest.mark.parametrize(
    ("wanted", "params", "value"),
    [
        (WEATHER[::-1], {"mode": "unordered"}, 1.0),
        (WEATHER[:1], {"mode": "unordered"}, 0.0),
        (WEATHER[:1], {"mode": "contains_expected"}, 1.0),
        ([*WEATHER, {"name": "notify"}], {"mode": "contains_expected"}, 0.0),
        ([*WEATHER, {"name": "notify"}], {"mode": "within_expected"}, 1.0),
        (WEATHER[:1], {"mode": "within_expected"}, 0.0),
        (
            [{"name": "get_weather", "arguments": {"city": "Paris"}}],
            {"mode": "contains_expected"},
            0.0,
        ),
        (
            [{"name": "get_weather", "arguments": {"city": "Paris"}}],
            {"mode": "contains_expected", "arguments": "contains_expected"},
            1.0,
        ),
        (["get_weather", "get_weather"], {}, 1.0),
        (
            [{"name": "get_weather", "arguments": {"city": "Rome"}}] * 2,
            {"arguments": "ignore"},
            1.0,
        ),
        (WEATHER[:1], {"mode": "unordered", "partial": True}, 0.5),
        (
            [*WEATHER, {"name": "x"}, {"name": "y"}],
            {"mode": "contains_expected", "partial": True},
            0.5,
        ),
    ],
)
def test_tool_calls_modes(wanted, params, value):
    assert tool_calls(OPENAI_MESSAGES, calls=wanted, **params).value == pytest.approx(value)


def test_tool_calls_unordered_finds_the_best_pairing():
    # a greedy pairing would give the first actual call to the loose expectation and fail
    actual = {
        "tool_calls": [{"name": "f", "args": {"a": 1, "b": 2}}, {"name": "f", "args": {"a": 1}}]
    }
    wanted = [{"name": "f", "args": {"a": 1}}, {"name": "f", "args": {"a": 1, "b": 2}}]
    assert tool_calls(actual, wanted, mode="unordered", arguments="superset").value == 1.0


def test_tool_calls_reports_missing_and_unexpected_calls():
    score = tool_calls(
        LANGCHAIN_MESSAGES, [{"name": "lookup_order", "args": {"id": 8}}], mode="unordered"
    )
    assert score.value == 0.0
    assert score.reason == (
        '0/2 calls match; missing lookup_order({"id": 8}); '
        'unexpected lookup_order({"id": 7}), refund({"amount": 10, "id": 7})'
    )
    assert score.metadata["actual"] == ["lookup_order", "refund"]


def test_tool_calls_with_no_calls_made_and_none_expected():
    assert tool_calls("plain answer", []).value == 1.0
    assert tool_calls(None, ["search"]).value == 0.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "expected calls"),
        ({"calls": [], "mode": "any"}, "mode"),
        ({"calls": [], "arguments": "loose"}, "arguments"),
    ],
)
def test_tool_calls_configuration_errors(params, message):
    with pytest.raises(ValueError, match=message):
        tool_calls(OPENAI_MESSAGES, **params)


def test_extract_tool_errors_openai_names_the_tool_from_the_call_id():
    count, errors = extract_tool_errors(OPENAI_MESSAGES)
    assert count == 2
    assert [(e.tool, e.message) for e in errors] == [("get_weather", "Error: upstream timeout")]


def test_no_tool_errors_langchain_status():
    score = no_tool_errors(LANGCHAIN_MESSAGES)
    assert score.value == 0.0
    assert score.reason == "1 tool error(s): refund: refund failed: card expired"
    assert score.metadata == {
        "tool_results": 2,
        "errors": [{"tool": "refund", "message": "refund failed: card expired"}],
    }


@pytest.mark.parametrize(
    ("output", "value"),
    [
        (OPENAI_MESSAGES[:4], 1.0),
        ([{"role": "tool", "tool_call_id": "x", "content": '{"error": "bad id"}'}], 0.0),
        ([{"role": "tool", "tool_call_id": "x", "content": '{"error": null, "ok": 1}'}], 1.0),
        (
            [
                {
                    "role": "tool",
                    "tool_call_id": "x",
                    "content": "Traceback (most recent call last):",
                }
            ],
            0.0,
        ),
        ([{"role": "tool", "tool_call_id": "x", "content": "no errors found"}], 1.0),
        ({"tool_results": [{"tool": "search", "error": "rate limited"}]}, 0.0),
        ({"tool_results": [{"tool": "search", "result": [1]}]}, 1.0),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "u",
                            "is_error": True,
                            "content": "boom",
                        }
                    ],
                }
            ],
            0.0,
        ),
        (None, 1.0),
        ("text", 1.0),
    ],
)
def test_no_tool_errors_shapes(output, value):
    assert no_tool_errors(output).value == value


def test_no_tool_errors_custom_prefixes():
    messages = [{"role": "tool", "tool_call_id": "x", "content": "FAILED: disk full"}]
    assert no_tool_errors(messages).value == 1.0
    assert no_tool_errors(messages, prefixes=["failed"]).value == 0.0
    assert no_tool_errors(OPENAI_MESSAGES, prefixes=[]).value == 1.0


@pytest.mark.parametrize(
    ("duration", "params", "value", "reason"),
    [
        (0.5, {"budget_s": 2}, 1.0, "0.500s within the 2s budget"),
        (2.0, {"budget_s": 2}, 1.0, "2.000s within the 2s budget"),
        (4.0, {"budget_s": 2}, 0.5, "4.000s over the 2s budget"),
        (4.0, {"budget_s": 2, "curve": "step"}, 0.0, "4.000s over the 2s budget"),
        (0.0, {"budget_s": 0.1}, 1.0, "0.000s within the 0.1s budget"),
    ],
)
def test_latency(duration, params, value, reason):
    score = latency("out", duration, **params)
    assert (score.value, score.reason) == (value, reason)


@pytest.mark.parametrize(
    ("duration", "params", "message"),
    [
        (1.0, {}, "budget_s"),
        (1.0, {"budget_s": 0}, "budget_s"),
        (None, {"budget_s": 1}, "no valid duration"),
        (-1.0, {"budget_s": 1}, "no valid duration"),
        (1.0, {"budget_s": 1, "curve": "exp"}, "curve"),
    ],
)
def test_latency_errors(duration, params, message):
    with pytest.raises(ValueError, match=message):
        latency("out", duration, **params)


# -- issue 10.7: agentevals' meaning of subset/superset, any arguments, LCS partial credit --------

TRIP = {
    "tool_calls": [{"name": "search", "args": {"q": "paris"}}, {"name": "book", "args": {"id": 1}}]
}


@pytest.mark.parametrize(
    ("wanted", "mode", "value"),
    [
        # agentevals trajectory_match_mode="subset": every call made was expected
        ([{"name": "search", "args": {"q": "paris"}}, {"name": "book", "args": {"id": 1}},
          {"name": "pay", "args": {}}], "subset", 1.0),
        ([{"name": "search", "args": {"q": "paris"}}], "subset", 0.0),
        # superset: every expected call was made, others allowed
        ([{"name": "search", "args": {"q": "paris"}}], "superset", 1.0),
        ([{"name": "search", "args": {"q": "paris"}}, {"name": "pay", "args": {}}], "superset", 0.0),
        # the old behaviour under names that say which side they constrain
        ([{"name": "search", "args": {"q": "paris"}}], "contains_expected", 1.0),
        ([{"name": "search", "args": {"q": "paris"}}], "within_expected", 0.0),
    ],
)  # fmt: skip
def test_subset_and_superset_mean_what_agentevals_means(wanted, mode, value):
    assert tool_calls(TRIP, wanted, mode=mode).value == value


@pytest.mark.parametrize(
    ("arguments", "wanted_args", "value"),
    [
        ("subset", {"q": "paris", "lang": "fr"}, 1.0),  # the arguments given were all expected
        ("subset", {}, 0.0),
        ("superset", {}, 1.0),  # the expected arguments (none) all appear
        ("superset", {"q": "paris", "lang": "fr"}, 0.0),
        ("within_expected", {"q": "paris", "lang": "fr"}, 1.0),
        ("contains_expected", {}, 1.0),
    ],
)
def test_argument_subset_and_superset_follow_agentevals(arguments, wanted_args, value):
    actual = {"tool_calls": [{"name": "search", "args": {"q": "paris"}}]}
    wanted = [{"name": "search", "args": wanted_args}]
    assert tool_calls(actual, wanted, arguments=arguments).value == value


def test_an_expected_call_without_arguments_matches_any_arguments():
    assert tool_calls(TRIP, [{"name": "search"}, {"name": "book"}]).value == 1.0
    assert tool_calls(TRIP, [{"name": "search", "args": {}}, {"name": "book"}]).value == 0.0
    assert tool_calls(TRIP, {"tool_calls": [{"name": "search"}, {"name": "book"}]}).value == 1.0
    fn = [{"function": {"name": "search"}}, {"function": {"name": "book", "arguments": "{}"}}]
    assert tool_calls(TRIP, fn).value == 0.0


def test_strict_order_partial_credit_is_the_longest_common_subsequence():
    actual = {"tool_calls": [{"name": n} for n in ("plan", "search", "book", "pay")]}
    wanted = ["search", "book", "pay"]
    score = tool_calls(actual, wanted, partial=True)
    assert score.value == pytest.approx(3 / 4)  # by position it was 0 of 4
    assert score.metadata["unexpected"] == ["plan({})"] and score.metadata["missing"] == []
    assert tool_calls(actual, ["pay", "search"], partial=True).value == pytest.approx(1 / 4)
