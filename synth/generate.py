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
from synth.llm.cache import ChatResult
from synth.llm.client import LLMSettings
from synth.registry import get_family
from synth.seeding import derive_seed, rng_for


@dataclass(frozen=True)
class LLMRun:
    """The model backend for ``llm``-tier episodes: server settings, mode, cache file and the
    turn limit of multi-turn (gui, research) agents."""

    settings: LLMSettings
    mode: str  # solve | serg (reasoning families)
    cache: str  # SQLite request cache shared by every shard (and by reruns: resume)
    max_rounds: int = 30  # model turns per gui/research episode before the agent must stop


@dataclass(frozen=True)
class ShardSpec:
    family: str
    seed: int
    start: int
    stop: int
    tiers: Mapping[str, float]
    difficulties: tuple[int, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    llm: LLMRun | None = None
    # K > 1: indexes name tasks, and each gives a group of K distinct episodes of that task
    samples_per_task: int = 1


#: draws per group before a task is given up (duplicates and failed experts are redrawn)
GROUP_ATTEMPTS = 4


@dataclass
class Shard:
    trajectories: pa.Table
    blobs: pa.Table
    llm_failures: list[dict[str, Any]] = field(default_factory=list)  # tasks the model gave no row for
    llm_results: list[ChatResult] = field(default_factory=list)  # every request, for the run's summary


def generate_shard(spec: ShardSpec, provenance: Provenance) -> Shard:
    if spec.samples_per_task > 1:
        return _generate_groups(spec, provenance)
    family = get_family(spec.family)
    unknown = sorted(set(spec.tiers) - set(family.tiers))
    if unknown:
        raise ValueError(f"family {spec.family!r} has no teacher for tier(s) {unknown}; it implements {list(family.tiers)}")
    tiers = [t for t, w in spec.tiers.items() if w > 0]
    weights = [spec.tiers[t] for t in tiers]
    params = dict(spec.params)
    prov = replace(provenance, generator=family.name, generator_version=family.version)
    rows: list = []
    blobs: dict = {}
    llm_slots: list[tuple[int, Any]] = []  # (row position, task): answered by the model in one batch
    for index in range(spec.start, spec.stop):
        rng = rng_for(spec.seed, spec.family, index)
        difficulty = rng.choice(spec.difficulties)
        tier = rng.choices(tiers, weights)[0]
        task = family.make_task(derive_seed(spec.seed, spec.family, index, "task"), difficulty, params)
        if tier == "llm":
            llm_slots.append((len(rows), task))
            rows.append(None)
            continue
        env = family.make_env(task, params)
        teacher = family.make_teacher(tier, task, rng, params)
        episode = run_episode(family.kind, task, env, teacher, prov)
        rows.append(episode.trajectory)
        blobs.update(episode.blobs)
    failures, results = _ask_model(spec, family, prov, rows, blobs, llm_slots) if llm_slots else ([], [])
    return Shard(to_table([r for r in rows if r is not None]), blobs_table(blobs), failures, results)


def _generate_groups(spec: ShardSpec, provenance: Provenance) -> Shard:
    """Grouped sampling: index i is task i (the task K = 1 would draw at index i), and its
    group is ``samples_per_task`` distinct episodes, each with its own tier and teacher rng
    drawn from ``(run seed, family, i, "sample", j)``. A draw identical to an earlier one of
    the group, or a failed expert, is redrawn; a task that still lacks K distinct episodes
    after ``GROUP_ATTEMPTS * K`` draws gives no rows, and the synthesize flow replaces it by a
    further task, so every published group has exactly K episodes."""
    family = get_family(spec.family)
    if spec.tiers.get("llm", 0) > 0:
        raise ValueError(f"family {spec.family!r}: samples_per_task > 1 is for scripted tiers; the llm tier "
                         "draws one reply per task")
    unknown = sorted(set(spec.tiers) - set(family.tiers))
    if unknown:
        raise ValueError(f"family {spec.family!r} has no teacher for tier(s) {unknown}; it implements {list(family.tiers)}")
    tiers = [t for t, w in spec.tiers.items() if w > 0]
    weights = [spec.tiers[t] for t in tiers]
    params = dict(spec.params)
    prov = replace(provenance, generator=family.name, generator_version=family.version)
    k = spec.samples_per_task
    rows: list = []
    blobs: dict = {}
    for index in range(spec.start, spec.stop):
        difficulty = rng_for(spec.seed, spec.family, index).choice(spec.difficulties)
        task = family.make_task(derive_seed(spec.seed, spec.family, index, "task"), difficulty, params)
        group: dict[str, Any] = {}
        for j in range(GROUP_ATTEMPTS * k):
            if len(group) == k:
                break
            rng = rng_for(spec.seed, spec.family, index, "sample", j)
            tier = rng.choices(tiers, weights)[0]
            episode = run_episode(family.kind, task, family.make_env(task, params),
                                  family.make_teacher(tier, task, rng, params), prov)
            t = episode.trajectory
            if t.id in group or (tier == "expert" and not t.outcome.success):
                continue
            group[t.id] = episode
        if len(group) == k:
            for episode in group.values():
                rows.append(episode.trajectory)
                blobs.update(episode.blobs)
    return Shard(to_table(rows), blobs_table(blobs))


def _ask_model(
    spec: ShardSpec, family: Any, prov: Provenance, rows: list, blobs: dict, slots: list
) -> tuple[list[dict[str, Any]], list[ChatResult]]:
    """Fill the ``llm`` rows from one concurrent, cached batch; failed tasks stay empty slots
    (dropped from the table). Reasoning families are answered in one reply per task
    (:mod:`synth.llm.reasoning`), gui and research families by a multi-turn agent
    (:mod:`synth.llm.agent`). Returns the failures and every request's result."""
    if spec.llm is None:
        raise ValueError(f"family {spec.family!r}: tier 'llm' needs a model backend (the config's `llm:` section)")
    from synth.llm.cache import RequestCache
    from synth.llm.client import ChatClient

    tasks = [task for _, task in slots]
    with RequestCache(spec.llm.cache) as cache, ChatClient(spec.llm.settings, cache) as client:
        if family.kind == "reasoning":
            # imports the reasoning engine: only when needed
            from synth.llm.reasoning import llm_episodes

            batch = llm_episodes(family, tasks, client, spec.llm.mode, prov)
        else:
            from synth.llm.agent import agent_episodes

            batch = agent_episodes(family, tasks, client, dict(spec.params), prov, max_rounds=spec.llm.max_rounds)
    by_task = {t.task.id: t for t in batch.trajectories}
    for position, task in slots:
        rows[position] = by_task.get(task.id)
    blobs.update(batch.blobs)
    return batch.failures, batch.results
