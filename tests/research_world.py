"""One small generated corpus per test process, shared by the research test modules (built
once into a temporary store: about a second)."""

from __future__ import annotations

import functools
import random
import tempfile
from datetime import UTC, datetime
from typing import Any

from stores.corpus import publish_corpus
from stores.schema import Provenance, Trajectory
from stores.store import Store
from synth.episode import run_episode
from synth.registry import get_family
from synth.research.world import Generated, WorldSpec

SIZE, SEED = 1500, 3
PROV = Provenance("test", "0", "code", "cfg", "run", datetime(2026, 1, 1, tzinfo=UTC))


@functools.lru_cache(maxsize=1)
def world() -> tuple[Store, str]:
    """(store, corpus ref) of the shared world."""
    store = Store(tempfile.mkdtemp(prefix="trajforge-research-"))
    info = publish_corpus(store, "testworld", Generated(WorldSpec(size=SIZE, seed=SEED)))
    return store, info.ref


def params(**extra: Any) -> dict[str, Any]:
    """Family params naming the shared world, as the pipeline would pin them."""
    store, ref = world()
    return {"corpus": {"ref": ref, "store": str(store.root)}, **extra}


def family():
    return get_family("multihop")


def episode(seed: int, difficulty: int, tier: str, extra: dict[str, Any] | None = None,
            rng_seed: int | None = None) -> Trajectory:
    p = params(**(extra or {}))
    fam = family()
    task = fam.make_task(seed, difficulty, p)
    teacher = fam.make_teacher(tier, task, random.Random(seed if rng_seed is None else rng_seed), p)
    return run_episode("research", task, fam.make_env(task, p), teacher, PROV).trajectory
