"""BM25 lexical search over ``(docid, text)`` pairs, and reciprocal-rank fusion for hybrid search.

Why bm25s (docs/benchmarks.md, "Lexical search: library choice", has the figures): it is an
eager BM25 index, one sparse matrix of precomputed per-(term, document) scores, saved as
plain ``.npy`` arrays that load memory-mapped. Its bytes depend only on the documents and
their order, so the same corpus version gives the same files and the same rankings in any
process; tantivy writes segments with random ids from several threads, and DuckDB's
full-text extension cannot be installed offline.

What trajforge adds around the library, and why:
- A streamed build. ``bm25s.BM25.index`` wants every document's token list at once (as
  Python lists); here documents are tokenized ``batch_size`` at a time with bm25s's own
  ``Tokenizer`` and reduced to ``(doc, term, tf)`` int32/float32 arrays, then scored with
  bm25s's Lucene idf/tf functions and laid out with its CSC builder. The result is the
  matrix ``BM25.index`` builds, to the bit (a test checks), in about half its time and
  memory at 1M pages (200 s and 4.8 GB against 420 s and 9 GB).
- Search in one small numba kernel: it sums the query terms' posting lists (the sum bm25s
  does) but only visits documents that match, and keeps the top ``k`` with ties broken by
  document order, where bm25s's ``argpartition``/heap selection leaves tie order open.
  Batches run on threads (the kernel releases the GIL), one accumulator per thread.

Tokenization (bm25s ``Tokenizer``): lowercase, runs of two or more unicode word characters,
bm25s's English stopwords, then the Snowball English stemmer (PyStemmer, a pure function of
the word, so deterministic), which lets "headquarters" find "headquartered". The stopword
list, pattern and stemmer are stored with the index, so queries are always cut like the
documents were. ``stemmer=None`` at build time turns stemming off. BM25 is Lucene's variant
with k1=1.2, b=0.75 (Lucene's and tantivy's defaults).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numba
import numpy as np
import orjson
import Stemmer
from bm25s.scoring import _build_idf_array, _np_csc_jit_ready, _score_idf_lucene, _score_tfc_lucene
from bm25s.stopwords import STOPWORDS_EN
from bm25s.tokenization import Tokenizer

FORMAT = "trajforge-lexical"
FORMAT_VERSION = 1
#: Where ``files()`` puts the index inside a dataset version.
FILES_DIR = "index/lexical"
META_FILE = "lexical.json"
DOCIDS_FILE = "docids.json"
K1, B = 1.2, 0.75
SPLITTER = r"(?u)\b\w\w+\b"
_SCORE_CHUNK = 8_000_000  # postings scored per step: bounds the float64 temporaries
# Threads pay only when the kernel's share of a query is large: many queries, and posting
# lists long enough (a big corpus). Below either, they add contention (bench/search.py).
_THREADS_MIN_QUERIES, _THREADS_MIN_DOCS = 32, 50_000

# bm25s's counting-sort CSC builder, compiled once per machine rather than per BM25 object.
_csc = numba.njit(cache=True, nogil=True)(_np_csc_jit_ready)


@numba.njit(cache=True, nogil=True)
def _top_k(data, indices, indptr, terms, k, acc):  # pragma: no cover - compiled
    """Best ``k`` (score desc, document asc) of the documents matching ``terms``.

    ``acc`` is a zeroed float32 array, one slot per document, and is zeroed again on return:
    each matching document is visited once (its slot reset on the first visit), so the cost
    is the length of the posting lists, not the corpus size. Every stored score is positive
    (Lucene idf > 0, tf > 0), so a zero slot means "not matched or already seen".
    """
    for t in terms:
        for j in range(indptr[t], indptr[t + 1]):
            acc[indices[j]] += data[j]
    best_s = np.empty(k, np.float32)
    best_d = np.empty(k, np.int64)
    m = 0
    for t in terms:
        for j in range(indptr[t], indptr[t + 1]):
            d = indices[j]
            s = acc[d]
            if s == 0.0:
                continue
            acc[d] = 0.0
            if m == k and (s < best_s[k - 1] or (s == best_s[k - 1] and d > best_d[k - 1])):
                continue
            p = m if m < k else k - 1
            while p > 0 and (best_s[p - 1] < s or (best_s[p - 1] == s and best_d[p - 1] > d)):
                best_s[p] = best_s[p - 1]
                best_d[p] = best_d[p - 1]
                p -= 1
            best_s[p] = s
            best_d[p] = d
            if m < k:
                m += 1
    return best_s[:m], best_d[:m]


@dataclass(frozen=True, slots=True)
class _Analyzer:
    """How text becomes terms; stored with the index so queries match the documents."""

    stopwords: tuple[str, ...]
    stemmer: str | None
    splitter: str = SPLITTER

    def tokenizer(self, vocab: dict[str, int] | None = None) -> Tokenizer:
        stem = Stemmer.Stemmer(self.stemmer).stemWord if self.stemmer else None
        tok = Tokenizer(lower=True, splitter=self.splitter, stopwords=list(self.stopwords), stemmer=stem)
        if vocab is not None:  # a loaded index: the term ids are the vocabulary's
            if stem is None:
                tok.word_to_id = vocab
            else:
                tok.stem_to_sid = vocab
        return tok


class LexicalIndex:
    """BM25 over (docid, text) pairs; docids are strings."""

    def __init__(self, bm25: bm25s.BM25, docids: list[str], analyzer: _Analyzer):
        self._bm25 = bm25
        self._docids = docids
        self._analyzer = analyzer
        self._tokenizer = analyzer.tokenizer(bm25.vocab_dict)
        self._lock = threading.Lock()  # the tokenizer caches stems in dicts as it goes
        self._local = threading.local()  # one score accumulator per thread
        s = bm25.scores
        self._arrays = (s["data"], s["indices"], s["indptr"])

    @classmethod
    def build(cls, docs: Iterable[tuple[str, str]], *, batch_size: int = 50_000,
              stemmer: str | None = "english") -> LexicalIndex:
        """Index ``docs`` in order; a document's position breaks score ties.

        Streams: only ``batch_size`` texts (and their token lists) are held at a time.
        Across the whole build it holds the docids, the vocabulary, and (document, term, tf)
        arrays of 12 bytes per distinct term of a document (about 110 per encyclopedia page
        in bench/search.py); the finished index keeps 8 bytes per such pair. Peak at 1M
        pages: about 4.7 GB.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if stemmer is not None and stemmer not in Stemmer.algorithms():
            raise ValueError(f"unknown stemmer {stemmer!r}: use None or one of {Stemmer.algorithms()}")
        analyzer = _Analyzer(tuple(STOPWORDS_EN), stemmer)
        tokenizer = analyzer.tokenizer()
        docids: list[str] = []
        seen: set[str] = set()
        rows, cols, tfs, lengths = [], [], [], []
        it = iter(docs)
        while batch := list(itertools.islice(it, batch_size)):
            texts = []
            for i, pair in enumerate(batch, start=len(docids)):
                docid, text = _check_doc(pair, i)
                if docid in seen:
                    raise ValueError(f"document {i}: docid {docid!r} appears twice; docids must be unique")
                seen.add(docid)
                docids.append(docid)
                texts.append(text)
            first = len(docids) - len(batch)
            token_ids = list(tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False))
            lens = np.fromiter(map(len, token_ids), np.int64, len(token_ids))
            flat = np.fromiter(itertools.chain.from_iterable(token_ids), np.int64, int(lens.sum()))
            pairs, tf = np.unique(np.repeat(np.arange(first, len(docids), dtype=np.int64), lens) << 32 | flat,
                                  return_counts=True)  # sorted by document, then term
            rows.append((pairs >> 32).astype(np.int32))
            cols.append((pairs & 0xFFFFFFFF).astype(np.int32))
            tfs.append(tf.astype(np.float32))
            lengths.append(lens)
        if not docids:
            raise ValueError("cannot build a lexical index from no documents")
        vocab = dict(tokenizer.get_vocab_dict())
        bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        bm25.scores = _score_matrix(_cat(rows), _cat(cols), _cat(tfs), _cat(lengths), len(vocab))
        bm25.vocab_dict = vocab
        bm25.unique_token_ids_set = set(vocab.values())
        bm25.nonoccurrence_array = None
        return cls(bm25, docids, analyzer)

    def save(self, path: Path) -> None:
        """A plain bm25s index (``bm25s.BM25.load`` reads it) plus docids and the analyzer."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._bm25.save(path, show_progress=False)
        (path / DOCIDS_FILE).write_bytes(orjson.dumps(self._docids))
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "num_docs": len(self._docids),
                "bm25s_version": bm25s.__version__, "stemmer": self._analyzer.stemmer,
                "splitter": self._analyzer.splitter, "stopwords": list(self._analyzer.stopwords)}
        (path / META_FILE).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Open a saved index; the score arrays stay on disk, memory-mapped read-only."""
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path} not found: {path} is not a saved LexicalIndex "
                                    f"(save one with LexicalIndex.save)")
        meta = orjson.loads(meta_path.read_bytes())
        if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{meta_path}: format {meta.get('format')!r} v{meta.get('format_version')} "
                             f"is not readable here ({FORMAT} v{FORMAT_VERSION} or older)")
        bm25 = bm25s.BM25.load(path, mmap=True, show_progress=False)
        docids = orjson.loads((path / DOCIDS_FILE).read_bytes())
        if len(docids) != meta["num_docs"] or bm25.scores["num_docs"] != len(docids):
            raise ValueError(f"{path}: {len(docids)} docids for {bm25.scores['num_docs']} indexed "
                             f"documents (meta says {meta['num_docs']}); the folder is damaged")
        return cls(bm25, docids, _Analyzer(tuple(meta["stopwords"]), meta["stemmer"], meta["splitter"]))

    def files(self) -> dict[str, bytes]:
        """Relative path (under ``FILES_DIR``) -> bytes, for a dataset version's ``files``."""
        with tempfile.TemporaryDirectory() as tmp:
            self.save(Path(tmp))
            return {f"{FILES_DIR}/{p.name}": p.read_bytes() for p in sorted(Path(tmp).iterdir())}

    @classmethod
    def from_files(cls, folder: Path) -> LexicalIndex:
        """The index stored by ``files()`` in a dataset version's folder."""
        return cls.load(Path(folder) / FILES_DIR)

    def __len__(self) -> int:
        return len(self._docids)

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Top ``k`` ``(docid, score)``, best first, ties to the earlier document.

        Only documents sharing a term with the query are returned, so an empty query, or
        one of stopwords and unknown words only, gives ``[]``.
        """
        return self._rank(self._terms([query])[0], _check_k(k), self._accumulator())

    def search_many(self, queries: list[str], k: int = 10) -> list[list[tuple[str, float]]]:
        """``[search(q, k) for q in queries]``, on one thread per core for large batches
        over large indexes (the kernel releases the GIL)."""
        k = _check_k(k)
        terms = self._terms(queries)
        workers = min(len(os.sched_getaffinity(0)), len(terms) // _THREADS_MIN_QUERIES)
        if workers <= 1 or len(self._docids) < _THREADS_MIN_DOCS:
            acc = self._accumulator()
            return [self._rank(t, k, acc) for t in terms]
        chunks = [terms[i::workers] for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda chunk: [self._rank(t, k, self._accumulator()) for t in chunk], chunks))
        return [parts[i % workers][i // workers] for i in range(len(terms))]

    def _terms(self, queries: list[str]) -> list[np.ndarray]:
        for i, q in enumerate(queries):
            if not isinstance(q, str):
                raise TypeError(f"query {i} is {type(q).__name__}, expected str")
        with self._lock:
            ids = list(self._tokenizer.streaming_tokenize(queries, update_vocab=False, allow_empty=False))
        return [np.asarray(t, dtype=np.int64) for t in ids]

    def _accumulator(self) -> np.ndarray:
        acc = getattr(self._local, "acc", None)
        if acc is None:
            acc = self._local.acc = np.zeros(len(self._docids), dtype=np.float32)
        return acc

    def _rank(self, terms: np.ndarray, k: int, acc: np.ndarray) -> list[tuple[str, float]]:
        if len(terms) == 0:
            return []
        scores, docs = _top_k(*self._arrays, terms, k, acc)
        return [(self._docids[d], s) for d, s in zip(docs.tolist(), scores.tolist(), strict=True)]


def rrf(rankings: list[list[tuple[str, float]]], k: int = 60, topn: int = 10) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: a document scores ``sum(1 / (k + rank))`` over the rankings
    that contain it (rank 1 is the best; a ranking's scores are ignored, so lexical and
    dense scores need no common scale). Best ``topn`` first; ties go to the smaller docid.
    A docid listed twice in one ranking counts at its better rank."""
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    if topn < 1:
        raise ValueError(f"rrf topn must be >= 1, got {topn}")
    fused: dict[str, float] = {}
    for ranking in rankings:
        seen: set[str] = set()
        for rank, (docid, _score) in enumerate(ranking, start=1):
            if docid not in seen:
                seen.add(docid)
                fused[docid] = fused.get(docid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:topn]


