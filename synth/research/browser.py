"""The offline browser of a research episode: ``search``, ``open`` and ``find`` over one corpus.

The three primitives of the OpenResearcher recipe, with the behaviour agents are trained on:

- ``search {query, topn=10}``: ranked results, each with a rank, title, docid, url and a
  query-biased snippet (the first line holding the most query words);
- ``open {id | url, loc=0, num_lines=25}``: the page from line ``loc``, each line numbered
  (``L12: ...``); ``id`` is a docid shown earlier in the episode, a url, or the rank of a result
  of the last search; opening again with another ``loc`` (``id`` may then be left out) scrolls
  the open page;
- ``find {pattern}``: the lines of the open page that contain ``pattern`` (case-insensitive,
  literal), numbered like the page.

Everything shown is a function of the corpus version and the call: searches go through the
corpus's cached ranking, pages are the stored text split at newlines. Malformed calls raise
:class:`BrowserError`, whose message the environment returns as the observation, so an agent
sees what to fix instead of the episode crashing.

A call may only refer to what exists at that point of the episode: a result rank of the last
search, a docid some earlier output showed (docids are opaque: an agent that uses one it never
saw has made it up), a line of the open page. So a replayed trajectory whose search step was
dropped or moved after the ``open`` that used its results gets an error there, and a corrupted
copy is labelled with the step where it really breaks (urls are readable names, so an agent may
type one it has not seen: opening by url is always allowed).
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Any

from bm25s.stopwords import STOPWORDS_EN

from stores.corpus import Corpus

DEFAULT_TOPN = 10
MAX_TOPN = 20
SCREEN_LINES = 25
MAX_LINES = 100
FIND_SHOWN = 30
SNIPPET_CHARS = 160
MAX_QUERY_CHARS = 500
TOOLS = ("search", "open", "find")
_ARGS = {"search": ("query", "topn"), "open": ("id", "url", "loc", "num_lines"), "find": ("pattern",)}
_WORD = re.compile(r"\w\w+")
_STOP = frozenset(STOPWORDS_EN)


class BrowserError(ValueError):
    """A malformed or impossible call; the message says what to change."""


@dataclass(slots=True)
class View:
    """What one call showed: the text, and which documents and lines it put in front of the agent."""

    text: str
    listed: tuple[int, ...] = ()  # document rows in search results
    page: int | None = None  # the page opened or searched with find
    lines: tuple[int, ...] = ()  # line numbers displayed
    hits: tuple[int, ...] = ()  # lines a find matched (all of them, shown or not)


class Browser:
    """One episode's browser state: the last results, the open page and its cursor."""

    def __init__(self, corpus: Corpus, mode: str = "bm25", screen: int = SCREEN_LINES):
        self.corpus = corpus
        self.mode = mode
        self.screen = screen
        self.results: list[int] = []
        self.page: int | None = None
        self.cursor = 0
        self.shown: set[int] = set()  # documents whose docid an output has shown

    # ------------------------------------------------------------------ calls

    def call(self, name: str, arguments: Any) -> View:
        """Run a tool call; :class:`BrowserError` if it is malformed."""
        args = check_arguments(name, arguments)
        if name == "search":
            return self.search(*self.search_args(args))
        if name == "open":
            return self.open(*self.open_args(args))
        return self.find(self.find_args(args))

    def search_args(self, args: dict[str, Any]) -> tuple[str, int]:
        query, topn = args.get("query"), args.get("topn", DEFAULT_TOPN)
        if not isinstance(query, str) or not query.strip():
            raise BrowserError("search needs a non-empty string 'query'")
        if len(query) > MAX_QUERY_CHARS:
            raise BrowserError(f"'query' is {len(query)} characters; keep it under {MAX_QUERY_CHARS}")
        return query.strip(), _int(topn, "topn", 1, MAX_TOPN)

    def open_args(self, args: dict[str, Any]) -> tuple[int, int, int]:
        """(row, loc, num_lines) of an open call, resolved against the results and open page."""
        target = args.get("id", args.get("url"))
        if target is None:
            if self.page is None:
                raise BrowserError("open needs an 'id' (a docid, a url or a result rank); no page is open to scroll")
            row = self.page
        elif isinstance(target, int) and not isinstance(target, bool):
            if not 1 <= target <= len(self.results):
                shown = f"results 1-{len(self.results)}" if self.results else "no results yet"
                raise BrowserError(f"result rank {target} does not exist ({shown}); open by docid or url otherwise")
            row = self.results[target - 1]
        elif isinstance(target, str) and target.strip():
            found = self.corpus.row(target.strip())
            if found is None:
                raise BrowserError(f"no page with id or url {target!r} in corpus {self.corpus.ref}")
            if found not in self.shown and self.corpus.docid(found) == target.strip():
                raise BrowserError(f"docid {target.strip()!r} has not been shown in this episode; open a search "
                                   "result by its rank or docid, or a page by its url")
            row = found
        else:
            raise BrowserError(f"'id' must be a docid, a url or a result rank, got {target!r}")
        loc = _int(args.get("loc", 0), "loc", 0, None)
        n = len(self.corpus.lines(row))
        if loc >= n:
            raise BrowserError(f"'loc' {loc} is past the end of {self.corpus.docid(row)} (lines 0-{n - 1})")
        return row, loc, _int(args.get("num_lines", self.screen), "num_lines", 1, MAX_LINES)

    def find_args(self, args: dict[str, Any]) -> str:
        pattern = args.get("pattern")
        if not isinstance(pattern, str) or not pattern.strip():
            raise BrowserError("find needs a non-empty string 'pattern'")
        if self.page is None:
            raise BrowserError("no page is open; open a page before find")
        return pattern.strip()

    # ------------------------------------------------------------------ primitives

    def search(self, query: str, topn: int) -> View:
        hits = self.corpus.search(query, topn, self.mode)
        self.results = [row for row, _ in hits]
        self.shown.update(self.results)
        return View(_results(self.corpus, query, topn, self.mode), tuple(self.results))

    def open(self, row: int, loc: int = 0, num_lines: int | None = None) -> View:
        self.page, self.cursor = row, loc
        self.shown.add(row)
        lines = self.corpus.lines(row)
        stop = min(len(lines), loc + (num_lines or self.screen))
        c = self.corpus
        out = [f"[{c.docid(row)}] {c.title(row)}", f"URL: {c.url(row)}", f"Lines {loc}-{stop - 1} of {len(lines)}:"]
        out += [f"L{i}: {lines[i]}" for i in range(loc, stop)]
        if stop < len(lines):
            out.append(f"[{len(lines) - stop} more lines: open with loc={stop} to read on, or use find]")
        self.cursor = stop
        return View("\n".join(out), page=row, lines=tuple(range(loc, stop)))

    def find(self, pattern: str) -> View:
        row = self.page
        hits = find_lines(self.corpus, row, pattern)
        c = self.corpus
        head = f'Find "{pattern}" in [{c.docid(row)}] {c.title(row)}:'
        if not hits:
            return View(f"{head} no matches.", page=row)
        shown = hits[:FIND_SHOWN]
        lines = c.lines(row)
        more = f"\n[{len(hits) - FIND_SHOWN} more matches not shown]" if len(hits) > FIND_SHOWN else ""
        text = f"{head} {len(hits)} match{'es' if len(hits) > 1 else ''}\n" + \
            "\n".join(f"L{i}: {lines[i]}" for i in shown) + more
        return View(text, page=row, lines=tuple(shown), hits=tuple(hits))


