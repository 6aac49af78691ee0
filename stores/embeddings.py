"""Text embedders. The hashing embedder is the fast, dependency-free, deterministic default.

Feature hashing (signed, on word unigrams and bigrams) gives stable vectors without a model,
so CI and large CPU runs can build real FAISS indexes; a sentence-transformers embedder can
replace it behind the same ``embed(texts) -> float32[n, dim]`` call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class HashingEmbedder:
    dim: int = 256

    @property
    def name(self) -> str:
        return f"hashing-{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        buckets: dict[str, tuple[int, float]] = {}
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())
            for feature in [*tokens, *(a + " " + b for a, b in zip(tokens, tokens[1:], strict=False))]:
                hit = buckets.get(feature)
                if hit is None:
                    h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
                    hit = buckets[feature] = (h % self.dim, 1.0 if (h >> 32) & 1 else -1.0)
                out[row, hit[0]] += hit[1]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
