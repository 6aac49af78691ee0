"""The multi-turn LLM agent runner over real HTTP: one request per turn, the env judges every
step, malformed replies become flagged steps the model can recover from, the round limit stops
an episode, failed requests drop it with a recorded failure, and a rerun comes from the cache.

The env is a tiny counter ("reach the target by `add` steps, then answer it"), defined here so
the runner is tested apart from any real gui or research family."""

from __future__ import annotations

import json
import re

import pytest

from stores.schema import Action, Outcome, Step, Task
from synth.episode import StepResult
from synth.llm.agent import INVALID_REPLY, agent_episodes
from synth.llm.cache import RequestCache
from synth.llm.client import ChatClient, LLMSettings
from tests.factories import RUN_A
from tests.llm_server import LLMServer, Status


class CounterEnv:
    def __init__(self, task: Task):
        self.target = task.reference["target"]
        self.value = 0
        self.done = False

    def observe(self) -> StepResult:
        return StepResult(f"value={self.value}")

    def accepted_actions(self):
        if self.value < self.target:
            return [{"name": "add", "amount": a} for a in (1, 2) if self.value + a <= self.target]
        return [{"name": "answer", "answer": str(self.target)}]

    def accepts(self, action: Action) -> bool:
        return any(
            e["name"] == action.name and all(action.arguments.get(k) == v for k, v in e.items() if k != "name")
            for e in self.accepted_actions()
        )

    def step(self, action: Action) -> StepResult:
        if action.name == "add" and isinstance(action.arguments.get("amount"), int):
            self.value += action.arguments["amount"]
            return StepResult(f"value={self.value}")
        if action.name in ("answer", "finish"):
            self.done = True
            return StepResult("episode over", done=True)
        return StepResult(f"unknown or malformed action {action.name!r}; nothing happened\nvalue={self.value}")

    def outcome(self, final_answer: str | None) -> Outcome:
        ok = final_answer == str(self.target) and self.value == self.target
        return Outcome(ok, "counter", f"value {self.value}, answer {final_answer!r}")


class CounterProtocol:
    def messages(self, task: Task, history: list[Step], observation: str) -> list[dict]:
        out = [{"role": "system", "content": 'Reply with JSON {"tool": "add"|"answer", "arguments": {...}}.'},
               {"role": "user", "content": task.instruction}]
        for step in history:
            out.append({"role": "assistant", "content": step.thought})
            out.append({"role": "user", "content": step.observation.text})
        if not history:
            out.append({"role": "user", "content": observation})
        return out

    def parse(self, reply: str) -> tuple[str, Action]:
        match = re.search(r"\{.*\}", reply, re.S)
        if match is None:
            raise ValueError("no JSON tool call in the reply")
        call = json.loads(match.group(0))
        return reply, Action(call["tool"], call.get("arguments", {}))


class CounterFamily:
    kind = "gui"
    name = "counter"
    version = "1"
    tiers = ("llm",)

    def make_env(self, task, params):
        return CounterEnv(task)

    def llm_protocol(self, task, params):
        return CounterProtocol()


FAMILY = CounterFamily()
TASKS = [Task(f"counter-{t}", "counter", f"Reach {t}, then answer it.", 1, {"target": t}, {}, t) for t in (3, 4, 5)]


def value_of(messages) -> int:
    return int(re.findall(r"value=(\d+)", messages[-1]["content"])[-1])


def target_of(messages) -> int:
    return int(re.search(r"Reach (\d+)", messages[1]["content"]).group(1))


def sensible(messages, attempt):
    """Add 2 while it fits, then 1, then answer; says something unparsable once per episode."""
    value, target = value_of(messages), target_of(messages)
    if value == 2 and not any(m["content"] == "let me think about it" for m in messages):
        return "let me think about it"  # malformed: no tool call
    if value < target:
        return json.dumps({"tool": "add", "arguments": {"amount": 2 if value + 2 <= target else 1}})
    return f'Done. {{"tool": "answer", "arguments": {{"answer": "{target}"}}}}'


def client(server, cache, **kw) -> ChatClient:
    settings = LLMSettings(base_url=server.base_url, model="agent-test", max_retries=1, backoff_s=0.01,
                           backoff_max_s=0.02, timeout_s=5, **kw)
    return ChatClient(settings, cache)


@pytest.fixture
def cache(tmp_path):
    with RequestCache(tmp_path / "llm.sqlite") as c:
        yield c


def test_episodes_are_run_turn_by_turn_and_judged_by_the_env(cache):
    with LLMServer(sensible) as server, client(server, cache, max_concurrency=3) as c:
        batch = agent_episodes(FAMILY, TASKS, c, {}, RUN_A, max_rounds=20)
    assert [t.task.id for t in batch.trajectories] == [t.id for t in TASKS] and batch.failures == []
    for t in batch.trajectories:
        target = t.task.reference["target"]
        assert t.outcome.success and t.final_answer == str(target)
        assert t.initial_observation.text == "value=0"
        names = [s.action.name for s in t.steps]
        assert names[-1] == "answer" and names.count("add") >= (target + 1) // 2
        assert t.policy.tier == "llm" and t.policy.model == "agent-test"
        assert t.policy.params["turns"] == len(t.steps) and t.policy.params["prompt_tokens"] > 0
    # every request is one turn; the server saw exactly the turns the rows hold
    assert server.requests == sum(len(t.steps) for t in batch.trajectories) == len(batch.results)


