"""The real openai SDK against a loopback server: targets returning OpenAI results, and judges."""

from __future__ import annotations

import pytest

pytest.importorskip("openai")

VERDICT = '{"score": 1, "reason": "matches the reference"}'

JUDGES = r"""
import os
from openai import AsyncOpenAI, OpenAI
import pytest_datasetrun as dr
from pytest_datasetrun.scorers import llm_judge, openai_judge_model

async_judge = openai_judge_model(AsyncOpenAI(max_retries=0), model="judge-a")
sync_judge = openai_judge_model(OpenAI(max_retries=0), model="judge-s")


@dr.scorer(id="async_judge", threshold=0.5)
async def async_judge_scorer(output, input, expected, retries):
    return await llm_judge(output, input, expected, model=async_judge, retries=retries)


@dr.scorer(id="sync_judge", threshold=0.5)
async def sync_judge_scorer(output, input, expected, retries):
    return await llm_judge(output, input, expected, model=sync_judge, retries=retries)


@dr.target(id="echo")
def echo(input):
    return input
"""

ROWS = [{"id": "q", "input": "Paris", "expected": "Paris"}]


@pytest.mark.parametrize("judge", ["async_judge", "sync_judge"])
def test_judge_with_the_real_sdk_records_usage_and_served_model(fw, openai_server, mode, judge):
    openai_server.state.answer = VERDICT
    result, record = fw.run(JUDGES, "echo", ROWS, f"--scorer={judge}", *mode)
    result.assert_outcomes(passed=1)
    score = record.items[0].score(judge)
    assert score.value == 1.0 and score.reason == "matches the reference"
    served = "judge-a" if judge == "async_judge" else "judge-s"
    assert score.metadata["served_model"] == f"{served}-2026-01-01"
    assert score.metadata["usage"] == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}


def test_judge_retries_a_429_after_retry_after_under_max_retries(fw, openai_server):
    openai_server.state.answer = VERDICT
    openai_server.state.fail_429 = 1
    result, record = fw.run(JUDGES, "echo", ROWS, "--scorer=async_judge", "--max-retries=2")
    result.assert_outcomes(passed=1)
    score = record.items[0].score("async_judge")
    assert score.value == 1.0 and score.metadata["attempts"] == 2
    assert len(openai_server.state.requests) == 2


def test_judge_without_retries_reports_the_rate_limit(fw, openai_server):
    openai_server.state.answer = VERDICT
    openai_server.state.fail_429 = 1
    result, record = fw.run(JUDGES, "echo", ROWS, "--scorer=async_judge")
    result.assert_outcomes(errors=1)  # the row with an errored scorer (#14)
    score = record.items[0].score("async_judge")
    assert score.value is None and score.error.startswith("RateLimitError: Error code: 429")


def test_openai_shortcut_takes_base_url_timeout_and_max_retries(fw, openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    openai_server.state.answer = VERDICT
    openai_server.state.fail_429 = 1
    spec = (
        f'llm_judge(model="openai:judge-o", base_url="{openai_server.url}", timeout=5, '
        "max_retries=1)>=0.5"
    )
    result, record = fw.run(JUDGES, "echo", ROWS, f"--scorer={spec}")
    result.assert_outcomes(passed=1)
    score = record.items[0].score("llm_judge")
    assert score.metadata["attempts"] == 2 and score.metadata["model"] == "openai:judge-o"
    assert [path for path, _ in openai_server.state.requests] == ["/v1/chat/completions"] * 2


TARGETS = r"""
from openai import OpenAI
import pytest_datasetrun as dr

client = OpenAI(max_retries=0)


@dr.target(id="chat")
def chat(input):
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": input}])


@dr.target(id="responses")
def responses(input):
    return client.responses.create(model="r", input=input)


@dr.target(id="tool_chat")
def tool_chat(input):
    tool = {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": input}], tools=[tool]
    )
"""


@pytest.mark.parametrize("target", ["chat", "responses"])
def test_openai_results_are_scored_on_their_text(fw, openai_server, mode, target):
    openai_server.state.answer = "Paris"
    result, record = fw.run(TARGETS, target, ROWS, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "Paris"
    assert (item.usage.input_tokens, item.usage.output_tokens, item.usage.total_tokens) == (
        11,
        7,
        18,
    )
    assert item.usage.model in ("m-2026-01-01", "r")


def test_chat_tool_calls_are_read_from_the_completion(fw, openai_server):
    rows = [
        {"id": "q", "input": "1+2", "expected": [{"name": "add", "arguments": {"a": 1, "b": 2}}]}
    ]
    result, record = fw.run(TARGETS, "tool_chat", rows, "--scorer=tool_calls>=1")
    result.assert_outcomes(passed=1)
    assert record.items[0].output is None


def test_a_target_rate_limited_is_retried_after_retry_after(fw, openai_server):
    openai_server.state.answer = "Paris"
    openai_server.state.fail_429 = 1
    result, record = fw.run(TARGETS, "chat", ROWS, "--max-retries=1", "--scorer=exact_match>=1")
    result.assert_outcomes(passed=1)
    assert record.items[0].attempts == 2
