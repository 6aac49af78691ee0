"""The ``lis`` family (group algorithms): a longest strictly increasing subsequence.

The classic O(n^2) dynamic programme, done by hand: ``L[i]``, the length of the longest
strictly increasing subsequence ending at ``a[i]``, is one more than the longest ``L[j]`` over
the earlier ``a[j] < a[i]``, and ``prev[i]`` remembers that ``j``. Every step's thought states
the comparisons it really makes (which earlier values are smaller, which are equal or larger
and so skipped), so the trace teaches the recurrence, strictness included: sequences have
repeated values, and an equal value never extends a run. The answer is read back along the
``prev`` links from the largest ``L``. The programme fills a table and never backtracks; the
checks are still real (the env recomputes every entry from the ones before it).

==========  ======  ======  ======================================
difficulty  length  values  typical expert steps (read..answer)
==========  ======  ======  ======================================
1           6       1..20   ~11
2           9       1..30   ~14
3           12      1..40   ~17
4           18      1..50   ~23
5           30      1..60   ~35
==========  ======  ======  ======================================

Moves: ``set {"i": 5, "length": 3, "prev": 2}`` fills ``L[5]`` and ``prev[5]`` (``prev`` null
when ``L`` is 1), in order from ``i = 0``. State: a tuple of (length, prev), one per entry
filled. Answer: the subsequence's values in order, separated by spaces ("2 5 7 11"); any
longest one passes.
"""

from __future__ import annotations

import bisect
import random
import re
from typing import Any

from synth.reasoning.base import ReasoningFamily, Search, TraceStep
from synth.registry import register

Entry = tuple[int, int | None]  # L[i], prev[i]

_TOKENS = re.compile(r"(?:->|→|[\s,;|\[\](){}<>])+")


def _extend(seq: list[int], state: tuple[Entry, ...], i: int) -> tuple[int, int | None]:
    """(best L[j], its j) over the filled j < i with a[j] < a[i]: (0, None) when none is
    smaller. The first j wins a tie. The recurrence the solver, the env and the noisy
    teacher all use, on whatever table they have."""
    best, arg = 0, None
    v = seq[i]
    for j in range(i):
        if seq[j] < v and state[j][0] > best:
            best, arg = state[j][0], j
    return best, arg


def _chain(state: tuple[Entry, ...]) -> list[int]:
    """The indexes read back along ``prev`` from the first largest L (empty table: none)."""
    if not state:
        return []
    k = max(range(len(state)), key=lambda i: (state[i][0], -i))
    out = [k]
    while state[out[-1]][1] is not None:
        out.append(state[out[-1]][1])
    return out[::-1]


