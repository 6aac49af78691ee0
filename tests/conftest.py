"""Test settings: Prefect runs against one temporary server per session, in a fresh home,
and Hugging Face caches live there too, so tests never read or fill the user's ~/.cache
(`datasets` keys a card-configured folder's cache by name and patterns, not content: see
catalog/hf_export.py)."""

from __future__ import annotations

import os
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix="trajforge-prefect-")
os.environ.update(
    {
        "PREFECT_HOME": _PREFECT_HOME,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "HF_HOME": os.path.join(_PREFECT_HOME, "huggingface"),
        "HF_HUB_OFFLINE": "1",
    }
)
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("TRAJFORGE_HOME", None)

import pytest  # noqa: E402

from tests.factories import make_table  # noqa: E402


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for every test that runs a real flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def store(tmp_path):
    from stores.store import Store

    return Store(tmp_path / "store")


@pytest.fixture
def table():
    return make_table(20, seed=1)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """One real ``prefect server start`` on 127.0.0.1 per session: (api url, env for trajforge
    processes that talk to it). Stopped at the end of the session."""
    from tests.prefect_api_server import start_server, stop_group

    server, url, env = start_server(tmp_path_factory.mktemp("prefect-server-home"))
    yield url, env
    stop_group(server)
