"""Framework tests: a project runner and an OpenAI-compatible server on 127.0.0.1 (stdlib only)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Framework:
    """A pytester project: write a conftest, run rows against a target, read the stored run."""

    pytester: pytest.Pytester

    def run(self, conftest: str, target: str, rows: list[dict[str, Any]], *args: str) -> Any:
        self.pytester.makeconftest(conftest)
        path = self.pytester.path / "d.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        result = self.pytester.runpytest(
            "--dataset=d.jsonl", f"--target={target}", "--run-store=runs.json", *args
        )
        from pytest_datasetrun.store.runstore import open_store

        store = self.pytester.path / "runs.json"
        return result, open_store(store).get("latest") if store.exists() else None


@pytest.fixture
def fw(pytester: pytest.Pytester) -> Framework:
    return Framework(pytester)


@dataclass
class ServerState:
    answer: str = "42"
    fail_429: int = 0
    retry_after: str = "0.2"
    tool_call: bool = True
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)


class _Handler(BaseHTTPRequestHandler):
    server_version = "loopback-openai/0"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self, code: int, body: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        state.requests.append((self.path, request))
        if state.fail_429 > 0:
            state.fail_429 -= 1
            error = {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit"}}
            self._send(429, error, (("Retry-After", state.retry_after),))
            return
        n = next(state.counter)
        if self.path.endswith("/chat/completions"):
            self._send(200, _completion(state, request, n))
        elif self.path.endswith("/responses"):
            self._send(200, _response(state, request, n))
        else:
            self._send(404, {"error": {"message": "not found"}})


def _completion(state: ServerState, request: dict[str, Any], n: int) -> dict[str, Any]:
    tools = request.get("tools")
    answered = any(m.get("role") == "tool" for m in request.get("messages", []))
    names = [tool["function"]["name"] for tool in tools or []]
    if "final_answer" in names:  # smolagents' tool-calling agents answer through a tool
        call = {"id": f"call_{n}", "type": "function"}
        call["function"] = {
            "name": "final_answer",
            "arguments": json.dumps({"answer": state.answer}),
        }
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
    elif tools and state.tool_call and not answered:
        call = {"id": f"call_{n}", "type": "function"}
        call["function"] = {"name": names[0], "arguments": json.dumps({"a": 1, "b": 2})}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    else:
        message = {"role": "assistant", "content": state.answer}
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{request.get('model', 'fake')}-2026-01-01",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def _response(state: ServerState, request: dict[str, Any], n: int) -> dict[str, Any]:
    text = {"type": "output_text", "text": state.answer, "annotations": []}
    item = {"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed"}
    return {
        "id": f"resp_{n}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": request.get("model", "fake"),
        "output": [{**item, "content": [text]}],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 11,
            "output_tokens": 7,
            "total_tokens": 18,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


@dataclass
class Server:
    url: str
    state: ServerState


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """An OpenAI-compatible server on 127.0.0.1; its URL is also in OPENAI_BASE_URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback")
    try:
        yield Server(url, httpd.state)  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