def _check_doc(pair: object, i: int) -> tuple[str, str]:
    if not (isinstance(pair, tuple | list) and len(pair) == 2):
        raise TypeError(f"document {i} is {type(pair).__name__}, expected a (docid, text) pair")
    docid, text = pair
    if not isinstance(docid, str) or not docid:
        raise TypeError(f"document {i}: docid {docid!r} must be a non-empty string")
    if not isinstance(text, str):
        raise TypeError(f"document {i} ({docid!r}): text is {type(text).__name__}, expected str")
    return docid, text


def _check_k(k: int) -> int:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return k


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    out = np.concatenate(parts)
    parts.clear()  # drop the batch arrays as soon as they are copied
    return out


def _score_matrix(rows: np.ndarray, cols: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
                  n_terms: int) -> dict:
    """bm25s's eager score matrix (``BM25.build_index_from_ids`` with method="lucene"),
    computed from (document, term, tf) triples sorted by document: the same formulas in the
    same float order, hence the same bits."""
    n_docs = len(lengths)
    df = np.bincount(cols, minlength=n_terms)
    idf = _build_idf_array(dict(enumerate(df.tolist())), n_docs, _score_idf_lucene, dtype="float32")
    avg = lengths.mean()
    data = np.empty(len(rows), np.float32)
    for lo in range(0, len(rows), _SCORE_CHUNK):
        part = slice(lo, lo + _SCORE_CHUNK)
        tfc = _score_tfc_lucene(tf[part], lengths[rows[part]], avg, K1, B)
        data[part] = idf[cols[part]] * tfc
    data, indices, indptr = _csc(data, rows, cols, (n_docs, n_terms))
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
