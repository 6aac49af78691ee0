"""The structured side of a generated corpus, read back for questions, solvers and step checks.

A generated world publishes two tables beside its documents: ``entities`` (one row per
entity: kind, name, aliases, page, near-namesake, typed attributes, relation targets) and
``facts`` (one row per statement a page makes: subject, relation, object or value, docid,
line, source ``own``/``list``/``mention``, and whether it is a planted conflicting one).
:class:`FactBase` holds them as numpy columns with two sort orders, so "where is (subject,
relation) stated" and "what does this page state" are binary searches, at 10,000 pages as at
1,000,000, without a Python object per fact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stores.corpus import Corpus
from synth.research.world import ATTRIBUTES, KINDS, PREDICATES, RELATIONS, SOURCES, group_members

OWN, LIST, MENTION = (SOURCES.index(s) for s in ("own", "list", "mention"))
CODE = {p: i for i, p in enumerate(PREDICATES)}
_WIDTH = len(PREDICATES)


class FactBase:
    """Entities and facts of one corpus version, indexed for lookups."""

    def __init__(self, entities: pa.Table, facts: pa.Table, doc_rows: Callable[[pa.Array], np.ndarray]):
        """``doc_rows`` maps an array of docids to document rows of the corpus."""
        n = entities.num_rows
        if not np.array_equal(entities["entity"].to_numpy(), np.arange(n)):
            raise ValueError("entities table: column 'entity' must number the rows 0..n-1")
        self.n = n
        self.kind = np.asarray(pc.index_in(entities["kind"], pa.array(KINDS)).to_numpy(zero_copy_only=False), dtype=np.int8)
        self.subtype = entities["subtype"].to_pylist()
        self.names: list[str] = entities["name"].to_pylist()
        self.aliases: list[list[str]] = entities["aliases"].to_pylist()
        self.docids: list[str] = entities["docid"].to_pylist()
        self.page = doc_rows(entities["docid"].combine_chunks())
        self.entity_at = np.full(int(self.page.max()) + 1 if n else 0, -1, dtype=np.int32)  # document row -> entity
        self.entity_at[self.page] = np.arange(n, dtype=np.int32)
        self.namesake = _ints(entities["namesake"])
        self.rel = {r: _ints(entities[r]) for r in RELATIONS}
        self.attr = {a.name: (_ints(entities[a.name]) if a.type == "int" else np.asarray(entities[a.name].to_pylist(), dtype=object))
                     for a in ATTRIBUTES.values()}
        self.members = {r: group_members(self.rel[r], n) for r in RELATIONS}
        self.by_name = {name: i for i, name in enumerate(self.names)}

        self.subject = facts["subject"].to_numpy().astype(np.int32)
        self.pred = np.asarray(pc.index_in(facts["relation"], pa.array(PREDICATES)).to_numpy(zero_copy_only=False), dtype=np.int16)
        self.object = _ints(facts["object"])
        self.value = facts["value"].combine_chunks()
        self.doc = doc_rows(facts["docid"].combine_chunks())
        self.line = facts["line"].to_numpy().astype(np.int32)
        self.source = np.asarray(pc.index_in(facts["source"], pa.array(SOURCES)).to_numpy(zero_copy_only=False), dtype=np.int8)
        self.conflicting = facts["conflicting"].to_numpy(zero_copy_only=False).astype(bool)
        keys = self.subject.astype(np.int64) * _WIDTH + self.pred
        self._key_order = np.argsort(keys, kind="stable")
        self._keys = keys[self._key_order]
        self._doc_order = np.argsort(self.doc, kind="stable")
        self._docs = self.doc[self._doc_order]
        bad = self.conflicting
        self._conflict_keys = np.unique(keys[bad])

    def kind_of(self, e: int) -> str:
        return KINDS[self.kind[e]]

    def entity_on(self, row: int) -> int:
        """The entity whose page is document ``row`` (-1 if none)."""
        return int(self.entity_at[row]) if 0 <= row < len(self.entity_at) else -1

    def statements(self, subject: int, predicate: str) -> np.ndarray:
        """Indexes of every fact row stating ``predicate`` of ``subject`` (any page, any source)."""
        key = subject * _WIDTH + CODE[predicate]
        lo, hi = np.searchsorted(self._keys, [key, key + 1])
        return self._key_order[lo:hi]

    def primary(self, subject: int, predicate: str) -> int:
        """The fact row where the subject's own page states ``predicate`` (the gold evidence
        line for it); for a relation stated only in a listing, that listing's row."""
        rows = self.statements(subject, predicate)
        own = rows[(self.source[rows] == OWN) & (self.doc[rows] == self.page[subject])]
        if len(own):
            return int(own[0])
        listed = rows[self.source[rows] == LIST]
        if len(listed):
            return int(listed[0])
        raise KeyError(f"no trusted statement of {predicate} for entity {subject} ({self.names[subject]})")

    def listing(self, subject: int, relation: str, obj: int) -> int:
        """The fact row of ``subject`` in the listing on ``obj``'s page."""
        rows = self.statements(subject, relation)
        hit = rows[(self.source[rows] == LIST) & (self.doc[rows] == self.page[obj])]
        if not len(hit):
            raise KeyError(f"{self.names[obj]}'s page does not list {self.names[subject]} under {relation}")
        return int(hit[0])

    def in_docs(self, rows: list[int] | np.ndarray) -> np.ndarray:
        """Indexes of every fact row stated on the documents ``rows``."""
        out = []
        for r in rows:
            lo, hi = np.searchsorted(self._docs, [r, r + 1])
            out.append(self._doc_order[lo:hi])
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)

    def has_conflict(self, subject: int, attribute: str) -> bool:
        """Whether some page misstates this attribute of ``subject``."""
        key = subject * _WIDTH + CODE[attribute]
        i = np.searchsorted(self._conflict_keys, key)
        return bool(i < len(self._conflict_keys) and self._conflict_keys[i] == key)

    def conflict_docs(self, subject: int, attribute: str) -> list[int]:
        rows = self.statements(subject, attribute)
        return sorted({int(d) for d in self.doc[rows[self.conflicting[rows]]]})

    def value_of(self, row: int) -> str | None:
        return self.value[row].as_py()

    def members_of(self, relation: str, obj: int) -> np.ndarray:
        """Subjects whose ``relation`` points at ``obj``, in entity order."""
        order, starts = self.members[relation]
        return order[starts[obj]:starts[obj + 1]]


def _ints(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An int32 column with nulls as -1."""
    return pc.fill_null(column, -1).to_numpy().astype(np.int32)


def fact_base(corpus: Corpus) -> FactBase | None:
    """The fact base of a generated-world corpus, built once per open corpus; None for a corpus
    without ``facts`` (a bring-your-own one)."""
    if "facts" not in corpus.table_names:
        return None
    return corpus.derived("facts", lambda c: FactBase(c.table("entities"), c.table("facts"), c.rows_of))
