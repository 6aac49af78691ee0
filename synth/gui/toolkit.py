"""The widget toolkit: declarative screens, a seeded layout pass, and the accessibility tree.

Apps describe a screen as a tree of :class:`Node` (built with the helpers below: ``window``,
``column``, ``row``, ``split``, ``scrollarea``, ``button``, ``textbox`` ...) every time it is
shown; :func:`lay_out` gives every node a pixel box and builds the :class:`View`: the visible
elements with ids in reading order and the tree text agents read. The renderer draws from the
same boxes, so the screenshot and the tree cannot disagree.

Why a real layout and not a list of widgets: GUI agents act by clicking pixels, so data has
to teach grounding, and a click can only be checked by containment. Boxes are half-open,
``[x0, y0, x1, y1]`` covers the pixels with ``x0 <= x < x1`` and ``y0 <= y < y1`` (PIL and
numpy slicing), so neighbouring boxes never share a pixel. The metrics (margins, row heights,
font size, sidebar side and width, button alignment, the order of independent blocks) come
from a seeded :class:`Style` stored with the task, so the same app lands on different pixels
from seed to seed and a stored task lays out exactly the same again.

Only what is visible is in the tree: items scrolled out of a scroll area are absent, so long
lists need ``scroll``. Layers stack: the screen, then dialogs and popups; elements of lower
layers stay in the tree (they are drawn), but only the top layer takes input.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import orjson
from PIL import ImageFont

from synth.gui.icons import icon_for

# Roles an agent can act on, roles that only hold others, roles that only show text.
INTERACTIVE = frozenset(
    ("button", "link", "textbox", "checkbox", "switch", "radio", "combobox", "option",
     "listitem", "tab", "menuitem")
)  # fmt: skip
CONTAINERS = frozenset(
    ("list", "tablist", "menu", "listbox", "dialog", "toolbar", "navigation", "scrollarea",
     "window", "region")
)  # fmt: skip
TEXT_ROLES = frozenset(("heading", "text"))
TOGGLES = frozenset(("checkbox", "switch"))
FOCUSABLE = INTERACTIVE
# Leaves whose width is their content's (the rest fill their container's width).
_INTRINSIC = frozenset(("button", "link", "tab", "checkbox", "switch", "radio", "heading", "text"))
SCROLLBAR = 8  # px kept free at a scroll area's right edge for its scrollbar
NOTCH = 100  # px one wheel notch scrolls


class LayoutError(ValueError):
    """A screen an app declared cannot be laid out (duplicate key, interactive node without a
    key, popup without its anchor): a bug in the app, reported with the screen's title."""


# ---------------------------------------------------------------------------- style


