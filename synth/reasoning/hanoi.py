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
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, verify_holds, verify_intro
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


def _move_text(say: Voice, pos: Pegs | list[int], disk: int, src: int, dst: int, lead: str = "", top: int = 0, under: int = -1) -> str:
    """A move with the two checks it needs: the disk is the top of its peg, and the target is
    empty or its top disk is larger (``top``/``under`` override what is said, as a misread
    does: ``top`` the disk claimed on top of the source, ``under`` the target's top), and,
    sometimes, the pegs it leaves."""
    top = top or _top(pos, src)
    under = _top(pos, dst) if under < 0 else under
    on_src = [d for d in range(len(pos), 0, -1) if pos[d - 1] == src]
    on_dst = [d for d in range(len(pos), 0, -1) if pos[d - 1] == dst]
    free = say(("<t> is empty", "nothing is on <t>", "<t> is free", "<t> holds no disk", "the way onto <t> is clear") if not under else
               ("the top of <t> is disk <u>, which is larger", "<t> has disk <u> on top, larger", "disk <u> on <t> is bigger",
                "<t> ends in disk <u>, a bigger one", "it goes onto disk <u> on <t>, which is larger"), t=PEGS[dst], u=under)
    mine = say(("it is the top of <s>", "nothing lies on it on <s>", "<s> has it on top", "it is free on <s>", "no disk covers it on <s>"),
               s=PEGS[src])
    if say.chance(0.3) and len(on_src) > 1:
        mine += say((" (<s> holds <l>)", " (<s>: <l>, bottom to top)", " (<s> reads <l>)"), s=PEGS[src], l=" ".join(map(str, on_src)))
    if say.chance(0.25) and on_dst:
        free += say((" (<t>: <l>)", " (<t> has <l>)"), t=PEGS[dst], l=" ".join(map(str, on_dst)))
    move = say(("Move disk <d> from <s> to <t>", "Disk <d>: <s> -> <t>", "Take disk <d> from <s> to <t>", "<s> to <t> with disk <d>",
                "Disk <d> goes from <s> to <t>", "Next, disk <d> from <s> onto <t>"), d=disk, s=PEGS[src], t=PEGS[dst])
    checks = say.order([mine, free])
    joined = say(("<a> and <b>", "<a>; <b>", "<a>, and <b>"), a=checks[0], b=checks[1])
    after = ""
    if say.chance(0.35):
        moved = list(pos)
        moved[disk - 1] = dst
        after = say((" That leaves <p>.", " Now <p>.", " Pegs after it: <p>."), p=_pegs_text(tuple(moved)))
    return f"{lead}{move}: {joined}.{after}"


def _clear_note(say: Voice, k: int, src: int, dst: int) -> str:
    one = k == 2
    return say(("to move disk <k> from <s> to <t>, first clear <r> onto <o>", "disk <k> must reach <t>, so <r> <go> to <o> first",
                "<r> <is> in the way of disk <k>: park <it> on <o>"), k=k, s=PEGS[src], t=PEGS[dst], r=_disks(k - 1),
               o=PEGS[3 - src - dst], go="goes" if one else "go", it="it" if one else "them", **{"is": "is" if one else "are"})


def _home_note(say: Voice, k: int, peg: int) -> str:
    return say(("disk <k> is already on <p>", "disk <k> stays where it is, on <p>"), k=k, p=PEGS[peg])


def _stack_note(say: Voice, k: int, peg: int) -> str:
    return say(("now stack <r> on disk <k> on <p>", "bring <r> back onto disk <k> on <p>", "<r> now <go> on top of disk <k>, on <p>"),
               r=_disks(k - 1), k=k, p=PEGS[peg], go="goes" if k == 2 else "go")


