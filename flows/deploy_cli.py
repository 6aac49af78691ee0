"""``trajforge serve`` and ``trajforge deploy``: the deployments of :mod:`flows.deployments`
served from this process, or registered to a work pool for users who run Prefect workers.

Both talk to a real Prefect server (``PREFECT_API_URL``): a deployment on the temporary
server that a plain ``trajforge run`` starts would vanish with the process, so without an
API URL they stop with the command that starts one. Prefect is imported inside the commands
so the rest of the CLI starts instantly.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


class PrefectServerError(ValueError):
    pass


def _api_url() -> str:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
    if not url:
        raise PrefectServerError(
            "no Prefect server: deployments live on a server that outlives this command. Start one with "
            "`prefect server start --host 127.0.0.1` and `export PREFECT_API_URL=http://127.0.0.1:4200/api` "
            "(or `prefect config set PREFECT_API_URL=...`)")
    return url


def _check_reachable(url: str) -> None:
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/health", timeout=5).raise_for_status()
    except httpx.HTTPError as e:
        raise PrefectServerError(f"the Prefect server at PREFECT_API_URL={url} does not answer ({e}); start it "
                                 "with `prefect server start --host 127.0.0.1` or fix the URL") from None


def serve(
    limit: Annotated[int | None, typer.Option(help="Most flow runs executed at once (default: no limit).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Extra tag on every deployment (repeat).")] = None,
) -> None:
    """Serve every trajforge deployment from this process until interrupted (prefect.serve)."""
    import flows.runtime  # noqa: F401  (quiet, fast Prefect settings before Prefect is configured)

    url = _api_url()
    _check_reachable(url)
    from prefect import serve as prefect_serve

    from flows.deployments import runner_deployments

    prefect_serve(*runner_deployments(tag), limit=limit, print_starting_message=True)


def deploy(
    pool: Annotated[str, typer.Option(help="Work pool the deployments are registered to (must exist).")],
    tag: Annotated[list[str] | None, typer.Option(help="Extra tag on every deployment (repeat).")] = None,
) -> None:
    """Register every trajforge deployment to a work pool; workers started in this repository run them."""
    import flows.runtime  # noqa: F401

    url = _api_url()
    _check_reachable(url)
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.deployments import runner_deployments

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            raise PrefectServerError(f"work pool {pool!r} does not exist on {url}; create it with "
                                     f"`prefect work-pool create {pool} --type process`") from None
    for d in runner_deployments(tag):
        deployment_id = d.apply(work_pool_name=pool)
        print(f"{d.flow_name}/{d.name} -> pool {pool} ({deployment_id})")
