"""Scripted researchers: ``expert``, ``reflective``, ``noisy`` and ``random``.

Each plans its whole episode up front by driving a private :class:`Browser` over the same
corpus version (searches and pages are deterministic, so what it saw is exactly what the
environment will show), and replays the plan. The expert evaluates the question's program
the way a person would: plan, search each entity (reformulating when its page is not among
the results), open the page, ``find`` the relation's words, cite the line (``doc-0001234 L3
reads "..."``), carry the entity found into the next hop, and answer citing every evidence
line. Its horizon grows with difficulty: more hops, descriptions to resolve by search,
near-namesake checks (difficulty 3 and up) on pages that carry a namesake note.

- long tail (``params.long_tail: {rate, min_calls}``): that share of expert episodes also
  explores between reads: dead-end and repeated searches, distractor pages opened and
  scrolled, finds of side topics, a last re-check, for at least ``min_calls`` extra tool calls,
  and still answers right. None of it is a detour (see env.py), so ``first_error_step`` = -1.
- ``reflective``: at one read of the derivation it opens a trap (a near-namesake's page, or a
  page misstating an attribute) or a same-kind distractor and reads the fact there (the step
  the env flags); then it notices the conflict with what it established (the page is about
  another entity; the entity's own article gives another value), goes back and finishes as the
  expert does.
- ``noisy``: the same detour, not noticed: it takes the wrong fact, carries it on and answers
  wrong (half the time at the last read, so it stops right at the distractor).
- ``random``: a few well-formed but uninformed tool calls, then a guess of the right kind.
- ``context.summarize`` (``params.context: {every: N}``): after every N tool calls the
  expert-based tiers condense their context; the env answers with the memory.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from stores.corpus import Corpus
from stores.facts import LIST, FactBase
from stores.schema import Action, Policy, Task
from stores.world import ATTRIBUTES, RELATIONS, URL_PREFIX
from synth.research.browser import Browser, View, find_lines
from synth.research.env import ANSWER, SUMMARIZE, ResearchEnv
from synth.research.questions import (
    DESCRIBE,
    SEARCH_TOPN,
    anchors,
    comparison_order,
    description_queries,
    mention,
    normalize_answer,
    winner,
)

NAMESAKE_NOTE = "not to be confused"
ENTITY_KINDS = ("person", "organisation", "place", "work", "event")
_SIDE_TOPICS = ("award", "lectures", "festival", "report", "library", "archive", "revenue", "bridge",
                "museum", "edition", "strike", "tram", "portrait", "catalogue", "football")
_THAT = {"person": "that person", "organisation": "that organisation", "place": "that place",
         "work": "that work", "event": "that event"}
_ASKING = {
    "born_in": "where {x} was born", "works_for": "which organisation {x} works for",
    "founded_by": "who founded {x}", "headquartered_in": "where {x} is headquartered",
    "located_in": "which country {x} is in", "written_by": "who wrote {x}",
    "published_by": "who published {x}", "held_in": "where {x} was held", "organised_by": "who organised {x}",
    "birth_year": "when {x} was born", "founded_year": "when {x} was founded", "population": "the population of {x}",
    "publication_year": "when {x} was published", "event_year": "when {x} took place",
    "attendance": "how many visitors {x} drew", "occupation": "what {x} does for a living",
    "role": "the role of {x}", "industry": "the industry of {x}", "settlement": "what kind of city {x} is",
    "genre": "the genre of {x}", "event_type": "what kind of event {x} was",
}
_LISTING = {
    "born_in": "who was born in {x}", "works_for": "who works for {x}", "founded_by": "what {x} founded",
    "headquartered_in": "what is headquartered in {x}", "located_in": "which cities are in {x}",
    "written_by": "what {x} wrote", "published_by": "what {x} published", "held_in": "what was held in {x}",
    "organised_by": "what {x} organised",
}
_QUESTION_WORDS = frozenset({"which", "what", "where", "when", "does", "that", "city", "organisation", "person",
                             "many", "born", "work", "with", "founded", "headquartered", "published", "located",
                             "country", "held", "people", "notable", "older", "earlier", "later"})


class ScriptTeacher:
    """Plays a plan made up front (the env still checks every step)."""

    def __init__(self, policy: Policy, plan: list[tuple[str, Action]]):
        self.policy = policy
        self.plan = plan

    def act(self, env: ResearchEnv, history: list) -> tuple[str, Action]:
        return self.plan[len(history)]


# ---------------------------------------------------------------------------- the script


@dataclass
class Script:
    """A plan being written: (thought, action) pairs, run on a private browser as they are
    written, with what was listed and matched, and the milestones for context memory."""

    corpus: Corpus
    rules: ResearchEnv  # a fresh env of the task: its detour rules, never stepped
    every: int | None = None
    steps: list[tuple[str, Action]] = field(default_factory=list)
    calls: int = 0
    note: str = ""  # what the last observation taught, said at the start of the next thought
    seen: dict[int, tuple[str, int]] = field(default_factory=dict)  # row -> (query, rank) of first listing
    matched: dict[int, set[int]] = field(default_factory=dict)  # row -> lines matched by finds
    queries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        env = self.rules.task.env
        self.browser = Browser(self.corpus, env["search"], env["screen_lines"])

    def say(self, thought: str, action: Action) -> View | None:
        self.steps.append(((self.note + " " + thought).strip(), action))
        self.note = ""
        if action.name in (ANSWER, SUMMARIZE):
            return None
        view = self.browser.call(action.name, action.arguments)
        self.calls += 1
        if self.every and self.calls % self.every == 0:
            self.steps.append((f"{self.calls} tool calls so far: condense what I know before going on.",
                               Action(SUMMARIZE, {})))
        return view

    def search(self, query: str, thought: str) -> View:
        view = self.say(thought, Action("search", {"query": query, "topn": SEARCH_TOPN}))
        self.queries.append(query)
        for rank, row in enumerate(view.listed, 1):
            self.seen.setdefault(row, (query, rank))
        return view

    def open(self, row: int, thought: str, loc: int = 0) -> View:
        args: dict[str, Any] = {"id": self.corpus.docid(row)}
        if loc:
            args["loc"] = loc
        return self.say(thought, Action("open", args))

    def find(self, pattern: str, thought: str) -> View:
        view = self.say(thought, Action("find", {"pattern": pattern}))
        self.matched.setdefault(view.page, set()).update(view.hits)
        return view

    def where(self, row: int) -> str:
        """How a thought refers to a page about to be opened (capitalised)."""
        c = self.corpus
        if row in self.seen:
            query, rank = self.seen[row]
            return f'Result [{rank}] of "{query}", {c.title(row)} ({c.docid(row)}),'
        return f"{c.title(row)} ({c.docid(row)})"

    def cite(self, row: int, line: int) -> str:
        return f'{self.corpus.docid(row)} L{line} reads "{self.corpus.lines(row)[line]}"'


# ---------------------------------------------------------------------------- world researchers


@dataclass(frozen=True)
class Detour:
    read: int  # index of the read where it happens
    mode: str  # namesake | conflict | distractor
    row: int  # the page opened instead
    query: str | None = None  # the search that lists it (None: already listed)


class Researcher:
    """Evaluates a world question's program by browsing. ``detour`` (with ``recover``:
    reflective, else noisy) takes one wrong turn; ``explore_calls`` adds the long tail;
    ``collect`` records the detours possible at each read (a dry run for the detour tiers)."""

    def __init__(self, script: Script, task: Task, rng: random.Random, *, detour: Detour | None = None,
                 recover: bool = True, explore_calls: int = 0, collect: bool | str = False):
        self.s, self.task, self.rng = script, task, rng
        self.fb: FactBase = script.corpus.facts
        self.ref = task.reference
        self.program = self.ref["program"]
        self.detour, self.recover, self.collect = detour, recover, collect
        self.reads = 0
        self.options: list[list[Detour]] = []
        self.evidence: list[str] = []  # citations for the final thought
        self.gold = {script.corpus.row(d) for d in self.ref["gold_docids"]}
        self.careful = task.difficulty >= 3
        self.explore_left = explore_calls
        self.expected_reads = max(1, len(self.ref["evidence"]))

    # ------------------------------------------------------------------ the derivation

    def run(self) -> str:
        """Write the plan; return the answer it gives."""
        fb, p, s = self.fb, self.program, self.s
        s.note = self._plan_text()
        t = p["type"]
        if t == "bridge":
            end = self.follow(p["anchor"], p["chain"])
            answer = self.read_attr(end, p["attribute"]) if p["attribute"] else fb.names[end]
        elif t == "comparison":
            ends = [self.follow(side["anchor"], side["chain"]) for side in p["sides"]]
            values = [self.read_attr(e, p["attribute"]) for e in ends]
            answer = fb.names[ends[winner(p, [int(v) for v in values])]]
            s.note += (f" {fb.names[ends[0]]}: {values[0]}; {fb.names[ends[1]]}: {values[1]}. The "
                       f"{'smaller' if comparison_order(p) == 'min' else 'larger'} value wins: {answer}.")
        elif t == "intersection":
            lists = [self.read_list(self.follow(c["anchor"], c["chain"]), c["relation"]) for c in p["conditions"]]
            common = [m for m in lists[0] if m in lists[1]]
            pick = common[0] if common else (list(lists[0]) or list(lists[1]) or [0])[0]
            answer = fb.names[pick]
            self.evidence += [cite for listed in lists for m, cite in listed.items() if m == pick]
            s.note += f" The one name on both lists is {answer}." if common else f" No name is on both lists; guess {answer}."
        else:
            members = self.read_list(self.follow(p["anchor"], p["chain"]), p["relation"])
            self.evidence += list(members.values())
            answer = str(len(members))
            s.note += f" That is {len(members)} in all."
        if self.explore_left > 0:
            s.note = (s.note + " Before answering, re-check the sources once more.").strip()
            self.explore(self.explore_left)
        cited = "; ".join(dict.fromkeys(self.evidence))
        s.say(f"Evidence: {cited}. Answer: {answer}.", Action(ANSWER, {"answer": answer}))
        return answer

    def _plan_text(self) -> str:
        p, fb = self.program, self.fb
        steps = [f"identify {mention(fb, a)}" for a in anchors(p) if a["described"]]
        chains = [(p["anchor"], p["chain"])] if "chain" in p else \
            [(x["anchor"], x["chain"]) for x in p.get("sides", p.get("conditions", []))]
        ends = []
        for anchor, chain in chains:
            x = "it" if anchor["described"] else mention(fb, anchor)
            for r in chain:
                steps.append(_ASKING[r].format(x=x))
                x = _THAT[RELATIONS[r].object]
            ends.append(x)
        t = p["type"]
        if t == "bridge" and p["attribute"]:
            steps.append(_ASKING[p["attribute"]].format(x=x))
        elif t == "comparison":
            steps += [_ASKING[p["attribute"]].format(x=end) for end in ends]
            steps.append("compare the two")
        elif t == "intersection":
            steps += [_LISTING[c["relation"]].format(x=end) for c, end in zip(p["conditions"], ends, strict=True)]
            steps.append("take the one on both lists")
        elif t == "aggregation":
            steps.append(f"count {_LISTING[p['relation']].format(x=x)}")
        numbered = "; ".join(f"({i}) {step}" for i, step in enumerate(steps, 1))
        return f"A {self.ref['hops']}-hop {self.ref['type']} question. Plan: {numbered}."

    def follow(self, anchor: dict[str, Any], chain: list[str]) -> int:
        e = self.resolve(anchor)
        for r in chain:
            e = self.read_rel(e, r)
        return e

    def resolve(self, anchor: dict[str, Any]) -> int:
        """A named anchor is itself; a described one is searched for and checked on its page."""
        e = anchor["entity"]
        if not anchor["described"]:
            return e
        fb, s = self.fb, self.s
        row = int(fb.page[e])
        what = mention(fb, anchor)
        for i, query in enumerate(description_queries(fb, e)):
            why = f"Search for {what}." if i == 0 else f"No result matches {what}; reformulate the search."
            if row in s.search(query, why).listed:
                break
        self._open(e, row, f"may be {what}; open it to check")
        s.note = f'L0 reads "{s.corpus.lines(row)[0]}".'
        for _, predicate in DESCRIBE[fb.kind_of(e)]:
            self.evidence.append(f"{s.corpus.docid(row)} L{self._find_fact(e, row, predicate)}")
        s.note += f" This matches: {what} is {fb.names[e]}."
        return e

    # ------------------------------------------------------------------ reads

    def _read(self, kind: str, e: int, predicate: str) -> Detour | None:
        """Start a read: explore first on the long tail, record the possible detours on a dry
        run, and return the detour to take here, if this is its read."""
        index = self.reads
        self.reads += 1
        if self.explore_left > 0 and index > 0:
            self.explore(max(1, self.explore_left // max(2, self.expected_reads - index + 1)))
        if self.collect:
            self.options.append(self._options(kind, e, predicate, wide=self.collect == "wide"))
        return self.detour if self.detour is not None and self.detour.read == index else None

    def read_rel(self, e: int, r: str) -> int:
        detour = self._read("rel", e, r)
        if detour is not None:
            wrong = self._take_detour(detour, "rel", e, r)
            if not self.recover:
                return wrong
        row = self.visit(e)
        line = self._find_fact(e, row, r)
        nxt = int(self.fb.rel[r][e])
        self.s.note += f" So {_ASKING[r].format(x=self.fb.names[e])}: {self.fb.names[nxt]}."
        self.evidence.append(f"{self.s.corpus.docid(row)} L{line}")
        return nxt

    def read_attr(self, e: int, a: str) -> str:
        detour = self._read("attr", e, a)
        if detour is not None:
            wrong = self._take_detour(detour, "attr", e, a)
            if not self.recover:
                return wrong
        row = self.visit(e)
        line = self._find_fact(e, row, a)
        value = str(self.fb.attr[a][e])
        self.s.note += f" So {_ASKING[a].format(x=self.fb.names[e])}: {value}."
        if detour is not None and detour.mode == "conflict":
            self.s.note += (f" That contradicts the passing mention on {self.s.corpus.docid(detour.row)}; "
                            f"{self.fb.names[e]}'s own article is the better source, so {value} stands.")
        self.evidence.append(f"{self.s.corpus.docid(row)} L{line}")
        return value

    def read_list(self, e: int, r: str) -> dict[int, str]:
        """The members listed on ``e``'s page under ``r``, each with the citation of its line
        (the caller cites the ones its answer rests on)."""
        detour = self._read("list", e, r)
        if detour is not None:
            wrong = self._take_detour(detour, "list", e, r)
            if not self.recover:
                return wrong
        members, lines = self._list(e, int(self.fb.page[e]), r, visit=True)
        docid = self.s.corpus.docid(int(self.fb.page[e]))
        return {m: f"{docid} L{ln}" for m, ln in zip(members, lines, strict=True)}

    def _list(self, e: int, row: int, r: str, visit: bool) -> tuple[list[int], list[int]]:
        """Find the relation's words on ``row`` (``e``'s page, or another one on a detour) and
        read the listing of members pointing at the page's own entity."""
        fb, s = self.fb, self.s
        if visit:
            self.visit(e)
        owner = fb.entity_on(row)
        phrase = RELATIONS[r].phrase
        view = s.find(phrase, f"Find '{phrase}' to list {_LISTING[r].format(x=fb.names[e])}.")
        members, lines = [], []
        for i in fb.in_docs([row]).tolist():
            if fb.source[i] == LIST and int(fb.line[i]) in view.hits and int(fb.object[i]) == owner:
                members.append(int(fb.subject[i]))
                lines.append(int(fb.line[i]))
        named = ", ".join(f"{fb.names[m]} (L{ln})" for m, ln in zip(members, lines, strict=True)) or "nobody"
        s.note = f"The list on {s.corpus.docid(row)} names {named}."
        return members, lines

    def visit(self, e: int) -> int:
        """Make sure ``e``'s page is open (searching for it first if it was never listed)."""
        fb, s = self.fb, self.s
        row = int(fb.page[e])
        if s.browser.page == row:
            return row
        if row not in s.seen:
            for i, query in enumerate((fb.names[e], f"{fb.names[e]} {fb.kind_of(e)}")):
                why = f"Search for {fb.names[e]}." if i == 0 else f"{fb.names[e]}'s page is not among the results; reformulate."
                if row in s.search(query, why).listed:
                    break
        self._open(e, row, "is the page on " + fb.names[e] + "; open it")
        if self.careful and fb.namesake[e] >= 0:
            view = s.find(NAMESAKE_NOTE, f"{fb.names[e]} has a near-namesake; check this is the right page.")
            if view.hits:
                s.note = f"{s.cite(row, view.hits[0])}: this is the page on {fb.names[e]} itself."
        return row

    def _open(self, e: int, row: int, why: str) -> None:
        s = self.s
        if row in s.seen:
            s.open(row, f"{s.where(row)} {why}.")
        else:  # never listed: go to the page's address
            url = URL_PREFIX + self.fb.names[e].replace(" ", "_")
            s.say(f"Open {self.fb.names[e]}'s page by its address.", Action("open", {"id": url}))

    def _find_fact(self, e: int, row: int, predicate: str) -> int:
        """Find the line of ``row`` stating ``predicate`` of ``e`` (unless a find on this page
        already matched it) and note it; returns the line."""
        fb, s = self.fb, self.s
        line = int(fb.line[fb.primary(e, predicate)])
        if line in s.matched.get(row, set()):
            s.note = f"{s.cite(row, line)} (found above)."
            return line
        phrase = _phrase(predicate)
        view = s.find(phrase, f"Find '{phrase}' to see {_ASKING[predicate].format(x=fb.names[e])}.")
        others = [f"L{i}" for i in view.hits if i != line][:4]
        aside = f" ({', '.join(others)} {'are' if len(others) > 1 else 'is'} about something else.)" if others else ""
        s.note = f"{s.cite(row, line)}.{aside}"
        return line

    # ------------------------------------------------------------------ detours

    def _options(self, kind: str, e: int, predicate: str, wide: bool = False) -> list[Detour]:
        """Detours possible at this read: the namesake's page if a search for the entity lists
        it, a page misstating the attribute that a search for it lists, a same-kind page in
        view whose matching line states a question fact (so reading it there is flagged).
        ``wide`` also looks at a search for the entity's kind and the relation's words."""
        fb, s = self.fb, self.s
        index = self.reads - 1
        out: list[Detour] = []
        phrase = _phrase(predicate) if kind != "list" else RELATIONS[predicate].phrase

        def usable(other: int) -> bool:
            if kind == "rel":
                return fb.rel[predicate][other] >= 0
            if kind == "attr":
                return ATTRIBUTES[predicate].type != "int" or fb.attr[predicate][other] >= 0
            return True

        views: dict[int, str | None] = dict.fromkeys(s.seen)  # row -> the query that lists it
        queries = [fb.names[e]] + ([f"{fb.kind_of(e)} {phrase}"] if wide else [])
        for query in queries:
            for row, _ in s.corpus.search(query, SEARCH_TOPN, s.browser.mode):
                views.setdefault(row, query)
        namesake = int(fb.namesake[e])
        page = int(fb.page[namesake]) if namesake >= 0 else -1
        if page in views and usable(namesake) and page not in self.gold:
            out.append(Detour(index, "namesake", page, views[page]))
        if kind == "attr" and fb.has_conflict(e, predicate):
            query = _conflict_query(fb, e, predicate)
            listed = {r for r, _ in s.corpus.search(query, SEARCH_TOPN, s.browser.mode)}
            out += [Detour(index, "conflict", r, query) for r in fb.conflict_docs(e, predicate) if r in listed]
        for row, query in views.items():
            other = fb.entity_on(row)
            if other < 0 or other == e or fb.kind[other] != fb.kind[e] or row in self.gold or row in s.rules.traps:
                continue
            if usable(other) and s.rules.is_detour("find", row, tuple(find_lines(s.corpus, row, phrase))):
                out.append(Detour(index, "distractor", row, query))
        return out

    def _take_detour(self, d: Detour, kind: str, e: int, predicate: str) -> Any:
        """Open the wrong page and read the fact there; return what it says. A reflective
        researcher then notes the conflict (the caller goes on to the right page)."""
        fb, s = self.fb, self.s
        name = fb.names[e]
        if d.query is not None and d.row not in s.seen:
            s.search(d.query, f"Search for {_ASKING[predicate].format(x=name) if d.mode == 'conflict' else name}.")
        if d.mode == "conflict":
            s.open(d.row, f"{s.where(d.row)} mentions {name}; open it.")
            pattern = name.split(" ")[-1] if fb.kind_of(e) == "person" else name
            s.find(pattern, f"Find {name} on this page.")
            stated = [i for i in fb.in_docs([d.row]).tolist() if int(fb.subject[i]) == e and fb.conflicting[i]]
            line, wrong = int(fb.line[stated[0]]), fb.value_of(stated[0])
            s.note = f"{s.cite(d.row, line)}, so {_ASKING[predicate].format(x=name)}: {wrong}."
            if self.recover:
                s.note += f" That is a passing mention; check it against {name}'s own page."
            return wrong
        other = fb.entity_on(d.row)
        s.open(d.row, f"{s.where(d.row)} looks like the page on {name}; open it.")
        if kind == "list":
            members, lines = self._list(e, d.row, predicate, visit=False)
            wrong = {m: f"{s.corpus.docid(d.row)} L{ln}" for m, ln in zip(members, lines, strict=True)}
            line, shown = (lines[0] if lines else 0), ", ".join(fb.names[m] for m in members) or "nobody"
        else:
            line = self._find_fact(other, d.row, predicate)
            wrong = int(fb.rel[predicate][other]) if kind == "rel" else str(fb.attr[predicate][other])
            shown = fb.names[wrong] if kind == "rel" else wrong
        if self.recover:
            label = "its near-namesake" if d.mode == "namesake" else "a different " + fb.kind_of(e)
            s.note += (f" But this page is about {fb.names[other]}, {label}, not {name}, whom my earlier evidence "
                       f"is about. L{line} does not apply; go back to {name}'s own page.")
        else:
            s.note += f" So for {name}: {shown}."
        return wrong

    # ------------------------------------------------------------------ long tail

    def explore(self, calls: int) -> None:
        """Dead ends that are not detours: searches, distractor pages, scrolling, side finds."""
        s, fb, rng = self.s, self.fb, self.rng
        words = [w for w in re.findall(r"[A-Za-z]{4,}", self.ref["question"]) if w.lower() not in _QUESTION_WORDS]
        done = 0
        while done < calls:
            move = rng.choice(("search", "search", "open", "open", "scroll", "find", "again"))
            if move == "search":
                topic = rng.choice(_SIDE_TOPICS)
                pool = words + [fb.names[rng.randrange(fb.n)]]
                query = " ".join(rng.sample(pool, min(len(pool), rng.randint(1, 3))) + [topic])
                s.search(query, f'Perhaps a page links the question to {topic}: search "{query}".')
                s.note = "Nothing decisive in these results."
            elif move == "again" and s.queries:
                query = rng.choice(s.queries)
                s.search(query, f'Run "{query}" again and look further down the results.')
            elif move == "open":
                options = [r for r in s.browser.results if r not in s.rules.traps and r != s.browser.page]
                if not options:
                    continue
                row = rng.choice(options)
                s.open(row, f"{s.where(row)} might help; open it.")
                s.note = f"{s.corpus.title(row)} does not settle anything."
            elif move == "scroll":
                page = s.browser.page
                if page is None or s.browser.cursor >= len(s.corpus.lines(page)):
                    continue
                s.open(page, "Read further down the page.", loc=s.browser.cursor)
            else:
                page, topic = s.browser.page, rng.choice(_SIDE_TOPICS)
                if page is None or s.rules.is_detour("find", page, tuple(find_lines(s.corpus, page, topic))):
                    continue
                s.find(topic, f"Look for '{topic}' on this page.")
                s.note = "A side detail; not what the question needs."
            done += 1
        self.explore_left = max(0, self.explore_left - done)


