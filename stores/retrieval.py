"""Retrieval of relevant prior data: the pipeline's per-run neighbours, and behaviour retrieval.

Two uses:

- :func:`retrieve` (the pipeline's retrieve stage): for each new task, the nearest tasks of
  the previous version, stored beside the new version (``retrieval/neighbors.parquet``), the
  version searched becoming a ``retrieval`` parent; with a mix share, :func:`mix_prior` adds
  the most similar prior rows to the new version (``retrieval/mixed.parquet`` says why).
- :func:`behaviour_retrieval` (``trajforge retrieve``): from every row of the source versions,
  keep those closest to a small query set, as Behavior Retrieval (Du et al., 2023) does with
  a few target demonstrations and a large unlabelled prior set. A candidate's similarity is
  its cosine to the nearest query (``max``), or the mean over its ``k`` nearest queries
  (``mean``, steadier when the query set holds outliers); it is also min-max normalised over
  all candidates (Behavior Retrieval's score in [0, 1]). Rows are kept above a cosine
  threshold and/or as the top k, optionally per family or kind.

Why candidates are scored against the queries exactly (a flat index over the query set) and
not by searching each source's approximate index: the query set is small (tens to thousands)
and the decision is per candidate, so exact scores cost one matrix product per batch and a
threshold means what it says.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stores.blobs import referenced_blobs
from stores.derived import DerivedError, embed_table, embeddings
from stores.derived import index as derived_index
from stores.embeddings import Embedder
from stores.names import Ref
from stores.schema import with_score
from stores.selection import publish_selection, source_blobs
from stores.store import NotFoundError, Store, VersionInfo
from stores.text_files import TextFileError, is_trajectory_file, read_texts
from stores.text_views import DEFAULT_BUDGET, VIEW_COLUMNS, VIEWS
from stores.vector_index import INDEX_FILE, META_FILE, VectorIndex

NEIGHBORS_FILE = "retrieval/neighbors.parquet"
MATCHES_FILE = "retrieval/matches.parquet"
MIXED_FILE = "retrieval/mixed.parquet"
NEIGHBORS_SCHEMA = pa.schema(
    [
        ("query_id", pa.string()),
        ("rank", pa.int32()),
        ("neighbor_id", pa.string()),
        ("similarity", pa.float32()),
        ("source", pa.string()),
    ]
)
MATCHES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("query_id", pa.string()),
        ("similarity", pa.float32()),
        ("score", pa.float32()),
        ("source", pa.string()),
    ]
)
SCORINGS = ("max", "mean")
GROUPS = (None, "family", "kind")
SCAN_BATCH = 65_536
# a query ending so is a file a user meant (mistyped, or of a format not read), not free text
_OTHER_FILES = (".json", ".csv", ".tsv", ".txt", ".arrow", ".feather", ".gz")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9._-]+")


class RetrievalError(ValueError):
    """A retrieval request that cannot be served; nothing is published."""


# ---------------------------------------------------------------------------- pipeline neighbours


def build_index(table: pa.Table, embedder: Embedder, view: str = "task") -> VectorIndex:
    ids, vectors = embed_table(table, view, embedder)
    return VectorIndex.build(vectors, ids, embedder.id)


def load_index(info: VersionInfo) -> VectorIndex | None:
    index_path, meta_path = info.path / INDEX_FILE, info.path / META_FILE
    if not index_path.exists():
        return None
    return VectorIndex.from_files(index_path.read_bytes(), meta_path.read_bytes())


def retrieve(
    store: Store, table: pa.Table, prior: VersionInfo, embedder: Embedder, k: int
) -> tuple[pa.Table, list[float]]:
    """Neighbours of every row's task in ``prior``, and each row's best similarity.

    The prior's own index serves when it was built with this embedder; otherwise the task
    index for this embedder id is built beside the prior (:mod:`stores.derived`), never a
    search across two embedders."""
    index = load_index(prior)
    if index is None or index.embedder != embedder.id:
        index = derived_index(store, prior, "task", embedder, build=True)
    _, vectors = embed_table(table, "task", embedder)
    sims, positions = index.search(vectors, k)
    rows = [
        {"query_id": qid, "rank": rank, "neighbor_id": index.ids[r], "similarity": float(s), "source": prior.ref}
        for qid, srow, rrow in zip(table["id"].to_pylist(), sims, positions, strict=True)
        for rank, (s, r) in enumerate(zip(srow, rrow, strict=True))
        if r >= 0
    ]
    best = [float(srow[0]) if rrow[0] >= 0 else 0.0 for srow, rrow in zip(sims, positions, strict=True)]
    return pa.Table.from_pylist(rows, schema=NEIGHBORS_SCHEMA), best


# ---------------------------------------------------------------------------- behaviour retrieval


@dataclass(frozen=True)
class Query:
    """The query set: ids (for the match table and to leave the examples themselves out of
    the result) and their vectors under the embedder of the retrieval."""

    ids: list[str]
    vectors: np.ndarray
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Selection:
    threshold: float | None = None  # cosine similarity in [-1, 1]
    top_k: int | None = None
    scoring: str = "max"
    score_k: int = 5  # queries averaged by ``mean``
    per: str | None = None  # None, "family" or "kind": top_k applies within each group

    def check(self) -> Selection:
        if self.threshold is None and self.top_k is None:
            raise RetrievalError("give a similarity threshold, a top k, or both; without either every row is kept")
        if self.threshold is not None and not -1.0 <= self.threshold <= 1.0:
            raise RetrievalError(f"threshold {self.threshold} is outside [-1, 1]: it is a cosine similarity")
        if self.top_k is not None and self.top_k < 1:
            raise RetrievalError(f"top k must be at least 1, got {self.top_k}")
        if self.scoring not in SCORINGS:
            raise RetrievalError(f"unknown scoring {self.scoring!r}; use one of {list(SCORINGS)}")
        if self.score_k < 1:
            raise RetrievalError(f"score k must be at least 1, got {self.score_k}")
        if self.per not in GROUPS:
            raise RetrievalError(f"per must be one of {[g for g in GROUPS if g]} or unset, got {self.per!r}")
        if self.per is not None and self.top_k is None:
            raise RetrievalError(f"per {self.per!r} caps the rows kept per group: give a top k with it "
                                 "(a threshold alone applies to every row, groups or not)")
        return self


def query_from_texts(ids: list[str], texts: list[str], embedder: Embedder) -> Query:
    if not texts:
        raise RetrievalError("the query set is empty: give at least one example, id or text")
    return Query(list(ids), embedder.embed(texts))


def query_from_table(table: pa.Table, view: str, embedder: Embedder, budget: int = DEFAULT_BUDGET) -> Query:
    """Trajectory rows as queries (their ids are left out of the result)."""
    if table.num_rows == 0:
        raise RetrievalError("the query set is empty: the query rows hold no trajectories")
    ids, vectors = embed_table(table, view, embedder, budget)
    return Query(ids, vectors, frozenset(table["id"].to_pylist()))


def behaviour_retrieval(store: Store, query: Query, sources: list[VersionInfo], embedder: Embedder,
                        selection: Selection, view: str = "trajectory", budget: int = DEFAULT_BUDGET
                        ) -> tuple[pa.Table, pa.Table]:
    """``(rows, matches)``: the source rows retrieved for ``query`` (full trajectory rows, with
    ``scores['retrieval_similarity']``), and per row its best query, cosine, normalised score
    and source version."""
    selection.check()
    if view == "step":
        raise RetrievalError("behaviour retrieval keeps whole trajectories: use the 'task' or 'trajectory' view "
                             "(the 'step' view serves step-level search: `trajforge index search`)")
    if view not in VIEWS:
        raise RetrievalError(f"unknown view {view!r}; use 'task' or 'trajectory'")
    if not sources:
        raise RetrievalError("no source versions to retrieve from")
    if len(query.ids) == 0:
        raise RetrievalError("the query set is empty")
    queries = faiss.IndexFlatIP(query.vectors.shape[1])
    queries.add(np.ascontiguousarray(query.vectors, dtype=np.float32))
    depth = 1 if selection.scoring == "max" else min(selection.score_k, len(query.ids))
    parts = []
    for info in sources:
        if info.kind != "trajectories":
            raise RetrievalError(f"{info.ref} holds {info.kind}, not trajectories; name trajectory versions")
        try:
            emb = embeddings(store, info, view, embedder, budget=budget)
        except DerivedError as e:
            raise RetrievalError(str(e)) from None
        if emb.vectors.shape[1] != query.vectors.shape[1]:
            raise RetrievalError(f"{info.ref}: embeddings of dimension {emb.vectors.shape[1]} under {emb.embedder}, "
                                 f"queries of dimension {query.vectors.shape[1]}")
        for start in range(0, len(emb.ids), SCAN_BATCH):
            block = np.ascontiguousarray(emb.vectors[start:start + SCAN_BATCH], dtype=np.float32)
            sims, nearest = queries.search(block, depth)
            similarity = sims[:, 0] if depth == 1 else sims.mean(axis=1)
            parts.append(pa.table({
                "id": emb.ids[start:start + SCAN_BATCH],
                "query_id": pa.array(np.asarray(query.ids, dtype=object)[nearest[:, 0]], pa.string()),
                "similarity": pa.array(similarity, pa.float32()),
                "source": [info.ref] * len(block),
            }))
    scored = pa.concat_tables(parts)
    if query.exclude:
        scored = scored.filter(pc.invert(pc.is_in(scored["id"], pa.array(sorted(query.exclude)))))
    scored = _first_per_id(scored)
    sims = scored["similarity"].to_numpy()
    low, high = (float(sims.min()), float(sims.max())) if len(sims) else (0.0, 0.0)
    scored = scored.append_column("score", pa.array((sims - low) / max(high - low, 1e-12), pa.float32()))
    rows = _read_rows(store, sources, scored)
    keep = _select(rows, scored, selection)
    matches = scored.take(keep).select(MATCHES_SCHEMA.names).cast(MATCHES_SCHEMA)
    return with_score(rows.take(keep), "retrieval_similarity", matches["similarity"].to_pylist()), matches


def _first_per_id(scored: pa.Table) -> pa.Table:
    """One row per id (the same trajectory in two sources: its best match, first source on ties)."""
    order = pc.sort_indices(scored, [("similarity", "descending")])
    scored = scored.take(order)
    _, first = np.unique(np.asarray(scored["id"].to_pylist(), dtype=object), return_index=True)
    return scored.take(np.sort(first))


def _read_rows(store: Store, sources: list[VersionInfo], scored: pa.Table) -> pa.Table:
    """The full rows of ``scored``'s ids, aligned with it."""
    tables = []
    for info in sources:
        wanted = scored.filter(pc.equal(scored["source"], info.ref))["id"]
        if len(wanted):
            table = store.read(info)
            tables.append(table.filter(pc.is_in(table["id"], wanted)))
    rows = pa.concat_tables(tables)
    position = pc.index_in(scored["id"], rows["id"])
    return rows.take(position)


