"""The researchers of every tier, the long tail, context management, replay determinism and
the llm tier's tool-call protocol."""

import hashlib
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from stores.corpus import Imported, open_corpus, publish_corpus
from stores.schema import Action, Observation, Step, Trajectory, to_table
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.research.facts import fact_base
from synth.research.questions import normalize_answer
from tests.research_world import PROV, episode, family, params, world

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {"search", "open", "find"}


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 5])
def test_expert_succeeds_citing_its_evidence(difficulty):
    for seed in range(40):
        t = episode(seed, difficulty, "expert")
        ref = t.task.reference
        assert t.outcome.success and t.first_error_step == -1, (seed, t.outcome.detail)
        assert t.final_answer == ref["answer"] and t.steps[-1].reward == 1.0
        assert t.scores["evidence_recall"] == 1.0 and t.scores["evidence_found"] == 1.0
        assert t.steps[0].action.name in ("search", "open") and t.initial_observation.text.startswith("Browser ready")
        assert f"{ref['hops']}-hop" not in t.steps[0].thought  # the hop count is a label, not something it knows
        last = t.steps[-1].thought
        for e in ref["evidence"]:
            assert f"{e['docid']} L{e['line']}" in last
        assert not any(s.observation.text.startswith("Error") for s in t.steps)


def test_horizon_grows_with_difficulty():
    mean = {d: sum(len(episode(s, d, "expert").steps) for s in range(40)) / 40 for d in (1, 3, 5)}
    assert mean[1] < mean[3] < mean[5], mean


def _replay_until(t: Trajectory, k: int):
    fam, p = family(), params()
    env = fam.make_env(t.task, p)
    for step in t.steps[:k]:
        assert env.accepts(step.action), step
        env.step(step.action)
    return env


def _seen_text(t: Trajectory, i: int) -> str:
    """What the agent had seen before writing step ``i``'s thought."""
    return "\n".join([t.task.instruction, t.initial_observation.text] + [s.observation.text for s in t.steps[:i]])


NAME = __import__("re").compile(r"(?:The )?[A-Z][a-z]+(?: [A-Z][a-z]+)*")


def _unseen_names(t: Trajectory) -> list[tuple[int, str]]:
    """Entity names a thought uses before any observation (or the question) showed them."""
    fb = fact_base(open_corpus(*world()))
    out = []
    for i, step in enumerate(t.steps):
        seen = _seen_text(t, i)
        for name in set(NAME.findall(step.thought)):
            if name in fb.by_name and name not in seen:
                out.append((i, name))
    return out


@pytest.mark.parametrize("tier", ["expert", "reflective", "noisy", "random"])
def test_thoughts_name_only_what_was_seen_and_no_query_repeats(tier):
    for seed in range(30):
        t = episode(seed, seed % 5 + 1, tier, rng_seed=seed)
        assert _unseen_names(t) == [], (seed, _unseen_names(t))
        queries = [" ".join(s.action.arguments["query"].lower().split()) for s in t.steps if s.action.name == "search"]
        assert len(queries) == len(set(queries)), queries


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_reflective_takes_a_believable_detour_notices_and_recovers(difficulty):
    modes = set()
    for seed in range(30):
        t = episode(seed, difficulty, "reflective", rng_seed=seed)
        detour = t.policy.params["detour"]
        modes.add(detour["mode"])
        assert t.outcome.success, seed
        assert detour["cause"]
        k = t.first_error_step
        if detour["mode"] == "slip":  # caught in its own thought before anything was done: no wrong step
            assert k == -1 and any("slip" in s.thought or "nearly" in s.thought or "Not " in s.thought
                                   for s in t.steps[-2:])
            continue
        assert k is not None and k >= 0, seed
        bad = t.steps[k].action
        assert bad.name == "open"  # the wrong step the env sees is opening the wrong page
        assert detour["docid"] not in t.task.reference["gold_docids"]
        env = _replay_until(t, k)
        assert not env.accepts(bad)
        # the catch names what gave it away: the wrong page, the misread line's subject, or the mention's page
        wrong = open_corpus(*world()).title(open_corpus(*world()).row(detour["docid"]))
        later = " ".join(s.thought for s in t.steps[k + 1:])
        assert wrong in later or detour["docid"] in later or "L" in later
    assert modes & {"namesake", "misread", "conflict", "distractor"}


