"""Deduplication, from exact to semantic, each explaining every drop.

- :func:`exact_dedup` / :func:`task_dedup`: keep-first on the content id or the task id. Small
  task spaces (a 3x3 maze has a few hundred layouts) make repeats certain at scale; the store
  refuses duplicate ids, so :func:`exact_dedup` runs before every publish, and
  :func:`task_dedup` enforces "no two tasks in one dataset are the same".
- :func:`normalised_dedup`: a hash of a text view after folding case and whitespace (and,
  optionally, masking numbers): copies that differ only in spelling of the same text.
- :func:`minhash_dedup`: near-duplicates, MinHash LSH over word n-grams (:mod:`filters.minhash`).
- :func:`semantic_dedup`: SemDeDup (Abbas et al., 2023): k-means clusters of embeddings, and
  within each cluster the pairs above a cosine threshold.

The last three return a :class:`Dedup`: the kept rows and a ``removed`` table (removed id,
kept id, method, similarity), so every drop can be explained and undone (:func:`undo_dedup`
puts removed rows back, read from the source version each came from). Which member of a
duplicate set stays is one rule for all methods: the best value of a chosen score key
(``verifier`` by default), then the earliest row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from filters.minhash import MinHashSettings, similar_pairs
from stores.derived import embeddings
from stores.embeddings import Embedder
from stores.selection import publish_selection
from stores.store import NotFoundError, Store, VersionInfo
from stores.text_views import DEFAULT_BUDGET, view_texts

REMOVED_FILE = "dedup/removed.parquet"
RESTORED_FILE = "dedup/restored.parquet"
REMOVED_SCHEMA = pa.schema(
    [("removed_id", pa.string()), ("kept_id", pa.string()), ("method", pa.string()), ("similarity", pa.float32())]
)
# in a dedup version's removed table: the version each removed row came from (an exact
# duplicate has the kept row's id, so the id alone cannot say which copy went)
REMOVED_FILE_SCHEMA = REMOVED_SCHEMA.append(pa.field("removed_from", pa.string()))
METHODS = ("exact", "normalised", "minhash", "semantic")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")


class DedupError(ValueError):
    """Dedup settings or input that cannot work; nothing is published."""


@dataclass
class Dedup:
    kept: pa.Table
    removed: pa.Table  # REMOVED_SCHEMA
    removed_rows: np.ndarray  # positions of the removed rows in the input table, aligned with ``removed``


def exact_dedup(table: pa.Table, key: str = "id") -> tuple[pa.Table, int]:
    """Keep the first row of each ``key``; return the table and how many rows were dropped."""
    if table.num_rows == 0:
        return table, 0
    indexed = pa.table({key: table[key], "_row": np.arange(table.num_rows)})
    first = indexed.group_by(key, use_threads=False).aggregate([("_row", "min")])["_row_min"].to_numpy()
    first = np.sort(first)
    return table.take(first), table.num_rows - len(first)


def task_dedup(table: pa.Table, grouped: bool = False) -> tuple[pa.Table, int]:
    """Keep the first trajectory of each task (``task.id``); return it and how many were dropped.

    ``grouped`` (grouped sampling, ``samples_per_task`` > 1): keep the first *group* of each
    task instead, i.e. every row drawn from the same task seed as the task's first row; a later
    draw of the same task from another seed is a repeated task and goes as a whole group."""
    if table.num_rows == 0:
        return table, 0
    task_ids = pc.struct_field(table["task"], "id")
    if not grouped:
        kept, dropped = exact_dedup(table.append_column("_task", task_ids), "_task")
        return kept.drop_columns("_task"), dropped
    seeds = pc.struct_field(table["task"], "seed")
    firsts, _ = exact_dedup(pa.table({"_task": task_ids, "_seed": seeds}), "_task")
    first_seed = dict(zip(firsts["_task"].to_pylist(), firsts["_seed"].to_pylist(), strict=True))
    keep = np.fromiter((first_seed[t] == s for t, s in zip(task_ids.to_pylist(), seeds.to_pylist(), strict=True)),
                       bool, table.num_rows)
    return table.filter(pa.array(keep)), int((~keep).sum())


# ---------------------------------------------------------------------------- keeper rule


def preference(table: pa.Table, score_key: str | None) -> np.ndarray:
    """A rank per row: lower is kept first (best ``score_key`` value, then the earlier row);
    rows without the key rank after every row that has it."""
    n = table.num_rows
    if score_key is None or n == 0:
        return np.arange(n)
    flat = pc.list_flatten(table["scores"])
    owner = pc.list_parent_indices(table["scores"]).to_numpy()
    names = pc.struct_field(flat, "name").to_numpy(zero_copy_only=False)
    values = pc.struct_field(flat, "value").to_numpy(zero_copy_only=False)
    score = np.full(n, -np.inf)
    hit = names == score_key
    score[owner[hit]] = values[hit]
    order = np.lexsort((np.arange(n), -score))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def _resolve(table: pa.Table, pairs: np.ndarray, rank: np.ndarray, method: str, similarity_to_keeper) -> Dedup:
    """Connected components of the duplicate pairs; each keeps its preferred row."""
    n = table.num_rows
    if len(pairs) == 0:
        return _nothing(table)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.lexsort((rank, label))  # by component, preferred first
    first_of = np.ones(n, dtype=bool)
    first_of[1:] = label[order][1:] != label[order][:-1]
    keeper = np.empty(n, dtype=np.int64)
    heads = order[first_of]
    keeper[order] = heads[np.cumsum(first_of) - 1]
    removed = np.flatnonzero(keeper != np.arange(n))
    ids = table["id"].to_numpy(zero_copy_only=False)
    explain = pa.table({
        "removed_id": pa.array(ids[removed], pa.string()),
        "kept_id": pa.array(ids[keeper[removed]], pa.string()),
        "method": pa.array([method] * len(removed), pa.string()),
        "similarity": pa.array(similarity_to_keeper(removed, keeper[removed]), pa.float32()),
    }, schema=REMOVED_SCHEMA)
    return Dedup(table.take(np.flatnonzero(keeper == np.arange(n))), explain, removed)


def _nothing(table: pa.Table) -> Dedup:
    return Dedup(table, REMOVED_SCHEMA.empty_table(), np.zeros(0, dtype=np.int64))


def _group_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs (first row of a key, every later row of that key)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    new = np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]) if len(keys) else np.zeros(0, bool)
    heads = order[np.flatnonzero(new)][np.cumsum(new) - 1]
    later = ~new
    return np.stack([heads[later], order[later]], axis=1)


# ---------------------------------------------------------------------------- methods


def exact_id_dedup(table: pa.Table, *, score_key: str | None = "verifier") -> Dedup:
    """Rows with the same content id (the same task, steps and answer): one stays per id."""
    ids = table["id"].to_numpy(zero_copy_only=False)
    return _resolve(table, _group_pairs(ids), preference(table, score_key), "exact",
                    lambda removed, kept: np.ones(len(removed), dtype=np.float32))


def normalise(text: str, mask_numbers: bool = False) -> str:
    text = _SPACE.sub(" ", text.lower()).strip()
    return _NUMBER.sub("0", text) if mask_numbers else text


def normalised_dedup(table: pa.Table, view: str = "trajectory", *, mask_numbers: bool = False,
                     score_key: str | None = "verifier", budget: int = 10_000) -> Dedup:
    """Rows whose ``view`` text is equal after folding case and whitespace (and numbers, with
    ``mask_numbers``): one stays per text. The view is read with a large budget, so texts
    are compared whole."""
    _, texts = _texts(table, view, budget)
    keys = np.array([hashlib.blake2b(normalise(t, mask_numbers).encode(), digest_size=16).hexdigest()
                     for t in texts], dtype=object)
    method = "normalised+numbers" if mask_numbers else "normalised"
    return _resolve(table, _group_pairs(keys), preference(table, score_key), method,
                    lambda removed, kept: np.ones(len(removed), dtype=np.float32))


def minhash_dedup(table: pa.Table, view: str = "trajectory", settings: MinHashSettings | None = None,
                  *, score_key: str | None = "verifier", budget: int = 10_000) -> Dedup:
    """Near-duplicates by MinHash LSH on word n-grams of ``view``; ``similarity`` is the
    estimated Jaccard similarity between the removed row and the row kept in its place."""
    _, texts = _texts(table, view, budget)
    pairs, _, sigs = similar_pairs(texts, settings or MinHashSettings())
    return _resolve(table, pairs, preference(table, score_key), "minhash",
                    lambda removed, kept: (sigs[removed] == sigs[kept]).mean(axis=1))


def semantic_dedup(table: pa.Table, vectors: np.ndarray, *, threshold: float = 0.95, clusters: int | None = None,
                   score_key: str | None = "verifier", seed: int = 0, iterations: int = 20) -> Dedup:
    """SemDeDup over row embeddings (``vectors`` aligned with ``table``, L2-normalised).

    k-means (FAISS) splits the rows into ``clusters`` (default about sqrt(n): k-means costs
    n x k and the within-cluster pairs n^2 / k, which balance there; a million rows train and
    compare in minutes on two cores); within a cluster, rows are visited in keeper order and a
    row is a duplicate of the most similar earlier one when their cosine is at least ``threshold``."""
    if not -1.0 <= threshold <= 1.0:
        raise DedupError(f"threshold {threshold} is outside [-1, 1]: it is a cosine similarity")
    n = table.num_rows
    if len(vectors) != n:
        raise DedupError(f"{len(vectors)} vectors for {n} rows; embed the same rows that are deduplicated")
    if n < 2:
        return _nothing(table)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    label = cluster_labels(vectors, clusters or max(1, int(np.sqrt(n))), seed, iterations)
    rank = preference(table, score_key)
    pairs = []
    order = np.lexsort((rank, label))
    bounds = np.flatnonzero(np.concatenate([[True], label[order][1:] != label[order][:-1], [True]]))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        members = order[a:b]
        if len(members) < 2:
            continue
        for block in range(0, len(members), 4096):  # rows of one cluster against all earlier ones
            rows = members[block:block + 4096]
            earlier = members[: block + len(rows)]
            sim = vectors[rows] @ vectors[earlier].T
            width = len(earlier)
            mask = np.arange(width)[None, :] >= (block + np.arange(len(rows)))[:, None]
            sim[mask] = -np.inf  # only rows ranked before
            best = sim.argmax(axis=1)
            top = sim[np.arange(len(rows)), best]
            dup = top >= threshold
            pairs.append(np.stack([earlier[best[dup]], rows[dup]], axis=1))
    pairs_np = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    return _resolve(table, pairs_np, rank, "semantic",
                    lambda removed, kept: (vectors[removed] * vectors[kept]).sum(axis=1))


def cluster_labels(vectors: np.ndarray, k: int, seed: int = 0, iterations: int = 20) -> np.ndarray:
    """k-means cluster of each row (spherical: centroids normalised, inner product)."""
    k = min(k, len(vectors))
    if k <= 1:
        return np.zeros(len(vectors), dtype=np.int64)
    # min_points_per_centroid=1: every row is clustered, so FAISS's "too few training points"
    # warning (meant for sampled training sets) would only be noise on a small version
    kmeans = faiss.Kmeans(vectors.shape[1], k, niter=iterations, seed=seed, spherical=True,
                          max_points_per_centroid=64, min_points_per_centroid=1, verbose=False)
    kmeans.train(vectors)
    _, label = kmeans.index.search(vectors, 1)
    return label[:, 0].astype(np.int64)


def _texts(table: pa.Table, view: str, budget: int) -> tuple[list[str], list[str]]:
    if view == "step":
        raise DedupError("dedup keeps or drops whole trajectories: use the 'task' or 'trajectory' view")
    return view_texts(table, view, budget or DEFAULT_BUDGET)


# ---------------------------------------------------------------------------- versions


def dedup_versions(store: Store, sources: list[VersionInfo], out: str, method: str, *, view: str = "trajectory",
                   score_key: str | None = "verifier", mask_numbers: bool = False,
                   minhash: MinHashSettings | None = None, embedder: Embedder | None = None,
                   threshold: float = 0.95, clusters: int | None = None, tags: list[str] | None = None
                   ) -> tuple[VersionInfo, Dedup]:
    """Deduplicate the rows of ``sources`` (together: a row in two sources is an exact
    duplicate) with ``method`` and publish the kept rows as a new version of ``out``, lineage
    role ``dedup`` to every source, the removals in ``dedup/removed.parquet``."""
    if method not in METHODS:
        raise DedupError(f"unknown dedup method {method!r}; use one of {list(METHODS)}")
    if view not in ("task", "trajectory"):
        raise DedupError(f"dedup keeps or drops whole trajectories: use the 'task' or 'trajectory' view, not {view!r}")
    if method == "semantic" and embedder is None:
        raise DedupError("semantic dedup needs an embedder (e.g. 'hashing' or 'minilm')")
    if minhash is not None:
        minhash.check()
    if method == "semantic" and not -1.0 <= threshold <= 1.0:
        raise DedupError(f"threshold {threshold} is outside [-1, 1]: it is a cosine similarity")
    for info in sources:
        if info.kind != "trajectories":
            raise DedupError(f"{info.ref} holds {info.kind}, not trajectories; dedup reads trajectory versions")
    parts = [store.read(info) for info in sources]
    table = pa.concat_tables(parts)
    origin = np.repeat(np.array([info.ref for info in sources], dtype=object), [p.num_rows for p in parts])
    exact = exact_id_dedup(table, score_key=score_key)
    rows = exact.kept
    origin_kept = np.delete(origin, exact.removed_rows)
    if method == "normalised":
        result = normalised_dedup(rows, view, mask_numbers=mask_numbers, score_key=score_key)
    elif method == "minhash":
        result = minhash_dedup(rows, view, minhash, score_key=score_key)
    elif method == "semantic":
        vectors = _aligned_vectors(store, sources, rows, view, embedder)
        result = semantic_dedup(rows, vectors, threshold=threshold, clusters=clusters, score_key=score_key)
    else:
        result = _nothing(rows)
    removed = pa.concat_tables([exact.removed, result.removed]).append_column(
        "removed_from", pa.array(np.concatenate([origin[exact.removed_rows], origin_kept[result.removed_rows]]),
                                 pa.string()))
    params = {"dedup": {"method": method, "view": view, "score_key": score_key, "rows_in": table.num_rows,
                        "rows_kept": result.kept.num_rows, "removed": removed.num_rows,
                        "sources": [info.ref for info in sources]}}
    if method == "normalised":
        params["dedup"]["mask_numbers"] = mask_numbers
    if method == "minhash":
        params["dedup"]["minhash"] = dataclasses.asdict(minhash or MinHashSettings())
    if method == "semantic":
        params["dedup"].update(embedder=embedder.id, threshold=threshold, clusters=clusters)
    info = publish_selection(store, out, result.kept, sources, "dedup", params=params,
                             explain={REMOVED_FILE: removed}, tags=tags)
    return info, Dedup(result.kept, removed, np.concatenate([exact.removed_rows, result.removed_rows]))


def _aligned_vectors(store: Store, sources: list[VersionInfo], rows: pa.Table, view: str, embedder: Embedder
                     ) -> np.ndarray:
    """The cached embeddings of the sources, in the order of ``rows``."""
    ids, parts = [], []
    for info in sources:
        emb = embeddings(store, info, view, embedder)
        ids.extend(emb.ids)
        parts.append(np.asarray(emb.vectors))
    position = pc.index_in(rows["id"], pa.array(ids, pa.string())).to_numpy()
    return np.concatenate(parts)[position]


def undo_dedup(store: Store, info: VersionInfo, removed_ids: list[str] | None = None, out: str | None = None,
               tags: list[str] | None = None) -> tuple[VersionInfo, pa.Table]:
    """Put removed rows of the dedup version ``info`` back (all, or ``removed_ids``): a new
    version of ``out`` (default: the same dataset) holding ``info``'s rows plus the restored
    ones, read from the source version each was removed from (its ``removed_from``), with
    ``dedup/restored.parquet`` listing them. Exact removals are not restored: a row with the
    same content id is already kept, identical. Lineage: role ``undo`` to ``info``,
    ``restored_from`` to the sources read."""
    path = info.path / REMOVED_FILE
    if not path.exists():
        raise DedupError(f"{info.ref} is not a dedup version (it has no {REMOVED_FILE}); name the version "
                         "`trajforge dedup` published")
    removed = pq.read_table(path)
    if removed_ids is not None:
        unknown = sorted(set(removed_ids) - set(removed["removed_id"].to_pylist()))
        if unknown:
            raise DedupError(f"{unknown[:5]} were not removed by {info.ref}: its removed table lists the ids "
                             "that can be restored")
        removed = removed.filter(pc.is_in(removed["removed_id"], pa.array(removed_ids, pa.string())))
    restorable = removed.filter(pc.not_equal(removed["method"], "exact"))
    if restorable.num_rows == 0:
        raise DedupError(f"nothing to restore from {info.ref}: exact duplicates are kept already (same content "
                         "id), and no other removal was asked for; nothing was published")
    sources, parts = [], []
    for ref in sorted(set(restorable["removed_from"].to_pylist())):
        try:
            source = store.resolve(ref)
        except NotFoundError as e:
            raise DedupError(f"cannot restore rows of {ref}: {e}") from None
        wanted = restorable.filter(pc.equal(restorable["removed_from"], ref))["removed_id"]
        table = store.read(source)
        parts.append(table.filter(pc.is_in(table["id"], wanted)))
        sources.append(source)
    back = pa.concat_tables(parts)
    missing = sorted(set(restorable["removed_id"].to_pylist()) - set(back["id"].to_pylist()))
    if missing:
        raise DedupError(f"rows {missing[:5]} are not in the versions they were removed from; nothing was published")
    kept = store.read(info)
    rows = pa.concat_tables([kept, back.cast(kept.schema)])
    params = {"undo_dedup": {"of": info.ref, "restored": back.num_rows,
                             "skipped_exact": removed.num_rows - restorable.num_rows}}
    published = publish_selection(store, out or info.name, rows, [info], "undo", params=params,
                                  explain={RESTORED_FILE: restorable},
                                  more_parents=[{"ref": s.ref, "role": "restored_from"} for s in sources],
                                  blob_sources=sources, tags=tags)
    return published, restorable
