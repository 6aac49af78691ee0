"""The GUI action space, coordinate forms, text comparison and the step checker.

Actions are ``Action(name, arguments)`` with the schemas in :data:`ACTIONS` (documented in
docs/gui.md and shown to LLM agents). Stored coordinates are screen pixels; trainers that
want resolution-free targets use the normalised 0-1000 form (``round(x * 1000 / width)``,
as Qwen-VL and UI-TARS do): :func:`to_norm1000` / :func:`from_norm1000` convert, and the env
also accepts ``{"x": .., "y": .., "unit": "norm1000"}`` directly.

The step checker works on stored JSON alone: :func:`is_acceptable` compares an action with a
step's ``accepted_actions`` (every action the env accepted as progress there), so data can be
re-checked without rebuilding the env. One rule per comparison (:func:`normalize_text`,
:func:`normalize_answer`) serves the checker, the env and the apps' verifiers, so they never
disagree about whether two texts are the same.
"""

from __future__ import annotations

import re
from typing import Any

ACTIONS: dict[str, str] = {
    "click": '{"x": int, "y": int} or {"element": int}: click a point (pixels; add "unit": "norm1000" for 0-1000 coordinates) or an element by id',
    "long_press": '{"x": int, "y": int} or {"element": int}: press and hold',
    "type": '{"text": str, "element"?: int | "x"?: int, "y"?: int}: replace the focused text field\'s value (focus the field "element", or the one at the point, first if given)',
    "select": '{"element": int | "x": int, "y": int, "option": str}: choose an option of a dropdown (combobox), named by id or by a point on it',
    "scroll": '{"direction": "up"|"down"|"left"|"right", "amount": int, "x"?: int, "y"?: int, "element"?: int}: scroll the area under the point (or the element, or the main area) by amount wheel notches of 100 px',
    "press_key": '{"key": str}: one of ' + ", ".join(
        ("Enter", "Tab", "Shift+Tab", "Escape", "Backspace", "Space", "Up", "Down", "PageUp", "PageDown")
    ),
    "navigate_back": "{}: go back (closes the open dialog or menu first)",
    "wait": "{}: do nothing for a moment",
    "answer": '{"answer": str}: give the answer the task asks for (ends the episode)',
    "finish": "{}: declare the task done (ends the episode)",
}
KEYS = ("Enter", "Tab", "Shift+Tab", "Escape", "Backspace", "Space", "Up", "Down", "PageUp", "PageDown")
_KEYS = {k.lower(): k for k in KEYS} | {"esc": "Escape", "return": "Enter", "pagedown": "PageDown",
                                         "pageup": "PageUp", "arrowdown": "Down", "arrowup": "Up"}  # fmt: skip
DIRECTIONS = ("up", "down", "left", "right")
MATCHES = ("exact", "casefold", "phone")


def key_name(key: Any) -> str | None:
    """The canonical spelling of a key (``esc`` -> ``Escape``), or None if it is not one."""
    return _KEYS.get(key.strip().lower()) if isinstance(key, str) else None


def to_norm1000(x: int, y: int, size: tuple[int, int]) -> tuple[int, int]:
    """Pixel -> the 0-1000 form trainers use."""
    return round(x * 1000 / size[0]), round(y * 1000 / size[1])


def from_norm1000(x: float, y: float, size: tuple[int, int]) -> tuple[int, int]:
    """0-1000 -> the pixel it names (clamped onto the screen)."""
    return (min(size[0] - 1, max(0, int(x * size[0] / 1000))),
            min(size[1] - 1, max(0, int(y * size[1] / 1000))))  # fmt: skip


def point(args: dict[str, Any], size: tuple[int, int]) -> tuple[int, int] | None:
    """The pixel an action's ``x``/``y`` name, or None when absent or malformed.

    Pixels must be ints (bools are not coordinates); ``unit: "norm1000"`` takes numbers 0-1000.
    """
    x, y = args.get("x"), args.get("y")
    unit = args.get("unit", "px")
    if unit == "norm1000":
        if _number(x) and _number(y) and 0 <= x <= 1000 and 0 <= y <= 1000:
            return from_norm1000(x, y, size)
        return None
    if unit == "px" and type(x) is int and type(y) is int:
        return x, y
    return None


def point_in(box: list[int] | tuple[int, ...], rng: Any) -> tuple[int, int]:
    """A seeded pixel inside ``box``, 2 px clear of its edge: varied, not always the centre."""
    x0, y0, x1, y1 = box
    x = rng.randint(x0 + 2, x1 - 3) if x1 - x0 > 5 else (x0 + x1) // 2
    y = rng.randint(y0 + 2, y1 - 3) if y1 - y0 > 5 else (y0 + y1) // 2
    return x, y


