"""``two_hop``: two-hop questions answered with a search/open/find browser over a generated
encyclopedia (:mod:`stores.corpus`).

A question chains two facts (``In which city was the founder of Veltrix Dynamics born?`` is
``founded_by`` then ``born_in``), so an agent must find the bridge entity on one page before
it can look up the answer on another. The corpus is built from family params, not from the
task seed, so every task of a run browses the same pages and one BM25 index serves them all.

Difficulty counts what makes a chain hard to browse: the start entity has a near-namesake,
the bridge entity has one, the first fact lies below the first screen of its page, the
second one does (difficulty = 1 + that count, falling back to the nearest count the corpus
holds). Progress is checkable at every step, which is what ``first_error_step`` needs: a
search is progress when it surfaces an evidence page not seen yet, an open when it opens an
evidence page, a find when it locates the evidence line, an answer when it matches.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stores.corpus import (
    CITY,
    ORG,
    PERSON,
    RELATIONS,
    SCREEN_LINES,
    Corpus,
    Document,
    Entity,
    get_corpus,
    possessive,
)
from stores.schema import Action, Outcome, Policy, Task, canonical_json
from synth.episode import StepResult
from synth.registry import register

FAMILY = "two_hop"
VERIFIER = "exact-match"
MAX_TOOL_CALLS = 20
MAX_TOPN = 20
TEACHER_TOPN = 5
_MAX_FIND_LINES = 10
_SNIPPET_CHARS = 120

#: template -> (first relation, second relation, phrasings of the question about {x}; {xs}
#: is the possessive). Several phrasings per chain: paraphrase variety is part of the data.
TEMPLATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "founder_birthplace": ("founded_by", "born_in", (
        "In which city was the founder of {x} born?",
        "What is the birthplace of the person who founded {x}?",
        "The founder of {x} was born in which city?",
    )),
    "employer_hq": ("works_for", "headquartered_in", (
        "In which city is the organisation that {x} works for headquartered?",
        "Where is the headquarters of {xs} employer?",
        "{xs} employer is headquartered in which city?",
    )),
    "birthplace_country": ("born_in", "located_in", (
        "In which country was {x} born?",
        "In what country is the birthplace of {x}?",
        "{x} was born in a city of which country?",
    )),
    "hq_country": ("headquartered_in", "located_in", (
        "In which country is {x} headquartered?",
        "In what country are the headquarters of {x}?",
        "{x} has its headquarters in a city of which country?",
    )),
    "employer_founder": ("works_for", "founded_by", (
        "Who founded the organisation that {x} works for?",
        "Who is the founder of {xs} employer?",
        "{x} works for an organisation; who founded it?",
    )),
    "founder_employer": ("founded_by", "works_for", (
        "Which organisation does the founder of {x} work for?",
        "Who employs the person who founded {x}?",
        "The founder of {x} works for which organisation?",
    )),
}
_HOP_QUESTION = {
    "founded_by": "who founded {x}",
    "born_in": "where {x} was born",
    "works_for": "which organisation {x} works for",
    "headquartered_in": "where {x} is headquartered",
    "located_in": "which country {x} is in",
}
_NOUN = {PERSON: "person", ORG: "organisation", CITY: "city"}
_ARTICLES = frozenset({"a", "an", "the"})


# ---------------------------------------------------------------------------- verifier


def normalize_answer(text: str) -> str:
    """Lowercase, punctuation to spaces, articles dropped, whitespace collapsed (SQuAD-style)."""
    return " ".join(w for w in re.sub(r"[^\w\s]", " ", text.lower()).split() if w not in _ARTICLES)


def verify_answer(answer: str | None, gold: str, aliases: list[str]) -> Outcome:
    """Normalized exact match of ``answer`` against the gold answer and its aliases."""
    if answer is None:
        return Outcome(False, VERIFIER, f"no answer given; expected {gold!r}")
    got = normalize_answer(answer)
    if got == normalize_answer(gold):
        return Outcome(True, VERIFIER, f"{answer!r} matches the gold answer {gold!r}")
    for alias in aliases:
        if got == normalize_answer(alias):
            return Outcome(True, VERIFIER, f"{answer!r} matches alias {alias!r} of the gold answer {gold!r}")
    return Outcome(False, VERIFIER, f"{answer!r} does not match the gold answer {gold!r} or its aliases {aliases}")


# ---------------------------------------------------------------------------- browser views


def find_lines(doc: Document, pattern: str) -> list[int]:
    """Indexes of the page's lines containing ``pattern`` (case-insensitive, literal)."""
    needle = pattern.lower()
    return [i for i, line in enumerate(doc.lines) if needle in line.lower()]


