"""Publishing a version made of rows selected from other versions (dedup, decontamination,
retrieval): the rows, the blobs they refer to, a lineage edge to every source with the role
of the selection, and the tables that explain it as files beside the data.

Why one helper: each selection must carry its screenshots along (a GUI row without its blob
is broken), name every version it read, and leave the store untouched when the input is bad;
writing that once keeps the three commands from drifting apart.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stores.blobs import merge_blobs, referenced_blobs
from stores.store import Store, StoreError, VersionInfo


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def source_blobs(store: Store, sources: list[VersionInfo]) -> pa.Table:
    return merge_blobs([store.read(info, table="blobs") for info in sources if info.kind == "trajectories"])


def publish_selection(store: Store, name: str, rows: pa.Table, sources: list[VersionInfo], role: str, *,
                      params: Mapping[str, Any], explain: Mapping[str, pa.Table],
                      more_parents: list[Mapping[str, str]] | None = None, tags: list[str] | None = None,
                      tables: Mapping[str, pa.Table] | None = None,
                      blob_sources: Sequence[VersionInfo] = ()) -> VersionInfo:
    """Publish ``rows`` as a new version of ``name``; ``explain`` maps file paths inside the
    version (``dedup/removed.parquet``) to the tables saying why rows were kept or dropped;
    ``tables`` are named tables stored beside the rows (a selection's ``preference_pairs``).
    Rows' blobs are taken from ``sources`` and ``blob_sources`` (parents of another role that
    rows came from)."""
    if not sources:
        raise StoreError("a selection needs at least one source version")
    blobs = referenced_blobs(rows, source_blobs(store, [*sources, *blob_sources]))
    parents = [{"ref": info.ref, "role": role} for info in sources] + list(more_parents or [])
    files = {path: parquet_bytes(table) for path, table in explain.items()}
    return store.publish(name, rows, blobs=blobs, parents=parents, params=dict(params), files=files, tags=tags,
                         tables=tables)
