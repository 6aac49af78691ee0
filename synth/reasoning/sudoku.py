"""The ``sudoku`` family (group puzzles): sudoku with exactly one solution.

Why this generator: a full grid is one valid pattern relabelled and permuted (digits, rows
within bands, bands, columns within stacks, stacks, and a transpose for square boxes), then
clues are removed one at a time, each only while the removed cell is still *determined* by the
clues left: a naked or hidden single, or (at the ``trials`` levels) a cell whose every other
candidate runs into a contradiction under singles. By induction each puzzle keeps exactly one
solution, so no solution counting is needed and generation stays cheap. The solver fills
singles and guesses (with real backtracking) only when they run out, which happens only on
puzzles built with trials.

==========  ====  =====  =====  ======  ===================================
difficulty  size  box    empty  trials  typical expert steps (read..answer)
==========  ====  =====  =====  ======  ===================================
1           4x4   2x2    10     no      14
2           6x6   2x3    16     no      20
3           6x6   2x3    21     no      25
4           9x9   3x3    45     no      ~49
5           9x9   3x3    54     yes     ~64 (median 58)
==========  ====  =====  =====  ======  ===================================

``empty`` is a target: when no further cell can be removed safely, the puzzle keeps more
clues (a few level-4 puzzles stop one cell short). Level 5 draws another puzzle when the
search would pass 300 steps (rare), so no trace nears the episode's step cap. Rows, columns
and boxes are numbered from 1 (r1c1 is the top-left cell, boxes run left to right, then top
to bottom).

Moves: ``place {"row": r, "col": c, "digit": d}`` (1-based). State: a tuple of the ``size**2``
digits row by row, 0 for an empty cell. Answer: the rows top to bottom, each row's digits run
together, rows separated by spaces ("1234 3412 2143 4321"); spaces, newlines, commas, '|' and
similar separators are ignored.

:class:`DigitGrid` (the task format, moves, answers and drawing) and the grid helpers are
shared with the futoshiki family, a digit grid too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

_SEPARATORS = re.compile(r"[\s,;:|/+\-\[\]()'\"]+")
_EMPTY_MARKS = ".0_?"


# ---------------------------------------------------------------------------- shared grid helpers


def cell_name(i: int, n: int) -> str:
    """'r3c5' for cell index ``i`` of an ``n``-wide grid (names are 1-based)."""
    return f"r{i // n + 1}c{i % n + 1}"


def read_digits(answer: str, n: int) -> tuple[list[int] | None, str]:
    """The ``n*n`` digits an answer spells row by row, or None and why it is unreadable.

    Separators are dropped, so any spacing or punctuation between cells reads the same; any
    other character that is not a digit 1..n or an empty-cell mark ('.', '0', '_', '?') fails.
    """
    text = _SEPARATORS.sub("", answer)
    digits = "123456789"[:n]
    for ch in text:
        if ch not in digits and ch not in _EMPTY_MARKS:
            return None, f"unexpected {ch!r}: cells are the digits 1-{n}"
    if len(text) != n * n:
        return None, f"expected {n * n} cells ({n} rows of {n}), got {len(text)}"
    for k, ch in enumerate(text):
        if ch in _EMPTY_MARKS:
            return None, f"{cell_name(k, n)} is empty"
    return [int(ch) for ch in text], ""


def first_repeat(grid: list[int] | tuple[int, ...], n: int, units, names) -> str | None:
    """'row 2 has two 3s (r2c1 and r2c4)' for the first unit holding a digit twice."""
    for unit, name in zip(units, names, strict=True):
        if len({grid[i] for i in unit}) == len(unit):
            continue
        seen: dict[int, int] = {}
        for i in unit:
            d = grid[i]
            if d in seen:
                return f"{name} has two {d}s ({cell_name(seen[d], n)} and {cell_name(i, n)})"
            seen[d] = i
    return None


@lru_cache(maxsize=2048)
def digit_list(mask: int) -> str:
    """'1, 2, 4' for the digit bits set in ``mask`` (bit d stands for digit d)."""
    return ", ".join(str(d) for d in range(1, mask.bit_length()) if mask >> d & 1)


class Overlong(Exception):
    """A search passed its level's step budget; the generator draws another puzzle so that no
    trace nears the episode's step cap."""


