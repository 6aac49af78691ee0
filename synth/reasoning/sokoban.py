"""The ``sokoban`` family (group games): push every box onto a goal in a small walled room.

Rooms are drawn by reverse play: the boxes start on their goals and a random walk of the
player pulls them away, so the forward puzzle (the pulls undone as pushes) is always solvable.
Any move string after which every box is on a goal passes the verifier; the gold answer is the
one with the fewest pushes, which IDA* over pushes finds.

==========  =====  =====  =====  =====  ==========  ======  ======================================
difficulty  room   walls  boxes  pulls  backtracks  pushes  typical expert steps (read..answer)
==========  =====  =====  =====  =====  ==========  ======  ======================================
1           7x7    3      1      16     0           ~4      ~9
2           7x7    3      2      20     0           ~6      ~11
3           8x8    6      2      30     0           ~7      ~12
4           9x9    10     3      50     1           ~13     ~22
5           10x10  14     3      80     2           ~17     ~28
==========  =====  =====  =====  =====  ==========  ======  ======================================

(room: rows x columns including the outer wall; walls: extra wall squares inside; pulls: the
most pulls of the reverse play; backtracks: the fewest the search must make, else the room is
drawn again; pushes: the mean of the gold answer.) The search is :func:`synth.reasoning.sliding.ida_star` over pushes (the
walking between pushes is free): a position is the boxes and the area the player can reach, h is
the fewest pushes over the ways to give each box a goal of its own, each box pushed as if alone
(a lower bound: other boxes and the player's reach only add pushes). A push onto a dead square (a corner
that is not a goal, or any square from which no push can bring a box to a goal), or after which
the boxes can no longer each reach a goal of their own, is rejected before it is searched, and
the trace says so; rounds that fail are summarised, and branches of the final round that fail
are applied and backtracked. The top levels keep only rooms whose search backtracks at least
once, so their traces show a real dead end.

Moves: ``move {"moves": "LLUR"}``, the player's steps in order (a push is a step into a box);
the expert makes one move per push, the walk to the box and the push. Squares are named
(row,col) from 0 at the top left. State: ``(player, boxes, history)``. Answer: the player's
steps as one string of U/D/L/R ("LLURRD"); the verifier also takes lower case, spaces or
commas between steps, and words (up, down, left, right).
"""

from __future__ import annotations

import random
from functools import lru_cache, partial
from itertools import permutations
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.reasoning.sliding import WORDS, IdaRecord, dead_end, ida_star, parse_moves, round_steps
from synth.registry import register

DIRS = "UDLR"
_MAX_NODES = 20_000
_BIG = 1 << 30

Boxes = frozenset[int]
History = tuple[Any, str] | None
State = tuple[int, Boxes, History]
Position = tuple[int, Boxes, dict[int, Any]]  # player, boxes, the player's reach (cell -> (previous cell, step))


