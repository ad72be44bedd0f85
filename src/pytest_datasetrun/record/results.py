"""Per-item results: what one dataset row produced, as public pydantic models.

A result crosses the xdist wire as the JSON text made by :func:`to_payload`: one string per
item keeps the controller's memory and garbage-collector work small on large datasets.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

__all__ = (
    "ItemStatus",
    "Usage",
    "ScorerResult",
    "RepeatResult",
    "ItemResult",
    "jsonable",
    "to_payload",
    "from_payload",
)

ItemStatus = Literal["passed", "failed", "errored", "skipped", "not_run"]


_MAX_REPR = 10_000


def jsonable(value: object) -> Any:
    """A JSON form of any value: pydantic/dataclass/datetime aware, ``repr()`` as the last resort.

    Never raises: values pydantic cannot serialise at all (reference cycles, bytes that are not
    UTF-8) are recorded as their (cut) ``repr()``.
    """
    try:
        return to_jsonable_python(value, fallback=_fallback, serialize_unknown=False)
    except Exception:  # noqa: BLE001 - a result must always be recordable
        return _fallback(value)


def _fallback(value: object) -> Any:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "…"


class Usage(BaseModel):
    """Tokens a call spent, as the result reported them (``model`` is the model the server named)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    model: str | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            model=self.model or other.model,
        )


class ScorerResult(BaseModel):
    """One scorer's outcome on one item.

    ``value`` is ``None`` exactly when the scorer errored (``error`` holds the text); an errored
    scorer is never counted as a 0. ``passed`` is ``None`` when the scorer has no threshold.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    value: float | None = None
    passed: bool | None = None
    threshold: float | None = None
    reason: str | None = None
    error: str | None = None
    duration_s: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: str = "TEST"

    @property
    def errored(self) -> bool:
        return self.error is not None


Via = Literal["target", "cache", "replay", "refused"]


class RepeatResult(BaseModel):
    """One of the K attempts of a repeated item (``--repeat K``)."""

    model_config = ConfigDict(extra="ignore")

    output: Any = None
    error: str | None = None
    scores: list[ScorerResult] = Field(default_factory=list)
    duration_s: float = 0.0
    passed: bool = False
    # Where this sample came from (see ItemResult.via).
    via: Via = "target"


class ItemResult(BaseModel):
    """What one dataset row produced: output or target error, and every scorer's result."""

    model_config = ConfigDict(extra="ignore")

    item_id: str
    node_id: str = ""
    dataset: str = ""
    index: int = 0
    input: Any = None
    expected: Any = None
    output: Any = None
    error: str | None = None
    error_type: str | None = None
    status: ItemStatus = "passed"
    scores: list[ScorerResult] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 1
    duration_s: float = 0.0
    target_duration_s: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    worker: str | None = None
    repeats: list[RepeatResult] = Field(default_factory=list)
    # Tokens the target spent on this item (all attempts and repeats); None when not reported.
    usage: Usage | None = None
    # Where the output came from: the target (any repeat called it), the call cache, a replayed
    # run, or "refused": --replay-strict refused to call the target for it (no call was made).
    via: Via = "target"
    # With --cache: this item's lookups, {"hits": n, "misses": n, "writes": n}.
    cache: dict[str, int] | None = None
    # With a price table: what the target calls cost in this run (0 for cached or replayed rows).
    cost_usd: float | None = None
    # The full result when the output is only part of it (a LangGraph state, an agent's messages).
    trace: Any = None
    # Retrieved passages the target reported (LlamaIndex source nodes).
    contexts: list[Any] | None = None
    # True when the output has no JSON form and the record could keep only its repr().
    output_is_repr: bool = False

    def score(self, scorer_id: str) -> ScorerResult | None:
        """The result of the scorer with this id (or name), if it ran on this item."""
        for result in self.scores:
            if scorer_id in (result.id, result.name):
                return result
        return None


def to_payload(result: ItemResult) -> str:
    """The JSON text that travels on the item's report (xdist-serialisable)."""
    return result.model_dump_json(fallback=repr)


def from_payload(payload: str) -> ItemResult:
    """The inverse of :func:`to_payload`."""
    return ItemResult.model_validate_json(payload)