@dataclass(frozen=True, slots=True)
class Style:
    """Layout metrics and theme drawn per task seed; stored in ``task.env["style"]``."""

    font: int = 14
    margin: int = 20
    gap: int = 10
    pad: int = 12
    row_h: int = 46
    input_h: int = 48
    button_h: int = 34
    button_pad: int = 16
    item_h: int = 32
    tab_h: int = 38
    sidebar_w: int = 200
    sidebar_side: str = "left"
    align: str = "right"  # where button rows sit
    dialog_w: int = 440
    theme: str = "light"
    accent: int = 0
    order: int = 0  # seeds the order of blocks an app marks as independent (``shuffle=True``)
    radius: int = 0  # corner radius of buttons, fields and chips (0: square)
    icons: bool = True  # common controls show an icon next to their label
    fields: str = "box"  # text fields and dropdowns: box (outlined), filled, line (underlined)
    stripes: bool = False  # list rows alternate their background

    @classmethod
    def draw(cls, rng: random.Random) -> Style:
        font = rng.randint(13, 16)
        return cls(
            font=font,
            margin=rng.randint(12, 28),
            gap=rng.randint(6, 14),
            pad=rng.randint(8, 16),
            row_h=rng.randint(max(38, round(font * 2.7)), 54),
            input_h=rng.randint(max(44, round(font * 3.1)), 56),
            button_h=rng.randint(max(30, round(font * 2.2)), 40),
            button_pad=rng.randint(12, 22),
            item_h=rng.randint(max(30, round(font * 2.1)), 38),
            tab_h=rng.randint(34, 42),
            sidebar_w=rng.randint(170, 240),
            sidebar_side=rng.choice(("left", "left", "right")),
            align=rng.choice(("left", "right")),
            dialog_w=rng.randint(380, 520),
            theme=rng.choice(("light", "light", "dark")),
            accent=rng.randrange(7),
            order=rng.randrange(1 << 30),
            radius=rng.choice((0, 0, 3, 6, 9)),
            icons=rng.random() < 0.8,
            fields=rng.choice(("box", "box", "filled", "line")),
            stripes=rng.random() < 0.3,
        ).varied(rng)

    def varied(self, rng: random.Random) -> Style:
        """Drawn after the first fields, so those stay what they were for a given seed: two
        more themes and more accents."""
        theme = self.theme if rng.random() < 0.7 else rng.choice(("warm", "slate"))
        return replace(self, theme=theme, accent=rng.randrange(10))

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Style:
        unknown = sorted(set(data) - set(cls.__slots__))
        if unknown:
            raise ValueError(f"task.env style has unknown field(s) {unknown}; known: {list(cls.__slots__)}")
        return cls(**data)


# ---------------------------------------------------------------------------- text metrics


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled FreeType font: the same glyphs on every machine with this Pillow."""
    return ImageFont.load_default(size=size)


_WIDTHS: dict[tuple[str, int], int] = {}


def text_width(text: str, size: int) -> int:
    """An upper bound of the drawn width of ``text`` in px, for layout (cached).

    Bitmap text is hinted and runs wider than ``getlength`` (up to ~1 px per glyph on short
    strings); rasterising every new label to measure it costs ~0.4 ms, so layout adds a
    margin measured over thousands of strings instead. The renderer measures the real
    glyphs and cuts a label with an ellipsis in the rare case it would still overflow.
    """
    key = (text, size)
    w = _WIDTHS.get(key)
    if w is None:
        if len(_WIDTHS) > 100_000:
            _WIDTHS.clear()
        w = _WIDTHS[key] = int(font(size).getlength(text) + 0.6 * len(text) + 4.999) if text else 0
    return w


def line_height(size: int) -> int:
    ascent, descent = font(size).getmetrics()
    return ascent + descent


# ---------------------------------------------------------------------------- nodes


@dataclass(slots=True, eq=False)
class Node:
    """One node of a declared screen; layout fills in the fields after ``kind``.

    ``role`` ``""`` is a layout-only group (column, row, grid, split), never shown in the tree.
    ``key`` is the app's private handle (``"email:17"``); agents never see it.
    """

    role: str
    name: str = ""
    key: str | None = None
    children: list[Node] = field(default_factory=list)
    value: str | None = None  # textbox text, combobox option, radio's option
    checked: bool | None = None
    selected: bool | None = None
    disabled: bool = False
    options: tuple[str, ...] = ()
    group: str | None = None  # radio: the key its group's value is stored under
    submit: str | None = None  # textbox: Enter activates this key (its own key: a submit event)
    match: str = "exact"  # textbox: how typed text is compared (see actions.normalize_text)
    cells: tuple[str, ...] = ()  # listitem: columns drawn left to right (the name is for the tree)
    strong: bool = False  # drawn bold (an unread email)
    primary: bool = False  # button drawn filled with the accent colour
    icon: str | None = None  # a glyph drawn before the label (synth.gui.icons); buttons get theirs from the style
    back: str | None = None  # window: the key of its own Back button (navigate_back clicks it)
    cancel: str | None = None  # dialog: the key Escape / navigate_back clicks
    anchor: str | None = None  # popup: the key of the element it opens from
    kind: str = "col"  # container layout: col | row | grid | split; "cell" marks a day cell (a button)
    width: int | None = None
    height: int | None = None
    grow: bool = False  # takes the space left in its column (or row)
    align: str = ""  # in a column: "end" right-aligned, "center"; a row: "end" packs right, "auto" the style's side
    cols: int = 2
    shuffle: bool = False  # children are independent blocks: order them by the style's seed
    # ---- filled by layout
    id: int = 0
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    depth: int = 0
    layer: int = 0
    visible: bool = False
    focused: bool = False
    expanded: bool = False
    scroll: int = 0  # scroll area: offset in px
    scroll_max: int = 0
    content_y: int = 0  # y in its scroll area's content (at offset 0), for scroll planning
    # (parent and scroll-area links live in the View: back references would make every
    # screen a reference cycle, left to the cyclic garbage collector: 20% of the step time)

    def contains(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= x < x1 and y0 <= y < y1

    def ref(self) -> str:
        """How event lines and thoughts name an element: ``[12] button "Archive"``."""
        return f"[{self.id}] {self.role} {quote(self.name)}"


def quote(text: str) -> str:
    return orjson.dumps(text).decode()


# ---- builders (what app modules call)


def window(title: str, *children: Node, back: str | None = None) -> Node:
    """A screen: its children stacked top-down; ``back`` names the screen's own Back button."""
    return Node("window", title, children=list(children), back=back)


