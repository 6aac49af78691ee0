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

Moves: ``traverse {"from": u, "to": v}``; legal iff ``from`` is where the trail stands and
u-v is an unused edge. A legal move is wrong (the env's label) when the trail can no longer be
completed: by Euler's theorem, when the unused edges are not all reachable from where the trail
stands, or their odd-degree vertices are neither none nor two with the trail at one of them
(so starting at an even vertex when two are odd is legal and wrong). The search's own tries
at a vertex (every unused edge there) are branches, not mistakes: its check after the move
finds the bridge it burnt and backtracks. State: ``(path, used)``, the vertices walked so far and a bitmask over the edge list.
Answer: the vertices in order, "0 3 1 0 2" (commas, '-' or '->' also separate them).
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
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


def _degrees_text(problem: dict[str, Any], adj: list, odd: list[int], at: int, say: Voice) -> str:
    """The degree of every vertex and where that lets the trail start (``odd`` as the solver
    reads it: a teacher that forgets the odd vertices passes none)."""
    style = say.pick(("<v>:<d>", "<v> <d>", "<v>=<d>"))
    degrees = ", ".join(say(style, v=v, d=len(links)) for v, links in enumerate(adj))
    if odd:
        where = say(("Odd: <a> and <b>, so the trail runs between them: start at <s>.", "<a> and <b> are odd: the ends. Start at <s>.",
                     "Two odd vertices, <a> and <b>; the trail starts at <s>."), a=odd[0], b=odd[1], s=at)
    else:
        where = say(("All even, so the trail is a circuit and may start anywhere: start at <s>.", "Every degree is even: any start works, take <s>.",
                     "No odd vertex, so a circuit; start at <s>."), s=at)
    return say(("Degrees: <d>. <w>", "Degree per vertex: <d>. <w>", "Counting edges per vertex: <d>. <w>"), d=degrees, w=where)


def _reach_note(left: int, u: int, say: Voice) -> str:
    return say(("Check: all <k> unused edges are still reachable from <u>. ", "From <u> the <k> unused edges can all be reached. ",
                "Reachability holds: <k> unused edges, all connected to <u>. "), k=left, u=u)


def _take_text(at: int, u: int, options: list[int], j: int, say: Voice, done: int = -1, total: int = 0, trail: list[int] | None = None,
               walked: list[int] | None = None) -> str:
    """A move of the walk: the unused edges at the vertex and which one is taken (and,
    sometimes, how many edges are walked so far, or the trail as it stands)."""
    extras = []
    if done >= 0 and total:
        extras.append(say(("(<k> of <m> edges walked)", "That makes <k> of <m>.", "<r> edges to go after it."), k=done + 1, m=total, r=total - done - 1))
    if trail:
        extras.append(say(("Trail now: <t>.", "So far: <t>.", "The walk reads <t>."), t=" ".join(map(str, [*trail, u]))))
    if len(options) > 1:
        extras.append(say(("<a> keeps <k> unused edge(s) for later.", "That leaves <k> more at <a>.", "<a> will still have <k> to use."),
                          a=at, k=len(options) - 1))
    if walked:
        extras.append(say(("Edges to <w> are used already.", "(<a>-<w> walked before.)", "Already used at <a>: <w>."),
                          a=at, w=say.listing([str(x) for x in walked])))
    shown = say.order(extras)[: say.pick((1, 1, 2, 2, 3))]
    return " ".join([_take_core(at, u, options, j, say), *shown])


def _take_core(at: int, u: int, options: list[int], j: int, say: Voice) -> str:
    if len(options) == 1:
        return say(("At <a>, <a>-<u> is the only unused edge: take it.", "Only <a>-<u> is left at <a>, so take it.", "From <a> the one way on is <u>.",
                    "<a> has a single unused edge, to <u>.", "Forced at <a>: <a>-<u>.", "Nothing else at <a> but <a>-<u>; take it."), a=at, u=u)
    if j == 0:
        return say(("At <a>, unused edges go to <o>: take <a>-<u>, the lowest.", "<a> has unused edges to <o>; the lowest is <u>, take it.",
                    "From <a> I can go to <o>. Take <a>-<u> first."), a=at, o=say.listing([str(x) for x in options]), u=u)
    if j == len(options) - 1:
        return say(("At <a>, <a>-<u> is the one unused edge left to try: take it.", "The last option at <a> is <a>-<u>.", "Back at <a>, only <a>-<u> remains to try."),
                   a=at, u=u)
    return say(("At <a>, try the next unused edge: <a>-<u>.", "Next edge from <a>: <a>-<u>.", "<a> again: try <a>-<u> now."), a=at, u=u)


class EulerPath(ReasoningFamily):
    name = "euler_path"
    group = "graphs"
    action = "traverse"
    rules = "'from' is where the trail stands and from-to is an edge not used yet"
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        adj = _adjacency(problem)
        head = say(("An undirected graph with <n> vertices and <m> edges", "<n> vertices, <m> edges, undirected", "The graph: <n> vertices joined by <m> edges"),
                    n=problem["n"], m=len(problem["edges"]))
        goal = say(("I need a walk that uses every edge exactly once; where it may start depends on the odd-degree vertices",
                    "the task is an Eulerian trail: each edge once, starting where the degrees allow",
                    "every edge must be walked exactly once, so first the degrees decide the ends"))
        hub = max(range(problem["n"]), key=lambda v: (len(adj[v]), -v))
        extra = say((" Vertex <v> has the most edges (<k>).", " <v> is the busiest vertex, degree <k>.", ""), v=hub, k=len(adj[hub])) if say.chance(0.5) else ""
        if say.chance(0.5):  # the edges written out per vertex, as one reads a graph before walking it
            lists = "; ".join(f"{v}: {', '.join(str(u) for u, _ in sorted(adj[v]))}" for v in range(problem["n"]) if adj[v])
            extra += say((" Neighbours: <l>.", " Who joins whom: <l>.", " Adjacency: <l>."), l=lists)
        return f"{head}. {cap(goal)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        degrees = say(("Count degrees to find where the trail must start.", "First the degree of every vertex: the odd ones are the ends.",
                       "Degrees first: two odd vertices fix the ends, none means a circuit."))
        walk = say(("Then walk: at each vertex take the lowest unused edge, and after a move that had an alternative check that every unused "
                    "edge is still reachable from the new vertex; if some are cut off, the edge was a bridge taken too early, so go back one "
                    "move and take the next edge.",
                    "Walk from the start, lowest unused edge first; whenever there was a choice, check afterwards that all unused edges can "
                    "still be reached, and if not undo that move and try the next edge.",
                    "Take the lowest unused edge each time; after a choice, a reachability check catches a burnt bridge, which sends me one "
                    "move back to the next edge."))
        m = len(problem["edges"])
        size = say(("<m> edges, so the answer lists <k> vertices.", "The trail will be <m> edges long.", "That is <m> moves in all.", ""), m=m, k=m + 1)
        return " ".join(x for x in [degrees, walk, size] if x)

    def start(self, problem: dict[str, Any]) -> tuple[tuple[int, ...], int]:
        return (), 0

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        edges = problem["edges"]
        say = self.voice(problem)
        adj = _adjacency(problem)
        odd = _odd(problem)
        full = (1 << len(edges)) - 1
        at = odd[0] if odd else 0
        steps = [TraceStep("think", _degrees_text(problem, adj, odd, at, say), stage="check")]
        counts = {"moves": 0, "backtracks": 0}
        used, note, path = 0, "", [at]
        while used != full:
            options = [(u, bit) for u, bit in adj[at] if not used & bit]
            for j, (u, bit) in enumerate(options):
                walked = [x for x, b in adj[at] if used & b]
                steps.append(TraceStep("apply", note + _take_text(at, u, [x for x, _ in options], j, say, used.bit_count(), len(edges), path, walked),
                                       {"from": at, "to": u}))
                counts["moves"] += 1
                note = ""
                if j == len(options) - 1:  # no alternative left: a forced move needs no check
                    break
                lost = _stranded(adj, u, used | bit, full)
                if not lost:
                    left = (full & ~(used | bit)).bit_count()
                    note = _reach_note(left, u, say) if left else ""
                    break
                counts["backtracks"] += 1
                steps.append(TraceStep("backtrack", say(
                    ("Check: from <u> the unused edge(s) <l> can no longer be reached, so <a>-<u> was a bridge taken too early: <d>.",
                     "From <u>, <l> {is|are} cut off: <a>-<u> burnt a bridge. <D>.",
                     "Reachability fails at <u>: <l> can no longer be walked, so <a>-<u> came too early."),
                    u=u, l=_names(edges, lost), a=at, d=dead_end(say), D=cap(dead_end(say))), depth=len(path) - 1))
            used |= bit
            at = u
            path.append(u)
        return Search(steps, " ".join(map(str, path)), counts)

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
        return moved, None

    def observe(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int]) -> str:
        return f"Trail so far: {' '.join(map(str, state[0])) or 'none'}."

    def keeps_solvable(self, problem: dict[str, Any], before: Any, move: Any, after: tuple[tuple[int, ...], int], search: Search) -> bool:
        """Euler's theorem on the unused edges: all of them reachable from where the trail
        stands, and their odd-degree vertices none (the trail stands on one of them, or none is
        left) or two with the trail at one of them."""
        path, used = after
        edges = problem["edges"]
        full = (1 << len(edges)) - 1
        left = full & ~used
        if not left:
            return True
        at = path[-1]
        if _stranded(_adjacency(problem), at, used, full):
            return False
        degree = [0] * problem["n"]
        for i, (u, v) in enumerate(edges):
            if left >> i & 1:
                degree[u] += 1
                degree[v] += 1
        odd = [v for v, d in enumerate(degree) if d % 2]
        return (not odd and degree[at] > 0) or (len(odd) == 2 and at in odd)

    def branches(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], move: Any) -> bool:
        """The search's tries: any unused edge from where the trail stands (it checks after the
        move), and at the start only from the vertex it starts at."""
        path = state[0]
        if not path:
            odd = _odd(problem)
            return move["from"] == (odd[0] if odd else 0)
        return move["from"] == path[-1]

    def mistake(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """At the start, forgetting the odd-degree rule (legal, and the trail can no longer be
        completed); later, an edge already walked read as unused, or a 'shortcut' to a vertex
        that is not a neighbour (misreads, which break a rule)."""
        n, edges = problem["n"], problem["edges"]
        path, used = state
        adj = _adjacency(problem)
        odd = _odd(problem)
        if not path and odd:
            v = rng.choice([v for v in range(n) if v not in odd and adj[v]])
            u = adj[v][0][0]
            text = _degrees_text(problem, adj, [], v, say) + " " + _take_text(v, u, [x for x, _ in adj[v]], 0, say)
            reveal = say(("<a> and <b> have odd degree, so the trail must start at one of them, not at <v>", "starting at the even vertex <v> leaves odd <a> and <b> as loose ends",
                          "with odd vertices <a> and <b>, a trail from <v> cannot use every edge"), a=odd[0], b=odd[1], v=v)
            return Mistake({"from": v, "to": u}, text, "forgotten", reveal)
        if not path:
            return None
        at = path[-1]
        walked = [u for u, bit in adj[at] if used & bit]
        near = {u for u, _ in adj[at]}
        busy = {x for i, (u, v) in enumerate(edges) if not used >> i & 1 for x in (u, v)}
        shortcuts = sorted(busy - near - {at})
        options = [u for u, bit in adj[at] if not used & bit]
        if walked and (not shortcuts or rng.random() < 0.5):
            u = rng.choice(walked)
            return Mistake({"from": at, "to": u}, _take_text(at, u, sorted({*options, u}), 0, say), "misread",
                           say(("<a>-<u> was walked already", "the trail used <a>-<u> before", "edge <a>-<u> is spent"), a=at, u=u))
        if shortcuts:
            u = rng.choice(shortcuts)
            return Mistake({"from": at, "to": u}, _take_text(at, u, sorted({*options, u}), 0, say), "misread",
                           say(("there is no edge <a>-<u>", "<u> is not a neighbour of <a>", "<a> and <u> are not joined"), a=at, u=u))
        return None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Walk on with the search's own wording (lowest unused edge first), never going back:
        a reachability check that would fail is not made, so the walk ends where it gets stuck."""
        adj = _adjacency(problem)
        trail, used = list(state[0]), state[1]
        at = trail[-1]
        steps = []
        while True:
            options = [(u, bit) for u, bit in adj[at] if not used & bit]
            if not options:
                return steps
            u, bit = options[0]
            walked = [x for x, b in adj[at] if used & b]
            steps.append(TraceStep("apply", _take_text(at, u, [x for x, _ in options], 0, say, used.bit_count(), len(problem["edges"]), trail, walked),
                                   {"from": at, "to": u}))
            used |= bit
            at = u
            trail.append(u)

    def confirm(self, problem: dict[str, Any], before: Any, move: Any, say: Voice) -> str | None:
        path, used = before
        a, b = move["from"], move["to"]
        i = _edge_index(problem["edges"], a, b)
        if i < 0:
            return None
        where = say(("the trail stood at <a> (<t>)", "<a> was the trail's end, after <t>") if path else ("the trail started at <a>", "<a> was the start"),
                    a=a, t=" ".join(map(str, path)))
        fresh = say(("<a>-<b> had not been used", "edge <a>-<b> was still free", "<a>-<b> was unused then"), a=a, b=b)
        return f"{where}, and {fresh}"

    def narrate(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], move: Any, say: Voice) -> str:
        adj = _adjacency(problem)
        path, used = state
        a = move["from"]
        options = sorted({*(u for u, bit in adj[a] if not used & bit), move["to"]})
        j = 0 if say.chance(0.7) else options.index(move["to"])
        if j == 0 and options[0] != move["to"]:
            options = [move["to"], *(x for x in options if x != move["to"])]
        note = ""
        full = (1 << len(problem["edges"])) - 1
        if path and say.chance(0.4) and not _stranded(adj, a, used, full):
            note = _reach_note((full & ~used).bit_count(), a, say)
        walked = [x for x, b in adj[a] if used & b]
        return note + _take_text(a, move["to"], options, j, say, used.bit_count(), len(problem["edges"]), list(path) or [a], walked)

    def muse(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], say: Voice) -> str | None:
        odd = _odd(problem)
        return _degrees_text(problem, _adjacency(problem), odd, odd[0] if odd else 0, say)

    def stuck(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], say: Voice) -> str | None:
        path, used = state
        if not path:
            return None
        lost = _stranded(_adjacency(problem), path[-1], used, (1 << len(problem["edges"])) - 1)
        if not lost:
            return None
        return say(("Check: from <u> the unused edge(s) <l> can no longer be reached: <d>.", "From <u>, <l> {is|are} cut off. <D>."),
                   u=path[-1], l=_names(problem["edges"], lost), d=dead_end(say), D=cap(dead_end(say)))

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        walk = [t for t in answer.split() if t.isdigit()]
        hops = ", ".join(f"{a}-{b}" for a, b in zip(walk, walk[1:], strict=False))
        edges = say(("the trail walks <h>: <k> edges", "<k> hops, <h>", "edges in order: <h> (<k> of them)"), h=hops, k=max(0, len(walk) - 1))
        once = say(("each of the <m> edges exactly once", "no edge twice and none missing", "all <m> edges, none repeated"), m=len(problem["edges"]))
        ends = say(("from <a> to <b>", "starting at <a> and ending at <b>"), a=walk[0] if walk else "?", b=walk[-1] if walk else "?")
        return f"{verify_intro(say, answer)}: {edges}, {ends}; {once}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int]) -> str:
        return " ".join(map(str, state[0]))

    def random_move(self, problem: dict[str, Any], state: tuple[tuple[int, ...], int], rng: random.Random) -> Any | None:
        """Mostly an unused edge at the trail's end picked without checking what it cuts off,
        sometimes any edge there, now and then a vertex it is not joined to."""
        n = problem["n"]
        at = state[0][-1] if state[0] else rng.randrange(n)
        adj = _adjacency(problem)
        unused = [u for u, bit in adj[at] if not state[1] & bit]
        draw = rng.random()
        if unused and draw < 0.6:
            return {"from": at, "to": rng.choice(unused)}
        if adj[at] and draw < 0.85:
            return {"from": at, "to": rng.choice(adj[at])[0]}
        return {"from": at, "to": rng.choice([v for v in range(n) if v != at])}

    def move_text(self, move: Any) -> str:
        return f"edge {move['from']}-{move['to']}"

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"odd": _odd(problem)}

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
