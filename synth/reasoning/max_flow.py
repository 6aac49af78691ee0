"""The ``max_flow`` family (group graphs): a maximum flow from s to t in a capacitated network.

Networks are small directed graphs with random capacities 1-9 in which every node lies on some
path from s to t (so the flow is positive and no node is decoration); there are no edges into s,
out of t, or in both directions between two nodes. Many networks have several maximum flows:
the verifier checks the constraints and compares the value with an independently computed
maximum, so any maximum flow passes, not only the solver's.

==========  =====  =====  =================  ======================================
difficulty  nodes  edges  s out, t in (min)  typical expert steps (read..answer)
==========  =====  =====  =================  ======================================
1           5      7      2                  ~12
2           7      ~11    3                  ~14
3           9      ~15    4                  ~15
4           11     ~20    5                  ~17
5           14     ~27    7                  ~22
==========  =====  =====  =================  ======================================

Capacities are 1-9 at every level. Edges are the level's count, or a few more where giving s
and t their minimum number of edges needs them; wider ends mean more augmenting paths, which
is what lengthens the trace.

The solver is Edmonds-Karp: breadth-first search from s on the residual graph (neighbours in
node order), augment along the shortest path by its bottleneck, update the residuals, repeat;
the last search, which cannot reach t, gives the minimum cut whose capacity proves the value.

Moves: ``augment {"path": ["s", "a", "t"], "amount": k}``; legal iff the path runs from s to t
through distinct nodes, every hop is a residual edge (a forward edge with capacity left, or an
edge walked backwards to cancel its flow) and 1 <= k <= the smallest residual on the path: any
amount up to the bottleneck keeps the flow feasible, so it is allowed, not only the bottleneck
itself. State: the flow on each edge, in the order of ``problem["edges"]``.
Answer: "value 9; s->a 4, s->b 5, a->t 4, b->t 5" (edges left out carry 0).
"""

from __future__ import annotations

import random
import re
from typing import Any, NamedTuple

from synth.reasoning import draw
from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

_INNER = "abcdefghijkl"
_SEPARATORS = re.compile(r"(?:[\s,;.]|(?:flows?|edges?)\s*:)*")
_VALUE = re.compile(r"(?:(?:max(?:imum)?\s*)?flow\s*)?value\s*(?:is|[:=])?\s*(-?\d+)\b|max(?:imum)?\s*flow\s*(?:is|[:=])?\s*(-?\d+)\b")
_EDGE = re.compile(r"(\w+?)\s*(?:->|→|-|>)\s*(\w+?)\s*[:=]?\s*(-?\d+)\b")


class _Net(NamedTuple):
    """A problem in index form: node 0 is s, node n-1 is t."""

    names: list[str]
    index: dict[str, int]
    edges: list[tuple[int, int, int]]  # (from, to, capacity)
    hops: dict[tuple[int, int], tuple[int, bool]]  # (a, b) -> (edge, forward?): the residual edges
    links: list[list[tuple[int, int, bool]]]  # per node: (neighbour, edge, forward?), in node order
    best: int  # the maximum flow value, for the verifier
    verdicts: dict[str, tuple[bool, str]]  # answer -> verdict: scripts and envs check the same answers


# id(problem) -> (problem, its net): every hook gets the same problem dict many times per
# episode, and holding the dict keeps its id from being reused while it is cached
_NETS: dict[int, tuple[dict[str, Any], _Net]] = {}


def _net(problem: dict[str, Any]) -> _Net:
    hit = _NETS.get(id(problem))
    if hit is not None and hit[0] is problem:
        return hit[1]
    names = problem["nodes"]
    index = {name: i for i, name in enumerate(names)}
    edges = [(index[u], index[v], c) for u, v, c in problem["edges"]]
    hops: dict[tuple[int, int], tuple[int, bool]] = {}
    links: list[list[tuple[int, int, bool]]] = [[] for _ in names]
    for i, (u, v, _) in enumerate(edges):
        hops[(u, v)] = (i, True)
        hops[(v, u)] = (i, False)
        links[u].append((v, i, True))
        links[v].append((u, i, False))
    for row in links:
        row.sort()
    net = _Net(names, index, edges, hops, links, _max_value(len(names), edges), {})
    if len(_NETS) >= 64:
        del _NETS[next(iter(_NETS))]
    _NETS[id(problem)] = (problem, net)
    return net


