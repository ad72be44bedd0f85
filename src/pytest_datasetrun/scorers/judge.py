"""LLM-as-judge: ask a model to grade the output against a rubric, and read its verdict.

The ``model`` is any callable taking the prompt **string** and returning the reply text (or an
awaitable of it, or a dict with ``score``). If it accepts ``temperature`` and ``seed``
keywords (or ``**kwargs``) they are passed on. Sync callables run in a worker thread so they do
not block the event loop. :func:`openai_judge_model` adapts any OpenAI-compatible client.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.score import Score

from ._util import (
    all_checks,
    import_optional,
    import_param,
    resolve_callable,
    to_text,
    trusted_param,
)
from .judgeparse import normalise, parse_verdict
from .openai_judge import openai_judge_model
from .transient import backoff_delay, is_transient

__all__ = ("llm_judge", "openai_judge_model", "render_prompt", "DEFAULT_TEMPLATE", "DEFAULT_RUBRIC")

DEFAULT_RUBRIC = (
    "The output answers the input correctly and completely. If an expected answer is given, "
    "the output agrees with it in substance (wording may differ)."
)
DEFAULT_TEMPLATE = """You are a strict, fair evaluator. Grade the OUTPUT against the RUBRIC.

RUBRIC:
{rubric}

INPUT:
{input}

EXPECTED (reference answer, may be empty):
{expected}

OUTPUT:
{output}

Reply with only a JSON object: {"score": <{scale}>, "reason": "<one or two sentences>"}"""

_FIELDS = re.compile(r"\{(rubric|input|expected|output|scale)\}")
_RAW_LIMIT = 2000
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def render_prompt(
    template: str, *, rubric: str, input: Any, expected: Any, output: Any, scale: int | None
) -> str:
    """Fill ``{rubric}``, ``{input}``, ``{expected}``, ``{output}`` and ``{scale}`` in one pass.

    Other braces are left alone, so templates may show JSON without escaping, and a value
    containing ``{output}`` is never substituted again.
    """
    values = {
        "rubric": rubric,
        "input": to_text(input),
        "expected": to_text(expected),
        "output": to_text(output),
        "scale": "a number from 0 to 1" if scale is None else f"an integer from 1 to {scale}",
    }
    return _FIELDS.sub(lambda match: values[match[1]], template)


def _openai_model(name: str, client_options: dict[str, Any]) -> Callable[..., Any]:
    """One client per process and options; its own retries are off: ``llm_judge`` retries."""
    key = "openai" + "".join(f";{k}={v}" for k, v in sorted(client_options.items()))
    with _clients_lock:
        if key not in _clients:
            openai = import_optional("openai", "llm_judge", "openai")
            _clients[key] = openai.OpenAI(max_retries=0, **client_options)
        client = _clients[key]
    return openai_judge_model(client, model=name)


def _resolve_model(model: Any, client_options: dict[str, Any]) -> tuple[Callable[..., Any], str]:
    if model is None:
        raise ConfigError(
            "scorer 'llm_judge' needs a model param: a callable, 'module:attr' or 'openai:<model>'"
        )
    if isinstance(model, str) and model.startswith("openai:"):
        return _openai_model(model.removeprefix("openai:"), client_options), model
    fn = resolve_callable(model, "model", "llm_judge")
    name = model if isinstance(model, str) else getattr(fn, "judge_name", None)
    return fn, name or getattr(fn, "__qualname__", None) or repr(fn)


def _accepts(fn: Callable[..., Any], keyword: str) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == keyword or p.kind is p.VAR_KEYWORD for p in parameters)


async def _ask(fn: Callable[..., Any], prompt: str, options: dict[str, Any]) -> Any:
    kwargs = {key: value for key, value in options.items() if _accepts(fn, key)}
    if inspect.iscoroutinefunction(fn):
        return await fn(prompt, **kwargs)
    reply = await asyncio.to_thread(fn, prompt, **kwargs)
    return await reply if inspect.isawaitable(reply) else reply


async def _ask_with_retries(
    fn: Callable[..., Any], prompt: str, options: dict[str, Any], retries: int
) -> tuple[Any, int]:
    """Ask; retry transient failures (rate limits, timeouts, 5xx) after ``Retry-After``/backoff."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await _ask(fn, prompt, options), attempt
        except Exception as exc:
            if attempt > retries or not is_transient(exc):
                raise
            await asyncio.sleep(backoff_delay(exc, attempt))


