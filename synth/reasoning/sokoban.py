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
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, verify_holds, verify_intro
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
            if record is not None and record.line and sum(len(v.failed) for v in record.line) >= backtracks:
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        room = _room(tuple(problem["rows"]))
        off = sorted(room.boxes - room.goals)
        where = say(("Player at <p>; <k> box(es) at <b>; goals at <g>", "The player stands at <p>, boxes at <b>, goals at <g>",
                     "<k> box(es) (<b>), goals <g>, player <p>"), p=room.name(room.player), k=len(room.boxes),
                    b=say.listing(list(map(room.name, sorted(room.boxes)))), g=say.listing(list(map(room.name, sorted(room.goals)))))
        need = say(("<o> box(es) are off the goals, needing at least <h> push(es) in all", "<o> box(es) still to place, at least <h> push(es)",
                    "at least <h> push(es) are needed for the <o> box(es) off the goals"), o=len(off), h=room.h(room.boxes))
        dead = sorted(i for i in room.floor if i not in room.dist)
        warn = say(("Boxes can only be pushed, so a box in a corner that is not a goal is lost.", "A box pushed into a non-goal corner can never come out.",
                    "Pushes cannot be undone by pulling: corners that are not goals are traps."))
        traps = say((" Dead squares: <d>.", " Squares no box may enter: <d>.", ""), d=say.listing(list(map(room.name, dead[:6])))) if dead else ""
        return f"{where}. {cap(need)}. {warn}{traps}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        room = _room(tuple(problem["rows"]))
        h = say(("IDA* over pushes (walking is free): h = the fewest pushes over the ways to give each box a goal of its own, every box pushed "
                 "as if alone, which never overestimates.",
                 "Search pushes with IDA*; walking costs nothing. h matches boxes to goals at the fewest pushes, each box alone: a lower bound.",
                 "IDA* on pushes: h pairs every box with its own goal and counts pushes as if each box were alone (admissible)."))
        reject = say(("List every push the player can reach, reject pushes onto dead squares (non-goal corners and squares from which no push "
                      "reaches a goal) and pushes after which the boxes cannot all get a goal.",
                      "Only pushes the player can walk to count; a push onto a dead square, or one that leaves some box without a goal, is rejected.",
                      "Rule out pushes into dead squares and pushes that break the box-to-goal matching before searching them."))
        order = say(("Search the cheapest first, prune those whose f = pushes so far + h passes the bound, and raise the bound to the smallest "
                     "f beyond it when a round fails.",
                     "Cheapest first; f over the bound is cut; a failed round raises the bound to the smallest cut f.",
                     "Depth-first by f, cutting over the bound, raising it after each failed round."))
        start = say(("The first bound is <h>.", "h starts at <h>.", ""), h=room.h(room.boxes))
        return " ".join(x for x in [h, reject, order, start] if x)

    def start(self, problem: dict[str, Any]) -> State:
        room = _room(tuple(problem["rows"]))
        return room.player, room.boxes, None

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        room = _room(tuple(problem["rows"]))
        say = self.voice(problem)
        record = _search(tuple(problem["rows"]))
        if record is None or not record.line:
            raise ValueError(f"IDA* finds no solution for this room within {_MAX_NODES} positions")
        bound = record.bound
        steps = round_steps(record, say, lambda push: f"the push of box {room.name(push[0])} {WORDS[push[1]]}")
        for visit in record.line[:-1]:
            lead = _visit_text(room, visit.position, visit.g, visit.h, visit.options, visit.repeats, bound, say)
            for push, nodes, over in visit.failed:
                steps.append(TraceStep("apply", f"{lead} {_push_say(room, visit.position, push, say)}", {"moves": _push_moves(room, visit.position, push)}))
                steps.append(dead_end(record, nodes, over, f"the push of box {room.name(push[0])} {WORDS[push[1]]}", visit.g, say))
                lead = say(("Next option.", "Then the next push.", "On to the next candidate.", "Back here, the next push."))
            push = visit.taken
            steps.append(TraceStep("apply", f"{lead} {_push_say(room, visit.position, push, say)}", {"moves": _push_moves(room, visit.position, push)}))
        answer = "".join(_push_moves(room, visit.position, visit.taken) for visit in record.line[:-1])
        stats = {
            "pushes": len(record.line) - 1,
            "moves": len(answer),
            "nodes": record.nodes,
            "rounds": len(record.rounds) + 1,
            "backtracks": sum(len(v.failed) for v in record.line),
            "bound": bound,
        }
        return Search(steps, answer, stats)

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
        return f"Player at {room.name(player)}; boxes at {', '.join(map(room.name, sorted(boxes)))}."

    def keeps_solvable(self, problem: dict[str, Any], before: State, move: Any, after: State, search: Search) -> bool:
        """Solvable unless a box stands on a dead square or the boxes can no longer each get a
        goal of their own (the search's own rejection test). Deadlocks between boxes (two boxes
        frozen against a wall) are not detected here: such a push is judged legal and wrong
        only when the answer fails."""
        return _room(tuple(problem["rows"])).h(after[1]) < _BIG

    def branches(self, problem: dict[str, Any], state: State, move: Any) -> bool:
        """A push the search would consider here: the player walks to it without pushing, and
        it is not rejected up front (a dead square, a broken matching)."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        moves = move["moves"]
        came = room.reach(player, boxes)
        at = player
        for d in moves[:-1]:
            at += room.delta[d]
            if at not in came:
                return False
        box = at + room.delta[moves[-1]]
        position = (player, boxes, came)
        return any(opt == (box, moves[-1]) and not why for _, opt, why in _options(room, position, room.h(boxes)))

    def mistake(self, problem: dict[str, Any], state: State, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A push the search would reject, read as fine: onto a dead square or one that leaves
        the boxes without a goal each (a greedy push toward a goal, legal, and lost for good);
        or a push into a wall or a box (a misread of the room, which breaks a rule)."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        came = room.reach(player, boxes)
        position = (player, boxes, came)
        h = room.h(boxes)
        options = _options(room, position, h)
        dead = [(box, d, why) for _, (box, d), why in options if why]
        if dead and rng.random() < 0.7:
            box, d, why = rng.choice(dead)
            shown = [(hc if not w or (b, dd) != (box, d) else h - 1, (b, dd), "" if (b, dd) == (box, d) else w) for hc, (b, dd), w in options]
            lead = _visit_text(room, position, _pushes(room, state), h, sorted(shown), [], search.stats["bound"], say)
            text = f"{lead} {_push_say(room, position, (box, d), say)}"
            return Mistake({"moves": _push_moves(room, position, (box, d))}, text, "greedy",
                           say(("<w>: the box is stuck there for good", "that push was lost: <w>", "<w>, and a box cannot be pulled back"), w=why))
        blocked = []
        for box in sorted(boxes - room.goals):
            for d in DIRS:
                stand, beyond = box - room.delta[d], box + room.delta[d]
                if stand in came and (beyond not in room.floor or beyond in boxes):
                    blocked.append((box, d, beyond))
        if not blocked:
            return self._bad_walk(room, position, h, search, say, rng) or self._slip(room, state, position, h, search, say, rng)
        box, d, beyond = rng.choice(blocked)
        what = "a box" if beyond in boxes else "the wall"
        lead = _visit_text(room, position, _pushes(room, state), h, sorted(options), [], search.stats["bound"], say)
        text = f"{lead} {_push_say(room, position, (box, d), say)}"
        reveal = say(("<b> is <w>, so the box at <x> cannot move <d>", "the box at <x> would have to go into <w> at <b>",
                      "behind the box at <x> there is <w> (<b>): no push <d>"), b=room.name(beyond), w=what, x=room.name(box), d=WORDS[d])
        return Mistake({"moves": _walk(came, box - room.delta[d]) + d}, text, "misread", reveal)

    def _bad_walk(self, room: _Room, position: Position, h: int, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A walk straight at the square behind a box, through a wall or another box (the room
        misread): the push it was meant to reach, worded as usual."""
        player, boxes, came = position
        for box in sorted(boxes - room.goals):
            for d in DIRS:
                stand = box - room.delta[d]
                if stand in room.floor and stand != player:
                    straight = _straight(room, player, stand) + d
                    if _breaks(room, player, boxes, straight):
                        options = sorted(_options(room, position, h))
                        lead = _visit_text(room, position, 0, h, options, [], search.stats["bound"], say)
                        text = f"{lead} {_push_say(room, position, (box, d), say, walk=straight[:-1])}"
                        reveal = say(("the walk <w> runs into a wall or a box on the way", "<w> is not a clear path: something blocks it",
                                      "the straight walk <w> crosses a wall or a box"), w=straight[:-1])
                        return Mistake({"moves": straight}, text, "misread", reveal)
        return None

    def _slip(self, room: _Room, state: State, position: Position, h: int, search: Search, say: Voice,
              rng: random.Random) -> Mistake | None:
        """A push the search would make, written down with one letter wrong (a left for a
        right, an up for a down) where that runs the player into a wall or a box, or loses a
        box for good: the last resort in a room so small that nothing else tempts."""
        player, boxes, came = position
        options = _options(room, position, h)
        good = sorted((hc, push) for hc, push, why in options if not why)
        for _, push in good:
            moves = _push_moves(room, position, push)
            spots = list(range(len(moves)))
            rng.shuffle(spots)
            for i in spots:
                others = [x for x in DIRS if x != moves[i]]
                rng.shuffle(others)
                for x in others:
                    wrong = moves[:i] + x + moves[i + 1:]
                    at, bs, broken = player, boxes, None
                    for step in wrong:
                        at, bs, broken = room.step(at, bs, step)
                        if broken is not None:
                            break
                    if broken is None and room.h(bs) < _BIG:
                        continue
                    lead = _visit_text(room, position, _pushes(room, state), h, sorted(options), [], search.stats["bound"], say)
                    text = f"{lead} {_push_say(room, position, push, say)}"
                    reveal = say(("I wrote <x> where I meant <y>: <w> is not the move I worked out", "the move <w> has <x> in place of <y>",
                                  "a slip: <w> should read <m>, the <x> sends the player <d>"),
                                 x=x, y=moves[i], w=wrong, m=moves, d=WORDS[x])
                    return Mistake({"moves": wrong}, text, "slip", reveal)
        return None

    def continue_wrong(self, problem: dict[str, Any], state: State, say: Voice, rng: random.Random) -> list[TraceStep]:
        """The pushes a fresh search finds from where the player stands, as if the bad push
        had been fine; from a lost position, greedy pushes toward the goals, worded the same,
        until no box moves closer."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        record = _ida(room, player, boxes)
        bound = self._bound(problem)
        g = _pushes(room, state)
        if record is not None and record.line:
            steps = []
            for v in record.line[:-1]:
                lead = _visit_text(room, v.position, v.g + g, v.h, v.options, v.repeats, max(bound, v.g + g + v.h), say)
                steps.append(TraceStep("apply", f"{lead} {_push_say(room, v.position, v.taken, say)}", {"moves": _push_moves(room, v.position, v.taken)}))
            return steps
        steps = []
        for _ in range(2 * len(boxes)):
            position = (player, boxes, room.reach(player, boxes))
            moves = [(room.nearest(box + room.delta[d]) - room.nearest(box), box, d) for box in boxes - room.goals for d in DIRS
                     if box - room.delta[d] in position[2] and box + room.delta[d] in room.floor and box + room.delta[d] not in boxes]
            if not moves or min(moves)[0] >= 0:
                break
            _, box, d = min(moves)
            h = room.h(boxes)
            lead = _visit_text(room, position, g, h, sorted(_options(room, position, h)), [], max(bound, g + min(h, _BIG - 1)), say)
            steps.append(TraceStep("apply", f"{lead} {_push_say(room, position, (box, d), say)}", {"moves": _push_moves(room, position, (box, d))}))
            boxes, player, g = (boxes - {box}) | {box + room.delta[d]}, box, g + 1
        return steps

    def _bound(self, problem: dict[str, Any]) -> int:
        record = _search(tuple(problem["rows"]))
        return record.bound if record is not None and record.line else 0

    def confirm(self, problem: dict[str, Any], before: State, move: Any, say: Voice) -> str | None:
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = before
        moves = move["moves"]
        at = player
        for d in moves[:-1]:
            at += room.delta[d]
        box = at + room.delta[moves[-1]]
        to = box + room.delta[moves[-1]]
        if box not in boxes:
            return say(("the walk <m> stays on floor", "every step of <m> lands on floor"), m=moves)
        free = say(("<t> was free floor", "nothing stood on <t>", "<t> held no wall and no box"), t=room.name(to))
        live = say(("and a box can still reach a goal from there", "and <t> is not a dead square", "and from <t> a goal is <k> push(es) away"),
                   t=room.name(to), k=room.dist.get(to, "no"))
        return f"{say(('the walk <w> reaches <s> without pushing', 'the player got to <s> by <w>'), w=moves[:-1] or 'nothing', s=room.name(at))}; {free} {live}"

    def narrate(self, problem: dict[str, Any], state: State, move: Any, say: Voice) -> str:
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        position = (player, boxes, room.reach(player, boxes))
        h = room.h(boxes)
        g = _pushes(room, state)
        if g and say.chance(0.25):
            lead = say(("Next option.", "Then the next push.", "On to the next candidate.", "Back here, the next push."))
        else:
            lead = _visit_text(room, position, g, h, sorted(_options(room, position, h)), [], g + min(h, 99) + say.pick((0, 0, 1, 2)), say)
        moves = move["moves"]
        at = player
        for x in moves[:-1]:
            at += room.delta[x]
        return f"{lead} {_push_say(room, position, (at + room.delta[moves[-1]], moves[-1]), say, walk=moves[:-1])}"

    def muse(self, problem: dict[str, Any], state: State, say: Voice) -> str | None:
        record = _search(tuple(problem["rows"]))
        if record is None or not record.line:
            return None
        room = _room(tuple(problem["rows"]))
        return say.pick(round_steps(record, say, lambda push: f"the push of box {room.name(push[0])} {WORDS[push[1]]}")).text

    def stuck(self, problem: dict[str, Any], state: State, say: Voice) -> str | None:
        record = _search(tuple(problem["rows"]))
        if record is None or not record.line:
            return None
        room = _room(tuple(problem["rows"]))
        box = sorted(state[1])[0]
        nodes = 2 + int(say.rng.random() * 40)
        return dead_end(record, nodes, record.bound + 2, f"the push of box {room.name(box)} {WORDS[say.pick(DIRS)]}", 0, say).text

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        room = _room(tuple(problem["rows"]))
        player, boxes = room.player, room.boxes
        for d in answer:
            if d in DIRS:
                player, boxes, _ = room.step(player, boxes, d)
        where = say(("after the <k> steps the boxes stand at <b>", "replaying <k> steps leaves the boxes at <b>", "the boxes end at <b> after <k> steps"),
                    k=len(answer), b=say.listing(list(map(room.name, sorted(boxes)))))
        goals = say(("every one of them on a goal", "which are the goals", "all goals, one box each"))
        legal = say(("no step walks into a wall", "each push had free floor behind the box", "every step was onto floor"))
        return f"{verify_intro(say, answer)}: {where}, {goals}; {legal}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        parts, history = [], state[2]
        while history is not None:
            history, moves = history
            parts.append(moves)
        return "".join(reversed(parts))

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        """A push of a box drawn at random, in a direction drawn at random, after walking
        straight (rows first) to the square behind it, walls or not."""
        room = _room(tuple(problem["rows"]))
        player, boxes, _ = state
        box, d = rng.choice(sorted(boxes)), rng.choice(DIRS)
        return {"moves": _straight(room, player, box - room.delta[d]) + d}

    def random_budget(self, problem: dict[str, Any], search: Search) -> int:
        return max(4, search.stats["pushes"])

    def move_text(self, move: Any) -> str:
        return move["moves"]

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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


def _push_say(room: _Room, position: Position, push: tuple[int, str], say: Voice, walk: str | None = None) -> str:
    """A push with its derivation: the walk to the square behind the box (the squares it
    passes, sometimes), then the push, and what it does for the box's distance to a goal."""
    box, d = push
    stand = box - room.delta[d]
    came = position[2]
    if walk is None:
        walk = _walk(came, stand) if stand in came else ""
    if walk:
        how = say(("walk <w> to <s>", "the player walks <w> to <s>", "get behind it at <s> (<w>)"), w=walk, s=room.name(stand))
        if say.chance(0.35) and len(walk) > 1:
            cells, at = [], position[0]
            for x in walk:
                at += room.delta[x]
                cells.append(room.name(at))
            how += say((" via <c>", ", passing <c>"), c=" ".join(cells))
    else:
        how = say(("the player is already at <s>", "the player stands behind it at <s>", "no walk needed, the player is at <s>"), s=room.name(stand))
    to = box + room.delta[d]
    gain = ""
    if say.chance(0.4) and to in room.dist and box in room.dist:
        gain = say((" (goal distance <a> -> <b>)", ", <b> push(es) from a goal after it", ""), a=room.dist[box], b=room.dist[to])
    return say(("Push the box at <x> <d> to <t>: <h>, then push <D><g>.", "Box <x> goes <d> to <t>: <h>, then <D><g>.",
                "Move the box at <x> <d> (to <t>): <h>, and push <D><g>."), x=room.name(box), d=WORDS[d], t=room.name(to), h=how, D=d, g=gain)


