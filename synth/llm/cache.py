"""Request-level cache of chat completions, which is also how an interrupted batch resumes.

Every request is identified by :func:`request_key`, a sha256 over the canonical JSON of the
model name, the messages and the sampling parameters (temperature, max_tokens and any extra
body fields). Two things are deliberately *not* in the key:

- the API key, which must never be written anywhere;
- the server's ``base_url``: the same model served from another host or port (a restarted
  vLLM on a new node, a local SGLang replica) gives the same replies, so moving a server must
  not throw the cache away. The model name is the identity: serve different weights under a
  different name, or point the run at another cache file.

Sampling at temperature > 0 is cached like anything else: to draw several replies for one
prompt, put a distinguishing field (e.g. ``seed``) into the request parameters.

Resume semantics. Each finished request is committed on its own, so a crash loses at most the
requests in flight. A successful entry is final: it is served from the cache and never sent
again. A failed entry is kept (status ``error``, with the error and the number of attempts)
so a run can be audited, but it is *not* served: the next run sends that request again, and
its outcome replaces the failed entry. A later failure never overwrites a success.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stores.schema import canonical_json


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The outcome of one chat request, as returned by the client and stored in the cache.

    ``text`` is None on failure, never an empty string. ``latency_ms`` is the duration of the
    last attempt (the server's answer time, not the backoff in between); ``attempts`` counts the
    HTTP attempts of the run that produced the result. ``cached`` is True when this call did
    not send the request (served from the cache, or a duplicate within the batch).
    """

    key: str
    ok: bool
    text: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    attempts: int = 0
    cached: bool = False
    error: str | None = None


def request_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of (model, messages, sampling params); see the module
    docstring for what is left out and why."""
    payload = canonical_json({"model": model, "messages": messages, "params": params})
    return hashlib.sha256(payload.encode()).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    text TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_ms REAL,
    attempts INTEGER NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""

# A failed entry is replaced by the next outcome; a successful one is final (see module doc).
_UPSERT = """
INSERT INTO requests (key, model, status, text, finish_reason, prompt_tokens, completion_tokens,
                      latency_ms, attempts, error, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    model = excluded.model, status = excluded.status, text = excluded.text,
    finish_reason = excluded.finish_reason, prompt_tokens = excluded.prompt_tokens,
    completion_tokens = excluded.completion_tokens, latency_ms = excluded.latency_ms,
    attempts = excluded.attempts, error = excluded.error, updated_at = excluded.updated_at
WHERE requests.status != 'ok'
"""


class RequestCache:
    """SQLite file of request outcomes keyed by :func:`request_key`.

    One connection guarded by a lock: the client's worker threads write as their requests
    finish, and SQLite connections must not be used by two threads at once. WAL journaling
    lets readers (another process inspecting the file, a second run) proceed during writes;
    ``synchronous=FULL`` makes each per-request commit durable, which costs nothing next to an
    LLM call.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> ChatResult | None:
        """The stored outcome of ``key`` (successful or failed), marked ``cached``; None if the
        request was never recorded."""
        with self._lock:
            row = self._db.execute(
                "SELECT status, text, finish_reason, prompt_tokens, completion_tokens, latency_ms,"
                " attempts, error FROM requests WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        status, text, finish, prompt, completion, latency, attempts, error = row
        return ChatResult(key, status == "ok", text, finish, prompt, completion, latency, attempts, True, error)

    def put(self, model: str, result: ChatResult) -> None:
        """Record one outcome, committed at once (autocommit)."""
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute(
                _UPSERT,
                (
                    result.key,
                    model,
                    "ok" if result.ok else "error",
                    result.text,
                    result.finish_reason,
                    result.prompt_tokens,
                    result.completion_tokens,
                    result.latency_ms,
                    result.attempts,
                    result.error,
                    now,
                    now,
                ),
            )

    def counts(self) -> dict[str, int]:
        """Entries by status, e.g. ``{"ok": 10, "error": 2}``: what a resume would re-send."""
        with self._lock:
            rows = self._db.execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall()
        return {"ok": 0, "error": 0, **dict(rows)}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RequestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
