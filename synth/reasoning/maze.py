"""The ``maze`` family (group games): find a path through a seeded perfect maze.

Why mazes: the answer is checkable exactly by replaying the moves, many different answers are
right (any walk from S to G, detours included), and a depth-first search gives a trace with
genuine dead ends and backtracking, so the trace records a real search rather than a template
filled in with the answer.

Difficulty sets the grid (cells; the ASCII drawing is ``2n+1`` characters square):

==========  =======  ===========  ======================================
difficulty  cells    drawing      typical expert steps (read..answer)
==========  =======  ===========  ======================================
1           3 x 3    7 x 7        ~10
2           5 x 5    11 x 11      ~17
3           7 x 7    15 x 15      ~30
4           9 x 9    19 x 19      ~40
5           11 x 11  23 x 23      ~60
==========  =======  ===========  ======================================

S and G are two random cells at least n-1 steps apart (Manhattan distance): with the corners
fixed a 3x3 grid has only its 192 perfect mazes, too few for 300 seeds to give distinct tasks.
S always has a wall to some neighbouring cell, so a wall can be misread from the first move.
Cells are named ``(row,col)`` from 0; cell (r,c) is the drawing's character at line 2r+1,
column 2c+1, and the character between two cells is '#' when a wall separates them.

The problem (``Task.env``) is ``{"rows": [...]}``, the drawing, from which everything is
rebuilt. The mazes are perfect (a spanning tree of the grid, drawn uniformly by Wilson's
algorithm), so the path the search ends with, its dead ends removed, is the unique simple path.
The solver is a depth-first search that tries the unvisited openings nearest to G first (ties
in UDLR order) and, at a dead end, backtracks to the last cell of its path with an untried one.

Moves: ``move {"dir": "R"}`` into the neighbouring cell; legal iff no wall (or the boundary)
is in the way. A step through a wall is carried out (the state shows where it leads), one off
the grid is not. State: ``(cell, moves)``, where the walk stands and the moves in force; a
backtrack drops moves back to a cell on the path. Answer: the moves as one string, "RRDL"
(spaces, commas, lower case and whole words also work).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
from synth.registry import register

SIZES = {1: 3, 2: 5, 3: 7, 4: 9, 5: 11}

Cell = tuple[int, int]
State = tuple[Cell, str]
DIRS = "UDLR"
DELTAS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
OPPOSITE = {"U": "D", "D": "U", "L": "R", "R": "L"}
WORDS = {"U": "up", "D": "down", "L": "left", "R": "right"}
_EDGES = {"U": "top", "D": "bottom", "L": "left", "R": "right"}
_TOKEN_WORDS = {"up": "U", "down": "D", "left": "L", "right": "R"}
_SEPARATORS = re.compile(r"[\s,]+")


def fmt(cell: Cell) -> str:
    return f"({cell[0]},{cell[1]})"


def _phrase(dirs: str) -> str:
    """'RDL' -> 'right, down and left': the wording the traces use for openings."""
    words = [WORDS[d] for d in dirs]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ---------------------------------------------------------------------------- the maze


@dataclass(frozen=True, slots=True)
class Maze:
    """An ``size`` x ``size`` grid; ``openings[r*size+c]`` lists the directions (in UDLR
    order) in which cell (r,c) has no wall. Only in-grid neighbours are ever open."""

    size: int
    openings: tuple[str, ...]
    start: Cell
    goal: Cell
    # links[r*size+c]: (direction, neighbour) for each opening; precomputed because the
    # search and the rules ask for open neighbours at every step
    links: tuple[tuple[tuple[str, Cell], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.size
        cells = [(i // n, i % n) for i in range(n * n)]
        step = {"U": -n, "D": n, "L": -1, "R": 1}
        links = tuple(tuple((d, cells[i + step[d]]) for d in dirs) for i, dirs in enumerate(self.openings))
        object.__setattr__(self, "links", links)

    def exits(self, cell: Cell) -> tuple[tuple[str, Cell], ...]:
        return self.links[cell[0] * self.size + cell[1]]

    def neighbour(self, cell: Cell, d: str) -> Cell:
        dr, dc = DELTAS[d]
        return (cell[0] + dr, cell[1] + dc)

    def is_open(self, cell: Cell, d: str) -> bool:
        return d in self.openings[cell[0] * self.size + cell[1]]

    def inside(self, cell: Cell) -> bool:
        return 0 <= cell[0] < self.size and 0 <= cell[1] < self.size

    def to_goal(self, cell: Cell) -> int:
        """Manhattan distance to G: the expert's heuristic for which opening to try first."""
        return abs(self.goal[0] - cell[0]) + abs(self.goal[1] - cell[1])

    def blocked_by(self, cell: Cell, d: str) -> str:
        """Why moving ``d`` from ``cell`` is illegal, naming the wall or boundary."""
        nb = self.neighbour(cell, d)
        if not self.inside(nb):
            return f"leaves the maze through the {_EDGES[d]} boundary"
        return f"hits the wall between {fmt(cell)} and {fmt(nb)}"

    def rows(self) -> list[str]:
        """The ASCII drawing: '#' wall, '.' open, 'S' start, 'G' goal."""
        n = self.size
        grid = [["#"] * (2 * n + 1) for _ in range(2 * n + 1)]
        for r in range(n):
            for c in range(n):
                grid[2 * r + 1][2 * c + 1] = "."
                for d in self.openings[r * n + c]:
                    dr, dc = DELTAS[d]
                    grid[2 * r + 1 + dr][2 * c + 1 + dc] = "."
        grid[2 * self.start[0] + 1][2 * self.start[1] + 1] = "S"
        grid[2 * self.goal[0] + 1][2 * self.goal[1] + 1] = "G"
        return ["".join(row) for row in grid]

    @classmethod
    def from_rows(cls, rows: list[str]) -> Maze:
        """Rebuild a maze from its drawing (``Task.env["rows"]``); raises ValueError if the
        drawing is not a square odd-sized grid with exactly one S and one G on cells."""
        if not rows or len(rows) % 2 == 0 or any(len(row) != len(rows) for row in rows):
            raise ValueError("maze rows must form a square drawing with an odd side (2n+1)")
        n = (len(rows) - 1) // 2
        marks: dict[str, list[Cell]] = {"S": [], "G": []}
        openings = []
        for r in range(n):
            for c in range(n):
                ch = rows[2 * r + 1][2 * c + 1]
                if ch in marks:
                    marks[ch].append((r, c))
                opened = ""
                for d in DIRS:
                    dr, dc = DELTAS[d]
                    if 0 <= r + dr < n and 0 <= c + dc < n and rows[2 * r + 1 + dr][2 * c + 1 + dc] != "#":
                        opened += d
                openings.append(opened)
        if len(marks["S"]) != 1 or len(marks["G"]) != 1:
            raise ValueError("maze rows must mark exactly one 'S' and one 'G' cell")
        return cls(n, tuple(openings), marks["S"][0], marks["G"][0])


