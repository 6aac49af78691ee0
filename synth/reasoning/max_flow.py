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
from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, verify_holds, verify_intro
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
    """A residual hop as the trace names it: forward 's->a 4', backward 'c->a 2 (cancels ...)'
    (an over-full edge, which only a broken state has, reads as 0 left)."""
    r = max(0, _residual(net, flows, a, b))
    if net.hops[(a, b)][1]:
        return f"{net.names[a]}->{net.names[b]} {r}"
    return f"{net.names[a]}->{net.names[b]} {r} (cancels flow on {net.names[b]}->{net.names[a]})"


def _visits(found: str, say: Voice) -> str:
    """What a BFS discovered ("s -> a, b; a -> c"), in one of the ways one writes it down."""
    if " -> " not in found or say.chance(0.4):
        return found
    parts = [part.split(" -> ") for part in found.split("; ")]
    style = say.pick(("<u> reaches <v>", "from <u>: <v>", "<u> adds <v>", "<u> -> <v>"))
    return say.pick(("; ", ", then ", "; then ")).join(say(style, u=u, v=v) for u, v in parts)


def _search_text(net: _Net, flows: tuple[int, ...], found: str, path: list[int], amount: int, say: Voice) -> str:
    """One Edmonds-Karp round as the trace says it; ``amount`` is what the teacher concludes
    the bottleneck is (a misread minimum is said the same way). Sometimes it names the tight
    hop (the first with the smallest residual) or the path's length."""
    hops = list(zip(path, path[1:], strict=False))
    rooms = [max(0, _residual(net, flows, a, b)) for a, b in hops]
    room = ", ".join(map(str, rooms))
    shown = ", ".join([_hop_text(net, flows, a, b) for a, b in hops])
    route = " ".join([net.names[v] for v in path])
    text = say(("BFS from s on the residual graph: <f>. Shortest path: <p>. Residual capacities along it: <h>; bottleneck min(<r>) = <a>. Augment by <a>.",
                "Breadth-first from s over residual edges: <f>. The shortest route is <p>, with residuals <h>. The smallest, min(<r>), is <a>: push <a>.",
                "Residual BFS from s: <f>. Path <p>: <h>. Bottleneck = min(<r>) = <a>, so augment <a>.",
                "Search the residual graph breadth-first: <f>. That gives <p>; along it <h>, so the bottleneck is min(<r>) = <a>. Send <a>.",
                "{BFS|A breadth-first search} {on the residuals|over what is left}{ from s|}: <f>. {t is reached via|The path found is} <p>. {Residuals|Left on each hop}: <h>. "
                "{The minimum|Its minimum}, min(<r>), is <a>{: augment by <a>.|, so <a> more units go through.}",
                "{Shortest augmenting path|Next augmenting path} by BFS ({visits|found}: <f>): <p>. {Hops|Along it}: <h>. {Push|Send} min(<r>) = <a>.",
                "<f>{ —|:} {that is|this is} the BFS from s, and it {reaches t along|finds} <p>. With <h>, {the bottleneck is|at most} <a> {can go through|fits}: min(<r>) = <a>."),
               f=_visits(found, say), p=route, h=shown, r=room, a=amount)
    notes = []
    if say.chance(0.35):
        k = rooms.index(min(rooms))
        notes.append(say(("The tight hop is <e>.", "<e> is the bottleneck hop.", "{It is|The limit is} <e> that limits it."),
                         e=f"{net.names[hops[k][0]]}->{net.names[hops[k][1]]}"))
    if say.chance(0.25):
        notes.append(say(("<k> hops.", "A path of <k> edges.", "(<k> hops long.)"), k=len(hops)))
    return " ".join([text, *notes])


