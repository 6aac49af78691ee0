"""Class 7: nothing the CLI starts outlives it, even after ``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.security.helpers import TRAJFORGE


def children(pid: int) -> list[int]:
    """Every descendant of ``pid``, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """One Prefect home for these runs: the temporary server starts faster when it exists."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture
def long_run(tmp_path, prefect_home):
    """A console-script run that starts Prefect's temporary server and a two-process pool."""
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump({
        "dataset": "long", "workers": 2, "shard_size": 500,
        "synth": {"reasoning": [{"family": "sudoku", "count": 200000, "difficulties": [4]}]},
        "retrieve": {"enabled": False}, "corrupt": {"fraction": 0.0}}))
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "TRAJFORGE_HOME": str(tmp_path / "store")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([TRAJFORGE, "run", str(config)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        tree = children(proc.pid)
        if any("uvicorn" in command_line(p) for p in tree) and any("forkserver" in command_line(p) for p in tree):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the run did not start its Prefect server and shard pool within 90 s")
    yield proc, tree
    proc.kill()
    proc.wait()
    for pid in children(proc.pid):
        os.kill(pid, signal.SIGKILL)


def wait_gone(pids: list[int], seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [f"{p}: {command_line(p)}" for p in pids if alive(p)]


def test_kill_9_of_the_cli_leaves_no_process_behind(long_run):
    proc, tree = long_run
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(tree) == []


def test_a_killed_worker_is_cleaned_up_by_the_supervisor(long_run):
    proc, tree = long_run
    worker = next(p for p in tree if "flows.cli" in command_line(p))
    os.kill(worker, signal.SIGKILL)
    assert proc.wait(30) == 128 + signal.SIGKILL
    assert wait_gone(tree) == []


def test_ctrl_c_stops_the_run_and_everything_it_started(long_run):
    proc, tree = long_run
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(30) != 0
    assert wait_gone(tree) == []
