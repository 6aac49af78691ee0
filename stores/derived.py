"""Embeddings and vector indexes computed for a committed version, kept beside it.

A version is immutable, so what is computed from it later lives in
``<store>/derived/<dataset>/<version>/``, keyed by what made it:

- ``embeddings/<view>/<embedder slug>.npy`` (float32 rows) with ``.ids.parquet`` and
  ``.json`` (embedder id, view, budget, rows, the version's manifest sha256);
- ``index/<view>/<embedder slug>.faiss`` with ``.json`` (the index metadata: kind, measured
  recall@10, probe count, ids).

Why keyed by (version, view, embedder id) and never silently recomputed: vectors from two
embedders are not comparable. Asking for an index or embeddings under an embedder id that
was never computed builds them only when the caller says so (``build=True``); otherwise the
error lists the ids that exist. A derived file whose manifest hash disagrees with the version
(a store rebuilt under the same name) is refused, not reused.

Writes are atomic (a temporary name, then a rename), so a crash leaves no half file that
a later run would trust.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stores.embeddings import Embedder, id_slug
from stores.store import Store, VersionInfo
from stores.text_views import DEFAULT_BUDGET, VIEW_COLUMNS, check_view, view_texts
from stores.vector_index import SAMPLE, VectorIndex

EMBED_BATCH = 8192


class DerivedError(ValueError):
    """Derived data asked for under an embedder id or view it was not computed with."""


@dataclass
class Embeddings:
    ids: list[str]
    vectors: np.ndarray
    embedder: str
    view: str


def derived_dir(store: Store, info: VersionInfo) -> Path:
    return store.root / "derived" / info.name / info.version


def _paths(store: Store, info: VersionInfo, what: str, view: str, embedder_id: str) -> Path:
    return derived_dir(store, info) / what / check_view(view) / id_slug(embedder_id)


def existing_ids(store: Store, info: VersionInfo, what: str, view: str) -> list[str]:
    """The embedder ids with ``what`` (``embeddings`` or ``index``) computed for ``view``."""
    folder = derived_dir(store, info) / what / view
    ids = []
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        ids.append(json.loads(meta.read_text())["embedder"])
    return ids


def embeddings(store: Store, info: VersionInfo, view: str, embedder: Embedder, *, build: bool = True,
               budget: int = DEFAULT_BUDGET) -> Embeddings:
    """The cached embeddings of ``info`` under ``view`` and ``embedder``; computed and cached
    when missing and ``build`` (else an error naming the ids that exist)."""
    base = _paths(store, info, "embeddings", view, embedder.id)
    meta_path = _with(base, ".json")
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        _check_same_version(meta, info, meta_path)
        if meta["budget"] != budget:
            raise DerivedError(f"{info.ref}: the cached {view!r} embeddings under {embedder.id} were cut at "
                               f"{meta['budget']} tokens, not {budget}; ask for budget {meta['budget']}")
        ids = pq.read_table(_with(base, ".ids.parquet"))["id"].to_pylist()
        return Embeddings(ids, np.load(_with(base, ".npy"), mmap_mode="r"), embedder.id, view)
    if not build:
        raise DerivedError(f"{info.ref} has no {view!r} embeddings under {embedder.id}; computed ids: "
                           f"{existing_ids(store, info, 'embeddings', view) or 'none'}")
    ids, vectors = embed_table(store.read(info, VIEW_COLUMNS[view]), view, embedder, budget)
    base.parent.mkdir(parents=True, exist_ok=True)
    _atomic(_with(base, ".npy"), lambda p: _save_npy(p, vectors))
    _atomic(_with(base, ".ids.parquet"), lambda p: pq.write_table(pa.table({"id": ids}), p))
    meta = {"embedder": embedder.id, "view": view, "budget": budget, "rows": len(ids), "dim": int(vectors.shape[1]),
            "version": info.ref, "manifest_sha256": info.manifest_sha256}
    _atomic(meta_path, lambda p: Path(p).write_text(json.dumps(meta)))
    return Embeddings(ids, vectors, embedder.id, view)


def embed_table(table: pa.Table, view: str, embedder: Embedder, budget: int = DEFAULT_BUDGET
                ) -> tuple[list[str], np.ndarray]:
    """``(ids, vectors)`` of a table's ``view`` texts, embedded in batches."""
    ids, texts = view_texts(table, view, budget)
    parts = [embedder.embed(texts[i:i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    return ids, vectors


def index(store: Store, info: VersionInfo, view: str, embedder: Embedder, *, build: bool = False,
          kind: str = "auto", target_recall: float = 0.95, parent: VersionInfo | None = None,
          budget: int = DEFAULT_BUDGET) -> VectorIndex:
    """The vector index of ``info`` for (``view``, ``embedder``), opened memory-mapped.

    Without ``build`` a missing index is an error naming the embedder ids indexed for the
    view. With ``build``, ``parent`` (a version this one extends: its ids come first, in order)
    lends its index, and only the new rows are embedded and added.
    """
    base = _paths(store, info, "index", view, embedder.id)
    meta_path = _with(base, ".json")
    if meta_path.exists():
        index = VectorIndex.open(_with(base, ".faiss"), meta_path)
        _check_same_version(index.meta, info, meta_path)
        return index
    if not build:
        raise DerivedError(f"{info.ref} has no {view!r} index under embedder {embedder.id}; indexed ids: "
                           f"{existing_ids(store, info, 'index', view) or 'none'}. Build one with "
                           f"`trajforge index build {info.ref} --view {view} --embedder ...`")
    emb = embeddings(store, info, view, embedder, budget=budget)
    built = None
    if parent is not None:
        built = _extended(store, parent, view, embedder, emb, target_recall)
    if built is None:
        built = VectorIndex.build(np.asarray(emb.vectors), emb.ids, embedder.id, kind=kind,
                                  target_recall=target_recall)
    built.meta.update(view=view, version=info.ref, manifest_sha256=info.manifest_sha256)
    base.parent.mkdir(parents=True, exist_ok=True)
    _atomic(_with(base, ".faiss"), lambda p: faiss.write_index(built.index, p))
    _atomic(meta_path, lambda p: Path(p).write_text(json.dumps(built.metadata())))
    return VectorIndex.open(_with(base, ".faiss"), meta_path)


def _extended(store: Store, parent: VersionInfo, view: str, embedder: Embedder, emb: Embeddings,
              target_recall: float) -> VectorIndex | None:
    """The parent's index with this version's new rows added, when this version's ids start
    with the parent's (a child that only appends); None otherwise. The recall is measured
    again on the grown index (and the search width raised if it fell): the parent's figure
    described fewer rows, and lists trained on them may now be crowded."""
    try:
        base = index(store, parent, view, embedder, build=False)
    except DerivedError:
        return None
    n = len(base.ids)
    if emb.ids[:n] != base.ids:
        return None
    grown = VectorIndex.open(*_files_of(store, parent, view, embedder.id), mmap=False)
    grown.extend(np.asarray(emb.vectors[n:]), emb.ids[n:])
    grown.meta["extends"] = parent.ref
    grown.tune(np.asarray(emb.vectors), target_recall, SAMPLE, seed=0)
    return grown


def _files_of(store: Store, info: VersionInfo, view: str, embedder_id: str) -> tuple[Path, Path]:
    base = _paths(store, info, "index", view, embedder_id)
    return _with(base, ".faiss"), _with(base, ".json")


def _with(base: Path, extension: str) -> Path:
    """``base`` plus an extension; not ``with_suffix``, which would cut an embedder id at its
    last dot (``...pypi-0.1.0-384``) and let two versions of one model share a file."""
    return base.parent / (base.name + extension)


def _check_same_version(meta: dict, info: VersionInfo, where: Path) -> None:
    if meta.get("manifest_sha256") and meta["manifest_sha256"] != info.manifest_sha256:
        raise DerivedError(f"{where} was computed for another {info.ref} (manifest hash differs): the store "
                           f"was rebuilt. Delete {where.parent} and build again.")


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(str(tmp))
    os.replace(tmp, path)


def _save_npy(path: str, vectors: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file object: np.save would append .npy to the temporary name
        np.save(fh, vectors)
