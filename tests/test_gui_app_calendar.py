"""The ``calendar`` app: task types per level, goals, the state-based check on hand-built
states, the editor, date picker, delete dialog and search, difficulty levers and instruction
variety. (Tiers, replay, pixels and accepted sets run for every app in test_gui_apps.py.)"""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from stores.schema import Action
from synth.gui.apps.calendar import LEVELS, QUESTIONS, TIMES
from tests.gui_app import AppUnderTest, el, op_kinds, press

APP = AppUnderTest("calendar")
family, task, env_of, check = APP.family, APP.task, APP.env_of, APP.check
kinds, first = op_kinds, APP.first_ops


def done_by_hand(t) -> dict:
    """The model with the goal's edits applied directly (no UI)."""
    model = copy.deepcopy(t.env["model"])
    for op in t.reference["goal"]["ops"]:
        if op["op"] == "delete":
            model["events"] = [e for e in model["events"] if e["id"] != op["id"]]
        elif op["op"] == "update":
            next(e for e in model["events"] if e["id"] == op["id"]).update(copy.deepcopy(op["want"]))
        else:
            model["events"].append({"id": 999, **copy.deepcopy(op["want"])})
    return model


# ---------------------------------------------------------------------------- tasks per level


def test_each_level_draws_its_task_types():
    seen = {d: Counter(kinds(task(s, d)) for s in range(150)) for d in LEVELS}
    assert set(seen[1]) == {("answer",)}
    assert set(seen[2]) == {("update",), ("delete",)}
    assert set(seen[3]) == {("update",), ("create",), ("answer",)}
    assert set(seen[4]) == {("update",), ("create",)}
    assert {len(k) for k in seen[5]} == {2} and ("update", "delete") in seen[5] and ("update", "answer") in seen[5]
    questions = Counter(task(s, 1).reference["goal"]["answer"]["kind"] for s in range(60))
    assert set(questions) == set(QUESTIONS)


def test_goals_follow_from_the_initial_events():
    for s in range(60):
        t = task(s, 5)
        model, goal = t.env["model"], t.reference["goal"]
        for op in goal["ops"]:
            if op["op"] != "create":
                e = next(e for e in model["events"] if e["id"] == op["id"])
                assert op["was"] == {k: e[k] for k in ("title", "day", "time", "repeat", "attendees")}
                assert f"'{e['title']}'" in t.instruction
            if op["op"] == "update":
                assert op["want"] != op["was"] and op["want"]["time"] in TIMES
        assert len(goal["expect"]) == len(model["events"]) + sum(o["op"] == "create" for o in goal["ops"]) \
            - sum(o["op"] == "delete" for o in goal["ops"])  # fmt: skip
        assert check(t, done_by_hand(t), goal.get("answer", {}).get("text"))[0]


def test_a_move_names_both_days_and_the_new_time():
    t = next(t for s in range(300) if (t := task(s, 3)).reference["goal"]["ops"]
             and t.reference["goal"]["ops"][0].get("want", {}).get("day") != t.reference["goal"]["ops"][0].get("was", {}).get("day"))  # fmt: skip
    op = t.reference["goal"]["ops"][0]
    assert op["op"] == "update" and op["want"]["time"] in t.instruction and str(op["want"]["day"]) in t.instruction


# ---------------------------------------------------------------------------- the verifier


def test_the_check_compares_the_whole_calendar_as_a_multiset():
    t = first(2, ("update",))
    model = done_by_hand(t)
    assert check(t, model) == (True, f"the events match the expected {len(model['events'])}")
    assert not check(t, t.env["model"])[0]  # nothing done
    recreated = copy.deepcopy(model)
    target = next(e for e in recreated["events"] if e["id"] == t.reference["goal"]["ops"][0]["id"])
    target["id"] = 555  # a deleted and recreated event is as good
    recreated["events"].reverse()
    assert check(t, recreated)[0]
    collateral = copy.deepcopy(model)
    other = next(e for e in collateral["events"] if e is not None and e["id"] != target["id"])
    other["time"] = "20:00" if other["time"] != "20:00" else "07:00"
    ok, detail = check(t, collateral)
    assert not ok and f"'{other['title']}'" in detail and "missing" in detail and "unexpected" in detail


def test_answers_accept_their_aliases_only():
    count = next(t for s in range(100) if (t := task(s, 1)).reference["goal"]["answer"]["kind"] == "count")
    q = count.reference["goal"]["answer"]
    model = count.env["model"]
    n = int(q["text"])
    for said in (q["text"], f" {n}. ", q["aliases"][0].upper(), f"{n} event{'s' * (n != 1)}"):
        assert check(count, model, said)[0], said
    assert not check(count, model, str(n + 1))[0]
    assert check(count, model, None) == (False, f"the events match the expected {len(model['events'])}; no answer was given")
    when = next(t for s in range(100) if (t := task(s, 1)).reference["goal"]["answer"]["kind"] == "time")
    q = when.reference["goal"]["answer"]
    hour = int(q["text"][:2])
    assert check(when, when.env["model"], f"{(hour - 1) % 12 + 1}{'am' if hour < 12 else 'pm'}")[0]


