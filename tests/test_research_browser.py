"""The browser (search, open, find) and the research env's checks, metrics and memory."""

import re

import pytest

from stores.corpus import open_corpus
from stores.schema import Action
from synth.research.browser import (
    FIND_SHOWN,
    MAX_TOPN,
    SCREEN_LINES,
    Browser,
    BrowserError,
    find_lines,
)
from synth.research.facts import LIST, fact_base
from tests.research_world import family, params, world


@pytest.fixture(scope="module")
def corpus():
    return open_corpus(*world())


def _task(seed=4, difficulty=3, **extra):
    return family().make_task(seed, difficulty, params(**extra))


def _env(task):
    return family().make_env(task, params())


def _long_page(corpus):
    return next(r for r in range(corpus.size) if len(corpus.lines(r)) > SCREEN_LINES + 5)


# ---------------------------------------------------------------------------- browser


def test_search_lists_ranked_results_with_snippets(corpus):
    b = Browser(corpus)
    title = corpus.title(11)
    view = b.search(title, 5)
    lines = view.text.splitlines()
    assert lines[0] == f'Results for "{title}" (top 5 of {corpus.size:,} documents):'
    assert lines[1] == f"[1] {title} ({corpus.docid(11)})" and lines[2].strip() == corpus.url(11)
    assert view.listed[0] == 11 and len(view.listed) == 5 and b.results == list(view.listed)
    assert view.text == Browser(corpus).search(title, 5).text  # deterministic
    assert Browser(corpus).search("zzzqxv", 5).text == 'No results for "zzzqxv".'
    snippet = lines[3].strip()
    assert snippet in corpus.lines(11) or snippet.endswith("...")


def test_open_numbers_lines_and_scrolls_by_cursor(corpus):
    b = Browser(corpus)
    row = _long_page(corpus)
    lines = corpus.lines(row)
    first = b.call("open", {"id": corpus.url(row)})
    shown = first.text.splitlines()
    assert shown[0] == f"[{corpus.docid(row)}] {corpus.title(row)}" and shown[1] == f"URL: {corpus.url(row)}"
    assert shown[3:3 + SCREEN_LINES] == [f"L{i}: {lines[i]}" for i in range(SCREEN_LINES)]
    assert f"open with loc={SCREEN_LINES}" in shown[-1] and first.lines == tuple(range(SCREEN_LINES))
    second = b.call("open", {"loc": SCREEN_LINES, "num_lines": 3})  # no id: scroll the open page
    assert second.text.splitlines()[3:6] == [f"L{i}: {lines[i]}" for i in range(SCREEN_LINES, SCREEN_LINES + 3)]
    by_url = Browser(corpus).call("open", {"url": corpus.url(row)})
    assert by_url.text == first.text
    assert b.call("open", {"id": corpus.docid(row)}).text == first.text  # its docid was shown by the open
    b.search(corpus.title(row), 3)
    assert b.call("open", {"id": 1}).page == b.results[0]  # a result rank
    assert b.call("open", {"id": corpus.docid(b.results[2])}).page == b.results[2]  # a docid the results showed


def test_calls_may_only_refer_to_what_the_episode_has_shown(corpus):
    """A rank before any search, a docid no output showed, a line past the page's end: errors,
    so a replayed trajectory with its search dropped fails where it uses the search."""
    row = _long_page(corpus)
    b = Browser(corpus)
    with pytest.raises(BrowserError, match=re.escape(f"docid {corpus.docid(row)!r} has not been shown")):
        b.call("open", {"id": corpus.docid(row)})
    with pytest.raises(BrowserError, match=re.escape("result rank 1 does not exist (no results yet)")):
        b.call("open", {"id": 1})
    b.call("search", {"query": corpus.title(row), "topn": 2})
    with pytest.raises(BrowserError, match=re.escape("result rank 3 does not exist (results 1-2)")):
        b.call("open", {"id": 3})
    b.call("open", {"id": 1})
    with pytest.raises(BrowserError, match="past the end"):
        b.call("open", {"loc": len(corpus.lines(b.page))})


