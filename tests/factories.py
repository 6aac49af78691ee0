"""Valid trajectories built without any task family, for store/catalog/filter tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pyarrow as pa

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
    to_table,
)

KINDS = ("reasoning", "gui", "research")
PROVENANCE = Provenance("factory", "1", "test", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))


def make_trajectory(i: int, seed: int = 0, n_steps: int | None = None) -> Trajectory:
    rng = random.Random(f"{seed}-{i}")
    n = rng.randint(1, 6) if n_steps is None else n_steps
    task = Task(f"t{seed}-{i}", "toy", f"task {i} of seed {seed}: reach {rng.randint(0, 99)}", rng.randint(1, 5),
                {"answer": i}, {"size": n}, seed * 1000 + i)
    steps = [
        Step(j, f"thought {j}", Action("move", {"to": [j, rng.randint(0, 9)]}), Observation(f"at {j}"),
             [{"name": "move"}], 0.0)
        for j in range(n)
    ]
    success = rng.random() < 0.7
    return Trajectory(
        id=content_id(task, steps, str(i)),
        kind=KINDS[i % 3],
        task=task,
        steps=steps,
        final_answer=str(i),
        outcome=Outcome(success, "toy", ""),
        policy=Policy("toy-expert" if success else "toy-noisy", "expert" if success else "noisy"),
        provenance=PROVENANCE,
        scores={"verifier": 1.0 if success else 0.0},
        first_error_step=-1 if success else 0,
    )


def make_table(n: int, seed: int = 0) -> pa.Table:
    return to_table([make_trajectory(i, seed) for i in range(n)])

# Shared by the family tests: two runs that differ only in provenance, and a tier mix.
RUN_A = Provenance("test", "0", "code", "cfg", "run-a", datetime(2026, 1, 1, tzinfo=UTC))
RUN_B = Provenance("test", "0", "code2", "cfg2", "run-b", datetime(2026, 2, 2, tzinfo=UTC))
MIXED_TIERS = {"expert": 0.5, "noisy": 0.3, "random": 0.2}
