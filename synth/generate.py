"""Generate one shard of trajectories for one family: the unit of work a Prefect task runs.

A shard is a contiguous range of episode indexes. Everything an episode needs (task seed,
difficulty, tier, teacher randomness) is derived from ``(run seed, family, index)``, so any
shard can be regenerated on its own and gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from stores.blobs import blobs_table
from stores.schema import Provenance, to_table
from synth.episode import run_episode
from synth.registry import get_family
from synth.seeding import derive_seed, rng_for


@dataclass(frozen=True)
class ShardSpec:
    family: str
    seed: int
    start: int
    stop: int
    tiers: Mapping[str, float]
    difficulties: tuple[int, ...]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Shard:
    trajectories: pa.Table
    blobs: pa.Table


def generate_shard(spec: ShardSpec, provenance: Provenance) -> Shard:
    family = get_family(spec.family)
    unknown = sorted(set(spec.tiers) - set(family.tiers))
    if unknown:
        raise ValueError(f"family {spec.family!r} has no teacher for tier(s) {unknown}; it implements {list(family.tiers)}")
    tiers = [t for t, w in spec.tiers.items() if w > 0]
    weights = [spec.tiers[t] for t in tiers]
    params = dict(spec.params)
    prov = replace(provenance, generator=family.name, generator_version=family.version)
    rows, blobs = [], {}
    for index in range(spec.start, spec.stop):
        rng = rng_for(spec.seed, spec.family, index)
        difficulty = rng.choice(spec.difficulties)
        tier = rng.choices(tiers, weights)[0]
        task = family.make_task(derive_seed(spec.seed, spec.family, index, "task"), difficulty, params)
        env = family.make_env(task, params)
        teacher = family.make_teacher(tier, task, rng, params)
        episode = run_episode(family.kind, task, env, teacher, prov)
        rows.append(episode.trajectory)
        blobs.update(episode.blobs)
    return Shard(to_table(rows), blobs_table(blobs))
