"""Reasoning corruptions: the trace goes wrong. Replayed, so the env labels them.

``wrong_thought`` inserts a ``think`` step whose thought restates the next step's with a
number slipped (an arithmetic or constraint slip the agent then walks past);
``truncate_trace`` cuts the last max(1, round(eps * n)) steps, answer included;
``wrong_answer`` submits a perturbed final answer. The env judges actions, not thoughts: an
inserted wrong thought leaves its label as the env gives it, and ``corruption.steps`` is
where the slip is.
"""

from __future__ import annotations

import random
import re

from stores.schema import Action, Observation, Step, Trajectory
from synth.corrupt.labels import reindexed
from synth.corrupt.noise import perturb_value
from synth.corrupt.registry import Edit, Operator, pick_steps, register

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _slipped(thought: str, rng: random.Random, eps: float) -> str:
    spans = list(_NUMBER.finditer(thought))
    m = rng.choice(spans)
    return thought[: m.start()] + str(perturb_value(m[0], rng, eps)) + thought[m.end():]


@register
class WrongThought(Operator):
    name = "wrong_thought"
    category = "reasoning"
    kinds = frozenset({"reasoning"})  # the families with a ``think`` action

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps
        before = pick_steps(rng, [i for i, s in enumerate(steps) if _NUMBER.search(s.thought)], c)
        if not before:
            return None
        edited: list[Step] = []
        for i, s in enumerate(steps):
            if i in before:
                edited.append(Step(i, _slipped(s.thought, rng, eps), Action("think", {"stage": "check"}), Observation("")))
            edited.append(s)
        return Edit(reindexed(edited), before)  # an insertion is recorded at the clean step it precedes


@register
class TruncateTrace(Operator):
    name = "truncate_trace"
    category = "reasoning"
    unit = "trajectory"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        n = len(trajectory.steps)
        if n < 2:
            return None
        keep = n - min(n - 1, max(1, round(eps * n)))
        return Edit(list(trajectory.steps[:keep]), list(range(keep, n)))


@register
class WrongAnswer(Operator):
    name = "wrong_answer"
    category = "reasoning"
    kinds = frozenset({"reasoning", "research"})  # the kinds that end with an ``answer``
    unit = "trajectory"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = list(trajectory.steps)
        last = steps[-1] if steps else None
        if last is None or last.action.name != "answer" or not isinstance(last.action.arguments.get("answer"), str):
            return None
        wrong = perturb_value(last.action.arguments["answer"], rng, eps)
        steps[-1] = Step(last.index, last.thought, Action("answer", {**last.action.arguments, "answer": wrong}),
                         last.observation, last.accepted_actions, last.reward)
        return Edit(steps, [len(steps) - 1])
