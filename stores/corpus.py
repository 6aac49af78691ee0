"""Corpora as versioned datasets: documents, the tables their source supplies beside them, and
their search indexes, published atomically and opened once per process.

A corpus version (``Store.publish(..., schema_kind="corpus")``) holds:

- ``data/``: the documents, ``docid, url, title, text`` (the OpenResearcher layout);
- further tables the source supplies (a generated world's ``facts/`` and ``entities/``, from
  ``synth.research.world``); none for a bring-your-own corpus;
- ``index/lexical/``: the BM25 index (:mod:`stores.lexical`), over title + text;
- ``index/dense/``: optional, a FAISS index of hashed embeddings of title + lead text.

The manifest's ``params.corpus`` records the source (the world spec, or the imported file with
its sha256), a content fingerprint of the documents and the search setup, so a trajectory's
provenance (its task's ``env.corpus``) names the exact corpus it browsed, and
:func:`ensure_corpus` reuses a version built from the same source instead of rebuilding it.

Why sources are data: ``stores/`` keeps corpora but does not know how one is made. A source
is anything with a ``signature()`` (what identifies its content, for reuse) and ``batches()``
(named record batches: ``docs`` for the documents, any other name for a table stored beside
them); the research engine supplies generated worlds this way and reads its own tables back
with :meth:`Corpus.table` and :meth:`Corpus.derived`.

Why documents are rendered from Arrow columns and not Python objects: an episode opens a
handful of pages out of 10,000 or 1,000,000; the corpus keeps the columns it read from Parquet
and splits a page into lines only when it is opened (with a small LRU cache), so a worker
process opens a corpus in well under a second and stays small.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stores.docs import DOCS_SCHEMA, DocsError, validate_docs
from stores.embeddings import HashingEmbedder
from stores.lexical import LexicalIndex, rrf
from stores.names import Ref
from stores.store import NotFoundError, Store, StoreError, VersionInfo
from stores.vector_index import VectorIndex

DENSE_INDEX = "index/dense/docs.faiss"
DENSE_META = "index/dense/meta.json"
DENSE_DIM = 256
DENSE_CHARS = 600  # title + the start of the text: what the hashed embedding sees
BATCH_ROWS = 20_000
SEARCH_MODES = ("bm25", "dense", "hybrid")
_RRF_DEPTH = 50  # each ranking fused by hybrid search lists this many documents


class CorpusError(ValueError):
    """A corpus source or reference is unusable; the message says why and how to fix it."""


# ---------------------------------------------------------------------------- sources


DOCS = "docs"  # the batch name of documents in a source's stream


class Source(Protocol):
    """What a corpus is built from: its identity and its data, as named record batches."""

    def signature(self) -> dict[str, Any]:
        """JSON-able identity of the content: equal signatures mean the same corpus."""

    def batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        """``(table, batch)`` pairs: ``docs`` batches hold the documents (:data:`DOCS_SCHEMA`),
        any other name is a table stored beside them, in the order its batches come."""


@dataclass(frozen=True)
class Imported:
    """A bring-your-own corpus: a Parquet or JSONL file with ``docid, url, title, text``."""

    path: str

    def signature(self) -> dict[str, Any]:
        path = Path(self.path)
        if not path.is_file():
            raise CorpusError(f"corpus file {path} does not exist; give a .parquet or .jsonl file with columns "
                              f"{DOCS_SCHEMA.names}")
        return {"import": {"file": path.name, "bytes": path.stat().st_size, "sha256": _file_sha256(path)}}

    def batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        for batch in read_byo(self.path):
            yield DOCS, batch


def read_byo(path: str | os.PathLike[str], batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Stream a bring-your-own corpus in record batches of ``docid, url, title, text``.

    Parquet is read batch by batch (only the four columns); JSONL line by line. Non-string
    docids (numbers) become strings; url and title may be missing or null. Duplicate docids,
    a missing docid or text, unreadable lines and unknown formats are refused with the file,
    line or row, and what to change.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"corpus file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        batches = _parquet_batches(path, batch_rows)
    elif suffix in (".jsonl", ".ndjson"):
        batches = _jsonl_batches(path, batch_rows)
    else:
        raise CorpusError(f"{path}: unknown corpus format {suffix!r}; use .parquet or .jsonl (one JSON object "
                          f"per line with keys {DOCS_SCHEMA.names})")
    seen: set[str] = set()
    offset = 0
    for batch in batches:
        try:
            validate_docs(pa.Table.from_batches([batch]), f"{path} rows {offset}-{offset + batch.num_rows - 1}")
        except DocsError as e:
            raise CorpusError(str(e)) from None
        for i, docid in enumerate(batch["docid"].to_pylist()):
            if docid in seen:
                raise CorpusError(f"{path}: docid {docid!r} at row {offset + i} appears earlier in the file; "
                                  "docids must be unique")
            seen.add(docid)
        offset += batch.num_rows
        yield batch
    if offset == 0:
        raise CorpusError(f"{path} holds no documents")


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise CorpusError(f"{path} is not a readable Parquet file: {e}") from e
    names = file.schema_arrow.names
    missing = [c for c in ("docid", "text") if c not in names]
    if missing:
        raise CorpusError(f"{path}: missing column(s) {missing}; a corpus needs {DOCS_SCHEMA.names} "
                          f"(url and title optional); the file has {names}")
    columns = [c for c in DOCS_SCHEMA.names if c in names]
    for batch in file.iter_batches(batch_size=batch_rows, columns=columns):
        yield _conform(batch, f"{path}")


def jsonl_objects(path: str | Path, error: type[Exception], expected: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream the JSON objects of a JSONL file, one line at a time, as ``(line number, object)``;
    blank lines are skipped, and a line that is not a JSON object raises ``error`` naming the
    file, the line and what was ``expected`` there."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise error(f"{where}: not valid JSON ({e})") from None
            if not isinstance(obj, dict):
                raise error(f"{where}: expected {expected}")
            yield number, obj


def _jsonl_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    rows: dict[str, list] = {c: [] for c in DOCS_SCHEMA.names}
    for number, obj in jsonl_objects(path, CorpusError, f"a JSON object with keys {DOCS_SCHEMA.names}"):
        where = f"{path} line {number}"
        for key in ("docid", "text"):
            if obj.get(key) is None:
                raise CorpusError(f"{where}: missing {key!r}; every document needs a docid and a text")
        docid = obj["docid"]
        if not isinstance(docid, str | int) or isinstance(docid, bool):
            raise CorpusError(f"{where}: docid must be a string or an integer, got {docid!r}")
        values = (str(docid), obj.get("url"), obj.get("title"), obj["text"])
        for key, value in zip(DOCS_SCHEMA.names, values, strict=True):
            if value is not None and not isinstance(value, str):
                raise CorpusError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
            rows[key].append(value)
        if len(rows["docid"]) == batch_rows:
            yield pa.RecordBatch.from_pydict(rows, schema=DOCS_SCHEMA)
            rows = {c: [] for c in DOCS_SCHEMA.names}
    if rows["docid"]:
        yield pa.RecordBatch.from_pydict(rows, schema=DOCS_SCHEMA)


def _conform(batch: pa.RecordBatch, where: str) -> pa.RecordBatch:
    """The batch with the four corpus columns as strings (docids that are numbers cast)."""
    arrays = []
    for field in DOCS_SCHEMA:
        if field.name not in batch.schema.names:
            arrays.append(pa.nulls(batch.num_rows, pa.string()))
            continue
        column = batch[field.name]
        if column.type != pa.string():
            stringlike = pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type)
            if not (stringlike or (field.name == "docid" and pa.types.is_integer(column.type))):
                raise CorpusError(f"{where}: column {field.name!r} is {column.type}; it must hold strings"
                                  + (" (or integers, for docid)" if field.name == "docid" else ""))
            column = column.cast(pa.string())
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=DOCS_SCHEMA)


# ---------------------------------------------------------------------------- building


@dataclass
class BuiltCorpus:
    """Everything a corpus version stores, in memory, before it is published."""

    docs: pa.Table
    tables: dict[str, pa.Table]
    files: dict[str, bytes]
    fingerprint: str
    seconds: dict[str, float]


def build_corpus(source: Source, *, dense: bool = False) -> BuiltCorpus:
    """Documents (streamed into Arrow), the source's other tables and the indexes of ``source``."""
    import time

    t0 = time.perf_counter()
    digest = _ContentHash()
    streamed: dict[str, list[pa.RecordBatch]] = {DOCS: []}
    for name, batch in source.batches():
        if name == DOCS:
            if batch.schema != DOCS_SCHEMA:
                raise CorpusError(f"corpus source {source.signature()}: document batches must have the schema "
                                  f"{DOCS_SCHEMA}, got {batch.schema}")
            digest.update(batch)
        streamed.setdefault(name, []).append(batch)
    docs = pa.Table.from_batches(streamed.pop(DOCS), schema=DOCS_SCHEMA)
    if docs.num_rows == 0:
        raise CorpusError(f"corpus source {source.signature()} supplied no documents")
    tables = {name: pa.Table.from_batches(parts) for name, parts in streamed.items()}
    t1 = time.perf_counter()
    lexical = LexicalIndex.build(_index_texts(docs))
    files = lexical.files()
    t2 = time.perf_counter()
    if dense:
        files.update(_dense_files(docs))
    t3 = time.perf_counter()
    seconds = {"documents": round(t1 - t0, 3), "lexical_index": round(t2 - t1, 3), "dense_index": round(t3 - t2, 3)}
    return BuiltCorpus(docs, tables, files, digest.hexdigest(), seconds)