def test_a_malformed_reply_is_a_flagged_step_the_model_recovers_from(cache):
    with LLMServer(sensible) as server, client(server, cache) as c:
        batch = agent_episodes(FAMILY, TASKS[:1], c, {}, RUN_A, max_rounds=20)
    (t,) = batch.trajectories
    bad = next(s for s in t.steps if s.action.name == INVALID_REPLY)
    assert bad.thought == "let me think about it" and "no JSON tool call" in bad.action.arguments["error"]
    assert "nothing happened" in bad.observation.text
    assert t.first_error_step == bad.index and t.outcome.success
    assert t.policy.params["invalid_replies"] == 1


def test_the_round_limit_stops_an_episode_with_finish(cache):
    def dawdle(messages, attempt):
        return json.dumps({"tool": "add", "arguments": {"amount": 0}})

    with LLMServer(dawdle) as server, client(server, cache) as c:
        batch = agent_episodes(FAMILY, TASKS[:1], c, {}, RUN_A, max_rounds=4)
    (t,) = batch.trajectories
    assert [s.action.name for s in t.steps] == ["add"] * 4 + ["finish"]
    assert t.policy.params["stopped_by_round_limit"] and not t.outcome.success
    assert server.requests == 4  # one request per turn; the finish is the teacher's own


def test_a_failed_request_drops_the_episode_and_is_recorded(cache):
    def fail_for_five(messages, attempt):
        return Status(500, "boom") if target_of(messages) == 5 else sensible(messages, attempt)

    with LLMServer(fail_for_five) as server, client(server, cache) as c:
        batch = agent_episodes(FAMILY, TASKS, c, {}, RUN_A, max_rounds=20)
    assert [t.task.id for t in batch.trajectories] == ["counter-3", "counter-4"]
    (failure,) = batch.failures
    assert failure["task_id"] == "counter-5" and failure["kind"] == "request_failed"
    assert "500" in failure["error"] and failure["turn"] == 1


def test_a_rerun_is_served_from_the_cache_and_gives_identical_rows(cache):
    with LLMServer(sensible) as server, client(server, cache) as c:
        first = agent_episodes(FAMILY, TASKS, c, {}, RUN_A, max_rounds=20)
        sent = server.requests
        again = agent_episodes(FAMILY, TASKS, c, {}, RUN_A, max_rounds=20)
    assert server.requests == sent and all(r.cached for r in again.results)
    assert [t.to_row() for t in again.trajectories] == [t.to_row() for t in first.trajectories]


def test_a_gui_llm_tier_runs_through_the_pipeline(tmp_path, prefect_server):
    """A real gui family's protocol, the CLI, Prefect and the store: the model clicks the first
    text field it sees on the screen it was shown, then finishes; the env judges both."""
    import pyarrow.compute as pc
    import yaml

    from flows.cli import main
    from stores.blobs import image_refs
    from stores.schema import from_table
    from stores.store import Store

    def click_first_field(messages, attempt):
        screen = messages[-1]["content"]
        if "Action:" in "".join(m["content"] for m in messages if m["role"] == "assistant"):
            return 'Thought: that will do.\nAction: {"name": "finish", "arguments": {}}'
        x0, y0, x1, y1 = map(int, re.search(r'textbox "[^"]*" value="[^"]*" bbox=\((\d+),(\d+),(\d+),(\d+)\)', screen).groups())
        return f'Thought: a field.\nAction: {{"name": "click", "arguments": {{"x": {(x0 + x1) // 2}, "y": {(y0 + y1) // 2}}}}}'

    with LLMServer(click_first_field) as server:
        config = {
            "dataset": "guillm", "seed": 1, "shard_size": 4, "workers": 1,
            "synth": {"gui": [{"family": "form", "count": 4, "difficulties": [1], "tiers": {"llm": 1.0}}]},
            "retrieve": {"enabled": False}, "corrupt": {"fraction": 0.0},
            "llm": {"base_url": server.base_url, "model": "gui-test", "max_rounds": 5, "timeout_s": 5},
        }
        path = tmp_path / "guillm.yaml"
        path.write_text(yaml.safe_dump(config))
        assert main(["--store", str(tmp_path / "store"), "run", str(path)]) == 0
    store = Store(tmp_path / "store")
    table = store.read("guillm@latest")
    rows = from_table(table)
    assert len(rows) == 4 and {t.policy.tier for t in rows} == {"llm"}
    for t in rows:
        assert [s.action.name for s in t.steps] == ["click", "finish"] and not t.outcome.success
        assert "focused" in t.steps[0].observation.text  # the click landed on the field
        assert t.policy.params["turns"] == 2 and t.policy.model == "gui-test"
    blobs = store.read("guillm@latest", table="blobs")
    assert set(image_refs(table).to_pylist()) == set(blobs["id"].to_pylist())  # screenshots stored
    assert pc.all(pc.is_valid(pc.struct_field(table["initial_observation"], "image_ref"))).as_py()