def _update_text(net: _Net, flows: tuple[int, ...], path: list[int], amount: int, value: int, say: Voice) -> str:
    """The flows a round changed and the new value."""
    changed = []
    style = say.pick(("<e> <n> <f> of <c><x>", "<e> <n> <f>/<c><x>", "<e>: <f> of <c><x>"))
    for a, b in zip(path, path[1:], strict=False):
        i, forward = net.hops[(a, b)]
        u, v, c = net.edges[i]
        if flows[i] >= c:
            extra = say((" (saturated)", " (full)", " (now full)"))
        else:
            extra = say(("", "", " (<k> left)", ", <k> to spare"), k=c - flows[i])
        changed.append(say(style, e=f"{net.names[u]}->{net.names[v]}", n="now" if forward else "back to", f=flows[i], c=c, x=extra))
    text = say(("Update: <c>. Flow value <v> + <a> = <w>.", "After the push: <c>. The value goes from <v> to <w>.", "Flows now <c>; value <v> + <a> = <w>.",
                "Record it: <c>. Value: <v> + <a> = <w>.", "{The path's edges|On the path}: <c>. {The flow value|Value} {rises|goes up} to <v> + <a> = <w>.",
                "{New flows|Updated}: <c>. {Total|Flow value} <w> ({was <v>|up <a> from <v>}).", "{That adds|Adding} <a>: <c>; {the value is now|now the value is} <w>."),
               c=", ".join(changed), v=value, a=amount, w=value + amount)
    if say.chance(0.3):
        used = sum(1 for f in flows if f > 0)
        text += say((" <k> of <m> edges carry flow now.", " Edges in use: <k> of <m>.", " Flow runs on <k> edges."), k=used, m=len(flows))
    full = [f"{net.names[u]}->{net.names[v]}" for (u, v, c), f in zip(net.edges, flows, strict=True) if f >= c]
    if full and say.chance(0.4):
        text += say((" Saturated so far: <s>.", " Full edges: <s>.", " <s> can take no more."), s=", ".join(full))
    return text


def _cut_text(net: _Net, flows: tuple[int, ...], reached: set[int], value: int, say: Voice) -> str:
    """The cut the last search found, its capacity and the conclusion (a careless teacher
    concludes it whatever the numbers say)."""
    names = net.names
    crossing = [(u, v, c, f) for (u, v, c), f in zip(net.edges, flows, strict=True) if (u in reached) != (v in reached)]
    leaving = [(u, v, c, f) for u, v, c, f in crossing if u in reached]
    entering = [(u, v, c, f) for u, v, c, f in crossing if v in reached]
    capacity = sum(c for *_, c, _ in leaving)
    side = ", ".join(names[v] for v in sorted(reached))
    out = ", ".join(f"{names[u]}->{names[v]} {f} of {c}" for u, v, c, f in leaving) or "none"
    into = ", ".join(f"{names[u]}->{names[v]} {f}" for u, v, _, f in entering) or "none"
    sums = " + ".join(str(c) for *_, c, _ in leaving) or "0"
    return say(
        ("Cut check: the search reached {<s>}. Edges leaving it: <o>, capacity <k> = <c>; edges entering it: <i>. Every leaving edge is full "
         "and every entering edge empty, so no flow can beat the cut's <c>: the flow value <v> is the maximum.",
         "The reachable side is {<s>}. Leaving it: <o> (capacity <k> = <c>); entering: <i>. The cut's capacity <c> bounds every flow, and the "
         "flow is <v>: maximum.",
         "Min-cut check on {<s>}: out-edges <o>, total <k> = <c>; in-edges <i>. So the value <v> cannot be improved.",
         "{To prove it|For the proof}, take the side the search reached, {<s>}. {Out of it|Leaving}: <o>, {so its capacity is|capacity} <k> = <c>. {Into it|Entering}: <i>. "
         "{Flow <v>, cut <c>|The flow is <v> against the cut's <c>}{, so it is maximum|: no flow can be larger}.",
         "{The cut|A cut} {separates|splits off} {<s>} from the rest: {leaving edges|edges out} <o> ({sum|total} <k> = <c>), {entering|edges in} <i>. "
         "{With|Given} the cut at <c> and the flow at <v>, {the flow is maximum|nothing beats <v>}.",
         "{Check the cut|Cut}: reachable {<s>}; <o> {leave it|cross out} ({<k> = <c>|capacity <c>}); <i> {enter|cross in}. {Value <v>, cut <c>: so maximum|the cut bounds the flow, <v>, so it is maximum}."),
        s=side, o=out, k=sums, c=capacity, i=into, v=value)


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