def _phrase(predicate: str) -> str:
    return RELATIONS[predicate].phrase if predicate in RELATIONS else ATTRIBUTES[predicate].phrase


def _conflict_query(fb: FactBase, e: int, attribute: str) -> str:
    return f"{fb.names[e]} {_phrase(attribute)}"


# ---------------------------------------------------------------------------- tiers


def _script(task: Task, corpus: Corpus, params: dict[str, Any]) -> Script:
    every = (params.get("context") or {}).get("every")
    return Script(corpus, ResearchEnv(task, corpus), every)


def expert_plan(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """The expert's plan and its policy params (whether this episode is a long-tail one is
    drawn from ``rng``)."""
    tail = params.get("long_tail") or {}
    explore = int(tail.get("min_calls", 100)) if rng.random() < float(tail.get("rate", 0.0)) else 0
    script = _script(task, corpus, params)
    if corpus.facts is None:
        _byo_expert(script, task)
    else:
        Researcher(script, task, rng, explore_calls=explore).run()
    return script.steps, {"topn": SEARCH_TOPN, "long_tail": bool(explore), "context_every": script.every}


def detour_plan(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any],
                recover: bool) -> tuple[list, dict[str, Any]]:
    """The reflective (``recover``) or noisy plan. A dry run lists the detours possible at
    each read; the reflective draws one (traps first), the noisy tries them (half the time
    the last read's first) until one leads to a wrong answer."""
    if corpus.facts is None:
        if recover:
            raise ValueError("the reflective tier needs a generated world (its facts show where a detour is); "
                             "this corpus was brought without one")
        return _byo_noisy(task, corpus, rng, params)
    for collect in (True, "wide"):  # "wide": also same-kind pages a search for the kind lists
        dry = Researcher(_script(task, corpus, params), task, random.Random(0), collect=collect)
        dry.run()
        every_option = [d for options in dry.options for d in options]
        if every_option:
            break
    else:
        raise RuntimeError(f"task {task.id}: no page to take a detour on; the world is too small")
    if recover:
        traps = [d for d in every_option if d.mode != "distractor"]
        choices = [rng.choice(traps or every_option)]
    else:
        last = [d for options in dry.options[-1:] for d in options] if rng.random() < 0.5 else []
        choices = rng.sample(last, len(last)) + rng.sample(every_option, len(every_option))
    gold = {normalize_answer(a) for a in (task.reference["answer"], *task.reference["aliases"])}
    for detour in choices:
        script = _script(task, corpus, params)
        answer = Researcher(script, task, random.Random(0), detour=detour, recover=recover).run()
        if recover or normalize_answer(answer) not in gold:
            break
    else:  # every detour happened to give the right answer: the noisy one misreads at the end
        wrong = wrong_guess(task, corpus, rng)
        script.steps[-1] = (f"Answer: {wrong}.", Action(ANSWER, {"answer": wrong}))
    return script.steps, {"detour": {"read": detour.read, "mode": detour.mode, "docid": corpus.docid(detour.row)},
                          "context_every": script.every}