def _reply_metadata(reply: Any, attempts: int) -> dict[str, Any]:
    found: dict[str, Any] = {"attempts": attempts}
    usage, served = getattr(reply, "usage", None), getattr(reply, "model", None)
    if isinstance(usage, dict):
        found["usage"] = usage
    if isinstance(served, str):
        found["served_model"] = served
    return found


async def llm_judge(
    output: Any,
    input: Any = None,
    expected: Any = None,
    *,
    rubric: str | None = None,
    model: Any = None,
    scale: int | None = None,
    temperature: float = 0.0,
    seed: int | None = None,
    template: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    retries: int = 0,
) -> Score:
    """An LLM grades the output against a rubric; its verdict is normalised to ``[0, 1]``.

    :param output: the target's output, read as text.
    :param input: the row's input, shown to the judge.
    :param expected: the row's expected value, shown to the judge as a reference (optional).
    :param rubric: what a good output is; a generic correctness rubric when unset.
    :param model: the judge: a callable (sync or async) ``prompt -> reply text``, a
        ``"module:attr"`` string naming one, or ``"openai:<model name>"`` (needs the
        ``openai`` extra; reads ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``).
    :param scale: ask for an integer from 1 to ``scale`` instead of a number from 0 to 1.
    :param temperature: passed to the model if it accepts ``temperature``; recorded.
    :param seed: passed to the model if it accepts ``seed``; recorded.
    :param template: a prompt template with ``{rubric}``, ``{input}``, ``{expected}``,
        ``{output}``, ``{scale}`` fields; :data:`DEFAULT_TEMPLATE` when unset.
    :param base_url: for ``openai:<model>``: the server (else ``OPENAI_BASE_URL``).
    :param timeout: for ``openai:<model>``: seconds per request.
    :param max_retries: retries of transient failures (rate limits, timeouts, 5xx, lost
        connections), after the server's ``Retry-After`` or a jittered backoff; defaults to
        ``--max-retries``.
    :param retries: ``--max-retries``, given by the engine.
    :raises ValueError: when the judge's reply holds no usable score (never scored 0).
    """
    options = {"base_url": base_url, "timeout": timeout}
    fn, name = _resolve_model(model, {k: v for k, v in options.items() if v is not None})
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int) or scale < 2):
        raise ValueError(f"scorer 'llm_judge': scale must be an integer >= 2, not {scale!r}")
    prompt = render_prompt(
        template or DEFAULT_TEMPLATE,
        rubric=rubric or DEFAULT_RUBRIC,
        input=input,
        expected=expected,
        output=output,
        scale=scale,
    )
    allowed = retries if max_retries is None else max_retries
    reply, attempts = await _ask_with_retries(
        fn, prompt, {"temperature": temperature, "seed": seed}, allowed
    )
    raw = reply if isinstance(reply, Mapping) else to_text(reply)
    metadata = {
        "model": name,
        "temperature": temperature,
        "seed": seed,
        "raw": (str(dict(raw)) if isinstance(raw, Mapping) else raw)[:_RAW_LIMIT],
        **_reply_metadata(reply, attempts),
    }
    try:
        score, out_of, reason = parse_verdict(raw)
        value = normalise(score, out_of, scale)
    except ValueError as exc:
        raise ValueError(f"scorer 'llm_judge' ({name}): {exc}") from exc
    metadata.update(raw_score=score, scale=scale)
    return Score(value, reason=reason or f"judged {score:g}", metadata=metadata)


# A dataset file may name an OpenAI model, not code to import, and may not choose the server
# that every row's input and output are sent to (see engine/imports.py).
llm_judge.__datasetrun_data_check__ = all_checks(  # type: ignore[attr-defined]
    import_param("model", not_imports=("openai:",)),
    trusted_param("base_url", "chooses the server the rows' text is sent to"),
)
