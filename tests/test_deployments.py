"""Deployments against a real ``prefect server start`` on 127.0.0.1 (one per test session):
``trajforge serve`` registers every deployment, a run triggered through the API with a typed
config completes, and its name, tags, task runs, INFO logs, artifacts and published event are
visible through the client; ``trajforge deploy`` registers them to a work pool."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from flows.config import ConfigError, parse_config
from flows.deployments import DEPLOYMENTS, resolve_config
from flows.run_reports import PUBLISHED_EVENT, artifact_key, run_name, run_tags
from tests.prefect_api_server import TRAJFORGE, stop_group

REPO = Path(__file__).resolve().parent.parent
CONFIG = {
    "dataset": "deployed",
    "seed": 5,
    "shard_size": 6,
    "workers": 1,
    "synth": {"reasoning": [{"family": "maze", "count": 12, "difficulties": [1, 2], "tiers": {"expert": 0.5, "noisy": 0.5}}]},
    "retrieve": {"k": 2, "dim": 32},
    "corrupt": {"fraction": 0.25},
}


def _client(url: str):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=url)


# ---------------------------------------------------------------------------- without a server


def test_prefect_yaml_lists_every_deployment():
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    listed = {(d["name"], d["entrypoint"]) for d in spec["deployments"]}
    assert listed == {(d.name, d.entrypoint) for d in DEPLOYMENTS}
    for d in DEPLOYMENTS:  # every entrypoint names a flow object in the module
        module, _, attr = d.entrypoint.partition(":")
        assert module == "flows/deployments.py" and getattr(sys.modules["flows.deployments"], attr) is d.flow


def test_the_run_form_shows_config_fields_with_their_docs():
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(DEPLOYMENTS[0].flow.fn).model_dump()
    assert set(schema["properties"]) == {"config_path", "config", "store", "fresh"}
    fields = schema["definitions"]["PipelineConfig"]["properties"]
    assert "seed" in fields and "every episode seed derives from it" in fields["seed"]["description"]
    family = schema["definitions"]["FamilySpec"]["properties"]
    assert all(f.get("description") for f in family.values())
    assert "Pipeline config YAML" in schema["properties"]["config_path"]["description"]


def test_a_deployment_takes_the_config_as_a_path_or_fields(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    typed = parse_config(CONFIG)
    assert resolve_config(str(path), None) == typed == resolve_config(None, typed)
    with pytest.raises(ConfigError, match="either as config_path"):
        resolve_config(None, None)
    with pytest.raises(ConfigError, match="not both"):
        resolve_config(str(path), typed)
    bad = typed.model_copy(update={"synth": typed.synth.model_copy(update={"reasoning": [
        typed.synth.reasoning[0].model_copy(update={"tiers": {"llm": 1.0}})]})})
    with pytest.raises(ConfigError, match="tier 'llm' needs a model backend"):  # family checks, not only pydantic
        resolve_config(None, bad)


def test_run_names_and_tags_carry_dataset_hash_and_version():
    assert run_name("demo", "0123456789abcdef") == "demo-01234567"
    assert run_name("demo", "0123456789abcdef", "demo@v3") == "demo-01234567-v3"
    assert run_tags("demo", "0123456789abcdef", "demo@v3") == ["dataset:demo", "config:0123456789abcdef",
                                                               "version:demo@v3"]
    assert artifact_key("My_Set.2", "summary") == "my-set-2-summary"


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path)
    done = subprocess.run([TRAJFORGE, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "prefect server start --host 127.0.0.1" in done.stderr and "PREFECT_API_URL" in done.stderr


# ---------------------------------------------------------------------------- a real server


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_served_deployment_run_completes_with_artifacts_logs_and_event(prefect_api, tmp_path):
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.deployments import run_deployment

    url, env = prefect_api
    store = tmp_path / "store"
    serve_log = (tmp_path / "serve.log").open("wb")
    serving = subprocess.Popen([TRAJFORGE, "serve"], env=env, cwd=REPO, stdout=serve_log, stderr=subprocess.STDOUT,
                               process_group=0)
    try:
        client = _client(url)
        names = {d.name for d in DEPLOYMENTS}
        _wait(lambda: names <= {d.name for d in client.read_deployments()}, 60, "the served deployments")
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url}):
            submitted = run_deployment("trajforge-pipeline/pipeline", timeout=0,
                                       parameters={"config": CONFIG, "store": str(store)})

        def finished():
            run = client.read_flow_run(submitted.id)
            return run if run.state is not None and run.state.is_final() else None

        run = _wait(finished, 240, "the deployment run")
        assert run.state.is_completed(), (run.state, (tmp_path / "serve.log").read_text()[-3000:])
        config_hash = parse_config(CONFIG).config_hash()
        assert run.name == f"deployed-{config_hash[:8]}-v1"
        assert {"dataset:deployed", f"config:{config_hash}", "version:deployed@v1"} <= set(run.tags)

        runs = client.read_flow_runs()
        assert {"prepare", "synthesize", "score", "retrieve", "corrupt", "publish"} <= {
            client.read_flow(r.flow_id).name for r in runs if r.parent_task_run_id is not None}
        task_runs = client.read_task_runs()
        shard_runs = [t for t in task_runs if t.name.startswith("synthesize_shard")]
        assert len(shard_runs) >= 2 and all(t.state.is_completed() for t in shard_runs)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[r.id for r in runs])))
        assert any("maze episodes 0..6: 6 rows" in entry.message for entry in logs)  # a task's INFO line
        _wait(lambda: any(entry.message.startswith("published deployed@v1: ") for entry in client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))), 30, "the run's last logs (sent in batches)")

        keys = [artifact_key("deployed", k) for k in ("summary", "counts", "version", "report")]
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=keys)))}
        assert set(artifacts) == set(keys)
        assert "# deployed@v1" in artifacts["deployed-summary"].data
        assert "| maze |" in artifacts["deployed-summary"].data
        assert artifacts["deployed-version"].data == f"[deployed@v1 (version folder)]({(store / 'datasets/deployed/versions/v1').as_uri()})"
        report = artifacts["deployed-report"].data.partition("](file://")[2].rstrip(")")
        assert Path(report).read_text().startswith("<!-- trajforge report")
        assert all(a.flow_run_id == run.id for a in artifacts.values())

        from stores.store import Store

        assert Store(store).resolve("deployed@v1").rows == sum(
            r["rows"] for r in yaml.safe_load(artifacts["deployed-counts"].data) if r["group"] == "kind")

        def published():
            page = httpx.post(f"{url}/events/filter", json={"filter": {"event": {"name": [PUBLISHED_EVENT]}}},
                              timeout=10).json()
            return page["events"]

        event = _wait(published, 30, "the published event")[0]
        assert event["payload"]["ref"] == "deployed@v1" and event["payload"]["rows"] == Store(store).resolve(
            "deployed@v1").rows
    finally:
        stop_group(serving)
        serve_log.close()


def test_deploy_registers_every_deployment_to_a_work_pool(prefect_api):
    from prefect.client.schemas.actions import WorkPoolCreate

    url, env = prefect_api
    client = _client(url)
    missing = subprocess.run([TRAJFORGE, "deploy", "--pool", "nowhere"], env=env, cwd=REPO, capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 1 and "work pool 'nowhere' does not exist" in missing.stderr
    client.create_work_pool(WorkPoolCreate(name="trajforge-test", type="process"))
    done = subprocess.run([TRAJFORGE, "deploy", "--pool", "trajforge-test", "--tag", "nightly"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pooled = {d.name: d for d in client.read_deployments() if d.work_pool_name == "trajforge-test"}
    assert set(pooled) == {d.name for d in DEPLOYMENTS}
    assert {"trajforge", "nightly"} <= set(pooled["pipeline"].tags)
    assert pooled["pipeline"].entrypoint.endswith("flows/deployments.py:pipeline_deployment")
