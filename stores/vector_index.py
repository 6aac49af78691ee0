"""FAISS indexes over embeddings, chosen by size and by a recall measured at build time.

Vectors are L2-normalised, so inner product is cosine similarity. ``kind="auto"`` takes an
exact flat index below ``flat_below`` rows (exact search is fast enough there and needs no
training), an IVF index up to half a million rows, and above that IVF over 4-bit PQ codes
scanned with SIMD whose candidates are re-ranked on the exact vectors (``ivfpq``: scanning
full vectors of enough lists for 0.95 recall costs too much at a million rows on two cores,
``bench/index.py``). The search width (``nprobe``, and the re-ranking depth ``k_factor``) is
raised until recall@10 against exact search, on a sample of the indexed vectors, reaches
``target_recall``. IVF uses about
sqrt(n) lists trained on 40 points each: at a million rows that trains in seconds on two
cores, where 4 sqrt(n) lists cost minutes of k-means for a faster search (``bench/index.py``). The measured recall,
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
KINDS = ("auto", "flat", "ivf", "ivfpq", "hnsw")
IVFPQ_FROM = 500_000  # auto: compressed codes + exact re-ranking from this many rows
FLAT_BELOW = 50_000
TARGET_RECALL = 0.95
RECALL_K = 10
SAMPLE = 500
# search settings tried in order of cost until the target recall is reached
_PROBES = tuple({"nprobe": p} for p in (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512))
_PQ_GRID = tuple({"nprobe": p, "k_factor": k} for k, p in (
    (8, 4), (16, 4), (16, 8), (32, 8), (48, 8), (64, 8), (64, 16), (96, 16), (128, 16), (128, 32), (256, 32),
    (256, 64), (512, 64)))
_TRAIN_PER_LIST = 40  # k-means training points per inverted list (FAISS asks for at least 39)
_EF = tuple({"efSearch": e} for e in (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512))


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
              seed: int = 0, nlist: int | None = None) -> VectorIndex:
        if len(vectors) != len(ids):
            raise VectorIndexError(f"{len(vectors)} vectors but {len(ids)} ids")
        if kind not in KINDS:
            raise VectorIndexError(f"unknown index kind {kind!r}; use one of {list(KINDS)}")
        if not 0.0 < target_recall <= 1.0:
            raise VectorIndexError(f"target recall must lie in (0, 1], got {target_recall}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if kind == "auto":
            kind = "flat" if n < flat_below else "ivf" if n < IVFPQ_FROM or dim % 4 else "ivfpq"
        if kind == "ivfpq" and dim % 4:
            raise VectorIndexError(f"ivfpq needs a dimension divisible by 4, got {dim}; use ivf")
        t0 = time.perf_counter()
        if kind == "flat" or n < 2 * RECALL_K:
            kind = "flat"
            index: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind in ("ivf", "ivfpq"):
            nlist = nlist or max(1, min(int(np.sqrt(n)), n // _TRAIN_PER_LIST))
            if kind == "ivf":
                index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            else:  # 4-bit PQ codes scanned with SIMD, the candidates re-ranked on the exact vectors
                index = faiss.index_factory(dim, f"IVF{nlist},PQ{dim // 4}x4fs,RFlat", faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            train_rows = _TRAIN_PER_LIST * nlist
            train = vectors if n <= train_rows else vectors[np.sort(rng.choice(n, train_rows, replace=False))]
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
        truth = _drop_self(*faiss.knn(queries, vectors, RECALL_K + 1, metric=faiss.METRIC_INNER_PRODUCT), rows)
        grid = {"ivf": _PROBES, "ivfpq": _PQ_GRID, "hnsw": _EF}[self.meta["kind"]]
        nlist = faiss.extract_index_ivf(self.index).nlist if self.meta["kind"] != "hnsw" else None
        settings = [g for g in grid if nlist is None or g.get("nprobe", 0) <= nlist] or [{"nprobe": nlist}]
        recall = 0.0
        for setting in settings:
            self._set(setting)
            t0 = time.perf_counter()
            found = self.index.search(queries, RECALL_K + 1)
            seconds = time.perf_counter() - t0
            recall = _recall(truth, _drop_self(*found, rows))
            if recall >= target_recall:
                break
        self.meta.update({**setting, "recall_at_10": round(recall, 4), "recall_sample": len(rows),
                          "target_recall": target_recall, "queries_per_s": round(len(rows) / max(seconds, 1e-9)),
                          "exact": False})

    def _set(self, setting: dict[str, int]) -> None:
        for knob, value in setting.items():
            if knob == "nprobe":
                faiss.extract_index_ivf(self.index).nprobe = value
            elif knob == "k_factor":
                self.index.k_factor = value
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
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and meta.get("kind") in ("flat", "ivf") else 0
        return cls._opened(faiss.read_index(str(index_path), flags), meta)

    @classmethod
    def _opened(cls, index: faiss.Index, meta: dict[str, Any]) -> VectorIndex:
        ids, embedder = meta.pop("ids"), meta.pop("embedder")
        meta.pop("dim", None)
        meta.pop("type", None)
        opened = cls(index, ids, embedder, meta)
        opened._set({k: meta[k] for k in ("nprobe", "k_factor", "efSearch") if meta.get(k)})
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
