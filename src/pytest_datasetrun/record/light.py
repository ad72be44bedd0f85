"""Light per-row results for the hot path: the fields of the result models in slotted objects.

Every row of a run makes one result. Building the public pydantic models for it
(:class:`~pytest_datasetrun.record.results.ItemResult` and one
:class:`~pytest_datasetrun.record.results.ScorerResult` per scorer, each validated) cost more
than a test body (issue 15). :class:`ScoreRow` and :class:`ResultRow` carry the same fields
under the same names, so whatever reads a result reads either; :meth:`ResultRow.payload` is the
same JSON text as the model's ``model_dump_json``, and :meth:`ResultRow.model` builds the model
when something asks for it. The values put in must already have their field's type (floats
as ``float``): the engine makes them so.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

try:  # the ``fast`` extra
    import orjson
except ImportError:  # pragma: no cover - exercised when orjson is not installed
    orjson = None  # type: ignore[assignment]

from pytest_datasetrun.record.results import ItemResult, RepeatResult, ScorerResult, Usage

__all__ = ("ScoreRow", "ResultRow", "dumps_like_pydantic", "payload_of")


class ScoreRow:
    """One scorer's outcome on one row: the fields of :class:`ScorerResult`."""

    __slots__ = (
        "duration_s",
        "error",
        "id",
        "metadata",
        "name",
        "passed",
        "reason",
        "source",
        "threshold",
        "value",
    )

    def __init__(
        self,
        id: str,
        name: str,
        value: float | None = None,
        passed: bool | None = None,
        threshold: float | None = None,
        reason: str | None = None,
        error: str | None = None,
        duration_s: float = 0.0,
        metadata: dict[str, Any] | None = None,
        source: str = "TEST",
    ) -> None:
        self.id = id
        self.name = name
        self.value = value
        self.passed = passed
        self.threshold = threshold
        self.reason = reason
        self.error = error
        self.duration_s = duration_s
        self.metadata = {} if metadata is None else metadata
        self.source = source

    @property
    def errored(self) -> bool:
        return self.error is not None

    def as_dict(self) -> dict[str, Any]:
        """The fields in the model's order (what ``model_dump`` gives)."""
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "passed": self.passed,
            "threshold": self.threshold,
            "reason": self.reason,
            "error": self.error,
            "duration_s": self.duration_s,
            "metadata": self.metadata,
            "source": self.source,
        }

    def model(self) -> ScorerResult:
        return ScorerResult.model_validate(self.as_dict())


def _score_dict(score: ScoreRow | ScorerResult) -> dict[str, Any]:
    return score.as_dict() if type(score) is ScoreRow else score.model_dump()


class ResultRow:
    """What one dataset row produced: the fields of :class:`ItemResult` (scores as :class:`ScoreRow`)."""

    __slots__ = tuple(ItemResult.model_fields)

    def __init__(
        self,
        *,
        item_id: str,
        node_id: str = "",
        dataset: str = "",
        index: int = 0,
        input: Any = None,
        expected: Any = None,
        output: Any = None,
        error: str | None = None,
        error_type: str | None = None,
        status: str = "passed",
        scores: list[Any] | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        attempts: int = 1,
        duration_s: float = 0.0,
        target_duration_s: float = 0.0,
        started_at: float = 0.0,
        finished_at: float = 0.0,
        worker: str | None = None,
        repeats: list[RepeatResult] | None = None,
        usage: Usage | None = None,
        via: str = "target",
        cache: dict[str, int] | None = None,
        cost_usd: float | None = None,
        trace: Any = None,
        contexts: list[Any] | None = None,
        output_is_repr: bool = False,
    ) -> None:
        self.item_id = item_id
        self.node_id = node_id
        self.dataset = dataset
        self.index = index
        self.input = input
        self.expected = expected
        self.output = output
        self.error = error
        self.error_type = error_type
        self.status = status
        self.scores = [] if scores is None else scores
        self.tags = [] if tags is None else tags
        self.metadata = {} if metadata is None else metadata
        self.attempts = attempts
        self.duration_s = duration_s
        self.target_duration_s = target_duration_s
        self.started_at = started_at
        self.finished_at = finished_at
        self.worker = worker
        self.repeats = [] if repeats is None else repeats
        self.usage = usage
        self.via = via
        self.cache = cache
        self.cost_usd = cost_usd
        self.trace = trace
        self.contexts = contexts
        self.output_is_repr = output_is_repr
        if contexts is not None and type(contexts) is not list:
            self.model()  # what the model would refuse, refused here in the same words

    def score(self, scorer_id: str) -> ScoreRow | ScorerResult | None:
        """As :meth:`ItemResult.score <pytest_datasetrun.record.results.ItemResult.score>`."""
        for result in self.scores:
            if scorer_id in (result.id, result.name):
                return result  # type: ignore[no-any-return]
        return None

    def as_dict(self) -> dict[str, Any]:
        """The fields in the model's order, nested values as plain dicts (``model_dump``)."""
        usage = self.usage
        return {
            "item_id": self.item_id,
            "node_id": self.node_id,
            "dataset": self.dataset,
            "index": self.index,
            "input": self.input,
            "expected": self.expected,
            "output": self.output,
            "error": self.error,
            "error_type": self.error_type,
            "status": self.status,
            "scores": [_score_dict(score) for score in self.scores],
            "tags": self.tags,
            "metadata": self.metadata,
            "attempts": self.attempts,
            "duration_s": self.duration_s,
            "target_duration_s": self.target_duration_s,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "worker": self.worker,
            "repeats": [repeat.model_dump() for repeat in self.repeats],
            "usage": None if usage is None else usage.model_dump(),
            "via": self.via,
            "cache": self.cache,
            "cost_usd": self.cost_usd,
            "trace": self.trace,
            "contexts": self.contexts,
            "output_is_repr": self.output_is_repr,
        }

    def payload(self) -> str:
        """The JSON text :func:`~pytest_datasetrun.record.results.to_payload` gives for the model."""
        return dumps_like_pydantic(self.as_dict()).decode()

    def model(self) -> ItemResult:
        """The public, validated model."""
        return ItemResult.model_validate(self.as_dict())


# orjson writes what pydantic's serializer writes for JSON values (the same float and string
# forms, NaN and infinities as null); anything else (dates, bytes, subclasses, ints beyond 64
# bits, non-string keys) goes to pydantic_core, so the text never depends on orjson being there.
_PASSTHROUGH = (
    0
    if orjson is None
    else orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _refuse(value: Any) -> Any:
    raise TypeError


def dumps_like_pydantic(data: Any) -> bytes:
    """``data`` as the compact JSON pydantic's ``model_dump_json(fallback=repr)`` writes."""
    if orjson is not None:
        try:
            return orjson.dumps(data, default=_refuse, option=_PASSTHROUGH)
        except TypeError:
            pass
    return to_json(data, fallback=repr, inf_nan_mode="null")


def payload_of(result: ResultRow | ItemResult) -> str:
    """The JSON text of a result, light or model (one line, as items files hold it)."""
    if type(result) is ResultRow:
        return result.payload()
    return result.model_dump_json(fallback=repr)  # type: ignore[union-attr]
