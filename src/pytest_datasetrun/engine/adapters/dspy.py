"""DSPy modules: called with the row's input as the signature's input fields; the answer is a field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Extracted, is_instance_of

__all__ = ("ADAPTER", "output")

# Fields that explain an answer rather than being it: kept in the trace.
_EXPLANATIONS = ("reasoning", "rationale", "trajectory")


def _input_field(module: Any) -> str:
    for _, predictor in type(module).named_predictors(module):
        fields = getattr(getattr(predictor, "signature", None), "input_fields", None)
        if fields:
            return str(next(iter(fields)))
    return "question"


def _call(module: Any, value: Any) -> Any:
    """``module(**row)`` for a dict row, else ``module(<first input field>=row)``."""
    if isinstance(value, Mapping):
        return module(**value)
    return module(**{_input_field(module): value})


def output(result: Any) -> Extracted | None:
    """A ``Prediction``: its one answer field, or a dict of its answer fields."""
    if not is_instance_of(result, "dspy.primitives.prediction.Prediction"):
        return None
    fields = dict(result.items())
    answers = {key: value for key, value in fields.items() if key not in _EXPLANATIONS}
    answer = next(iter(answers.values())) if len(answers) == 1 else answers
    return Extracted(answer, trace=fields if len(fields) > 1 else None)


ADAPTER = Adapter(
    "dspy",
    ("dspy.primitives.module.Module", "dspy.primitives.base_module.BaseModule"),
    _call,
    is_async=False,
    exclude=("dspy.clients.base_lm.BaseLM",),
)