def element(args: dict[str, Any]) -> int | None:
    e = args.get("element")
    return e if type(e) is int else None


def _number(v: Any) -> bool:
    return type(v) in (int, float)


_SPACE = re.compile(r"\s+")


def normalize_text(text: str, match: str = "exact") -> str:
    """The form of typed text that counts: whitespace collapsed; ``casefold`` also ignores
    case (emails, search queries); ``phone`` keeps only digits and a leading ``+``."""
    if match == "phone":
        return ("+" if text.strip().startswith("+") else "") + "".join(c for c in text if c.isdigit())
    text = _SPACE.sub(" ", text).strip()
    return text.casefold() if match == "casefold" else text


def normalize_answer(text: str) -> str:
    """Answers compare without case, surrounding quotes, spaces or a final full stop."""
    text = _SPACE.sub(" ", str(text)).strip().strip("\"'`").strip()
    return text[:-1].rstrip().casefold() if text.endswith(".") else text.casefold()


def same_text(value: object, want: str, match: str = "exact") -> bool:
    """Whether a field's value equals ``want`` by the field's rule (the apps' verifiers use it)."""
    return isinstance(value, str) and normalize_text(value, match) == normalize_text(want, match)


def is_acceptable(accepted: list[dict[str, Any]] | None, name: str, args: Any, size: tuple[int, int]) -> bool:
    """Whether action ``name(args)`` is one of the ``accepted`` entries (a step's stored set).

    Entries (see docs/gui.md): ``click``/``long_press`` with ``element`` and ``box`` (any pixel
    inside, or the element id); ``type`` with ``text``, ``match``, ``element`` and
    ``focused`` (without ``element`` the action types into the focused field, so it counts only
    when that is the field; a point in the entry's ``box`` names the field as its id does);
    ``select`` with ``element`` (or a point in ``box``) and ``option``; ``scroll`` with
    ``direction``, ``amount`` ``[min, max]`` (max null: unbounded), the area's ``element``,
    ``box`` and ``main`` (a scroll without a point or element moves the main area);
    ``press_key`` with ``key``; ``answer`` with ``answers``; ``navigate_back``; ``finish``.
    """
    if not accepted or not isinstance(args, dict):
        return False
    return any(entry["name"] == name and _matches(entry, args, size) for entry in accepted)


def _names(entry: dict[str, Any], args: dict[str, Any], size: tuple[int, int]) -> bool:
    """Whether a ``type``/``select`` action names the entry's element: by its id, by a point
    in its box (entries stored before boxes were recorded match ids only), or not at all."""
    if "x" in args or "y" in args:
        at = point(args, size)
        if at is None or "box" not in entry or "element" in args:
            return False
        x0, y0, x1, y1 = entry["box"]
        return x0 <= at[0] < x1 and y0 <= at[1] < y1
    if "element" in args:
        return element(args) == entry["element"]
    return True


def _matches(entry: dict[str, Any], args: dict[str, Any], size: tuple[int, int]) -> bool:
    name = entry["name"]
    if name in ("click", "long_press"):
        at = point(args, size)
        if at is not None:
            x0, y0, x1, y1 = entry["box"]
            return x0 <= at[0] < x1 and y0 <= at[1] < y1
        return "x" not in args and element(args) == entry["element"]
    if name == "type":
        text = args.get("text")
        if not isinstance(text, str):
            return False
        if not _names(entry, args, size):
            return False
        if "element" not in args and "x" not in args and "y" not in args and not entry["focused"]:
            return False
        match = entry.get("match", "exact")
        return normalize_text(text, match) == normalize_text(entry["text"], match)
    if name == "select":
        option = args.get("option")
        return (_names(entry, args, size) and ("element" in args or "x" in args) and isinstance(option, str)
                and option.strip().casefold() == entry["option"].casefold())  # fmt: skip
    if name == "scroll":
        amount, (low, high) = args.get("amount", 1), entry["amount"]
        if args.get("direction") != entry["direction"] or type(amount) is not int:
            return False
        if amount < low or (high is not None and amount > high):
            return False
        at = point(args, size)
        if at is not None:
            x0, y0, x1, y1 = entry["box"]
            return x0 <= at[0] < x1 and y0 <= at[1] < y1
        if "element" in args:
            return element(args) == entry["element"]
        return entry["main"] and "x" not in args and "y" not in args
    if name == "press_key":
        return key_name(args.get("key")) == entry["key"]
    if name == "answer":
        return normalize_answer(args.get("answer", "")) in {normalize_answer(a) for a in entry["answers"]}
    return True  # navigate_back, finish: nothing to compare