def _residual(net: _Net, flows: tuple[int, ...], a: int, b: int) -> int:
    i, forward = net.hops[(a, b)]
    return net.edges[i][2] - flows[i] if forward else flows[i]


def _bfs(net: _Net, flows: tuple[int, ...], forward_only: bool = False) -> tuple[list[int], str]:
    """Breadth-first search from s over hops with residual capacity left, stopping once t is
    found: the parent of each node reached (-1: not reached) and what each visit discovered.
    ``forward_only`` is the search of a teacher who forgets the reverse edges."""
    t = len(net.names) - 1
    parent = [-1] * len(net.names)
    parent[0] = 0
    queue, said = [0], []
    edges = net.edges
    for u in queue:
        new = []
        for v, i, forward in net.links[u]:
            room = edges[i][2] - flows[i] if forward else 0 if forward_only else flows[i]
            if parent[v] < 0 and room > 0:
                parent[v] = u
                new.append(v)
                queue.append(v)
        if new:
            said.append(f"{net.names[u]} -> {', '.join([net.names[v] for v in new])}")
        if parent[t] >= 0:
            break
    return parent, "; ".join(said) or f"nothing is reachable from {net.names[0]}"


def _path(parent: list[int]) -> list[int]:
    path = [len(parent) - 1]
    while path[-1]:
        path.append(parent[path[-1]])
    return path[::-1]


def _hop_text(net: _Net, flows: tuple[int, ...], a: int, b: int) -> str:
    """A residual hop as the trace names it: forward 's->a 4', backward 'c->a 2 (cancels ...)'."""
    r = _residual(net, flows, a, b)
    if net.hops[(a, b)][1]:
        return f"{net.names[a]}->{net.names[b]} {r}"
    return f"{net.names[a]}->{net.names[b]} {r} (cancels flow on {net.names[b]}->{net.names[a]})"


def _search_text(net: _Net, flows: tuple[int, ...], found: str, path: list[int], amount: int) -> str:
    """One Edmonds-Karp round as the trace says it; ``amount`` is what the teacher concludes
    the bottleneck is (the blunder's misread minimum is said the same way)."""
    hops = list(zip(path, path[1:], strict=False))
    room = ", ".join([str(_residual(net, flows, a, b)) for a, b in hops])
    return (
        f"BFS from s on the residual graph: {found}. Shortest path: {' '.join([net.names[v] for v in path])}. "
        f"Residual capacities along it: {', '.join([_hop_text(net, flows, a, b) for a, b in hops])}; "
        f"bottleneck min({room}) = {amount}. Augment by {amount}."
    )


def _augmented(net: _Net, flows: tuple[int, ...], path: list[int], amount: int) -> tuple[int, ...]:
    new = list(flows)
    for a, b in zip(path, path[1:], strict=False):
        i, forward = net.hops[(a, b)]
        new[i] += amount if forward else -amount
    return tuple(new)


def _value(net: _Net, flows: tuple[int, ...]) -> int:
    """The net flow out of s."""
    return sum(f if u == 0 else -f for (u, v, _), f in zip(net.edges, flows, strict=True) if 0 in (u, v))


