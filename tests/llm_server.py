"""A scripted OpenAI-compatible chat server on 127.0.0.1, so the LLM client is tested over real
HTTP (retries, timeouts, concurrency and headers are transport behaviour; mocks would hide it).

The test gives a ``reply(messages, attempt)`` function; ``attempt`` is how many times this
exact message list has been received (1 on the first), so "fail twice, then answer" is one
line. It returns what to send back:

- a ``str``: a valid completion with that text;
- :class:`Status`: an HTTP status with a body and optional Retry-After;
- :class:`Raw`: a 200 with an arbitrary body (malformed replies);
- :class:`Slow`: sleep, then send the wrapped reply (timeouts, concurrency).

The server counts requests, tracks the most requests in flight at once and records each
request's Authorization header and body.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Status:
    code: int
    body: str = ""
    retry_after: str | None = None


@dataclass(frozen=True)
class Raw:
    body: str


@dataclass(frozen=True)
class Slow:
    seconds: float
    then: Any


Reply = Callable[[list[dict[str, Any]], int], Any]


def completion(text: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat.completion object; token counts are word counts, enough to check bookkeeping."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
    completion_tokens = len(text.split())
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens},
    }


class LLMServer:
    """``with LLMServer(reply) as server:`` serves on ``server.base_url`` until the block ends."""

    def __init__(self, reply: Reply):
        self.reply = reply
        self.requests = 0
        self.max_in_flight = 0
        self.authorizations: list[str | None] = []
        self.bodies: list[dict[str, Any]] = []
        self._in_flight = 0
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        # a short poll interval: shutdown() waits up to one interval, on every test's exit
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: pytest output is for test failures."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/chat/completions":
                    self._send(404, "text/plain", b"not found")
                    return
                body = json.loads(raw)
                with server._lock:
                    server.requests += 1
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                    server.authorizations.append(self.headers.get("Authorization"))
                    server.bodies.append(body)
                    identity = json.dumps(body["messages"], sort_keys=True)
                    server._seen[identity] += 1
                    attempt = server._seen[identity]
                try:
                    self._respond(server.reply(body["messages"], attempt), body["messages"])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _respond(self, reply: Any, messages: list[dict[str, Any]]) -> None:
                while isinstance(reply, Slow):
                    time.sleep(reply.seconds)
                    reply = reply.then
                if isinstance(reply, str):
                    self._send(200, "application/json", json.dumps(completion(reply, messages)).encode())
                elif isinstance(reply, Raw):
                    self._send(200, "application/json", reply.body.encode())
                elif isinstance(reply, Status):
                    extra = {"Retry-After": reply.retry_after} if reply.retry_after is not None else {}
                    self._send(reply.code, "text/plain", reply.body.encode(), extra)
                else:
                    raise TypeError(f"unknown scripted reply {reply!r}")

            def _send(self, code: int, media_type: str, payload: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler
