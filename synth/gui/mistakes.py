"""Believable GUI mistakes, each with a cause, and the check that catches one on the next screen.

Why causes: a wrong action drawn at random ("click a neighbour") teaches a trainer nothing
about how agents really fail, and a thought that states the right goal and then acts against
it is self-contradictory text. Here a mistake is one of the slips GUI agents make, derived
from the screen the agent acted on:

- ``similar_label``: it acts on an element whose label looks like the target's ("Q2 report"
  for "Q3 report", "plan-v2.docx" for "plan.docx", "Buy oat milk" for "Buy milk");
- ``off_by_one``: it acts on the neighbouring row, option, day cell or field;
- ``boundary_misclick``: its click lands just outside the target's box, on the neighbour
  across the border or on nothing;
- ``stale_screen``: it believes the previous screen is still open and clicks again where the
  element was, though its last click already changed the screen;
- ``typo``: a slip of one character in the text it types;
- ``premature_finish``: it believes the task is done (or answers from the part of a list
  it has counted so far) before it is.

The thought at the mistaken step is the thought of what the agent *believes* it does (it
names the intended element; the action lands elsewhere), so it never states the right goal
and then names something else. The cause, the step and what was intended and hit go to
``policy.params["mistake"]``. A reflective agent notices its mistake by reading the next
screen (:func:`evidence`): a field holds the wrong value, another screen opened, nothing
changed; never from the env's verdict.
"""

from __future__ import annotations

import difflib
import random
import re
from dataclasses import dataclass
from typing import Any

from stores.schema import Action
from synth.gui.actions import is_acceptable, point_in
from synth.gui.env import GuiEnv, Option
from synth.gui.toolkit import INTERACTIVE, TOGGLES, Node, View

CAUSES = ("similar_label", "off_by_one", "boundary_misclick", "stale_screen", "typo", "premature_finish")
POINTER = ("click", "long_press")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(slots=True)
class Mistake:
    """A wrong action, why it happened, what the agent meant and what it hit."""

    cause: str
    action: Action
    intended: Option | None  # what the agent believed it was doing (None: finishing)
    acted: Node | None = None  # the element the action really landed on (None: nothing)
    detail: str = ""  # e.g. the wrong option or text

    def params(self, step: int) -> dict[str, Any]:
        """``policy.params["mistake"]``: the cause, the step, and what was meant and done
        (element labels; for a dropdown the options, for a typo the texts)."""
        out: dict[str, Any] = {"cause": self.cause, "step": step}
        e = self.intended.entry if self.intended is not None else {}
        t = self.intended.target if self.intended is not None else None
        if e.get("name") == "select":
            out["intended"], out["acted"] = e["option"], self.detail
        elif self.cause == "typo":
            out["intended"], out["acted"] = e["text"], self.detail
        else:
            if t is not None:
                out["intended"] = t.name
            if self.acted is not None:
                out["acted"] = self.acted.name
            if self.detail:
                out["detail"] = self.detail
        if self.intended is not None and self.intended.intent.sub:
            out["subgoal"] = self.intended.intent.sub
        return out


# ---------------------------------------------------------------------------- relations


def similar(a: str, b: str) -> bool:
    """Labels a hurried reader could take for each other: most words shared ("Buy milk" /
    "Buy oat milk") or nearly the same characters ("Q3 report" / "Q2 report")."""
    if not a or not b or a.casefold() == b.casefold():
        return False
    ta, tb = set(_TOKEN.findall(a.casefold())), set(_TOKEN.findall(b.casefold()))
    if ta and tb and len(ta & tb) / len(ta | tb) >= 0.5:
        return True
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold()).ratio() >= 0.75


