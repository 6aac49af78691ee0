"""The ``nonogram`` family (group puzzles): fill a grid from the run lengths of its rows and columns.

Why this family: clues come from a random picture, so every puzzle is solvable, and a line
solver states exactly what it knows ("Row 3 (clue 3 1), now '?#??.??': 4 placements fit and
every one fills r3c3"), while pictures that line solving cannot finish force real guesses and
backtracks. A move settles what one line deduction gives (a whole line at once), which keeps
traces short: about one step per line deduction, not one per cell.

Many pictures share their clues; any grid whose rows and columns read the clues passes, and the
gold answer is only the one the solver finds.

==========  ======  =======  ===================================
difficulty  grid    filled   typical expert steps (read..answer)
==========  ======  =======  ===================================
1           5x5     60%      ~15
2           6x6     60%      ~19
3           7x7     60%      ~23
4           8x8     55%      ~28
5           10x10   55%      ~39
==========  ======  =======  ===================================

Levels 4 and 5 draw another picture when the search would pass 300 steps (rare), so no trace
nears the episode's step cap. Rows and columns are numbered from 1 (r1c1 is the top-left cell).

Moves: ``mark {"line": "row" | "col", "index": k, "marks": "?##?."}``: one line (1-based
index), one character per cell, '#' to fill, '.' to mark empty, '?' to leave as it is. A move
is legal when it changes no decided cell and leaves its line and every column (or row) it
touches able to fit its clue. State: one string of the cells row by row, each '#', '.' or '?'
(a column is a stride of it). Answer: the rows top to bottom, '#' filled and '.' empty, rows
separated by spaces ("#.## ..#. ####"); separators are ignored, and 1/0, X/_ (so 'x' means
filled, not crossed), '*'/'-' and the block characters read as filled/empty.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.reasoning.sudoku import Overlong, within_budget
from synth.registry import register

_SEPARATORS = re.compile(r"[\s,;:|/\[\]()'\"]+")
_READ = {**dict.fromkeys("#1Xx*■█", "#"), **dict.fromkeys("._0-□", "."), "?": "?"}
_WORD = {"row": "Row", "col": "Column"}
_OTHER = {"row": "col", "col": "row"}


@lru_cache(maxsize=4096)
def _placements(clue: tuple[int, ...], length: int) -> tuple[int, ...]:
    """Every way to lay ``clue`` out in ``length`` cells, as bit masks of the filled cells
    (bit j is cell j), leftmost first."""
    if not clue:
        return (0,)
    first, rest = clue[0], clue[1:]
    room = sum(rest) + len(rest)  # what the later blocks need, a gap before each
    out = []
    for start in range(length - room - first + 1):
        block = ((1 << first) - 1) << start
        if not rest:
            out.append(block)
            continue
        after = start + first + 1
        out.extend(block | tail << after for tail in _placements(rest, length - after))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _known(line: str) -> tuple[int, int]:
    """The filled and the empty cells of a line ('#', '.', '?') as bit masks (bit j is cell j)."""
    filled = crossed = 0
    for j, ch in enumerate(line):
        if ch == "#":
            filled |= 1 << j
        elif ch == ".":
            crossed |= 1 << j
    return filled, crossed


@lru_cache(maxsize=1 << 16)
def _fit(clue: tuple[int, ...], line: str) -> tuple[int, int, int]:
    """How many placements of ``clue`` agree with ``line`` ('#', '.', '?'), and the open cells
    that all of them fill and that all of them leave empty (bit masks; zeros when none fits)."""
    filled, crossed = _known(line)
    count, always, never = 0, -1, -1
    for p in _placements(clue, len(line)):
        if p & crossed or filled & ~p:
            continue
        count += 1
        always &= p
        never &= ~p
    if not count:
        return 0, 0, 0
    known = filled | crossed
    return count, always & ~known, never & ~known & ((1 << len(line)) - 1)


def _runs(line: str) -> tuple[int, ...]:
    return tuple(len(run) for run in line.split(".") if run)


def _clue_text(clue: tuple[int, ...] | list[int]) -> str:
    return " ".join(map(str, clue)) or "0"


def _bits(mask: int) -> list[int]:
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


class Nonogram(ReasoningFamily):
    name = "nonogram"
    group = "puzzles"
    action = "mark"
    rules = (
        "the marks change no decided cell and leave the line, and every crossing line they touch, "
        "able to fit its clue"
    )
    levels = {
        1: {"height": 5, "width": 5, "density": 0.6},
        2: {"height": 6, "width": 6, "density": 0.6},
        3: {"height": 7, "width": 7, "density": 0.6},
        4: {"height": 8, "width": 8, "density": 0.55, "budget": 300},
        5: {"height": 10, "width": 10, "density": 0.55, "budget": 300},
    }

    # ------------------------------------------------------------------ problem

    def generate(
        self, rng: random.Random, height: int, width: int, density: float, budget: int | None = None
    ) -> dict[str, Any]:
        return within_budget(lambda: self._draw(rng, height, width, density), self._search, budget)

    def _draw(self, rng: random.Random, height: int, width: int, density: float) -> dict[str, Any]:
        picture = ["".join("#" if rng.random() < density else "." for _ in range(width)) for _ in range(height)]
        columns = ["".join(row[c] for row in picture) for c in range(width)]
        return {"rows": [list(_runs(r)) for r in picture], "cols": [list(_runs(c)) for c in columns]}

    def describe(self, problem: dict[str, Any]) -> str:
        h, w = len(problem["rows"]), len(problem["cols"])
        rows = "\n".join(f"row {r + 1}: {_clue_text(c)}" for r, c in enumerate(problem["rows"]))
        cols = "\n".join(f"column {c + 1}: {_clue_text(k)}" for c, k in enumerate(problem["cols"]))
        return (
            f"Solve this {h}x{w} nonogram: fill some cells so that each row and each column shows the "
            "clue's blocks of consecutive filled cells, in order, with at least one empty cell between "
            "blocks (a clue of 0 means the line is empty).\n\n"
            f"Row clues, top to bottom:\n{rows}\n\nColumn clues, left to right:\n{cols}\n\n"
            "Rows and columns are numbered from 1 at the top left.\n"
            "Answer with the grid row by row from the top, '#' for a filled cell and '.' for an empty one, "
            f"rows separated by spaces, in this format: {' '.join(('#.' * w)[r % 2 : r % 2 + w] for r in range(h))}"
        )

    def read(self, problem: dict[str, Any]) -> str:
        h, w = len(problem["rows"]), len(problem["cols"])
        total = sum(map(sum, problem["rows"]))
        return (
            f"A {h}x{w} nonogram: {h} row clues and {w} column clues, {total} filled cells in all. Every "
            "row and column must show exactly its clue's blocks, in order, with gaps between them."
        )

    def start(self, problem: dict[str, Any]) -> str:
        return "?" * (len(problem["rows"]) * len(problem["cols"]))

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        h, w = len(problem["rows"]), len(problem["cols"])
        clues = _clues(problem)
        grid = self.start(problem)
        steps: list[TraceStep] = []
        counts = {"lines": 0, "guesses": 0, "backtracks": 0}

        def mark(kind: str, k: int, marks: str, text: str) -> None:
            nonlocal grid
            if budget is not None and len(steps) >= budget:
                raise Overlong
            steps.append(TraceStep("apply", text, {"line": kind, "index": k + 1, "marks": marks}))
            grid = _marked(grid, w, kind, k, marks)

        def dead(entry: int, why: str) -> bool:
            if entry == 0:
                raise ValueError("this nonogram has no solution")
            counts["backtracks"] += 1
            steps.append(TraceStep("backtrack", f"{why} Dead end.", depth=entry - 1))
            return False

        def frame(entry: int, queue: list[tuple[str, int]]) -> bool:
            """Line-solve from ``queue`` until stuck, then guess; ``entry`` moves are in force, the
            last being the guess that opened this frame (none at the root)."""
            nonlocal grid
            depth = entry
            while queue:
                kind, k = queue.pop(0)
                line = _line(grid, w, kind, k)
                count, fill, cross = _fit(clues[kind][k], line)
                if not fill | cross:
                    continue
                marks = "".join("#" if fill >> j & 1 else "." if cross >> j & 1 else "?" for j in range(len(line)))
                other = _OTHER[kind]
                for j in _bits(fill | cross):
                    crossing = _line(grid, w, other, j)
                    crossing = crossing[:k] + marks[j] + crossing[k + 1 :]
                    if not _fit(clues[other][j], crossing)[0]:
                        return dead(entry, (
                            f"{_WORD[kind]} {k + 1} (clue {_clue_text(clues[kind][k])}) forces {_cell(kind, k, j)} "
                            f"{'filled' if marks[j] == '#' else 'empty'}, but then {_WORD[other].lower()} {j + 1} "
                            f"(clue {_clue_text(clues[other][j])}) cannot fit '{crossing}'."
                        ))
                counts["lines"] += 1
                depth += 1
                mark(kind, k, marks, _deduction(kind, k, clues[kind][k], line, count, fill, cross))
                queue.extend((other, j) for j in _bits(fill | cross) if (other, j) not in queue)
            if "?" not in grid:
                return True
            ways, r = min((_fit(clues["row"][r], row)[0], r) for r in range(h) if "?" in (row := grid[r * w : r * w + w]))
            c = grid.index("?", r * w) - r * w
            saved = grid
            name = _cell("row", r, c)
            for value in "#.":
                if value == "#":
                    counts["guesses"] += 1
                    text = (
                        f"Line solving is stuck. Row {r + 1} (clue {_clue_text(clues['row'][r])}) still fits "
                        f"{ways} ways; guess {name} filled."
                    )
                else:
                    text = f"Back at {name}: filled led to a contradiction, so it must be empty."
                mark("row", r, _one(w, c, value), text)
                if frame(depth + 1, [("row", r), ("col", c)]):
                    return True
                grid = saved
            if entry == 0:
                raise ValueError("this nonogram has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += f" {name} can be neither filled nor empty here."
            return False

        frame(0, [("row", r) for r in range(h)] + [("col", c) for c in range(w)])
        plan = (
            "Solve line by line: for a row or column, list the placements of its clue that agree with "
            "the cells decided so far; a cell that every placement fills is filled, one that none fills "
            "is empty. Recheck the crossing lines of every newly decided cell. When no line gives "
            "anything new, guess a cell of the tightest row (filled first) and go back when a line can "
            "no longer fit its clue."
        )
        return Search(plan, steps, self.read_off(problem, grid), counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: str, move: Any) -> tuple[str, str | None]:
        h, w = len(problem["rows"]), len(problem["cols"])
        try:
            kind, k, marks = move["line"], move["index"], move["marks"]
        except (TypeError, KeyError, IndexError):
            kind = k = marks = None
        lines, size = (h, w) if kind == "row" else (w, h)
        if kind not in _OTHER or type(k) is not int or not 0 < k <= lines or (
            type(marks) is not str or len(marks) != size or marks.strip("#.?")
        ):
            return state, (
                f"a move names a line ('row' 1..{h} or 'col' 1..{w}) and marks each of its cells with '#', "
                f"'.' or '?', got {move!r}"
            )
        k -= 1
        line = _line(state, w, kind, k)
        (filled, crossed), (fill, cross) = _known(line), _known(marks)
        clash = filled & cross | crossed & fill
        if clash:
            j = (clash & -clash).bit_length() - 1
            return state, f"{_cell(kind, k, j)} is already {'filled' if filled >> j & 1 else 'empty'}"
        after = _marked(state, w, kind, k, marks)
        new_line = _line(after, w, kind, k)
        clue = _clue(problem, kind, k)
        if not _fit(clue, new_line)[0]:
            return after, f"{_WORD[kind].lower()} {k + 1} (clue {_clue_text(clue)}) cannot fit '{new_line}'"
        other = _OTHER[kind]
        for j in _bits((fill | cross) & ~(filled | crossed)):
            crossing = _line(after, w, other, j)
            clue = _clue(problem, other, j)
            if not _fit(clue, crossing)[0]:
                return after, f"{_WORD[other].lower()} {j + 1} (clue {_clue_text(clue)}) cannot fit '{crossing}'"
        return after, None

    def observe(self, problem: dict[str, Any], state: str) -> str:
        return f"{len(state) - state.count('?')} of {len(state)} cells decided."

    def blunder(self, problem: dict[str, Any], state: str, rng: random.Random) -> tuple[Any, str] | None:
        """On a random undecided line: flip a cell the line forces (a miscounted overlap), or,
        where it forces none, fill or empty all its open cells at once (a block closed early)."""
        w = len(problem["cols"])
        clues = _clues(problem)
        lines = [("row", r) for r in range(len(problem["rows"]))] + [("col", c) for c in range(w)]
        rng.shuffle(lines)
        for kind, k in lines:
            line = _line(state, w, kind, k)
            if "?" not in line:
                continue
            clue = clues[kind][k]
            _count, fill, cross = _fit(clue, line)
            head = f"{_WORD[kind]} {k + 1} (clue {_clue_text(clue)})"
            if fill | cross:
                j = rng.choice(_bits(fill | cross))
                if fill >> j & 1:
                    marks = _one(len(line), j, ".")
                    thought = f"{head}: {_cell(kind, k, j)} looks like the gap between two blocks; mark it empty."
                else:
                    marks = _one(len(line), j, "#")
                    thought = f"{head}: a block can stretch over {_cell(kind, k, j)}; fill it."
            elif rng.random() < 0.5:
                marks = "".join("#" if ch == "?" else "?" for ch in line)
                thought = f"{head}: the open cells must hold the rest of the blocks; fill them all."
            else:
                marks = "".join("." if ch == "?" else "?" for ch in line)
                thought = f"{head}: its blocks look complete; mark the open cells empty."
            return {"line": kind, "index": k + 1, "marks": marks}, thought
        return None

    def continue_wrong(self, problem: dict[str, Any], state: str, rng: random.Random) -> list[TraceStep]:
        """Settle every open row, top to bottom, as the leftmost placement of its clue that
        agrees with it (all empty when none does), never rechecking the columns."""
        w = len(problem["cols"])
        steps = []
        for r, clue in enumerate(_clues(problem)["row"]):
            row = state[r * w : r * w + w]
            if "?" not in row:
                continue
            settled = next((_spell(p, w) for p in _placements(clue, w) if _agrees(p, row)), None)
            if settled is None:
                settled = row.replace("?", ".")
                text = f"Row {r + 1} (clue {_clue_text(clue)}): mark its open cells empty."
            else:
                text = f"Row {r + 1} (clue {_clue_text(clue)}): settle it as '{settled}'."
            marks = "".join(new if old == "?" else "?" for old, new in zip(row, settled, strict=True))
            steps.append(TraceStep("apply", text, {"line": "row", "index": r + 1, "marks": marks}))
        return steps

    def read_off(self, problem: dict[str, Any], state: str) -> str:
        w = len(problem["cols"])
        return " ".join(state[i : i + w] for i in range(0, len(state), w))

    def random_move(self, problem: dict[str, Any], state: str, rng: random.Random) -> Any | None:
        open_cells = [i for i, ch in enumerate(state) if ch == "?"]
        if not open_cells:
            return None
        w = len(problem["cols"])
        r, c = divmod(rng.choice(open_cells), w)
        return {"line": "row", "index": r + 1, "marks": _one(w, c, rng.choice("#."))}

    def move_text(self, move: Any) -> str:
        return f"{move['line']} {move['index']} marked '{move['marks']}'"

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        h, w = len(problem["rows"]), len(problem["cols"])
        cells = []
        for ch in _SEPARATORS.sub("", answer):
            if ch not in _READ:
                return False, f"unexpected {ch!r}: cells are '#' (filled) or '.' (empty)"
            cells.append(_READ[ch])
        if len(cells) != h * w:
            return False, f"expected {h * w} cells ({h} rows of {w}), got {len(cells)}"
        grid = "".join(cells)
        if "?" in grid:
            i = grid.index("?")
            return False, f"r{i // w + 1}c{i % w + 1} is left undecided"
        clues = _clues(problem)
        for kind, count in (("row", h), ("col", w)):
            for k in range(count):
                line = _line(grid, w, kind, k)
                if _fit(clues[kind][k], line)[0] != 1:
                    return False, (
                        f"{_WORD[kind].lower()} {k + 1} reads {_clue_text(_runs(line))} ('{line}') but its clue is "
                        f"{_clue_text(clues[kind][k])}"
                    )
        return True, f"all {h} rows and {w} columns read their clues"

    def render(self, problem: dict[str, Any], state: str | None, size: int) -> Any:
        h, w = len(problem["rows"]), len(problem["cols"])
        top = max(1, *map(len, problem["cols"]))
        left = max(1, *map(len, problem["rows"]))
        cells: dict[tuple[int, int], tuple[Any, str, Any]] = {}
        for c, clue in enumerate(problem["cols"]):
            shown = [str(x) for x in clue] or ["0"]
            for t in range(top):
                k = t - (top - len(shown))
                cells[(t, left + c)] = (draw.LIGHT, shown[k] if k >= 0 else "", draw.BLACK)
        for r, clue in enumerate(problem["rows"]):
            shown = [str(x) for x in clue] or ["0"]
            for t in range(left):
                k = t - (left - len(shown))
                cells[(top + r, t)] = (draw.LIGHT, shown[k] if k >= 0 else "", draw.BLACK)
        for i, ch in enumerate(state or ""):
            r, c = divmod(i, w)
            if ch == "#":
                cells[(top + r, left + c)] = (draw.BLUE, "", draw.WHITE)
            elif ch == ".":
                cells[(top + r, left + c)] = (None, "x", draw.GREY)
        return draw.grid_image(top + h, left + w, size, cells)


def _clue(problem: dict[str, Any], kind: str, k: int) -> tuple[int, ...]:
    return tuple(problem["rows" if kind == "row" else "cols"][k])


def _clues(problem: dict[str, Any]) -> dict[str, list[tuple[int, ...]]]:
    return {"row": [tuple(c) for c in problem["rows"]], "col": [tuple(c) for c in problem["cols"]]}


def _line(grid: str, w: int, kind: str, k: int) -> str:
    return grid[k * w : k * w + w] if kind == "row" else grid[k::w]


def _marked(grid: str, w: int, kind: str, k: int, marks: str) -> str:
    """The grid after writing ``marks`` (its non-'?' characters) onto line ``k`` of it. A cell
    keeps the smaller of its old and new character: '#' and '.' sort before '?', so a mark wins
    over an open cell and a decided cell stays as it is."""
    if kind == "row":
        return grid[: k * w] + "".join(map(min, grid[k * w : k * w + w], marks)) + grid[k * w + w :]
    cells = list(grid)
    cells[k::w] = map(min, cells[k::w], marks)
    return "".join(cells)


def _one(length: int, j: int, value: str) -> str:
    """Marks that set only cell ``j`` of a line."""
    return "?" * j + value + "?" * (length - j - 1)


def _cell(kind: str, k: int, j: int) -> str:
    return f"r{k + 1}c{j + 1}" if kind == "row" else f"r{j + 1}c{k + 1}"


def _spell(placement: int, length: int) -> str:
    return "".join("#" if placement >> j & 1 else "." for j in range(length))


def _agrees(placement: int, line: str) -> bool:
    return all((placement >> j & 1) == (ch == "#") for j, ch in enumerate(line) if ch != "?")


def _deduction(kind: str, k: int, clue: tuple[int, ...], line: str, count: int, fill: int, cross: int) -> str:
    """The line solver's check, stated: how many placements fit and what they all agree on."""
    head = f"{_WORD[kind]} {k + 1} (clue {_clue_text(clue)})"
    on = f", now '{line}'" if line.strip("?") else ""
    parts = []
    if fill:
        parts.append("fills " + ", ".join(_cell(kind, k, j) for j in _bits(fill)))
    if cross:
        parts.append("leaves " + ", ".join(_cell(kind, k, j) for j in _bits(cross)) + " empty")
    agreed = " and ".join(parts)
    if count == 1:
        return f"{head}{on}: only one placement fits, so it {agreed}."
    return f"{head}{on}: {count} placements fit and every one {agreed}."


family = register(Nonogram())
