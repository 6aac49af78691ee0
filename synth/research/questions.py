"""Multi-hop questions composed from the generated world's relation chains, with gold answers,
evidence lines, minimal sufficient evidence sets and difficulty.

A question is a small *program* over the fact graph (JSON, stored in the task reference):

- ``bridge``: follow a chain of relations from an anchor, answer the entity reached or one of
  its years ("In which city was the founder of Veltrix Dynamics born?");
- ``comparison``: two chains ending in entities of one kind, compare an attribute ("Who is
  older, the founder of X or the author of Y?");
- ``intersection``: the one entity with two given relation targets ("Which person was born in
  Port Amara and works for Veltrix Dynamics?"); targets may themselves be chains;
- ``aggregation``: how many entities point at the end of a chain ("How many works did the
  founder of X write?").

Hops count the facts a derivation uses: each chain step, each attribute read, each condition
of an intersection and the count of an aggregation (2 to 4). An anchor is named, or
(indirect naming) described by attributes and a relation stated on its own page ("the
shipping company founded in 1923 and headquartered in Port Amara").

Difficulty = 1 + min(4, hazards), hazards = (hops - 2) + min(2, near-namesakes among the
entities the question involves) + (an anchor is described, not named) + (a page elsewhere
misstates an attribute the question uses). The table in docs/research.md is checked against
:data:`HAZARDS`.

"Derivable" is decided by :func:`solve`, a symbolic solver over the facts stated in a set of
documents only: trusted statements are a subject's own page and the listings of the object's
page ("Notable people", "Publications", ...); mentions in running text elsewhere (true
neighbour facts and planted conflicting ones) are not trusted, as a careful reader trusts an
entity's own article. The gold evidence is one canonical derivation's lines; the minimal set
drops its documents one at a time while the answer stays derivable (Context-Picker).
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from typing import Any

from stores.corpus import Corpus
from synth.research.facts import LIST, MENTION, OWN, FactBase, fact_base
from synth.research.world import (
    ATTRIBUTES,
    EVENT,
    ORG,
    PERSON,
    PLACE,
    PREDICATES,
    RELATIONS,
    WORK,
    shown,
)

TYPES = ("bridge", "comparison", "intersection", "aggregation")
HOPS = (2, 3, 4)
HAZARDS = ("hops beyond 2", "near-namesakes involved (at most 2 count)", "anchor described, not named",
           "an attribute used is misstated on another page")
SEARCH_TOPN = 10  # results a scripted researcher reads per search
_TRIES = 600
#: question type -> (hop count, an anchor described?) -> the fact counts (chain steps,
#: attribute reads, conditions, the count) a draft is built with so that its minimal evidence
#: set has that many documents. Measured (``python bench/research.py --sizes``): a page states
#: its own facts and lists the facts pointing at it, so one page covers two consecutive chain
#: steps and a named question needs about half as many documents as facts; a described anchor
#: adds its own page. Chains stay short enough to read (a bridge has at most 5 facts), so
#: 4-document questions are comparisons and intersections.
_SIZES: dict[str, dict[tuple[int, bool], tuple[int, ...]]] = {
    "bridge": {(2, False): (3, 4), (2, True): (2, 3), (3, False): (5,), (3, True): (4, 5)},
    "comparison": {(2, False): (2, 3), (2, True): (2, 3), (3, False): (5,), (3, True): (4,),
                   (4, False): (6, 7), (4, True): (6,)},
    "intersection": {(2, False): (3, 4), (2, True): (2, 3), (3, False): (5, 6), (3, True): (4, 5),
                     (4, False): (7,), (4, True): (6, 7)},
    "aggregation": {(2, False): (3, 4), (2, True): (2, 3), (3, False): (5,), (3, True): (4, 5)},
}
_ARTICLES = frozenset({"a", "an", "the"})

# ---------------------------------------------------------------------------- wording

#: relation -> noun phrases for "the <object> of {x}" (nested chains read inside out)
_NP = {
    "born_in": ("the birthplace of {x}", "the city where {x} was born"),
    "works_for": ("the employer of {x}", "the organisation {x} works for"),
    "founded_by": ("the founder of {x}", "the person who founded {x}"),
    "headquartered_in": ("the headquarters city of {x}", "the city where {x} is headquartered"),
    "located_in": ("the country of {x}", "the country {x} is located in"),
    "written_by": ("the author of {x}", "the person who wrote {x}"),
    "published_by": ("the publisher of {x}", "the organisation that published {x}"),
    "held_in": ("the host city of {x}", "the city where {x} was held"),
    "organised_by": ("the organiser of {x}", "the organisation that organised {x}"),
}
_ASK = {
    "born_in": "In which city was {x} born?", "works_for": "Which organisation does {x} work for?",
    "founded_by": "Who founded {x}?", "headquartered_in": "In which city is {x} headquartered?",
    "located_in": "In which country is {x} located?", "written_by": "Who wrote {x}?",
    "published_by": "Which organisation published {x}?", "held_in": "In which city was {x} held?",
    "organised_by": "Which organisation organised {x}?",
    "birth_year": "In which year was {x} born?", "founded_year": "In which year was {x} founded?",
    "publication_year": "In which year was {x} first published?", "event_year": "In which year was {x} held?",
}
#: attribute -> (question with {a} and {b}, "min" or "max": which value wins)
_COMPARE = {
    "birth_year": (("Who is older, {a} or {b}?", "min"), ("Who was born later, {a} or {b}?", "max")),
    "founded_year": (("Which was founded earlier, {a} or {b}?", "min"), ("Which is the younger organisation, {a} or {b}?", "max")),
    "population": (("Which has the larger population, {a} or {b}?", "max"), ("Which has fewer inhabitants, {a} or {b}?", "min")),
    "publication_year": (("Which was published first, {a} or {b}?", "min"), ("Which appeared later, {a} or {b}?", "max")),
    "event_year": (("Which took place earlier, {a} or {b}?", "min"), ("Which was held more recently, {a} or {b}?", "max")),
    "attendance": (("Which drew more visitors, {a} or {b}?", "max"), ("Which drew fewer visitors, {a} or {b}?", "min")),
}
_CONDITION = {
    "born_in": "was born in {y}", "works_for": "works for {y}", "founded_by": "was founded by {y}",
    "headquartered_in": "is headquartered in {y}", "written_by": "was written by {y}",
    "published_by": "was published by {y}", "held_in": "was held in {y}", "organised_by": "was organised by {y}",
}
_INTERSECT = {PERSON: ("born_in", "works_for"), ORG: ("founded_by", "headquartered_in"),
              WORK: ("written_by", "published_by"), EVENT: ("held_in", "organised_by")}
_COUNT = {
    "born_in": "How many notable people were born in {x}?", "works_for": "How many people work for {x}?",
    "founded_by": "How many organisations did {x} found?", "headquartered_in": "How many organisations are headquartered in {x}?",
    "located_in": "How many cities are located in {x}?", "written_by": "How many works did {x} write?",
    "published_by": "How many works did {x} publish?", "held_in": "How many events were held in {x}?",
    "organised_by": "How many events did {x} organise?",
}
_NOUN = {PERSON: "person", ORG: "organisation", PLACE: "city", WORK: "work", EVENT: "event"}
#: kind -> description components (attribute or relation of the entity's own page)
DESCRIBE = {
    PERSON: (("attr", "occupation"), ("rel", "born_in"), ("attr", "birth_year")),
    ORG: (("attr", "industry"), ("attr", "founded_year"), ("rel", "headquartered_in")),
    PLACE: (("attr", "settlement"), ("rel", "located_in"), ("attr", "population")),
    WORK: (("attr", "genre"), ("rel", "published_by"), ("attr", "publication_year")),
    EVENT: (("attr", "event_type"), ("rel", "held_in"), ("attr", "event_year")),
}
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_INT_ATTRS = tuple(a for a, spec in ATTRIBUTES.items() if spec.type == "int")
_YEARS = {PERSON: "birth_year", ORG: "founded_year", WORK: "publication_year", EVENT: "event_year"}


def normalize_answer(text: str) -> str:
    """Lowercase, punctuation to spaces, articles dropped, thousands separators removed,
    whitespace collapsed (SQuAD-style)."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    return " ".join(w for w in re.sub(r"[^\w\s]", " ", text).split() if w not in _ARTICLES)