def _max_value(n: int, edges: list[tuple[int, int, int]]) -> int:
    """The maximum flow value by depth-first augmenting paths on a capacity matrix: a different
    algorithm from the solver's, so the verifier does not trust the solver to judge it."""
    room = [[0] * n for _ in range(n)]
    for u, v, c in edges:
        room[u][v] += c

    def push(u: int, limit: int, seen: set[int]) -> int:
        if u == n - 1:
            return limit
        seen.add(u)
        for v in range(n):
            if room[u][v] > 0 and v not in seen:
                sent = push(v, min(limit, room[u][v]), seen)
                if sent:
                    room[u][v] -= sent
                    room[v][u] += sent
                    return sent
        return 0

    total = 0
    while sent := push(0, 10**9, set()):
        total += sent
    return total


def _check(net: _Net, answer: str) -> tuple[bool, str]:
    """Parse a flow answer (any order, edges left out carry 0) and check it: capacities,
    conservation, the stated value, then optimality against the independent maximum."""
    names = net.names
    text = answer.strip().lower()
    value, flows = None, [0] * len(net.edges)
    listed: set[int] = set()
    pos = _SEPARATORS.match(text).end()
    while pos < len(text):
        found = _VALUE.match(text, pos)
        if found:
            if value is not None:
                return False, "the value is given twice"
            value = int(found.group(1) or found.group(2))
        else:
            found = _EDGE.match(text, pos)
            if not found:
                return False, f"cannot read {text[pos:].split()[0]!r}: expected 'value N' or an edge and its flow such as 's->a 4'"
            u, v, f = found.group(1), found.group(2), int(found.group(3))
            for x in (u, v):
                if x not in net.index:
                    return False, f"{x!r} is not a node ({', '.join(names)})"
            hop = net.hops.get((net.index[u], net.index[v]))
            if hop is None or not hop[1]:
                return False, f"{u}->{v} is not an edge" + (f" (the edge is {v}->{u})" if hop else "")
            if hop[0] in listed:
                return False, f"{u}->{v} is listed twice"
            listed.add(hop[0])
            flows[hop[0]] = f
        pos = _SEPARATORS.match(text, found.end()).end()
    if value is None:
        return False, "no flow value given ('value N')"
    for (u, v, c), f in zip(net.edges, flows, strict=True):
        if f < 0:
            return False, f"{names[u]}->{names[v]} carries {f}, below 0"
        if f > c:
            return False, f"{names[u]}->{names[v]} carries {f}, over its capacity {c}"
    balance = [0] * len(names)
    for (u, v, _), f in zip(net.edges, flows, strict=True):
        balance[u] -= f
        balance[v] += f
    for x in range(1, len(names) - 1):
        if balance[x]:
            inflow = sum(f for (_, v, _), f in zip(net.edges, flows, strict=True) if v == x)
            return False, f"flow is not conserved at {names[x]}: {inflow} in, {inflow - balance[x]} out"
    sent = -balance[0]
    if value != sent:
        return False, f"the value {value} is not the net flow out of s, which is {sent}"
    if value < net.best:
        return False, f"value {value} < maximum {net.best}"
    return True, f"a feasible flow (capacities and conservation hold) of value {value}, the maximum"


