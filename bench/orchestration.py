"""What orchestration costs and buys, in one run: the demo config as direct function calls
(baseline), through Prefect on the local pool (1 and 2 processes), through Prefect on a Dask
LocalCluster (1 and 2 workers); then a run killed at 50 % of its shards and resumed from the
shard cache, against a full run, both as `trajforge run` processes on a real Prefect server.

Usage: python bench/orchestration.py [CONFIG [SCALE]]   (default configs/demo.yaml 1.0; SCALE
multiplies every family's count, e.g. 0.25 for a quick run on a loaded machine)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # bench/pipeline.py's baseline, tests' server helper

from pipeline import direct  # noqa: E402  (bench/pipeline.py)

import flows.runtime  # noqa: E402,F401 - Prefect settings before Prefect starts
from flows.config import load_config  # noqa: E402
from flows.pipeline import prepare_family, shard_specs  # noqa: E402
from flows.runtime import run_pipeline  # noqa: E402
from stores.schema import KINDS  # noqa: E402
from stores.shard_cache import ShardCache, cache_root  # noqa: E402
from stores.store import Store  # noqa: E402
from tests.prefect_api_server import TRAJFORGE, start_server, stop_group  # noqa: E402


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


def cli_run(env: dict[str, str], store: Path, config: Path, *extra: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([TRAJFORGE, "--store", str(store), "run", *extra, str(config)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def killed_at(env: dict[str, str], store: Path, config: Path, shards: int) -> int:
    """Start a run and SIGKILL it once half of its shards are in the cache; returns how many were."""
    cache = ShardCache(cache_root(store))
    proc = subprocess.Popen([TRAJFORGE, "--store", str(store), "run", str(config)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    while len(cache.entries()) < shards // 2 and proc.poll() is None:
        time.sleep(0.01)
    stop_group(proc, signal.SIGKILL)
    return len(cache.entries())


def direct_run(config, root: str) -> tuple[int, dict[str, float]]:
    """bench/pipeline.py's direct stages, after the families' store artefacts (the research
    corpus) are prepared as the pipeline's prepare stage does, with the same plain functions."""
    store = Store(root)
    synth = {kind: [prepare_family.fn(store, fam)[0] for fam in getattr(config.synth, kind)] for kind in KINDS}
    return direct(config.model_copy(update={"synth": config.synth.model_copy(update=synth)}), root)


def scaled(config, factor: float):
    data = config.model_dump(mode="json")
    for kind in KINDS:
        for fam in data["synth"][kind]:
            fam["count"] = max(1, round(fam["count"] * factor))
    return config.model_validate(data)


def main(path: str, factor: float) -> None:
    config = scaled(load_config(path), factor)
    episodes = sum(f.count for _, f in config.families())
    rows: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t, (n, _laps) = timed(direct_run, config.model_copy(update={"workers": 1}), str(tmp / "direct"))
        rows.append(("direct function calls, 1 process (baseline)", t, n))
        warm = config.model_validate({"dataset": "warmup", "workers": 1,
                                      "synth": {"reasoning": [{"family": "maze", "count": 10}]}})
        run_pipeline(warm, str(tmp / "warmup"))  # the temporary server starts here, outside the timings
        variants = [
            ("Prefect, local pool, 1 process", {"workers": 1}),
            ("Prefect, local pool, 2 processes", {"workers": 2}),
            ("Prefect, Dask LocalCluster, 1 worker", {"runner": {"kind": "dask", "n_workers": 1}}),
            ("Prefect, Dask LocalCluster, 2 workers", {"runner": {"kind": "dask", "n_workers": 2}}),
        ]
        for i, (name, update) in enumerate(variants):
            cfg = config.model_validate({**config.model_dump(mode="json"), **update})
            t, result = timed(run_pipeline, cfg, str(tmp / f"run{i}"))
            rows.append((name, t, result.rows))
            print(f"  {name}: stage seconds {result.stage_seconds}", file=sys.stderr)

        server, _url, env = start_server(tmp / "prefect-home")
        try:
            cfg_path = tmp / "config.yaml"
            cfg_path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
            shards = len(shard_specs(config))
            t_full = cli_run(env, tmp / "full", cfg_path)
            done = killed_at(env, tmp / "resume", cfg_path, shards)
            t_resume = cli_run(env, tmp / "resume", cfg_path)
            t_cached = cli_run(env, tmp / "resume", cfg_path)
        finally:
            stop_group(server)

    base = rows[0][1]
    print(f"{config.dataset} x{factor:g}: {episodes} episodes, {os.cpu_count()} CPU cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':<48}{'seconds':>9}{'traj/s':>9}{'vs direct':>11}")
    for name, t, n in rows:
        print(f"{name:<48}{t:>9.2f}{n / t:>9.0f}{(t - base) / base:>+10.0%}")
    print(f"\n`trajforge run` processes on a real Prefect server ({shards} shards):")
    print(f"{'full run':<48}{t_full:>9.2f}")
    print(f"{f'resumed after a SIGKILL at {done}/{shards} shards':<48}{t_resume:>9.2f}{t_resume / t_full:>9.0%} of full")
    print(f"{'rerun with every shard cached':<48}{t_cached:>9.2f}{t_cached / t_full:>9.0%} of full")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "configs/demo.yaml", float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