# ---------------------------------------------------------------------------- programs


def winner(program: dict[str, Any], values: list[int]) -> int:
    """Which side of a comparison wins (0 or 1) given the two values (ties: side 0)."""
    order = _COMPARE[program["attribute"]][program["form"]][1]
    if values[0] == values[1]:
        return 0
    return int(values[1] < values[0]) if order == "min" else int(values[1] > values[0])


def comparison_order(program: dict[str, Any]) -> str:
    return _COMPARE[program["attribute"]][program["form"]][1]


def facts_of(program: dict[str, Any]) -> int:
    t = program["type"]
    if t == "bridge":
        return len(program["chain"]) + (program["attribute"] is not None)
    if t == "comparison":
        return sum(len(s["chain"]) for s in program["sides"]) + 2
    if t == "intersection":
        return sum(len(c["chain"]) for c in program["conditions"]) + 2
    return len(program["chain"]) + 1


def walk(fb: FactBase, entity: int, chain: list[str]) -> list[int]:
    """Entities along ``chain`` from ``entity`` (the true world), first to last."""
    path = [entity]
    for r in chain:
        path.append(int(fb.rel[r][path[-1]]))
    return path


def describe(fb: FactBase, e: int) -> str:
    """The words of an anchor's description: "the chemist born in Port Amara in 1962"."""
    kind = fb.kind_of(e)
    v = {a: fb.attr[a][e] for _, a in DESCRIBE[kind] if a in fb.attr}
    r = {name: fb.names[int(fb.rel[name][e])] for c, name in DESCRIBE[kind] if c == "rel"}
    if kind == PERSON:
        return f"the {v['occupation']} born in {r['born_in']} in {v['birth_year']}"
    if kind == ORG:
        return f"the {v['industry']} company founded in {v['founded_year']} and headquartered in {r['headquartered_in']}"
    if kind == PLACE:
        return f"the {v['settlement']} city in {r['located_in']} with a population of about {shown('population', v['population'])}"
    if kind == WORK:
        return f"the {v['genre']} published by {r['published_by']} in {v['publication_year']}"
    return f"the {str(v['event_type']).lower()} held in {r['held_in']} in {v['event_year']}"


