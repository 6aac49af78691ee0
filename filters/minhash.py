"""MinHash LSH over word n-grams: signatures, banding, verified candidate pairs.

The steps, each vectorised:

1. Words: lower-cased ``[a-z0-9]+`` runs (Arrow's regex split). Each distinct word is hashed
   once with blake2b (the vocabulary is small next to the text), so n-gram hashes are the same
   in every process and run.
2. Shingles: the hash of ``n`` consecutive words, a polynomial in uint64 arithmetic over
   the word hashes, never across two texts. A text shorter than ``n`` words is one shingle.
3. Signatures: rensa's Rust MinHash over the flat shingle hashes (``bench/dedup.py``
   compared it with datasketch at equal recall: the choice is by that measurement).
4. Banding: ``bands x rows`` chosen for the threshold as datasketch does (the split that
   minimises the integrated false-positive and false-negative probability); each band's rows
   are folded into one uint64 key, sorted, and equal keys give candidate pairs.
5. Verification: a pair counts only if its signatures agree on at least ``threshold`` of the
   permutations (the Jaccard estimate), so bucket collisions never remove a row.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WORD = r"[^a-z0-9]+"
_MIX = np.uint64(0x9E3779B97F4A7C15)
BATCH = 16_384  # texts hashed at a time


class MinHashError(ValueError):
    """MinHash settings that cannot work (threshold, n-gram size, permutations)."""


@dataclass(frozen=True)
class MinHashSettings:
    # word 3-grams at Jaccard 0.7: trajectories run to a few hundred words, so two edited words
    # already cost a 5-gram set a fifth of its members (bench/dedup.py measured both)
    ngram: int = 3
    num_perm: int = 128
    threshold: float = 0.7  # estimated Jaccard similarity of shingle sets
    seed: int = 0

    def check(self) -> MinHashSettings:
        if not 0.0 < self.threshold <= 1.0:
            raise MinHashError(f"MinHash threshold {self.threshold} must lie in (0, 1]: it is a Jaccard similarity")
        if not 1 <= self.ngram <= 32:
            raise MinHashError(f"n-gram size {self.ngram} must lie in 1..32")
        if not 16 <= self.num_perm <= 1024:
            raise MinHashError(f"num_perm {self.num_perm} must lie in 16..1024")
        return self


def shingle_hashes(texts: list[str] | pa.Array, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, offsets)``: the uint64 hashes of every text's word n-grams, flat, with row
    offsets (text ``i`` owns ``hashes[offsets[i]:offsets[i+1]]``; an empty text owns one hash)."""
    array = pa.array(texts, pa.string()) if not isinstance(texts, pa.Array) else texts
    # separators to spaces, then a whitespace split: a third faster than a regex split in Arrow
    words = pc.utf8_split_whitespace(pc.replace_substring_regex(pc.utf8_lower(pc.fill_null(array, "")), _WORD, " "))
    flat = pc.list_flatten(words)
    keep = pc.not_equal(flat, "")
    parents = pc.list_parent_indices(words).to_numpy()
    keep_np = keep.to_numpy(zero_copy_only=False)
    flat, parents = flat.filter(keep), parents[keep_np]
    encoded = pc.dictionary_encode(flat).combine_chunks() if isinstance(flat, pa.ChunkedArray) else pc.dictionary_encode(flat)
    vocab = encoded.dictionary.to_pylist()
    word_hash = np.fromiter((int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
                             for w in vocab), dtype=np.uint64, count=len(vocab))
    h = word_hash[encoded.indices.to_numpy()] if len(vocab) else np.zeros(0, dtype=np.uint64)
    n = len(array)
    counts = np.bincount(parents, minlength=n) if len(parents) else np.zeros(n, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    length = np.repeat(counts, counts)  # each word: the word count of its text
    position = np.arange(len(h)) - np.repeat(starts[:-1], counts)
    # the n-gram starting at each word, cut at the end of its text
    shingle = h.copy()
    with np.errstate(over="ignore"):
        for k in range(1, ngram):
            ahead = np.zeros_like(h)
            ahead[:-k or None] = h[k:]
            shingle = np.where(position + k < length, shingle * _MIX + ahead, shingle)
    keep_words = (position + ngram <= length) | ((position == 0) & (length < ngram))
    out = shingle[keep_words]
    owner = np.repeat(np.arange(n), counts)[keep_words]
    empty = np.flatnonzero(np.bincount(owner, minlength=n) == 0)
    if len(empty):  # no words at all: one constant shingle, so empty texts match each other
        owner = np.concatenate([owner, empty])
        out = np.concatenate([out, np.zeros(len(empty), np.uint64)])
        order = np.argsort(owner, kind="stable")
        out, owner = out[order], owner[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.uint64)
    return np.ascontiguousarray(out, dtype=np.uint64), offsets


def signatures(texts: list[str] | pa.Array, settings: MinHashSettings) -> np.ndarray:
    """uint32 ``[n, num_perm]`` MinHash signatures of the texts' word n-gram sets, computed
    ``BATCH`` texts at a time so memory holds one batch's n-grams, not the whole corpus's."""
    from rensa import RMinHash

    out = np.zeros((len(texts), settings.num_perm), dtype=np.uint32)
    for start in range(0, len(texts), BATCH):
        hashes, offsets = shingle_hashes(texts[start:start + BATCH], settings.ngram)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, settings.num_perm, settings.seed)
        out[start:start + len(offsets) - 1] = np.asarray(matrix.to_rows(), dtype=np.uint32)
    return out


