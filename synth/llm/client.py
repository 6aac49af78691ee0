"""A client for any OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI).

Only ``POST {base_url}/chat/completions`` is used, with a plain JSON body, so the same code
talks to a local vLLM and to a hosted API. A batch is a list of message lists; requests run
on a thread pool over one shared ``httpx.Client`` (connection reuse, at most
``max_concurrency`` in flight: the server's batch size, not ours, should bound throughput).

Failure policy, per request:

- 429, 5xx, timeouts and connection errors are transient: retried with exponential backoff
  plus jitter, waiting at least the server's ``Retry-After`` (capped at ``backoff_max_s`` so a
  wrong header cannot stall a batch);
- any other 4xx, and a 200 whose body is not a chat completion (not JSON, no choices, no
  message content), is permanent: no retry, a failed result naming the problem;
- a request that still fails is a failed :class:`ChatResult` with its error, never an
  exception and never an empty text, so one bad request does not sink a batch.

The API key is read from the environment variable named by ``api_key_env`` when a batch
starts, sent as a Bearer header and kept nowhere else: not in the settings, the cache, the
results, or error strings. Every result is scrubbed of it in one place (:func:`_scrub`) before
it is cached or returned, because a server (or a proxy) may echo the header back in a reply's
text as easily as in an error. A ``base_url`` carrying credentials (``http://user:KEY@host``)
is refused outright (:func:`check_base_url`): it would be copied into every config record.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from synth.llm.cache import ChatResult, RequestCache, request_key

_SNIPPET = 300  # characters of an error body quoted in a result's error


class MissingAPIKeyError(RuntimeError):
    """``api_key_env`` names an environment variable that is unset or empty."""


@dataclass(frozen=True)
class LLMSettings:
    """Where the server is and how to talk to it.

    ``max_retries`` counts retries after the first attempt, so a request is tried at most
    ``max_retries + 1`` times. ``params`` are extra body fields (``top_p``, ``seed``, ``stop``,
    ``chat_template_kwargs``...); they are part of the cache key, like temperature and
    max_tokens. ``api_key_env`` is the *name* of the variable holding the key, never the key.
    """

    base_url: str
    model: str
    api_key_env: str | None = None
    max_concurrency: int = 8
    timeout_s: float = 60.0
    max_retries: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 20.0
    temperature: float = 0.0
    max_tokens: int = 2048
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_base_url(self.base_url)
        if self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {self.max_concurrency}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")

    def sampling(self) -> dict[str, Any]:
        """The request body minus model and messages: what the cache key hashes besides them."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, **self.params}


def check_base_url(url: str) -> str:
    """``url`` if it is an http(s) URL without credentials, a query or a fragment; a key in a
    URL would be written wherever the URL is (manifests, the catalog, Prefect's database)."""
    parts = httpx.URL(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}")
    if parts.userinfo:
        raise ValueError(
            "base_url must not carry credentials (user:password@ or a key before the host): put the key in an "
            "environment variable and name it in api_key_env"
        )
    if parts.query or parts.fragment:
        raise ValueError("base_url must not have a query string or fragment: extra request fields go in params, "
                         "keys in the environment variable named by api_key_env")
    return url


class _Transient(Exception):
    """Worth retrying (429, 5xx, timeout, connection); may carry the server's Retry-After."""

    def __init__(self, message: str, latency_ms: float | None, retry_after: float | None = None):
        super().__init__(message)
        self.latency_ms = latency_ms
        self.retry_after = retry_after


class _Permanent(Exception):
    """Retrying cannot help (other 4xx, malformed reply)."""

    def __init__(self, message: str, latency_ms: float | None):
        super().__init__(message)
        self.latency_ms = latency_ms


