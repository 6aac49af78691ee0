"""Widgets on a simulated 1280x800 screen: role, label, state, pixel box, tree line.

Why pixel boxes and not element ids alone: GUI agents act by clicking coordinates, so the data
has to teach grounding (which pixels belong to which element), and a click can only be checked
by containment. Boxes are half-open, ``[x0, y0, x1, y1]`` covers the pixels with
``x0 <= x < x1`` and ``y0 <= y < y1``, as in PIL and numpy slicing, so neighbouring boxes
never share a pixel and a click hits at most one element.

The observation is the accessibility tree as text, one line per element (the shape of
BrowserGym's AXTree and OSWorld's a11y tree); a later piece renders screenshots from the same
boxes, which is why the layout is real geometry and not a list.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SCREEN_W, SCREEN_H = 1280, 800
INPUT_ROLES = ("textbox", "combobox", "checkbox")


@dataclass(slots=True)
class Widget:
    """One element. ``key`` is the simulator's private name for it (``email``, ``submit``);
    agents only ever see ``role``, ``label``, state and box."""

    id: int
    role: str  # textbox | combobox | checkbox | button | heading
    key: str
    label: str
    bbox: tuple[int, int, int, int]
    options: tuple[str, ...] = ()
    value: str = ""
    checked: bool = False
    # The unchanging parts of the tree line, built once: rendering runs after every action.
    _head: str = field(init=False, repr=False, compare=False)
    _tail: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._head = f"[{self.id}] {self.role} {_quote(self.label)}"
        options = f" options={_dump(list(self.options))}" if self.role == "combobox" else ""
        self._tail = f"{options} bbox=({self.bbox[0]},{self.bbox[1]},{self.bbox[2]},{self.bbox[3]})"

    def contains(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 <= x < x1 and y0 <= y < y1

    def line(self, focused: bool = False) -> str:
        """``[3] textbox "Email" value="" bbox=(40,180,600,216) focused``."""
        if self.role in ("textbox", "combobox"):
            state = f" value={_quote(self.value)}"
        elif self.role == "checkbox":
            state = " checked=true" if self.checked else " checked=false"
        else:
            state = ""
        return self._head + state + self._tail + (" focused" if focused else "")

    def describe(self) -> str:
        """Short reference used in event lines and thoughts: ``[3] textbox "Email"``."""
        return self._head

    def spec(self) -> dict[str, Any]:
        """The JSON that rebuilds this widget in its initial state (for ``Task.env``)."""
        out: dict[str, Any] = {
            "id": self.id,
            "role": self.role,
            "key": self.key,
            "label": self.label,
            "bbox": list(self.bbox),
        }
        if self.options:
            out["options"] = list(self.options)
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Widget:
        x0, y0, x1, y1 = spec["bbox"]
        return cls(
            spec["id"],
            spec["role"],
            spec["key"],
            spec["label"],
            (x0, y0, x1, y1),
            tuple(spec.get("options", ())),
        )


@dataclass(frozen=True, slots=True)
class Item:
    """What to lay out: a widget before it has an id and a box."""

    role: str
    key: str
    label: str
    options: tuple[str, ...] = ()


def layout_form(
    heading: str, fields: Sequence[Item], buttons: Sequence[Item], rng: random.Random
) -> list[Widget]:
    """Stack a heading, the fields and a row of buttons top-down in one column.

    Margins, column width, input height, checkbox size, row gaps, button height and alignment
    are drawn from ``rng``, so the same form lands on different pixels from seed to seed and a
    policy cannot learn fixed coordinates. Ids follow reading order, starting at 1.
    """
    x0 = rng.randint(32, 200)
    width = rng.randint(440, 640)
    input_h = rng.randint(30, 38)
    box_side = rng.choice((16, 18, 20))
    combo_w = rng.randint(width // 2, width)
    widgets: list[Widget] = []

    def add(item: Item, box: tuple[int, int, int, int]) -> None:
        widgets.append(Widget(len(widgets) + 1, item.role, item.key, item.label, box, item.options))

    y = rng.randint(16, 48)
    add(
        Item("heading", "heading", heading), (x0, y, x0 + min(width, 12 * len(heading) + 8), y + 32)
    )
    y += 32
    for item in fields:
        y += rng.randint(8, 18)
        if item.role == "checkbox":
            add(item, (x0, y, x0 + box_side, y + box_side))
            y += box_side
        else:
            y += 20  # the visible label sits above the input; the input is the target
            add(item, (x0, y, x0 + (width if item.role == "textbox" else combo_w), y + input_h))
            y += input_h
    y += rng.randint(16, 26)
    button_h = rng.randint(34, 42)
    gap = rng.randint(12, 28)
    widths = [max(88, 10 * len(b.label) + 32) for b in buttons]
    row = sum(widths) + gap * (len(buttons) - 1)
    x = x0 if rng.random() < 0.5 else x0 + max(0, width - row)  # left- or right-aligned
    for item, w in zip(buttons, widths, strict=True):
        add(item, (x, y, x + w, y + button_h))
        x += w + gap
    if y + button_h > SCREEN_H or x0 + max(width, row) > SCREEN_W:
        raise ValueError(
            f"form does not fit on a {SCREEN_W}x{SCREEN_H} screen; lay out fewer fields"
        )
    return widgets


def hit(widgets: Sequence[Widget], x: int, y: int) -> Widget | None:
    """The element under pixel (x, y), if any (boxes never overlap)."""
    for w in widgets:
        if w.contains(x, y):
            return w
    return None


def render_tree(widgets: Sequence[Widget], focused: int | None) -> str:
    return "\n".join(w.line(w.id == focused) for w in widgets)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
