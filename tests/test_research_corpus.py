"""The generated world, bring-your-own corpora, and corpora as versioned datasets."""

import json
import re

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from catalog.catalog import Catalog
from stores import corpus as corpus_module
from stores.corpus import (
    CorpusError,
    Imported,
    build_corpus,
    ensure_corpus,
    open_corpus,
    publish_corpus,
    read_byo,
)
from stores.docs import DocsError
from stores.store import StoreError
from synth.research.facts import LIST, MENTION, OWN, fact_base
from synth.research.world import (
    ATTRIBUTES,
    MIN_SIZE,
    PREDICATES,
    RELATIONS,
    Generated,
    World,
    WorldSpec,
    generate,
    name_key,
    shown,
)
from tests.research_world import world


def _tables(spec: WorldSpec) -> tuple[pa.Table, pa.Table, pa.Table]:
    entities, batches = generate(spec)
    docs, facts = zip(*batches, strict=True)
    return entities, pa.Table.from_batches(docs), pa.Table.from_batches(facts)


# ---------------------------------------------------------------------------- the world


def test_same_spec_same_bytes_and_another_seed_differs():
    a = _tables(WorldSpec(size=600, seed=5))
    b = _tables(WorldSpec(size=600, seed=5))
    assert all(x.equals(y) for x, y in zip(a, b, strict=True))
    other = _tables(WorldSpec(size=600, seed=6))
    assert not a[1].equals(other[1])
    assert a[1].num_rows == 600 and a[0].num_rows == 600
    assert a[1]["docid"].to_pylist() == sorted(a[1]["docid"].to_pylist())


def test_spec_is_checked():
    with pytest.raises(ValueError, match=f"at least {MIN_SIZE}"):
        WorldSpec(size=MIN_SIZE - 1)
    with pytest.raises(ValueError, match="within 0..1"):
        WorldSpec(size=500, conflict_rate=1.5)


def test_every_kind_and_realistic_pages():
    entities, docs, facts = _tables(WorldSpec(size=2000, seed=1))
    kinds = entities["kind"].value_counts().to_pylist()
    assert {k["values"] for k in kinds} == {"person", "organisation", "place", "work", "event"}
    lengths = pc.utf8_length(docs["text"]).to_numpy()
    lines = np.array([t.count("\n") + 1 for t in docs["text"].to_pylist()])
    assert 900 < lengths.mean() < 2500 and lines.max() > 40 and lines.min() >= 6
    assert all("== " in t for t in docs["text"].to_pylist())  # sections
    assert all(u == "https://encyclopedia.example/wiki/" + t.replace(" ", "_")
               for u, t in zip(docs["url"].to_pylist(), docs["title"].to_pylist(), strict=True))


def test_statements_are_where_the_facts_table_says_and_trusted_ones_are_true():
    spec = WorldSpec(size=1200, seed=2)
    w = World(spec)
    entities, docs, facts = _tables(spec)
    text = dict(zip(docs["docid"].to_pylist(), docs["text"].to_pylist(), strict=True))
    names = entities["name"].to_pylist()
    rows = facts.to_pylist()
    checked = {"own": 0, "list": 0, "mention": 0}

    def named(e: int, line: str) -> bool:  # running text may name a person by surname
        return names[e] in line or (w.kind(e) == "person" and names[e].split(" ")[1] in line)

    for f in rows:
        line = text[f["docid"]].split("\n")[f["line"]]
        p = f["relation"]
        if p in RELATIONS:
            assert named(f["subject"], line) and named(f["object"], line) and RELATIONS[p].phrase in line, (f, line)
            true_object = int(w.rel[p][f["subject"]])
            assert f["object"] == true_object  # relation statements are never false
        else:
            assert shown(p, f["value"]).lower() in line.lower(), (f, line)
            truth = w.value(f["subject"], p)
            assert (f["value"] == truth) != f["conflicting"], f  # only planted conflicts are false
            if f["conflicting"]:
                assert f["source"] == "mention"
        if f["source"] == "own":
            assert f["docid"] == w.docid(f["subject"])
        checked[f["source"]] += 1
    assert min(checked.values()) > 100