@lru_cache(maxsize=16)
def _grid(size: int) -> list[list[tuple[str, int]]]:
    """Each cell's in-grid neighbours as (direction, cell index), by cell index."""
    return [
        [
            (d, (r + DELTAS[d][0]) * size + c + DELTAS[d][1])
            for d in DIRS
            if 0 <= r + DELTAS[d][0] < size and 0 <= c + DELTAS[d][1] < size
        ]
        for r in range(size)
        for c in range(size)
    ]


def generate_maze(size: int, rng: random.Random) -> Maze:
    """A perfect maze drawn uniformly from all spanning trees of the grid (Wilson's algorithm),
    with S and G on two random cells at least ``size - 1`` steps apart, S not open on all sides.

    Perfect: every cell is reachable and exactly one simple path joins any two cells, which
    makes 'any walk that ends at G' the complete set of right answers. Uniform rather than a
    recursive backtracker: the backtracker's long corridors give only 14 distinct 3x3 mazes in
    1,000 seeds, where uniform sampling reaches all 192, and its many short dead ends give the
    search trace real backtracking.
    """
    if size < 2:
        raise ValueError(f"maze size must be at least 2 cells, got {size}")
    n_cells = size * size
    steps = _grid(size)
    draw_one = rng.random
    opened = [set() for _ in range(n_cells)]
    in_tree = [False] * n_cells
    in_tree[rng.randrange(n_cells)] = True
    exit_dir: dict[int, tuple[str, int]] = {}
    for first in range(n_cells):
        # loop-erased random walk until the tree: a later exit from a cell overwrites the
        # earlier one, which erases the loop
        cell = first
        while not in_tree[cell]:
            options = steps[cell]
            exit_dir[cell] = options[int(draw_one() * len(options))]
            cell = exit_dir[cell][1]
        cell = first
        while not in_tree[cell]:
            d, nxt = exit_dir[cell]
            opened[cell].add(d)
            opened[nxt].add(OPPOSITE[d])
            in_tree[cell] = True
            cell = nxt
    openings = tuple("".join(d for d in DIRS if d in cell) for cell in opened)
    cells = [(r, c) for r in range(size) for c in range(size)]
    # S has a wall to a neighbouring cell, so there is a wall to misread from the first move on
    start = rng.choice([(r, c) for r, c in cells if len(openings[r * size + c]) < len(steps[r * size + c])])
    goal = rng.choice([g for g in cells if abs(g[0] - start[0]) + abs(g[1] - start[1]) >= size - 1])
    return Maze(size, openings, start, goal)