def check_arguments(name: str, arguments: Any) -> dict[str, Any]:
    """The arguments of a browser call as a dict with known keys only."""
    if name not in _ARGS:
        raise BrowserError(f"unknown tool {name!r}; tools are search, open, find, answer")
    if not isinstance(arguments, dict):
        raise BrowserError(f"{name} arguments must be a JSON object, got {type(arguments).__name__}")
    unknown = sorted(set(arguments) - set(_ARGS[name]))
    if unknown:
        raise BrowserError(f"unknown argument(s) {unknown} for {name}; it takes {list(_ARGS[name])}")
    return arguments


def find_lines(corpus: Corpus, row: int, pattern: str) -> list[int]:
    """Line numbers of a page containing ``pattern`` (case-insensitive, literal)."""
    needle = pattern.lower()
    return [i for i, line in enumerate(_lower_lines(corpus, row)) if needle in line]


@functools.lru_cache(maxsize=8192)
def _lower_lines(corpus: Corpus, row: int) -> tuple[str, ...]:
    return tuple(line.lower() for line in corpus.lines(row))


@functools.lru_cache(maxsize=16384)
def _results(corpus: Corpus, query: str, topn: int, mode: str) -> str:
    """The rendered result list (cached: the same searches recur across a run's episodes)."""
    hits = corpus.search(query, topn, mode)
    if not hits:
        return f'No results for "{query}".'
    out = [f'Results for "{query}" (top {len(hits)} of {corpus.size:,} documents):']
    terms = query_terms(query)
    for rank, (row, _) in enumerate(hits, 1):
        out.append(f"[{rank}] {corpus.title(row)} ({corpus.docid(row)})\n    {corpus.url(row)}\n    {snippet(corpus, row, terms)}")
    return "\n".join(out)


def query_terms(query: str) -> list[str]:
    """The words of a query that snippets look for (stopwords left out)."""
    return [t for t in _WORD.findall(query.lower()) if t not in _STOP]


def snippet(corpus: Corpus, row: int, terms: list[str]) -> str:
    """The first line holding the most distinct query words (the first line when none does)."""
    line = corpus.lines(row)[snippet_line(corpus, row, terms)]
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 3] + "..."


def snippet_line(corpus: Corpus, row: int, terms: list[str]) -> int:
    """The line a result's snippet shows."""
    text, starts = _lower_text(corpus, row)
    found: dict[int, set[str]] = {}
    for term in terms:
        at = text.find(term)
        while at != -1:
            found.setdefault(bisect.bisect_right(starts, at) - 1, set()).add(term)
            at = text.find(term, at + len(term))
    lines = corpus.lines(row)
    return min(((-len(words), i) for i, words in found.items() if not lines[i].startswith("==")), default=(0, 0))[1]


@functools.lru_cache(maxsize=8192)
def _lower_text(corpus: Corpus, row: int) -> tuple[str, list[int]]:
    """The page lowercased as one string, with the offset where each line starts."""
    lines = corpus.lines(row)
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return "\n".join(lines).lower(), starts


def _int(value: Any, name: str, lo: int, hi: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi is not None and value > hi):
        bound = f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"
        raise BrowserError(f"'{name}' must be an integer {bound}, got {value!r}")
    return value
