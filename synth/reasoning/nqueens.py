"""The ``nqueens`` family (group puzzles): n queens on a board with blocked squares and givens.

Blocked squares and pre-placed queens make every seed a different puzzle (the plain n-queens
problem has only a handful of boards per size) while the search stays a real row-by-row
backtracking search. Any placement that obeys the rules passes the verifier; the gold answer
is only the first one the solver finds.

==========  ====  =======  ======  ======================================
difficulty  n     blocked  givens  typical expert steps (read..answer)
==========  ====  =======  ======  ======================================
1           5     4        1       ~8
2           6     5        1       ~12
3           7     6        1       ~18
4           8     8        0       ~30
5           10    10       0       ~50
==========  ====  =======  ======  ======================================

Moves: ``place {"row": r, "col": c}``. State: a tuple with the queen's column per row (-1 for
none). Answer: the column of the queen in each row, top to bottom, 0-based ("1 3 0 2").
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

_TOKENS = re.compile(r"[\s,;|\[\]()]+")


def _attacker(state: tuple[int, ...], r: int, c: int) -> tuple[int, int, str] | None:
    """The first queen attacking (r, c), with the line it attacks along."""
    for r2, c2 in enumerate(state):
        if c2 < 0 or r2 == r:
            continue
        if c2 == c:
            return r2, c2, "column"
        if abs(r2 - r) == abs(c2 - c):
            return r2, c2, "diagonal"
    return None


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

    def read(self, problem: dict[str, Any]) -> str:
        n = problem["n"]
        return (
            f"A {n}x{n} board with {len(problem['blocked'])} blocked square(s) and "
            f"{len(problem['given'])} given queen(s). I need one queen in every row, no two on a "
            "column or a diagonal, none on a blocked square."
        )

    def start(self, problem: dict[str, Any]) -> tuple[int, ...]:
        state = [-1] * problem["n"]
        for r, c in problem["given"]:
            state[r] = c
        return tuple(state)

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        n = problem["n"]
        walls = {tuple(b) for b in problem["blocked"]}
        state = list(self.start(problem))
        rows = [r for r in range(n) if state[r] < 0]
        steps: list[TraceStep] = []
        counts = {"nodes": 0, "backtracks": 0}

        def why_not(r: int) -> list[str | None]:
            reasons: list[str | None] = []
            for c in range(n):
                if (r, c) in walls:
                    reasons.append(f"{c} is blocked")
                    continue
                hit = _attacker(tuple(state), r, c)
                reasons.append(None if hit is None else f"{c} is attacked by ({hit[0]},{hit[1]})")
            return reasons

        def dfs(k: int, depth: int) -> bool:
            if k == len(rows):
                return True
            r = rows[k]
            reasons = why_not(r)
            safe = [c for c in range(n) if reasons[c] is None]
            if not safe:
                counts["backtracks"] += 1
                ruled = "; ".join(x for x in reasons if x)
                steps.append(TraceStep("backtrack", f"Row {r} has no safe column ({ruled}): dead end.", depth=depth - 1))
                return False
            for j, c in enumerate(safe):
                if j == 0:
                    ruled = [x for x in reasons[:c] if x]
                    why = f"column {', column '.join(ruled)}; " if ruled else ""
                    text = f"Row {r}: {why}place a queen at ({r},{c})."
                else:
                    text = f"Row {r}: try the next safe column, {c}: place a queen at ({r},{c})."
                steps.append(TraceStep("apply", text, {"row": r, "col": c}))
                counts["nodes"] += 1
                state[r] = c
                if dfs(k + 1, depth + 1):
                    return True
                state[r] = -1
            # every safe column of row r failed: undo the row above as well
            last = steps[-1]
            last.depth = depth - 1
            last.text += f" Row {r} has no other safe column either."
            return False

        if not dfs(0, 0):
            raise ValueError("this n-queens problem has no solution")
        answer = " ".join(map(str, state))
        plan = (
            "Fill the rows top to bottom (rows with a given queen are already done). In each row "
            "rule out blocked and attacked columns, place a queen on the leftmost safe one, and when "
            "a row has no safe column go back to the last row that still has another option."
        )
        return Search(plan, steps, answer, counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[tuple[int, ...], str | None]:
        n = problem["n"]
        r, c = (move.get("row"), move.get("col")) if isinstance(move, dict) else (None, None)
        if type(r) is not int or type(c) is not int or not (0 <= r < n and 0 <= c < n):
            return state, f"a move names a row and a column inside the board (0..{n - 1}), got {move!r}"
        if state[r] >= 0:
            return state, f"row {r} already has a queen at ({r},{state[r]})"
        placed = state[:r] + (c,) + state[r + 1 :]
        if [r, c] in problem["blocked"]:
            return placed, f"({r},{c}) is a blocked square"
        hit = _attacker(state, r, c)
        if hit is not None:
            return placed, f"({r},{c}) is attacked by the queen at ({hit[0]},{hit[1]}) along a {hit[2]}"
        return placed, None

    def observe(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        return f"{sum(c >= 0 for c in state)} of {problem['n']} queens placed."

    def blunder(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> tuple[Any, str] | None:
        empty = [r for r, c in enumerate(state) if c < 0]
        if not empty:
            return None
        r = empty[0]
        bad = [c for c in range(problem["n"]) if self.apply(problem, state, {"row": r, "col": c})[1]]
        if not bad:
            return None
        c = rng.choice(bad)
        return {"row": r, "col": c}, f"Row {r}: column {c} looks free; place a queen at ({r},{c})."

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> list[TraceStep]:
        """Fill the remaining rows greedily, never looking back at the broken one."""
        n = problem["n"]
        steps, board = [], state
        for r in range(n):
            if board[r] >= 0:
                continue
            ok = [c for c in range(n) if self.apply(problem, board, {"row": r, "col": c})[1] is None]
            c = ok[0] if ok else next(c for c in range(n) if [r, c] not in problem["blocked"])
            steps.append(TraceStep("apply", f"Row {r}: place a queen at ({r},{c}).", {"row": r, "col": c}))
            board = self.apply(problem, board, {"row": r, "col": c})[0]
        return steps

    def read_off(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        return " ".join(str(c) if c >= 0 else "-" for c in state)

    def random_move(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> Any | None:
        empty = [r for r, c in enumerate(state) if c < 0]
        if not empty:
            return None
        return {"row": rng.choice(empty), "col": rng.randrange(problem["n"])}

    def move_text(self, move: Any) -> str:
        return f"a queen at ({move['row']},{move['col']})"

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