# ---------------------------------------------------------------------------- the verifier


def parse_moves(answer: str) -> list[str]:
    """``"up, right, Down"`` / ``"u r d"`` / ``"URD"`` -> ``["U", "R", "D"]``.

    Tolerant of whitespace, commas, case and whole words; strict on content: any other token
    raises ValueError naming it, so a garbled answer never passes as a shorter path.
    """
    moves: list[str] = []
    for number, token in enumerate((t for t in _SEPARATORS.split(answer) if t), start=1):
        low = token.lower()
        if low in _TOKEN_WORDS:
            moves.append(_TOKEN_WORDS[low])
        elif all(ch in "udlr" for ch in low):
            moves.extend(low.upper())
        else:
            raise ValueError(f"unknown token {token!r} (token {number}); use U/D/L/R or up/down/left/right")
    return moves


def as_maze(task_env_or_grid: Any) -> Maze:
    """Accept a :class:`Maze`, a ``Task.env`` dict, a list of drawing rows or the drawing."""
    if isinstance(task_env_or_grid, Maze):
        return task_env_or_grid
    if isinstance(task_env_or_grid, dict):
        return Maze.from_rows(task_env_or_grid["rows"])
    if isinstance(task_env_or_grid, str):
        return Maze.from_rows(task_env_or_grid.split())
    if isinstance(task_env_or_grid, (list, tuple)):
        return Maze.from_rows(list(task_env_or_grid))
    raise TypeError(f"cannot read a maze from {type(task_env_or_grid).__name__}")


def verify_maze(task_env_or_grid: Any, answer: str | None) -> tuple[bool, str]:
    """Replay ``answer`` from S: ok iff every move passes an opening and the walk ends at G.

    Any such walk passes, not only the simple path (revisiting cells is allowed). The reason
    names the first illegal move (1-based index, the wall or boundary) or where the walk ended.
    """
    maze = as_maze(task_env_or_grid)
    if answer is None:
        return False, "no answer given"
    try:
        moves = parse_moves(answer)
    except ValueError as e:
        return False, str(e)
    cell = maze.start
    for i, d in enumerate(moves, start=1):
        if not maze.is_open(cell, d):
            return False, f"move {i} of {len(moves)} ({d}) from {fmt(cell)} {maze.blocked_by(cell, d)}"
        cell = maze.neighbour(cell, d)
    if cell != maze.goal:
        return False, f"the {len(moves)} move(s) end at {fmt(cell)}, not at G {fmt(maze.goal)}"
    return True, f"the {len(moves)} move(s) reach G {fmt(maze.goal)}"


# ---------------------------------------------------------------------------- the search


