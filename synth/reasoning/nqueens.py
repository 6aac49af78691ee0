"""The ``nqueens`` family (group puzzles): n queens on a board with blocked squares and givens.

Blocked squares and pre-placed queens make every seed a different puzzle (the plain n-queens
problem has only a handful of boards per size) while the search stays a real row-by-row
backtracking search. Any placement that obeys the rules passes the verifier; the gold answer
is only the first one the solver finds.

==========  ====  =======  ======  ======================================
difficulty  n     blocked  givens  typical expert steps (read..answer)
==========  ====  =======  ======  ======================================
1           5     4        1       ~9
2           6     5        1       ~14
3           7     6        1       ~18
4           8     8        0       ~35
5           10    10       0       ~50
==========  ====  =======  ======  ======================================

The solver fills the rows top to bottom with forward checking: in each row it rules out
blocked and attacked squares, and a square whose queen would leave some later row without a
free square; it tries the leftmost square left and, when a row has none, goes back to the last
row with an untried square. Every ruled-out square is named with its reason.

What the env calls wrong: a move that breaks a rule (a blocked or attacked square, a row that
has a queen), or a legal one that leaves no completion of the queens in force while not being
one of the squares the search itself tries there (the first empty row's squares that pass the
forward check). So the search's own tries are never mistakes, and a queen that empties a later
row is, since the forward check would have ruled it out. Solvable is decided exactly, by a
small depth-first search from the board.

Mistakes: a queen put on a square a queen attacks along a diagonal or column that the thought
overlooks (a forgotten constraint, a rule break), on a blocked square (a misread), or on a free
square that the forward check would have ruled out (a greedy choice, legal but wrong).

Moves: ``place {"row": r, "col": c}``. State: a tuple with the queen's column per row (-1 for
none). Answer: the column of the queen in each row, top to bottom, 0-based ("1 3 0 2").
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
from synth.registry import register

_TOKENS = re.compile(r"[\s,;|\[\]()]+")
Board = tuple[int, ...]


def _attacker(state: Board, r: int, c: int) -> tuple[int, int, str] | None:
    """The first queen attacking (r, c), with the line it attacks along."""
    for r2, c2 in enumerate(state):
        if c2 < 0 or r2 == r:
            continue
        if c2 == c:
            return r2, c2, "column"
        if abs(r2 - r) == abs(c2 - c):
            return r2, c2, "diagonal"
    return None


def _row_walls(problem: dict[str, Any]) -> tuple[int, ...]:
    """The blocked columns of each row, as bit masks."""
    walls = [0] * problem["n"]
    for r, c in problem["blocked"]:
        walls[r] |= 1 << c
    return tuple(walls)


class _Lines:
    """The columns and diagonals the queens of a board hold, as bit masks: a row's free
    squares are one expression, so the forward check and the solvability search stay cheap."""

    __slots__ = ("n", "walls", "cols", "up", "down")

    def __init__(self, n: int, walls: tuple[int, ...], state: Board = ()):
        self.n, self.walls = n, walls
        self.cols = self.up = self.down = 0
        for r, c in enumerate(state):
            if c >= 0:
                self.add(r, c)

    def add(self, r: int, c: int) -> None:
        self.cols |= 1 << c
        self.up |= 1 << (r + c)
        self.down |= 1 << (c - r + self.n - 1)

    def free(self, r: int) -> int:
        n = self.n
        return ((1 << n) - 1) & ~self.walls[r] & ~self.cols & ~(self.up >> r) & ~(self.down >> (n - 1 - r))

    def with_queen(self, r: int, c: int) -> _Lines:
        other = _Lines.__new__(_Lines)
        other.n, other.walls, other.cols, other.up, other.down = self.n, self.walls, self.cols, self.up, self.down
        other.add(r, c)
        return other


def _survey(walls: tuple[int, ...], state: Board, r: int) -> list[tuple | None]:
    """Why each square of row ``r`` is out, or None where a queen can go: ("blocked",),
    ("attacked", r2, c2, line) or ("starves", k), k being a later empty row the queen would
    leave without a free square (the forward check)."""
    n = len(state)
    lines = _Lines(n, walls, state)
    free = lines.free(r)
    later = [k for k, c in enumerate(state) if c < 0 and k != r]
    out: list[tuple | None] = []
    for c in range(n):
        if walls[r] >> c & 1:
            out.append(("blocked",))
        elif not free >> c & 1:
            out.append(("attacked", *_attacker(state, r, c)))
        else:
            after = lines.with_queen(r, c)
            starved = next((k for k in later if not after.free(k)), None)
            out.append(None if starved is None else ("starves", starved))
    return out


def _solvable(walls: tuple[int, ...], state: Board) -> bool:
    """Whether the empty rows of ``state`` can all get a queen: depth-first over the rows."""
    rows = [r for r, c in enumerate(state) if c < 0]

    def dfs(k: int, lines: _Lines) -> bool:
        if k == len(rows):
            return True
        free = lines.free(rows[k])
        while free:
            bit = free & -free
            if dfs(k + 1, lines.with_queen(rows[k], bit.bit_length() - 1)):
                return True
            free ^= bit
        return False

    return dfs(0, _Lines(len(state), walls, state))


def _why(say: Voice, r: int, c: int, reason: tuple) -> str:
    """One ruled-out square, said the way a solver says it."""
    if reason[0] == "blocked":
        return say(("column <c> is blocked", "(<r>,<c>) is blocked", "<c> is a blocked square", "the square at <c> is blocked"), r=r, c=c)
    if reason[0] == "attacked":
        _, a, b, line = reason
        if line == "column":
            return say(("column <c> is taken by (<a>,<b>)", "({<a>,<b>}) holds column <c>", "<c> is in the column of (<a>,<b>)",
                        "column <c> is attacked by (<a>,<b>)"), r=r, c=c, a=a, b=b)
        return say(("<c> is on a diagonal of (<a>,<b>)", "(<a>,<b>) attacks (<r>,<c>) diagonally", "column <c> is attacked by (<a>,<b>)",
                    "(<r>,<c>) shares a diagonal with (<a>,<b>)"), r=r, c=c, a=a, b=b)
    return say(("<c> would leave row <k> no free square", "a queen at (<r>,<c>) would empty row <k>", "(<r>,<c>) starves row <k>",
                "<c> fails the forward check: row <k> would be left with nothing"), r=r, c=c, k=reason[1])


def _dead_text(say: Voice, r: int, reasons: list[tuple | None]) -> str:
    """A row with no square left, each square's reason named."""
    listed = say.listing([_why(say, r, c, why) for c, why in enumerate(reasons) if why])
    return say(("Row <r> has no square left: <w>. {Dead end|<D>}.", "Row <r>: <w>. Nothing is left in row <r>: <d>.",
                "Nothing fits row <r> (<w>): <d>."), r=r, w=listed, d=dead_end(say), D=cap(dead_end(say)))


