"""The demo pipeline through Prefect against the same stages as direct function calls.

Shows what orchestration costs per run (temporary server start, flow and task runs) next to
the work itself. Usage: python bench/pipeline.py [CONFIG]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime

import pyarrow as pa

import flows.runtime  # noqa: F401 - Prefect settings before Prefect starts
from filters.dedup import exact_dedup, task_dedup
from filters.scorers import score_table
from flows.config import load_config
from flows.pipeline import shard_specs
from flows.runtime import run_pipeline
from stores.blobs import merge_blobs
from stores.embeddings import HashingEmbedder
from stores.retrieval import build_index
from stores.schema import Provenance
from stores.store import Store
from synth.corrupt import corrupt_table, corruption_sample
from synth.generate import generate_shard


def direct(config, root: str) -> tuple[int, dict[str, float]]:
    """The pipeline's stages called as plain functions (no Prefect), first run of a dataset."""
    laps, t0 = {}, time.perf_counter()
    prov = Provenance("", "", "bench", config.config_hash(), "bench", datetime.now(UTC))
    shards = [generate_shard(spec, prov) for spec in shard_specs(config)]
    table, _ = task_dedup(pa.concat_tables([s.trajectories for s in shards]))
    laps["synthesize"] = time.perf_counter() - t0
    table = score_table(table)
    laps["score"] = time.perf_counter() - t0 - sum(laps.values())
    files = build_index(table, HashingEmbedder(config.retrieve.dim)).to_files()
    laps["retrieve"] = time.perf_counter() - t0 - sum(laps.values())
    sample = corruption_sample(table, config.corrupt.fraction, config.seed)
    params = {spec.family: spec.family_params() for _, spec in config.families()}
    bad, bad_blobs, _ = corrupt_table(sample, config.corrupt.specs(), config.seed, params)
    table, _ = exact_dedup(pa.concat_tables([table, score_table(bad)]))
    laps["corrupt"] = time.perf_counter() - t0 - sum(laps.values())
    Store(root).publish(config.dataset, table, blobs=merge_blobs([*(s.blobs for s in shards), bad_blobs]), files=files)
    laps["publish"] = time.perf_counter() - t0 - sum(laps.values())
    return table.num_rows, laps


def main(path: str) -> None:
    config = load_config(path)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rows_d, laps_d = direct(config, f"{tmp}/direct")
        t_direct = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = run_pipeline(config, f"{tmp}/prefect")
        t_prefect = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = run_pipeline(config, f"{tmp}/prefect", fresh=True)  # recompute: no shard-cache hits
        t_again = time.perf_counter() - t0
    assert result.rows == rows_d, (result.rows, rows_d)
    print(f"{config.dataset}: {result.rows} trajectories ({sum(f.count for _, f in config.families())} episodes)")
    print(f"{'run':<52}{'seconds':>9}{'traj/s':>9}")
    print(f"{'direct function calls (baseline)':<52}{t_direct:>9.2f}{rows_d / t_direct:>9.0f}")
    print(f"{'Prefect pipeline, first run (starts temp server)':<52}{t_prefect:>9.2f}{result.rows / t_prefect:>9.0f}")
    print(f"{'Prefect pipeline, second run (+ retrieval vs v1)':<52}{t_again:>9.2f}{again.rows / t_again:>9.0f}")
    print("stage seconds, direct :", {k: round(v, 2) for k, v in laps_d.items()})
    print("stage seconds, Prefect:", again.stage_seconds)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "configs/demo.yaml")
