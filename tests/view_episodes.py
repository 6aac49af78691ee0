"""A small store of real episodes for the trainer-view tests: each task run by several tiers
(so preference groups exist), the three kinds, GUI screenshots, scores, and labelled
corruptions in the ``corrupt`` split. Built once per test process (a few seconds)."""

from __future__ import annotations

import functools
import random
import tempfile

import pyarrow as pa

from filters.scorers import score_table
from stores.blobs import blobs_table
from stores.schema import to_table
from stores.store import Store
from synth.corrupt import corrupt_table
from synth.episode import run_episode
from synth.registry import get_family
from tests import research_world
from tests.factories import RUN_A

FAMILIES = (("maze", ("expert", "noisy")), ("sudoku", ("expert", "noisy")),
            ("form", ("expert", "noisy", "reflective")), ("multihop", ("expert", "noisy")))  # fmt: skip
NAME = "views"


@functools.lru_cache(maxsize=1)
def view_store() -> tuple[Store, str]:
    """(store, ref) of the published version."""
    rows, blobs, params = [], {}, {}
    for name, tiers in FAMILIES:
        family = get_family(name)
        p = research_world.params() if name == "multihop" else {}
        params[name] = p
        for seed in range(4):
            task = family.make_task(seed, 1 + seed % 2, p)
            for tier in tiers:
                env = family.make_env(task, p)
                episode = run_episode(family.kind, task, env, family.make_teacher(tier, task, random.Random(seed), p), RUN_A)
                rows.append(episode.trajectory)
                blobs.update(episode.blobs)
    clean = score_table(to_table(rows))
    corrupted, replayed, _ = corrupt_table(clean.slice(0, 12), ["swap_adjacent", "drop_step"], 1, params)
    table = pa.concat_tables([clean, score_table(corrupted)])
    by_id: dict = {}
    for t in (blobs_table(blobs), replayed):
        by_id.update(zip(t["id"].to_pylist(), zip(t["media_type"].to_pylist(), t["bytes"].to_pylist(), strict=True),
                         strict=True))  # fmt: skip
    store = Store(tempfile.mkdtemp(prefix="trajforge-views-"))
    info = store.publish(NAME, table, blobs=blobs_table(by_id))
    return store, info.ref