def _select(rows: pa.Table, scored: pa.Table, selection: Selection) -> np.ndarray:
    """Positions kept, best first: above the threshold, then the top k (per group if asked)."""
    sims = scored["similarity"].to_numpy()
    candidates = np.arange(len(sims))
    if selection.threshold is not None:
        candidates = candidates[sims[candidates] >= selection.threshold]
    candidates = candidates[np.argsort(-sims[candidates], kind="stable")]
    if selection.top_k is None:
        return candidates
    if selection.per is None:
        return candidates[: selection.top_k]
    groups = (pc.struct_field(rows["task"], "family") if selection.per == "family" else rows["kind"]).to_numpy(
        zero_copy_only=False)
    taken: dict[str, int] = {}
    keep = []
    for i in candidates:
        g = groups[i]
        if taken.get(g, 0) < selection.top_k:
            taken[g] = taken.get(g, 0) + 1
            keep.append(i)
    return np.array(keep, dtype=np.int64)


# ---------------------------------------------------------------------------- what the user names


def resolve_sources(store: Store, specs: list[str], exclude: tuple[str, ...] = ()) -> list[VersionInfo]:
    """Trajectory versions named by refs (``name@v3``, ``name`` for its latest), globs over
    dataset names (``runs-*``, ``runs-*@stable``) or ``all`` (every trajectory dataset's
    latest), minus the datasets in ``exclude`` (the output itself)."""
    if not specs:
        raise RetrievalError("name at least one source: a version (name@v1), a glob over names (runs-*) or 'all'")
    found: dict[str, VersionInfo] = {}
    for spec in specs:
        name, _, ref = spec.partition("@")
        if spec == "all" or any(c in name for c in "*?["):
            pattern = "*" if spec == "all" else name
            names = [n for n in store.datasets() if fnmatch.fnmatchcase(n, pattern) and n not in exclude]
            infos = [store.resolve(f"{n}@{ref or 'latest'}") for n in names]
            infos = [i for i in infos if i.kind == "trajectories"]
            if not infos:
                raise RetrievalError(f"source {spec!r} matches no trajectory dataset; datasets: {store.datasets()}")
        else:
            try:
                infos = [store.resolve(Ref.parse(spec if ref else f"{spec}@latest"))]
            except NotFoundError as e:
                raise RetrievalError(f"source {spec!r} does not exist: {e}") from None
        for info in infos:
            found.setdefault(info.ref, info)
    return list(found.values())


