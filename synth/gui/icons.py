"""Icons for common controls, drawn as glyphs with Pillow primitives (no image files).

Why drawn: real apps put a trash can on Delete and a magnifier on Search, and a screenshot
agent has to learn to read them; bundling icon fonts or PNGs would add files whose licence and
rendering differ from machine to machine. Each icon is a 1-bit mask drawn once per pixel size
(cached) and stamped with ``draw_bitmap`` like a text glyph, so it costs microseconds per use
and stays inside its element's box (the renderer places it there).

``ICONS`` maps a control's label to its icon; :func:`icon_for` also knows prefixes ("Cart (2)"
is a cart, "Saved (3)" a bookmark). Apps may set ``Node.icon`` themselves (a folder or a file
in a file list).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw

ICONS: dict[str, str] = {
    "Back": "back", "Back to folder": "back", "Search": "search", "Delete": "trash", "Remove": "trash",
    "Clear completed": "trash", "Star": "star", "Unstar": "star", "Compose": "plus", "New event": "plus",
    "New folder": "folder-plus", "Add task": "plus", "Add to cart": "cart", "Reply": "reply", "Move to": "folder",
    "Move to...": "folder", "Move here": "folder", "Mark as unread": "mail", "Mark as read": "mail", "Save": "check",
    "Apply": "check", "Cancel": "close", "Discard": "close", "Next": "next", "Previous": "prev", "Up": "up",
    "Rename": "pencil", "Edit": "pencil", "Edit answers": "pencil", "Today": "calendar", "Bookmark": "bookmark",
    "Remove bookmark": "bookmark", "Sign in": "person", "Help": "help", "Checkout": "cart", "Place order": "check",
    "Confirm order": "check", "Continue shopping": "back", "Start over": "back", "Add to wishlist": "star",
    "Open site": "next", "Share": "reply", "Keep editing": "pencil",
}  # fmt: skip
PREFIXES = (("Cart", "cart"), ("Saved (", "bookmark"))


def icon_for(name: str) -> str | None:
    """The icon of a control labelled ``name``, or None."""
    icon = ICONS.get(name)
    if icon is None:
        icon = next((i for p, i in PREFIXES if name.startswith(p)), None)
    return icon


def _line(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], w: int) -> None:
    d.line(pts, fill=1, width=w)


def _back(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    m = s // 2
    _line(d, [(s - 2, m), (2, m)], w)
    _line(d, [(m - 1, 2), (2, m), (m - 1, s - 3)], w)


def _up(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    m = s // 2
    _line(d, [(m, s - 2), (m, 2)], w)
    _line(d, [(2, m - 1), (m, 2), (s - 3, m - 1)], w)


def _chevron(right: bool) -> Callable[[ImageDraw.ImageDraw, int, int], None]:
    def draw(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
        a, b = (s * 0.35, s * 0.65) if right else (s * 0.65, s * 0.35)
        _line(d, [(a, 2), (b, s / 2), (a, s - 3)], w)

    return draw


def _search(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    r = s * 0.32
    c = s * 0.4
    d.ellipse((c - r, c - r, c + r, c + r), outline=1, width=w)
    _line(d, [(c + r * 0.7, c + r * 0.7), (s - 2, s - 2)], w + 1)


def _plus(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    m = s // 2
    _line(d, [(m, 2), (m, s - 3)], w)
    _line(d, [(2, m), (s - 3, m)], w)


def _close(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _line(d, [(3, 3), (s - 4, s - 4)], w)
    _line(d, [(3, s - 4), (s - 4, 3)], w)


def _check(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _line(d, [(2, s * 0.55), (s * 0.4, s - 4), (s - 3, 3)], w)


def _trash(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.rectangle((s * 0.22, s * 0.3, s * 0.78, s - 2), outline=1, width=w)
    _line(d, [(2, s * 0.22), (s - 3, s * 0.22)], w)
    _line(d, [(s * 0.4, 2), (s * 0.6, 2)], w)


def _star(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    c, r, q = s / 2, s / 2 - 1, s / 5
    pts = [(c + (r if i % 2 == 0 else q) * math.sin(i * math.pi / 5), c - (r if i % 2 == 0 else q) * math.cos(i * math.pi / 5))
           for i in range(10)]  # fmt: skip
    d.polygon(pts, outline=1, width=w)


def _folder(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.polygon([(2, 3), (s * 0.42, 3), (s * 0.52, s * 0.25), (s - 2, s * 0.25), (s - 2, s - 3), (2, s - 3)], outline=1, width=w)


def _folder_plus(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _folder(d, s, w)
    m, n = s * 0.55, s * 0.62
    _line(d, [(m, n - s * 0.17), (m, n + s * 0.17)], w)
    _line(d, [(m - s * 0.17, n), (m + s * 0.17, n)], w)


def _file(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.polygon([(s * 0.2, 2), (s * 0.6, 2), (s * 0.8, s * 0.25), (s * 0.8, s - 2), (s * 0.2, s - 2)], outline=1, width=w)
    _line(d, [(s * 0.6, 2), (s * 0.6, s * 0.25), (s * 0.8, s * 0.25)], max(1, w - 1))


def _mail(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.rectangle((2, s * 0.22, s - 3, s * 0.78), outline=1, width=w)
    _line(d, [(2, s * 0.22), (s / 2, s * 0.55), (s - 3, s * 0.22)], w)


def _cart(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _line(d, [(1, 3), (s * 0.22, 3), (s * 0.32, s * 0.65), (s - 3, s * 0.65), (s - 2, s * 0.28), (s * 0.26, s * 0.28)], w)
    r = max(1, s // 10)
    for cx in (s * 0.38, s * 0.78):
        d.ellipse((cx - r, s - 3 - 2 * r, cx + r, s - 3), fill=1)


def _pencil(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _line(d, [(3, s - 4), (s - 4, 3)], w + 2)
    _line(d, [(2, s - 2), (4, s - 5)], w)


def _calendar(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.rectangle((2, 4, s - 3, s - 2), outline=1, width=w)
    _line(d, [(2, s * 0.38), (s - 3, s * 0.38)], w)
    _line(d, [(s * 0.32, 1), (s * 0.32, 6)], w)
    _line(d, [(s * 0.68, 1), (s * 0.68, 6)], w)


def _bookmark(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.polygon([(s * 0.25, 2), (s * 0.75, 2), (s * 0.75, s - 2), (s / 2, s * 0.7), (s * 0.25, s - 2)], outline=1, width=w)


def _reply(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    _line(d, [(s * 0.4, 3), (2, s * 0.42), (s * 0.4, s * 0.78)], w)
    d.arc((s * 0.1, s * 0.42, s * 1.5, s * 1.6), 180, 270, fill=1, width=w)


def _person(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.ellipse((s * 0.32, 2, s * 0.68, s * 0.4), outline=1, width=w)
    d.arc((s * 0.12, s * 0.5, s * 0.88, s * 1.4), 180, 360, fill=1, width=w)


def _help(d: ImageDraw.ImageDraw, s: int, w: int) -> None:
    d.ellipse((1, 1, s - 2, s - 2), outline=1, width=w)
    d.arc((s * 0.34, s * 0.22, s * 0.66, s * 0.52), 180, 90, fill=1, width=w)
    d.rectangle((s / 2 - 1, s * 0.7, s / 2, s * 0.76), fill=1)


DRAW: dict[str, Callable[[ImageDraw.ImageDraw, int, int], None]] = {
    "back": _back, "up": _up, "next": _chevron(True), "prev": _chevron(False), "search": _search, "plus": _plus,
    "close": _close, "check": _check, "trash": _trash, "star": _star, "folder": _folder, "folder-plus": _folder_plus,
    "file": _file, "mail": _mail, "cart": _cart, "pencil": _pencil, "calendar": _calendar, "bookmark": _bookmark,
    "reply": _reply, "person": _person, "help": _help,
}  # fmt: skip


@lru_cache(maxsize=512)
def mask(icon: str, size: int) -> Image.Image:
    """The 1-bit mask of ``icon`` at ``size`` x ``size`` px (drawn once, then cached)."""
    image = Image.new("1", (size, size), 0)
    DRAW[icon](ImageDraw.Draw(image), size, max(1, size // 9))
    return image
