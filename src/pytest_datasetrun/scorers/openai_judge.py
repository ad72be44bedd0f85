"""An OpenAI-compatible client (sync or async, the real SDK or a look-alike) as an ``llm_judge`` model."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ("JudgeReply", "openai_judge_model")


class JudgeReply(str):
    """The judge's reply text, carrying the tokens it cost and the model the server named."""

    usage: dict[str, int] | None = None
    model: str | None = None

    @classmethod
    def of(cls, response: Any) -> JudgeReply:
        reply = cls(response.choices[0].message.content or "")
        usage = getattr(response, "usage", None)
        if usage is not None:
            counts = {
                "input_tokens": getattr(usage, "prompt_tokens", None),
                "output_tokens": getattr(usage, "completion_tokens", None),
                "total_tokens": getattr(usage, "total_tokens", None),
            }
            reply.usage = {k: v for k, v in counts.items() if isinstance(v, int)}
        model = getattr(response, "model", None)
        reply.model = model if isinstance(model, str) else None
        return reply


def _is_async(create: Any) -> bool:
    # The SDK wraps AsyncOpenAI's create (functools.wraps), which hides the coroutine function.
    return inspect.iscoroutinefunction(create) or inspect.iscoroutinefunction(
        inspect.unwrap(create)
    )


def openai_judge_model(
    client: Any,
    model: str = "gpt-4o-mini",
    *,
    system: str | None = None,
    json_mode: bool = True,
    **create_kwargs: Any,
) -> Callable[..., Any]:
    """Adapt an OpenAI-compatible client (sync or async) into an ``llm_judge`` model callable.

    The callable sends the prompt as one user message (after ``system``, if given) through
    ``client.chat.completions.create`` and returns the reply text, with the usage and the model
    the server reported (recorded by ``llm_judge``). Nothing is imported from ``openai``: any
    object with that method works (vLLM, Ollama, LiteLLM proxies...).

    :param client: an ``openai.OpenAI``/``AsyncOpenAI`` instance or a look-alike.
    :param model: the model name.
    :param system: an optional system message.
    :param json_mode: request ``response_format={"type": "json_object"}``.
    :param create_kwargs: more arguments for ``create`` (``max_tokens``...).
    :returns: ``judge(prompt, *, temperature=0.0, seed=None)``, async if the client is.
    """
    create = client.chat.completions.create

    def request(prompt: str, temperature: float, seed: int | None) -> dict[str, Any]:
        messages = [{"role": "system", "content": system}] if system else []
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": [*messages, {"role": "user", "content": prompt}],
            "temperature": temperature,
        }
        if seed is not None:
            kwargs["seed"] = seed
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        return {**kwargs, **create_kwargs}

    async def finish(pending: Any) -> JudgeReply:
        return JudgeReply.of(await pending)

    if _is_async(create):

        async def async_judge(
            prompt: str, *, temperature: float = 0.0, seed: int | None = None
        ) -> JudgeReply:
            return await finish(create(**request(prompt, temperature, seed)))

        judge: Callable[..., Any] = async_judge
    else:

        def judge(prompt: str, *, temperature: float = 0.0, seed: int | None = None) -> Any:
            # A create that returns an awaitable is async whatever its signature says.
            response = create(**request(prompt, temperature, seed))
            return finish(response) if inspect.isawaitable(response) else JudgeReply.of(response)

    judge.judge_name = f"openai:{model}"  # type: ignore[attr-defined]
    return judge
