"""A tiny family whose Monte-Carlo values are known in closed form, for the scorer tests.

The world is a line of ``n`` cells: ``step {"good": true}`` moves on, ``step {"good": false}``
falls off (the episode ends, failed); reaching the end succeeds. The env offers its own
rollout candidates (the good step) and random action (the bad step), so under the generic
rollout policy with exploration ``epsilon`` a live state with m cells left succeeds with
probability exactly (1 - epsilon) ** m.
"""

from __future__ import annotations

import random
from typing import Any

from stores.schema import Action, Outcome, Policy, Step, Task, Trajectory, content_id, to_table
from synth.episode import StepResult
from synth.registry import register
from tests.factories import PROVENANCE

NAME = "toy_line"


class LineEnv:
    def __init__(self, n: int):
        self.n = n
        self.states = [0]  # position; -1 once fallen off
        self.size = (100, 100)

    def accepted_actions(self) -> list[dict[str, Any]]:
        return [{"name": "step", "good": True}]

    def accepts(self, action: Action) -> bool:
        return action.name == "think" or (action.name == "step" and action.arguments.get("good") is True
                                           and self.states[-1] >= 0)

    def step(self, action: Action) -> StepResult:
        if action.name == "think":
            return StepResult("nothing changes")
        good = action.arguments.get("good") is True
        self.states.append(self.states[-1] + 1 if good else -1)
        done = self.states[-1] < 0 or self.states[-1] >= self.n
        return StepResult(f"at {self.states[-1]}", 1.0 if self.states[-1] >= self.n else 0.0, done)

    def outcome(self, final_answer: str | None) -> Outcome:
        return Outcome(self.states[-1] >= self.n, "line", "")

    def rollout_candidates(self) -> list[Action]:
        return [Action("step", {"good": True})]

    def random_action(self, rng: random.Random) -> Action:
        return Action("step", {"good": False})


class _Expert:
    policy = Policy("line-expert", "expert")

    def act(self, env: LineEnv, history: list[Step]) -> tuple[str, Action]:
        return "walk on", Action("step", {"good": True})


class LineFamily:
    kind = "reasoning"
    name = NAME
    version = "1"
    tiers = ("expert",)
    action = "step"

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        return Task(f"line-{seed}", NAME, "Walk to the end of the line.", difficulty, {"answer": "end"},
                    {"n": 2 + difficulty}, seed)

    def make_env(self, task: Task, params: dict[str, Any]) -> LineEnv:
        return LineEnv(task.env["n"])

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> _Expert:
        return _Expert()


register(LineFamily())


def line_row(moves: list[bool | None], n: int = 4, tier: str = "noisy", seed: int = 1) -> Trajectory:
    """A trajectory of the line family: True = good step, False = bad step, None = a thought."""
    task = Task(f"line-{seed}", NAME, "Walk to the end of the line.", 1, {"answer": "end"}, {"n": n}, seed)
    env = LineEnv(n)
    steps = []
    for i, m in enumerate(moves):
        action = Action("think", {}) if m is None else Action("step", {"good": m})
        accepted = env.accepted_actions()
        result = env.step(action)
        steps.append(Step(i, f"thought {i}", action, _obs(result.text), accepted, result.reward))
    outcome = env.outcome(None)
    first = next((i for i, m in enumerate(moves) if m is False), -1 if outcome.success else None)
    return Trajectory(content_id(task, steps, None), "reasoning", task, steps, None, outcome,
                      Policy(f"line-{tier}", tier), PROVENANCE, first_error_step=first)


def _obs(text: str):
    from stores.schema import Observation

    return Observation(text)


def line_table(rows: list[Trajectory]):
    return to_table(rows)
