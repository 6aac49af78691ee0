"""The BM25 lexical index (stores/lexical.py) and reciprocal-rank fusion."""

from __future__ import annotations

import math

import bm25s
import numpy as np
import pytest
from bm25s.tokenization import Tokenized

from stores import lexical
from stores.lexical import FILES_DIR, K1, B, LexicalIndex, rrf

GIVEN = ("Maren", "Tobin", "Ilse", "Corin", "Dessa", "Anwen", "Bram", "Calla")
SURNAMES = ("Holloway", "Halloway", "Brandvik", "Brandvak", "Ostergaard", "Kessler", "Morrow")
CITIES = ("Kelbor Falls", "Kelbor Harbor", "Vantry Springs", "Oslund Bay")
FILLER = ("kept careful records of the river trade", "wrote two books on glass making",
          "taught a course on soil chemistry", "collected antique maps and old coins")


def encyclopedia() -> list[tuple[str, str]]:
    """56 people with near-namesakes (same given name, one-vowel surname change), each page
    naming a city and another person, so every title also appears on other pages."""
    names = [f"{g} {s}" for g in GIVEN for s in SURNAMES]
    docs = []
    for i, name in enumerate(names):
        other = names[(i * 5 + 11) % len(names)]  # a bijection: each title on one other page
        surname = name.split()[1]
        lines = [name, f"{name} was born in {CITIES[i % 4]}.",
                 f"{surname} is often compared with {other}.",
                 *(f"{surname} {FILLER[(i + j) % 4]}." for j in range(1 + i % 3))]
        docs.append((f"doc-{i:03d}", "\n".join(lines)))
    return docs


@pytest.fixture(scope="module")
def docs() -> list[tuple[str, str]]:
    return encyclopedia()


@pytest.fixture(scope="module")
def index(docs) -> LexicalIndex:
    return LexicalIndex.build(docs, batch_size=10)


QUERIES = ["Maren Holloway", "Tobin Halloway born", "Kelbor Falls", "glass making books",
           "headquarters of Kessler", "", "the of and", "zzzz unknown", "Brandvak Brandvak morrow"]


def test_exact_titles_rank_their_page_first(index, docs):
    for docid, text in docs:
        title = text.split("\n")[0]
        hits = index.search(title, k=3)
        assert hits[0][0] == docid, (title, hits)
        assert hits[0][1] > hits[1][1]  # strictly first, not by tie-break


def test_scores_are_lucene_bm25():
    index = LexicalIndex.build([("a", "river river trade"), ("b", "glass trade"), ("c", "maps")],
                               stemmer=None)
    n, avgdl = 3, (3 + 2 + 1) / 3
    idf = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))  # "river": in one document of three
    tfc = 2 / (2 + K1 * (1 - B + B * 3 / avgdl))
    [(docid, score)] = index.search("river")
    assert docid == "a"
    assert score == pytest.approx(idf * tfc, rel=1e-6)
    both = dict(index.search("river trade"))
    assert both["a"] > both["b"] > 0 and "c" not in both


def test_matrix_is_bm25s_own_index(index, docs):
    """The streamed build gives, bit for bit, the matrix bm25s's BM25.index builds."""
    tokenizer = index._analyzer.tokenizer()
    ids = list(tokenizer.streaming_tokenize([t for _, t in docs], update_vocab=True, allow_empty=False))
    reference = bm25s.BM25(k1=K1, b=B, method="lucene")
    reference.index(Tokenized(ids=ids, vocab=tokenizer.get_vocab_dict()), create_empty_token=False,
                    show_progress=False)
    assert index._bm25.vocab_dict == reference.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert index._bm25.scores[key].dtype == reference.scores[key].dtype
        assert np.array_equal(index._bm25.scores[key], reference.scores[key]), key


def test_saved_folder_is_a_plain_bm25s_index(index, tmp_path):
    index.save(tmp_path / "ix")
    plain = bm25s.BM25.load(tmp_path / "ix", mmap=True, show_progress=False)
    terms = index._terms(["Maren Holloway born"])[0].tolist()
    scores = plain.get_scores_from_ids(terms)
    ours = index.search("Maren Holloway born", k=5)
    assert [s for _, s in ours] == pytest.approx(sorted(scores, reverse=True)[:5], rel=1e-6)