def test_pages_list_every_member_and_namesakes_never_share_objects():
    spec = WorldSpec(size=1200, seed=2)
    w = World(spec)
    _, _, facts = _tables(spec)
    listed = facts.filter(pc.equal(facts["source"], "list"))
    for r in RELATIONS:
        rows = listed.filter(pc.equal(listed["relation"], r))
        assert sorted(zip(rows["subject"].to_pylist(), rows["object"].to_pylist(), strict=True)) == \
            sorted((int(s), int(o)) for s, o in enumerate(w.rel[r]) if o >= 0)
    pairs = [e for e in range(spec.size) if w.namesake[e] >= 0]
    assert len(pairs) > 200
    for e in pairs:
        other = int(w.namesake[e])
        assert w.namesake[other] == e and w.kind(other) == w.kind(e)
        for r in RELATIONS:
            if w.rel[r][e] >= 0:
                assert w.rel[r][e] != w.rel[r][other], (w.names[e], w.names[other], r)
    keys = [name_key(n) for e in range(spec.size) for n in (w.names[e], *w.aliases[e])]
    assert len(keys) == len(set(keys))


@pytest.mark.slow
def test_fifty_thousand_pages_build_and_index():
    built = build_corpus(Generated(WorldSpec(size=50_000, seed=0)))
    assert built.docs.num_rows == 50_000 and built.tables["facts"].num_rows > 300_000
    assert sum(built.seconds.values()) < 120


# ---------------------------------------------------------------------------- bring your own


DOCS = [{"docid": f"d{i}", "url": f"https://x.org/{i}", "title": f"Page {i}",
         "text": f"Page {i} is about topic {i % 7}.\nIt has a second line with word{i}."} for i in range(25)]


def test_jsonl_and_parquet_stream_in_batches(tmp_path):
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DOCS))
    parquet = tmp_path / "c.parquet"
    table = pa.Table.from_pylist(DOCS)
    pq.write_table(table, parquet, row_group_size=7)
    for path in (jsonl, parquet):
        batches = list(read_byo(path, batch_rows=10))
        assert [b.num_rows for b in batches] in ([10, 10, 5], [7, 7, 7, 4])
        assert pa.Table.from_batches(batches).to_pylist() == DOCS


def test_numeric_docids_become_strings_and_title_is_optional(tmp_path):
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"docid": [1, 2], "text": ["a b", "c d"]}), path)
    table = pa.Table.from_batches(list(read_byo(path)))
    assert table["docid"].to_pylist() == ["1", "2"] and table["title"].null_count == 2


@pytest.mark.parametrize("lines,message", [
    ([{"docid": "a", "text": "x"}, {"docid": "a", "text": "y"}], "docid 'a' appears more than once"),
    ([{"docid": "a"}], "line 1: missing 'text'"),
    ([{"text": "t"}], "line 1: missing 'docid'"),
    ([{"docid": "a", "text": 3}], "'text' must be a string"),
    (["[1, 2]"], "expected a JSON object"),
    (["{not json"], "line 1: not valid JSON"),
])
def test_bad_jsonl_is_refused_with_the_line(tmp_path, lines, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    with pytest.raises(CorpusError, match=re.escape(message)):
        list(read_byo(path))


def test_bad_files_are_refused(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), path)
    with pytest.raises(CorpusError, match=r"missing column\(s\) \['docid', 'text'\]"):
        list(read_byo(path))
    dup = tmp_path / "dup.parquet"
    pq.write_table(pa.table({"docid": ["a", "b", "a"], "text": ["x", "y", "z"]}), dup, row_group_size=2)
    with pytest.raises(CorpusError, match="'a' at row 2 appears earlier"):
        list(read_byo(dup, batch_rows=2))
    csv = tmp_path / "c.csv"
    csv.write_text("docid,text\na,x\n")
    with pytest.raises(CorpusError, match="unknown corpus format '.csv'"):
        list(read_byo(csv))
    with pytest.raises(CorpusError, match="does not exist"):
        list(read_byo(tmp_path / "missing.jsonl"))


def test_imported_corpus_round_trips_through_the_store(store, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DOCS))
    info = publish_corpus(store, "byo", Imported(str(path)))
    assert info.kind == "corpus" and info.rows == 25 and "facts" not in info.manifest["tables"]
    assert store.read(info).to_pylist() == DOCS
    corpus = open_corpus(store, "byo@v1")
    assert fact_base(corpus) is None and corpus.title(corpus.row("d3")) == "Page 3"
    assert corpus.docid(corpus.search("word17", 3)[0][0]) == "d17"
    assert ensure_corpus(store, "byo", Imported(str(path))).ref == "byo@v1"  # same file: reused
    path.write_bytes(path.read_bytes() + orjson.dumps({"docid": "z", "text": "new"}) + b"\n")
    assert ensure_corpus(store, "byo", Imported(str(path))).ref == "byo@v2"  # changed content: a new version


# ---------------------------------------------------------------------------- versions


