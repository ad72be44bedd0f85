"""LlamaIndex query engines, workflows and agents with its own MockLLM and MockEmbedding."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core")

ENGINES = r"""
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
import pytest_datasetrun as dr

Settings.llm = MockLLM(max_tokens=3)
Settings.embed_model = MockEmbedding(embed_dim=8)
docs = [Document(text="Paris is the capital of France.")]
engine = dr.target(VectorStoreIndex.from_documents(docs).as_query_engine(similarity_top_k=1), id="engine")


class Echo(Workflow):
    @step
    async def answer(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=f"answer to {ev.input}")


workflow = dr.target(factory=lambda: Echo(timeout=10), id="workflow")
"""


def test_query_engine_text_and_source_nodes_as_contexts(fw, mode):
    rows = [{"id": "q", "input": "capital of France?", "expected": "text text text"}]
    result, record = fw.run(ENGINES, "engine", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "text text text" and record.target.kind == "llama-index"
    assert item.contexts == ["Paris is the capital of France."]


def test_workflow_gets_the_row_as_input_not_as_its_context(fw):
    rows = [{"id": "q", "input": "q1", "expected": "answer to q1"}]
    result, record = fw.run(ENGINES, "workflow", rows, "--scorer=exact_match>=1")
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "answer to q1"
