"""Pillow drawings shared by the grid and graph families (written once, used by all).

Images are plain and high-contrast on purpose: multimodal trainers need the puzzle to be
readable at small sizes, not pretty. Everything is deterministic (no anti-aliasing
randomness, the default bitmap font), so the same problem always gives the same PNG bytes
and the same blob id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (150, 150, 150)
DARK = (60, 60, 60)
BLUE = (40, 90, 200)
RED = (200, 40, 40)
GREEN = (40, 150, 70)
LIGHT = (225, 232, 245)


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def grid_image(
    rows: int,
    cols: int,
    size: int,
    cells: Mapping[tuple[int, int], tuple[tuple[int, int, int] | None, str, tuple[int, int, int]]],
    *,
    thick_every: int = 0,
    walls: Sequence[tuple[int, int, str]] = (),
) -> Image.Image:
    """A ``rows`` x ``cols`` board fitted into a ``size`` px square.

    ``cells[(r, c)] = (fill or None, text, text colour)``; ``thick_every`` draws a heavier line
    every k cells (sudoku boxes); ``walls`` are (row, col, side) with side in 'UDLR'.
    """
    margin = max(4, size // 40)
    cell = (size - 2 * margin) // max(rows, cols)
    image = Image.new("RGB", (size, size), WHITE)
    draw = ImageDraw.Draw(image)
    glyphs = font(int(cell * 0.6))
    for (r, c), (fill, text, colour) in cells.items():
        x0, y0 = margin + c * cell, margin + r * cell
        if fill is not None:
            draw.rectangle([x0, y0, x0 + cell, y0 + cell], fill=fill)
        if text:
            draw.text((x0 + cell / 2, y0 + cell / 2), text, fill=colour, font=glyphs, anchor="mm")
    for i in range(rows + 1):
        width = 3 if thick_every and i % thick_every == 0 else 1
        draw.line([margin, margin + i * cell, margin + cols * cell, margin + i * cell], fill=DARK, width=width)
    for j in range(cols + 1):
        width = 3 if thick_every and j % thick_every == 0 else 1
        draw.line([margin + j * cell, margin, margin + j * cell, margin + rows * cell], fill=DARK, width=width)
    for r, c, side in walls:
        x0, y0 = margin + c * cell, margin + r * cell
        ends = {"U": (x0, y0, x0 + cell, y0), "D": (x0, y0 + cell, x0 + cell, y0 + cell),
                "L": (x0, y0, x0, y0 + cell), "R": (x0 + cell, y0, x0 + cell, y0 + cell)}[side]
        draw.line(ends, fill=BLACK, width=max(3, cell // 8))
    return image


def graph_image(
    n: int,
    edges: Sequence[tuple[int, int, str]],
    size: int,
    *,
    directed: bool = False,
    labels: Sequence[str] | None = None,
    highlight: Sequence[tuple[int, int]] = (),
    marked: Mapping[int, tuple[int, int, int]] | None = None,
) -> Image.Image:
    """``n`` nodes on a circle, ``edges`` as (u, v, label); ``highlight`` edges in red,
    ``marked`` nodes filled with a colour (e.g. source and target)."""
    image = Image.new("RGB", (size, size), WHITE)
    draw = ImageDraw.Draw(image)
    radius = max(8, int(size / (2.6 * max(4, n) ** 0.75)))
    centre = size / 2
    ring = centre - radius - max(4, size // 40)
    pos = [
        (centre + ring * math.cos(2 * math.pi * i / n - math.pi / 2), centre + ring * math.sin(2 * math.pi * i / n - math.pi / 2))
        for i in range(n)
    ]
    small = font(max(8, radius * 2 // 3))
    lit = set(highlight) | ({(v, u) for u, v in highlight} if not directed else set())
    for u, v, label in edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        colour = RED if (u, v) in lit else GREY
        draw.line([x0, y0, x1, y1], fill=colour, width=3 if colour == RED else 2)
        if directed:
            angle = math.atan2(y1 - y0, x1 - x0)
            tip = (x1 - radius * math.cos(angle), y1 - radius * math.sin(angle))
            wing = radius * 0.6
            draw.polygon(
                [tip, (tip[0] - wing * math.cos(angle - 0.4), tip[1] - wing * math.sin(angle - 0.4)),
                 (tip[0] - wing * math.cos(angle + 0.4), tip[1] - wing * math.sin(angle + 0.4))],
                fill=colour,
            )
        if label:
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            draw.rectangle([mx - radius * 0.45, my - radius * 0.35, mx + radius * 0.45, my + radius * 0.35], fill=WHITE)
            draw.text((mx, my), label, fill=BLUE, font=small, anchor="mm")
    marked = marked or {}
    big = font(radius)
    for i, (x, y) in enumerate(pos):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=marked.get(i, LIGHT), outline=BLACK, width=2)
        draw.text((x, y), labels[i] if labels else str(i), fill=BLACK, font=big, anchor="mm")
    return image