def dialog(title: str, *children: Node, cancel: str | None = None) -> Node:
    """A modal dialog centred over the screen; the only layer taking input while open."""
    return Node("dialog", title, children=list(children), cancel=cancel)


def menu(name: str, anchor: str, *items: Node) -> Node:
    """A popup menu opened below the element ``anchor``; a click outside closes it."""
    return Node("menu", name, children=list(items), anchor=anchor)


def column(*children: Node, shuffle: bool = False, grow: bool = False, align: str = "",
           width: int | None = None) -> Node:  # fmt: skip
    return Node("", children=list(children), shuffle=shuffle, grow=grow, align=align, width=width)


def row(*children: Node, align: str = "", grow: bool = False) -> Node:
    return Node("", children=list(children), kind="row", align=align, grow=grow)


def buttons(*children: Node) -> Node:
    """A row of buttons, left- or right-aligned by the style."""
    return Node("", children=list(children), kind="row", align="auto")


def grid(cols: int, *children: Node, grow: bool = False) -> Node:
    """Children in ``cols`` columns; with ``grow`` the grid takes the height left and shares
    it among its rows (a month view)."""
    return Node("", children=list(children), kind="grid", cols=cols, grow=grow)


def split(side: Node, main: Node) -> Node:
    """A sidebar and a main area side by side; the style picks the side and the width."""
    return Node("", children=[side, main], kind="split", grow=True)


def container(role: str, name: str, *children: Node, kind: str = "col", grow: bool = False,
              key: str | None = None) -> Node:  # fmt: skip
    """A named container shown in the tree: list, toolbar, navigation, tablist, region."""
    if role not in CONTAINERS:
        raise LayoutError(f"{role!r} is not a container role; use one of {sorted(CONTAINERS)}")
    return Node(role, name, key, list(children), kind=kind, grow=grow)


def scrollarea(name: str, key: str, *children: Node, height: int | None = None) -> Node:
    """A vertically scrolling region; without ``height`` it takes the space left on screen."""
    return Node("scrollarea", name, key, list(children), height=height, grow=height is None)


def button(name: str, key: str, *, primary: bool = False, disabled: bool = False) -> Node:
    return Node("button", name, key, primary=primary, disabled=disabled)


def cell(name: str, key: str, items: tuple[str, ...] | list[str] = ()) -> Node:
    """A calendar-style day cell: a button labelled ``name`` that shows ``items`` (events)
    inside it, as many as fit and then "+N more"; it takes the height its grid gives it."""
    return Node("button", name, key, cells=tuple(items), grow=True, kind="cell")


def link(name: str, key: str) -> Node:
    return Node("link", name, key)


