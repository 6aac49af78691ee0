"""The ``shortest_path`` family (group graphs): a shortest route in a weighted graph, by Dijkstra.

Graphs are a random spanning tree plus random extra edges with random positive weights, so
every one is connected and every seed is a different problem. The target is drawn from the
farther half of the nodes (by true distance from the source, at most 12 settles away) and is
never one edge away along a shortest path, so the search settles several nodes before it can
stop. Any shortest path passes the verifier; the gold answer is only the one the solver's
``via`` links give.

==========  =====  ===========  =======  =======  ======================================
difficulty  nodes  extra edges  weights  settles  typical expert steps (read..answer)
==========  =====  ===========  =======  =======  ======================================
1           6      3            1-9      3-5      ~9
2           8      5            1-9      4-7      ~11
3           10     7            1-12     5-9      ~12
4           13     9            1-15     6-12     ~14
5           16     12           1-20     8-12     ~15
==========  =====  ===========  =======  =======  ======================================

The solver is Dijkstra's algorithm as taught: the source is settled at 0; each step relaxes the
edges of the node settled last (every comparison is written out, "5: 4+2=6 < 9, update") and
settles the unsettled node with the smallest tentative distance; it stops when the target is
settled and walks the ``via`` links back. Dijkstra never backtracks, so backtracks appear only
where a reflective teacher undoes its own mistake.

Moves: ``settle {"node": v, "dist": d, "via": u}``; legal iff v is unsettled, u is settled,
u-v is an edge and d = dist(u) + w(u,v) (an addition slip breaks that rule). Settling a node
that is not the smallest tentative one is legal; it is wrong (the env's label) when its
distance is not the true shortest one, since no later step can correct a settled distance:
a position is solvable iff every settled distance is the shortest. State: ``(dist, via, last)``, the settled distance and
predecessor per node (-1 when unsettled) and the node settled last. Answer: the path's nodes
then its length, "0 4 2 7 (length 13)" (commas, '-' or '->' also separate the nodes).
"""

from __future__ import annotations

import heapq
import random
import re
from typing import Any

from synth.reasoning import draw
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, verify_holds, verify_intro
from synth.registry import register

_ANSWER = re.compile(r"(?P<path>.*?)[\s,;(]*\blength\b\s*[:=]?\s*(?P<length>[^\s)]*)\s*\)?\s*\.?\s*", re.I | re.S)
_SEPARATORS = re.compile(r"(?:\s|,|;|->|→|–|-|\[|\])+")

# The target is settled within this many settles. The noisy teacher tries at most 12 points of
# the trace for a mistake that changes the answer; with no more settles than that it always
# reaches the target's own settle, where a slip or an early settle always does.
_MAX_SETTLES = 12

State = tuple[tuple[int, ...], tuple[int, ...], int]


class _Graph:
    """What every hook needs from a problem, computed once: adjacency (lowest neighbour first),
    weights by ordered pair, and the true distances from the source and to the target (a plain
    heap Dijkstra, independent of the traced solver) for the verifier and the blunders."""

    __slots__ = ("adj", "weight", "shortest", "to_target", "on_path")

    def __init__(self, problem: dict[str, Any]):
        n = problem["n"]
        self.adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.weight: dict[tuple[int, int], int] = {}
        for u, v, w in problem["edges"]:
            self.adj[u].append((v, w))
            self.adj[v].append((u, w))
            self.weight[(u, v)] = self.weight[(v, u)] = w
        for links in self.adj:
            links.sort()
        self.shortest = _distances(self.adj, problem["source"])
        self.to_target = _distances(self.adj, problem["target"])
        best = self.shortest[problem["target"]]
        # nodes on some shortest source-target path: a blunder there changes the answer
        self.on_path = frozenset(v for v in range(n) if self.shortest[v] + self.to_target[v] == best)


def _distances(adj: list[list[tuple[int, int]]], source: int) -> list[int]:
    dist = [-1] * len(adj)
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] >= 0:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] < 0:
                heapq.heappush(heap, (d + w, v))
    return dist