class _Planner:
    """The optimal recursive solver, recording its reasoning as it moves.

    ``notes`` collect why the recursion wants the next move (which stack must be cleared
    first, which disk is already in place); the next move's text starts with them.
    """

    def __init__(self, pos: Pegs, goal: Pegs, say: Voice):
        self.pos = list(pos)
        self.goal = goal
        self.say = say
        self.steps: list[TraceStep] = []
        self.notes: list[str] = []
        self.choices = 0
        self.double = 0
        self.settled = len(pos) + 1  # the smallest disk of the run already home, as last said
        self.purpose: list[tuple[int, int]] = []  # the gathers in progress: (disks 1..k, onto peg)

    def move(self, disk: int, dst: int) -> None:
        src = self.pos[disk - 1]
        lead = "; ".join(self.notes)
        self.notes.clear()
        text = _move_text(self.say, self.pos, disk, src, dst, f"{cap(lead)}. " if lead else "")
        if self.purpose and self.say.chance(0.35):
            k, peg = self.purpose[-1]
            text += self.say((" (Still gathering <r> on <p>.)", " This is part of stacking <r> on <p>.", " One step towards <r> on <p>."),
                             r=_disks(k), p=PEGS[peg])
        self.steps.append(TraceStep("apply", text, {"disk": disk, "from": PEGS[src], "to": PEGS[dst]}))
        self.pos[disk - 1] = dst

    def gather(self, k: int, peg: int) -> None:
        """Stack disks 1..k on ``peg``: clear the smaller disks off the way of each disk that
        is not there yet, move it, and bring the smaller ones back on top."""
        say = self.say
        if k == 0:
            return
        src = self.pos[k - 1]
        if src == peg:
            if any(p != peg for p in self.pos[: k - 1]):
                self.notes.append(_home_note(say, k, peg))
            self.gather(k - 1, peg)
            return
        if k > 1:
            other = 3 - src - peg
            self.notes.append(_clear_note(say, k, src, peg))
            self.gather(k - 1, other)
        self.move(k, peg)
        if k > 1:
            self.notes.append(_stack_note(say, k, peg))
            self.gather(k - 1, peg)

    def reach(self, k: int) -> None:
        """Bring disks 1..k to their goal pegs, pricing both ways for the largest misplaced one."""
        say = self.say
        m = k
        while m and self.pos[m - 1] == self.goal[m - 1]:
            m -= 1
        if m == 0:
            return
        src, dst = self.pos[m - 1], self.goal[m - 1]
        if m == 1:
            self.notes.append(say(("disk 1 goes straight to its goal peg <t>", "only disk 1 is left: straight to <t>"), t=PEGS[dst]))
            self.move(1, dst)
            return
        other = 3 - src - dst
        pos = tuple(self.pos)
        g1, s1 = _gather_cost(pos, m - 1, other), _gather_cost(self.goal, m - 1, other)
        g2, s2, carry = _gather_cost(pos, m - 1, dst), _gather_cost(self.goal, m - 1, src), (1 << (m - 1)) - 1
        once, twice = g1 + 1 + s1, g2 + 2 + carry + s2
        placed = ""
        if m < k and m + 1 < self.settled:  # say once which large disks are home, when that grows
            self.settled = m + 1
            one = m + 1 == k
            placed = say(("<D> already <sit> on <their> goal <pegs>. ", "<D> <is> home already. ", "Nothing to do for <d>: <are> in place. "),
                         D="Disk " + str(k) if one else f"Disks {m + 1}-{k}", d="disk " + str(k) if one else f"disks {m + 1}-{k}",
                         sit="sits" if one else "sit", their="its" if one else "their", pegs="peg" if one else "pegs",
                         are="it is" if one else "they are", **{"is": "is" if one else "are"})
        a, b, c, rest = PEGS[src], PEGS[dst], PEGS[other], _disks(m - 1)
        price = say((
            "Disk <m> must go from <a> to <b>. Once: <g1> moves to gather <r> on <c>, 1 for disk <m>, <s1> to spread <r> to the goal = <o>. "
            "Twice: <g2> to gather <r> on <b>, 1 to put disk <m> on <c>, <cy> to carry <r> to <a>, 1 to put disk <m> on <b>, <s2> to spread <r> = <t>.",
            "Disk <m> is on <a> and belongs on <b>. Moving it once costs <g1> (gather <r> on <c>) + 1 + <s1> (spread them) = <o>; moving it twice "
            "costs <g2> (gather on <b>) + 1 (to <c>) + <cy> (carry <r> to <a>) + 1 (to <b>) + <s2> = <t>.",
            "Price disk <m> (<a> -> <b>): directly, <g1> + 1 + <s1> = <o> moves with <r> parked on <c>; via <c>, <g2> + 1 + <cy> + 1 + <s2> = <t>.",
            "Next is disk <m>, now on <a>, goal <b>. Direct: park <r> on <c> (<g1>), move it (1), spread <r> (<s1>): <o>. "
            "Via <c>: <g2> + 1 + <cy> + 1 + <s2> = <t>.",
            "Two ways for disk <m> from <a> to <b>: <g1>+1+<s1> = <o> going straight, or <g2>+1+<cy>+1+<s2> = <t> with a stop on <c>.",
        ), m=m, a=a, b=b, c=c, r=rest, g1=g1, s1=s1, o=once, g2=g2, cy=carry, s2=s2, t=twice)
        spread = sorted({PEGS[p] for p in self.pos[: m - 1]})
        if say.chance(0.4):
            price = say(("<R> <are> on <p> now. ", "Right now <r> sit on <p>. "), R=cap(rest), r=rest, p=say.listing(spread),
                        are="is" if m == 2 else "are") + price
        self.choices += 1
        if once <= twice:
            verdict = say(("Moving disk <m> once is <v> (<o> vs <t>).", "Once it is: <o> against <t>.", "The direct way wins, <o> to <t>."),
                          m=m, v="shorter" if once < twice else "no longer", o=once, t=twice)
            self.steps.append(TraceStep("think", f"{placed}{price} {verdict}"))
            self.gather(m - 1, other)
            self.move(m, dst)
        else:
            self.double += 1
            verdict = say(("Moving disk <m> twice is shorter (<t> vs <o>).", "Twice is cheaper here: <t> against <o>.",
                           "Going via <c> wins, <t> to <o>."), m=m, t=twice, o=once, c=c)
            self.steps.append(TraceStep("think", f"{placed}{price} {verdict}"))
            self.gather(m - 1, dst)
            self.move(m, other)
            self.notes.append(say(("carry <r> from <b> to <a> to free <b>", "clear <b> again: <r> to <a>"), r=_disks(m - 1), a=a, b=b))
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        start, goal = _pegs(problem["start"]), _pegs(problem["goal"])
        wrong = [d for d in range(1, problem["n"] + 1) if start[d - 1] != goal[d - 1]]
        head = say(("<n> disks", "Tower of Hanoi with <n> disks", "<n> disks on three pegs"), n=problem["n"])
        where = say(("Start: <s>. Goal: <g>", "from <s> to <g>", "start <s>; goal <g>"), s=_pegs_text(start), g=_pegs_text(goal))
        count = say(("<k> disk(s) are on the wrong peg", "<k> disk(s) must move: <l>", "the misplaced disks are <l>"), k=len(wrong),
                    l=say.listing(map(str, wrong)))
        biggest = say((" The largest misplaced disk is <m>.", " Disk <m> is the biggest one out of place.", ""), m=wrong[-1])
        goal_text = say(("I need legal moves (top disks only, never onto a smaller disk) that turn the start into the goal.",
                         "Only a top disk may move, and never onto a smaller one.", "Each move takes a top disk and puts it on a larger one or an empty peg."))
        return f"{head}. {cap(where)}. {cap(count)}.{biggest} {goal_text}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        start, goal = _pegs(problem["start"]), _pegs(problem["goal"])
        n = problem["n"]
        home = n
        while home and start[home - 1] == goal[home - 1]:
            home -= 1
        top = say(("Work from the largest disk down: disks already on their goal pegs stay.",
                   "Start with the biggest disk that is out of place; the ones below it in size come after.",
                   "Go from the largest disk to the smallest; disks already home are left alone."))
        note = say((" Disks <a>-<n> are home already, so disk <h> comes first.", " Disk <h> is the largest one to move."), a=home + 1, n=n, h=home) \
            if home < n else say((" Disk <n> itself must move.", ""), n=n)
        price = say(("For the largest misplaced disk, price moving it once (smaller disks gathered on the third peg) against moving it twice "
                     "(via the third peg), take the cheaper way, then solve the smaller disks the same way.",
                     "Each time, count the moves for carrying the largest misplaced disk over directly and via the third peg, and take the cheaper.",
                     "Compare both routes for that disk (direct, or parked on the spare peg), pick the shorter, then recurse on the smaller disks."))
        gather = say(("To gather disks on a peg, clear the smaller ones off each disk that still has to move.",
                      "Gathering a stack means moving each misplaced disk after clearing the smaller ones out of its way.", ""))
        return " ".join(x for x in [top + note, price, gather] if x)

    def start(self, problem: dict[str, Any]) -> tuple[Pegs, History]:
        return _pegs(problem["start"]), None

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        planner = _Planner(_pegs(problem["start"]), _pegs(problem["goal"]), self.voice(problem))
        planner.reach(problem["n"])
        moves = [s.move for s in planner.steps if s.kind == "apply"]
        answer = " ".join(_token(m) for m in moves)
        return Search(planner.steps, answer, {"moves": len(moves), "choices": planner.choices, "double_moves": planner.double})

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

    def mistake(self, problem: dict[str, Any], state: tuple[Pegs, History], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A covered disk moved as if it were on top (a misread of the peg), or a top disk put
        onto a smaller one (the size rule forgotten), mostly the largest misplaced disk sent
        straight to its goal peg. Both break a rule: every legal move in Hanoi keeps the goal
        reachable, so a legal move is never an error."""
        pos, goal = state[0], _pegs(problem["goal"])
        options = []
        for d in range(problem["n"], 0, -1):
            s0 = pos[d - 1]
            t = goal[d - 1] if goal[d - 1] != s0 else (s0 + 1) % 3
            top, under = _top(pos, s0), _top(pos, t)
            if top != d:
                options.append((d, s0, t, "misread", say(("disk <u> still sits on disk <d> on <s>", "<s> has disk <u> on top of disk <d>",
                                                          "disk <d> was covered: disk <u> is above it on <s>"), u=top, d=d, s=PEGS[s0])))
            elif under and under < d:
                options.append((d, s0, t, "forgotten", say(("disk <u> on <t> is smaller than disk <d>", "<t>'s top disk is <u>, smaller than <d>",
                                                            "disk <d> cannot sit on disk <u>, which is on top of <t>"), u=under, d=d, t=PEGS[t])))
        if not options:
            return None
        m = options[0] if rng.random() < 0.5 else rng.choice(options)
        d, s0, t, kind, reveal = m
        text = _move_text(say, pos, d, s0, t, top=d, under=0 if kind == "forgotten" and rng.random() < 0.5 else problem["n"] + 1)
        return Mistake({"disk": d, "from": PEGS[s0], "to": PEGS[t]}, text, kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Pegs, History], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Carry on with the same planner from the broken position, as if it were legal, cut
        where the whole answer would pass 2^n - 1 moves (the most any start/goal pair needs),
        which also keeps the episode inside the runner's step limit."""
        planner = _Planner(state[0], _pegs(problem["goal"]), say)
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

    def confirm(self, problem: dict[str, Any], before: tuple[Pegs, History], move: Any, say: Voice) -> str | None:
        pos = before[0]
        d, s0, t = move["disk"], PEGS.index(move["from"]), PEGS.index(move["to"])
        on_src = [x for x in range(len(pos), 0, -1) if pos[x - 1] == s0]
        under = _top(pos, t)
        src = say(("<s> read <l> (bottom to top), so disk <d> was on top", "disk <d> topped <s> (<l>)"), s=PEGS[s0], l=" ".join(map(str, on_src)) or "nothing", d=d)
        dst = say(("<t> was empty", "nothing was on <t>") if not under else ("<t>'s top was disk <u>, larger than <d>", "disk <u> on <t> is bigger than <d>"),
                  t=PEGS[t], u=under, d=d)
        return f"{src}; {dst}"

    def narrate(self, problem: dict[str, Any], state: tuple[Pegs, History], move: Any, say: Voice) -> str:
        pos = state[0]
        notes = []
        disks = range(2, problem["n"] + 1)
        if say.chance(0.35):
            k = say.pick(disks)
            notes.append(_stack_note(say, k, pos[k - 1]))
        if say.chance(0.2):
            k = say.pick(disks)
            notes.append(_home_note(say, k, pos[k - 1]))
        if say.chance(0.6):
            for k in range(say.pick(disks), 1, -1):  # the planner's recursion: one note per level, down to disk 2
                notes.append(_clear_note(say, k, pos[k - 1], say.pick([p for p in range(3) if p != pos[k - 1]])))
        lead = f"{cap('; '.join(notes))}. " if notes else ""
        return _move_text(say, pos, move["disk"], PEGS.index(move["from"]), PEGS.index(move["to"]), lead)

    def muse(self, problem: dict[str, Any], state: tuple[Pegs, History], say: Voice) -> str | None:
        planner = _Planner(state[0], _pegs(problem["goal"]), say)
        planner.reach(problem["n"])
        return next((s.text for s in planner.steps if s.kind == "think"), None)

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        """The pegs after replaying the answer as the solver wrote it (each move carried out as
        written), compared with the goal."""
        pos = list(_pegs(problem["start"]))
        tokens = [t for t in answer.split() if t]
        for token in tokens:
            found = _MOVE.fullmatch(token)
            if found and found[1]:
                pos[int(found[1]) - 1] = PEGS.index(found[3])
        end = say(("after <k> moves the pegs read <p>", "replaying the <k> moves gives <p>", "the <k> moves end with <p>"),
                  k=len(tokens), p=_pegs_text(tuple(pos)))
        goal = say(("which is the goal", "exactly the goal position", "matching the goal"))
        legal = say(("each move took a top disk onto an empty peg or a larger disk", "no disk ever went onto a smaller one"))
        return f"{verify_intro(say, answer)}: {end}, {goal}; {legal}; {verify_holds(say)}."

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

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