# ---------------------------------------------------------------------------- behaviour


def test_the_editor_moves_an_event_through_the_date_picker_and_saves_it():
    t = first(3, ("update",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    press(env, str(op["was"]["day"]), "button")
    env.step(Action("click", {"element": next(e.id for e in env.view().elements if e.name.endswith(op["was"]["title"]))}))
    assert env.ui().screen == "edit"
    press(env, next(e.name for e in env.view().elements if e.key == "date"))
    assert env.view().top.role == "dialog" and env.view().top.name == "Choose a date"
    assert "blocked by the dialog" in env.step(Action("click", {"x": 1, "y": 1})).text
    press(env, str(op["want"]["day"]), "button")
    env.step(Action("select", {"element": el(env, "Time").id, "option": op["want"]["time"]}))
    assert {k for k in op["want"] if op["want"][k] != op["was"][k]} == {"day", "time"}  # a d3 move
    assert "event saved" in press(env, "Save")
    e = next(e for e in env.model["events"] if e["id"] == op["id"])
    assert (e["day"], e["time"]) == (op["want"]["day"], op["want"]["time"])
    assert env.outcome(None).success and env.ui().screen == "day"


def test_delete_asks_first_and_cancel_keeps_the_event():
    t = first(2, ("delete",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    press(env, str(op["was"]["day"]), "button")
    env.step(Action("click", {"element": next(e.id for e in env.view().elements if e.name.endswith(op["was"]["title"]))}))
    press(env, "Delete")
    assert env.view().top.name == "Delete event?"
    env.step(Action("press_key", {"key": "Escape"}))
    assert any(e["id"] == op["id"] for e in env.model["events"]) and env.ui().screen == "edit"
    press(env, "Delete")
    in_dialog = [e for e in env.view().elements if e.name == "Delete"][-1]  # the dialog's button
    assert "event deleted" in env.step(Action("click", {"element": in_dialog.id})).text
    assert all(e["id"] != op["id"] for e in env.model["events"]) and env.ui().screen == "day"
    assert env.outcome(None).success


def test_a_new_event_needs_a_title_and_starts_on_the_day_it_was_opened_from():
    t = first(3, ("create",))
    env = env_of(t)
    press(env, "New event")
    assert "the title is empty" in press(env, "Save")
    env.step(Action("navigate_back", {}))
    press(env, "14", "button")
    press(env, "New event")
    assert el(env, next(e.name for e in env.view().elements if e.key == "date")).name.endswith(" 14")
    env.step(Action("type", {"element": el(env, "Title").id, "text": "Standup"}))
    press(env, "Save")
    new = env.model["events"][-1]
    assert (new["title"], new["day"], new["time"], new["repeat"]) == ("Standup", 14, "09:00", "Never")


def test_search_lists_matching_events_and_opens_them():
    t = task(4, 2)
    env = env_of(t)
    e = env.model["events"][0]
    env.step(Action("type", {"element": el(env, "Search events").id, "text": e["title"][:4].lower()}))
    env.step(Action("press_key", {"key": "Enter"}))
    assert env.ui().screen == "search"
    names = [x.name for x in env.view().elements if x.role == "listitem"]
    assert any(n.endswith(e["title"]) for n in names)
    assert all(e["title"][:4].lower() in n.lower() for n in names)
    env.step(Action("click", {"element": next(x.id for x in env.view().elements if x.name.endswith(f" {e['time']} {e['title']}"))}))
    assert env.ui().screen == "edit" and el(env, "Title").value == e["title"]


def test_the_planner_recovers_from_a_wrong_day():
    t = first(2, ("update",))
    env = env_of(t)
    day = t.reference["goal"]["ops"][0]["was"]["day"]
    press(env, str(day % 28 + 1), "button")
    accepted = env.accepted_actions()
    assert {a["name"] for a in accepted} == {"click", "navigate_back"}  # the Back button or navigate_back


# ---------------------------------------------------------------------------- levers and variety


def test_difficulty_adds_events_and_makes_the_day_list_scroll():
    sizes = {d: sum(len(task(s, d).env["model"]["events"]) for s in range(20)) / 20 for d in LEVELS}
    assert sizes[1] < sizes[2] < sizes[3] < sizes[4]
    scrolled = 0
    for s in range(20):
        t = task(s, 4)
        env = env_of(t)
        day = t.reference["goal"]["ops"][0].get("was", t.reference["goal"]["ops"][0].get("want"))["day"]
        if t.reference["goal"]["ops"][0]["op"] == "create":
            continue
        press(env, str(day), "button")
        scrolled += env.view().nodes["events"].scroll_max > 0
    assert scrolled >= 8


@pytest.mark.parametrize("d", [1, 3, 5])
def test_instructions_vary(d):
    texts = [task(s, d).instruction for s in range(80)]
    openings = Counter(" ".join(x.split()[:2]) for x in texts)
    assert len(set(texts)) == len(texts) and len(openings) >= 4
