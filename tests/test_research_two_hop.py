"""two_hop: the generated corpus and its BM25 index, the browser env, questions, teachers."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from filters.dedup import exact_dedup
from stores.corpus import MIN_SIZE, RELATIONS, SCREEN_LINES, get_corpus, name_key
from stores.schema import Action, Trajectory, canonical_json, validate_table
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.registry import get_family
from synth.research.two_hop import (
    TEMPLATES,
    BrowserEnv,
    find_lines,
    make_task,
    normalize_answer,
    verify_answer,
)
from tests.factories import MIXED_TIERS, RUN_A, RUN_B

ROOT = Path(__file__).resolve().parents[1]
PROV, OTHER_PROV, MIXED = RUN_A, RUN_B, MIXED_TIERS
SMALL = {"corpus_size": 120, "corpus_seed": 3}
family = get_family("two_hop")


def shard(tiers, difficulties, seed=0, stop=100, prov=PROV, params=None):
    spec = ShardSpec("two_hop", seed, 0, stop, tiers, tuple(difficulties), params or {})
    return generate_shard(spec, prov).trajectories


def without_provenance(table):
    return table.drop_columns(["provenance"]).to_pylist()


def digest(table) -> str:
    return hashlib.sha256(canonical_json(without_provenance(table)).encode()).hexdigest()


def episode(seed, difficulty, tier, params=None, rng_seed=0):
    params = params or {}
    task = family.make_task(seed, difficulty, params)
    teacher = family.make_teacher(tier, task, random.Random(rng_seed), params)
    return run_episode("research", task, family.make_env(task, params), teacher, PROV).trajectory


def hardness(task) -> int:
    corpus = get_corpus(task.env["corpus_seed"], task.env["corpus_size"])
    h1, h2 = task.reference["hops"]
    start, bridge = corpus.entity_of(h1["docid"]), corpus.entity_of(h2["docid"])
    return ((start.namesake is not None) + (bridge.namesake is not None)
            + (h1["line"] >= SCREEN_LINES) + (h2["line"] >= SCREEN_LINES))


# ---------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("seed,size", [(0, 2000), (3, 120), (5, MIN_SIZE)])
def test_every_exact_title_ranks_its_own_page_first(seed, size):
    corpus = get_corpus(seed, size)
    assert len(corpus.docs) == size
    for e in corpus.entities.values():
        if e.docid is not None:
            assert corpus.search(e.name, 3)[0][0] == e.docid, e.name


def test_search_is_deterministic_and_ranked():
    cached = get_corpus(3, 120)
    fresh = get_corpus.__wrapped__(3, 120)  # a second build, bypassing the process cache
    for query in ("Dynamics Systems", "born in", "founded by Maren", "Falls Harbor city"):
        hits = cached.search(query, 10)
        assert hits == cached.search(query, 10) == fresh.search(query, 10)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
        tied = [d for (d, s), (_, t) in zip(hits, hits[1:], strict=False) if s == t]
        assert all(a < b for a, b in zip(tied, tied[1:], strict=False))
    assert cached.search("the of and", 5) == [] and cached.search("zzzzqx", 5) == []
    assert [d.text for d in fresh.docs] == [d.text for d in cached.docs]
    assert get_corpus(4, 120).docs[0].text != cached.docs[0].text


def test_corpus_states_each_fact_once_in_its_subjects_words():
    corpus = get_corpus(0, 2000)
    for (subject, relation), fact in corpus.facts.items():
        e, obj = corpus.entities[subject], corpus.entities[fact.object]
        line = corpus.doc(fact.docid).lines[fact.line]
        assert fact.docid == e.docid and corpus.doc(e.docid).title == e.name
        assert line.startswith(f"{e.name} ")
        assert f"{RELATIONS[relation][2]} {obj.name}" in line
        assert (e.kind, obj.kind) == RELATIONS[relation][:2]
        if e.namesake is not None:  # near-namesakes never share a fact, so confusing them is wrong
            assert corpus.fact(e.namesake, relation).object != fact.object


def test_every_relation_sentence_in_the_corpus_is_true():
    """Neighbour sentences reuse the relation phrases; each must name its entity's real object."""
    corpus = get_corpus(3, 120)
    by_name = {e.name: e for e in corpus.entities.values()}
    checked = 0
    for doc in corpus.docs:
        for line in doc.lines[1:]:
            for relation, (_, _, phrase) in RELATIONS.items():
                if phrase not in line:
                    continue
                left, right = line.split(f" {phrase} ")
                words = left.removesuffix(" was").removesuffix(" is").rstrip(",").split(" ")
                subject = by_name.get(" ".join(words[-2:])) or by_name[words[-1]]
                obj = corpus.entities[corpus.fact(subject.key, relation).object]
                assert re.match(re.escape(obj.name) + r"( as | in \d|\.$)", right), line
                checked += 1
    assert checked > 300