def test_reflective_prefers_traps_and_uses_conflicting_pages():
    modes = [episode(seed, 5, "reflective", rng_seed=seed).policy.params["detour"]["mode"] for seed in range(40)]
    assert modes.count("namesake") + modes.count("conflict") + modes.count("misread") >= 25, modes
    assert "namesake" in modes and "misread" in modes


def test_a_detour_opens_the_wrong_page_only_when_it_is_confusable():
    """The page opened instead is a near-namesake spelled one letter apart, a page ranked above
    the exact match in the results shown, a result whose snippet states the fact, or the page
    a misread line names; the thought at the mistake names what it believes (the entity it is
    looking for), not the page it really opened."""
    corpus = open_corpus(*world())
    for seed in range(40):
        t = episode(seed, 2 + seed % 4, "noisy", rng_seed=seed)
        detour, k = t.policy.params["detour"], t.first_error_step
        if detour["mode"] not in ("namesake", "distractor"):
            continue
        row = corpus.row(detour["docid"])
        results = next(s for s in reversed(t.steps[:k]) if s.action.name == "search").observation.text
        assert f"({detour['docid']})" in results
        thought = t.steps[k].thought
        assert corpus.title(row) not in thought.split(" is ")[0], thought  # it does not say it opens the other one


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_noisy_makes_a_believable_mistake_and_answers_wrong(difficulty):
    for seed in range(30):
        t = episode(seed, difficulty, "noisy", rng_seed=seed)
        ref, k = t.task.reference, t.first_error_step
        assert not t.outcome.success and k is not None and 0 <= k < len(t.steps), seed
        assert normalize_answer(t.final_answer) not in {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
        env = _replay_until(t, k)
        assert not env.accepts(t.steps[k].action)
        mode = t.policy.params["detour"]["mode"]
        assert mode in ("namesake", "distractor", "conflict", "misread", "slip", "guess")
        if mode in ("namesake", "distractor", "conflict"):
            assert t.steps[k].action.name == "open"


def test_random_uses_tools_validly_and_usually_fails():
    outcomes = []
    for seed in range(100):
        t = episode(seed, seed % 5 + 1, "random", rng_seed=seed)
        names = [s.action.name for s in t.steps]
        assert names[-1] == "answer" and set(names[:-1]) <= TOOLS
        assert not any(s.observation.text.startswith("Error") for s in t.steps)
        outcomes.append(t.outcome.success)
    assert sum(outcomes) < 20


def test_long_tail_follows_what_it_saw_without_repeating_itself():
    extra = {"long_tail": {"rate": 1.0, "min_calls": 25}}
    long = 0
    for seed in range(12):
        t = episode(seed, 2 + seed % 4, "expert", extra, rng_seed=seed)
        assert t.outcome.success and t.first_error_step == -1, seed
        plain = episode(seed, 2 + seed % 4, "expert", rng_seed=seed)
        calls = sum(s.action.name in TOOLS for s in t.steps)
        if not t.policy.params["long_tail"]:  # too few leads on this question: researched plainly
            assert t.steps == plain.steps or calls < sum(s.action.name in TOOLS for s in plain.steps) + 25
            continue
        long += 1
        assert t.policy.params["extra_calls"] >= 25 and calls >= 25 + 4, (seed, calls)
        assert t.scores["evidence_recall"] == 1.0
        queries = [s.action.arguments["query"].lower() for s in t.steps if s.action.name == "search"]
        assert len(queries) == len(set(queries))
        assert not any(s.observation.text.startswith("Error") for s in t.steps)
        assert _unseen_names(t) == []
        opened = {s.action.arguments.get("id") for s in t.steps if s.action.name == "open"}
        assert len(opened - set(t.task.reference["gold_docids"])) >= 3  # other pages read
        assert "Perhaps a page links" not in " ".join(s.thought for s in t.steps)
    assert long >= 6
    hops = {episode(s, 5, "expert", extra, rng_seed=s).task.reference["hops"] for s in range(6)
            if episode(s, 5, "expert", extra, rng_seed=s).policy.params["long_tail"]}
    assert hops & {3, 4}  # not only 2-hop questions


def test_context_summarize_appears_only_when_on():
    t = episode(3, 5, "expert", {"context": {"every": 4}}, rng_seed=3)
    at = [i for i, s in enumerate(t.steps) if s.action.name == "context.summarize"]
    calls = sum(s.action.name in TOOLS for s in t.steps)
    assert len(at) == calls // 4 and at
    for i in at:
        assert sum(s.action.name in TOOLS for s in t.steps[:i]) % 4 == 0
        memory = t.steps[i].observation.text
        assert memory.startswith("Memory after") and "Facts found (source):" in memory
    last = t.steps[at[-1]].observation.text
    assert any(f"[{e['docid']} L{e['line']}]" in last for e in t.task.reference["evidence"])  # facts with sources
    assert t.outcome.success and t.first_error_step == -1
    assert not any(s.action.name == "context.summarize" for s in episode(3, 5, "expert").steps)


def test_corrupted_copies_fail_where_they_refer_to_what_does_not_exist_yet():
    """Dropping the search an open relies on, or moving the open before it, makes the open an
    error in the replay: the corrupted copy is labelled at that step, not success and -1."""
    from synth.corrupt.labels import Replay

    fam, p = family(), params()
    checked = 0
    for seed in range(20):
        t = episode(seed, 2, "expert", rng_seed=seed)
        k = next((i for i in range(1, len(t.steps)) if t.steps[i].action.name == "open"
                  and t.steps[i - 1].action.name == "search"
                  and str(t.steps[i].action.arguments.get("id", "")).startswith("doc-")), None)
        if k is None:
            continue
        for steps in (t.steps[:k - 1] + t.steps[k:], t.steps[:k - 1] + [t.steps[k], t.steps[k - 1]] + t.steps[k + 1:]):
            env = fam.make_env(t.task, p)
            replay = run_episode("research", t.task, env, Replay(t, steps), PROV, max_steps=len(steps)).trajectory
            assert replay.first_error_step == k - 1, (seed, replay.first_error_step)
            assert replay.steps[k - 1].observation.text.startswith("Error: docid")
        checked += 1
    assert checked >= 10


def test_replay_from_the_json_round_tripped_task_reproduces_every_observation():
    fam, p = family(), params()
    for seed, tier in enumerate(["expert", "reflective", "noisy", "random"] * 2):
        t = episode(seed, seed % 5 + 1, tier, rng_seed=seed)
        again = Trajectory.from_row(to_table([t]).to_pylist()[0])
        env = fam.make_env(again.task, p)
        assert env.observe().text == t.initial_observation.text
        for step in again.steps:
            assert env.step(step.action).text == step.observation.text
        assert again == t


def _shard(stop: int, seed: int = 1):
    spec = ShardSpec("multihop", seed, 0, stop, {"expert": 0.4, "reflective": 0.2, "noisy": 0.2, "random": 0.2},
                     (1, 2, 3, 4, 5), params())
    return generate_shard(spec, PROV).trajectories


def test_generation_is_byte_identical_in_another_process():
    digest = hashlib.sha256(orjson.dumps(_shard(40).drop_columns(["provenance"]).to_pylist(),
                                         option=orjson.OPT_SORT_KEYS)).hexdigest()
    store, ref = world()
    code = (
        "import sys, hashlib, orjson; sys.path.insert(0, '.');"
        "from stores.corpus import publish_corpus; from stores.store import Store;"
        "from synth.research.world import Generated, WorldSpec; import tests.research_world as w;"
        f"w.world.cache_clear(); w.world = lambda: (Store({str(store.root)!r}), {ref!r});"
        "from tests.test_research_agents import _shard;"
        "t = _shard(40).drop_columns(['provenance']).to_pylist();"
        "print(hashlib.sha256(orjson.dumps(t, option=orjson.OPT_SORT_KEYS)).hexdigest())"
    )
    env = {"PYTHONHASHSEED": "4242", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest
    assert _shard(40, seed=2).to_pylist() != _shard(40).to_pylist()


def test_tier_errors_are_clear():
    fam = family()
    task = fam.make_task(0, 1, params())
    with pytest.raises(ValueError, match="tiers are"):
        fam.make_teacher("psychic", task, random.Random(0), params())
    with pytest.raises(ValueError, match="LLM agent runner"):
        fam.make_teacher("llm", task, random.Random(0), params())
    assert (fam.kind, fam.name) == ("research", "multihop") and "reflective" in fam.tiers


# ---------------------------------------------------------------------------- bring your own


def test_expert_and_noisy_on_a_brought_corpus(tmp_path):
    docs = [{"docid": f"b{i}", "title": f"Lake {i}", "url": f"https://lakes.example/{i}",
             "text": f"Lake {i} is a lake.\nIts depth is {10 + i} metres.\nIt freezes in winter."} for i in range(30)]
    path = tmp_path / "lakes.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    store, _ = world()
    info = publish_corpus(store, "lakes", Imported(str(path)))
    questions = tmp_path / "q.jsonl"
    questions.write_bytes(b"".join(orjson.dumps({"question": f"How deep is Lake {i}?", "answer": f"{10 + i} metres",
                                                 "aliases": [str(10 + i)], "evidence": [f"b{i}"]}) + b"\n"
                                   for i in range(30)))
    p = {"corpus": {"ref": info.ref, "store": str(store.root)}, "questions": str(questions)}
    fam = family()
    for seed in range(5):
        task = fam.make_task(seed, 1, p)
        expert = run_episode("research", task, fam.make_env(task, p), fam.make_teacher("expert", task, random.Random(0), p), PROV)
        assert expert.trajectory.outcome.success and expert.trajectory.first_error_step == -1
        assert expert.trajectory.scores["evidence_found"] == 1.0
        noisy = run_episode("research", task, fam.make_env(task, p), fam.make_teacher("noisy", task, random.Random(0), p), PROV)
        assert not noisy.trajectory.outcome.success and noisy.trajectory.first_error_step is not None
    with pytest.raises(ValueError, match="reflective tier needs a generated world"):
        fam.make_teacher("reflective", task, random.Random(0), p)


# ---------------------------------------------------------------------------- llm protocol


def _protocol(**extra):
    fam = family()
    task = fam.make_task(2, 3, params(**extra))
    return task, fam.llm_protocol(task, params(**extra))


def test_messages_hold_the_tools_the_question_and_the_history():
    task, protocol = _protocol(context={"every": 10})
    first = protocol.messages(task, [], "Browser ready on corpus X.")
    assert [m["role"] for m in first] == ["system", "user"]
    system = first[0]["content"]
    for tool in ("search {", "open {", "find {", "answer {", "context.summarize"):
        assert tool in system
    assert task.reference["question"] in first[1]["content"] and "Browser ready on corpus X." in first[1]["content"]
    steps = [Step(0, "Look it up.", Action("search", {"query": "Veltrix"}), Observation("Results ..."), None, 0.0),
             Step(1, "garbled", Action("invalid_reply", {"error": "no tool call found"}), Observation("Error: ..."), None, 0.0)]
    later = protocol.messages(task, steps, "Error: ...")
    assert [m["role"] for m in later] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert later[1]["content"].endswith(f"Browser ready on corpus {task.env['corpus']['ref']}. No page is open. "
                                        "Tools: search, open, find; finish with answer.")
    assert later[2]["content"] == 'Look it up.\n{"arguments":{"query":"Veltrix"},"tool":"search"}'
    assert later[4]["content"] == "garbled" and later[5]["content"] == "Error: ..."
    _, plain = _protocol()
    assert "context.summarize" not in plain.system


@pytest.mark.parametrize("reply,thought,name,arguments", [
    ('I should search.\n{"tool": "search", "arguments": {"query": "a {b}"}}', "I should search.", "search", {"query": "a {b}"}),
    ('Open it.\n```json\n{"tool": "open", "arguments": {"id": 3, "loc": 20}}\n```', "Open it.", "open", {"id": 3, "loc": 20}),
    ('{"name": "find", "arguments": "{\\"pattern\\": \\"born in\\"}"}', "", "find", {"pattern": "born in"}),
    ('Step {1}: done. {"tool": "answer", "arguments": {"answer": 1962}}', "Step {1}: done.", "answer", {"answer": "1962"}),
])
def test_parse_reads_the_last_tool_call(reply, thought, name, arguments):
    _, protocol = _protocol()
    assert protocol.parse(reply) == (thought, Action(name, arguments))


@pytest.mark.parametrize("reply,message", [
    ("", "empty reply"),
    ("I will search for it.", "no tool call found"),
    ('{"tool": "browse", "arguments": {}}', "unknown tool 'browse'"),
    ('{"tool": "search", "arguments": [1]}', "'arguments' must be a JSON object"),
    ('{"tool": "answer", "arguments": {}}', 'answer needs {"answer"'),
    ('{"tool": "context.summarize", "arguments": {}}', "unknown tool 'context.summarize'"),
])
def test_parse_refuses_malformed_replies_clearly(reply, message):
    _, protocol = _protocol()
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("(", r"\(")):
        protocol.parse(reply)


def test_the_llm_tier_runs_through_the_agent_runner(tmp_path):
    """A scripted model over real HTTP that replays the expert's calls (one garbled reply on
    its second turn): the runner, this protocol and the env together."""
    from synth.llm.agent import INVALID_REPLY, agent_episodes
    from synth.llm.cache import RequestCache
    from synth.llm.client import ChatClient, LLMSettings
    from tests.llm_server import LLMServer

    fam, p = family(), params()
    tasks = [fam.make_task(seed, 2, p) for seed in range(3)]
    plans = {t.reference["question"]: fam.make_teacher("expert", t, random.Random(0), p).plan for t in tasks}

    def model(messages, attempt):  # turn 1 is garbled; later turns replay the plan one step behind
        plan = next(v for q, v in plans.items() if q in messages[1]["content"])
        turn = sum(m["role"] == "assistant" for m in messages)
        if turn == 1:
            return "Let me think about where to look first."
        thought, action = plan[turn - 1 if turn else 0]
        return thought + "\n" + orjson.dumps({"tool": action.name, "arguments": action.arguments}).decode()

    with LLMServer(model) as server, RequestCache(tmp_path / "llm.sqlite") as cache:
        settings = LLMSettings(base_url=server.base_url, model="research-test", max_retries=1, backoff_s=0.01,
                               backoff_max_s=0.02, timeout_s=5)
        with ChatClient(settings, cache) as client:
            batch = agent_episodes(fam, tasks, client, p, PROV, max_rounds=60)
    assert batch.failures == [] and len(batch.trajectories) == 3
    for t in batch.trajectories:
        assert t.outcome.success and t.policy.tier == "llm"
        assert t.steps[1].action.name == INVALID_REPLY and t.first_error_step == 1
        assert t.initial_observation.text.startswith("Browser ready")
        assert t.scores["evidence_recall"] == 1.0
