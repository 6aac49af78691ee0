"""The shard cache and resume: entries round-trip exactly, a damaged entry is recomputed with a
warning, ``--fresh`` ignores the cache, ``cache ls|gc`` show and clean it, a failed shard names
itself, and a run SIGKILLed at random points resumes to the content of an uninterrupted run."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from datetime import UTC, datetime

import pyarrow as pa
import pytest
import yaml

from flows.cached_shards import SYNTH_STAGE, ShardError, spec_inputs, stage_codes, synthesize_cached
from flows.cli import main
from stores.schema import Provenance
from stores.shard_cache import TMP_PREFIX, ShardCache, cache_root, restamp
from stores.store import Store
from synth.generate import ShardSpec, generate_shard
from tests.prefect_api_server import TRAJFORGE, stop_group

RUN_A = Provenance("", "", "code-a", "hash-a", "run-a", datetime(2026, 1, 1, tzinfo=UTC))
RUN_B = Provenance("", "", "code-b", "hash-b", "run-b", datetime(2026, 2, 2, tzinfo=UTC))
SPEC = ShardSpec(family="maze", seed=3, start=0, stop=8, tiers={"expert": 0.5, "noisy": 0.5}, difficulties=(1, 2))


def _without_provenance(table: pa.Table) -> pa.Table:
    return table.drop_columns(["provenance"])


def test_a_cached_shard_is_the_computed_shard_with_this_runs_provenance(tmp_path):
    cache = ShardCache(tmp_path / "cache")
    warnings: list[str] = []
    computed, hit = synthesize_cached(SPEC, RUN_A, cache, generate_shard, warnings.append)
    assert not hit and computed.trajectories.num_rows == 8
    calls = []

    def never(spec, prov):
        calls.append(spec)
        raise AssertionError("a cached shard is not recomputed")

    again, hit = synthesize_cached(SPEC, RUN_B, cache, never, warnings.append)
    assert hit and not calls and not warnings
    fresh = generate_shard(SPEC, RUN_B)
    assert again.trajectories.equals(fresh.trajectories)  # provenance restamped: byte-for-byte the run-B shard
    assert again.blobs.equals(fresh.blobs)
    prov = again.trajectories["provenance"].to_pylist()
    assert {p["run_id"] for p in prov} == {"run-b"} and {p["generator"] for p in prov} == {"maze"}


def test_the_key_covers_spec_and_code(tmp_path):
    cache = ShardCache(tmp_path)
    base = cache.key(SYNTH_STAGE, spec_inputs(SPEC), "c1")
    other_range = ShardSpec(**{**spec_inputs(SPEC), "start": 8, "stop": 16})
    assert base != cache.key(SYNTH_STAGE, spec_inputs(other_range), "c1")
    assert base != cache.key(SYNTH_STAGE, spec_inputs(SPEC), "c2")
    assert base != cache.key("score", spec_inputs(SPEC), "c1")
    assert base == cache.key(SYNTH_STAGE, dict(reversed(list(spec_inputs(SPEC).items()))), "c1")


def test_a_damaged_entry_is_recomputed_with_a_warning(tmp_path):
    cache = ShardCache(tmp_path / "cache")
    synthesize_cached(SPEC, RUN_A, cache, generate_shard, print)
    [entry] = cache.entries()
    data = bytearray((entry.path / "trajectories.arrow").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (entry.path / "trajectories.arrow").write_bytes(bytes(data))
    warnings: list[str] = []
    shard, hit = synthesize_cached(SPEC, RUN_A, cache, generate_shard, warnings.append)
    assert not hit and shard.trajectories.num_rows == 8
    assert len(warnings) == 1 and "trajectories.arrow fails its checksum" in warnings[0] and entry.key in warnings[0]
    again, hit = synthesize_cached(SPEC, RUN_A, cache, generate_shard, warnings.append)  # rewritten: a hit again
    assert hit and again.trajectories.equals(shard.trajectories) and len(warnings) == 1


def test_fresh_recomputes_and_refreshes_the_entry(tmp_path):
    synthesize_cached(SPEC, RUN_A, ShardCache(tmp_path), generate_shard, print)
    [before] = ShardCache(tmp_path).entries()
    shard, hit = synthesize_cached(SPEC, RUN_B, ShardCache(tmp_path, read=False), generate_shard, print)
    assert not hit
    [after] = ShardCache(tmp_path).entries()
    assert after.key == before.key and after.meta["created_at"] > before.meta["created_at"]


def test_a_failed_shard_names_family_range_and_exception(tmp_path):
    def broken(spec, prov):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ShardError, match=r"shard maze episodes 0\.\.8 \(seed 3\) failed: ZeroDivisionError: division"):
        synthesize_cached(SPEC, RUN_A, ShardCache(tmp_path), broken, print)
    assert ShardCache(tmp_path).entries() == []  # nothing half-made is kept


def test_a_shard_past_its_timeout_fails_naming_it(tmp_path):
    from flows.workers import in_pool, shard_pool

    with shard_pool(2), pytest.raises(ShardError, match=r"shard maze episodes 0\.\.8 .*TimeoutError"):
        synthesize_cached(SPEC, RUN_A, ShardCache(tmp_path), lambda s, p: in_pool(time.sleep, 3, timeout=0.5), print)


def test_restamp_keeps_ids_and_content():
    table = generate_shard(SPEC, RUN_A).trajectories
    stamped = restamp(table, RUN_B)
    assert stamped.schema == table.schema
    assert _without_provenance(stamped).equals(_without_provenance(table))
    assert stamped["provenance"].to_pylist()[0]["created_at"] == RUN_B.created_at


def test_cache_ls_and_gc(tmp_path, capsys):
    store = tmp_path / "store"
    cache = ShardCache(cache_root(store))
    synthesize_cached(SPEC, RUN_A, cache, generate_shard, print)
    stale_spec = ShardSpec(**{**spec_inputs(SPEC), "start": 8, "stop": 12})
    stale = cache.save(SYNTH_STAGE, cache.key(SYNTH_STAGE, spec_inputs(stale_spec), "old-code"),
                       {"trajectories": generate_shard(stale_spec, RUN_A).trajectories},
                       {"code": "old-code", "label": "maze episodes 8..12", "rows": 4, "llm_failures": []})
    (cache.root / SYNTH_STAGE / f"{TMP_PREFIX}killed").mkdir()
    assert main(["--store", str(store), "cache", "ls"]) == 0
    assert "2 entries" in capsys.readouterr().out
    assert main(["--store", str(store), "cache", "ls", "--json"]) == 0
    shown = {r["shard"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(shown) == {"maze episodes 0..8", "maze episodes 8..12"}
    assert shown["maze episodes 0..8"]["current"] and not shown["maze episodes 8..12"]["current"]
    assert shown["maze episodes 0..8"]["rows"] == 8 and shown["maze episodes 0..8"]["bytes"] > 0
    assert main(["--store", str(store), "cache", "gc"]) == 0
    assert "removed 2 cache entries" in capsys.readouterr().out
    assert not stale.exists() and [e.meta["code"] for e in cache.entries()] == [stage_codes()[SYNTH_STAGE]]
    assert main(["--store", str(store), "cache", "gc", "--all"]) == 0
    assert cache.entries() == []


def test_a_failed_shard_fails_the_synthesis_flow_naming_it(prefect_server, monkeypatch):
    from flows import pipeline as pipeline_module
    from flows.config import parse_config

    def failing(spec, prov):
        if spec.start == 6:
            raise RuntimeError("the environment crashed")
        return generate_shard(spec, prov)

    monkeypatch.setattr(pipeline_module, "generate_shard", failing)
    config = parse_config({"dataset": "failing", "shard_size": 6, "workers": 1,
                           "synth": {"reasoning": [{"family": "maze", "count": 12}]}})
    with pytest.raises(ShardError, match=r"shard maze episodes 6\.\.12 .*RuntimeError: the environment crashed"):
        pipeline_module.run_synthesis(config, RUN_A)


def test_a_rerun_reads_every_shard_from_the_cache_and_publishes_the_same_rows(prefect_server, tmp_path):
    from flows.config import parse_config
    from flows.runtime import run_pipeline

    config = parse_config({**RESUME, "synth": {"reasoning": [{"family": "maze", "count": 30}]}})
    first = run_pipeline(config, str(tmp_path))
    again = run_pipeline(config, str(tmp_path))
    fresh = run_pipeline(config, str(tmp_path), fresh=True)
    store = Store(tmp_path)
    runs = [store.resolve(r.ref).manifest["params"]["run"] for r in (first, again, fresh)]
    assert [r["cached_shards"] for r in runs] == [0, 3, 0]
    tables = [_without_provenance(store.read(r.ref)) for r in (first, again, fresh)]
    assert tables[0].equals(tables[1]) and tables[0].equals(tables[2])
    assert store.read(again.ref)["provenance"].to_pylist()[0]["run_id"] == runs[1]["run_id"]


# ---------------------------------------------------------------------------- kill and resume

RESUME = {
    "dataset": "resumed",
    "seed": 11,
    "shard_size": 10,
    "workers": 1,
    "synth": {"reasoning": [{"family": "maze", "count": 60, "difficulties": [1, 2, 3]},
                            {"family": "sudoku", "count": 40, "difficulties": [1, 2]}]},
    "retrieve": {"prior": None, "dim": 32},
    "corrupt": {"fraction": 0.2},
}


@pytest.mark.slow  # five `trajforge run` processes, about 55 s here
def test_a_run_killed_at_random_points_resumes_to_identical_content(prefect_api, tmp_path):
    """SIGKILL to ``trajforge run`` (the supervisor: its worker group dies with it) after a
    random number of finished shards, three times; then a run to the end. Its version equals
    an uninterrupted ``--fresh`` run in another store, apart from provenance."""
    _url, env = prefect_api
    config = tmp_path / "resume.yaml"
    config.write_text(yaml.safe_dump(RESUME))
    store = tmp_path / "store"
    cache = ShardCache(cache_root(store))
    rng = random.Random(18)
    shards = 10
    for target in sorted(rng.sample(range(0, shards - 1), 3)):
        run = subprocess.Popen([TRAJFORGE, "--store", str(store), "run", str(config)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
        deadline = time.monotonic() + 120
        while len(cache.entries()) <= target and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.random() * 0.05)
        stop_group(run, signal.SIGKILL)
        assert run.returncode == -signal.SIGKILL
    finished = len(cache.entries())
    assert 0 < finished < shards + 4, "the kills should land while shards are being made"
    assert not Store(store).datasets() or not Store(store).versions("resumed")
    done = subprocess.run([TRAJFORGE, "--store", str(store), "run", str(config)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    reference = tmp_path / "reference"
    clean = subprocess.run([TRAJFORGE, "--store", str(reference), "run", "--fresh", str(config)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr

    resumed, fresh = Store(store).resolve("resumed@latest"), Store(reference).resolve("resumed@latest")
    assert resumed.manifest["params"]["run"]["cached_shards"] >= finished  # every finished shard was skipped
    assert fresh.manifest["params"]["run"]["cached_shards"] == 0
    a, b = Store(store).read(resumed), Store(reference).read(fresh)
    assert a["id"].to_pylist() == b["id"].to_pylist()
    assert _without_provenance(a).equals(_without_provenance(b))
    assert Store(store).read(resumed, table="blobs").equals(Store(reference).read(fresh, table="blobs"))
    pa_, pb = a["provenance"].to_pylist()[0], b["provenance"].to_pylist()[0]
    assert pa_["run_id"] != pb["run_id"] and pa_["generator"] == pb["generator"]
