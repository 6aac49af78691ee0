"""Behaviour retrieval: for each new task, the nearest trajectories of an earlier version.

This is how a run learns what prior data already covers (near-duplicates across runs,
related demonstrations to mix in); the neighbours are stored with the new version and the
version searched becomes a ``retrieval`` parent in its lineage.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from stores.embeddings import HashingEmbedder
from stores.store import Store, VersionInfo
from stores.vector_index import INDEX_FILE, META_FILE, VectorIndex

NEIGHBORS_FILE = "retrieval/neighbors.parquet"
NEIGHBORS_SCHEMA = pa.schema(
    [
        ("query_id", pa.string()),
        ("rank", pa.int32()),
        ("neighbor_id", pa.string()),
        ("similarity", pa.float32()),
        ("source", pa.string()),
    ]
)


def task_texts(table: pa.Table) -> list[str]:
    task = table["task"]
    family = pc.struct_field(task, "family").to_pylist()
    return [f"{f}: {t}" for f, t in zip(family, pc.struct_field(task, "instruction").to_pylist(), strict=True)]


def build_index(table: pa.Table, embedder: HashingEmbedder) -> VectorIndex:
    return VectorIndex.build(embedder.embed(task_texts(table)), table["id"].to_pylist(), embedder.name)


def load_index(info: VersionInfo) -> VectorIndex | None:
    index_path, meta_path = info.path / INDEX_FILE, info.path / META_FILE
    if not index_path.exists():
        return None
    return VectorIndex.from_files(index_path.read_bytes(), meta_path.read_bytes())


def retrieve(
    store: Store, table: pa.Table, prior: VersionInfo, embedder: HashingEmbedder, k: int
) -> tuple[pa.Table, list[float]]:
    """Neighbours of every row's task in ``prior``'s index, and each row's best similarity."""
    index = load_index(prior)
    if index is None:
        index = build_index(store.read(prior, ["id", "task"]), embedder)
    if index.embedder != embedder.name:
        raise ValueError(
            f"{prior.ref} was indexed with {index.embedder}, this run embeds with {embedder.name}; "
            "use the same embedder to retrieve against it"
        )
    sims, positions = index.search(embedder.embed(task_texts(table)), k)
    rows = [
        {"query_id": qid, "rank": rank, "neighbor_id": index.ids[r], "similarity": float(s), "source": prior.ref}
        for qid, srow, rrow in zip(table["id"].to_pylist(), sims, positions, strict=True)
        for rank, (s, r) in enumerate(zip(srow, rrow, strict=True))
        if r >= 0
    ]
    best = [float(srow[0]) if rrow[0] >= 0 else 0.0 for srow, rrow in zip(sims, positions, strict=True)]
    return pa.Table.from_pylist(rows, schema=NEIGHBORS_SCHEMA), best
