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

Moves: ``take {"node": "C"}``; legal iff C is not placed yet and all its predecessors are.
State: ``(order, done)``, the task indexes placed so far and a bitmask of them. Answer: the
letters in order, "B A D C" (commas, '->' or no separator at all also work).
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
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


class TopoSort(ReasoningFamily):
    name = "topo_sort"
    group = "graphs"
    action = "take"
    rules = "the task is not placed yet and every task with an arrow into it is already placed"
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

    def read(self, problem: dict[str, Any]) -> str:
        tasks = problem["tasks"]
        return (
            f"{len(tasks)} tasks, {tasks[0]} to {tasks[-1]}, and {len(problem['edges'])} arrows X -> Y "
            "meaning X comes first. I need all of them in one order in which every arrow points forward."
        )

    def start(self, problem: dict[str, Any]) -> State:
        return (), 0

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        dag = self._dag(problem)
        tasks = problem["tasks"]
        degrees = ", ".join(f"{x} {dag.preds[i].bit_count()}" for i, x in enumerate(tasks))
        ready = ", ".join(x for i, x in enumerate(tasks) if not dag.preds[i])
        steps = [TraceStep("think", f"In-degrees: {degrees}. Ready (in-degree 0): {ready}.", stage="check")]
        steps += self._kahn(problem, self.start(problem))
        plan = (
            "Kahn's algorithm: count the arrows into each task (its in-degree). Repeatedly take the "
            "alphabetically first task with in-degree 0, then remove its arrows, lowering the "
            "in-degree of the tasks they point to; a task whose in-degree reaches 0 becomes ready. "
            "The order in which tasks are taken is the answer."
        )
        answer = " ".join(tasks[i] for i in self.replay(problem, steps)[-1][0])
        return Search(plan, steps, answer, {"tasks": len(tasks), "edges": len(problem["edges"])})

    def _kahn(self, problem: dict[str, Any], state: State) -> list[TraceStep]:
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
            removal = ""
            if last >= 0:
                drops = []
                for v in dag.succs[last]:
                    if v in left:
                        left[v] -= 1
                        drops.append(f"{tasks[v]} {left[v] + 1}->{left[v]}" + (" (ready)" if not left[v] else ""))
                removal = (
                    f"Remove {tasks[last]}'s arrows: {', '.join(drops)}. " if drops else f"{tasks[last]} points to no open task. "
                )
            ready = sorted(v for v, k in left.items() if not k)
            take = ready[0]
            queue = ", ".join(tasks[v] for v in ready)
            steps.append(TraceStep("apply", f"{removal}Ready: {queue}. Take {tasks[take]}.", {"node": tasks[take]}))
            del left[take]
            last = take
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
        taken = (*order, v), done | 1 << v
        waiting = dag.preds[v] & ~done
        if waiting:
            return taken, f"{tasks[v]} still has an unprocessed predecessor: {tasks[_first_bit(waiting)]} -> {tasks[v]}"
        return taken, None

    def observe(self, problem: dict[str, Any], state: State) -> str:
        return f"{len(state[0])} of {len(problem['tasks'])} tasks placed."

    def blunder(self, problem: dict[str, Any], state: State, rng: random.Random) -> tuple[Any, str] | None:
        """Taking a task whose last prerequisites are still open, as if it were ready: the ones
        with a single open prerequisite are the easiest to misread."""
        dag = self._dag(problem)
        tasks = problem["tasks"]
        done = state[1]
        open_ = {v: (dag.preds[v] & ~done).bit_count() for v in range(len(tasks)) if not done >> v & 1}
        blocked = [v for v, k in open_.items() if k]
        if not blocked:
            return None
        v = rng.choice([v for v in blocked if open_[v] == 1] or blocked)
        ready = ", ".join(tasks[u] for u, k in open_.items() if not k)
        return {"node": tasks[v]}, f"Ready: {ready}; {tasks[v]}'s prerequisites look done too. Take {tasks[v]}."

    def continue_wrong(self, problem: dict[str, Any], state: State, rng: random.Random) -> list[TraceStep]:
        """Carry on with Kahn's loop as if the task taken too early had been ready."""
        return self._kahn(problem, state)

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        return " ".join(problem["tasks"][v] for v in state[0])

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        done = state[1]
        open_ = [x for v, x in enumerate(problem["tasks"]) if not done >> v & 1]
        return {"node": rng.choice(open_)} if open_ else None

    def move_text(self, move: Any) -> str:
        return f"task {move['node']}"

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
