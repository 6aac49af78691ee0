"""What a pipeline run leaves in Prefect so that people and automations can find it.

A flow run called ``pipeline-3`` with no tags is lost among hundreds: runs are named and
tagged after the dataset, the config hash and, once it exists, the version they published,
so the UI's search and the API's tag filters find "every run of config X" or "the run that
made demo@v7". The run also leaves artifacts (a markdown summary, the same numbers as a table,
links to the version and its HTML report) and a ``trajforge.version.published`` event that an
automation can trigger on (e.g. start an evaluation when a new version lands).

Everything here reads the manifest the store already wrote; nothing is recounted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.events import emit_event

from catalog.report import write_report
from stores.store import Store, StoreError, VersionInfo

PUBLISHED_EVENT = "trajforge.version.published"
GROUPS = ("kind", "family", "tier", "split")  # manifest content stats: by_<group>


def run_tags(dataset: str, config_hash: str, ref: str | None = None) -> list[str]:
    """The tags a run carries: ``dataset:NAME``, ``config:HASH`` and, after publishing, ``version:NAME@vN``."""
    tags = [f"dataset:{dataset}", f"config:{config_hash}"]
    return [*tags, f"version:{ref}"] if ref else tags


def run_name(dataset: str, config_hash: str, ref: str | None = None) -> str:
    """``demo-1a2b3c4d`` while running, ``demo-1a2b3c4d-v3`` once ``demo@v3`` is published."""
    base = f"{dataset}-{config_hash[:8]}"
    return f"{base}-{ref.rpartition('@')[2]}" if ref else base


def label_run(dataset: str, config_hash: str, ref: str | None = None) -> None:
    """Rename and tag the current flow run (a no-op outside one); tags the run already had stay."""
    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    tags = sorted({*(ctx.flow_run.tags or []), *run_tags(dataset, config_hash, ref)})
    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, name=run_name(dataset, config_hash, ref), tags=tags)


def summary_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (group, value) of the manifest's content stats: rows and success rate."""
    rows = []
    for group in GROUPS:
        for value, entry in sorted(stats.get(f"by_{group}", {}).items()):
            rows.append({"group": group, "value": value, "rows": entry["rows"],
                         "success_rate": round(entry["success_rate"], 4)})
    return rows


def summary_markdown(info: VersionInfo, run: dict[str, Any], stage_seconds: dict[str, float],
                     duplicates: int) -> str:
    stats = info.manifest["stats"]["content"]
    lines = [f"# {info.ref}", "", f"{info.rows} rows, success rate {stats.get('success_rate', 0):.3f}, "
             f"config `{info.manifest['params'].get('config_hash', '')}`", ""]
    for group in GROUPS:
        entries = stats.get(f"by_{group}", {})
        if entries:
            lines += [f"## by {group}", "", f"| {group} | rows | success |", "|---|---:|---:|"]
            lines += [f"| {k} | {v['rows']} | {v['success_rate']:.3f} |" for k, v in sorted(entries.items())]
            lines.append("")
    if stats.get("scores"):
        lines += ["## scores", "", "| scorer | mean | count |", "|---|---:|---:|"]
        lines += [f"| {k} | {v['mean']:.4f} | {v['count']} |" for k, v in sorted(stats["scores"].items())]
        lines.append("")
    dropped = {"exact duplicates": duplicates, **{f"repeated tasks ({k})": n for k, n in run.get("repeated_tasks", {}).items()},
               **{f"failed experts ({k})": n for k, n in run.get("failed_experts", {}).items()},
               **{f"shortfall ({k})": n for k, n in run.get("shortfall", {}).items()}}
    lines += ["## dropped or missing", "", "| what | rows |", "|---|---:|"]
    lines += [f"| {k} | {n} |" for k, n in dropped.items() if n or k == "exact duplicates"]
    lines += ["", "## stage seconds", "", "| stage | seconds |", "|---|---:|"]
    lines += [f"| {k} | {s:.2f} |" for k, s in stage_seconds.items()]
    return "\n".join(lines) + "\n"


def reports_dir() -> Path:
    """Where run reports go: beside Prefect's own data, never inside a store (a store holds
    only versions; ``write_report`` refuses paths in it)."""
    home = os.environ.get("PREFECT_HOME") or str(Path.home() / ".prefect")
    return Path(home) / "trajforge-reports"


def artifact_key(dataset: str, what: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    clean = "".join(c if c.isalnum() else "-" for c in dataset.lower()).strip("-")
    return f"{clean}-{what}"


def report_run(store: Store, info: VersionInfo, run: dict[str, Any], stage_seconds: dict[str, float],
               duplicates: int) -> None:
    """Artifacts, the published event and the final run name of a run that published ``info``."""
    config_hash = info.manifest["params"].get("config_hash", "")
    label_run(info.name, config_hash, info.ref)
    stats = info.manifest["stats"]["content"]
    markdown = summary_markdown(info, run, stage_seconds, duplicates)
    create_markdown_artifact(markdown, key=artifact_key(info.name, "summary"), description=f"{info.ref}: summary")
    create_table_artifact(summary_rows(stats), key=artifact_key(info.name, "counts"),
                          description=f"{info.ref}: rows and success by kind, family, tier and split")
    create_link_artifact(info.path.resolve().as_uri(), link_text=f"{info.ref} (version folder)",
                         key=artifact_key(info.name, "version"), description=f"{info.ref}: the published version")
    try:
        page = write_report(store, info.ref, reports_dir() / f"{info.name}-{info.version}.html", overwrite=True)
    except (OSError, StoreError) as e:  # the version stands; a missing page is worth a warning, not a failure
        get_run_logger().warning("%s: the HTML report was not written: %s", info.ref, e)
    else:
        create_link_artifact(page.resolve().as_uri(), link_text=f"{info.ref} report",
                             key=artifact_key(info.name, "report"), description=f"{info.ref}: HTML report")
    emit_event(
        event=PUBLISHED_EVENT,
        resource={"prefect.resource.id": f"trajforge.dataset.{info.name}", "prefect.resource.name": info.name},
        related=[{"prefect.resource.id": f"trajforge.version.{info.ref}", "prefect.resource.role": "version"}],
        payload={"ref": info.ref, "rows": info.rows, "config_hash": config_hash, "store": str(store.root),
                 "by_kind": {k: v["rows"] for k, v in stats.get("by_kind", {}).items()},
                 "by_split": {k: v["rows"] for k, v in stats.get("by_split", {}).items()}},
    )
    get_run_logger().info("published %s: %d rows (%s)", info.ref, info.rows,
                          ", ".join(f"{k} {v['rows']}" for k, v in sorted(stats.get("by_kind", {}).items())))
