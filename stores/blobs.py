"""Content-addressed blobs (screenshots, rendered puzzles): one row per distinct image.

Steps refer to a blob by its sha256, so an image shared by a thousand steps is stored once
and a version can be checked byte for byte.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc

from stores.schema import BLOB_SCHEMA


def blob_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blobs_table(blobs: dict[str, tuple[str, bytes]]) -> pa.Table:
    """Table from ``{sha256: (media_type, bytes)}``, sorted by id so output is deterministic."""
    ids = sorted(blobs)
    return pa.table(
        {"id": ids, "media_type": [blobs[i][0] for i in ids], "bytes": [blobs[i][1] for i in ids]},
        schema=BLOB_SCHEMA,
    )


def merge_blobs(tables: list[pa.Table]) -> pa.Table:
    """Concatenate blob tables, keep one row per id, sorted by id."""
    if not tables:
        return BLOB_SCHEMA.empty_table()
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        return table
    table = table.sort_by("id")
    ids = table["id"].combine_chunks()
    keep = pc.not_equal(ids[1:], ids[:-1]) if len(ids) > 1 else pa.array([], pa.bool_())
    mask = pa.concat_arrays([pa.array([True]), keep.cast(pa.bool_())])
    return table.filter(mask)


def referenced_blobs(trajectories: pa.Table, blobs: pa.Table) -> pa.Table:
    """The blobs a step or initial observation of ``trajectories`` refers to (drops those of
    discarded episodes)."""
    if blobs.num_rows == 0 or trajectories.num_rows == 0:
        return blobs.slice(0, 0)
    return blobs.filter(pc.is_in(blobs["id"], image_refs(trajectories)))


def image_refs(trajectories: pa.Table) -> pa.Array:
    """Every distinct blob id the rows refer to: step observations and initial observations."""
    steps = pc.list_flatten(trajectories["steps"])
    refs = [pc.struct_field(pc.struct_field(steps, "observation"), "image_ref")]
    if "initial_observation" in trajectories.column_names:
        refs.append(pc.struct_field(trajectories["initial_observation"], "image_ref"))
    chunks = [c for r in refs for c in (r.chunks if isinstance(r, pa.ChunkedArray) else [r])]
    return pc.unique(pc.drop_null(pa.chunked_array(chunks, pa.string())))
