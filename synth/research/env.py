"""The research environment: a browser over the task's corpus version, a step checker, the
answer verifier, evidence metrics and context-management memory.

Step checker (``accepts``, behind ``first_error_step``). A deep-research trace legitimately
explores: reformulated searches, pages that turn out irrelevant, scrolling. Those steps are
*neutral* and accepted. *Progress* is surfacing, opening or locating (``find`` hitting the
evidence line) gold evidence not seen yet, or the right answer; ``accepted_actions`` lists it.
A step is an *error* (not accepted) when it is

- malformed (unknown tool or argument, bad value, ``find`` with no page open);
- a *detour*: opening a trap page (the near-namesake of an entity the question involves, a
  page misstating an attribute the question uses, or the page a misread gold line points to:
  the object of a passing mention of another entity's relation), or a ``find`` on a page that
  is not gold evidence whose matches include a *misleading* line: one stating a relation or
  attribute the question needs about an entity the question does not involve, or misstating
  one. That is reading the question's fact from the wrong page; reading a true statement about
  an entity of the question on another page (a listing that confirms it) is not;
- a wrong answer.

So the long tail's dead ends and distractor pages glanced at do not count as errors, while the
noisy researcher's mistake (reading its fact off a namesake or a distractor) and the reflective
researcher's detour do. For a bring-your-own corpus (no facts table), traps come from the
question file and the ``find`` rule does not apply.

Evidence metrics (``scores``): the share of gold evidence documents that appeared in search
results (``evidence_searched``), were opened (``evidence_recall``) and had all their evidence
lines matched by a ``find`` (``evidence_found``).
"""

from __future__ import annotations

from typing import Any

from stores.corpus import Corpus
from stores.schema import Action, Outcome, Task
from synth.episode import StepResult
from synth.llm.agent import INVALID_REPLY
from synth.research.browser import Browser, BrowserError, View, check_arguments, find_lines
from synth.research.facts import fact_base
from synth.research.questions import normalize_answer
from synth.research.world import PREDICATES, RELATIONS

VERIFIER = "exact-match"
SUMMARIZE = "context.summarize"
ANSWER = "answer"
FINISH = "finish"  # the LLM runner's stop at its round limit: the episode ends unanswered
_MEMORY_LINES = 12
_MEMORY_PAGES = 8
_MEMORY_QUERIES = 6


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


def initial_text(task: Task) -> str:
    """The browser's first screen: a function of the task alone (prompts rebuild it)."""
    return (f"Browser ready on corpus {task.env['corpus']['ref']}. No page is open. "
            "Tools: search, open, find; finish with answer.")


