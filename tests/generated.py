"""Small generated datasets of real task families, shared by the retrieval, dedup and
decontamination tests (generation is seeded, so every test sees the same rows)."""

from __future__ import annotations

import dataclasses
import functools
import random
from datetime import UTC, datetime

import pyarrow as pa

from stores.schema import Provenance, content_id, from_table, to_table
from synth.generate import ShardSpec, generate_shard

PROV = Provenance("test", "0", "code", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))


@functools.cache
def family_shard(family: str, episodes: int, seed: int = 0, tiers: tuple[tuple[str, float], ...] = (("expert", 1.0),)
                 ) -> tuple[pa.Table, pa.Table]:
    """(trajectories, blobs) of ``episodes`` episodes of ``family``."""
    shard = generate_shard(ShardSpec(family, seed, 0, episodes, dict(tiers), (1, 2)), PROV)
    return shard.trajectories, shard.blobs


def family_table(family: str, episodes: int, seed: int = 0, tiers: tuple[tuple[str, float], ...] = (("expert", 1.0),)
                 ) -> pa.Table:
    return family_shard(family, episodes, seed, tiers)[0]


def mixed_table(families: tuple[str, ...], episodes: int, seed: int = 0) -> pa.Table:
    return pa.concat_tables([family_table(f, episodes, seed) for f in families])


def edited_copies(table: pa.Table, every: int = 5, seed: int = 0) -> tuple[pa.Table, dict[str, str]]:
    """``table`` plus, for every ``every``-th row, a copy with a small edit to one step's
    thought (a word dropped and one inserted): a new content id, nearly the same text.
    Returns the table and ``{copy id: original id}``."""
    rng = random.Random(seed)
    rows = from_table(table)
    copies, truth = [], {}
    for row in rows[::every]:
        steps = [dataclasses.replace(s) for s in row.steps]
        at = rng.randrange(len(steps))
        words = steps[at].thought.split() or ["so"]
        words.pop(rng.randrange(len(words)))
        words.insert(rng.randrange(len(words) + 1), rng.choice(["so", "then", "now", "next", "indeed"]))
        steps[at] = dataclasses.replace(steps[at], thought=" ".join(words))
        copy = dataclasses.replace(row, steps=steps)
        copy.id = content_id(copy.task, steps, copy.final_answer, initial_observation=copy.initial_observation)
        if copy.id != row.id:
            copies.append(copy)
            truth[copy.id] = row.id
    return pa.concat_tables([table, to_table(copies)]), truth
