"""The generic GUI environment: UI state, deterministic action semantics, accepted actions.

The env owns everything that is the same in every app: the stack of frames (screens, then
dialogs and popups above the top screen), each frame's typed values, toggles, scroll offsets
and focus; how a click, a key, a scroll or ``type`` changes them; and how the app's planner
intents become the set of accepted actions. The app (:mod:`synth.gui.app`) only sees events
on its own widgets. The whole state is JSON (the app's model and the frames), so a fork or a
replay from ``task.env`` reproduces it exactly.

One render per state: the laid-out :class:`~synth.gui.toolkit.View` (tree text included) and
the accepted actions are cached until the next action, since the runner asks for the accepted
set, the step checker and the observation of the same state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import orjson

from stores.schema import Action, Outcome, Task, canonical_json
from synth.episode import StepResult
from synth.gui.actions import (
    ACTIONS,
    DIRECTIONS,
    KEYS,
    element,
    is_acceptable,
    key_name,
    point,
)
from synth.gui.app import App, Event, Intent
from synth.gui.toolkit import (
    CONTAINERS,
    FOCUSABLE,
    INTERACTIVE,
    NOTCH,
    TOGGLES,
    Layer,
    Node,
    Style,
    View,
    lay_out,
    option,
    quote,
)

OVERLAYS = ("dialog", "menu", "listbox")


class PlanError(RuntimeError):
    """An app's planner asked for something the screen cannot give (a bug in the app)."""


@dataclass(slots=True)
class Frame:
    """One entry of the UI stack. ``kind``: screen | dialog | menu | listbox (a dropdown's
    option list, opened by the env). Values, scroll offsets and focus belong to the frame, so
    leaving a screen or closing a dialog drops what was typed there."""

    kind: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    scroll: dict[str, int] = field(default_factory=dict)
    focus: str | None = None
    anchor: str | None = None

    def value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "args": self.args, "values": self.values,
                "scroll": self.scroll, "focus": self.focus, "anchor": self.anchor}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        return cls(data["kind"], data["name"], dict(data.get("args", {})), dict(data.get("values", {})),
                   dict(data.get("scroll", {})), data.get("focus"), data.get("anchor"))  # fmt: skip


@dataclass(slots=True)
class Option:
    """One accepted action: its JSON entry, the intent it serves, the element it acts on, and
    for a scroll towards a hidden element, that element (``reveals``) and the amount an agent
    that cannot see it would scroll (``hint``: about a screenful of the area, never past it)."""

    entry: dict[str, Any]
    intent: Intent
    target: Node | None
    hint: int = 0
    reveals: Node | None = None


class UI:
    """What a planner sees of the UI: the frames and the laid-out view (read-only)."""

    def __init__(self, frames: list[Frame], view: View):
        self.frames = frames
        self.view = view
        base = max(i for i, f in enumerate(frames) if f.kind == "screen")
        self.base = frames[base]
        # a dropdown's option list is the env's business (it closes it when the plan moves on)
        self.top = next(f for f in reversed(frames) if f.kind != "listbox")

    @property
    def screen(self) -> str:
        """The name of the screen shown (under any dialog or menu)."""
        return self.base.name

    @property
    def args(self) -> dict[str, Any]:
        return self.base.args

    @property
    def overlay(self) -> Frame | None:
        """The app's dialog or menu on top, if any."""
        return self.top if self.top.kind != "screen" else None

    def node(self, key: str) -> Node | None:
        """The laid-out node ``key`` (visible or scrolled away), or None if not on screen."""
        return self.view.nodes.get(key)

    def below(self, key: str) -> bool:
        """Whether ``key`` is on screen but scrolled out of view below its scroll area."""
        n = self.view.nodes.get(key)
        return n is not None and self.view.below(n)

    def value(self, key: str) -> Any:
        """What the widget ``key`` shows now: a text, an option, or a toggle's state."""
        n = self.view.nodes.get(key)
        if n is None:
            return None
        return n.checked if n.role in TOGGLES else n.value

    def radio(self, group: str) -> str | None:
        """The checked option of the radio group ``group`` on screen."""
        for n in self.view.nodes.values():
            if n.role == "radio" and n.group == group and n.checked:
                return n.value
        return None


