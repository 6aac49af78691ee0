"""The ``topo_sort`` family (group graphs): order tasks so every prerequisite comes first.

A problem is a random DAG over lettered tasks (a build's steps, a degree's courses, a recipe's
steps or a project's tasks): the letters are laid out in a random hidden order and edges are
drawn only forward in it, so every problem has a valid order, and every letter takes part in
at least one edge. Any topological order passes the verifier; the gold answer is only the
alphabetically smallest one, which the solver finds.

==========  =====  =====  ======================================
difficulty  tasks  edges  typical expert steps (read..answer)
==========  =====  =====  ======================================
1           5      5      ~10
2           7      9      ~12
3           9      13     ~14
4           12     19     ~17
5           16     28     ~21
==========  =====  =====  ======================================

The solver is Kahn's algorithm with the ready queue kept in alphabetical order: count every
task's in-degree, then repeatedly take the first ready task (in-degree 0) and remove its edges,
writing out each in-degree that drops ("D 2->1") and each task that becomes ready. It never
backtracks; backtracks appear only where a reflective teacher undoes its own mistake.

Moves: ``take {"node": "C"}``; legal iff C is not placed yet. A task taken before one of its
predecessors is a legal move found wrong from the state: an arrow points back, and no
completion of the order respects it (``keeps_solvable``).
State: ``(order, done)``, the task indexes placed so far and a bitmask of them. Answer: the
letters in order, "B A D C" (commas, '->' or no separator at all also work).
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, opened, verify_holds, verify_intro
from synth.registry import register

_SEPARATORS = re.compile(r"(?:\s|,|;|->|→|>|-|\[|\])+")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
THEMES = {
    "build": ("A software build has {n} steps", "step {u} must finish before step {v} starts"),
    "courses": ("A degree has {n} courses", "course {u} must be passed before course {v} is taken"),
    "recipe": ("A recipe has {n} steps", "step {u} must be done before step {v}"),
    "project": ("A project has {n} tasks", "task {u} must be done before task {v} can start"),
}

State = tuple[tuple[int, ...], int]


class _Dag:
    """Per-problem lookups computed once: predecessor bitmasks, successor lists, letter indexes."""

    __slots__ = ("preds", "succs", "index")

    def __init__(self, problem: dict[str, Any]):
        n = len(problem["tasks"])
        self.index = {x: i for i, x in enumerate(problem["tasks"])}
        self.preds = [0] * n
        self.succs: list[list[int]] = [[] for _ in range(n)]
        for a, b in problem["edges"]:
            u, v = self.index[a], self.index[b]
            self.preds[v] |= 1 << u
            self.succs[u].append(v)
        for out in self.succs:
            out.sort()


def _first_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _degrees_text(problem: dict[str, Any], dag: _Dag, done: int, say: Voice) -> str:
    """The in-degrees of the tasks not placed yet, counting only arrows from open tasks."""
    tasks = problem["tasks"]
    open_ = [i for i in range(len(tasks)) if not done >> i & 1]
    style = say.pick(("<x> <k>", "<x>:<k>", "<x>=<k>"))
    degrees = ", ".join(say(style, x=tasks[i], k=(dag.preds[i] & ~done).bit_count()) for i in open_)
    ready = ", ".join(tasks[i] for i in open_ if not dag.preds[i] & ~done)
    text = say(("In-degrees: <d>. Ready (in-degree 0): <r>.", "Counting arrows in: <d>. So <r> can go first.", "In-degree per task: <d>; ready now: <r>.",
                "{First|To start}, {count the arrows into each task|the in-degrees}: <d>. {In-degree 0|With none coming in|Free to start}: <r>.",
                "{Arrows in|Incoming arrows}, task by task: <d>; {so the ready set is|ready at the start:} <r>{.|, nothing else.}",
                "<d>{ are the in-degrees|: those are the in-degrees}. {Only|Just} <r> {can start|start with zero}."), d=degrees, r=ready or "none")
    if say.chance(0.3):
        top = max(open_, key=lambda i: ((dag.preds[i] & ~done).bit_count(), -i))
        text += say((" The most constrained is <x>, with <k>.", " <x> waits on the most, <k>.", " (<x> has the highest, <k>.)"),
                    x=tasks[top], k=(dag.preds[top] & ~done).bit_count())
    return text


def _take_text(tasks: list[str], last: int, drops: list[tuple[int, int, int]], ready: list[int], take: int, say: Voice,
               waiting: dict[int, int] | None = None) -> str:
    """One step of Kahn's loop: the arrows of the task taken last removed (each in-degree
    drop written out), the ready list, the task taken; sometimes the tasks still waiting,
    with their in-degrees, whether the task taken was freed just now, and how many are left."""
    removal = ""
    if last >= 0:
        if drops:
            style = say.pick(("<v> <a>-><b>", "<v> <a> to <b>", "<v> from <a> to <b>", "<v>: <a> -> <b>"))
            shown = ", ".join(say(style, v=tasks[v], a=a, b=b) + (say((" (ready)", " (now free)", "")) if not b else "") for v, a, b in drops)
            removal = say(("Remove <x>'s arrows: <d>. ", "<x> is done, so <d>. ", "Striking <x>'s arrows: <d>. ", "{With|Now that} <x> {is placed|is in}, {its arrows go|drop its arrows}: <d>. ",
                           "<X>'s {arrows|out-arrows} {removed|struck}: <d>. ", "{Lower|Update} the in-degrees {after|for} <x>: <d>. "), x=tasks[last], X=tasks[last], d=shown)
        else:
            removal = say(("<x> points to no open task. ", "<x> frees nothing new. ", "No open task waits on <x>. ", "<x> has no arrows to open tasks{ left|}. ",
                           "{Nothing changes|No in-degree changes} {after|with} <x>. "), x=tasks[last])
    queue = ", ".join(tasks[v] for v in ready)
    if len(ready) == 1 and say.chance(0.5):
        step = say(("Only <t> is ready: take it.", "<t> is the one ready task, so it goes next.", "Just <t> has in-degree 0; take <t>.",
                    "{The ready list is just|Ready: only} <t>{, so it is next|; place it}.", "<t> {alone|by itself} is free{: take it|, so it goes next}."), t=tasks[take])
    else:
        step = say(("Ready: <q>. Take <t>.", "The ready list is <q>; take <t>, the first.", "Ready now: <q>, so <t> goes next.",
                    "Taking <t> from the ready list <q>.", "Of <q>, <t> comes first alphabetically: take it.",
                    "{In-degree 0|Free}: <q>. {The first of them|Alphabetically first} is <t>{: place it|, next in the order}.",
                    "{Place|Take} <t>{, the first of| from} <q>.", "<q> {are|stand} ready; <t> {goes first|leads alphabetically}."), q=queue, t=tasks[take])
    notes = []
    blocked = sorted((v, k) for v, k in (waiting or {}).items() if k)
    if blocked and say.chance(0.4):
        notes.append(say(("Still waiting: <w>.", "Blocked: <w>.", "Left with arrows in: <w>.", "{Not ready yet|Waiting}: <w>."),
                         w=", ".join(f"{tasks[v]} ({k})" for v, k in blocked)))
    if any(v == take and not b for v, _, b in drops) and say.chance(0.3):
        notes.append(say(("<t> was freed just now by <x>.", "(<x> was <t>'s last prerequisite.)", "<x> released <t>."), t=tasks[take], x=tasks[last]))
    if waiting is not None and len(waiting) > 1 and say.chance(0.25):
        notes.append(say(("<k> {tasks|left} to place after it.", "{Then|After that} <k> {to go|remain}.", "<k> more to go."), k=len(waiting) - 1))
    return opened(say, removal + " ".join([step, *say.order(notes)]), 0.25)


class TopoSort(ReasoningFamily):
    name = "topo_sort"
    group = "graphs"
    action = "take"
    rules = "the task is not placed yet (the order must respect every arrow: a task taken before one with an arrow into it breaks no move rule, it makes the order wrong)"
    levels = {
        1: {"tasks": 5, "edges": 5},
        2: {"tasks": 7, "edges": 9},
        3: {"tasks": 9, "edges": 13},
        4: {"tasks": 12, "edges": 19},
        5: {"tasks": 16, "edges": 28},
    }

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[dict[str, Any] | None, _Dag | None] = (None, None)

    def _dag(self, problem: dict[str, Any]) -> _Dag:
        """The problem's lookups; one slot, keyed by identity (an episode's hooks all get the
        same problem object, and holding it keeps the identity from being reused)."""
        if self._last[0] is not problem:
            self._last = (problem, _Dag(problem))
        return self._last[1]

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, tasks: int, edges: int) -> dict[str, Any]:
        n = tasks
        while True:
            hidden = rng.sample(range(n), n)  # a valid order, never shown
            pairs = set()
            while len(pairs) < edges:
                i, j = rng.randrange(n), rng.randrange(n)
                if i < j:
                    pairs.add((hidden[i], hidden[j]))
            if len({x for pair in pairs for x in pair}) == n:
                break
        return {
            "theme": rng.choice(sorted(THEMES)),
            "tasks": list(LETTERS[:n]),
            "edges": [[LETTERS[u], LETTERS[v]] for u, v in sorted(pairs)],
        }

    def describe(self, problem: dict[str, Any]) -> str:
        tasks = problem["tasks"]
        intro, rule = THEMES[problem["theme"]]
        listed = "\n".join(f"{u} -> {v}" for u, v in problem["edges"])
        return (
            f"{intro.format(n=len(tasks))}, {tasks[0]} to {tasks[-1]}. An arrow X -> Y means "
            f"{rule.format(u='X', v='Y')}:\n{listed}\n\n"
            "Find an order of all of them that respects every arrow.\n"
            "Answer with the letters in order, separated by spaces, for example: B A D C"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        tasks = problem["tasks"]
        dag = self._dag(problem)
        head = say(("<n> tasks, <a> to <b>, and <m> arrows X -> Y meaning X comes first", "<m> arrows among <n> tasks (<a>-<b>); X -> Y puts X first",
                    "The tasks are <a> to <b> (<n> of them), with <m> precedence arrows",
                    "{I have|There are} <n> tasks ({<a>..<b>|<a> through <b>}) {and|with} <m> {arrows|constraints}{, X -> Y meaning X first|}",
                    "<m> {precedence constraints|ordering arrows} {on|over} <n> tasks, <a> to <b>"), n=len(tasks), a=tasks[0], b=tasks[-1], m=len(problem["edges"]))
        goal = say(("I need all of them in one order in which every arrow points forward", "every task once, with each arrow pointing forward",
                    "one order of all tasks that respects every arrow",
                    "{the goal|wanted}: a {linear|single} order of {every task|all tasks} {with every arrow pointing forward|that breaks no arrow}",
                    "{find|I must find} a topological order{ of the tasks|}: {each arrow|every arrow X -> Y} {forward|with X before Y}"))
        facts = []
        sources = [x for i, x in enumerate(tasks) if not dag.preds[i]]
        busiest = max(range(len(tasks)), key=lambda i: (len(dag.succs[i]), -i))
        facts.append(say(("<s> <have> no prerequisite", "nothing points into <s>"), s=say.listing(sources), have="has" if len(sources) == 1 else "have"))
        facts.append(say(("<x> unlocks the most, <k> tasks", "<k> arrows leave <x>"), x=tasks[busiest], k=len(dag.succs[busiest])))
        extra = "".join(" " + cap(f) + "." for f in say.order(facts)[: say.pick((0, 1, 2))])
        return f"{head}. {cap(goal)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        kahn = say(("Kahn's algorithm: count the arrows into each task (its in-degree).", "Kahn's method: first the in-degree of every task.",
                    "Count each task's incoming arrows, then peel off tasks with none (Kahn).",
                    "{Use|I'll use} Kahn's {algorithm|method}{:|;} {start from the in-degrees|in-degrees first}.",
                    "{Topological sort|A topological order} {by|via} Kahn: {count arrows in|compute in-degrees} {for every task|per task} first."))
        loop = say(("Repeatedly take the alphabetically first task with in-degree 0, then remove its arrows, lowering the in-degree of the tasks "
                    "they point to; a task whose in-degree reaches 0 becomes ready.",
                    "Each step takes the first ready task in alphabetical order and deletes its arrows; tasks whose count drops to 0 join the ready list.",
                    "Take the first ready task (in-degree 0, alphabetical), strike its outgoing arrows, and add newly freed tasks to the ready list.",
                    "{Then|After that}, {again and again|until none is left}, {place|take} the {alphabetically first|first} {task with in-degree 0|ready task} and {remove|strike} its arrows{, freeing what reaches 0|; whatever reaches 0 becomes ready}.",
                    "{The loop|Each round}: {pick|take} the first {free|ready} task {alphabetically|by name}, {place it|append it}, {lower|decrement} the in-degrees it points to."))
        out = say(("The order in which tasks are taken is the answer.", "The taking order is the answer.", "Reading the taken tasks in order gives the answer.",
                   "{The answer is|That yields} the {order of taking|sequence of placements}.", "{Placed in that order|In that order}, {they form|the tasks give} the answer.", ""))
        dag = self._dag(problem)
        tasks = problem["tasks"]
        ready = [tasks[i] for i in range(len(tasks)) if not dag.preds[i]]
        heavy = max(range(len(tasks)), key=lambda i: (dag.preds[i].bit_count(), -i))
        notes = [
            say(("At the start <r> <are> ready.", "The first ready list is <r>.", "<r> can start at once."), r=say.listing(ready),
                are="is" if len(ready) == 1 else "are"),
            say(("<x> waits for the most, <k> arrows.", "<x> has the highest in-degree, <k>.", "<x> will come late: <k> arrows point into it."),
                x=tasks[heavy], k=dag.preds[heavy].bit_count()),
        ]
        chosen = say.order(notes)[: say.pick((0, 1, 1, 2))]
        return " ".join(x for x in ([kahn, *chosen, loop, out] if say.chance(0.5) else [kahn, loop, out, *chosen]) if x)

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        order = answer.split()
        notes = [say(("<n> tasks", "all <n> tasks", "<n> in all"), n=len(order))] if order else []
        if len(order) > 1:
            notes.append(say(("<a> first, <b> last", "from <a> to <b>", "starting at <a>, ending at <b>"), a=order[0], b=order[-1]))
        return answer_line(say, answer, say.listing(say.order(notes)[: say.pick((0, 1, 1, 2))]))

    def start(self, problem: dict[str, Any]) -> State:
        return (), 0

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        say = self.voice(problem)
        steps = [TraceStep("think", _degrees_text(problem, self._dag(problem), 0, say), stage="check")]
        steps += self._kahn(problem, self.start(problem), say)
        answer = " ".join(problem["tasks"][i] for i in self.replay(problem, steps)[-1][0])
        return Search(steps, answer, {"tasks": len(problem["tasks"]), "edges": len(problem["edges"])})

    def _kahn(self, problem: dict[str, Any], state: State, say: Voice) -> list[TraceStep]:
        """Kahn's loop from ``state`` to the end: the expert's whole search, or a noisy
        teacher's continuation from its broken state. The task placed last has not had its
        arrows removed yet, so the first step does that."""
        dag = self._dag(problem)
        tasks = problem["tasks"]
        order, done = state
        last = order[-1] if order else -1
        before = done & ~(1 << last) if order else done
        left = {v: (dag.preds[v] & ~before).bit_count() for v in range(len(tasks)) if not done >> v & 1}
        steps = []
        while left:
            drops = []
            if last >= 0:
                for v in dag.succs[last]:
                    if v in left:
                        left[v] -= 1
                        drops.append((v, left[v] + 1, left[v]))
            ready = sorted(v for v, k in left.items() if not k)
            steps.append(TraceStep("apply", _take_text(tasks, last, drops, ready, ready[0], say, left), {"node": tasks[ready[0]]}))
            del left[ready[0]]
            last = ready[0]
        return steps

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: State, move: Any) -> tuple[State, str | None]:
        dag = self._dag(problem)
        tasks = problem["tasks"]
        x = move.get("node") if isinstance(move, dict) else None
        v = dag.index.get(x.upper()) if isinstance(x, str) else None
        if v is None:
            return state, f"a move names one task, {tasks[0]} to {tasks[-1]}, got {move!r}"
        order, done = state
        if done >> v & 1:
            return state, f"{tasks[v]} is already placed, at position {order.index(v) + 1}"
        return ((*order, v), done | 1 << v), None

    def keeps_solvable(self, problem: dict[str, Any], before: State, move: Any, after: State, search: Search) -> bool:
        """Any task may be written next; the order so far can still be completed iff the task
        just taken has all its prerequisites before it. One taken too early has an arrow
        pointing back from a task still to come, and nothing written later can fix that."""
        v = after[0][-1]
        return not self._dag(problem).preds[v] & ~before[1]

    def observe(self, problem: dict[str, Any], state: State) -> str:
        return "Order so far: " + (" ".join(problem["tasks"][v] for v in state[0]) or "empty") + "."

    def mistake(self, problem: dict[str, Any], state: State, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """Taking a task whose last prerequisites are still open, as if it were ready (an arrow
        misread or overlooked, or the drop that would have freed it miscounted): the ones with
        a single open prerequisite are the easiest to miss. The take is legal (any task can be
        written next); the env finds it wrong from the state: an arrow now points back, so no
        completion of the order is correct. Taking any ready task keeps the order completable,
        so a ready take is never an error."""
        dag = self._dag(problem)
        tasks = problem["tasks"]
        last, left, drops = _open_counts(dag, len(tasks), state)
        blocked = [v for v, k in left.items() if k]
        if not blocked:
            return None
        v = rng.choice([v for v in blocked if left[v] == 1] or blocked)
        ready = sorted([*(u for u, k in left.items() if not k), v])
        kind = "misread"
        if rng.random() < 0.5 and any(x == v for x, _, _ in drops):  # the drop that would have freed it, miscounted
            drops, kind = [(x, a, 0 if x == v else b) for x, a, b in drops], "slip"
        text = _take_text(tasks, last, drops, ready, v, say, {x: k for x, k in left.items() if x != v})
        u = _first_bit(dag.preds[v] & ~state[1])
        reveal = say(("<u> -> <v> is still open: <u> has not been taken", "<v> still waits for <u>, which is not placed",
                      "<u> must come before <v>, so <v> was not ready yet"), u=tasks[u], v=tasks[v])
        return Mistake({"node": tasks[v]}, text, kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: State, say: Voice, rng: random.Random) -> list[TraceStep]:
        """Carry on with Kahn's loop as if the task taken too early had been ready."""
        return self._kahn(problem, state, say)

    def confirm(self, problem: dict[str, Any], before: State, move: Any, say: Voice) -> str | None:
        dag = self._dag(problem)
        tasks = problem["tasks"]
        v = dag.index[move["node"]]
        preds = [tasks[u] for u in range(len(tasks)) if dag.preds[v] >> u & 1]
        if not preds:
            return say(("nothing points into <v>", "<v> has no prerequisite at all"), v=tasks[v])
        order = before[0]
        places = [f"{tasks[u]} at {order.index(u) + 1}" if u in order else f"{tasks[u]} not yet" for u in range(len(tasks)) if dag.preds[v] >> u & 1]
        text = say(("its prerequisites <p> were all placed before it", "every arrow into <v> (from <p>) was already used",
                    "<v> needs <p>, and they were all in the order"), p=say.listing(preds), v=tasks[v])
        if say.chance(0.5):
            text += say((" (<w>)", "; positions: <w>"), w=", ".join(places))
        return text

    def narrate(self, problem: dict[str, Any], state: State, move: Any, say: Voice) -> str:
        dag = self._dag(problem)
        tasks = problem["tasks"]
        last, left, drops = _open_counts(dag, len(tasks), state)
        v = dag.index.get(str(move["node"]).upper(), 0)
        ready = sorted({*(u for u, k in left.items() if not k), v})
        return _take_text(tasks, last, drops, ready, v, say, left)

    def muse(self, problem: dict[str, Any], state: State, say: Voice) -> str | None:
        return _degrees_text(problem, self._dag(problem), state[1], say)

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        order = [t for t in answer.split() if t]
        where = {x: i for i, x in enumerate(order)}
        sample = [f"{a} ({where.get(a, '?')}) -> {b} ({where.get(b, '?')})" for a, b in problem["edges"][:3]]
        count = say(("all <n> tasks appear once", "the order lists the <n> tasks once each", "<n> tasks, none twice"), n=len(order))
        arrows = say(("each of the <m> arrows points forward (e.g. <s>)", "every arrow goes from an earlier to a later position, like <s>",
                      "the <m> arrows all point forward"), m=len(problem["edges"]), s=say.listing(sample))
        return f"{verify_intro(say, answer)}: {count}; {arrows}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        return " ".join(problem["tasks"][v] for v in state[0])

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        done = state[1]
        open_ = [x for v, x in enumerate(problem["tasks"]) if not done >> v & 1]
        return {"node": rng.choice(open_)} if open_ else None

    def move_text(self, move: Any) -> str:
        return f"task {move['node']}"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        tasks = problem["tasks"]
        index = self._dag(problem).index
        order: list[str] = []
        for token in _SEPARATORS.split(answer.strip().upper()):
            if not token:
                continue
            if token not in index and not all(ch in index for ch in token):
                return False, f"{token!r} is not a task ({tasks[0]} to {tasks[-1]})"
            order.extend(token)
        position: dict[str, int] = {}
        for i, x in enumerate(order):
            if x in position:
                return False, f"{x} appears twice (positions {position[x] + 1} and {i + 1})"
            position[x] = i
        missing = [x for x in tasks if x not in position]
        if missing:
            return False, f"{len(missing)} task(s) missing: {', '.join(missing)}"
        for a, b in problem["edges"]:
            if position[a] > position[b]:
                return False, f"{b} comes before {a} but {a} -> {b}"
        return True, f"all {len(tasks)} tasks once each, and every one of the {len(problem['edges'])} arrows points forward"

    def render(self, problem: dict[str, Any], state: State | None, size: int) -> Any:
        """Arrows between the lettered tasks; with a state, the tasks placed so far in green."""
        dag = self._dag(problem)
        tasks = problem["tasks"]
        done = state[1] if state is not None else 0
        return draw.graph_image(
            len(tasks),
            [(dag.index[a], dag.index[b], "") for a, b in problem["edges"]],
            size,
            directed=True,
            labels=tasks,
            marked={v: draw.GREEN for v in range(len(tasks)) if done >> v & 1},
        )


family = register(TopoSort())


def _open_counts(dag: Any, n: int, state: State) -> tuple[int, dict[int, int], list[tuple[int, int, int]]]:
    """After the last take: that task, each untaken task's count of open prerequisites, and
    the drops the last take caused (task, count before, count after), in Kahn's order."""
    order, done = state
    last = order[-1] if order else -1
    before = done & ~(1 << last) if order else done
    left = {v: (dag.preds[v] & ~before).bit_count() for v in range(n) if not done >> v & 1}
    drops = []
    if last >= 0:
        for v in dag.succs[last]:
            if v in left:
                left[v] -= 1
                drops.append((v, left[v] + 1, left[v]))
    return last, left, drops
