"""Multi-hop questions from the world: every type and hop count, derivable from their gold
evidence, minimal sets, difficulty, distinct tasks; question files for your own corpus."""

import collections
import random
import re

import orjson
import pytest

from stores.corpus import Imported, open_corpus, publish_corpus
from synth.research.byo import QuestionFileError, load_questions
from synth.research.questions import (
    HOPS,
    TYPES,
    QuestionMaker,
    anchors,
    normalize_answer,
    smallest_derivation,
    solve,
)
from synth.research.world import shown
from tests.research_world import family, params, world


@pytest.fixture(scope="module")
def maker():
    return QuestionMaker(open_corpus(*world()))


FEASIBLE = [(t, h) for t in TYPES for h in HOPS if h <= (3 if t in ("bridge", "aggregation") else 4)]


def _honest(maker, q) -> bool:
    """The stated hop count is the size of the smallest document set the answer is derivable
    from: checked by brute force over every page stating a needed fact (questions.smallest_derivation)."""
    fb = maker.fb
    subjects = list(dict.fromkeys(fb.by_name[e["subject"]] for e in q.evidence))
    return smallest_derivation(fb, q.program, q.answer, subjects, q.predicates, q.hops) == q.hops


@pytest.mark.parametrize("qtype,hops", FEASIBLE)
def test_every_type_and_hop_count_is_derivable_and_honest(maker, qtype, hops):
    fb = maker.fb
    seen = set()
    for seed in range(20):
        d = random.Random(seed).randint(hops - 1, 5)
        q = maker.make(random.Random(seed * 7 + hops), d, (qtype,), (hops,))
        assert q.program["type"] == qtype and q.hops == hops == len(q.minimal), (q.text, q.hops)
        assert solve(fb, q.program, q.gold) == q.answer, q.text
        assert solve(fb, q.program, q.minimal) == q.answer
        for doc in q.minimal:  # no document can go
            assert solve(fb, q.program, [x for x in q.minimal if x != doc]) != q.answer, (q.text, doc)
        assert _honest(maker, q), q.text
        assert set(maker.corpus.row(e["docid"]) for e in q.evidence) == set(q.gold)
        seen.add(q.text)
        if q.answer_kind not in ("year", "count") and qtype != "comparison":
            assert normalize_answer(q.answer) not in normalize_answer(q.text)
    assert len(seen) >= 18


def test_hop_counts_are_honest_over_hundreds_of_questions(maker):
    """Every difficulty and type: stated hops == the smallest derivation's size (no shortcut
    through a page that lists a chain's entity), and the requested hop mix is kept."""
    counts = collections.Counter()
    for seed in range(250):
        q = maker.make(random.Random(10_000 + seed), seed % 5 + 1)
        assert _honest(maker, q), (q.text, q.hops)
        counts[q.hops] += 1
    assert set(counts) == set(HOPS) and counts[4] >= 15, counts


@pytest.mark.slow
def test_hop_counts_are_honest_over_thousands_of_questions(maker):
    for seed in range(3000):
        q = maker.make(random.Random(50_000 + seed), seed % 5 + 1)
        assert _honest(maker, q), (seed, q.text, q.hops)


def test_a_shortcut_through_a_listing_page_lowers_the_hop_count(maker):
    """"In which city is the employer of X headquartered?" reads two facts, but the employer's
    page states one and lists the other ("* X works for E as ..."): one document. Such drafts
    are not 2-hop questions; with a third fact they are."""
    fb = maker.fb
    person = next(e for e in range(fb.n) if fb.kind_of(e) == "person" and fb.rel["works_for"][e] >= 0)
    program = {"type": "bridge", "anchor": {"entity": person, "described": False},
               "chain": ["works_for", "headquartered_in"], "attribute": None, "styles": [0, 0], "form": 0}
    employer = int(fb.rel["works_for"][person])
    answer = fb.names[int(fb.rel["headquartered_in"][employer])]
    assert solve(fb, program, [int(fb.page[employer])]) == answer
    assert maker._draft(program, HOPS) is None  # one page: a lookup, not a multi-hop question
    longer = {**program, "chain": ["works_for", "headquartered_in", "located_in"], "styles": [0, 0, 0]}
    draft = maker._draft(longer, HOPS)
    assert draft is not None and draft.hops == 2


