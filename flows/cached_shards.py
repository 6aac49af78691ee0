"""Synthesis shards through the store's shard cache (:mod:`stores.shard_cache`): a shard that
an earlier run (killed or finished) already made is read back instead of generated, with this
run's provenance, so a resumed run publishes the same content as an uninterrupted one.

Shards with ``llm``-tier episodes are not cached here: their requests are already cached one
by one in the LLM request cache (a rerun sends none twice), and their per-request results feed
the run's summary. A shard that fails is re-raised as :class:`ShardError` naming the family and
the index range, so a failed run says which shard to look at and never publishes fewer rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from stores.codeversion import source_digest
from stores.schema import Provenance
from stores.shard_cache import ShardCache, restamp
from synth.generate import Shard, ShardSpec

SYNTH_STAGE = "synthesize"
# what a synthesis shard's rows depend on besides its spec: the generators and the row format
SYNTH_SOURCES = ("synth", "stores/schema.py", "stores/blobs.py")


class ShardError(RuntimeError):
    """A shard failed after its retries; the run fails rather than publish a smaller dataset."""


def stage_codes() -> dict[str, str]:
    """The current code version of every cached stage (what ``trajforge cache gc`` keeps)."""
    return {SYNTH_STAGE: source_digest(SYNTH_SOURCES)}


def shard_label(spec: ShardSpec) -> str:
    return f"{spec.family} episodes {spec.start}..{spec.stop}"


def spec_inputs(spec: ShardSpec) -> dict[str, Any]:
    data = asdict(spec)
    data.pop("llm")
    data["tiers"] = dict(spec.tiers)
    data["difficulties"] = list(spec.difficulties)
    return data


def synthesize_cached(spec: ShardSpec, provenance: Provenance, cache: ShardCache | None,
                      compute: Callable[[ShardSpec, Provenance], Shard], warn: Callable[[str], None]
                      ) -> tuple[Shard, bool]:
    """The shard (from the cache when it holds it) and whether it came from the cache."""
    cacheable = cache is not None and spec.llm is None
    if cacheable:
        code = stage_codes()[SYNTH_STAGE]
        key = cache.key(SYNTH_STAGE, spec_inputs(spec), code)
        hit = cache.load(SYNTH_STAGE, key, warn)
        if hit is not None:
            tables, meta = hit
            return Shard(restamp(tables["trajectories"], provenance), tables["blobs"], meta["llm_failures"]), True
    try:
        shard = compute(spec, provenance)
    except Exception as e:
        raise ShardError(f"shard {shard_label(spec)} (seed {spec.seed}) failed: {type(e).__name__}: {e}") from e
    if cacheable:
        cache.save(SYNTH_STAGE, key, {"trajectories": shard.trajectories, "blobs": shard.blobs},
                   {"code": code, "label": shard_label(spec), "rows": shard.trajectories.num_rows,
                    "inputs": spec_inputs(spec), "llm_failures": shard.llm_failures})
    return shard, False
