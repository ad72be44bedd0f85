"""Token usage: read from each framework's own result shape, and recorded per item."""

from __future__ import annotations

import json

import pytest

from pytest_datasetrun.engine.usage import Usage, read_usage, sum_usage
from pytest_datasetrun.record.results import ItemResult

CHAT_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "gpt-test-2026",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "42"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
}


def test_plain_dict_in_openai_shape():
    assert read_usage(CHAT_COMPLETION) == Usage(
        input_tokens=11, output_tokens=7, total_tokens=18, model="gpt-test-2026"
    )


@pytest.mark.parametrize("value", [None, "text", 3, {"answer": 1}, [], ["a", "b"], object()])
def test_no_usage(value):
    assert read_usage(value) is None


def test_openai_chat_completion_and_response():
    chat = pytest.importorskip("openai.types.chat")
    completion = chat.ChatCompletion.model_validate(CHAT_COMPLETION)
    assert read_usage(completion) == Usage(
        input_tokens=11, output_tokens=7, total_tokens=18, model="gpt-test-2026"
    )
    from openai.types.responses import Response

    response = Response.model_validate(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 0,
            "status": "completed",
            "model": "gpt-resp",
            "output": [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": 5,
                "output_tokens": 2,
                "total_tokens": 7,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }
    )
    assert read_usage(response) == Usage(
        input_tokens=5, output_tokens=2, total_tokens=7, model="gpt-resp"
    )


def test_langchain_message_and_langgraph_state():
    messages = pytest.importorskip("langchain_core.messages")
    meta = {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    first = messages.AIMessage(
        content="", usage_metadata=meta, response_metadata={"model_name": "m1"}
    )
    second = messages.AIMessage(content="done", usage_metadata=meta)
    assert read_usage(first) == Usage(input_tokens=5, output_tokens=3, total_tokens=8, model="m1")
    state = {"messages": [messages.HumanMessage(content="q"), first, second]}
    assert read_usage(state) == Usage(input_tokens=10, output_tokens=6, total_tokens=16, model="m1")
    assert read_usage(messages.AIMessage(content="no usage")) is None


def test_pydantic_ai_run_result():
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel

    result = Agent(TestModel(custom_output_text="Paris")).run_sync("capital?")
    usage = read_usage(result)
    assert usage is not None
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.model == "test"


def test_sum_usage():
    one = Usage(input_tokens=1, output_tokens=2, total_tokens=3, model="a")
    assert sum_usage([None, one, one]) == Usage(
        input_tokens=2, output_tokens=4, total_tokens=6, model="a"
    )
    assert sum_usage([None]) is None


def test_old_records_without_usage_still_load():
    old = {"item_id": "a", "output": "x"}
    assert ItemResult.model_validate(old).usage is None


USAGE_CONFTEST = r"""
import pytest_datasetrun as dr


@dr.target(id="counted")
def counted(input):
    return {"answer": input, "model": "m-7",
            "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}
"""


@pytest.mark.parametrize("extra", [[], ["--repeat", "2"]], ids=["once", "repeat2"])
def test_usage_is_recorded_per_item(pytester, mode, extra):
    pytester.makeconftest(USAGE_CONFTEST)
    (pytester.path / "d.jsonl").write_text(json.dumps({"id": "a", "input": "x"}) + "\n")
    result = pytester.runpytest(
        "--dataset=d.jsonl", "--target=counted", "--run-store=runs.json", *mode, *extra
    )
    result.assert_outcomes(passed=1)
    from pytest_datasetrun.store.runstore import open_store

    item = open_store(pytester.path / "runs.json").get("latest").items[0]
    times = 2 if extra else 1
    assert item.usage == Usage(
        input_tokens=4 * times, output_tokens=times, total_tokens=5 * times, model="m-7"
    )
