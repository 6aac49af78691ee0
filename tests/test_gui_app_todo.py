"""The ``todo`` app: task types per level, goals, the state-based check on hand-built states,
checkboxes, filters, the editor and clear-completed, repairs of a wrong tick, difficulty
levers and instruction variety. (Tiers, replay, pixels and accepted sets run for every app in
test_gui_apps.py.)"""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from stores.schema import Action
from synth.gui.apps.todo import LEVELS
from tests.gui_app import AppUnderTest, el, op_kinds, press

APP = AppUnderTest("todo")
family, task, env_of, check = APP.family, APP.task, APP.env_of, APP.check
kinds, first = op_kinds, APP.first_ops


def expected(t) -> dict:
    """A model holding exactly the goal's expected tasks."""
    model = copy.deepcopy(t.env["model"])
    model["tasks"] = [{**x, "id": x["id"] or 900 + i} for i, x in enumerate(copy.deepcopy(t.reference["goal"]["expect"]))]
    return model


# ---------------------------------------------------------------------------- tasks per level


def test_each_level_draws_its_task_types():
    seen = {d: Counter(kinds(task(s, d)) for s in range(150)) for d in LEVELS}
    assert set(seen[1]) == {("update",), ("answer",)}
    assert set(seen[2]) == {("create",), ("update",), ("delete",), ("answer",)}
    assert set(seen[3]) == {("update", "create"), ("update",), ("clear",)}
    assert set(seen[4]) == {("update", "update", "update"), ("update",), ("update", "answer")}
    assert set(seen[5]) == {("update", "update", "clear", "create"), ("update", "create"), ("update", "update", "answer")}


def test_goals_follow_from_the_initial_lists():
    for s in range(60):
        t = task(s, 5)
        model, goal = t.env["model"], t.reference["goal"]
        for op in goal["ops"]:
            if "was" in op:
                x = next(x for x in model["tasks"] if x["id"] == op["id"])
                assert op["was"] == {k: x[k] for k in ("list", "title", "done", "due", "priority")}
                assert f"'{x['title']}'" in t.instruction
            if op["op"] == "clear":
                done = [x for x in goal["expect"] if x["list"] == op["list"] and x["done"]]
                assert op["ids"] and not done  # something to clear, and nothing done left there
            if op["op"] == "create":
                assert op["want"]["title"] in t.instruction and op["want"]["list"] in t.instruction
        assert check(t, expected(t), goal.get("answer", {}).get("text"))[0]


def test_the_high_priority_question_has_one_answer():
    for s in range(40):
        t = task(s, 4)
        q = t.reference["goal"].get("answer")
        if q and q["kind"] == "high":
            highs = [x["title"] for x in t.env["model"]["tasks"] if x["list"] == q["list"] and x["priority"] == "High"]
            assert highs == [q["text"]]


# ---------------------------------------------------------------------------- the verifier


def test_the_check_compares_every_task_as_a_multiset():
    t = first(3, ("update", "create"))
    model = expected(t)
    assert check(t, model)[0]
    assert not check(t, t.env["model"])[0]
    wrong = copy.deepcopy(model)
    other = next(x for x in wrong["tasks"] if x["id"] not in {op.get("id") for op in t.reference["goal"]["ops"]})
    other["done"] = not other["done"]
    ok, detail = check(t, wrong)
    assert not ok and f"'{other['title']}' in {other['list']}" in detail
    q = first(1, ("answer",))
    n = q.reference["goal"]["answer"]["text"]
    assert check(q, q.env["model"], n)[0] and not check(q, q.env["model"], str(int(n) + 1))[0]
    assert check(q, q.env["model"], f"{n} tasks" if n != "1" else "1 task")[0]


# ---------------------------------------------------------------------------- behaviour


