"""Decontamination: find training rows that contain, or closely paraphrase, an evaluation item.

Two detectors, each reporting which evaluation item a row matched:

- ``ngram``: datatrove's n-gram decontamination. Every word n-gram (13 by default) of every
  evaluation item goes into a hash set; a training row that shares any n-gram with an item is
  contaminated by it. An item shorter than ``n`` words is matched as a whole (its own length
  is the n-gram size), so a short benchmark question copied into a task is still caught.
  Hashing is :func:`filters.minhash.shingle_hashes` (the same words and n-gram hash as dedup).
  As in NeMo Curator, an n-gram found in more than ``max_matches`` training rows is ignored:
  it is boilerplate (a generator's answer-format line, a benchmark's instruction template),
  and without this one templated evaluation item would flag every row of its family. And a
  row is flagged by an item only when it holds at least ``min_overlap`` of the item's distinct
  informative (not boilerplate) n-grams (0 gives datatrove's any-shared-n-gram rule): generated tasks share template
  sentences, which are not leaks of a question, while a copied question shares nearly all.
- ``embedding``: the cosine of a row's text to its nearest evaluation item, flagged at or
  above a threshold: paraphrases that share no 13 words.

Flagged rows are removed or tagged (``scores['contamination']``: 1.0 for an n-gram hit,
the cosine for an embedding hit, 0.0 for a clean row), and the report lists every match: row
id, evaluation source and item id, method, overlap (the share of the item's n-grams the row
holds, or the cosine) and the
evidence (the first shared n-gram, as the row spells it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa

from filters.dedup import exact_dedup
from filters.minhash import shingle_hashes
from stores.embeddings import Embedder
from stores.names import Ref
from stores.schema import with_score
from stores.selection import publish_selection
from stores.store import NotFoundError, Store, VersionInfo
from stores.text_files import read_texts
from stores.text_views import view_texts

MATCHES_FILE = "decontam/matches.parquet"
MATCHES_SCHEMA = pa.schema([
    ("id", pa.string()), ("eval_source", pa.string()), ("eval_id", pa.string()), ("method", pa.string()),
    ("overlap", pa.float32()), ("evidence", pa.string()),
])
MODES = ("remove", "tag")
_WORDS = re.compile(r"[a-z0-9]+")


class DecontaminationError(ValueError):
    """Evaluation sets or settings that cannot be used; nothing is published."""


@dataclass
class EvalSet:
    source: str  # the file or version it came from
    ids: list[str]
    texts: list[str]


@dataclass(frozen=True)
class DecontamSettings:
    ngram: int = 13
    max_matches: int = 10  # an n-gram in more training rows than this is boilerplate, not a leak
    min_overlap: float = 0.5  # share of an item's distinct n-grams a row must hold
    embedder: Embedder | None = None  # None: n-grams only
    threshold: float = 0.9
    view: str = "trajectory"
    budget: int = 100_000  # the whole text: a leak may sit anywhere in it
    methods: tuple[str, ...] = field(default=("ngram",))

    def check(self) -> DecontamSettings:
        if not 1 <= self.ngram <= 64:
            raise DecontaminationError(f"n-gram size {self.ngram} must lie in 1..64")
        if not 0.0 <= self.min_overlap <= 1.0:
            raise DecontaminationError(f"min_overlap {self.min_overlap} must lie in [0, 1]")
        if self.max_matches < 1:
            raise DecontaminationError(f"max_matches must be at least 1, got {self.max_matches}")
        if not -1.0 <= self.threshold <= 1.0:
            raise DecontaminationError(f"threshold {self.threshold} is outside [-1, 1]: it is a cosine similarity")
        unknown = set(self.methods) - {"ngram", "embedding"}
        if unknown or not self.methods:
            raise DecontaminationError(f"methods must be among ['ngram', 'embedding'], got {list(self.methods)}")
        if "embedding" in self.methods and self.embedder is None:
            raise DecontaminationError("the embedding method needs an embedder (e.g. 'minilm' or 'hashing')")
        if self.view == "step":
            raise DecontaminationError("decontamination keeps or drops whole trajectories: use the 'task' or "
                                       "'trajectory' view")
        return self


def load_eval_set(store: Store, spec: str, field: str = "text") -> EvalSet:
    """An evaluation set from a JSONL/Parquet file (its ``field``) or a catalog version (its
    tasks' instructions: what a benchmark item asks)."""
    path = Path(spec)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".parquet") or path.exists():
        ids, texts = read_texts(path, field)
        return EvalSet(str(path), ids, texts)
    try:
        info = store.resolve(Ref.parse(spec))
    except (NotFoundError, ValueError) as e:
        raise DecontaminationError(f"evaluation set {spec!r} is neither a file nor a version: {e}") from None
    table = store.read(info, ["id", "task"])
    if table.num_rows == 0:
        raise DecontaminationError(f"evaluation version {info.ref} holds no rows")
    return EvalSet(info.ref, table["id"].to_pylist(), [t["instruction"] for t in table["task"].to_pylist()])


