"""A generated encyclopedia with a BM25 index: the offline web that research episodes browse.

Why generated rather than scraped: every fact is known by construction, so each question
has a checkable answer and exact evidence lines; nothing is downloaded; the size is a
parameter; and the same ``(seed, size)`` gives the same pages, docids and rankings in any
process. The world is small but adversarial where it matters for search agents: entities
come in near-namesake pairs (``Maren Holloway`` / ``Maren Halloway``) whose facts differ,
pages state true facts about *other* entities with the same wording as the subject's own
facts, and long pages bury facts below the first screen so an agent has to ``find`` them.

Why BM25 with ``bm25s``: it is a real lexical index (the baseline deep-research agents
are trained against), it builds a 2,000-page index in well under a second, and scoring a
query is a sparse sum over a few posting lists. Pages repeat their subject's name in most
lines, so an entity's exact title ranks its own page first (the tests check every title).
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, replace

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from bm25s.tokenization import Tokenizer

PERSON, ORG, CITY, COUNTRY = "person", "org", "city", "country"

#: relation -> (subject kind, object kind, the phrase every fact sentence of it contains)
RELATIONS: dict[str, tuple[str, str, str]] = {
    "born_in": (PERSON, CITY, "born in"),
    "works_for": (PERSON, ORG, "works for"),
    "founded_by": (ORG, PERSON, "founded by"),
    "headquartered_in": (ORG, CITY, "headquartered in"),
    "located_in": (CITY, COUNTRY, "located in"),
}

#: Lines a browser shows when it opens a page. Long pages put some facts at or below this
#: line, so they can only be read with a find (a difficulty lever for question builders).
SCREEN_LINES = 20
MIN_SIZE = 40
URL_PREFIX = "https://encyclopedia.example/wiki/"

_PAIR_RATE = 0.3  # chance that a new entity comes with a near-namesake
_LONG_RATE = 0.5  # share of pages long enough to bury facts
_GIVEN = (
    "Maren", "Tobin", "Ilse", "Corin", "Dessa", "Anwen", "Bram", "Calla", "Dorian", "Elsa",
    "Fenna", "Gideon", "Halle", "Ivo", "Jora", "Kasimir", "Lise", "Milo", "Nadia", "Oren",
    "Petra", "Quill", "Rhea", "Soren", "Talia", "Ulric", "Vera", "Wren", "Yara", "Zeno",
    "Alma", "Bastian", "Cleo", "Dario", "Edda", "Finn", "Greta", "Hugo", "Inka", "Jonas",
    "Kira", "Leon", "Mira", "Nils", "Odile", "Pavel", "Runa", "Sabine",
)
# Suffix words never occur in filler text, so a title's suffix only counts where it names.
_ORG_SUFFIXES = (
    "Dynamics", "Systems", "Holdings", "Foundry", "Analytics", "Industries", "Logistics",
    "Labs", "Partners", "Collective",
)
_LEGAL_FORMS = ("Ltd.", "Inc.", "AG", "plc")
_CITY_SUFFIXES = ("Falls", "Harbor", "Springs", "Heights", "Crossing", "Bay", "Ridge")
_STATE_FORMS = ("Republic", "Kingdom", "Federation", "Commonwealth", "Principality")
_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "gr", "kr", "tr", "th", "sh", "st")
_VOWELS = ("a", "e", "i", "o", "u", "a", "o", "ei", "ou")
_CODAS = ("", "", "", "n", "r", "l", "s", "m", "nd", "rk")

_OCCUPATIONS = ("cartographer", "chemist", "sculptor", "engineer", "historian", "architect",
                "economist", "botanist", "novelist", "surveyor", "composer", "physician")
_ROLES = ("senior analyst", "chief engineer", "project lead", "research fellow",
          "operations manager", "staff designer", "legal counsel", "field coordinator")
_INDUSTRIES = ("shipping", "textile", "software", "mining", "publishing", "biotech",
               "aerospace", "agricultural", "energy", "furniture", "optics", "insurance")
_CITY_KINDS = ("small river", "busy port", "hill", "market", "university", "mountain",
               "coastal", "lakeside")
# Every filler template has a slot, so a long page that reuses a template still varies.
_PERSON_FILLER = (
    "In {year}, {s} published a survey of {topic}.",
    "In {year}, {s} received a national award for work on {topic}.",
    "{s} is best known for careful work on {topic}.",
    "{s} wrote {n} books between {year} and {year2}.",
    "{s} speaks {n} languages and collects {thing}.",
    "From {year} to {year2}, {s} served on a public advisory panel.",
    "A portrait of {s} painted in {year} hangs in a regional gallery.",
    "In {year}, {s} gave a series of lectures on {topic}.",
    "{s} kept a diary from {year} to {year2}.",
    "Critics praised the {year} report by {s} on {topic}.",
    "In {year}, {s} moved to a house near the {place}.",
    "{s} taught a course on {topic} in {year}.",
)
_ORG_FILLER = (
    "In {year}, {s} opened a new factory near the {place}.",
    "{s} employs about {n}00 people.",
    "{s} is known for its durable {material} products.",
    "{s} reported revenue of {n} million crowns in {year}.",
    "In {year}, {s} acquired a regional competitor.",
    "{s} listed its shares on the exchange in {year}.",
    "The annual report of {s} for {year} noted steady growth.",
    "In {year}, {s} opened a research office for {topic}.",
    "{s} won a government contract for {topic} in {year}.",
    "In {year}, {s} cut its workforce by {n} percent.",
    "From {year} to {year2}, {s} sponsored a local football club.",
    "{s} published its first catalogue of {material} goods in {year}.",
)
_CITY_FILLER = (
    "{s} has a population of about {n}0,000.",
    "In {year}, {s} hosted a large trade fair.",
    "The economy of {s} relies on {topic}.",
    "A tram line has served {s} since {year}.",
    "{s} has held a music festival every summer since {year}.",
    "The old town of {s} was restored between {year} and {year2}.",
    "In {year}, floods damaged the lower districts of {s}.",
    "{s} opened its first public library in {year}.",
    "In {year}, {s} built a new station near the {place}.",
    "{s} is famous for its {n} stone bridges.",
    "The mayor of {s} was re-elected in {year}.",
    "Museums in {s} hold large collections of {thing}.",
)
_TOPICS = ("soil chemistry", "river navigation", "glass making", "tidal records", "weaving",
           "printing presses", "orchards", "ceramics", "clockwork", "bookbinding")
_THINGS = ("antique maps", "old coins", "field notebooks", "glass bottles", "pressed flowers")
_PLACES = ("river", "old mill", "market square", "railway yard", "northern bridge")
_MATERIALS = ("glass", "steel", "paper", "wool", "ceramic", "timber")
_NEIGHBOURS = {
    PERSON: ("mentor", "former colleague", "doctoral adviser"),
    ORG: ("main competitor", "largest supplier", "former partner"),
    CITY: ("twin town", "sister city", "neighbouring city"),
}


@dataclass(frozen=True, slots=True)
class Entity:
    key: str  # "person:00012"; stable within one (seed, size)
    kind: str  # person | org | city | country
    name: str
    aliases: tuple[str, ...]
    docid: str | None  # countries have no page
    namesake: str | None  # key of the near-namesake entity, if any


@dataclass(frozen=True, slots=True)
class Fact:
    subject: str  # entity key
    relation: str
    object: str  # entity key
    docid: str  # the subject's page, where the fact is stated
    line: int  # line index in that page


@dataclass(frozen=True, slots=True)
class Document:
    docid: str
    url: str
    title: str
    lines: tuple[str, ...]  # line 0 is the title

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Corpus:
    """Pages, the facts they state, and a BM25 index over them."""

    def __init__(self, seed: int, size: int, docs: list[Document], entities: dict[str, Entity],
                 facts: dict[tuple[str, str], Fact]):
        self.seed, self.size = seed, size
        self.docs = docs
        self.entities = entities
        self.facts = facts
        self._by_ref = {d.docid: i for i, d in enumerate(docs)} | {d.url: i for i, d in enumerate(docs)}
        self._by_docid = {e.docid: e for e in entities.values() if e.docid is not None}
        self._kinds: dict[str, list[Entity]] = {}
        for e in entities.values():
            self._kinds.setdefault(e.kind, []).append(e)
        self._tokenizer = Tokenizer(stopwords=list(STOPWORDS_EN))
        tokens = self._tokenizer.tokenize([d.text for d in docs], return_as="tuple", show_progress=False)
        self._empty_id = self._tokenizer.word_to_id.get("")
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)
        # Every episode of a run searches the same entity names: answer repeats from memory.
        self._cached_search = functools.lru_cache(maxsize=16384)(self._search)

    def doc(self, ref: str) -> Document | None:
        """The page with this docid or url, or None."""
        i = self._by_ref.get(ref)
        return None if i is None else self.docs[i]

    def entity_of(self, docid: str) -> Entity:
        return self._by_docid[docid]

    def fact(self, subject: str, relation: str) -> Fact:
        return self.facts[(subject, relation)]

    def of_kind(self, kind: str) -> list[Entity]:
        return list(self._kinds.get(kind, ()))

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-``k`` ``(docid, score)`` by BM25, best first; ties go to the lower docid.

        Documents that share no term with the query are left out, so a query of
        stopwords or unknown words returns nothing rather than arbitrary pages.
        """
        return list(self._cached_search(query, k))

    def _search(self, query: str, k: int) -> tuple[tuple[str, float], ...]:
        ids = self._tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        ids = [i for i in ids if i != self._empty_id]
        if not ids or k <= 0:
            return ()
        scores = self._bm25.get_scores_from_ids(ids)
        top = np.argsort(-scores, kind="stable")[:k]
        return tuple((self.docs[i].docid, float(scores[i])) for i in top if scores[i] > 0)


