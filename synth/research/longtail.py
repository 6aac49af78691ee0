"""The long tail: expert episodes that follow up what they see before answering.

OpenResearcher-style traces run to a hundred tool calls and more, but a trace padded with
random searches ("Perhaps a page links the question to football") teaches a model to pad. Here
every extra call answers a *lead*, something an earlier observation showed:

- ``namesake``: a result whose title is a near-namesake of an entity being researched: search
  that name to see what distinguishes it, then find the page's "not to be confused" note;
- ``conflict``: a snippet giving another value for an attribute the question uses: check it on a
  third page that prints it (a listing), never on the misstating page (a trap);
- ``context``: a find matched other lines than the one cited: read each in context to be sure it
  is about someone else;
- ``cross-check``: a fact read on one page is confirmed from the other side (the object's page
  lists the subject; a listing elsewhere prints the attribute);
- ``read on``: a page runs past the screen: read the rest for anything bearing on the question;
- ``alias``: a lead line gives a fuller or former name: search it, other pages may use it;
- ``mention``: a result's snippet names an entity being researched: read what that page says;
- ``members``: each entity a list names is checked on its own page;
- ``candidates``: other results that partly fit a description are opened and ruled out.

A lead is skipped when following it would repeat a query, reopen the same screen, open a trap
or read a misleading line off a page that is not evidence (the env's detour rules), so the
long tail never errs and never types a query twice. Leads beget leads (a cross-check page runs
long, a search lists another namesake); the explorer stops when it has made the calls it was
asked for, or when no lead is left.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from synth.research.browser import find_lines, query_terms, snippet_line
from synth.research.facts import LIST
from synth.research.phrasing import NOUN
from synth.research.world import PREDICATES, RELATIONS

if TYPE_CHECKING:
    from synth.research.agents import Researcher

_CONTEXT = 2  # lines shown above a match read in context
_PER_FIND = 2  # other matches of one find read in context
_MEMBERS = 9
_CANDIDATES = 4
_MENTIONS = 2  # other pages whose snippets name one entity, read per entity
_READ_ON = 5  # lines left below the screen that make reading on worth a call


class Explorer:
    """Leads found while a :class:`Researcher` works, followed up between its reads."""

    def __init__(self, researcher: Researcher, budget: int):
        self.r = researcher
        self.s, self.v, self.fb = researcher.s, researcher.v, researcher.fb
        self.budget = budget
        self.calls = 0
        self.leads: deque[tuple[str, Callable[[], int]]] = deque()
        self._keys: set[tuple] = set()
        self.involved = self._involved()
        self._mentions = dict.fromkeys(self.involved, 0)

    def _involved(self) -> set[int]:
        fb, ref = self.fb, self.r.ref
        names = {n for item in ref["evidence"] for n in (item.get("subject"), item.get("object")) if n}
        return {fb.by_name[n] for n in names if n in fb.by_name}

    # ------------------------------------------------------------------ running

    def _add(self, key: tuple, lead: Callable[[], int]) -> None:
        if key not in self._keys:
            self._keys.add(key)
            self.leads.append((key[0], lead))

    def _run(self, calls: int) -> None:
        done = 0
        while self.leads and done < calls and self.calls < self.budget:
            _, lead = self.leads.popleft()
            made = lead()
            done += made
            self.calls += made

    def between_reads(self) -> None:
        """Spend a share of the budget now (the rest waits for later reads and the end)."""
        left = self.budget - self.calls
        reads_left = max(1, len(self.r.ref["evidence"]) - self.r.reads + 1)
        self._run(max(1, left // (reads_left + 1)))

    def finish(self) -> None:
        """Before answering: every lead left, up to the budget."""
        self._run(self.budget)

    # ------------------------------------------------------------------ what the researcher saw

    def results(self, view) -> None:
        """A search's results: near-namesakes of the entities at hand, misstating snippets."""
        fb, s = self.fb, self.s
        query = s.queries[-1]
        for rank, row in enumerate(view.listed, 1):
            other = fb.entity_on(row)
            if other < 0:
                continue
            partner = int(fb.namesake[other])
            if partner in self.involved and other not in self.involved:
                self._add(("namesake", other), lambda o=other, p=partner: self._namesake(o, p))
            line = snippet_line(s.corpus, row, query_terms(query))
            text = s.corpus.lines(row)[line]
            for x in self.involved:
                if int(fb.page[x]) != row and self._key(x) in text and row not in self.r.gold \
                        and self._mentions[x] < _MENTIONS:
                    self._mentions[x] += 1
                    self._add(("mention", row), lambda row=row, x=x, rank=rank: self._mention(row, x, rank))
                    break
            for i in fb.in_docs([row]).tolist():
                subject = int(fb.subject[i])
                if int(fb.line[i]) == line and fb.conflicting[i] and subject in self.involved \
                        and PREDICATES[fb.pred[i]] in self.r.ref["predicates"]:
                    wrong = fb.value_of(i)
                    self._add(("conflict", subject, int(fb.pred[i])),
                              lambda e=subject, a=PREDICATES[fb.pred[i]], q=rank, w=wrong: self._conflict(e, a, q, w))

    def candidates(self, view, e: int) -> None:
        """Results of a description search: same-kind pages that might fit it."""
        fb = self.fb
        rivals = [row for row in view.listed if (o := fb.entity_on(row)) >= 0 and o != e
                  and fb.kind[o] == fb.kind[e] and row not in self.r.gold][:_CANDIDATES]
        for row in rivals:
            self._add(("candidate", row), lambda row=row, e=e: self._candidate(row, e))
        self.results(view)

    def opened(self, row: int) -> None:
        """A page opened: it may run past the screen, and its lead line may give another name."""
        s, fb = self.s, self.fb
        n = len(s.corpus.lines(row))
        e = fb.entity_on(row)
        if e in self.involved and s.browser.cursor + _READ_ON <= n:
            self._add(("read on", row, s.browser.cursor), lambda row=row, at=s.browser.cursor: self._read_on(row, at))
        if e in self.involved and fb.aliases[e] and fb.aliases[e][0] in s.corpus.lines(row)[0]:
            alias = fb.aliases[e][0]
            self._add(("alias", e), lambda alias=alias, e=e: self._alias(alias, e))

    def matched(self, row: int, phrase: str, line: int, others: list[int], e: int) -> None:
        """A find cited ``line`` and also matched ``others``."""
        for hit in others[:_PER_FIND]:
            self._add(("context", row, hit), lambda row=row, hit=hit, phrase=phrase, e=e: self._context(row, hit, phrase, e))

    def fact(self, e: int, predicate: str, row: int, line: int) -> None:
        """A fact read: confirm it from another page that states it."""
        self._add(("cross-check", e, predicate), lambda: self._cross_check(e, predicate, row))

    def members(self, e: int, relation: str, members: list[int]) -> None:
        for m in members[:_MEMBERS]:
            self._add(("member", m, relation), lambda m=m: self._member(m, relation, e))

    # ------------------------------------------------------------------ leads (each returns its calls)

    def _key(self, e: int) -> str:
        """How a find looks an entity up on a page: a person by surname, else the name."""
        name = self.fb.names[e]
        return name.split(" ")[-1] if self.fb.kind_of(e) == "person" else name

    def _safe_find(self, row: int, pattern: str) -> bool:
        """Whether a find of ``pattern`` on ``row`` reads nothing misleading (and matches)."""
        hits = tuple(find_lines(self.s.corpus, row, pattern))
        return bool(hits) and not self.s.rules.is_detour("find", row, hits)

    def _goto(self, row: int, thought: str) -> int:
        """Open ``row`` unless it is the open page (0 or 1 calls)."""
        if self.s.browser.page == row:
            return 0
        self.s.open(row, thought)
        self.opened(row)
        return 1

    def _namesake(self, other: int, partner: int) -> int:
        fb, s, v = self.fb, self.s, self.v
        name, mine = fb.names[other], fb.names[partner]
        if not s.fresh(name):
            return 0
        view = s.search(name, v.lt_namesake(name, mine))
        row = int(fb.page[other])
        calls = 1
        if row in view.listed:
            terms = query_terms(name)
            text = s.corpus.lines(row)[snippet_line(s.corpus, row, terms)]
            s.note = v.lt_namesake_seen(name, text, mine)
        self.results(view)
        page = int(fb.page[partner])
        note = set(find_lines(s.corpus, page, "not to be confused"))
        if s.browser.page == page and page not in s.rules.traps and not s.matched.get(page, set()) & note \
                and self._safe_find(page, "not to be confused"):
            found = s.find("not to be confused", v.lt_note(mine))
            s.note = v.lt_note_seen(s.cite(page, found.hits[0]))
            calls += 1
        return calls

    def _conflict(self, e: int, attribute: str, rank: int, wrong: str) -> int:
        """Check a misstating snippet's value on a listing page that prints the attribute."""
        fb, s, v = self.fb, self.s, self.v
        rows = fb.statements(e, attribute)
        pages = [int(fb.doc[i]) for i in rows if fb.source[i] == LIST]
        for page in pages:
            owner = fb.entity_on(page)
            if page in s.rules.traps or owner < 0 or not self._saw(fb.names[owner]):
                continue
            key = self._key(e)
            if not self._safe_find(page, key):
                continue
            calls = self._goto(page, v.lt_conflict(rank, fb.names[e], NOUN[attribute], wrong, fb.names[owner]))
            found = s.find(key, v.find(key, f"how the page on {fb.names[owner]} gives it"))
            s.note = v.lt_confirmed(s.cite(page, found.hits[0]))
            return calls + 1
        return 0

    def _mention(self, row: int, x: int, rank: int) -> int:
        """A result whose snippet names an entity being researched: read what it says there."""
        fb, s, v = self.fb, self.s, self.v
        key = self._key(x)
        if row in s.rules.traps or row in s.opened or not self._safe_find(row, key):
            return 0
        s.open(row, v.lt_mention(s.where(row), fb.names[x]))
        self.opened(row)
        found = s.find(key, v.lt_cross_find(key, fb.names[x]))
        s.note = v.lt_mention_seen(s.cite(row, found.hits[0]), fb.names[x])
        return 2

    def _candidate(self, row: int, e: int) -> int:
        s, v = self.s, self.v
        if row in s.rules.traps or row in s.opened:
            return 0
        s.open(row, v.lt_candidate(s.where(row)))
        s.note = v.lt_candidate_no(s.cite(row, 0))
        return 1

    def _read_on(self, row: int, at: int) -> int:
        s, v = self.s, self.v
        n = len(s.corpus.lines(row))
        if at >= n:
            return 0
        thought = v.lt_read_on(s.corpus.title(row), n, at)
        if s.browser.page == row:
            s.scroll(at, thought)
        else:
            s.open(row, thought, loc=at)
        if s.browser.cursor + _READ_ON <= n:
            self._add(("read on", row, s.browser.cursor), lambda at=s.browser.cursor: self._read_on(row, at))
        s.note = v.lt_read_on_seen()
        return 1

    def _alias(self, alias: str, e: int) -> int:
        s, v = self.s, self.v
        if not s.fresh(alias):
            return 0
        view = s.search(alias, v.lt_alias(alias, self.fb.names[e]))
        s.note = v.lt_results(len(view.listed), int(self.fb.page[e]) in view.listed[:1])
        self.results(view)
        return 1

    def _context(self, row: int, hit: int, phrase: str, e: int) -> int:
        fb, s, v = self.fb, self.s, self.v
        if row in s.rules.traps:
            return 0
        loc = max(0, hit - _CONTEXT)
        s.open(row, v.lt_context(hit, phrase, fb.names[e]), loc=loc, num_lines=_CONTEXT * 2 + 1)
        subjects = [fb.names[int(fb.subject[i])] for i in fb.in_docs([row]).tolist()
                    if int(fb.line[i]) == hit and int(fb.subject[i]) != e]
        s.note = v.lt_context_seen(hit, subjects[0] if subjects else None, fb.names[e])
        return 1

    def _cross_check(self, e: int, predicate: str, row: int) -> int:
        """The other side of a fact: the object's listing (relations), or a listing that prints
        the attribute (attributes); the page must be one whose name the researcher has seen."""
        fb, s, v = self.fb, self.s, self.v
        rows = fb.statements(e, predicate)
        pages = [int(fb.doc[i]) for i in rows if fb.source[i] == LIST and int(fb.doc[i]) != row]
        key = self._key(e)
        for page in pages:
            owner = fb.entity_on(page)
            if page in s.rules.traps or owner < 0 or not self._saw(fb.names[owner]) or not self._safe_find(page, key):
                continue
            if page in s.matched and set(find_lines(s.corpus, page, key)) <= s.matched[page]:
                continue
            noun = NOUN[predicate] if predicate not in RELATIONS else "listing"
            calls = self._goto(page, v.lt_cross_open(fb.names[owner], fb.names[e], noun))
            found = s.find(key, v.lt_cross_find(key, fb.names[e]))
            s.note = v.lt_confirmed(s.cite(page, found.hits[0]))
            return calls + 1
        return 0

    def _member(self, m: int, relation: str, owner: int) -> int:
        fb, s, v = self.fb, self.s, self.v
        row = int(fb.page[m])
        key = self._key(owner)
        if row in s.rules.traps or not self._safe_find(row, key):
            return 0
        calls = self._goto(row, v.lt_member_open(fb.names[m], fb.names[owner]))
        found = s.find(key, v.lt_cross_find(key, fb.names[m]))
        s.note = v.lt_confirmed(s.cite(row, found.hits[0]))
        return calls + 1

    def _saw(self, name: str) -> bool:
        """Whether ``name`` was in the question or an observation the researcher has seen."""
        return name in self.r.ref["question"] or self.s.saw(name)
