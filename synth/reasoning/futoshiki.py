"""The ``futoshiki`` family (group puzzles): a Latin square with givens and inequality signs.

Why this family: the answer is checkable by constraints alone, yet inequalities tie cells
across rows and columns, so a depth-first search with forward checking meets real dead ends.
The generator draws a random Latin square, then keeps a few of its digits as givens and the
order of a few adjacent pairs as signs; the square itself proves the puzzle solvable. Puzzles
are not made unique: any grid that keeps the givens, has 1..n once per row and column and obeys
every sign passes, and the gold answer is only the first one the solver finds.

==========  ====  ======  =====  ===================================
difficulty  n     givens  signs  typical expert steps (read..answer)
==========  ====  ======  =====  ===================================
1           4     2       5      ~18
2           5     3       8      ~27
3           5     2       12     ~30
4           6     3       16     ~40
5           7     4       24     ~57
==========  ====  ======  =====  ===================================

Fewer givens and more signs at level 3 make the search meet more dead ends than at level 2.
Levels 4 and 5 draw another puzzle when the search would pass 300 steps (rare), so no trace
nears the episode's step cap.

Rows and columns are numbered from 1 (r1c1 is the top-left cell). ``Task.env`` holds the
givens as rows of digits and dots and the signs as ``less``: pairs ``[a, b]`` of 0-based cell
indexes (``row * n + col``) meaning cell a < cell b.

Moves: ``place {"row": r, "col": c, "digit": d}`` (1-based). State: a tuple of the ``n*n``
digits row by row, 0 for an empty cell. Answer: the rows top to bottom, each row's digits run
together, rows separated by spaces ("1234 2341 3412 4123"); separators are ignored.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

from PIL import ImageDraw

from synth.reasoning import draw
from synth.reasoning.base import Search, TraceStep
from synth.reasoning.sudoku import (
    DigitGrid,
    Overlong,
    cell_name,
    digit_list,
    place_move,
    within_budget,
)
from synth.registry import register


@lru_cache(maxsize=8)
def _lines(n: int) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """Rows then columns, their names, and each cell's row and column mates."""
    units = tuple(tuple(r * n + c for c in range(n)) for r in range(n)) + tuple(
        tuple(r * n + c for r in range(n)) for c in range(n)
    )
    names = tuple(f"row {k + 1}" for k in range(n)) + tuple(f"column {k + 1}" for k in range(n))
    mates = tuple(tuple(j for j in units[i // n] + units[n + i % n] if j != i) for i in range(n * n))
    return units, names, mates


def _where(i: int, j: int, n: int) -> str:
    return f"row {i // n + 1}" if i // n == j // n else f"column {i % n + 1}"


def _sign_text(a: int, b: int, n: int) -> str:
    return f"{cell_name(a, n)} < {cell_name(b, n)}"


def _broken_sign(problem: dict[str, Any], state: tuple[int, ...] | list[int], i: int, d: int) -> str | None:
    """The sign that digit ``d`` in cell ``i`` breaks against a filled neighbour, if any."""
    n = problem["size"]
    for a, b in problem["less"]:
        if a == i and state[b] and not d < state[b]:
            return _sign_fails(a, b, d, state[b], n)
        if b == i and state[a] and not state[a] < d:
            return _sign_fails(a, b, state[a], d, n)
    return None


def _sign_fails(a: int, b: int, da: int, db: int, n: int) -> str:
    return f"{_sign_text(a, b, n)} fails: {cell_name(a, n)} = {da} and {cell_name(b, n)} = {db}"


_DIGITS = tuple(tuple(d for d in range(1, 9) if mask >> d & 1) for mask in range(1 << 9))  # bits -> digits


def _latin(rng: random.Random, n: int) -> list[int]:
    """A random Latin square, filled cell by cell; each cell tries its free digits from a
    seeded starting point (one draw per cell keeps generation cheap)."""
    grid = [0] * (n * n)
    rows, cols = [0] * n, [0] * n
    full = ((1 << n) - 1) << 1

    def fill(i: int) -> bool:
        if i == n * n:
            return True
        r, c = divmod(i, n)
        free = _DIGITS[full & ~(rows[r] | cols[c])]
        k = rng.randrange(len(free)) if free else 0
        for d in free[k:] + free[:k]:
            bit = 1 << d
            grid[i] = d
            rows[r] |= bit
            cols[c] |= bit
            if fill(i + 1):
                return True
            rows[r] &= ~bit
            cols[c] &= ~bit
        return False

    fill(0)
    return grid


class Futoshiki(DigitGrid):
    name = "futoshiki"
    group = "puzzles"
    rules = (
        "the cell is empty, the digit is not yet in its row or column and it keeps every sign with "
        "filled neighbours"
    )
    levels = {
        1: {"size": 4, "givens": 2, "signs": 5},
        2: {"size": 5, "givens": 3, "signs": 8},
        3: {"size": 5, "givens": 2, "signs": 12},
        4: {"size": 6, "givens": 3, "signs": 16, "budget": 300},
        5: {"size": 7, "givens": 4, "signs": 24, "budget": 300},
    }

    # ------------------------------------------------------------------ problem

    def generate(
        self, rng: random.Random, size: int, givens: int, signs: int, budget: int | None = None
    ) -> dict[str, Any]:
        return within_budget(lambda: self._draw(rng, size, givens, signs), self._search, budget)

    def _draw(self, rng: random.Random, n: int, givens: int, signs: int) -> dict[str, Any]:
        square = _latin(rng, n)
        pairs = [(i, i + 1) for i in range(n * n) if i % n < n - 1] + [(i, i + n) for i in range(n * n - n)]
        less = sorted([a, b] if square[a] < square[b] else [b, a] for a, b in rng.sample(pairs, signs))
        kept = set(rng.sample(range(n * n), givens))
        rows = ["".join(str(square[r * n + c]) if r * n + c in kept else "." for c in range(n)) for r in range(n)]
        return {"size": n, "grid": rows, "less": less}

    def describe(self, problem: dict[str, Any]) -> str:
        n = problem["size"]
        signs = ", ".join(_sign_text(a, b, n) for a, b in problem["less"])
        example = self.read_off(problem, [(r + c) % n + 1 for r in range(n) for c in range(n)])
        return (
            f"Fill this {n}x{n} futoshiki so that every row and every column holds each digit 1-{n} "
            "exactly once and every inequality sign holds. Dots are empty cells; the digits shown are "
            "given and must stay. '<' and '>' compare the cells to their left and right; '^' under a "
            "cell means it is smaller than the cell below, 'v' that it is larger.\n\n"
            f"{_picture(problem)}\n\n"
            f"Rows and columns are numbered from 1 at the top left. The signs, smaller cell first: {signs}.\n"
            "Answer with the completed grid row by row from the top: each row's digits together, rows "
            f"separated by spaces, in this format: {example}"
        )

    def read(self, problem: dict[str, Any]) -> str:
        n = problem["size"]
        empty = sum(row.count(".") for row in problem["grid"])
        return (
            f"A {n}x{n} futoshiki with {n * n - empty} givens, {empty} empty cells and "
            f"{len(problem['less'])} inequality signs. Each row and column needs 1-{n} once, and every "
            "sign must hold between its two cells."
        )

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        n = problem["size"]
        units, names, mates = _lines(n)
        less = problem["less"]
        grid = list(self.start(problem))
        dom = [((1 << n) - 1) << 1 if not d else 1 << d for d in grid]
        for i, d in enumerate(grid):
            if d:
                _narrow(dom, grid, n, mates, less, i, d)
        _narrow(dom, grid, n, mates, less, -1, 0)
        steps: list[TraceStep] = []
        counts = {"forced": 0, "guesses": 0, "dead_ends": 0}

        def place(i: int, d: int, text: str) -> str | None:
            if budget is not None and len(steps) >= budget:
                raise Overlong
            steps.append(TraceStep("apply", text, place_move(i, d, n)))
            grid[i] = d
            return _narrow(dom, grid, n, mates, less, i, d)

        def dead(entry: int, why: str) -> bool:
            if entry == 0:
                raise ValueError("this futoshiki has no solution")
            counts["dead_ends"] += 1
            steps.append(TraceStep("backtrack", f"{why} Dead end.", depth=entry - 1))
            return False

        def frame(entry: int) -> bool:
            """Place forced digits, then guess; ``entry`` moves are in force, the last being the
            guess that opened this frame (none at the root)."""
            depth = entry
            while (found := _forced(n, units, names, grid, dom)) is not None:
                if found[0] == "gap":
                    return dead(entry, found[1])
                counts["forced"] += 1
                depth += 1
                wiped = place(found[1], found[2], found[3])
                if wiped is not None:
                    return dead(entry, f"Forward check: {wiped}")
            open_cells = [(dom[i].bit_count(), i) for i in range(n * n) if not grid[i]]
            if not open_cells:
                return True
            i = min(open_cells)[1]
            options = [d for d in range(1, n + 1) if dom[i] >> d & 1]
            saved = grid[:], dom[:]
            name = cell_name(i, n)
            for k, d in enumerate(options):
                if k:
                    last = " (its last candidate)" if k == len(options) - 1 else ""
                    text = f"Back at {name}: {options[k - 1]} failed, so try {d}{last}."
                else:
                    listed = ", ".join(map(str, options))
                    text = f"Nothing is forced. {name} has the fewest candidates ({listed}): try {d}."
                counts["guesses"] += 1
                wiped = place(i, d, text)
                if wiped is not None:
                    dead(depth + 1, f"Forward check: {wiped}")
                elif frame(depth + 1):
                    return True
                grid[:], dom[:] = saved
            if entry == 0:
                raise ValueError("this futoshiki has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += f" {name} has no other candidate either."
            return False

        frame(0)
        answer = self.read_off(problem, grid)
        plan = (
            "Keep a candidate list per empty cell: digits not yet in its row or column and allowed by the "
            "signs (the smaller cell of a sign stays below the larger one's largest candidate, the larger "
            "above the smaller one's smallest). Place what is "
            "forced (a cell with one candidate, or a digit with one possible cell in a row or column); when "
            "nothing is, try the candidates of the cell with the fewest. After each placement forward-check: "
            "strike the digit from its row and column and apply its signs to the neighbours. When a cell or "
            "a line runs out of options, undo back to the last try and take its next candidate."
        )
        return Search(plan, steps, answer, counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[tuple[int, ...], str | None]:
        i, d, wrong = self.placement(problem, state, move)
        if wrong:
            return state, wrong
        n = problem["size"]
        placed = state[:i] + (d,) + state[i + 1 :]
        for j in _lines(n)[2][i]:
            if state[j] == d:
                return placed, f"{d} is already in {_where(i, j, n)} at {cell_name(j, n)}"
        return placed, _broken_sign(problem, state, i, d)

    def blunder(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> tuple[Any, str] | None:
        """Either a digit the row still lacks but the column already holds (one line checked,
        not the other), or one that fits both lines but breaks a sign (the sign overlooked)."""
        n = problem["size"]
        empty = [i for i, d in enumerate(state) if not d]
        rng.shuffle(empty)
        for i in empty:
            name = cell_name(i, n)
            row = {state[j] for j in range(i - i % n, i - i % n + n)}
            col = {state[j] for j in range(i % n, n * n, n)}
            tempting = [
                (d, f"{name}: {d} is still missing from row {i // n + 1}, so {name} = {d}.")
                for d in range(1, n + 1)
                if d not in row and d in col
            ] + [
                (d, f"{name}: {d} is in neither row {i // n + 1} nor column {i % n + 1}, so {name} = {d}.")
                for d in range(1, n + 1)
                if d not in row and d not in col and _broken_sign(problem, state, i, d)
            ]
            if tempting:
                d, thought = rng.choice(tempting)
                return place_move(i, d, n), thought
        return None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> list[TraceStep]:
        """Fill every empty cell in reading order with its smallest fitting digit (or, with
        none fitting, the smallest one its row lacks), never revisiting the broken cell."""
        n = problem["size"]
        board = list(state)
        steps = []
        for i in range(n * n):
            if board[i]:
                continue
            name = cell_name(i, n)
            seen = {board[j] for j in _lines(n)[2][i]}
            fits = [d for d in range(1, n + 1) if d not in seen and not _broken_sign(problem, board, i, d)]
            if fits:
                d, why = fits[0], "fits its row, its column and its signs"
            else:
                row = {board[j] for j in range(i - i % n, i - i % n + n)}
                d, why = next((d for d in range(1, n + 1) if d not in row), 1), "is still missing from its row"
            board[i] = d
            steps.append(TraceStep("apply", f"{name}: {d} {why}, so {name} = {d}.", place_move(i, d, n)))
        return steps

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        n = problem["size"]
        grid, why = self.checked(problem, answer, *_lines(n)[:2])
        if grid is None:
            return False, why
        for a, b in problem["less"]:
            if not grid[a] < grid[b]:
                return False, _sign_fails(a, b, grid[a], grid[b], n)
        return True, f"every row and column holds 1-{n} once, the givens are kept and all {len(problem['less'])} signs hold"

    def render(self, problem: dict[str, Any], state: tuple[int, ...] | None, size: int) -> Any:
        n = problem["size"]
        image = self.givens_image(problem, state, size)
        # the same geometry as draw.grid_image, to put each sign on the edge its cells share
        margin = max(4, size // 40)
        cell = (size - 2 * margin) // n
        pen = ImageDraw.Draw(image)
        glyphs = draw.font(int(cell * 0.5))
        half = cell * 0.2
        for a, b in problem["less"]:
            (ra, ca), (rb, cb) = divmod(a, n), divmod(b, n)
            x = margin + (ca + cb + 1) * cell / 2
            y = margin + (ra + rb + 1) * cell / 2
            glyph = ("<" if ca < cb else ">") if ra == rb else ("^" if ra < rb else "v")
            pen.rectangle([x - half, y - half, x + half, y + half], fill=draw.WHITE)
            pen.text((x, y), glyph, fill=draw.RED, font=glyphs, anchor="mm")
        return image


def _narrow(dom: list[int], grid: list[int], n: int, mates, less, i: int, d: int) -> str | None:
    """Forward checking after ``i`` = ``d`` (``i`` < 0: none, just the signs): strike ``d``
    from the cell's row and column, then tighten both cells of every sign until nothing
    changes (the smaller one stays below the larger one's largest candidate, and vice versa).
    Returns why a cell ran out of candidates, if one did."""
    if i >= 0:
        bit = 1 << d
        dom[i] = bit
        for j in mates[i]:
            if not grid[j] and dom[j] & bit:
                if dom[j] == bit:
                    return f"{cell_name(j, n)} could only be {d}, which {cell_name(i, n)} now takes in {_where(i, j, n)}."
                dom[j] &= ~bit
    changed = True
    while changed:
        changed = False
        for a, b in less:
            da, db = dom[a], dom[b]
            below = da & ((1 << (db.bit_length() - 1)) - 1)  # a's candidates under b's largest
            above = db & -((da & -da) << 1)  # b's candidates over a's smallest
            if below == da and above == db:
                continue
            for j, keep, other, side in ((a, below, b, "smaller"), (b, above, a, "greater")):
                if grid[j] or keep == dom[j]:
                    continue
                if not keep:
                    edge = _low(dom[other]) if side == "greater" else _high(dom[other])
                    bound = f"= {edge}" if grid[other] else f"(at {'least' if side == 'greater' else 'most'} {edge})"
                    return (
                        f"{cell_name(j, n)} must be {side} than {cell_name(other, n)} {bound}, but its candidates "
                        f"are {digit_list(dom[j])}."
                    )
                dom[j] = keep
                changed = True
    return None


def _low(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _high(mask: int) -> int:
    return mask.bit_length() - 1


def _forced(n: int, units, names, grid: list[int], dom: list[int]) -> tuple | None:
    """The next forced placement ("place", cell, digit, why): a cell with one candidate left, or
    a digit with one cell left in a row or column; ("gap", why) when a line has a digit no cell
    can take; None when nothing is forced."""
    for i, m in enumerate(dom):
        if not grid[i] and not m & (m - 1):
            d = m.bit_length() - 1
            return "place", i, d, f"{cell_name(i, n)} has one candidate left, {d}: place it."
    for unit, name in zip(units, names, strict=True):
        held = once = twice = 0
        for i in unit:
            if grid[i]:
                held |= 1 << grid[i]
            else:
                twice |= once & dom[i]
                once |= dom[i]
        need = (((1 << n) - 1) << 1) & ~held
        if need & ~once:
            d = (need & ~once).bit_length() - 1
            return "gap", f"{name.capitalize()} still needs a {d}, but none of its empty cells can take it."
        lone = once & ~twice
        if lone:
            d = lone.bit_length() - 1
            i = next(i for i in unit if not grid[i] and dom[i] >> d & 1)
            return "place", i, d, f"{name.capitalize()} needs a {d} and only {cell_name(i, n)} can still take it: place it."
    return None


def _picture(problem: dict[str, Any]) -> str:
    """The board as text: '<'/'>' between cells of a row, '^'/'v' between rows."""
    n = problem["size"]
    sign = {(a, b): "<" for a, b in problem["less"]} | {(b, a): ">" for a, b in problem["less"]}
    lines = []
    for r in range(n):
        row = problem["grid"][r]
        gaps = [f" {sign.get((r * n + c, r * n + c + 1), ' ')} " for c in range(n - 1)]
        lines.append("".join(a + b for a, b in zip(row, gaps, strict=False)) + row[-1])
        if r < n - 1:
            marks = {"<": "^", ">": "v"}
            below = [marks.get(sign.get((r * n + c, r * n + c + n), ""), " ") for c in range(n)]
            lines.append("   ".join(below).rstrip())
    return "\n".join(lines)


family = register(Futoshiki())