def test_a_count_needs_the_list_itself(maker):
    """Members met one by one on their own pages do not make a count: the solver counts only a
    listing on the counted entity's page."""
    fb = maker.fb
    city = next(e for e in range(fb.n) if len(fb.members_of("born_in", e)) == 2)
    program = {"type": "aggregation", "relation": "born_in", "anchor": {"entity": city, "described": False},
               "chain": [], "styles": []}
    members = [int(fb.page[m]) for m in fb.members_of("born_in", city)]
    assert solve(fb, program, members) is None
    assert solve(fb, program, [int(fb.page[city])]) == "2"


def test_answers_are_what_the_evidence_lines_say(maker):
    fb, corpus = maker.fb, maker.corpus
    for seed in range(60):
        q = maker.make(random.Random(seed), seed % 5 + 1)
        for e in q.evidence:
            line = corpus.lines(corpus.row(e["docid"]))[e["line"]]
            said = e["object"] if "object" in e else shown(e["relation"], e["value"])
            subject_named = e["subject"] in line or e["subject"].split(" ")[-1] in line
            assert (said in line or said.split(" ")[-1] in line) and subject_named, (e, line)
        if q.answer_kind == "count":
            target = corpus.docid(q.gold[-1])  # the counted entity's page, with its listing
            listed = [e for e in q.evidence if e["docid"] == target and e["relation"] == q.program["relation"]]
            assert q.answer == str(len(listed))
        assert q.traps == sorted(set(q.traps)) and not set(q.traps) & set(q.gold)
        for e in q.involved:  # every near-namesake of what the question involves is a trap
            if fb.namesake[e] >= 0 and int(fb.page[fb.namesake[e]]) not in q.gold:
                assert int(fb.page[fb.namesake[e]]) in q.traps


def test_difficulty_is_one_plus_the_hazards(maker):
    for difficulty in range(1, 6):
        qs = [maker.make(random.Random(seed), difficulty) for seed in range(40)]
        for q in qs:
            assert q.difficulty == difficulty
            h = q.hazards
            assert h["hops"] == q.hops - 2 == len(q.minimal) - 2 and 0 <= h["namesakes"] <= 2
            assert 1 + min(4, sum(h.values())) == difficulty
        if difficulty == 1:
            assert all(sum(q.hazards.values()) == 0 for q in qs)
        kinds = collections.Counter(q.program["type"] for q in qs)
        assert len(kinds) == 4, kinds  # every type at every difficulty


def test_indirect_names_describe_their_anchor_uniquely(maker):
    fb = maker.fb
    described = 0
    for seed in range(80):
        q = maker.make(random.Random(seed), 2 + seed % 4)
        if not q.hazards["indirect"]:
            continue
        described += 1
        assert re.search(r"\bthe (\w+ )+(born|company|city|published|held)\b", q.text), q.text
        anchor = next(a for a in anchors(q.program) if a["described"])
        assert fb.names[anchor["entity"]] not in q.text
    assert described >= 15


def test_distinct_tasks_at_every_difficulty_and_ids_are_content_hashes():
    fam = family()
    for difficulty in (1, 3, 5):
        ids = {fam.make_task(seed, difficulty, params()).id for seed in range(300)}
        assert len(ids) >= 285, (difficulty, len(ids))
    a, b = fam.make_task(5, 2, params()), fam.make_task(5, 2, params())
    assert a == b and re.fullmatch(r"multihop-[0-9a-f]{16}", a.id)
    assert a.env["corpus"] == {"ref": world()[1], "fingerprint": open_corpus(*world()).fingerprint}
    assert fam.make_task(5, 2, params(hops=[2], types=["bridge"])).reference["type"] == "bridge"


