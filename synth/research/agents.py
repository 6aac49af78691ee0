"""Scripted researchers: ``expert``, ``reflective``, ``noisy`` and ``random``.

Each plans its whole episode up front on a private browser (:mod:`synth.research.script`) and
replays the plan; every thought comes from the shared phrasing layer
(:mod:`synth.research.phrasing`), so tiers differ in what they believe and do, not in how they
word it. The expert evaluates the question's program the way a person would: plan, search
each entity (reformulating when its page is not among the results, or going to the page by its
address when the exact name is known), open the page, ``find`` the relation's words, cite the
line, carry the entity found into the next hop, and answer citing every evidence line. From
difficulty 3 it checks pages whose near-namesake it has seen in the results.

Mistakes (``reflective`` notices and recovers, ``noisy`` does not) are believable: each has a
cause visible on screen, recorded in ``policy.params.detour``:

- ``namesake``: a near-namesake's page ranked above the exact match (or the exact match not
  listed) is opened as the entity's page;
- ``distractor``: the same, for a page of the same kind whose title shares a word with the
  entity's name;
- ``conflict``: a result whose snippet misstates the entity's attribute is opened to read it;
- ``misread``: on the right page, a find's first match is a line about another entity ("Puzond's
  former colleague, Zeno Dronhulhan, works for Trunso Group") taken for the subject's own fact;
  a misread relation sends the researcher to the wrong page (a trap of the question), a misread
  value is carried to the answer (noisy only: nothing the env can flag happens before it).

The thought at the mistake states the mistaken belief (it never names the right fact and acts
against it). A reflective researcher catches it by a check of its own: the page's header names
another entity, the line it read is about someone else, the wrong page never mentions the
entity, or the entity's own article gives another value than a passing mention.

- long tail (``params.long_tail``): expert episodes that follow up what they see
  (:mod:`synth.research.longtail`);
- ``random``: a few uninformed but well-formed tool calls (often after a few of the expert's
  own first steps), then a guess of the right kind, in the same words as everyone else;
- ``context.summarize`` (``params.context: {every: N}``): after every N tool calls.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from stores.corpus import Corpus
from stores.schema import Action, Task
from synth.research.browser import find_lines, query_terms, snippet_line
from synth.research.env import ANSWER, ResearchEnv
from synth.research.facts import LIST, FactBase, fact_base
from synth.research.longtail import Explorer
from synth.research.phrasing import ASKING, LISTING, NOUN, THAT, Voice
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
from synth.research.script import PlanCut, Script
from synth.research.world import ATTRIBUTES, PREDICATES, RELATIONS, shown

NAMESAKE_NOTE = "not to be confused"
ENTITY_KINDS = ("person", "organisation", "place", "work", "event")
URL_SHARE = 0.15  # visits to a page whose exact name is known that go straight to its url
FOLLOW = 0.6  # random episodes that start as the expert would (see random_plan)
FOLLOW_STEPS = 8  # ... for at most this many steps
LONG_TAIL_HEADROOM = 64  # tool calls the derivation itself may need beside the long tail
CAUSES = {
    "namesake": "a near-namesake ranked above the exact match was opened as the entity's page",
    "distractor": "a page with a similar title ranked above the exact match was opened as the entity's page",
    "conflict": "a result whose snippet misstates the attribute was opened and believed",
    "misread": "a line about another entity on the right page was taken for the subject's own fact",
    "slip": "a slip in the final step (the comparison's direction, the count, the value carried)",
    "guess": "no believable mistake was on screen; the answer is a wrong name of the right kind",
}


@dataclass(frozen=True)
class Detour:
    read: int  # index of the read where it happens
    kind: str  # rel | attr | list
    mode: str  # namesake | distractor | conflict | misread
    row: int  # the page opened instead (misread value: the entity's own page)
    query: str | None = None  # the search that lists it (None: none needed)
    line: int | None = None  # misread: the line taken for the subject's own


class Researcher:
    """Evaluates a world question's program by browsing. ``detour`` (with ``recover``:
    reflective, else noisy) takes one wrong turn; ``explore_calls`` adds the long tail;
    ``collect`` records the detours possible at each read (a dry run for the detour tiers)."""

    def __init__(self, script: Script, task: Task, rng: random.Random, *, detour: Detour | None = None,
                 recover: bool = True, explore_calls: int = 0, collect: bool = False, slip: bool = False):
        self.s, self.task, self.rng = script, task, rng
        self.v: Voice = script.voice
        self.fb: FactBase = fact_base(script.corpus)
        self.ref = task.reference
        self.program = self.ref["program"]
        self.detour, self.recover, self.collect, self.slip = detour, recover, collect, slip
        self.reads = 0
        self.options: list[list[Detour]] = []
        self.evidence: list[str] = []  # citations for the final thought
        self.gold = {script.corpus.row(d) for d in self.ref["gold_docids"]}
        self.careful = task.difficulty >= 3
        self.by_url: set[int] = set()  # entities whose page is next opened by url (a name just read)
        self.explorer = Explorer(self, explore_calls) if explore_calls else None

    # ------------------------------------------------------------------ the derivation

    def run(self) -> str:
        """Write the plan; return the answer it gives."""
        fb, p, s, v = self.fb, self.program, self.s, self.v
        s.note = v.plan(self._plan_steps())
        t = p["type"]
        slipped: tuple[str, str] | None = None  # (wrong answer, the note that shows the slip)
        if t == "bridge":
            end = self.follow(p["anchor"], p["chain"])
            answer = self.read_attr(end, p["attribute"]) if p["attribute"] else fb.names[end]
            if self.slip and p["attribute"]:  # two digits swapped when the year is written down
                slipped = (answer[:-2] + answer[-1] + answer[-2] if answer[-1] != answer[-2] else str(int(answer) + 1), "")
            elif self.slip:  # another name of the same kind from the last page
                names = [n for n in self._names_seen(fb.kind_of(end)) if n != answer]
                slipped = (names[0], "") if names else None
        elif t == "comparison":
            ends = [self.follow(side["anchor"], side["chain"]) for side in p["sides"]]
            values = [self.read_attr(e, p["attribute"]) for e in ends]
            best = winner(p, [int(x) for x in values])
            answer = fb.names[ends[best]]
            a, smaller = p["attribute"], comparison_order(p) == "min"
            named = (fb.names[ends[0]], shown(a, values[0]), fb.names[ends[1]], shown(a, values[1]))
            if self.slip:  # the comparison read the wrong way round
                slipped = (fb.names[ends[1 - best]], v.compare(*named, not smaller, fb.names[ends[1 - best]]))
            else:
                s.note += v.compare(*named, smaller, answer)
        elif t == "intersection":
            lists = [self.read_list(self.follow(c["anchor"], c["chain"]), c["relation"]) for c in p["conditions"]]
            common = [m for m in lists[0] if m in lists[1]]
            pick = common[0] if common else (list(lists[0]) or list(lists[1]) or [0])[0]
            answer = fb.names[pick]
            self.evidence += [cite for listed in lists for m, cite in listed.items() if m == pick]
            others = [fb.names[m] for listed in lists for m in listed if m != pick] or \
                [n for n in self._names_seen(fb.kind_of(pick)) if n != answer]
            if self.slip and others:  # a name from one list (or the results) taken for the common one
                slipped = (others[0], v.common(others[0], others[0]))
            else:
                s.note += v.common(answer if common else None, answer)
        else:
            members = self.read_list(self.follow(p["anchor"], p["chain"]), p["relation"])
            self.evidence += list(members.values())
            answer = str(len(members))
            if self.slip:  # one entry counted twice
                slipped = (str(len(members) + 1), v.count(len(members) + 1))
            else:
                s.note += v.count(len(members))
        if slipped is not None:
            s.note += slipped[1]
            if self.recover:
                s.note += v.slip_caught(slipped[0], answer)
            else:
                answer = slipped[0]
        self.slipped = slipped is not None
        if self.explorer is not None:
            self.explorer.finish()
        s.say(v.answer(self.evidence, answer), Action(ANSWER, {"answer": answer}))
        return answer

    def _names_seen(self, kind: str) -> list[str]:
        """Names of entities of ``kind`` the episode has shown: stated on the displayed lines of
        the open page, then the titles of every page listed or opened."""
        fb, s = self.fb, self.s
        out: list[str] = []
        page = s.browser.page
        if page is not None:
            lines, displayed = s.corpus.lines(page), s.lines_seen.get(page, set())
            for i in fb.in_docs([page]).tolist():
                for e in (int(fb.subject[i]), int(fb.object[i])):
                    line = int(fb.line[i])
                    if e >= 0 and fb.kind_of(e) == kind and line in displayed and fb.names[e] in lines[line]:
                        out.append(fb.names[e])
        for row in sorted(s.browser.shown):
            e = fb.entity_on(row)
            if e >= 0 and fb.kind_of(e) == kind:
                out.append(fb.names[e])
        return list(dict.fromkeys(out))

    def _plan_steps(self) -> list[str]:
        """The question's sub-questions, in the order they will be answered."""
        p, fb = self.program, self.fb
        steps = [f"identify {mention(fb, a)}" for a in anchors(p) if a["described"]]
        chains = [(p["anchor"], p["chain"])] if "chain" in p else \
            [(x["anchor"], x["chain"]) for x in p.get("sides", p.get("conditions", []))]
        ends = []
        for anchor, chain in chains:
            x = "it" if anchor["described"] else mention(fb, anchor)
            for r in chain:
                steps.append(ASKING[r].format(x=x))
                x = THAT[RELATIONS[r].object]
            ends.append(x)
        t = p["type"]
        if t == "bridge" and p["attribute"]:
            steps.append(ASKING[p["attribute"]].format(x=x))
        elif t == "comparison":
            steps += [ASKING[p["attribute"]].format(x=end) for end in ends]
            steps.append("compare the two")
        elif t == "intersection":
            steps += [LISTING[c["relation"]].format(x=end) for c, end in zip(p["conditions"], ends, strict=True)]
            steps.append("take the one on both lists")
        elif t == "aggregation":
            steps.append(f"count {LISTING[p['relation']].format(x=x)}")
        return steps

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
        fb, s, v = self.fb, self.s, self.v
        row = int(fb.page[e])
        what = mention(fb, anchor)
        self._search_until_listed(
            row, description_queries(fb, e),
            lambda query, first: v.search_words(query, what, first=first), lambda: v.reformulate(what),
            None if self.explorer is None else (lambda view: self.explorer.candidates(view, e)))
        if row in s.seen:
            s.open(row, v.describe_open(s.where(row), what))
        else:
            s.open(row, v.open_url(fb.names[e]), by_url=True)
        s.note = s.cite(row, 0) + "."
        for _, predicate in DESCRIBE[fb.kind_of(e)]:
            line = self._find_fact(e, row, predicate)
            self.evidence.append(f"{s.corpus.docid(row)} L{line}")
        s.note += v.description_fits(what, fb.names[e])
        return e

    # ------------------------------------------------------------------ reads

    def _read(self, kind: str, e: int, predicate: str) -> Detour | None:
        """Start a read: follow up leads on the long tail, record the possible detours on a dry
        run, and return the detour to take here, if this is its read."""
        index = self.reads
        self.reads += 1
        if self.explorer is not None and index > 0:
            self.explorer.between_reads()
        if self.collect:
            self.options.append(self._options(kind, e, predicate))
        return self.detour if self.detour is not None and self.detour.read == index else None

    def read_rel(self, e: int, r: str) -> int:
        fb, s, v = self.fb, self.s, self.v
        detour = self._read("rel", e, r)
        if detour is not None and detour.mode != "misread":
            wrong = self._take_detour(detour, "rel", e, r)
            if not self.recover:
                return wrong
        row = self.visit(e, ASKING[r].format(x=fb.names[e]))
        if detour is not None and detour.mode == "misread":
            return self._misread_relation(detour, e, r, row)
        line = self._find_fact(e, row, r)
        nxt = int(fb.rel[r][e])
        s.note += v.conclude(r, fb.names[e], fb.names[nxt])
        self.evidence.append(f"{s.corpus.docid(row)} L{line}")
        if self.explorer is not None:
            self.explorer.fact(e, r, row, line)
        return nxt

    def read_attr(self, e: int, a: str) -> str:
        fb, s, v = self.fb, self.s, self.v
        detour = self._read("attr", e, a)
        if detour is not None and detour.mode != "misread":
            wrong = self._take_detour(detour, "attr", e, a)
            if not self.recover:
                return wrong
        row = self.visit(e, ASKING[a].format(x=fb.names[e]))
        if detour is not None and detour.mode == "misread":  # noisy only: the value is carried on
            view = s.find(_phrase(a), v.find(_phrase(a), ASKING[a].format(x=fb.names[e])))
            wrong = next(fb.value_of(i) for i in fb.in_docs([row]).tolist()
                         if int(fb.line[i]) == detour.line and ATTRIBUTES.get(_pred(fb, i)) is ATTRIBUTES[a])
            s.note = s.cite(row, detour.line) + "." + v.others([i for i in view.hits if i != detour.line][:3])
            s.note += v.conclude(a, fb.names[e], shown(a, wrong))
            return str(wrong)
        line = self._find_fact(e, row, a)
        value = str(fb.attr[a][e])
        s.note += v.conclude(a, fb.names[e], shown(a, value))
        if detour is not None and detour.mode == "conflict":
            s.note += v.conflict_resolved(s.corpus.docid(detour.row), fb.names[e], shown(a, value))
        self.evidence.append(f"{s.corpus.docid(row)} L{line}")
        if self.explorer is not None:
            self.explorer.fact(e, a, row, line)
        return value

    def read_list(self, e: int, r: str) -> dict[int, str]:
        """The members listed on ``e``'s page under ``r``, each with the citation of its line
        (the caller cites the ones its answer rests on)."""
        detour = self._read("list", e, r)
        if detour is not None:
            wrong = self._take_detour(detour, "list", e, r)
            if not self.recover:
                return wrong
        row = int(self.fb.page[e])
        members, lines = self._list(e, row, r, visit=True)
        docid = self.s.corpus.docid(row)
        if self.explorer is not None:
            self.explorer.members(e, r, members)
        return {m: f"{docid} L{ln}" for m, ln in zip(members, lines, strict=True)}

    def _list(self, e: int, row: int, r: str, visit: bool) -> tuple[list[int], list[int]]:
        """Find the relation's words on ``row`` (``e``'s page, or another one on a detour) and
        read the listing of members pointing at the page's own entity."""
        fb, s, v = self.fb, self.s, self.v
        if visit:
            self.visit(e, LISTING[r].format(x=fb.names[e]))
        owner = fb.entity_on(row)
        phrase = RELATIONS[r].phrase
        view = s.find(phrase, v.listing_find(phrase, LISTING[r].format(x=fb.names[e])))
        members, lines = [], []
        for i in fb.in_docs([row]).tolist():
            if fb.source[i] == LIST and int(fb.line[i]) in view.hits and int(fb.object[i]) == owner \
                    and _pred(fb, i) == r:
                members.append(int(fb.subject[i]))
                lines.append(int(fb.line[i]))
        form = v.pick("{n} (L{ln})", "{n} at L{ln}", "{n} [L{ln}]", "{n} on L{ln}", "{n} (line {ln})")
        named = ", ".join(form.format(n=fb.names[m], ln=ln) for m, ln in zip(members, lines, strict=True)) or "nobody"
        s.note = v.listed(s.corpus.docid(row), named)
        return members, lines

    def _search_until_listed(self, row: int, queries: Any, first_thought: Any, retry_thought: Any,
                             on_view: Any) -> None:
        """Type the fresh queries in turn until one lists ``row``: the first with its own
        thought, later ones as a reformulation; ``on_view`` sees every results page."""
        s = self.s
        tried = 0
        for query in queries:
            if not s.fresh(query):
                continue
            thought = first_thought(query, not s.queries) if not tried else retry_thought()
            tried += 1
            view = s.search(query, thought)
            if on_view is not None:
                on_view(view)
            if row in view.listed:
                return

    def visit(self, e: int, purpose: str | None = None) -> int:
        """Make sure ``e``'s page is open: from the results that listed it, by its url, or
        after searching for it."""
        fb, s, v = self.fb, self.s, self.v
        row = int(fb.page[e])
        name = fb.names[e]
        if s.browser.page == row:
            return row
        if row in s.seen and e not in self.by_url:
            s.open(row, v.open(s.where(row), name, purpose))
        elif e in self.by_url or self.rng.random() < URL_SHARE:
            s.open(row, v.open_url(name), by_url=True)
        else:
            self._search_until_listed(
                row, self._queries(e, purpose),
                lambda _query, first: v.search(name, purpose, first=first), lambda: v.reformulate(name),
                None if self.explorer is None else self.explorer.results)
            if row in s.seen:
                s.open(row, v.open(s.where(row), name, purpose))
            else:
                s.open(row, v.open_url(name), by_url=True)
        self.by_url.discard(e)
        lines = s.corpus.lines(row)
        shown = [i for i in sorted(s.lines_seen.get(row, ())) if i < len(lines)]
        headings = [lines[i].strip("= ").lower() for i in shown if lines[i].startswith("==")][:3]
        if shown:
            s.note = v.page_seen(s.corpus.title(row), len(lines), shown[0], shown[-1], headings)
        if self.explorer is not None:
            self.explorer.opened(row)
        namesake = int(fb.namesake[e])
        if self.careful and namesake >= 0 and int(fb.page[namesake]) in s.seen:
            seen = fb.names[namesake]
            view = s.find(NAMESAKE_NOTE, v.namesake_check(name, seen))
            if view.hits:
                s.note = v.namesake_ok(s.cite(row, view.hits[0]), name)
        return row

    def _queries(self, e: int, purpose: str | None) -> list[str]:
        """What a researcher types to find ``e``'s page, in the order tried."""
        fb = self.fb
        name = fb.names[e]
        variants = [name, f"{name} {fb.kind_of(e) if fb.kind_of(e) != 'place' else 'city'}"]
        if self.rng.random() < 0.3:
            variants.reverse()
        return variants

    def _find_fact(self, e: int, row: int, predicate: str, believed: int | None = None) -> int:
        """Find the line of ``row`` stating ``predicate`` of ``e`` (unless a find on this page
        already matched it) and note it; returns the line. ``believed``: the entity the
        researcher thinks the page is about (on a detour)."""
        fb, s, v = self.fb, self.s, self.v
        line = int(fb.line[fb.primary(e, predicate)])
        if line in s.matched.get(row, set()):
            s.note = v.found_above(s.cite(row, line))
            return line
        phrase = _phrase(predicate)
        about = fb.names[e if believed is None else believed]
        view = s.find(phrase, v.find(phrase, ASKING[predicate].format(x=about)))
        others = [i for i in view.hits if i != line][:4]
        s.note = s.cite(row, line) + "." + v.others(others)
        if self.explorer is not None:
            self.explorer.matched(row, phrase, line, others, e)
        return line

    # ------------------------------------------------------------------ detours

    def _options(self, kind: str, e: int, predicate: str) -> list[Detour]:
        """The believable mistakes at this read, given what is on screen (module docstring).
        Opening a wrong page needs the entity's own page unread so far, and a search the
        researcher might type that ranks the wrong page above the right one (or not at all)."""
        fb, s = self.fb, self.s
        index = self.reads - 1
        row = int(fb.page[e])
        out: list[Detour] = []
        phrase = _phrase(predicate) if kind != "list" else RELATIONS[predicate].phrase

        def usable(other: int) -> bool:
            if kind == "rel":
                return fb.rel[predicate][other] >= 0
            if kind == "attr":
                return ATTRIBUTES[predicate].type != "int" or fb.attr[predicate][other] >= 0
            return True

        def ranked(query: str) -> list[int]:
            return [r for r, _ in s.corpus.search(query, SEARCH_TOPN, s.browser.mode)]

        def above(query: str, wrong: int) -> bool:
            listing = ranked(query)
            return wrong in listing and (row not in listing or listing.index(wrong) < listing.index(row))

        if row not in s.opened:
            queries = [q for q in self._all_queries(e) if s.fresh(q)]
            namesake = int(fb.namesake[e])
            page = int(fb.page[namesake]) if namesake >= 0 else -1
            if namesake >= 0 and usable(namesake) and page not in self.gold:
                spelled = confusable(fb.names[e], fb.names[namesake])  # one letter apart: misread at any rank
                query = next((q for q in queries if (page in ranked(q) if spelled else above(q, page))), None)
                if query is not None:
                    out.append(Detour(index, kind, "namesake", page, query))
            if kind == "attr" and fb.has_conflict(e, predicate):
                for query in (f"{fb.names[e]} {phrase}", f"{fb.names[e]} {NOUN[predicate]}"):
                    if not s.fresh(query):
                        continue
                    listed = [r for r, _ in s.corpus.search(query, SEARCH_TOPN, s.browser.mode)]
                    shows = [r for r in fb.conflict_docs(e, predicate) if r in listed
                             and snippet_line(s.corpus, r, query_terms(query)) in self._conflict_lines(e, predicate, r)]
                    out += [Detour(index, kind, "conflict", r, query) for r in shows[:1]]
            words = {w for w in fb.names[e].split() if w != "The"}
            for query in queries:
                for other_row, _ in s.corpus.search(query, SEARCH_TOPN, s.browser.mode):
                    other = fb.entity_on(other_row)
                    if other < 0 or other == e or fb.kind[other] != fb.kind[e] or other_row in self.gold \
                            or other_row in s.rules.traps or not words & set(fb.names[other].split()):
                        continue
                    if usable(other) and above(query, other_row) and \
                            s.rules.is_detour("find", other_row, tuple(find_lines(s.corpus, other_row, phrase))):
                        out.append(Detour(index, kind, "distractor", other_row, query))
                        break
        if kind in ("rel", "attr") and row in self.gold and int(fb.line[fb.primary(e, predicate)]) \
                not in s.matched.get(row, set()):
            hits = find_lines(s.corpus, row, phrase)
            short = fb.names[e].split(" ")[-1] if fb.kind_of(e) == "person" else fb.names[e]
            lines = s.corpus.lines(row)
            for i in fb.in_docs([row]).tolist():
                line = int(fb.line[i])  # a match that names the subject ("Puzond's former colleague, ...")
                if _pred(fb, i) != predicate or int(fb.subject[i]) == e or line not in hits or short not in lines[line]:
                    continue
                if kind == "rel" and int(fb.page[int(fb.object[i])]) in s.rules.traps:
                    out.append(Detour(index, kind, "misread", int(fb.page[int(fb.object[i])]), line=line))
                elif kind == "attr" and fb.value_of(i) != str(fb.attr[predicate][e]):
                    out.append(Detour(index, kind, "misread", row, line=line))
        return out

    def _all_queries(self, e: int) -> list[str]:
        """Every query :meth:`_queries` might type for ``e`` (without drawing from the rng)."""
        name = self.fb.names[e]
        kind = self.fb.kind_of(e)
        return [name, f"{name} {kind if kind != 'place' else 'city'}"]

    def _conflict_lines(self, e: int, attribute: str, row: int) -> set[int]:
        fb = self.fb
        return {int(fb.line[i]) for i in fb.in_docs([row]).tolist()
                if int(fb.subject[i]) == e and fb.conflicting[i] and _pred(fb, i) == attribute}

    def _take_detour(self, d: Detour, kind: str, e: int, predicate: str) -> Any:
        """Open the wrong page and read the fact there; return what it says (None when a
        reflective researcher sees at once that the page is not the entity's)."""
        fb, s, v = self.fb, self.s, self.v
        name = fb.names[e]
        purpose = ASKING[predicate].format(x=name) if kind != "list" else LISTING[predicate].format(x=name)
        if d.query is not None and s.fresh(d.query) and d.row not in s.browser.results:
            s.search(d.query, v.search(name, purpose, first=not s.queries))
        if d.mode == "conflict":
            s.open(d.row, v.open_snippet(s.where(d.row), name, NOUN[predicate]))
            pattern = name.split(" ")[-1] if fb.kind_of(e) == "person" else name
            s.find(pattern, v.find(pattern, purpose))
            line = min(self._conflict_lines(e, predicate, d.row))
            wrong = next(fb.value_of(i) for i in fb.in_docs([d.row]).tolist()
                         if int(fb.line[i]) == line and int(fb.subject[i]) == e and fb.conflicting[i])
            s.note = s.cite(d.row, line) + "." + v.conclude(predicate, name, shown(predicate, wrong))
            if self.recover:
                s.note += v.corroborate(name)
            return wrong
        other = fb.entity_on(d.row)
        s.open(d.row, v.open(s.where(d.row, name_it=False), name, purpose))
        title = s.corpus.title(d.row)
        if self.recover and self.rng.random() < 0.5:  # the header gives it away at once
            s.note = v.wrong_header(title, name, d.mode == "namesake")
            return None
        if kind == "list":
            members, lines = self._list(e, d.row, predicate, visit=False)
            wrong: Any = {m: f"{s.corpus.docid(d.row)} L{ln}" for m, ln in zip(members, lines, strict=True)}
        else:
            line = self._find_fact(other, d.row, predicate, believed=e)
            wrong = int(fb.rel[predicate][other]) if kind == "rel" else str(fb.attr[predicate][other])
            if not self.recover:
                s.note += v.conclude(predicate, name, fb.names[wrong] if kind == "rel" else shown(predicate, wrong))
        if self.recover:
            s.note += v.wrong_subject(title, name, d.mode == "namesake")
        return wrong

    def _misread_relation(self, d: Detour, e: int, r: str, row: int) -> int:
        """The find's first match is taken for ``e``'s own fact; the wrong entity's page is
        opened by its name (the flagged step). A reflective researcher checks that page for
        any sign of ``e``, finds none, re-reads the line and takes the right one."""
        fb, s, v = self.fb, self.s, self.v
        name, phrase = fb.names[e], _phrase(r)
        view = s.find(phrase, v.find(phrase, ASKING[r].format(x=name)))
        wrong = next(int(fb.object[i]) for i in fb.in_docs([row]).tolist()
                     if int(fb.line[i]) == d.line and _pred(fb, i) == r)
        s.note = s.cite(row, d.line) + "." + v.others([i for i in view.hits if i != d.line][:3])
        s.note += v.conclude(r, name, fb.names[wrong])
        self.by_url.add(wrong)
        if not self.recover:
            return wrong
        wrong_row = int(fb.page[wrong])
        s.open(wrong_row, v.open_url(fb.names[wrong]), by_url=True)
        self.by_url.discard(wrong)
        key = name.split(" ")[-1] if fb.kind_of(e) == "person" else name
        hits = tuple(find_lines(s.corpus, wrong_row, key))
        if not hits and not s.rules.is_detour("find", wrong_row, hits):
            s.find(key, v.look_for(key, fb.names[wrong]))
        right = int(fb.line[fb.primary(e, r)])
        misread_subject = fb.names[next(int(fb.subject[i]) for i in fb.in_docs([row]).tolist()
                                        if int(fb.line[i]) == d.line and _pred(fb, i) == r)]
        s.note = v.misread_caught(fb.names[wrong], name, d.line, misread_subject)
        s.note += " " + s.cite(row, right) + "." + v.conclude(r, name, fb.names[int(fb.rel[r][e])])
        self.evidence.append(f"{s.corpus.docid(row)} L{right}")
        return int(fb.rel[r][e])