def _finish(seq: list[int], state: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """The table completed by the recurrence from ``state`` on, right or wrong as it is."""
    for i in range(len(state), len(seq)):
        best, j = _extend(seq, state, i)
        state = (*state, (best + 1, j))
    return state


def _reconstruct(seq: list[int], state: tuple[Entry, ...]) -> TraceStep:
    """The closing thought: where the largest L is and the chain read back from it."""
    chain = _chain(state)
    k = chain[-1]
    links = " <- ".join(str(j) for j in chain[::-1])
    values = ", ".join(f"a[{j}]={seq[j]}" for j in chain)
    text = f"The largest L is {state[k][0]}, first reached at a[{k}]={seq[k]}. Follow prev back: {links}; in order that is {values}."
    return TraceStep("think", text, stage="reconstruct")


def longest(seq: list[int]) -> int:
    """The length of a longest strictly increasing subsequence by patience sorting: computed
    independently of the table the solver fills, for the verifier."""
    tops: list[int] = []
    for v in seq:
        k = bisect.bisect_left(tops, v)
        if k == len(tops):
            tops.append(v)
        else:
            tops[k] = v
    return len(tops)


class LIS(ReasoningFamily):
    name = "lis"
    group = "algorithms"
    action = "set"
    rules = "entries are filled in order; L[i] is one more than the longest L[j] over earlier a[j] < a[i], and prev[i] is such a j"
    levels = {
        1: {"n": 6, "high": 20},
        2: {"n": 9, "high": 30},
        3: {"n": 12, "high": 40},
        4: {"n": 18, "high": 50},
        5: {"n": 30, "high": 60},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, n: int, high: int) -> dict[str, Any]:
        return {"seq": [rng.randint(1, high) for _ in range(n)]}

    def describe(self, problem: dict[str, Any]) -> str:
        seq = problem["seq"]
        return (
            f"Here is a sequence of {len(seq)} integers:\n\n{' '.join(map(str, seq))}\n\n"
            "Find a longest strictly increasing subsequence: numbers taken from the sequence in their "
            "original order (not necessarily next to each other), each larger than the one before "
            "(equal is not larger). If there are several, any one of them is accepted.\n"
            "Answer with its values in order, separated by spaces, for example: 2 5 7 11"
        )

    def read(self, problem: dict[str, Any]) -> str:
        seq = problem["seq"]
        return (
            f"{len(seq)} numbers, a[0]..a[{len(seq) - 1}] = {', '.join(map(str, seq))}. I need the longest "
            "subsequence, in the original order, whose values strictly increase."
        )

    def start(self, problem: dict[str, Any]) -> tuple[Entry, ...]:
        return ()

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        seq = problem["seq"]
        state: tuple[Entry, ...] = ()
        steps: list[TraceStep] = []
        for i in range(len(seq)):
            move, text = self._entry(seq, state, i)
            steps.append(TraceStep("apply", text, move))
            state = (*state, (move["length"], move["prev"]))
        steps.append(_reconstruct(seq, state))
        plan = (
            "Dynamic programming: L[i] is the length of the longest strictly increasing subsequence "
            "ending at a[i]. Going left to right, compare a[i] with every earlier a[j]: only a[j] < a[i] "
            "can come before it, and the longest such L[j] gives L[i] = L[j] + 1 with prev[i] = j "
            "(L[i] = 1 when no earlier value is smaller). Then start at the largest L and follow prev back."
        )
        return Search(plan, steps, self.read_off(problem, state), {"entries": len(seq), "longest": longest(seq)})

    def _entry(self, seq: list[int], state: tuple[Entry, ...], i: int) -> tuple[dict[str, Any], str]:
        """The right entry for ``i`` from ``state``, and the thought with the comparisons."""
        v = seq[i]
        best, j = _extend(seq, state, i)
        if i == 0:
            return {"i": 0, "length": 1, "prev": None}, f"a[0]={v} has nothing before it: L[0]=1, no prev."
        smaller = [f"a[{k}]={seq[k]} (L={state[k][0]})" for k in range(i) if seq[k] < v]
        equal = [f"a[{k}]" for k in range(i) if seq[k] == v]
        skip = f" {', '.join(equal)} equal{'s' if len(equal) == 1 else ''} it, so cannot come before it." if equal else ""
        if j is None:
            text = f"a[{i}]={v}: no earlier value is smaller.{skip} So L[{i}]=1, no prev."
            return {"i": i, "length": 1, "prev": None}, text
        text = (
            f"a[{i}]={v}: smaller earlier values {', '.join(smaller)}.{skip} The longest is L={best} at "
            f"a[{j}]={seq[j]}, so L[{i}]={best + 1}, prev {j}."
        )
        return {"i": i, "length": best + 1, "prev": j}, text

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[Entry, ...], move: Any) -> tuple[tuple[Entry, ...], str | None]:
        seq = problem["seq"]
        i, length, prev = (move.get("i"), move.get("length"), move.get("prev", -1)) if isinstance(move, dict) else (None,) * 3
        if type(i) is not int or type(length) is not int or (prev is not None and type(prev) is not int):
            return state, f"a move names i, length and prev (an index or null), got {move!r}"
        if i != len(state):
            nxt = f"L[{len(state)}]" if len(state) < len(seq) else "nothing: the table is full"
            return state, f"entries are filled in order: the next is {nxt}, not L[{i}]"
        if prev is not None and not 0 <= prev < i:
            return state, f"prev[{i}] must be an earlier index (0..{i - 1}) or null, got {prev}"
        after = (*state, (length, prev))
        v = seq[i]
        if prev is not None and seq[prev] >= v:
            return after, f"prev {prev} is wrong: a[{prev}]={seq[prev]} is not smaller than a[{i}]={v}, so it cannot come before it"
        through = state[prev][0] + 1 if prev is not None else 1
        if length != through:
            via = f"L[{prev}]+1 = {through}" if prev is not None else "1 (no prev)"
            return after, f"L[{i}] through prev {prev} is {via}, not {length}"
        best, j = _extend(seq, state, i)
        if length != best + 1:
            return after, f"L[{i}] is {best + 1}, not {length}: a[{j}]={seq[j]} < a[{i}]={v} has L={best}"
        return after, None

    def observe(self, problem: dict[str, Any], state: tuple[Entry, ...]) -> str:
        return f"{len(state)} of {len(problem['seq'])} entries filled."

    def blunder(self, problem: dict[str, Any], state: tuple[Entry, ...], rng: random.Random) -> tuple[Any, str] | None:
        """Extend the longest run so far without checking that it ends lower (equal or larger
        values included), stop at the nearest or the first smaller value instead of the best
        one, or misread the best one's L by one. A slip off the final chain would leave the answer right, so
        one whose consequences reach the answer is preferred."""
        seq = problem["seq"]
        i = len(state)
        if i == 0 or i >= len(seq):
            return None
        v = seq[i]
        best, j = _extend(seq, state, i)
        slips = []
        unchecked = [k for k in range(i) if seq[k] >= v and state[k][0] > best]
        if unchecked:
            k = max(unchecked, key=lambda k: (state[k][0], k))
            text = f"a[{i}]={v}: the longest run so far ends at a[{k}]={seq[k]} with L={state[k][0]}, so L[{i}]={state[k][0] + 1}, prev {k}."
            slips.append(({"i": i, "length": state[k][0] + 1, "prev": k}, text))
        for scan, where in ((range(i - 1, -1, -1), "nearest"), (range(i), "first")):
            k = next((k for k in scan if seq[k] < v), None)
            if k is not None and state[k][0] < best and all(m["prev"] != k for m, _ in slips):
                text = f"a[{i}]={v}: the {where} smaller value is a[{k}]={seq[k]} with L={state[k][0]}, so L[{i}]={state[k][0] + 1}, prev {k}."
                slips.append(({"i": i, "length": state[k][0] + 1, "prev": k}, text))
        if j is None:
            text = f"a[{i}]={v}: it starts a run, and with a[{i}] itself that makes L[{i}]=2, no prev."
        else:
            text = f"a[{i}]={v}: the longest smaller one is a[{j}]={seq[j]} with L={best + 1}, so L[{i}]={best + 2}, prev {j}."
        slips.append(({"i": i, "length": best + 2, "prev": j}, text))
        rng.shuffle(slips)
        for move, text in slips:
            end = _finish(seq, (*state, (move["length"], move["prev"])))
            if not self.verify(problem, self.read_off(problem, end))[0]:
                return move, text
        return slips[0]

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Entry, ...], rng: random.Random) -> list[TraceStep]:
        """Fill the rest of the table from the wrong entry on, never going back to it."""
        seq = problem["seq"]
        steps = []
        for i in range(len(state), len(seq)):
            move, text = self._entry(seq, state, i)
            steps.append(TraceStep("apply", text, move))
            state = (*state, (move["length"], move["prev"]))
        return [*steps, _reconstruct(seq, state)]

    def read_off(self, problem: dict[str, Any], state: tuple[Entry, ...]) -> str:
        return " ".join(str(problem["seq"][j]) for j in _chain(state))

    def random_move(self, problem: dict[str, Any], state: tuple[Entry, ...], rng: random.Random) -> Any | None:
        i = len(state)
        if i >= len(problem["seq"]):
            return None
        return {"i": i, "length": rng.randint(1, i + 1), "prev": rng.choice([None, *range(i)])}

    def move_text(self, move: Any) -> str:
        return f"L[{move['i']}]={move['length']} with prev {move['prev']}"

    # ------------------------------------------------------------------ verifier

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        seq = problem["seq"]
        tokens = [t for t in _TOKENS.split(answer.strip()) if t]
        if not tokens:
            return False, "the answer lists no numbers"
        values = []
        for t in tokens:
            if not re.fullmatch(r"-?\d{1,9}", t):
                return False, f"{t!r} is not a whole number"
            values.append(int(t))
        for x, y in zip(values, values[1:], strict=False):
            if x >= y:
                return False, f"{x} then {y} is not strictly increasing"
        pos = 0
        for x in values:
            try:
                pos = seq.index(x, pos) + 1
            except ValueError:
                where = "in the sequence" if x not in seq else "in the sequence after the numbers before it"
                return False, f"{x} does not appear {where}"
        top = longest(seq)
        if len(values) < top:
            return False, f"length {len(values)} < longest {top}"
        return True, f"{len(values)} values, strictly increasing, in the sequence's order; {top} is the longest possible"


family = register(LIS())
