"""Screenshots: the laid-out view drawn with Pillow, from the same boxes the tree shows.

Drawn in palette ("P") mode with a seeded theme: PNG-encoding a 1280x800 palette image costs
about 2 ms against 12-18 ms for RGB, and the files are 5-30 KB. Text is drawn from cached
glyph masks (``font.getmask2`` once per label, then ``draw_bitmap``: ~14 us against ~135 us
for ``ImageDraw.text``). Every mark an element makes stays inside its box (labels are cut
with an ellipsis to fit), so tree and pixels agree by construction; tests check it on the
pixels. While a dialog is open, the layers under it are dimmed with one palette lookup.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw

from synth.gui.icons import mask
from synth.gui.toolkit import SCROLLBAR, Node, Style, View, font, line_height

# palette indices; the dimmed copy of index i is i + DIM
BG, SURFACE, SURFACE2, BORDER, FG, MUTED, ACCENT, ON_ACCENT, SELECT = range(9)
DIM = 16
ACCENTS = ((37, 99, 235), (22, 163, 74), (124, 58, 237), (234, 88, 12), (13, 148, 136),
           (220, 38, 38), (219, 39, 119), (2, 132, 199), (161, 98, 7), (79, 70, 229))  # fmt: skip
THEMES = {  # background, surface, second surface, border, text, muted text
    "light": ((246, 247, 249), (255, 255, 255), (232, 235, 240), (190, 196, 206), (28, 31, 38), (104, 110, 122)),
    "dark": ((22, 24, 29), (36, 39, 46), (47, 51, 60), (78, 84, 96), (232, 234, 238), (150, 156, 168)),
    "warm": ((250, 246, 238), (255, 252, 245), (240, 232, 216), (205, 190, 165), (52, 40, 28), (125, 105, 85)),
    "slate": ((30, 41, 59), (44, 57, 78), (56, 71, 95), (90, 107, 133), (226, 232, 240), (148, 163, 184)),
}
_DIM_LUT = [i + DIM if i < DIM else i for i in range(256)]


@lru_cache(maxsize=64)
def palette(theme: str, accent: int) -> bytes:
    bg, surface, surface2, border, fg, muted = THEMES[theme]
    a = ACCENTS[accent % len(ACCENTS)]
    select = _mix(a, surface, 0.18 if theme == "light" else 0.35)
    colours = [bg, surface, surface2, border, fg, muted, a, (255, 255, 255), select]
    colours += [(0, 0, 0)] * (DIM - len(colours))
    colours += [_mix((0, 0, 0), c, 0.45) for c in colours[:DIM]]
    return bytes(v for c in colours for v in c) + bytes(3 * (256 - len(colours)))


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] * t + b[0] * (1 - t)), round(a[1] * t + b[1] * (1 - t)), round(a[2] * t + b[2] * (1 - t)))


_GLYPHS: dict[tuple[str, int], tuple[Any, int, int, tuple[int, int, int, int]]] = {}


def glyph(text: str, size: int) -> tuple[Any, int, int, tuple[int, int, int, int]]:
    """``(mask, dx, dy, ink box)`` of ``text`` rasterised without anti-aliasing (cached);
    the ink box is relative to the mask's position (dx, dy from the pen)."""
    key = (text, size)
    g = _GLYPHS.get(key)
    if g is None:
        if len(_GLYPHS) > 20_000:
            _GLYPHS.clear()
        mask, (dx, dy) = font(size).getmask2(text, mode="1")
        g = _GLYPHS[key] = (mask, dx, dy, mask.getbbox() or (0, 0, 0, 0))
    return g


def ink_width(text: str, size: int) -> int:
    """From the pen position to the right edge of the drawn text, in px."""
    _, dx, _, ink = glyph(text, size)
    return dx + ink[2] if ink[2] else 0