def confusable(a: str, b: str) -> bool:
    """Two names a reader can mistake for each other: the same words but one, which differs
    in a single letter ("Maren Holloway" / "Maren Halloway")."""
    x, y = a.split(" "), b.split(" ")
    if len(x) != len(y):
        return False
    diff = [(p, q) for p, q in zip(x, y, strict=True) if p != q]
    return len(diff) == 1 and len(diff[0][0]) == len(diff[0][1]) and \
        sum(c != d for c, d in zip(*diff[0], strict=True)) == 1


def _phrase(predicate: str) -> str:
    return RELATIONS[predicate].phrase if predicate in RELATIONS else ATTRIBUTES[predicate].phrase


def _pred(fb: FactBase, i: int) -> str:
    return PREDICATES[fb.pred[i]]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


# ---------------------------------------------------------------------------- tiers


def _script(task: Task, corpus: Corpus, params: dict[str, Any], rng: random.Random) -> Script:
    every = (params.get("context") or {}).get("every")
    return Script(corpus, ResearchEnv(task, corpus), Voice(rng), every)


def expert_plan(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """The expert's plan and its policy params. Whether this episode is a long-tail one is
    drawn from ``rng``; it then follows every lead it sees (:mod:`synth.research.longtail`), and
    a question whose leads motivate fewer than ``min_calls`` extra calls is researched without
    the long tail (so long-tail episodes lean to questions with more to check)."""
    tail = params.get("long_tail") or {}
    wanted = int(tail.get("min_calls", 100)) if rng.random() < float(tail.get("rate", 0.0)) else 0
    seed = rng.random()
    if fact_base(corpus) is None:
        script = _script(task, corpus, params, random.Random(seed))
        _byo_expert(script, task)
        return script.steps, {"topn": SEARCH_TOPN, "long_tail": False, "context_every": script.every}
    if wanted:  # every lead followed, within the tool budget's headroom
        script = _script(task, corpus, params, random.Random(seed))
        cap = int(task.env["max_tool_calls"]) - LONG_TAIL_HEADROOM
        researcher = Researcher(script, task, random.Random(seed), explore_calls=cap)
        researcher.run()
        if researcher.explorer.calls >= wanted:
            return script.steps, {"topn": SEARCH_TOPN, "long_tail": True, "extra_calls": researcher.explorer.calls,
                                  "context_every": script.every}
    script = _script(task, corpus, params, random.Random(seed))
    Researcher(script, task, random.Random(seed)).run()
    return script.steps, {"topn": SEARCH_TOPN, "long_tail": False, "context_every": script.every}


def detour_plan(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any],
                recover: bool) -> tuple[list, dict[str, Any]]:
    """The reflective (``recover``) or noisy plan. A dry run lists the believable mistakes at
    each read; the reflective draws one whose wrong step the env can see (an opened page), the
    noisy tries them (half the time the last read's first) until one leads to a wrong answer."""
    if fact_base(corpus) is None:
        if recover:
            raise ValueError("the reflective tier needs a generated world (its facts show where a detour is); "
                             "this corpus was brought without one")
        return _byo_noisy(task, corpus, rng, params)
    seed = rng.random()
    dry = Researcher(_script(task, corpus, params, random.Random(seed)), task, random.Random(seed), collect=True)
    dry.run()
    every_option = [d for options in dry.options for d in options]
    if recover:
        flagged = [d for d in every_option if d.mode != "misread" or d.kind == "rel"]
        traps = [d for d in flagged if d.mode != "distractor"]
        choices = [rng.choice(traps or flagged)] if flagged else []
    else:
        last = [d for options in dry.options[-1:] for d in options] if rng.random() < 0.5 else []
        choices = rng.sample(last, len(last)) + rng.sample(every_option, len(every_option))
    gold = {normalize_answer(a) for a in (task.reference["answer"], *task.reference["aliases"])}
    for detour in choices:
        script = _script(task, corpus, params, random.Random(seed))
        answer = Researcher(script, task, random.Random(seed), detour=detour, recover=recover).run()
        if recover or normalize_answer(answer) not in gold:
            return script.steps, {"detour": {"read": detour.read, "mode": detour.mode, "cause": CAUSES[detour.mode],
                                             "docid": corpus.docid(detour.row)}, "context_every": script.every}
    # nothing on screen invites a wrong page: a slip in the last step instead (the noisy
    # answers with it; the reflective catches it in its thought, and no step is wrong)
    script = _script(task, corpus, params, random.Random(seed))
    researcher = Researcher(script, task, random.Random(seed), recover=recover, slip=True)
    answer = researcher.run()
    mode = "slip"
    if not recover and normalize_answer(answer) in gold:  # nothing to slip on: a wrong name of the right kind
        mode, wrong = "guess", wrong_guess(task, corpus, rng)
        script.steps[-1] = (script.voice.answer([], wrong), Action(ANSWER, {"answer": wrong}))
    return script.steps, {"detour": {"read": len(dry.options) - 1, "mode": mode, "cause": CAUSES[mode],
                                     "docid": None}, "context_every": script.every}