def find_contamination(table: pa.Table, evals: list[EvalSet], settings: DecontamSettings) -> pa.Table:
    """Every (row, evaluation item) match, :data:`MATCHES_SCHEMA`."""
    settings.check()
    if not evals:
        raise DecontaminationError("no evaluation sets given")
    ids, texts = view_texts(table, settings.view, settings.budget)
    parts = []
    if "ngram" in settings.methods:
        parts.append(_ngram_matches(ids, texts, evals, settings))
    if "embedding" in settings.methods:
        parts.append(_embedding_matches(ids, texts, evals, settings))
    return pa.concat_tables(parts).sort_by([("id", "ascending"), ("method", "descending")])


def _ngram_matches(ids: list[str], texts: list[str], evals: list[EvalSet], settings: DecontamSettings) -> pa.Table:
    n, max_matches = settings.ngram, settings.max_matches
    eval_texts = [t for e in evals for t in e.texts]
    item_source = np.array([e.source for e in evals for _ in e.ids], dtype=object)
    item_id = np.array([i for e in evals for i in e.ids], dtype=object)
    lengths = np.array([len(_WORDS.findall(t.lower())) for t in eval_texts])
    rows = []
    for size in sorted({min(n, int(length)) for length in lengths if length > 0}):  # no words: nothing to find
        items = np.flatnonzero((np.minimum(n, lengths) == size) & (lengths > 0))
        e_hash, e_off = shingle_hashes([eval_texts[i] for i in items], size)
        e_owner = items[np.repeat(np.arange(len(items)), np.diff(e_off).astype(np.int64))]
        e_pairs = np.unique(np.stack([e_hash, e_owner.astype(np.uint64)], axis=1), axis=0)
        e_hash, e_owner = e_pairs[:, 0], e_pairs[:, 1].astype(np.int64)  # sorted by hash, one per item
        t_hash, t_off = shingle_hashes(texts, size)
        t_owner = np.repeat(np.arange(len(texts)), np.diff(t_off).astype(np.int64))
        t_pos = np.arange(len(t_hash)) - t_off[:-1].astype(np.int64)[t_owner]
        hit = np.isin(t_hash, e_hash)
        common = _boilerplate(t_hash[hit], t_owner[hit], max_matches)
        hit[hit] = ~np.isin(t_hash[hit], common)
        # an item's informative n-grams: its distinct ones that are not boilerplate
        distinct = np.bincount(e_owner[~np.isin(e_hash, common)], minlength=len(eval_texts))
        if not hit.any():
            continue
        # every (row n-gram, item) pair: an n-gram hash may belong to several items
        lo = np.searchsorted(e_hash, t_hash[hit], side="left")
        hi = np.searchsorted(e_hash, t_hash[hit], side="right")
        reps = hi - lo
        which = np.repeat(lo, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
        pairs = np.stack([np.repeat(t_owner[hit], reps), e_owner[which], np.repeat(t_pos[hit], reps),
                          which], axis=1)
        # one match per (row, item): the share of the item's distinct n-grams the row holds
        pairs = pairs[np.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))]
        shared = np.unique(pairs[:, [0, 1, 3]], axis=0)[:, :2]
        keys, counts = np.unique(shared, axis=0, return_counts=True)
        _, first = np.unique(pairs[:, :2], axis=0, return_index=True)
        share = counts / distinct[keys[:, 1]]
        for (row, item), at, value in zip(keys, pairs[first, 2], share, strict=True):
            if value < settings.min_overlap:
                continue
            words = _WORDS.findall(texts[row].lower())
            rows.append({"id": ids[row], "eval_source": item_source[item], "eval_id": item_id[item],
                         "method": "ngram", "overlap": float(value), "evidence": " ".join(words[at:at + size])})
    return pa.Table.from_pylist(rows, schema=MATCHES_SCHEMA)


def _boilerplate(hashes: np.ndarray, owners: np.ndarray, max_matches: int) -> np.ndarray:
    """The n-gram hashes found in more than ``max_matches`` distinct rows."""
    if len(hashes) == 0:
        return hashes
    pairs = np.unique(np.stack([hashes, owners.astype(np.uint64)], axis=1), axis=0)
    values, counts = np.unique(pairs[:, 0], return_counts=True)
    return values[counts > max_matches]