def depth_first_search(maze: Maze, state: State, say: Voice) -> list[TraceStep]:
    """Depth-first search from ``state`` until it stands on G, recorded as trace steps.

    Unvisited openings are tried nearest-to-G first (Manhattan distance of the neighbour),
    ties in UDLR order; at a dead end the search backtracks to the deepest cell of its path
    that still has an untried opening (backtrack depths count the moves of ``state`` too). The
    path it stands on at G is the walk with its dead ends removed.
    """
    cell, moves = state
    base = len(moves)
    stack = [cell]
    visited = {cell}
    steps: list[TraceStep] = []
    resumed = False

    def untried(at: Cell) -> str:
        new = [(maze.to_goal(nb), DIRS.index(d), d) for d, nb in maze.exits(at) if nb not in visited]
        return "".join(d for _, _, d in sorted(new))

    while stack[-1] != maze.goal:
        at = stack[-1]
        options = untried(at)
        if options:
            d = options[0]
            seen = [WORDS[x] for x, nb in maze.exits(at) if nb in visited]
            steps.append(TraceStep("apply", _step_text(say, maze, at, d, options, seen, resumed), {"dir": d}))
            nb = maze.neighbour(at, d)
            visited.add(nb)
            stack.append(nb)
            resumed = False
            continue
        j = len(stack) - 2
        while not untried(stack[j]):  # G is unvisited and reachable, so some path cell has one
            j -= 1
        steps.append(TraceStep("backtrack", _dead_text(say, maze, at, len(stack) - 1 - j, stack[j], stack[:j:-1]), depth=base + j))
        del stack[j + 1 :]
        resumed = True
    return steps


def _step_text(say: Voice, maze: Maze, at: Cell, d: str, options: str, seen: list[str], resumed: bool) -> str:
    """One move of the search: the openings still untried (and, sometimes, the ones that lead
    back to visited cells, the walls around, how far G is after the move), the one taken."""
    nb = maze.neighbour(at, d)
    go = say(("<w> -> <c>", "<w> to <c>", "<w>, into <c>", "<w> (to <c>)"), w=WORDS[d], c=fmt(nb))
    back = say((" (<s> <v> back to visited cells)", "; <s> I have seen", " (<s>: already visited)", ""), s=say.listing(seen),
               v="leads" if len(seen) == 1 else "lead") if seen else ""
    wall = [WORDS[x] for x in DIRS if not maze.is_open(at, x)]
    extras = []
    if wall and say.chance(0.35):
        extras.append(say(("Walls: <w>.", "<W> <v> walled off.", "No way <w>."), w=say.listing(wall, "or"), W=cap(say.listing(wall)),
                          v="is" if len(wall) == 1 else "are"))
    if say.chance(0.3):
        extras.append(say(("Now <k> from G.", "That leaves <k> steps to G as the crow flies.", "G is <k> away from there."), k=maze.to_goal(nb)))
    tail = "".join(" " + e for e in say.order(extras))
    dist = maze.to_goal(nb)
    if resumed:
        return say(("Back at <a>: still untried: <o><b>; try <g>.", "At <a> again, <o> {is|are} left<b>; go <g>.",
                    "<a>: the branch I have not tried is <o><b>. Take <g>."), a=fmt(at), o=_phrase(options), b=back, g=go) + tail
    if len(options) == 1:
        return say(("At <a>: the only unvisited opening is <o><b>; go <g>.", "<a> has one way on, <o><b>: <g>.",
                    "From <a> only <o> is new<b>, so <g>.", "<a>: nothing but <o><b>, so <g>.", "The corridor goes on <o> from <a><b>: <g>."),
                   a=fmt(at), o=_phrase(options), b=back, g=go) + tail
    return say(("At <a>: unvisited openings <o><b>; try <g> first (distance <k> to G).",
                "<a> branches: <o><b>. <W> is nearest to G (<k> steps), so try <g>.",
                "From <a> I can go <o><b>; <g> is closest to G ({<k> away|distance <k>}), try it first.",
                "A fork at <a>: <o><b>. Nearest to G is <w> (<k>), so <g>."),
               a=fmt(at), o=_phrase(options), b=back, g=go, k=dist, W=cap(WORDS[d]), w=WORDS[d]) + tail


