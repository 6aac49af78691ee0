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
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
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
    dots_in_answers = True  # '.' marks an empty cell

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
        3: {"size": 6, "box": (2, 3), "empty": 26, "trials": True},
        4: {"size": 9, "box": (3, 3), "empty": 50, "trials": True, "budget": 300},
        5: {"size": 9, "box": (3, 3), "empty": 56, "trials": True, "budget": 300},
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        n, (br, bc) = problem["size"], problem["box"]
        sh = _shape_of(problem)
        grid = list(self.start(problem))
        empty = grid.count(0)
        head = say(("A <n>x<n> sudoku with <br>x<bc> boxes", "This is a <n>x<n> grid in <br>x<bc> boxes",
                    "<n>x<n> sudoku, boxes of <br> rows by <bc> columns"), n=n, br=br, bc=bc)
        count = say(("<g> givens and <e> empty cells", "<e> cells to fill, <g> given", "<g> digits given, <e> to find"),
                    g=n * n - empty, e=empty)
        facts = []
        uses = [grid.count(d) for d in range(n + 1)]
        most = max(range(1, n + 1), key=lambda d: (uses[d], -d))
        least = min(range(1, n + 1), key=lambda d: (uses[d], d))
        if say.chance(0.6):
            facts.append(say(("<m> is given most often (<k> times), <l> least (<j>)", "the givens use <m> <k> times but <l> only <j>",
                              "<l> is the rarest given digit (<j>), <m> the commonest (<k>)"), m=most, k=uses[most], l=least, j=uses[least]))
        if say.chance(0.6):
            gaps = [(sum(1 for i in sh.units[u] if not grid[i]), u) for u in range(2 * n, 3 * n)]
            k, u = max(gaps, key=lambda x: (x[0], -x[1]))
            facts.append(say(("<u> is the emptiest box (<k> open)", "<u> has <k> open cells, the most of any box"), u=sh.names[u], k=k))
        goal = say(("every row, column and box must end up holding 1-<n> once each",
                    "each row, column and box needs 1-<n> exactly once", "no digit may repeat in a row, a column or a box"), n=n)
        return " ".join([f"{head}: {count}.", *(cap(f) + "." for f in say.order(facts)), cap(goal) + "."])

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        sh = _shape_of(problem)
        grid = list(self.start(problem))
        filled = [(sum(1 for i in unit if grid[i]), u) for u, unit in enumerate(sh.units)]
        most, u = max(filled, key=lambda x: (x[0], -x[1]))
        full = [sh.names[v] for k, v in filled if k == sh.n - 1]
        method = say((
            "Fill forced cells one at a time: a cell whose row, column and box already hold every other digit (a naked single), "
            "or a digit with only one possible cell left in a row, column or box (a hidden single).",
            "Look for singles: cells with one candidate left, and digits that fit only one cell of a row, column or box; "
            "name what rules each alternative out.",
            "Use naked singles (every other digit is in the cell's row, column or box) and hidden singles (a unit has one "
            "place left for a digit), one cell per step.",
            "Each step: find a cell with a single candidate, or a unit where a digit has a single place, and say what rules out the rest.",
        ))
        guess = say(("If none is left, guess in the cell with the fewest candidates and go back to the guess when it runs into a contradiction.",
                     "Only when nothing is forced, try a candidate of the tightest cell, and undo it at the first contradiction.",
                     "When singles run out, guess in a cell with the fewest candidates; a contradiction sends me back to that guess.",
                     "Guess only if stuck: the cell with fewest candidates, undone at the first contradiction."))
        start = say(("<u> is the fullest unit (<k> of <n> filled): start there.", "<u> already has <k> of <n> digits, a good place to start.",
                     "Most givens sit in <u> (<k> of <n>).", "Begin with <u>: <k> of its <n> cells are given."), u=sh.names[u], k=most, n=sh.n)
        if full and say.chance(0.6):
            start += " " + say(("<f> {is|are} one digit short: {an easy first step|quick wins}.", "<f> {needs|need} only one more digit."),
                               f=say.listing(full[:3]))
        parts = [start, method, guess] if say.chance(0.5) else [method, start, guess]
        return " ".join(cap(x) for x in parts)

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        sh = _shape_of(problem)
        n = sh.n
        say = self.voice(problem)
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
                    steps.append(TraceStep("backtrack", f"{_dead_text(sh, grid, found, say)} {cap(dead_end(say))}.", depth=entry - 1))
                    return False
                counts["singles"] += 1
                place(found[-2], found[-1], _single_text(sh, grid, present, found, say))
                depth += 1
            if all(grid):
                return True
            i = _guess_cell(cand)
            options = [d for d in range(1, n + 1) if cand[i] >> d & 1]
            saved = grid[:], cand[:], present[:]
            for k, d in enumerate(options):
                if k == 0:
                    text = _guess_text(sh, i, options, d, say)
                else:
                    last = say((" (its last candidate)", ", the last one left", "")) if k == len(options) - 1 else ""
                    text = say(("Back at <c>: <p> led to a contradiction, so try <d><l>.", "<c> again: <p> failed; try <d><l>.",
                                "With <p> ruled out for <c>, take <d><l>."), c=sh.cells[i], p=options[k - 1], d=d, l=last)
                counts["guesses"] += 1
                place(i, d, text)
                if frame(depth + 1):
                    return True
                grid[:], cand[:], present[:] = saved
            if entry == 0:
                raise ValueError("this sudoku has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += " " + say(("<c> has no candidate left to try either.", "<c> is out of candidates too.",
                                         "Every candidate of <c> fails as well."), c=sh.cells[i])
            return False

        frame(0)
        return Search(steps, self.read_off(problem, grid), counts)

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

    def keeps_solvable(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, after: tuple[int, ...], search: Search) -> bool:
        """The solution is unique, so a solvable board is one that agrees with it, and a legal
        move keeps that iff it writes the solution's digit."""
        i = (move["row"] - 1) * problem["size"] + move["col"] - 1
        return search.final[i] == move["digit"]

    def branches(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> bool:
        """A guess: nothing is forced, and the move tries a candidate of the cell the search
        guesses in (the first with the fewest candidates)."""
        sh = _shape_of(problem)
        grid = list(state)
        cand, present = _masks(sh, grid)
        if _single(sh, grid, cand, present) is not None:
            return False
        i = (move["row"] - 1) * sh.n + move["col"] - 1
        return i == _guess_cell(cand) and bool(cand[i] >> move["digit"] & 1)

    def mistake(self, problem: dict[str, Any], state: tuple[int, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A single that is not one: a cell read as having one candidate left when a second
        digit is still open (a misread), a unit read as having one place for a digit when it
        has two (an overlooked cell), or a digit its row lacks but its box or column holds (a
        forgotten constraint, which breaks a rule). The first two are legal moves."""
        sh = _shape_of(problem)
        grid = list(state)
        cand, present = _masks(sh, grid)
        sol = search.final
        kinds = []
        pairs = [i for i, m in enumerate(cand) if m.bit_count() >= 2]
        if pairs:
            kinds.append("misread")
        hidden = overlooked_places(sh.units, sh.n, grid, cand, sol)
        if hidden:
            kinds.append("wrong_candidate")
        forgotten = _forgotten(sh, grid, present)
        if forgotten:
            kinds.append("forgotten")
        if not kinds:
            return None
        kind = rng.choices(kinds, [{"misread": 4, "wrong_candidate": 4, "forgotten": 2}[k] for k in kinds])[0]
        if kind == "misread":
            i = min(pairs, key=lambda i: (cand[i].bit_count(), rng.random()))
            wrong = [d for d in range(1, sh.n + 1) if cand[i] >> d & 1 and d != sol[i]]
            d = rng.choice(wrong)
            seen = sh.full & ~(1 << d)
            text = _naked_text(sh, grid, i, d, seen, say)
            other = [x for x in range(1, sh.n + 1) if cand[i] >> x & 1 and x != d]
            reveal = say(("<o> {is|appears} in none of its row, column and box, so <c> was not forced to <d>",
                          "<c> still has <o> open besides <d>: its units hold no <o>",
                          "nothing around <c> holds <o>; <d> was not its only candidate"), o=say.listing(other, "or"), c=sh.cells[i], d=d)
            return Mistake(place_move(i, d, sh.n), text, kind, reveal)
        if kind == "wrong_candidate":
            u, i, j, d = rng.choice(hidden)
            text = _hidden_text(sh, grid, present, u, i, d, say, skip=j)
            reveal = say(("<j> could take <a> too: nothing in its row, column or box holds one",
                          "<u> still has two places for <a>, <i> and <j>", "<j> was open for <a> as well, so <i> was not the only place"),
                         j=sh.cells[j], i=sh.cells[i], a=_a(d), u=sh.names[u])
            return Mistake(place_move(i, d, sh.n), text, kind, reveal)
        i, d = rng.choice(forgotten)
        u, j = next((u, j) for u in sh.of[i] for j in sh.units[u] if grid[j] == d)
        reveal = say(("<u> already has <a> at <j>", "there is <a> at <j>, in the same <w>", "<j> holds <d>, and it shares <u> with <c>"),
                     u=sh.names[u], a=_a(d), j=sh.cells[j], w=sh.names[u].split()[0], d=d, c=sh.cells[i])
        return Mistake(place_move(i, d, sh.n), _naked_text(sh, grid, i, d, sh.full & ~(1 << d), say), kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Carry on with singles from the wrong board as if it were right, guessing forward when
        they run out and never going back; a cell left with no candidate gets the smallest digit
        its row still lacks, worded like any single (the contradiction is overlooked)."""
        sh = _shape_of(problem)
        grid = list(state)
        cand, present = _masks(sh, grid)
        steps = []
        while not all(grid):
            found = _single(sh, grid, cand, present)
            if found is None:
                i = _guess_cell(cand)
                options = [d for d in range(1, sh.n + 1) if cand[i] >> d & 1]
                i, d, text = i, options[0], _guess_text(sh, i, options, options[0], say)
            elif found[0] in ("dead", "gap"):
                i = found[1] if found[0] == "dead" else next(j for j in sh.units[found[1]] if not grid[j])
                row = {grid[j] for j in sh.units[sh.of[i][0]]}
                d = next((x for x in range(1, sh.n + 1) if x not in row), 1)
                text = _naked_text(sh, grid, i, d, sh.full & ~(1 << d), say)
            else:
                i, d, text = found[-2], found[-1], _single_text(sh, grid, present, found, say)
            steps.append(TraceStep("apply", text, place_move(i, d, sh.n)))
            _place(sh, grid, cand, present, i, d)
        return steps

    def confirm(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, say: Voice) -> str | None:
        sh = _shape_of(problem)
        grid = list(before)
        cand, present = _masks(sh, grid)
        i, d = (move["row"] - 1) * sh.n + move["col"] - 1, move["digit"]
        for u in sh.of[i]:
            spots = [j for j in sh.units[u] if cand[j] >> d & 1]
            others = [sh.cells[j] for j in sh.units[u] if j != i and not grid[j]]
            if spots == [i] and cand[i] != 1 << d and others:  # with no other empty cell, the line below says it
                return say(("<u> has no other cell for <a>: <cs> all see one", "in <u>, only <c> can hold <a> (<cs> cannot)",
                            "<cs> {are|is} ruled out for <a> in <u>, which leaves <c>"), u=sh.names[u], c=sh.cells[i], a=_a(d),
                           cs=say.listing(others))
        # a naked single; for a guess (or a random move) the same words, read as wrongly as it was made
        return _units_hold(sh, grid, i, sh.full & ~(1 << d), say) + say((", so only <d> fits", "; <d> is all that is left"), d=d)

    def narrate(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, say: Voice) -> str:
        sh = _shape_of(problem)
        i, d = (move["row"] - 1) * sh.n + move["col"] - 1, move["digit"]
        grid = list(state)
        present = _masks(sh, grid)[1]
        u = say.pick(sh.of[i])
        others = [j for j in sh.units[u] if j != i and not grid[j] and any(present[v] >> d & 1 for v in sh.of[j] if v != u)]
        if others and say.chance(0.5):
            return _hidden_text(sh, grid, present, u, i, d, say)
        return _naked_text(sh, grid, i, d, sh.full & ~(1 << d), say)

    def stuck(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice) -> str | None:
        sh = _shape_of(problem)
        grid = list(state)
        cand, _ = _masks(sh, grid)
        i = next((i for i, m in enumerate(cand) if not m and not grid[i]), None)
        return None if i is None else f"{_dead_text(sh, grid, ('dead', i), say)} {cap(dead_end(say))}."

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        n = problem["size"]
        givens = sum(ch != "." for row in problem["grid"] for ch in row)
        rows = say(("each of the <n> rows holds 1-<n> once", "no row repeats a digit", "every row reads 1-<n> in some order"), n=n)
        cols = say(("so does every column", "the columns have no repeats", "each column holds 1-<n> too"), n=n)
        boxes = say(("and every box", "the boxes as well", "each box has all <n> digits"), n=n)
        kept = say(("the <g> givens are where they were", "the <g> givens are kept", "all <g> givens unchanged"), g=givens)
        return f"{verify_intro(say, answer)}: {rows}, {cols}, {boxes}; {kept}; {verify_holds(say)}."

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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


def _guess_cell(cand: list[int]) -> int:
    """The cell the search guesses in: the first with the fewest candidates."""
    return min((c.bit_count(), i) for i, c in enumerate(cand) if c)[1]


def overlooked_places(units: Any, n: int, grid: list[int], cand: list[int],
                      sol: Any) -> list[tuple[int, int, int, int]]:
    """(unit, wrong cell, right cell, digit): units with exactly two open places for a digit,
    where the wrong one is read as the only place (the other overlooked). Shared by the
    Latin-square families (sudoku, futoshiki)."""
    out = []
    for u, unit in enumerate(units):
        for d in range(1, n + 1):
            spots = [j for j in unit if not grid[j] and cand[j] >> d & 1]
            if len(spots) == 2:
                a, b = spots
                if sol[b] == d and sol[a] != d:
                    out.append((u, a, b, d))
                elif sol[a] == d and sol[b] != d:
                    out.append((u, b, a, d))
    return out[:24]


def _forgotten(sh: Shape, grid: list[int], present: list[int]) -> list[tuple[int, int]]:
    """(cell, digit): a digit the cell's row still lacks but its column or box holds."""
    out = []
    for i, d0 in enumerate(grid):
        if d0:
            continue
        row, col, box = sh.of[i]
        for d in range(1, sh.n + 1):
            bit = 1 << d
            if not present[row] & bit and (present[col] | present[box]) & bit:
                out.append((i, d))
    return out[:24]


def _units_hold(sh: Shape, grid: list[int], i: int, shown: int, say: Voice) -> str:
    """'row 3 has 1, 4 and 6, column 2 has 4 and 2, box 1 adds 5': the cell's units, in a
    seeded order, each with the digits of ``shown`` (a bit mask) it holds; a unit is skipped
    when it adds nothing new, and digits already named are sometimes named again (people
    scan whole units). A digit no unit holds is credited to one anyway: what a misread looks
    like."""
    units = say.order(list(sh.of[i]))
    named = 0
    parts = []
    for k, u in enumerate(units):
        held = 0
        for j in sh.units[u]:
            held |= 1 << grid[j]
        if k == len(units) - 1:
            held |= shown & ~named & ~held  # the misread digits, if any, go to the last unit
        new = held & shown & ~named
        if not new:
            continue
        listed = held & shown if say.chance(0.4) else new
        verb = say(("has", "holds", "gives")) if not parts else say(("adds", "has", "rules out", "takes away", "holds"))
        parts.append(f"{sh.names[u]} {verb} {say.listing(_digits(listed))}")
        named |= held & shown
    return say.listing(parts) if len(parts) > 1 else (parts[0] if parts else "")


def _digits(mask: int) -> list[int]:
    return [d for d in range(1, mask.bit_length()) if mask >> d & 1]


def _naked_text(sh: Shape, grid: list[int], i: int, d: int, shown: int, say: Voice) -> str:
    """A naked single at cell ``i``: the digits its units hold (``shown``) and what is left,
    sometimes led in by where the eye is and how full the cell's units are."""
    cell = sh.cells[i]
    held = _units_hold(sh, grid, i, shown, say)
    text = say(("<c>: <h>; only <d> is left.", "<c>: <h>, so <c> = <d>.", "For <c>, <h>. That leaves <d>.",
                "<c> can only be <d>: <h>.", "<c>: <h>, leaving just <d>.", "<c> sees everything but <d>: <h>.",
                "Candidates for <c>: <h>, which leaves <d> alone."), c=cell, h=held, d=d)
    return _lead(sh, grid, i, say) + text


def _lead(sh: Shape, grid: list[int], i: int, say: Voice) -> str:
    """An optional lead-in: the unit being scanned and how many cells it still has open."""
    if not say.chance(0.45):
        return ""
    u = say.pick(sh.of[i])
    left = sum(1 for j in sh.units[u] if not grid[j])
    return say(("Scanning <u> (<k> open): ", "In <u>, <k> cells are still open. ", "Next, <u>, with <k> empty cells: ",
                "<U> has <k> gaps left. ", "Looking at <u> again: "), u=sh.names[u], U=cap(sh.names[u]), k=left)


def _hidden_text(sh: Shape, grid: list[int], present: list[int], u: int, i: int, d: int, say: Voice, skip: int = -1) -> str:
    """A hidden single: each other empty cell of unit ``u`` credited to the unit that rules
    ``d`` out there (``skip``: a cell left out, as when it is overlooked)."""
    cell = sh.cells[i]
    ruled: dict[int, list[str]] = {}  # unit holding d -> the empty cells of u it rules out
    for j in sh.units[u]:
        if j != i and j != skip and not grid[j]:
            v = next((v for v in sh.of[j] if v != u and present[v] >> d & 1), None)
            if v is not None:
                ruled.setdefault(v, []).append(sh.cells[j])
    why = "; ".join(say(("<v> rules out <cs>", "<v> has one, so not <cs>", "<cs> {see|sees} the <d> in <v>"),
                        v=sh.names[v], cs=say.listing(cells), d=d) for v, cells in ruled.items())
    need = say(("<U> needs <a>", "<U> still lacks <a>", "<U> is missing <a>", "Place <a> in <u>"), U=cap(sh.names[u]), u=sh.names[u], a=_a(d))
    if not why:
        return say(("<n> It has one empty cell left, <c>: <c> = <d>.", "<n> <c> is its only empty cell, so <c> = <d>."), n=need + ".", c=cell, d=d)
    left = sum(1 for j in sh.units[u] if not grid[j])
    count = say(("", "", " (<k> empty cells)", ", <k> cells open"), k=left)
    return say(("<n><k>: <w>. Only <c> can take it: <c> = <d>.", "<n><k>: <w>. That leaves <c>, so <c> = <d>.",
                "<n><k>: <w>; the one place left is <c>, so <c> = <d>.", "<n><k>. <W>, so <d> goes to <c>.",
                "<n><k>: <w>. Hence <c> = <d>."), n=need, k=count, w=why, W=cap(why), c=cell, d=d)


def _single_text(sh: Shape, grid: list[int], present: list[int], found: tuple, say: Voice) -> str:
    """The check behind a single, stated with the digits and cells that force it."""
    i, d = found[-2], found[-1]
    if found[0] == "naked":
        return _naked_text(sh, grid, i, d, sh.full & ~(1 << d), say)
    return _hidden_text(sh, grid, present, found[1], i, d, say)


def _guess_text(sh: Shape, i: int, options: list[int], d: int, say: Voice) -> str:
    return say(("No single is left. <c> has the fewest candidates (<o>): guess <d>.",
                "Nothing is forced now. The tightest cell is <c>, with <o>; try <d>.",
                "Singles are exhausted. <c> can still be <o>: guess <d> and see."), c=sh.cells[i], o=say.listing(options, "or"), d=d)


def _a(d: int) -> str:
    return f"an {d}" if d == 8 else f"a {d}"


def _dead_text(sh: Shape, grid: list[int], found: tuple, say: Voice) -> str:
    if found[0] == "dead":
        i = found[1]
        held = _units_hold(sh, grid, i, sh.full, say)
        return say(("<c> has no candidate left: <h>.", "<c> is empty and nothing fits it: <h>.", "Nothing can go in <c>: <h>."),
                   c=sh.cells[i], h=held)
    return say(("<U> still needs <a>, but every empty cell in it sees one.", "No cell of <u> can take <a> any more.",
                "<U> has no place left for <a>."), U=cap(sh.names[found[1]]), u=sh.names[found[1]], a=_a(found[2]))


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