def render_results(corpus: Corpus, query: str, results: list[tuple[str, float]]) -> str:
    if not results:
        return f'No results for "{query}".'
    out = [f'Results for "{query}":']
    for rank, (docid, _) in enumerate(results, 1):
        doc = corpus.doc(docid)
        snippet = doc.lines[1] if len(doc.lines[1]) <= _SNIPPET_CHARS else doc.lines[1][: _SNIPPET_CHARS - 3] + "..."
        out.append(f"[{rank}] {doc.title} | {docid} | {doc.url}\n    {snippet}")
    return "\n".join(out)


def render_page(doc: Document, screen: int) -> str:
    shown = doc.lines[:screen]
    out = [f"{doc.docid} | {doc.title} | {doc.url}"] + [f"L{i}: {line}" for i, line in enumerate(shown)]
    if len(doc.lines) > screen:
        out.append(f"[lines 0-{screen - 1} of {len(doc.lines)}; use find to search the rest]")
    return "\n".join(out)


def render_find(doc: Document, pattern: str, hits: list[int]) -> str:
    head = f'Find "{pattern}" in {doc.docid} ({doc.title}):'
    if not hits:
        return f"{head} no matches."
    more = f"\n[{len(hits) - _MAX_FIND_LINES} more matches not shown]" if len(hits) > _MAX_FIND_LINES else ""
    return f"{head} {len(hits)} match(es)\n" + "\n".join(f"L{i}: {doc.lines[i]}" for i in hits[:_MAX_FIND_LINES]) + more


# ---------------------------------------------------------------------------- environment


@dataclass(slots=True)
class _Call:
    """A parsed tool call: ``error`` is set when the call is malformed."""

    name: str
    value: Any = None
    topn: int = TEACHER_TOPN
    error: str | None = None