class Ctx:
    """What an app's ``on`` may do: change ``model`` and move through the UI stack."""

    def __init__(self, env: GuiEnv, frame: Frame):
        self.model = env.model
        self.frame = frame  # the frame the event came from
        self._frames = env.frames

    @property
    def screen(self) -> Frame:
        """The top screen frame (under any dialog or menu)."""
        return next(f for f in reversed(self._frames) if f.kind == "screen")

    def find(self, name: str) -> Frame | None:
        return next((f for f in reversed(self._frames) if f.name == name), None)

    def push(self, name: str, **args: Any) -> None:
        """Open screen ``name`` on top (closing any dialog or menu); ``navigate_back`` returns."""
        self._drop_overlays()
        self._frames.append(Frame("screen", name, args))

    def goto(self, name: str, **args: Any) -> None:
        """Replace the top screen with a fresh ``name`` (a sidebar switch: no back step)."""
        self._drop_overlays()
        self._frames[-1] = Frame("screen", name, args)

    def home(self, name: str, **args: Any) -> None:
        """Clear the stack down to one fresh screen."""
        self._frames[:] = [Frame("screen", name, args)]

    def back(self) -> None:
        """Pop the top frame (never the last screen)."""
        if len(self._frames) > 1:
            self._frames.pop()

    def dialog(self, name: str, **args: Any) -> None:
        self._frames.append(Frame("dialog", name, args))

    def menu(self, name: str, anchor: str, **args: Any) -> None:
        self._frames.append(Frame("menu", name, args, anchor=anchor))

    def close(self) -> None:
        """Close the top dialog or menu."""
        if self._frames[-1].kind != "screen":
            self._frames.pop()

    def _drop_overlays(self) -> None:
        while self._frames[-1].kind != "screen":
            self._frames.pop()