def _exhausted(say: Voice, r: int) -> str:
    return say(("Row <r> has no other candidate either.", "Row <r> is out of candidates too.", "That was row <r>'s last option as well.",
                "Nothing else is left to try in row <r>.", "Row <r> has run out of squares as well."), r=r)


def _retry_text(say: Voice, r: int, p: int, c: int, rest: list[int], dead: int | None) -> str:
    """The next candidate of a row after the one before it failed: where that failure showed
    (the row that ran out of squares below it), and what is still left to try here."""
    why = ""
    if dead is not None and say.chance(0.7):
        why = say((" (row <k> ran dry under it)", ", since row <k> ended up with no square", " (it left row <k> empty further down)",
                   ": below it row <k> had nothing", ", row <k> being stuck"), k=dead)
    tail = ""
    if not rest:
        tail = say((" (the last candidate)", ", the last one left", ", its final option", ""))
    elif say.chance(0.5):
        tail = say((" (then <cs>)", ", with <cs> still to come", "; <cs> remain after it"), cs=say.listing(rest))
    return say(("Back in row <r>: (<r>,<p>) failed<w>, so try (<r>,<c>)<t>.", "Row <r> again: <p> led nowhere<w>; next is <c><t>.",
                "(<r>,<p>) is out<w>; try the next candidate in row <r>, (<r>,<c>)<t>.", "Row <r>, next candidate: (<r>,<c>)<t>, as <p> failed<w>.",
                "So (<r>,<p>) does not work<w>. Row <r> moves on to (<r>,<c>)<t>."), r=r, p=p, c=c, w=why, t=tail)