def _embedding_matches(ids: list[str], texts: list[str], evals: list[EvalSet], settings: DecontamSettings
                       ) -> pa.Table:
    eval_texts = [t for e in evals for t in e.texts]
    item_source = [e.source for e in evals for _ in e.ids]
    item_id = [i for e in evals for i in e.ids]
    index = faiss.IndexFlatIP(settings.embedder.dim)
    index.add(np.ascontiguousarray(settings.embedder.embed(eval_texts), dtype=np.float32))
    sims, nearest = index.search(np.ascontiguousarray(settings.embedder.embed(texts), dtype=np.float32), 1)
    flagged = np.flatnonzero(sims[:, 0] >= settings.threshold)
    rows = [{"id": ids[r], "eval_source": item_source[nearest[r, 0]], "eval_id": item_id[nearest[r, 0]],
             "method": "embedding", "overlap": float(sims[r, 0]), "evidence": eval_texts[nearest[r, 0]][:200]}
            for r in flagged]
    return pa.Table.from_pylist(rows, schema=MATCHES_SCHEMA)


def apply_contamination(table: pa.Table, matches: pa.Table, mode: str) -> pa.Table:
    """Remove the matched rows, or tag every row with ``scores['contamination']``."""
    if mode not in MODES:
        raise DecontaminationError(f"unknown mode {mode!r}; use one of {list(MODES)}")
    level: dict[str, float] = {}
    for m in matches.to_pylist():
        value = 1.0 if m["method"] == "ngram" else m["overlap"]
        level[m["id"]] = max(level.get(m["id"], 0.0), value)
    ids = table["id"].to_pylist()
    if mode == "remove":
        return table.filter(pa.array([i not in level for i in ids]))
    return with_score(table, "contamination", [level.get(row_id, 0.0) for row_id in ids])


def decontaminate_versions(store: Store, sources: list[VersionInfo], out: str, evals: list[EvalSet],
                           settings: DecontamSettings, mode: str = "remove", tags: list[str] | None = None
                           ) -> tuple[VersionInfo, pa.Table]:
    """Decontaminate ``sources`` against ``evals`` and publish the result as a new version of
    ``out`` (lineage role ``decontamination``), the matches in ``decontam/matches.parquet``."""
    if mode not in MODES:
        raise DecontaminationError(f"unknown mode {mode!r}; use one of {list(MODES)}")
    for info in sources:
        if info.kind != "trajectories":
            raise DecontaminationError(f"{info.ref} holds {info.kind}, not trajectories")
    table, _ = exact_dedup(pa.concat_tables([store.read(info) for info in sources]))  # a row in two sources once
    matches = find_contamination(table, evals, settings)
    rows = apply_contamination(table, matches, mode)
    params = {"decontamination": {
        "mode": mode, "methods": list(settings.methods), "ngram": settings.ngram,
        "max_matches": settings.max_matches, "min_overlap": settings.min_overlap, "view": settings.view,
        "threshold": settings.threshold if "embedding" in settings.methods else None,
        "embedder": settings.embedder.id if settings.embedder is not None and "embedding" in settings.methods else None,
        "eval_sets": [{"source": e.source, "items": len(e.ids)} for e in evals],
        "rows_in": table.num_rows, "rows_flagged": len(set(matches["id"].to_pylist())), "rows_out": rows.num_rows}}
    info = publish_selection(store, out, rows, sources, "decontamination", params=params,
                             explain={MATCHES_FILE: matches}, tags=tags)
    return info, matches


class ContaminationFound(DecontaminationError):
    """The pipeline's gate in ``fail`` mode found evaluation items in the run's rows."""


def decontamination_gate(table: pa.Table, evals: list[EvalSet], settings: DecontamSettings, mode: str
                         ) -> tuple[pa.Table, pa.Table]:
    """The pipeline's check before publish: ``(rows, matches)``, the rows removed or tagged;
    in ``fail`` mode any match stops the run before anything is published."""
    matches = find_contamination(table, evals, settings)
    if mode == "fail":
        if matches.num_rows:
            first = matches.to_pylist()[:3]
            raise ContaminationFound(
                f"{len(set(matches['id'].to_pylist()))} rows contain evaluation items, e.g. "
                + "; ".join(f"{m['id']} matches {m['eval_source']} item {m['eval_id']} ({m['evidence']!r})"
                            for m in first)
                + ". Nothing was published; set decontaminate.mode to remove or tag to publish anyway.")
        return table, matches
    return apply_contamination(table, matches, mode), matches