class GuiEnv:
    """One app's live state, rebuilt from ``task.env`` alone (after a JSON round trip too)."""

    def __init__(self, app: App, task: Task, images: str = "steps"):
        env = task.env
        self.app = app
        self.task = task
        self.images = images
        self.size: tuple[int, int] = (int(env["screen"][0]), int(env["screen"][1]))
        self.style = Style.from_json(env["style"])
        self.goal: dict[str, Any] = task.reference["goal"]
        self.model: dict[str, Any] = orjson.loads(orjson.dumps(env["model"]))
        self.frames = [Frame.from_json(f) for f in env["ui"]]
        self.done = False
        self.answer: str | None = None
        self._view: View | None = None
        self._options: list[Option] | None = None
        self._moved = False  # the last action changed the top layer (for its event line)

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """The whole state as JSON (model, frames, end), for snapshots and comparisons."""
        return {"model": self.model, "frames": [f.to_json() for f in self.frames],
                "done": self.done, "answer": self.answer}  # fmt: skip

    def fork(self, images: str = "off") -> GuiEnv:
        """An independent copy in the same state (policies simulate on it)."""
        twin = GuiEnv.__new__(GuiEnv)
        twin.app, twin.task, twin.images, twin.size, twin.style = self.app, self.task, images, self.size, self.style
        state = orjson.loads(orjson.dumps(self.state()))
        twin.goal, twin.model = self.goal, state["model"]
        twin.frames = [Frame.from_json(f) for f in state["frames"]]
        twin.done, twin.answer = state["done"], state["answer"]
        twin._view = twin._options = None
        twin._moved = False
        return twin

    def view(self) -> View:
        """The laid-out screen for the current state (built once per state)."""
        if self._view is None:
            self._view = self._render()
        return self._view

    def ui(self) -> UI:
        return UI(self.frames, self.view())

    def _render(self) -> View:
        base = max(i for i, f in enumerate(self.frames) if f.kind == "screen")
        layers: list[Layer] = []
        roots: list[Node] = []
        for i in range(base, len(self.frames)):
            frame = self.frames[i]
            if frame.kind == "listbox":
                root = self._listbox(frame, roots, layers)
            else:
                root = self.app.view(self.model, frame)
                if frame.kind == "menu" and root.anchor is None:
                    root.anchor = frame.anchor
            above = self.frames[i + 1] if i + 1 < len(self.frames) else None
            expanded = above.anchor if above is not None and above.kind == "listbox" else None
            layers.append(Layer(root, frame.values, frame.scroll, frame.focus, expanded))
            roots.append(root)
        return lay_out(layers, self.style, self.size)

    def _listbox(self, frame: Frame, roots: list[Node], layers: list[Layer]) -> Node:
        """The option list of the dropdown ``frame.anchor`` (declared in a lower layer)."""
        combo = _find(roots, frame.anchor)
        if combo is None:
            raise PlanError(f"the option list of {frame.anchor!r} lost its dropdown")
        current = layers[-1].values.get(combo.key, combo.value)
        items = [option(o, f"{combo.key}={o}", o == current) for o in combo.options]
        return Node("listbox", combo.name, children=items, anchor=combo.key)

    def observe(self) -> StepResult:
        """The screen before any action (no state change)."""
        return StepResult(self.view().text, image=self._image() if self.images != "off" else None)

    def _image(self) -> bytes:
        from synth.gui.render import draw

        sink = io.BytesIO()
        draw(self.view(), self.style).save(sink, format="PNG", compress_level=1)
        return sink.getvalue()

    # ------------------------------------------------------------------ accepted actions

    def options(self, goal: dict[str, Any] | None = None) -> list[Option]:
        """Every accepted action now, with the intent each serves (for ``goal``, default the
        task's: a noisy policy plans for the goal it wrongly believes)."""
        if goal is not None and goal is not self.goal:
            return self._expand_all(goal)
        if self._options is None:
            self._options = self._expand_all(self.goal)
        return self._options

    def accepted_actions(self) -> list[dict[str, Any]]:
        """The step's accepted set as JSON (stored with the step)."""
        return [o.entry for o in self.options()]

    def accepts(self, action: Action) -> bool:
        return is_acceptable(self.accepted_actions(), action.name, action.arguments, self.size)

    def _expand_all(self, goal: dict[str, Any]) -> list[Option]:
        if self.done:
            return []
        intents = self.app.plan(self.model, self.ui(), goal) or [Intent("finish", why="everything the task asks for is done")]
        view = self.view()
        if view.top.role in ("menu", "listbox"):
            # an open popup that serves a sub-goal is finished first; closing it to do another
            # sub-goal would only undo the step that opened it
            inside = [i for i in intents if self._in_popup(i, view)]
            intents = inside or intents
        out: list[Option] = []
        seen: set[str] = set()
        for intent in intents:
            for opt in self._expand(intent):
                sig = canonical_json(opt.entry)
                if sig not in seen:
                    seen.add(sig)
                    out.append(opt)
        return out

    def _in_popup(self, intent: Intent, view: View) -> bool:
        if intent.kind == "select":
            return intent.key == view.top.anchor
        node = view.nodes.get(intent.key or "")
        return node is not None and node.layer == len(view.layers) - 1

    def _expand(self, intent: Intent) -> list[Option]:
        """The concrete actions that carry out ``intent`` from the current state."""
        view = self.view()
        kind = intent.kind
        if kind == "finish":
            return [Option({"name": "finish"}, intent, None)]
        if kind == "answer":
            return [Option({"name": "answer", "answers": [intent.text, *intent.aliases]}, intent, None)]
        if kind == "back":
            return self._back_options(intent)
        el = view.nodes.get(intent.key or "")
        if el is None:
            raise PlanError(f"{self.app.name}: the plan's {kind} of {intent.key!r} names nothing on screen {view.title!r}")
        top = len(view.layers) - 1
        if el.layer < top and not (kind == "select" and self.frames[-1].anchor == el.key):
            if view.top.role in ("menu", "listbox"):
                return self._back_options(Intent("back", why=f"close the {view.top.role} first ({intent.why})", sub=intent.sub))
            raise PlanError(f"{self.app.name}: the plan acts on {el.ref()} under the open dialog {view.top.name!r}")
        if not el.visible:
            return self._reveal(el, intent)
        if kind == "show":
            raise PlanError(f"{self.app.name}: the plan asks to scroll to {el.ref()}, which is already visible")
        out = []
        if kind in ("click", "long_press"):
            out.append(Option({"name": kind, "element": el.id, "box": list(el.box)}, intent, el))
            if kind == "click" and el.focused and el.role not in ("textbox", "combobox"):
                out.append(Option({"name": "press_key", "key": "Space" if el.role in TOGGLES or el.role == "radio" else "Enter"}, intent, el))
            window = view.layers[top]
            if kind == "click" and window.role == "window" and window.back == el.key:
                out.append(Option({"name": "navigate_back"}, intent, el))
        elif kind == "type":
            out.append(Option({"name": "type", "text": intent.text, "match": el.match, "element": el.id,
                               "box": list(el.box), "focused": el.focused}, intent, el))  # fmt: skip
            if not el.focused:
                out.append(Option({"name": "click", "element": el.id, "box": list(el.box)}, intent, el))
        elif kind == "select":
            out.append(Option({"name": "select", "element": el.id, "box": list(el.box), "option": intent.text}, intent, el))
            item = view.nodes.get(f"{el.key}={intent.text}")
            if item is not None and item.layer == top and item.visible:
                out.append(Option({"name": "click", "element": item.id, "box": list(item.box)}, intent, item))
            elif el.layer == top:
                out.append(Option({"name": "click", "element": el.id, "box": list(el.box)}, intent, el))
        elif kind == "enter":
            if el.focused:
                out.append(Option({"name": "press_key", "key": "Enter"}, intent, el))
            else:
                out.append(Option({"name": "click", "element": el.id, "box": list(el.box)}, intent, el))
            button = view.nodes.get(el.submit or "")
            if button is not None and button is not el and button.visible and button.layer == top:
                out.append(Option({"name": "click", "element": button.id, "box": list(button.box)}, intent, button))
        else:
            raise PlanError(f"{self.app.name}: unknown intent kind {kind!r}")
        return out

    def _back_options(self, intent: Intent) -> list[Option]:
        view = self.view()
        top = view.top
        out = []
        own = view.nodes.get((top.cancel if top.role == "dialog" else top.back) or "")
        if own is not None and own.visible and own.layer == len(view.layers) - 1:
            out.append(Option({"name": "click", "element": own.id, "box": list(own.box)}, intent, own))
        out.append(Option({"name": "navigate_back"}, intent, None))
        if top.role in OVERLAYS:
            out.append(Option({"name": "press_key", "key": "Escape"}, intent, None))
        return out

    def _reveal(self, el: Node, intent: Intent) -> list[Option]:
        """Scroll actions that bring the hidden ``el`` closer without scrolling past it."""
        view = self.view()
        area = view.scroller(el)
        if area is None:
            raise PlanError(f"{self.app.name}: {el.role} {el.name!r} is off screen and in no scroll area")
        if not area.visible:
            return self._reveal(area, intent)
        height, offset, top = area.box[3] - area.box[1], area.scroll, el.content_y
        bottom = top + (el.box[3] - el.box[1])
        down = bottom > offset + height
        amounts: list[tuple[int, int]] = []
        unbounded, last = False, offset
        for n in range(1, 64):
            new = min(offset + n * NOTCH, area.scroll_max) if down else max(offset - n * NOTCH, 0)
            if new == last:  # clamped at the end: every larger amount lands here too
                unbounded = bool(amounts)
                break
            if new > top if down else new + height < bottom:  # would scroll past the target
                break
            amounts.append((n, new))
            last = new
        if not amounts:
            raise PlanError(f"{self.app.name}: cannot scroll {area.name!r} to show {el.name!r}; make the area taller")
        high = None if unbounded else amounts[-1][0]
        direction = "down" if down else "up"
        # an agent that cannot see the target scrolls about a screenful of the area: its
        # height less the tallest row it shows, which never scrolls past a row that tall
        tallest = max((e.box[3] - e.box[1] for e in view.elements if view.scroller(e) is area
                       and not e.children and e.role not in CONTAINERS), default=NOTCH)  # fmt: skip
        blind = min(max(1, (height - tallest) // NOTCH), amounts[-1][0])
        main = view.main_scroller() is area
        out = [Option({"name": "scroll", "direction": direction, "amount": [1, high], "element": area.id,
                       "box": list(area.box), "main": main}, intent, area, blind, el)]  # fmt: skip
        if main:
            keys = [("PageDown" if down else "PageUp", _page(height))]
            if not self._combo_focused():
                keys.append(("Down" if down else "Up", NOTCH))
            for key, px in keys:
                new = min(offset + px, area.scroll_max) if down else max(offset - px, 0)
                if new != offset and (new <= top if down else new + height >= bottom):
                    out.append(Option({"name": "press_key", "key": key}, intent, area, reveals=el))
        return out

    def _combo_focused(self) -> bool:
        view = self.view()
        return view.top.role == "listbox" or any(e.focused and e.role == "combobox" for e in view.elements)

    # ------------------------------------------------------------------ dynamics

    def step(self, action: Action) -> StepResult:
        if self.done:
            raise RuntimeError(f"the {self.app.name} episode has ended; build a new env to act again")
        handler = getattr(self, f"_do_{action.name}", None) if action.name in ACTIONS else None
        self._moved = False
        if handler is None:
            event = f"unknown action {action.name!r}: nothing happened; actions are {', '.join(ACTIONS)}"
        elif not isinstance(action.arguments, dict):
            event = f"{action.name} ignored: arguments must be a JSON object"
        else:
            event = handler(action.arguments)
        self._view = self._options = None
        view = self.view()
        if self._moved:
            top = view.top
            event += ("" if event.endswith(": ") else "; ") + (
                f"the dialog {quote(top.name)} opened" if top.role == "dialog"
                else f"the menu {quote(top.name)} opened" if top.role == "menu"
                else f"now showing {quote(view.title)}")  # fmt: skip
        reward = 1.0 if self.done and self.outcome(self.answer).success else 0.0
        image = self._image() if self.images == "steps" else None
        return StepResult(event + "\n" + view.text, reward, self.done, image)

    def outcome(self, final_answer: str | None) -> Outcome:
        ok, detail = self.app.check(self.model, self.goal, final_answer)
        return Outcome(bool(ok), self.app.verifier, detail)

    # -- the actions (``_do_<name>``, each returns the event line)

    def _do_click(self, args: dict[str, Any], long: bool = False) -> str:
        verb = "long-pressed" if long else "clicked"
        target, where = self._target(args, verb, "long_press" if long else "click")
        if target is None:
            return where
        el: Node | None = target
        view = self.view()
        while el is not None and el.role not in INTERACTIVE:
            el = view.parent(el)
        if el is None:
            return f"{where} on {target.ref()}: nothing happens"
        if el.disabled:
            return f"{where} on {el.ref()}: it is disabled, nothing happens"
        return f"{where} on {el.ref()}: {self._activate(el, long)}"

    def _do_long_press(self, args: dict[str, Any]) -> str:
        return self._do_click(args, long=True)

    def _target(self, args: dict[str, Any], verb: str, action: str) -> tuple[Node | None, str]:
        """The top-layer element a pointer action lands on, or None and the event line."""
        view = self.view()
        at, eid = point(args, self.size), element(args)
        top = len(view.layers) - 1
        if at is not None:
            where = f"{verb} ({at[0]},{at[1]})"
            hit = view.hit(*at)
            if hit is not None:
                return hit, where
            if view.top.role != "window" and not view.top.contains(*at):
                return None, self._outside(where)
            return None, f"{where}: nothing there"
        if eid is not None and "x" not in args and "y" not in args:
            if not 1 <= eid <= len(view.elements):
                return None, f"{verb} [{eid}]: no element with that id on screen, nothing happened"
            el = view.elements[eid - 1]
            where = f"{verb} [{eid}]"
            if el.layer < top:
                return None, self._outside(where)
            return el, where
        return None, (f'{action} ignored: give "x" and "y" as integer pixels (or with "unit": "norm1000"), '
                      'or "element" as an element id')  # fmt: skip

    def _outside(self, where: str) -> str:
        """A pointer action outside the top layer: blocked by a dialog, or closes a popup."""
        top = self.view().top
        if top.role == "dialog":
            return f"{where}: blocked by the dialog {quote(top.name)}, nothing happened"
        if top.role in ("menu", "listbox"):
            self.frames.pop()
            return f"{where}: outside the {top.role} {quote(top.name)}, which closed"
        return f"{where}: nothing there"

    def _frame_of(self, el: Node) -> Frame:
        base = max(i for i, f in enumerate(self.frames) if f.kind == "screen")
        return self.frames[base + el.layer]

    def _activate(self, el: Node, long: bool = False) -> str:
        """What activating ``el`` does (a click, Enter or Space on it)."""
        frame = self._frame_of(el)
        r = el.role
        if r in FOCUSABLE and frame.kind != "listbox":
            frame.focus = el.key
        if long:
            note = self._dispatch("long_press", el.key, None, frame)
            return note or ("" if self._moved else "nothing happens")
        if r == "textbox":
            return "focused"
        if r == "combobox":
            self.frames.append(Frame("listbox", el.name, anchor=el.key))
            return f"its options opened ({len(el.options)})"
        if r in TOGGLES:
            now = not el.checked
            frame.values[el.key] = now
            note = self._dispatch("change", el.key, now, frame)
            return f"now {'checked' if now else 'unchecked'}" + (f"; {note}" if note else "")
        if r == "radio":
            frame.values[el.group] = el.value
            note = self._dispatch("change", el.group, el.value, frame)
            return "selected" + (f"; {note}" if note else "")
        if r == "option":
            self.frames.pop()
            owner = self.frames[-1]
            combo = el.key.split("=", 1)[0]
            owner.values[combo] = el.name
            owner.focus = combo
            note = self._dispatch("change", combo, el.name, owner)
            return f"chose {quote(el.name)}" + (f"; {note}" if note else "")
        if r == "menuitem" and frame.kind == "menu":
            self.frames.pop()
        note = self._dispatch("click", el.key, None, frame)
        return note or ("" if self._moved else "nothing else happens")

    def _dispatch(self, kind: str, key: str, value: Any, frame: Frame) -> str | None:
        """Tell the app; note whether the event changed the top layer (``step`` then names
        the new one from the render it makes anyway)."""
        before, depth = self.frames[-1], len(self.frames)
        note = self.app.on(Ctx(self, frame), Event(kind, key, value, frame))
        if self.frames[-1] is not before or len(self.frames) != depth:
            self._moved = True
        return note

    def _named(self, args: dict[str, Any], role: str) -> tuple[Node | None, str]:
        """The ``role`` element an action names by ``element`` id or by a point on it (the
        topmost such element under the point), and how the event line refers to it."""
        view = self.view()
        at = point(args, self.size)
        if at is not None:
            hits = [e for e in view.elements if e.role == role and e.contains(*at)]
            return (max(hits, key=lambda e: e.layer) if hits else None), f"({at[0]},{at[1]})"
        eid = element(args)
        el = view.elements[eid - 1] if eid is not None and 1 <= eid <= len(view.elements) else None
        return (el if el is not None and el.role == role else None), f"element {args.get('element')!r}"

    def _do_type(self, args: dict[str, Any]) -> str:
        text = args.get("text")
        if not isinstance(text, str):
            return 'type ignored: "text" must be a string'
        view = self.view()
        if "element" in args or "x" in args or "y" in args:
            el, ref = self._named(args, "textbox")
            if el is None:
                return f"type ignored: {ref} is not a text field on screen"
            if el.layer < len(view.layers) - 1:
                return self._outside(f"type into {el.ref()}")
            if el.disabled:
                return f"type ignored: {el.ref()} is disabled"
            self._frame_of(el).focus = el.key
        else:
            el = next((e for e in view.elements if e.focused and e.layer == len(view.layers) - 1), None)
            if el is None or el.role != "textbox":
                return f"typed {quote(text)}: no text field is focused, nothing changed"
        frame = self._frame_of(el)
        frame.values[el.key] = text
        note = self._dispatch("change", el.key, text, frame)
        return f"typed {quote(text)} into {el.ref()}" + (f"; {note}" if note else "")

    def _do_select(self, args: dict[str, Any]) -> str:
        view = self.view()
        wanted = args.get("option")
        el, ref = self._named(args, "combobox")
        if el is None:
            return f"select ignored: {ref} is not a dropdown on screen"
        if el.layer < len(view.layers) - 1 and self.frames[-1].anchor != el.key:
            return self._outside(f"select in {el.ref()}")
        if el.disabled:
            return f"select ignored: {el.ref()} is disabled"
        choice = next((o for o in el.options if isinstance(wanted, str) and o.casefold() == wanted.strip().casefold()), None)
        if choice is None:
            return f"select ignored: {quote(str(wanted))} is not an option of {el.ref()}"
        if self.frames[-1].anchor == el.key:
            self.frames.pop()
        frame = self._frame_of(el)
        frame.values[el.key] = choice
        frame.focus = el.key
        note = self._dispatch("change", el.key, choice, frame)
        return f"selected {quote(choice)} in {el.ref()}" + (f"; {note}" if note else "")

    def _do_scroll(self, args: dict[str, Any]) -> str:
        direction, amount = args.get("direction"), args.get("amount", 1)
        if direction not in DIRECTIONS or type(amount) is not int or amount < 1:
            return (f"scroll ignored: direction must be one of {list(DIRECTIONS)} and amount a positive "
                    f"integer, got {direction!r}, {amount!r}")  # fmt: skip
        view = self.view()
        area: Node | None
        if "x" in args or "y" in args or "element" in args:
            target, where = self._target(args, "scrolled", "scroll")
            if target is None:
                return where
            area = target
            while area is not None and area.role != "scrollarea":
                area = view.parent(area)
        else:
            area = view.main_scroller()
        if area is None:
            return f"scrolled {direction}: nothing to scroll here"
        if direction in ("left", "right"):
            return f"scrolled {direction}: {area.ref()} does not scroll sideways, nothing changed"
        return self._scroll_by(area, amount * NOTCH * (1 if direction == "down" else -1), f"scrolled {direction} {amount}")

    def _scroll_by(self, area: Node, px: int, what: str) -> str:
        new = min(max(area.scroll + px, 0), area.scroll_max)
        if new == area.scroll:
            return f"{what} in {area.ref()}: already at the {'bottom' if px > 0 else 'top'}, nothing changed"
        self._frame_of(area).scroll[area.key] = new
        return f"{what} in {area.ref()}: offset {new} of {area.scroll_max}"

    def _do_press_key(self, args: dict[str, Any]) -> str:
        key = key_name(args.get("key"))
        if key is None:
            return f"press_key ignored: {args.get('key')!r} is not a key; keys are {', '.join(KEYS)}"
        view = self.view()
        top = len(view.layers) - 1
        focused = next((e for e in view.elements if e.focused and e.layer == top), None)
        said = f"pressed {key}"
        if key == "Escape":
            if view.top.role in OVERLAYS:
                return f"{said}: {self._leave()}"
            return f"{said}: nothing to close"
        if key in ("Tab", "Shift+Tab"):
            return f"{said}: {self._tab(view, focused, -1 if key == 'Shift+Tab' else 1)}"
        if key in ("Up", "Down"):
            delta = 1 if key == "Down" else -1
            if view.top.role in ("menu", "listbox"):
                return f"{said}: {self._tab(view, focused, delta)}"
            if focused is not None and focused.role == "combobox":
                return f"{said} on {focused.ref()}: {self._step_option(focused, delta)}"
        if key in ("Up", "Down", "PageUp", "PageDown"):
            area = view.main_scroller()
            if area is None:
                return f"{said}: nothing to scroll"
            page = _page(area.box[3] - area.box[1])
            px = {"PageDown": page, "PageUp": -page, "Down": NOTCH, "Up": -NOTCH}[key]
            return self._scroll_by(area, px, said)
        if focused is None:
            return f"{said}: nothing is focused, nothing happened"
        if key == "Backspace":
            if focused.role != "textbox":
                return f"{said}: {focused.ref()} is not a text field, nothing happened"
            return f"{said} in {focused.ref()}: {self._edit(focused, (focused.value or '')[:-1])}"
        if key == "Space" and focused.role == "textbox":
            return f"{said} in {focused.ref()}: {self._edit(focused, (focused.value or '') + ' ')}"
        if key == "Enter" and focused.role == "textbox":
            if focused.submit is None:
                return f"{said} in {focused.ref()}: nothing happens"
            if focused.submit == focused.key:
                return f"{said} in {focused.ref()}: " + (self._dispatch("submit", focused.key, focused.value, self._frame_of(focused)) or "submitted")
            target = view.nodes.get(focused.submit)
            if target is None or not target.visible or target.disabled:
                return f"{said} in {focused.ref()}: nothing happens"
            return f"{said} in {focused.ref()}: activates {target.ref()}: {self._activate(target)}"
        if key == "Enter" and focused.role in TOGGLES | {"radio"}:
            return f"{said} on {focused.ref()}: nothing happens"
        if focused.disabled:
            return f"{said} on {focused.ref()}: it is disabled, nothing happens"
        return f"{said} on {focused.ref()}: {self._activate(focused)}"

    def _edit(self, el: Node, text: str) -> str:
        frame = self._frame_of(el)
        frame.values[el.key] = text
        note = self._dispatch("change", el.key, text, frame)
        return f"value now {quote(text)}" + (f"; {note}" if note else "")

    def _step_option(self, el: Node, delta: int) -> str:
        """Up/Down on a closed dropdown: the previous/next option, as a native select does."""
        i = el.options.index(el.value) if el.value in el.options else -1
        j = min(max(i + delta, 0), len(el.options) - 1)
        if j == i or not el.options:
            return "no other option that way"
        frame = self._frame_of(el)
        frame.values[el.key] = el.options[j]
        note = self._dispatch("change", el.key, el.options[j], frame)
        return f"selected {quote(el.options[j])}" + (f"; {note}" if note else "")

    def _tab(self, view: View, focused: Node | None, delta: int) -> str:
        top = len(view.layers) - 1
        order = [e for e in view.elements if e.layer == top and e.role in FOCUSABLE and not e.disabled]
        if not order:
            return "nothing can take focus"
        i = order.index(focused) if focused in order else (-1 if delta > 0 else 0)
        nxt = order[(i + delta) % len(order)]
        self.frames[-1].focus = nxt.key
        return f"focus moved to {nxt.ref()}"

    def _do_navigate_back(self, args: dict[str, Any]) -> str:
        return f"navigated back: {self._leave()}"

    def _leave(self) -> str:
        """Close the top dialog or popup (through its cancel button if it has one), else go
        back one screen (through the screen's own Back button if it has one)."""
        view = self.view()
        top = view.top
        own = view.nodes.get((top.cancel if top.role == "dialog" else top.back) or "")
        if own is not None and own.visible and own.layer == len(view.layers) - 1 and not own.disabled:
            return f"activates {own.ref()}: {self._activate(own)}"
        if top.role in OVERLAYS:
            self.frames.pop()
            return f"closed the {top.role} {quote(top.name)}"
        if sum(f.kind == "screen" for f in self.frames) < 2:
            return "already on the first screen, nothing happened"
        self.frames.pop()
        self._moved = True
        return "left the screen"

    def _do_wait(self, args: dict[str, Any]) -> str:
        return "waited: nothing changed"

    def _do_answer(self, args: dict[str, Any]) -> str:
        self.answer = str(args.get("answer", ""))
        self.done = True
        return f"answered {quote(self.answer)}"

    def _do_finish(self, args: dict[str, Any]) -> str:
        self.done = True
        return "finished"


def _page(height: int) -> int:
    """PageDown/PageUp move one viewport less a notch of overlap (at least one notch)."""
    return max(NOTCH, height - NOTCH)


def _find(roots: list[Node], key: str | None) -> Node | None:
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n.key == key:
            return n
        stack.extend(n.children)
    return None