def random_plan(task: Task, corpus: Corpus, rng: random.Random) -> tuple[list, dict[str, Any]]:
    """A few uninformed, well-formed tool calls, then a guess of the right kind."""
    script = Script(corpus, ResearchEnv(task, corpus))
    words = re.findall(r"[A-Za-z]{4,}", task.reference["question"])
    phrases = [r.phrase for r in RELATIONS.values()]
    calls = rng.randint(2, 6)
    for _ in range(calls):
        move = rng.choice(("search", "open", "find") if script.browser.page is not None else ("search", "open"))
        if move == "search":
            query = corpus.title(rng.randrange(corpus.size)) if rng.random() < 0.5 or not words else \
                " ".join(rng.sample(words, min(2, len(words))))
            script.search(query, f"Try a search for '{query}'.")
        elif move == "open":
            row = rng.choice(script.browser.results) if script.browser.results else rng.randrange(corpus.size)
            script.open(row, f"Open {corpus.docid(row)} and look around.")
        else:
            phrase = rng.choice(phrases)
            script.find(phrase, f"Look for '{phrase}' on this page.")
    guess = wrong_guess(task, corpus, rng, allow_right=True)
    script.say(f"Guess: {guess}.", Action(ANSWER, {"answer": guess}))
    return script.steps, {"calls": calls}


