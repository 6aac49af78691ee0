"""The ``calendar`` app: a month grid, a day's event list, an event editor with a date picker.

Screens: the month (a 7-column grid of day cells, "New event", "Today", a "Search events"
box whose results list opens events too), a day (its events
sorted by time in a list that scrolls when the day is busy), the event editor (title, a date
button that opens a "Choose a date" dialog, a time dropdown, a repeat radio group, attendee
checkboxes; Save, Delete, Cancel) and a blocking "Delete event?" confirmation. Saving returns
to the screen the editor was opened from.

Tasks are edits (retime, rename, repeat, invite, move to another day and time, delete,
create) and questions about a day ("How many events are on Tuesday the 14th?", "When does
'Dentist' start?", "What is the first event on the 14th?") answered with ``answer``. The
goal holds the edits as operations (for the planner and the instruction) and the whole
expected event list: the check compares the final events with it as a multiset (title, day,
time, repeat, attendees), so any route that ends in the right calendar succeeds and any
collateral change fails.

====  =======================================================  ==============================
 d    tasks                                                    distractors
====  =======================================================  ==============================
 1    one question (count, start time, first event)            8-12 events, 1-3 on the day
 2    retime, rename, repeat, invite or delete one event       10-16 events, 2-4 on the day
 3    move an event (day and time) or create one; a count      14-20 events, 3-6 on the day
 4    create with repeat and guests, or move and change more   18-26 events (near-duplicate
                                                               titles), 7-10 on the day (the
                                                               list scrolls)
 5    two edits on different days (move, retime or invite,     as d4
      then delete, invite or create), or a move or retime
      then a question about a day
====  =======================================================  ==============================
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from synth.gui.actions import same_text
from synth.gui.app import Answer, App, Back, Click, Intent, Select, Show, Tally, Type, register_app
from synth.gui.apps.form import FIRST, LAST
from synth.gui.apps.records import compare, count_aliases, holds, lookalikes, save_draft, verdict
from synth.gui.phrasing import must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    cell,
    checkbox,
    column,
    combobox,
    container,
    dialog,
    grid,
    heading,
    label,
    listitem,
    radio,
    row,
    scrollarea,
    textbox,
    window,
)

TIMES = tuple(f"{h:02d}:00" for h in range(7, 21))
REPEATS = ("Never", "Daily", "Weekly", "Monthly")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TITLES = (
    "Dentist", "Dentist follow-up", "Team standup", "Team retro", "Yoga class", "Yoga workshop",
    "Budget review", "Budget review prep", "Piano lesson", "Guitar lesson", "Book club", "Car service",
    "Haircut", "Project kickoff", "Project review", "Sprint demo", "Sprint planning", "Vet appointment",
    "Parent-teacher meeting", "Flight to Lisbon", "Flight to Oslo", "Gym", "Gym with Sam", "Pay rent",
    "Quarterly planning", "Doctor's appointment", "Birthday dinner", "Coffee with Mateo",
    "Coffee with Hana", "Lunch with Priya", "Lunch with Oscar", "Client call", "Client workshop",
    "Design review", "Board meeting", "Swimming", "Language class", "Tax advisor", "Grocery run",
    "Date night", "Volunteer shift", "Movie night", "Team offsite", "Interview: backend role",
    "Interview: design role", "Oil change", "Plumber visit", "Photo shoot", "Running club",
)  # fmt: skip
NEW_TITLES = (
    "Team lunch", "Eye exam", "Call with the bank", "Wine tasting", "Hackathon", "Museum visit",
    "Bike repair", "Chess club", "Recital", "Apartment viewing", "Pottery class", "Town hall",
)  # fmt: skip
LEVELS = {
    1: {"tasks": ("count", "time", "first"), "events": (8, 12), "busy": (1, 3)},
    2: {"tasks": ("retime", "rename", "repeat", "invite", "delete"), "events": (10, 16), "busy": (2, 4)},
    3: {"tasks": ("move", "create", "count"), "events": (14, 20), "busy": (3, 6)},
    4: {"tasks": ("create+", "move+"), "events": (18, 26), "busy": (7, 10)},
    5: {"tasks": ("move delete", "retime delete", "invite delete", "move invite", "retime create", "delete create",
                  "invite create", "move count", "move first", "retime count"), "events": (18, 26), "busy": (7, 10)},
}  # fmt: skip
QUESTIONS = ("count", "time", "first")
FIELDS = ("title", "day", "time", "repeat", "attendees")
# how the editor step that opens the picker ends: one fixed ending would be a phrase of every date change
PICKER = "{; open the date picker|; the picker sets it|: open the picker|, so the date picker comes first|; that takes the picker|, which the picker changes}"


def _sig(e: dict[str, Any]) -> tuple:
    """What the check compares of an event (ids do not matter: a route may recreate one)."""
    return e["title"], e["day"], e["time"], e["repeat"], tuple(sorted(e["attendees"]))


def _record(e: dict[str, Any]) -> dict[str, Any]:
    return {k: (sorted(e[k]) if k == "attendees" else e[k]) for k in FIELDS}


class CalendarApp(App):
    name = "calendar"
    home = "month"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        year, month = rng.randint(2024, 2027), rng.randint(1, 12)
        days = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
        contacts = sorted({f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(6)})
        focus = rng.randint(1, days)
        titles = rng.sample(TITLES, rng.randint(*level["events"]))
        busy = rng.randint(*level["busy"])
        events = []
        for i, title in enumerate(titles):
            day = focus if i < busy else rng.choice([d for d in range(1, days + 1) if d != focus])
            people = rng.sample(contacts, rng.choice((0, 0, 1, 2)))
            events.append({"id": i + 1, "title": title, "day": day, "time": rng.choice(TIMES),
                           "repeat": rng.choice(("Never", "Never", "Never", *REPEATS[1:])), "attendees": sorted(people)})  # fmt: skip
        model = {"year": year, "month": month, "days": days, "today": rng.randint(1, days), "contacts": contacts,
                 "events": events, "next": len(events) + 1, "panel": rng.randint(460, 720), "align": rng.choice(("", "center"))}  # fmt: skip
        ops: list[dict[str, Any]] = []
        kinds = rng.choice(level["tasks"]).split()
        for kind in kinds:  # the first edit is on the busy day, a second one elsewhere
            if kind not in QUESTIONS:
                pick = [e for e in events if (e["day"] == focus) == (not ops)]
                ops.append(self._op(model, kind, rng.choice(pick), rng))
        goal: dict[str, Any] = {"ops": ops}
        if kinds[-1] in QUESTIONS:
            day = ops[0]["want"]["day"] if ops else focus
            goal["answer"] = self._question(model, kinds[-1], day, ops, rng)
        goal["expect"] = _apply(model, ops)
        return model, goal, self._instruction(model, goal, rng)

    def _op(self, model: dict[str, Any], kind: str, e: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        days, contacts = model["days"], model["contacts"]
        if kind == "delete":
            return {"op": "delete", "id": e["id"], "was": _record(e)}
        want = _record(e)
        other = rng.choice([d for d in range(max(1, e["day"] - 6), min(days, e["day"] + 6) + 1) if d != e["day"]])
        times = [t for t in TIMES if t != e["time"]]
        if kind in ("create", "create+"):
            want = {"title": rng.choice(NEW_TITLES), "day": other, "time": rng.choice(times), "repeat": "Never",
                    "attendees": []}  # fmt: skip
            if kind == "create+":
                want["repeat"] = rng.choice(REPEATS[1:])
                want["attendees"] = sorted(rng.sample(contacts, rng.randint(1, 2)))
            return {"op": "create", "want": want}
        if kind in ("retime", "move", "move+"):
            want["time"] = rng.choice(times)
        if kind in ("move", "move+"):
            want["day"] = other
        if kind == "rename":
            want["title"] = rng.choice(NEW_TITLES)
        if kind == "repeat" or (kind == "move+" and rng.random() < 0.5):
            want["repeat"] = rng.choice([r for r in REPEATS if r != e["repeat"]])
        if kind == "invite" or (kind == "move+" and want["repeat"] == e["repeat"]):
            want["attendees"] = sorted([*e["attendees"], rng.choice([c for c in contacts if c not in e["attendees"]])])
        return {"op": "update", "id": e["id"], "was": _record(e), "want": want}

    def _question(self, model: dict[str, Any], kind: str, day: int, ops: list, rng: random.Random) -> dict[str, Any]:
        on_day = sorted((e for e in _apply_events(model, ops) if e["day"] == day), key=lambda e: e["time"])
        if kind == "time" and on_day:
            e = rng.choice(on_day)
            h = int(e["time"][:2])
            ampm = f"{(h - 1) % 12 + 1} {'am' if h < 12 else 'pm'}"
            return {"kind": "time", "day": day, "title": e["title"], "text": e["time"],
                    "aliases": [ampm, ampm.replace(" ", ""), f"{e['time']} {ampm[-2:]}"]}  # fmt: skip
        if kind == "first" and on_day:
            ties = [e["title"] for e in on_day if e["time"] == on_day[0]["time"]]
            return {"kind": "first", "day": day, "text": ties[0], "aliases": ties[1:]}
        n = len(on_day)
        return {"kind": "count", "day": day, "text": str(n), "aliases": count_aliases(n, "event")}

    def _instruction(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> str:
        parts = [self._words(model, op, rng) for op in goal["ops"]]
        q = goal.get("answer")
        if q:
            when = _date(model, q["day"], rng)
            parts.append(rng.choice({
                "count": ("how many events are on {d}?", "how many appointments do I have on {d}?",
                          "count the events scheduled for {d}."),
                "time": ("what time does '{t}' on {d} start?", "when is '{t}' on {d}?"),
                "first": ("what is the first event on {d}?", "which event comes first on {d}?"),
            }[q["kind"]]).format(d=when, t=q.get("title", "")))  # fmt: skip
        text = (rng.choice(("; then ", ", and then ", ". After that, ")) if len(parts) > 1 else "").join(parts)
        return text[0].upper() + text[1:] + ("" if text[-1] in ".?" else ".")

    def _words(self, model: dict[str, Any], op: dict[str, Any], rng: random.Random) -> str:
        if op["op"] == "create":
            w = op["want"]
            text = rng.choice(("add an event '{t}' on {d} at {h}", "create '{t}' on {d} at {h}",
                               "schedule '{t}' for {d} at {h}")).format(t=w["title"], d=_date(model, w["day"], rng), h=w["time"])  # fmt: skip
            if w["repeat"] != "Never":
                text += rng.choice((", repeating {r}", ", set to repeat {r}")).format(r=w["repeat"].lower())
            if w["attendees"]:
                text += rng.choice((", with {p}", ", inviting {p}")).format(p=" and ".join(w["attendees"]))
            return text
        old, w = op["was"], op.get("want")
        name, when = old["title"], _date(model, old["day"], rng)
        if op["op"] == "delete":
            return rng.choice(("delete '{t}' on {d}", "remove the '{t}' event from {d}",
                               "cancel '{t}' ({d}) and delete it")).format(t=name, d=when)  # fmt: skip
        bits = []
        if w["day"] != old["day"]:
            bits.append(f"move it to {_date(model, w['day'], rng)} at {w['time']}")
        elif w["time"] != old["time"]:
            bits.append(rng.choice(("change its time to {h}", "reschedule it to {h}")).format(h=w["time"]))
        if w["title"] != old["title"]:
            bits.append(rng.choice(("rename it to '{n}'", "change its title to '{n}'")).format(n=w["title"]))
        if w["repeat"] != old["repeat"]:
            bits.append(f"make it repeat {w['repeat'].lower()}" if w["repeat"] != "Never" else "stop it repeating")
        for p in sorted(set(w["attendees"]) - set(old["attendees"])):
            bits.append(rng.choice(("invite {p}", "add {p} as a guest")).format(p=p))
        if w["day"] != old["day"] and rng.random() < 0.5:
            moved = f"move the '{name}' appointment from {when} to {_date(model, w['day'], rng)} at {w['time']}"
            return moved + "".join(", and " + b for b in bits[1:])
        opening = rng.choice(("for '{t}' on {d}, ", "open '{t}' on {d} and ", "find '{t}' ({d}) and "))
        return opening.format(t=name, d=when) + ", and ".join(bits)

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        if frame.name == "pick":
            return dialog("Choose a date", self._grid(model, "pick"),
                          buttons(button("Cancel", "pick:cancel")), cancel="pick:cancel")  # fmt: skip
        if frame.name == "confirm":
            e = _event(model, frame.args["event"])
            return dialog("Delete event?", label(f"'{e['title']}' on {_date(model, e['day'])} will be deleted."),
                          buttons(button("Cancel", "confirm:no"), button("Delete", "confirm:yes", primary=True)),
                          cancel="confirm:no")  # fmt: skip
        month = f"{_MONTHS[model['month'] - 1]} {model['year']}"
        if frame.name == "day":
            day = frame.args["day"]
            items = [listitem(f"{e['time']} {e['title']}", f"ev:{e['id']}",
                              (e["time"], e["title"], e["repeat"] if e["repeat"] != "Never" else "Once"))
                     for e in sorted(_on(model, day), key=lambda e: (e["time"], e["id"]))]  # fmt: skip
            body = scrollarea("Events", "events", *items, height=290) if items else label("No events on this day.")
            return window(_date(model, day, long=True), row(button("Back", "back"), heading(_date(model, day, long=True))),
                          buttons(button("New event", "new", primary=True)), body, back="back")  # fmt: skip
        if frame.name == "edit":
            return self._editor(model, frame)
        if frame.name == "search":
            found = [listitem(f"{_date(model, e['day'])} {e['time']} {e['title']}", f"ev:{e['id']}",
                              (_date(model, e["day"]), e["time"], e["title"])) for e in _found(model, frame.args["query"])]  # fmt: skip
            head = row(button("Back", "back"), heading(f"Results for '{frame.args['query']}'"))
            return window(f"Search - {month}", head, scrollarea("Results", "results", *found, height=340) if found
                          else label("No events match."), back="back")  # fmt: skip
        top = row(heading(month), button("Today", "today"), button("New event", "new", primary=True),
                  textbox("Search events", "search", submit="search", match="casefold", width=260))
        return window(month, container("toolbar", "Calendar", top, kind="row"), self._grid(model, "day"))

    def _grid(self, model: dict[str, Any], prefix: str) -> Node:
        """The month: weekday names over the days; in the month view each day cell shows its
        events ("09:00 Dentist") as the height allows, the date picker shows numbers only."""
        lead = datetime.date(model["year"], model["month"], 1).weekday()
        head = grid(7, *(label(d) for d in WEEKDAYS))
        blank = [column() for _ in range(lead)]
        if prefix == "pick":
            return column(head, grid(7, *blank, *(button(str(d), f"pick:{d}") for d in range(1, model["days"] + 1))))
        days = [cell(str(d), f"day:{d}", [f"{e['time']} {e['title']}" for e in sorted(_on(model, d), key=lambda e: (e["time"], e["id"]))])
                for d in range(1, model["days"] + 1)]  # fmt: skip
        return column(head, grid(7, *blank, *days, grow=True), grow=True)

    def _editor(self, model: dict[str, Any], frame: Any) -> Node:
        e = _draft_base(model, frame.args)
        day = frame.values.get("day", e["day"])
        people = [checkbox(p, f"att:{i}", p in e["attendees"]) for i, p in enumerate(model["contacts"])]
        actions = [button("Save", "save", primary=True), button("Cancel", "cancel")]
        if frame.args.get("event") is not None:
            actions.insert(1, button("Delete", "delete"))
        title = "Edit event" if frame.args.get("event") is not None else "New event"
        return window(title, column(heading(title), textbox("Title", "title", e["title"]),
                      row(label("Date"), button(_date(model, day), "date")),
                      combobox("Time", "time", e["time"], TIMES, width=260),
                      label("Repeat"), row(*(radio(r, "repeat", r, r == e["repeat"]) for r in REPEATS)),
                      label("Guests"), grid(2, *people), buttons(*actions), width=model["panel"], align=model["align"]),
                      back="cancel")  # fmt: skip

    def on(self, ctx: Any, event: Any) -> str | None:
        key, model = event.key, ctx.model
        if event.kind == "submit" and key == "search":
            if not (event.value or "").strip():
                return "nothing to search for"
            ctx.push("search", query=event.value.strip())
        if event.kind != "click":
            return None
        if key.startswith("day:"):
            ctx.push("day", day=int(key[4:]))
        elif key == "today":
            ctx.push("day", day=model["today"])
        elif key == "new":
            ctx.push("edit", event=None, day=ctx.screen.args.get("day", model["today"]))
        elif key.startswith("ev:"):
            ctx.push("edit", event=int(key[3:]))
        elif key in ("back", "cancel"):
            ctx.back()
        elif key == "date":
            ctx.dialog("pick")
        elif key.startswith("pick:"):
            if key != "pick:cancel":
                ctx.screen.values["day"] = int(key[5:])
            ctx.close()
        elif key == "delete":
            ctx.dialog("confirm", event=ctx.screen.args["event"])
        elif key == "confirm:yes":
            model["events"] = [e for e in model["events"] if e["id"] != ctx.frame.args["event"]]
            ctx.close()
            ctx.back()
            ctx.screen.scroll.clear()  # the list changed: it is shown again from the top
            return "event deleted"
        elif key == "confirm:no":
            ctx.close()
        elif key == "save":
            if not save_draft(model, "events", ctx.frame.args.get("event"), _draft(model, ctx.frame)):
                return "not saved: the title is empty"
            ctx.back()
            ctx.screen.scroll.clear()
            return "event saved"
        return None

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        state = compare(map(_sig, model["events"]), map(_sig, goal["expect"]), _show, "events")
        return verdict(state, goal.get("answer"), answer)

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        if "answer" not in goal and holds(map(_sig, model["events"]), map(_sig, goal["expect"])):
            return []
        ops = [op for op in goal["ops"] if not _done(model, op)]
        if ui.screen == "edit":
            mine = next((op for op in ops if op.get("id") == ui.args.get("event")), None)
            return self._edit(model, ui, mine) if mine else [Back("this editor is not for a change the task asks; close it")]
        if ui.overlay is not None:
            return [Back("close this first")]
        if ui.screen == "search":
            found = {e["id"] for e in _found(model, ui.args["query"])}
            return [Click(f"ev:{op['id']}", f"{_op_words(op)}: the results list it; open it", _op_words(op))
                    for op in ops if op.get("id") in found] or [Back("the results do not help; back to the month")]  # fmt: skip
        day = ui.args.get("day") if ui.screen == "day" else None
        intents: list[Intent] = []
        for op in ops:
            words = _op_words(op)
            if op["op"] == "create":
                opens = f" (it starts on {_date(model, day)})" if day else ""
                intents.append(Click("new", f"{words}: open a new event{opens}", words))
                continue
            where = _event(model, op["id"])["day"]
            if day == where:
                intents.append(Click(f"ev:{op['id']}", f"{words}: open it", words))
            elif day is None:
                intents.append(Click(f"day:{where}", f"{words}: it is on {_date(model, where)}; open that day", words))
        q = goal.get("answer")
        if not ops and q:
            if day == q["day"]:
                return self._answer(model, ui, q)
            if day is None:
                return [Click(f"day:{q['day']}", f"the question is about {_date(model, q.get('said', q['day']))}; open that day")]
        if day is not None and not intents:
            return [Back("nothing left to do on this day; back to the month")]
        return intents

    def _answer(self, model: dict[str, Any], ui: Any, q: dict[str, Any]) -> list[Intent]:
        """Answer from the day's list, once the part that holds the answer has been seen."""
        events = sorted(_on(model, q["day"]), key=lambda e: (e["time"], e["id"]))
        seen = events[-1:] if q["kind"] == "count" else [e for e in events if e["title"] == q.get("title")]
        for e in seen:
            if not ui.node(f"ev:{e['id']}").visible:
                what = "the rest of the day's list" if q["kind"] == "count" else f"'{e['title']}'"
                return [Show(f"ev:{e['id']}", f"{what} is out of view; scroll to it before answering")]
        return [Answer(q["text"], f"the day's list shows the answer: {q['text']}", tuple(q["aliases"]))]

    def _edit(self, model: dict[str, Any], ui: Any, op: dict[str, Any]) -> list[Intent]:
        words, over = _op_words(op), ui.overlay
        if op["op"] == "delete":
            if over is not None:
                return [Click("confirm:yes", f"{words}: confirm", words)] if over.name == "confirm" else [Back("close this")]
            return [Click("delete", f"{words}: delete it", words)]
        want = op["want"]
        draft = _draft(model, ui.base)
        if over is not None:
            if over.name == "pick" and draft["day"] != want["day"]:
                return [Click(f"pick:{want['day']}", must_be("the date", _date(model, want["day"])), words)]
            if over.kind == "listbox" and draft["time"] != want["time"]:
                return [Select("time", want["time"], must_be("the time", want["time"]), words)]
            return [Back("nothing to change here; close it")]
        out = []
        if not same_text(draft["title"], want["title"]):
            out.append(Type("title", want["title"], must_be("the title", f"'{want['title']}'"), words))
        if draft["day"] != want["day"]:
            out.append(Click("date", must_be("the date", _date(model, want["day"])) + PICKER, words))
        if draft["time"] != want["time"]:
            out.append(Select("time", want["time"], must_be("the time", want["time"]), words))
        if draft["repeat"] != want["repeat"]:
            out.append(Click(f"repeat={want['repeat']}", must_be("the repeat", want["repeat"]), words))
        for i, p in enumerate(model["contacts"]):
            if (p in draft["attendees"]) != (p in want["attendees"]):
                out.append(Click(f"att:{i}", f"{p} must {'' if p in want['attendees'] else 'not '}be a guest", words))
        return out or [Click("save", f"{words}: {{every field is right|all the fields match|nothing is left to change|it reads as asked}}; {{save|save it|click save}}", words)]

    def needs(self, goal: dict[str, Any]) -> list[str]:
        out = [_op_words(op) for op in goal["ops"]]
        if q := goal.get("answer"):
            out.append({"count": "the number of events on day {d}", "time": "the start time of '{t}' on day {d}",
                        "first": "the first event on day {d}"}[q["kind"]].format(d=q["day"], t=q.get("title")))  # fmt: skip
        return out

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        """The same change to a neighbouring event, a time one slot off, a wrong answer."""
        out = []
        for i, op in enumerate(goal["ops"]):
            wrong = []
            if op["op"] != "create":  # the same change to a look-alike or neighbouring event of that day
                rows = sorted(_on(model, op["was"]["day"]), key=lambda e: (e["time"], e["id"]))
                for e in lookalikes(rows, op["id"], lambda e: e["title"]):
                    if any(o.get("id") == e["id"] for o in goal["ops"]):
                        continue
                    wrong.append({**op, "id": e["id"], "was": _record(e)})
                    if op["op"] == "update":
                        changes = {k: v for k, v in op["want"].items() if op["was"][k] != v}
                        wrong[-1]["want"] = {**_record(e), **changes}
            if "want" in op:
                t = TIMES[(TIMES.index(op["want"]["time"]) + 1) % len(TIMES)]
                wrong.append({**op, "want": {**op["want"], "time": t}})
            for w in wrong:
                ops = [*goal["ops"][:i], w | {"said": op}, *goal["ops"][i + 1 :]]  # the instruction's words stay
                out.append({**goal, "ops": ops, "expect": _apply(model, ops)})
        if (q := goal.get("answer")) and q["kind"] == "count":  # the day cell next to it, taken for it
            after = _apply_events(model, goal["ops"])
            for d in (q["day"] - 1, q["day"] + 1, q["day"] - 7, q["day"] + 7):
                count = str(sum(e["day"] == d for e in after))
                if 1 <= d <= model["days"] and count != q["text"]:
                    out.append({**goal, "answer": {**q, "day": d, "text": count, "aliases": [], "said": q["day"]}})
        if (q := goal.get("answer")) and q["kind"] != "count":  # the value read off the next row of the day
            rows = sorted((e for e in _apply_events(model, goal["ops"]) if e["day"] == q["day"]), key=lambda e: e["time"])
            field = "time" if q["kind"] == "time" else "title"
            at = next((i for i, e in enumerate(rows) if e["title"] == (q.get("title") or q["text"])), 0)
            for j in (at - 1, at + 1):
                if 0 <= j < len(rows) and rows[j][field] != q["text"]:
                    out.append({**goal, "answer": {**q, "text": rows[j][field], "aliases": []}})
        return out

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """A count question tallies the rows of its day's list."""
        q = goal.get("answer")
        if not q or q["kind"] != "count":
            return None
        return Tally(f"events on {_date(model, q.get('said', q['day']))}",
                     lambda ui: ui.overlay is None and ui.screen == "day" and ui.args.get("day") == q["day"],
                     lambda node: node.role == "listitem" and (node.key or "").startswith("ev:"), lambda node: True)  # fmt: skip


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def _date(model: dict[str, Any], day: int, rng: random.Random | None = None, long: bool = False) -> str:
    """A day of the shown month in words; ``rng`` varies the phrasing (instructions only)."""
    d = datetime.date(model["year"], model["month"], day)
    month = _MONTHS[d.month - 1]
    if long:
        return f"{d.strftime('%A')}, {month} {day}"
    if rng is None:
        return f"{WEEKDAYS[d.weekday()]}, {month[:3]} {day}"
    nth = _nth(day)
    return rng.choice((f"{d.strftime('%A')} the {nth}", f"{month} {day}", f"{WEEKDAYS[d.weekday()]}, {month[:3]} {day}",
                       f"the {nth}"))  # fmt: skip


