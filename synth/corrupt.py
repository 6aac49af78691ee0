"""Labelled corruptions for robustness splits, relabelled by replaying the environment.

An operator edits the action sequence of a clean trajectory (swap two adjacent steps, drop a
step); the corrupted episode is then replayed in a fresh environment built from the stored
task, so its observations, outcome and ``first_error_step`` are what the world really
answers, not a guess. The ``corruption`` struct records the operator, the touched steps and
the clean source, so a trainer or evaluator can pair each corrupted row with its origin.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import pyarrow as pa

from stores.blobs import blobs_table
from stores.schema import Corruption, Step, Trajectory, from_table, to_table
from synth.episode import Episode, run_episode
from synth.registry import get_family
from synth.seeding import rng_for

# operator name -> (steps -> (edited steps, touched indexes)) or None when not applicable
Operator = Callable[[list[Step], random.Random], tuple[list[Step], list[int]] | None]


def _swap_adjacent(steps: list[Step], rng: random.Random) -> tuple[list[Step], list[int]] | None:
    candidates = [i for i in range(len(steps) - 1) if steps[i].action != steps[i + 1].action]
    if not candidates:
        return None
    i = rng.choice(candidates)
    edited = list(steps)
    edited[i], edited[i + 1] = edited[i + 1], edited[i]
    return edited, [i, i + 1]


def _drop_step(steps: list[Step], rng: random.Random) -> tuple[list[Step], list[int]] | None:
    if len(steps) < 2:
        return None
    i = rng.randrange(len(steps) - 1)  # never the final answer: that would only truncate
    return steps[:i] + steps[i + 1 :], [i]


OPERATORS: dict[str, Operator] = {"swap_adjacent": _swap_adjacent, "drop_step": _drop_step}


class _Replay:
    """A teacher that re-issues a fixed list of (thought, action)."""

    def __init__(self, trajectory: Trajectory, steps: list[Step]):
        self.policy = trajectory.policy
        self._script = [(s.thought, s.action) for s in steps]

    def act(self, env, history):
        return self._script[len(history)]


def corrupt(
    trajectory: Trajectory, operator: str, seed: int, rate: float, params: dict | None = None
) -> Episode | None:
    """A corrupted copy of ``trajectory`` (split ``corrupt``) with the images its replay drew,
    or None if the operator cannot apply.

    ``params`` are the family parameters the trajectory was generated with (env rebuild).
    A corruption the env finds harmless keeps its honest label: success and -1.
    """
    if operator not in OPERATORS:
        raise ValueError(f"unknown corruption operator {operator!r}; known: {sorted(OPERATORS)}")
    edit = OPERATORS[operator](trajectory.steps, rng_for(seed, operator, trajectory.id))
    if edit is None:
        return None
    steps, touched = edit
    family = get_family(trajectory.task.family)
    env = family.make_env(trajectory.task, dict(params or {}))
    replayed = run_episode(
        trajectory.kind,
        trajectory.task,
        env,
        _Replay(trajectory, steps),
        trajectory.provenance,
        max_steps=len(steps),
        split="corrupt",
    )
    replayed.trajectory.corruption = Corruption(operator, "single", rate, 1.0, touched, trajectory.id)
    return replayed


def corruption_sample(table: pa.Table, fraction: float, seed: int) -> pa.Table:
    """The seeded share of clean rows a run corrupts, in their original order."""
    n = round(fraction * table.num_rows)
    picked = sorted(rng_for(seed, "corrupt-sample").sample(range(table.num_rows), n))
    return table.take(pa.array(picked, pa.int64()))  # typed: an empty pick has no type to infer


def corrupt_table(
    table: pa.Table, operators: list[str], seed: int, rate: float, params: Mapping[str, Mapping]
) -> tuple[pa.Table, pa.Table]:
    """Corrupt every row with one of ``operators`` (chosen per trajectory id, so the result does
    not depend on how rows are sharded); rows no operator can change are left out.

    Returns the corrupted rows and the blobs (screenshots) their replays drew: a replayed
    screen after a swapped step is a new image the clean rows never referenced.
    """
    out, blobs = [], {}
    for trajectory in from_table(table):
        operator = rng_for(seed, "operator", trajectory.id).choice(operators)
        corrupted = corrupt(trajectory, operator, seed, rate, dict(params.get(trajectory.task.family, {})))
        if corrupted is not None:
            out.append(corrupted.trajectory)
            blobs.update(corrupted.blobs)
    return to_table(out), blobs_table(blobs)