def random_plan(task: Task, corpus: Corpus, rng: random.Random) -> tuple[list, dict[str, Any]]:
    """A few uninformed, well-formed tool calls in everyone's words (search the question's words
    or a title the results showed, open a result, find a relation's words, note what it matched), then
    a guess of the right kind: a name of that kind on a line it noted when there is one, else
    any, citing the lines it noted.

    In a share ``FOLLOW`` of episodes it first does what the expert would for a few steps (never
    its answer), as a weak agent starts sensibly and then loses the thread: a random tier that
    never opens the right page nor reads a line would be told apart by the phrases of that work,
    not by its judgement."""
    script = Script(corpus, ResearchEnv(task, corpus), Voice(rng))
    v, fb = script.voice, fact_base(corpus)
    steps = Researcher(script, task, rng)._plan_steps() if fb is not None else [task.reference["question"]]
    cites: list[str] = []
    followed = 0
    if fb is not None and rng.random() < FOLLOW:
        script.stop_at = rng.randint(1, FOLLOW_STEPS)
        guide = Researcher(script, task, rng)
        try:
            guide.run()
        except PlanCut as cut:
            followed = cut.steps
        script.stop_at = None
        cites += guide.evidence
    else:
        script.note = v.plan(steps)
    words = re.findall(r"[A-Za-z]{4,}", task.reference["question"])
    predicates = [p for p in task.reference.get("predicates", []) if p in RELATIONS or p in ATTRIBUTES]
    phrases = [_phrase(p) for p in predicates] or [r.phrase for r in RELATIONS.values()]
    calls = rng.randint(1, 4) if followed else rng.randint(2, 6)
    noted: list[str] = []
    for _ in range(calls):
        page = script.browser.page
        if page is not None and rng.random() < 0.6:
            move = "find"
        elif script.browser.results and page not in script.browser.results[:1] and rng.random() < 0.7:
            move = "open"
        else:
            move = "search"
        if move == "search":  # the question's words, or a title some results showed
            shown = sorted(script.browser.shown)
            query = corpus.title(rng.choice(shown)) if shown and (rng.random() < 0.5 or not words) else \
                " ".join(rng.sample(words, min(2, len(words)))) if words else task.reference["question"][:80]
            if script.fresh(query):
                script.search(query, v.search(query, rng.choice(steps), first=not script.queries))
        elif move == "open":
            row = rng.choice(script.browser.results)
            script.open(row, v.open(script.where(row), corpus.title(row), rng.choice(steps)))
        else:
            phrase = rng.choice(phrases)
            view = script.find(phrase, v.find(phrase, rng.choice(steps)))
            if view.hits:
                line = view.hits[0]
                script.note = script.cite(view.page, line) + "." + v.others(list(view.hits[1:4]))
                read = _fact_on(fb, corpus, view.page, line)
                if read is not None:  # what the line says, about whoever it is about
                    script.note += v.conclude(*read)
                cites.append(f"{corpus.docid(view.page)} L{line}")
                noted += _names_in(fb, corpus, view.page, [line])
    kind = task.reference["answer_kind"]
    fitting = [n for n in noted if fb is not None and kind in ENTITY_KINDS and fb.kind_of(fb.by_name[n]) == kind]
    if fitting:
        guess = rng.choice(fitting)
    elif kind in ENTITY_KINDS and fb is not None:  # a name of that kind it saw, else any title it saw
        seen = Researcher(script, task, rng)._names_seen(kind) or [corpus.title(r) for r in sorted(script.browser.shown)]
        guess = rng.choice(seen) if seen else wrong_guess(task, corpus, rng, allow_right=True)
    else:
        guess = wrong_guess(task, corpus, rng, allow_right=True)
    script.say(v.answer(cites, guess), Action(ANSWER, {"answer": guess}))
    return script.steps, {"calls": calls, "followed": followed}