class BrowserEnv:
    """One episode's browser: what has been listed, opened and located so far."""

    def __init__(self, task: Task):
        env, ref = task.env, task.reference
        self.corpus = get_corpus(env["corpus_seed"], env["corpus_size"])
        self.screen = env["screen_lines"]
        self.budget = env["max_tool_calls"]
        self.gold = list(ref["gold_docids"])
        self.evidence = {hop["docid"]: hop["line"] for hop in ref["hops"]}
        self.answer, self.aliases = ref["answer"], list(ref["aliases"])
        self.surfaced: set[str] = set()  # docids listed by any search so far
        self.opened: set[str] = set()
        self.located: set[str] = set()  # evidence pages whose evidence line a find has shown
        self.page: Document | None = None
        self.calls = 0

    def _parse(self, action: Action) -> _Call:
        args = action.arguments if isinstance(action.arguments, dict) else {}
        if action.name == "search":
            query, topn = args.get("query"), args.get("topn", TEACHER_TOPN)
            if not isinstance(query, str) or not query.strip():
                return _Call("search", error="search needs a non-empty string 'query'")
            if not isinstance(topn, int) or isinstance(topn, bool) or not 1 <= topn <= MAX_TOPN:
                return _Call("search", error=f"'topn' must be an integer from 1 to {MAX_TOPN}")
            return _Call("search", query, topn)
        if action.name == "open":
            ref = args.get("id")
            doc = self.corpus.doc(ref) if isinstance(ref, str) else None
            return _Call("open", doc) if doc else _Call("open", error=f"no page with id {ref!r}")
        if action.name == "find":
            pattern = args.get("pattern")
            if not isinstance(pattern, str) or not pattern.strip():
                return _Call("find", error="find needs a non-empty string 'pattern'")
            if self.page is None:
                return _Call("find", error="no page is open; open a page before find")
            return _Call("find", pattern)
        if action.name == "answer":
            return _Call("answer", str(args.get("answer", "")))
        return _Call(action.name, error=f"unknown tool {action.name!r}; tools are search, open, find, answer")

    def accepted_actions(self) -> list[dict[str, Any]]:
        """The tool calls that are progress now, as constraints (searches and finds have
        unboundedly many accepted spellings, so they are described, not enumerated):
        ``search`` whose results include any of ``retrieves_any``; ``open`` of any id in
        ``id_any``; ``find`` whose pattern occurs in line ``matches_line`` of the open page;
        ``answer`` equal after normalization to any of ``answer_any``."""
        out: list[dict[str, Any]] = []
        unseen = [d for d in self.gold if d not in self.surfaced and d not in self.opened]
        if unseen:
            out.append({"name": "search", "retrieves_any": unseen})
        unopened = [d for d in self.gold if d not in self.opened]
        if unopened:
            out.append({"name": "open", "id_any": unopened + [self.corpus.doc(d).url for d in unopened]})
        if self.page is not None and self.page.docid in self.evidence and self.page.docid not in self.located:
            out.append({"name": "find", "docid": self.page.docid, "matches_line": self.evidence[self.page.docid]})
        out.append({"name": "answer", "answer_any": [self.answer, *self.aliases]})
        return out

    def accepts(self, action: Action) -> bool:
        call = self._parse(action)
        if call.error:
            return False
        if call.name == "search":
            return any(d in self.gold and d not in self.surfaced and d not in self.opened
                       for d, _ in self.corpus.search(call.value, call.topn))
        if call.name == "open":
            return call.value.docid in self.gold and call.value.docid not in self.opened
        if call.name == "find":
            docid = self.page.docid
            return (docid in self.evidence and docid not in self.located
                    and call.value.lower() in self.page.lines[self.evidence[docid]].lower())
        return verify_answer(call.value, self.answer, self.aliases).success

    def step(self, action: Action) -> StepResult:
        self.calls += 1
        call = self._parse(action)
        if call.name == "answer" and not call.error:
            correct = verify_answer(call.value, self.answer, self.aliases).success
            return StepResult(f"Answer submitted: {call.value}", 1.0 if correct else 0.0, True)
        if call.error:
            text = f"Error: {call.error}."
        elif call.name == "search":
            results = self.corpus.search(call.value, call.topn)
            self.surfaced.update(d for d, _ in results)
            text = render_results(self.corpus, call.value, results)
        elif call.name == "open":
            self.page = call.value
            self.opened.add(self.page.docid)
            text = render_page(self.page, self.screen)
        else:
            hits = find_lines(self.page, call.value)
            if self.evidence.get(self.page.docid) in hits:
                self.located.add(self.page.docid)
            text = render_find(self.page, call.value, hits)
        if self.calls >= self.budget:
            return StepResult(text + f"\n[tool budget of {self.budget} calls used up; episode over]", 0.0, True)
        return StepResult(text)

    def outcome(self, final_answer: str | None) -> Outcome:
        return verify_answer(final_answer, self.answer, self.aliases)


# ---------------------------------------------------------------------------- tasks