def wrong_guess(task: Task, corpus: Corpus, rng: random.Random, allow_right: bool = False) -> str:
    """A plausible answer of the right kind (a name, a year or a count); wrong unless allowed."""
    ref = task.reference
    gold = {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
    fb, kind = corpus.facts, ref["answer_kind"]
    for _ in range(1000):
        if kind == "count":
            guess = str(rng.randint(1, 9))
        elif kind == "year":
            guess = str(int(ref["answer"]) + rng.choice((-1, 1)) * rng.randint(1, 30))
        elif fb is not None and kind in ENTITY_KINDS:
            e = rng.randrange(fb.n)
            if fb.kind_of(e) != kind:
                continue
            guess = fb.names[e]
        else:
            guess = corpus.title(rng.randrange(corpus.size))
        if allow_right or normalize_answer(guess) not in gold:
            return guess
    raise RuntimeError(f"task {task.id}: no wrong answer of kind {kind} found")


# ---------------------------------------------------------------------------- bring your own


def _byo_expert(script: Script, task: Task) -> None:
    """For a corpus without facts: search the question (then each evidence page's title),
    open every evidence page, find the answer (or the evidence line) on it, answer citing it."""
    ref, c = task.reference, script.corpus
    cites = []
    script.note = f"Look for the page(s) that answer: {ref['question']}"
    for docid in ref["gold_docids"]:
        row = c.row(docid)
        if row not in script.seen and not script.queries:
            script.search(ref["question"], "Search for the question's words.")
        if row not in script.seen:
            script.search(c.title(row), f"Not there; search for pages titled like {c.title(row)}.")
        script.open(row, f"{script.where(row)} looks relevant; open it.")
        lines = sorted(script.rules.evidence[row])
        if not lines:
            continue
        text = c.lines(row)[lines[0]]
        needle = ref["answer"] if ref["answer"].lower() in text.lower() else text[:40]
        view = script.find(needle, f"Find '{needle}' on the page.")
        hit = next((i for i in lines if i in view.hits), None)
        if hit is not None:
            script.note = f"{script.cite(row, hit)}."
            cites.append(f"{docid} L{hit}")
    script.say(f"Evidence: {'; '.join(cites) or 'the pages above'}. Answer: {ref['answer']}.",
               Action(ANSWER, {"answer": ref["answer"]}))


def _byo_noisy(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Opens a page that is not evidence and takes its title for the answer."""
    script = _script(task, corpus, params)
    ref = task.reference
    view = script.search(ref["question"], "Search for the question's words.")
    gold = {corpus.row(d) for d in ref["gold_docids"]}
    wrong = [r for r in view.listed if r not in gold] or [r for r in range(min(corpus.size, 50)) if r not in gold]
    row = rng.choice(wrong)
    script.open(row, f"{script.where(row)} looks like the answer; open it.")
    right = {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
    answer = corpus.title(row) if normalize_answer(corpus.title(row)) not in right else wrong_guess(task, corpus, rng)
    script.say(f"This page must be it. Answer: {answer}.", Action(ANSWER, {"answer": answer}))
    return script.steps, {"detour": {"mode": "distractor", "docid": corpus.docid(row)}}