def resolve_query(store: Store, spec: str, sources: list[VersionInfo], view: str, embedder: Embedder,
                  field: str = "text", budget: int = DEFAULT_BUDGET) -> tuple[Query, VersionInfo | None]:
    """The query set a user names, and the version it is (if it is one):

    - ``text:...`` or any text that is not one of the below: free text, one query;
    - ``ids:a,b,c``: trajectories of the sources, by id (left out of the result);
    - a ``.jsonl``/``.parquet`` file: trajectory rows, or examples with a text ``field``;
    - ``name@ref``: every row of that version (left out of the result)."""
    if spec.startswith("text:") or not spec.strip():
        text = spec.removeprefix("text:")
        if not text.strip():
            raise RetrievalError("the query text is empty")
        return query_from_texts(["text"], [text], embedder), None
    if spec.startswith("ids:"):
        wanted = [i for i in spec.removeprefix("ids:").split(",") if i.strip()]
        if not wanted:
            raise RetrievalError("the query set is empty: 'ids:' lists no trajectory ids")
        rows = pa.concat_tables([_rows_with_ids(store, info, wanted) for info in sources])
        rows = _unique_ids(rows)
        missing = sorted(set(wanted) - set(rows["id"].to_pylist()))
        if missing:
            raise RetrievalError(f"query ids {missing[:5]} are in none of the sources {[s.ref for s in sources]}")
        return query_from_table(rows, view, embedder, budget), None
    path = Path(spec)
    if path.suffix.lower() in _OTHER_FILES and not any(c.isspace() for c in spec):
        state = "a format not read" if path.is_file() else "not there"
        raise RetrievalError(f"query {spec!r} names a file, {state}: give a .jsonl or .parquet file of examples, "
                             "or 'text:...' to query by that text")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".parquet") or path.is_file():
        try:
            if is_trajectory_file(path):
                return query_from_table(pq.read_table(path), view, embedder, budget), None
            ids, texts = read_texts(path, field)
        except TextFileError as e:
            raise RetrievalError(str(e)) from None
        return query_from_texts(ids, texts, embedder), None
    if _REF.fullmatch(spec):
        try:
            info = store.resolve(Ref.parse(spec))
        except NotFoundError as e:
            raise RetrievalError(f"query version {spec!r} does not exist: {e}") from None
        return query_from_table(store.read(info, VIEW_COLUMNS[view]), view, embedder, budget), info
    return query_from_texts(["text"], [spec], embedder), None