def _index_texts(docs: pa.Table) -> Iterator[tuple[str, str]]:
    """(docid, title + text): what the lexical index sees, a batch of Python strings at a time."""
    for batch in docs.to_batches(max_chunksize=BATCH_ROWS):
        titles = pc.fill_null(batch["title"], "")
        joined = pc.binary_join_element_wise(titles, batch["text"], "\n")
        yield from zip(batch["docid"].to_pylist(), joined.to_pylist(), strict=True)


def _dense_texts(docs: pa.Table) -> Iterator[list[str]]:
    for batch in docs.to_batches(max_chunksize=BATCH_ROWS):
        titles = pc.fill_null(batch["title"], "")
        heads = pc.utf8_slice_codeunits(batch["text"], 0, DENSE_CHARS)
        yield pc.binary_join_element_wise(titles, heads, "\n").to_pylist()


def _dense_files(docs: pa.Table) -> dict[str, bytes]:
    embedder = HashingEmbedder(DENSE_DIM)
    vectors = np.concatenate([embedder.embed(texts) for texts in _dense_texts(docs)])
    index = VectorIndex.build(vectors, docs["docid"].to_pylist(), embedder.id)
    return {DENSE_INDEX: faiss.serialize_index(index.index).tobytes(), DENSE_META: json.dumps(index.metadata()).encode()}


