"""The ``euler_path`` family (group graphs): walk every edge of a graph exactly once.

Graphs are drawn as the edge set of a random trail that visits every vertex, so each one is
connected and has an Eulerian trail by construction (0 or 2 odd-degree vertices), with no
repeated edges and no loops. Any Eulerian trail passes the verifier; the gold answer is only
the first one the solver finds.

==========  ========  =====  ======================================
difficulty  vertices  edges  typical expert steps (read..answer)
==========  ========  =====  ======================================
1           6         7-9    ~13
2           8         10-13  ~17
3           10        13-17  ~21
4           13        18-23  ~27
5           16        23-30  ~33
==========  ========  =====  ======================================

Level 1 has 6 vertices, not 5: there are only 478 connected 5-vertex graphs with an Eulerian
trail, too few for 300 seeds to give distinct tasks (6 vertices and 7-9 edges give ~8,000).

The solver is a depth-first search over unused edges (lowest neighbour first) with a real
dead-end check after every move that had an alternative: are all unused edges still
reachable from where the trail now stands? If not, the edge just taken was a bridge that
strands the rest, and the search goes back one move and tries the next edge. Fleury's
theorem bounds this: at a vertex at most one unused edge strands the rest, so there is at most
one backtrack per visit and the trace has at most twice as many moves as the graph has edges.

Moves: ``traverse {"from": u, "to": v}``; legal iff ``from`` is where the trail stands (for
the first move: one of the odd-degree vertices, when there are two) and u-v is an unused
edge. State: ``(path, used)``, the vertices walked so far and a bitmask over the edge list.
Answer: the vertices in order, "0 3 1 0 2" (commas, '-' or '->' also separate them).
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

_SEPARATORS = re.compile(r"(?:\s|,|;|->|→|–|-|\[|\]|\(|\))+")
_VERTEX = re.compile(r"[0-9]+")


def _adjacency(problem: dict[str, Any]) -> list[list[tuple[int, int]]]:
    """``adj[v]``: (neighbour, edge bit) pairs, lowest neighbour first (the search's order)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(problem["n"])]
    for i, (u, v) in enumerate(problem["edges"]):
        adj[u].append((v, 1 << i))
        adj[v].append((u, 1 << i))
    for links in adj:
        links.sort()
    return adj


def _odd(problem: dict[str, Any]) -> list[int]:
    """The odd-degree vertices: none (a circuit, start anywhere) or two (the trail's ends)."""
    degree = [0] * problem["n"]
    for u, v in problem["edges"]:
        degree[u] += 1
        degree[v] += 1
    return [v for v, d in enumerate(degree) if d % 2]


def _edge_index(edges: list[list[int]], u: int, v: int) -> int:
    """The index of edge u-v in the (sorted-pair) edge list, -1 when there is none."""
    try:
        return edges.index([u, v] if u < v else [v, u])
    except ValueError:
        return -1


def _stranded(adj: list[list[tuple[int, int]]], at: int, used: int, full: int) -> int:
    """The unused edges (a bitmask) that a walk from ``at`` can no longer reach: nonzero means
    the move that led to ``at`` burnt a bridge and the trail cannot be completed."""
    seen, stack, reached = 1 << at, [at], 0
    while stack:
        x = stack.pop()
        for y, bit in adj[x]:
            if used & bit:
                continue
            reached |= bit
            if not seen >> y & 1:
                seen |= 1 << y
                stack.append(y)
    return full & ~used & ~reached


def _names(edges: list[list[int]], mask: int) -> str:
    return ", ".join(f"{u}-{v}" for i, (u, v) in enumerate(edges) if mask >> i & 1)


def _random_trail(rng: random.Random, n: int, m: int) -> list[int] | None:
    """A random trail of ``m`` >= ``n`` - 1 distinct edges through all ``n`` vertices, or None
    when the walk gets stuck. It turns to an unvisited vertex whenever it must to still reach
    them all."""
    free = [[u for u in range(n) if u != v] for v in range(n)]  # neighbours not walked to yet
    at = rng.randrange(n)
    trail, seen = [at], {at}
    for k in range(m):
        options = free[at]
        if n - len(seen) == m - k:
            options = [u for u in options if u not in seen]
        if not options:
            return None
        u = rng.choice(options)
        free[at].remove(u)
        free[u].remove(at)
        seen.add(u)
        trail.append(u)
        at = u
    return trail


class EulerPath(ReasoningFamily):
    name = "euler_path"
    group = "graphs"
    action = "traverse"
    rules = (
        "'from' is where the trail stands (the first move: an odd-degree vertex if there are two) "
        "and from-to is an edge not used yet"
    )
    levels = {
        1: {"n": 6, "min_edges": 7, "max_edges": 9},
        2: {"n": 8, "min_edges": 10, "max_edges": 13},
        3: {"n": 10, "min_edges": 13, "max_edges": 17},
        4: {"n": 13, "min_edges": 18, "max_edges": 23},
        5: {"n": 16, "min_edges": 23, "max_edges": 30},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, n: int, min_edges: int, max_edges: int) -> dict[str, Any]:
        trail = None
        while trail is None:
            trail = _random_trail(rng, n, rng.randint(min_edges, max_edges))
        edges = sorted({(min(a, b), max(a, b)) for a, b in zip(trail, trail[1:], strict=False)})
        return {"n": n, "edges": [list(e) for e in edges]}

    def describe(self, problem: dict[str, Any]) -> str:
        n, edges = problem["n"], problem["edges"]
        listed = ", ".join(f"{u}-{v}" for u, v in edges)
        return (
            f"An undirected graph has {n} vertices, numbered 0 to {n - 1}, and these {len(edges)} "
            f"edges:\n{listed}\n\n"
            "Find a trail that uses every edge exactly once (an Eulerian trail). If exactly two "
            "vertices have an odd number of edges, the trail must start at one of them and end at "
            "the other; if none do, it may start anywhere and ends where it started.\n"
            "Answer with the vertices of the trail in order, separated by spaces, for example: 0 3 1 0 2"
        )

    def read(self, problem: dict[str, Any]) -> str:
        return (
            f"An undirected graph with {problem['n']} vertices and {len(problem['edges'])} edges. "
            "I need a walk that uses every edge exactly once; where it may start depends on the "
            "odd-degree vertices."
        )

    def start(self, problem: dict[str, Any]) -> tuple[tuple[int, ...], int]:
        return (), 0

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        edges = problem["edges"]
        adj = _adjacency(problem)
        odd = _odd(problem)
        full = (1 << len(edges)) - 1
        degrees = " ".join(f"{v}:{len(links)}" for v, links in enumerate(adj))
        at = odd[0] if odd else 0
        if odd:
            where = f"Odd: {odd[0]} and {odd[1]}, so the trail runs between them: start at {at}."
        else:
            where = f"All even, so the trail is a circuit and may start anywhere: start at {at}."
        steps = [TraceStep("think", f"Degrees: {degrees}. {where}", stage="check")]
        counts = {"moves": 0, "backtracks": 0}
        used, note, path = 0, "", [at]
        while used != full:
            options = [(u, bit) for u, bit in adj[at] if not used & bit]
            for j, (u, bit) in enumerate(options):
                last = j == len(options) - 1
                if len(options) == 1:
                    text = f"At {at}, {at}-{u} is the only unused edge: take it."
                elif j == 0:
                    text = f"At {at}, unused edges go to {', '.join([str(x) for x, _ in options])}: take {at}-{u}, the lowest."
                elif last:
                    text = f"At {at}, {at}-{u} is the one unused edge left to try: take it."
                else:
                    text = f"At {at}, try the next unused edge: {at}-{u}."
                steps.append(TraceStep("apply", note + text, {"from": at, "to": u}))
                counts["moves"] += 1
                note = ""
                if last:  # no alternative left: a forced move needs no check
                    break
                lost = _stranded(adj, u, used | bit, full)
                if not lost:
                    left = (full & ~(used | bit)).bit_count()
                    if left:
                        note = f"Check: all {left} unused edges are still reachable from {u}. "
                    break
                counts["backtracks"] += 1
                steps.append(TraceStep(
                    "backtrack",
                    f"Check: from {u} the unused edge(s) {_names(edges, lost)} can no longer be reached, "
                    f"so {at}-{u} was a bridge taken too early: dead end.",
                    depth=len(path) - 1,
                ))
            used |= bit
            at = u
            path.append(u)
        plan = (
            "Count degrees to find where the trail must start. Then walk: at each vertex take the "
            "lowest unused edge, and after a move that had an alternative check that every unused "
            "edge is still reachable from the new vertex; if some are cut off, the edge was a bridge "
            "taken too early, so go back one move and take the next edge."
        )
        return Search(plan, steps, " ".join(map(str, path)), counts)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], move: Any) -> tuple[Any, str | None]:
        n, edges = problem["n"], problem["edges"]
        path, used = state
        a, b = (move.get("from"), move.get("to")) if isinstance(move, dict) else (None, None)
        if type(a) is not int or type(b) is not int or not (0 <= a < n and 0 <= b < n):
            return state, f"a move names two vertices 'from' and 'to' in 0..{n - 1}, got {move!r}"
        if path and a != path[-1]:
            return state, f"the trail stands at {path[-1]}, so the next edge must start there, not at {a}"
        i = _edge_index(edges, a, b)
        moved = ((*path, b) if path else (a, b)), used | (1 << i if i >= 0 else 0)
        if i < 0:
            return moved, f"there is no edge {a}-{b}"
        if used >> i & 1:
            return moved, f"edge {a}-{b} is already used"
        if not path:
            odd = _odd(problem)
            if odd and a not in odd:
                return moved, (
                    f"{a} has even degree: with odd-degree vertices {odd[0]} and {odd[1]} the trail "
                    "must start at one of them"
                )
        return moved, None

    def observe(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int]) -> str:
        return f"At {state[0][-1]}; {state[1].bit_count()} of {len(problem['edges'])} edges used."

    def blunder(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], rng: random.Random) -> tuple[Any, str] | None:
        """At the start, forgetting the odd-degree rule; later, taking an edge already walked
        or a 'shortcut' to a vertex that still has unused edges but is not a neighbour."""
        n, edges = problem["n"], problem["edges"]
        path, used = state
        adj = _adjacency(problem)
        odd = _odd(problem)
        if not path and odd:
            even = [v for v in range(n) if v not in odd]
            v = rng.choice(even)
            u = adj[v][0][0]
            return {"from": v, "to": u}, f"The trail can start anywhere: start at {v} and take {v}-{u}."
        at = path[-1] if path else 0
        walked = [u for u, bit in adj[at] if used & bit]
        near = {u for u, _ in adj[at]}
        busy = {x for i, (u, v) in enumerate(edges) if not used >> i & 1 for x in (u, v)}
        shortcuts = sorted(busy - near - {at})
        if walked and (not shortcuts or rng.random() < 0.5):
            u = rng.choice(walked)
            return {"from": at, "to": u}, f"At {at}, {at}-{u} looks unused: take it."
        if shortcuts:
            u = rng.choice(shortcuts)
            return {"from": at, "to": u}, f"At {at}, {u} still has unused edges: take {at}-{u}."
        return None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], rng: random.Random) -> list[TraceStep]:
        """Walk on greedily (lowest unused edge, no reachability checks) until stuck."""
        adj = _adjacency(problem)
        (*_, at), used = state
        steps = []
        while True:
            options = [(u, bit) for u, bit in adj[at] if not used & bit]
            if not options:
                return steps
            u, bit = options[0]
            steps.append(TraceStep("apply", f"At {at}, take {at}-{u}.", {"from": at, "to": u}))
            used |= bit
            at = u

    def read_off(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int]) -> str:
        return " ".join(map(str, state[0]))

    def random_move(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], rng: random.Random) -> Any | None:
        n = problem["n"]
        at = state[0][-1] if state[0] else rng.randrange(n)
        return {"from": at, "to": rng.choice([v for v in range(n) if v != at])}

    def move_text(self, move: Any) -> str:
        return f"edge {move['from']}-{move['to']}"

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"odd": _odd(problem)}

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        n, edges = problem["n"], problem["edges"]
        tokens = [t for t in _SEPARATORS.split(answer.strip()) if t]
        if not tokens:
            return False, "no vertices given"
        for t in tokens:
            if not _VERTEX.fullmatch(t) or int(t) >= n:
                return False, f"{t!r} is not a vertex (0..{n - 1})"
        walk = [int(t) for t in tokens]
        used = 0
        for k, (a, b) in enumerate(zip(walk, walk[1:], strict=False), start=1):
            i = _edge_index(edges, a, b)
            if i < 0:
                return False, f"step {k}: {a}-{b} is not an edge"
            if used >> i & 1:
                return False, f"step {k}: edge {a}-{b} is used a second time"
            used |= 1 << i
        missing = ((1 << len(edges)) - 1) & ~used
        if missing:
            return False, f"{missing.bit_count()} edge(s) never used: {_names(edges, missing)}"
        return True, f"a trail from {walk[0]} to {walk[-1]} that uses each of the {len(edges)} edges exactly once"

    def render(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int] | None, size: int) -> Any:
        """Odd-degree vertices (the possible ends) in green; walked edges in red and the
        trail's current vertex in blue once there is a state."""
        edges = problem["edges"]
        marked = dict.fromkeys(_odd(problem), draw.GREEN)
        walked: list[tuple[int, int]] = []
        if state is not None and state[0]:
            walked = [(u, v) for i, (u, v) in enumerate(edges) if state[1] >> i & 1]
            marked[state[0][-1]] = draw.BLUE
        return draw.graph_image(problem["n"], [(u, v, "") for u, v in edges], size, highlight=walked, marked=marked)


family = register(EulerPath())
