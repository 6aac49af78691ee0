"""A real ``prefect server start`` on 127.0.0.1 for tests of deployments and of runs that are
killed and resumed (a temporary in-process server would die with each killed run)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PREFECT = str(Path(sys.executable).with_name("prefect"))
TRAJFORGE = str(Path(sys.executable).with_name("trajforge"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    """End a process started with ``process_group=0`` and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signum)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_server(home: Path, timeout_s: float = 90) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """Start a server in a fresh ``home``; returns (process, api url, env for client processes)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_UI_ENABLED": "false",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    log = home / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, process_group=0)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_group(server)
            raise RuntimeError(f"prefect server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)
    client_env = {**env, "PREFECT_API_URL": url, "PREFECT_LOGGING_LEVEL": "INFO"}
    client_env.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
    return server, url, client_env
