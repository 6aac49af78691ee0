"""The ``sliding`` family (group games): the sliding tile puzzle, solved by IDA*.

Boards are scrambled by random legal blank moves from the goal (tiles in order, blank last),
so every board is solvable; the scramble length and the board size set the difficulty. Any
sequence of legal slides that reaches the goal passes the verifier; the gold answer is the
shortest one, which IDA* with the Manhattan distance finds.

==========  =====  ========  ==================  ======================================
difficulty  board  scramble  mean optimal moves  typical expert steps (read..answer)
==========  =====  ========  ==================  ======================================
1           3x3    18        ~16                 ~29
2           3x4    20        ~18                 ~30
3           4x4    24        ~21                 ~35
4           4x4    30        ~26                 ~43
5           4x5    34        ~29                 ~48
==========  =====  ========  ==================  ======================================

Short scrambles of the 3x3 board repeat (few boards lie within ten moves of the goal), so
level 1 scrambles 18 moves to keep 300 seeds nearly all distinct. Boards IDA* cannot solve
within 60,000 positions are drawn again (rare below level 4; it trims the hardest boards).

The trace is the search itself: every round of IDA* whose bound fails is summarised (how many
positions it searched, the smallest f beyond the bound, which becomes the next bound); the
final round is recorded move by move, each step stating f = g + h of the options at that
position and which are pruned by the bound, and a branch that was searched and failed is
applied and then backtracked with the size of the subtree it cost. A shared :func:`ida_star`
(with a per-round transposition table) does the search and keeps this record; ``sokoban``
uses it too, with :func:`round_steps`, :func:`dead_end` and :func:`parse_moves`.

Moves: ``slide {"tile": t}`` (the tile moves into the blank; legal iff it is next to it).
State: ``(board, history)``, the board row by row (0 the blank) and the tiles slid so far (a
linked list, newest first). Answer: the tiles to slide, in order ("6 3 2 5"); the verifier also
takes the blank's moves as letters or words (``U``/``up``: the blank moves up, so the tile
above it slides down; "ULDR", "u, l, d, r"), mixed with tile numbers, separated by spaces,
commas or semicolons.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, opened, verify_holds, verify_intro
from synth.registry import register

_SEPARATORS = re.compile(r"[\s,;]+")
_DELTAS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
WORDS = {"U": "up", "D": "down", "L": "left", "R": "right"}
_LETTERS = {word: letter for letter, word in WORDS.items()}
_FOUND = -1

Board = tuple[int, ...]
History = tuple[Any, str] | None
Position = tuple[Board, int, int]  # the board, the blank's cell, the tile slid last (0: none)


# ---------------------------------------------------------------------------- IDA*, shared

Option = tuple[int, Any, str]  # (h after the move, move, why it is rejected up front or "")


@dataclass(slots=True)
class Visit:
    """A position on the solution line of the final round: its cost so far and heuristic, its
    options in the order searched, the ones searched and failed before ``taken`` (each with the
    positions it cost and the smallest f beyond the bound met below it), the ones skipped as
    repeats, and the move taken (None at the goal)."""

    position: Any
    g: int
    h: int
    options: list[Option]
    failed: list[tuple[Any, int, int]] = field(default_factory=list)
    repeats: list[Any] = field(default_factory=list)
    taken: Any = None


@dataclass(slots=True)
class Round:
    """A failed round of IDA*: its bound, the positions it searched, the next bound, and what
    happened at the start: each move searched (the positions below it and the smallest f
    beyond the bound met there) and each move cut at once (its f)."""

    bound: int
    nodes: int
    next: int
    tried: list[tuple[Any, int, int]]
    cut: list[tuple[Any, int]]


@dataclass(slots=True)
class IdaRecord:
    rounds: list[Round]  # the failed rounds
    bound: int  # the bound of the round that found the goal
    line: list[Visit]  # that round's solution line, start to goal; empty when no goal can be reached
    nodes: int  # positions searched in all rounds


def ida_star(
    start: Any,
    key: Callable[[Any], Any],
    h0: int,
    options: Callable[[Any, int], list[Option]],
    follow: Callable[[Any, Any], Any],
    max_nodes: int,
) -> IdaRecord | None:
    """Iterative-deepening A* with unit move costs and an admissible h that is 0 exactly at a
    goal; None when it searches more than ``max_nodes`` positions, a record with an empty
    ``line`` when it proves the goal out of reach.

    ``options(position, h)`` gives each move's h cheaply (the position it leads to is built by
    ``follow`` only when the move is searched); moves are searched by increasing h, ties by
    move. A position (by ``key``) that this round already reached in as few moves is not
    searched again: whatever it leads to was or is being searched with at least this budget
    (this also stops cycles). Only the final round's line is kept, with what was tried on the
    way: all a trace can show without replaying thousands of positions.
    """
    count = 0
    reached: dict[Any, int] = {}
    root: tuple[list, list] = ([], [])

    def dfs(position: Any, g: int, h: int, bound: int, line: list[Visit]) -> int:
        nonlocal count, root
        count += 1
        if count > max_nodes:
            raise _GaveUp
        if h == 0:
            line.append(Visit(position, g, 0, []))
            return _FOUND
        opts = sorted(options(position, h))
        failed, repeats, over, cut = [], [], 1 << 30, []
        if g == 0:
            root = (failed, cut)
        for hc, move, why in opts:
            if why:
                continue
            if g + 1 + hc > bound:
                over = min(over, g + 1 + hc)
                cut.append((move, g + 1 + hc))
                continue
            child = follow(position, move)
            k = key(child)
            if reached.get(k, 1 << 30) <= g + 1:
                repeats.append(move)
                continue
            reached[k] = g + 1
            before = count
            found = dfs(child, g + 1, hc, bound, line)
            if found == _FOUND:
                line.append(Visit(position, g, h, opts, failed, repeats, move))
                return _FOUND
            failed.append((move, count - before, found))
            over = min(over, found)
        return over

    rounds = []
    bound = h0
    try:
        while True:
            before = count
            line: list[Visit] = []
            reached.clear()
            reached[key(start)] = 0
            found = dfs(start, 0, h0, bound, line)
            if found == _FOUND:
                line.reverse()
                return IdaRecord(rounds, bound, line, count)
            if found >= 1 << 30:
                return IdaRecord(rounds, bound, [], count)  # nothing passed the bound: every line is dead
            rounds.append(Round(bound, count - before, found, *root))
            bound = found
    except _GaveUp:
        return None


class _GaveUp(Exception):
    """Raised inside the search to unwind it at once when the node budget is spent."""


def round_steps(record: IdaRecord, say: Voice, name: Callable[[Any], str]) -> list[TraceStep]:
    """One think per failed round with its evidence: what each first move met (the positions
    below it and the cheapest line cut by the bound there), the first moves cut at once, and
    why the bound is raised to what it is; then the final round's start. ``name`` words a move
    ("sliding 4", "the push of box (2,3) up")."""
    steps = []
    for rnd in record.rounds:
        parts = []
        for move, nodes, over in rnd.tried[:4]:
            beyond = say(("cheapest cut line f = <f>", "best f beyond the bound <f>", "nothing under <f>"), f=over) if over < 1 << 30 \
                else say(("every line below it dead", "only dead ends below"))
            parts.append(say(("<m> (<n> positions, <b>)", "<m>: <n> positions, <b>", "<m> led to <n> positions, <b>"), m=name(move), n=nodes, b=beyond))
        for move, f in rnd.cut[:3]:
            parts.append(say(("<m> is cut at once (f = <f>)", "<m> has f = <f> from the start, over the bound", "<m> starts at f = <f>, too high"),
                             m=name(move), f=f))
        evidence = say.listing(parts) if parts else say(("every first move overshoots", "no first move stays within it"))
        steps.append(TraceStep("think", say(
            ("Bound <b>: <e>. <N> positions in all, none reaching the goal; the smallest f beyond the bound is <x>, so raise it to <x>.",
             "Round with bound <b>: <e>. That is <N> positions without the goal. The cheapest line that was cut had f = <x>: the next bound is <x>.",
             "With bound <b>: <e>; <N> positions searched, no goal. Every line overshoots, the least by reaching f = <x>, which becomes the bound.",
             "Try bound <b>. <E>. <N> positions, no solution; raise the bound to <x>, the smallest f that passed it."),
            b=rnd.bound, e=evidence, E=cap(evidence), N=rnd.nodes, x=rnd.next)))
    steps.append(TraceStep("think", say(("Bound <b>: search again, cheapest option first.", "Now bound <b>; again cheapest first.",
                                         "Next round, bound <b>, options in order of f.",
                                         "{Search again|Restart from the start} with {bound|the bound at} <b>{, cheapest first|, lowest f first|}.",
                                         "{Round <r>|New round (<r>)}: bound <b>{; options by f|, cheapest options first|}.",
                                         "{With|Under} bound <b>{, after <k> failed round(s)|}, {go|search} depth-first again{ from the start|}."),
                                        b=record.bound, r=len(record.rounds) + 1, k=len(record.rounds))))
    return steps


def dead_end(record: IdaRecord, nodes: int, over: int, undo: str, depth: int, say: Voice) -> TraceStep:
    """The backtrack after a branch of the final round that was searched and failed."""
    beyond = say(("the smallest f beyond it <f>", "the cheapest cut line at f = <f>"), f=over) if over < 1 << 30 else \
        say(("every line ends in a dead position", "only dead positions below"))
    return TraceStep("backtrack", say(
        ("Every line below it fails within the bound <b> (<n> positions searched, <x>): dead end, undo <u>.",
         "Below it, <n> positions and no goal within bound <b> (<x>). Undo <u>.",
         "<U> goes nowhere within <b>: <n> positions, <x>. Take it back.",
         "{No goal|Nothing} under <u> within bound <b>{:|;} <n> positions{ searched|}, <x>. {Undo it|Take <u> back|Back out}.",
         "<U>{: dead end| fails} within <b> ({<n> positions|searched <n> positions}; <x>); {undo it|back up}.",
         "{The subtree|Everything} below <u> {is exhausted|fails}: <n> positions, <x>, {all over|beyond} <b>. {Undo|Retract} <u>."),
        b=record.bound, n=nodes, x=beyond, u=undo, U=cap(undo)), depth=depth)


def parse_moves(answer: str, numbers: bool = False) -> list[str | int] | str:
    """The moves of an answer: U/D/L/R letters (words, any case, runs like "ULDR" too) and,
    with ``numbers``, tile numbers as ints; or a reason naming the first token that is neither."""
    moves: list[str | int] = []
    for token in _SEPARATORS.split(answer.strip().lower()):
        if not token:
            continue
        if token in _LETTERS:
            moves.append(_LETTERS[token])
        elif numbers and token.isdigit():
            moves.append(int(token))
        elif set(token) <= set("udlr"):
            moves.extend(token.upper())
        else:
            kind = "a tile number or a blank move (U, D, L, R)" if numbers else "a move (U, D, L, R)"
            return f"{token!r} is not {kind}"
    return moves


# ---------------------------------------------------------------------------- the board


@dataclass(frozen=True, slots=True)
class _Geometry:
    """Precomputed per board shape: neighbours of each cell (with the blank's direction when
    it moves there) and the Manhattan distance of each tile from each cell."""

    rows: int
    cols: int
    moves: tuple[tuple[tuple[str, int], ...], ...]
    distance: tuple[tuple[int, ...], ...]  # distance[tile][cell]
    goal: Board


@lru_cache(maxsize=8)
def _geometry(rows: int, cols: int) -> _Geometry:
    n = rows * cols
    moves = []
    for cell in range(n):
        r, c = divmod(cell, cols)
        moves.append(tuple(
            (d, (r + dr) * cols + c + dc) for d, (dr, dc) in _DELTAS.items() if 0 <= r + dr < rows and 0 <= c + dc < cols
        ))
    distance = [[0] * n]
    for tile in range(1, n):
        home_r, home_c = divmod(tile - 1, cols)
        distance.append([abs(home_r - cell // cols) + abs(home_c - cell % cols) for cell in range(n)])
    goal = (*range(1, n), 0)
    return _Geometry(rows, cols, tuple(moves), tuple(map(tuple, distance)), goal)


def _manhattan(geo: _Geometry, board: Board) -> int:
    return sum(geo.distance[t][cell] for cell, t in enumerate(board))


def _cell(geo: _Geometry, index: int) -> str:
    return f"({index // geo.cols},{index % geo.cols})"


def _illegal(geo: _Geometry, board: Board, tile: int) -> str | None:
    """Why sliding ``tile`` breaks the rules, or None; shared by the env and the verifier."""
    at, blank = board.index(tile), board.index(0)
    if all(cell != at for _, cell in geo.moves[blank]):
        return f"tile {tile} at {_cell(geo, at)} is not next to the blank at {_cell(geo, blank)}"
    return None


def _slide(board: Board, at: int, blank: int) -> Board:
    """The board with the tile at ``at`` and the blank at ``blank`` swapped (an illegal slide
    teleports the tile)."""
    cells = list(board)
    cells[at], cells[blank] = 0, board[at]
    return tuple(cells)


def _rows_text(geo: _Geometry, board: Board) -> str:
    width = len(str(len(board) - 1))
    return "\n".join(
        " ".join(str(t).rjust(width) if t else "_".rjust(width) for t in board[r * geo.cols : (r + 1) * geo.cols])
        for r in range(geo.rows)
    )


class Sliding(ReasoningFamily):
    name = "sliding"
    group = "games"
    action = "slide"
    rules = "the tile is next to the blank (above, below, left or right of it)"
    levels = {
        1: {"rows": 3, "cols": 3, "scramble": 18},
        2: {"rows": 3, "cols": 4, "scramble": 20},
        3: {"rows": 4, "cols": 4, "scramble": 24},
        4: {"rows": 4, "cols": 4, "scramble": 30},
        5: {"rows": 4, "cols": 5, "scramble": 34},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, rows: int, cols: int, scramble: int) -> dict[str, Any]:
        """Random blank moves from the goal, never straight back; boards that are the goal, or
        that IDA* cannot solve within its budget, are drawn again."""
        geo = _geometry(rows, cols)
        while True:
            cells, blank, back = list(geo.goal), len(geo.goal) - 1, -1
            for _ in range(scramble):
                nxt = rng.choice([cell for _, cell in geo.moves[blank] if cell != back])
                cells[blank], cells[nxt], back, blank = cells[nxt], 0, blank, nxt
            board = tuple(cells)
            record = _search(rows, cols, board)
            if board != geo.goal and record is not None and record.line:
                return {"rows": rows, "cols": cols, "board": list(board)}

    def describe(self, problem: dict[str, Any]) -> str:
        geo = _geometry(problem["rows"], problem["cols"])
        n = len(geo.goal) - 1
        return (
            f"A {geo.rows}x{geo.cols} sliding puzzle with tiles 1 to {n} and one blank (_). A tile "
            "next to the blank (above, below, left or right) can slide into it.\n\n"
            f"{_rows_text(geo, tuple(problem['board']))}\n\n"
            f"Reach the goal, tiles in order row by row with the blank last:\n\n{_rows_text(geo, geo.goal)}\n\n"
            "Answer with the tiles to slide, in order, separated by spaces, for example: 6 3 2 5"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        geo = _geometry(problem["rows"], problem["cols"])
        board = tuple(problem["board"])
        misplaced = [t for cell, t in enumerate(board) if t and t != geo.goal[cell]]
        far = max(misplaced, key=lambda t: (geo.distance[t][board.index(t)], -t))
        head = say(("A <r>x<c> board, blank at <b>", "The board is <r>x<c> with the blank at <b>", "<r> rows by <c> columns; the blank sits at <b>",
                    "{I have|Here is} a <r>x<c> {puzzle|board}{ with| and} the blank {at|in cell} <b>", "<r>x<c>{, blank| tiles, the blank} {at|in} <b>"),
                    r=geo.rows, c=geo.cols, b=_cell(geo, board.index(0)))
        count = say(("<k> tile(s) are out of place and their Manhattan distances add up to <h>", "<k> misplaced tile(s), Manhattan sum <h>",
                     "h, the sum of the tiles' distances from home, is <h> over <k> misplaced tile(s)"), k=len(misplaced), h=_manhattan(geo, board))
        extra = say((" Tile <t> is farthest from home (<d> steps).", " The worst is tile <t>, <d> away.", ""), t=far,
                    d=geo.distance[far][board.index(far)]) if say.chance(0.6) else ""
        goal = say(("I need slides of tiles next to the blank that end with the tiles in order and the blank last.",
                    "The goal: tiles in order row by row, blank in the last cell, by sliding tiles next to the blank.",
                    "Only a tile beside the blank may slide; the target is 1 to <n> in order with the blank last.",
                    "{Target|Goal board}: {tiles in order|1, 2, ... in order}, {blank last|the blank in the last cell}{, reached by sliding tiles next to the blank|}."), n=geo.rows * geo.cols - 1)
        return f"{head}; {count}.{extra} {goal}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        geo = _geometry(problem["rows"], problem["cols"])
        h0 = _manhattan(geo, tuple(problem["board"]))
        method = say(("IDA* with h = the sum of the tiles' Manhattan distances to their goal cells (never more than the slides still needed).",
                      "Use IDA*: h is the Manhattan sum, which never overestimates the slides left.",
                      "Iterative deepening A* on h = total Manhattan distance, an admissible estimate.",
                      "{Plan|Method}: IDA*{,|;} {the heuristic is|h =} the Manhattan sum{, a lower bound on the slides left|, which never overestimates}.",
                      "{I'll run|Run} IDA* {guided by|with} {the total Manhattan distance|the Manhattan sum} as h{ (admissible)|}."))
        bound = say(("Start with the bound h = <h>.", "The first bound is h itself, <h>.", "Round one: bound <h>.", "{Initial|First} bound: <h>{, the start's h|}.",
                     "{The search|Round 1} starts {at|with} bound <h>."), h=h0)
        dfs = say(("Search depth-first, cheapest option first, and prune any slide whose f = slides so far + h passes the bound; when a whole "
                   "round fails, raise the bound to the smallest f that passed it.",
                   "In each round go depth-first by lowest f = g + h, cutting any line over the bound; a failed round raises the bound to the "
                   "cheapest cut line.",
                   "Depth-first, lowest f first; lines over the bound are cut, and the next bound is the smallest f that was cut.",
                   "{Each round|Every round} {searches|goes} depth-first{, lowest f first|, cheapest first}{; a line whose f = g + h exceeds the bound is cut|, cutting lines with f over the bound}{, and| —} {a failed round|if the round fails, it} {lifts|raises} the bound to the {least|smallest} f {cut|that was cut}."))
        rules = say(("Never slide back the tile just slid, nor search a position again that this round already reached in as few slides.",
                     "Skip undoing the last slide and positions already reached this round at no greater cost.", "{No|Never} {undo the previous slide|slide straight back}{, and no repeated positions|}.", ""))
        return " ".join(x for x in [method, bound, dfs, rules] if x)

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        k = len(answer.split())
        notes = [say(("<k> slides", "<k> moves", "<k> tiles slid in order"), k=k)] if say.chance(0.6) else []
        if say.chance(0.3):
            notes.append(say(("ending on the goal", "tiles in order, blank last", "reaching the goal board")))
        return answer_line(say, answer, say.listing(say.order(notes)))

    def start(self, problem: dict[str, Any]) -> tuple[Board, History]:
        return tuple(problem["board"]), None

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        geo = _geometry(problem["rows"], problem["cols"])
        say = self.voice(problem)
        record = _search(geo.rows, geo.cols, tuple(problem["board"]))
        if record is None or not record.line:
            raise ValueError(f"IDA* finds no solution for this board within {_MAX_NODES} positions")
        steps = round_steps(record, say, lambda tile: f"sliding {tile}")
        for visit in record.line[:-1]:
            lead = _visit_text(geo, visit.position, visit.g, visit.options, visit.repeats, record.bound, say)
            for tile, nodes, over in visit.failed:
                steps.append(TraceStep("apply", f"{lead} {_slide_say(geo, visit.position, tile, say)}", {"tile": tile}))
                steps.append(dead_end(record, nodes, over, f"sliding {tile}", visit.g, say))
                lead = _next_lead(geo, visit, say)
            steps.append(TraceStep("apply", f"{lead} {_slide_say(geo, visit.position, visit.taken, say)}", {"tile": visit.taken}))
        answer = " ".join(str(visit.taken) for visit in record.line[:-1])
        stats = {
            "moves": len(record.line) - 1,
            "nodes": record.nodes,
            "rounds": len(record.rounds) + 1,
            "backtracks": sum(len(v.failed) for v in record.line),
            "bound": record.bound,
        }
        return Search(steps, answer, stats)

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"optimal_moves": search.stats["moves"]}

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[Board, History], move: Any) -> tuple[tuple[Board, History], str | None]:
        board, history = state
        tile = move.get("tile") if isinstance(move, dict) else None
        if type(tile) is not int or not 1 <= tile < len(board):
            return state, f"a move names a tile 1..{len(board) - 1}, got {move!r}"
        broken = _illegal(_geometry(problem["rows"], problem["cols"]), board, tile)
        return (_slide(board, board.index(tile), board.index(0)), (history, str(tile))), broken

    def observe(self, problem: dict[str, Any], state: tuple[Board, History]) -> str:
        return _rows_text(_geometry(problem["rows"], problem["cols"]), state[0]).replace("\n", " / ")

    def mistake(self, problem: dict[str, Any], state: tuple[Board, History], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A tile read as being next to the blank when it is not (a misread of the board): the
        tile that belongs where the blank is, or one diagonal to it. It breaks a rule: every
        legal slide keeps the goal reachable, so a legal slide is never an error."""
        geo = _geometry(problem["rows"], problem["cols"])
        board = state[0]
        blank = board.index(0)
        near = {cell for _, cell in geo.moves[blank]}
        br, bc = divmod(blank, geo.cols)
        owner = geo.goal[blank]
        if owner and board.index(owner) not in near and rng.random() < 0.5:
            tile, kind = owner, "misread"
        else:
            diagonal = [board[(br + dr) * geo.cols + bc + dc] for dr in (-1, 1) for dc in (-1, 1)
                        if 0 <= br + dr < geo.rows and 0 <= bc + dc < geo.cols]
            tile, kind = rng.choice(diagonal), "off_by_one"
        g = _moves_of(state)
        h = _manhattan(geo, board)
        position = (board, blank, _last(state))
        options = [(h - geo.distance[tile][board.index(tile)] + geo.distance[tile][blank], tile, ""), *_options(geo, position, h)]
        lead = _visit_text(geo, position, g, sorted(options), [], search.stats["bound"], say)
        text = f"{lead} {_slide_say(geo, position, tile, say)}"
        at = board.index(tile)
        reveal = say(("tile <t> is at <a>, not next to the blank at <b>", "<a> does not touch the blank at <b>, so tile <t> cannot slide",
                      "the blank at <b> has <ns> beside it, and tile <t> is not among them"),
                     t=tile, a=_cell(geo, at), b=_cell(geo, blank), ns=say.listing([str(board[c]) for _, c in geo.moves[blank]]))
        return Mistake({"tile": tile}, text, kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Board, History], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Greedy slides (lowest Manhattan sum next) as if the broken board were the real one,
        worded like the search's own, at most as many as the sum promises, stopping at the goal
        if they reach it (a teleport often flips the board's parity, which puts the goal out of
        reach)."""
        geo = _geometry(problem["rows"], problem["cols"])
        board = state[0]
        position, steps = (board, board.index(0), _last(state)), []
        g, h = _moves_of(state), _manhattan(geo, board)
        bound = max(h + g, self._bound(problem))
        for _ in range(h):
            options = sorted(_options(geo, position, h))
            hc, tile, _ = options[0]
            lead = _visit_text(geo, position, g, options, [], bound, say)
            steps.append(TraceStep("apply", f"{lead} {_slide_say(geo, position, tile, say)}", {"tile": tile}))
            position, h, g = _follow(position, tile), hc, g + 1
            if h == 0:
                break
        return steps

    def _bound(self, problem: dict[str, Any]) -> int:
        record = _search(problem["rows"], problem["cols"], tuple(problem["board"]))
        return record.bound if record is not None else 0

    def confirm(self, problem: dict[str, Any], before: tuple[Board, History], move: Any, say: Voice) -> str | None:
        geo = _geometry(problem["rows"], problem["cols"])
        board = before[0]
        tile, blank = move["tile"], board.index(0)
        at = board.index(tile)
        d = next((d for d, cell in geo.moves[blank] if cell == at), None)
        where = say(("tile <t> was at <a>, just <w> of the blank at <b>", "the blank at <b> had tile <t> <w> of it", "<a> touches the blank at <b> (<w>)"),
                    t=tile, a=_cell(geo, at), b=_cell(geo, blank), w=WORDS[d] if d else "beside")
        h0, h1 = geo.distance[tile][at], geo.distance[tile][blank]
        dist = say((", and it moved <a> -> <b> steps from home", "; its distance home went <a> -> <b>"), a=h0, b=h1) if say.chance(0.5) else ""
        return where + dist

    def narrate(self, problem: dict[str, Any], state: tuple[Board, History], move: Any, say: Voice) -> str:
        geo = _geometry(problem["rows"], problem["cols"])
        board = state[0]
        position = (board, board.index(0), _last(state))
        h, g = _manhattan(geo, board), _moves_of(state)
        options = sorted(_options(geo, position, h))
        if g and say.chance(0.25):
            lead = _next_lead(geo, Visit(position, g, h, options), say)
        else:
            lead = _visit_text(geo, position, g, options, [], g + h + 2 * say.pick((0, 1, 1, 2)), say)
        return f"{lead} {_slide_say(geo, position, move['tile'], say)}"

    def muse(self, problem: dict[str, Any], state: tuple[Board, History], say: Voice) -> str | None:
        """A round summary, worded as the search words them (the random teacher recalls the
        analysis of the start, the one it has words for)."""
        record = _search(problem["rows"], problem["cols"], tuple(problem["board"]))
        if record is None or not record.line:
            return None
        return say.pick(round_steps(record, say, lambda tile: f"sliding {tile}")).text

    def stuck(self, problem: dict[str, Any], state: tuple[Board, History], say: Voice) -> str | None:
        record = _search(problem["rows"], problem["cols"], tuple(problem["board"]))
        if record is None:
            return None
        nodes = 2 + int(say.rng.random() * 40)
        over = record.bound + 2 * (1 + int(say.rng.random() * 2))
        return dead_end(record, nodes, over, f"sliding {_last(state) or 'it'}", 0, say).text

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        geo = _geometry(problem["rows"], problem["cols"])
        k = len([t for t in answer.split() if t])
        slides = say(("the <k> slides <a> each move a tile next to the blank", "<k> slides (<a>), every one from beside the blank",
                      "replaying <a>: <k> slides, all of tiles beside the blank"), k=k, a=answer)
        end = say(("and end on <g>, the goal", "leaving <g>: tiles in order, blank last", "and the board reads <g> at the end"),
                  g=_rows_text(geo, geo.goal).replace("\n", " / "))
        return f"{verify_intro(say, answer)}: {slides} {end}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: tuple[Board, History]) -> str:
        tokens, history = [], state[1]
        while history is not None:
            history, token = history
            tokens.append(token)
        return " ".join(reversed(tokens))

    def random_move(self, problem: dict[str, Any], state: tuple[Board, History], rng: random.Random) -> Any | None:
        board = state[0]
        r, c = divmod(board.index(0), problem["cols"])
        around = [
            board[(r + dr) * problem["cols"] + c + dc]
            for dr in (-1, 0, 1) for dc in (-1, 0, 1)
            if (dr or dc) and 0 <= r + dr < problem["rows"] and 0 <= c + dc < problem["cols"]
        ]
        return {"tile": rng.choice(around)}

    def move_text(self, move: Any) -> str:
        return f"tile {move['tile']}"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        geo = _geometry(problem["rows"], problem["cols"])
        board = tuple(problem["board"])
        moves = parse_moves(answer, numbers=True)
        if isinstance(moves, str):
            return False, moves
        if not moves:
            return False, "no moves given"
        for i, move in enumerate(moves, 1):
            blank = board.index(0)
            if isinstance(move, str):
                target = next((cell for d, cell in geo.moves[blank] if d == move), None)
                if target is None:
                    return False, f"move {i} ({move}): the blank at {_cell(geo, blank)} cannot move {WORDS[move]}, it is on the edge"
                tile = board[target]
            else:
                tile = move
                if not 1 <= tile < len(board):
                    return False, f"move {i} ({tile}): there is no tile {tile} (tiles 1..{len(board) - 1})"
                broken = _illegal(geo, board, tile)
                if broken is not None:
                    return False, f"move {i} ({tile}): {broken}"
            board = _slide(board, board.index(tile), blank)
        if board != geo.goal:
            wrong = sum(1 for cell, t in enumerate(board) if t and t != geo.goal[cell])
            shown = _rows_text(geo, board).replace("\n", " / ")
            return False, f"after {len(moves)} legal move(s) the board is {shown}, not the goal ({wrong} tile(s) out of place)"
        return True, f"{len(moves)} legal slide(s) reach the goal"

    def render(self, problem: dict[str, Any], state: tuple[Board, History] | None, size: int) -> Any:
        geo = _geometry(problem["rows"], problem["cols"])
        board = tuple(problem["board"]) if state is None else state[0]
        cells = {}
        for cell, t in enumerate(board):
            home = t == geo.goal[cell]
            cells[divmod(cell, geo.cols)] = (draw.DARK, "", draw.WHITE) if not t else (draw.LIGHT if home else None, str(t), draw.GREEN if home else draw.BLACK)
        return draw.grid_image(geo.rows, geo.cols, size, cells)


_MAX_NODES = 60_000


@lru_cache(maxsize=64)
def _search(rows: int, cols: int, board: Board) -> IdaRecord | None:
    """IDA* from ``board`` (cached: ``generate`` checks the budget, ``solve`` reuses the run)."""
    geo = _geometry(rows, cols)
    return ida_star(
        (board, board.index(0), 0), _board_of, _manhattan(geo, board), partial(_options, geo), _follow, _MAX_NODES
    )


def _options(geo: _Geometry, position: Position, h: int) -> list[tuple[int, int, str]]:
    """Each tile next to the blank but the one just slid (that would undo it), with the
    Manhattan sum after sliding it (updated, not recounted)."""
    board, blank, last = position
    distance = geo.distance
    return [
        (h - distance[tile][cell] + distance[tile][blank], tile, "")
        for _, cell in geo.moves[blank]
        if (tile := board[cell]) != last
    ]


def _follow(position: Position, tile: int) -> Position:
    board, blank, _ = position
    at = board.index(tile)
    return _slide(board, at, blank), at, tile


def _board_of(position: Position) -> Board:
    return position[0]


def _moves_of(state: tuple[Board, History]) -> int:
    count, history = 0, state[1]
    while history is not None:
        history, count = history[0], count + 1
    return count


def _last(state: tuple[Board, History]) -> int:
    return int(state[1][1]) if state[1] is not None else 0


def _next_lead(geo: _Geometry, visit: Visit, say: Voice) -> str:
    """The opening of a step that comes back to a position after a failed branch."""
    return say(("Next option.", "Then the next one.", "On to the next candidate.", "Back here, the next option.",
                "{Back|Again} at depth <g>{, blank at <c>|}: {the next option|next}.", "{Next|The next} {option|candidate} {at|from} depth <g>.",
                "{Return to|Back to} {the blank at <c>|depth <g>}{; try the next| and the next option}."),
               g=visit.g, c=_cell(geo, visit.position[1]))


def _visit_text(geo: _Geometry, position: Position, g: int, options: list[Option], repeats: list[Any], bound: int, say: Voice) -> str:
    """A position of the search: the blank, g, and f = g + 1 + h for each option, the ones
    over the bound marked pruned (a tile slid back into the blank is never an option);
    sometimes h and the bound, or how many options are left within it."""
    parts = []
    within = 0
    for hc, tile, _ in options:
        if tile in repeats:
            parts.append(say(("<t> repeats a position", "<t> leads back to a position seen this round"), t=tile))
            continue
        f = g + 1 + hc
        over = f > bound
        within += not over
        parts.append(say(("<t> gives f = <g>+<h> = <f><p>", "<t>: f = <g>+<h> = <f><p>", "sliding <t> gives <f> (<g>+<h>)<p>", "<t> makes f = <g> + <h> = <f><p>"),
                         t=tile, g=g + 1, h=hc, f=f, p=say((" > <b>, pruned", ", over <b>: pruned", " > <b>, cut"), b=bound) if over else ""))
    text = say(("Blank at <c>, g = <g>: <o>.", "g = <g>, blank at <c>. Options: <o>.", "At g = <g> the blank is at <c>: <o>.",
                "{Position|Now} g = <g>{, blank| with the blank} at <c>{:|. Moves:} <o>.", "{The blank is at|Blank:} <c> ({after <g> slides|g = <g>}){:|;} <o>.",
                "<g> {slides|moves} in{, blank at <c>|, the blank sits at <c>}. {Options|Choices}: <o>."),
               c=_cell(geo, position[1]), g=g, o=say.listing(parts))
    counted = len(options) - len(repeats)
    if counted > 1 and say.chance(0.3):
        text += say((" <k> of <n> stay within the bound <b>.", " (Bound <b>: <k> of <n> fit.)", " Within <b>: <k> of them."), k=within, n=counted, b=bound)
    elif say.chance(0.2):
        text += say((" The bound is <b>.", " (Bound <b>.)", " Bound still <b>."), b=bound)
    return opened(say, text, 0.15)


def _slide_say(geo: _Geometry, position: Position, tile: int, say: Voice) -> str:
    """A slide and the way the blank goes; for a tile not beside the blank (a misread), the
    way it would go if the tile were where the solver thinks: toward it along the longer axis."""
    board, blank = position[0], position[1]
    at = board.index(tile)
    d = next((d for d, cell in geo.moves[blank] if cell == at), None)
    if d is None:
        (br, bc), (tr, tc) = divmod(blank, geo.cols), divmod(at, geo.cols)
        d = ("D" if tr > br else "U") if abs(tr - br) >= abs(tc - bc) else ("R" if tc > bc else "L")
    text = say(("Slide <t> (the blank moves <w>).", "Slide <t>: the blank goes <w>.", "Take <t>, moving the blank <w>.", "<T> slides, the blank moves <w>.",
                "{Move|Push} tile <t>{; the blank goes <w>| (blank <w>)}.", "{So|Then} slide <t>{, blank <w>|, sending the blank <w>}.",
                "{Choose|Pick} <t>: the blank {moves|steps} <w>."), t=tile, T=f"Tile {tile}", w=WORDS[d])
    if say.chance(0.25):
        before, after = geo.distance[tile][at], geo.distance[tile][blank]
        text += say((" Tile <t> goes <a> -> <b> from home.", " (<t>: <a> -> <b> steps from its cell.)", " Its distance home: <a> -> <b>."),
                    t=tile, a=before, b=after)
    return text


family = register(Sliding())