class _ContentHash:
    """sha256 of the documents' content, independent of how they were batched: one running
    hash per column over the value lengths and bytes, combined at the end."""

    def __init__(self) -> None:
        self._columns = {name: (hashlib.sha256(), hashlib.sha256()) for name in DOCS_SCHEMA.names}

    def update(self, batch: pa.RecordBatch) -> None:
        for name, (lengths, data) in self._columns.items():
            column = pc.fill_null(batch[name], "")
            offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset:column.offset + len(column) + 1]
            lengths.update(np.diff(offsets).astype("<i4").tobytes())
            data.update(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])

    def hexdigest(self) -> str:
        total = hashlib.sha256()
        for name, (lengths, data) in self._columns.items():
            total.update(f"{name}:{lengths.hexdigest()}:{data.hexdigest()};".encode())
        return total.hexdigest()


# ---------------------------------------------------------------------------- publishing


def publish_corpus(store: Store, name: str, source: Source, *, dense: bool = False,
                   tags: list[str] | None = None) -> VersionInfo:
    """Build ``source`` and publish it as a new version of dataset ``name``."""
    signature = source.signature()
    built = build_corpus(source, dense=dense)
    params = {"corpus": {"source": signature, "fingerprint": built.fingerprint, "dense": dense,
                         "lexical": "bm25s (stores.lexical)", "seconds": built.seconds,
                         "tables": sorted(built.tables)}}
    return store.publish(name, built.docs, schema_kind="corpus", tables=built.tables, files=built.files,
                         params=params, tags=tags)


