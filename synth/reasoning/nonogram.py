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
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
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
    dots_in_answers = True  # '.' is an empty cell
    rules = (
        "the marks change no decided cell and leave the line, and every crossing line they touch, "
        "able to fit its clue"
    )
    levels = {
        1: {"height": 5, "width": 5, "density": 0.6},
        2: {"height": 6, "width": 6, "density": 0.55},
        3: {"height": 7, "width": 7, "density": 0.45},
        4: {"height": 8, "width": 8, "density": 0.45, "budget": 300},
        5: {"height": 10, "width": 10, "density": 0.45, "budget": 300},
    }

    # ------------------------------------------------------------------ problem

    def generate(
        self, rng: random.Random, height: int, width: int, density: float, budget: int | None = None
    ) -> dict[str, Any]:
        return within_budget(lambda: self._draw(rng, height, width, density), self._search, budget)

    def _draw(self, rng: random.Random, height: int, width: int, density: float) -> dict[str, Any]:
        """A random picture's clues, drawn again until the clues have one solution (about four
        pictures in five do), so a board that disagrees with it cannot be completed."""
        while True:
            picture = ["".join("#" if rng.random() < density else "." for _ in range(width)) for _ in range(height)]
            columns = ["".join(row[c] for row in picture) for c in range(width)]
            problem = {"rows": [list(_runs(r)) for r in picture], "cols": [list(_runs(c)) for c in columns]}
            if _count(problem, 2) == 1:
                return problem

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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        h, w = len(problem["rows"]), len(problem["cols"])
        total = sum(map(sum, problem["rows"]))
        head = say(("A <h>x<w> nonogram", "This nonogram is <h>x<w>", "<h> rows by <w> columns"), h=h, w=w)
        count = say(("<h> row clues and <w> column clues, <t> filled cells in all", "the clues add up to <t> filled cells",
                     "<t> of the <a> cells are filled"), h=h, w=w, t=total, a=h * w)
        facts = []
        clues = _clues(problem)
        slack = [(w - sum(c) - max(0, len(c) - 1), "row", k) for k, c in enumerate(clues["row"])]
        slack += [(h - sum(c) - max(0, len(c) - 1), "col", k) for k, c in enumerate(clues["col"])]
        room, kind, k = min(slack)
        if say.chance(0.6):
            facts.append(say(("<L> <k> (clue <c>) has the least slack, <s>", "<L> <k>, clue <c>, leaves only <s> spare cell(s)",
                              "the tightest line is <l> <k> (clue <c>, slack <s>)"),
                             L=_WORD[kind], l=_WORD[kind].lower(), k=k + 1, c=_clue_text(clues[kind][k]), s=room))
        empty = [f"{_WORD[kd].lower()} {k + 1}" for kd in ("row", "col") for k, c in enumerate(clues[kd]) if not c]
        if empty and say.chance(0.6):
            facts.append(say(("<e> {is|are} empty (clue 0)", "clue 0 for <e>"), e=say.listing(empty[:4])))
        goal = say(("every row and column must show exactly its clue's blocks, in order, with gaps between them",
                    "each line must read its clue: the blocks in order, at least one empty cell apart",
                    "all lines must match their clues exactly"))
        return " ".join([f"{head}: {count}.", *(cap(f) + "." for f in facts), cap(goal) + "."])

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        method = say((
            "Solve line by line: for a row or column, list the placements of its clue that agree with the cells decided so far; "
            "a cell that every placement fills is filled, one that none fills is empty.",
            "For each line, count the ways its clue fits what is known; cells all of them fill get filled, cells none of them "
            "fill are marked empty.",
            "Line solving: lay the clue out every way that agrees with the line so far, and keep what all the ways agree on.",
        ))
        recheck = say(("Recheck the crossing lines of every newly decided cell.", "Each new cell sends me to the line crossing it.",
                       "A decided cell may unlock the line across it, so look there next."))
        guess = say(("When no line gives anything new, guess a cell of the tightest row (filled first) and go back when a line can no "
                     "longer fit its clue.",
                     "If every line is stuck, guess in the row with the fewest placements, filled first, and undo when a line cannot fit.",
                     "Guess only when stuck (tightest row, filled first); a line that no longer fits means back up."))
        start = say(("Start with the lines whose clues nearly fill them.", "The long clues are the place to begin.",
                     "Lines with little slack go first.", ""))
        return " ".join(x for x in [start, method, recheck, guess] if x)

    def start(self, problem: dict[str, Any]) -> str:
        return "?" * (len(problem["rows"]) * len(problem["cols"]))

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        return self._search(problem, None)

    def _search(self, problem: dict[str, Any], budget: int | None) -> Search:
        h, w = len(problem["rows"]), len(problem["cols"])
        clues = _clues(problem)
        grid = self.start(problem)
        say = self.voice(problem)
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
            steps.append(TraceStep("backtrack", f"{why} {cap(dead_end(say))}.", depth=entry - 1))
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
                        return dead(entry, say(
                            ("<L> <k> (clue <c>) forces <x> <v>, but then <o> <j> (clue <d>) cannot fit '<line>'.",
                             "<L> <k> (clue <c>) needs <x> <v>; <o> <j> (clue <d>) would then read '<line>', which cannot fit.",
                             "Clash: <x> must be <v> for <l> <k> (clue <c>), yet <o> <j> (clue <d>) cannot fit '<line>' then."),
                            L=_WORD[kind], l=_WORD[kind].lower(), k=k + 1, c=_clue_text(clues[kind][k]), x=_cell(kind, k, j),
                            v="filled" if marks[j] == "#" else "empty", o=_WORD[other].lower(), j=j + 1,
                            d=_clue_text(clues[other][j]), line=crossing))
                counts["lines"] += 1
                depth += 1
                mark(kind, k, marks, _deduction(kind, k, clues[kind][k], line, count, fill, cross, say))
                queue.extend((other, j) for j in _bits(fill | cross) if (other, j) not in queue)
            if "?" not in grid:
                return True
            ways, r, c = _guess_cell(problem, grid)
            saved = grid
            name = _cell("row", r, c)
            for value in "#.":
                if value == "#":
                    counts["guesses"] += 1
                    text = _guess_text(say, r, _clue_text(clues["row"][r]), ways, name)
                else:
                    text = say(("Back at <x>: filled led to a contradiction, so it must be empty.",
                                "<x> cannot be filled after all; mark it empty.", "So <x> is empty: filling it failed."), x=name)
                mark("row", r, _one(w, c, value), text)
                if frame(depth + 1, [("row", r), ("col", c)]):
                    return True
                grid = saved
            if entry == 0:
                raise ValueError("this nonogram has no solution")
            steps[-1].depth = entry - 1
            steps[-1].text += " " + say(("<x> can be neither filled nor empty here.", "Neither value works for <x> either.",
                                         "<x> fails both ways too."), x=name)
            return False

        frame(0, [("row", r) for r in range(h)] + [("col", c) for c in range(w)])
        return Search(steps, self.read_off(problem, grid), counts)

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

    def keeps_solvable(self, problem: dict[str, Any], before: str, move: Any, after: str, search: Search) -> bool:
        """The clues have one solution, so a board is solvable iff every decided cell agrees
        with it."""
        gold = search.final
        return all(ch == "?" or ch == gold[i] for i, ch in enumerate(after))

    def branches(self, problem: dict[str, Any], state: str, move: Any) -> bool:
        """A guess: no line gives anything new, and the move marks just the cell the search
        guesses (the first open cell of the row with the fewest placements left), either way."""
        if move["line"] != "row" or any(_fit(clue, _line(state, len(problem["cols"]), kind, k))[1:] != (0, 0)
                                        for kind, k, clue in _all_lines(problem)):
            return False
        _, r, c = _guess_cell(problem, state)
        return move["index"] == r + 1 and move["marks"].strip("?") in ("#", ".") and move["marks"].index(move["marks"].strip("?")) == c

    def mistake(self, problem: dict[str, Any], state: str, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """On a line with something to deduce: one forced cell read the other way (a miscount),
        or the whole line settled as the first placement that fits, as if it were the only
        one (a greedy read of the count); both usually legal, since the lines still fit."""
        w = len(problem["cols"])
        gold = search.final
        lines = _all_lines(problem)
        rng.shuffle(lines)
        for kind, k, clue in lines:
            line = _line(state, w, kind, k)
            if "?" not in line:
                continue
            count, fill, cross = _fit(clue, line)
            head = f"{_WORD[kind].lower()} {k + 1} (clue {_clue_text(clue)})"
            wrong = [p for p in _placements(clue, len(line)) if _agrees(p, line) and _spell(p, len(line)) != _line(gold, w, kind, k)]
            if count > 1 and wrong and rng.random() < 0.8:
                settled = _spell(wrong[0], len(line))
                marks = "".join(new if old == "?" else "?" for old, new in zip(line, settled, strict=True))
                f2, c2 = _known(marks)
                text = _deduction(kind, k, clue, line, 1, f2, c2, say)
                reveal = say(("<h> fits <n> ways on '<l>', not one; '<s>' was only the first", "'<s>' is not the only way for <h>: <n> fit",
                              "<h> still has <n> placements on '<l>', so settling it as '<s>' was a guess"),
                             h=head, n=count, l=line, s=settled)
                return Mistake({"line": kind, "index": k + 1, "marks": marks}, text, "greedy", reveal)
            if fill | cross:
                j = rng.choice(_bits(fill | cross))
                f2, c2 = (fill & ~(1 << j), cross | 1 << j) if fill >> j & 1 else (fill | 1 << j, cross & ~(1 << j))
                marks = "".join("#" if f2 >> x & 1 else "." if c2 >> x & 1 else "?" for x in range(len(line)))
                text = _deduction(kind, k, clue, line, count, f2, c2, say)
                was = "filled" if fill >> j & 1 else "empty"
                reveal = say(("every placement of <h> makes <x> <v>, not the other way", "<x> is <v> in all <n> placements of <h>; I flipped it",
                              "recounting <h>: all <n> placements agree that <x> is <v>"), h=head, x=_cell(kind, k, j), v=was, n=count)
                return Mistake({"line": kind, "index": k + 1, "marks": marks}, text, "miscount", reveal)
        return None

    def continue_wrong(self, problem: dict[str, Any], state: str, say: Voice, rng: random.Random) -> list[TraceStep]:
        """Line-solve on from the wrong board, never going back: a line that no longer fits is
        passed over, and when nothing is left to deduce the tightest open row is settled as its
        first fitting placement (or emptied), worded as a deduction."""
        w = len(problem["cols"])
        steps: list[TraceStep] = []
        grid = state
        while "?" in grid:
            progress = False
            for kind, k, clue in _all_lines(problem):
                line = _line(grid, w, kind, k)
                count, fill, cross = _fit(clue, line)
                if count and fill | cross:
                    marks = "".join("#" if fill >> j & 1 else "." if cross >> j & 1 else "?" for j in range(len(line)))
                    steps.append(TraceStep("apply", _deduction(kind, k, clue, line, count, fill, cross, say),
                                           {"line": kind, "index": k + 1, "marks": marks}))
                    grid = _marked(grid, w, kind, k, marks)
                    progress = True
            if progress:
                continue
            r = next(r for r in range(len(problem["rows"])) if "?" in grid[r * w : r * w + w])
            row, clue = grid[r * w : r * w + w], tuple(problem["rows"][r])
            settled = next((_spell(p, w) for p in _placements(clue, w) if _agrees(p, row)), row.replace("?", "."))
            marks = "".join(new if old == "?" else "?" for old, new in zip(row, settled, strict=True))
            f2, c2 = _known(marks)
            steps.append(TraceStep("apply", _deduction("row", r, clue, row, 1, f2, c2, say), {"line": "row", "index": r + 1, "marks": marks}))
            grid = _marked(grid, w, "row", r, marks)
        return steps

    def confirm(self, problem: dict[str, Any], before: str, move: Any, say: Voice) -> str | None:
        """The line's placements recounted on the board the move was made on; the same words
        whether they agree with it or not (a random teacher believes its marks)."""
        w = len(problem["cols"])
        kind, k = move["line"], move["index"] - 1
        clue = _clue(problem, kind, k)
        line = _line(before, w, kind, k)
        count = max(1, _fit(clue, line)[0])
        head = f"{_WORD[kind].lower()} {k + 1} (clue {_clue_text(clue)})"
        ways = "one placement" if count == 1 else f"{count} placements"
        return say(("<n> of <h> fit '<l>', and all of them agree", "on '<l>', <h> has <n>, every one giving these cells",
                    "recounting <h> on '<l>': <n>, same cells"), n=ways, h=head, l=line)

    def narrate(self, problem: dict[str, Any], state: str, move: Any, say: Voice) -> str:
        w = len(problem["cols"])
        kind, k = move["line"], move["index"] - 1
        clue = _clue(problem, kind, k)
        line = _line(state, w, kind, k)
        count = _fit(clue, line)[0] or 1
        f2, c2 = _known(move["marks"])
        return _deduction(kind, k, clue, line, count, f2, c2, say)

    def stuck(self, problem: dict[str, Any], state: str, say: Voice) -> str | None:
        w = len(problem["cols"])
        for kind, k, clue in _all_lines(problem):
            line = _line(state, w, kind, k)
            if not _fit(clue, line)[0]:
                return say(("<L> <k> (clue <c>) cannot fit '<l>' any more. <D>.", "'<l>' leaves no room for <l2> <k>'s clue <c>: <d>."),
                           L=_WORD[kind], l2=_WORD[kind].lower(), k=k + 1, c=_clue_text(clue), l=line, d=dead_end(say), D=cap(dead_end(say)))
        return None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        h, w = len(problem["rows"]), len(problem["cols"])
        rows = say(("all <h> rows read their clues", "each row shows its blocks in order", "every row matches its clue"), h=h)
        cols = say(("so do the <w> columns", "the columns match too", "all <w> columns read theirs"), w=w)
        full = say(("no cell is left open", "every cell is decided"))
        return f"{verify_intro(say, answer)}: {rows}, {cols}, {full}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: str) -> str:
        w = len(problem["cols"])
        return " ".join(state[i : i + w] for i in range(0, len(state), w))

    def random_move(self, problem: dict[str, Any], state: str, rng: random.Random) -> Any | None:
        open_cells = [i for i, ch in enumerate(state) if ch == "?"]
        if not open_cells:
            return None
        w = len(problem["cols"])
        r, c = divmod(rng.choice(open_cells), w)
        kind, k = ("row", r) if rng.random() < 0.5 else ("col", c)
        line = _line(state, w, kind, k)
        return {"line": kind, "index": k + 1, "marks": "".join(rng.choice("#.") if ch == "?" else "?" for ch in line)}

    def move_text(self, move: Any) -> str:
        return f"{move['line']} {move['index']} marked '{move['marks']}'"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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


def _deduction(kind: str, k: int, clue: tuple[int, ...], line: str, count: int, fill: int, cross: int, say: Voice) -> str:
    """The line solver's check, stated: how many placements fit and what they all agree on."""
    head = say(("<L> <k> (clue <c>)", "<L> <k>, clue <c>", "For <l> <k> (clue <c>)"), L=_WORD[kind], l=_WORD[kind].lower(), k=k + 1,
               c=_clue_text(clue))
    on = say((", now '<x>'", " on '<x>'", ", reading '<x>'"), x=line) if line.strip("?") else ""
    parts = []
    if fill:
        parts.append(say(("fills <cs>", "puts blocks on <cs>", "covers <cs>"), cs=say.listing([_cell(kind, k, j) for j in _bits(fill)])))
    if cross:
        parts.append(say(("leaves <cs> empty", "never reaches <cs>", "marks <cs> empty"), cs=say.listing([_cell(kind, k, j) for j in _bits(cross)])))
    agreed = " and ".join(parts)
    if count == 1:
        main = say(("<h><o>: only one placement fits, so it <a>.", "<h><o> has a single placement, which <a>.",
                    "<h><o>: exactly one way fits; it <a>."), h=head, o=on, a=agreed)
    else:
        main = say(("<h><o>: <n> placements fit and every one <a>.", "<h><o>: of the <n> placements that fit, each <a>.",
                    "<h><o> fits <n> ways; all of them <a>.", "<h><o>: <n> ways fit, and they agree: each <a>."), h=head, o=on, n=count, a=agreed)
    return " ".join([main, *_line_notes(clue, line, fill | cross, say)])


def _line_notes(clue: tuple[int, ...], line: str, new: int, say: Voice) -> list[str]:
    """Optional true remarks after a line deduction, drawn independently: how tight the clue
    is on its line, and how much of the line is decided with the new cells."""
    notes = []
    need = sum(clue) + max(0, len(clue) - 1)
    if need and say.chance(0.2):
        notes.append(say(("The clue takes <m> of <n> cells, a slack of <s>.", "Slack: <n> - <m> = <s>.", "Its blocks and gaps need <m> of the <n> cells."),
                         m=need, n=len(line), s=len(line) - need))
    if say.chance(0.25):
        known = sum(1 for j, ch in enumerate(line) if ch != "?" or new >> j & 1)
        notes.append(say(("<d> of its <n> cells are decided now.", "That decides <d> of the line's <n> cells.", "The line has <d> of <n> cells known now."),
                         d=known, n=len(line)))
    return notes


def _all_lines(problem: dict[str, Any]) -> list[tuple[str, int, tuple[int, ...]]]:
    return [("row", r, tuple(c)) for r, c in enumerate(problem["rows"])] + [("col", c, tuple(k)) for c, k in enumerate(problem["cols"])]


def _guess_cell(problem: dict[str, Any], grid: str) -> tuple[int, int, int]:
    """(placements left, row, column) of the cell the search guesses: the first open cell of
    the open row with the fewest placements."""
    w = len(problem["cols"])
    ways, r = min((_fit(tuple(problem["rows"][r]), row)[0], r) for r in range(len(problem["rows"])) if "?" in (row := grid[r * w : r * w + w]))
    return ways, r, grid.index("?", r * w) - r * w


def _guess_text(say: Voice, r: int, clue: str, ways: int, name: str) -> str:
    return say(("Line solving is stuck. Row <r> (clue <c>) still fits <n> ways; guess <x> filled.",
                "No line gives anything new. Guess in row <r> (clue <c>, <n> ways left): <x> filled.",
                "Stuck. The tightest open row is <r> (clue <c>, <n> placements); try <x> filled."), r=r + 1, c=clue, n=ways, x=name)


def _count(problem: dict[str, Any], limit: int) -> int:
    """Solutions of the clues, counted up to ``limit`` by line solving and guessing."""
    h, w = len(problem["rows"]), len(problem["cols"])
    clues = _clues(problem)
    found = 0

    def solve(grid: str) -> None:
        nonlocal found
        queue = [("row", r) for r in range(h)] + [("col", c) for c in range(w)]
        while queue:
            kind, k = queue.pop()
            line = _line(grid, w, kind, k)
            count, fill, cross = _fit(clues[kind][k], line)
            if not count:
                return
            if fill | cross:
                marks = "".join("#" if fill >> j & 1 else "." if cross >> j & 1 else "?" for j in range(len(line)))
                grid = _marked(grid, w, kind, k, marks)
                queue.extend((_OTHER[kind], j) for j in _bits(fill | cross))
        if "?" not in grid:
            found += 1
            return
        i = grid.index("?")
        for v in "#.":
            solve(grid[:i] + v + grid[i + 1 :])
            if found >= limit:
                return

    solve("?" * (h * w))
    return found


family = register(Nonogram())