@functools.cache
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
                  ) -> tuple[int, int]:
    """``(bands, rows)`` minimising the weighted false-positive and false-negative areas of the
    LSH S-curve around ``threshold`` (datasketch's rule, integrated numerically)."""
    s_low = np.linspace(0.0, threshold, 200)
    s_high = np.linspace(threshold, 1.0, 200)
    best, best_cost = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - s_low ** r) ** b, s_low)
            fn = np.trapezoid((1 - s_high ** r) ** b, s_high)
            cost = fp_weight * fp + fn_weight * fn
            if cost < best_cost:
                best, best_cost = (b, r), cost
    return best


def candidate_pairs(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """int64 ``[m, 2]`` pairs ``(i, j)``, ``i < j``, sharing at least one band bucket: each
    bucket member paired with the bucket's first row (enough for connected components)."""
    n = len(sigs)
    found = []
    rng = np.random.default_rng(12345)
    mult = rng.integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):
        for b in range(bands):
            block = sigs[:, b * rows:(b + 1) * rows].astype(np.uint64)
            keys = (block * mult).sum(axis=1, dtype=np.uint64) if rows > 1 else block[:, 0]
            order = np.argsort(keys, kind="stable")
            sorted_keys = keys[order]
            new_run = np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]])
            run_id = np.cumsum(new_run) - 1
            heads = order[np.flatnonzero(new_run)]
            members = ~new_run
            if members.any():
                found.append(np.stack([heads[run_id[members]], order[members]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs.sort(axis=1)
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs
    return pairs[pairs[:, 0] != pairs[:, 1]] if n else pairs


def agreement(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each pair: the share of equal signature positions."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float32)
    out = np.empty(len(pairs), dtype=np.float32)
    step = 1 << 16
    for s in range(0, len(pairs), step):
        p = pairs[s:s + step]
        out[s:s + step] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return out


def similar_pairs(texts: list[str] | pa.Array, settings: MinHashSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pairs, similarities, signatures)``: verified pairs at or above the threshold."""
    settings.check()
    sigs = signatures(texts, settings)
    bands, rows = optimal_bands(settings.threshold, settings.num_perm)
    pairs = candidate_pairs(sigs, bands, rows)
    sims = agreement(sigs, pairs)
    keep = sims >= settings.threshold
    return pairs[keep], sims[keep], sigs