def adjacent(a: Node, b: Node) -> bool:
    """Whether ``b`` is the next element over from ``a``: directly above, below, left or
    right, overlapping it on the other axis, with at most a small gap."""
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    h, w = ay1 - ay0, ax1 - ax0
    over_x = min(ax1, bx1) - max(ax0, bx0) > 0
    over_y = min(ay1, by1) - max(ay0, by0) > 0
    gap_y = max(by0 - ay1, ay0 - by1)
    gap_x = max(bx0 - ax1, ax0 - bx1)
    return (over_x and 0 <= gap_y <= max(8, h // 2)) or (over_y and 0 <= gap_x <= max(16, w // 4))


def gap(a: Node, b: Node) -> int:
    """Pixels between two boxes (0 when they touch or overlap)."""
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    return max(0, bx0 - ax1, ax0 - bx1, by0 - ay1, ay0 - by1)


def peers(view: View, target: Node) -> list[Node]:
    """Interactive elements of the top layer a slip could hit instead of ``target``."""
    top = len(view.layers) - 1
    return [e for e in view.elements if e.layer == top and e is not target and e.role in INTERACTIVE]


# ---------------------------------------------------------------------------- points


def toward(box: tuple[int, ...], other: tuple[int, ...], rng: random.Random) -> tuple[int, int]:
    """A pixel inside ``box`` within 3 px of its edge that faces ``other`` (a click that
    strayed across the border between them)."""
    x0, y0, x1, y1 = box
    ox0, oy0, ox1, oy1 = other
    x, y = point_in(box, rng)
    d = rng.randint(0, min(2, max(0, (x1 - x0) // 2 - 1), max(0, (y1 - y0) // 2 - 1)))
    if oy1 <= y0:
        y = y0 + d
    elif oy0 >= y1:
        y = y1 - 1 - d
    elif ox1 <= x0:
        x = x0 + d
    elif ox0 >= x1:
        x = x1 - 1 - d
    return x, y


def beside(view: View, target: Node, size: tuple[int, int], rng: random.Random) -> list[tuple[int, int]]:
    """Pixels 1-3 px outside ``target``'s box, one per side that stays on screen."""
    x0, y0, x1, y1 = target.box
    d = rng.randint(1, 3)
    xs, ys = rng.randint(x0, x1 - 1), rng.randint(y0, y1 - 1)
    out = [(xs, y0 - d), (xs, y1 - 1 + d), (x0 - d, ys), (x1 - 1 + d, ys)]
    return [(x, y) for x, y in out if 0 <= x < size[0] and 0 <= y < size[1]]


# ---------------------------------------------------------------------------- candidates


def slips(env: GuiEnv, option: Option, rng: random.Random, last: tuple[View, Action] | None = None) -> list[Mistake]:
    """Every caused slip instead of ``option`` (what the agent means to do) at the env's
    state that the env does not accept as progress. ``last`` is the screen and the action of
    the previous step (for ``stale_screen``)."""
    view = env.view()
    e, t = option.entry, option.target
    out: list[Mistake] = []
    name = e["name"]
    if name in POINTER and t is not None and "box" in e:
        for w in peers(view, t):
            if w.role == t.role and similar(t.name, w.name):
                out.append(Mistake("similar_label", Action(name, dict(zip("xy", point_in(w.box, rng), strict=True))), option, w))
            elif w.role == t.role and adjacent(t, w):
                out.append(Mistake("off_by_one", Action(name, dict(zip("xy", point_in(w.box, rng), strict=True))), option, w))
        for x, y in beside(view, t, env.size, rng):
            hit = _interactive(view, view.hit(x, y))
            if hit is not t:
                out.append(Mistake("boundary_misclick", Action(name, {"x": x, "y": y}), option, hit))
    if name == "type" and t is not None:
        text = e["text"]
        fields = [w for w in peers(view, t) if w.role == "textbox" and not w.disabled]
        for w in fields:
            cause = "similar_label" if similar(t.name, w.name) else "off_by_one" if adjacent(t, w) else None
            if cause and text:
                out.append(Mistake(cause, Action("type", {"text": text, "element": w.id}), option, w))
        if any(c.isascii() and c.isalnum() for c in text):
            wrong = typo(text, rng)
            args = {"text": wrong} if e["focused"] else {"text": wrong, "element": t.id}
            out.append(Mistake("typo", Action("type", args), option, t, wrong))
    if name == "select" and t is not None:
        opts = list(t.options)
        want = e["option"]
        if want in opts:
            i = opts.index(want)
            for j, o in enumerate(opts):
                if o == want:
                    continue
                cause = "off_by_one" if abs(i - j) == 1 else "similar_label" if similar(want, o) else None
                if cause:
                    out.append(Mistake(cause, Action("select", {"element": t.id, "option": o}), option, t, o))
    if last is not None and last[1].name in POINTER and "x" in last[1].arguments:
        before, action = last
        moved = before.title != view.title or before.top.role != view.top.role or before.top.name != view.top.name
        if moved:
            x, y = action.arguments["x"], action.arguments["y"]
            out.append(Mistake("stale_screen", Action(action.name, {"x": x, "y": y}), option, _interactive(view, view.hit(x, y))))
    size = env.size
    accepted = env.accepted_actions()
    return [m for m in out if not is_acceptable(accepted, m.action.name, m.action.arguments, size)]


def _interactive(view: View, node: Node | None) -> Node | None:
    """What a click on ``node`` activates: it or its nearest interactive ancestor (a click on a
    dialog's empty space, or on plain text, activates nothing)."""
    while node is not None and node.role not in INTERACTIVE:
        node = view.parent(node)
    return node


def typo(text: str, rng: random.Random) -> str:
    """Drop or replace one letter or digit: a slip that always changes the compared value."""
    i = rng.choice([i for i, c in enumerate(text) if c.isascii() and c.isalnum()])
    if rng.random() < 0.4 and len(text) > 1:
        return text[:i] + text[i + 1 :]
    pool = "0123456789" if text[i].isdigit() else "abcdefghijklmnopqrstuvwxyz"
    new = rng.choice([p for p in pool if p != text[i].lower()])
    return text[:i] + new + text[i + 1 :]


def classify(view: View, wrong: Option, options: list[Option], size: tuple[int, int],
             rng: random.Random) -> Mistake | None:  # fmt: skip
    """The cause of acting on ``wrong`` (an option of a wrongly believed goal) when the real
    task's ``options`` were open, with the real option the agent took it for; None when no
    believable cause links them (then the believed goal is not used)."""
    e, w = wrong.entry, wrong.target
    name = e["name"]
    if name in POINTER and w is not None and "box" in e:
        best = None
        for o in options:
            t = o.target
            if o.entry["name"] != name or t is None or t is w or "box" not in o.entry or o.intent.kind != wrong.intent.kind:
                continue
            if t.role == w.role and similar(t.name, w.name):
                return Mistake("similar_label", Action(name, dict(zip("xy", point_in(w.box, rng), strict=True))), o, w)
            if t.role == w.role and adjacent(t, w):
                best = best or Mistake("off_by_one", Action(name, dict(zip("xy", point_in(w.box, rng), strict=True))), o, w)
            elif best is None and gap(t, w) <= 12 and o.intent.sub == wrong.intent.sub:
                best = Mistake("boundary_misclick", Action(name, dict(zip("xy", toward(w.box, t.box, rng), strict=True))), o, w)
        return best
    if name == "type" and w is not None:
        for o in options:
            t = o.target
            if o.entry["name"] != "type" or t is None:
                continue
            if t is w and o.entry["text"] != e["text"] and _edits(o.entry["text"], e["text"]) <= 2:
                args = {"text": e["text"]} if e["focused"] else {"text": e["text"], "element": w.id}
                return Mistake("typo", Action("type", args), o, w, e["text"])
            if t is not w and o.entry["text"] == e["text"] and e["text"]:
                cause = "similar_label" if similar(t.name, w.name) else "off_by_one" if adjacent(t, w) else None
                if cause:
                    return Mistake(cause, Action("type", {"text": e["text"], "element": w.id}), o, w)
        return None
    if name == "select" and w is not None:
        for o in options:
            if o.entry["name"] != "select" or o.target is not w:
                continue
            opts, want, got = list(w.options), o.entry["option"], e["option"]
            if want in opts and got in opts and abs(opts.index(want) - opts.index(got)) == 1:
                return Mistake("off_by_one", Action("select", {"element": w.id, "option": got}), o, w, got)
            if similar(want, got):
                return Mistake("similar_label", Action("select", {"element": w.id, "option": got}), o, w, got)
        return None
    if name == "answer":
        return _misread_answer(view, e, options)
    return None


def _misread_answer(view: View, entry: dict[str, Any], options: list[Option]) -> Mistake | None:
    """An answer read off the neighbouring (or a look-alike) row of the one that shows the
    right answer, both on screen."""
    right = next((o for o in options if o.entry["name"] == "answer"), None)
    if right is None:
        return None
    got = entry["answers"][0]
    top = len(view.layers) - 1
    shows = [e for e in view.elements if e.layer == top and e.role not in ("scrollarea", "list", "region", "navigation")]
    holders = [e for e in shows if any(_has(e.name, a) for a in right.entry["answers"])]
    misread = [e for e in shows if _has(e.name, got)]
    for h in holders:
        for m in misread:
            if m is h:
                continue
            cause = "off_by_one" if m.role == h.role and adjacent(h, m) else "similar_label" if similar(h.name, m.name) else None
            if cause:
                return Mistake(cause, Action("answer", {"answer": got}), right, m, got)
    return None


def _has(label: str, text: str) -> bool:
    """Whether ``text`` appears in ``label`` as whole words (without case)."""
    t = re.escape(text.casefold().strip())
    return bool(t) and re.search(rf"(?<![a-z0-9]){t}(?![a-z0-9])", label.casefold()) is not None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (short strings: typed field values)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# ---------------------------------------------------------------------------- noticing


@dataclass(slots=True)
class Evidence:
    """What the next screen shows that the agent did not mean: ``kind`` is ``nothing`` (the
    screen did not change), ``screen`` (another screen, dialog or menu opened: ``node`` is
    that dialog or menu, None for a screen), ``value`` (a field or dropdown holds the wrong
    text), ``toggle`` (a switch, box or radio changed that should not have), ``other`` (the
    effect went to another element: ``node``, if one shows it). ``node`` is always on the
    screen after the slip."""

    kind: str
    node: Node | None = None
    title: str = ""


def evidence(before: View, expected: View, actual: View) -> Evidence:
    """Compare the screen after the slip with the one before it and with the one the intended
    action would have given; say what on the *actual* screen shows the slip (an element that
    changed now and differs from what was intended)."""
    if actual.text == before.text:
        return Evidence("nothing")
    if _where(actual) != _where(expected):
        top = actual.top
        return Evidence("screen", top if top.role != "window" else None, top.name if top.role != "window" else actual.title)
    for key, a in actual.nodes.items():
        b, x = before.nodes.get(key), expected.nodes.get(key)
        if not a.visible or b is None or x is None or _state(a) == _state(b) or _state(a) == _state(x):
            continue
        if a.role in TOGGLES or a.role == "radio":
            return Evidence("toggle", a)
        if a.role in ("textbox", "combobox"):
            return Evidence("value", a)
        return Evidence("other", a)
    return Evidence("other")


def _where(view: View) -> tuple[str, str, str]:
    return view.title, view.top.role, view.top.name


def _state(n: Node) -> tuple[Any, ...]:
    return n.value, n.checked, n.selected, n.name