def test_publish_and_open_round_trip_with_identical_search_after_reload():
    store, ref = world()
    corpus = open_corpus(store, ref)
    assert open_corpus(store, ref) is corpus  # opened once per process
    info = store.resolve(ref)
    assert info.kind == "corpus" and set(info.manifest["tables"]) == {"docs", "facts", "entities"}
    assert any(f["path"].startswith("index/lexical/") for f in info.manifest["files"])
    assert store.verify(ref) == []
    queries = [corpus.title(r) for r in range(0, corpus.size, 97)] + ["founded by", "born in 1950", "zzzqx"]
    before = [corpus.search(q, 10) for q in queries]
    corpus_module._OPEN.clear()
    fresh = open_corpus(store, ref)
    assert fresh is not corpus and [fresh.search(q, 10) for q in queries] == before
    assert fresh.search("zzzqx", 10) == [] and fresh.fingerprint == corpus.fingerprint
    titles = [corpus.title(r) for r in range(corpus.size)]
    first = sum(corpus.search(t, 10)[0][0] == r for r, t in enumerate(titles))
    assert first >= 0.99 * corpus.size  # a page's exact title finds it first


def test_fingerprint_is_content_not_batching():
    spec = WorldSpec(size=400, seed=9)
    built = build_corpus(Generated(spec))
    digest = corpus_module._ContentHash()
    for batch in built.docs.to_batches(max_chunksize=37):
        digest.update(batch)
    assert digest.hexdigest() == built.fingerprint
    assert build_corpus(Generated(WorldSpec(size=400, seed=10))).fingerprint != built.fingerprint


def test_dense_and_hybrid_search(store):
    info = publish_corpus(store, "dense", Generated(WorldSpec(size=300, seed=4)), dense=True)
    corpus = open_corpus(store, info.ref)
    title = corpus.title(42)
    dense = corpus.search(title, 5, "dense")
    hybrid = corpus.search(title, 5, "hybrid")
    assert dense[0][0] == 42 and hybrid[0][0] == 42 and len(hybrid) == 5
    assert corpus.search(title, 5, "hybrid") == hybrid
    with pytest.raises(CorpusError, match="unknown search mode"):
        corpus.search(title, 5, "fuzzy")
    plain = open_corpus(*world())
    with pytest.raises(CorpusError, match="no dense index"):
        plain.search("x", 5, "dense")


def test_store_and_catalog_hold_corpus_versions(store):
    info = publish_corpus(store, "cat", Generated(WorldSpec(size=250, seed=1)))
    Catalog(store).sync()
    rows = Catalog(store).query("SELECT kind, rows, blob_rows FROM versions WHERE dataset = 'cat'").rows
    assert rows == [("corpus", 250, 0)]
    facts = Catalog(store).query('SELECT count(*) FROM "cat@v1:facts" WHERE source = \'own\'').rows[0][0]
    assert facts == pc.sum(pc.equal(store.read(info, table="facts")["source"], "own")).as_py()
    assert Catalog(store).query('SELECT count(*) FROM "cat@v1"').rows == [(250,)]
    with pytest.raises(DocsError, match="docid 'a' appears more than once"):
        store.publish("bad", pa.table({"docid": ["a", "a"], "url": ["", ""], "title": ["", ""], "text": ["x", "y"]}),
                      schema_kind="corpus")
    with pytest.raises(StoreError, match="unknown schema_kind"):
        store.publish("bad", store.read(info), schema_kind="pictures")
    with pytest.raises(StoreError, match="reserved"):
        store.publish("bad", store.read(info), schema_kind="corpus", tables={"blobs": store.read(info)})
    assert "bad" not in store.datasets()


def test_fact_base_lookups_agree_with_the_facts_table():
    store, ref = world()
    corpus = open_corpus(store, ref)
    fb = fact_base(corpus)
    table = store.read(ref, table="facts")
    for e in range(0, fb.n, 53):
        for p in PREDICATES:
            rows = fb.statements(e, p)
            expect = pc.sum(pc.and_(pc.equal(table["subject"], e), pc.equal(table["relation"], p))).as_py() or 0
            assert len(rows) == expect
            if p in RELATIONS and fb.rel[p][e] >= 0 or p in ATTRIBUTES and fb.attr[p][e] is not None \
                    and (ATTRIBUTES[p].type == "str" or fb.attr[p][e] >= 0):
                primary = fb.primary(e, p)
                assert fb.source[primary] in (OWN, LIST)
    on_page = fb.in_docs([fb.page[7]])
    assert set(fb.doc[on_page].tolist()) == {int(fb.page[7])}
    assert {int(s) for s in fb.source[on_page]} <= {OWN, LIST, MENTION}