def _rounds(net: _Net, flows: tuple[int, ...], say: Voice, forward_only: bool) -> tuple[list[TraceStep], tuple[int, ...], int]:
    """Augmenting rounds from ``flows`` until the search reaches t no more, each with its
    update, then the failed search and the cut check: the expert's whole search, or (with
    ``forward_only``, reverse edges forgotten) a noisy teacher's continuation. Returns the
    steps, the flows and the number of searches."""
    steps: list[TraceStep] = []
    value = _value(net, flows)
    rounds = 0
    while True:
        rounds += 1
        parent, found = _bfs(net, flows, forward_only)
        if parent[-1] < 0:
            break
        path = _path(parent)
        amount = min(_residual(net, flows, a, b) for a, b in zip(path, path[1:], strict=False))
        lead = say(("Round <k>. ", "Search <k>. ", "Pass <k>: ", ""), k=rounds)
        steps.append(TraceStep("apply", lead + _search_text(net, flows, found, path, amount, say), {"path": [net.names[v] for v in path], "amount": amount}))
        flows = _augmented(net, flows, path, amount)
        steps.append(TraceStep("think", _update_text(net, flows, path, amount, value, say), stage="check"))
        value += amount
    steps.append(TraceStep("think", _none_left(rounds, found, say), stage="check"))
    steps.append(TraceStep("think", _cut_text(net, flows, {v for v, p in enumerate(parent) if p >= 0}, value, say), stage="check"))
    return steps, flows, rounds


def _none_left(rounds: int, found: str, say: Voice) -> str:
    text = say(("Round <k>. BFS from s on the residual graph: <f>. t is not reached: no augmenting path is left.",
                "Search <k>: <f>. No route to t remains.", "BFS once more: <f>. t is out of reach, so no augmenting path is left.",
                "{Search|Round|Pass} <k>{, BFS again|}: <f>. {This time t is not reached|The search stops short of t}; {no augmenting path is left|that was the last path|nothing more can be pushed}.",
                "{One more|Another} {BFS|breadth-first search} (<k>): <f>{ —|.} {No way to t|t cannot be reached} {any more|now}{, so the flow is final|}.",
                "{Is there another path|Any path left}? BFS: <f>. {No|None}{: t is cut off| — t is not reached}."), k=rounds, f=_visits(found, say))
    if rounds > 1 and say.chance(0.3):
        text += say((" <n> augmenting path(s) in all.", " That makes <n> augmentation(s).", " So <n> path(s) were pushed."), n=rounds - 1)
    return text