class ResearchEnv:
    """One episode: the browser, what it has shown, and the checks against the task's evidence."""

    def __init__(self, task: Task, corpus: Corpus):
        ref, env = task.reference, task.env
        self.task, self.corpus = task, corpus
        self.browser = Browser(corpus, env["search"], env["screen_lines"])
        self.budget = env["max_tool_calls"]
        self.question = ref["question"]
        self.answer, self.aliases = ref["answer"], list(ref["aliases"])
        self.gold = [self._row(d) for d in ref["gold_docids"]]
        self.evidence: dict[int, set[int]] = {row: set() for row in self.gold}
        for item in ref["evidence"]:
            if item.get("line") is not None:
                self.evidence[self._row(item["docid"])].add(item["line"])
        for row, lines in self.evidence.items():  # a bring-your-own question without lines: where the answer is
            if not lines:
                lines.update(i for i, line in enumerate(corpus.lines(row)) if self.answer.lower() in line.lower())
        self.traps = {self._row(d) for d in ref.get("traps", [])}
        self._codes = {PREDICATES.index(p) for p in ref.get("predicates", [])}
        fb = fact_base(corpus)
        names = {name for item in ref["evidence"] for name in (item.get("subject"), item.get("object")) if name}
        self._involved = {fb.by_name[n] for n in names if n in fb.by_name} if fb is not None else set()
        self._fact_lines: dict[int, frozenset[int]] = {}
        self.surfaced: set[int] = set()
        self.opened: set[int] = set()
        self.located: dict[int, set[int]] = {}
        self.calls = 0
        self._learned: list[tuple[int, int]] = []  # (row, line) matched by finds, first time order
        self._queries: list[str] = []
        self._pages: list[int] = []

    def _row(self, docid: str) -> int:
        row = self.corpus.row(docid)
        if row is None:
            raise ValueError(f"task {self.task.id}: docid {docid!r} is not in corpus {self.corpus.ref}; "
                             "the task was made for another corpus version")
        return row

    # ------------------------------------------------------------------ the checker

    def misleading_lines(self, row: int) -> frozenset[int]:
        """Lines of page ``row`` stating a relation or attribute the question needs, about an
        entity the question does not involve or wrongly (a planted conflicting fact)."""
        if row not in self._fact_lines:
            fb = fact_base(self.corpus)
            if fb is None or not self._codes:
                self._fact_lines[row] = frozenset()
            else:
                rows = fb.in_docs([row])
                self._fact_lines[row] = frozenset(
                    int(fb.line[i]) for i in rows
                    if int(fb.pred[i]) in self._codes and (fb.conflicting[i] or int(fb.subject[i]) not in self._involved))
        return self._fact_lines[row]

    def is_detour(self, name: str, row: int, hits: tuple[int, ...] = ()) -> bool:
        """Whether opening ``row`` (or a find on it matching ``hits``) is a detour."""
        if name == "open":
            return row in self.traps
        return row not in self.evidence and bool(self.misleading_lines(row).intersection(hits))

    def accepted_actions(self) -> list[dict[str, Any]]:
        """Progress now, as constraints (searches and finds have unboundedly many accepted
        spellings): a ``search`` listing any of ``retrieves_any``, an ``open`` of any of
        ``id_any``, a ``find`` on the open page matching any of ``lines_any``, an ``answer``
        equal after normalization to any of ``answer_any``; ``neutral`` tools are accepted too
        unless malformed or a detour (module docstring)."""
        c = self.corpus
        out: list[dict[str, Any]] = []
        unseen = [c.docid(r) for r in self.gold if r not in self.surfaced and r not in self.opened]
        if unseen:
            out.append({"name": "search", "retrieves_any": unseen})
        unopened = [c.docid(r) for r in self.gold if r not in self.opened]
        if unopened:
            out.append({"name": "open", "id_any": unopened})
        page = self.browser.page
        if page in self.evidence:
            left = sorted(self.evidence[page] - self.located.get(page, set()))
            if left:
                out.append({"name": "find", "docid": c.docid(page), "lines_any": left})
        out.append({"name": ANSWER, "answer_any": [self.answer, *self.aliases]})
        out.append({"neutral": ["search", "open", "find", SUMMARIZE]})
        return out

    def accepts(self, action: Action) -> bool:
        name = action.name
        if name == ANSWER:
            return isinstance(action.arguments, dict) and verify_answer(
                str(action.arguments.get("answer", "")), self.answer, self.aliases).success
        if name == SUMMARIZE:
            return True
        try:
            args = check_arguments(name, action.arguments)
            if name == "search":
                self.browser.search_args(args)
                return True
            if name == "open":
                row, _, _ = self.browser.open_args(args)
                return not self.is_detour("open", row)
            pattern = self.browser.find_args(args)
        except BrowserError:
            return False
        return not self.is_detour("find", self.browser.page, tuple(find_lines(self.corpus, self.browser.page, pattern)))

    # ------------------------------------------------------------------ acting

    def observe(self) -> StepResult:
        """The screen before the first action (no state change)."""
        return StepResult(initial_text(self.task))

    def step(self, action: Action) -> StepResult:
        if action.name == FINISH:
            return StepResult("Episode finished without an answer.", 0.0, True)
        if action.name == INVALID_REPLY:  # a model reply the protocol could not parse: nothing happens
            self.calls += 1
            error = action.arguments.get("error", "") if isinstance(action.arguments, dict) else ""
            return StepResult(f"Error: your reply could not be read as a tool call ({error}). Nothing happened; "
                              "reply with one tool call.", 0.0, self.calls >= self.budget)
        if action.name == ANSWER:
            answer = str(action.arguments.get("answer", "")) if isinstance(action.arguments, dict) else ""
            correct = verify_answer(answer, self.answer, self.aliases).success
            return StepResult(f"Answer submitted: {answer}", 1.0 if correct else 0.0, True)
        if action.name == SUMMARIZE:
            return StepResult(self.memory())
        self.calls += 1
        try:
            view = self.browser.call(action.name, action.arguments)
            self._record(action, view)
            text = view.text
        except BrowserError as e:
            text = f"Error: {e}."
        if self.calls >= self.budget:
            return StepResult(text + f"\n[tool budget of {self.budget} calls used up; episode over]", 0.0, True)
        return StepResult(text)

    def _record(self, action: Action, view: View) -> None:
        if action.name == "search":
            self.surfaced.update(view.listed)
            self._queries.append(str(action.arguments["query"]).strip())
        elif action.name == "open":
            self.opened.add(view.page)
            if view.page not in self._pages:
                self._pages.append(view.page)
        else:
            if view.page in self.evidence:
                self.located.setdefault(view.page, set()).update(self.evidence[view.page].intersection(view.hits))
            for line in view.lines:
                if (view.page, line) not in self._learned:
                    self._learned.append((view.page, line))

    def outcome(self, final_answer: str | None) -> Outcome:
        return verify_answer(final_answer, self.answer, self.aliases)

    def scores(self) -> dict[str, float]:
        """Evidence metrics of the episode so far (recalls over the gold evidence documents)."""
        n = len(self.gold) or 1
        found = sum(1 for r in self.gold if self.evidence[r] and self.evidence[r] <= self.located.get(r, set()))
        return {"evidence_searched": len(self.surfaced.intersection(self.gold)) / n,
                "evidence_recall": len(self.opened.intersection(self.gold)) / n,
                "evidence_found": found / n}

    # ------------------------------------------------------------------ memory

    def memory(self) -> str:
        """A condensed memory of the episode: the question, the facts found so far with their
        sources (lines finds matched that state a fact, for a generated world; every matched
        line otherwise), pages read, recent searches, and the next pages to read (objects of
        facts read on their subject's own page whose pages are unopened)."""
        c = self.corpus
        out = [f"Memory after {self.calls} tool calls.", f"Question: {self.question}", "Facts found (source):"]
        learned = [(r, i) for r, i in self._learned if self._states_fact(r, i)][-_MEMORY_LINES:]
        out += [f"- {c.lines(r)[i].lstrip('* ')} [{c.docid(r)} L{i}]" for r, i in learned] or ["- nothing yet"]
        pages = [f"{c.title(r)} ({c.docid(r)})" for r in self._pages[-_MEMORY_PAGES:]]
        out.append("Pages read: " + ("; ".join(pages) if pages else "none"))
        queries = [f'"{q}"' for q in self._queries[-_MEMORY_QUERIES:]]
        out.append("Recent searches: " + ("; ".join(queries) if queries else "none"))
        leads = self._leads(learned)
        if leads:
            out.append("Still to look up: " + "; ".join(leads))
        return "\n".join(out)

    def _states_fact(self, row: int, line: int) -> bool:
        fb = fact_base(self.corpus)
        if fb is None:
            return True
        return any(int(fb.line[i]) == line for i in fb.in_docs([row]).tolist())

    def _leads(self, learned: list[tuple[int, int]]) -> list[str]:
        fb = fact_base(self.corpus)
        if fb is None:
            return []
        names: list[str] = []
        for row, line in learned:
            for i in fb.in_docs([row]).tolist():
                if int(fb.line[i]) != line or PREDICATES[fb.pred[i]] not in RELATIONS:
                    continue
                subject, obj = int(fb.subject[i]), int(fb.object[i])
                if fb.page[subject] == row and fb.page[obj] not in self.opened and fb.names[obj] not in names:
                    names.append(fb.names[obj])
        return names[:5]
