"""``trajforge cache ls|gc``: the store's shard cache (:mod:`stores.shard_cache`), which lets a
killed run resume. ``gc`` keeps what a run of the current code can hit and removes the rest
(entries of older code versions, unreadable entries, leftovers of killed writes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

cache_app = typer.Typer(help="Show and clean the store's shard cache (what a killed run resumes from).",
                        no_args_is_help=True)


def _cache():
    from flows.cli import _store
    from stores.shard_cache import ShardCache, cache_root

    return ShardCache(cache_root(_store().root))


@cache_app.command("ls")
def cache_ls(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry instead of a table.")] = False,
) -> None:
    """List cached shards: stage, shard, rows, size, age, and whether the current code can use it."""
    from flows.cached_shards import stage_codes
    from flows.cli import out

    cache = _cache()
    codes = stage_codes()
    rows = []
    for e in cache.entries():
        created = e.meta.get("created_at")
        rows.append({"stage": e.stage, "key": e.key, "shard": e.meta.get("label", "?"), "rows": e.meta.get("rows"),
                     "bytes": e.bytes,
                     "created": datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds") if created else None,
                     "current": e.meta.get("code") == codes.get(e.stage)})
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    table = Table(title=f"shard cache {cache.root}")
    for col in ("stage", "key", "shard", "rows", "bytes", "created", "current"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["stage"], r["key"][:12], str(r["shard"]), str(r["rows"]), str(r["bytes"]), str(r["created"]),
                      "yes" if r["current"] else "no (stale code)")
    out.print(table)
    out.print(f"{len(rows)} entries, {sum(r['bytes'] for r in rows)} bytes")


@cache_app.command("gc")
def cache_gc(
    everything: Annotated[bool, typer.Option("--all", help="Remove every entry, not only the stale ones.")] = False,
) -> None:
    """Remove cache entries the current code cannot hit (or all of them with --all)."""
    from flows.cached_shards import stage_codes

    removed = _cache().gc(stage_codes(), everything=everything)
    print(f"removed {len(removed)} cache entr{'y' if len(removed) == 1 else 'ies'}")
