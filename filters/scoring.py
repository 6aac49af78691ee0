"""Scoring a committed version: read it, run the configured scorers, publish the scored rows as
a new version whose lineage names the source with role ``score`` and records the scorers, their
parameters and their cost figures.

The env a replaying scorer rebuilds must be the one the episodes ran in, so each family's
params come from the source's manifest (the pipeline config it was made with); a research
corpus is looked up in the store being scored unless the params name another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from filters.scorers import Scoring, merge_stats, score_batches
from filters.scorers.base import ScorerError, build_scorers, check_kinds, in_store
from stores.names import check_name
from stores.selection import publish_selection
from stores.store import Store, VersionInfo
from stores.transfer import detached

Mapper = Callable[[Callable[..., Any], Iterable[Any], Iterable[Any]], Iterable[Any]]


def family_params_of(store: Store, info: VersionInfo) -> dict[str, dict[str, Any]]:
    """Per family, the params ``info`` was generated with (empty for versions made otherwise)."""
    synth = ((info.manifest.get("params") or {}).get("config") or {}).get("synth") or {}
    out: dict[str, dict[str, Any]] = {}
    for specs in synth.values():
        for spec in specs or []:
            params = dict(spec.get("params") or {})
            if isinstance(params.get("corpus"), dict):
                params["corpus"] = {"store": str(store.root), **params["corpus"]}
            out[spec["family"]] = params
    return out


def score_version(store: Store, info: VersionInfo, entries: list[dict[str, Any]], *, seed: int = 0,
                  batch_size: int = 2000, into: str | None = None, mapper: Mapper = map
                  ) -> tuple[VersionInfo, dict[str, dict[str, float]]]:
    """Publish ``info`` scored by ``entries`` (batches go through ``mapper``, e.g. a process
    pool's ``map``); unknown scorers, bad params and kinds a scorer does not support fail before
    any scorer runs, and nothing is written."""
    if info.kind != "trajectories":
        raise ScorerError(f"{info.ref} is a {info.kind} version; scorers read trajectory versions")
    name = into or info.name
    check_name(name)
    table = store.read(info)
    entries = in_store(entries, str(store.root))
    scoring = Scoring(list(entries), seed, batch_size, family_params_of(store, info))
    for scorer in build_scorers(scoring.entries, seed, family_params=scoring.family_params):
        check_kinds(scorer, table)
    # copies: a pool's map pickles each part, and a slice pickles the buffers of the whole table
    parts = [detached(table.slice(i, batch_size)) for i in range(0, table.num_rows, batch_size)] or [table]
    results = list(mapper(score_batches, parts, [scoring] * len(parts)))
    scored = pa.concat_tables([r[0] for r in results])
    stats = merge_stats([r[1] for r in results])
    params = {"score": {"scorers": list(entries), "seed": seed, "batch_size": batch_size}, "stats": stats,
              "source": info.ref}
    return publish_selection(store, name, scored, [info], "score", params=params, explain={}), stats
