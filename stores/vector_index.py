"""FAISS indexes over embeddings, chosen by size and by a recall measured at build time.

Vectors are L2-normalised, so inner product is cosine similarity. ``kind="auto"`` takes an
exact flat index below ``flat_below`` rows (exact search is fast enough there and needs no
training) and an IVF index above, whose ``nprobe`` is raised until recall@10 against exact
search, on a sample of the indexed vectors, reaches ``target_recall``. The measured recall,
the probe count and the query speed go into the index metadata, so a user reads what an
index delivers instead of trusting a default. ``hnsw`` (no training, slow to build: minutes
per million on 2 cores) is there to be asked for; its ``efSearch`` is tuned the same way.

Why the recall sample leaves each query's own row out: the query vectors are indexed rows,
and every index finds a row itself, which would inflate recall by one hit in ten. Both the
exact and the approximate lists drop the query's own position before they are compared. Why
hits are counted by similarity: generated data holds many identical texts, so the exact
top 10 is one arbitrary pick among ties; a neighbour as similar as the exact 10th counts.

An index lives as bytes inside a version (``index/`` at publish time) or as files beside it
(:mod:`stores.derived`, built later), opened memory-mapped there. A child version that
extends its parent reuses the parent's trained index and adds only the new rows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

INDEX_FILE = "index/trajectories.faiss"
META_FILE = "index/trajectories.json"
KINDS = ("auto", "flat", "ivf", "hnsw")
FLAT_BELOW = 50_000
TARGET_RECALL = 0.95
RECALL_K = 10
SAMPLE = 500
_PROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
_EF = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class VectorIndexError(ValueError):
    """An index request that cannot be served (kind, embedder id, dimensions)."""


@dataclass
class VectorIndex:
    index: faiss.Index
    ids: list[str]
    embedder: str
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, vectors: np.ndarray, ids: list[str], embedder: str, *, kind: str = "auto",
              flat_below: int = FLAT_BELOW, target_recall: float = TARGET_RECALL, sample: int = SAMPLE,
              seed: int = 0) -> VectorIndex:
        if len(vectors) != len(ids):
            raise VectorIndexError(f"{len(vectors)} vectors but {len(ids)} ids")
        if kind not in KINDS:
            raise VectorIndexError(f"unknown index kind {kind!r}; use one of {list(KINDS)}")
        if not 0.0 < target_recall <= 1.0:
            raise VectorIndexError(f"target recall must lie in (0, 1], got {target_recall}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if kind == "auto":
            kind = "flat" if n < flat_below else "ivf"
        t0 = time.perf_counter()
        if kind == "flat" or n < 2 * RECALL_K:
            kind = "flat"
            index: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind == "ivf":
            nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            train = vectors if n <= 64 * nlist else vectors[np.sort(rng.choice(n, 64 * nlist, replace=False))]
            index.train(train)
        else:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        index.add(vectors)
        built = cls(index, list(ids), embedder, {"kind": kind, "rows": n, "dim": dim})
        built.meta["build_seconds"] = round(time.perf_counter() - t0, 3)
        built.tune(vectors, target_recall, sample, seed)
        return built

    def tune(self, vectors: np.ndarray, target_recall: float, sample: int, seed: int) -> None:
        """Raise the search width until measured recall@10 reaches ``target_recall``; record it."""
        n = self.index.ntotal
        if self.meta["kind"] == "flat":
            self.meta.update(recall_at_10=1.0, recall_sample=0, exact=True)
            return
        rng = np.random.default_rng(seed + 1)
        rows = np.sort(rng.choice(n, min(sample, n), replace=False))
        queries = vectors[rows]
        exact = faiss.IndexFlatIP(self.index.d)
        exact.add(vectors)
        truth = _drop_self(*exact.search(queries, RECALL_K + 1), rows)
        knob, values = ("nprobe", _PROBES) if self.meta["kind"] == "ivf" else ("efSearch", _EF)
        limit = self.index.nlist if knob == "nprobe" else max(_EF)
        recall = 0.0
        for value in [v for v in values if v <= limit] or [limit]:
            self._set(knob, value)
            t0 = time.perf_counter()
            found = self.index.search(queries, RECALL_K + 1)
            seconds = time.perf_counter() - t0
            recall = _recall(truth, _drop_self(*found, rows))
            if recall >= target_recall:
                break
        self.meta.update({knob: value, "recall_at_10": round(recall, 4), "recall_sample": len(rows),
                          "target_recall": target_recall, "queries_per_s": round(len(rows) / max(seconds, 1e-9)),
                          "exact": False})

    def _set(self, knob: str, value: int) -> None:
        if knob == "nprobe":
            self.index.nprobe = value
        else:
            self.index.hnsw.efSearch = value

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row positions), each [n_queries, k]; positions are -1 where fewer exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.index.d:
            raise VectorIndexError(f"queries of shape {queries.shape} do not match the index dimension {self.index.d}")
        return self.index.search(queries, min(k, max(1, len(self.ids))))

    def extend(self, vectors: np.ndarray, ids: list[str]) -> None:
        """Add rows (a child version's new ones) to this index, reusing its trained structure."""
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.ids.extend(ids)
        self.meta["rows"] = self.index.ntotal
        self.meta["extended_by"] = self.meta.get("extended_by", 0) + len(ids)

    def metadata(self) -> dict[str, Any]:
        return {"embedder": self.embedder, "dim": self.index.d, "type": type(self.index).__name__,
                **self.meta, "ids": self.ids}

    def to_files(self) -> dict[str, bytes]:
        return {INDEX_FILE: faiss.serialize_index(self.index).tobytes(),
                META_FILE: json.dumps(self.metadata()).encode()}

    @classmethod
    def from_files(cls, index_bytes: bytes, meta_bytes: bytes) -> VectorIndex:
        meta = json.loads(meta_bytes)
        index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
        return cls._opened(index, meta)

    @classmethod
    def open(cls, index_path: Path, meta_path: Path, mmap: bool = True) -> VectorIndex:
        """Open a saved index; memory-mapped where FAISS supports it for the type (IVF, flat)."""
        meta = json.loads(meta_path.read_text())
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and meta.get("kind") != "hnsw" else 0
        return cls._opened(faiss.read_index(str(index_path), flags), meta)

    @classmethod
    def _opened(cls, index: faiss.Index, meta: dict[str, Any]) -> VectorIndex:
        ids, embedder = meta.pop("ids"), meta.pop("embedder")
        meta.pop("dim", None)
        meta.pop("type", None)
        opened = cls(index, ids, embedder, meta)
        if meta.get("nprobe"):
            opened._set("nprobe", meta["nprobe"])
        if meta.get("efSearch"):
            opened._set("efSearch", meta["efSearch"])
        return opened


def _drop_self(sims: np.ndarray, found: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each query's first ``RECALL_K`` similarities to rows other than its own (NaN where fewer)."""
    out = np.full((len(rows), RECALL_K), np.nan, dtype=np.float32)
    for i, (s, hits, own) in enumerate(zip(sims, found, rows, strict=True)):
        kept = s[(hits != own) & (hits >= 0)][:RECALL_K]
        out[i, : len(kept)] = kept
    return out


def _recall(truth: np.ndarray, found: np.ndarray) -> float:
    """Share of the exact top-k matched: a found neighbour counts when it is as similar as the
    exact k-th (ties between equal vectors are not misses)."""
    kth = np.nanmin(truth, axis=1, keepdims=True) - 1e-5
    hits = np.minimum((found >= kth).sum(axis=1), (~np.isnan(truth)).sum(axis=1))
    total = int((~np.isnan(truth)).sum())
    return float(hits.sum() / total) if total else 1.0
