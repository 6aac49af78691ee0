"""A scripted researcher's plan as it is written: (thought, action) pairs run on a private
browser over the same corpus version, so the plan sees exactly what the env will show.

Every scripted tier writes through a :class:`Script`: it keeps what the episode has shown
(which results listed which page at which rank, which lines finds matched, which queries were
typed), refuses to type a query twice, opens a page by the docid an output showed or else by
its url, scrolls the open page without naming it, and inserts ``context.summarize`` every
``every`` tool calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stores.corpus import Corpus
from stores.schema import Action, Policy
from synth.research.browser import Browser, View
from synth.research.env import ANSWER, SUMMARIZE, ResearchEnv
from synth.research.phrasing import Voice
from synth.research.questions import SEARCH_TOPN


class ScriptTeacher:
    """Plays a plan made up front (the env still checks every step)."""

    def __init__(self, policy: Policy, plan: list[tuple[str, Action]]):
        self.policy = policy
        self.plan = plan

    def act(self, env: ResearchEnv, history: list) -> tuple[str, Action]:
        return self.plan[len(history)]


def query_key(query: str) -> str:
    """Queries that differ only in case and spacing are the same query."""
    return " ".join(query.lower().split())


class PlanCut(Exception):  # noqa: N818 - a control signal, not an error
    """Raised by :meth:`Script.say` at ``stop_at``: another writer takes the plan over."""

    def __init__(self, steps: int):
        super().__init__(f"plan cut after {steps} steps")
        self.steps = steps


@dataclass
class Script:
    """A plan being written, with what its browser has shown so far."""

    corpus: Corpus
    rules: ResearchEnv  # a fresh env of the task: its detour rules, never stepped
    voice: Voice
    every: int | None = None
    steps: list[tuple[str, Action]] = field(default_factory=list)
    calls: int = 0
    note: str = ""  # what the last observation taught, said at the start of the next thought
    seen: dict[int, tuple[str, int]] = field(default_factory=dict)  # row -> (query, rank) of first listing
    matched: dict[int, set[int]] = field(default_factory=dict)  # row -> lines matched by finds
    queries: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # pages opened, first time order
    lines_seen: dict[int, set[int]] = field(default_factory=dict)  # row -> lines an output displayed
    stop_at: int | None = None  # cut the plan (PlanCut) before this many steps or before its answer

    def __post_init__(self) -> None:
        env = self.rules.task.env
        self.browser = Browser(self.corpus, env["search"], env["screen_lines"])
        self._typed: set[str] = set()
        self._screens: list[str] = [self.rules.question]  # what the agent has seen: question and outputs

    def say(self, thought: str, action: Action) -> View | None:
        if self.stop_at is not None and (len(self.steps) >= self.stop_at or action.name == ANSWER):
            raise PlanCut(len(self.steps))
        self.steps.append(((self.note + " " + thought).strip(), action))
        self.note = ""
        if action.name in (ANSWER, SUMMARIZE):
            return None
        view = self.browser.call(action.name, action.arguments)
        self._screens.append(view.text)
        if view.page is not None:
            self.lines_seen.setdefault(view.page, set()).update(view.lines)
        self.calls += 1
        if action.name == "open" and view.page not in self.opened:
            self.opened.append(view.page)
        if self.every and self.calls % self.every == 0:
            self.steps.append((self.voice.summarize(self.calls), Action(SUMMARIZE, {})))
        return view

    def saw(self, text: str) -> bool:
        """Whether ``text`` was in the question or in an output the episode has shown."""
        return any(text in screen for screen in self._screens)

    def fresh(self, query: str) -> bool:
        """Whether ``query`` has not been typed yet in this episode."""
        return query_key(query) not in self._typed

    def search(self, query: str, thought: str) -> View:
        if not self.fresh(query):
            raise RuntimeError(f"the plan typed {query!r} twice; callers check fresh() first")
        self._typed.add(query_key(query))
        view = self.say(thought, Action("search", {"query": query, "topn": SEARCH_TOPN}))
        self.queries.append(query)
        for rank, row in enumerate(view.listed, 1):
            self.seen.setdefault(row, (query, rank))
        return view

    def open(self, row: int, thought: str, loc: int = 0, num_lines: int | None = None, by_url: bool = False) -> View:
        """Open ``row`` by the docid an output showed, else (or when ``by_url``) by its url."""
        target = self.corpus.docid(row) if row in self.browser.shown and not by_url else self.corpus.url(row)
        args: dict[str, Any] = {"id": target}
        if loc:
            args["loc"] = loc
        if num_lines:
            args["num_lines"] = num_lines
        return self.say(thought, Action("open", args))

    def scroll(self, loc: int, thought: str) -> View:
        """Read the open page on from line ``loc`` (an open without an id)."""
        return self.say(thought, Action("open", {"loc": loc}))

    def find(self, pattern: str, thought: str) -> View:
        view = self.say(thought, Action("find", {"pattern": pattern}))
        self.matched.setdefault(view.page, set()).update(view.hits)
        return view

    def rank(self, row: int) -> int | None:
        """The rank of ``row`` in the last results, if listed there."""
        results = self.browser.results
        return results.index(row) + 1 if row in results else None

    def where(self, row: int, name_it: bool = True) -> str:
        """How a thought refers to a page about to be opened (the last results first)."""
        c = self.corpus
        rank = self.rank(row)
        if rank is not None:
            query = self.queries[-1] if self.queries else None
            return self.voice.where(rank, query, c.title(row), c.docid(row), name_it)
        if row in self.seen:
            query, rank = self.seen[row]
            return self.voice.where(rank, query, c.title(row), c.docid(row), name_it)
        return self.voice.where(None, None, c.title(row), c.docid(row), name_it)

    def cite(self, row: int, line: int) -> str:
        return self.voice.cite(self.corpus.docid(row), line, self.corpus.lines(row)[line])
