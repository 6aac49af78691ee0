"""Prefect settings that make a local run quiet and fast, applied before Prefect is imported.

With no ``PREFECT_API_URL`` Prefect starts a temporary local server (SQLite under
``PREFECT_HOME``); its first start can take 15-18 s here, over the 20 s default timeout, so
the timeout is raised. The flow heartbeat thread is joined at every flow end (about 1 s per
flow), so it is turned off. Task and flow logs go to the Prefect API at INFO (the UI and the
logs API show what each shard did) while the terminal handler shows only warnings. Users' own
settings always win (``setdefault``).
"""

from __future__ import annotations

import logging
import os

_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "DASK_LOGGING__DISTRIBUTED": "error",
}
for _key, _value in _DEFAULTS.items():
    os.environ.setdefault(_key, _value)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # logs every index build at DEBUG

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings  # noqa: E402

from flows.config import PipelineConfig  # noqa: E402
from flows.pipeline import RunResult, pipeline  # noqa: E402


def run_pipeline(config: PipelineConfig, store_root: str | None = None, fresh: bool = False) -> RunResult:
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return pipeline(config, store_root, fresh)
