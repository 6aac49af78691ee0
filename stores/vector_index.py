"""FAISS indexes stored inside a dataset version, and nearest-neighbour search over them.

Vectors are L2-normalised, so inner product is cosine similarity. Small collections get an
exact flat index; above ``ivf_threshold`` rows an IVF index (trained on the data itself)
keeps search sublinear. The index travels as bytes in the version's ``index/`` folder, with
the row ids it covers beside it, so a later run can search an earlier version directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import faiss
import numpy as np

INDEX_FILE = "index/trajectories.faiss"
META_FILE = "index/trajectories.json"


@dataclass
class VectorIndex:
    index: faiss.Index
    ids: list[str]
    embedder: str

    @classmethod
    def build(cls, vectors: np.ndarray, ids: list[str], embedder: str, ivf_threshold: int = 50_000) -> VectorIndex:
        if len(vectors) != len(ids):
            raise ValueError(f"{len(vectors)} vectors but {len(ids)} ids")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(ids) >= ivf_threshold:
            nlist = int(4 * np.sqrt(len(ids)))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.nprobe = 16
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return cls(index, list(ids), embedder)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row positions), each [n_queries, k]; positions are -1 where fewer exist."""
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, max(1, len(self.ids))))

    def to_files(self) -> dict[str, bytes]:
        meta = {"embedder": self.embedder, "dim": self.index.d, "type": type(self.index).__name__, "ids": self.ids}
        return {INDEX_FILE: faiss.serialize_index(self.index).tobytes(), META_FILE: json.dumps(meta).encode()}

    @classmethod
    def from_files(cls, index_bytes: bytes, meta_bytes: bytes) -> VectorIndex:
        meta = json.loads(meta_bytes)
        index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
        return cls(index, meta["ids"], meta["embedder"])