class _Room:
    """A room, precomputed once per drawing: floor, goals, the start, each floor square's
    neighbours, the pushes a lone box needs from each square to each goal (``assignments``:
    those tables in every order, for h) and to its nearest goal (``dist``, missing for dead
    squares)."""

    def __init__(self, rows: tuple[str, ...]):
        self.height, self.width = len(rows), len(rows[0])
        w = self.width
        self.delta = {"U": -w, "D": w, "L": -1, "R": 1}
        cells = {r * w + c: ch for r, row in enumerate(rows) for c, ch in enumerate(row)}
        self.floor = frozenset(i for i, ch in cells.items() if ch != "#")
        self.goals = frozenset(i for i, ch in cells.items() if ch in ".*+")
        self.boxes = frozenset(i for i, ch in cells.items() if ch in "$*")
        self.player = next(i for i, ch in cells.items() if ch in "@+")
        self.adj = {i: tuple((d, i + self.delta[d]) for d in DIRS if i + self.delta[d] in self.floor) for i in self.floor}
        tables = [self._pushes_to(g) for g in sorted(self.goals)]
        self.dist = {i: min(t[i] for t in tables if i in t) for i in self.floor if any(i in t for t in tables)}
        self.assignments = list(permutations(tables))

    def _pushes_to(self, goal: int) -> dict[int, int]:
        """Pushes a lone box needs from each square to ``goal``: a box at x can be pushed to
        x+d when x-d (where the player stands) and x+d are floor, so walk that backwards."""
        dist = {goal: 0}
        frontier = [goal]
        for x in frontier:
            for step in self.delta.values():
                prev = x - step
                if prev not in dist and prev in self.floor and prev - step in self.floor:
                    dist[prev] = dist[x] + 1
                    frontier.append(prev)
        return dist

    def nearest(self, cell: int) -> int:
        """Manhattan distance from ``cell`` to the nearest goal (what 'toward a goal' looks like)."""
        return min(_distance(self, cell, g) for g in self.goals)

    def name(self, cell: int) -> str:
        return f"({cell // self.width},{cell % self.width})"

    def why_dead(self, cell: int) -> str:
        walls = [d for d in DIRS if cell + self.delta[d] not in self.floor]
        if ("U" in walls or "D" in walls) and ("L" in walls or "R" in walls):
            return f"{self.name(cell)} is a corner that is not a goal"
        return f"no push can bring a box from {self.name(cell)} to a goal"

    def step(self, player: int, boxes: Boxes, d: str) -> tuple[int, Boxes, str | None]:
        """One step of the player (a push when a box is in the way), or why it is illegal (the
        player then stays). Shared by the env and the verifier."""
        nxt = player + self.delta[d]
        if nxt not in self.floor:
            return player, boxes, f"the player at {self.name(player)} walks {WORDS[d]} into the wall at {self.name(nxt)}"
        if nxt in boxes:
            beyond = nxt + self.delta[d]
            if beyond not in self.floor:
                return player, boxes, f"the box at {self.name(nxt)} cannot be pushed {WORDS[d]} into the wall at {self.name(beyond)}"
            if beyond in boxes:
                return player, boxes, f"the box at {self.name(nxt)} cannot be pushed {WORDS[d]} into the box at {self.name(beyond)}"
            return nxt, (boxes - {nxt}) | {beyond}, None
        return nxt, boxes, None

    def reach(self, player: int, boxes: Boxes) -> dict[int, Any]:
        return _reach(self.adj, player, boxes)

    def h(self, boxes: Boxes) -> int:
        """The fewest pushes over all ways to give each box its own goal, every box pushed as
        if alone: a lower bound on the pushes left, >= _BIG when no such assignment exists."""
        best = _BIG
        for tables in self.assignments:
            total = 0
            for box, table in zip(boxes, tables, strict=True):
                total += table.get(box, _BIG)
            best = min(best, total)
        return best


@lru_cache(maxsize=64)
def _room(rows: tuple[str, ...]) -> _Room:
    return _Room(rows)


def _reach(adj: dict[int, tuple[tuple[str, int], ...]], player: int, boxes: Boxes | set[int]) -> dict[int, Any]:
    """The squares the player can walk to without pushing, each with the square and the step
    it was reached by (None for the player's own square)."""
    came: dict[int, Any] = {player: None}
    frontier = [player]
    for cell in frontier:
        for d, nxt in adj[cell]:
            if nxt not in came and nxt not in boxes:
                came[nxt] = (cell, d)
                frontier.append(nxt)
    return came


def _walk(came: dict[int, Any], cell: int) -> str:
    """The steps from the player to ``cell`` along the reach tree."""
    steps = []
    while came[cell] is not None:
        cell, d = came[cell]
        steps.append(d)
    return "".join(reversed(steps))


