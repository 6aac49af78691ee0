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
from synth.reasoning.base import Mistake, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
from synth.reasoning.sudoku import (
    DigitGrid,
    Overlong,
    cell_name,
    digit_list,
    overlooked_places,
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
        """A random Latin square, ``givens`` of its digits and the order of ``signs`` adjacent
        pairs; then, while a second solution exists, one more given where two solutions differ
        (the square's digit), so every puzzle has exactly one solution."""
        square = _latin(rng, n)
        pairs = [(i, i + 1) for i in range(n * n) if i % n < n - 1] + [(i, i + n) for i in range(n * n - n)]
        less = sorted([a, b] if square[a] < square[b] else [b, a] for a, b in rng.sample(pairs, signs))
        kept = set(rng.sample(range(n * n), givens))
        signed = {tuple(sorted(p)) for p in less}
        grid = [square[i] if i in kept else 0 for i in range(n * n)]
        while len(found := _solutions(n, less, grid, 2)) > 1:
            other = found[0] if found[0] != square else found[1]
            # a sign the square has and the other solution breaks: the weakest clue that removes it
            split = [p for p in pairs if p not in signed and (square[p[0]] < square[p[1]]) != (other[p[0]] < other[p[1]])]
            if split:
                a, b = rng.choice(split)
                signed.add((a, b))
                less = sorted([*less, [a, b] if square[a] < square[b] else [b, a]])
            else:
                i = rng.choice([i for i in range(n * n) if square[i] != other[i]])
                kept.add(i)
                grid[i] = square[i]
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        n = problem["size"]
        grid = self.start(problem)
        empty = grid.count(0)
        less = problem["less"]
        head = say(("A <n>x<n> futoshiki", "This is a <n>x<n> futoshiki grid", "<n>x<n> futoshiki"), n=n)
        count = say(("<g> givens, <e> empty cells and <s> inequality signs", "<e> cells to fill, <g> given, <s> signs",
                     "<s> signs and <g> given digits; <e> cells are open"), g=n * n - empty, e=empty, s=len(less))
        facts = []
        degree = [0] * (n * n)
        for x, y in less:
            degree[x] += 1
            degree[y] += 1
        busy = max(range(n * n), key=lambda i: (degree[i], -i))
        if degree[busy] > 1 and say.chance(0.6):
            facts.append(say(("<c> sits in <k> signs", "<k> signs meet at <c>", "<c> is tied to <k> neighbours by signs"),
                             c=cell_name(busy, n), k=degree[busy]))
        lows = [b for a, b in less if grid[a] == 0] if say.chance(0.4) else []
        if lows:
            facts.append(say(("<c> is larger than a neighbour, so it cannot be 1", "<c> cannot be 1: a sign puts a smaller cell next to it"),
                             c=cell_name(lows[0], n)))
        goal = say(("Each row and column needs 1-<n> once, and every sign must hold between its two cells",
                    "rows and columns take 1-<n> once each, and each sign must be kept", "no repeats in a row or column, and all signs true"), n=n)
        return " ".join([f"{head}: {count}.", *(cap(f) + "." for f in facts), cap(goal) + "."])

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        n = problem["size"]
        grid = self.start(problem)
        method = say((
            "Keep a candidate list per empty cell: digits not yet in its row or column and allowed by the signs (the smaller "
            "cell of a sign stays below the larger one's largest candidate, the larger above the smaller one's smallest).",
            "For every open cell track its candidates: strike digits its row or column holds, and cut by the signs, a smaller "
            "cell below its partner's largest candidate and a larger one above its partner's smallest.",
            "Candidates per cell: not in its row or column, and consistent with each sign given the partner's candidates.",
        ))
        place = say(("Place what is forced (a cell with one candidate, or a digit with one possible cell in a row or column), "
                     "naming what removed each other digit.",
                     "Each step places a forced digit: a single candidate, or a digit with one place left in a line; say why the rest are out.",
                     "Fill forced cells first, one per step, and say which line or sign removed each alternative."))
        guess = say(("When nothing is forced, try the candidates of the cell with the fewest, and undo to the last try when a cell or a line runs out.",
                     "If stuck, guess in the tightest cell; a cell or line with no options left sends me back to the guess.",
                     "Guess only when stuck, in the cell with fewest candidates, and back up at the first contradiction."))
        rows = [sum(1 for c in range(n) if grid[r * n + c]) for r in range(n)]
        r = max(range(n), key=lambda k: (rows[k], -k))
        note = say(("Row <r> has the most givens (<k>).", "Start near row <r>: <k> of its cells are given.", ""), r=r + 1, k=rows[r]) \
            if rows[r] else ""
        return " ".join(x for x in ([method, place, guess, note] if say.chance(0.5) else [note, method, place, guess]) if x)

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        n = problem["size"]
        units, names, mates = _lines(n)
        less = problem["less"]
        say = self.voice(problem)
        grid = list(self.start(problem))
        dom = _domains(n, less, grid)
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
            steps.append(TraceStep("backtrack", f"{why} {cap(dead_end(say))}.", depth=entry - 1))
            return False

        def frame(entry: int) -> bool:
            """Place forced digits, then guess; ``entry`` moves are in force, the last being the
            guess that opened this frame (none at the root)."""
            depth = entry
            while (found := _forced(n, units, names, grid, dom)) is not None:
                if found[0] == "gap":
                    return dead(entry, _gap_text(n, names[found[1]], found[2], say))
                counts["forced"] += 1
                depth += 1
                text = _forced_text(problem, grid, dom, found, say)
                wiped = place(found[1], found[2], text)
                if wiped is not None:
                    return dead(entry, _check_text(wiped, say))
            open_cells = [(dom[i].bit_count(), i) for i in range(n * n) if not grid[i]]
            if not open_cells:
                return True
            i = min(open_cells)[1]
            options = [d for d in range(1, n + 1) if dom[i] >> d & 1]
            saved = grid[:], dom[:]
            name = cell_name(i, n)
            for k, d in enumerate(options):
                if k:
                    last = say((" (its last candidate)", ", the last one", "")) if k == len(options) - 1 else ""
                    text = say(("Back at <c>: <p> failed, so try <d><l>.", "<c> again: <p> did not work; <d> next<l>.",
                                "With <p> out for <c>, try <d><l>."), c=name, p=options[k - 1], d=d, l=last)
                else:
                    text = _guess_text(name, options, d, say, _aside(problem, grid, i, d, say))
                counts["guesses"] += 1
                wiped = place(i, d, text)
                if wiped is not None:
                    dead(depth + 1, _check_text(wiped, say))
                elif frame(depth + 1):
                    return True
                grid[:], dom[:] = saved
            if entry == 0:
                raise ValueError("this futoshiki has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += " " + say(("<c> has no other candidate either.", "<c> is out of options too.",
                                         "Nothing else fits <c> either."), c=name)
            return False

        frame(0)
        return Search(steps, self.read_off(problem, grid), counts)

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

    def keeps_solvable(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, after: tuple[int, ...], search: Search) -> bool:
        """Puzzles have one solution (the generator makes sure), so a legal move keeps the board
        solvable iff it writes the solution's digit."""
        i = (move["row"] - 1) * problem["size"] + move["col"] - 1
        return search.final[i] == move["digit"]

    def branches(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> bool:
        """A guess: nothing is forced, and the move tries a candidate of the cell the search
        guesses in (the first with the fewest candidates)."""
        n = problem["size"]
        units, names, _ = _lines(n)
        grid = list(state)
        dom = _domains(n, problem["less"], grid)
        if dom is None or _forced(n, units, names, grid, dom) is not None:
            return False
        i = (move["row"] - 1) * n + move["col"] - 1
        open_cells = [(dom[j].bit_count(), j) for j in range(n * n) if not grid[j]]
        return bool(open_cells) and i == min(open_cells)[1] and bool(dom[i] >> move["digit"] & 1)

    def mistake(self, problem: dict[str, Any], state: tuple[int, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A cell read as forced when a second candidate is still open (a misread of a line or a
        sign, legal), a line read as having one place for a digit when it has two (an overlooked
        cell, legal), or a digit its row lacks that its column holds or a filled neighbour's sign
        forbids (a forgotten constraint, which breaks a rule)."""
        n = problem["size"]
        units, names, _ = _lines(n)
        grid = list(state)
        dom = _domains(n, problem["less"], grid)
        if dom is None:
            return None
        sol = search.final
        pairs = [i for i in range(n * n) if not grid[i] and dom[i].bit_count() >= 2]
        hidden = overlooked_places(units, n, grid, dom, sol)
        forgotten = _forgotten(problem, grid)
        kinds = [k for k, ok in (("misread", pairs), ("wrong_candidate", hidden), ("forgotten", forgotten)) if ok]
        if not kinds:
            return None
        kind = rng.choices(kinds, [{"misread": 4, "wrong_candidate": 3, "forgotten": 2}[k] for k in kinds])[0]
        if kind == "misread":
            i = min(pairs, key=lambda i: (dom[i].bit_count(), rng.random()))
            d = rng.choice([x for x in range(1, n + 1) if dom[i] >> x & 1 and x != sol[i]])
            other = [x for x in range(1, n + 1) if dom[i] >> x & 1 and x != d]
            text = _single_text(problem, grid, dom, i, d, say, misread=other)
            reveal = say(("<o> is still open for <c>: no line or sign rules it out, so <c> was not forced to <d>",
                          "<c> keeps <o> besides <d>; I misread what removes it",
                          "nothing removes <o> from <c>, so <d> was not its only candidate"),
                         o=say.listing(other, "or"), c=cell_name(i, n), d=d)
            return Mistake(place_move(i, d, n), text, kind, reveal)
        if kind == "wrong_candidate":
            u, i, j, d = rng.choice(hidden)
            text = _line_text(problem, grid, dom, units[u], names[u], i, d, say, skip=j)
            reveal = say(("<j> could take <d> too, so <i> was not the only place in <u>", "<u> still has two places for <d>: <i> and <j>",
                          "I overlooked <j>, which can also hold <d>"), j=cell_name(j, n), i=cell_name(i, n), d=d, u=names[u])
            return Mistake(place_move(i, d, n), text, kind, reveal)
        i, d, why = rng.choice(forgotten)
        text = _single_text(problem, grid, dom, i, d, say, misread=[])
        return Mistake(place_move(i, d, n), text, kind, why)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Carry on placing forced digits from the wrong board, guessing forward when nothing is
        forced and never going back; a cell or line that runs out gets the smallest digit its
        row lacks, worded like any forced digit (the contradiction is overlooked)."""
        n = problem["size"]
        units, names, mates = _lines(n)
        less = problem["less"]
        grid = list(state)
        steps = []
        while 0 in grid:
            dom = _domains(n, less, grid)
            found = _forced(n, units, names, grid, dom) if dom is not None else ("gap",)
            if found is None:
                i = min((dom[j].bit_count(), j) for j in range(n * n) if not grid[j])[1]
                options = [x for x in range(1, n + 1) if dom[i] >> x & 1]
                d, text = options[0], _guess_text(cell_name(i, n), options, options[0], say, _aside(problem, grid, i, options[0], say))
            elif found[0] == "gap":
                i = grid.index(0)
                row = {grid[j] for j in range(i - i % n, i - i % n + n)}
                d = next((x for x in range(1, n + 1) if x not in row), 1)
                text = _single_text(problem, grid, dom or [0] * (n * n), i, d, say, misread=[])
            else:
                i, d = found[1], found[2]
                text = _forced_text(problem, grid, dom, found, say)
            steps.append(TraceStep("apply", text, place_move(i, d, n)))
            grid[i] = d
        return steps

    def confirm(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, say: Voice) -> str | None:
        n = problem["size"]
        grid = list(before)
        i, d = (move["row"] - 1) * n + move["col"] - 1, move["digit"]
        name = cell_name(i, n)
        parts = [say(("<d> is not in row <r> or column <c>", "neither row <r> nor column <c> holds <d>"), d=d, r=i // n + 1, c=i % n + 1)]
        for a, b in problem["less"]:
            if i in (a, b):
                j = b if a == i else a
                if grid[j]:
                    parts.append(say(("<s> holds with <j> = <v>", "the sign with <j> (<v>) is kept"), s=_sign_text(a, b, n), j=cell_name(j, n), v=grid[j]))
                else:
                    parts.append(say(("<j> is still open across <s>", "<s> leaves room for <j>"), s=_sign_text(a, b, n), j=cell_name(j, n)))
        return f"{name} = {d}: {say.listing(say.order(parts))}"

    def narrate(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, say: Voice) -> str:
        n = problem["size"]
        grid = list(state)
        dom = _domains(n, problem["less"], grid) or [((1 << n) - 1) << 1] * (n * n)
        i, d = (move["row"] - 1) * n + move["col"] - 1, move["digit"]
        units, names, _ = _lines(n)
        u = say.pick([i // n, n + i % n])
        if say.chance(0.15) and sum(1 for j in units[u] if not grid[j]) > 1:
            return _line_text(problem, grid, dom, units[u], names[u], i, d, say)
        return _single_text(problem, grid, dom, i, d, say, misread=[x for x in range(1, n + 1) if dom[i] >> x & 1 and x != d])

    def stuck(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice) -> str | None:
        n = problem["size"]
        grid = list(state)
        i = next((j for j in range(n * n) if not grid[j]), None)
        if i is None:
            return None
        return f"{cell_name(i, n)} has no candidate left: {_eliminated(problem, grid, [0] * (n * n), i, range(1, n + 1), say)}. {cap(dead_end(say))}."

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        n = problem["size"]
        lines = say(("every row and column holds 1-<n> once", "no row or column repeats a digit", "rows and columns are each 1-<n>"), n=n)
        signs = say(("all <s> signs hold", "each of the <s> signs is true", "the <s> inequalities check out"), s=len(problem["less"]))
        kept = say(("the givens are kept", "the given digits are unchanged"))
        return f"{verify_intro(say, answer)}: {say.listing(say.order([lines, signs, kept]))}; {verify_holds(say)}."

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
    """The next forced placement ("place", cell, digit, unit or -1): a cell with one candidate
    left (unit -1), or a digit with one cell left in a row or column; ("gap", unit, digit) when
    a line has a digit no cell can take; None when nothing is forced."""
    for i, m in enumerate(dom):
        if not grid[i] and not m & (m - 1):
            return "place", i, m.bit_length() - 1, -1
    for u, unit in enumerate(units):
        held = once = twice = 0
        for i in unit:
            if grid[i]:
                held |= 1 << grid[i]
            else:
                twice |= once & dom[i]
                once |= dom[i]
        need = (((1 << n) - 1) << 1) & ~held
        if need & ~once:
            return "gap", u, (need & ~once).bit_length() - 1
        lone = once & ~twice
        if lone:
            d = lone.bit_length() - 1
            i = next(i for i in unit if not grid[i] and dom[i] >> d & 1)
            return "place", i, d, u
    return None


def _domains(n: int, less, grid: list[int]) -> list[int] | None:
    """Every cell's candidates on ``grid`` after forward checking (None if a cell runs out)."""
    mates = _lines(n)[2]
    dom = [((1 << n) - 1) << 1 if not d else 1 << d for d in grid]
    work = [0] * len(grid)
    for i, d in enumerate(grid):
        if d and _narrow(dom, work, n, mates, less, i, d) is not None:
            return None
        work[i] = d
    return None if _narrow(dom, grid, n, mates, less, -1, 0) is not None else dom


def _solutions(n: int, less, grid: list[int], limit: int) -> list[list[int]]:
    """Up to ``limit`` solutions of a board, by forward checking and guessing (no text)."""
    units, names, mates = _lines(n)
    found: list[list[int]] = []
    dom = _domains(n, less, grid)
    if dom is None:
        return found
    grid = grid[:]

    def frame(dom: list[int]) -> None:
        while (f := _forced(n, units, names, grid, dom)) is not None:
            if f[0] == "gap":
                return
            grid[f[1]] = f[2]
            if _narrow(dom, grid, n, mates, less, f[1], f[2]) is not None:
                return
        if 0 not in grid:
            found.append(grid[:])
            return
        i = min((dom[j].bit_count(), j) for j in range(n * n) if not grid[j])[1]
        for d in range(1, n + 1):
            if not dom[i] >> d & 1:
                continue
            saved, trial = grid[:], dom[:]
            grid[i] = d
            if _narrow(trial, grid, n, mates, less, i, d) is None:
                frame(trial)
            grid[:] = saved
            if len(found) >= limit:
                return

    frame(dom)
    return found


def _misread_reason(problem: dict[str, Any], i: int, d: int, say: Voice) -> str:
    """What a misread credits for removing ``d`` from cell ``i`` when nothing does: one of the
    cell's signs (with the bound it misread) or, without one, its row or column, worded like a
    real elimination."""
    n = problem["size"]
    r0, c0 = divmod(i, n)
    signs = [(a, b) for a, b in problem["less"] if i in (a, b)]
    if signs and say.chance(0.6):
        a, b = say.pick(signs)
        if a == i:
            return f"{_sign_text(a, b, n)} ({cell_name(b, n)} at most {d})"
        return f"{_sign_text(a, b, n)} ({cell_name(a, n)} at least {d})"
    return say.pick((f"row {r0 + 1}", f"column {c0 + 1}"))


def _eliminated(problem: dict[str, Any], grid: list[int], dom: list[int], i: int, digits, say: Voice) -> str:
    """Why each of ``digits`` is not a candidate of cell ``i``, grouped by what removes it: the
    digit in the cell's row or column, or a sign whose partner's candidates bound it."""
    n = problem["size"]
    r0, c0 = divmod(i, n)
    by: dict[str, list[int]] = {}
    for d in digits:
        why = None
        for j in range(r0 * n, r0 * n + n):
            if j != i and grid[j] == d:
                why = f"row {r0 + 1}"
        for j in range(c0, n * n, n):
            if why is None and j != i and grid[j] == d:
                why = f"column {c0 + 1}"
        if why is None:
            for a, b in problem["less"]:
                if a == i and (dom[b] or grid[b]):
                    top = grid[b] or (dom[b].bit_length() - 1)
                    if d >= top:
                        why = f"{_sign_text(a, b, n)} ({cell_name(b, n)} {'=' if grid[b] else 'at most'} {top})"
                        break
                if b == i and (dom[a] or grid[a]):
                    low = grid[a] or ((dom[a] & -dom[a]).bit_length() - 1)
                    if d <= low:
                        why = f"{_sign_text(a, b, n)} ({cell_name(a, n)} {'=' if grid[a] else 'at least'} {low})"
                        break
        by.setdefault(why or _misread_reason(problem, i, d, say), []).append(d)
    parts = []
    for why, ds in say.order(list(by.items())):
        listed, one = say.listing(ds), len(ds) == 1
        if why.startswith(("row", "column")):
            parts.append(say(("<w> has <l>", "<l> <v> in <w>", "<w> rules out <l>"), w=why, l=listed, v="is" if one else "are"))
        else:
            parts.append(say(("<w> removes <l>", "<l> <v> <w>", "<w> rules out <l>"), w=why, l=listed, v="fails" if one else "fail"))
    return "; ".join(parts)


def _aside(problem: dict[str, Any], grid: list[int], i: int, d: int, say: Voice) -> str:
    """Now and then a true remark once ``d`` is in cell ``i``: what its row or column still
    needs, how many cells are left, or what a sign now asks of the cell's partner (what a
    solver keeps in view between placements)."""
    n = problem["size"]
    after = list(grid)
    after[i] = d
    r0, c0 = divmod(i, n)
    r = say.rng.random()
    if r < 0.3:
        line, cells = (f"row {r0 + 1}", range(r0 * n, r0 * n + n)) if r < 0.15 else (f"column {c0 + 1}", range(c0, n * n, n))
        missing = sorted(set(range(1, n + 1)) - {after[j] for j in cells})
        if not missing:
            return " " + say(("That completes <l>.", "<L> is full now.", "<L> is done."), l=line, L=cap(line))
        return " " + say(("<L> still needs <m>.", "<L> is missing <m>.", "Left for <l>: <m>."), l=line, L=cap(line), m=say.listing(missing))
    if r < 0.45:
        left = after.count(0)
        return " " + say(("<k> empty cell{s} left.", "<k> to go.", "Still <k> open.", "<k> cell{s} remain."), k=left, s="" if left == 1 else "s") if left else ""
    if r < 0.6:
        for a, b in problem["less"]:
            if i in (a, b):
                other = b if a == i else a
                if after[other]:
                    return " " + say(("<s> holds (<x> < <y>).", "The sign <s> is kept: <x> < <y>."), s=_sign_text(a, b, n), x=after[a], y=after[b])
                bound = say(("<o> must be above <d>", "<o> has to exceed <d>") if a == i else ("<o> must be below <d>", "<o> has to stay under <d>"),
                            o=cell_name(other, n), d=d)
                return " " + cap(bound) + f" ({_sign_text(a, b, n)})."
    return ""


def _single_text(problem: dict[str, Any], grid: list[int], dom: list[int], i: int, d: int, say: Voice, misread: list[int]) -> str:
    """A cell with one candidate left: what removes each other digit (``misread``: digits
    wrongly counted as removed, credited like the rest)."""
    n = problem["size"]
    name = cell_name(i, n)
    others = [x for x in range(1, n + 1) if x != d]
    why = _eliminated(problem, grid, dom, i, others, say)
    return say(("<c>: <w>; only <d> is left.", "<c> can only be <d>: <w>.", "For <c>, <w>. That leaves <d>.",
                "<c>: <w>, so <c> = <d>.", "Candidates of <c>: <w>, which leaves <d>.", "<c> = <d>, since <w>.",
                "Only <d> fits <c>: <w>.", "What can <c> hold? <W>; so <d>."), c=name, w=why, W=cap(why), d=d) + _aside(problem, grid, i, d, say)


def _line_text(problem: dict[str, Any], grid: list[int], dom: list[int], unit, uname: str, i: int, d: int, say: Voice, skip: int = -1) -> str:
    """A digit with one place left in a line: why each other open cell of it cannot take it."""
    n = problem["size"]
    parts = []
    for j in unit:
        if j != i and j != skip and not grid[j]:
            parts.append(f"{cell_name(j, n)} ({_eliminated(problem, grid, dom, j, [d], say)})")
    name = cell_name(i, n)
    if not parts:
        return say(("<U> needs <d>, and <c> is its only open cell: <c> = <d>.", "<U> has one gap left, <c>, so <c> = <d>."),
                   U=cap(uname), d=d, c=name) + _aside(problem, grid, i, d, say)
    return say(("<U> needs a <d>: <p> cannot take it, so <c> = <d>.", "Where does <d> go in <u>? Not <p>; only <c> is left: <c> = <d>.",
                "<U> still lacks <d>. <P> <v> out, which leaves <c>: <c> = <d>.", "The <d> of <u> can only go to <c>: <p> cannot take it."),
               U=cap(uname), u=uname, d=d, p=say.listing(parts), P=cap(say.listing(parts)), c=name, v="is" if len(parts) == 1 else "are"
               ) + _aside(problem, grid, i, d, say)


def _forced_text(problem: dict[str, Any], grid: list[int], dom: list[int], found: tuple, say: Voice) -> str:
    _, i, d, u = found
    if u < 0:
        return _single_text(problem, grid, dom, i, d, say, misread=[])
    units, names, _ = _lines(problem["size"])
    return _line_text(problem, grid, dom, units[u], names[u], i, d, say)


def _guess_text(name: str, options: list[int], d: int, say: Voice, aside: str = "") -> str:
    later = say.listing([x for x in options if x != d], "then")
    head = say(("Nothing is forced.", "No forced cell left.", "Stuck on forced moves.", "No single and no hidden single remain.",
                "Forced moves have run out."))
    pick = say(("<c> has the fewest candidates (<o>): try <d>.", "<c> can still be <o>, so try <d>.", "Guess in <c> (<o>): <d> first.",
                "Branch on <c>, which has only <o>: <d> first{, <l> if that fails|}.", "The tightest cell is <c> (<o>); take <d> and see{, keeping <l> for later|}."),
               c=name, o=say.listing(options, "or"), d=d, l=later)
    return f"{head} {cap(pick)}{aside}"


def _gap_text(n: int, uname: str, d: int, say: Voice) -> str:
    return say(("<U> still needs a <d>, but none of its empty cells can take it.", "No open cell of <u> can hold <d> any more.",
                "<U> has no place left for <d>."), U=cap(uname), u=uname, d=d)


def _check_text(wiped: str, say: Voice) -> str:
    return say(("Forward check: <w>", "Checking the neighbours: <w>", "The forward check fails: <w>"), w=wiped)


def _forgotten(problem: dict[str, Any], grid: list[int]) -> list[tuple[int, int, str]]:
    """(cell, digit, why it is wrong): a digit the cell's row lacks that its column holds, or
    one that fits both lines but breaks a sign with a filled neighbour."""
    n = problem["size"]
    out = []
    for i in range(n * n):
        if grid[i]:
            continue
        row = {grid[j] for j in range(i - i % n, i - i % n + n)}
        col = {grid[j] for j in range(i % n, n * n, n)}
        for d in range(1, n + 1):
            if d in row:
                continue
            if d in col:
                j = next(j for j in range(i % n, n * n, n) if grid[j] == d)
                out.append((i, d, f"column {i % n + 1} already has {d} at {cell_name(j, n)}"))
            else:
                broken = _broken_sign(problem, grid, i, d)
                if broken:
                    out.append((i, d, broken))
    return out[:24]


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
