"""The ``maze`` family (kind ``reasoning``): find a path through a seeded perfect maze.

Why mazes: the answer is checkable exactly by replaying the moves, many different answers are
right (any walk from S to G, detours included), and a depth-first search gives a trace with
genuine dead ends and backtracking, so the reflective text records a real search rather than a
template filled in with the answer.

Difficulty sets the grid (cells; the ASCII drawing is ``2n+1`` characters square):

============  =======  ===========
difficulty    cells    drawing
============  =======  ===========
1             3 x 3    7 x 7
2             5 x 5    11 x 11
3             7 x 7    15 x 15
4             9 x 9    19 x 19
5             11 x 11  23 x 23
============  =======  ===========

S is the top-left cell (0,0) and G the bottom-right cell (n-1,n-1). Cells are named
``(row,col)`` from 0; cell (r,c) is the drawing's character at line 2r+1, column 2c+1, and
the character between two cells is '#' when a wall separates them.

``Task.env`` is ``{"rows": [...]}`` (the drawing, from which everything is rebuilt) and
``Task.reference`` holds the gold shortest path, the grid size, start and goal. The mazes are
perfect (a spanning tree of the grid, drawn uniformly by Wilson's algorithm), so the
gold path is the unique simple path and the environment's search stack is always the tree
path from S to the agent's cell.

Public entry points: :func:`verify_maze`, :func:`parse_moves`, :func:`generate_maze`,
:class:`Maze`, :class:`MazeEnv`, :func:`depth_first_search` and the registered
:data:`family` (name ``maze``).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from stores.schema import Action, Outcome, Policy, Step, Task, canonical_json
from synth.episode import StepResult
from synth.registry import register

FAMILY = "maze"
VERIFIER = "maze-replay"
SIZES = {1: 3, 2: 5, 3: 7, 4: 9, 5: 11}
MISTAKES = ("wall", "premature", "corrupt")
RANDOM_MOVES_PER_CELL = 2

Cell = tuple[int, int]
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
    # search and the env ask for open neighbours at every step
    links: tuple[tuple[tuple[str, Cell], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.size
        links = tuple(
            tuple((d, (i // n + DELTAS[d][0], i % n + DELTAS[d][1])) for d in dirs)
            for i, dirs in enumerate(self.openings)
        )
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
                    if (
                        0 <= r + dr < n
                        and 0 <= c + dc < n
                        and rows[2 * r + 1 + dr][2 * c + 1 + dc] != "#"
                    ):
                        opened += d
                openings.append(opened)
        if len(marks["S"]) != 1 or len(marks["G"]) != 1:
            raise ValueError("maze rows must mark exactly one 'S' and one 'G' cell")
        return cls(n, tuple(openings), marks["S"][0], marks["G"][0])


@lru_cache(maxsize=4096)
def _parse_rows(rows: tuple[str, ...]) -> Maze:
    return Maze.from_rows(list(rows))


def generate_maze(size: int, rng: random.Random) -> Maze:
    """A perfect maze drawn uniformly from all spanning trees of the grid (Wilson's algorithm).

    Perfect: every cell is reachable and exactly one simple path joins any two cells, which
    makes the gold path unique and 'any walk that ends at G' the complete set of right
    answers. Uniform rather than a recursive backtracker: the backtracker's long corridors
    give only 14 distinct 3x3 mazes in 1,000 seeds, where uniform sampling reaches all 192,
    and its many short dead ends give the search trace real backtracking.
    """
    if size < 2:
        raise ValueError(f"maze size must be at least 2 cells, got {size}")
    n_cells = size * size
    steps = [
        [
            (d, (r + DELTAS[d][0]) * size + c + DELTAS[d][1])
            for d in DIRS
            if 0 <= r + DELTAS[d][0] < size and 0 <= c + DELTAS[d][1] < size
        ]
        for r in range(size)
        for c in range(size)
    ]
    opened = [set() for _ in range(n_cells)]
    in_tree = [False] * n_cells
    in_tree[rng.randrange(n_cells)] = True
    exit_dir: dict[int, tuple[str, int]] = {}
    for first in range(n_cells):
        # loop-erased random walk until the tree: a later exit from a cell overwrites the
        # earlier one, which erases the loop
        cell = first
        while not in_tree[cell]:
            exit_dir[cell] = rng.choice(steps[cell])
            cell = exit_dir[cell][1]
        cell = first
        while not in_tree[cell]:
            d, nxt = exit_dir[cell]
            opened[cell].add(d)
            opened[nxt].add(OPPOSITE[d])
            in_tree[cell] = True
            cell = nxt
    openings = tuple("".join(d for d in DIRS if d in cell) for cell in opened)
    return Maze(size, openings, (0, 0), (size - 1, size - 1))


def shortest_path(maze: Maze) -> str:
    """Breadth-first search from S: the gold answer (the unique simple path in a perfect maze)."""
    parent: dict[Cell, tuple[Cell, str] | None] = {maze.start: None}
    queue = deque([maze.start])
    while queue:
        cell = queue.popleft()
        if cell == maze.goal:
            break
        for d, nb in maze.exits(cell):
            if nb not in parent:
                parent[nb] = (cell, d)
                queue.append(nb)
    if maze.goal not in parent:
        raise ValueError("maze has no path from S to G")
    moves = []
    link = parent[maze.goal]
    while link is not None:
        cell, d = link
        moves.append(d)
        link = parent[cell]
    return "".join(reversed(moves))


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
            raise ValueError(
                f"unknown token {token!r} (token {number}); use U/D/L/R or up/down/left/right"
            )
    return moves


def as_maze(task_env_or_grid: Any) -> Maze:
    """Accept a :class:`Maze`, a ``Task.env`` dict, a list of drawing rows or the drawing."""
    if isinstance(task_env_or_grid, Maze):
        return task_env_or_grid
    if isinstance(task_env_or_grid, dict):
        return _parse_rows(tuple(task_env_or_grid["rows"]))
    if isinstance(task_env_or_grid, str):
        return Maze.from_rows(task_env_or_grid.split())
    if isinstance(task_env_or_grid, (list, tuple)):
        return Maze.from_rows(list(task_env_or_grid))
    raise TypeError(f"cannot read a maze from {type(task_env_or_grid).__name__}")


def verify_maze(task_env_or_grid: Any, answer: str | None) -> tuple[bool, str]:
    """Replay ``answer`` from S: ok iff every move passes an opening and the walk ends at G.

    Any such walk passes, not only the gold path (revisiting cells is allowed). The reason
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
            return (
                False,
                f"move {i} of {len(moves)} ({d}) from {fmt(cell)} {maze.blocked_by(cell, d)}",
            )
        cell = maze.neighbour(cell, d)
    if cell != maze.goal:
        return False, f"the {len(moves)} move(s) end at {fmt(cell)}, not at G {fmt(maze.goal)}"
    return True, f"the {len(moves)} move(s) reach G {fmt(maze.goal)}"


# ---------------------------------------------------------------------------- the environment


def _cell_arg(value: Any) -> Cell | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(type(x) is int for x in value):
        return (value[0], value[1])
    return None


class MazeEnv:
    """The agent's position, the cells it has visited and its search stack.

    Physical moves through openings always happen (so a random walker really walks); what the
    env *accepts as progress* is stricter and is the depth-first discipline: step into an
    unvisited opening, or from a dead end backtrack to the deepest cell on the path that still
    has one. ``walk`` is the full sequence of single moves actually made, backtracks expanded.
    """

    def __init__(self, maze: Maze):
        self.maze = maze
        self.pos = maze.start
        self.visited = {maze.start}
        self.stack = [maze.start]
        self.stack_dirs: list[str] = []  # stack_dirs[i]: the move from stack[i] to stack[i+1]
        self.walk: list[str] = []

    # -- state queries
    def untried(self, cell: Cell) -> str:
        return "".join(d for d, nb in self.maze.exits(cell) if nb not in self.visited)

    def backtrack_target(self) -> Cell | None:
        """Where DFS goes from a dead end: the deepest earlier path cell with an untried opening."""
        if self.pos == self.maze.goal or self.untried(self.pos):
            return None
        for cell in reversed(self.stack[:-1]):
            if self.untried(cell):
                return cell
        return None

    def surroundings(self) -> str:
        m = self.maze
        opened = m.openings[self.pos[0] * m.size + self.pos[1]]
        new = self.untried(self.pos)
        return (
            f" Openings: {', '.join(WORDS[d] for d in opened) or 'none'};"
            f" unvisited: {', '.join(WORDS[d] for d in new) or 'none'}."
        )

    # -- Env protocol
    def accepted_actions(self) -> list[dict[str, Any]]:
        accepted: list[dict[str, Any]] = []
        if self.pos != self.maze.goal:
            new = [(d, to) for d, to in self.maze.exits(self.pos) if to not in self.visited]
            for d, to in new:
                accepted.append({"name": "move", "arguments": {"to": [to[0], to[1]], "dir": d}})
            target = None if new else self.backtrack_target()
            if target is not None:
                accepted.append({"name": "backtrack", "arguments": {"to": [target[0], target[1]]}})
        accepted.append({"name": "think", "valid_if": "any read, plan or verify step"})
        accepted.append({"name": "answer", "valid_if": "replay reaches G"})
        return accepted

    def accepts(self, action: Action) -> bool:
        args = action.arguments if isinstance(action.arguments, dict) else {}
        if action.name == "think":
            return True
        if action.name == "answer":
            return verify_maze(self.maze, str(args.get("answer", "")))[0]
        if action.name == "backtrack":
            target = self.backtrack_target()
            return target is not None and _cell_arg(args.get("to")) == target
        if action.name == "move":
            d = args.get("dir")
            if self.pos == self.maze.goal or d not in DELTAS or not self.maze.is_open(self.pos, d):
                return False
            to = self.maze.neighbour(self.pos, d)
            return _cell_arg(args.get("to")) == to and to not in self.visited
        return False

    def step(self, action: Action) -> StepResult:
        args = action.arguments if isinstance(action.arguments, dict) else {}
        if action.name == "move":
            return self._move(args)
        if action.name == "backtrack":
            return self._backtrack(args)
        if action.name == "think":
            return StepResult(f"At {fmt(self.pos)}." + self.surroundings())
        if action.name == "answer":
            ok, reason = verify_maze(self.maze, str(args.get("answer", "")))
            return StepResult(
                f"Answer checked by replay: {reason}.", reward=1.0 if ok else 0.0, done=True
            )
        return StepResult(f"Unknown action {action.name!r}; use move, backtrack, think or answer.")

    def outcome(self, final_answer: str | None) -> Outcome:
        ok, reason = verify_maze(self.maze, final_answer)
        return Outcome(ok, VERIFIER, reason)

    # -- moves
    def _move(self, args: dict[str, Any]) -> StepResult:
        d = args.get("dir")
        here = fmt(self.pos)
        if d not in DELTAS:
            return StepResult(f"Invalid move: 'dir' must be U, D, L or R; still at {here}.")
        to = self.maze.neighbour(self.pos, d)
        if "to" in args and _cell_arg(args["to"]) != to:
            return StepResult(
                f"Invalid move: 'to' is not one step {WORDS[d]} of {here}; still at {here}."
            )
        if not self.maze.is_open(self.pos, d):
            return StepResult(
                f"Blocked: moving {WORDS[d]} {self.maze.blocked_by(self.pos, d)}; still at {here}."
            )
        # in a tree, the path to a neighbour is the path minus its last cell (the parent) or
        # plus the neighbour
        if len(self.stack) > 1 and to == self.stack[-2]:
            self.stack.pop()
            self.stack_dirs.pop()
        else:
            self.stack.append(to)
            self.stack_dirs.append(d)
        self.visited.add(to)
        self.walk.append(d)
        self.pos = to
        arrived = ": reached G." if to == self.maze.goal else "."
        return StepResult(f"Moved {WORDS[d]} to {fmt(to)}{arrived}" + self.surroundings())

    def _backtrack(self, args: dict[str, Any]) -> StepResult:
        target = _cell_arg(args.get("to"))
        here = fmt(self.pos)
        if target is None or target not in self.stack[:-1]:
            return StepResult(
                f"Cannot backtrack there: not an earlier cell on the path from S; still at {here}."
            )
        j = self.stack.index(target)
        self.walk.extend(OPPOSITE[d] for d in reversed(self.stack_dirs[j:]))
        back = len(self.stack) - 1 - j
        del self.stack[j + 1 :]
        del self.stack_dirs[j:]
        self.pos = target
        return StepResult(f"Backtracked {back} cell(s) to {fmt(target)}." + self.surroundings())


# ---------------------------------------------------------------------------- the search trace


@dataclass(frozen=True, slots=True)
class SearchEvent:
    """One step of the expert's depth-first search, as it happened."""

    kind: str  # "move" | "backtrack"
    at: Cell  # the cell the search is in before this event
    to: Cell
    dir: str  # the move's direction ("" for a backtrack)
    untried: str  # unvisited openings at `at`, in the order the search tries them
    resumed: bool  # a move made right after a backtrack
    path: str  # moves from S to `at` along the search stack
    back: int = 0  # for a backtrack: how many cells it steps back along the path


def depth_first_search(maze: Maze, order: str) -> tuple[list[SearchEvent], str]:
    """Run DFS from S until it stands on G; return its events and the path found.

    Openings are tried nearest-to-G first (Manhattan distance of the neighbour), ties broken
    by ``order`` (a permutation of UDLR drawn per episode, so traces vary). The returned path
    is the search stack at G: the exploration with its dead ends removed.
    """
    rank = {d: i for i, d in enumerate(order)}
    visited = {maze.start}
    stack = [maze.start]
    dirs: list[str] = []
    events: list[SearchEvent] = []
    resumed = False

    def untried(cell: Cell) -> str:
        new = [(maze.to_goal(nb), rank[d], d) for d, nb in maze.exits(cell) if nb not in visited]
        return "".join(d for _, _, d in sorted(new))

    while stack[-1] != maze.goal:
        cell = stack[-1]
        options = untried(cell)
        if options:
            d = options[0]
            nb = maze.neighbour(cell, d)
            events.append(SearchEvent("move", cell, nb, d, options, resumed, "".join(dirs)))
            visited.add(nb)
            stack.append(nb)
            dirs.append(d)
            resumed = False
            continue
        j = len(stack) - 2
        while not untried(stack[j]):  # G is unvisited and reachable, so some path cell has one
            j -= 1
        back = len(stack) - 1 - j
        events.append(SearchEvent("backtrack", cell, stack[j], "", "", False, "".join(dirs), back))
        del stack[j + 1 :]
        del dirs[j:]
        resumed = True
    return events, "".join(dirs)


def _event_step(maze: Maze, e: SearchEvent) -> tuple[str, Action]:
    if e.kind == "backtrack":
        thought = (
            f"{fmt(e.at)} is a dead end; backtrack {e.back} cell(s) to {fmt(e.to)}, "
            "the last cell on my path with an untried branch."
        )
        return thought, Action("backtrack", {"to": [e.to[0], e.to[1]]})
    go = f"{WORDS[e.dir]} -> {fmt(e.to)}"
    if e.resumed:
        thought = f"Back at {fmt(e.at)}: still untried: {_phrase(e.untried)}; try {go}."
    elif len(e.untried) == 1:
        thought = f"At {fmt(e.at)}: the only unvisited opening is {_phrase(e.untried)}; go {go}."
    else:
        thought = (
            f"At {fmt(e.at)}: unvisited openings {_phrase(e.untried)}; try {go} first "
            f"(distance {maze.to_goal(e.to)} to G)."
        )
    return thought, Action("move", {"to": [e.to[0], e.to[1]], "dir": e.dir})


def _cells(maze: Maze, path: str) -> list[Cell]:
    cells = [maze.start]
    for d in path:
        cells.append(maze.neighbour(cells[-1], d))
    return cells


def _read_step(maze: Maze) -> tuple[str, Action]:
    n, side = maze.size, 2 * maze.size + 1
    thought = (
        f"The maze is {n}x{n} cells ({side}x{side} characters). S is cell {fmt(maze.start)}, "
        f"G is cell {fmt(maze.goal)}, {maze.to_goal(maze.start)} steps apart without walls. "
        f"From S the openings are: {_phrase(''.join(d for d, _ in maze.exits(maze.start)))}. "
        "I need U/D/L/R moves from S to G that never cross a '#'."
    )
    return thought, Action("think", {"stage": "read"})


def _plan_step(order: str) -> tuple[str, Action]:
    thought = (
        "Plan: depth-first search from S. At each cell try the unvisited openings, nearest to G "
        f"first (ties in the order {order}); at a dead end backtrack to the last cell on my path "
        "that still has an untried opening; stop at G and read the answer off the path, with the "
        "dead ends removed."
    )
    return thought, Action("think", {"stage": "plan", "order": order})


def _found_summary(maze: Maze, events: list[SearchEvent]) -> str:
    moves = sum(e.kind == "move" for e in events)
    backs = len(events) - moves
    return (
        f"Reached G {fmt(maze.goal)} after visiting {moves + 1} of {maze.size**2} cells, "
        f"with {backs} backtrack(s)."
    )


def expert_script(maze: Maze, order: str) -> list[tuple[str, Action]]:
    """Read, plan, the DFS exploration step by step, a replay check of the path, the answer."""
    events, path = depth_first_search(maze, order)
    ok, reason = verify_maze(maze, path)
    route = " -> ".join(fmt(c) for c in _cells(maze, path))
    verify = (
        f"{_found_summary(maze, events)} Without the dead ends the path is {route}: "
        f"{path} ({len(path)} moves). Replaying it from S: {reason}, so it is "
        + ("valid." if ok else "NOT valid.")
    )
    return [
        _read_step(maze),
        _plan_step(order),
        *(_event_step(maze, e) for e in events),
        (verify, Action("think", {"stage": "verify", "path": path})),
        (f"Answer: {path}", Action("answer", {"answer": path})),
    ]


def corrupt_path(path: str, rng: random.Random) -> str:
    """A transcription slip: drop one move, flip one, or swap two adjacent different moves.

    In a perfect maze every walk from S to G has the length of the unique simple path plus
    an even number of back-and-forth steps; a dropped move makes it too short, and a flip or
    a swap keeps the length but changes the moves, so the result can never reach G.
    """
    op = rng.choice(("drop", "flip", "swap"))
    i = rng.randrange(len(path))
    if op == "drop":
        return path[:i] + path[i + 1 :]
    if op == "flip":
        return path[:i] + rng.choice([d for d in DIRS if d != path[i]]) + path[i + 1 :]
    j = rng.choice([k for k in range(len(path) - 1) if path[k] != path[k + 1]])
    return path[:j] + path[j + 1] + path[j] + path[j + 2 :]


def noisy_script(
    maze: Maze, order: str, mistake: str, rng: random.Random
) -> list[tuple[str, Action]]:
    """The expert's search up to a seeded step, then one real mistake it never recovers from.

    ``wall``: misreads a wall as an opening and walks into it, then answers as if it had
    passed; ``premature``: answers mid-search with the path so far; ``corrupt``: finishes
    the search but miscopies the path. Each final answer fails the replay.
    """
    events, path = depth_first_search(maze, order)
    head = [_read_step(maze), _plan_step(order)]
    if mistake == "corrupt":
        bad = corrupt_path(path, rng)
        copy = (
            f"{_found_summary(maze, events)} "
            f"Reading the path off the search: {bad} ({len(bad)} moves)."
        )
        return [
            *head,
            *(_event_step(maze, e) for e in events),
            (copy, Action("think", {"stage": "verify", "path": bad})),
            (f"Answer: {bad}", Action("answer", {"answer": bad})),
        ]
    if mistake == "premature":
        k = rng.randrange(len(events))
        at, so_far = events[k].at, events[k].path
        thought = (
            f"At {fmt(at)}: the moves so far ({so_far or 'none'}) head toward G; "
            f"that should be enough. Answer: {so_far}"
        )
        return [
            *head,
            *(_event_step(maze, e) for e in events[:k]),
            (thought, Action("answer", {"answer": so_far})),
        ]
    # "wall": S is a corner, so at least the first event stands next to a wall or the boundary
    k = rng.choice(
        [i for i, e in enumerate(events) if len(maze.openings[e.at[0] * maze.size + e.at[1]]) < 4]
    )
    at, so_far = events[k].at, events[k].path
    walls = [d for d in DIRS if not maze.is_open(at, d)]
    d = rng.choice([w for w in walls if maze.inside(maze.neighbour(at, w))] or walls)
    to = maze.neighbour(at, d)
    dr, dc = maze.goal[0] - to[0], maze.goal[1] - to[1]
    rest = ("D" * dr if dr > 0 else "U" * -dr) + ("R" * dc if dc > 0 else "L" * -dc)
    guess = so_far + d + rest
    misread = f"At {fmt(at)}: {WORDS[d]} looks open; try {WORDS[d]} -> {fmt(to)}."
    onward = f"From {fmt(to)} G is {len(rest)} steps away; heading straight there. Answer: {guess}"
    return [
        *head,
        *(_event_step(maze, e) for e in events[:k]),
        (misread, Action("move", {"to": [to[0], to[1]], "dir": d})),
        (onward, Action("answer", {"answer": guess})),
    ]


# ---------------------------------------------------------------------------- teachers


class ScriptedTeacher:
    """Plays a precomputed script; the script itself comes from a real search of the maze."""

    def __init__(self, policy: Policy, script: list[tuple[str, Action]]):
        self.policy = policy
        self.script = script

    def act(self, env: MazeEnv, history: list[Step]) -> tuple[str, Action]:
        return self.script[len(history)]


class RandomTeacher:
    """Uninformed but well-formed: random directions for a bounded number of tries, then
    answers with the moves that actually went through (success only if it stumbled onto G)."""

    def __init__(self, policy: Policy, rng: random.Random, max_moves: int):
        self.policy = policy
        self.rng = rng
        self.max_moves = max_moves

    def act(self, env: MazeEnv, history: list[Step]) -> tuple[str, Action]:
        if env.pos == env.maze.goal or len(history) >= self.max_moves:
            walked = "".join(env.walk)
            thought = (
                f"Stop at {fmt(env.pos)} after {len(history)} tries; "
                "answer with the moves that went through."
            )
            return thought, Action("answer", {"answer": walked})
        d = self.rng.choice(DIRS)
        to = env.maze.neighbour(env.pos, d)
        return f"At {fmt(env.pos)}; try {WORDS[d]} -> {fmt(to)}.", Action(
            "move", {"to": [to[0], to[1]], "dir": d}
        )


# ---------------------------------------------------------------------------- the family


def _instruction(maze: Maze, rows: list[str]) -> str:
    n = maze.size
    drawing = "\n".join(rows)
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


class MazeFamily:
    """The registered family: three factories the generic shard generator drives. The task
    carries only the drawing, so env and teachers are rebuilt from it in any process."""

    kind = "reasoning"
    name = FAMILY
    version = "1"
    tiers = ("expert", "noisy", "random")

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        if difficulty not in SIZES:
            raise ValueError(f"maze difficulty must be one of {sorted(SIZES)}, got {difficulty!r}")
        maze = generate_maze(SIZES[difficulty], random.Random(seed))
        rows = maze.rows()
        env = {"rows": rows}
        n = maze.size
        reference = {
            "path": shortest_path(maze),
            "size": [n, n],
            "start": list(maze.start),
            "goal": list(maze.goal),
        }
        digest = hashlib.sha256(canonical_json({"family": FAMILY, "env": env}).encode()).hexdigest()
        return Task(
            f"{FAMILY}-{digest[:16]}",
            FAMILY,
            _instruction(maze, rows),
            difficulty,
            reference,
            env,
            seed,
        )

    def make_env(self, task: Task, params: dict[str, Any]) -> MazeEnv:
        return MazeEnv(as_maze(task.env))

    def make_teacher(
        self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]
    ) -> ScriptedTeacher | RandomTeacher:
        maze = as_maze(task.env)
        if tier == "random":
            policy = Policy(
                f"{FAMILY}-random", "random", None, {"moves_per_cell": RANDOM_MOVES_PER_CELL}
            )
            return RandomTeacher(policy, rng, RANDOM_MOVES_PER_CELL * maze.size**2)
        order = "".join(rng.sample(DIRS, len(DIRS)))
        if tier == "expert":
            policy = Policy(
                f"{FAMILY}-expert", "expert", None, {"search": "dfs", "prefer": "nearest-to-goal"}
            )
            return ScriptedTeacher(policy, expert_script(maze, order))
        if tier == "noisy":
            mistake = rng.choice(MISTAKES)
            policy = Policy(f"{FAMILY}-noisy", "noisy", None, {"search": "dfs", "mistake": mistake})
            return ScriptedTeacher(policy, noisy_script(maze, order, mistake, rng))
        raise ValueError(f"maze has no {tier!r} teacher; tiers: {list(self.tiers)}")


family = register(MazeFamily())
