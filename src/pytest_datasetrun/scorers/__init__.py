"""The built-in scorer library: plain functions the engine calls as ``fn(output, **context, **params)``.

:data:`BUILTINS` maps each scorer id (its function name) to the function, in a stable order.
Scorers needing an optional dependency carry ``__datasetrun_requires__ = (module, extra)``;
:func:`check_requirements` raises :class:`~pytest_datasetrun.errors.ConfigError` when it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._util import check_requirements, to_text
from .agents import latency, no_tool_errors, tool_calls
from .judge import llm_judge, openai_judge_model
from .numbers import numeric_close
from .semantic import semantic_similarity
from .similarity import fuzzy_ratio, levenshtein, rouge_l, token_f1
from .structure import json_match, json_schema, json_valid
from .text import (
    contains,
    contains_all,
    contains_any,
    exact_match,
    excludes,
    length,
    regex,
    starts_with,
)

__all__ = (
    "BUILTINS",
    "check_requirements",
    "to_text",
    "exact_match",
    "contains",
    "contains_all",
    "contains_any",
    "excludes",
    "starts_with",
    "regex",
    "length",
    "fuzzy_ratio",
    "levenshtein",
    "token_f1",
    "rouge_l",
    "json_valid",
    "json_match",
    "json_schema",
    "numeric_close",
    "tool_calls",
    "no_tool_errors",
    "latency",
    "semantic_similarity",
    "llm_judge",
    "openai_judge_model",
)

BUILTINS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        exact_match,
        contains,
        contains_all,
        contains_any,
        excludes,
        starts_with,
        regex,
        length,
        fuzzy_ratio,
        levenshtein,
        token_f1,
        rouge_l,
        json_valid,
        json_match,
        json_schema,
        numeric_close,
        tool_calls,
        no_tool_errors,
        latency,
        semantic_similarity,
        llm_judge,
    )
}