@functools.lru_cache(maxsize=8)
def _pools(corpus_seed: int, corpus_size: int) -> dict[int, list[tuple[str, str]]]:
    """hardness 0..4 -> every (template, start entity key) whose chain has that hardness."""
    corpus = get_corpus(corpus_seed, corpus_size)
    pools: dict[int, list[tuple[str, str]]] = {}
    for template, (rel1, rel2, _) in TEMPLATES.items():
        for start in corpus.of_kind(RELATIONS[rel1][0]):
            f1 = corpus.fact(start.key, rel1)
            f2 = corpus.fact(f1.object, rel2)
            if f2.object == start.key:  # "who founded the organisation X works for?" -> X
                continue
            bridge = corpus.entities[f1.object]
            hardness = (start.namesake is not None) + (bridge.namesake is not None)
            hardness += (f1.line >= SCREEN_LINES) + (f2.line >= SCREEN_LINES)
            pools.setdefault(hardness, []).append((template, start.key))
    return pools


def make_task(seed: int, difficulty: int, params: dict[str, Any]) -> Task:
    if difficulty not in range(1, 6):
        raise ValueError(f"two_hop difficulty must be 1..5, got {difficulty}")
    corpus_seed, corpus_size = int(params.get("corpus_seed", 0)), int(params.get("corpus_size", 2000))
    corpus = get_corpus(corpus_seed, corpus_size)
    pools = _pools(corpus_seed, corpus_size)
    rng = random.Random(seed)
    # uniform over chains (not templates first), so few tasks repeat; nearest hardness if none
    hardness = min(pools, key=lambda h: (abs(h - (difficulty - 1)), h))
    template, key = rng.choice(pools[hardness])
    start = corpus.entities[key]
    rel1, rel2, phrasings = TEMPLATES[template]
    hops, subject = [], start
    for rel in (rel1, rel2):
        fact = corpus.fact(subject.key, rel)
        obj = corpus.entities[fact.object]
        hops.append({"subject": subject.name, "relation": rel, "object": obj.name,
                     "docid": fact.docid, "line": fact.line, "phrase": RELATIONS[rel][2]})
        subject = obj
    question = rng.choice(phrasings).format(x=start.name, xs=possessive(start.name))
    reference = {
        "question": question, "template": template, "answer": subject.name,
        "aliases": list(subject.aliases), "answer_kind": subject.kind,
        "gold_docids": [h["docid"] for h in hops], "hops": hops,
    }
    env = {"corpus_seed": corpus_seed, "corpus_size": corpus_size,
           "screen_lines": SCREEN_LINES, "max_tool_calls": MAX_TOOL_CALLS}
    instruction = f"{question}\nUse the search, open and find tools to gather evidence, then answer with the name."
    content = {"family": FAMILY, "difficulty": difficulty, "instruction": instruction,
               "reference": reference, "env": env}
    task_id = f"{FAMILY}-" + hashlib.sha256(canonical_json(content).encode()).hexdigest()[:16]
    return Task(task_id, FAMILY, instruction, difficulty, reference, env, seed)


# ---------------------------------------------------------------------------- teachers


@dataclass
class ScriptedTeacher:
    """Replays a plan made up front from the corpus (search results are deterministic, so
    the plan equals what reacting to each observation would produce)."""

    policy: Policy
    plan: list[tuple[str, Action]]

    def act(self, env: BrowserEnv, history: list) -> tuple[str, Action]:
        return self.plan[len(history)]


