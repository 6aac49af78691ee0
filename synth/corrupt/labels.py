"""How a corrupted row gets its label and its id.

Action and reasoning edits change what the agent did, so the edited (thought, action) list is
replayed in a fresh env built from the stored task: observations, outcome and
``first_error_step`` are what the world answers, not a guess. Observation, reward and
dynamics edits change what the agent was shown or paid, not what it did, so the row keeps the
env's verdict on the clean episode (``first_error_step``, outcome; the outcome flip is the one
deliberate exception, named by its operator) and ``corruption.steps`` says where it was hit.

Ids: a corrupted row's id hashes its content *and* its corruption (operator, mode, c, eps,
touched steps, source). Content alone is not enough: a flipped outcome or a perturbed score
leaves task, steps and answer unchanged, so a content id would collide with the clean row,
and exact dedup would silently drop one of them.
"""

from __future__ import annotations

import dataclasses
import hashlib

from stores.schema import Corruption, Step, Trajectory, canonical_json, content_id
from synth.corrupt.registry import Edit
from synth.episode import Episode, run_episode
from synth.registry import get_family


class Replay:
    """A teacher that re-issues a fixed list of (thought, action)."""

    def __init__(self, trajectory: Trajectory, steps: list[Step]):
        self.policy = trajectory.policy
        self._script = [(s.thought, s.action) for s in steps]

    def act(self, env, history):
        return self._script[len(history)]


def replayed(trajectory: Trajectory, steps: list[Step], params: dict) -> Episode:
    """``steps``' thoughts and actions replayed in a fresh env (split ``corrupt``)."""
    family = get_family(trajectory.task.family)
    env = family.make_env(trajectory.task, dict(params))
    return run_episode(trajectory.kind, trajectory.task, env, Replay(trajectory, steps), trajectory.provenance,
                       max_steps=len(steps), split="corrupt")


def kept_label(trajectory: Trajectory, edit: Edit) -> Trajectory:
    """The clean row with the edit applied and the env's verdict on the clean episode kept."""
    return dataclasses.replace(
        trajectory,
        steps=edit.steps,
        outcome=edit.outcome if edit.outcome is not None else trajectory.outcome,
        scores=edit.scores if edit.scores is not None else dict(trajectory.scores),
        step_scores={k: list(v) for k, v in trajectory.step_scores.items()},
        split="corrupt",
        step_rows=None,
    )


def corrupted_id(trajectory: Trajectory, corruption: Corruption) -> str:
    """sha256 over (content id, corruption), first 32 hex: distinct from every content id, and
    from another corruption of the same row. Scores stay out, as in content ids: re-scoring a
    corrupted row does not make it another row."""
    t = trajectory
    payload = canonical_json([
        "corrupt",
        content_id(t.task, t.steps, t.final_answer, initial_observation=t.initial_observation),
        [corruption.operator, corruption.mode, corruption.rate, corruption.scale, corruption.steps, corruption.source_id],
    ])
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def reindexed(steps: list[Step]) -> list[Step]:
    """``steps`` with ``index`` = position (after an insertion or a drop)."""
    return [s if s.index == i else dataclasses.replace(s, index=i) for i, s in enumerate(steps)]