def _place_text(say: Voice, r: int, c: int, out: list[tuple[int, tuple]], rest: list[int]) -> str:
    """A placement: the squares ruled out on the way (listed in a seeded order of two
    styles), the square chosen and, sometimes, the ones left for later."""
    head = say(("Row <r>", "In row <r>", "Now row <r>", "Next, row <r>", "Row <r> next"), r=r)
    go = say(("{place|put} a queen {at|on} (<r>,<c>)", "the queen goes {to|on} (<r>,<c>)", "take (<r>,<c>)",
              "(<r>,<c>) it is", "queen on (<r>,<c>)"), r=r, c=c)
    later = ""
    if rest and say.chance(0.4):
        later = say((" ({still open:|left for later:|other options:} <cs>)", " ({<cs> stay|<cs> remain} open)"),
                    cs=say.listing(rest))
    if not out:
        free = say(("(<r>,<c>) is {free|safe|open}", "nothing rules out (<r>,<c>)", "<c> is the first free column"), r=r, c=c)
        return f"{head}: {free}, so {go}{later}."
    why = say.listing([_why(say, r, k, reason) for k, reason in out])
    return say(("<h>: <w>; <g><l>.", "<h>: <w>, so <g><l>.", "<h>: <w>. So <g><l>."), h=head, w=why, g=go, l=later)


