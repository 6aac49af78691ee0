"""Class 4: the API key never reaches disk or logs, even when the server echoes it back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.cli import main
from flows.config import ConfigError, parse_config
from stores.store import Store
from synth.llm.client import LLMSettings
from tests.llm_server import LLMServer, Status
from tests.test_llm_pipeline import KEY, solve_from_prompt, write_config


def prefect_database() -> Path:
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url.get_secret_value()
    return Path(url.split(":///", 1)[1])


def files_holding(folder: Path, secret: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_an_echoed_key_is_scrubbed_from_everything_a_run_writes(tmp_path, prefect_server, monkeypatch, capsys):
    monkeypatch.setenv("TRAJFORGE_TEST_KEY", KEY)
    holder: dict[str, LLMServer] = {}

    def echo(messages, attempt):
        header = holder["server"].authorizations[-1]
        if attempt == 1 and "queens" in messages[-1]["content"] and len(holder["server"].authorizations) % 3 == 0:
            return Status(401, f"bad key? you sent {header}")  # errors echo it too
        answer = solve_from_prompt(messages, attempt)
        return f"Debug: the request carried the header {header}.\n\n{answer}"

    store_root = tmp_path / "store"
    with LLMServer(echo) as server:
        holder["server"] = server
        path = write_config(tmp_path, server, "echoed")
        assert main(["--store", str(store_root), "run", str(path)]) == 0
    out = capsys.readouterr()
    assert KEY not in out.out + out.err
    assert set(server.authorizations) == {f"Bearer {KEY}"}  # the key was really sent
    assert files_holding(store_root, KEY.encode()) == []  # versions, catalog, llm cache, failures
    db = prefect_database()
    assert db.is_file()
    assert [p for p in files_holding(db.parent, KEY.encode())] == []  # flow parameters, logs, results
    assert files_holding(Path(os.environ["PREFECT_HOME"]), KEY.encode()) == []
    cache = (store_root / "_cache" / "llm.sqlite").read_bytes()
    assert b"[redacted]" in cache  # the echo went through the scrubber, not around it
    thoughts = [s["thought"] for t in Store(store_root).read("echoed@latest", ["steps"])["steps"].to_pylist() for s in t]
    assert any("[redacted]" in t for t in thoughts)


@pytest.mark.parametrize("url", [
    f"http://user:{KEY}@127.0.0.1:9/v1",
    f"http://{KEY}@127.0.0.1:9/v1",
    f"https://127.0.0.1:9/v1?api_key={KEY}",
    "ftp://127.0.0.1/v1",
])
def test_a_base_url_with_credentials_is_refused_at_load(url):
    config = {"dataset": "x", "synth": {}, "llm": {"base_url": url, "model": "m"}}
    with pytest.raises(ConfigError, match="base_url") as err:
        parse_config(config)
    assert KEY not in str(err.value)
    with pytest.raises(ValueError, match="base_url"):
        LLMSettings(base_url=url, model="m")