@lru_cache(maxsize=20_000)
def _fit(text: str, size: int, width: int) -> str:
    """``text`` cut with an ellipsis to fit ``width`` px (binary search on the prefix)."""
    if ink_width(text, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ink_width(text[:mid].rstrip() + "…", size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…" if lo else ""


class _Painter:
    def __init__(self, image: Image.Image, style: Style, record: list | None):
        self.im = image
        self.d = ImageDraw.Draw(image)
        self.core = self.d.draw
        self.s = style
        self.record = record
        self.f = style.font

    def rect(self, box: tuple[int, int, int, int], fill: int | None = None, outline: int | None = None, width: int = 1,
             round_: bool = False) -> None:  # fmt: skip
        """A box's rectangle (half-open box); ``round_`` uses the style's corner radius."""
        x0, y0, x1, y1 = box
        if x1 <= x0 or y1 <= y0:
            return
        r = min(self.s.radius, (x1 - x0) // 2, (y1 - y0) // 2) if round_ else 0
        if r > 1:
            self.d.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), r, fill=fill, outline=outline, width=width)
        else:
            self.d.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill, outline=outline, width=width)

    def icon(self, name: str, x: int, y_mid: int, ink: int) -> int:
        """Stamp icon ``name`` with its left edge at ``x``, centred on ``y_mid``; its width."""
        size = round(self.f * 1.15)
        self.core.draw_bitmap((x, y_mid - size // 2), mask(name, size).im, ink)
        return size

    def text(self, el: Node, x: int, y_mid: int, text: str, size: int, ink: int, right: int,
             bold: bool = False, align: str = "left") -> int:  # fmt: skip
        """Draw ``text`` with its line box centred on ``y_mid``, clipped at ``right``; its width."""
        text = _fit(text, size, right - x - (1 if bold else 0))
        if not text:
            return 0
        mask, dx, dy, (ix0, iy0, ix1, iy1) = glyph(text, size)
        width = ink_width(text, size) + (1 if bold else 0)
        if align == "right":
            x = right - width
        elif align == "center":
            x = x + max(0, (right - x - width) // 2)
        top = y_mid - line_height(size) // 2
        at = (x + dx, top + dy)
        self.core.draw_bitmap(at, mask, ink)
        if bold:
            self.core.draw_bitmap((at[0] + 1, at[1]), mask, ink)
        if self.record is not None:
            box = (at[0] + ix0, at[1] + iy0, at[0] + ix1 + (1 if bold else 0), at[1] + iy1)
            self.record.append((el.id, box, ink, text))
        return width

    def element(self, el: Node) -> None:
        x0, y0, x1, y1 = el.box
        r, f, s = el.role, self.f, self.s
        mid = (y0 + y1) // 2
        ink = MUTED if el.disabled else FG
        if r in ("navigation", "toolbar"):
            self.rect(el.box, SURFACE2)
        elif r in ("dialog", "menu", "listbox"):
            self.rect(el.box, SURFACE, BORDER, 2 if r == "dialog" else 1)
            if r == "dialog":
                self.text(el, x0 + s.pad, y0 + round((f + 2) * 1.1), el.name, f + 2, FG, x1 - s.pad, bold=True)
        elif r == "region":
            self.rect(el.box, None, BORDER)
        elif r == "tablist":
            self.rect((x0, y1 - 1, x1, y1), BORDER)
        elif r == "scrollarea":
            if el.scroll_max:
                track = (x1 - SCROLLBAR, y0, x1, y1)
                self.rect(track, SURFACE2)
                h = y1 - y0
                thumb = max(16, h * h // (h + el.scroll_max))
                top = y0 + (h - thumb) * el.scroll // el.scroll_max
                self.rect((x1 - SCROLLBAR + 1, top, x1 - 1, top + thumb), BORDER)
        elif r == "button" and el.kind == "cell":
            self._day(el, ink)
        elif r == "button":
            fg = ON_ACCENT if el.primary and not el.disabled else ink
            if el.primary and not el.disabled:
                self.rect(el.box, ACCENT, round_=True)
            else:
                self.rect(el.box, SURFACE, BORDER, round_=True)
            if el.icon:
                size = round(f * 1.15)
                tw = ink_width(_fit(el.name, f, x1 - x0 - 14 - size), f)
                left = x0 + max(4, (x1 - x0 - size - 6 - tw) // 2)
                self.icon(el.icon, left, mid, fg)
                self.text(el, left + size + 6, mid, el.name, f, fg, x1 - 4)
            else:
                self.text(el, x0 + 4, mid, el.name, f, fg, x1 - 4, align="center")
            if el.focused:
                self.rect((x0 + 2, y0 + 2, x1 - 2, y1 - 2), None, FG if el.primary else ACCENT, round_=True)
        elif r == "link":
            w = self.text(el, x0 + 2, mid, el.name, f, ACCENT, x1 - 2)
            self.rect((x0 + 2, mid + f // 2 + 2, x0 + 2 + w, mid + f // 2 + 3), ACCENT)
        elif r in ("textbox", "combobox"):
            edge = ACCENT if el.focused else BORDER
            if s.fields == "filled":
                self.rect(el.box, SURFACE2, None, round_=True)
                self.rect((x0, y1 - (2 if el.focused else 1), x1, y1), edge)
            elif s.fields == "line":
                self.rect((x0, y1 - (2 if el.focused else 1), x1, y1), edge)
            else:
                self.rect(el.box, SURFACE, edge, 2 if el.focused else 1, round_=True)
            small = f - 3
            right = x1 - (f + 14 if r == "combobox" else 8)
            self.text(el, x0 + 8, y0 + 4 + line_height(small) // 2, el.name, small, MUTED, right)
            if el.value:
                self.text(el, x0 + 8, y1 - 6 - line_height(f) // 2, el.value, f, ink, right)
            if r == "combobox":
                cx, cy = x1 - 12 - f // 2, mid
                k = max(3, f // 3)
                self.d.polygon([(cx - k, cy - k // 2), (cx + k, cy - k // 2), (cx, cy + k // 2 + 1)], fill=MUTED)
        elif r in ("checkbox", "radio", "switch"):
            ind = round(f * 1.15)
            top = mid - ind // 2
            if r == "checkbox":
                box = (x0 + 1, top, x0 + 1 + ind, top + ind)
                self.rect(box, ACCENT if el.checked else SURFACE, ACCENT if el.checked or el.focused else BORDER)
                if el.checked:
                    self.d.line([(box[0] + 3, top + ind // 2), (box[0] + ind // 2 - 1, top + ind - 4),
                                 (box[2] - 4, top + 3)], fill=ON_ACCENT, width=2)  # fmt: skip
                tx = box[2] + 8
            elif r == "radio":
                box = (x0 + 1, top, x0 + 1 + ind, top + ind)
                self.d.ellipse((box[0], box[1], box[2] - 1, box[3] - 1), fill=SURFACE,
                               outline=ACCENT if el.checked or el.focused else BORDER, width=2)  # fmt: skip
                if el.checked:
                    k = ind // 4 + 1
                    self.d.ellipse((box[0] + k, box[1] + k, box[2] - 1 - k, box[3] - 1 - k), fill=ACCENT)
                tx = box[2] + 8
            else:
                track = (x0 + 1, top, x0 + 1 + 2 * ind, top + ind)
                self.rect(track, ACCENT if el.checked else BORDER, ACCENT if el.focused else None)
                kx = track[2] - ind + 2 if el.checked else track[0] + 2
                self.rect((kx, top + 2, kx + ind - 4, top + ind - 2), SURFACE)
                tx = track[2] + 10
            self.text(el, tx, mid, el.name, f, ink, x1)
        elif r == "listitem":
            if el.selected or el.focused:
                self.rect((x0, y0, x1, y1 - 1), SELECT)
            elif s.stripes and el.id % 2:
                self.rect((x0, y0, x1, y1 - 1), SURFACE2)
            self.rect((x0, y1 - 1, x1, y1), BORDER)
            self._cells(el, mid)
        elif r in ("option", "menuitem"):
            if el.selected or el.focused:
                self.rect(el.box, SELECT)
            self.text(el, x0 + 10, mid, el.name, f, ink, x1 - 6, bold=bool(el.selected))
        elif r == "tab":
            if el.selected:
                self.rect((x0, y1 - 3, x1, y1), ACCENT)
            if el.focused:
                self.rect(el.box, None, ACCENT)
            self.text(el, x0 + 2, mid, el.name, f, ACCENT if el.selected else MUTED, x1 - 2, align="center")
        elif r == "heading":
            self.text(el, x0, mid, el.name, f + 5, FG, x1, bold=True)
        elif r == "text":
            self.text(el, x0, mid, el.name, f, FG if el.strong else MUTED, x1, bold=el.strong)

    def _cells(self, el: Node, mid: int) -> None:
        x0, _, x1, _ = el.box
        cells, f = el.cells, self.f
        pad = 10
        if el.icon:
            x0 += self.icon(el.icon, x0 + pad, mid, MUTED) + 4
        if len(cells) == 1:
            self.text(el, x0 + pad, mid, cells[0], f, FG, x1 - pad, bold=el.strong)
            return
        width = x1 - x0 - 2 * pad
        last = min(self._width(cells[-1]), width // 4)
        first = width * 28 // 100
        middle = (width - first - last - 12 * (len(cells) - 1)) // max(1, len(cells) - 2)
        x = x0 + pad
        self.text(el, x, mid, cells[0], f, FG, x + first, bold=el.strong)
        x += first + 12
        for c in cells[1:-1]:
            self.text(el, x, mid, c, f, FG if el.strong else MUTED, x + middle, bold=el.strong)
            x += middle + 12
        self.text(el, x1 - pad - last, mid, cells[-1], f - 1, MUTED, x1 - pad, align="right")

    def _day(self, el: Node, ink: int) -> None:
        """A day cell of a month grid: its number at the top, then its events as chips."""
        x0, y0, x1, y1 = el.box
        small = self.f - 3
        self.rect(el.box, SELECT if el.focused else SURFACE, BORDER, round_=True)
        top = y0 + 3 + line_height(small) // 2
        self.text(el, x0 + 6, top, el.name, small, ink, x1 - 4, bold=True)
        y = y0 + line_height(small) + 6
        chip = line_height(small - 1) + 4
        for item in el.cells:
            more = item.startswith("+")
            if not more:
                self.rect((x0 + 3, y, x1 - 3, y + chip - 1), SELECT, round_=True)
            self.text(el, x0 + 6, y + chip // 2, item, small - 1, MUTED if more else FG, x1 - 6)
            y += chip

    def _width(self, text: str) -> int:
        return ink_width(text, self.f - 1)


def draw(view: View, style: Style, record: list | None = None) -> Image.Image:
    """The screenshot of ``view``. ``record``, if given, collects every text mark drawn as
    ``(element id, glyph box, ink, text)`` (the box-agreement test reads it)."""
    image = Image.new("P", view.size, BG)
    image.putpalette(palette(style.theme, style.accent))
    dialog = max((i for i, root in enumerate(view.layers) if root.role == "dialog"), default=None)
    painter = _Painter(image, style, record)
    for el in view.elements:
        if dialog is not None and el.layer == dialog and painter.im is image:
            painter = _Painter(image.point(_DIM_LUT), style, record)
        painter.element(el)
    return painter.im
