"""The LLM teacher backend over real HTTP against a scripted local server (tests/llm_server.py):
verified trajectories, failure handling, retries, concurrency, cache and resume, key hygiene,
SERG filtering and reply parsing."""

from __future__ import annotations

import dataclasses
import logging
import socket
import time

import pytest

from stores.schema import to_table, validate_table
from synth.llm import (
    ChatClient,
    ChatResult,
    LLMSettings,
    MissingAPIKeyError,
    RequestCache,
    request_key,
)
from synth.llm.batch import summarize
from synth.llm.reasoning import (
    llm_episodes,
    parse_reply,
    serg_messages,
    skeleton,
    solve_messages,
)
from synth.registry import get_family
from tests.factories import RUN_A
from tests.llm_server import LLMServer, Raw, Slow, Status

FAMILY = get_family("nqueens")
TASKS = [FAMILY.make_task(seed, 1, {}) for seed in range(4)]
WRONG = "0 0 0 0 0"
STEPS = ["Row 0 first: look for a safe column.", "1. Check the columns.\n   Nothing attacks it.", "2. Check the diagonals."]
SECRET = "sk-test-5f3a9c0e7d1b"


def task_of(messages):
    return next(t for t in TASKS if t.instruction in messages[-1]["content"])


def answered(answer: str) -> str:
    """A reply in the format the solve prompt asks for: paragraphs, then the answer line."""
    return "Row 0 first: look for a safe column.\n\n1. Check the columns.\n   Nothing attacks it.\n2. Check the diagonals.\n\nAnswer: " + answer


def right(messages, attempt):
    return answered(task_of(messages).reference["answer"])


