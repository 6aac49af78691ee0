"""The ``search`` app: the search itself (matching, sorting, filtering, paging), task types per
level, goals named by position, the state-based check on hand-built states, bookmarks and the
blocking dialog, difficulty levers and instruction variety. (The generic conformance runs for
every app in test_gui_apps.py.)"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter

import pytest

from stores.schema import Action
from synth.gui.apps.search import LEVELS, ORDINALS, SORT_WORDS, date_aliases, results
from synth.gui.policies import Agent
from tests.gui_app import AppUnderTest, el, press

APP = AppUnderTest("search")
family, task, env_of, check = APP.family, APP.task, APP.env_of, APP.check


def first(kind: str, d: int):
    return next(t for s in range(400) if (t := task(s, d)).reference["goal"]["kind"] == kind)


def topic_of(t) -> str:
    return t.reference["goal"]["view"]["query"]


# ---------------------------------------------------------------------------- the search


def test_results_match_every_query_word_and_sort_and_filter():
    model = task(0, 4).env["model"]
    topic = topic_of(task(0, 4))
    hits = results(model, topic, "Relevance", [])
    assert hits and all(set(topic.split()) <= set((h["title"] + " " + h["topic"]).casefold().split()) | set(h["topic"].split())
                        for h in hits)  # fmt: skip
    assert [h["rank"] for h in hits] == sorted(h["rank"] for h in hits)
    assert results(model, topic.upper(), "Relevance", []) == hits  # case does not matter
    assert results(model, "", "Relevance", []) == [] and results(model, "zzz", "Relevance", []) == []
    newest = results(model, topic, "Newest first", [])
    assert [h["date"] for h in newest] == sorted((h["date"] for h in hits), reverse=True)
    assert [h["date"] for h in results(model, topic, "Oldest first", [])] == sorted(h["date"] for h in hits)
    assert [h["rating"] for h in results(model, topic, "Highest rated", [])] == sorted((h["rating"] for h in hits), reverse=True)
    videos = results(model, topic, "Relevance", ["Video"])
    assert videos == [h for h in hits if h["type"] == "Video"]
    word = topic.split()[0]  # one word of the topic also finds its near topic ("solar" -> solar batteries)
    assert len(results(model, word, "Relevance", [])) > len(hits)


# ---------------------------------------------------------------------------- tasks per level


@pytest.mark.parametrize("d", sorted(LEVELS))
def test_each_level_draws_exactly_its_task_types(d):
    kinds = Counter(task(s, d).reference["goal"]["kind"] for s in range(80))
    assert set(kinds) == set(LEVELS[d]["kinds"])


def test_a_target_named_by_position_is_that_result():
    """'the second result from example.org' in the instruction is the bookmarked result."""
    for s in range(60):
        t = task(s, 3)
        goal = t.reference["goal"]
        if goal["kind"] != "bookmark_ordinal":
            continue
        m = re.search(r"the (\w+) result from ([a-z.]*[a-z])", t.instruction)
        k, domain = ORDINALS.index(m.group(1)), m.group(2)
        hits = results(t.env["model"], goal["query"], goal["sort"], [])
        from_site = [h["id"] for h in hits if h["domain"] == domain]
        assert goal["bookmarks"][-1]["id"] == from_site[k]
        assert SORT_WORDS[goal["sort"]] in t.instruction and goal["bookmarks"][-1]["folder"] in t.instruction


def test_d5_starts_from_a_stale_search_and_targets_page_two():
    t = first("bookmark_page2", 5)
    model, goal = t.env["model"], t.reference["goal"]
    assert model["query"] and model["query"] != goal["query"] and len(model["types"]) == 1
    assert goal["types"] == []
    hits = results(model, goal["query"], goal["sort"], [])
    assert model["per_page"] <= [h["id"] for h in hits].index(goal["bookmarks"][-1]["id"]) < 2 * model["per_page"]
    assert len(model["bookmarks"]) == 2 and goal["bookmarks"][:2] == model["bookmarks"]


# ---------------------------------------------------------------------------- the verifier


def test_the_check_covers_query_sort_filter_and_bookmarks():
    t = first("bookmark_filtered", 4)
    goal = t.reference["goal"]
    model = copy.deepcopy(t.env["model"])
    model |= {"query": goal["query"].upper(), "sort": goal["sort"], "types": list(goal["types"]),
              "bookmarks": copy.deepcopy(goal["bookmarks"])}  # fmt: skip
    assert check(t, model)[0]
    model["bookmarks"][-1]["note"] = "  " + goal["bookmarks"][-1]["note"].upper() + " "
    assert check(t, model)[0]  # notes compare without case and spacing
    for change, word in (({"sort": "Relevance"}, "sorted by"), ({"types": []}, "type filter"),
                         ({"query": goal["query"] + " tips"}, "the search is")):  # fmt: skip
        ok, detail = check(t, model | change)
        assert not ok and word in detail
    wrong_folder = copy.deepcopy(model)
    wrong_folder["bookmarks"][-1]["folder"] = "Elsewhere"
    extra = copy.deepcopy(model)
    extra["bookmarks"].append({"id": model["results"][0]["id"], "folder": "Work", "note": ""})
    for bad in (wrong_folder, extra):
        ok, detail = check(t, bad)
        assert not ok and "bookmarks" in detail


def test_dates_are_answered_in_several_formats():
    t = first("newest_date", 3)
    goal = t.reference["goal"]
    iso = goal["answer"]["text"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso)
    for text in date_aliases(iso):
        assert check(t, t.env["model"], text)[0]
    assert not check(t, t.env["model"], goal["wrong"][0])[0]
    assert date_aliases("2024-03-05")[1:3] == ["5 March 2024", "March 5, 2024"]


# ---------------------------------------------------------------------------- behaviour


def test_search_filter_and_paging_on_the_results_page():
    t = first("bookmark_page2", 5)
    env = env_of(t)
    goal = t.reference["goal"]
    env.step(Action("type", {"element": el(env, "Search", "textbox").id, "text": goal["query"]}))
    assert env.model["query"] != goal["query"]  # typing alone does not search
    env.step(Action("press_key", {"key": "Enter"}))
    assert env.model["query"] == goal["query"] and env.model["page"] == 1
    stale = env.model["types"][0]
    label = next(e.name for e in env.view().elements if e.role == "checkbox" and e.key == f"type:{stale}")
    press(env, label, "checkbox")
    assert env.model["types"] == []
    n = len(results(env.model, goal["query"], env.model["sort"], []))
    assert el(env, f"{n} results for '{goal['query']}'")
    area = env.view().nodes["results"]
    assert area.scroll_max > 0 and not env.view().nodes["next"].visible  # the pager is below the fold
    env.step(Action("scroll", {"direction": "down", "amount": 10, "element": area.id}))
    press(env, "Next")
    second = results(env.model, goal["query"], env.model["sort"], [])[env.model["per_page"]]
    assert env.model["page"] == 2 and next(e for e in env.view().elements if e.role == "listitem").key == f"res:{second['id']}"
    press(env, "Videos", "checkbox")
    assert env.model["page"] == 1  # a new filter starts again at page 1


def test_bookmarking_goes_through_a_blocking_dialog_and_can_be_undone():
    t = first("bookmark_title", 1)
    env = env_of(t)
    target = t.reference["goal"]["bookmarks"][-1]["id"]
    title = next(r["title"] for r in env.model["results"] if r["id"] == target)
    env.step(Action("click", {"element": next(e.id for e in env.view().elements if e.key == f"res:{target}")}))
    assert el(env, title, "heading")
    press(env, "Bookmark")
    assert env.view().top.role == "dialog"
    assert "blocked by the dialog" in env.step(Action("click", {"x": 2, "y": 2})).text
    env.step(Action("select", {"element": el(env, "Folder").id, "option": env.model["folders"][2]}))
    env.step(Action("type", {"element": el(env, "Note").id, "text": "later"}))
    press(env, "Save")
    assert env.model["bookmarks"] == [{"id": target, "folder": env.model["folders"][2], "note": "later"}]
    assert not env.outcome(None).success  # the task wanted the default folder and no note
    press(env, "Remove bookmark")
    assert env.model["bookmarks"] == []
    press(env, "Bookmark")
    press(env, "Save")
    env.step(Action("finish", {}))
    assert env.outcome(None).success


def test_a_saved_bookmark_removed_by_mistake_is_restored_through_its_own_topic():
    t = first("bookmark_filtered", 4)
    env = env_of(t)
    press(env, "Saved (2)")
    gone = env.model["bookmarks"][0]
    env.step(Action("click", {"element": next(e.id for e in env.view().elements if e.key == f"unsave:{gone['id']}")}))
    assert [b["id"] for b in env.model["bookmarks"]] == [t.env["model"]["bookmarks"][1]["id"]]
    agent, seen = Agent(family().app, random.Random(0)), []
    while not env.done and len(seen) < 40:
        _, action = agent.step(env)
        assert env.accepts(action)
        env.step(action)
        seen.append(env.model["query"])
    topic = next(r["topic"] for r in env.model["results"] if r["id"] == gone["id"])
    assert topic in seen and env.outcome(None).success
    assert gone in env.model["bookmarks"]


# ---------------------------------------------------------------------------- levers and variety


def test_difficulty_grows_the_corpus_and_the_paths():
    sizes = {d: sum(len(task(s, d).env["model"]["results"]) for s in range(20)) / 20 for d in LEVELS}
    assert sizes[1] < sizes[2] < sizes[3] < sizes[4] < sizes[5]
    assert all(task(s, 1).env["model"]["query"] for s in range(10))  # d1 starts on the results
    assert not any(task(s, 2).env["model"]["query"] for s in range(10))


def test_instructions_vary_and_tasks_are_distinct():
    texts = [task(s, 1).instruction for s in range(300)]
    assert len(set(texts)) >= 200  # "which result about X is rated best" repeats per topic
    assert len({task(s, 1).id for s in range(300)}) >= 285
    openings = Counter(re.sub(r"'.*", "", task(s, d).instruction)[:18] for d in LEVELS for s in range(60))
    assert len(openings) >= 15