def _fact_on(fb: FactBase | None, corpus: Corpus, row: int, line: int) -> tuple[str, str, str] | None:
    """(predicate, subject, object or value) of a fact stated on a line, as a reader takes it."""
    if fb is None:
        return None
    text = corpus.lines(row)[line]
    for i in fb.in_docs([row]).tolist():
        if int(fb.line[i]) == line:
            p, o = _pred(fb, i), int(fb.object[i])
            subject, obj = fb.names[int(fb.subject[i])], fb.names[o] if o >= 0 else shown(p, fb.value_of(i))
            return (p, subject, obj) if subject in text and obj in text else None  # only names the line shows
    return None


def _names_in(fb: FactBase | None, corpus: Corpus, row: int, lines: tuple[int, ...] | list[int]) -> list[str]:
    """Entity names stated on the given lines of a page (subjects and objects of their facts)."""
    if fb is None:
        return []
    wanted = set(lines)
    text = corpus.lines(row)
    out = []
    for i in fb.in_docs([row]).tolist():
        if int(fb.line[i]) in wanted:
            for e in (int(fb.subject[i]), int(fb.object[i])):
                if e >= 0 and fb.names[e] not in out and fb.names[e] in text[int(fb.line[i])]:
                    out.append(fb.names[e])
    return out