def test_find_reports_true_line_numbers(corpus):
    b = Browser(corpus)
    row = _long_page(corpus)
    b.open(row)
    hits = find_lines(corpus, row, "IN")
    view = b.call("find", {"pattern": "IN"})
    assert hits == [i for i, line in enumerate(corpus.lines(row)) if "in" in line.lower()]
    assert view.hits == tuple(hits)
    for i in hits[:FIND_SHOWN]:
        assert f"L{i}: {corpus.lines(row)[i]}" in view.text.splitlines()
    assert b.call("find", {"pattern": "no such words here"}).text.endswith("no matches.")


@pytest.mark.parametrize("name,args,message", [
    ("browse", {}, "unknown tool 'browse'"),
    ("search", {"q": "x"}, "unknown argument(s) ['q'] for search"),
    ("search", {"query": " "}, "non-empty string 'query'"),
    ("search", {"query": "x", "topn": MAX_TOPN + 1}, f"'topn' must be an integer from 1 to {MAX_TOPN}"),
    ("search", {"query": "x", "topn": True}, "'topn' must be an integer"),
    ("open", {}, "no page is open to scroll"),
    ("open", {"id": "doc-9999999"}, "no page with id or url 'doc-9999999'"),
    ("open", {"id": 3}, "result rank 3 does not exist (no results yet)"),
    ("open", {"id": ["x"]}, "'id' must be a docid, a url or a result rank"),
    ("open", {"id": "doc-0000001"}, "docid 'doc-0000001' has not been shown in this episode"),
    ("find", {"pattern": "x"}, "no page is open; open a page before find"),
    ("find", [], "arguments must be a JSON object"),
])
def test_malformed_calls_raise_what_to_fix(corpus, name, args, message):
    with pytest.raises(BrowserError, match=re.escape(message)):
        Browser(corpus).call(name, args)


# ---------------------------------------------------------------------------- env


def test_errors_are_observations_and_the_budget_ends_the_episode():
    task = _task(max_tool_calls=6)
    env = _env(task)
    assert env.step(Action("find", {"pattern": "x"})).text.startswith("Error: no page is open")
    assert "unknown tool 'browse'" in env.step(Action("browse", {})).text
    assert not env.accepts(Action("browse", {})) and not env.accepts(Action("search", {"query": ""}))
    results = [env.step(Action("search", {"query": "born"})) for _ in range(4)]
    assert [r.done for r in results] == [False, False, False, True] and "budget of 6 calls" in results[-1].text
    assert env.outcome(None).success is False and "no answer given" in env.outcome(None).detail
    assert env.step(Action("finish", {})).done
    invalid = _env(task).step(Action("invalid_reply", {"error": "no tool call found"}))
    assert "could not be read as a tool call (no tool call found)" in invalid.text and not invalid.done


def test_observe_is_the_start_screen_and_changes_nothing():
    task = _task()
    env = _env(task)
    first = env.observe()
    assert task.env["corpus"]["ref"] in first.text and "No page is open" in first.text
    assert env.observe().text == first.text and env.calls == 0 and env.browser.page is None


