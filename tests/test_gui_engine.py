"""The GUI engine's generic behaviour, on a probe app that holds one of every widget: the tree,
hit testing, every action kind, dialogs, menus, dropdowns, scrolling, keyboard, the accepted
set and its keyboard alternatives, coordinates, image modes and the LLM protocol."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from PIL import Image

from stores.schema import Action, Observation, Step
from synth.gui.actions import (
    from_norm1000,
    is_acceptable,
    normalize_answer,
    normalize_text,
    to_norm1000,
)
from synth.gui.app import App, Back, Click, GuiFamily, Select, Type
from synth.gui.policies import LLMProtocol
from synth.gui.toolkit import (
    button,
    buttons,
    checkbox,
    combobox,
    container,
    dialog,
    listitem,
    menu,
    menuitem,
    radio,
    row,
    scrollarea,
    switch,
    textbox,
    window,
)


class Probe(App):
    """One of every widget; events are logged in the model; the goal drives the planner."""

    name = "probe"
    levels = {1: {}}

    def make_task(self, rng, difficulty):
        return {"log": [], "saved": None}, {"name": "Ada", "colour": "Blue", "item": 14}, "Probe the engine."

    def view(self, model, frame):
        if frame.name == "second":
            return window("Second", button("Back", "back"), back="back")
        if frame.name == "confirm":
            return dialog("Confirm?", buttons(button("No", "no"), button("Yes", "yes")), cancel="no")
        if frame.name == "menu":
            return menu("Actions", "menu", menuitem("First", "m1"), menuitem("Second", "m2"))
        return window("Probe",
                      row(button("Open dialog", "open"), button("Menu", "menu"), button("Next", "next")),
                      textbox("Query", "q", submit="q"), textbox("Name", "name", submit="save"),
                      combobox("Colour", "colour", "Red", ("Red", "Green", "Blue")),
                      row(checkbox("Agree", "agree"), switch("Wifi", "wifi", True),
                          radio("S", "size", "S", True), radio("M", "size", "M"), radio("L", "size", "L")),
                      buttons(button("Disabled", "off", disabled=True), button("Save", "save", primary=True)),
                      scrollarea("Items", "items", container("list", "Items", *(listitem(f"Item {i}", f"item:{i}") for i in range(30)))))  # fmt: skip

    def on(self, ctx, event):
        ctx.model["log"].append([event.kind, event.key, event.value])
        if event.kind != "click":
            return None
        if event.key == "open":
            ctx.dialog("confirm")
        elif event.key == "menu":
            ctx.menu("menu", "menu")
        elif event.key == "next":
            ctx.push("second")
        elif event.key in ("back", "no", "yes"):
            ctx.back()
        elif event.key == "save":
            ctx.model["saved"] = {k: ctx.frame.value(k) for k in ("name", "colour")}
            return "saved"
        return None

    def check(self, model, goal, answer):
        return model["saved"] == {"name": goal["name"], "colour": goal["colour"]}, "saved?"

    def plan(self, model, ui, goal):
        if ui.overlay is not None:
            return [Back("close it")]
        if ui.screen != "home":
            return [Back("go home")]
        out = []
        if ui.value("name") != goal["name"]:
            out.append(Type("name", goal["name"], "name it", "name"))
        if ui.value("colour") != goal["colour"]:
            out.append(Select("colour", goal["colour"], "colour it", "colour"))
        out.append(Click(f"item:{goal['item']}", "see the item", "item"))
        return out

    def needs(self, goal):
        return ["a probe"]


FAMILY = GuiFamily(Probe())


def make(params: dict | None = None):
    task = FAMILY.make_task(1, 1, {k: v for k, v in (params or {}).items() if k == "screen"})
    return FAMILY.make_env(task, {"images": "off", **(params or {})})


def el(env, name: str):
    return next(e for e in env.view().elements if e.name == name)


def click(env, name: str, dx: int = 3, dy: int = 3):
    e = el(env, name)
    return env.step(Action("click", {"x": e.box[0] + dx, "y": e.box[1] + dy})).text


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


# ---------------------------------------------------------------------------- tree and hits


def test_the_tree_lists_every_visible_element_with_state_and_box():
    env = make()
    text = env.view().text
    lines = text.splitlines()
    assert lines[0] == 'window "Probe" size=1280x800'
    name = el(env, "Name")
    x0, y0, x1, y1 = name.box
    assert f'[{name.id}] textbox "Name" value="" bbox=({x0},{y0},{x1},{y1})' in lines
    assert re.search(r'\] combobox "Colour" value="Red" options=\["Red","Green","Blue"\] expanded=false bbox=', text)
    assert re.search(r'\] checkbox "Agree" checked=false bbox', text)
    assert re.search(r'\] switch "Wifi" checked=true bbox', text)
    assert re.search(r'\] radio "S" checked=true bbox', text)
    assert re.search(r'\] button "Disabled" disabled bbox', text)
    assert re.search(r'\[\d+\] scrollarea "Items" scroll=0/\d+ bbox', text)
    assert re.search(r'\n    \[\d+\] listitem "Item 0" bbox', text), "list items are nested two levels deep"
    assert "Item 25" not in text, "items below the fold are not in the tree"
    ids = [int(m) for m in re.findall(r"^\s*\[(\d+)\]", text, re.M)]
    assert ids == list(range(1, len(ids) + 1))


def test_boxes_are_half_open_and_hits_are_exact():
    env = make()
    b = el(env, "Next").box
    assert first_line(env.fork().step(Action("click", {"x": b[2] - 1, "y": b[3] - 1})).text).endswith('button "Next": now showing "Second"')
    outside = first_line(env.fork().step(Action("click", {"x": b[2], "y": b[1]})).text)
    assert 'button "Next"' not in outside


def test_layout_follows_the_screen_size_param():
    env = make({"screen": [1920, 1080], "images": "steps"})
    assert env.size == (1920, 1080) and env.view().text.startswith('window "Probe" size=1920x1080')
    assert max(e.box[2] for e in env.view().elements) > 1280
    assert Image.open(io.BytesIO(env.observe().image)).size == (1920, 1080)
    with pytest.raises(ValueError, match="screen must be"):
        FAMILY.make_task(1, 1, {"screen": [100, 100]})


# ---------------------------------------------------------------------------- actions


def test_invalid_arguments_unknown_actions_and_clicks_on_nothing_change_nothing():
    env = make()
    before = json.dumps(env.state(), sort_keys=True)
    events = [
        (Action("click", {"x": "1", "y": 2}), 'click ignored: give "x" and "y"'),
        (Action("click", {"x": True, "y": 3}), "click ignored"),
        (Action("click", {}), "click ignored"),
        (Action("click", {"element": 999}), "clicked [999]: no element with that id"),
        (Action("click", {"x": 1279, "y": 799}), "clicked (1279,799): nothing there"),
        (Action("type", {"text": 3}), 'type ignored: "text" must be a string'),
        (Action("type", {"text": "x"}), 'typed "x": no text field is focused, nothing changed'),
        (Action("type", {"text": "x", "element": 1}), "type ignored: element 1 is not a text field"),
        (Action("select", {"element": 1, "option": "Red"}), "select ignored: element 1 is not a dropdown"),
        (Action("scroll", {"direction": "sideways", "amount": 1}), "scroll ignored: direction must be"),
        (Action("scroll", {"direction": "down", "amount": 0}), "scroll ignored"),
        (Action("press_key", {"key": "F13"}), "press_key ignored: 'F13' is not a key"),
        (Action("fly", {}), "unknown action 'fly': nothing happened"),
        (Action("invalid_reply", {"error": "no JSON"}), "unknown action 'invalid_reply'"),
        (Action("click", [1, 2]), "click ignored: arguments must be a JSON object"),
        (Action("wait", {}), "waited: nothing changed"),
    ]
    for action, said in events:
        result = env.step(action)
        assert first_line(result.text).startswith(said), (action, result.text[:120])
        assert not result.done and result.reward == 0.0
        assert json.dumps(env.state(), sort_keys=True) == before, action
    box = el(env, "Disabled").box
    assert first_line(env.step(Action("click", {"x": box[0] + 2, "y": box[1] + 2})).text).endswith("it is disabled, nothing happens")


def test_norm1000_coordinates():
    size = (1280, 800)
    assert to_norm1000(640, 400, size) == (500, 500)
    for x, y in ((0, 0), (1279, 799), (333, 517)):
        nx, ny = to_norm1000(x, y, size)
        bx, by = from_norm1000(nx, ny, size)
        assert abs(bx - x) <= 1 and abs(by - y) <= 1
    env = make()
    b = el(env, "Next").box
    nx, ny = to_norm1000((b[0] + b[2]) // 2, (b[1] + b[3]) // 2, size)
    assert 'button "Next"' in first_line(env.fork().step(Action("click", {"x": nx, "y": ny, "unit": "norm1000"})).text)
    accepted = [{"name": "click", "element": 3, "box": list(b)}]
    assert is_acceptable(accepted, "click", {"x": nx, "y": ny, "unit": "norm1000"}, size)
    assert not is_acceptable(accepted, "click", {"x": nx, "y": ny, "unit": "norm1000"}, (640, 400))
    assert first_line(env.step(Action("click", {"x": 1001, "y": 5, "unit": "norm1000"})).text).startswith("click ignored")


def test_typing_focus_keys_and_submit():
    env = make()
    assert first_line(click(env, "Name")).endswith('textbox "Name": focused')
    env.step(Action("type", {"text": "Ad"}))
    assert 'textbox "Name" value="Ad" focused' in env.view().text
    assert first_line(env.step(Action("type", {"text": "Adaa"})).text).startswith('typed "Adaa" into')  # replaces
    assert first_line(env.step(Action("press_key", {"key": "Backspace"})).text).endswith('value now "Ada"')
    result = env.step(Action("press_key", {"key": "enter"}))  # Enter in Name activates Save
    assert 'activates' in first_line(result.text) and first_line(result.text).endswith(": saved")
    assert env.model["saved"] == {"name": "Ada", "colour": None}
    env.step(Action("type", {"text": "cats", "element": el(env, "Query").id}))  # focuses first
    env.step(Action("press_key", {"key": "Enter"}))
    assert env.model["log"][-1] == ["submit", "q", "cats"]
    assert first_line(env.step(Action("press_key", {"key": "Tab"})).text) == f'pressed Tab: focus moved to {el(env, "Name").ref()}'
    env.step(Action("press_key", {"key": "Shift+Tab"}))
    assert el(env, "Query").focused


def test_toggles_radios_and_space():
    env = make()
    assert first_line(click(env, "Agree")).endswith("now checked")
    assert first_line(click(env, "Wifi")).endswith("now unchecked")
    assert first_line(click(env, "L")).endswith("selected")
    text = env.view().text
    assert re.search(r'radio "L" checked=true', text) and re.search(r'radio "S" checked=false', text)
    assert env.model["log"][-1] == ["change", "size", "L"]
    assert first_line(env.step(Action("press_key", {"key": "Space"})).text).endswith("selected")  # L stays
    click(env, "Agree")
    assert first_line(env.step(Action("press_key", {"key": "Space"})).text).endswith("now checked")


def test_dropdowns_open_a_popup_and_select_directly():
    env = make()
    assert first_line(click(env, "Colour")).endswith("its options opened (3)")
    text = env.view().text
    assert "expanded=true" in text and re.search(r'\[\d+\] listbox "Colour"', text)
    assert re.search(r'option "Red" selected', text)
    assert first_line(click(env, "Green")) .endswith('chose "Green"')
    assert 'value="Green"' in env.view().text and "listbox" not in env.view().text
    colour = el(env, "Colour").id
    assert first_line(env.step(Action("select", {"element": colour, "option": "blue"})).text) == f'selected "Blue" in {el(env, "Colour").ref()}'
    assert first_line(env.step(Action("select", {"element": colour, "option": "Pink"})).text).startswith('select ignored: "Pink" is not an option')
    assert first_line(env.step(Action("press_key", {"key": "Up"})).text).endswith('selected "Green"')
    click(env, "Colour")
    assert first_line(env.step(Action("press_key", {"key": "Escape"})).text) == 'pressed Escape: closed the listbox "Colour"'


def test_dialogs_block_and_close_through_their_cancel_button():
    env = make()
    assert first_line(click(env, "Open dialog")).endswith('the dialog "Confirm?" opened')
    assert re.search(r'\[\d+\] dialog "Confirm\?" modal bbox', env.view().text)
    before = json.dumps(env.state(), sort_keys=True)
    save = el(env, "Save")
    said = first_line(env.step(Action("click", {"x": save.box[0] + 2, "y": save.box[1] + 2})).text)
    assert said.endswith('blocked by the dialog "Confirm?", nothing happened')
    assert first_line(env.step(Action("click", {"element": save.id})).text).endswith("blocked by the dialog \"Confirm?\", nothing happened")
    assert first_line(env.step(Action("type", {"text": "x", "element": el(env, "Name").id})).text).startswith("type into")
    assert json.dumps(env.state(), sort_keys=True) == before
    said = first_line(env.step(Action("navigate_back", {})).text)
    assert said.startswith("navigated back: activates") and 'button "No"' in said
    click(env, "Open dialog")
    assert first_line(env.step(Action("press_key", {"key": "Esc"})).text).startswith("pressed Escape: activates")
    assert env.view().modal is None


def test_menus_close_on_an_outside_click_and_after_an_item():
    env = make()
    click(env, "Menu")
    assert re.search(r'\[\d+\] menu "Actions"', env.view().text)
    assert first_line(env.step(Action("click", {"x": 1270, "y": 790})).text).endswith('outside the menu "Actions", which closed')
    assert env.model["log"][-1] == ["click", "menu", None]
    click(env, "Menu")
    assert first_line(click(env, "Second")).endswith('menuitem "Second": nothing else happens')
    assert env.model["log"][-1] == ["click", "m2", None] and "menu" not in env.view().text.split("\n", 1)[1]


def test_scrolling_reveals_hidden_items():
    env = make()
    area = el(env, "Items")
    said = first_line(env.step(Action("scroll", {"direction": "down", "amount": 3})).text)
    assert said == f"scrolled down 3 in {area.ref()}: offset 300 of {area.scroll_max}"
    assert "Item 0" not in env.view().text and "Item 12" in env.view().text
    x, y = area.box[0] + 5, area.box[1] + 5
    env.step(Action("scroll", {"direction": "down", "amount": 50, "x": x, "y": y}))
    assert "Item 29" in env.view().text
    assert first_line(env.step(Action("scroll", {"direction": "down", "amount": 1})).text).endswith("already at the bottom, nothing changed")
    assert "does not scroll sideways" in first_line(env.step(Action("scroll", {"direction": "left", "amount": 1})).text)
    b = el(env, "Save").box
    assert first_line(env.step(Action("scroll", {"direction": "up", "amount": 1, "x": b[0] + 1, "y": b[1] + 1})).text) == "scrolled up: nothing to scroll here"
    env.step(Action("press_key", {"key": "PageUp"}))
    env.step(Action("scroll", {"direction": "up", "amount": 9, "element": el(env, "Items").id}))
    assert "Item 0" in env.view().text


def test_long_press_navigate_back_and_the_back_button():
    env = make()
    item = el(env, "Item 2")
    assert first_line(env.step(Action("long_press", {"element": item.id})).text).endswith("nothing happens")
    assert env.model["log"][-1] == ["long_press", "item:2", None]
    assert first_line(env.step(Action("navigate_back", {})).text) == "navigated back: already on the first screen, nothing happened"
    click(env, "Next")
    said = first_line(env.step(Action("navigate_back", {})).text)
    assert said.startswith('navigated back: activates [1] button "Back"') and said.endswith('now showing "Probe"')


def test_answer_and_finish_end_the_episode():
    env = make()
    result = env.step(Action("answer", {"answer": "42"}))
    assert result.done and env.answer == "42" and first_line(result.text) == 'answered "42"'
    with pytest.raises(RuntimeError, match="ended"):
        env.step(Action("wait", {}))
    assert env.accepted_actions() == []
    env = make()
    assert env.step(Action("finish", {})).done and not env.outcome(None).success


# ---------------------------------------------------------------------------- accepted sets


def test_intents_become_every_equivalent_action():
    env = make()
    accepted = env.accepted_actions()
    name, colour, items = el(env, "Name"), el(env, "Colour"), el(env, "Items")
    assert {"name": "type", "text": "Ada", "match": "exact", "element": name.id, "box": list(name.box), "focused": False} in accepted
    assert {"name": "click", "element": name.id, "box": list(name.box)} in accepted
    assert {"name": "select", "element": colour.id, "box": list(colour.box), "option": "Blue"} in accepted
    assert {"name": "click", "element": colour.id, "box": list(colour.box)} in accepted
    scroll = next(e for e in accepted if e["name"] == "scroll")
    assert scroll["direction"] == "down" and scroll["element"] == items.id and scroll["main"] is True
    low, high = scroll["amount"]
    assert low == 1 and high is not None and high >= 2
    assert {"name": "press_key", "key": "PageDown"} in accepted
    assert env.accepts(Action("scroll", {"direction": "down", "amount": high}))
    assert not env.accepts(Action("scroll", {"direction": "down", "amount": high + 1}))  # would pass it
    assert not env.accepts(Action("type", {"text": "Ada"}))  # nothing focused: the field must be named
    assert env.accepts(Action("type", {"text": " Ada ", "element": name.id}))
    assert not env.accepts(Action("type", {"text": "ada", "element": name.id}))  # exact match keeps case
    # a point on the field names it as its id does (the screenshot-only form), a point beside it does not
    x0, y0, x1, y1 = name.box
    assert env.accepts(Action("type", {"text": "Ada", "x": x0 + 3, "y": y1 - 3}))
    assert not env.accepts(Action("type", {"text": "Ada", "x": x1, "y": y0}))
    cx0, cy0, cx1, cy1 = colour.box
    assert env.accepts(Action("select", {"x": cx1 - 2, "y": cy0 + 2, "option": "blue"}))
    assert not env.accepts(Action("select", {"x": cx1 - 2, "y": cy0 + 2, "option": "Blue", "element": colour.id}))
    click(env, "Name")
    assert env.accepts(Action("type", {"text": "Ada"}))
    env.step(Action("scroll", {"direction": "down", "amount": high}))
    item = el(env, "Item 14")
    assert env.accepts(Action("click", {"element": item.id}))
    # keyboard alternatives: a focused button's Enter, Escape and navigate_back for a dialog
    click(env, "Open dialog")
    assert [e["name"] for e in env.accepted_actions()] == ["click", "navigate_back", "press_key"]
    assert env.accepts(Action("press_key", {"key": "Escape"})) and env.accepts(Action("navigate_back", {}))
    env.step(Action("press_key", {"key": "Escape"}))
    click(env, "Next")
    back = el(env, "Back")
    assert env.accepts(Action("navigate_back", {})) and env.accepts(Action("click", {"x": back.box[0], "y": back.box[1]}))
    # the stored JSON is enough to check an action
    stored = json.loads(json.dumps(env.accepted_actions()))
    assert is_acceptable(stored, "navigate_back", {}, env.size) and not is_acceptable(stored, "finish", {}, env.size)


def test_an_open_dropdown_is_finished_before_other_subgoals():
    env = make()
    click(env, "Colour")
    accepted = env.accepted_actions()
    blue = el(env, "Blue")
    assert {"name": "click", "element": blue.id, "box": list(blue.box)} in accepted
    assert not any(e["name"] == "type" for e in accepted)


def test_text_and_answer_normalisation():
    assert normalize_text("  Ada   Lovelace ") == "Ada Lovelace"
    assert normalize_text("ADA@x.org", "casefold") == "ada@x.org"
    assert normalize_text("+351 912-345", "phone") == "+351912345"
    assert normalize_answer(' "Three." ') == "three"


# ---------------------------------------------------------------------------- images


def test_image_modes():
    task = FAMILY.make_task(1, 1, {})
    off = FAMILY.make_env(task, {"images": "off"})
    assert off.observe().image is None and off.step(Action("wait", {})).image is None
    once = FAMILY.make_env(task, {"images": "task"})
    assert once.observe().image is not None and once.step(Action("wait", {})).image is None
    steps = FAMILY.make_env(task, {})  # the gui default: every step
    png = steps.step(Action("wait", {})).image
    assert png.startswith(b"\x89PNG") and len(png) < 60_000
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and image.size == (1280, 800)
    assert steps.observe().image == png  # same state, same bytes


# ---------------------------------------------------------------------------- LLM protocol


def test_llm_messages_carry_the_protocol_the_task_and_the_history():
    task = FAMILY.make_task(1, 1, {})
    protocol = LLMProtocol(FAMILY.app, task)
    first = protocol.messages(task, [], "SCREEN0")
    assert [m["role"] for m in first] == ["system", "user"]
    assert "1280x800" in first[0]["content"] and all(a in first[0]["content"] for a in ("click", "scroll", "finish"))
    assert first[1]["content"] == "Task: Probe the engine.\n\nScreen:\nSCREEN0"
    history = [Step(i, f"t{i}", Action("wait", {}), Observation(f"event {i}\nSCREEN{i + 1}")) for i in range(5)]
    msgs = protocol.messages(task, history, history[-1].observation.text)
    assert [m["role"] for m in msgs] == ["system", "user"] + ["assistant", "user"] * 5
    assert msgs[2]["content"] == 'Thought: t0\nAction: {"arguments":{},"name":"wait"}'
    assert msgs[3]["content"] == "event 0\n(screen elided)" and msgs[-1]["content"] == "event 4\nSCREEN5"


@pytest.mark.parametrize(
    "reply, thought, name, args",
    [
        ('Thought: open it\nAction: {"name": "click", "arguments": {"x": 10, "y": 20}}', "open it", "click", {"x": 10, "y": 20}),
        ('I will type.\nAction:\n```json\n{"name": "type", "arguments": {"text": "a } b"}}\n```', "I will type.", "type", {"text": "a } b"}),
        ('Thought: done\nAction: {"name": "finish"}', "done", "finish", {}),
    ],
)
def test_llm_replies_parse(reply: str, thought: str, name: str, args: dict[str, Any]):
    assert LLMProtocol(FAMILY.app, FAMILY.make_task(1, 1, {})).parse(reply) == (thought, Action(name, args))


@pytest.mark.parametrize(
    "reply, message",
    [
        ("I think I should click.", "no action found"),
        ('Action: {"name": "click", "arguments": {"x": 1,}}', "not valid JSON"),
        ('Action: {"name": "fly", "arguments": {}}', "unknown action 'fly'"),
        ('Action: {"name": "click", "arguments": [1, 2]}', '"arguments" must be a JSON object'),
    ],
)
def test_llm_malformed_replies_say_what_is_wrong(reply: str, message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        LLMProtocol(FAMILY.app, FAMILY.make_task(1, 1, {})).parse(reply)


def test_the_docs_list_every_action_and_key():
    from pathlib import Path

    from synth.gui.actions import ACTIONS, KEYS

    text = (Path(__file__).resolve().parents[1] / "docs" / "gui.md").read_text()
    assert all(f"| `{name}` |" in text for name in ACTIONS)
    assert all(f"`{key}`" in text for key in KEYS)