def test_names_and_aliases_are_unique_and_namesakes_look_alike():
    corpus = get_corpus(0, 2000)
    keys = [name_key(n) for e in corpus.entities.values() for n in (e.name, *e.aliases)]
    assert len(keys) == len(set(keys))
    pairs = [e for e in corpus.entities.values() if e.namesake]
    assert len(pairs) > 400
    for e in pairs:
        other = corpus.entities[e.namesake]
        assert other.namesake == e.key and other.kind == e.kind
        assert e.name.split(" ")[0] == other.name.split(" ")[0]


def test_corpus_refuses_a_size_too_small_for_namesakes():
    with pytest.raises(ValueError, match="at least"):
        get_corpus(0, MIN_SIZE - 1)


# ---------------------------------------------------------------------------- verifier and browser


@pytest.mark.parametrize("answer", ["Port Amara", "port amara", "  The PORT-AMARA! ", "Amarith", "the amarith."])
def test_verifier_accepts_spelling_variants_and_aliases(answer):
    outcome = verify_answer(answer, "Port Amara", ["Amarith"])
    assert outcome.success and outcome.verifier == "exact-match" and "matches" in outcome.detail


@pytest.mark.parametrize("answer,reason", [
    ("Port Amaro", "does not match the gold answer 'Port Amara'"),
    ("Amara", "does not match"),
    ("Port Amara Falls", "does not match"),
    (None, "no answer given; expected 'Port Amara'"),
])
def test_verifier_rejects_with_a_reason(answer, reason):
    outcome = verify_answer(answer, "Port Amara", ["Amarith"])
    assert not outcome.success and reason in outcome.detail


def test_normalize_answer():
    assert normalize_answer("The Republic of  Veldoria.") == "republic of veldoria"
    assert normalize_answer("Veltrix Dynamics Ltd.") == "veltrix dynamics ltd"


def test_find_reports_true_line_numbers():
    task = make_task(11, 5, {})
    env = BrowserEnv(task)
    hop = task.reference["hops"][0]
    env.step(Action("open", {"id": hop["docid"]}))
    doc = env.corpus.doc(hop["docid"])
    hits = find_lines(doc, hop["phrase"].upper())
    assert hop["line"] in hits
    assert hits == [i for i, line in enumerate(doc.lines) if hop["phrase"] in line.lower()]
    text = env.step(Action("find", {"pattern": hop["phrase"]})).text
    for i in hits:
        assert f"L{i}: {doc.lines[i]}" in text.splitlines()


def test_open_shows_one_numbered_screen_and_accepts_urls():
    task = make_task(11, 5, {})  # difficulty 5: both facts lie below the first screen
    env = BrowserEnv(task)
    hop = task.reference["hops"][0]
    doc = env.corpus.doc(hop["docid"])
    text = env.step(Action("open", {"id": doc.url})).text
    assert text.splitlines()[1:SCREEN_LINES + 1] == [f"L{i}: {doc.lines[i]}" for i in range(SCREEN_LINES)]
    assert doc.lines[hop["line"]] not in text and f"of {len(doc.lines)}" in text