def _visit_text(room: _Room, position: Position, g: int, h: int, options: list, repeats: list, bound: int, say: Voice) -> str:
    """A position of the search: pushes so far, h (with the boxes' goal distances, sometimes),
    and every push the player can reach: rejected up front and why, repeated, or its f."""
    listed = []
    for hc, (box, d), why in options:
        push = f"box {room.name(box)} {WORDS[d]}"
        if why:
            listed.append(say(("<p> is dead (<w>)", "<p> is out: <w>", "<p> is rejected, <w>"), p=push, w=why))
        elif (box, d) in repeats:
            listed.append(say(("<p> repeats a position", "<p> leads back to a position seen this round"), p=push))
        else:
            f = g + 1 + hc
            cut = say((" > <b>, pruned", ", over <b>: pruned", " > <b>, cut"), b=bound) if f > bound else ""
            listed.append(say(("<p> gives f = <g>+<h> = <f><c>", "<p>: f = <g>+<h> = <f><c>", "<p> gives <f> (<g>+<h>)<c>"), p=push, g=g + 1, h=hc, f=f, c=cut))
    hx = ""
    if say.chance(0.35):
        boxes = sorted(position[1])
        hx = say((" (<d>)", ", from <d>"), d=say.listing([f"{room.name(b)} {room.dist.get(b, 'no')} from a goal" for b in boxes]))
    if h >= _BIG:  # no goal for some box: what a solver who misses that would count, each box's distance or 9
        h = sum(room.dist.get(b, 9) for b in position[1])
    head = say(("<g> push(es) so far, h = <h><x>", "g = <g>, h = <h><x>", "After <g> push(es), h = <h><x>"), g=g, h=h, x=hx)
    return f"{head}: {'; '.join(listed) or say(('no push is reachable', 'no box can be pushed'))}."


def _pushes(room: _Room, state: State) -> int:
    """The pushes made so far in a state's history."""
    count, history, player, boxes = 0, state[2], room.player, room.boxes
    moves = []
    while history is not None:
        history, part = history
        moves.append(part)
    for part in reversed(moves):
        for d in part:
            before = boxes
            player, boxes, _ = room.step(player, boxes, d)
            count += boxes is not before
    return count


@lru_cache(maxsize=4096)
def _solvable(rows: tuple[str, ...], area: int, player: int, boxes: Boxes) -> bool:
    """Whether a position can still be solved (cached by the player's area and the boxes: the
    teacher and the env ask about the same positions)."""
    room = _room(rows)
    if room.h(boxes) >= _BIG:
        return False
    if (area, boxes) in _gold(rows):
        return True
    record = ida_star((player, boxes, room.reach(player, boxes)), _key, room.h(boxes), partial(_options, room), partial(_follow, room), 500)
    return record is None or bool(record.line)


@lru_cache(maxsize=64)
def _gold(rows: tuple[str, ...]) -> frozenset:
    """The positions (player area, boxes) along the gold line: solvable by construction."""
    record = _search(rows)
    return frozenset(_key(v.position) for v in record.line) if record is not None else frozenset()


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
