"""The generated world: a seeded fictional encyclopedia whose every fact is known.

Why generated: each question built on it has a checkable answer and exact evidence lines,
nothing is downloaded, the size is a parameter (10,000 pages by default, 1,000,000 in the
benchmark) and the same :class:`WorldSpec` gives the same pages, docids and facts in any
process. The world is adversarial where it matters for search agents:

- entities of five kinds (people, organisations, places, works, events) with typed
  attributes (:data:`ATTRIBUTES`) and functional relations (:data:`RELATIONS`), stated on the
  subject's page (source ``own``) and listed on the object's page (source ``list``: "Notable
  people", "Publications", ...), so multi-hop chains, intersections and counts are answerable;
- near-namesakes (``Maren Holloway`` / ``Maren Halloway``, ``Veltrix Dynamics`` / ``Veltrix
  Labs``) whose facts always differ, so confusing them gives a wrong answer;
- pages that mention other entities (source ``mention``): true facts worded like the subject's
  own, so a ``find`` also hits lines that are not evidence, and conflicting minor facts (a wrong
  birth or founding year, population, ...) planted in unrelated pages (``conflicting`` rows);
- realistic page lengths with sections, so facts often lie below the first screen.

Memory: the entity graph is numpy arrays (a few hundred bytes per entity, names included);
pages are rendered ``CHUNK`` at a time into Arrow record batches, each chunk from its own
seeded ``random.Random``, so 1,000,000 pages stream into Arrow without ever existing as
Python objects all at once, and chunks could be rendered in parallel with the same bytes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
from bm25s.stopwords import STOPWORDS_EN

GENERATOR_VERSION = "2"  # 2: listings record the attributes they print; a mention chance per relation
PERSON, ORG, PLACE, WORK, EVENT = "person", "organisation", "place", "work", "event"
KINDS = (PERSON, ORG, PLACE, WORK, EVENT)
CITY, COUNTRY = "city", "country"
URL_PREFIX = "https://encyclopedia.example/wiki/"
MIN_SIZE = 200
CHUNK = 2048  # pages per rendering chunk: the unit of seeding (fixed, so output never depends on batching)
SOURCES = ("own", "list", "mention")


@dataclass(frozen=True, slots=True)
class Relation:
    """A functional relation: every subject of ``subject`` kind (and ``subject_type``, for
    places) has exactly one object. ``phrase`` occurs in every line that states it."""

    name: str
    subject: str
    object: str
    phrase: str
    subject_type: str | None = None
    object_type: str | None = None


@dataclass(frozen=True, slots=True)
class Attribute:
    """A typed attribute; ``phrase`` occurs in the line of the subject's page that states it."""

    name: str
    kind: str
    type: str  # int | str
    phrase: str
    subtype: str | None = None


RELATIONS: dict[str, Relation] = {r.name: r for r in (
    Relation("born_in", PERSON, PLACE, "born in", object_type=CITY),
    Relation("works_for", PERSON, ORG, "works for"),
    Relation("founded_by", ORG, PERSON, "founded by"),
    Relation("headquartered_in", ORG, PLACE, "headquartered in", object_type=CITY),
    Relation("located_in", PLACE, PLACE, "located in", subject_type=CITY, object_type=COUNTRY),
    Relation("written_by", WORK, PERSON, "written by"),
    Relation("published_by", WORK, ORG, "published by"),
    Relation("held_in", EVENT, PLACE, "held in", object_type=CITY),
    Relation("organised_by", EVENT, ORG, "organised by"),
)}
ATTRIBUTES: dict[str, Attribute] = {a.name: a for a in (
    Attribute("birth_year", PERSON, "int", "born"),
    Attribute("occupation", PERSON, "str", "is a"),
    Attribute("role", PERSON, "str", "works for"),
    Attribute("founded_year", ORG, "int", "founded in"),
    Attribute("industry", ORG, "str", "company"),
    Attribute("population", PLACE, "int", "population"),
    Attribute("settlement", PLACE, "str", "city", subtype=CITY),
    Attribute("publication_year", WORK, "int", "published in"),
    Attribute("genre", WORK, "str", "written by"),
    Attribute("event_year", EVENT, "int", "held in"),
    Attribute("event_type", EVENT, "str", "held in"),
    Attribute("attendance", EVENT, "int", "visitors"),
)}
#: relation and attribute names in one vocabulary: the ``relation`` column of the facts table
PREDICATES: tuple[str, ...] = (*RELATIONS, *ATTRIBUTES)
_CODE = {p: i for i, p in enumerate(PREDICATES)}

ENTITIES_SCHEMA = pa.schema(
    [("entity", pa.int32()), ("kind", pa.string()), ("subtype", pa.string()), ("name", pa.string()),
     ("aliases", pa.list_(pa.string())), ("docid", pa.string()), ("namesake", pa.int32())]
    + [(a.name, pa.int32() if a.type == "int" else pa.string()) for a in ATTRIBUTES.values()]
    + [(r, pa.int32()) for r in RELATIONS]
)
FACTS_SCHEMA = pa.schema([
    ("subject", pa.int32()), ("relation", pa.string()), ("object", pa.int32()), ("value", pa.string()),
    ("docid", pa.string()), ("line", pa.int32()), ("source", pa.string()), ("conflicting", pa.bool_()),
])