def find_corpus(store: Store, name: str, source: Source, *, dense: bool = False) -> VersionInfo | None:
    """The newest version of ``name`` built from the same source and search setup, if any."""
    signature = source.signature()
    try:
        versions = store.versions(name)
    except NotFoundError:
        return None
    for info in reversed(versions):
        meta = info.manifest["params"].get("corpus", {})
        if info.kind == "corpus" and meta.get("source") == signature and meta.get("dense") == dense:
            return info
    return None


def ensure_corpus(store: Store, name: str, source: Source, *, dense: bool = False) -> VersionInfo:
    """The version of ``name`` built from ``source``: found, or built and published now."""
    return find_corpus(store, name, source, dense=dense) or publish_corpus(store, name, source, dense=dense)


def fingerprint_of(info: VersionInfo) -> str:
    if info.kind != "corpus":
        raise CorpusError(f"{info.ref} holds {info.kind}, not a corpus; publish one with `trajforge corpus build`")
    return info.manifest["params"]["corpus"]["fingerprint"]


# ---------------------------------------------------------------------------- the open corpus


class Corpus:
    """One corpus version, opened for browsing: documents by docid or url, lines of a page,
    BM25 / dense / hybrid search (results cached: every episode of a run searches the same
    names), and the source's other tables, with structures derived from them built once."""

    def __init__(self, store: Store, info: VersionInfo, docs: pa.Table, lexical: LexicalIndex,
                 dense: VectorIndex | None):
        self.info = info
        self.ref = info.ref
        self.fingerprint = fingerprint_of(info)
        self.lexical, self.dense = lexical, dense
        self.size = docs.num_rows
        self._docid = docs["docid"].combine_chunks()
        self._url = docs["url"].combine_chunks()
        self._title = docs["title"].combine_chunks()
        self._text = docs["text"].combine_chunks()
        self._docid_keys, self._docid_rows = _sorted_keys(self._docid)
        self._url_keys, self._url_rows = _sorted_keys(pc.fill_null(self._url, ""))
        self._store = store
        self._derived: dict[str, Any] = {}
        self._derived_lock = threading.Lock()
        self.lines = functools.lru_cache(maxsize=4096)(self._lines)
        self.row = functools.lru_cache(maxsize=262144)(self._row)  # search hits come back as docids
        self._search = functools.lru_cache(maxsize=65536)(self._ranked)

    def __repr__(self) -> str:
        extra = "".join(f", {name}" for name in self.table_names)
        return f"Corpus({self.ref}, {self.size} documents{extra})"

    # ------------------------------------------------------------------ stored tables

    @property
    def table_names(self) -> list[str]:
        """The tables stored beside the documents (a generated world's ``entities``, ``facts``)."""
        return sorted(t for t in self.info.manifest["tables"] if t != self.info.main_table)

    def table(self, name: str) -> pa.Table:
        if name not in self.table_names:
            raise CorpusError(f"{self.ref} stores no table {name!r}; it has {self.table_names or 'none'}")
        return self._store.read(self.info, table=name)

    def derived(self, key: str, build: Callable[[Corpus], Any]) -> Any:
        """``build(self)``, computed once per open corpus and shared by every caller of ``key``:
        how a reader keeps its own index of the stored tables (the research engine's fact base)."""
        with self._derived_lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]

    # ------------------------------------------------------------------ documents

    def _row(self, ref: str) -> int | None:
        """The document row of a docid or url, or None."""
        for keys, rows in ((self._docid_keys, self._docid_rows), (self._url_keys, self._url_rows)):
            i = int(np.searchsorted(keys, ref))
            if i < len(keys) and keys[i] == ref:
                return int(rows[i])
        return None

    def rows_of(self, docids: pa.Array) -> np.ndarray:
        """Rows of many docids at once (every one must exist), by one Arrow hash lookup."""
        rows = pc.index_in(docids, value_set=self._docid)
        if rows.null_count:
            missing = docids.filter(pc.is_null(rows))[0].as_py()
            raise CorpusError(f"{self.ref}: docid {missing!r} is not in the corpus")
        return rows.to_numpy().astype(np.int32)

    def docid(self, row: int) -> str:
        return self._docid[row].as_py()

    def url(self, row: int) -> str:
        return self._url[row].as_py() or ""

    def title(self, row: int) -> str:
        return self._title[row].as_py() or self.docid(row)

    def _lines(self, row: int) -> tuple[str, ...]:
        return tuple(self._text[row].as_py().split("\n"))

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10, mode: str = "bm25") -> list[tuple[int, float]]:
        """Top ``k`` ``(row, score)`` best first; deterministic for a corpus version."""
        return list(self._search(query, k, mode))

    def _ranked(self, query: str, k: int, mode: str) -> tuple[tuple[int, float], ...]:
        if mode not in SEARCH_MODES:
            raise CorpusError(f"unknown search mode {mode!r}; use one of {SEARCH_MODES}")
        if mode != "bm25" and self.dense is None:
            raise CorpusError(f"{self.ref} has no dense index; publish it with dense search on to use {mode!r}")
        if mode == "bm25":
            hits = self.lexical.search(query, k)
        elif mode == "dense":
            hits = self._dense_search(query, k)
        else:
            depth = max(k, _RRF_DEPTH)
            hits = rrf([self.lexical.search(query, depth), self._dense_search(query, depth)], topn=k)
        return tuple((self.row(docid), float(score)) for docid, score in hits)

    def _dense_search(self, query: str, k: int) -> list[tuple[str, float]]:
        if not query.strip():
            return []
        sims, positions = self.dense.search(HashingEmbedder(DENSE_DIM).embed([query]), k)
        return [(self.dense.ids[p], float(s)) for s, p in zip(sims[0], positions[0], strict=True) if p >= 0]