class NQueens(ReasoningFamily):
    name = "nqueens"
    group = "puzzles"
    action = "place"
    rules = "the row is empty and the square is neither blocked nor attacked by a queen"
    levels = {
        1: {"n": 5, "blocked": 4, "givens": 1},
        2: {"n": 6, "blocked": 5, "givens": 1},
        3: {"n": 7, "blocked": 6, "givens": 1},
        4: {"n": 8, "blocked": 8, "givens": 0},
        5: {"n": 10, "blocked": 10, "givens": 0},
    }

    def __init__(self) -> None:
        super().__init__()
        self._walls: tuple[Any, tuple[int, ...]] = (None, ())

    def walls(self, problem: dict[str, Any]) -> tuple[int, ...]:
        """The blocked columns of each row; one slot keyed by identity (an episode's hooks all
        get the same problem object, and holding it keeps the identity from being reused)."""
        if self._walls[0] is not problem:
            self._walls = (problem, _row_walls(problem))
        return self._walls[1]

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, n: int, blocked: int, givens: int) -> dict[str, Any]:
        cells = [(r, c) for r in range(n) for c in range(n)]
        while True:
            walls = set(rng.sample(cells, blocked))
            solution = _any_solution(n, walls, rng)
            if solution is not None:
                break
        given = sorted(rng.sample([(r, c) for r, c in enumerate(solution)], givens))
        return {"n": n, "blocked": sorted(map(list, walls)), "given": [list(g) for g in given]}

    def describe(self, problem: dict[str, Any]) -> str:
        n = problem["n"]
        board = "\n".join(" ".join(_board(problem)[r]) for r in range(n))
        blocked = ", ".join(f"({r},{c})" for r, c in problem["blocked"]) or "none"
        given = ", ".join(f"({r},{c})" for r, c in problem["given"]) or "none"
        return (
            f"Place {n} queens on this {n}x{n} board so that no two share a row, a column or a "
            "diagonal. '#' squares are blocked and cannot hold a queen; 'Q' queens are already "
            "placed and must stay.\n\n"
            f"{board}\n\n"
            f"Rows and columns are numbered from 0 at the top left. Blocked: {blocked}. Given queens: {given}.\n"
            f"Answer with the column of the queen in each row, from row 0 to row {n - 1}, separated by "
            "spaces, for example: 1 3 0 2"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        n, blocked, given = problem["n"], problem["blocked"], problem["given"]
        walls = say.listing([f"({r},{c})" for r, c in blocked]) if blocked else "none"
        per_row = [self.walls(problem)[r].bit_count() for r in range(n)]
        parts = [
            say(("A board of <n>x<n>", "The board is <n>x<n>", "<n> rows and <n> columns", "An <n>-by-<n> board"), n=n),
            say(("blocked squares: <w>", "<k> squares are blocked: <w>", "the blocked ones are <w>", "<w> are blocked"),
                w=walls, k=len(blocked)),
        ]
        if say.chance(0.5):
            worst = max(range(n), key=lambda r: (per_row[r], -r))
            clear = [r for r in range(n) if not per_row[r]]
            parts.append(say(("row <r> has the most of them (<k>)", "<k> of them sit in row <r>", "row <r> is the most blocked, with <k>"),
                             r=worst, k=per_row[worst]) if per_row[worst] > 1 else
                         say(("no row has more than one", "they are spread one per row")))
            if clear and say.chance(0.5):
                parts.append(say(("row<s> <rs> {have|has} none", "<rs> {are|is} free of them"), s="s" if len(clear) > 1 else "",
                                 rs=say.listing(clear)))
        for r, c in given:
            parts.append(say(("a queen is given at (<r>,<c>)", "(<r>,<c>) already holds a queen", "given: a queen on (<r>,<c>)",
                              "the queen at (<r>,<c>) is fixed, taking column <c> and its diagonals"), r=r, c=c))
        goal = say(("I need one queen per row with no two sharing a column or a diagonal",
                    "every row needs a queen, and no two may share a column or diagonal",
                    "the task: a queen in each row, columns and diagonals all different",
                    "so: <n> queens, one per row, none attacking another"), n=n)
        return f"{'; '.join(parts)}. {cap(goal)}."

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        n, walls = problem["n"], self.walls(problem)
        given = {r for r, _ in problem["given"]}
        open_rows = [r for r in range(n) if r not in given]
        tight = min(open_rows, key=lambda r: (n - walls[r].bit_count(), r))
        left = n - walls[tight].bit_count()
        skip = say((" (row <g> is done: its queen is given)", ", skipping row <g> with its given queen", " past the given row <g>"),
                   g=say.listing(sorted(given))) if given else ""
        order = say(("Fill the rows from <a> down to <b><s>.", "Go row by row, <a> to <b><s>.", "Work top to bottom from row <a> to <b><s>."),
                    a=open_rows[0], b=open_rows[-1], s=skip)
        rule = say(("In each row rule out blocked squares, attacked squares and any square that would leave a later row without a free one; "
                    "take the leftmost square left.",
                    "For each row, strike what is blocked or attacked, forward-check the rest (no later row may lose its last square) "
                    "and try the leftmost survivor.",
                    "A row's candidates are its free squares whose queen still leaves every later row a square; try them left to right."))
        back = say(("When a row has no candidate, go back to the last row that still has one.",
                    "A row with no candidate is a dead end: back up to the latest row with an untried square.",
                    "If nothing is left in a row, return to the most recent row with another option."))
        note = say(("Row <t> is the tightest, with <k> open squares.", "Watch row <t>: only <k> squares are not blocked.",
                    "Row <t> has the fewest unblocked squares (<k>)."), t=tight, k=left)
        if problem["given"] and say.chance(0.6):
            r, c = problem["given"][0]
            hit = sorted({k for k in open_rows for x in (c, c + (k - r), c - (k - r)) if 0 <= x < n and not walls[k] >> x & 1})
            note += " " + say(("The given queen at (<r>,<c>) already covers squares in rows <rs>.",
                               "(<r>,<c>) takes column <c> and two diagonals, reaching rows <rs>.",
                               "Its column and diagonals cut into rows <rs>."), r=r, c=c, rs=say.listing(hit[:6]))
        return " ".join(say.order([order, note]) + [rule, back]) if say.chance(0.5) else " ".join([order, rule, back, note])

    def start(self, problem: dict[str, Any]) -> Board:
        state = [-1] * problem["n"]
        for r, c in problem["given"]:
            state[r] = c
        return tuple(state)

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        walls = self.walls(problem)
        say = self.voice(problem)
        state = self.start(problem)
        rows = [r for r in range(problem["n"]) if state[r] < 0]
        steps: list[TraceStep] = []
        counts = {"nodes": 0, "backtracks": 0}
        dead_row: list[int | None] = [None]  # the row of the latest dead end

        def dfs(k: int, depth: int) -> bool:
            nonlocal state
            if k == len(rows):
                return True
            r = rows[k]
            reasons = _survey(walls, state, r)
            options = [c for c, why in enumerate(reasons) if why is None]
            if not options:
                counts["backtracks"] += 1
                dead_row[0] = r
                steps.append(TraceStep("backtrack", _dead_text(say, r, reasons), depth=depth - 1))
                return False
            for j, c in enumerate(options):
                if j == 0:
                    out = [(x, why) for x, why in enumerate(reasons[:c]) if why]
                    text = _place_text(say, r, c, out, options[1:])
                else:
                    text = _retry_text(say, r, options[j - 1], c, options[j + 1 :], dead_row[0])
                steps.append(TraceStep("apply", text, {"row": r, "col": c}))
                counts["nodes"] += 1
                state = state[:r] + (c,) + state[r + 1 :]
                if dfs(k + 1, depth + 1):
                    return True
                state = state[:r] + (-1,) + state[r + 1 :]
            # every candidate of row r failed: undo the row above as well
            last = steps[-1]
            last.depth = depth - 1
            last.text += " " + _exhausted(say, r)
            return False

        if not dfs(0, 0):
            raise ValueError("this n-queens problem has no solution")
        return Search(steps, " ".join(map(str, state)), counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: Board, move: Any) -> tuple[Board, str | None]:
        n = problem["n"]
        r, c = (move.get("row"), move.get("col")) if isinstance(move, dict) else (None, None)
        if type(r) is not int or type(c) is not int or not (0 <= r < n and 0 <= c < n):
            return state, f"a move names a row and a column inside the board (0..{n - 1}), got {move!r}"
        if state[r] >= 0:
            return state, f"row {r} already has a queen at ({r},{state[r]})"
        placed = state[:r] + (c,) + state[r + 1 :]
        if self.walls(problem)[r] >> c & 1:
            return placed, f"({r},{c}) is a blocked square"
        hit = _attacker(state, r, c)
        if hit is not None:
            return placed, f"({r},{c}) is attacked by the queen at ({hit[0]},{hit[1]}) along a {hit[2]}"
        return placed, None

    def keeps_solvable(self, problem: dict[str, Any], before: Board, move: Any, after: Board, search: Search) -> bool:
        gold = search.final
        if all(c < 0 or c == gold[r] for r, c in enumerate(after)):
            return True
        return _solvable(self.walls(problem), after)

    def branches(self, problem: dict[str, Any], state: Board, move: Any) -> bool:
        r = next((k for k, c in enumerate(state) if c < 0), None)
        return r == move["row"] and _survey(self.walls(problem), state, r)[move["col"]] is None

    def mistake(self, problem: dict[str, Any], state: Board, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """In the next row: a square the thought wrongly calls free (an attack overlooked, or a
        blocked square misread), or a free square the forward check would have ruled out."""
        walls = self.walls(problem)
        r = next((k for k, c in enumerate(state) if c < 0), None)
        if r is None:
            return None
        reasons = _survey(walls, state, r)
        unblocked = [c for c, why in enumerate(reasons) if why is None or why[0] == "starves"]
        first = next((c for c, why in enumerate(reasons) if why is None), problem["n"])
        attacked = [c for c, why in enumerate(reasons) if why and why[0] == "attacked"]
        blocked = [c for c, why in enumerate(reasons) if why and why[0] == "blocked"]
        options = {  # squares a leftmost-first search would take by mistake: a free one the forward check rules out, or one left of its real first candidate
            "greedy": [c for c in unblocked if reasons[c] is not None],
            "forgotten": [c for c in attacked if c < first],
            "misread": [c for c in blocked if c < first],
        }
        if not any(options.values()):  # nothing tempting to the left: any square the thought can call free
            options = {"forgotten": attacked, "misread": blocked}
        kinds = [k for k, cs in options.items() if cs]
        if not kinds:
            return None
        kind = rng.choices(kinds, [{"greedy": 7, "forgotten": 3, "misread": 1}[k] for k in kinds])[0]
        c = rng.choice(options[kind])
        out = [(x, why) for x, why in enumerate(reasons[:c]) if why]
        rest = [x for x, why in enumerate(reasons) if x > c and why is None]
        if kind != "greedy":
            why = _why(say, r, c, reasons[c])
            reveal = say(("<w>, so it was never free", "<w>: the square was not free", "in fact <w>"), w=why)
        else:
            k = reasons[c][1]
            placed = state[:r] + (c,) + state[r + 1 :]
            ruled = say.listing([_why(say, k, x, why) for x, why in enumerate(_survey(walls, placed, k))])
            reveal = say(("with it, row <k> has nothing left: <w>", "it leaves row <k> no square (<w>)",
                          "row <k> then loses its last square: <w>"), k=k, w=ruled)
        return Mistake({"row": r, "col": c}, _place_text(say, r, c, out, rest), kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: Board, say: Voice, rng: random.Random) -> list[TraceStep]:
        """Fill the remaining rows the same way, never looking back: the leftmost candidate of
        each row, and where a row has none, the square with the fewest attackers as if it
        were free."""
        walls = self.walls(problem)
        steps, board = [], state
        for r in range(problem["n"]):
            if board[r] >= 0:
                continue
            reasons = _survey(walls, board, r)
            options = [c for c, why in enumerate(reasons) if why is None]
            if options:
                c = options[0]
            else:
                open_ = [c for c in range(problem["n"]) if not walls[r] >> c & 1] or [0]
                c = min(open_, key=lambda x: (sum(1 for k, q in enumerate(board) if q >= 0 and (q == x or abs(q - x) == abs(k - r))), x))
            out = [(x, why) for x, why in enumerate(reasons[:c]) if why]
            steps.append(TraceStep("apply", _place_text(say, r, c, out, options[1:]), {"row": r, "col": c}))
            board = board[:r] + (c,) + board[r + 1 :]
        return steps

    def confirm(self, problem: dict[str, Any], before: Board, move: Any, say: Voice) -> str | None:
        r, c = move["row"], move["col"]
        queens = [(k, q) for k, q in enumerate(before) if q >= 0]
        cols = say.listing(sorted({q for _, q in queens})) if queens else ""
        parts = [say(("column <c> is not among <cs>", "no queen stands in column <c> (used: <cs>)", "column <c> is still free"), c=c, cs=cols)
                 if queens else say(("it is the first queen", "no queen is on the board yet"))]
        if queens:
            parts.append(say(("r-c = <d> and r+c = <s> match no queen", "its diagonals (r-c <d>, r+c <s>) are clear",
                              "neither diagonal ({<d>|r-c=<d>} / {<s>|r+c=<s>}) meets a queen"), d=r - c, s=r + c))
        parts.append(say(("(<r>,<c>) is not blocked", "the square is not blocked"), r=r, c=c))
        return say.listing(say.order(parts))

    def narrate(self, problem: dict[str, Any], state: Board, move: Any, say: Voice) -> str:
        r, c = move["row"], move["col"]
        if say.chance(0.3):
            later = [x for x in range(c + 1, problem["n"]) if say.chance(0.3)]
            dead = say.pick([k for k in range(problem["n"]) if k != r]) if say.chance(0.7) else None
            return _retry_text(say, r, say.pick([x for x in range(problem["n"]) if x != c]), c, later, dead)
        reasons = _survey(self.walls(problem), state, r) if state[r] < 0 else [None] * problem["n"]
        out = [(x, why) for x, why in enumerate(reasons[:c]) if why]
        return _place_text(say, r, c, out, [x for x, why in enumerate(reasons) if x > c and why is None])

    def stuck(self, problem: dict[str, Any], state: Board, say: Voice) -> str | None:
        walls = self.walls(problem)
        lines = _Lines(problem["n"], walls, state)
        empty = [k for k, c in enumerate(state) if c < 0]
        if not empty:
            return None
        r = min(empty, key=lambda k: (lines.free(k).bit_count(), k))  # a dead row, or the nearest to one
        text = _dead_text(say, r, _survey(walls, state, r))
        above = [k for k, c in enumerate(state) if c >= 0 and k < r]
        return f"{text} {_exhausted(say, above[-1])}" if above and say.chance(0.5) else text

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        """The columns and the two diagonal numbers of each queen, listed, and the blocked
        squares and givens named: the same check in every tier (a noisy teacher lists its
        numbers and does not see the repeat)."""
        cols = [int(t) for t in answer.split() if t.isdigit()]
        rows = [r for r, t in enumerate(answer.split()) if t.isdigit()]
        parts = [
            say(("the columns <cs> {are all different|never repeat}", "columns by row: <cs>, no repeats", "no column repeats in <cs>"),
                cs=answer),
            say(("r-c gives <d> and r+c gives <s>, no repeats", "diagonals: r-c <d>, r+c <s>, all distinct",
                 "no diagonal is shared (r-c: <d>; r+c: <s>)"),
                d=" ".join(str(r - c) for r, c in zip(rows, cols, strict=True)), s=" ".join(str(r + c) for r, c in zip(rows, cols, strict=True))),
            say(("no queen is on a blocked square", "none of them is on a blocked square", "the blocked squares stay empty")),
        ]
        if problem["given"]:
            parts.append(say(("the given queens stay", "the givens are kept") if len(problem["given"]) > 1 else
                             ("the given queen stays", "the given queen is kept")))
        return f"{verify_intro(say, answer)}: {say.listing(say.order(parts))}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: Board) -> str:
        return " ".join(str(c) if c >= 0 else "-" for c in state)

    def random_move(self, problem: dict[str, Any], state: Board, rng: random.Random) -> Any | None:
        empty = [r for r, c in enumerate(state) if c < 0]
        if not empty:
            return None
        return {"row": rng.choice(empty), "col": rng.randrange(problem["n"])}

    def move_text(self, move: Any) -> str:
        return f"the queen at ({move['row']},{move['col']})"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        n = problem["n"]
        tokens = [t for t in _TOKENS.split(answer.strip()) if t]
        if len(tokens) != n:
            return False, f"expected {n} columns (one per row), got {len(tokens)}"
        cols = []
        for r, token in enumerate(tokens):
            if token in ("-", "_", "."):
                return False, f"row {r} has no queen"
            if not token.isdigit():
                return False, f"row {r}: {token!r} is not a column number"
            c = int(token)
            if c >= n:
                return False, f"row {r}: column {c} is outside the board (0..{n - 1})"
            cols.append(c)
        for r, c in problem["given"]:
            if cols[r] != c:
                return False, f"row {r} must keep the given queen at column {c}, got {cols[r]}"
        for r, c in enumerate(cols):
            if [r, c] in problem["blocked"]:
                return False, f"({r},{c}) is a blocked square"
        for r in range(n):
            for r2 in range(r + 1, n):
                if cols[r] == cols[r2]:
                    return False, f"the queens at ({r},{cols[r]}) and ({r2},{cols[r2]}) share column {cols[r]}"
                if abs(cols[r] - cols[r2]) == r2 - r:
                    return False, f"the queens at ({r},{cols[r]}) and ({r2},{cols[r2]}) share a diagonal"
        return True, f"{n} queens, one per row and column, no shared diagonal, no blocked square, givens kept"

    def render(self, problem: dict[str, Any], state: tuple[int, ...] | None, size: int) -> Any:
        n = problem["n"]
        cells: dict[tuple[int, int], tuple[Any, str, Any]] = {}
        for r in range(n):
            for c in range(n):
                cells[(r, c)] = (draw.LIGHT if (r + c) % 2 else None, "", draw.BLACK)
        for r, c in problem["blocked"]:
            cells[(r, c)] = (draw.DARK, "", draw.WHITE)
        for r, c in enumerate(state or ()):
            if c >= 0:
                cells[(r, c)] = (cells[(r, c)][0], "Q", draw.BLUE)
        for r, c in problem["given"]:
            cells[(r, c)] = (cells[(r, c)][0], "Q", draw.BLACK)
        return draw.grid_image(n, n, size, cells)


def _board(problem: dict[str, Any]) -> list[list[str]]:
    n = problem["n"]
    board = [["."] * n for _ in range(n)]
    for r, c in problem["blocked"]:
        board[r][c] = "#"
    for r, c in problem["given"]:
        board[r][c] = "Q"
    return board


def _any_solution(n: int, walls: set[tuple[int, int]], rng: random.Random) -> list[int] | None:
    """One placement (columns tried in a seeded order), or None: used to draw solvable boards
    and givens from a random solution rather than always the leftmost one."""
    cols: list[int] = []
    order = list(range(n))

    def dfs(r: int) -> bool:
        if r == n:
            return True
        rng.shuffle(order)
        for c in list(order):
            if (r, c) in walls or any(c == c2 or abs(c - c2) == r - r2 for r2, c2 in enumerate(cols)):
                continue
            cols.append(c)
            if dfs(r + 1):
                return True
            cols.pop()
        return False

    return cols if dfs(0) else None


family = register(NQueens())