class MaxFlow(ReasoningFamily):
    name = "max_flow"
    group = "graphs"
    action = "augment"
    rules = (
        "'path' runs from s to t through distinct nodes, each hop a residual edge (a forward edge "
        "with capacity left or an edge walked backwards against its flow), and 1 <= 'amount' <= "
        "the smallest residual capacity on it"
    )
    levels = {
        1: {"n": 5, "edges": 7, "width": 2, "capacity": 9},
        2: {"n": 7, "edges": 11, "width": 3, "capacity": 9},
        3: {"n": 9, "edges": 15, "width": 4, "capacity": 9},
        4: {"n": 11, "edges": 19, "width": 5, "capacity": 9},
        5: {"n": 14, "edges": 26, "width": 7, "capacity": 9},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, n: int, edges: int, width: int, capacity: int) -> dict[str, Any]:
        """Every inner node gets an edge in from a node earlier in a random order and one out to
        a later node (so it lies on an s-t path); s and t get ``width`` inner neighbours each;
        extra edges in any direction, cycles included, fill up to ``edges``."""
        order = [0, *rng.sample(range(1, n - 1), n - 2), n - 1]
        caps: dict[tuple[int, int], int] = {}
        fed = set()  # inner nodes with an edge in already
        for i, v in enumerate(order[1:-1], start=1):
            if v not in fed:
                caps[(order[rng.randrange(i)], v)] = rng.randint(1, capacity)
            w = order[rng.randrange(i + 1, n)]
            caps[(v, w)] = rng.randint(1, capacity)
            fed.add(w)
        for end in (0, n - 1):
            touching = [x for x in range(1, n - 1) if (end, x) not in caps and (x, end) not in caps]
            for x in rng.sample(touching, max(0, width - (n - 2 - len(touching)))):
                caps[(0, x) if end == 0 else (x, end)] = rng.randint(1, capacity)
        while len(caps) < edges:  # the levels leave plenty of free pairs, so this ends quickly
            u, v = rng.randrange(n - 1), rng.randrange(1, n)
            if u != v and (u, v) not in caps and (v, u) not in caps:
                caps[(u, v)] = rng.randint(1, capacity)
        names = ["s", *_INNER[: n - 2], "t"]
        return {"nodes": names, "edges": [[names[u], names[v], caps[(u, v)]] for u, v in sorted(caps)]}

    def describe(self, problem: dict[str, Any]) -> str:
        listed = ", ".join(f"{u}->{v} {c}" for u, v, c in problem["edges"])
        return (
            f"A directed network has nodes {', '.join(problem['nodes'])}, source s and sink t. Each "
            f"edge is given with its capacity:\n{listed}\n\n"
            "Find a maximum flow from s to t: a flow on every edge between 0 and its capacity, with "
            "as much flow entering as leaving every node other than s and t, and the net flow out "
            "of s (the value) as large as possible.\n"
            "Answer with the value and the flow on each edge, for example: value 9; s->a 4, s->b 5, "
            "a->t 4, b->t 5 (edges you leave out carry 0)."
        )

    def read(self, problem: dict[str, Any]) -> str:
        return (
            f"A directed network with {len(problem['nodes'])} nodes and {len(problem['edges'])} "
            "capacitated edges. I need the largest flow from s to t that respects every capacity "
            "and conserves flow at the inner nodes, and the flow on each edge."
        )

    def start(self, problem: dict[str, Any]) -> tuple[int, ...]:
        return (0,) * len(problem["edges"])

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        net = _net(problem)
        names = net.names
        flows = self.start(problem)
        steps: list[TraceStep] = []
        value, rounds = 0, 0
        while True:
            rounds += 1
            parent, found = _bfs(net, flows)
            if parent[-1] < 0:
                break
            path = _path(parent)
            hops = list(zip(path, path[1:], strict=False))
            amount = min(_residual(net, flows, a, b) for a, b in hops)
            steps.append(TraceStep(
                "apply",
                f"Round {rounds}. {_search_text(net, flows, found, path, amount)}",
                {"path": [names[v] for v in path], "amount": amount},
            ))
            flows = _augmented(net, flows, path, amount)
            changed = []
            for a, b in hops:
                i, forward = net.hops[(a, b)]
                u, v, c = net.edges[i]
                full = " (saturated)" if flows[i] == c else ""
                changed.append(f"{names[u]}->{names[v]} {'now' if forward else 'back to'} {flows[i]} of {c}{full}")
            steps.append(TraceStep(
                "think", f"Update: {', '.join(changed)}. Flow value {value} + {amount} = {value + amount}.", stage="check"
            ))
            value += amount
        steps.append(TraceStep(
            "think", f"Round {rounds}. BFS from s on the residual graph: {found}. t is not reached: no augmenting path is left.",
            stage="check",
        ))
        cut = {v for v, p in enumerate(parent) if p >= 0}
        crossing = [(u, v, c, f) for (u, v, c), f in zip(net.edges, flows, strict=True) if (u in cut) != (v in cut)]
        leaving = [(u, v, c, f) for u, v, c, f in crossing if u in cut]
        entering = [(u, v, c, f) for u, v, c, f in crossing if v in cut]
        capacity = sum(c for *_, c, _ in leaving)
        if capacity != value or any(f != c for *_, c, f in leaving) or any(f for *_, f in entering):
            raise AssertionError(f"Edmonds-Karp ended with flow {value} but a cut of capacity {capacity}")
        steps.append(TraceStep(
            "think",
            f"Cut check: the search reached {{{', '.join(names[v] for v in sorted(cut))}}}. Edges leaving it: "
            f"{', '.join(f'{names[u]}->{names[v]} {f} of {c}' for u, v, c, f in leaving)}, capacity "
            f"{' + '.join(str(c) for *_, c, _ in leaving)} = {capacity}; edges entering it: "
            f"{', '.join(f'{names[u]}->{names[v]} {f}' for u, v, _, f in entering) or 'none'}. Every leaving "
            f"edge is full and every entering edge empty, so no flow can beat the cut's {capacity}: the "
            f"flow value {value} is the maximum.",
            stage="check",
        ))
        plan = (
            "Edmonds-Karp: search breadth-first from s on the residual graph (forward edges with "
            "capacity left, and edges walked backwards to cancel flow), take the shortest path to "
            "t, augment by its bottleneck and update the residuals; repeat until t cannot be "
            "reached, then check that the cut the last search found is as large as the flow."
        )
        stats = {"augmentations": rounds - 1, "value": value}
        return Search(plan, steps, self.read_off(problem, flows), stats)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[tuple[int, ...], str | None]:
        net = _net(problem)
        path, amount = (move.get("path"), move.get("amount")) if isinstance(move, dict) else (None, None)
        if (
            not isinstance(path, list) or len(path) < 2 or not all(isinstance(x, str) and x in net.index for x in path)
            or type(amount) is not int or amount < 1
        ):
            return state, f"a move gives 'path', a list of node names, and a positive whole 'amount', got {move!r}"
        if path[0] != "s" or path[-1] != "t":
            return state, f"an augmenting path runs from s to t, not from {path[0]} to {path[-1]}"
        if len(set(path)) < len(path):
            twice = next(x for x in path if path.count(x) > 1)
            return state, f"an augmenting path visits each node once, but {twice} appears twice"
        nodes = [net.index[x] for x in path]
        for a, b in zip(path, path[1:], strict=False):
            if (net.index[a], net.index[b]) not in net.hops:
                return state, f"there is no edge between {a} and {b} in either direction"
        broken = None
        for a, b in zip(nodes, nodes[1:], strict=False):
            r = _residual(net, state, a, b)
            if r >= amount:
                continue
            i, forward = net.hops[(a, b)]
            u, v, c = net.edges[i]
            hop = f"{net.names[a]}->{net.names[b]}"
            if forward:
                broken = f"edge {hop} is saturated ({c} of {c} used)" if r <= 0 else f"edge {hop} has {r} unit(s) of capacity left, less than {amount}"
            else:
                broken = f"the backward hop {hop} would cancel {amount} unit(s) of flow on {net.names[u]}->{net.names[v]}, which carries {state[i]}"
            break
        return _augmented(net, state, nodes, amount), broken

    def observe(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        return f"Flow value {_value(_net(problem), state)}."

    def blunder(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> tuple[Any, str] | None:
        """Two classic slips: misreading the minimum when computing the bottleneck, and pushing
        along a path read off the capacities, forgetting the flow already on its edges."""
        net = _net(problem)
        names = net.names
        options = []
        parent, found = _bfs(net, state)
        if parent[-1] >= 0:
            path = _path(parent)
            room = [_residual(net, state, a, b) for a, b in zip(path, path[1:], strict=False)]
            bigger = [r for r in room if r > min(room)]
            if bigger:
                wrong = min(bigger)
                options.append(({"path": [names[v] for v in path], "amount": wrong}, _search_text(net, state, found, path, wrong)))
        raw, found = _bfs(net, (0,) * len(state), forward_only=True)
        path = _path(raw)
        hops = list(zip(path, path[1:], strict=False))
        caps = [net.edges[net.hops[(a, b)][0]][2] for a, b in hops]
        move = {"path": [names[v] for v in path], "amount": min(caps)}
        if self.apply(problem, state, move)[1]:
            options.append((
                move,
                f"BFS from s along the edges: {found}. Shortest path: {' '.join(move['path'])}. Capacities along "
                f"it: {', '.join(f'{names[a]}->{names[b]} {c}' for (a, b), c in zip(hops, caps, strict=True))}; "
                f"bottleneck min({', '.join(map(str, caps))}) = {min(caps)}. Augment by {min(caps)}.",
            ))
        return rng.choice(options) if options else None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> list[TraceStep]:
        """Augment greedily along forward edges only (the classic omission of reverse edges):
        flows only grow, so the broken edge stays broken and the answer stays wrong."""
        net = _net(problem)
        names = net.names
        steps = []
        while True:
            parent, found = _bfs(net, state, forward_only=True)
            if parent[-1] < 0:
                return steps
            path = _path(parent)
            room = [_residual(net, state, a, b) for a, b in zip(path, path[1:], strict=False)]
            amount = min(room)
            steps.append(TraceStep(
                "apply",
                f"BFS from s over edges with capacity left: {found}. Path {' '.join(names[v] for v in path)}, "
                f"bottleneck min({', '.join(map(str, room))}) = {amount}. Augment by {amount}.",
                {"path": [names[v] for v in path], "amount": amount},
            ))
            state = _augmented(net, state, path, amount)

    def read_off(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        flows = ", ".join(f"{u}->{v} {f}" for (u, v, _), f in zip(problem["edges"], state, strict=True))
        return f"value {_value(_net(problem), state)}; {flows}"

    def random_move(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> Any | None:
        """A random walk from s along edges (stopping at t or when stuck) and a random amount."""
        net = _net(problem)
        walk = [0]
        while walk[-1] != len(net.names) - 1:
            ahead = [v for v, _, forward in net.links[walk[-1]] if forward and v not in walk]
            if not ahead:
                break
            walk.append(rng.choice(ahead))
        return {"path": [net.names[v] for v in walk], "amount": rng.randint(1, max(c for *_, c in net.edges))}

    def move_text(self, move: Any) -> str:
        return f"{move['amount']} along {' '.join(move['path'])}"

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        return {"value": search.stats["value"]}

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        net = _net(problem)
        verdict = net.verdicts.get(answer)
        if verdict is None:
            verdict = net.verdicts[answer] = _check(net, answer)
        return verdict

    def render(self, problem: dict[str, Any], state: tuple[int, ...] | None, size: int) -> Any:
        """Capacities (or flow/capacity for a state) on the edges, saturated edges in red, s in
        green and t in red, placed opposite each other on the circle."""
        net = _net(problem)
        n = len(net.names)
        spot = list(range(n))  # node -> position on the circle: t halfway round from s
        spot[n - 1], spot[n // 2] = n // 2, n - 1
        labels = [""] * n
        for v, p in enumerate(spot):
            labels[p] = net.names[v]
        edges, full = [], []
        for i, (u, v, c) in enumerate(net.edges):
            edges.append((spot[u], spot[v], str(c) if state is None else f"{state[i]}/{c}"))
            if state is not None and state[i] >= c:
                full.append((spot[u], spot[v]))
        marked = {spot[0]: draw.GREEN, spot[n - 1]: draw.RED}
        return draw.graph_image(n, edges, size, directed=True, labels=labels, highlight=full, marked=marked)


family = register(MaxFlow())
