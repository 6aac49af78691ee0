"""The multi-turn LLM teacher: a model drives an environment one tool call per turn.

GUI and research families act in an env over many steps, so the model is asked once per
step, seeing the instruction, its own earlier turns and the env's latest observation. What
is kind-specific (the system prompt, the action protocol, how a reply becomes an
:class:`~stores.schema.Action`) comes from the family's ``llm_protocol(task, params)``;
the loop, the stop rules, the bookkeeping and the failure policy live here, once:

- The episode runs through :func:`synth.episode.run_episode`, so accepted actions,
  ``first_error_step``, observations and the verifier are exactly those of scripted tiers.
- A reply the protocol cannot parse becomes an ``invalid_reply`` action: the env answers
  that nothing happened, the model sees the parser's message next turn and can correct
  itself (as agent frameworks do), and the step checker flags it.
- Stop rules: the env says done (``finish``/``answer``), or ``max_rounds`` model turns were
  spent, after which the teacher itself issues ``finish`` with a thought saying why.
- A request that still fails after the client's retries drops the episode (a trajectory cut
  off by a transport error is not a model behaviour) and is listed in the batch's failures.
- Episodes run concurrently on threads (``max_concurrency`` of the client); each turn is one
  cached request, so a rerun replays the conversation from the cache and sends nothing
  already answered. Rows do not record whether a turn came from the cache, so a resumed run
  publishes identical rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from stores.schema import Action, Policy, Provenance, Step, Task
from synth.episode import Episode, run_episode
from synth.llm.batch import LLMBatch
from synth.llm.cache import ChatResult
from synth.llm.client import ChatClient

INVALID_REPLY = "invalid_reply"  # the action recorded for a reply the protocol could not parse


class AgentProtocol(Protocol):
    """How one kind talks to a model; provided by the family's ``llm_protocol(task, params)``."""

    def messages(self, task: Task, history: list[Step], observation: str) -> list[dict[str, Any]]:
        """The full chat messages for the next turn (system prompt, task, history, observation)."""

    def parse(self, reply: str) -> tuple[str, Action]:
        """(thought, action) from a reply; ``ValueError`` with a clear message if malformed."""


class RequestFailed(Exception):
    """A model request failed for good (after retries); the episode is dropped."""

    def __init__(self, result: ChatResult):
        super().__init__(result.error or "request failed")
        self.result = result


class LLMTeacher:
    """Asks the model for every step; keeps per-episode token and latency totals in its policy."""

    def __init__(
        self, client: ChatClient, protocol: AgentProtocol, task: Task, family: str, max_rounds: int
    ):
        self.client = client
        self.protocol = protocol
        self.task = task
        self.max_rounds = max_rounds
        self.results: list[ChatResult] = []
        self.policy = Policy(
            f"{family}-llm",
            "llm",
            client.settings.model,
            {"turns": 0, "invalid_replies": 0, "prompt_tokens": 0, "completion_tokens": 0,
             "latency_ms": 0.0, "max_rounds": max_rounds, "stopped_by_round_limit": False},
        )

    def act(self, env: Any, history: list[Step]) -> tuple[str, Action]:
        params = self.policy.params
        if params["turns"] >= self.max_rounds:
            params["stopped_by_round_limit"] = True
            return f"Stopping: the limit of {self.max_rounds} model turns is reached.", Action("finish", {})
        observation = history[-1].observation.text if history else _first_observation(env, self.task)
        [result] = self.client.complete_many([self.protocol.messages(self.task, history, observation)])
        self.results.append(result)
        if not result.ok:
            raise RequestFailed(result)
        params["turns"] += 1
        params["prompt_tokens"] += result.prompt_tokens or 0
        params["completion_tokens"] += result.completion_tokens or 0
        params["latency_ms"] = round(params["latency_ms"] + (result.latency_ms or 0.0), 3)
        reply = result.text or ""
        try:
            return self.protocol.parse(reply)
        except ValueError as e:
            params["invalid_replies"] += 1
            return reply, Action(INVALID_REPLY, {"error": str(e)})


def _first_observation(env: Any, task: Task) -> str:
    """What the model sees on its first turn: the env's start screen/page, if it has one."""
    observe = getattr(env, "observe", None)
    return observe().text if observe is not None else task.instruction


def agent_episodes(
    family: Any,
    tasks: list[Task],
    client: ChatClient,
    params: dict[str, Any],
    provenance: Provenance,
    *,
    max_rounds: int,
    split: str = "train",
) -> LLMBatch:
    """Run one model-driven episode per task, concurrently; rows in task order.

    Returns the trajectories, a failure entry for each task whose episode a failed request cut
    off, and every request's result (for the run's token/latency/cache summary).
    """

    def one(task: Task) -> tuple[Episode | None, list[ChatResult], dict[str, Any] | None]:
        teacher = LLMTeacher(client, family.llm_protocol(task, params), task, family.name, max_rounds)
        env = family.make_env(task, params)
        try:
            episode = run_episode(family.kind, task, env, teacher, provenance, max_steps=max_rounds + 1, split=split)
        except RequestFailed as e:
            failure = {"task_id": task.id, "family": family.name, "mode": "agent", "request": e.result.key,
                       "kind": "request_failed", "error": e.result.error, "attempts": e.result.attempts,
                       "turn": len(teacher.results)}
            return None, teacher.results, failure
        return episode, teacher.results, None

    workers = max(1, min(client.settings.max_concurrency, len(tasks)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent") as pool:
        outcomes = list(pool.map(one, tasks))
    batch = LLMBatch()
    for episode, results, failure in outcomes:
        batch.results += results
        if failure is not None:
            batch.failures.append(failure)
        else:
            batch.trajectories.append(episode.trajectory)
            batch.blobs.update(episode.blobs)
    return batch