def within_budget(
    draw_problem: Callable[[], dict[str, Any]], search: Callable[[dict[str, Any], int], Any], budget: int | None
) -> dict[str, Any]:
    """The first drawn problem whose search stays within ``budget`` steps (any, when None)."""
    while True:
        problem = draw_problem()
        if budget is None:
            return problem
        try:
            search(problem, budget)
            return problem
        except Overlong:
            continue


class DigitGrid(ReasoningFamily):
    """What the digit-grid families (sudoku, futoshiki) share: ``Task.env`` holds ``size`` and
    the givens as rows of digits and dots; moves place one digit in one empty cell; answers
    are the rows of digits. Subclasses add their own rules, solver and extra constraints."""

    action = "place"

    def start(self, problem: dict[str, Any]) -> tuple[int, ...]:
        return tuple(map(int, "".join(problem["grid"]).replace(".", "0")))

    def placement(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[int, int, str | None]:
        """The cell index and digit a move names, or the reason it is malformed or its cell taken."""
        n = problem["size"]
        try:
            r, c, d = move["row"], move["col"], move["digit"]
        except (TypeError, KeyError, IndexError):
            r = c = d = None
        if not (type(r) is int and type(c) is int and type(d) is int and 0 < r <= n and 0 < c <= n and 0 < d <= n):
            return -1, 0, f"a move names a row, a column and a digit, each 1..{n}, got {move!r}"
        i = (r - 1) * n + c - 1
        return i, d, f"{cell_name(i, n)} already holds {state[i]}" if state[i] else None

    def checked(self, problem: dict[str, Any], answer: str, units, names) -> tuple[list[int] | None, str]:
        """The answer's digits once they are readable, keep the givens and repeat in no unit;
        else None and the first thing wrong."""
        n = problem["size"]
        grid, why = read_digits(answer, n)
        if grid is None:
            return None, why
        for i, g in enumerate(self.start(problem)):
            if g and grid[i] != g:
                return None, f"{cell_name(i, n)} must keep the given {g}, got {grid[i]}"
        repeat = first_repeat(grid, n, units, names)
        return (None, repeat) if repeat else (grid, "")

    def observe(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        return f"{len(state) - state.count(0)} of {len(state)} cells filled."

    def read_off(self, problem: dict[str, Any], state: tuple[int, ...] | list[int]) -> str:
        n = problem["size"]
        return " ".join("".join(str(d) if d else "." for d in state[r * n : (r + 1) * n]) for r in range(n))

    def random_move(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> Any | None:
        empty = [i for i, d in enumerate(state) if not d]
        if not empty:
            return None
        n = problem["size"]
        return place_move(rng.choice(empty), rng.randint(1, n), n)

    def move_text(self, move: Any) -> str:
        return f"{move['digit']} at r{move['row']}c{move['col']}"

    def givens_image(self, problem: dict[str, Any], state: tuple[int, ...] | None, size: int, **lines: Any) -> Any:
        """The grid with givens in black and placed digits in blue."""
        n = problem["size"]
        givens = self.start(problem)
        cells = {}
        for i, d in enumerate(state or givens):
            if d:
                cells[(i // n, i % n)] = (None, str(d), draw.BLACK if givens[i] else draw.BLUE)
        return draw.grid_image(n, n, size, cells, **lines)


def place_move(i: int, d: int, n: int) -> dict[str, int]:
    return {"row": i // n + 1, "col": i % n + 1, "digit": d}


# ---------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class Shape:
    """Everything fixed by the grid size: units (rows, columns, boxes), their names, the three
    units and the peers of every cell, cell names. Built once per size."""

    n: int
    br: int
    bc: int
    units: tuple[tuple[int, ...], ...]
    names: tuple[str, ...]
    of: tuple[tuple[int, int, int], ...]
    peers: tuple[tuple[int, ...], ...]
    hatch: tuple[tuple[int, int, int], ...]  # a cell's box, row and column: the order people scan
    cells: tuple[str, ...]
    full: int


@lru_cache(maxsize=8)
def shape(n: int, br: int, bc: int) -> Shape:
    rows = [tuple(r * n + c for c in range(n)) for r in range(n)]
    cols = [tuple(r * n + c for r in range(n)) for c in range(n)]
    boxes = [
        tuple((b0 + r) * n + s0 + c for r in range(br) for c in range(bc))
        for b0 in range(0, n, br)
        for s0 in range(0, n, bc)
    ]
    units = tuple(rows + cols + boxes)
    names = tuple(f"{kind} {k + 1}" for kind in ("row", "column", "box") for k in range(n))
    of = tuple((i // n, n + i % n, 2 * n + (i // n) // br * (n // bc) + (i % n) // bc) for i in range(n * n))
    peers = tuple(tuple(sorted({j for u in of[i] for j in units[u]} - {i})) for i in range(n * n))
    hatch = tuple((box, row, col) for row, col, box in of)
    cells = tuple(cell_name(i, n) for i in range(n * n))
    return Shape(n, br, bc, units, names, of, peers, hatch, cells, ((1 << n) - 1) << 1)


def _shape_of(problem: dict[str, Any]) -> Shape:
    return shape(problem["size"], *problem["box"])


# ---------------------------------------------------------------------------- singles

# The board while solving: ``grid`` (digits, 0 empty), ``cand`` (candidate bits of each empty
# cell, 0 for a filled one) and ``present`` (digit bits of each unit), all plain lists so a
# guess saves and restores them by slicing.


def _masks(sh: Shape, grid: list[int]) -> tuple[list[int], list[int]]:
    present = [0] * len(sh.units)
    for u, unit in enumerate(sh.units):
        for i in unit:
            present[u] |= 1 << grid[i]
    present = [p & sh.full for p in present]
    cand = [0 if grid[i] else sh.full & ~(present[a] | present[b] | present[c]) for i, (a, b, c) in enumerate(sh.of)]
    return cand, present


def _place(sh: Shape, grid: list[int], cand: list[int], present: list[int], i: int, d: int) -> None:
    bit = 1 << d
    grid[i] = d
    cand[i] = 0
    for u in sh.of[i]:
        present[u] |= bit
    for p in sh.peers[i]:
        cand[p] &= ~bit


def _single(sh: Shape, grid: list[int], cand: list[int], present: list[int]) -> tuple | None:
    """The next forced fact, for the first cell in reading order that has one: ("naked", cell,
    digit) when one candidate is left, else ("hidden", unit, cell, digit) when its box, row or
    column has no other place for a digit. A contradiction is ("dead", cell) or ("gap", unit,
    digit); None means singles are exhausted. Units are summed up only when a cell needs them."""
    lone = [-1] * len(sh.units)  # per unit: the digits with exactly one place left
    for i, m in enumerate(cand):
        if not m:
            if not grid[i]:
                return "dead", i
            continue
        if not m & (m - 1):
            return "naked", i, m.bit_length() - 1
        for u in sh.hatch[i]:
            only = lone[u]
            if only < 0:
                once = twice = 0
                for j in sh.units[u]:
                    twice |= once & cand[j]
                    once |= cand[j]
                missing = sh.full & ~present[u] & ~once
                if missing:
                    return "gap", u, (missing & -missing).bit_length() - 1
                only = lone[u] = once & ~twice
            only &= m
            if only:
                return "hidden", u, i, (only & -only).bit_length() - 1
    return None


def _contradicts(sh: Shape, grid: list[int], cand: list[int], present: list[int]) -> bool:
    """Whether filling singles from this board runs into a contradiction (mutates the board).
    Naked singles are taken in a cheap pass of their own before :func:`_single` looks at the
    units: the order does not matter here, and generation runs this many times."""
    while True:
        placed = False
        for i in range(len(cand)):
            m = cand[i]
            if m and not m & (m - 1):
                _place(sh, grid, cand, present, i, m.bit_length() - 1)
                placed = True
            elif not m and not grid[i]:
                return True
        if placed:
            continue
        found = _single(sh, grid, cand, present)
        if found is None:
            return False
        if found[0] in ("dead", "gap"):
            return True
        _place(sh, grid, cand, present, found[-2], found[-1])


# ---------------------------------------------------------------------------- generation


def _pattern(n: int, br: int, bc: int, r: int, c: int) -> int:
    """Digit index (0-based) of cell (r, c) of one valid grid: each row shifts the one above by
    a box width, each band by one more."""
    return (bc * (r % br) + r // br + c) % n


def _full_grid(rng: random.Random, sh: Shape) -> list[int]:
    """A complete grid: :func:`_pattern` with its digits relabelled
    and its rows, bands, columns and stacks shuffled (all of which keep it valid)."""
    n, br, bc = sh.n, sh.br, sh.bc
    bands, stacks = list(range(n // br)), list(range(n // bc))
    rng.shuffle(bands)
    rng.shuffle(stacks)
    rows = [b * br + k for b in bands for k in rng.sample(range(br), br)]
    cols = [s * bc + k for s in stacks for k in rng.sample(range(bc), bc)]
    digits = rng.sample(range(1, n + 1), n)
    grid = [digits[_pattern(n, br, bc, r, c)] for r in rows for c in cols]
    if br == bc and rng.random() < 0.5:
        grid = [grid[c * n + r] for r in range(n) for c in range(n)]
    return grid


def _determined(sh: Shape, grid: list[int], present: list[int], i: int, trials: bool) -> bool:
    """Whether cell ``i`` (its digit still in ``grid``) is forced by the other clues; if so it is
    removed from ``grid`` and ``present``. Sound: a forced cell never adds a solution."""
    v = grid[i]
    bit = 1 << v
    grid[i] = 0
    for u in sh.of[i]:
        present[u] &= ~bit

    def cand(j: int) -> int:
        a, b, c = sh.of[j]
        return sh.full & ~(present[a] | present[b] | present[c])

    mine = cand(i)
    if mine == bit or any(all(not cand(j) & bit for j in sh.units[u] if j != i and not grid[j]) for u in sh.of[i]):
        return True
    if trials:
        board, masks = grid[:], _masks(sh, grid)
        for w in range(1, sh.n + 1):
            if w == v or not mine >> w & 1:
                continue
            g, (c, p) = board[:], (masks[0][:], masks[1][:])
            _place(sh, g, c, p, i, w)
            if not _contradicts(sh, g, c, p):
                break
        else:
            return True
    grid[i] = v
    for u in sh.of[i]:
        present[u] |= bit
    return False


# ---------------------------------------------------------------------------- the family


class Sudoku(DigitGrid):
    name = "sudoku"
    group = "puzzles"
    rules = "the cell is empty and the digit is not yet in its row, column or box"
    levels = {
        1: {"size": 4, "box": (2, 2), "empty": 10, "trials": False},
        2: {"size": 6, "box": (2, 3), "empty": 16, "trials": False},
        3: {"size": 6, "box": (2, 3), "empty": 21, "trials": False},
        4: {"size": 9, "box": (3, 3), "empty": 45, "trials": False},
        5: {"size": 9, "box": (3, 3), "empty": 54, "trials": True, "budget": 300},
    }

    # ------------------------------------------------------------------ problem

    def generate(
        self, rng: random.Random, size: int, box: tuple[int, int], empty: int, trials: bool, budget: int | None = None
    ) -> dict[str, Any]:
        return within_budget(lambda: self._draw(rng, size, box, empty, trials), self._search, budget)

    def _draw(self, rng: random.Random, size: int, box: tuple[int, int], empty: int, trials: bool) -> dict[str, Any]:
        sh = shape(size, *box)
        grid = _full_grid(rng, sh)
        present = _masks(sh, grid)[1]
        order = list(range(size * size))
        rng.shuffle(order)
        removed = 0
        for i in order:
            if removed == empty:
                break
            removed += _determined(sh, grid, present, i, trials)
        rows = ["".join(str(d) if d else "." for d in grid[r * size : (r + 1) * size]) for r in range(size)]
        return {"size": size, "box": list(box), "grid": rows}

    def describe(self, problem: dict[str, Any]) -> str:
        n, (br, bc) = problem["size"], problem["box"]
        return (
            f"Fill this {n}x{n} sudoku so that every row, every column and every {br}x{bc} box "
            f"({br} rows by {bc} columns, marked by the lines) holds each digit 1-{n} exactly once. "
            "Dots are empty cells; the digits shown are given and must stay.\n\n"
            f"{_picture(problem)}\n\n"
            "Rows and columns are numbered from 1 at the top left (r1c1 is the top-left cell).\n"
            "Answer with the completed grid row by row from the top: each row's digits together, rows "
            f"separated by spaces, in this format: {_pattern_text(n, br, bc)}"
        )

    def read(self, problem: dict[str, Any]) -> str:
        n, (br, bc) = problem["size"], problem["box"]
        empty = sum(row.count(".") for row in problem["grid"])
        return (
            f"A {n}x{n} sudoku with {br}x{bc} boxes: {n * n - empty} givens and {empty} empty cells. "
            f"Every row, column and box must end up holding 1-{n} once each."
        )

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        sh = _shape_of(problem)
        n = sh.n
        grid = list(self.start(problem))
        cand, present = _masks(sh, grid)
        steps: list[TraceStep] = []
        counts = {"singles": 0, "guesses": 0, "backtracks": 0}

        def place(i: int, d: int, text: str) -> None:
            if budget is not None and len(steps) >= budget:
                raise Overlong
            steps.append(TraceStep("apply", text, place_move(i, d, n)))
            _place(sh, grid, cand, present, i, d)

        def frame(entry: int) -> bool:
            """Fill singles, then guess; ``entry`` moves are in force, the last being the guess
            that opened this frame (none at the root)."""
            depth = entry
            while (found := _single(sh, grid, cand, present)) is not None:
                kind = found[0]
                if kind in ("dead", "gap"):
                    if entry == 0:
                        raise ValueError("this sudoku has no solution")
                    counts["backtracks"] += 1
                    steps.append(TraceStep("backtrack", f"{_dead_text(sh, found)} Dead end.", depth=entry - 1))
                    return False
                counts["singles"] += 1
                place(found[-2], found[-1], _single_text(sh, grid, present, found))
                depth += 1
            if all(grid):
                return True
            i = min((c.bit_count(), i) for i, c in enumerate(cand) if c)[1]
            options = [d for d in range(1, n + 1) if cand[i] >> d & 1]
            saved = grid[:], cand[:], present[:]
            for k, d in enumerate(options):
                if k == 0:
                    listed = ", ".join(map(str, options))
                    text = f"No single is left. {sh.cells[i]} has the fewest candidates ({listed}): guess {d}."
                else:
                    last = " (its last candidate)" if k == len(options) - 1 else ""
                    text = f"Back at {sh.cells[i]}: {options[k - 1]} led to a contradiction, so try {d}{last}."
                counts["guesses"] += 1
                place(i, d, text)
                if frame(depth + 1):
                    return True
                grid[:], cand[:], present[:] = saved
            if entry == 0:
                raise ValueError("this sudoku has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += f" {sh.cells[i]} has no candidate left to try either."
            return False

        frame(0)
        answer = self.read_off(problem, grid)
        plan = (
            "Fill forced cells one at a time: a cell whose row, column and box already hold every other "
            "digit (a naked single), or a digit that has only one possible cell left in a row, column or "
            "box (a hidden single). If none is left, guess in the cell with the fewest candidates and go "
            "back to the guess when it runs into a contradiction."
        )
        return Search(plan, steps, answer, counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[tuple[int, ...], str | None]:
        i, d, wrong = self.placement(problem, state, move)
        if wrong:
            return state, wrong
        sh = _shape_of(problem)
        placed = state[:i] + (d,) + state[i + 1 :]
        if d not in [state[j] for j in sh.peers[i]]:
            return placed, None
        u, j = next((u, j) for u in sh.of[i] for j in sh.units[u] if state[j] == d)
        return placed, f"{d} is already in {sh.names[u]} at {sh.cells[j]}"

    def blunder(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> tuple[Any, str] | None:
        """A digit still missing from the cell's row (or column) that its box or column
        already holds: the classic slip of checking one unit and not the other two."""
        sh = _shape_of(problem)
        empty = [i for i, d in enumerate(state) if not d]
        rng.shuffle(empty)
        for i in empty:
            held = [{state[j] for j in sh.units[u]} for u in sh.of[i]]
            tempting = [
                (d, sh.names[sh.of[i][k]])
                for k in (0, 1)
                for d in range(1, sh.n + 1)
                if d not in held[k] and any(d in h for h in held)
            ]
            if tempting:
                d, unit = rng.choice(tempting)
                thought = f"{sh.cells[i]}: {d} is still missing from {unit}, so {sh.cells[i]} = {d}."
                return place_move(i, d, sh.n), thought
        return None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> list[TraceStep]:
        """Fill every empty cell in reading order with its smallest free digit (or, with none
        free, the smallest one its row lacks), never revisiting the broken cell."""
        sh = _shape_of(problem)
        board = list(state)
        steps = []
        for i in range(len(board)):
            if board[i]:
                continue
            seen = {board[j] for j in sh.peers[i]}
            free = [d for d in range(1, sh.n + 1) if d not in seen]
            if free:
                d, why = free[0], "is not in its row, column or box yet"
            else:
                row = {board[j] for j in sh.units[sh.of[i][0]]}
                d, why = next((d for d in range(1, sh.n + 1) if d not in row), 1), "is still missing from its row"
            board[i] = d
            text = f"{sh.cells[i]}: {d} {why}, so {sh.cells[i]} = {d}."
            steps.append(TraceStep("apply", text, place_move(i, d, sh.n)))
        return steps

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        sh = _shape_of(problem)
        grid, why = self.checked(problem, answer, sh.units, sh.names)
        if grid is None:
            return False, why
        empty = sum(row.count(".") for row in problem["grid"])
        return True, f"every row, column and box holds 1-{sh.n} once and the {sh.n * sh.n - empty} givens are kept"

    def render(self, problem: dict[str, Any], state: tuple[int, ...] | None, size: int) -> Any:
        sh = _shape_of(problem)
        n = sh.n
        walls = [(r, c, "D") for r in range(sh.br - 1, n - 1, sh.br) for c in range(n)]
        walls += [(r, c, "R") for c in range(sh.bc - 1, n - 1, sh.bc) for r in range(n)]
        return self.givens_image(problem, state, size, walls=walls)


def _single_text(sh: Shape, grid: list[int], present: list[int], found: tuple) -> str:
    """The check behind a single, stated with the digits and cells that force it."""
    i, d = found[-2], found[-1]
    cell = sh.cells[i]
    if found[0] == "naked":
        return f"{cell}: {digit_list(sh.full & ~(1 << d))} are in its row, column or box, so it is {d}."
    u = found[1]
    ruled: dict[int, list[str]] = {}  # unit holding d -> the empty cells of u it rules out
    for j in sh.units[u]:
        if j != i and not grid[j]:
            ruled.setdefault(next(v for v in sh.of[j] if v != u and present[v] >> d & 1), []).append(sh.cells[j])
    why = "; ".join(f"{sh.names[v]} rules out {', '.join(cells)}" for v, cells in ruled.items())
    return f"{sh.names[u].capitalize()} needs {_a(d)}: {why}. Only {cell} can take it: {cell} = {d}."


def _a(d: int) -> str:
    return f"an {d}" if d == 8 else f"a {d}"


def _dead_text(sh: Shape, found: tuple) -> str:
    if found[0] == "dead":
        return f"{sh.cells[found[1]]} has no candidate left: 1-{sh.n} are all in its row, column or box."
    return f"{sh.names[found[1]].capitalize()} still needs {_a(found[2])}, but every empty cell in it sees one."


def _pattern_text(n: int, br: int, bc: int) -> str:
    """A valid grid of the same shape, in the answer format (the format example)."""
    return " ".join("".join(str(_pattern(n, br, bc, r, c) + 1) for c in range(n)) for r in range(n))


def _picture(problem: dict[str, Any]) -> str:
    """The grid as text, with '|' and '-' between boxes."""
    n, (br, bc) = problem["size"], problem["box"]
    lines = []
    for r, row in enumerate(problem["grid"]):
        if r and r % br == 0:
            lines.append("+".join("-" * (2 * bc - 1 + (s > 0) + (s < n // bc - 1)) for s in range(n // bc)))
        lines.append(" | ".join(" ".join(row[s : s + bc]) for s in range(0, n, bc)))
    return "\n".join(lines)


family = register(Sudoku())