def test_env_accepts_only_progress():
    task = make_task(4, 3, {})
    env = BrowserEnv(task)
    (d1, d2), hops = task.reference["gold_docids"], task.reference["hops"]
    start = env.corpus.entity_of(d1)
    assert not env.accepts(Action("find", {"pattern": "born"}))  # nothing open
    assert not env.accepts(Action("search", {"query": "zzzzqx"}))
    assert not env.accepts(Action("search", {"query": start.name, "topn": 0}))
    assert not env.accepts(Action("browse", {"query": start.name}))
    assert env.accepts(Action("search", {"query": start.name, "topn": 1}))
    env.step(Action("search", {"query": start.name, "topn": 1}))
    assert not env.accepts(Action("search", {"query": start.name, "topn": 1}))  # nothing new
    wrong = next(d.docid for d in env.corpus.docs if d.docid not in (d1, d2))
    assert not env.accepts(Action("open", {"id": wrong}))
    assert env.accepts(Action("open", {"id": d2}))  # evidence may be opened in any order
    env.step(Action("open", {"id": d1}))
    assert not env.accepts(Action("open", {"id": d1}))
    assert not env.accepts(Action("find", {"pattern": "not in any line at all"}))
    assert env.accepts(Action("find", {"pattern": hops[0]["phrase"]}))
    assert {"name": "find", "docid": d1, "matches_line": hops[0]["line"]} in env.accepted_actions()
    env.step(Action("find", {"pattern": hops[0]["phrase"]}))
    assert not env.accepts(Action("find", {"pattern": hops[0]["phrase"]}))
    assert env.accepts(Action("answer", {"answer": task.reference["answer"].upper()}))
    assert not env.accepts(Action("answer", {"answer": hops[0]["object"]}))


def test_malformed_calls_get_an_error_and_the_budget_ends_the_episode():
    task = make_task(4, 3, {})
    env = BrowserEnv(task)
    assert env.step(Action("find", {"pattern": "x"})).text.startswith("Error: no page is open")
    assert "unknown tool 'browse'" in env.step(Action("browse", {})).text
    assert "no page with id" in env.step(Action("open", {"id": "doc-99999"})).text
    assert "'topn' must be" in env.step(Action("search", {"query": "a", "topn": "5"})).text
    results = []
    while not (result := env.step(Action("search", {"query": "Dynamics"}))).done:
        results.append(result)
    assert env.calls == task.env["max_tool_calls"] and "budget" in result.text
    assert env.outcome(None).success is False


# ---------------------------------------------------------------------------- tasks


def test_tasks_are_two_hop_chains_answerable_from_their_evidence():
    for seed in range(150):
        task = make_task(seed, seed % 5 + 1, SMALL if seed % 2 else {})
        ref = task.reference
        corpus = get_corpus(task.env["corpus_seed"], task.env["corpus_size"])
        h1, h2 = ref["hops"]
        assert (h1["relation"], h2["relation"]) == TEMPLATES[ref["template"]][:2]
        assert h1["object"] == h2["subject"] and h2["object"] == ref["answer"]
        assert ref["gold_docids"] == [h1["docid"], h2["docid"]] and h1["docid"] != h2["docid"]
        assert h1["subject"] in task.instruction and ref["answer"] not in task.instruction
        for hop in ref["hops"]:
            doc = corpus.doc(hop["docid"])
            assert doc.title == hop["subject"]
            assert f"{hop['phrase']} {hop['object']}" in doc.lines[hop["line"]]
        assert ref["answer"] in corpus.doc(h2["docid"]).text
        answer = corpus.entity_of(h2["docid"])
        assert ref["aliases"] == list(corpus.entities[corpus.fact(answer.key, h2["relation"]).object].aliases)


def test_difficulty_is_the_count_of_browsing_hazards():
    for difficulty in range(1, 6):
        tasks = [make_task(seed, difficulty, {}) for seed in range(40)]
        assert {hardness(t) for t in tasks} == {difficulty - 1}
        assert len({t.id for t in tasks}) > 30


def test_same_seed_same_task_and_the_id_is_a_content_hash():
    a, b = make_task(9, 2, {}), make_task(9, 2, {})
    assert a == b and re.fullmatch(r"two_hop-[0-9a-f]{16}", a.id)
    same = make_task(9, 2, {})
    same.seed = 10_000
    assert make_task(9, 3, {}).id != a.id and same.id == a.id
    assert make_task(9, 2, {"corpus_seed": 1}).id != a.id


def test_bad_difficulty_and_tier_are_refused_and_family_is_registered():
    with pytest.raises(ValueError, match="1..5"):
        make_task(0, 6, {})
    with pytest.raises(ValueError, match="tiers are"):
        family.make_teacher("reflective", make_task(0, 1, {}), random.Random(0), {})
    assert (family.kind, family.name, family.version) == ("research", "two_hop", "1")
    assert family.tiers == ("expert", "noisy", "random")


