"""Dynamics corruptions: an observation that does not follow from its action. Not replayed.

``foreign_observation`` answers a step with another step's observation; ``stale_observation``
repeats the previous step's observation, as a world that failed to update would. The agent's
actions are unchanged, so the env's label of the clean row stands. Whole observations move
(text and image), so no new image is drawn.
"""

from __future__ import annotations

import dataclasses
import random

from stores.schema import Step, Trajectory
from synth.corrupt.registry import Edit, Operator, pick_steps, register


def _answered_with(steps: list[Step], answers: dict[int, int]) -> list[Step]:
    """Step i shown the clean observation of step ``answers[i]``."""
    edited = list(steps)
    for i, j in answers.items():
        edited[i] = dataclasses.replace(steps[i], observation=steps[j].observation)
    return edited


@register
class ForeignObservation(Operator):
    name = "foreign_observation"
    category = "dynamics"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps

        def others(i: int) -> list[int]:
            return [j for j, s in enumerate(steps) if s.observation.text.strip() and s.observation != steps[i].observation]

        touched = pick_steps(rng, [i for i in range(len(steps)) if others(i)], c)
        answers = {i: rng.choice(others(i)) for i in touched}
        return Edit(_answered_with(steps, answers), touched) if touched else None


@register
class StaleObservation(Operator):
    name = "stale_observation"
    category = "dynamics"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps
        eligible = [i for i in range(1, len(steps)) if steps[i - 1].observation != steps[i].observation]
        touched = pick_steps(rng, eligible, c)
        # the world froze at the step before the first touched one in a run of touched steps
        answers, frozen = {}, None
        for i in range(len(steps)):
            if i in touched:
                frozen = i - 1 if frozen is None else frozen
                answers[i] = frozen
            else:
                frozen = None
        return Edit(_answered_with(steps, answers), touched) if touched else None