def description_queries(fb: FactBase, e: int) -> list[str]:
    """What a researcher searches to resolve a description, in the order tried."""
    kind = fb.kind_of(e)
    words = [shown(a, fb.attr[a][e]) if c == "attr" else fb.names[int(fb.rel[a][e])] for c, a in DESCRIBE[kind]]
    first = " ".join(words)
    return [first, f"{words[0]} {words[1]}", f"{words[1]} {words[2]}"]


def mention(fb: FactBase, anchor: dict[str, Any]) -> str:
    """How the question names an anchor: its name (events with "the"), or its description."""
    e = anchor["entity"]
    if anchor["described"]:
        return describe(fb, e)
    return f"the {fb.names[e]}" if fb.kind_of(e) == EVENT else fb.names[e]


def chain_phrase(fb: FactBase, anchor: dict[str, Any], chain: list[str], styles: list[int]) -> str:
    """The noun phrase of a chain, read inside out. Only the outermost step may use the
    clause form ("the organisation {x} works for"): nested clauses ("the founder of the
    organisation the person who wrote X works for works for") do not parse."""
    text = mention(fb, anchor)
    for i, (r, style) in enumerate(zip(chain, styles, strict=True)):
        text = _NP[r][style if i == len(chain) - 1 else 0].format(x=text)
    return text


def render(fb: FactBase, program: dict[str, Any]) -> str:
    """The question text of a program (styles chosen at generation are part of it)."""
    t = program["type"]
    if t == "bridge":
        chain, last = program["chain"], program["attribute"]
        if last is None:
            inner = chain_phrase(fb, program["anchor"], chain[:-1], program["styles"][:-1])
            if program["form"] == 1:
                pronoun = "Who" if RELATIONS[chain[-1]].object == PERSON else "What"
                return f"{pronoun} is " + _NP[chain[-1]][0].format(x=inner) + "?"
            return _ASK[chain[-1]].format(x=inner)
        return _ASK[last].format(x=chain_phrase(fb, program["anchor"], chain, program["styles"]))
    if t == "comparison":
        a, b = (chain_phrase(fb, s["anchor"], s["chain"], s["styles"]) for s in program["sides"])
        return _COMPARE[program["attribute"]][program["form"]][0].format(a=a, b=b)
    if t == "intersection":
        c1, c2 = (_CONDITION[c["relation"]].format(y=chain_phrase(fb, c["anchor"], c["chain"], c["styles"]))
                  for c in program["conditions"])
        return f"Which {_NOUN[program['kind']]} {c1} and {c2}?"
    return _COUNT[program["relation"]].format(x=chain_phrase(fb, program["anchor"], program["chain"], program["styles"]))


# ---------------------------------------------------------------------------- the solver


