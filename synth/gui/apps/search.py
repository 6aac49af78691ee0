"""The ``search`` app: a search engine's results page, filters, result pages and bookmarks.

Screens: the results page (a query box with Search, a filter sidebar with type checkboxes and
a sort dropdown, the results in a scroll area that ends with the pager), a result page
(source, type, date, author, rating, snippet; Bookmark / Remove bookmark), a blocking "Save
bookmark" dialog (folder dropdown, note field) and the saved bookmarks (each with Remove).
Search is real: a result matches when every query word is in its title or topic, so a
half-typed or wrong query shows other results. Tasks ask to search, sort, filter and
bookmark an item named by title or by position ("the second result from example.org"), or
to answer from what the page shows ("Which result about X has the highest rating?").
Success is state-based: the committed query, sort and filters the task names, the set of
bookmarks with their folders and notes, and the answer.

====  ========================================================  =============================
 d    tasks                                                     results and distractors
====  ========================================================  =============================
 1    bookmark a shown result by title; its author; the best    3 topics x 4-5, query shown
      rated result
 2    search then bookmark by title; best rated; count a type   3 x 6-8, safe-search switch
 3    search, sort, bookmark the k-th result from a site into   4 x 9-12, 6 a page, the list
      a folder; count a type; date of the newest of a type      scrolls, near topics
 4    search, filter, sort, bookmark the k-th result with       4 x 12-16, saved bookmarks
      folder and note; author or date of the newest of a type
 5    as d4 from a stale query and a wrong filter, the target   5 x 16-20, 8 a page
      on page 2; author of the newest of a type
====  ========================================================  =============================
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from synth.gui.actions import same_text
from synth.gui.app import Answer, App, Back, Click, Enter, Intent, Select, Type, register_app
from synth.gui.apps.form import FIRST, LAST
from synth.gui.apps.records import check_answer, count_aliases
from synth.gui.apps.shop import ask, committed, wide
from synth.gui.env import PlanError
from synth.gui.phrasing import must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    checkbox,
    column,
    combobox,
    container,
    dialog,
    heading,
    label,
    listitem,
    row,
    scrollarea,
    split,
    switch,
    textbox,
    window,
)

ENGINES = ("Seekr", "Findly", "LookOut", "Quarry", "Scout", "Trawl")
TOPICS = (("solar panels", "solar batteries"), ("electric bikes", "electric scooters"), ("sourdough bread", "rye bread"),
          ("heat pumps", "heat pump dryers"), ("home composting", "worm composting"), ("marathon training", "trail running"),
          ("rainwater harvesting", "greywater recycling"), ("houseplant care", "succulent care"),
          ("night photography", "street photography"), ("tiny houses", "shipping container homes"),
          ("urban beekeeping", "backyard chickens"), ("coffee roasting", "cold brew coffee"),
          ("language learning", "sign language"), ("3d printing", "laser cutting"),
          ("bird watching", "bird feeders"), ("board games", "tabletop miniatures"))  # fmt: skip
TITLES = ("{T}: a beginner's guide", "Everything you need to know about {t}", "{T} explained in ten minutes",
          "The real cost of {t}", "Five mistakes people make with {t}", "Is {t} worth it in {y}?",
          "{T}: myths and facts", "A year of {t}: what I learned", "The complete {t} checklist",
          "{T} for small spaces", "Expert answers on {t}", "{T} on a budget", "What nobody tells you about {t}",
          "{T}: common questions answered", "Getting started with {t}", "{T} in {y}: what changed",
          "Comparing the best {t} options", "Field notes on {t}", "{T} step by step", "Why {t} took off",
          "Ask the community: {t} tips", "The science behind {t}")  # fmt: skip
TYPES = {"Article": ("example.org", "example.com", "blog.example.org", "guides.example.io", "wiki.example.net"),
         "News": ("news.example.com", "daily.example.com", "example.net"),
         "Video": ("video.example.net", "tube.example.com"), "Forum": ("forum.example.org", "ask.example.net")}  # fmt: skip
PLURAL = {"Article": "articles", "News": "news stories", "Video": "videos", "Forum": "forum threads"}
SNIPPETS = ("A practical look at {t}: costs, trade-offs and what to expect.", "We tried {t} for a season and kept notes.",
            "Readers share what worked for them with {t}.", "New figures on {t} and what they mean for you.",
            "From first steps to advanced tricks in {t}.", "Why so many people are talking about {t} this year.")  # fmt: skip
SORTS = ("Relevance", "Newest first", "Oldest first", "Highest rated")
ONE = {"Article": "article", "News": "news story", "Video": "video", "Forum": "forum thread"}
SORT_WORDS = {"Newest first": "newest first", "Oldest first": "oldest first", "Highest rated": "highest rating"}
FOLDERS = ("Reading list", "Research", "Work", "Later", "Recipes", "Ideas")
NOTES = ("read later", "compare prices", "share with Sam", "good overview", "check sources", "for the workshop")
ORDINALS = ("first", "second", "third", "fourth")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip

LEVELS: dict[int, dict[str, Any]] = {
    1: {"topics": 3, "per_topic": (4, 5), "per_page": 8, "list_h": None, "extras": False, "preset": True,
        "kinds": ("bookmark_title", "author", "top_rated")},
    2: {"topics": 3, "per_topic": (6, 8), "per_page": 8, "list_h": None, "extras": True, "preset": False,
        "kinds": ("find_bookmark", "top_rated", "count_type")},
    3: {"topics": 4, "per_topic": (9, 12), "per_page": 6, "list_h": 270, "extras": True, "preset": False,
        "kinds": ("bookmark_ordinal", "count_type", "newest_date")},
    4: {"topics": 4, "per_topic": (12, 16), "per_page": 6, "list_h": 270, "extras": True, "preset": False,
        "saved": True, "kinds": ("bookmark_filtered", "newest_author", "newest_date")},
    5: {"topics": 5, "per_topic": (16, 20), "per_page": 8, "list_h": 300, "extras": True, "preset": False,
        "saved": True, "stale": True, "kinds": ("bookmark_page2", "newest_author")},
}  # fmt: skip

FIRST_DAY = date(2019, 1, 1)
_WORD = re.compile(r"[a-z0-9]+")


# ---------------------------------------------------------------------------- the search itself


@lru_cache(maxsize=8192)
def words(text: str) -> frozenset[str]:
    """The words of a title or query (cached: every render and plan searches again)."""
    return frozenset(_WORD.findall(text.casefold()))


def results(model: dict[str, Any], query: str, sort: str, types: list[str]) -> list[dict[str, Any]]:
    """What the results page lists for a query, sort and type filter (before paging)."""
    want = words(query)
    hits = [r for r in model["results"] if want and want <= words(r["title"] + " " + r["topic"])
            and (not types or r["type"] in types)]  # fmt: skip
    if sort == "Newest first":
        hits.sort(key=lambda r: (r["date"], -r["rank"]), reverse=True)
    elif sort == "Oldest first":
        hits.sort(key=lambda r: (r["date"], r["rank"]))
    elif sort == "Highest rated":
        hits.sort(key=lambda r: (-r["rating"], r["rank"]))
    else:
        hits.sort(key=lambda r: r["rank"])
    return hits


def shown(model: dict[str, Any]) -> list[dict[str, Any]]:
    return results(model, model["query"], model["sort"], model["types"])


def pages(n: int, per_page: int) -> int:
    return max(1, -(-n // per_page))


def rating(r: dict[str, Any]) -> str:
    return f"{r['rating'] / 10:.1f}"


def date_aliases(iso: str) -> list[str]:
    y, m, d = (int(p) for p in iso.split("-"))
    month = MONTHS[m - 1]
    return [iso, f"{d} {month} {y}", f"{month} {d}, {y}", f"{d} {month[:3]} {y}", f"{month[:3]} {d}, {y}"]


# ---------------------------------------------------------------------------- the app


class SearchApp(App):
    name = "search"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        model, topic = _corpus(rng, level)
        kind = rng.choice(level["kinds"])
        goal, text = TASKS[kind](model, topic, rng, level)
        # "view": where the planner looks for targets (the topic's results, unfiltered), unless
        # the task names a query, sort or filter (those are checked) or needs one to see the answer.
        base = {"kind": kind, "query": None, "sort": None, "types": None, "answer": None, "at": {},
                "view": {"query": topic, "types": []},
                "bookmarks": [dict(b) for b in model["bookmarks"]]}  # fmt: skip
        return model, base | goal, text

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        return getattr(self, f"_{frame.name}")(model, frame)

    def _home(self, model: dict[str, Any], frame: Any) -> Node:
        hits, q = shown(model), model["query"]
        per, page = model["per_page"], model["page"]
        total = pages(len(hits), per)
        items = [listitem(f"{r['title']} · {r['domain']} · {r['date']} · rated {rating(r)}", f"res:{r['id']}",
                          (r["title"], r["domain"], r["date"], rating(r))) for r in hits[(page - 1) * per : page * per]]  # fmt: skip
        pager = row(button("Previous", "prev", disabled=page <= 1), label(f"Page {page} of {total}"),
                    button("Next", "next", disabled=page >= total))  # fmt: skip
        status = f"{len(hits)} result{'s' * (len(hits) != 1)} for '{q}'" if q else "Type a query and press Search"
        side = [label("Type", strong=True), *(checkbox(PLURAL[t].capitalize(), f"type:{t}", t in model["types"]) for t in TYPES),
                combobox("Sort by", "sort", model["sort"], SORTS)]  # fmt: skip
        if model["extras"]:
            side.append(switch("Safe search", "safe", True))
        main = column(label(status, strong=True), scrollarea("Results", "results", *items, *([pager] if hits else []),
                                                             height=model["list_h"]), grow=True)  # fmt: skip
        return window(model["engine"], row(heading(model["engine"]), textbox("Search", "q", q, submit="go", match="casefold"),
                                           button("Search", "go", primary=True),
                                           button(f"Saved ({len(model['bookmarks'])})", "saved")),
                      split(container("navigation", "Filters", *side), main))  # fmt: skip

    def _result(self, model: dict[str, Any], frame: Any) -> Node:
        r = _result(model, frame.args["id"])
        saved = any(b["id"] == r["id"] for b in model["bookmarks"])
        acts = [button("Remove bookmark", "unbm") if saved else button("Bookmark", "bm", primary=True)]
        if model["extras"]:
            acts += [button("Open site", "visit"), button("Share", "share")]
        return window(r["title"], row(button("Back", "back"), label(r["domain"])), heading(r["title"]),
                      label(f"{r['type']} · {r['domain']} · published {r['date']}"),
                      label(f"By {r['author']} · rated {rating(r)} of 5"), label(r["snippet"]), buttons(*acts),
                      *([label(frame.args["notice"], strong=True)] if frame.args.get("notice") else []), back="back")  # fmt: skip

    def _bookmark(self, model: dict[str, Any], frame: Any) -> Node:
        r = _result(model, frame.args["id"])
        return dialog("Save bookmark", label(r["title"]), combobox("Folder", "folder", model["folders"][0], model["folders"]),
                      textbox("Note", "note"), buttons(button("Cancel", "cancel"), button("Save", "save", primary=True)),
                      cancel="cancel")  # fmt: skip

    def _saved(self, model: dict[str, Any], frame: Any) -> Node:
        rows = [row(wide(label(f"{_result(model, b['id'])['title']} · {b['folder']}" + (f" · note: {b['note']}" if b["note"] else ""))),
                    button("Remove", f"unsave:{b['id']}")) for b in model["bookmarks"]]  # fmt: skip
        body = scrollarea("Bookmarks", "marks", *rows) if rows else label("No bookmarks yet.")
        return window("Saved bookmarks", row(button("Back", "back"), heading("Saved bookmarks")), body, back="back")

    # ------------------------------------------------------------------ behaviour

    def on(self, ctx: Any, event: Any) -> str | None:
        model, key, kind = ctx.model, event.key, event.kind
        if kind == "change":
            if key == "sort":
                model["sort"], model["page"] = event.value, 1
            elif key.startswith("type:"):
                t, on = key[5:], bool(event.value)
                model["types"] = [x for x in TYPES if (x == t and on) or (x != t and x in model["types"])]
                model["page"] = 1
            else:
                return None
            ctx.frame.scroll.pop("results", None)
            return f"{len(shown(model))} results now"
        if kind not in ("click", "submit"):
            return None
        if key in ("go", "q"):
            model["query"] = " ".join(str(ctx.frame.values.get("q", model["query"])).split())
            model["page"] = 1
            ctx.frame.scroll.pop("results", None)
            return f"{len(shown(model))} results for '{model['query']}'"
        if key in ("prev", "next"):
            model["page"] += 1 if key == "next" else -1
            ctx.frame.scroll.pop("results", None)
            return f"page {model['page']}"
        if key.startswith("res:"):
            ctx.push("result", id=key[4:])
        elif key == "saved":
            ctx.push("saved")
        elif key in ("back", "cancel"):
            ctx.back()
        elif key == "bm":
            ctx.dialog("bookmark", id=ctx.frame.args["id"])
        elif key == "save":
            values = ctx.frame.values
            model["bookmarks"].append({"id": ctx.frame.args["id"], "folder": values.get("folder", model["folders"][0]),
                                       "note": " ".join(str(values.get("note", "")).split())})  # fmt: skip
            ctx.close()
            ctx.screen.args["notice"] = f"Saved to {model['bookmarks'][-1]['folder']}."
            return ctx.screen.args["notice"]
        elif key == "unbm" or key.startswith("unsave:"):
            rid = ctx.frame.args["id"] if key == "unbm" else key[7:]
            model["bookmarks"] = [b for b in model["bookmarks"] if b["id"] != rid]
            ctx.frame.args.pop("notice", None)
            return "bookmark removed"
        elif key in ("visit", "share"):
            return "not available in this preview"
        return None

    # ------------------------------------------------------------------ verifier

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        diffs = []
        if goal["query"] is not None and not same_text(model["query"], goal["query"], "casefold"):
            diffs.append(f"the search is {model['query']!r}, want {goal['query']!r}")
        if goal["sort"] is not None and model["sort"] != goal["sort"]:
            diffs.append(f"sorted by {model['sort']}, want {goal['sort']}")
        if goal["types"] is not None and sorted(model["types"]) != sorted(goal["types"]):
            diffs.append(f"type filter {model['types']}, want {goal['types']}")
        have, want = _marks(model["bookmarks"]), _marks(goal["bookmarks"])
        if have != want:
            diffs.append(f"bookmarks {self._say_marks(model, have)}, want {self._say_marks(model, want)}")
        if diffs:
            return False, "; ".join(diffs)
        return check_answer(goal["answer"], answer) if goal["answer"] else (True, "query, filters and bookmarks as asked")

    @staticmethod
    def _say_marks(model: dict[str, Any], marks: dict[str, tuple[str, str]]) -> str:
        return ", ".join(f"'{_result(model, i)['title']}' in {f}" + (f" ({n!r})" if n else "") for i, (f, n) in sorted(marks.items())) or "none"

    # ------------------------------------------------------------------ planner

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        return committed(ui, self._plan(model, ui, goal))

    def _plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        if goal["answer"] is None and self.check(model, goal, None)[0]:
            return []
        have, want = _marks(model["bookmarks"]), _marks(goal["bookmarks"])
        over = ui.overlay
        if over is not None and over.name == "bookmark":
            rid = over.args["id"]
            if rid not in want or rid in have:
                return [Back("this result should not be bookmarked; cancel", "bookmark")]
            folder = want[rid][0]
            note = " ".join(next(b["note"] for b in goal["bookmarks"] if b["id"] == rid).split())  # as the instruction writes it
            out = []
            if ui.value("folder") != folder:
                out.append(Select("folder", folder, f"the bookmark belongs in {folder}", "folder"))
            if not same_text(ui.value("note") or "", note, "casefold"):
                out.append(Type("note", note, f"the note must say {note!r}" if note else "the note must be empty", "note"))
            return out or [Click("save", "folder and note are right; save the bookmark", "bookmark")]
        wrong = [i for i in have if have[i] != want.get(i)]
        if wrong:
            return [self._unmark(model, ui, wrong[0])]
        need = _need(goal)
        found = {h["id"] for h in _hits(model, need)}
        missing = [i for i in want if i not in have]
        said = {b["id"]: b["desc"] for b in goal["bookmarks"] if "desc" in b}
        for rid in missing:  # a saved bookmark that got removed: find it through its own topic first
            if rid not in found:
                return self._bookmark_steps(model, ui, rid, {"query": _result(model, rid)["topic"], "types": []}, said.get(rid))
        return self._view_steps(model, ui, need) or (self._bookmark_steps(model, ui, missing[0], need, said.get(missing[0]))
                                                      if missing else self._answer(model, ui, goal))  # fmt: skip

    def _bookmark_steps(self, model: dict[str, Any], ui: Any, rid: str, need: dict[str, Any], desc: str | None) -> list[Intent]:
        """The next step to bookmark ``rid`` (``desc``: how the task names it), found among the
        results of ``need``."""
        if self._on(ui, rid):
            return [Click("bm", f"this is {desc or 'the page'}; bookmark it", "bookmark")]
        return self._view_steps(model, ui, need) or [self._open(model, ui, rid, "to bookmark it", desc)]

    @staticmethod
    def _on(ui: Any, rid: str) -> bool:
        return ui.screen == "result" and ui.args["id"] == rid

    def _unmark(self, model: dict[str, Any], ui: Any, rid: str) -> Intent:
        title = _result(model, rid)["title"]
        if self._on(ui, rid):
            return Click("unbm", f"'{title}' must not stay bookmarked like this; remove it", "cleanup")
        if ui.screen == "saved":
            return Click(f"unsave:{rid}", f"'{title}' must not stay bookmarked like this; remove it", "cleanup")
        if ui.screen == "home":
            return Click("saved", f"the saved list holds a wrong bookmark ('{title}')", "cleanup")
        return Back("back to the results page", "cleanup")

    def _view_steps(self, model: dict[str, Any], ui: Any, need: dict[str, Any]) -> list[Intent]:
        """The query, sort and type filter the task names, in any order, on the results page."""
        out: list[Intent] = []
        q = need.get("query")
        if q is not None and not same_text(model["query"], q, "casefold"):
            if not same_text(ui.value("q") or "", q, "casefold"):
                out.append(Type("q", q, f"the search box must hold '{q}'", "query"))
            else:
                out.append(Enter("q", f"the box holds '{q}'; run the search", "query"))
        if need.get("sort") and model["sort"] != need["sort"]:
            out.append(Select("sort", need["sort"], must_be("the sort order", need["sort"]), "sort"))
        for t in TYPES if need.get("types") is not None else ():
            if (t in need["types"]) != (t in model["types"]):
                on = t in need["types"]
                out.append(Click(f"type:{t}", f"{'only' if on else 'no filter on'} {PLURAL[t]} {'are wanted' if on else 'is wanted'}", t))
        if out and ui.screen != "home":
            return [Back("back to the results page to change the search", "query")]
        return out

    def _open(self, model: dict[str, Any], ui: Any, rid: str, why: str, desc: str | None) -> Intent:
        """The next step to the result page of ``rid`` (paging through the results); ``desc``
        names it as the task does (its title is not known before it is on screen)."""
        if ui.screen != "home":
            return Back(f"back to the results {why}", "open")
        hits = [h["id"] for h in shown(model)]
        if rid not in hits:
            raise PlanError(f"search: result {rid} is not among the results of {model['query']!r}")
        page = hits.index(rid) // model["per_page"] + 1
        if page != model["page"]:
            later = page > model["page"]
            return Click("next" if later else "prev", f"the result I need is not on this page; go to the {'next' if later else 'previous'} page", "open")
        return Click(f"res:{rid}", f"open {desc or 'that result'} {why}", "open")

    def _answer(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        ans, at = goal["answer"], goal["at"]
        if ans is None:
            return []
        if "result" in at and not self._on(ui, at["result"]):
            return [self._open(model, ui, at["result"], "to read it", at.get("desc"))]
        if "result" not in at and ui.screen != "home":
            return [Back("back to the results page", "answer")]
        return [Answer(ans["text"], f"the page shows the answer, {ans['text']}", tuple(ans["aliases"]), "answer")]

    # ------------------------------------------------------------------ words and mistakes

    def needs(self, goal: dict[str, Any]) -> list[str]:
        out = [f"results for '{goal['query']}'"] if goal["query"] else []
        out += [f"sorted by {goal['sort']}"] if goal["sort"] else []
        out += [f"only {', '.join(PLURAL[t] for t in goal['types'])}"] if goal["types"] else []
        if goal["answer"] is not None:
            return [*out, *goal["asks"]]
        return [*out, *(f"{b['desc']} bookmarked in {b['folder']}" + (f" with the note {b['note']!r}" if b["note"] else "")
                         for b in goal["bookmarks"] if "desc" in b)]  # fmt: skip

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        if goal["answer"] is not None:
            out = [goal | {"answer": {"text": w, "aliases": [w]}} for w in goal["wrong"]]
            at = goal["at"]
            ids = [r["id"] for r in _hits(model, _need(goal))]
            if "result" in at and at["result"] in ids:  # the neighbouring result opened for it (same words)
                i = ids.index(at["result"])
                for n in ids[max(0, i - 1) : i + 2]:
                    author = _result(model, n)["author"]
                    if n != at["result"] and author != goal["answer"]["text"]:
                        out.append(goal | {"at": at | {"result": n}, "answer": {"text": author, "aliases": [author]}})
            return out
        new = next((b for b in goal["bookmarks"] if b["id"] not in {x["id"] for x in model["bookmarks"]}), None)
        if new is None:
            return []
        ids = [r["id"] for r in _hits(model, _need(goal))]

        def aim(believed: dict[str, Any], rid: str | None = None, **change: Any) -> dict[str, Any]:
            """``believed`` with ``change``; the bookmark goes to ``rid``, or to the target's
            position in the changed view (a wrong sort or filter, then the same ordinal)."""
            believed = believed | change
            if rid is None:
                there = [r["id"] for r in _hits(model, _need(believed))] or ids
                rid = there[min(ids.index(new["id"]), len(there) - 1)]
            return believed | {"bookmarks": [new | {"id": rid} if x is new else x for x in believed["bookmarks"]]}

        i = ids.index(new["id"])
        out = [aim(goal, n) for n in ids[max(0, i - 1) : i + 2] if n != new["id"]]
        out += [goal | {"bookmarks": [new | {"folder": f} if x is new else x for x in goal["bookmarks"]]}
                for f in model["folders"] if f != new["folder"]]  # fmt: skip
        if goal["sort"]:
            out += [aim(goal, sort=s) for s in SORTS if s != goal["sort"]]
        if goal["types"]:
            out += [aim(goal, types=[t]) for t in TYPES if t not in goal["types"]]
        return out


# ---------------------------------------------------------------------------- helpers


def _need(goal: dict[str, Any]) -> dict[str, Any]:
    """The query, sort and filter the planner brings about: the ones the task names (checked),
    over the ones its answer needs, over the default (the topic's results, unfiltered)."""
    return goal["view"] | goal["at"].get("view", {}) | {k: goal[k] for k in ("query", "sort", "types") if goal[k] is not None}


def _hits(model: dict[str, Any], need: dict[str, Any]) -> list[dict[str, Any]]:
    return results(model, need["query"], need.get("sort", "Relevance"), need["types"])


def _result(model: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in model["results"] if r["id"] == rid)


def _marks(bookmarks: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {b["id"]: (b["folder"], " ".join(b["note"].split()).casefold()) for b in bookmarks}


def _corpus(rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Results for several topics (the first is the task's; its near topic is among the rest)."""
    pair = rng.choice(TOPICS)
    others = [t for p in TOPICS if p is not pair for t in p]
    topics = [pair[0], pair[1], *rng.sample(others, level["topics"] - 2)]
    out: list[dict[str, Any]] = []
    for topic in topics:
        n = rng.randint(*level["per_topic"])
        days = rng.sample(range(2400), n)
        for j, (template, day, score) in enumerate(zip(rng.sample(TITLES, n), days, rng.sample(range(18, 50), n), strict=True)):
            kind = rng.choice(("Article", "Article", "News", "Video", "Forum"))
            when = FIRST_DAY + timedelta(days=day)
            out.append({"id": f"r{len(out) + 1}", "topic": topic, "rank": j, "type": kind, "domain": rng.choice(TYPES[kind]),
                        "title": template.format(t=topic, T=topic[0].upper() + topic[1:], y=when.year),
                        "date": when.isoformat(), "rating": score,
                        "author": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "snippet": rng.choice(SNIPPETS).format(t=topic)})  # fmt: skip
    rng.shuffle(out)
    model = {"engine": rng.choice(ENGINES), "results": out, "query": pair[0] if level["preset"] else "",
             "sort": "Relevance", "types": [], "page": 1, "per_page": level["per_page"], "list_h": level["list_h"],
             "folders": [FOLDERS[0], *rng.sample(FOLDERS[1:], 3)], "bookmarks": [], "extras": level["extras"]}  # fmt: skip
    if level.get("saved"):
        for r in rng.sample([r for r in out if r["topic"] != pair[0]], 2):
            model["bookmarks"].append({"id": r["id"], "folder": rng.choice(model["folders"]), "note": ""})
    return model, pair[0]


# ---------------------------------------------------------------------------- task generators
# Each takes (model, topic, rng, level) and returns (goal fields, instruction); it may set up
# the initial state the task starts from (a stale query, a wrong filter).


def _mark(model: dict[str, Any], r: dict[str, Any], folder: str | None = None, note: str = "", desc: str = "") -> dict[str, Any]:
    """Goal fields for bookmarking ``r`` on top of the saved ones; ``desc`` is how the
    instruction names it (thoughts quote it, not the title the agent has not seen yet)."""
    mark = {"id": r["id"], "folder": folder or model["folders"][0], "note": note, "desc": desc or f"'{r['title']}'"}
    return {"bookmarks": [*model["bookmarks"], mark]}


def _common_type(hits: list[dict[str, Any]], rng: random.Random, least: int) -> str:
    counts = {t: sum(h["type"] == t for h in hits) for t in TYPES}
    return rng.choice([t for t in TYPES if counts[t] >= least] or [max(TYPES, key=counts.__getitem__)])


def _nth_from(hits: list[dict[str, Any]], rng: random.Random, pool: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """A result in ``pool`` named by its rank among ``hits`` from the same site: the target and
    the phrase ("the second result from example.org")."""
    r = rng.choice(pool)
    k = [h["id"] for h in hits if h["domain"] == r["domain"]].index(r["id"])
    return r, f"{ORDINALS[k] if k < len(ORDINALS) else f'{k + 1}th'} result from {r['domain']}"


def _t_bookmark_title(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    r = rng.choice(results(model, topic, "Relevance", []))
    text = rng.choice(("Bookmark the result '{x}'.", "Save '{x}' to my bookmarks.", "Add the page titled '{x}' to my bookmarks."))
    return _mark(model, r), text.format(x=r["title"])


def _t_author(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    hits = results(model, topic, "Relevance", [])
    r = rng.choice(hits)
    text = rng.choice(("Who wrote '{x}'?", "Find out who the author of '{x}' is.", "Open '{x}' and tell me its author."))
    wrong = [h["author"] for h in hits if h is not r][:1]
    return ask(r["author"], [r["author"]], {"result": r["id"], "desc": f"'{r['title']}'"}, f"the author of '{r['title']}' as the answer",
               wrong), text.format(x=r["title"])


def _t_top_rated(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    best = results(model, topic, "Highest rated", [])
    if level["preset"]:
        text = rng.choice(("Which result about {t} has the highest rating?", "Among the results for '{t}', which one is rated best?"))
    else:
        text = rng.choice(("Search for '{t}' and tell me which result has the highest rating.",
                           "Which result about {t} has the highest rating? Search for it first."))  # fmt: skip
    at = {"view": {"query": topic, "sort": "Highest rated"}}
    return ask(best[0]["title"], [best[0]["title"]], at, f"the best rated result about {topic} as the answer",
                [best[1]["title"]]), text.format(t=topic)  # fmt: skip


def _t_find_bookmark(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    r = rng.choice(results(model, topic, "Relevance", []))
    text = rng.choice(("Search for '{t}' and bookmark '{x}'.", "Look up '{t}', then save the result '{x}' to my bookmarks."))
    return {"query": topic} | _mark(model, r), text.format(t=topic, x=r["title"])


def _t_count_type(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    hits = results(model, topic, "Relevance", [])
    t = _common_type(hits, rng, 1)
    n = sum(h["type"] == t for h in hits)
    text = rng.choice(("How many {p} are there about {t}?", "Search for '{t}' and count the {p} among the results.",
                       "Count the {p} about {t}."))  # fmt: skip
    return ask(str(n), [str(n), *count_aliases(n, "result")], {"view": {"query": topic, "types": [t]}}, f"the number of {PLURAL[t]} about {topic} as the answer",
                [str(len(hits))]), text.format(p=PLURAL[t], t=topic)  # fmt: skip


def _t_bookmark_ordinal(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    sort = rng.choice(SORTS[1:])
    hits = results(model, topic, sort, [])
    r, nth = _nth_from(hits, rng, hits[: model["per_page"]])
    folder = rng.choice(model["folders"][1:])
    text = rng.choice(("Search for '{t}', sort by {s}, and bookmark the {o} in the '{f}' folder.",
                       "Look up '{t}' with the results sorted by {s}; save the {o} to '{f}'."))  # fmt: skip
    return {"query": topic, "sort": sort} | _mark(model, r, folder, desc=f"the {nth}"), text.format(t=topic, s=SORT_WORDS[sort], o=nth, f=folder)


def _t_newest(model: dict[str, Any], topic: str, rng: random.Random, field: str) -> tuple[dict[str, Any], str]:
    t = _common_type(results(model, topic, "Relevance", []), rng, 2)
    hits = results(model, topic, "Newest first", [t])
    top, view = hits[0], {"query": topic, "types": [t], "sort": "Newest first"}
    if field == "date":
        text = rng.choice(("When was the most recent {o} about {t} published?", "Find the newest {o} about {t}: what is its publication date?"))
        goal = ask(top["date"], date_aliases(top["date"]), {"view": view}, f"the date of the newest {ONE[t]} about {topic} as the answer",
                    [h["date"] for h in hits[1:2]])  # fmt: skip
    else:
        text = rng.choice(("Who wrote the most recent {o} about {t}?", "Find the newest {o} about {t} and tell me its author."))
        goal = ask(top["author"], [top["author"]], {"view": view, "result": top["id"], "desc": f"the newest {ONE[t]}"},
                    f"the author of the newest {ONE[t]} about {topic} as the answer", [h["author"] for h in hits[1:2]])  # fmt: skip
    return goal, text.format(o=ONE[t], t=topic)


def _t_newest_date(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return _t_newest(model, topic, rng, "date")


def _t_newest_author(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if level.get("stale"):
        _stale(model, topic, rng)
    return _t_newest(model, topic, rng, "author")


def _t_bookmark_filtered(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    t = _common_type(results(model, topic, "Relevance", []), rng, 3)
    sort = rng.choice(SORTS[1:])
    hits = results(model, topic, sort, [t])
    k = rng.randrange(min(3, len(hits)))
    folder, note = rng.choice(model["folders"][1:]), rng.choice(NOTES)
    text = rng.choice(("Search for '{t}', show only {p}, sort by {s}, and bookmark the {o} result in '{f}' with the note '{n}'.",
                       "Find {p} about '{t}' sorted by {s}; save the {o} one to the '{f}' folder with the note '{n}'."))  # fmt: skip
    goal = {"query": topic, "sort": sort, "types": [t]} | _mark(model, hits[k], folder, note, f"the {ORDINALS[k]} {ONE[t]}")
    return goal, text.format(t=topic, p=PLURAL[t], s=SORT_WORDS[sort], o=ORDINALS[k], f=folder, n=note)


def _t_bookmark_page2(model: dict[str, Any], topic: str, rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    _stale(model, topic, rng)
    sort = rng.choice(SORTS[1:])
    hits = results(model, topic, sort, [])
    r, nth = _nth_from(hits, rng, hits[model["per_page"] : 2 * model["per_page"]])
    text = rng.choice(("Search for '{t}' with no type filter, sorted by {s}, and bookmark the {o}.",
                       "Clear the type filters, search for '{t}' sorted by {s}, then save the {o} to my bookmarks."))  # fmt: skip
    return {"query": topic, "sort": sort, "types": []} | _mark(model, r, desc=f"the {nth}"), text.format(t=topic, s=SORT_WORDS[sort], o=nth)


def _stale(model: dict[str, Any], topic: str, rng: random.Random) -> None:
    """Start from an earlier search: the near topic's results, filtered to one type."""
    near = next(p[1] for p in TOPICS if p[0] == topic)
    model["query"], model["types"] = near, [rng.choice(sorted(TYPES))]


TASKS = {"bookmark_title": _t_bookmark_title, "author": _t_author, "top_rated": _t_top_rated,
         "find_bookmark": _t_find_bookmark, "count_type": _t_count_type, "bookmark_ordinal": _t_bookmark_ordinal,
         "newest_date": _t_newest_date, "newest_author": _t_newest_author, "bookmark_filtered": _t_bookmark_filtered,
         "bookmark_page2": _t_bookmark_page2}  # fmt: skip

register_app(SearchApp())