def test_ticking_filters_and_clearing_completed():
    t = first(3, ("clear",))
    lst = t.reference["goal"]["ops"][0]["list"]
    env = env_of(t)
    press(env, lst, "listitem")
    assert env.view().title == f"{lst} - Tasks"
    open_ = next(x for x in env.model["tasks"] if x["list"] == lst and not x["done"])
    assert "marked done" in press(env, open_["title"], "checkbox") and open_["done"]
    press(env, open_["title"], "checkbox")
    assert not open_["done"]
    press(env, "Done", "tab")
    shown = {e.name for e in env.view().elements if e.role == "checkbox"}
    assert shown == {x["title"] for x in env.model["tasks"] if x["list"] == lst and x["done"]}
    press(env, "Clear completed")
    assert env.view().top.name == "Clear completed tasks?"
    others = [x for x in env.model["tasks"] if x["list"] != lst]
    assert "cleared" in press(env, "Clear", "button")
    assert not any(x["done"] for x in env.model["tasks"] if x["list"] == lst)
    assert [x for x in env.model["tasks"] if x["list"] != lst] == others  # other lists untouched
    assert env.outcome(None).success
    assert "no completed tasks" in press(env, "Clear completed")


def test_the_editor_moves_a_task_to_another_list():
    t = first(4, ("update",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    press(env, op["was"]["list"], "listitem")
    env.step(Action("click", {"element": el(env, "Edit", "button").id}))  # some task's editor
    env.step(Action("navigate_back", {}))
    while not any(e.name == op["was"]["title"] for e in env.view().elements):
        env.step(Action("scroll", {"direction": "down", "amount": 1}))
    row = next(e for e in env.view().elements if e.name == op["was"]["title"])
    edit = next(e for e in env.view().elements if e.role == "button" and e.name == "Edit" and e.box[1] <= row.box[1] < e.box[3])
    env.step(Action("click", {"element": edit.id}))
    env.step(Action("select", {"element": el(env, "List").id, "option": op["want"]["list"]}))
    press(env, op["want"]["priority"], "radio")
    assert "task saved" in press(env, "Save")
    moved = next(x for x in env.model["tasks"] if x["id"] == op["id"])
    assert (moved["list"], moved["priority"]) == (op["want"]["list"], op["want"]["priority"])
    assert env.outcome(None).success


def test_a_wrong_tick_is_repaired_by_the_planner():
    t = first(1, ("update",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    press(env, op["was"]["list"], "listitem")
    wrong = next(x for x in env.model["tasks"] if x["list"] == op["was"]["list"] and x["id"] != op["id"])
    press(env, wrong["title"], "checkbox")
    boxes = {a["element"] for a in env.accepted_actions() if a["name"] == "click"}
    names = {e.name for e in env.view().elements if e.id in boxes}
    assert names == {wrong["title"], op["was"]["title"]}  # untick the wrong one, tick the right one


def test_saving_needs_a_title():
    env = env_of(task(0, 2))
    press(env, "Add task")
    assert "the title is empty" in press(env, "Save")
    assert env.ui().screen == "edit"


# ---------------------------------------------------------------------------- levers and variety


def test_difficulty_grows_the_lists_and_makes_them_scroll():
    sizes = {d: sum(len(task(s, d).env["model"]["tasks"]) for s in range(20)) / 20 for d in LEVELS}
    assert sizes[1] < sizes[2] < sizes[3] < sizes[4] < sizes[5]
    scrolled = 0
    for s in range(20):
        t = task(s, 5)
        env = env_of(t)
        press(env, t.env["model"]["tasks"][-1]["list"], "listitem")
        scrolled += env.view().nodes["tasks"].scroll_max > 0
    assert scrolled >= 15


@pytest.mark.parametrize("d", [1, 3, 5])
def test_instructions_vary(d):
    texts = [task(s, d).instruction for s in range(80)]
    openings = Counter(" ".join(x.split()[:2]) for x in texts)
    assert len(set(texts)) >= 60 and len(openings) >= 4
