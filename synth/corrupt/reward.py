"""Reward and label corruptions, after RIQL. Not replayed: the agent's actions are unchanged.

``reward_random`` replaces step rewards by U(-30 eps, 30 eps) (RIQL's random reward
corruption); ``reward_negate`` replaces them by -eps * r (RIQL's adversarial form, here on
randomly chosen steps); ``score_random`` does the U(-30 eps, 30 eps) replacement to a row's
trajectory scores; ``outcome_flip`` flips the success label, the one operator whose row
deliberately disagrees with the env (its operator name says so).
"""

from __future__ import annotations

import dataclasses
import random

from stores.schema import Outcome, Step, Trajectory, f32
from synth.corrupt.registry import Edit, Operator, pick_steps, register


def _rewarded(steps: list[Step], rewards: dict[int, float]) -> list[Step]:
    edited = list(steps)
    for i, r in rewards.items():
        edited[i] = dataclasses.replace(steps[i], reward=r)
    return edited


@register
class RewardRandom(Operator):
    name = "reward_random"
    category = "reward"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        if eps == 0:
            return None  # U(0, 0) would write the zero rewards the episodes already have
        steps = trajectory.steps
        touched = pick_steps(rng, list(range(len(steps))), c)
        rewards = {i: rng.uniform(-30 * eps, 30 * eps) for i in touched}
        touched = [i for i in touched if f32(rewards[i]) != steps[i].reward]
        return Edit(_rewarded(steps, {i: rewards[i] for i in touched}), touched) if touched else None


@register
class RewardNegate(Operator):
    name = "reward_negate"
    category = "reward"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps
        # -eps * r differs from r unless r is 0 (or eps is -1, which the spec refuses)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if s.reward], c)
        rewards = {i: -eps * steps[i].reward for i in touched}
        return Edit(_rewarded(steps, rewards), touched) if touched else None


@register
class ScoreRandom(Operator):
    name = "score_random"
    category = "reward"
    unit = "trajectory"
    edits_scores = True

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        if not trajectory.scores or eps == 0:
            return None
        scores = {k: rng.uniform(-30 * eps, 30 * eps) for k in sorted(trajectory.scores)}
        return Edit(list(trajectory.steps), [], scores=scores)


@register
class OutcomeFlip(Operator):
    name = "outcome_flip"
    category = "reward"
    unit = "trajectory"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        o = trajectory.outcome
        return Edit(list(trajectory.steps), [], outcome=Outcome(not o.success, o.verifier, o.detail))
