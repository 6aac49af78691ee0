"""The task runner synthesis shards run on, from the config's ``runner:`` section.

``local`` is a Prefect thread pool driving a process pool on this machine (:mod:`flows.workers`).
``dask`` hands each shard to a Dask worker through ``prefect-dask``: a ``LocalCluster`` started
for the run, or an existing scheduler by address (workers on other machines need trajforge
installed, ``PREFECT_API_URL`` pointing at the same Prefect server, and the store on shared or
object storage). Only shard specs travel to the workers and Arrow tables come back, so the
result does not depend on the runner.

A scheduler that does not answer fails the run before any work, within
``runner.connect_timeout_s``, instead of hanging in the Dask client's retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from flows.config import PipelineConfig, RunnerConfig
from flows.workers import shard_pool


class RunnerError(ValueError):
    """The configured runner cannot be reached or started."""


def check_runner(runner: RunnerConfig) -> None:
    """Fail now, with the fix, when a configured scheduler does not answer."""
    if runner.kind != "dask" or runner.address is None:
        return
    import asyncio

    from distributed.comm import connect
    from distributed.comm.core import CommClosedError

    async def probe() -> None:
        comm = await connect(runner.address, timeout=runner.connect_timeout_s)
        await comm.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, CommClosedError, ValueError) as e:
        raise RunnerError(
            f"runner.address {runner.address}: no Dask scheduler answered within {runner.connect_timeout_s:g} s "
            f"({type(e).__name__}: {e}). Start one with `dask scheduler --host HOST` and workers with "
            f"`dask worker {runner.address}`, fix the address, or use `runner: local`") from None


@contextmanager
def shard_runner(config: PipelineConfig) -> Iterator[Any]:
    """The Prefect task runner for the synthesis flow, with whatever it needs kept alive."""
    runner = config.runner
    if runner.kind == "local":
        with shard_pool(config.workers) as workers:
            yield ThreadPoolTaskRunner(max_workers=workers)
        return
    from prefect_dask import DaskTaskRunner

    check_runner(runner)
    if runner.address is not None:
        yield DaskTaskRunner(address=runner.address, client_kwargs={"timeout": runner.connect_timeout_s})
    else:
        yield DaskTaskRunner(cluster_class="distributed.LocalCluster",
                             cluster_kwargs={"n_workers": runner.n_workers,
                                             "threads_per_worker": runner.threads_per_worker,
                                             "processes": True, "dashboard_address": None})
