"""Reasoning generation throughput: per family and difficulty, images off and on, and the
100,000-trajectory mix of configs/reasoning.yaml on one core (direct calls, the baseline)
against trajforge's synthesize flow (Prefect tasks + a process per core).

Usage: python bench/reasoning.py [--episodes N] [--skip-mix]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

import pyarrow.compute as pc

import flows.runtime  # noqa: F401 - Prefect settings before Prefect starts
from flows.config import load_config
from flows.pipeline import run_synthesis, shard_specs
from flows.workers import worker_count
from stores.schema import Provenance
from synth.generate import ShardSpec, generate_shard
from synth.reasoning.levels import reasoning_families

MIX = {"expert": 0.4, "reflective": 0.2, "noisy": 0.3, "random": 0.1}
PROV = Provenance("", "", "bench", "bench", "bench", datetime.now(UTC))


def rate(family: str, difficulty: int, episodes: int, params: dict) -> tuple[float, float]:
    """(trajectories per second, mean steps) for one shard on this core."""
    spec = ShardSpec(family, 1, 0, episodes, MIX, (difficulty,), params)
    t0 = time.perf_counter()
    shard = generate_shard(spec, PROV)
    seconds = time.perf_counter() - t0
    return episodes / seconds, pc.mean(pc.list_value_length(shard.trajectories["steps"])).as_py()


def per_family(episodes: int) -> None:
    print(f"\n## trajectories/s on one core ({episodes} episodes per cell, tiers {MIX}; steps in brackets)\n")
    print("| family | d1 | d2 | d3 | d4 | d5 | d1-3 images on (512 px) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    low: list[float] = []
    for f in reasoning_families():
        cells = []
        for d in range(1, 6):
            n = episodes if d <= 3 else max(20, episodes // 5)
            r, steps = rate(f.name, d, n, {})
            if d <= 3:
                low.append(r)
            cells.append(f"{r:,.0f} ({steps:.0f})")
        if f.renderable:
            on = statistics.mean(rate(f.name, d, max(20, episodes // 5), {"images": "task"})[0] for d in (1, 2, 3))
            shown = f"{on:,.0f}"
        else:
            shown = "n/a"
        print(f"| {f.name} | " + " | ".join(cells) + f" | {shown} |")
    print(f"\nmean over families at d1-3: {statistics.mean(low):,.0f} trajectories/s per core "
          f"(harmonic mean, i.e. an even mix: {statistics.harmonic_mean(low):,.0f})")


def mix(path: str) -> None:
    config = load_config(path)
    total = sum(f.count for _k, f in config.families())
    print(f"\n## {path}: {total:,} trajectories, {len(config.families())} families\n")
    print("| run | seconds | trajectories/s |")
    print("|---|---:|---:|")
    t0 = time.perf_counter()
    rows = sum(generate_shard(spec, PROV).trajectories.num_rows for spec in shard_specs(config))
    direct = time.perf_counter() - t0
    print(f"| direct generate_shard calls, one core (baseline) | {direct:.1f} | {rows / direct:,.0f} |")
    t0 = time.perf_counter()
    synthesis = run_synthesis(config, PROV)
    flow_s = time.perf_counter() - t0
    n = synthesis.trajectories.num_rows
    workers = worker_count(config.workers)
    print(f"| trajforge synthesize flow, {workers} processes (task dedup + top-up included) | {flow_s:.1f} | {n / flow_s:,.0f} |")
    print(f"\nrepeated tasks replaced: {sum(synthesis.repeated_tasks.values())}; shortfall: {synthesis.shortfall or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--config", default="configs/reasoning.yaml")
    parser.add_argument("--skip-mix", action="store_true")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    per_family(args.episodes)
    if not args.skip_mix:
        mix(args.config)


if __name__ == "__main__":
    main()
