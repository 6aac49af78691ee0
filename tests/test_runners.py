"""``runner:``: local (default) or dask. The same config gives the same version content on a Dask
scheduler with two workers (separate processes on 127.0.0.1) as on the local pool; an unknown
runner is a config error and a scheduler that does not answer fails fast, store untouched."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from flows.cli import main
from flows.config import ConfigError, parse_config
from flows.runners import RunnerError, check_runner
from stores.store import Store
from tests.prefect_api_server import TRAJFORGE, free_port, stop_group

DASK = str(Path(sys.executable).with_name("dask"))
CONFIG = {
    "dataset": "scaled",
    "seed": 4,
    "shard_size": 10,
    "workers": 1,
    "synth": {"reasoning": [{"family": "maze", "count": 40, "difficulties": [1, 2, 3]},
                            {"family": "hanoi", "count": 20, "difficulties": [1, 2]}]},
    "retrieve": {"prior": None, "dim": 32},
    "corrupt": {"fraction": 0.2},
}


def test_unknown_runner_is_a_config_error():
    with pytest.raises(ConfigError, match="runner.kind: Input should be 'local' or 'dask'"):
        parse_config({**CONFIG, "runner": "ray"})
    with pytest.raises(ConfigError, match="set runner.kind: dask"):
        parse_config({**CONFIG, "runner": {"address": "tcp://127.0.0.1:8786"}})
    assert parse_config({**CONFIG, "runner": "dask"}).runner.kind == "dask"


def test_the_runner_is_not_part_of_the_config_hash():
    local = parse_config(CONFIG)
    dask = parse_config({**CONFIG, "runner": {"kind": "dask", "address": "tcp://10.0.0.1:8786"}})
    assert local.config_hash() == dask.config_hash()


def test_a_scheduler_that_does_not_answer_fails_fast_and_writes_nothing(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"
    config = parse_config({**CONFIG, "runner": {"kind": "dask", "address": address, "connect_timeout_s": 2}})
    started = time.monotonic()
    with pytest.raises(RunnerError, match=rf"runner.address {address}: no Dask scheduler answered within 2 s"):
        check_runner(config.runner)
    assert time.monotonic() - started < 10
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    assert main(["--store", str(tmp_path / "store"), "run", str(path)]) == 1
    assert "dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


@pytest.mark.slow  # a scheduler, two workers and two `trajforge run` processes: about 100 s on this shared machine
def test_dask_workers_give_the_same_content_as_the_local_pool(prefect_api, tmp_path):
    _url, env = prefect_api
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**env, "DASK_LOGGING__DISTRIBUTED": "error"}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    workers = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
               for i in range(2)]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        configs = {"local": CONFIG, "dask": {**CONFIG, "runner": {"kind": "dask", "address": address}}}
        stores = {}
        for name, cfg in configs.items():
            path = tmp_path / f"{name}.yaml"
            path.write_text(yaml.safe_dump(cfg))
            stores[name] = tmp_path / name
            done = subprocess.run([TRAJFORGE, "--store", str(stores[name]), "run", str(path)], env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        with Client(address, timeout=30) as client:  # the shards really ran on both Dask workers
            assert all(n > 0 for n in client.run(lambda dask_worker: len(dask_worker.data) + dask_worker.state.executed_count).values())
        local, dask = (Store(stores[n]).read("scaled@latest") for n in ("local", "dask"))
        assert local["id"].to_pylist() == dask["id"].to_pylist()
        assert local.drop_columns(["provenance"]).equals(dask.drop_columns(["provenance"]))
        manifest = Store(stores["dask"]).resolve("scaled@latest").manifest
        assert manifest["params"]["config"]["runner"]["kind"] == "dask"
        assert manifest["params"]["config_hash"] == Store(stores["local"]).resolve("scaled@latest").manifest["params"]["config_hash"]
    finally:
        for proc in [*workers, scheduler]:
            stop_group(proc)