def _frontier(graph: _Graph, dist: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Every unsettled node next to a settled one -> (tentative distance, via), the smallest
    distance and then the lowest via: what the settled distances of a state imply."""
    tentative: dict[int, tuple[int, int]] = {}
    for u, du in enumerate(dist):
        if du < 0:
            continue
        for v, w in graph.adj[u]:
            if dist[v] < 0 and (v not in tentative or (du + w, u) < tentative[v]):
                tentative[v] = (du + w, u)
    return tentative


def _smallest(tentative: dict[int, tuple[int, int]]) -> tuple[int, int, int]:
    """(distance, node, via) of the node Dijkstra settles next: smallest distance, lowest node."""
    return min((d, v, u) for v, (d, u) in tentative.items())


def _walk_back(via: tuple[int, ...], end: int) -> list[int]:
    path = [end]
    while via[path[-1]] >= 0:
        path.append(via[path[-1]])
    return path[::-1]


def _relax(graph: _Graph, dist: tuple[int, ...], last: int, tentative: dict[int, tuple[int, int]], say: Voice) -> list[str]:
    """Relax the edges of ``last`` into ``tentative`` (in place), each comparison written out."""
    du = dist[last]
    notes = []
    for v, w in graph.adj[last]:
        if dist[v] >= 0:
            continue
        nd, old = du + w, tentative.get(v)
        if old is None:
            notes.append(say(("<v>: <a>+<w>=<n>, first route, set", "<v> gets <a>+<w> = <n> (new)", "<v>: first route, <a>+<w>=<n>"), v=v, a=du, w=w, n=nd))
            tentative[v] = (nd, last)
        elif nd < old[0]:
            notes.append(say(("<v>: <a>+<w>=<n> < <o>, update", "<v> drops from <o> to <a>+<w> = <n>", "<v>: <n> beats <o>, update"), v=v, a=du, w=w, n=nd, o=old[0]))
            tentative[v] = (nd, last)
        else:
            notes.append(say(("<v>: <a>+<w>=<n>, not below <o>, keep", "<v> stays at <o> (<a>+<w> = <n> is no better)", "<v>: <n> >= <o>, keep <o>"),
                             v=v, a=du, w=w, n=nd, o=old[0]))
    return notes


def _settle_text(du: int, last: int, notes: list[str], tentative: dict[int, tuple[int, int]], v: int, d: int, u: int, say: Voice) -> str:
    """One Dijkstra step: the relaxations of the node settled last, the frontier, the settle."""
    relaxed = say.pick(("; ", ", ", "; ")).join(notes) if notes else say(("no unsettled neighbours", "nothing new to relax", "all its neighbours are settled"))
    order = sorted(tentative, key=lambda x: (tentative[x][0], x))
    style = say.pick(("<x>=<d>", "<x> at <d>", "<x>: <d>", "<d> for <x>"))
    listed = ", ".join(say(style, x=x, d=tentative[x][0]) for x in order)
    if say.chance(0.3):
        listed += say((" (via <l>)", ", with via <l>"), l=", ".join(f"{x}<-{tentative[x][1]}" for x in order))
    return say(("Relax the edges of <l> (distance <a>): <r>. Tentative: <t>. The smallest is <v> at <d> (via <u>): settle it.",
                "From <l> (at <a>): <r>. Frontier now <t>; the lowest is <v>, <d> via <u>, so settle <v>.",
                "Edges of <l>, settled at <a>: <r>. Tentative distances: <t>. Settle <v> at <d> via <u>, the smallest.",
                "<L> was settled at <a>; relaxing: <r>. That leaves <t>, so <v> (<d>, via <u>) is next."),
               l=last, L=f"Node {last}", a=du, r=relaxed, t=listed, v=v, d=d, u=u)


def _walk_text(via: tuple[int, ...], dist: tuple[int, ...], t: int, say: Voice) -> str:
    path = _walk_back(via, t)
    links = ", ".join(f"{x} via {via[x]}" for x in reversed(path[1:]))
    steps = " + ".join(str(dist[b] - dist[a]) for a, b in zip(path, path[1:], strict=False))
    check = say((" Check: <s> = <d>.", " The hops add up: <s> = <d>.", " Edge weights along it: <s> = <d>.", " Summing the hops, <s> = <d>, as it should.",
                 " <s> makes <d>."), s=steps, d=dist[t]) if say.chance(0.7) else ""
    return say(("<t> is settled at <d>. Walk back: <l>. Path <p>, length <d>.", "<t> settled at <d>; back along the via links: <l>. So the path is <p> (<d>).",
                "Done at <t> (<d>). Following via: <l>. That gives <p>, length <d>.", "The target <t> is settled, distance <d>. Via links back: <l>; the path reads <p>.",
                "<t> is final at <d>. Reading the via links back ({<l>|<l>, reversed}) gives <p>.", "Target <t> settled ({distance|cost} <d>); via links: <l>, so <p>."),
               t=t, d=dist[t], l=links, p=" ".join(map(str, path))) + check


class ShortestPath(ReasoningFamily):
    name = "shortest_path"
    group = "graphs"
    action = "settle"
    rules = (
        "the node is unsettled, 'via' is settled and joined to it by an edge, and 'dist' is dist(via) "
        "plus that edge's weight"
    )
    levels = {
        1: {"nodes": 6, "extra": 3, "max_weight": 9},
        2: {"nodes": 8, "extra": 5, "max_weight": 9},
        3: {"nodes": 10, "extra": 7, "max_weight": 12},
        4: {"nodes": 13, "extra": 9, "max_weight": 15},
        5: {"nodes": 16, "extra": 12, "max_weight": 20},
    }

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[dict[str, Any] | None, _Graph | None] = (None, None)

    def _graph(self, problem: dict[str, Any]) -> _Graph:
        """The problem's precomputed graph; one slot, keyed by identity (an episode's hooks all
        get the same problem object, and holding it keeps the identity from being reused)."""
        if self._last[0] is not problem:
            self._last = (problem, _Graph(problem))
        return self._last[1]

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, nodes: int, extra: int, max_weight: int) -> dict[str, Any]:
        n = nodes
        while True:
            shuffled = rng.sample(range(n), n)
            pairs = {tuple(sorted((shuffled[i], shuffled[rng.randrange(i)]))) for i in range(1, n)}
            while len(pairs) < n - 1 + extra:
                u, v = rng.randrange(n), rng.randrange(n)
                if u != v:
                    pairs.add((min(u, v), max(u, v)))
            edges = [[u, v, rng.randint(1, max_weight)] for u, v in sorted(pairs)]
            source = rng.randrange(n)
            problem = {"n": n, "edges": edges, "source": source, "target": source}
            graph = _Graph(problem)
            order = sorted(range(n), key=lambda v: (graph.shortest[v], v))  # Dijkstra's settle order
            far = order[n // 2 : _MAX_SETTLES + 1]
            targets = [t for t in far if graph.weight.get((source, t)) != graph.shortest[t]]
            if targets:
                problem["target"] = rng.choice(targets)
                return problem

    def describe(self, problem: dict[str, Any]) -> str:
        n, s, t = problem["n"], problem["source"], problem["target"]
        listed = "\n".join(f"{u} - {v}: {w}" for u, v, w in problem["edges"])
        return (
            f"An undirected graph has {n} nodes, numbered 0 to {n - 1}, and these "
            f"{len(problem['edges'])} weighted edges (u - v: weight):\n{listed}\n\n"
            f"Find a shortest path from node {s} to node {t}: one whose edge weights add up to the "
            "smallest possible total.\n"
            "Answer with the nodes of the path in order, separated by spaces, then its total length "
            "in parentheses, for example: 0 4 2 7 (length 13)"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        weights = [w for _, _, w in problem["edges"]]
        s, t = problem["source"], problem["target"]
        graph = self._graph(problem)
        head = say(("An undirected graph with <n> nodes and <m> edges, weights <a> to <b>", "<n> nodes, <m> weighted edges (<a>-<b>)",
                    "The graph has <n> nodes and <m> edges weighing <a> to <b>"), n=problem["n"], m=len(weights), a=min(weights), b=max(weights))
        goal = say(("I need a path from <s> to <t> with the smallest total weight, and that total", "find the lightest path <s> -> <t> and its length",
                    "the task: a shortest path from <s> to <t>, with its length"), s=s, t=t)
        facts = [
            say(("<s> has <k> neighbours", "from <s> the edges go to <l>", "<s> touches <l>"), s=s, k=len(graph.adj[s]),
                l=say.listing([str(v) for v, _ in graph.adj[s]])),
            say(("<t> is touched by <j> edges", "<t> has <j> neighbours: <l>"), t=t, j=len(graph.adj[t]), l=say.listing([str(v) for v, _ in graph.adj[t]])),
            say(("the lightest edge from <s> goes to <v> (<w>)", "<s>'s cheapest edge is <s>-<v>, weight <w>"), s=s, v=min(graph.adj[s], key=lambda x: (x[1], x[0]))[0],
                w=min(w for _, w in graph.adj[s])),
        ]
        extra = "".join(" " + cap(f) + "." for f in say.order(facts)[: say.pick((0, 1, 1, 2))])
        return f"{head}. {cap(goal)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        s, t = problem["source"], problem["target"]
        first = say(("Dijkstra from <s>: <s> is settled at distance 0.", "Run Dijkstra from <s>, which starts settled at 0.",
                     "Dijkstra's algorithm from <s> (distance 0)."), s=s)
        loop = say(("Relax the edges of the node settled last (a neighbour's tentative distance drops when the new route is shorter), then "
                    "settle the unsettled node with the smallest tentative distance: with positive weights no later route can beat it.",
                    "Each round: relax the newest settled node's edges, writing every comparison, then settle the smallest tentative distance "
                    "(positive weights, so nothing later can undercut it).",
                    "Relax, then settle the cheapest frontier node; repeat. Weights are positive, so a settled distance is final."))
        stop = say(("Stop once <t> is settled and follow the via links back.", "When <t> is settled, walk the via links back to <s>.",
                    "Stop at <t>'s settle and read the path off the via links."), t=t, s=s)
        graph = self._graph(problem)
        note = say(("<s> starts with <k> edges to relax.", "The first relaxations are <s>'s <k> edges.", ""), s=s, k=len(graph.adj[s]))
        return " ".join(x for x in ([first, loop, stop, note] if say.chance(0.5) else [first, note, loop, stop]) if x)

    def start(self, problem: dict[str, Any]) -> State:
        n, s = problem["n"], problem["source"]
        dist = [-1] * n
        dist[s] = 0
        return tuple(dist), (-1,) * n, s

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        t = problem["target"]
        steps, state = self._dijkstra(problem, self.start(problem), self.voice(problem))
        path = _walk_back(state[1], t)
        answer = f"{' '.join(map(str, path))} (length {state[0][t]})"
        return Search(steps, answer, {"settled": sum(d >= 0 for d in state[0]), "edges": len(path) - 1})

    def _dijkstra(self, problem: dict[str, Any], state: State, say: Voice) -> tuple[list[TraceStep], State]:
        """Dijkstra from ``state`` until the target is settled: the expert's whole search from
        the start, a noisy teacher's continuation from its broken state (whose distances it
        trusts). The node settled last is relaxed first, as the state has not done it yet."""
        graph = self._graph(problem)
        t = problem["target"]
        dist, via, last = state
        steps: list[TraceStep] = []
        tentative = _frontier(graph, dist[:last] + (-1,) + dist[last + 1 :])
        tentative.pop(last, None)
        while dist[t] < 0:
            notes = _relax(graph, dist, last, tentative, say)
            d, v, u = _smallest(tentative)
            steps.append(TraceStep("apply", _settle_text(dist[last], last, notes, tentative, v, d, u, say), {"node": v, "dist": d, "via": u}))
            del tentative[v]
            dist, via, last = dist[:v] + (d,) + dist[v + 1 :], via[:v] + (u,) + via[v + 1 :], v
        steps.append(TraceStep("think", _walk_text(via, dist, t, say), stage="check"))
        return steps, (dist, via, last)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: State, move: Any) -> tuple[State, str | None]:
        n = problem["n"]
        dist, via, _ = state
        v, d, u = (move.get("node"), move.get("dist"), move.get("via")) if isinstance(move, dict) else (None,) * 3
        if any(type(x) is not int for x in (v, d, u)) or not (0 <= v < n and 0 <= u < n):
            return state, f"a move names a node and a via node in 0..{n - 1} and an integer dist, got {move!r}"
        if dist[v] >= 0:
            return state, f"{v} is already settled at {dist[v]}"
        if dist[u] < 0:
            return state, f"{u} is not settled yet, so {v} cannot be settled via it"
        graph = self._graph(problem)
        w = graph.weight.get((u, v))
        if w is None:
            return state, f"there is no edge {u} - {v}"
        settled = dist[:v] + (d,) + dist[v + 1 :], via[:v] + (u,) + via[v + 1 :], v
        if d != dist[u] + w:
            return settled, f"{v} via {u} is {dist[u]}+{w}={dist[u] + w}, not {d}"
        return settled, None

    def observe(self, problem: dict[str, Any], state: State) -> str:
        dist = state[0]
        return "Settled: " + ", ".join(f"{v}={d}" for v, d in enumerate(dist) if d >= 0) + "."

    def keeps_solvable(self, problem: dict[str, Any], before: State, move: Any, after: State, search: Search) -> bool:
        """A settled distance is never revised, so the position stays solvable iff the node is
        settled at its true shortest distance."""
        return move["dist"] == self._graph(problem).shortest[move["node"]]

    def mistake(self, problem: dict[str, Any], state: State, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A node settled as soon as some route reaches it, at a distance that is not its
        shortest (the target most tempting: 'it is reachable, stop'), which is legal and wrong;
        or an addition slip on the node that is next, which breaks a rule. Early settles are
        drawn only on shortest paths and slips are made on the next node, so most of them
        change the answer a noisy teacher ends with."""
        graph = self._graph(problem)
        dist, _, last = state
        t = problem["target"]
        tentative = _frontier(graph, dist)
        if not tentative:
            return None
        early = [
            (x, u, du + w)
            for u, du in enumerate(dist)
            if du >= 0
            for x, w in graph.adj[u]
            if dist[x] < 0 and x in graph.on_path and du + w > graph.shortest[x]
        ]
        d, v, u = _smallest(tentative)
        rushed = [e for e in early if e[0] == t] or ([] if v == t else early)
        shown = dict(_frontier(graph, dist[:last] + (-1,) + dist[last + 1 :]))
        shown.pop(last, None)
        notes = _relax(graph, dist, last, shown, say)
        if rushed and (v not in graph.on_path or rng.random() < 0.6):
            x, ux, dx = rng.choice(rushed)
            fake = dict(shown)
            fake[x] = (dx, ux)
            text = _settle_text(dist[last], last, notes, {k: val for k, val in fake.items() if k == x or val[0] >= dx}, x, dx, ux, say)
            reveal = say(("<v> was at <b> via <y> then, below <x>'s <d>: <x> was not the smallest", "the frontier had <v> at <b> (via <y>), less than <d>",
                          "<x> at <d> was not the smallest tentative distance; <v> at <b> via <y> was"), v=v, b=d, y=u, x=x, d=dx)
            return Mistake({"node": x, "dist": dx, "via": ux}, text, "greedy", reveal)
        w = graph.weight[(u, v)]
        slip = d + rng.choice([k for k in (-2, -1, 1, 2) if d + k > dist[u]])
        fake = dict(shown)
        fake[v] = (slip, u)
        text = _settle_text(dist[last], last, notes, fake, v, slip, u, say)
        reveal = say(("<a>+<w> is <d>, not <s>", "the sum dist(<u>) + w = <a>+<w> = <d>, so <s> was a slip", "recomputing: <a> + <w> = <d>, not <s>"),
                     a=dist[u], w=w, d=d, s=slip, u=u)
        return Mistake({"node": v, "dist": slip, "via": u}, text, "slip", reveal)

    def continue_wrong(self, problem: dict[str, Any], state: State, say: Voice, rng: random.Random) -> list[TraceStep]:
        """Carry on with Dijkstra, trusting the wrong distance as if it were final."""
        return self._dijkstra(problem, state, say)[0]

    def confirm(self, problem: dict[str, Any], before: State, move: Any, say: Voice) -> str | None:
        graph = self._graph(problem)
        dist = before[0]
        v, d, u = move["node"], move["dist"], move["via"]
        w = graph.weight.get((u, v))
        if w is None or dist[u] < 0:
            return None
        tentative = _frontier(graph, dist)
        others = sorted((val[0], x) for x, val in tentative.items() if x != v)
        smallest = say(("no other tentative distance was lower (next: <x> at <y>)", "the rest of the frontier started at <y> (<x>)",
                        "nothing on the frontier was below <d>; <x> came next at <y>"), x=others[0][1], y=others[0][0], d=d) if others else             say(("it was the only node on the frontier", "nothing else was reachable"))
        return f"{u} settled at {dist[u]}, edge {u}-{v} weighs {w}: {dist[u]}+{w} = {d}; {smallest}"

    def narrate(self, problem: dict[str, Any], state: State, move: Any, say: Voice) -> str:
        graph = self._graph(problem)
        dist, _, last = state
        shown = dict(_frontier(graph, dist[:last] + (-1,) + dist[last + 1 :]))
        shown.pop(last, None)
        notes = _relax(graph, dist, last, shown, say)
        shown[move["node"]] = (move["dist"], move["via"])
        return _settle_text(dist[last], last, notes, shown, move["node"], move["dist"], move["via"], say)

    def muse(self, problem: dict[str, Any], state: State, say: Voice) -> str | None:
        dist, via, _ = state
        end = max(range(problem["n"]), key=lambda x: (dist[x], x))
        return _walk_text(via, dist, end, say) if dist[end] > 0 else None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        graph = self._graph(problem)
        found = _ANSWER.fullmatch(answer.strip())
        nodes = [int(x) for x in _SEPARATORS.split(found["path"].strip()) if x.isdigit()] if found else []
        weights = [graph.weight.get((a, b), 0) for a, b in zip(nodes, nodes[1:], strict=False)]
        total = " + ".join(map(str, weights)) or "0"
        edges = say(("the edges along <p> weigh <w> = <s>", "<p>: <w> = <s>", "adding up <p> gives <w> = <s>"),
                    p=" -> ".join(map(str, nodes)), w=total, s=sum(weights))
        ends = say(("it runs from <a> to <b> along existing edges", "from the source <a> to the target <b>, every hop an edge"),
                    a=problem["source"], b=problem["target"])
        best = say(("and the target was settled at that distance", "which is the target's settled distance", "matching Dijkstra's distance for it"))
        return f"{verify_intro(say, answer)}: {ends}; {edges}, {best}; {verify_holds(say)}."

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        """The answer with, now and then, true remarks about the path it gives (read from the
        answer itself, so they hold whichever tier wrote it): its edge count, where it ends."""
        nodes = answer.split("(")[0].split()
        notes = []
        if len(nodes) > 1 and say.chance(0.45):
            notes.append(say(("<k> edge(s)", "<k> hop(s)", "over <k> edge(s)", "a path of <k> edge(s)"), k=len(nodes) - 1))
        if nodes and say.chance(0.35):
            notes.append(say(("ending at <t>", "it ends on <t>", "the last node is <t>"), t=nodes[-1]))
        return answer_line(say, answer, say.listing(say.order(notes)))

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        """The path to the target when it is settled, else to the farthest settled node."""
        dist, via, _ = state
        t = problem["target"]
        end = t if dist[t] >= 0 else max(range(problem["n"]), key=lambda x: (dist[x], x))
        return f"{' '.join(map(str, _walk_back(via, end)))} (length {dist[end]})"

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        """Settle a random node next to the settled ones via a random settled neighbour, adding
        correctly but never comparing tentative distances."""
        dist = state[0]
        if dist[problem["target"]] >= 0:
            return None
        graph = self._graph(problem)
        links = [(v, u, w) for u, du in enumerate(dist) if du >= 0 for v, w in graph.adj[u] if dist[v] < 0]
        v, u, w = rng.choice(links)
        return {"node": v, "dist": dist[u] + w, "via": u}

    def move_text(self, move: Any) -> str:
        return f"{move['node']} at {move['dist']} via {move['via']}"

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"length": self._graph(problem).shortest[problem["target"]]}

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        n, s, t = problem["n"], problem["source"], problem["target"]
        graph = self._graph(problem)
        found = _ANSWER.fullmatch(answer.strip())
        if found is None:
            return False, "no '(length N)' after the path"
        if not found["length"].isdigit():
            return False, f"the length {found['length']!r} is not a whole number"
        tokens = [x for x in _SEPARATORS.split(found["path"].strip()) if x]
        if not tokens:
            return False, "no path given"
        for x in tokens:
            if not x.isdigit() or int(x) >= n:
                return False, f"{x!r} is not a node (0..{n - 1})"
        path = [int(x) for x in tokens]
        if path[0] != s:
            return False, f"the path starts at {path[0]}, not at the source {s}"
        if path[-1] != t:
            return False, f"the path ends at {path[-1]}, not at the target {t}"
        total = 0
        for a, b in zip(path, path[1:], strict=False):
            w = graph.weight.get((a, b))
            if w is None:
                return False, f"there is no edge {a} - {b}"
            total += w
        stated, best = int(found["length"]), graph.shortest[t]
        if stated != total:
            return False, f"the stated length {stated} is not the sum of the edge weights, {total}"
        if total > best:
            return False, f"length {total} > shortest {best}"
        return True, f"a path from {s} to {t} along existing edges, of length {total}, the shortest distance"

    def render(self, problem: dict[str, Any], state: State | None, size: int) -> Any:
        """Weights on the edges, the source green and the target red; with a state, the via
        links of the settled nodes (the shortest-path tree so far) in red."""
        tree = [] if state is None else [(u, v) for v, u in enumerate(state[1]) if u >= 0]
        return draw.graph_image(
            problem["n"],
            [(u, v, str(w)) for u, v, w in problem["edges"]],
            size,
            highlight=tree,
            marked={problem["source"]: draw.GREEN, problem["target"]: draw.RED},
        )


family = register(ShortestPath())