class Sokoban(ReasoningFamily):
    name = "sokoban"
    group = "games"
    action = "move"
    rules = "every step goes to a floor square; a step into a box pushes it onto a free floor square (no wall, no box)"
    levels = {
        1: {"height": 7, "width": 7, "walls": 3, "boxes": 1, "pulls": 16, "backtracks": 0},
        2: {"height": 7, "width": 7, "walls": 3, "boxes": 2, "pulls": 20, "backtracks": 0},
        3: {"height": 8, "width": 8, "walls": 6, "boxes": 2, "pulls": 30, "backtracks": 0},
        4: {"height": 9, "width": 9, "walls": 10, "boxes": 3, "pulls": 50, "backtracks": 1},
        5: {"height": 10, "width": 10, "walls": 14, "boxes": 3, "pulls": 80, "backtracks": 2},
    }

    # ------------------------------------------------------------------ problem

    def generate(
        self, rng: random.Random, height: int, width: int, walls: int, boxes: int, pulls: int, backtracks: int
    ) -> dict[str, Any]:
        """Reverse play in a seeded room: boxes on their goals, then up to ``pulls`` pulls, each
        of a box the player can walk up to, mostly one that takes it further from its nearest
        goal. The position with the largest h (the search's own) on the way is the puzzle,
        with the player on a random square it can reach there. Rooms whose floor is split, pulls
        that never leave the goals, puzzles IDA* cannot solve within its budget and, at the top
        levels, puzzles whose search never has to back track (``backtracks``) are drawn again."""
        inside = [r * width + c for r in range(1, height - 1) for c in range(1, width - 1)]
        while True:
            floor = set(inside) - set(rng.sample(inside, walls))
            goals = set(rng.sample(sorted(floor), boxes))
            player = rng.choice(sorted(floor - goals))
            room = _room(tuple(_drawing(height, width, floor, goals, goals, player)))
            if len(room.reach(player, frozenset())) != len(floor):
                continue
            placed, h = frozenset(goals), 0
            best = (0, placed, player)
            options = _pulls(room, placed, player)
            for _ in range(pulls):
                if not options:
                    break
                rng.shuffle(options)
                if rng.random() < 0.8:
                    options.sort(key=lambda o: not o[0])  # stable: pulls away from the goals first
                for option in options:
                    following = _pulls(room, option[1], option[2])
                    if following:  # the player is not shut in
                        break
                _, placed, player = option
                options = following
                h = room.h(placed)
                best = max(best, (h, placed, player), key=lambda x: x[0])
            h, placed, player = best
            if h == 0:
                continue
            player = rng.choice(sorted(room.reach(player, placed)))
            rows = _drawing(height, width, floor, goals, placed, player)
            record = _search(tuple(rows))
            if record is not None and sum(len(v.failed) for v in record.line) >= backtracks:
                return {"rows": rows}

    def describe(self, problem: dict[str, Any]) -> str:
        room = _room(tuple(problem["rows"]))
        return (
            f"A Sokoban room ({room.height} rows x {room.width} columns): '#' wall, '-' floor, '.' goal, "
            "'$' box, '*' box on a goal, '@' player, '+' player on a goal.\n\n"
            + "\n".join(problem["rows"])
            + "\n\nThe player steps up, down, left or right onto floor; stepping into a box pushes it one "
            "square further, which needs that square to be free floor (no wall, no other box). Boxes "
            "cannot be pulled. Get every box onto a goal.\n"
            "Answer with the player's steps as one string of U, D, L and R (up, down, left, right), "
            "for example: LLURRD"
        )

    def read(self, problem: dict[str, Any]) -> str:
        room = _room(tuple(problem["rows"]))
        off = sorted(room.boxes - room.goals)
        return (
            f"Player at {room.name(room.player)}; {len(room.boxes)} box(es) at "
            f"{', '.join(map(room.name, sorted(room.boxes)))}; goals at {', '.join(map(room.name, sorted(room.goals)))}. "
            f"{len(off)} box(es) are off the goals, needing at least {room.h(room.boxes)} push(es) in all. "
            "Boxes can only be pushed, so a box in a corner that is not a goal is lost."
        )

    def start(self, problem: dict[str, Any]) -> State:
        room = _room(tuple(problem["rows"]))
        return room.player, room.boxes, None

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        room = _room(tuple(problem["rows"]))
        record = _search(tuple(problem["rows"]))
        if record is None:
            raise ValueError(f"IDA* finds no solution for this room within {_MAX_NODES} positions")
        bound = record.bound
        steps = round_steps(record)
        for visit in record.line[:-1]:
            listed = []
            for hc, (box, d), why in visit.options:
                push = f"box {room.name(box)} {WORDS[d]}"
                if why:
                    listed.append(f"{push} is dead ({why})")
                elif (box, d) in visit.repeats:
                    listed.append(f"{push} repeats a position")
                else:
                    f = visit.g + 1 + hc
                    listed.append(f"{push} gives f = {visit.g + 1}+{hc} = {f}" + (f" > {bound}, pruned" if f > bound else ""))
            lead = f"{visit.g} push(es) so far, h = {visit.h}: {'; '.join(listed)}."
            for push, nodes, over in visit.failed:
                steps.append(TraceStep("apply", f"{lead} {_push_text(room, visit.position, push)}", {"moves": _push_moves(room, visit.position, push)}))
                steps.append(dead_end(record, nodes, over, f"the push of box {room.name(push[0])} {WORDS[push[1]]}", visit.g))
                lead = "Next option."
            push = visit.taken
            steps.append(TraceStep("apply", f"{lead} {_push_text(room, visit.position, push)}", {"moves": _push_moves(room, visit.position, push)}))
        answer = "".join(_push_moves(room, visit.position, visit.taken) for visit in record.line[:-1])
        plan = (
            "IDA* over pushes (walking is free): h = the fewest pushes over the ways to give each box a "
            "goal of its own, every box pushed as if alone, which never overestimates. List every push "
            "the player can reach, reject pushes onto dead squares (non-goal corners and squares from "
            "which no push reaches a goal) and pushes after which the boxes cannot all get a goal, "
            "search the cheapest first, prune those whose f = pushes so far + h passes the bound, and "
            "raise the bound to the smallest f beyond it when a round fails. Never search a position "
            "again that this round already reached in as few pushes."
        )
        stats = {
            "pushes": len(record.line) - 1,
            "moves": len(answer),
            "nodes": record.nodes,
            "rounds": len(record.rounds) + 1,
            "backtracks": sum(len(v.failed) for v in record.line),
        }
        return Search(plan, steps, answer, stats)

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"pushes": search.stats["pushes"]}

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: State, move: Any) -> tuple[State, str | None]:
        moves = move.get("moves") if isinstance(move, dict) else None
        if not isinstance(moves, str) or not moves or any(d not in DIRS for d in moves):
            return state, f"a move is a non-empty string of U, D, L and R steps, got {move!r}"
        room = _room(tuple(problem["rows"]))
        player, boxes, history = state
        for i, d in enumerate(moves):
            player, boxes, broken = room.step(player, boxes, d)
            if broken is not None:
                where = f"step {i + 1} of {moves} ({d}): " if len(moves) > 1 else ""
                return (player, boxes, (history, moves)), where + broken
        return (player, boxes, (history, moves)), None

    def observe(self, problem: dict[str, Any], state: State) -> str:
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        return f"Player at {room.name(player)}; {len(boxes & room.goals)} of {len(boxes)} box(es) on goals."

    def blunder(self, problem: dict[str, Any], state: State, rng: random.Random) -> tuple[Any, str] | None:
        """A push that looks like progress but runs the box into a wall or another box (walking
        there first), or a walk straight at a box's far side that goes through a wall or a box;
        failing both, a step into the nearest wall, toward a box or goal where one is."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        came = room.reach(player, boxes)
        tempting = []
        for box in sorted(boxes - room.goals):
            for d in DIRS:
                stand, beyond = box - room.delta[d], box + room.delta[d]
                if stand in came and (beyond not in room.floor or beyond in boxes):
                    walk = _walk(came, stand)
                    why = "toward a goal" if room.nearest(beyond) < room.nearest(box) else "to make room"
                    how = f"walk {walk}, then push {d}" if walk else f"push {d} from here"
                    tempting.append(({"moves": walk + d}, f"Push the box at {room.name(box)} {WORDS[d]}, {why}: {how}."))
                if stand in room.floor and stand != player:
                    straight = _straight(room, player, stand)
                    if _breaks(room, player, boxes, straight):
                        tempting.append((
                            {"moves": straight},
                            f"Walk straight to {room.name(stand)} to push the box at {room.name(box)} {WORDS[d]}: {straight}.",
                        ))
        if tempting:
            return rng.choice(tempting)
        targets = sorted((boxes - room.goals) | (room.goals - boxes)) or sorted(room.goals)
        walls = []  # breadth-first order: the nearest wall first
        for cell in came:
            target = min(targets, key=lambda t: _distance(room, cell, t))
            for d in DIRS:
                if cell + room.delta[d] not in room.floor:
                    toward = _distance(room, cell + room.delta[d], target) < _distance(room, cell, target)
                    walls.append((not toward, cell, d, target))
        if not walls:
            return None
        _, cell, d, target = min(walls, key=lambda w: w[0])  # the first one toward a target, if any
        moves = _walk(came, cell) + d
        return {"moves": moves}, f"Head {WORDS[d]} toward {room.name(target)}: {moves}."

    def continue_wrong(self, problem: dict[str, Any], state: State, rng: random.Random) -> list[TraceStep]:
        """The pushes a fresh search finds from where the player stands, as if the failed push
        had gone through (it changed nothing on the board)."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        record = _ida(room, player, boxes)
        if record is None:
            return []
        return [
            TraceStep("apply", _push_text(room, v.position, v.taken), {"moves": _push_moves(room, v.position, v.taken)})
            for v in record.line[:-1]
        ]

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        parts, history = [], state[2]
        while history is not None:
            history, moves = history
            parts.append(moves)
        return "".join(reversed(parts))

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        return {"moves": rng.choice(DIRS)}

    def random_budget(self, problem: dict[str, Any], search: Search) -> int:
        return max(4, len(search.answer))

    def move_text(self, move: Any) -> str:
        return move["moves"]

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        room = _room(tuple(problem["rows"]))
        moves = parse_moves(answer)
        if isinstance(moves, str):
            return False, moves
        if not moves:
            return False, "no moves given"
        player, boxes = room.player, room.boxes
        for i, d in enumerate(moves, 1):
            player, boxes, broken = room.step(player, boxes, d)
            if broken is not None:
                return False, f"move {i} ({d}): {broken}"
        off = sorted(boxes - room.goals)
        if off:
            return False, f"after {len(moves)} move(s) {len(off)} box(es) are off the goals, at {', '.join(map(room.name, off))}"
        return True, f"{len(moves)} legal move(s) leave every box on a goal"

    def render(self, problem: dict[str, Any], state: State | None, size: int) -> Any:
        room = _room(tuple(problem["rows"]))
        player, boxes = (room.player, room.boxes) if state is None else state[:2]
        cells = {}
        for r in range(room.height):
            for c in range(room.width):
                i = r * room.width + c
                fill = draw.DARK if i not in room.floor else draw.LIGHT if i in room.goals else None
                if i in boxes:
                    cells[(r, c)] = (fill, "$", draw.GREEN if i in room.goals else draw.BLUE)
                elif i == player:
                    cells[(r, c)] = (fill, "@", draw.RED)
                else:
                    cells[(r, c)] = (fill, "." if i in room.goals else "", draw.GREY)
        return draw.grid_image(room.height, room.width, size, cells)