@dataclass
class _Script:
    """Builds a plan while tracking what the browser would have listed and shown."""

    corpus: Corpus
    topn: int
    steps: list[tuple[str, Action]] = field(default_factory=list)
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)  # docid -> (query, rank)
    note: str = ""  # what the last observation taught, said at the start of the next thought

    def say(self, thought: str, action: Action) -> None:
        self.steps.append(((self.note + " " + thought).strip(), action))
        self.note = ""

    def search(self, query: str, thought: str) -> None:
        self.say(thought, Action("search", {"query": query, "topn": self.topn}))
        for rank, (docid, _) in enumerate(self.corpus.search(query, self.topn), 1):
            self.seen.setdefault(docid, (query, rank))

    def open(self, docid: str, believed: str, sure: bool) -> None:
        title = self.corpus.doc(docid).title
        verb = "is" if sure else "looks like"
        if docid in self.seen:
            query, rank = self.seen[docid]
            where = f"Result [{rank}] for \"{query}\", '{title}' ({docid}), {verb} the page on {believed};"
        else:
            where = f"{docid} {verb} the page on {believed};"
        self.say(f"{where} open it.", Action("open", {"id": docid}))

    def find(self, docid: str, relation: str, believed: str) -> int:
        """Find the relation phrase; remember the evidence line for the next thought.
        Returns the line of the fact that the opened page states about its own subject."""
        phrase = RELATIONS[relation][2]
        subject = self.corpus.entity_of(docid)
        fact = self.corpus.fact(subject.key, relation)
        self.say(f"Search the page for '{phrase}' to find {_HOP_QUESTION[relation].format(x=believed)}.",
                 Action("find", {"pattern": phrase}))
        doc = self.corpus.doc(docid)
        others = [f"L{i}" for i in find_lines(doc, phrase) if i != fact.line]
        aside = f" ({', '.join(others)} concern other {_NOUN[subject.kind]}s.)" if others else ""
        obj = self.corpus.entities[fact.object].name
        self.note = f'L{fact.line} reads "{doc.lines[fact.line]}"{aside} So {obj} is the answer to ' \
                    f"{_HOP_QUESTION[relation].format(x=believed)}."
        return fact.line


Picker = Callable[[int, Entity, list[str]], str | None]


def _walk(corpus: Corpus, task: Task, topn: int, error_hop: int | None = None,
          pick: Picker | None = None) -> _Script | None:
    """The two-hop routine: for each hop search the subject (unless its page was already
    listed), open the page, find the relation, carry the object to the next hop, answer.

    At ``error_hop``, ``pick(hop, subject, view)`` chooses the page actually opened from the
    pages in view (None: no plausible distractor, so no plan); its fact is then taken as if
    it were the subject's, which is the noisy teacher's mistake.
    """
    ref = task.reference
    script = _Script(corpus, topn)
    subject = corpus.entity_of(ref["hops"][0]["docid"])
    rel1, rel2, _ = TEMPLATES[ref["template"]]
    bridge_noun = _NOUN[RELATIONS[rel1][1]]
    first = (f"Two hops: first {_HOP_QUESTION[rel1].format(x=subject.name)}, then "
             f"{_HOP_QUESTION[rel2].format(x='that ' + bridge_noun)}.")
    evidence = []
    for hop, rel in enumerate((rel1, rel2)):
        target = subject.docid
        if hop == error_hop:
            view = list(script.seen) if subject.docid in script.seen else \
                [d for d, _ in corpus.search(subject.name, topn)]
            target = pick(hop, subject, view)
            if target is None:
                return None
        if target not in script.seen:
            script.search(subject.name, (first + " " if hop == 0 else "") + f"Search for {subject.name}.")
        script.open(target, subject.name, sure=target == subject.docid)
        line = script.find(target, rel, subject.name)
        evidence.append(f"{target} L{line}")
        subject = corpus.entities[corpus.fact(corpus.entity_of(target).key, rel).object]
    script.say(f"Evidence: {' and '.join(evidence)}. Answer: {subject.name}.",
               Action("answer", {"answer": subject.name}))
    return script


def _expert(task: Task, corpus: Corpus) -> ScriptedTeacher:
    script = _walk(corpus, task, TEACHER_TOPN)
    return ScriptedTeacher(Policy(f"{FAMILY}-expert", "expert", None, {"topn": TEACHER_TOPN}), script.steps)