@dataclass(frozen=True)
class WorldSpec:
    """Everything that determines a world: same spec, same bytes."""

    size: int = 10_000  # pages (= entities; every entity has exactly one page)
    seed: int = 0
    namesake_rate: float = 0.3  # chance that a new entity comes with a near-namesake
    conflict_rate: float = 0.15  # share of pages that misstate a minor fact of another entity
    mention_rate: float = 0.6  # chance, per relation of a page's kind, that it mentions another entity's

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < MIN_SIZE:
            raise ValueError(f"world size must be an integer of at least {MIN_SIZE} pages, got {self.size!r}")
        for name in ("namesake_rate", "conflict_rate", "mention_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"world {name} must be within 0..1, got {value}")

    def to_json(self) -> dict:
        return {**asdict(self), "generator_version": GENERATOR_VERSION}


def name_key(text: str) -> str:
    """Lowercase words without punctuation: two names clash when their keys are equal."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


# ---------------------------------------------------------------------------- vocabulary

_GIVEN = (
    "Maren", "Tobin", "Ilse", "Corin", "Dessa", "Anwen", "Bram", "Calla", "Dorian", "Elsa",
    "Fenna", "Gideon", "Halle", "Ivo", "Jora", "Kasimir", "Lise", "Milo", "Nadia", "Oren",
    "Petra", "Quill", "Rhea", "Soren", "Talia", "Ulric", "Vera", "Wren", "Yara", "Zeno",
    "Alma", "Bastian", "Cleo", "Dario", "Edda", "Finn", "Greta", "Hugo", "Inka", "Jonas",
    "Kira", "Leon", "Mira", "Nils", "Odile", "Pavel", "Runa", "Sabine", "Tilde", "Aurel",
)
_ORG_SUFFIXES = ("Dynamics", "Systems", "Holdings", "Foundry", "Analytics", "Industries",
                 "Logistics", "Labs", "Partners", "Collective", "Works", "Group")
_LEGAL_FORMS = ("Ltd.", "Inc.", "AG", "plc")
_CITY_SUFFIXES = ("Falls", "Harbor", "Springs", "Heights", "Crossing", "Bay", "Ridge", "Vale")
_STATE_FORMS = ("Republic", "Kingdom", "Federation", "Commonwealth", "Principality")
_WORK_NOUNS = ("Orchard", "Archive", "Lantern", "Harvest", "Compass", "Meridian", "Ledger",
               "Tide", "Garden", "Winter", "Letters", "Atlas", "Echo", "Voyage", "Hollow")
_EVENT_TYPES = ("Summit", "Festival", "Congress", "Exhibition", "Regatta", "Symposium", "Fair", "Games")
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
_SETTLEMENTS = ("river", "port", "hill", "market", "university", "mountain", "coastal", "lakeside")
_GENRES = ("novel", "memoir", "poetry collection", "travelogue", "biography", "essay collection",
           "play", "field guide")
_TOPICS = ("soil chemistry", "river navigation", "glass making", "tidal records", "weaving",
           "printing presses", "orchards", "ceramics", "clockwork", "bookbinding", "rail freight",
           "folk music", "harbour design", "seed banks", "lighthouses")
_THINGS = ("antique maps", "old coins", "field notebooks", "glass bottles", "pressed flowers", "letters")
_PLACES = ("river", "old mill", "market square", "railway yard", "northern bridge", "harbour wall")
_MATERIALS = ("glass", "steel", "paper", "wool", "ceramic", "timber")
_NEIGHBOURS = {
    PERSON: ("mentor", "former colleague", "doctoral adviser", "neighbour"),
    ORG: ("main competitor", "largest supplier", "former partner"),
    PLACE: ("twin town", "sister city", "trading partner"),
    WORK: ("companion volume", "main rival", "best-known imitator"),
    EVENT: ("predecessor", "rival event", "sister event"),
}

_FILLER = {
    PERSON: (
        "In {y}, {s} published a survey of {topic}.",
        "In {y}, {s} received a national award for work on {topic}.",
        "{s} is best known for careful work on {topic}.",
        "{s} speaks {n} languages and collects {thing}.",
        "From {y} to {y2}, {s} served on a public advisory panel.",
        "A portrait of {s} painted in {y} hangs in a regional gallery.",
        "In {y}, {s} gave a series of lectures on {topic}.",
        "{s} kept a diary from {y} to {y2}, later donated to a library.",
        "Critics praised the {y} report by {s} on {topic}.",
        "In {y}, {s} moved to a house near the {place}.",
        "{s} taught a course on {topic} in {y}.",
        "Colleagues describe {s} as patient, exacting and fond of {thing}.",
        "In {y}, {s} spent a year abroad studying {topic}.",
        "{s} has written {n} articles for popular magazines since {y}.",
    ),
    ORG: (
        "In {y}, {s} opened a new factory near the {place}.",
        "{s} is known for its durable {material} products.",
        "{s} reported revenue of {n} million crowns in {y}.",
        "In {y}, {s} acquired a regional competitor.",
        "{s} listed its shares on the exchange in {y}.",
        "The annual report of {s} for {y} noted steady growth.",
        "In {y}, {s} opened a research office for {topic}.",
        "{s} won a government contract for {topic} in {y}.",
        "In {y}, {s} cut its workforce by {n} percent.",
        "From {y} to {y2}, {s} sponsored a local football club.",
        "{s} published its first catalogue of {material} goods in {y}.",
        "A strike at {s} in {y} lasted {n} weeks.",
        "In {y}, {s} moved its archive to a warehouse by the {place}.",
    ),
    PLACE: (
        "In {y}, {s} hosted a large trade fair.",
        "The economy of {s} relies on {topic}.",
        "A tram line has served {s} since {y}.",
        "{s} has held a music festival every summer since {y}.",
        "The old town of {s} was restored between {y} and {y2}.",
        "In {y}, floods damaged the lower districts of {s}.",
        "{s} opened its first public library in {y}.",
        "In {y}, {s} built a new station near the {place}.",
        "{s} is famous for its {n} stone bridges.",
        "The mayor of {s} was re-elected in {y}.",
        "Museums in {s} hold large collections of {thing}.",
        "The climate of {s} is mild, with wet winters and dry summers.",
        "Since {y}, {s} has been known for its {material} crafts.",
    ),
    WORK: (
        "Critics in {y} praised {s} for its treatment of {topic}.",
        "{s} was translated into {n} languages by {y}.",
        "A stage adaptation of {s} opened in {y}.",
        "{s} sold about {n}0,000 copies in its first decade.",
        "In {y}, a revised edition of {s} added a chapter on {topic}.",
        "{s} is often taught in courses on {topic}.",
        "The manuscript of {s} was rediscovered in {y} near the {place}.",
        "Readers have compared {s} to a collection of {thing}.",
        "In {y}, {s} won a regional book prize.",
        "A radio reading of {s} was broadcast in {y}.",
        "{s} opens with a long description of the {place}.",
    ),
    EVENT: (
        "The {s} featured {n} days of talks on {topic}.",
        "Tickets for the {s} sold out within {n} weeks.",
        "The {s} was broadcast on regional radio.",
        "A commemorative stamp marked the {s} in {y}.",
        "The {s} ended with a parade to the {place}.",
        "Exhibitors at the {s} showed new {material} goods.",
        "The programme of the {s} included a session on {topic}.",
        "Records of the {s} are kept in a municipal archive since {y}.",
        "Heavy rain on the second day of the {s} moved several talks indoors.",
        "The {s} awarded {n} prizes for work on {topic}.",
    ),
}
_A_OR_AN = re.compile(r"^[aeiou]")
_SEPARATED = frozenset({"population", "attendance"})


def shown(attribute: str, value: object) -> str:
    """An attribute value as pages print it: counts of people with thousands separators."""
    return f"{int(value):,}" if attribute in _SEPARATED else str(value)


def _a(word: str) -> str:
    return "an" if _A_OR_AN.match(word) else "a"


def possessive(name: str) -> str:
    """``Holloway's``, ``Veltrix Dynamics'``."""
    return name + ("'" if name.endswith("s") else "'s")


# ---------------------------------------------------------------------------- the entity graph


class World:
    """The entity graph of one :class:`WorldSpec` (numpy arrays, built in seconds even at
    1,000,000 entities) and the page renderer that streams it out as Arrow batches."""

    def __init__(self, spec: WorldSpec):
        self.spec = spec
        n = spec.size
        self.py = random.Random(f"trajforge/world/{spec.seed}/{n}/names")
        self.np = np.random.default_rng([spec.seed, n, 7])
        counts = self._counts(n)
        self.kind_of = np.repeat(np.arange(len(KINDS), dtype=np.int8), [counts[k] for k in KINDS])
        starts = np.cumsum([0] + [counts[k] for k in KINDS])
        self.block = {k: (int(starts[i]), int(starts[i + 1])) for i, k in enumerate(KINDS)}
        self.n_country = counts["country"]
        lo, _ = self.block[PLACE]
        self.countries = np.arange(lo, lo + self.n_country, dtype=np.int32)  # the first places
        self.cities = np.arange(lo + self.n_country, self.block[PLACE][1], dtype=np.int32)
        self.names: list[str] = [""] * n
        self.aliases: list[tuple[str, ...]] = [()] * n
        self.namesake = np.full(n, -1, dtype=np.int32)
        self._taken_words: set[str] = {g.lower() for g in _GIVEN} | set(STOPWORDS_EN) | {
            w.lower() for w in (*_ORG_SUFFIXES, *_CITY_SUFFIXES, *_WORK_NOUNS, *_EVENT_TYPES, *_STATE_FORMS)}
        self._taken_names: set[str] = set()
        self._make_names()
        self.rel = {r: np.full(n, -1, dtype=np.int32) for r in RELATIONS}
        self.attr: dict[str, np.ndarray] = {}
        self._make_relations()
        self._make_attributes()
        order = self.np.permutation(n).astype(np.int32)  # page position -> entity
        self.page_of = np.empty(n, dtype=np.int32)
        self.page_of[order] = np.arange(n, dtype=np.int32)
        self.order = order
        width = max(7, len(str(n - 1)))
        self.docid_format = f"doc-{{:0{width}d}}"
        self.members = {r: group_members(self.rel[r], n) for r in RELATIONS}  # object -> subjects (CSR)

    @staticmethod
    def _counts(n: int) -> dict[str, int]:
        country = max(4, round(n * 0.01))
        counts = {"country": country, PLACE: max(16, round(n * 0.14)), ORG: round(n * 0.18),
                  WORK: round(n * 0.17), EVENT: round(n * 0.10)}
        counts[PERSON] = n - counts[PLACE] - counts[ORG] - counts[WORK] - counts[EVENT]
        return counts

    def kind(self, e: int) -> str:
        return KINDS[self.kind_of[e]]

    def docid(self, e: int) -> str:
        return self.docid_format.format(int(self.page_of[e]))

    # ------------------------------------------------------------------ names

    def _word(self, syllables: int) -> str:
        rng = self.py
        while True:
            w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
            if 4 <= len(w) <= 11 and w not in self._taken_words:
                self._taken_words.add(w)
                return w.capitalize()

    def _variant(self, word: str) -> str:
        """A one-vowel change of ``word`` not used yet: the name of a near-namesake."""
        spots = [i for i, c in enumerate(word.lower()) if c in "aeiou"]
        self.py.shuffle(spots)
        for i in spots:
            for v in self.py.sample("aeiou", 5):
                w = (word[:i] + v + word[i + 1:]).lower()
                if w not in self._taken_words:
                    self._taken_words.add(w)
                    return w.capitalize()
        return self._word(3)

    def _claim(self, e: int, name: str, aliases: tuple[str, ...]) -> bool:
        keys = [name_key(x) for x in (name, *aliases)]
        if any(k in self._taken_names for k in keys) or len(set(keys)) < len(keys):
            return False
        self._taken_names.update(keys)
        self.names[e], self.aliases[e] = name, aliases
        return True

    def _make_names(self) -> None:
        rng = self.py
        for e in self.countries.tolist():
            while not self._claim(e, name := self._word(2 + e % 2), (f"{rng.choice(_STATE_FORMS)} of {name}",)):
                pass
        makers = {PERSON: self._person, ORG: self._org, WORK: self._work, EVENT: self._event}
        for kind in KINDS:
            lo, hi = self.block[kind]
            if kind == PLACE:
                lo += self.n_country
            make = self._city if kind == PLACE else makers[kind]
            e = lo
            while e < hi:
                pair = e + 1 < hi and rng.random() < self.spec.namesake_rate
                make(e, None, pair)
                if pair:
                    make(e + 1, e, True)
                    self.namesake[e], self.namesake[e + 1] = e + 1, e
                e += 2 if pair else 1

    def _person(self, e: int, partner: int | None, paired: bool) -> None:
        rng = self.py
        while True:
            if partner is None:
                given, surname = rng.choice(_GIVEN), self._word(rng.choice((2, 2, 3)))
            else:
                given, surname = self.names[partner].split(" ")
                surname = self._variant(surname)
            middle = rng.choice([g for g in _GIVEN if g != given])
            if self._claim(e, f"{given} {surname}", (f"{given} {middle} {surname}",)):
                return

    def _org(self, e: int, partner: int | None, paired: bool) -> None:
        rng = self.py
        while True:
            if partner is None:
                stem, suffix = self._word(rng.choice((2, 3))), rng.choice(_ORG_SUFFIXES)
            else:
                stem, other = self.names[partner].split(" ")
                suffix = rng.choice([s for s in _ORG_SUFFIXES if s != other])
            name = f"{stem} {suffix}"
            if self._claim(e, name, (f"{name} {rng.choice(_LEGAL_FORMS)}",)):
                return

    def _city(self, e: int, partner: int | None, paired: bool) -> None:
        rng = self.py
        while True:
            if partner is None:
                stem = self._word(rng.choice((2, 3)))
                # a pair's first member always has a suffix: a bare stem would lose its own
                # title search to the partner that repeats the stem and adds a word
                suffix = "" if not paired and rng.random() < 0.4 else rng.choice(_CITY_SUFFIXES)
            else:
                parts = self.names[partner].split(" ")
                stem = parts[0]
                suffix = rng.choice([s for s in _CITY_SUFFIXES if s not in parts])
            name = f"{stem} {suffix}".strip()
            aliases = (self._word(2),) if rng.random() < 0.3 else ()
            if self._claim(e, name, aliases):
                return

    def _work(self, e: int, partner: int | None, paired: bool) -> None:
        rng = self.py
        while True:
            if partner is None:
                stem, noun = self._word(rng.choice((2, 3))), rng.choice(_WORK_NOUNS)
            else:
                _the, stem, noun = self.names[partner].split(" ")
                stem = self._variant(stem)
            if self._claim(e, f"The {stem} {noun}", ()):
                return

    def _event(self, e: int, partner: int | None, paired: bool) -> None:
        rng = self.py
        while True:
            if partner is None:
                stem, kind = self._word(rng.choice((2, 3))), rng.choice(_EVENT_TYPES)
            else:
                stem, other = self.names[partner].split(" ")
                kind = rng.choice([t for t in _EVENT_TYPES if t != other])
            if self._claim(e, f"{stem} {kind}", ()):
                return

    # ------------------------------------------------------------------ relations and attributes

    def _subjects(self, r: Relation) -> np.ndarray:
        if r.subject == PLACE:
            return self.cities if r.subject_type == CITY else self.countries
        lo, hi = self.block[r.subject]
        return np.arange(lo, hi, dtype=np.int32)

    def _objects(self, r: Relation) -> np.ndarray:
        if r.object == PLACE:
            return self.cities if r.object_type == CITY else self.countries
        lo, hi = self.block[r.object]
        return np.arange(lo, hi, dtype=np.int32)

    def _make_relations(self) -> None:
        """Uniform draws; a near-namesake never shares its partner's object (confusing the two
        must give a wrong answer)."""
        for r in RELATIONS.values():
            subjects, objects = self._subjects(r), self._objects(r)
            values = objects[self.np.integers(0, len(objects), len(subjects))]
            self.rel[r.name][subjects] = values
            target = self.rel[r.name]
            for _ in range(64):
                partner = self.namesake[subjects]
                clash = subjects[(partner >= 0) & (partner < subjects) & (target[subjects] == target[np.maximum(partner, 0)])]
                if len(clash) == 0:
                    break
                target[clash] = objects[self.np.integers(0, len(objects), len(clash))]

    def _make_attributes(self) -> None:
        g, n = self.np, self.spec.size
        attr = self.attr
        for a in ATTRIBUTES.values():
            attr[a.name] = np.full(n, -1, dtype=np.int32)
        people = np.arange(*self.block[PERSON])
        orgs = np.arange(*self.block[ORG])
        works = np.arange(*self.block[WORK])
        events = np.arange(*self.block[EVENT])
        attr["birth_year"][people] = g.integers(1900, 2001, len(people))
        attr["occupation"][people] = g.integers(0, len(_OCCUPATIONS), len(people))
        attr["role"][people] = g.integers(0, len(_ROLES), len(people))
        founders = self.rel["founded_by"][orgs]
        attr["founded_year"][orgs] = np.minimum(attr["birth_year"][founders] + 20 + g.integers(0, 45, len(orgs)), 2020)
        attr["industry"][orgs] = g.integers(0, len(_INDUSTRIES), len(orgs))
        pop = np.round(10 ** g.uniform(3.6, 6.4, len(self.cities)), -2).astype(np.int64)
        attr["population"][self.cities] = pop
        attr["settlement"][self.cities] = g.integers(0, len(_SETTLEMENTS), len(self.cities))
        country_pop = np.zeros(n, dtype=np.int64)
        np.add.at(country_pop, self.rel["located_in"][self.cities], pop)
        scale = g.uniform(2.0, 5.0, len(self.countries))
        attr["population"][self.countries] = np.round(country_pop[self.countries] * scale + 50_000, -3)
        authors = self.rel["written_by"][works]
        attr["publication_year"][works] = np.minimum(attr["birth_year"][authors] + 20 + g.integers(0, 50, len(works)), 2024)
        attr["genre"][works] = g.integers(0, len(_GENRES), len(works))
        organisers = self.rel["organised_by"][events]
        attr["event_year"][events] = np.minimum(np.maximum(attr["founded_year"][organisers], 1950) + g.integers(0, 50, len(events)), 2024)
        attr["event_type"][events] = [_EVENT_TYPES.index(self.names[e].split(" ")[-1]) for e in events.tolist()]
        attr["attendance"][events] = g.integers(2, 400, len(events)) * 100

    def value(self, e: int, attribute: str) -> str:
        """The attribute as text: ints as digits, categories as their word."""
        v = int(self.attr[attribute][e])
        return _CATEGORIES[attribute][v] if attribute in _CATEGORIES else str(v)

    # ------------------------------------------------------------------ tables

    def entities(self) -> pa.Table:
        n = self.spec.size
        kinds = pa.array(KINDS).take(pa.array(self.kind_of.astype(np.int32)))
        subtype = np.full(n, None, dtype=object)
        subtype[self.cities] = CITY
        subtype[self.countries] = COUNTRY
        docids = [self.docid_format.format(p) for p in self.page_of.tolist()]
        columns = {
            "entity": pa.array(np.arange(n, dtype=np.int32)), "kind": kinds, "subtype": pa.array(subtype, pa.string()),
            "name": pa.array(self.names, pa.string()), "aliases": pa.array([list(a) for a in self.aliases], pa.list_(pa.string())),
            "docid": pa.array(docids, pa.string()), "namesake": _nullable(self.namesake),
        }
        for a in ATTRIBUTES.values():
            raw = self.attr[a.name]
            if a.type == "int":
                columns[a.name] = _nullable(raw)
            else:
                words = np.array((*_CATEGORIES[a.name], None), dtype=object)
                columns[a.name] = pa.array(words[np.where(raw >= 0, raw, len(words) - 1)], pa.string())
        for r in RELATIONS:
            columns[r] = _nullable(self.rel[r])
        return pa.table(columns, schema=ENTITIES_SCHEMA)

    def batches(self) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
        """(docs, facts) record batches, ``CHUNK`` pages at a time, in docid order."""
        for start in range(0, self.spec.size, CHUNK):
            yield _PageWriter(self, start, min(self.spec.size, start + CHUNK)).run()


_CATEGORIES = {"occupation": _OCCUPATIONS, "role": _ROLES, "industry": _INDUSTRIES, "settlement": _SETTLEMENTS,
               "genre": _GENRES, "event_type": _EVENT_TYPES}


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int32), pa.int32(), mask=values < 0)


def group_members(target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Subjects grouped by object (CSR): members of ``o`` are ``order[starts[o]:starts[o+1]]``,
    in entity order."""
    subjects = np.flatnonzero(target >= 0).astype(np.int32)
    objects = target[subjects]
    order = subjects[np.argsort(objects, kind="stable")]
    starts = np.searchsorted(np.sort(objects), np.arange(n + 1))
    return order, starts