@dataclass
class _Known:
    """Trusted statements of a document set, indexed for the solver."""

    fb: FactBase
    rel: dict[tuple[int, str], set[int]] = field(default_factory=dict)
    attr: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    subjects: dict[tuple[str, int], set[int]] = field(default_factory=dict)

    listed: dict[tuple[str, int], set[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, fb: FactBase, doc_rows: list[int]) -> _Known:
        """Trusted statements only. They are true by construction (the world tests check it),
        so an attribute statement's value is the entity's attribute value."""
        known = cls(fb)
        rows = fb.in_docs(doc_rows)
        rows = rows[(fb.source[rows] == OWN) | (fb.source[rows] == LIST)]
        for s, code, o, src in zip(fb.subject[rows].tolist(), fb.pred[rows].tolist(), fb.object[rows].tolist(),
                                   fb.source[rows].tolist(), strict=True):
            p = PREDICATES[code]
            if o >= 0:
                known.rel.setdefault((s, p), set()).add(o)
                known.subjects.setdefault((p, o), set()).add(s)
                if src == LIST:
                    known.listed.setdefault((p, o), set()).add(s)
            else:
                known.attr.setdefault((s, p), set()).add(str(fb.attr[p][s]))
        return known

    def one(self, values: set | None) -> Any:
        return next(iter(values)) if values and len(values) == 1 else None

    def resolve(self, anchor: dict[str, Any]) -> int | None:
        e = anchor["entity"]
        if not anchor["described"]:
            return e  # named: names are unique in the world
        fb = self.fb
        candidates: set[int] | None = None
        for c, name in DESCRIBE[fb.kind_of(e)]:
            if c == "rel":
                found = self.subjects.get((name, int(fb.rel[name][e])), set())
            else:
                want = str(fb.attr[name][e])
                found = {s for (s, a), vals in self.attr.items() if a == name and want in vals}
            candidates = found if candidates is None else candidates & found
        return self.one(candidates)

    def follow(self, e: int | None, chain: list[str]) -> int | None:
        for r in chain:
            if e is None:
                return None
            e = self.one(self.rel.get((e, r)))
        return e

    def value(self, e: int | None, attribute: str) -> str | None:
        return None if e is None else self.one(self.attr.get((e, attribute)))


def solve(fb: FactBase, program: dict[str, Any], doc_rows: list[int]) -> str | None:
    """The answer derivable from the trusted statements of ``doc_rows`` alone, or None."""
    k = _Known.of(fb, doc_rows)
    t = program["type"]
    if t == "bridge":
        e = k.follow(k.resolve(program["anchor"]), program["chain"])
        if program["attribute"] is not None:
            return k.value(e, program["attribute"])
        return None if e is None else fb.names[e]
    if t == "comparison":
        ends = [k.follow(k.resolve(s["anchor"]), s["chain"]) for s in program["sides"]]
        values = [k.value(e, program["attribute"]) for e in ends]
        if None in values or values[0] == values[1]:
            return None
        return fb.names[ends[winner(program, [int(v) for v in values])]]
    if t == "intersection":
        sets = []
        for c in program["conditions"]:
            target = k.follow(k.resolve(c["anchor"]), c["chain"])
            sets.append(k.subjects.get((c["relation"], target), set()) if target is not None else set())
        found = k.one(sets[0] & sets[1])
        return None if found is None else fb.names[found]
    target = k.follow(k.resolve(program["anchor"]), program["chain"])
    if target is None:
        return None
    # a count needs the complete list, which only the counted entity's page gives: members
    # met one by one on their own pages say nothing about the ones not met
    count = len(k.listed.get((program["relation"], target), set()))
    return str(count) if count else None


def minimal_evidence(fb: FactBase, program: dict[str, Any], answer: str, needs: list[frozenset[int]],
                     prefer: list[int], most: int) -> list[int] | None:
    """The smallest set of documents, anywhere in the corpus, from which ``answer`` is
    derivable (ties: ``prefer``'s documents first, in its order); None if it takes more than
    ``most``.

    ``needs`` holds, for each statement the derivation cannot do without, the documents that
    state it trustedly (:meth:`_Derivation.needs`): every derivation must read one of each, so
    only their union can matter, and a set that covers them all is checked with :func:`solve`.
    Searching in order of size makes the result a minimum, not just a set no document can
    leave (the old drop-one-at-a-time pass missed shortcuts through pages outside the gold
    derivation, such as an employer's page that lists its staff)."""
    pool = list(dict.fromkeys([d for d in prefer if any(d in n for n in needs)]
                              + sorted(set().union(*needs))))
    for size in range(1, most + 1):
        for combo in itertools.combinations(pool, size):
            chosen = set(combo)
            if all(n & chosen for n in needs) and solve(fb, program, list(combo)) == answer:
                return list(combo)
    return None


def smallest_derivation(fb: FactBase, program: dict[str, Any], answer: str, subjects: list[int],
                        predicates: list[str], most: int) -> int | None:
    """The size of the smallest document set the answer is derivable from, by brute force
    with no knowledge of how :func:`minimal_evidence` narrows its search: every combination
    of the documents stating (trustedly) any of ``predicates`` about any of ``subjects``, up to
    ``most`` documents (None beyond). Slow; the check tests and bench/realism.py run on
    stored questions (``subjects``: the evidence rows' subjects, ``predicates``: the reference's)."""
    docs: set[int] = set()
    for e in subjects:
        for p in predicates:
            rows = fb.statements(e, p)
            docs.update(int(d) for d in fb.doc[rows[(fb.source[rows] == OWN) | (fb.source[rows] == LIST)]])
    pool = sorted(docs)
    for size in range(1, most + 1):
        if any(solve(fb, program, list(combo)) == answer for combo in itertools.combinations(pool, size)):
            return size
    return None


# ---------------------------------------------------------------------------- generation


class _Unfair(Exception):
    """A drawn question that is sound but trivial: draw again."""


@dataclass
class _Derivation:
    """The canonical derivation of a program over the true world: its answer, and the fact
    rows, entities, predicates and attributes it uses."""

    fb: FactBase
    evidence: list[int] = field(default_factory=list)
    involved: list[int] = field(default_factory=list)
    predicates: list[str] = field(default_factory=list)
    attributes: list[tuple[int, str]] = field(default_factory=list)
    statements: list[tuple[int, str]] = field(default_factory=list)  # (subject, predicate) it cannot do without
    pages: list[int] = field(default_factory=list)  # documents it cannot do without (a count's list)

    def use(self, row: int) -> None:
        """Use the fact row ``row`` (its statement is needed, wherever it is read)."""
        self.evidence.append(row)
        self.statements.append((int(self.fb.subject[row]), PREDICATES[self.fb.pred[row]]))

    def needs(self) -> list[frozenset[int]]:
        """For each statement the derivation needs, the documents that state it trustedly
        (the subject's own page, a listing on the object's page, a listing that prints the
        attribute); a count needs its list's page itself."""
        fb = self.fb
        out = [frozenset(self.pages)] if self.pages else []
        for subject, predicate in dict.fromkeys(self.statements):
            rows = fb.statements(subject, predicate)
            rows = rows[(fb.source[rows] == OWN) | (fb.source[rows] == LIST)]
            out.append(frozenset(int(d) for d in fb.doc[rows]))
        return out

    def anchor(self, anchor: dict[str, Any], path: list[int]) -> None:
        fb, e = self.fb, anchor["entity"]
        self.involved.append(e)
        if not anchor["described"]:
            return
        for c, p in DESCRIBE[fb.kind_of(e)]:
            if c == "rel" and int(fb.rel[p][e]) in path:
                raise _Unfair  # the description already names a hop's target
            self.use(fb.primary(e, p))
            self.predicates.append(p)
            if c == "attr":
                self.attributes.append((e, p))

    def chain(self, anchor: dict[str, Any], chain: list[str]) -> int:
        fb = self.fb
        path = walk(fb, anchor["entity"], chain)
        self.anchor(anchor, path)
        for e, r in zip(path, chain, strict=False):
            self.use(fb.primary(e, r))
            self.predicates.append(r)
        self.involved.extend(path[1:])
        return path[-1]

    def attribute(self, e: int, attribute: str) -> int:
        self.use(self.fb.primary(e, attribute))
        self.predicates.append(attribute)
        self.attributes.append((e, attribute))
        return int(self.fb.attr[attribute][e])

    def run(self, program: dict[str, Any]) -> tuple[str, str, list[str]]:
        """(answer, answer kind, aliases)."""
        fb, t = self.fb, program["type"]
        if t == "bridge":
            end = self.chain(program["anchor"], program["chain"])
            if program["attribute"] is not None:
                return str(self.attribute(end, program["attribute"])), "year", []
            return fb.names[end], fb.kind_of(end), list(fb.aliases[end])
        if t == "comparison":
            ends = [self.chain(s["anchor"], s["chain"]) for s in program["sides"]]
            values = [self.attribute(e, program["attribute"]) for e in ends]
            best = ends[winner(program, values)]
            return fb.names[best], fb.kind_of(best), list(fb.aliases[best])
        if t == "intersection":
            targets = [self.chain(c["anchor"], c["chain"]) for c in program["conditions"]]
            (x,) = set.intersection(*(set(fb.members_of(c["relation"], target).tolist())
                                      for c, target in zip(program["conditions"], targets, strict=True)))
            for c, target in zip(program["conditions"], targets, strict=True):
                self.use(fb.listing(x, c["relation"], target))
                self.predicates.append(c["relation"])
            self.involved.append(x)
            return fb.names[x], fb.kind_of(x), list(fb.aliases[x])
        target = self.chain(program["anchor"], program["chain"])
        members = fb.members_of(program["relation"], target).tolist()
        if program["chain"] and program["chain"][-1] == program["relation"] and len(members) < 2:
            raise _Unfair  # the only one counted is the entity the chain came from
        self.evidence.extend(fb.listing(m, program["relation"], target) for m in members)
        self.pages.append(int(fb.page[target]))
        self.predicates.append(program["relation"])
        return str(len(members)), "count", [_NUMBER_WORDS[len(members)]]


@dataclass
class _Draft:
    program: dict[str, Any]
    derivation: _Derivation
    answer: str
    kind: str
    aliases: list[str]
    involved: list[int]
    namesakes: list[int]
    conflicts: list[int]
    hazards: dict[str, int]
    gold: list[int]
    minimal: list[int]

    @property
    def difficulty(self) -> int:
        return 1 + min(4, sum(self.hazards.values()))

    @property
    def hops(self) -> int:
        return len(self.minimal)


@dataclass
class Question:
    program: dict[str, Any]
    text: str
    answer: str
    aliases: list[str]
    answer_kind: str  # an entity kind, "year" or "count"
    evidence: list[dict[str, Any]]  # fact rows of the canonical derivation
    gold: list[int]  # document rows, in order of use
    minimal: list[int]  # the smallest document set the answer is derivable from: its size is the hop count
    traps: list[int]  # namesake, conflicting and misreading pages of what the question involves
    predicates: list[str]  # relations and attributes the derivation reads
    involved: list[int]
    hazards: dict[str, int]

    @property
    def difficulty(self) -> int:
        return 1 + min(4, sum(self.hazards.values()))

    @property
    def hops(self) -> int:
        return len(self.minimal)


class QuestionMaker:
    """Draws questions of a type, hop count and difficulty from one corpus's world."""

    def __init__(self, corpus: Corpus):
        if fact_base(corpus) is None:
            raise ValueError(f"{corpus.ref} is not a generated world (no facts table); bring questions in a "
                             "question file for it instead")
        self.corpus, self.fb = corpus, fact_base(corpus)
        self._unique: dict[str, set[int]] = {}

    # ------------------------------------------------------------------ the draw

    def make(self, rng: random.Random, difficulty: int, types: tuple[str, ...] = TYPES,
             hops: tuple[int, ...] = HOPS) -> Question:
        """A question of ``difficulty`` whose hop count (the size of its minimal evidence set)
        is in ``hops``. The type and the hop count are drawn once, so that types and hop
        counts that fit a difficulty more often do not crowd out the rest; drafts are drawn
        until one has both and the right hazards (then any type, then any allowed hop count;
        the nearest draft is returned when the world holds none of that difficulty)."""
        want = difficulty - 1
        best: _Draft | None = None
        possible = [h for h in hops if any((h, d) in _SIZES[t] for t in types for d in (False, True))]
        if not possible:
            raise ValueError(f"no {list(types)} question needs {list(hops)} documents: bridges and aggregations "
                             f"need 2-3 documents, comparisons and intersections 2-4; widen 'types' or 'hops'")
        fitting = [h for h in possible if h - 2 <= want] or [min(possible)]
        target = rng.choice(fitting)
        qtype = rng.choice([t for t in types if any((target, d) in _SIZES[t] for d in (False, True))])
        for attempt in range(_TRIES):
            stage = 4 * attempt // _TRIES  # 0-1: this type and hop count; 2: any type; 3: any hop count
            h = target if stage < 3 else rng.choice(fitting)
            kind = qtype if stage < 2 else rng.choice([t for t in types if any((h, d) in _SIZES[t] for d in (False, True))])
            draft = self._draw(rng, want, kind, h, hops, difficulty if stage < 3 else None)
            if draft is None:
                continue
            if draft.difficulty == difficulty and (stage == 3 or draft.hops == h):
                q = self._finish(draft)
                if q is not None:
                    return q
            elif best is None or abs(draft.difficulty - difficulty) < abs(best.difficulty - difficulty):
                best = draft
        q = None if best is None else self._finish(best)
        if q is None:
            raise ValueError(f"{self.corpus.ref}: no {types} question with {hops} hops found; the world is too small")
        return q

    def _draw(self, rng: random.Random, want: int, qtype: str, h: int, hops: tuple[int, ...],
              difficulty: int | None = None) -> _Draft | None:
        """A draft of ``qtype`` sized to need about ``h`` documents (with ``difficulty``: only
        one that would have it with ``h`` hops is finished, the cheap hazards rated first)."""
        rest = want - (h - 2)
        indirect = rest >= 3 or (rest > 0 and rng.random() < 0.35)
        sizes = _SIZES[qtype]
        if (h, indirect) not in sizes:
            indirect = not indirect
            if (h, indirect) not in sizes:
                return None
        facts = rng.choice(sizes[h, indirect])
        make = {"bridge": self._bridge, "comparison": self._comparison, "intersection": self._intersection,
                "aggregation": self._aggregation}[qtype]
        program = make(rng, facts, indirect)
        if program is None:
            return None
        return self._draft(program, hops, None if difficulty is None else (h, difficulty))

    def _anchor(self, e: int, indirect: bool) -> dict[str, Any] | None:
        if indirect and (e not in self._describable(self.fb.kind_of(e)) or not self._searchable(e)):
            return None
        return {"entity": int(e), "described": indirect}

    def _random_entity(self, rng: random.Random, kind: str, city: bool = True) -> int:
        fb = self.fb
        while True:
            e = rng.randrange(fb.n)
            if fb.kind_of(e) == kind and (kind != PLACE or (fb.subtype[e] == "city") == city):
                return e

    def _back(self, rng: random.Random, target: int, k: int, avoid: set[int]) -> tuple[int, list[str]] | None:
        """An anchor and a chain of ``k`` relations leading to ``target`` (walking backwards)."""
        fb = self.fb
        chain: list[str] = []
        e = target
        for _ in range(k):
            options = [(r, m) for r in RELATIONS if RELATIONS[r].object == fb.kind_of(e)
                       for m in fb.members_of(r, e).tolist() if m not in avoid and m != target]
            if not options:
                return None
            r, e = rng.choice(options)
            chain.insert(0, r)
            avoid = avoid | {e}
        return e, chain

    def _styles(self, rng: random.Random, chain: list[str]) -> list[int]:
        return [rng.randrange(2) for _ in chain]

    def _bridge(self, rng: random.Random, h: int, indirect: bool) -> dict[str, Any] | None:
        fb = self.fb
        attribute = None
        k = h
        if rng.random() < 0.3:
            attribute, k = "pending", h - 1
        e = rng.randrange(fb.n)
        chain: list[str] = []
        path = [e]
        for _ in range(k):
            options = [r for r in RELATIONS if fb.rel[r][path[-1]] >= 0]
            if not options:
                return None
            r = rng.choice(options)
            nxt = int(fb.rel[r][path[-1]])
            if nxt in path:
                return None
            chain.append(r)
            path.append(nxt)
        if attribute is not None:
            attribute = _YEARS.get(fb.kind_of(path[-1]))
            if attribute is None:
                return None
        anchor = self._anchor(e, indirect)
        if anchor is None:
            return None
        return {"type": "bridge", "anchor": anchor, "chain": chain, "attribute": attribute,
                "styles": self._styles(rng, chain), "form": rng.randrange(2)}

    def _comparison(self, rng: random.Random, h: int, indirect: bool) -> dict[str, Any] | None:
        fb = self.fb
        attribute = rng.choice(_INT_ATTRS)
        kind = ATTRIBUTES[attribute].kind
        city = rng.random() < 0.8
        ends = [self._random_entity(rng, kind, city) for _ in range(2)]
        if ends[0] == ends[1] or fb.attr[attribute][ends[0]] == fb.attr[attribute][ends[1]]:
            return None
        sides = self._two_chains(rng, ends, h - 2, set(ends), indirect)
        if sides is None:
            return None
        return {"type": "comparison", "attribute": attribute, "sides": sides, "form": rng.randrange(2)}

    def _intersection(self, rng: random.Random, h: int, indirect: bool) -> dict[str, Any] | None:
        fb = self.fb
        x = rng.randrange(fb.n)  # an entity first: kinds weigh by their size, so small pools do not repeat
        kind = fb.kind_of(x)
        if kind not in _INTERSECT:
            return None
        relations = _INTERSECT[kind]
        targets = [int(fb.rel[r][x]) for r in relations]
        common = set(fb.members_of(relations[0], targets[0]).tolist()) & set(fb.members_of(relations[1], targets[1]).tolist())
        if common != {x}:
            return None
        chains = self._two_chains(rng, targets, h - 2, {x, *targets}, indirect)
        if chains is None:
            return None
        conditions = [{"relation": r, **c} for r, c in zip(relations, chains, strict=True)]
        return {"type": "intersection", "kind": kind, "conditions": conditions}

    def _two_chains(
        self, rng: random.Random, ends: list[int], k: int, used: set[int], indirect: bool
    ) -> list[dict[str, Any]] | None:
        """Two anchor chains that lead to ``ends``, sharing ``k`` extra hops between them, with
        no entity used twice; only the first anchor may be named indirectly. None if the world
        has no such chains around these ends."""
        split = rng.randint(0, k)
        out: list[dict[str, Any]] = []
        for end, length in zip(ends, (split, k - split), strict=True):
            back = self._back(rng, end, length, used)
            if back is None:
                return None
            anchor_e, chain = back
            used |= set(walk(self.fb, anchor_e, chain))
            anchor = self._anchor(anchor_e, indirect and not out)
            if anchor is None:
                return None
            out.append({"anchor": anchor, "chain": chain, "styles": self._styles(rng, chain)})
        return out

    def _aggregation(self, rng: random.Random, h: int, indirect: bool) -> dict[str, Any] | None:
        fb = self.fb
        member = rng.randrange(fb.n)  # a statement first (a member and its relation): pools weigh by size
        relation = rng.choice([r for r in RELATIONS if fb.rel[r][member] >= 0] or [None])
        if relation is None:
            return None
        target = int(fb.rel[relation][member])
        count = len(fb.members_of(relation, target))
        if not 1 <= count <= 9:
            return None
        back = self._back(rng, target, h - 1, {target})
        if back is None:
            return None
        anchor_e, chain = back
        anchor = self._anchor(anchor_e, indirect)
        if anchor is None:
            return None
        return {"type": "aggregation", "relation": relation, "anchor": anchor, "chain": chain,
                "styles": self._styles(rng, chain)}

    # ------------------------------------------------------------------ descriptions

    def _describable(self, kind: str) -> set[int]:
        """Entities of ``kind`` whose description fits no other entity of the world."""
        if kind not in self._unique:
            fb = self.fb
            groups: dict[tuple, list[int]] = {}
            for e in range(fb.n):
                if fb.kind_of(e) != kind or (kind == PLACE and fb.subtype[e] != "city"):
                    continue
                key = tuple(str(fb.attr[a][e]) if c == "attr" else int(fb.rel[a][e]) for c, a in DESCRIBE[kind])
                groups.setdefault(key, []).append(e)
            self._unique[kind] = {g[0] for g in groups.values() if len(g) == 1}
        return self._unique[kind]

    def _searchable(self, e: int) -> bool:
        page = int(self.fb.page[e])
        return any(page in (r for r, _ in self.corpus.search(q, SEARCH_TOPN)) for q in description_queries(self.fb, e))

    # ------------------------------------------------------------------ evidence and checks

    def _draft(self, program: dict[str, Any], hops: tuple[int, ...],
               expect: tuple[int, int] | None = None) -> _Draft | None:
        """The canonical derivation, minimal evidence set and hazards of a drawn program; None
        if it is unfair or its minimal set's size is not an allowed hop count. ``expect`` =
        (hops, difficulty): None early, before the solver and the minimal-set search, when the
        other hazards cannot give that difficulty with that many hops."""
        fb = self.fb
        d = _Derivation(fb)
        try:
            answer, kind, aliases = d.run(program)
        except _Unfair:
            return None
        involved = list(dict.fromkeys(d.involved))
        namesakes = [int(fb.namesake[e]) for e in involved if fb.namesake[e] >= 0]
        conflicts = [doc for e, a in d.attributes for doc in fb.conflict_docs(e, a)]
        hazards = {"hops": 0, "namesakes": min(2, len(namesakes)),
                   "indirect": int(any(a["described"] for a in anchors(program))), "conflict": int(bool(conflicts))}
        if expect is not None and 1 + min(4, expect[0] - 2 + sum(hazards.values())) != expect[1]:
            return None
        gold = list(dict.fromkeys(int(fb.doc[i]) for i in d.evidence))
        if solve(fb, program, gold) != answer:
            return None  # ambiguous from its own evidence (e.g. a tie): not a fair question
        minimal = minimal_evidence(fb, program, answer, d.needs(), gold, max(hops))
        if minimal is None or len(minimal) not in hops:
            return None  # a one-page lookup, or more pages than asked for
        hazards["hops"] = len(minimal) - 2
        return _Draft(program, d, answer, kind, aliases, involved, namesakes, conflicts, hazards, gold, minimal)

    def _finish(self, draft: _Draft) -> Question | None:
        """The question of a draft: the answer must not be in the question; traps."""
        fb, program, answer = self.fb, draft.program, draft.answer
        text = render(fb, program)
        if draft.kind not in ("year", "count") and program["type"] != "comparison" \
                and normalize_answer(answer) in normalize_answer(text):
            return None
        traps = sorted(({int(fb.page[n]) for n in draft.namesakes} | set(draft.conflicts) | self._misreadings(draft))
                       - set(draft.gold))
        return Question(program, text, answer, draft.aliases, draft.kind,
                        [self._row(i) for i in draft.derivation.evidence], draft.gold, draft.minimal, traps,
                        list(dict.fromkeys(draft.derivation.predicates)), draft.involved, draft.hazards)

    def _misreadings(self, draft: _Draft) -> set[int]:
        """Pages a misread gold line leads to: a gold page's passing mention of another
        entity's relation ("Holloway's mentor, Tobin Kasli, was born in Port Amara"), taken
        for the subject's own fact, sends a reader to the mentioned object's page."""
        fb, involved = self.fb, set(draft.involved)
        relations = {PREDICATES.index(p) for p in draft.derivation.predicates if p in RELATIONS}
        rows = fb.in_docs(draft.gold)
        out = set()
        for i in rows[(fb.source[rows] == MENTION)].tolist():
            subject, obj = int(fb.subject[i]), int(fb.object[i])
            if int(fb.pred[i]) in relations and obj >= 0 and subject not in involved and obj not in involved:
                out.add(int(fb.page[obj]))
        return out

    def _row(self, i: int) -> dict[str, Any]:
        fb = self.fb
        pred = PREDICATES[fb.pred[i]]
        row = {"docid": self.corpus.docid(int(fb.doc[i])), "line": int(fb.line[i]), "subject": fb.names[fb.subject[i]],
               "relation": pred}
        if pred in RELATIONS:
            row["object"] = fb.names[fb.object[i]]
        else:
            row["value"] = fb.value_of(i)
        return row


def anchors(program: dict[str, Any]) -> list[dict[str, Any]]:
    """The anchors a program starts from."""
    t = program["type"]
    if t == "comparison":
        return [s["anchor"] for s in program["sides"]]
    if t == "intersection":
        return [c["anchor"] for c in program["conditions"]]
    return [program["anchor"]]


def question_mark(kind: str) -> str:
    """What the answer should be, for the instruction."""
    if kind == "year":
        return "a year"
    if kind == "count":
        return "a number"
    if kind in _NOUN:
        return f"the name of {'an' if kind == ORG else 'a'} {_NOUN[kind]}"
    return "the answer"

