"""The one episode runner every task family shares.

A family supplies an environment (what the world accepts and how it answers) and teacher
policies (what to do next); the runner owns the loop, the per-step bookkeeping, the
accepted-action sets, ``first_error_step`` and the content id, so no family re-implements
them and every kind obeys the same contract.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from stores.schema import (
    Action,
    Observation,
    Outcome,
    Policy,
    Provenance,
    Step,
    Task,
    Trajectory,
    content_id,
    step_rows,
)


@dataclass(slots=True)
class StepResult:
    """What the environment answers to one action."""

    text: str
    reward: float = 0.0
    done: bool = False
    image: bytes | None = None  # PNG bytes; stored once in the version's blobs table
    media_type: str = "image/png"


class Env(Protocol):
    """A simulated world built from one :class:`Task`."""

    def accepted_actions(self) -> Any:
        """JSON-compatible description of every action accepted as progress in this state."""

    def accepts(self, action: Action) -> bool:
        """Whether ``action`` is progress now (the step checker behind ``first_error_step``)."""

    def step(self, action: Action) -> StepResult:
        """Apply ``action`` deterministically."""

    def outcome(self, final_answer: str | None) -> Outcome:
        """The verifier's verdict on the final state and answer."""

    # Optional: ``observe() -> StepResult``, what the agent sees before its first action (a
    # GUI's first screen, a browser's start page). The runner stores it as the trajectory's
    # ``initial_observation``; it must not change the env's state.
    # Optional: ``scores() -> dict[str, float]``, episode measures only the env can take (the
    # research env's evidence recall); they become the trajectory's ``scores``.


class Teacher(Protocol):
    """A policy: scripted (expert, reflective, noisy, random) or model-backed (llm)."""

    policy: Policy

    def act(self, env: Env, history: list[Step]) -> tuple[str, Action]:
        """The next (thought, action). Scripted teachers may read the env's private state."""


@dataclass(slots=True)
class Episode:
    trajectory: Trajectory
    blobs: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # sha256 -> (media_type, bytes)


def run_episode(
    kind: str,
    task: Task,
    env: Env,
    teacher: Teacher,
    provenance: Provenance,
    *,
    max_steps: int = 512,
    split: str = "train",
) -> Episode:
    """Roll ``teacher`` in ``env`` until the env says done (or ``max_steps``).

    ``first_error_step`` is the first step whose action the env did not accept, -1 when every
    step was accepted and the outcome is a success, and null when the episode failed without
    any step being flagged (the error is then not localised).
    """
    steps: list[Step] = []
    blobs: dict[str, tuple[str, bytes]] = {}
    observe = getattr(env, "observe", None)
    initial = _record(observe(), blobs) if observe is not None else None
    first_error: int | None = None
    final_answer: str | None = None
    for i in range(max_steps):
        accepted = env.accepted_actions()
        thought, action = teacher.act(env, steps)
        if first_error is None and not env.accepts(action):
            first_error = i
        result = env.step(action)
        steps.append(Step(i, thought, action, _record(result, blobs), accepted, result.reward))
        if action.name == "answer":
            final_answer = str(action.arguments.get("answer", ""))
        if result.done:
            break
    outcome = env.outcome(final_answer)
    first_error_step = first_error if first_error is not None else (-1 if outcome.success else None)
    rows = step_rows(steps)
    trajectory = Trajectory(
        id=content_id(task, steps, final_answer, rows, initial),
        kind=kind,
        task=task,
        steps=steps,
        final_answer=final_answer,
        outcome=outcome,
        policy=teacher.policy,
        provenance=provenance,
        scores=env.scores() if hasattr(env, "scores") else {},
        first_error_step=first_error_step,
        split=split,
        initial_observation=initial,
        step_rows=rows,
    )
    return Episode(trajectory, blobs)


def _record(result: StepResult, blobs: dict[str, tuple[str, bytes]]) -> Observation:
    """The stored observation of ``result``; its image goes to ``blobs`` under its sha256."""
    if result.image is None:
        return Observation(result.text)
    ref = hashlib.sha256(result.image).hexdigest()
    blobs[ref] = (result.media_type, result.image)
    return Observation(result.text, ref)