def textbox(name: str, key: str, value: str = "", *, submit: str | None = None,
            match: str = "exact", width: int | None = None) -> Node:  # fmt: skip
    return Node("textbox", name, key, value=value, submit=submit, match=match, width=width)


def combobox(name: str, key: str, value: str, options: tuple[str, ...] | list[str], *,
             width: int | None = None) -> Node:  # fmt: skip
    return Node("combobox", name, key, value=value, options=tuple(options), width=width)


def checkbox(name: str, key: str, checked: bool = False) -> Node:
    return Node("checkbox", name, key, checked=checked)


def switch(name: str, key: str, checked: bool = False) -> Node:
    return Node("switch", name, key, checked=checked)


def radio(name: str, group: str, value: str, checked: bool = False) -> Node:
    """One choice of the radio group ``group``; its key is ``"<group>=<value>"``."""
    return Node("radio", name, f"{group}={value}", value=value, checked=checked, group=group)


def listitem(name: str, key: str, cells: tuple[str, ...] = (), *, selected: bool = False,
             strong: bool = False, icon: str | None = None) -> Node:  # fmt: skip
    return Node("listitem", name, key, cells=cells or (name,), selected=selected, strong=strong, icon=icon)


def tab(name: str, key: str, selected: bool = False) -> Node:
    return Node("tab", name, key, selected=selected)


def menuitem(name: str, key: str, *, disabled: bool = False) -> Node:
    return Node("menuitem", name, key, disabled=disabled)


def option(name: str, key: str, selected: bool = False) -> Node:
    return Node("option", name, key, selected=selected)


def heading(text: str) -> Node:
    return Node("heading", text)


def label(text: str, *, strong: bool = False) -> Node:
    """Static text (role ``text``)."""
    return Node("text", text, strong=strong)


# ---------------------------------------------------------------------------- layout


@dataclass(slots=True)
class Layer:
    """One stacked layer to lay out: its root node and the UI state it is shown with."""

    root: Node
    values: dict[str, Any]
    scroll: dict[str, int]
    focus: str | None
    expanded: str | None = None  # the combobox whose option list is open above this layer


@dataclass(slots=True)
class View:
    """A laid-out screen: what the tree shows, what can be hit, and where everything is."""

    title: str
    size: tuple[int, int]
    layers: list[Node]
    elements: list[Node]  # visible tree elements, ids 1..n in reading order
    nodes: dict[str, Node]  # every keyed node laid out, visible or scrolled away
    text: str  # the accessibility tree, one element per line
    parents: dict[Node, Node]
    scrollers: dict[Node, Node]  # node -> the innermost scroll area holding it

    def parent(self, n: Node) -> Node | None:
        return self.parents.get(n)

    def scroller(self, n: Node) -> Node | None:
        return self.scrollers.get(n)

    def below(self, n: Node) -> bool:
        """Whether ``n`` is scrolled out of view below its scroll area's visible part."""
        area = self.scrollers.get(n)
        return area is not None and not n.visible and n.box[1] >= area.box[3]

    @property
    def top(self) -> Node:
        return self.layers[-1]

    @property
    def modal(self) -> Node | None:
        """The open dialog, if any (the top dialog layer)."""
        for root in reversed(self.layers):
            if root.role == "dialog":
                return root
        return None

    def hit(self, x: int, y: int) -> Node | None:
        """The deepest visible element under (x, y) in the top layer."""
        top = len(self.layers) - 1
        found = None
        for el in self.elements:
            if el.layer == top and el.contains(x, y):
                found = el  # later in reading order = deeper (children follow their parent)
        return found

    def main_scroller(self) -> Node | None:
        """The scroll area a pointless ``scroll`` moves: the top layer's largest one."""
        top = len(self.layers) - 1
        areas = [e for e in self.elements if e.role == "scrollarea" and e.layer == top]
        if not areas:
            return None
        return max(areas, key=lambda e: (e.box[2] - e.box[0]) * (e.box[3] - e.box[1]))