def _cut_capacity(net: _Net, flows: tuple[int, ...]) -> int:
    parent, _ = _bfs(net, flows)
    reached = {v for v, p in enumerate(parent) if p >= 0}
    return sum(c for u, v, c in net.edges if u in reached and v not in reached)


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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        net = _net(problem)
        out_s = sum(c for u, _, c in net.edges if u == 0)
        into_t = sum(c for _, v, c in net.edges if v == len(net.names) - 1)
        head = say(("A directed network with <n> nodes and <m> capacitated edges", "<n> nodes and <m> directed edges with capacities",
                    "The network has <n> nodes, <m> edges", "{Here is|I have} a {flow network|network} of <n> nodes{ and| with} <m> {edges|arcs}{, each with a capacity|}",
                    "{Nodes|Vertices}: <n>; {edges|directed edges}: <m>{, capacities 1 to 9|}"), n=len(net.names), m=len(net.edges))
        goal = say(("I need the largest flow from s to t that respects every capacity and conserves flow at the inner nodes, and the flow on each edge",
                    "the task is a maximum s-t flow, capacities respected and flow conserved, with every edge's flow",
                    "find the biggest flow from s to t and what each edge carries",
                    "{wanted|asked for}: {the|a} maximum flow from s to t{, edge by edge|} (capacities kept, {in = out|flow conserved} at inner nodes)"))
        bound = say((" Edges out of s carry at most <a> and edges into t at most <b>.", " The value cannot exceed min(<a>, <b>) (out of s, into t).", ""),
                    a=out_s, b=into_t) if say.chance(0.6) else ""
        extra = ""
        if say.chance(0.5):
            outs = [f"{net.names[v]} ({c})" for u, v, c in net.edges if u == 0]
            extra = say((" From s: <o>.", " s feeds <o>.", " The edges out of s go to <o>."), o=say.listing(outs))
        return f"{head}. {cap(goal)}.{bound}{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        method = say(("Edmonds-Karp: search breadth-first from s on the residual graph (forward edges with capacity left, and edges walked "
                      "backwards to cancel flow), take the shortest path to t, augment by its bottleneck and update the residuals.",
                      "Use Edmonds-Karp: BFS on residual capacities (reverse edges included, so flow can be cancelled), augment the shortest "
                      "s-t path by its bottleneck, update.",
                      "Repeatedly find the shortest augmenting path by BFS over residual edges, backward ones too, and push its bottleneck.",
                      "{Plan|Method}: Edmonds-Karp{, i.e.| \u2014} BFS for the shortest {s-t|s to t} path in the residual graph{, push|; push} its bottleneck{, update the residuals| and update}{, and repeat|}.",
                      "{I'll|Let me} {augment|push flow} along shortest residual paths (BFS, {neighbours in order|nodes in order}), {reverse edges allowed|with backward edges to undo flow}, {each by|by} its bottleneck."))
        stop = say(("Repeat until t cannot be reached, then check that the cut the last search found is as large as the flow.",
                    "Stop when BFS cannot reach t; the reached side then gives a cut whose capacity must equal the flow.",
                    "When no path is left, the cut of the last search proves the value.",
                    "{Once|When} {t is unreachable|no augmenting path remains}, {the nodes the last BFS reached|the reached side} {form|give} a cut{, and its capacity must match the flow| equal to the flow}.",
                    "{The end|It ends} when BFS {fails to reach t|cannot reach t}; {then|and then} {check the min cut|compare the cut with the flow}."))
        net = _net(problem)
        t = len(net.names) - 1
        ins = sum(1 for _, v, _ in net.edges if v == t)
        outs = sum(1 for u, _, _ in net.edges if u == 0)
        notes = [say(("t has <k> edges coming in.", "<k> edges enter t, so at most <k> paths end in distinct edges.", "{Into t|t takes} <k> edges."), k=ins),
                 say(("s has <k> edges going out.", "<k> edges leave s.", "{Out of s|s sends on} <k> edges."), k=outs)]
        return " ".join([method, stop, *say.order(notes)[: say.pick((0, 1, 1, 2))]])

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        used = len([x for x in answer.split(";", 1)[-1].split(",") if x.strip()]) if ";" in answer else 0
        value = re.match(r"\s*value\s+(\d+)", answer)
        notes = []
        if value:
            notes.append(say(("a flow of <v>", "value <v>", "<v> units from s to t", "the maximum, <v>"), v=value.group(1)))
        if used:
            notes.append(say(("<k> edges carry flow", "flow on <k> edges", "<k> edges used"), k=used))
        return answer_line(say, answer, say.listing(say.order(notes)[: say.pick((0, 1, 1, 2))]))

    def start(self, problem: dict[str, Any]) -> tuple[int, ...]:
        return (0,) * len(problem["edges"])

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        net = _net(problem)
        steps, flows, rounds = _rounds(net, self.start(problem), self.voice(problem), forward_only=False)
        value = _value(net, flows)
        capacity = _cut_capacity(net, flows)
        if capacity != value:
            raise AssertionError(f"Edmonds-Karp ended with flow {value} but a cut of capacity {capacity}")
        return Search(steps, self.read_off(problem, flows), {"augmentations": rounds - 1, "value": value})

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
        return self.read_off(problem, state)

    def mistake(self, problem: dict[str, Any], state: tuple[int, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """Two classic slips: misreading the minimum when computing the bottleneck, and pushing
        along a path read off the capacities, forgetting the flow already on its edges. Both
        break a rule (a capacity): any legal augmentation keeps the maximum reachable."""
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
                k = room.index(min(room))
                a, b = path[k], path[k + 1]
                reveal = say(("<h> has only <r> left, less than <w>", "the bottleneck is <r> (at <h>), not <w>", "min of the residuals is <r>, on <h>: <w> overflows it"),
                              h=f"{names[a]}->{names[b]}", r=min(room), w=wrong)
                options.append(Mistake({"path": [names[v] for v in path], "amount": wrong}, _search_text(net, state, found, path, wrong, say), "slip", reveal))
        raw, found = _bfs(net, (0,) * len(state), forward_only=True)
        path = _path(raw)
        hops = list(zip(path, path[1:], strict=False))
        caps = [net.edges[net.hops[(a, b)][0]][2] for a, b in hops]
        move = {"path": [names[v] for v in path], "amount": min(caps)}
        broken = self.apply(problem, state, move)[1]
        if broken:
            text = say(("BFS from s along the edges: <f>. Shortest path: <p>. Capacities along it: <c>; bottleneck min(<k>) = <a>. Augment by <a>.",
                        "Search from s: <f>. Path <p> with capacities <c>, so min(<k>) = <a>: push <a>."),
                       f=found, p=" ".join(move["path"]), c=", ".join(f"{names[a]}->{names[b]} {c}" for (a, b), c in zip(hops, caps, strict=True)),
                       k=", ".join(map(str, caps)), a=min(caps))
            reveal = say(("the capacities are not what is left: <b>", "I used full capacities, but <b>", "flow already on the path: <b>"), b=broken)
            options.append(Mistake(move, text, "forgotten", reveal))
        return rng.choice(options) if options else None

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Augment on along forward edges only (the classic omission of reverse edges), with
        the same updates and the same closing cut check, believed: flows only grow, so the
        broken edge stays broken and the answer stays wrong."""
        return _rounds(_net(problem), state, say, forward_only=True)[0]

    def confirm(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, say: Voice) -> str | None:
        net = _net(problem)
        path = [net.index.get(x, 0) for x in move["path"]]
        hops = list(zip(path, path[1:], strict=False))
        if any(h not in net.hops for h in hops):
            return None
        room = [_residual(net, before, a, b) for a, b in hops]
        return say(("the residuals along <p> were <r>, so <a> fits", "each hop of <p> had at least <a> left (<r>)", "min(<r>) = <m> >= <a> along <p>"),
                   p=" ".join(move["path"]), r=", ".join(map(str, room)), a=move["amount"], m=min(room))

    def narrate(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, say: Voice) -> str:
        net = _net(problem)
        _, found = _bfs(net, state)
        path = [net.index.get(x, 0) for x in move["path"]]
        lead = say(("Round <k>. ", "Search <k>. ", "Pass <k>: ", ""), k=1 + _value(net, state) % 5)
        if all(h in net.hops for h in zip(path, path[1:], strict=False)):
            return lead + _search_text(net, state, found, path, move["amount"], say)
        return say(("BFS from s on the residual graph: <f>. Path <p>; augment by <a>.", "Residual BFS: <f>. Take <p> and push <a>."),
                   f=found, p=" ".join(move["path"]), a=move["amount"])

    def aftermath(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, after: tuple[int, ...], say: Voice) -> str | None:
        net = _net(problem)
        path = [net.index.get(x, 0) for x in move["path"]]
        if not all(h in net.hops for h in zip(path, path[1:], strict=False)):
            return None
        return _update_text(net, after, path, move["amount"], _value(net, before), say)

    def muse(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice) -> str | None:
        net = _net(problem)
        parent, found = _bfs(net, state)
        if say.chance(0.5):
            return _none_left(2 + int(say.rng.random() * 4), found, say)
        return _cut_text(net, state, {v for v, p in enumerate(parent) if p >= 0}, _value(net, state), say)

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        caps = say(("every edge carries between 0 and its capacity", "no edge is over capacity", "all flows fit their capacities"))
        kept = say(("in equals out at each inner node", "flow is conserved at every node but s and t", "nothing is lost at the inner nodes"))
        value = say(("the value is the net flow out of s", "the stated value matches what leaves s", "the value equals the flow out of s"))
        return f"{verify_intro(say, answer)}: {say.listing(say.order([caps, kept, value]))}; {verify_holds(say)}."

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

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