# ---------------------------------------------------------------------------- search glue


@lru_cache(maxsize=64)
def _search(rows: tuple[str, ...]) -> IdaRecord | None:
    """IDA* from the drawing's start (cached: ``generate`` checks the budget, ``solve`` reuses it)."""
    room = _room(rows)
    return _ida(room, room.player, room.boxes)


def _ida(room: _Room, player: int, boxes: Boxes) -> IdaRecord | None:
    h0 = room.h(boxes)
    if h0 >= _BIG:
        return None
    return ida_star((player, boxes, room.reach(player, boxes)), _key, h0, partial(_options, room), partial(_follow, room), _MAX_NODES)


def _key(position: Position) -> tuple[int, Boxes]:
    """Positions are the same when the boxes are and the player can reach the same area."""
    return min(position[2]), position[1]


def _options(room: _Room, position: Position, h: int) -> list[tuple[int, tuple[int, str], str]]:
    """Every push the player can walk to: its h, or why it is rejected (a dead square, or no
    way left to give every box its own goal)."""
    _, boxes, came = position
    out = []
    for box in boxes:
        for d, step in room.delta.items():
            beyond = box + step
            if box - step not in came or beyond not in room.floor or beyond in boxes:
                continue
            if beyond not in room.dist:
                out.append((_BIG, (box, d), room.why_dead(beyond)))
                continue
            hc = room.h((boxes - {box}) | {beyond})
            out.append((hc, (box, d), "") if hc < _BIG else (_BIG, (box, d), "the boxes could no longer each reach a goal of their own"))
    return out


