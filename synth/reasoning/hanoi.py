"""The ``hanoi`` family (group games): Tower of Hanoi from any legal start to any legal goal.

The classic puzzle (one tower from A to C) has a single task per size; here every disk starts
and ends on a seeded peg, so ``3^n x 3^n`` start/goal pairs make every seed a new puzzle, and
the solver has real choices to make (4 disks at level 1 give 6,480 pairs, so about 2% of 300
seeds repeat one). Any legal sequence that reaches the goal passes the verifier; the gold
answer is the shortest one.

==========  =====  ==================  ======================================
difficulty  disks  mean optimal moves  typical expert steps (read..answer)
==========  =====  ==================  ======================================
1           4      ~8                  ~14
2           5      ~17                 ~24
3           6      ~31                 ~38
4           7      ~68                 ~76
5           8      ~137                ~145
==========  =====  ==================  ======================================

The solver is optimal. Ignoring the largest disks that already sit on their goal pegs, the
largest misplaced disk ``m`` (from peg s to peg t, o the third peg) moves either once (gather
disks 1..m-1 on o, move m, spread them to their goals) or twice (gather them on t, move m to
o, carry the stack back to s, move m to t, spread them): an optimal solution never moves it
more often. Gathering k disks on a peg costs the sum of ``2^(d-1)`` over the disks d that
are not on their target at their turn (the classic greedy, which is optimal), so both ways
are priced exactly before one is chosen, and the rest is solved the same way. The trace
states each priced choice and, on every move, the recursion that asked for it and the check
that the target peg is free.

Moves: ``move {"disk": d, "from": "A", "to": "C"}``. State: ``(pegs, history)``, the peg
index of every disk (disk 1 first) and the moves made so far (a linked list, newest first).
Answer: the moves in order as disk, source peg, ``>``, target peg ("1A>C 2A>B 1C>B");
the verifier also takes ``->`` for ``>``, lower case, commas or semicolons between moves,
and moves without the disk number ("A>C B>C"), which then means the top disk of the source.
"""

from __future__ import annotations

import random
import re
from typing import Any

from PIL import Image, ImageDraw

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

PEGS = "ABC"
_ARROW = re.compile(r"\s*(?:->|=>|→|>)\s*")
_SEPARATORS = re.compile(r"[\s,;]+")
_MOVE = re.compile(r"(?:(\d+):?)?([ABC])>([ABC])")
_COLOURS = (draw.BLUE, draw.RED, draw.GREEN, (200, 140, 30), (130, 60, 170), (30, 160, 170), (190, 90, 120), draw.DARK)

Pegs = tuple[int, ...]
History = tuple[Any, str] | None


def _top(pos: Pegs | list[int], peg: int) -> int:
    """The smallest disk on ``peg`` (1-based), 0 when the peg is empty."""
    for i, p in enumerate(pos):
        if p == peg:
            return i + 1
    return 0


def _illegal(pos: Pegs, disk: int, src: int, dst: int) -> str | None:
    """Why moving ``disk`` from ``src`` to ``dst`` breaks the rules, or None when it is legal.
    Shared by the env (``apply``) and the verifier, so both name the same rule."""
    if src == dst:
        return f"disk {disk} would move from {PEGS[src]} to the same peg"
    if pos[disk - 1] != src:
        return f"disk {disk} is on {PEGS[pos[disk - 1]]}, not on {PEGS[src]}"
    top = _top(pos, src)
    if top != disk:
        return f"disk {disk} is under disk {top} on {PEGS[src]}, so it is not the top disk"
    under = _top(pos, dst)
    if under and under < disk:
        return f"disk {disk} cannot go onto the smaller disk {under} on {PEGS[dst]}"
    return None


def _gather_cost(pos: Pegs, k: int, peg: int) -> int:
    """Moves needed to stack disks 1..k on ``peg`` from ``pos`` (the optimal greedy)."""
    cost, target = 0, peg
    for d in range(k, 0, -1):
        if pos[d - 1] != target:
            cost += 1 << (d - 1)
            target = 3 - pos[d - 1] - target
    return cost