class ChatClient:
    """Sends batches of chat requests, serving successful ones from ``cache`` when given."""

    def __init__(self, settings: LLMSettings, cache: RequestCache | None = None):
        self.settings = settings
        self.cache = cache
        self._url = settings.base_url.rstrip("/") + "/chat/completions"
        limits = httpx.Limits(max_connections=settings.max_concurrency, max_keepalive_connections=settings.max_concurrency)
        self._http = httpx.Client(timeout=httpx.Timeout(settings.timeout_s), limits=limits)
        base_wait = wait_exponential_jitter(multiplier=settings.backoff_s, max=settings.backoff_max_s, jitter=settings.backoff_s)

        def wait(state: RetryCallState) -> float:
            retry_after = getattr(state.outcome.exception(), "retry_after", None)
            floor = 0.0 if retry_after is None else min(retry_after, settings.backoff_max_s)
            return max(floor, base_wait(state))

        self._wait = wait

    def key(self, messages: list[dict[str, Any]]) -> str:
        return request_key(self.settings.model, messages, self.settings.sampling())

    def complete_many(self, requests: list[list[dict[str, Any]]]) -> list[ChatResult]:
        """One result per request, in input order.

        Cached successes are returned without a request; identical requests within the batch
        are sent once (the copies come back marked ``cached``). Raises
        :class:`MissingAPIKeyError` before sending anything when the key variable is unset.
        """
        api_key = self._api_key()
        keys = [self.key(m) for m in requests]
        done: dict[str, ChatResult] = {}
        todo: dict[str, list[dict[str, Any]]] = {}
        for key, messages in zip(keys, requests, strict=True):
            if key in done or key in todo:
                continue
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None and hit.ok:
                done[key] = _scrub(hit, api_key)
            else:
                todo[key] = messages
        if todo:
            workers = min(self.settings.max_concurrency, len(todo))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm") as pool:
                futures = {k: pool.submit(self._complete, k, m, api_key) for k, m in todo.items()}
                done.update({k: f.result() for k, f in futures.items()})
        results = []
        seen: set[str] = set()
        for key in keys:
            result = done[key]
            results.append(result if key not in seen else replace(result, cached=True))
            seen.add(key)
        return results

    def _api_key(self) -> str | None:
        name = self.settings.api_key_env
        if name is None:
            return None
        value = os.environ.get(name)
        if not value:
            raise MissingAPIKeyError(
                f"environment variable {name!r} (LLMSettings.api_key_env) is not set or empty; "
                f"export it with the API key for {self.settings.base_url}, or set api_key_env to "
                "None for a server without authentication"
            )
        return value

    def _complete(self, key: str, messages: list[dict[str, Any]], api_key: str | None) -> ChatResult:
        """Send one request with retries, record its outcome in the cache, return it."""
        body = orjson.dumps({"model": self.settings.model, "messages": messages, **self.settings.sampling()})
        headers = {"Content-Type": "application/json"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        attempts = 0
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    result = self._attempt(key, body, headers)
            result = replace(result, attempts=attempts)
        except (_Transient, _Permanent) as e:
            error = str(e) if attempts == 1 else f"gave up after {attempts} attempts: {e}"
            result = ChatResult(key, False, latency_ms=e.latency_ms, attempts=attempts, error=error)
        result = _scrub(result, api_key)
        if self.cache is not None:
            self.cache.put(self.settings.model, result)
        return result

    def _attempt(self, key: str, body: bytes, headers: dict[str, str]) -> ChatResult:
        start = time.perf_counter()
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as e:
            raise _Transient(f"timed out after {self.settings.timeout_s} s ({type(e).__name__})", _ms(start)) from None
        except httpx.TransportError as e:
            raise _Transient(f"connection error: {type(e).__name__}: {e}", _ms(start)) from None
        latency = _ms(start)
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(_http_error(response), latency, _retry_after(response.headers.get("retry-after")))
        if status >= 300:
            raise _Permanent(_http_error(response), latency)
        return _parse(key, response, latency)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(key: str, response: httpx.Response, latency: float) -> ChatResult:
    """A chat completion's text and usage, or :class:`_Permanent` naming what is missing."""

    def malformed(what: str) -> _Permanent:
        return _Permanent(f"malformed reply (HTTP {response.status_code}): {what}", latency)

    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise malformed(f"not JSON: {response.text[:_SNIPPET]!r}") from None
    if not isinstance(data, dict):
        raise malformed(f"expected a JSON object, got {type(data).__name__}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        detail = f"; server error: {data['error']}" if "error" in data else ""
        raise malformed(f"no choices{detail}")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise malformed(f"choices[0].message has no text content (finish_reason {choices[0].get('finish_reason')!r})")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return ChatResult(
        key,
        True,
        content,
        choices[0].get("finish_reason"),
        _int(usage.get("prompt_tokens")),
        _int(usage.get("completion_tokens")),
        latency,
    )


def _http_error(response: httpx.Response) -> str:
    text = response.text.strip()
    return f"HTTP {response.status_code}: {text[:_SNIPPET] or response.reason_phrase}"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _scrub(result: ChatResult, api_key: str | None) -> ChatResult:
    """``result`` with the key removed from every text it carries (reply, error, finish reason)."""
    if not api_key:
        return result

    def clean(text: str | None) -> str | None:
        return text.replace(api_key, "[redacted]") if text else text

    return replace(result, text=clean(result.text), error=clean(result.error), finish_reason=clean(result.finish_reason))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)