def _follow(room: _Room, position: Position, push: tuple[int, str]) -> Position:
    box, d = push
    boxes = (position[1] - {box}) | {box + room.delta[d]}
    return box, boxes, room.reach(box, boxes)


def _distance(room: _Room, a: int, b: int) -> int:
    """Manhattan distance between two squares."""
    return abs(a // room.width - b // room.width) + abs(a % room.width - b % room.width)


def _straight(room: _Room, start: int, end: int) -> str:
    """The steps from ``start`` to ``end`` as the crow flies: rows first, then columns."""
    (r0, c0), (r1, c1) = divmod(start, room.width), divmod(end, room.width)
    return ("D" * (r1 - r0) if r1 > r0 else "U" * (r0 - r1)) + ("R" * (c1 - c0) if c1 > c0 else "L" * (c0 - c1))


def _breaks(room: _Room, player: int, boxes: Boxes, moves: str) -> bool:
    for d in moves:
        player, boxes, broken = room.step(player, boxes, d)
        if broken is not None:
            return True
    return False


def _push_moves(room: _Room, position: Position, push: tuple[int, str]) -> str:
    box, d = push
    return _walk(position[2], box - room.delta[d]) + d


def _push_text(room: _Room, position: Position, push: tuple[int, str]) -> str:
    box, d = push
    stand = box - room.delta[d]
    walk = _walk(position[2], stand)
    how = f"walk {walk} to {room.name(stand)}" if walk else f"the player is already at {room.name(stand)}"
    return f"Push the box at {room.name(box)} {WORDS[d]} to {room.name(box + room.delta[d])}: {how}, then push {d}."


def _pulls(room: _Room, boxes: Boxes, player: int) -> list[tuple[bool, Boxes, int]]:
    """Every pull the player can walk up to: whether it takes the box further from its nearest
    goal, the boxes after it, and where the player ends."""
    came = room.reach(player, boxes)
    out = []
    for box in sorted(boxes):
        for step in room.delta.values():
            stand, to = box + step, box + 2 * step
            if stand in came and to in room.floor and to not in boxes:
                out.append((room.dist[stand] > room.dist[box], (boxes - {box}) | {stand}, to))
    return out


def _drawing(height: int, width: int, floor: set[int], goals: set[int], boxes: set[int], player: int) -> list[str]:
    """The room in the notation of the instruction (XSB, with '-' for floor)."""
    rows = []
    for r in range(height):
        row = []
        for i in range(r * width, (r + 1) * width):
            goal = i in goals
            if i not in floor:
                row.append("#")
            elif i in boxes:
                row.append("*" if goal else "$")
            elif i == player:
                row.append("+" if goal else "@")
            else:
                row.append("." if goal else "-")
        rows.append("".join(row))
    return rows


family = register(Sokoban())
