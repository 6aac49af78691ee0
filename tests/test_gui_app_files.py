"""The ``files`` app: task types per level, goals, the state-based check on hand-built trees,
navigation (places, breadcrumbs, Up), selection and the toolbar, the context menu, the move,
rename, delete and new-folder dialogs, difficulty levers and instruction variety. (Tiers,
replay, pixels and accepted sets run for every app in test_gui_apps.py.)"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter

import pytest

from stores.schema import Action
from synth.gui.apps.files import LEVELS
from tests.gui_app import AppUnderTest, el, named, op_kinds, press

APP = AppUnderTest("files")
family, task, env_of, check = APP.family, APP.task, APP.env_of, APP.check
kinds, first = op_kinds, APP.first_ops


def node(env, path: str) -> dict:
    *folders, name = path.split("/")
    parent = 0
    for f in folders:
        parent = next(n["id"] for n in env.model["nodes"] if n["parent"] == parent and n["name"] == f)
    return next(n for n in env.model["nodes"] if n["parent"] == parent and n["name"] == name)


def go(env, path: str) -> None:
    """Open a folder through the sidebar, then its entries."""
    top, *rest = path.split("/")
    press(env, top, "listitem")
    for part in rest:
        while not any(named(e, part) for e in env.view().elements):
            env.step(Action("scroll", {"direction": "down", "amount": 1}))
        press(env, part, "listitem")


def show(env, name: str) -> None:
    while not any(named(e, name) and e.role == "listitem" for e in env.view().elements):
        env.step(Action("scroll", {"direction": "down", "amount": 1}))


# ---------------------------------------------------------------------------- tasks per level


def test_each_level_draws_its_task_types():
    seen = {d: Counter(kinds(task(s, d)) for s in range(150)) for d in LEVELS}
    assert set(seen[1]) == {("answer",), ("delete",)}
    assert set(seen[2]) == {("rename",), ("delete",), ("answer",)}
    assert set(seen[3]) == {("move",), ("mkdir",), ("answer",)}
    assert set(seen[4]) == {("move", "rename"), ("move",), ("answer",)}
    assert set(seen[5]) == {("mkdir", "move"), ("move", "delete"), ("move", "rename", "answer")}
    answers = Counter(task(s, 1).reference["goal"].get("answer", {}).get("kind") for s in range(60))
    assert {"count", "size"} <= set(answers)


def test_goals_follow_from_the_initial_tree():
    for s in range(60):
        t = task(s, 5)
        env = env_of(t)
        for op in t.reference["goal"]["ops"]:
            if "path" in op:
                n = node(env, op["path"])
                assert n["id"] == op["id"] and f"'{n['name']}'" in t.instruction
            if op["op"] == "move" and not op["dest"].endswith(tuple(NEW)):
                dest = node(env, op["dest"])
                assert dest["kind"] == "folder" and dest["id"] != node(env, op["path"])["parent"]
        paths = {p for p, _, _ in t.reference["goal"]["expect"]}
        assert len(paths) == len(t.reference["goal"]["expect"])  # no two entries at one path


NEW = ("Taxes", "Archive 2023", "Receipts", "To print", "Shared", "Backup", "Travel", "Invoices")


# ---------------------------------------------------------------------------- the verifier


def test_the_check_compares_the_tree_by_path_kind_and_size():
    t = first(4, ("move", "rename"))
    move, rename = t.reference["goal"]["ops"]
    env = env_of(t)
    model = copy.deepcopy(env.model)
    assert not check(t, model)[0]
    f = next(n for n in model["nodes"] if n["id"] == move["id"])
    f["name"] = rename["name"]
    ok, detail = check(t, model)
    assert not ok and rename["name"] in detail  # renamed but still in the old folder
    f["parent"] = node(env, move["dest"])["id"]
    assert check(t, model)[0]
    f["kb"] += 1
    assert not check(t, model)[0]


def test_answers_count_files_of_a_type():
    t = next(t for s in range(100) if (t := task(s, 1)).reference["goal"].get("answer", {}).get("kind") == "count")
    q = t.reference["goal"]["answer"]
    env = env_of(t)
    folder = node(env, q["folder"])
    n = sum(x["name"].endswith("." + q["ext"]) for x in env.model["nodes"] if x["parent"] == folder["id"])
    assert q["text"] == str(n) and check(t, env.model, str(n))[0] and not check(t, env.model, str(n + 1))[0]


# ---------------------------------------------------------------------------- behaviour


def test_navigation_by_places_entries_breadcrumbs_and_up():
    env = env_of(task(3, 2))
    go(env, "Documents/Finance")
    assert env.view().title == "Finance - Files"
    assert [e.name for e in env.view().elements if e.role == "link"] == ["Home", "Documents"]
    press(env, "Up")
    assert env.view().title == "Documents - Files"
    go(env, "Documents/Reports")
    press(env, "Home", "link")
    assert env.view().title == "Home - Files" and el(env, "Up").disabled


def test_select_then_rename_from_the_toolbar_and_enter_confirms():
    t = first(2, ("rename",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    folder, name = op["path"].rsplit("/", 1)
    go(env, folder)
    assert el(env, "Rename").disabled
    show(env, name)
    assert f"selected '{name}'" in press(env, name, "listitem")
    press(env, "Rename")
    assert env.view().top.name == f"Rename '{name}'"
    env.step(Action("type", {"element": el(env, "New name").id, "text": op["name"]}))
    assert "renamed to" in env.step(Action("press_key", {"key": "Enter"})).text
    assert env.outcome(None).success


def test_move_through_the_context_menu_needs_a_folder_and_refuses_a_name_clash():
    t = first(3, ("move",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    folder, name = op["path"].rsplit("/", 1)
    go(env, folder)
    show(env, name)
    press(env, name, "listitem", long=True)
    assert env.view().top.role == "menu"
    press(env, "Move to...", "menuitem")
    assert env.view().top.name == f"Move '{name}' to"
    assert "choose a folder first" in press(env, "Move here")
    while not any(e.name == op["dest"] for e in env.view().elements):
        env.step(Action("scroll", {"direction": "down", "amount": 1, "element": next(e.id for e in env.view().elements if e.name == "Folders")}))
    press(env, op["dest"], "listitem")
    assert "moved" in press(env, "Move here")
    assert env.outcome(None).success
    # a file of the same name already there: the move is refused
    model = copy.deepcopy(t.env["model"])
    f = next(n for n in model["nodes"] if n["id"] == op["id"])
    model["nodes"].append({**f, "id": 999, "parent": node(env, op["dest"])["id"]})
    env = env_of(dataclasses.replace(t, env={**t.env, "model": model}))
    go(env, folder)
    show(env, name)
    press(env, name, "listitem", long=True)
    press(env, "Move to...", "menuitem")
    while not any(e.name == op["dest"] for e in env.view().elements):
        env.step(Action("scroll", {"direction": "down", "amount": 1, "element": next(e.id for e in env.view().elements if e.name == "Folders")}))
    press(env, op["dest"], "listitem")
    assert "already holds" in press(env, "Move here") and env.view().top.role == "dialog"


def test_delete_asks_and_new_folder_checks_the_name():
    t = first(1, ("delete",))
    op = t.reference["goal"]["ops"][0]
    env = env_of(t)
    folder, name = op["path"].rsplit("/", 1)
    go(env, folder)
    show(env, name)
    press(env, name, "listitem")
    press(env, "Delete")
    assert env.view().top.name == f"Delete '{name}'?"
    assert "blocked by the dialog" in env.step(Action("click", {"x": 0, "y": 0})).text
    env.step(Action("click", {"element": [e for e in env.view().elements if e.name == "Delete"][-1].id}))
    assert env.outcome(None).success and el(env, "Rename").disabled  # the selection went with it
    press(env, "New folder")
    assert "the name is empty" in press(env, "Create")
    taken = next(n["name"] for n in env.model["nodes"] if n["parent"] == node(env, folder)["id"])
    env.step(Action("type", {"element": el(env, "Folder name").id, "text": taken}))
    assert "already exists" in press(env, "Create")
    env.step(Action("type", {"element": el(env, "Folder name").id, "text": "Fresh"}))
    assert "created the folder 'Fresh'" in press(env, "Create")
    assert node(env, f"{folder}/Fresh")["kind"] == "folder"


# ---------------------------------------------------------------------------- levers and variety


def test_difficulty_grows_the_tree_and_makes_folders_and_the_picker_scroll():
    sizes = {d: sum(len(task(s, d).env["model"]["nodes"]) for s in range(20)) / 20 for d in LEVELS}
    assert sizes[1] < sizes[2] < sizes[3] < sizes[4]
    scrolled = picker = 0
    for s in range(20):
        env = env_of(task(s, 4))
        press(env, "Downloads" if any(n["name"] == "Downloads" for n in env.model["nodes"]) else "Documents", "listitem")
        scrolled += env.view().nodes["files"].scroll_max > 0
        entry = next(e for e in env.view().elements if e.role == "listitem" and e.key.startswith("node:")
                     and any(n["kind"] == "file" and f"node:{n['id']}" == e.key for n in env.model["nodes"]))  # fmt: skip
        env.step(Action("long_press", {"element": entry.id}))
        press(env, "Move to...", "menuitem")
        picker += env.view().nodes["picker"].scroll_max > 0
    assert scrolled >= 15 and picker >= 15


@pytest.mark.parametrize("d", [1, 3, 5])
def test_instructions_vary(d):
    texts = [task(s, d).instruction for s in range(80)]
    openings = Counter(" ".join(x.split()[:2]) for x in texts)
    assert len(set(texts)) >= 60 and len(openings) >= 4
