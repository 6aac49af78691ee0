"""Lexical search libraries side by side on the same generated encyclopedia.

Usage: python bench/search.py [--quick] [--sizes 10000,100000] [--libs trajforge,tantivy]

Every library indexes the same documents (a seeded synthetic encyclopedia written below, so
the bench needs nothing else from the repo to make its data) and answers the same queries
(page titles and title + attribute phrases, whose right page is known, plus topical word
mixes). Each library runs in its own process, so peak memory is its own. Printed per corpus
size: build, save and load seconds, peak RSS, index bytes on disk, single-query latency and
batched queries/s, the share of title queries answered with their page first, and the top-10
agreement of each library with trajforge's index. ``--quick`` is the 10k corpus only.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# ---------------------------------------------------------------------------- documents

_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "gr", "kr", "tr", "th", "sh", "st")
_VOWELS = ("a", "e", "i", "o", "u", "a", "o", "ei", "ou")
_CODAS = ("", "", "", "n", "r", "l", "s", "m", "nd", "rk")
_GIVEN = (
    "Maren", "Tobin", "Ilse", "Corin", "Dessa", "Anwen", "Bram", "Calla", "Dorian", "Elsa",
    "Fenna", "Gideon", "Halle", "Ivo", "Jora", "Kasimir", "Lise", "Milo", "Nadia", "Oren",
    "Petra", "Quill", "Rhea", "Soren", "Talia", "Ulric", "Vera", "Wren", "Yara", "Zeno",
    "Alma", "Bastian", "Cleo", "Dario", "Edda", "Finn", "Greta", "Hugo", "Inka", "Jonas",
    "Kira", "Leon", "Mira", "Nils", "Odile", "Pavel", "Runa", "Sabine", "Tilde", "Aurel",
)
_ORG_SUFFIXES = ("Dynamics", "Systems", "Holdings", "Foundry", "Analytics", "Industries",
                 "Logistics", "Labs", "Partners", "Collective")
_CITY_SUFFIXES = ("Falls", "Harbor", "Springs", "Heights", "Crossing", "Bay", "Ridge")
_OCCUPATIONS = ("cartographer", "chemist", "sculptor", "engineer", "historian", "architect",
                "economist", "botanist", "novelist", "surveyor", "composer", "physician")
_INDUSTRIES = ("shipping", "textile", "software", "mining", "publishing", "biotech",
               "aerospace", "agricultural", "energy", "furniture", "optics", "insurance")
_CITY_KINDS = ("river", "port", "hill", "market", "university", "mountain", "coastal", "lakeside")
_COUNTRIES = ("Veldora", "Kastmark", "Ostria", "Bremund", "Talvenia", "Norhaven", "Essaly",
              "Drumoor", "Falkreth", "Lindar", "Sorvany", "Quenmark")
# Running text: English function words (most are stopwords) and general words, Zipf-drawn.
_COMMON = [
    "the", "of", "and", "in", "to", "a", "is", "was", "for", "on", "as", "with", "by", "at",
    "from", "that", "which", "it", "its", "were", "are", "be", "has", "had", "this", "an", "or",
    "their", "also", "after", "first", "new", "one", "two", "three", "other", "more", "his",
    "her", "they", "who", "into", "during", "between", "over", "under", "most", "later", "years",
    "year", "time", "part", "early", "many", "work", "known", "city", "people", "state", "life",
    "world", "report", "public", "school", "national", "local", "region", "house", "history",
    "group", "area", "small", "large", "old", "high", "long", "major", "main", "center",
    "north", "south", "east", "west", "river", "building", "market", "trade", "field", "study",
    "system", "order", "power", "water", "land", "family", "record", "member", "music", "church",
    "court", "road", "service", "street", "office", "station", "design", "plan", "project",
    "method", "model", "book", "paper", "letter", "series", "story", "stage", "season", "team",
    "club", "game", "match", "cup", "player", "line", "point", "made", "became", "found", "held",
    "began", "built", "named", "called", "given", "left", "moved", "served", "led", "won", "lost",
]
_TOPICS, _TOPIC_WORDS = 400, 120
_KIND_WORDS = {"person": ("born", "works"), "org": ("founded", "headquartered"),
               "city": ("located", "population")}
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_BATCH = 10_000  # generation batch: fixed, so the text never depends on the caller's batching


def _mix(seed: int, idx: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of (seed, salt, index): a random-access stream, so a query can name any
    document's facts without generating the documents before it."""
    with np.errstate(over="ignore"):
        z = idx.astype(np.uint64) + np.uint64((seed * 1_000_003 + salt * 7919) & 0xFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def _word(h: int, syllables: int) -> str:
    parts = []
    for _ in range(syllables):
        parts.append(_ONSETS[h % 23] + _VOWELS[(h // 23) % 9] + _CODAS[(h // 207) % 10])
        h //= 2070
    return "".join(parts).capitalize()


def _vocabulary() -> list[str]:
    """Common words, then ``_TOPICS`` topics of ``_TOPIC_WORDS`` invented words each."""
    hashes = _mix(12345, np.arange(_TOPICS * _TOPIC_WORDS), 99).tolist()
    return _COMMON + [_word(h, 2).lower() for h in hashes]


_VOCAB = np.array(_vocabulary(), dtype=object)


def _zipf_cdf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1)
    return np.cumsum(p / p.sum())


_COMMON_CDF, _TOPIC_CDF = _zipf_cdf(len(_COMMON)), _zipf_cdf(_TOPIC_WORDS)


def kinds(idx: np.ndarray) -> np.ndarray:
    """0 person (60%), 1 organisation (20%), 2 city (20%), by position."""
    return np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2])[idx % 10]


def _pick(h: np.ndarray, n_docs: int, offsets: tuple[int, ...]) -> np.ndarray:
    """A document index of the kind whose positions mod 10 are ``offsets``."""
    tens = max(1, n_docs // 10)
    return (h % np.uint64(tens)).astype(np.int64) * 10 + np.array(offsets)[(h >> np.uint64(40)) % np.uint64(len(offsets))]


def titles(seed: int, idx: np.ndarray) -> list[str]:
    h = _mix(seed, idx, 1).tolist()
    out = []
    for k, x in zip(kinds(idx).tolist(), h, strict=True):
        if k == 0:
            out.append(f"{_GIVEN[x % 50]} {_word(x // 50, 3)}")
        elif k == 1:
            out.append(f"{_word(x // 10, 2 + x % 2)} {_ORG_SUFFIXES[(x >> 50) % 10]}")
        else:
            out.append(f"{_word(x // 10, 2 + x % 2)} {_CITY_SUFFIXES[(x >> 50) % 7]}")
    return out


def facts(seed: int, n_docs: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per document: a related city, a related organisation or person, a year, a profession."""
    return {
        "city": _pick(_mix(seed, idx, 2), n_docs, (8, 9)),
        "other": np.where(kinds(idx) == 0, _pick(_mix(seed, idx, 3), n_docs, (6, 7)),
                          _pick(_mix(seed, idx, 3), n_docs, (0, 1, 2, 3, 4, 5))),
        "year": (_mix(seed, idx, 4) % np.uint64(120)).astype(np.int64) + 1890,
        "trait": (_mix(seed, idx, 5) % np.uint64(12)).astype(np.int64),
        "topics": (_mix(seed, idx, 6) % np.uint64(_TOPICS)).astype(np.int64),
        "mention": (_mix(seed, idx, 7) % np.uint64(max(1, n_docs))).astype(np.int64),
    }


def _lead(kind: int, title: str, f: dict, i: int, names: dict[int, str]) -> list[str]:
    year, trait = f["year"][i], f["trait"][i]
    city, other = names[f["city"][i]], names[f["other"][i]]
    if kind == 0:
        surname = title.split(" ")[1]
        return [f"{title} (born {year}) is a {_OCCUPATIONS[trait]}.",
                f"{title} was born in {city} in {year}.",
                f"{surname} works for {other} as a senior {_OCCUPATIONS[trait]}."]
    if kind == 1:
        return [f"{title} is a {_INDUSTRIES[trait]} company.",
                f"{title} was founded by {other} in {year}.",
                f"{title} is headquartered in {city}."]
    return [f"{title} is a {_CITY_KINDS[trait % 8]} city.",
            f"{title} is located in {_COUNTRIES[trait]}.",
            f"{title} has a population of about {trait + 2}0,000 and was first recorded in {year}."]


def documents(n_docs: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """``(docid, text)`` for pages 0..n-1: a title line, three fact lines about related
    pages, then 150-400 words of sentences mixing common words with the page's topic words
    (a person names the surname, other pages the full title, in a third of the sentences)."""
    for start in range(0, n_docs, _BATCH):
        idx = np.arange(start, min(n_docs, start + _BATCH))
        rng = np.random.default_rng([seed, start])
        f = facts(seed, n_docs, idx)
        own = titles(seed, idx)
        related = np.unique(np.concatenate([f["city"], f["other"], f["mention"]]))
        names = dict(zip(related.tolist(), titles(seed, related), strict=True))
        f = {k: v.tolist() for k, v in f.items()}
        lengths = rng.integers(120, 370, len(idx))
        total = int(lengths.sum())
        common = rng.random(total) < 0.55
        ranks = np.where(common, np.searchsorted(_COMMON_CDF, rng.random(total)),
                         np.searchsorted(_TOPIC_CDF, rng.random(total)))
        topic_of_doc = np.repeat(np.array(f["topics"]), lengths)
        second = (topic_of_doc + 1 + rng.integers(0, 3, total)) % _TOPICS  # a neighbouring topic
        topic = np.where(rng.random(total) < 0.7, topic_of_doc, second)
        ids = np.where(common, ranks, len(_COMMON) + topic * _TOPIC_WORDS + np.minimum(ranks, _TOPIC_WORDS - 1))
        words = _VOCAB[ids].tolist()
        sentence_lengths = rng.integers(8, 16, total // 8 + len(idx)).tolist()
        pos = s = 0
        for j, (i, title) in enumerate(zip(idx.tolist(), own, strict=True)):
            kind = i % 10
            kind = 0 if kind < 6 else 1 if kind < 8 else 2
            short = title.split(" ")[1] if kind == 0 else title
            lines = [title, *_lead(kind, title, f, j, names),
                     f"{short} is often compared with {names[f['mention'][j]]}."]
            end = pos + int(lengths[j])
            body = []
            while pos < end:
                m = sentence_lengths[s]
                chunk = " ".join(words[pos:min(end, pos + m)])
                body.append(f"{short} {chunk}." if s % 3 == 0 else chunk.capitalize() + ".")
                pos += m
                s += 1
            pos = end
            lines.append(" ".join(body))
            yield f"doc-{i:07d}", "\n".join(lines)


def make_queries(n_docs: int, seed: int = 0, count: int = 1000) -> list[tuple[str, str | None]]:
    """``(query, docid of the right page or None)``: titles, title + attribute word,
    title + fact phrase, and 2-4 topic words (no single right page), in turn."""
    rng = np.random.default_rng([seed, 7])
    idx = rng.integers(0, n_docs, count)
    own = titles(seed, idx)
    f = facts(seed, n_docs, idx)
    cities = titles(seed, f["city"])
    out: list[tuple[str, str | None]] = []
    for j, (i, title) in enumerate(zip(idx.tolist(), own, strict=True)):
        kind = ("person", "person", "person", "person", "person", "person", "org", "org",
                "city", "city")[i % 10]
        docid = f"doc-{i:07d}"
        shape = j % 4
        if shape == 0:
            out.append((title, docid))
        elif shape == 1:
            out.append((f"{title} {_KIND_WORDS[kind][j // 4 % 2]}", docid))
        elif shape == 2:
            phrase = {"person": "born in", "org": "headquartered in", "city": "founded in"}[kind]
            out.append((f"{title} {phrase} {cities[j]}" if kind != "city" else f"{title} history", docid))
        else:
            topic = int(f["topics"][j])
            picks = rng.integers(0, 20, int(rng.integers(2, 5)))
            out.append((" ".join(_VOCAB[len(_COMMON) + topic * _TOPIC_WORDS + p] for p in picks), None))
    return out


# ---------------------------------------------------------------------------- libraries

K = 10


def stream(corpus: Path) -> Iterator[tuple[str, str]]:
    """The corpus back from its Parquet file, 50k rows at a time (the same for every library)."""
    for batch in pq.ParquetFile(corpus).iter_batches(batch_size=50_000):
        yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)


def threads() -> int:
    return len(os.sched_getaffinity(0))


class Trajforge:
    """The chosen one: stores.lexical.LexicalIndex (bm25s matrix, streamed build, numba top-k)."""

    modules = ("bm25s", "numba", "Stemmer")

    def version(self) -> str:
        import bm25s
        return f"bm25s {bm25s.__version__}"

    def build(self, docs: Iterator[tuple[str, str]], scratch: Path):
        from stores.lexical import LexicalIndex
        return LexicalIndex.build(docs)

    def save(self, index, folder: Path) -> None:
        index.save(folder)

    def load(self, folder: Path):
        from stores.lexical import LexicalIndex
        return LexicalIndex.load(folder)

    def search(self, index, query: str) -> list[str]:
        return [d for d, _ in index.search(query, K)]

    def search_many(self, index, queries: list[str]) -> list[list[str]]:
        return [[d for d, _ in hits] for hits in index.search_many(queries, K)]


class Bm25s:
    """bm25s as its README uses it: tokenize every text, ``BM25.index``, ``retrieve``."""

    modules = ("bm25s", "Stemmer")

    def __init__(self, backend: str):
        self.backend = backend
        if backend == "numba":
            self.modules = (*self.modules, "numba")

    def version(self) -> str:
        import bm25s
        return f"bm25s {bm25s.__version__}, {self.backend} backend"

    def _tokenizer(self):
        import Stemmer
        from bm25s.tokenization import Tokenizer
        return Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))

    def build(self, docs: Iterator[tuple[str, str]], scratch: Path):
        import bm25s
        docids, texts = map(list, zip(*docs, strict=True))  # the library wants every text at once
        tokenizer = self._tokenizer()
        tokens = tokenizer.tokenize(texts, return_as="tuple", show_progress=False)
        del texts
        model = bm25s.BM25(k1=1.2, b=0.75, method="lucene", backend=self.backend)
        model.index(tokens, show_progress=False)
        return model, tokenizer, docids

    def save(self, index, folder: Path) -> None:
        model, tokenizer, docids = index
        model.save(folder, show_progress=False)
        tokenizer.save_vocab(folder)
        (folder / "docids.json").write_text(json.dumps(docids))

    def load(self, folder: Path):
        import bm25s
        model = bm25s.BM25.load(folder, mmap=True, backend=self.backend, show_progress=False)
        tokenizer = self._tokenizer()
        tokenizer.load_vocab(folder)
        return model, tokenizer, json.loads((folder / "docids.json").read_text())

    def search_many(self, index, queries: list[str], n_threads: int | None = None) -> list[list[str]]:
        model, tokenizer, docids = index
        ids = tokenizer.tokenize(queries, update_vocab=False, show_progress=False)
        docs, scores = model.retrieve(ids, k=K, show_progress=False, n_threads=n_threads or threads())
        return [[docids[d] for d, s in zip(row, srow, strict=True) if s > 0]
                for row, srow in zip(docs.tolist(), scores.tolist(), strict=True)]

    def search(self, index, query: str) -> list[str]:
        return self.search_many(index, [query], n_threads=1)[0]


class Tantivy:
    """tantivy: Rust indexing on 2 threads, the same analysis (lowercase, English stopwords
    and Snowball stemmer), a fast field to map hits back to rows."""

    modules = ("tantivy",)

    def version(self) -> str:
        from importlib.metadata import version
        return f"tantivy {version('tantivy')}"

    def _open(self, folder: Path, create: bool):
        import tantivy
        if create:
            schema = tantivy.SchemaBuilder()
            schema.add_text_field("text", tokenizer_name="en_bm25", index_option="freq")
            schema.add_integer_field("row", fast=True)
            index = tantivy.Index(schema.build(), path=str(folder))
        else:
            index = tantivy.Index.open(str(folder))
        analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                    .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stopword("english"))
                    .filter(tantivy.Filter.stemmer("english")).build())
        index.register_tokenizer("en_bm25", analyzer)
        return index

    def build(self, docs: Iterator[tuple[str, str]], scratch: Path):
        import tantivy
        index = self._open(scratch, create=True)
        writer = index.writer(heap_size=1_000_000_000, num_threads=threads())
        docids = []
        for row, (docid, text) in enumerate(docs):
            docids.append(docid)
            writer.add_document(tantivy.Document(text=text, row=row))
        writer.commit()
        writer.wait_merging_threads()
        (scratch / "docids.json").write_text(json.dumps(docids))
        return scratch

    save = None  # the index is on disk when build returns

    def load(self, folder: Path):
        index = self._open(folder, create=False)
        return index, index.searcher(), json.loads((folder / "docids.json").read_text())

    def search(self, index, query: str) -> list[str]:
        ix, searcher, docids = index
        words = re.findall(r"\w+", query)
        if not words:
            return []
        hits = searcher.search(ix.parse_query(" ".join(words), ["text"]), K).hits
        return [docids[r] for r in searcher.fast_field_values("row", [a for _, a in hits])]

    def search_many(self, index, queries: list[str]) -> list[list[str]]:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(threads()) as pool:
            return list(pool.map(lambda q: self.search(index, q), queries))


LIBRARIES = {"trajforge": Trajforge(), "bm25s-numba": Bm25s("numba"), "bm25s-numpy": Bm25s("numpy"),
             "tantivy": Tantivy()}


def _disk(folder: Path) -> tuple[int, dict[str, str]]:
    """(bytes on disk, sha256 per file), tantivy's lock files left out."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tantivy"))
    return (sum(p.stat().st_size for p in files),
            {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})


def _built(lib, corpus: Path, folder: Path) -> tuple[float, float]:
    """Build and save into ``folder``: (build seconds, save seconds; 0 when build wrote it)."""
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    index = lib.build(stream(corpus), folder)
    build_s = time.perf_counter() - t0
    if lib.save is not None:
        t0 = time.perf_counter()
        lib.save(index, folder)
        return build_s, time.perf_counter() - t0
    return build_s, 0.0


def worker(name: str, corpus: Path, queries_file: Path, out: Path, rebuild: bool) -> None:
    """One library in this process: every figure of its table row, and its rankings."""
    lib = LIBRARIES[name]
    queries = [q for q, _ in json.loads(queries_file.read_text())]
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        first = Path(tmp) / "a"
        build_s, save_s = _built(lib, corpus, first)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size, hashes = _disk(first)
        same = None
        if rebuild:
            _built(lib, corpus, Path(tmp) / "b")
            same = hashes == _disk(Path(tmp) / "b")[1]
        t0 = time.perf_counter()
        index = lib.load(first)
        load_s = time.perf_counter() - t0
        for q in queries[:50]:  # warm-up: JIT compilation, page cache
            lib.search(index, q)
        lib.search_many(index, queries[:100])
        latencies = []
        for q in queries[:500]:
            t0 = time.perf_counter()
            lib.search(index, q)
            latencies.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rankings = lib.search_many(index, queries)
        batch_s = time.perf_counter() - t0
        single = [lib.search(index, q) for q in queries[:200]]
        if single != rankings[:200]:
            raise AssertionError(f"{name}: search and search_many disagree")
    out.write_text(json.dumps({
        "version": lib.version(), "build_s": build_s, "save_s": save_s, "load_s": load_s,
        "peak_mb": peak, "disk_mb": size / 1e6, "same_bytes": same,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * statistics.quantiles(latencies, n=20)[18],
        "single_qps": len(latencies) / sum(latencies), "batch_qps": len(queries) / batch_s,
        "rankings": rankings,
    }))


# ---------------------------------------------------------------------------- report

def write_corpus(n_docs: int, path: Path) -> float:
    """Generate the corpus into a Parquet file; seconds taken."""
    t0 = time.perf_counter()
    schema = pa.schema([("docid", pa.string()), ("text", pa.string())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        docs = documents(n_docs)
        while chunk := [d for _, d in zip(range(_BATCH), docs, strict=False)]:
            writer.write_table(pa.table(list(map(list, zip(*chunk, strict=True))), schema=schema))
    return time.perf_counter() - t0


def unavailable() -> dict[str, str]:
    """Candidates that cannot run here, and why (checked, not assumed)."""
    notes = {}
    import duckdb
    con = duckdb.connect()
    try:
        con.execute("INSTALL fts")
        con.execute("LOAD fts")
    except duckdb.Error as e:
        notes[f"duckdb {duckdb.__version__} fts"] = "INSTALL fts fails offline: " + str(e).splitlines()[0]
    if importlib.util.find_spec("pyserini") is None:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True) if shutil.which("java") else None
        notes["pyserini"] = ("not installed: Pyserini 1.x runs Anserini on Java 21 (this machine: "
                             + (java.stderr.splitlines()[0] if java else "no java") + ")")
    return notes


def agreement(a: list[list[str]], b: list[list[str]]) -> tuple[float, float]:
    """(mean top-10 overlap, top-1 agreement) over queries where either side found something."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x or y]
    overlap = statistics.mean(len(set(x) & set(y)) / max(len(x), len(y)) for x, y in pairs)
    top1 = statistics.mean(bool(x and y and x[0] == y[0]) for x, y in pairs)
    return overlap, top1


def report(n_docs: int, gen_s: float, queries: list[tuple[str, str | None]], rows: dict[str, dict],
           skipped: dict[str, str]) -> None:
    print(f"\n## {n_docs:,} documents (generated in {gen_s:.1f} s); {len(queries):,} queries, "
          f"{sum(d is not None for _, d in queries):,} with a known page\n")
    print("| library | build s | docs/s | peak RSS MB | save s | load s | disk MB | p50 ms | p95 ms "
          "| 1-query q/s | batch q/s | title@1 | top-10 overlap / top-1 vs trajforge | same bytes on rebuild |")
    print("|---|" + "---:|" * 13 + "---|")
    base = rows.get("trajforge", {}).get("rankings")
    for name, r in rows.items():
        hit = statistics.mean(bool(res and res[0] == d) for (_, d), res in zip(queries, r["rankings"], strict=True)
                              if d is not None)
        agree = "—" if base is None or name == "trajforge" else "{:.2f} / {:.2f}".format(*agreement(base, r["rankings"]))
        same = {None: "not checked", True: "yes", False: "no"}[r["same_bytes"]]
        save = f"{r['save_s']:.2f}" if r["save_s"] else "in build"
        print(f"| {name} ({r['version']}) | {r['build_s']:.1f} | {n_docs / r['build_s']:,.0f} | {r['peak_mb']:,.0f} "
              f"| {save} | {r['load_s']:.2f} | {r['disk_mb']:,.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} "
              f"| {r['single_qps']:,.0f} | {r['batch_qps']:,.0f} | {hit:.3f} | {agree} | {same} |")
    for name, why in skipped.items():
        print(f"| {name} | skipped: {why} |")
    if "trajforge" in rows:
        r = rows["trajforge"]
        print(f"\ntrajforge: built {n_docs:,} docs in {r['build_s']:.0f} s (goal at 1M: < 600 s), "
              f"{r['batch_qps']:,.0f} batched and {r['single_qps']:,.0f} one-at-a-time queries/s (goal at 1M: >= 500)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k documents only")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--libs", default=",".join(LIBRARIES))
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--query-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.corpus, args.query_file, args.out, args.rebuild)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    libs = args.libs.split(",")
    if unknown := set(libs) - set(LIBRARIES):
        raise SystemExit(f"unknown --libs {sorted(unknown)}; choose from {list(LIBRARIES)}")
    print(f"# Lexical search libraries, {threads()} cores")
    for n_docs in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            gen_s = write_corpus(n_docs, tmp / "corpus.parquet")
            queries = make_queries(n_docs, count=args.queries)
            (tmp / "queries.json").write_text(json.dumps(queries))
            rows, skipped = {}, unavailable()
            for name in libs:
                missing = [m for m in LIBRARIES[name].modules if importlib.util.find_spec(m) is None]
                if missing:
                    skipped[name] = f"not installed ({', '.join(missing)}): pip install -e '.[bench]'"
                    continue
                out = tmp / f"{name}.json"
                cmd = [sys.executable, __file__, "--worker", name, "--corpus", str(tmp / "corpus.parquet"),
                       "--query-file", str(tmp / "queries.json"), "--out", str(out)]
                done = subprocess.run(cmd + (["--rebuild"] if n_docs <= 10_000 else []))
                if done.returncode != 0:
                    skipped[name] = f"failed (exit {done.returncode})"
                    continue
                rows[name] = json.loads(out.read_text())
            report(n_docs, gen_s, queries, rows, skipped)


if __name__ == "__main__":
    main()