# ---------------------------------------------------------------------------- pages


class _PageWriter:
    """Renders pages ``start..stop`` (docid order) with a chunk-seeded rng into Arrow."""

    def __init__(self, world: World, start: int, stop: int):
        self.w = world
        self.start, self.stop = start, stop
        self.rng = random.Random(f"trajforge/world/{world.spec.seed}/{world.spec.size}/chunk/{start}")
        self.f_subject: list[int] = []
        self.f_code: list[int] = []
        self.f_object: list[int] = []
        self.f_value: list[str | None] = []
        self.f_page: list[int] = []
        self.f_line: list[int] = []
        self.f_source: list[int] = []
        self.f_conflict: list[bool] = []

    def run(self) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        w = self.w
        docids, urls, titles, texts = [], [], [], []
        render = {PERSON: self._person, ORG: self._org, PLACE: self._place, WORK: self._work, EVENT: self._event}
        for page in range(self.start, self.stop):
            e = int(w.order[page])
            self.page, self.lines, self.templates = page, [], []
            render[w.kind(e)](e)
            title = w.names[e]
            docids.append(w.docid_format.format(page))
            urls.append(URL_PREFIX + title.replace(" ", "_"))
            titles.append(title)
            texts.append("\n".join(self.lines))
        docs = pa.RecordBatch.from_arrays(
            [pa.array(docids, pa.string()), pa.array(urls, pa.string()), pa.array(titles, pa.string()),
             pa.array(texts, pa.string())], names=["docid", "url", "title", "text"])
        page_docids = pa.array(docids, pa.string())
        facts = pa.RecordBatch.from_arrays([
            pa.array(self.f_subject, pa.int32()),
            pa.array(PREDICATES, pa.string()).take(pa.array(self.f_code, pa.int32())),
            _nullable(np.array(self.f_object, dtype=np.int32)),
            pa.array(self.f_value, pa.string()),
            page_docids.take(pa.array(np.array(self.f_page, dtype=np.int32) - self.start)),
            pa.array(self.f_line, pa.int32()),
            pa.array(SOURCES, pa.string()).take(pa.array(self.f_source, pa.int32())),
            pa.array(self.f_conflict, pa.bool_()),
        ], schema=FACTS_SCHEMA)
        return docs, facts

    # ------------------------------------------------------------------ recording

    def fact(self, subject: int, predicate: str, obj: int = -1, value: str | None = None,
             source: int = 0, conflicting: bool = False) -> None:
        """Record that the line about to be written states this fact."""
        self.f_subject.append(subject)
        self.f_code.append(_CODE[predicate])
        self.f_object.append(obj)
        self.f_value.append(value)
        self.f_page.append(self.page)
        self.f_line.append(len(self.lines))
        self.f_source.append(source)
        self.f_conflict.append(conflicting)

    def own(self, e: int, relation: str, sentence: str) -> None:
        self.fact(e, relation, int(self.w.rel[relation][e]))
        self.lines.append(sentence)

    def attrs(self, e: int, *attributes: str) -> None:
        """The line about to be written states these attributes of ``e`` (on its own page)."""
        for a in attributes:
            self.fact(e, a, value=self.w.value(e, a))

    def section(self, heading: str, fixed: list, fillers: int, e: int) -> None:
        """A heading, then ``fixed`` items (callables that write one line, recording facts)
        at random places among ``fillers`` filler lines."""
        self.lines.append(f"== {heading} ==")
        slots = [None] * fillers + list(fixed)
        self.rng.shuffle(slots)
        for item in slots:
            if item is None:
                self.lines.append(self.filler(e))
            else:
                item()

    def listing(self, heading: str, relation: str, obj: int, line_of, stated: tuple[str, ...] = ()) -> None:
        """Every subject whose ``relation`` points at ``obj``, one line each (source ``list``).

        ``stated``: the member attributes each line also prints ("* Maren Holloway (born
        1962) was born in ..."). They are recorded as facts too: a reader can take a birth year
        from a city's listing, so the solver must see it, or a question's minimal evidence set
        (and so its hop count) would miss that shortcut."""
        order, starts = self.w.members[relation]
        members = order[starts[obj]:starts[obj + 1]]
        if len(members) == 0:
            return
        self.lines.append(f"== {heading} ==")
        for m in members.tolist():
            self.fact(m, relation, obj, source=1)
            for a in stated:
                self.fact(m, a, value=self.w.value(m, a), source=1)
            self.lines.append(line_of(m))

    # ------------------------------------------------------------------ text pieces

    def short(self, e: int) -> str:
        """How running text names an entity: a person by surname, an event with 'the'."""
        w = self.w
        kind = w.kind(e)
        if kind == PERSON:
            return w.names[e].split(" ")[1]
        return f"the {w.names[e]}" if kind == EVENT else w.names[e]

    def year(self, e: int) -> int:
        """A year in which the subject of page ``e`` could have done something."""
        w = self.w
        kind = w.kind(e)
        start = {PERSON: "birth_year", ORG: "founded_year", WORK: "publication_year", EVENT: "event_year"}.get(kind)
        since = int(w.attr[start][e]) + (18 if kind == PERSON else 0) if start else 1900
        return self.rng.randint(min(since, 2022), 2023)

    def filler(self, e: int) -> str:
        rng, w = self.rng, self.w
        kind = w.kind(e)
        y = self.year(e)
        s = w.names[e] if kind == EVENT else self.short(e)
        if not self.templates:  # each template once per page before any repeats
            self.templates = rng.sample(_FILLER[kind], len(_FILLER[kind]))
        template = self.templates.pop()
        text = template.format(s=s, y=y, y2=y + rng.randint(1, 9), n=rng.randint(2, 9), topic=rng.choice(_TOPICS),
                               thing=rng.choice(_THINGS), place=rng.choice(_PLACES), material=rng.choice(_MATERIALS))
        return text[0].upper() + text[1:]

    def n_fillers(self) -> int:
        rng = self.rng
        return rng.randint(14, 34) if rng.random() < 0.35 else rng.randint(5, 12)

    def split(self, total: int, parts: int) -> list[int]:
        cuts = sorted(self.rng.randint(0, total) for _ in range(parts - 1))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]

    def extras(self, e: int) -> list:
        """The page's mentions of other entities and its namesake note, as line writers."""
        rng, w = self.rng, self.w
        items = []
        for r in (r for r in RELATIONS.values() if r.subject == w.kind(e)):  # each relation its own chance
            if rng.random() < w.spec.mention_rate:
                items.append(lambda r=r: self.mention(e, r))
        if rng.random() < w.spec.conflict_rate:
            items.append(lambda: self.conflict(e))
        if w.namesake[e] >= 0:
            other = w.names[int(w.namesake[e])]
            items.append(lambda: self.lines.append(f"{w.names[e]} is not to be confused with {other}."))
        return items

    def _other(self, e: int, lo: int, hi: int) -> int:
        """A random entity of ``lo..hi`` other than ``e`` and its namesake."""
        w, rng = self.w, self.rng
        while True:
            o = rng.randrange(lo, hi)
            if o != e and o != w.namesake[e]:
                return o

    def mention(self, e: int, r: Relation) -> None:
        """A true fact of relation ``r`` about another entity of the same kind, worded like the
        subject's own, so a find on the relation phrase also matches a line that is not evidence."""
        w, rng = self.w, self.rng
        kind = w.kind(e)
        pool = (int(w.cities[0]), int(w.cities[-1]) + 1) if kind == PLACE else w.block[kind]
        o = self._other(e, *pool)
        label = rng.choice(_NEIGHBOURS[kind])
        target = w.names[int(w.rel[r.name][o])]
        self.fact(o, r.name, int(w.rel[r.name][o]), source=2)
        verb = {"born_in": "was born in", "works_for": "works for", "founded_by": "was founded by",
                "headquartered_in": "is headquartered in", "located_in": "is located in",
                "written_by": "was written by", "published_by": "was published by", "held_in": "was held in",
                "organised_by": "was organised by"}[r.name]
        first = possessive(self.short(e))
        other = f"the {w.names[o]}" if kind == EVENT else w.names[o]
        self.lines.append(f"{first[0].upper()}{first[1:]} {label}, {other}, {verb} {target}.")

    def conflict(self, e: int) -> None:
        """A wrong minor fact (year, population, attendance) about an unrelated entity."""
        w, rng = self.w, self.rng
        o = self._other(e, 0, w.spec.size)
        kind = w.kind(o)
        s = self.short(e)
        s = s[0].upper() + s[1:]
        y = self.year(e)
        name = w.names[o]
        if kind == PERSON:
            wrong = int(w.attr["birth_year"][o]) + rng.choice((-1, 1)) * rng.randint(1, 6)
            self.fact(o, "birth_year", value=str(wrong), source=2, conflicting=True)
            self.lines.append(f"In {y}, {s} met {name} (born {wrong}) at a meeting on {rng.choice(_TOPICS)}.")
        elif kind == ORG:
            wrong = int(w.attr["founded_year"][o]) + rng.choice((-1, 1)) * rng.randint(1, 6)
            self.fact(o, "founded_year", value=str(wrong), source=2, conflicting=True)
            self.lines.append(f"In {y}, {s} worked with {name}, a company founded in {wrong}.")
        elif kind == PLACE:
            true = int(w.attr["population"][o])
            wrong = int(round(true * rng.choice((0.6, 0.7, 1.3, 1.5)), -2))
            self.fact(o, "population", value=str(wrong), source=2, conflicting=True)
            self.lines.append(f"{s} is often compared with {name}, which has a population of about "
                              f"{shown('population', wrong)}.")
        elif kind == WORK:
            wrong = int(w.attr["publication_year"][o]) + rng.choice((-1, 1)) * rng.randint(1, 6)
            self.fact(o, "publication_year", value=str(wrong), source=2, conflicting=True)
            self.lines.append(f"{s} has often been linked to {name}, first published in {wrong}.")
        else:
            wrong = int(w.attr["event_year"][o]) + rng.choice((-1, 1)) * rng.randint(1, 6)
            self.fact(o, "event_year", value=str(wrong), source=2, conflicting=True)
            self.lines.append(f"{s} was represented at the {name}, held in {wrong}.")

    # ------------------------------------------------------------------ page layouts

    def _person(self, e: int) -> None:
        w = self.w
        name, surname = w.names[e], w.names[e].split(" ")[1]
        job = w.value(e, "occupation")
        self.attrs(e, "birth_year", "occupation")
        self.lines.append(f"{name} (full name {w.aliases[e][0]}; born {w.attr['birth_year'][e]}) is {_a(job)} {job}.")
        city, org = int(w.rel["born_in"][e]), int(w.rel["works_for"][e])
        role = w.value(e, "role")
        f = self.split(self.n_fillers(), 3)
        self.section("Early life", [lambda: self.own(e, "born_in", f"{surname} was born in {w.names[city]}.")], f[0], e)

        def career() -> None:
            self.attrs(e, "role")
            self.own(e, "works_for", f"{surname} works for {w.names[org]} as {_a(role)} {role}.")

        self.section("Career", [career], f[1], e)
        self.listing("Works", "written_by", e, lambda m: (
            f"* {w.names[m]} ({w.attr['publication_year'][m]}), {_a(g := w.value(m, 'genre'))} {g} written by {surname}"),
            ("publication_year", "genre"))
        self.listing("Organisations founded", "founded_by", e, lambda m: (
            f"* {w.names[m]}, founded by {surname} in {w.attr['founded_year'][m]}"), ("founded_year",))
        self.section("Later life", self.extras(e), f[2], e)

    def _org(self, e: int) -> None:
        w = self.w
        name = w.names[e]
        trade, year = w.value(e, "industry"), w.attr["founded_year"][e]
        self.attrs(e, "industry", "founded_year")
        self.lines.append(f"{name} (legally {w.aliases[e][0]}) is {_a(trade)} {trade} company founded in {year}.")
        founder, city = int(w.rel["founded_by"][e]), int(w.rel["headquartered_in"][e])
        f = self.split(self.n_fillers(), 3)
        self.section("History", [lambda: self.own(e, "founded_by", f"{name} was founded by {w.names[founder]} in {year}.")], f[0], e)
        self.section("Operations", [lambda: self.own(e, "headquartered_in", f"{name} is headquartered in {w.names[city]}.")], f[1], e)
        self.listing("People", "works_for", e, lambda m: f"* {w.names[m]} works for {name} as {_a(r := w.value(m, 'role'))} {r}",
                     ("role",))
        self.listing("Publications", "published_by", e, lambda m: (
            f"* {w.names[m]} ({w.attr['publication_year'][m]}) was published by {name}"), ("publication_year",))
        self.listing("Events", "organised_by", e, lambda m: (
            f"* The {w.names[m]} was organised by {name} in {w.attr['event_year'][m]}"), ("event_year",))
        self.section("Notes", self.extras(e), f[2], e)

    def _place(self, e: int) -> None:
        w = self.w
        name, pop = w.names[e], int(w.attr["population"][e])
        f = self.split(self.n_fillers(), 2)
        if w.rel["located_in"][e] < 0:  # a country
            self.attrs(e, "population")
            self.lines.append(f"{name} (officially the {w.aliases[e][0]}) is a country with a population of about {shown('population', pop)}.")
            self.listing("Cities", "located_in", e, lambda m: f"* {w.names[m]} is located in {name}")
            self.section("History", [], f[0], e)
            self.section("Culture", self.extras(e), f[1], e)
            return
        kind, country = w.value(e, "settlement"), int(w.rel["located_in"][e])
        former = f" (formerly {w.aliases[e][0]})" if w.aliases[e] else ""
        self.attrs(e, "settlement", "population")
        self.lines.append(f"{name}{former} is {_a(kind)} {kind} city with a population of about {shown('population', pop)}.")
        self.section("Geography", [lambda: self.own(e, "located_in", f"{name} is located in {w.names[country]}.")], f[0], e)
        self.listing("Notable people", "born_in", e, lambda m: (
            f"* {w.names[m]} (born {w.attr['birth_year'][m]}) was born in {name}"), ("birth_year",))
        self.listing("Economy", "headquartered_in", e, lambda m: f"* {w.names[m]} is headquartered in {name}")
        self.listing("Events", "held_in", e, lambda m: f"* The {w.names[m]} was held in {name} in {w.attr['event_year'][m]}",
                     ("event_year",))
        self.section("Culture", self.extras(e), f[1], e)

    def _work(self, e: int) -> None:
        w = self.w
        name, genre, year = w.names[e], w.value(e, "genre"), w.attr["publication_year"][e]
        author, publisher = int(w.rel["written_by"][e]), int(w.rel["published_by"][e])
        self.attrs(e, "genre", "publication_year")
        self.fact(e, "written_by", author)
        self.lines.append(f"{name} is {_a(genre)} {genre} written by {w.names[author]}, first published in {year}.")
        f = self.split(self.n_fillers(), 2)
        self.section("Publication", [lambda: self.own(e, "published_by", f"{name} was published by {w.names[publisher]}.")], f[0], e)
        self.section("Reception", self.extras(e), f[1], e)

    def _event(self, e: int) -> None:
        w = self.w
        name, kind, year = w.names[e], w.value(e, "event_type").lower(), w.attr["event_year"][e]
        city, organiser = int(w.rel["held_in"][e]), int(w.rel["organised_by"][e])
        self.attrs(e, "event_type", "event_year")
        self.fact(e, "held_in", city)
        self.lines.append(f"The {name} was {_a(kind)} {kind} held in {w.names[city]} in {year}.")
        visitors = int(w.attr["attendance"][e])
        f = self.split(self.n_fillers(), 2)

        def organised() -> None:
            self.attrs(e, "attendance")
            self.own(e, "organised_by", f"The {name} was organised by {w.names[organiser]} and drew about "
                                        f"{shown('attendance', visitors)} visitors.")

        self.section("Organisation", [organised], f[0], e)
        self.section("Programme", self.extras(e), f[1], e)


def generate(spec: WorldSpec) -> tuple[pa.Table, Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]]:
    """The entities table and the stream of (docs, facts) batches of ``spec``'s world."""
    world = World(spec)
    return world.entities(), world.batches()


@dataclass(frozen=True)
class Generated:
    """A generated world as a corpus source (:class:`stores.corpus.Source`): the documents, and
    the ``entities`` and ``facts`` tables the research engine reads back (:mod:`synth.research.facts`)."""

    spec: WorldSpec

    def signature(self) -> dict[str, object]:
        return {"generate": self.spec.to_json()}

    def batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        entities, stream = generate(self.spec)
        for batch in entities.to_batches():
            yield "entities", batch
        for docs, facts in stream:
            yield "docs", docs
            yield "facts", facts