def test_round_trips_give_identical_results(index, tmp_path):
    index.save(tmp_path / "saved")
    loaded = LexicalIndex.load(tmp_path / "saved")
    files = index.files()
    assert all(path.startswith(FILES_DIR + "/") for path in files)
    for rel, data in files.items():  # what the store writes into a version's folder
        (tmp_path / "version" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "version" / rel).write_bytes(data)
        assert (tmp_path / "saved" / rel.removeprefix(FILES_DIR + "/")).read_bytes() == data
    published = LexicalIndex.from_files(tmp_path / "version")
    expected = [index.search(q, k=7) for q in QUERIES]
    assert any(expected)
    for other in (loaded, published):
        assert len(other) == len(index)
        assert [other.search(q, k=7) for q in QUERIES] == expected


def test_builds_are_deterministic_whatever_the_batch_size(index, docs):
    again = LexicalIndex.build(iter(docs), batch_size=10)
    other_batches = LexicalIndex.build(iter(docs), batch_size=3)
    assert again.files() == index.files() == other_batches.files()


def test_ties_go_to_the_earlier_document():
    docs = [("z", "apple pie"), ("a", "apple pie"), ("m", "plum cake"), ("b", "apple pie"),
            ("c", "apple apple pie")]
    index = LexicalIndex.build(docs, stemmer=None)
    hits = index.search("apple", k=10)
    assert [d for d, _ in hits] == ["c", "z", "a", "b"]
    assert hits[1][1] == hits[2][1] == hits[3][1] < hits[0][1]
    assert [d for d, _ in index.search("apple", k=2)] == ["c", "z"]  # the cut keeps document order
    assert [d for d, _ in index.search("pie", k=2)] == ["z", "a"]  # b ties with a: a is earlier


def test_empty_stopword_and_unknown_queries_return_nothing(index):
    for query in ("", "   ", "the of and a", "!!! ???", "zzzz qqqq"):
        assert index.search(query) == []
    assert index.search_many(["", "the"]) == [[], []]


def test_search_many_equals_search(index, monkeypatch):
    queries = QUERIES * 12
    monkeypatch.setattr(lexical, "_THREADS_MIN_DOCS", 0)  # take the threaded path on a small index
    assert index.search_many(queries, k=4) == [index.search(q, k=4) for q in queries]
    assert index.search_many(QUERIES[:3]) == [index.search(q) for q in QUERIES[:3]]


def test_stemming_matches_word_forms_and_can_be_turned_off():
    docs = [("hq", "Veltrix Dynamics is headquartered in Kelbor Falls"), ("x", "Veltrix makes glass")]
    assert LexicalIndex.build(docs).search("Veltrix headquarters")[0][0] == "hq"
    assert [d for d, _ in LexicalIndex.build(docs, stemmer=None).search("headquarters")] == []


def test_bad_input_is_named(tmp_path, index):
    with pytest.raises(ValueError, match="docid 'a' appears twice"):
        LexicalIndex.build([("a", "x y"), ("a", "z")])
    with pytest.raises(TypeError, match=r"document 1 \('b'\): text is int"):
        LexicalIndex.build([("a", "x y"), ("b", 3)])
    with pytest.raises(TypeError, match="document 0 is str"):
        LexicalIndex.build(["just text"])
    with pytest.raises(ValueError, match="no documents"):
        LexicalIndex.build([])
    with pytest.raises(ValueError, match="unknown stemmer"):
        LexicalIndex.build([("a", "x")], stemmer="klingon")
    with pytest.raises(ValueError, match="k must be a positive int"):
        index.search("Maren", k=0)
    with pytest.raises(FileNotFoundError, match="not a saved LexicalIndex"):
        LexicalIndex.load(tmp_path)


def test_rrf_hand_example():
    lexical = [("a", 12.0), ("b", 9.0), ("c", 1.0)]
    dense = [("b", 0.9), ("d", 0.8)]
    fused = rrf([lexical, dense], k=60)
    assert [d for d, _ in fused] == ["b", "a", "d", "c"]
    assert dict(fused) == pytest.approx({"b": 1 / 62 + 1 / 61, "a": 1 / 61, "d": 1 / 62, "c": 1 / 63})
    assert rrf([lexical, dense], k=60, topn=2) == fused[:2]


def test_rrf_ties_and_duplicates():
    assert [d for d, _ in rrf([[("y", 1.0)], [("x", 5.0)]], k=0)] == ["x", "y"]  # equal 1/1: by docid
    assert rrf([[("a", 3.0), ("a", 2.0), ("b", 1.0)]], k=1) == [("a", 1 / 2), ("b", 1 / 4)]
    assert rrf([]) == [] and rrf([[], []]) == []
    with pytest.raises(ValueError, match="topn"):
        rrf([[("a", 1.0)]], topn=0)