def test_progress_neutral_and_detours():
    task = _task(seed=6, difficulty=4)
    ref = task.reference
    env = _env(task)
    corpus = env.corpus
    gold = [corpus.row(d) for d in ref["gold_docids"]]
    page = gold[0]
    acc = env.accepted_actions()
    assert {"name": "search", "retrieves_any": ref["gold_docids"]} in acc
    assert {"name": "answer", "answer_any": [ref["answer"], *ref["aliases"]]} in acc
    assert env.accepts(Action("search", {"query": "anything at all"}))  # exploring is neutral
    env.step(Action("open", {"id": corpus.url(page)}))
    lines = sorted(env.evidence[page])
    find = next(a for a in env.accepted_actions() if a["name"] == "find")
    assert find == {"name": "find", "docid": corpus.docid(page), "lines_any": lines}
    pattern = corpus.lines(page)[lines[0]]
    assert env.accepts(Action("find", {"pattern": pattern}))
    env.step(Action("find", {"pattern": pattern}))
    assert env.located[page] >= {lines[0]}
    assert ref["traps"]
    for trap in ref["traps"]:
        assert not env.accepts(Action("open", {"id": corpus.url(corpus.row(trap))}))
    assert not env.accepts(Action("answer", {"answer": "certainly not this"}))
    assert env.accepts(Action("answer", {"answer": ref["answer"].upper()}))
    # a find on a non-evidence page that hits a line stating a question fact about an entity the
    # question does not involve (or a false one) is a detour ...
    other = next(r for r in range(corpus.size) if r not in env.evidence and env.misleading_lines(r))
    line = min(env.misleading_lines(other))
    env.step(Action("open", {"id": corpus.url(other)}))
    assert not env.accepts(Action("find", {"pattern": corpus.lines(other)[line]}))
    harmless = next((w for w in ("library", "award", "festival", "zzzq") if not
                     env.misleading_lines(other) & set(find_lines(corpus, other, w))), None)
    assert env.accepts(Action("find", {"pattern": harmless}))



def test_confirming_a_fact_on_another_page_is_not_a_detour():
    """A true statement about the question's own entity on a page that is not evidence (the
    object's listing confirming a gold fact from the other side) may be read there."""
    fb = fact_base(open_corpus(*world()))
    confirmed = 0
    for seed in range(40):
        task = _task(seed=seed, difficulty=2)
        env, corpus = _env(task), _env(task).corpus
        for item in task.reference["evidence"]:
            subject = fb.by_name[item["subject"]]
            rows = fb.statements(subject, item["relation"])
            for i in rows[fb.source[rows] == LIST]:
                page, line = int(fb.doc[i]), int(fb.line[i])
                if page in env.evidence:
                    continue
                pattern = corpus.lines(page)[line]  # the listing line itself, about the question's entity
                env.step(Action("open", {"id": corpus.url(page)}))
                assert env.accepts(Action("find", {"pattern": pattern})), (task.id, pattern)
                confirmed += 1
                break
    assert confirmed >= 10


def test_evidence_metrics_count_searched_opened_and_found():
    task = _task(seed=8, difficulty=2)
    env = _env(task)
    corpus = env.corpus
    gold = [corpus.row(d) for d in task.reference["gold_docids"]]
    assert env.scores() == {"evidence_searched": 0.0, "evidence_recall": 0.0, "evidence_found": 0.0}
    env.step(Action("search", {"query": corpus.title(gold[0])}))
    env.step(Action("open", {"id": corpus.url(gold[0])}))
    for line in sorted(env.evidence[gold[0]]):
        env.step(Action("find", {"pattern": corpus.lines(gold[0])[line]}))
    n = len(gold)
    scores = env.scores()
    assert scores["evidence_recall"] == 1 / n and scores["evidence_found"] == 1 / n
    assert scores["evidence_searched"] >= 1 / n


def test_context_memory_lists_what_finds_showed():
    task = _task(seed=9, difficulty=2)
    env = _env(task)
    corpus = env.corpus
    row = corpus.row(task.reference["gold_docids"][0])
    env.step(Action("search", {"query": corpus.title(row)}))
    env.step(Action("open", {"id": corpus.url(row)}))
    line = sorted(env.evidence[row])[0]
    env.step(Action("find", {"pattern": corpus.lines(row)[line]}))
    memory = env.step(Action("context.summarize", {})).text
    assert memory.startswith("Memory after 3 tool calls.") and task.reference["question"] in memory
    assert f"- {corpus.lines(row)[line].lstrip('* ')} [{corpus.docid(row)} L{line}]" in memory
    assert "Facts found (source):" in memory
    assert f"Pages read: {corpus.title(row)} ({corpus.docid(row)})" in memory
    assert f'Recent searches: "{corpus.title(row)}"' in memory
    assert env.calls == 3  # summarizing is not a tool call