def _disks(k: int) -> str:
    return "disk 1" if k == 1 else f"disks 1-{k}"


def _pegs_text(pos: Pegs) -> str:
    """'A: 4 2 1, B: empty, C: 3' (each peg bottom to top)."""
    stacks = []
    for p in range(3):
        disks = [str(d) for d in range(len(pos), 0, -1) if pos[d - 1] == p]
        stacks.append(f"{PEGS[p]}: {' '.join(disks) or 'empty'}")
    return ", ".join(stacks)


class _Planner:
    """The optimal recursive solver, recording its reasoning as it moves.

    ``notes`` collect why the recursion wants the next move (which stack must be cleared
    first, which disk is already in place); the next move's text starts with them.
    """

    def __init__(self, pos: Pegs, goal: Pegs):
        self.pos = list(pos)
        self.goal = goal
        self.steps: list[TraceStep] = []
        self.notes: list[str] = []
        self.choices = 0
        self.double = 0

    def move(self, disk: int, dst: int) -> None:
        src = self.pos[disk - 1]
        under = _top(self.pos, dst)
        free = f"{PEGS[dst]} is empty" if not under else f"the top of {PEGS[dst]} is disk {under}, which is larger"
        lead = "; ".join(self.notes)
        self.notes.clear()
        text = f"{lead[0].upper()}{lead[1:]}. " if lead else ""
        text += f"Move disk {disk} from {PEGS[src]} to {PEGS[dst]}: it is the top of {PEGS[src]} and {free}."
        self.steps.append(TraceStep("apply", text, {"disk": disk, "from": PEGS[src], "to": PEGS[dst]}))
        self.pos[disk - 1] = dst

    def gather(self, k: int, peg: int) -> None:
        """Stack disks 1..k on ``peg``: clear the smaller disks off the way of each disk that
        is not there yet, move it, and bring the smaller ones back on top."""
        if k == 0:
            return
        src = self.pos[k - 1]
        if src == peg:
            if any(p != peg for p in self.pos[: k - 1]):
                self.notes.append(f"disk {k} is already on {PEGS[peg]}")
            self.gather(k - 1, peg)
            return
        if k > 1:
            other = 3 - src - peg
            self.notes.append(f"to move disk {k} from {PEGS[src]} to {PEGS[peg]}, first clear {_disks(k - 1)} onto {PEGS[other]}")
            self.gather(k - 1, other)
        self.move(k, peg)
        if k > 1:
            self.notes.append(f"now stack {_disks(k - 1)} on disk {k} on {PEGS[peg]}")
            self.gather(k - 1, peg)

    def reach(self, k: int) -> None:
        """Bring disks 1..k to their goal pegs, pricing both ways for the largest misplaced one."""
        m = k
        while m and self.pos[m - 1] == self.goal[m - 1]:
            m -= 1
        if m == 0:
            return
        src, dst = self.pos[m - 1], self.goal[m - 1]
        if m == 1:
            self.notes.append(f"disk 1 goes straight to its goal peg {PEGS[dst]}")
            self.move(1, dst)
            return
        other = 3 - src - dst
        pos = tuple(self.pos)
        g1, s1 = _gather_cost(pos, m - 1, other), _gather_cost(self.goal, m - 1, other)
        g2, s2, carry = _gather_cost(pos, m - 1, dst), _gather_cost(self.goal, m - 1, src), (1 << (m - 1)) - 1
        once, twice = g1 + 1 + s1, g2 + 2 + carry + s2
        placed = "" if m == k else f"{'Disk' if m + 1 == k else f'Disks {m + 1}-'}{k} already sit on their goal pegs. "
        a, b, c, rest = PEGS[src], PEGS[dst], PEGS[other], _disks(m - 1)
        text = (
            f"{placed}Disk {m} must go from {a} to {b}. Once: {g1} moves to gather {rest} on {c}, 1 for disk {m}, "
            f"{s1} to spread {rest} to the goal = {once}. Twice: {g2} to gather {rest} on {b}, 1 to put disk {m} "
            f"on {c}, {carry} to carry {rest} to {a}, 1 to put disk {m} on {b}, {s2} to spread {rest} = {twice}. "
        )
        self.choices += 1
        if once <= twice:
            verdict = "shorter" if once < twice else "no longer"
            self.steps.append(TraceStep("think", text + f"Moving disk {m} once is {verdict} ({once} vs {twice})."))
            self.gather(m - 1, other)
            self.move(m, dst)
        else:
            self.double += 1
            self.steps.append(TraceStep("think", text + f"Moving disk {m} twice is shorter ({twice} vs {once})."))
            self.gather(m - 1, dst)
            self.move(m, other)
            self.notes.append(f"carry {_disks(m - 1)} from {b} to {a} to free {b}")
            self.gather(m - 1, src)
            self.move(m, dst)
        self.reach(m - 1)


