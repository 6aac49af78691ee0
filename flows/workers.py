"""A process pool for CPU-bound shard generation, driven by Prefect tasks on threads.

Why not Prefect's ``ProcessPoolTaskRunner``: each of its worker processes imports Prefect and
runs the task engine against the API, which measured about 10 s of start-up and 0.15 s per
task here, more than generating a 500-episode shard. Instead the Prefect tasks stay on a
thread pool (so every shard is still a tracked task with retries) and hand the pure-Python
work to processes forked from a ``forkserver`` that has imported only the generators: start-up
is a fraction of a second and nothing Prefect-related crosses the process boundary.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pyarrow as pa

from stores.transfer import detached

T = TypeVar("T")
PRELOAD = ["synth.generate", "synth.registry", "stores.schema"]

_pool: ProcessPoolExecutor | None = None


def worker_count(workers: int | None) -> int:
    return workers or os.cpu_count() or 1


@contextmanager
def shard_pool(workers: int | None) -> Iterator[int]:
    """Run :func:`in_pool` calls on ``workers`` processes inside the block (inline for 1)."""
    global _pool
    n = worker_count(workers)
    if n == 1:
        yield n
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    pool = ProcessPoolExecutor(max_workers=n, mp_context=context)
    _pool = pool
    try:
        yield n
    finally:
        _pool = None
        pool.shutdown(wait=True, cancel_futures=True)


def in_pool(fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
    """``fn(*args)`` on the active pool's processes, or here when no pool is active. On the pool,
    a call still running after ``timeout`` seconds raises ``TimeoutError`` (its process is left
    to the pool's shutdown, which the supervisor backs with a kill). Tables are sent as copies
    of their own rows (:func:`stores.transfer.detached`), not with the buffers they slice."""
    pool = _pool
    if pool is None:
        return fn(*args)
    args = tuple(detached(a) if isinstance(a, pa.Table) else a for a in args)
    return pool.submit(fn, *args).result(timeout=timeout)