@functools.lru_cache(maxsize=8)
def get_corpus(seed: int = 0, size: int = 2000) -> Corpus:
    """The corpus for ``(seed, size)``, built once per process and shared by all episodes."""
    if size < MIN_SIZE:
        raise ValueError(f"corpus size must be at least {MIN_SIZE} pages, got {size}")
    rng = random.Random(f"trajforge/corpus/{seed}/{size}")
    world = _World(rng, size)
    return Corpus(seed, size, world.docs, world.entities, world.facts)


def name_key(text: str) -> str:
    """Lowercase words without punctuation: two names clash when their keys are equal."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class _World:
    """One pass of generation: names, relations, then pages. Every draw is from ``rng``."""

    def __init__(self, rng: random.Random, size: int):
        self.rng = rng
        self.words = {g.lower() for g in _GIVEN} | {w.lower() for w in _ORG_SUFFIXES + _CITY_SUFFIXES}
        self.names: set[str] = set()
        self.counts = dict.fromkeys((PERSON, ORG, CITY, COUNTRY), 0)
        self.entities: dict[str, Entity] = {}
        self.facts: dict[tuple[str, str], Fact] = {}
        n_city = max(6, size * 3 // 20)
        n_org = max(6, size // 4)
        countries = [self._country(i) for i in range(max(3, min(12, size // 150)))]
        cities = self._group(CITY, n_city, self._city_pair, self._city_single)
        orgs = self._group(ORG, n_org, self._org_pair, self._org)
        people = self._group(PERSON, size - n_city - n_org, self._person_pair, self._person)
        self.by_kind = {CITY: cities, ORG: orgs, PERSON: people}
        self.objects: dict[tuple[str, str], str] = {}
        self._relate(cities, "located_in", countries)
        self._relate(orgs, "founded_by", people)
        self._relate(orgs, "headquartered_in", cities)
        self._relate(people, "born_in", cities)
        self._relate(people, "works_for", orgs)
        # founding year of an organisation, birth year of a person, a floor for city dates
        self.since = {k: rng.randint(1890, 2010) if self.entities[k].kind == ORG else rng.randint(1930, 1995)
                      for k in cities + orgs + people}
        order = list(range(len(cities) + len(orgs) + len(people)))
        rng.shuffle(order)
        for i, key in enumerate(cities + orgs + people):
            self.entities[key] = replace(self.entities[key], docid=f"doc-{order[i]:05d}")
        self.docs = sorted((self._page(k) for k in cities + orgs + people), key=lambda d: d.docid)

    # ------------------------------------------------------------------ names

    def _word(self, syllables: int) -> str:
        while True:
            w = "".join(self.rng.choice(_ONSETS) + self.rng.choice(_VOWELS) + self.rng.choice(_CODAS)
                        for _ in range(syllables))
            if 4 <= len(w) <= 11 and w not in self.words and w not in STOPWORDS_EN:
                self.words.add(w)
                return w.capitalize()

    def _variant(self, word: str) -> str:
        """A one-vowel change of ``word`` not used yet: the surname of a near-namesake."""
        spots = [i for i, c in enumerate(word) if c in "aeiou"]
        self.rng.shuffle(spots)
        for i in spots:
            for v in self.rng.sample("aeiou", 5):
                w = (word[:i] + v + word[i + 1:]).lower()
                if w not in self.words and w not in STOPWORDS_EN:
                    self.words.add(w)
                    return w.capitalize()
        return self._word(3)

    def _add(self, kind: str, name: str, aliases: tuple[str, ...], namesake: str | None = None) -> str | None:
        """Register an entity unless a name or alias clashes with one already taken."""
        keys = [name_key(n) for n in (name, *aliases)]
        if any(k in self.names for k in keys) or len(set(keys)) < len(keys):
            return None
        self.names.update(keys)
        key = f"{kind}:{self.counts[kind]:05d}"
        self.counts[kind] += 1
        self.entities[key] = Entity(key, kind, name, aliases, None, namesake)
        if namesake is not None:
            self.entities[namesake] = replace(self.entities[namesake], namesake=key)
        return key

    def _group(self, kind, count, make_pair, make_one) -> list[str]:
        keys: list[str] = []
        while len(keys) < count:
            pair = count - len(keys) >= 2 and self.rng.random() < _PAIR_RATE
            made = make_pair() if pair else [make_one()]
            keys += [k for k in made if k is not None]
        return keys

    def _country(self, i: int) -> str:
        while True:
            name = self._word(2 + i % 2)
            key = self._add(COUNTRY, name, (f"{self.rng.choice(_STATE_FORMS)} of {name}",))
            if key:
                return key

    def _person(self, given=None, surname=None, namesake=None) -> str | None:
        given = given or self.rng.choice(_GIVEN)
        surname = surname or self._word(self.rng.choice((2, 2, 3)))
        middle = self.rng.choice([g for g in _GIVEN if g != given])
        return self._add(PERSON, f"{given} {surname}", (f"{given} {middle} {surname}",), namesake)

    def _person_pair(self) -> list[str | None]:
        first = self._person()
        if first is None:
            return []
        given, surname = self.entities[first].name.split(" ")
        return [first, self._person(given, self._variant(surname), first)]

    def _org(self, stem=None, suffix=None, namesake=None) -> str | None:
        stem = stem or self._word(self.rng.choice((2, 3)))
        name = f"{stem} {suffix or self.rng.choice(_ORG_SUFFIXES)}"
        return self._add(ORG, name, (f"{name} {self.rng.choice(_LEGAL_FORMS)}",), namesake)

    def _org_pair(self) -> list[str | None]:
        first = self._org()
        if first is None:
            return []
        stem, suffix = self.entities[first].name.split(" ")
        other = self.rng.choice([s for s in _ORG_SUFFIXES if s != suffix])
        return [first, self._org(stem, other, first)]

    def _city(self, stem=None, suffix=None, namesake=None) -> str | None:
        stem = stem or self._word(self.rng.choice((2, 3)))
        name = stem if suffix == "" else f"{stem} {suffix or self.rng.choice(_CITY_SUFFIXES)}"
        aliases = (self._word(2),) if self.rng.random() < 0.4 else ()
        return self._add(CITY, name, aliases, namesake)

    def _city_pair(self) -> list[str | None]:
        # Both members carry a suffix: a bare stem would lose its own title search to the
        # pair member that repeats the stem and adds a word.
        a, b = self.rng.sample(_CITY_SUFFIXES, 2)
        first = self._city(suffix=a)
        if first is None:
            return []
        return [first, self._city(self.entities[first].name.split(" ")[0], b, first)]

    def _city_single(self) -> str | None:
        return self._city(suffix="" if self.rng.random() < 0.5 else None)

    # ------------------------------------------------------------------ relations

    def _relate(self, subjects: list[str], relation: str, objects: list[str]) -> None:
        """Draw each subject's object; a near-namesake never shares its partner's object."""
        for key in subjects:
            partner = self.entities[key].namesake
            taken = self.objects.get((partner, relation)) if partner else None
            while True:
                obj = self.rng.choice(objects)
                if obj != taken and obj != key:
                    break
            self.objects[(key, relation)] = obj

    # ------------------------------------------------------------------ pages

    def _page(self, key: str) -> Document:
        """Title, lead, the subject's facts (buried below the first screen on long pages),
        a few true facts about neighbours in the same wording, and filler naming the subject."""
        rng, e = self.rng, self.entities[key]
        relations = [r for r, (kind, _, _) in RELATIONS.items() if kind == e.kind]
        long = rng.random() < _LONG_RATE
        n_lines = rng.randint(SCREEN_LINES + 6, SCREEN_LINES + 12) if long else rng.randint(8, 12)
        since = self.since[key]
        lines: list[str | None] = [e.name, self._lead(e, since)] + [None] * (n_lines - 2)
        buried = [long and rng.random() < 0.85 for _ in relations]
        if long and not any(buried):
            buried[rng.randrange(len(buried))] = True
        for relation, deep in zip(relations, buried, strict=True):
            spots = range(SCREEN_LINES, n_lines) if deep else range(2, min(n_lines, SCREEN_LINES))
            i = rng.choice([i for i in spots if lines[i] is None])
            obj = self.objects[(key, relation)]
            lines[i] = self._fact_sentence(e.name, relation, self.entities[obj].name, since)
            self.facts[(key, relation)] = Fact(key, relation, obj, e.docid, i)
        free = [i for i, line in enumerate(lines) if line is None]
        rng.shuffle(free)
        if e.namesake is not None:
            lines[free.pop()] = f"{e.name} is not to be confused with {self.entities[e.namesake].name}."
        labels = rng.sample(_NEIGHBOURS[e.kind], rng.randint(1, 3) if long else rng.randint(0, 1))
        for label in labels:
            lines[free.pop()] = self._neighbour_fact(e, label)
        pool = _PERSON_FILLER if e.kind == PERSON else _ORG_FILLER if e.kind == ORG else _CITY_FILLER
        templates = rng.sample(pool, len(pool)) * (1 + len(free) // len(pool))
        since = since + 18 if e.kind == PERSON else since
        for i, template in zip(sorted(free), templates, strict=False):
            year = rng.randint(since, 2020)
            lines[i] = template.format(
                s=_short(e), year=year, year2=year + rng.randint(1, 9), n=rng.randint(2, 9),
                topic=rng.choice(_TOPICS), thing=rng.choice(_THINGS), place=rng.choice(_PLACES),
                material=rng.choice(_MATERIALS))
        return Document(e.docid, URL_PREFIX + e.name.replace(" ", "_"), e.name, tuple(lines))

    def _lead(self, e: Entity, since: int) -> str:
        rng = self.rng
        if e.kind == PERSON:
            job = rng.choice(_OCCUPATIONS)
            return f"{e.name} (full name {e.aliases[0]}, born {since}) is {_a(job)} {job}."
        if e.kind == ORG:
            return f"{e.name} (legally {e.aliases[0]}) is {_a(trade := rng.choice(_INDUSTRIES))} {trade} company."
        former = f" (formerly {e.aliases[0]})" if e.aliases else ""
        return f"{e.name}{former} is {_a(kind := rng.choice(_CITY_KINDS))} {kind} city."

    def _fact_sentence(self, subject: str, relation: str, obj: str, since: int) -> str:
        if relation == "born_in":
            return f"{subject} was born in {obj}."
        if relation == "works_for":
            role = self.rng.choice(_ROLES)
            return f"{subject} works for {obj} as {_a(role)} {role}."
        if relation == "founded_by":
            return f"{subject} was founded by {obj} in {since}."
        if relation == "headquartered_in":
            return f"{subject} is headquartered in {obj}."
        return f"{subject} is located in {obj}."

    def _neighbour_fact(self, e: Entity, label: str) -> str:
        """A true fact about another entity of the subject's kind, worded like the subject's
        own facts, so a find on the relation phrase also matches a line that is not evidence."""
        rng = self.rng
        relation = rng.choice([r for r, (kind, _, _) in RELATIONS.items() if kind == e.kind])
        other = e
        while other.key in (e.key, e.namesake):
            other = self.entities[rng.choice(self.by_kind[e.kind])]
        obj = self.entities[self.objects[(other.key, relation)]].name
        predicate = self._fact_sentence(other.name, relation, obj, self.since[other.key])
        return f"{possessive(_short(e))} {label}, {other.name}, {predicate[len(other.name) + 1:]}"


def _short(e: Entity) -> str:
    """How running text names the subject: a person by surname, anything else in full."""
    return e.name.split(" ")[1] if e.kind == PERSON else e.name


def possessive(name: str) -> str:
    """``Holloway's``, ``Veltrix Dynamics'``."""
    return name + ("'" if name.endswith("s") else "'s")


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