def _on(model: dict[str, Any], day: int) -> list[dict[str, Any]]:
    return [e for e in model["events"] if e["day"] == day]


def _found(model: dict[str, Any], query: str) -> list[dict[str, Any]]:
    """Events whose title contains ``query`` (without case), by date and time."""
    q = query.casefold()
    return sorted((e for e in model["events"] if q in e["title"].casefold()), key=lambda e: (e["day"], e["time"], e["id"]))


def _event(model: dict[str, Any], eid: int) -> dict[str, Any]:
    return next(e for e in model["events"] if e["id"] == eid)


def _draft_base(model: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The editor's starting values: the event's, or a blank event on the day it opened from."""
    if args.get("event") is not None:
        return _record(_event(model, args["event"]))
    return {"title": "", "day": args["day"], "time": "09:00", "repeat": "Never", "attendees": []}


def _draft(model: dict[str, Any], frame: Any) -> dict[str, Any]:
    """What the editor frame holds now (its typed and toggled values over the starting ones)."""
    base, v = _draft_base(model, frame.args), frame.values
    people = [p for i, p in enumerate(model["contacts"]) if v.get(f"att:{i}", p in base["attendees"])]
    return {"title": v.get("title", base["title"]), "day": v.get("day", base["day"]), "time": v.get("time", base["time"]),
            "repeat": v.get("repeat", base["repeat"]), "attendees": people}  # fmt: skip


def _apply_events(model: dict[str, Any], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events = {e["id"]: _record(e) for e in model["events"]}
    for op in ops:
        if op["op"] == "delete":
            events.pop(op["id"])
        elif op["op"] == "update":
            events[op["id"]] = dict(op["want"])
    return [*events.values(), *(dict(op["want"]) for op in ops if op["op"] == "create")]


def _apply(model: dict[str, Any], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(_apply_events(model, ops), key=lambda e: (e["day"], e["time"], e["title"]))


def _done(model: dict[str, Any], op: dict[str, Any]) -> bool:
    if op["op"] == "delete":
        return all(e["id"] != op["id"] for e in model["events"])
    if op["op"] == "update":
        e = next((e for e in model["events"] if e["id"] == op["id"]), None)
        return e is not None and _sig(e) == _sig(op["want"])
    return any(_sig(e) == _sig(op["want"]) for e in model["events"])


def _op_words(op: dict[str, Any]) -> str:
    """The operation in words for thoughts (no model at hand: days as ordinals); a believed
    op is said as the one the instruction names, which the agent takes it for."""
    if "said" in op:
        return _op_words(op["said"])
    w = op.get("want")
    if op["op"] == "create":
        extra = (f", repeating {w['repeat'].lower()}" if w["repeat"] != "Never" else "") + \
            (f", with {' and '.join(w['attendees'])}" if w["attendees"] else "")  # fmt: skip
        return f"a new event '{w['title']}' on the {_nth(w['day'])} at {w['time']}{extra}"
    old = op["was"]
    it = f"'{old['title']}' on the {_nth(old['day'])}"
    if op["op"] == "delete":
        return f"{it} deleted"
    said = {"day": f"the {_nth(w['day'])}", "time": f"{w['time']}", "title": f"the title '{w['title']}'",
            "repeat": f"repeating {w['repeat'].lower()}"}  # fmt: skip
    changes = [text for k, text in said.items() if w[k] != old[k]]
    changes += [f"with {p} invited" for p in w["attendees"] if p not in old["attendees"]]
    return f"{it} set to {', '.join(changes)}"


def _nth(day: int) -> str:
    return f"{day}{'th' if 11 <= day <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def _show(sig: tuple) -> str:
    title, day, time, repeat, people = sig
    return f"'{title}' day {day} {time} {repeat.lower()}" + (f" with {', '.join(people)}" if people else "")


register_app(CalendarApp())
