"""Haystack pipelines with a chat generator component (Haystack ships no mock generator)."""

from __future__ import annotations

import pytest

pytest.importorskip("haystack")

PIPELINES = r"""
import os
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"
from haystack import Pipeline, component
from haystack.components.builders import ChatPromptBuilder
from haystack.dataclasses import ChatMessage
import pytest_datasetrun as dr


@component
class EchoGenerator:
    @component.output_types(replies=list[ChatMessage])
    def run(self, messages: list[ChatMessage]):
        usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        reply = ChatMessage.from_assistant(f"echo: {messages[-1].text}", meta={"model": "echo-1", "usage": usage})
        return {"replies": [reply]}


pipeline = Pipeline()
pipeline.add_component("prompt", ChatPromptBuilder(template=[ChatMessage.from_user("{{question}}")], required_variables=["question"]))
pipeline.add_component("llm", EchoGenerator())
pipeline.connect("prompt.prompt", "llm.messages")
echo = dr.target(pipeline, id="echo")
"""


def test_pipeline_reply_text_is_the_output(fw, mode):
    rows = [{"id": "q", "input": {"prompt": {"question": "hi"}}, "expected": "echo: hi"}]
    result, record = fw.run(PIPELINES, "echo", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "echo: hi" and record.target.kind == "haystack"
    assert (item.usage.total_tokens, item.usage.model) == (5, "echo-1")


def test_pipeline_given_a_string_says_what_it_needs(fw):
    rows = [{"id": "q", "input": "hi"}]
    result, record = fw.run(PIPELINES, "echo", rows)
    result.assert_outcomes(errors=1)  # the target raised: an errored row (#14)
    assert "a Haystack pipeline takes its inputs as a dict per component" in record.items[0].error