def _noisy(task: Task, corpus: Corpus, rng: random.Random) -> ScriptedTeacher:
    """Opens a wrong page of the right kind at a seeded hop (a near-namesake when one is in
    view), takes its fact, and answers wrong; the open is the step the env rejects."""
    ref = task.reference
    rel1, rel2, _ = TEMPLATES[ref["template"]]
    right = {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
    gold = set(ref["gold_docids"])

    def leads_wrong(hop: int, docid: str) -> bool:
        entity = corpus.entity_of(docid)
        obj = corpus.fact(entity.key, (rel1, rel2)[hop]).object
        if hop == 0:
            obj = corpus.fact(obj, rel2).object
        return normalize_answer(corpus.entities[obj].name) not in right

    def candidates(hop: int, subject: Entity, view: list[str]) -> list[str]:
        return [d for d in view if d not in gold and corpus.entity_of(d).kind == subject.kind
                and leads_wrong(hop, d)]

    def from_view(hop: int, subject: Entity, view: list[str]) -> str | None:
        found = candidates(hop, subject, view)
        namesake = corpus.entities[subject.namesake].docid if subject.namesake else None
        return namesake if namesake in found else (found[0] if found else None)

    def from_corpus(hop: int, subject: Entity, view: list[str]) -> str | None:
        pool = candidates(hop, subject, sorted(e.docid for e in corpus.of_kind(subject.kind)))
        return rng.choice(pool) if pool else None

    for hop in rng.sample([0, 1], 2):
        script = _walk(corpus, task, TEACHER_TOPN, hop, from_view)
        if script is not None:
            break
    else:
        hop, script = 0, _walk(corpus, task, TEACHER_TOPN, 0, from_corpus)
        if script is None:
            raise RuntimeError(f"corpus too small for a noisy two_hop episode on task {task.id}")
    opened = next(a.arguments["id"] for _, a in script.steps if a.name == "open" and a.arguments["id"] not in gold)
    params = {"topn": TEACHER_TOPN, "error_hop": hop, "distractor": opened}
    return ScriptedTeacher(Policy(f"{FAMILY}-noisy", "noisy", None, params), script.steps)


def _random(task: Task, corpus: Corpus, rng: random.Random) -> ScriptedTeacher:
    """A few uninformed tool calls (random names and question words), then a guess of the
    right kind: valid tool use that rarely finds the answer."""
    words = re.findall(r"[A-Za-z]{4,}", task.reference["question"])
    phrases = [p for _, _, p in RELATIONS.values()]
    plan: list[tuple[str, Action]] = []
    listed: list[str] = []
    page_open = False
    calls = rng.randint(2, 5)
    for _ in range(calls):
        move = rng.choice(("search", "open", "find") if page_open else ("search", "open"))
        if move == "search":
            query = rng.choice(corpus.docs).title if rng.random() < 0.5 else " ".join(rng.sample(words, min(2, len(words))))
            plan.append((f"Try a search for '{query}'.", Action("search", {"query": query, "topn": TEACHER_TOPN})))
            listed += [d for d, _ in corpus.search(query, TEACHER_TOPN) if d not in listed]
        elif move == "open":
            docid = rng.choice(listed) if listed else rng.choice(corpus.docs).docid
            plan.append((f"Open {docid} and look around.", Action("open", {"id": docid})))
            page_open = True
        else:
            phrase = rng.choice(phrases)
            plan.append((f"Look for '{phrase}' on this page.", Action("find", {"pattern": phrase})))
    guess = rng.choice(corpus.of_kind(task.reference["answer_kind"])).name
    plan.append((f"Guess: {guess}.", Action("answer", {"answer": guess})))
    return ScriptedTeacher(Policy(f"{FAMILY}-random", "random", None, {"calls": calls}), plan)


# ---------------------------------------------------------------------------- family


class TwoHopFamily:
    kind = "research"
    name = FAMILY
    version = "1"
    tiers = ("expert", "noisy", "random")

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        return make_task(seed, difficulty, params)

    def make_env(self, task: Task, params: dict[str, Any]) -> BrowserEnv:
        return BrowserEnv(task)

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> ScriptedTeacher:
        corpus = get_corpus(task.env["corpus_seed"], task.env["corpus_size"])
        if tier == "expert":
            return _expert(task, corpus)
        if tier == "noisy":
            return _noisy(task, corpus, rng)
        if tier == "random":
            return _random(task, corpus, rng)
        raise ValueError(f"two_hop has no {tier!r} teacher; tiers are {list(self.tiers)}")


register(TwoHopFamily())