def wrong_guess(task: Task, corpus: Corpus, rng: random.Random, allow_right: bool = False) -> str:
    """A plausible answer of the right kind (a name, a year or a count); wrong unless allowed."""
    ref = task.reference
    gold = {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
    fb, kind = fact_base(corpus), ref["answer_kind"]
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


def _byo_visit(script: Script, row: int, first: str) -> None:
    """Get ``row`` listed (the question's words, then its title) and open it."""
    c, v = script.corpus, script.voice
    for query, thought in ((first, v.search_words(first, "the page that answers it", first=True)),
                           (c.title(row), v.reformulate(c.title(row)))):
        if row in script.seen:
            break
        if script.fresh(query):
            script.search(query, thought)
    if row in script.seen:
        script.open(row, v.open(script.where(row), c.title(row), None))
    else:
        script.open(row, v.open_url(c.title(row)), by_url=True)


def _byo_expert(script: Script, task: Task) -> None:
    """For a corpus without facts: search the question (then each evidence page's title),
    open every evidence page, find the answer (or the evidence line) on it, answer citing it."""
    ref, c, v = task.reference, script.corpus, script.voice
    cites = []
    script.note = v.plan([f"find the page(s) that answer: {ref['question']}"])
    for docid in ref["gold_docids"]:
        row = c.row(docid)
        _byo_visit(script, row, ref["question"])
        lines = sorted(script.rules.evidence[row])
        if not lines:
            continue
        text = c.lines(row)[lines[0]]
        needle = ref["answer"] if ref["answer"].lower() in text.lower() else text[:40]
        view = script.find(needle, v.find(needle, "the line that answers it"))
        hit = next((i for i in lines if i in view.hits), None)
        if hit is not None:
            script.note = script.cite(row, hit) + "."
            cites.append(f"{docid} L{hit}")
    script.say(v.answer(cites, ref["answer"]), Action(ANSWER, {"answer": ref["answer"]}))


def _byo_noisy(task: Task, corpus: Corpus, rng: random.Random, params: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Opens the best-ranked page that is not evidence and takes its title for the answer."""
    script = _script(task, corpus, params, random.Random(rng.random()))
    ref, v = task.reference, script.voice
    script.note = v.plan([f"find the page(s) that answer: {ref['question']}"])
    view = script.search(ref["question"], v.search_words(ref["question"], "the page that answers it", first=True))
    gold = {corpus.row(d) for d in ref["gold_docids"]}
    wrong = [r for r in view.listed if r not in gold]
    if not wrong:
        raise RuntimeError(f"task {task.id}: every result of the question's words is evidence; no wrong page to open")
    row = wrong[0]
    script.open(row, v.open(script.where(row), corpus.title(row), None))
    right = {normalize_answer(a) for a in (ref["answer"], *ref["aliases"])}
    answer = corpus.title(row) if normalize_answer(corpus.title(row)) not in right else wrong_guess(task, corpus, rng)
    script.say(v.answer([], answer), Action(ANSWER, {"answer": answer}))
    return script.steps, {"detour": {"mode": "distractor", "cause": CAUSES["distractor"], "docid": corpus.docid(row)}}