def settings(server, **overrides) -> LLMSettings:
    base = {"max_concurrency": 4, "timeout_s": 5.0, "max_retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.05}
    return LLMSettings(server.base_url, "test-model", **{**base, **overrides})


@pytest.fixture
def cache(tmp_path):
    with RequestCache(tmp_path / "llm" / "requests.sqlite") as c:
        yield c


def test_correct_answers_verify_and_wrong_ones_fail_with_the_verifiers_reason(cache):
    def reply(messages, attempt):
        task = task_of(messages)
        return answered(WRONG if task is TASKS[3] else task.reference["answer"])

    with LLMServer(reply) as server, ChatClient(settings(server), cache) as client:
        batch = llm_episodes(FAMILY, TASKS, client, "solve", RUN_A, split="dev")

    assert server.requests == 4 and batch.failures == [] and batch.no_answer == 0
    good, bad = batch.trajectories[:3], batch.trajectories[3]
    # only the successes: validate_table currently rejects a null first_error_step (reported)
    validate_table(to_table(good))
    for task, t in zip(TASKS[:3], good, strict=True):
        assert t.task == task and t.kind == "reasoning" and t.split == "dev"
        assert t.outcome.success and t.outcome.verifier == "nqueens-verifier"
        assert t.first_error_step == -1
        assert t.final_answer == task.reference["answer"]
        assert [s.thought for s in t.steps] == [*STEPS, f"Answer: {task.reference['answer']}"]
        assert [s.action.name for s in t.steps] == ["think"] * 3 + ["answer"]
        assert t.steps[0].action.arguments == {"stage": "llm"}
        assert (t.policy.name, t.policy.tier, t.policy.model) == ("nqueens-llm", "llm", "test-model")
        params = t.policy.params
        assert params["mode"] == "solve" and params["request"] == client.key(solve_messages(FAMILY, task))
        assert "cached" not in params and params["attempts"] == 1 and params["latency_ms"] > 0
        assert params["completion_tokens"] == len(answered(task.reference["answer"]).split())
        assert params["prompt_tokens"] == sum(len(m["content"].split()) for m in solve_messages(FAMILY, task))
    assert not bad.outcome.success and bad.final_answer == WRONG
    assert bad.outcome.detail == FAMILY.verify(TASKS[3].env, WRONG)[1]
    assert bad.first_error_step is None  # the env flags the answer step; the real mistake is unknown
    sent = server.bodies[0]
    assert sent["model"] == "test-model" and sent["temperature"] == 0.0 and sent["max_tokens"] == 2048
    assert sent["messages"][0]["role"] == "system" and "Answer: <answer>" in sent["messages"][0]["content"]


def test_a_reply_without_an_answer_is_a_failed_trajectory_and_counted(cache):
    with LLMServer(lambda m, a: "I tried every column and got lost.") as server, ChatClient(settings(server), cache) as client:
        batch = llm_episodes(FAMILY, TASKS[:1], client, "solve", RUN_A)
    (t,) = batch.trajectories
    assert batch.no_answer == 1 and batch.failures == []
    assert t.final_answer is None and not t.outcome.success and t.outcome.detail == "no answer given"
    assert [s.thought for s in t.steps] == ["I tried every column and got lost."] and t.first_error_step is None


def test_malformed_replies_are_failed_requests_with_a_clear_error_and_no_retry(cache):
    no_content = '{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}'
    replies = {0: Raw("<html>502 Bad Gateway</html>"), 1: Raw('{"object": "chat.completion"}'), 2: Raw(no_content)}
    with LLMServer(lambda m, a: replies[TASKS.index(task_of(m))]) as server, ChatClient(settings(server), cache) as client:
        batch = llm_episodes(FAMILY, TASKS[:3], client, "solve", RUN_A)

    assert server.requests == 3 and batch.trajectories == []
    assert [r.ok for r in batch.results] == [False] * 3 and [r.text for r in batch.results] == [None] * 3
    errors = [f["error"] for f in batch.failures]
    assert "not JSON" in errors[0] and "<html>502 Bad Gateway" in errors[0]
    assert "no choices" in errors[1]
    assert "no text content" in errors[2]
    assert all(e.startswith("malformed reply (HTTP 200)") for e in errors)
    assert [(f["kind"], f["task_id"], f["attempts"]) for f in batch.failures] == [
        ("request_failed", t.id, 1) for t in TASKS[:3]
    ]
    assert cache.counts() == {"ok": 0, "error": 3}


def test_429_waits_for_retry_after_then_succeeds(cache):
    def reply(messages, attempt):
        return Status(429, "rate limited", retry_after="1") if attempt == 1 else right(messages, attempt)

    with LLMServer(reply) as server, ChatClient(settings(server, backoff_max_s=5.0), cache) as client:
        start = time.monotonic()
        (result,) = client.complete_many([solve_messages(FAMILY, TASKS[0])])
        elapsed = time.monotonic() - start
    assert result.ok and result.attempts == 2 and server.requests == 2
    assert elapsed >= 0.95  # waited Retry-After (1 s), not the 10 ms backoff


def test_retry_after_is_capped_by_backoff_max(cache):
    def reply(messages, attempt):
        return Status(429, retry_after="60") if attempt == 1 else right(messages, attempt)

    with LLMServer(reply) as server, ChatClient(settings(server, backoff_max_s=0.1), cache) as client:
        start = time.monotonic()
        (result,) = client.complete_many([solve_messages(FAMILY, TASKS[0])])
    assert result.ok and result.attempts == 2 and time.monotonic() - start < 5


def test_500_then_ok_is_retried(cache):
    def reply(messages, attempt):
        return Status(500, "overloaded") if attempt <= 2 else right(messages, attempt)

    with LLMServer(reply) as server, ChatClient(settings(server), cache) as client:
        (result,) = client.complete_many([solve_messages(FAMILY, TASKS[0])])
    assert result.ok and result.attempts == 3 and server.requests == 3 and result.error is None
    assert parse_reply(result.text)[1] == TASKS[0].reference["answer"]


def test_always_500_is_a_recorded_failure_after_all_attempts(cache):
    with LLMServer(lambda m, a: Status(503, "model is loading")) as server, ChatClient(settings(server), cache) as client:
        batch = llm_episodes(FAMILY, TASKS[:1], client, "solve", RUN_A)
    (failure,) = batch.failures
    assert server.requests == 3  # max_retries=2: the first attempt and two retries
    assert failure["kind"] == "request_failed" and failure["attempts"] == 3
    assert failure["error"] == "gave up after 3 attempts: HTTP 503: model is loading"
    assert cache.get(failure["request"]) == dataclasses.replace(batch.results[0], cached=True)
    assert cache.counts() == {"ok": 0, "error": 1}


def test_other_4xx_is_not_retried(cache):
    with LLMServer(lambda m, a: Status(400, "unknown field 'foo'")) as server, ChatClient(settings(server), cache) as client:
        (result,) = client.complete_many([solve_messages(FAMILY, TASKS[0])])
    assert not result.ok and result.attempts == 1 and server.requests == 1
    assert result.error == "HTTP 400: unknown field 'foo'"


def test_a_slow_server_times_out_is_retried_and_fails(cache):
    with LLMServer(lambda m, a: Slow(1.0, right(m, a))) as server, ChatClient(settings(server, timeout_s=0.2, max_retries=1), cache) as client:
        start = time.monotonic()
        (result,) = client.complete_many([solve_messages(FAMILY, TASKS[0])])
    assert time.monotonic() - start < 1.5
    assert not result.ok and result.attempts == 2 and server.requests == 2
    assert result.error == "gave up after 2 attempts: timed out after 0.2 s (ReadTimeout)"


def test_connection_errors_are_retried_and_recorded(cache):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = LLMSettings(f"http://127.0.0.1:{port}/v1", "test-model", max_retries=1, backoff_s=0.01, backoff_max_s=0.05)
    with ChatClient(dead, cache) as client:
        (result,) = client.complete_many([[{"role": "user", "content": "hello"}]])
    assert not result.ok and result.attempts == 2
    assert result.error.startswith("gave up after 2 attempts: connection error: ConnectError")


def test_concurrency_is_bounded_and_results_keep_input_order(cache):
    requests = [[{"role": "user", "content": f"q{i}"}] for i in range(12)]

    def reply(messages, attempt):
        i = int(messages[-1]["content"][1:])
        return Slow(0.05 + 0.02 * (i % 4), f"Answer: a{i}")  # uneven delays: completion order differs

    with LLMServer(reply) as server, ChatClient(settings(server, max_concurrency=3), cache) as client:
        results = client.complete_many(requests)
    assert server.requests == 12 and server.max_in_flight == 3
    assert [r.text for r in results] == [f"Answer: a{i}" for i in range(12)]
    assert [r.key for r in results] == [client.key(m) for m in requests]


def test_identical_requests_in_one_batch_are_sent_once(cache):
    messages = [{"role": "user", "content": "same"}]
    with LLMServer(lambda m, a: "Answer: 1") as server, ChatClient(settings(server), cache) as client:
        first, second = client.complete_many([messages, messages])
    assert server.requests == 1
    assert (first.cached, second.cached) == (False, True) and first.text == second.text == "Answer: 1"


def test_rerunning_a_batch_sends_nothing_and_gives_the_same_trajectories(tmp_path):
    path = tmp_path / "requests.sqlite"
    with LLMServer(right) as server, RequestCache(path) as cache, ChatClient(settings(server), cache) as client:
        first = llm_episodes(FAMILY, TASKS, client, "solve", RUN_A)
    # a new process: new cache handle, new client, the server moved to another port
    with LLMServer(right) as server, RequestCache(path) as cache, ChatClient(settings(server), cache) as client:
        again = llm_episodes(FAMILY, TASKS, client, "solve", RUN_A)
    assert server.requests == 0
    assert [t.id for t in again.trajectories] == [t.id for t in first.trajectories]
    for a, b in zip(first.trajectories, again.trajectories, strict=True):
        # identical, down to the original latency and attempts
        assert b.to_row() == a.to_row()
    s1, s2 = summarize(first.results), summarize(again.results)
    assert (s1["requests"], s1["cached"], s1["sent"], s1["failed"]) == (4, 0, 4, 0)
    assert s1["completion_tokens"] == sum(t.policy.params["completion_tokens"] for t in first.trajectories)
    assert s1["latency_ms_p50"] <= s1["latency_ms_p95"]
    assert s2 == {"requests": 4, "cached": 4, "sent": 0, "failed": 0, "prompt_tokens": 0, "completion_tokens": 0,
                  "latency_ms_p50": None, "latency_ms_p95": None}


def test_resume_after_failures_sends_only_the_failed_requests(tmp_path):
    path = tmp_path / "requests.sqlite"
    broken = {TASKS[1].id, TASKS[3].id}

    def flaky(messages, attempt):
        return Status(500, "worker died") if task_of(messages).id in broken else right(messages, attempt)

    with LLMServer(flaky) as server, RequestCache(path) as cache, ChatClient(settings(server, max_retries=1), cache) as client:
        first = llm_episodes(FAMILY, TASKS, client, "solve", RUN_A)
        assert cache.counts() == {"ok": 2, "error": 2}
    assert [t.task.id for t in first.trajectories] == [TASKS[0].id, TASKS[2].id]
    assert sorted(f["task_id"] for f in first.failures) == sorted(broken)
    assert summarize(first.results)["failed"] == 2

    with LLMServer(right) as server, RequestCache(path) as cache, ChatClient(settings(server), cache) as client:
        resumed = llm_episodes(FAMILY, TASKS, client, "solve", RUN_A)
        assert cache.counts() == {"ok": 4, "error": 0}
    assert server.requests == 2
    assert sorted(task_of(b["messages"]).id for b in server.bodies) == sorted(broken)
    assert resumed.failures == [] and all(t.outcome.success for t in resumed.trajectories)
    assert [r.cached for r in resumed.results] == [True, False, True, False]


def test_api_key_is_sent_but_never_stored_returned_or_logged(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TRAJFORGE_TEST_LLM_KEY", SECRET)

    def reply(messages, attempt):  # a server that echoes the credential in its errors
        echoed = server.authorizations[-1]
        return {
            0: right(messages, attempt),
            1: Status(401, f"invalid credentials: {echoed}"),
            2: Raw(f"<html>upstream rejected {echoed}</html>"),
        }[TASKS.index(task_of(messages))]

    path = tmp_path / "requests.sqlite"
    with LLMServer(reply) as server, RequestCache(path) as cache:
        client = ChatClient(settings(server, api_key_env="TRAJFORGE_TEST_LLM_KEY"), cache)
        batch = llm_episodes(FAMILY, TASKS[:3], client, "solve", RUN_A)
        client.close()
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # db, -wal, -shm

    assert server.authorizations == [f"Bearer {SECRET}"] * 3
    assert len(batch.trajectories) == 1 and [f["task_id"] for f in batch.failures] == [TASKS[1].id, TASKS[2].id]
    assert all("[redacted]" in f["error"] for f in batch.failures)
    assert len(on_disk) > 0 and SECRET.encode() not in on_disk
    assert "HTTP Request: POST" in caplog.text  # the transport's own logs were captured
    for text in (repr(batch), repr(client.settings), caplog.text):
        assert SECRET not in text


def test_a_missing_key_variable_is_a_clear_error_before_any_request(cache, monkeypatch):
    monkeypatch.delenv("TRAJFORGE_TEST_LLM_KEY", raising=False)
    with LLMServer(right) as server, ChatClient(settings(server, api_key_env="TRAJFORGE_TEST_LLM_KEY"), cache) as client:
        with pytest.raises(MissingAPIKeyError, match="'TRAJFORGE_TEST_LLM_KEY'"):
            llm_episodes(FAMILY, TASKS, client, "solve", RUN_A)
        monkeypatch.setenv("TRAJFORGE_TEST_LLM_KEY", "")
        with pytest.raises(MissingAPIKeyError, match="not set or empty"):
            client.complete_many([solve_messages(FAMILY, TASKS[0])])
    assert server.requests == 0 and cache.counts() == {"ok": 0, "error": 0}


def test_serg_keeps_a_rewrite_that_verifies_and_rejects_one_that_does_not(cache):
    def rewrite(messages, attempt):
        """Rewrite each numbered trace line as a paragraph; the second task's answer goes wrong."""
        trace = messages[-1]["content"].split("Solver trace")[1].split("\n\n")[0].splitlines()[1:]
        thoughts = [line.split(". ", 1)[1] for line in trace]
        answer = WRONG if task_of(messages) is TASKS[1] else thoughts[-1].removeprefix("Answer: ")
        return "\n\n".join(f"So: {t}" for t in thoughts[:-1]) + f"\n\n**Answer:** {answer}"

    with LLMServer(rewrite) as server, ChatClient(settings(server), cache) as client:
        batch = llm_episodes(FAMILY, TASKS[:2], client, "serg", RUN_A)

    expert = skeleton(FAMILY, TASKS[0])
    assert expert[-1] == f"Answer: {TASKS[0].reference['answer']}"
    # the two requests run concurrently: find the first task's by content, not arrival order
    first = next(b for b in server.bodies if task_of(b["messages"]) is TASKS[0])
    assert all(thought in first["messages"][-1]["content"] for thought in expert)
    assert first["messages"] == serg_messages(FAMILY, TASKS[0], expert)
    (kept,) = batch.trajectories
    assert kept.task.id == TASKS[0].id and kept.outcome.success and kept.first_error_step == -1
    assert [s.thought for s in kept.steps] == [f"So: {t}" for t in expert[:-1]] + [expert[-1]]
    assert kept.policy.params["mode"] == "serg"
    (rejected,) = batch.failures
    assert rejected["kind"] == "serg_rejected" and rejected["task_id"] == TASKS[1].id
    assert rejected["answer"] == WRONG and rejected["reason"] == FAMILY.verify(TASKS[1].env, WRONG)[1]


def test_a_cached_success_is_never_replaced_by_a_failure(cache):
    ok = ChatResult("k", True, "Answer: 1", "stop", 3, 2, 12.5, 1)
    cache.put("m", ok)
    cache.put("m", ChatResult("k", False, attempts=4, error="HTTP 500: late duplicate"))
    assert cache.get("k") == dataclasses.replace(ok, cached=True)
    cache.put("m", ChatResult("f", False, attempts=3, error="HTTP 500: down"))
    cache.put("m", ChatResult("f", True, "Answer: 2", attempts=1))
    assert cache.get("f").ok and cache.get("f").error is None
    assert cache.counts() == {"ok": 2, "error": 0} and cache.get("never") is None


@pytest.mark.parametrize(
    ("text", "steps", "answer"),
    [
        ("Check row 0.\n\nCheck row 1.\n\nAnswer: 1 3 0 2", ["Check row 0.", "Check row 1."], "1 3 0 2"),
        ("1. Check row 0.\n2. Check row 1.\n   Still fine.\nAnswer: 1 3 0 2", ["1. Check row 0.", "2. Check row 1.\n   Still fine."], "1 3 0 2"),
        ("Step 1: look.\nStep 2: place.\n\n**Answer:** RRDL", ["Step 1: look.", "Step 2: place."], "RRDL"),
        ("Think.\n\n**Final answer: 4 2 0 3**", ["Think."], "4 2 0 3"),
        ("Think.\n\nfinal ANSWER: $\\boxed{12}$.", ["Think."], "12"),
        ("Think.\n\nThe answer is \\boxed{\\frac{1}{2}}.", ["Think.", "The answer is \\boxed{\\frac{1}{2}}."], "\\frac{1}{2}"),
        ("Answer: 1 2\n\nWait, row 1 clashes.\n\nAnswer: 2 1\n\nHope this helps!", ["Answer: 1 2", "Wait, row 1 clashes."], "2 1"),
        ("Think.\n\n## Answer:\n`0 2 4 1 3`", ["Think."], "0 2 4 1 3"),
        ("Think.\n\n3. Answer: DDRR", ["Think."], "DDRR"),
        ("I could not finish.\n\nThe answer format needs four columns.", ["I could not finish.", "The answer format needs four columns."], None),
        ("Answer:", [], None),
    ],
)
def test_parse_reply_tolerates_common_formats(text, steps, answer):
    assert parse_reply(text) == (steps, answer)


def test_request_key_covers_model_messages_and_sampling_but_not_server_or_key():
    messages = [{"role": "user", "content": "hi"}]
    key = request_key("m", messages, {"temperature": 0.0, "max_tokens": 8})
    assert len(key) == 64 and key == request_key("m", [{"content": "hi", "role": "user"}], {"max_tokens": 8, "temperature": 0.0})
    assert key != request_key("m2", messages, {"temperature": 0.0, "max_tokens": 8})
    assert key != request_key("m", [{"role": "user", "content": "ho"}], {"temperature": 0.0, "max_tokens": 8})
    assert key != request_key("m", messages, {"temperature": 0.7, "max_tokens": 8})
    a = ChatClient(LLMSettings("http://a:1/v1", "m", api_key_env="A", params={"seed": 1}))
    b = ChatClient(LLMSettings("http://b:2/v1", "m", api_key_env="B", params={"seed": 1}))
    c = ChatClient(LLMSettings("http://a:1/v1", "m", api_key_env="A", params={"seed": 2}))
    assert a.key(messages) == b.key(messages) != c.key(messages)
    for client in (a, b, c):
        client.close()