class Hanoi(ReasoningFamily):
    name = "hanoi"
    group = "games"
    action = "move"
    rules = "the disk is the top disk of 'from' and 'to' is empty or its top disk is larger"
    levels = {1: {"n": 4}, 2: {"n": 5}, 3: {"n": 6}, 4: {"n": 7}, 5: {"n": 8}}

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, n: int) -> dict[str, Any]:
        start = "".join(rng.choice(PEGS) for _ in range(n))
        goal = start
        while goal == start:
            goal = "".join(rng.choice(PEGS) for _ in range(n))
        return {"n": n, "start": start, "goal": goal}

    def describe(self, problem: dict[str, Any]) -> str:
        n = problem["n"]
        start, goal = _pegs(problem["start"]), _pegs(problem["goal"])
        return (
            f"Tower of Hanoi with {n} disks, numbered 1 (smallest) to {n} (largest), on pegs A, B "
            "and C. Move one disk at a time: only the top disk of a peg can move, and never onto a "
            "smaller disk.\n\n"
            f"Start (each peg bottom to top): {_pegs_text(start)}\n"
            f"Goal (each peg bottom to top): {_pegs_text(goal)}\n\n"
            "Move the disks from the start to the goal configuration. Answer with the moves in "
            "order, each written as the disk number, the source peg, '>' and the target peg, "
            "separated by spaces, for example: 1A>C 2A>B 1C>B"
        )

    def read(self, problem: dict[str, Any]) -> str:
        start, goal = _pegs(problem["start"]), _pegs(problem["goal"])
        moved = sum(a != b for a, b in zip(start, goal, strict=True))
        return (
            f"{problem['n']} disks. Start: {_pegs_text(start)}. Goal: {_pegs_text(goal)}. "
            f"{moved} disk(s) are on the wrong peg. I need legal moves (top disks only, never onto "
            "a smaller disk) that turn the start into the goal."
        )

    def start(self, problem: dict[str, Any]) -> tuple[Pegs, History]:
        return _pegs(problem["start"]), None

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        planner = _Planner(_pegs(problem["start"]), _pegs(problem["goal"]))
        planner.reach(problem["n"])
        moves = [s.move for s in planner.steps if s.kind == "apply"]
        answer = " ".join(_token(m) for m in moves)
        plan = (
            "Work from the largest disk down: disks already on their goal pegs stay. For the "
            "largest misplaced disk, price moving it once (smaller disks gathered on the third "
            "peg) against moving it twice (via the third peg), take the cheaper way, then solve "
            "the smaller disks the same way. To gather disks on a peg, clear the smaller ones off "
            "each disk that still has to move."
        )
        return Search(plan, planner.steps, answer, {"moves": len(moves), "choices": planner.choices, "double_moves": planner.double})

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"optimal_moves": search.stats["moves"]}

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[Pegs, History], move: Any) -> tuple[tuple[Pegs, History], str | None]:
        pos, history = state
        n = problem["n"]
        disk, src, dst = (move.get("disk"), move.get("from"), move.get("to")) if isinstance(move, dict) else (None, None, None)
        if type(disk) is not int or not 1 <= disk <= n or src not in ("A", "B", "C") or dst not in ("A", "B", "C"):
            return state, f"a move names a disk 1..{n} and pegs 'from' and 'to' among A, B, C, got {move!r}"
        s, t = PEGS.index(src), PEGS.index(dst)
        broken = _illegal(pos, disk, s, t)
        history = (history, f"{disk}{src}>{dst}")
        if broken is not None and pos[disk - 1] != s:
            return (pos, history), broken  # the disk is not there: nothing can be carried
        return (pos[: disk - 1] + (t,) + pos[disk:], history), broken

    def observe(self, problem: dict[str, Any], state: tuple[Pegs, History]) -> str:
        return _pegs_text(state[0])

    def blunder(self, problem: dict[str, Any], state: tuple[Pegs, History], rng: random.Random) -> tuple[Any, str] | None:
        """Mostly the largest misplaced disk sent straight to its goal peg while it is covered or
        the goal peg holds a smaller disk; otherwise a top disk onto a smaller one, or a covered
        disk moved as if it were free (with four or more disks some disk is always covered)."""
        pos, goal = state[0], _pegs(problem["goal"])
        m = next((d for d in range(problem["n"], 0, -1) if pos[d - 1] != goal[d - 1]), 0)
        if m and _illegal(pos, m, pos[m - 1], goal[m - 1]) and rng.random() < 0.6:
            src, dst = PEGS[pos[m - 1]], PEGS[goal[m - 1]]
            return {"disk": m, "from": src, "to": dst}, f"Disk {m} belongs on {dst}: move it from {src} to {dst} now."
        options = []
        tops = [(_top(pos, p), p) for p in range(3)]
        for d, s in tops:
            for under, t in tops:
                if d and under and under < d:
                    options.append(({"disk": d, "from": PEGS[s], "to": PEGS[t]}, f"Move disk {d} from {PEGS[s]} onto {PEGS[t]}."))
        for d in range(2, problem["n"] + 1):
            s = pos[d - 1]
            if _top(pos, s) != d:
                t = goal[d - 1] if goal[d - 1] != s else (s + 1) % 3
                options.append(({"disk": d, "from": PEGS[s], "to": PEGS[t]}, f"Disk {d} has to get to {PEGS[t]}: move it from {PEGS[s]}."))
        return rng.choice(options) if options else None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Pegs, History], rng: random.Random) -> list[TraceStep]:
        """Carry on with the same planner from the broken position, as if it were legal, cut
        where the whole answer would pass 2^n - 1 moves (the most any start/goal pair needs),
        which also keeps the episode inside the runner's step limit."""
        planner = _Planner(state[0], _pegs(problem["goal"]))
        planner.reach(problem["n"])
        done, history = 0, state[1]
        while history is not None:
            history, done = history[0], done + 1
        left = (1 << problem["n"]) - 1 - done
        steps = []
        for step in planner.steps:
            left -= step.kind == "apply"
            if left < 0:
                break
            steps.append(step)
        return steps

    def read_off(self, problem: dict[str, Any], state: tuple[Pegs, History]) -> str:
        tokens, history = [], state[1]
        while history is not None:
            history, token = history
            tokens.append(token)
        return " ".join(reversed(tokens))

    def random_move(self, problem: dict[str, Any], state: tuple[Pegs, History], rng: random.Random) -> Any | None:
        pos = state[0]
        src = rng.choice(sorted(set(pos)))
        dst = rng.choice([p for p in range(3) if p != src])
        return {"disk": _top(pos, src), "from": PEGS[src], "to": PEGS[dst]}

    def move_text(self, move: Any) -> str:
        return f"disk {move['disk']} from {move['from']} to {move['to']}"

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        n = problem["n"]
        text = _ARROW.sub(">", answer.upper())
        tokens = [t for t in _SEPARATORS.split(text) if t]
        if not tokens:
            return False, "no moves given"
        pos, goal = _pegs(problem["start"]), _pegs(problem["goal"])
        for i, token in enumerate(tokens, 1):
            found = _MOVE.fullmatch(token)
            if found is None:
                return False, f"move {i}: {token!r} is not a move like 1A>C or A>C"
            s, t = PEGS.index(found[2]), PEGS.index(found[3])
            if found[1] is None:
                disk = _top(pos, s)
                if not disk:
                    return False, f"move {i} ({token}): peg {found[2]} is empty"
            else:
                disk = int(found[1])
                if not 1 <= disk <= n:
                    return False, f"move {i} ({token}): there is no disk {disk} (disks 1..{n})"
            broken = _illegal(pos, disk, s, t)
            if broken is not None:
                return False, f"move {i} ({token}): {broken}"
            pos = pos[: disk - 1] + (t,) + pos[disk:]
        if pos != goal:
            wrong = next(d for d in range(n, 0, -1) if pos[d - 1] != goal[d - 1])
            return False, (
                f"after {len(tokens)} legal move(s) the pegs are {_pegs_text(pos)}, not the goal "
                f"(disk {wrong} is on {PEGS[pos[wrong - 1]]}, the goal has it on {PEGS[goal[wrong - 1]]})"
            )
        return True, f"{len(tokens)} legal move(s) reach the goal configuration"

    # ------------------------------------------------------------------ image

    def render(self, problem: dict[str, Any], state: tuple[Pegs, History] | None, size: int) -> Any:
        """Two panels of three pegs: the start (or the current state) above, the goal below."""
        now = _pegs(problem["start"]) if state is None else state[0]
        image = Image.new("RGB", (size, size), draw.WHITE)
        canvas = ImageDraw.Draw(image)
        label = draw.font(max(8, size // 24))
        for row, (title, pos) in enumerate((("start" if state is None else "now", now), ("goal", _pegs(problem["goal"])))):
            _draw_pegs(canvas, pos, problem["n"], 0, row * size // 2, size, size // 2, title, label)
        return image


def _draw_pegs(canvas: Any, pos: Pegs, n: int, x0: int, y0: int, width: int, height: int, title: str, label: Any) -> None:
    """One panel: ``title`` at the top left, three labelled pegs, numbered disks sized by number."""
    margin = max(4, width // 40)
    base = y0 + height - margin
    disk_h = max(3, (height - 3 * margin - 2 * label.size) // (n + 1))
    slot = (width - 2 * margin) / 3
    numbers = draw.font(max(8, disk_h - 2))
    canvas.text((x0 + margin, y0 + margin), title, fill=draw.BLACK, font=label)
    canvas.line([x0 + margin, base, x0 + width - margin, base], fill=draw.DARK, width=3)
    for p in range(3):
        cx = x0 + margin + slot * (p + 0.5)
        tip = base - disk_h * (n + 0.6)
        canvas.line([cx, base, cx, tip], fill=draw.GREY, width=max(2, width // 120))
        canvas.text((cx, tip - 2), PEGS[p], fill=draw.BLACK, font=label, anchor="mb")
        for level, d in enumerate(d for d in range(n, 0, -1) if pos[d - 1] == p):
            half = slot * 0.12 + slot * 0.36 * d / n
            top = base - disk_h * (level + 1)
            canvas.rectangle([cx - half, top, cx + half, top + disk_h - 1], fill=_COLOURS[(d - 1) % len(_COLOURS)], outline=draw.BLACK)
            canvas.text((cx, top + disk_h / 2), str(d), fill=draw.WHITE, font=numbers, anchor="mm")


def _pegs(config: str) -> Pegs:
    return tuple(PEGS.index(c) for c in config)


def _token(move: dict[str, Any]) -> str:
    return f"{move['disk']}{move['from']}>{move['to']}"


family = register(Hanoi())
