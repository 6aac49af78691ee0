"""The LLM tier through the real pipeline: a local OpenAI-compatible server answers, the
verifier judges, a rerun is served from the request cache, failures are recorded, and the
API key never reaches the store."""

import re

import pyarrow.compute as pc
import pytest
import yaml

from flows.cli import main
from stores.store import Store
from synth.registry import get_family
from tests.llm_server import LLMServer, Status

KEY = "sk-test-0123456789abcdef"
QUEENS = get_family("nqueens")


def solve_from_prompt(messages, attempt):
    """Read the n-queens problem back from the instruction and answer it like a model would."""
    text = messages[-1]["content"]
    n = int(re.search(r"Place (\d+) queens", text).group(1))
    cells = lambda label: [list(map(int, m)) for m in re.findall(r"\((\d+),(\d+)\)", re.search(label + r": ([^.]*)\.", text).group(1))]  # noqa: E731
    problem = {"n": n, "blocked": cells("Blocked"), "given": cells("Given queens")}
    answer = QUEENS.solve(problem).answer
    return f"Rows first, then columns.\n\nEach row gets one queen.\n\nAnswer: {answer}"


def write_config(root, server, name="llm_run"):
    config = {
        "dataset": name,
        "seed": 2,
        "shard_size": 10,
        "workers": 1,
        "synth": {"reasoning": [{"family": "nqueens", "count": 20, "difficulties": [1, 2],
                                 "tiers": {"expert": 0.5, "llm": 0.5}}]},
        "retrieve": {"enabled": False},
        "corrupt": {"fraction": 0.0},
        "llm": {"base_url": server.base_url, "model": "local-test", "api_key_env": "TRAJFORGE_TEST_KEY",
                "max_retries": 1, "backoff_s": 0.01, "backoff_max_s": 0.02, "timeout_s": 5},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def tiers_of(table):
    return pc.struct_field(table["policy"], "tier").to_pylist()


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv("TRAJFORGE_TEST_KEY", KEY)


def test_llm_rows_are_verified_cached_and_keyless(tmp_path, prefect_server, keyed, capsys):
    store_root = tmp_path / "store"
    with LLMServer(solve_from_prompt) as server:
        path = write_config(tmp_path, server)
        assert main(["--store", str(store_root), "run", str(path)]) == 0
        first_requests = server.requests
        assert server.authorizations and set(server.authorizations) == {f"Bearer {KEY}"}
        assert main(["--store", str(store_root), "run", str(path)]) == 0
        assert server.requests == first_requests, "a rerun is served from the request cache"
    store = Store(store_root)
    v1, v2 = store.versions("llm_run")
    a, b = store.read(v1), store.read(v2)
    assert a.drop_columns(["provenance"]).equals(b.drop_columns(["provenance"]))
    llm = a.filter(pc.equal(pc.struct_field(a["policy"], "tier"), "llm"))
    assert llm.num_rows == first_requests > 0 and a.num_rows == 20
    assert all(pc.struct_field(llm["outcome"], "success").to_pylist())
    assert set(pc.struct_field(llm["policy"], "model").to_pylist()) == {"local-test"}
    run = v2.manifest["params"]["run"]["llm"]
    assert (run["requests"], run["cached"], run["sent"], run["failures"]) == (first_requests, first_requests, 0, 0)
    assert "llm: " in capsys.readouterr().out
    for f in store_root.rglob("*"):
        if f.is_file():
            assert KEY.encode() not in f.read_bytes(), f


def test_failed_requests_are_recorded_not_turned_into_rows(tmp_path, prefect_server, keyed):
    store_root = tmp_path / "store"
    with LLMServer(lambda messages, attempt: Status(500, "overloaded")) as server:
        path = write_config(tmp_path, server, "llm_down")
        assert main(["--store", str(store_root), "run", str(path)]) == 0
    store = Store(store_root)
    table = store.read("llm_down@latest")
    assert "llm" not in tiers_of(table)
    info = store.resolve("llm_down@latest")
    failures = (info.path / "llm" / "failures.jsonl").read_text().splitlines()
    assert len(failures) == info.manifest["params"]["run"]["llm"]["failures"] > 0
    assert all('"kind":"request_failed"' in line and "500" in line for line in failures)


def test_llm_tier_without_a_backend_is_a_config_error(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"dataset": "x", "synth": {"reasoning": [
        {"family": "nqueens", "count": 2, "tiers": {"llm": 1.0}}]}}))
    assert main(["--store", str(tmp_path / "s"), "run", str(path)]) == 1
    assert "tier 'llm' needs a model backend" in capsys.readouterr().err