def _dead_text(say: Voice, maze: Maze, at: Cell, back: int, to: Cell, undone: list[Cell] | None = None) -> str:
    """A dead end: the cell, what is open there (all of it visited), and the cells given up
    on the way back to the last cell with an untried branch."""
    exits = [WORDS[d] for d, _ in maze.exits(at)]
    gone = ""
    if undone and say.chance(0.6):
        gone = say((" Giving up <c>.", " That drops <c>.", " Undo <c>."), c=say.listing([fmt(c) for c in undone]))
    return say(("<a> is a dead end; backtrack <k> cell(s) to <t>, the last cell on my path with an untried branch.",
                "Dead end at <a> (only <e> open, all visited). Back <k> cell(s) to <t>, which still has a branch to try.",
                "<a> leads nowhere new: <d>. Retreat <k> cell(s) to <t>, the last one with an untried opening.",
                "Nothing new from <a> (<e> {is|are} visited): <d>. The nearest cell with a branch left is <t>, <k> back."),
               a=fmt(at), k=back, t=fmt(to), e=say.listing(exits) or "nothing", d=dead_end(say)) + gone


# ---------------------------------------------------------------------------- the family


class MazeFamily(ReasoningFamily):
    name = "maze"
    group = "games"
    version = "2"
    action = "move"
    rules = "'dir' is U, D, L or R and no wall or boundary lies between the cell and that neighbour"
    levels = {d: {"size": n} for d, n in SIZES.items()}

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[dict[str, Any] | None, Maze | None] = (None, None)

    def _maze(self, problem: dict[str, Any]) -> Maze:
        """The problem's maze; one slot, keyed by identity (an episode's hooks all get the same
        problem object, and holding it keeps the identity from being reused)."""
        if self._last[0] is not problem:
            self._last = (problem, Maze.from_rows(problem["rows"]))
        return self._last[1]

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, size: int) -> dict[str, Any]:
        maze = generate_maze(size, rng)
        problem = {"rows": maze.rows()}
        self._last = (problem, maze)  # the solver reads this very problem next: skip re-parsing it
        return problem

    def describe(self, problem: dict[str, Any]) -> str:
        maze = self._maze(problem)
        n = maze.size
        drawing = "\n".join(problem["rows"])
        return (
            "Find a path through this maze from S to G.\n\n"
            f"{drawing}\n\n"
            f"'#' is a wall, '.' is open. The maze has {n}x{n} cells; cell (r,c), row r from the top "
            "and column c from the left counting from 0, is the character at line 2r+1, column 2c+1 "
            "of the drawing, and the character between two cells is '#' where a wall separates them. "
            f"S is cell {fmt(maze.start)} and G is cell {fmt(maze.goal)}. Each move goes to the "
            "neighbouring cell up (U), down (D), left (L) or right (R) and may not cross a wall. "
            "Answer with the moves as one string, for example RRDL."
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        maze = self._maze(problem)
        n, side = maze.size, 2 * maze.size + 1
        head = say(("The maze is <n>x<n> cells (<s>x<s> characters)", "A <n>x<n> maze, drawn as <s>x<s> characters",
                    "<n>x<n> cells, <s> characters a side"), n=n, s=side)
        where = say(("S is cell <a>, G is cell <b>, <k> steps apart without walls", "S at <a>, G at <b>: <k> steps as the crow flies",
                     "from S <a> to G <b>, a Manhattan distance of <k>"), a=fmt(maze.start), b=fmt(maze.goal), k=maze.to_goal(maze.start))
        exits = say(("from S the openings are: <o>", "S opens <o>", "the first moves from S can go <o>"),
                    o=_phrase("".join(d for d, _ in maze.exits(maze.start))))
        dead = sum(1 for i in range(n * n) if len(maze.openings[i]) == 1)
        extra = say((" <k> cells are dead ends.", " There are <k> cells with a single opening.", ""), k=dead) if say.chance(0.5) else ""
        goal = say(("I need U/D/L/R moves from S to G that never cross a '#'", "the answer is a walk from S to G through openings only",
                    "I must reach G without walking through a wall"))
        return f"{head}. {cap(where)}; {exits}.{extra} {cap(goal)}."

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        maze = self._maze(problem)
        dr, dc = maze.goal[0] - maze.start[0], maze.goal[1] - maze.start[1]
        heading = say.listing([w for w, k in (("down" if dr > 0 else "up", abs(dr)), ("right" if dc > 0 else "left", abs(dc))) if k])
        dfs = say(("Depth-first search from S: at each cell try the unvisited openings, nearest to G first (ties in the order U, D, L, R).",
                   "Search depth-first: from each cell take an untried opening, the one closest to G first, ties U, D, L, R.",
                   "Walk depth-first, always preferring the unvisited neighbour nearest G (ties: up, down, left, right)."))
        back = say(("At a dead end, backtrack to the last cell on my path that still has an untried opening.",
                    "When a cell has nothing new, go back along the path to the latest cell with a branch left.",
                    "Dead ends send me back to the most recent cell with an unexplored opening."))
        end = say(("Stop at G; the path without its dead ends is the answer.", "At G, read the moves off the path (dead ends removed).",
                   "The answer is the path that reaches G, minus the detours."))
        note = say(("G lies <h> of S.", "Overall the way is <h>.", "Roughly: <h>."), h=heading) if heading else ""
        return " ".join(x for x in ([note, dfs, back, end] if say.chance(0.5) else [dfs, back, end, note]) if x)

    def start(self, problem: dict[str, Any]) -> State:
        return self._maze(problem).start, ""

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        maze = self._maze(problem)
        say = self.voice(problem)
        steps = depth_first_search(maze, self.start(problem), say)
        path = self.replay(problem, steps)[-1][1]
        visited = sum(s.kind == "apply" for s in steps) + 1
        backtracks = sum(s.kind == "backtrack" for s in steps)
        return Search(steps, path, {"search": "dfs", "visited": visited, "backtracks": backtracks})

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: State, move: Any) -> tuple[State, str | None]:
        maze = self._maze(problem)
        d = move.get("dir") if isinstance(move, dict) else None
        if d not in DELTAS:
            return state, f"a move names a direction 'dir': U, D, L or R, got {move!r}"
        cell, path = state
        nb = maze.neighbour(cell, d)
        if not maze.inside(nb):
            return state, f"moving {WORDS[d]} from {fmt(cell)} {maze.blocked_by(cell, d)}"
        moved = nb, path + d
        if not maze.is_open(cell, d):
            return moved, f"moving {WORDS[d]} from {fmt(cell)} {maze.blocked_by(cell, d)}"
        return moved, None

    def observe(self, problem: dict[str, Any], state: State) -> str:
        maze = self._maze(problem)
        cell = state[0]
        arrived = ": reached G" if cell == maze.goal else ""
        return f"At {fmt(cell)}{arrived}. Openings: {_phrase(''.join(d for d, _ in maze.exits(cell))) or 'none'}."

    def mistake(self, problem: dict[str, Any], state: State, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A wall read as an opening (a misread of the drawing), on the side that looks like a
        shortcut: a cell off the path so far before one on it, then the one nearest to G. It
        breaks a rule: in a maze every legal walk can still reach G."""
        maze = self._maze(problem)
        cell, path = state
        on_path = {maze.start}
        at = maze.start
        for d in path:
            at = maze.neighbour(at, d)
            on_path.add(at)
        walls = [
            (nb in on_path, maze.to_goal(nb), rng.random(), d, nb)
            for d in DIRS
            if not maze.is_open(cell, d) and maze.inside(nb := maze.neighbour(cell, d))
        ]
        if not walls:
            return None
        *_, d, nb = min(walls)
        options = "".join(x for x in DIRS if x == d or (maze.is_open(cell, x) and maze.neighbour(cell, x) not in on_path))
        text = _step_text(say, maze, cell, d, options, [], False)
        r, c = 2 * cell[0] + 1 + DELTAS[d][0], 2 * cell[1] + 1 + DELTAS[d][1]
        reveal = say(("the drawing has '#' at line <r>, column <c>: a wall between <a> and <b>", "<a> and <b> are separated by a wall",
                      "there is no opening <w> from <a>; line <r> of the drawing shows '#' there"), r=r, c=c, a=fmt(cell), b=fmt(nb), w=WORDS[d])
        return Mistake({"dir": d}, text, "misread", reveal)

    def continue_wrong(self, problem: dict[str, Any], state: State, say: Voice, rng: random.Random) -> list[TraceStep]:
        """Search on from the cell beyond the wall as if it had been reached honestly, with a
        fresh memory of visited cells (from there, the walls it believes in lead to G)."""
        return depth_first_search(self._maze(problem), state, say)

    def confirm(self, problem: dict[str, Any], before: State, move: Any, say: Voice) -> str | None:
        maze = self._maze(problem)
        cell, d = before[0], move["dir"]
        nb = maze.neighbour(cell, d)
        r, c = 2 * cell[0] + 1 + DELTAS[d][0], 2 * cell[1] + 1 + DELTAS[d][1]
        text = say(("line <r>, column <c> of the drawing is '.', so <a> opens <w> to <b>", "no wall between <a> and <b> (the drawing shows '.')",
                    "<a> -> <b> passes the gap at line <r>, column <c>", "<b> is <w> of <a>, and the character between them is '.'"),
                   r=r, c=c, a=fmt(cell), b=fmt(nb), w=WORDS[d])
        if say.chance(0.4):
            text += say((", and <b> is <k> from G", "; from <b>, G is <k> away"), b=fmt(nb), k=maze.to_goal(nb))
        return text

    def narrate(self, problem: dict[str, Any], state: State, move: Any, say: Voice) -> str:
        maze = self._maze(problem)
        cell, d = state[0], move["dir"]
        on_path = {maze.start}
        at = maze.start
        for x in state[1]:
            at = maze.neighbour(at, x)
            on_path.add(at)
        seen = [WORDS[x] for x, nb in maze.exits(cell) if nb in on_path and x != d]
        options = "".join(x for x in DIRS if x == d or (maze.is_open(cell, x) and WORDS[x] not in seen))
        return _step_text(say, maze, cell, d, options, seen, say.chance(0.3))

    def stuck(self, problem: dict[str, Any], state: State, say: Voice) -> str | None:
        maze = self._maze(problem)
        return _dead_text(say, maze, state[0], 1 + int(say.rng.random() * 3), maze.start, [state[0]])

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        """The path the answer walks, cell by cell, as the solver reads it (through whatever it
        believes are openings)."""
        maze = self._maze(problem)
        cells = [maze.start]
        for d in answer:
            cells.append(maze.neighbour(cells[-1], d))
        path = " -> ".join(map(fmt, cells))
        steps = say(("the path is <p>: <m>, <k> moves", "<m> walks <p> (<k> moves)", "cell by cell: <p>, that is <m> (<k> moves)"),
                    p=path, m=answer, k=len(answer))
        end = say(("it ends on G <g>", "the last cell is G <g>", "G <g> is reached"), g=fmt(cells[-1]))
        walls = say(("none of the moves crosses a wall", "every step passes an opening", "no '#' is crossed"))
        return f"{verify_intro(say, answer)}: {steps}; {end}; {walls}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        return state[1]

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        return None if state[0] == self._maze(problem).goal else {"dir": rng.choice(DIRS)}

    def move_text(self, move: Any) -> str:
        return WORDS[move["dir"]]

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        maze = self._maze(problem)
        return {"size": [maze.size, maze.size], "start": list(maze.start), "goal": list(maze.goal)}

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        return verify_maze(self._maze(problem), answer)

    def render(self, problem: dict[str, Any], state: State | None, size: int) -> Any:
        """Walls as thick lines, S green and G red; with a state, the path in force shaded."""
        maze = self._maze(problem)
        n = maze.size
        cells: dict[tuple[int, int], tuple[Any, str, Any]] = {}
        if state is not None:
            at = maze.start
            for d in state[1]:
                at = maze.neighbour(at, d)
                cells[at] = (draw.LIGHT, "", draw.BLACK)
        cells[maze.start] = (None, "S", draw.GREEN)
        cells[maze.goal] = (cells.get(maze.goal, (None,))[0], "G", draw.RED)
        walls = [(0, c, "U") for c in range(n)] + [(r, 0, "L") for r in range(n)]
        walls += [(r, c, d) for r in range(n) for c in range(n) for d in "DR" if not maze.is_open((r, c), d)]
        return draw.grid_image(n, n, size, cells, walls=walls)


family = register(MazeFamily())