def test_params_are_validated_with_clear_errors():
    fam = family()
    with pytest.raises(ValueError, match="exactly one of 'ref'"):
        fam.check_params({"corpus": {"name": "x"}})
    with pytest.raises(ValueError, match="hops must be within"):
        fam.check_params({"corpus": {"ref": "w@v1"}, "hops": [5]})
    with pytest.raises(ValueError, match="needs corpus.dense"):
        fam.check_params({"corpus": {"ref": "w@v1"}, "search": "hybrid"})
    with pytest.raises(ValueError, match="extra_forbidden|Extra inputs"):
        fam.check_params({"corpus": {"ref": "w@v1"}, "hop": [2]})
    with pytest.raises(ValueError, match="1..5"):
        fam.make_task(0, 6, params())


# ---------------------------------------------------------------------------- bring your own


DOCS = [{"docid": f"p{i}", "url": f"https://x.org/{i}", "title": f"Town {i}",
         "text": f"Town {i} lies on river {i % 5}.\nIts mayor is Mayor{i}.\nIt was founded in {1800 + i}."}
        for i in range(40)]


@pytest.fixture(scope="module")
def byo(tmp_path_factory):
    root = tmp_path_factory.mktemp("byo")
    path = root / "docs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in DOCS))
    store, _ = world()
    info = publish_corpus(store, "towns", Imported(str(path)))
    questions = root / "q.jsonl"
    rows = [{"question": f"Who is the mayor of Town {i}?", "answer": f"Mayor{i}",
             "evidence": [{"docid": f"p{i}", "line": 1}], "aliases": [f"mayor {i}"]} for i in range(20)]
    rows += [{"question": f"When was Town {i} founded?", "answer": str(1800 + i), "evidence": [f"p{i}"],
              "difficulty": 2, "distractors": [f"p{i + 1}"]} for i in range(20, 30)]
    questions.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return info, questions, root


def test_question_files_become_tasks(byo):
    info, questions, _ = byo
    store, _ = world()
    corpus = open_corpus(store, info.ref)
    loaded = load_questions(questions, corpus)
    assert len(loaded) == 30 and loaded[0]["gold_docids"] == ["p0"] and loaded[0]["difficulty"] == 1
    assert loaded[25]["traps"] == ["p26"]
    p = {"corpus": {"ref": info.ref, "store": str(store.root)}, "questions": str(questions)}
    task = family().make_task(3, 2, p)
    assert task.reference["type"] == "byo" and task.reference["answer"].startswith("18")
    with pytest.raises(ValueError, match=r"no question of difficulty 4 \(it has \{1: 20, 2: 10\}\)"):
        family().make_task(3, 4, p)


@pytest.mark.parametrize("line,message", [
    ({"question": "q"}, "'answer' must be a non-empty string"),
    ({"question": "q", "answer": "a", "evidence": ["nope"]}, "evidence docid 'nope' is not in corpus"),
    ({"question": "q", "answer": "a", "evidence": [{"docid": "p1", "line": 99}]}, "evidence line 99"),
    ({"question": "q", "answer": "a", "difficulty": 9}, "'difficulty' must be an integer from 1 to 5"),
    ({"question": "q", "answer": "a", "hint": "x"}, "unknown field(s) ['hint']"),
])
def test_bad_question_lines_are_refused_with_their_number(byo, line, message):
    info, _, root = byo
    path = root / f"bad{abs(hash(message))}.jsonl"
    path.write_bytes(orjson.dumps({"question": "fine", "answer": "x"}) + b"\n" + orjson.dumps(line) + b"\n")
    with pytest.raises(QuestionFileError, match=re.escape(f"line 2: {message}")):
        load_questions(path, open_corpus(world()[0], info.ref))


def test_the_docs_difficulty_table_names_every_hazard():
    from pathlib import Path

    from synth.research.questions import HAZARDS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "research.md").read_text()
    assert "difficulty = 1 + min(4, hazards)" in doc
    for hazard in HAZARDS:
        assert f"| {hazard} |" in doc, hazard