def _sorted_keys(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=str)
    order = np.argsort(values, kind="stable")
    return values[order], order.astype(np.int32)


_OPEN: dict[tuple[str, str, str], Corpus] = {}
_OPEN_LOCK = threading.Lock()


def open_corpus(store: Store, ref: str | Ref) -> Corpus:
    """The corpus version ``ref`` of ``store``, opened once per process and then shared."""
    info = store.resolve(ref)
    key = (str(store.root.resolve()), info.name, info.version)
    with _OPEN_LOCK:
        corpus = _OPEN.get(key)
        if corpus is None:
            corpus = _OPEN[key] = _load(store, info)
    return corpus


def _load(store: Store, info: VersionInfo) -> Corpus:
    if info.kind != "corpus":
        raise CorpusError(f"{info.ref} holds {info.kind}, not a corpus; name a corpus version "
                          "(`trajforge corpus build` publishes one)")
    try:
        docs = store.read(info)
        lexical = LexicalIndex.from_files(info.path)
    except (OSError, ValueError, StoreError) as e:
        raise CorpusError(f"cannot open corpus {info.ref}: {e}. Run `trajforge datasets verify {info.ref}`.") from e
    dense = None
    if (info.path / DENSE_INDEX).exists():
        dense = VectorIndex.from_files((info.path / DENSE_INDEX).read_bytes(), (info.path / DENSE_META).read_bytes())
    return Corpus(store, info, docs, lexical, dense)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
