"""Unit tests of llm_judge, its verdict parser and the OpenAI-compatible adapter (fakes only)."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import types
from types import SimpleNamespace

import pytest

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.scorers import judge as judge_module
from pytest_datasetrun.scorers import llm_judge, openai_judge_model
from pytest_datasetrun.scorers.judge import DEFAULT_TEMPLATE, render_prompt
from pytest_datasetrun.scorers.judgeparse import normalise, parse_verdict


def judge(output="Paris", input="Capital of France?", expected="Paris", **params):
    return asyncio.run(llm_judge(output, input, expected, **params))


def replying(text):
    prompts = []

    def model(prompt):
        prompts.append(prompt)
        return text

    model.prompts = prompts
    return model


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ('{"score": 0.8, "reason": "close"}', (0.8, None, "close")),
        ('Here you go:\n```json\n{"score": 4, "reason": "good"}\n```', (4.0, None, "good")),
        ('{"meta": {"x": 1}, "score": "3/5", "explanation": "meh"}', (3.0, 5.0, "meh")),
        ("Score: 4/5\nReason: accurate but long", (4.0, 5.0, "accurate but long")),
        ("**Rating**: 7 out of 10", (7.0, 10.0, None)),
        ("grade = 0.25", (0.25, None, None)),
        ('prose {not json} then {"score": 1}', (1.0, None, None)),
        ({"score": 0.5, "reason": "ok"}, (0.5, None, "ok")),
    ],
)
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


@pytest.mark.parametrize(
    "reply",
    [
        "I cannot grade this.",
        "",
        '{"score": null}',
        '{"score": true}',
        '{"score": "high"}',
        {"grade": 1},
    ],
)
def test_parse_verdict_rejects_replies_without_a_score(reply):
    with pytest.raises(ValueError):
        parse_verdict(reply)


@pytest.mark.parametrize(
    ("score", "out_of", "scale", "value"),
    [
        (0.7, None, None, 0.7),
        (4, 5, None, 0.8),
        (1, None, 5, 0.0),
        (5, None, 5, 1.0),
        (4, 5, 5, 0.75),
        (2, None, 3, 0.5),
    ],
)
def test_normalise(score, out_of, scale, value):
    assert normalise(score, out_of, scale) == pytest.approx(value)


@pytest.mark.parametrize(
    ("score", "out_of", "scale", "message"),
    [
        (4, None, None, "outside 0..1"),
        (0, None, 5, "outside 1..5"),
        (8, 10, 5, "not on the 1..5 scale"),
        (float("nan"), None, None, "not finite"),
    ],
)
def test_normalise_rejects_out_of_range_scores(score, out_of, scale, message):
    with pytest.raises(ValueError, match=message):
        normalise(score, out_of, scale)


def test_render_prompt_fills_fields_once_and_leaves_other_braces():
    prompt = render_prompt(
        "{rubric}|{input}|{expected}|{output}|{scale}|{other}",
        rubric="R",
        input={"question": "q"},
        expected=None,
        output="says {expected}",
        scale=5,
    )
    assert prompt == "R|{'question': 'q'}||says {expected}|an integer from 1 to 5|{other}"


def test_default_template_asks_for_json():
    prompt = render_prompt(
        DEFAULT_TEMPLATE, rubric="R", input="i", expected="e", output="o", scale=None
    )
    assert prompt.endswith('{"score": <a number from 0 to 1>, "reason": "<one or two sentences>"}')


def test_llm_judge_scores_and_records_metadata():
    model = replying('{"score": 4, "reason": "correct, terse"}')
    score = judge(model=model, rubric="Names the capital.", scale=5, seed=7)
    assert (score.value, score.reason) == (0.75, "correct, terse")
    assert score.metadata == {
        "model": model.__qualname__,
        "temperature": 0.0,
        "seed": 7,
        "raw": '{"score": 4, "reason": "correct, terse"}',
        "attempts": 1,
        "raw_score": 4.0,
        "scale": 5,
    }
    (prompt,) = model.prompts
    assert "Names the capital." in prompt and "Capital of France?" in prompt


def test_llm_judge_passes_temperature_and_seed_when_accepted():
    received = {}

    def model(prompt, *, temperature, seed):
        received.update(temperature=temperature, seed=seed)
        return '{"score": 1}'

    def lenient(prompt, **options):
        received.update(lenient=options)
        return '{"score": 1}'

    judge(model=model, temperature=0.3, seed=1)
    judge(model=lenient, seed=2)
    assert received == {"temperature": 0.3, "seed": 1, "lenient": {"temperature": 0.0, "seed": 2}}


def test_llm_judge_awaits_async_models_and_runs_sync_ones_off_the_loop():
    threads = []

    async def async_model(prompt):
        await asyncio.sleep(0)
        return "Score: 0.9"

    def sync_model(prompt):
        threads.append(threading.current_thread() is threading.main_thread())
        return "Score: 0.4"

    assert judge(model=async_model).value == pytest.approx(0.9)
    assert judge(model=sync_model).value == pytest.approx(0.4)
    assert threads == [False]


def test_llm_judge_accepts_a_dict_or_message_reply():
    assert judge(model=lambda prompt: {"score": 0.6, "reason": "r"}).value == pytest.approx(0.6)
    message = SimpleNamespace(content='{"score": 0.2}')
    assert judge(model=lambda prompt: message).value == pytest.approx(0.2)


@pytest.mark.parametrize("reply", ["I refuse.", '{"score": 7}', None])
def test_llm_judge_unparsable_reply_errors_never_scores_zero(reply):
    with pytest.raises(ValueError, match="scorer 'llm_judge'"):
        judge(model=lambda prompt: reply)


def test_llm_judge_truncates_the_raw_reply():
    long_reply = '{"score": 1, "reason": "ok"}' + "x" * 100_000
    assert len(judge(model=lambda prompt: long_reply).metadata["raw"]) == 2000


def test_llm_judge_model_by_module_attr(monkeypatch):
    module = types.ModuleType("my_judges")
    module.strict = replying('{"score": 0}')
    monkeypatch.setitem(sys.modules, "my_judges", module)
    score = judge(model="my_judges:strict")
    assert (score.value, score.metadata["model"]) == (0.0, "my_judges:strict")


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({}, ConfigError, "needs a model"),
        ({"model": "nope"}, ConfigError, "module:attr"),
        ({"model": replying("{}"), "scale": 1}, ValueError, "scale"),
    ],
)
def test_llm_judge_configuration_errors(params, error, message):
    with pytest.raises(error, match=message):
        judge(**params)


class FakeCompletions:
    def __init__(self, reply):
        self.reply = reply
        self.requests = []

    def create(self, **kwargs):
        self.requests.append(kwargs)
        return SimpleNamespace(
            choices=[SimpleNamespace(message=SimpleNamespace(content=self.reply))]
        )


class FakeAsyncCompletions(FakeCompletions):
    async def create(self, **kwargs):
        return FakeCompletions.create(self, **kwargs)


def fake_client(completions):
    return SimpleNamespace(chat=SimpleNamespace(completions=completions))


def test_openai_judge_model_with_a_sync_client():
    completions = FakeCompletions('{"score": 5, "reason": "great"}')
    model = openai_judge_model(
        fake_client(completions), model="judge-1", system="Be strict.", max_tokens=50
    )
    score = judge(model=model, scale=5, temperature=0.0, seed=3)
    assert (score.value, score.metadata["model"]) == (1.0, "openai:judge-1")
    (request,) = completions.requests
    assert request["model"] == "judge-1"
    assert request["messages"][0] == {"role": "system", "content": "Be strict."}
    assert request["messages"][1]["role"] == "user"
    assert (request["temperature"], request["seed"], request["max_tokens"]) == (0.0, 3, 50)
    assert request["response_format"] == {"type": "json_object"}


def test_openai_judge_model_with_an_async_client():
    completions = FakeAsyncCompletions('{"score": 0.5}')
    model = openai_judge_model(fake_client(completions), json_mode=False)
    assert asyncio.iscoroutinefunction(model)
    assert judge(model=model).value == 0.5
    (request,) = completions.requests
    assert "seed" not in request and "response_format" not in request
    assert request["model"] == "gpt-4o-mini"


def test_openai_model_spec_builds_one_client_per_process(monkeypatch):
    created = []
    completions = FakeCompletions('{"score": 1}')
    fake_openai = types.ModuleType("openai")
    fake_openai.OpenAI = lambda **options: created.append(options) or fake_client(completions)
    monkeypatch.setitem(sys.modules, "openai", fake_openai)
    monkeypatch.setattr(judge_module, "_clients", {})
    assert judge(model="openai:gpt-4.1-mini").metadata["model"] == "openai:gpt-4.1-mini"
    judge(model="openai:gpt-4.1-mini")
    assert created == [{"max_retries": 0}]  # llm_judge retries, honouring Retry-After
    assert [r["model"] for r in completions.requests] == ["gpt-4.1-mini"] * 2


def test_openai_model_spec_without_openai_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)
    monkeypatch.setattr(judge_module, "_clients", {})
    with pytest.raises(ConfigError, match=r"pytest-datasetrun\[openai\]"):
        judge(model="openai:gpt-4o-mini")


def test_reply_json_roundtrip_of_metadata():
    score = judge(model=lambda prompt: '{"score": 1, "reason": "ok"}')
    json.dumps(score.metadata)
