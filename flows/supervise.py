"""Nothing ``trajforge run`` starts outlives it: Prefect's temporary server, the shard pool.

A ``kill -9`` gives a process no chance to clean up, and Linux does not kill orphans, so the
guarantee is built from two processes and a pipe:

- the **supervisor** is the process the user started (it stays in the terminal's process
  group, so Ctrl-C reaches it); it runs the command again as a **worker** in a process group
  of its own, forwards SIGINT/SIGTERM/SIGHUP to that group, kills the group if it has not
  ended :data:`GRACE_S` seconds later (a publish is atomic, so a kill never tears a version),
  and when the worker ends, for any reason, kills whatever is left in the group;
- the worker inherits the read end of a pipe whose write end only the supervisor holds. A
  thread blocks reading it; when the supervisor dies (even by SIGKILL) the kernel closes the
  write end, the read returns end-of-file, and the thread kills the worker's whole group
  (itself, the Prefect server, every pool process).

Prefect's server and the pool are started with plain ``subprocess``/``multiprocessing``, so
they stay in the worker's group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

ENV = "TRAJFORGE_SUPERVISOR_FD"
SUPERVISED_COMMANDS = {"run", "serve"}
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 5.0  # after a forwarded signal, before the group is killed


def needs_supervisor(argv: list[str]) -> bool:
    """Whether ``argv`` runs a command that starts processes (options may come first)."""
    words = [a for a in argv if not a.startswith("-")]
    if "--store" in argv:  # the value of --store is not the command
        i = argv.index("--store")
        if i + 1 < len(argv) and argv[i + 1] in words:
            words.remove(argv[i + 1])
    return bool(words) and words[0] in SUPERVISED_COMMANDS and "--help" not in argv


def supervise(argv: list[str]) -> int:
    """Run ``trajforge argv`` as a worker in its own process group; return its exit code."""
    read_end, write_end = os.pipe()
    env = {**os.environ, ENV: str(read_end)}
    worker = subprocess.Popen([sys.executable, "-m", "flows.cli", *argv], env=env, pass_fds=(read_end,),
                              process_group=0)
    os.close(read_end)

    deadline: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        _signal_group(worker.pid, signum)
        if not deadline:
            deadline.append(time.monotonic() + GRACE_S)

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    try:
        while True:
            try:
                code = worker.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if deadline and time.monotonic() > deadline[0]:
                    _signal_group(worker.pid, signal.SIGKILL)
    finally:
        _signal_group(worker.pid, signal.SIGKILL)  # leftovers the worker did not stop
        os.close(write_end)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code


def watch_supervisor() -> bool:
    """In a worker: start the thread that kills this process group when the supervisor dies.
    Returns whether this process is a supervised worker."""
    fd = os.environ.pop(ENV, None)
    if fd is None:
        return False
    read_end = int(fd)

    def wait_for_eof() -> None:
        while True:
            try:
                if not os.read(read_end, 1):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        if os.getpgid(0) == os.getpid():  # only ever the group the supervisor made for this worker
            _signal_group(os.getpid(), signal.SIGKILL)

    threading.Thread(target=wait_for_eof, name="trajforge-supervisor-watch", daemon=True).start()
    return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