def lay_out(layers: list[Layer], style: Style, size: tuple[int, int]) -> View:
    """Boxes for every layer (screen, then dialogs and popups above it), ids, and the tree."""
    engine = _Engine(style, size)
    nodes: dict[str, Node] = {}
    roots = []
    for i, layer in enumerate(layers):
        engine.values, engine.scrolls = layer.values, layer.scroll
        engine.focus, engine.expanded, engine.layer = layer.focus, layer.expanded, i
        root = layer.root
        engine.place_root(root, nodes)
        engine.index(root, nodes, roots[0].name if roots else root.name)
        roots.append(root)
    elements: list[Node] = []
    lines = [f"window {quote(roots[0].name)} size={size[0]}x{size[1]}"]
    screen = (0, 0, size[0], size[1])
    for root in roots:
        _flatten(root, screen, 0, elements, lines)
    return View(roots[0].name, size, roots, elements, nodes, "\n".join(lines), engine.parents, engine.scrollers)


class _Engine:
    """The layout pass: one recursive ``place`` per node kind, all sizes from the style."""

    def __init__(self, style: Style, size: tuple[int, int]):
        self.s = style
        self.w, self.h = size
        f = style.font
        self.small = f - 3
        self.big = f + 5
        self.text_h = round(f * 1.8)
        self.heading_h = round(self.big * 1.7)
        self.check_h = round(f * 1.9)
        self.indicator = round(f * 1.15)
        self.title_h = round((f + 2) * 2.2)
        self.values: dict[str, Any] = {}
        self.scrolls: dict[str, int] = {}
        self.focus: str | None = None
        self.expanded: str | None = None
        self.layer = 0
        self.parents: dict[Node, Node] = {}
        self.scrollers: dict[Node, Node] = {}

    # -- roots

    def place_root(self, root: Node, nodes: dict[str, Node]) -> None:
        s = self.s
        if root.role == "window":
            self.place(root, 0, 0, self.w, self.h)
        elif root.role == "dialog":
            w = min(s.dialog_w, self.w - 2 * s.margin)
            h = self.place(root, 0, 0, w)
            x, y = (self.w - w) // 2, max(s.margin, (self.h - h) // 2)
            _shift(root, x, y)
        elif root.role in ("menu", "listbox"):
            anchor = nodes.get(root.anchor or "")
            if anchor is None:
                raise LayoutError(f"popup {root.name!r} opens from {root.anchor!r}, which is not on screen")
            ax0, ay0, ax1, ay1 = anchor.box
            widest = max((text_width(c.name, s.font) for c in root.children), default=0)
            w = min(max(ax1 - ax0, widest + 4 * s.pad), self.w - 2 * s.margin)
            h = self.place(root, 0, 0, w)
            x = min(ax0, self.w - s.margin - w)
            y = ay1 + 2 if ay1 + 2 + h <= self.h - s.margin else max(s.margin, ay0 - 2 - h)
            _shift(root, x, y)
        else:
            raise LayoutError(f"a layer's root must be a window, dialog, menu or listbox, not {root.role!r}")

    def index(self, root: Node, nodes: dict[str, Node], title: str) -> None:
        """Keys -> nodes (every layer's keys must be unique), the layer and the parent links."""
        stack = [root]
        while stack:
            n = stack.pop()
            n.layer = self.layer
            for c in n.children:
                self.parents[c] = n
                stack.append(c)
            if n.key is not None:
                if n.key in nodes:
                    raise LayoutError(f"screen {title!r}: key {n.key!r} is used twice; keys must be unique")
                nodes[n.key] = n
            elif n.role in INTERACTIVE:
                raise LayoutError(f"screen {title!r}: {n.role} {n.name!r} has no key; give every interactive node one")

    # -- sizes

    def width_of(self, n: Node, avail: int) -> int:
        if n.width:
            return min(n.width, avail)
        if n.role not in _INTRINSIC:
            return avail
        s, r = self.s, n.role
        if r == "button":
            w = text_width(n.name, s.font) + 2 * s.button_pad + (self.indicator + 6 if self._icon(n) else 0)
        elif r == "tab":
            w = text_width(n.name, s.font) + 2 * s.pad
        elif r == "heading":
            w = text_width(n.name, self.big) + 4
        elif r in ("checkbox", "radio"):
            w = self.indicator + 8 + text_width(n.name, s.font) + 4
        elif r == "switch":
            w = 2 * self.indicator + 10 + text_width(n.name, s.font) + 4
        else:  # text, link
            w = text_width(n.name, s.font) + 4
        return min(w, avail)

    def _icon(self, n: Node) -> str | None:
        """A button's icon: its own, else the style's for its label (if the style shows icons)."""
        if n.role == "button" and n.icon is None and self.s.icons and n.kind != "cell":
            n.icon = icon_for(n.name) or ""
        return n.icon or None

    def _items(self, n: Node, height: int) -> None:
        """Keep the items (events) of a day cell that fit below its number; the rest become
        "+N more" (what the screenshot shows is what the tree lists)."""
        room = max(0, (height - line_height(self.small) - 6) // (line_height(self.small - 1) + 4))
        if len(n.cells) > room:
            n.cells = (*n.cells[: max(0, room - 1)], f"+{len(n.cells) - max(0, room - 1)} more") if room else ()

    def leaf_height(self, n: Node) -> int:
        s, r = self.s, n.role
        if n.height:
            return n.height
        if r == "button":
            return s.button_h
        if r in ("textbox", "combobox"):
            return s.input_h
        if r == "listitem":
            return s.row_h
        if r in ("option", "menuitem"):
            return s.item_h
        if r == "tab":
            return s.tab_h
        if r == "heading":
            return self.heading_h
        if r in ("checkbox", "radio", "switch"):
            return self.check_h
        return self.text_h

    # -- placement

    def place(self, n: Node, x: int, y: int, w: int, h: int | None = None) -> int:
        """Lay ``n`` out at (x, y) with width ``w`` (height ``h`` if imposed); its height."""
        self._state(n)
        if n.role == "button":
            self._icon(n)
        if not n.children and n.role not in CONTAINERS:
            height = h if h is not None and n.grow else self.leaf_height(n)
            if n.kind == "cell" and n.cells:
                self._items(n, height)
        elif n.role == "scrollarea":
            height = self._scrollarea(n, x, y, w, h)
        elif n.kind == "row":
            height = self._row(n, x, y, w, h)
        elif n.kind == "split":
            height = self._split(n, x, y, w, h)
        elif n.kind == "grid":
            height = self._grid(n, x, y, w, h)
        else:
            height = self._column(n, x, y, w, h)
        n.box = (x, y, x + w, y + height)
        return height

    def _state(self, n: Node) -> None:
        """The UI state shown on a node: typed values, toggles, focus, an open option list."""
        key = n.key
        if key is None:
            return
        values = self.values
        r = n.role
        if r == "radio":
            if n.group in values:
                n.checked = values[n.group] == n.value
        elif key in values:
            if r in TOGGLES:
                n.checked = values[key]
            elif r in ("textbox", "combobox"):
                n.value = values[key]
        n.focused = key == self.focus
        n.expanded = key == self.expanded

    def _pad(self, n: Node) -> int:
        if n.role == "window":
            return self.s.margin
        if n.role in ("dialog", "navigation", "toolbar", "region"):
            return self.s.pad
        if n.role in ("menu", "listbox"):
            return 4
        return 0

    def _children(self, n: Node) -> list[Node]:
        if not n.shuffle:
            return n.children
        salt = f"{self.s.order}:{n.key or n.name}:"

        def rank(i_c: tuple[int, Node]) -> bytes:
            i, c = i_c
            return hashlib.blake2b(f"{salt}{c.key or c.name or i}".encode(), digest_size=8).digest()

        n.children = [c for _, c in sorted(enumerate(n.children), key=rank)]
        n.shuffle = False
        return n.children

    def _slot(self, k: Node, ix: int, iw: int) -> tuple[int, int]:
        """x and width of a child in a column of inner width ``iw`` (its ``align``)."""
        if not k.width and not k.align and k.role not in _INTRINSIC:
            return ix, iw  # the common case: fill the column
        kw = self.width_of(k, iw)
        if k.align == "end":
            return ix + iw - kw, kw
        return (ix + (iw - kw) // 2 if k.align == "center" else ix), kw

    def _column(self, n: Node, x: int, y: int, w: int, h: int | None) -> int:
        pad = self._pad(n)
        gap = 4 if n.role in ("menu", "listbox") else (0 if n.role == "list" else self.s.gap)
        top = self.title_h if n.role == "dialog" else 0
        kids = self._children(n)
        ix, iw = x + pad, w - 2 * pad
        cy = y + pad + top
        growing = h is not None and any(k.grow for k in kids)
        starts = []
        for k in kids:  # growing children get their height once the others are measured
            starts.append(cy)
            if growing and k.grow:
                cy += gap
                continue
            kx, kw = self._slot(k, ix, iw)
            cy += self.place(k, kx, cy, kw) + gap
        if not growing:
            return max(h or 0, cy - y - (gap if kids else 0) + pad)
        share = max(0, (h - pad - (cy - y) + gap) // sum(k.grow for k in kids))
        offset = 0
        for k, start in zip(kids, starts, strict=True):
            if k.grow:
                self.place(k, ix, start + offset, self.width_of(k, iw), share)
                offset += share
            elif offset:
                _shift(k, 0, offset)
        return h

    def _row(self, n: Node, x: int, y: int, w: int, h: int | None) -> int:
        pad = self._pad(n)
        gap = 2 if n.role == "tablist" else self.s.gap
        kids = self._children(n)
        ix, iw = x + pad, w - 2 * pad
        flexible = [k for k in kids if k.grow or (k.role not in _INTRINSIC and not k.width)]
        fixed = {id(k): self.width_of(k, iw) for k in kids if k not in flexible}
        rest = iw - sum(fixed.values()) - gap * (len(kids) - 1)
        share = max(0, rest // len(flexible)) if flexible else 0
        align = self.s.align if n.align == "auto" else n.align
        cx = ix + rest if (not flexible and align in ("end", "right") and rest > 0) else ix
        heights = []
        for k in kids:
            kw = fixed.get(id(k), share)
            heights.append(self.place(k, cx, y + pad, kw, h - 2 * pad if (h and k.grow) else None))
            cx += kw + gap
        tallest = max(heights, default=0)
        for k, kh in zip(kids, heights, strict=True):
            if kh < tallest:
                _shift(k, 0, (tallest - kh) // 2)
        return max(h or 0, tallest + 2 * pad)

    def _split(self, n: Node, x: int, y: int, w: int, h: int | None) -> int:
        side, main = n.children
        sw = min(self.s.sidebar_w, w // 2)
        mw = w - sw - self.s.gap
        if self.s.sidebar_side == "left":
            sx, mx = x, x + sw + self.s.gap
        else:
            mx, sx = x, x + mw + self.s.gap
        hs = self.place(side, sx, y, sw, h)
        hm = self.place(main, mx, y, mw, h)
        return h if h is not None else max(hs, hm)

    def _grid(self, n: Node, x: int, y: int, w: int, h: int | None) -> int:
        gap, cols = self.s.gap, max(1, n.cols)
        kids = self._children(n)
        cw = (w - gap * (cols - 1)) // cols
        rows = -(-len(kids) // cols)
        share = (h - gap * (rows - 1)) // rows if n.grow and h is not None and rows else None
        cy = y
        for start in range(0, len(kids), cols):
            tallest = 0
            for j, k in enumerate(kids[start : start + cols]):
                tallest = max(tallest, self.place(k, x + j * (cw + gap), cy, cw, share))
            cy += (share if share is not None else tallest) + gap
        return h if share is not None else max(0, cy - gap - y)

    def _scrollarea(self, n: Node, x: int, y: int, w: int, h: int | None) -> int:
        height = n.height or h or self.s.row_h * 6
        gap = 0 if all(k.role == "listitem" for k in n.children) else self.s.gap
        wanted = self.scrolls.get(n.key or "", 0)
        cy = y - wanted
        iw = w - SCROLLBAR - 2
        for k in self._children(n):
            kx, kw = self._slot(k, x, iw)
            cy += self.place(k, kx, cy, kw) + gap
        content = cy - (gap if n.children else 0) - (y - wanted)
        n.scroll_max = max(0, content - height)
        n.scroll = min(max(wanted, 0), n.scroll_max)
        if n.scroll != wanted:
            for k in n.children:
                _shift(k, 0, wanted - n.scroll)
        n.box = (x, y, x + w, y + height)
        for k in n.children:
            _mark_scroller(k, n, y - n.scroll, self.scrollers)
        return height


def _shift(n: Node, dx: int, dy: int) -> None:
    stack = [n]
    while stack:
        m = stack.pop()
        x0, y0, x1, y1 = m.box
        m.box = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        stack.extend(m.children)


def _mark_scroller(n: Node, area: Node, origin: int, scrollers: dict[Node, Node]) -> None:
    """Record the scroll area and the content position of ``n``'s subtree (for planning)."""
    stack = [n]
    while stack:
        m = stack.pop()
        if m not in scrollers:
            scrollers[m] = area
            m.content_y = m.box[1] - origin
        stack.extend(m.children)


def _flatten(n: Node, clip: tuple[int, int, int, int], depth: int, out: list[Node], lines: list[str]) -> None:
    """Ids in reading order for visible elements, and their tree lines.

    A leaf is visible when its whole box is inside the clip (the screen, narrowed by each
    scroll area around it); a container when it overlaps it (its box is then clipped).
    """
    cx0, cy0, cx1, cy1 = clip
    x0, y0, x1, y1 = n.box
    shown = n.role != ""
    if n.children or n.role in CONTAINERS:
        if x1 <= cx0 or x0 >= cx1 or y1 <= cy0 or y0 >= cy1:
            n.visible = False
            return
        if shown:
            n.box = (max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1))
    elif x0 < cx0 or y0 < cy0 or x1 > cx1 or y1 > cy1 or x1 <= x0 or y1 <= y0:
        n.visible = False
        return
    n.visible = True
    if shown and n.role != "window":
        n.id = len(out) + 1
        n.depth = depth
        out.append(n)
        lines.append("  " * depth + _line(n))
        depth += 1
    if n.role == "scrollarea":
        clip = (max(cx0, n.box[0]), max(cy0, n.box[1]), min(cx1, n.box[2]), min(cy1, n.box[3]))
    for c in n.children:
        _flatten(c, clip, depth, out, lines)


_STATES = {"checkbox": True, "switch": True, "radio": True}


def _line(n: Node) -> str:
    """``[4] textbox "To" value="" focused bbox=(40,180,600,216)``."""
    r = n.role
    state = ""
    if r == "textbox":
        state = f" value={quote(n.value or '')}"
    elif r == "combobox":
        state = (f" value={quote(n.value or '')} options={orjson.dumps(list(n.options)).decode()}"
                 f" expanded={'true' if n.expanded else 'false'}")  # fmt: skip
    elif r in _STATES:
        state = " checked=true" if n.checked else " checked=false"
    elif r == "scrollarea":
        state = f" scroll={n.scroll}/{n.scroll_max}"
    elif r == "dialog":
        state = " modal"
    elif r == "button" and n.kind == "cell" and n.cells:
        state = f" items={orjson.dumps(list(n.cells)).decode()}"
    if n.selected:
        state += " selected"
    if n.disabled:
        state += " disabled"
    if n.focused:
        state += " focused"
    x0, y0, x1, y1 = n.box
    return f"[{n.id}] {r} {quote(n.name)}{state} bbox=({x0},{y0},{x1},{y1})"