def _rows_with_ids(store: Store, info: VersionInfo, ids: list[str]) -> pa.Table:
    table = store.read(info)
    return table.filter(pc.is_in(table["id"], pa.array(ids, pa.string())))


def _unique_ids(table: pa.Table) -> pa.Table:
    """One row per id (a query trajectory found in two sources)."""
    _, first = np.unique(np.asarray(table["id"].to_pylist(), dtype=object), return_index=True)
    return table.take(np.sort(first))


def publish_retrieval(store: Store, out: str, rows: pa.Table, matches: pa.Table, sources: list[VersionInfo],
                      query_info: VersionInfo | None, params: dict, tags: list[str] | None = None) -> VersionInfo:
    """The retrieved rows as a new version of ``out``: lineage role ``retrieval`` to every
    source (and ``query`` to the query version), the matches in ``retrieval/matches.parquet``."""
    if rows.num_rows == 0:
        raise RetrievalError("nothing was retrieved: lower the threshold or raise the top k; nothing was published")
    more = [{"ref": query_info.ref, "role": "query"}] if query_info is not None else []
    return publish_selection(store, out, rows, sources, "retrieval", params={"retrieval": params},
                             explain={MATCHES_FILE: matches}, more_parents=more, tags=tags)


def mix_prior(store: Store, table: pa.Table, prior: VersionInfo, embedder: Embedder, share: float,
              view: str = "trajectory", threshold: float | None = None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Behavior Retrieval's mix for the pipeline: ``(rows, matches, blobs)`` of the prior rows
    most similar to this run's ``table``, as many as make them ``share`` of the result (fewer
    when the threshold keeps fewer), with the blobs they refer to."""
    if not 0.0 <= share < 1.0:
        raise RetrievalError(f"mix share {share} must lie in [0, 1)")
    wanted = round(share / (1.0 - share) * table.num_rows)
    if wanted == 0 or table.num_rows == 0:
        empty = table.schema.empty_table()
        return empty, MATCHES_SCHEMA.empty_table(), source_blobs(store, []).slice(0, 0)
    query = query_from_table(table, view, embedder)
    rows, matches = behaviour_retrieval(store, query, [prior], embedder, Selection(threshold, wanted), view)
    return rows, matches, referenced_blobs(rows, source_blobs(store, [prior]))