# ---------------------------------------------------------------------------- teachers


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 5])
def test_expert_always_succeeds_citing_its_evidence(difficulty):
    for seed in range(200):
        t = episode(seed, difficulty, "expert", SMALL if seed % 4 == 0 else None)
        ref = t.task.reference
        assert t.outcome.success and t.first_error_step == -1, (seed, t.outcome.detail)
        assert t.final_answer == ref["answer"] and t.steps[-1].reward == 1.0
        assert [s.action.name for s in t.steps][:3] == ["search", "open", "find"]
        assert [s.action.arguments.get("id") for s in t.steps if s.action.name == "open"] == ref["gold_docids"]
        for hop in ref["hops"]:
            assert f"{hop['docid']} L{hop['line']}" in t.steps[-1].thought


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_noisy_opens_a_distractor_the_env_rejects_and_answers_wrong(difficulty):
    hops = set()
    for seed in range(120):
        params = SMALL if seed % 4 == 0 else {}
        t = episode(seed, difficulty, "noisy", params, rng_seed=seed)
        ref, k = t.task.reference, t.first_error_step
        assert not t.outcome.success and k is not None and t.final_answer != ref["answer"]
        bad = t.steps[k].action
        assert bad.name == "open" and bad.arguments["id"] not in ref["gold_docids"]
        assert bad.arguments["id"] == t.policy.params["distractor"]
        hops.add(t.policy.params["error_hop"])
        env = family.make_env(t.task, params)  # replay: every earlier step was progress
        for step in t.steps[:k]:
            assert env.accepts(step.action)
            env.step(step.action)
        assert not env.accepts(bad)
        corpus = get_corpus(t.task.env["corpus_seed"], t.task.env["corpus_size"])
        assert corpus.entity_of(bad.arguments["id"]).kind == corpus.entity_of(ref["gold_docids"][t.policy.params["error_hop"]]).kind
    assert hops == {0, 1}


def test_noisy_prefers_the_near_namesake():
    corpus = get_corpus(0, 2000)
    picked = 0
    for seed in range(60):
        t = episode(seed, 5, "noisy", rng_seed=seed)  # at difficulty 5 both hops have namesakes
        hop = t.policy.params["error_hop"]
        subject = corpus.entity_of(t.task.reference["gold_docids"][hop])
        picked += corpus.entities[subject.namesake].docid == t.policy.params["distractor"]
    assert picked >= 50


def test_random_teacher_uses_tools_validly_and_usually_fails():
    outcomes = []
    for seed in range(200):
        t = episode(seed, seed % 5 + 1, "random", rng_seed=seed)
        names = [s.action.name for s in t.steps]
        assert names[-1] == "answer" and set(names[:-1]) <= {"search", "open", "find"}
        assert not any(s.observation.text.startswith("Error") for s in t.steps)
        outcomes.append(t.outcome.success)
    assert sum(outcomes) < 40


# ---------------------------------------------------------------------------- tables


def test_generation_is_deterministic_across_runs():
    a = shard(MIXED, [1, 2, 3, 4, 5], stop=120)
    b = shard(MIXED, [1, 2, 3, 4, 5], stop=120, prov=OTHER_PROV)
    assert without_provenance(a) == without_provenance(b)
    assert without_provenance(shard(MIXED, [1, 2], seed=8, stop=30)) != without_provenance(shard(MIXED, [1, 2], stop=30))
    assert without_provenance(shard(MIXED, [1, 2], stop=30, params=SMALL)) != without_provenance(shard(MIXED, [1, 2], stop=30))


def test_generation_is_byte_identical_in_another_process():
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.test_research_two_hop import MIXED, digest, shard;"
        "print(digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60)))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(shard(MIXED, [1, 2, 3, 4, 5], stop=60))


def test_generated_tables_validate():
    table = shard(MIXED, [1, 2, 3, 4, 5], stop=300)
    validate_table(exact_dedup(table)[0])  # the pipeline deduplicates exact ids before publishing
    assert set(table["kind"].to_pylist()) == {"research"}
    assert set(table["policy"].combine_chunks().field("tier").to_pylist()) == set(MIXED)


def test_trajectories_round_trip_through_rows():
    for seed, tier in enumerate(["expert", "noisy", "random"] * 3):
        t = episode(seed, seed % 5 + 1, tier, rng_seed=seed)
        assert Trajectory.from_row(t.to_row()) == t
