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
longest one passes. A move is legal when it fills the next entry with a length >= 1 and an
earlier prev (or none): the values are the solver's own, and a wrong entry is found from the
state: the table filled on by the recurrence no longer reads back a longest subsequence
(``keeps_solvable``).
"""

from __future__ import annotations

import bisect
import random
import re
from typing import Any

from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, opened, verify_holds, verify_intro
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


def _reconstruct(seq: list[int], state: tuple[Entry, ...], say: Voice) -> TraceStep:
    """The closing thought: where the largest L is and the chain read back from it (with, as
    the solver may write them, the table, the links checked and how much of the sequence the
    chain uses)."""
    chain = _chain(state)
    k = chain[-1]
    links = " <- ".join(str(j) for j in chain[::-1])
    values = ", ".join(f"a[{j}]={seq[j]}" for j in chain)
    text = say(("The largest L is <m>, first reached at a[<k>]=<v>. Follow prev back: <l>; in order that is <o>.",
                "Max L = <m>, at a[<k>]=<v> first. Back along prev: <l>, i.e. <o>.",
                "L peaks at <m> (a[<k>]=<v>). Reading prev backwards gives <l>; forwards: <o>.",
                "{The table is full|All entries are filled}. {Its top|The biggest L} is <m>, {at|first at} a[<k>]=<v>; {the prev links give|following prev gives} <l>, so <o>.",
                "{Done filling|Table complete}: L = <m> is the maximum ({at|found at} a[<k>]={<v>|<v> first}). {Walking|Tracing} prev from there: <l>{, which is|, i.e.|:} <o>.",
                "{Now|Finally} read the answer back: the {first largest|largest} L, <m>, sits at a[<k>]=<v>; prev {leads|goes} <l>{: that is| — in order} <o>."),
               m=state[k][0], k=k, v=seq[k], l=links, o=values)
    extras = []
    if say.chance(0.4):
        extras.append(say(("(L = <t>)", "The table: L = <t>.", "L reads <t>.", "For the record, L = <t>.", "(full table: <t>)"),
                          t=" ".join(str(e[0]) for e in state)))
    if len(chain) > 1 and say.chance(0.35):
        extras.append(say(("Each link rises: <r>.", "{Check|Checking} the links: <r>.", "<r>, strictly up."),
                          r=" < ".join(str(seq[j]) for j in chain)))
    if say.chance(0.3):
        extras.append(say(("That is <c> of the <n> values.", "<c> values out of <n>.", "It uses <c> of <n> positions."), c=len(chain), n=len(seq)))
    return TraceStep("think", " ".join([text, *say.order(extras)]), stage="reconstruct")


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


def _entry_text(seq: list[int], state: tuple[Entry, ...], i: int, length: int, prev: int | None, say: Voice, claimed: bool = False) -> str:
    """The thought behind L[i]: the smaller earlier values with their L, the equal ones that
    cannot come before it, the larger ones skipped, a tie between equally long runs (the
    first is kept), how the entry compares with the best so far and what is left, and the
    entry (``claimed``: the entry as written, whatever the comparisons say, which is how a slip
    reads). The optional clauses are all true of the table as the solver has it."""
    v = seq[i]
    after = _after(seq, state, i, length, say)
    if i == 0:
        head = say(("a[0]=<v> has nothing before it: L[0]=1, no prev.", "a[0]=<v> starts everything: L[0]=1.", "First value, a[0]=<v>: L=1, no prev.",
                    "{Start|Begin} with a[0]=<v>{:|;} {nothing comes before it|there is nothing earlier}, so L[0]=1{ and no prev|}.",
                    "L[0]=1{ trivially|}: a[0]=<v> {is alone|has no predecessor}.",
                    "{The first entry|Entry 0}: a[0]=<v>, a run of one{ by itself|}, L[0]=1."), v=v)
        fact = ""
        if say.chance(0.4):
            lo, hi = min(seq), max(seq)
            fact = say((" <v> is the smallest value in the sequence, so every larger one after it can extend it.",
                        " It is the minimum of the sequence{, a good start|}.") if v == lo else
                       (" <v> is the largest value, so nothing after it can extend it.", " It is the maximum{ of the sequence|}: no later value can follow it.")
                       if v == hi else (" Later values above <v> can extend it.", " Anything larger later can build on it."), v=v)
        return opened(say, f"{head}{fact}{after}", 0.3)
    style = say.pick(("a[<k>]=<x> (L=<l>)", "<x> at <k> (L <l>)", "a[<k>]=<x> with L=<l>", "<x> (a[<k>], L=<l>)", "a[<k>]=<x>: L <l>"))
    smaller = [say(style, k=k, x=seq[k], l=state[k][0]) for k in range(i) if seq[k] < v]
    if len(smaller) > 2 and say.chance(0.3):
        smaller = [f"{len(smaller)} of them: " + smaller[0], *smaller[1:]]
    equal = [f"a[{k}]" for k in range(i) if seq[k] == v]
    skip = say((" <e> <eq> it, so cannot come before it.", " <e> <eq> it and is skipped.", " (<e> <eq> it: not smaller.)",
                " <E> <eq> <v>{: equal is not smaller| and does not count}.", " Skip <e>, {equal to it|the same value}: strictly increasing only."),
               e=", ".join(equal), E=cap(", ".join(equal)), eq="equals" if len(equal) == 1 else "equal", v=v) if equal else ""
    larger = [str(seq[k]) for k in range(i) if seq[k] > v]
    if prev is None:
        big = say((" The earlier values <l> are all larger.", " Before it: <l>, every one bigger.", " (<l> come first, all above <v>.)",
                   " {Everything|All} before it ({<l>}) is {bigger|above <v>}.", " <L> all exceed <v>."),
                  l=", ".join(larger), L=", ".join(larger), v=v) if larger else ""
        core = say(("a[<i>]=<v>: no earlier value is smaller.<s><b> So L[<i>]=<l>, no prev.", "a[<i>]=<v> has nothing smaller before it.<s><b> L[<i>]=<l>.",
                    "Nothing before a[<i>]=<v> is below it.<s><b> L[<i>]=<l>, no prev.",
                    "a[<i>]=<v>{ next|}: {no smaller value comes before it|it is below everything so far}.<s><b> {So|Hence|That makes} L[<i>]=<l>{ with no prev|, a fresh start|}.",
                    "L[<i>]=<l>{ and no prev|}: a[<i>]=<v> {has no smaller predecessor|is smaller than all of a[0..<j>]}.<s><b>"),
                   i=i, j=i - 1, v=v, s=skip, b=big, l=length)
        return opened(say, f"{core}{after}", 0.3)
    big = say((" <k> earlier value(s) are larger.", " Larger ones (<l>) are skipped.", " <l> are above <v>{ and skipped|, out}.", ""),
              k=len(larger), l=", ".join(larger), v=v) if larger and say.chance(0.4) else ""
    best = state[prev][0] if prev < len(state) else 0
    shown = best if not claimed else length - 1
    # later smaller values with prev's L: _extend keeps the first of equally long runs
    ties = [k for k in range(prev + 1, i) if seq[k] < v and state[k][0] == best] if prev < len(state) and say.chance(0.5) else []
    tie = say((" <t> also <has> L=<b>; the first, a[<p>], is kept.", " (<t> <ties> at L=<b>; keep the earliest, a[<p>].)",
               " Tie at L=<b> with <t>: I keep a[<p>].", " <T> <has> L=<b> too, but a[<p>] comes first."),
              t=", ".join(f"a[{k}]" for k in ties), T=cap(", ".join(f"a[{k}]" for k in ties)), has="has" if len(ties) == 1 else "have",
              ties="ties" if len(ties) == 1 else "tie", b=best, p=prev) if ties else ""
    m = ", ".join(smaller) or "none"
    if say.chance(0.25):
        core = say(("L[<i>] = <l>, prev <p>: of the smaller earlier values (<m>), a[<p>]=<x> has the largest L, <b>, and <b>+1 = <l>.",
                    "prev[<i>] = <p> and L[<i>] = <l>{, because|, since} a[<p>]=<x> {carries|has} the longest run, <b>, among <m>."),
                   i=i, l=length, p=prev, m=m, x=seq[prev], b=shown)
        return opened(say, f"{core}{skip}{big}{tie}{after}", 0.2)
    head = say(("a[<i>]=<v>: smaller earlier values <m>.", "For a[<i>]=<v>, the smaller ones before it: <m>.", "a[<i>]=<v>. Earlier and smaller: <m>.",
                "{Entry|Position} <i>, value <v>. {Smaller|Below it} {and earlier|and before it}: <m>.", "{Look|Looking} back from a[<i>]=<v>: {smaller are|the smaller values are} <m>.",
                "a[<i>]=<v>{ now|}; {earlier values under <v>|candidates to come before it}: <m>."),
               i=i, v=v, m=m)
    tail = say(("The longest is L=<b> at a[<p>]=<x>, so L[<i>]=<l>, prev <p>.", "Best is a[<p>]=<x> with L=<b>: L[<i>] = <b>+1 = <l>, prev <p>.",
                "a[<p>]=<x> gives the most, L=<b>, so L[<i>]=<l> with prev <p>.", "{The best of these|Longest among them} is a[<p>] (L=<b>){, so|:} L[<i>] = <b> + 1 = <l>{, prev <p>| with prev <p>}.",
                "{Extend|Build on} a[<p>]=<x>, L=<b>: L[<i>]=<l>, prev[<i>]=<p>.", "{So|Then} L[<i>] = L[<p>] + 1 = <b> + 1 = <l>{, prev <p>|}."),
               b=shown, p=prev, x=seq[prev], i=i, l=length)
    return opened(say, f"{head}{skip}{big}{tie} {tail}{after}", 0.3)


def _after(seq: list[int], state: tuple[Entry, ...], i: int, length: int, say: Voice) -> str:
    """Optional true remarks after an entry: how it compares with the best L so far, and how
    many entries are left."""
    out = []
    if state and say.chance(0.4):
        top = max(range(len(state)), key=lambda k: (state[k][0], -k))
        best = state[top][0]
        if length > best:
            out.append(say(("A new longest run{, up from <b>|}.", "That beats the best so far ({L=<b>|<b>}, at a[<k>]).", "New record: <l> > <b>."),
                           b=best, k=top, l=length))
        elif length == best:
            out.append(say(("That ties the best so far, L=<b>{ at a[<k>]|}.", "Level with a[<k>]'s <b>.", "Equal to the best, <b>."), b=best, k=top))
        else:
            out.append(say(("(Best so far: L=<b> at a[<k>].)", "The table's top so far is <b>, at a[<k>].", "Still below the best, <b> at a[<k>].",
                            "The longest so far stays <b>."), b=best, k=top))
    left = len(seq) - i - 1
    if left and say.chance(0.3):
        out.append(say(("<n> {entries|values} {to go|left}.", "{Still|Then} <n> more.", "<n> left to fill."), n=left))
    return "".join(" " + x for x in out)


class LIS(ReasoningFamily):
    name = "lis"
    group = "algorithms"
    action = "set"
    rules = ("entries are filled in order, each a length of at least 1 and prev an earlier index or null; the values are the "
             "solver's own (L[i] is meant to be one more than the longest L[j] over earlier a[j] < a[i], prev[i] such a j: an "
             "entry that is not breaks no rule, the subsequence it leads to is wrong)")
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

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        seq = problem["seq"]
        head = say(("<n> numbers, a[0]..a[<m>] = <s>", "The sequence has <n> values: <s>", "a[0]..a[<m>] are <s>"), n=len(seq), m=len(seq) - 1,
                   s=", ".join(map(str, seq)))
        goal = say(("I need the longest subsequence, in the original order, whose values strictly increase",
                    "the task: a longest strictly increasing subsequence (equal values do not count as increasing)",
                    "find a longest run of values, kept in order, each larger than the one before"))
        facts = []
        repeats = len(seq) - len(set(seq))
        if repeats:
            facts.append(say(("<k> value(s) repeat, which can never both be used", "there are <k> repeated value(s)"), k=repeats))
        facts.append(say(("the smallest is <a>, the largest <b>", "values range from <a> to <b>"), a=min(seq), b=max(seq)))
        extra = "".join(" " + cap(f) + "." for f in say.order(facts)[: say.pick((0, 1, 2))])
        return f"{head}. {cap(goal)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        seq = problem["seq"]
        method = say(("Dynamic programming: L[i] is the length of the longest strictly increasing subsequence ending at a[i].",
                      "DP over positions: L[i] = length of the best increasing run that ends exactly at a[i].",
                      "Let L[i] be the longest strictly increasing subsequence ending at a[i]; fill L left to right.",
                      "{I'll use|Use} the O(n^2) {DP|dynamic programme}: L[i], the longest increasing run ending {at|exactly at} a[i], {and|with} prev[i] {for the link|to rebuild it}.",
                      "{Define|Keep} L[i] = length of the longest {strictly increasing|increasing} subsequence {that ends|ending} at position i{, filled in order|}."))
        rule = say(("Going left to right, compare a[i] with every earlier a[j]: only a[j] < a[i] can come before it, and the longest such L[j] "
                    "gives L[i] = L[j] + 1 with prev[i] = j (L[i] = 1 when no earlier value is smaller).",
                    "For each i, scan the earlier values: among those smaller than a[i], the one with the largest L gives L[i] = L + 1 and prev[i]; "
                    "with none smaller, L[i] = 1.",
                    "Each entry looks back at every smaller earlier value and extends the longest of them (equal values are skipped).",
                    "{Recurrence|The rule}: L[i] = 1 + max L[j] over j < i with a[j] < a[i]{, or 1 if there is none|; 1 when none is smaller}{, and prev[i] is that j|}.",
                    "{At|For} every position, {only strictly smaller earlier values count|equal or larger earlier values are skipped}; the longest of the rest{, plus one,| plus one} is L[i]."))
        end = say(("Then start at the largest L and follow prev back.", "At the end, walk prev back from the largest L.",
                   "The answer is read back along prev from the biggest L.", "{Finally|Last}, {take|find} the {maximum|largest} L and {trace|follow} the prev links {back|backwards}.",
                   "{The subsequence itself|The answer} comes from {the prev chain|following prev} {starting at|from} the top L."))
        notes = [say(("With <n> values that is <c> comparisons.", "<n> values: <c> pairs to compare.", "That is <c> comparisons for <n> values."),
                     n=len(seq), c=len(seq) * (len(seq) - 1) // 2)]
        repeats = len(seq) - len(set(seq))
        if repeats:
            notes.append(say(("Watch the <k> repeated value(s): equal never extends.", "{Some values repeat|There are repeats} (<k>), and equal does not count."), k=repeats))
        if say.chance(0.3):
            notes.append(say(("Ties keep the earliest j.", "On a tie, the first j wins.")))
        picked = say.order(notes)[: say.pick((0, 1, 1, 2))]
        return " ".join([method, rule, end, *picked])

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        values = answer.split()
        notes = [say(("<k> values", "length <k>", "<k> numbers long", "a subsequence of <k>"), k=len(values))]
        if len(values) > 1:
            notes.append(say(("from <a> up to <b>", "rising from <a> to <b>", "<a> first, <b> last"), a=values[0], b=values[-1]))
        return answer_line(say, answer, say.listing(say.order(notes)[: say.pick((0, 1, 2))]))

    def start(self, problem: dict[str, Any]) -> tuple[Entry, ...]:
        return ()

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        seq = problem["seq"]
        say = self.voice(problem)
        state: tuple[Entry, ...] = ()
        steps: list[TraceStep] = []
        for i in range(len(seq)):
            move, text = self._entry(seq, state, i, say)
            steps.append(TraceStep("apply", text, move))
            state = (*state, (move["length"], move["prev"]))
        steps.append(_reconstruct(seq, state, say))
        return Search(steps, self.read_off(problem, state), {"entries": len(seq), "longest": longest(seq)})

    def _entry(self, seq: list[int], state: tuple[Entry, ...], i: int, say: Voice) -> tuple[dict[str, Any], str]:
        """The right entry for ``i`` from ``state``, and the thought with the comparisons."""
        best, j = _extend(seq, state, i)
        move = {"i": i, "length": best + 1, "prev": j}
        return move, _entry_text(seq, state, i, best + 1, j, say)

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[Entry, ...], move: Any) -> tuple[tuple[Entry, ...], str | None]:
        seq = problem["seq"]
        i, length, prev = (move.get("i"), move.get("length"), move.get("prev", -1)) if isinstance(move, dict) else (None,) * 3
        if type(i) is not int or type(length) is not int or length < 1 or (prev is not None and type(prev) is not int):
            return state, f"a move names i, a length of at least 1 and prev (an index or null), got {move!r}"
        if i != len(state):
            nxt = f"L[{len(state)}]" if len(state) < len(seq) else "nothing: the table is full"
            return state, f"entries are filled in order: the next is {nxt}, not L[{i}]"
        if prev is not None and not 0 <= prev < i:
            return state, f"prev[{i}] must be an earlier index (0..{i - 1}) or null, got {prev}"
        return (*state, (length, prev)), None

    def keeps_solvable(self, problem: dict[str, Any], before: tuple[Entry, ...], move: Any, after: tuple[Entry, ...], search: Search) -> bool:
        """An entry computed wrong (a prev that is not smaller, a shorter run than the best,
        a length off by one) is the solver's belief, not a broken rule: the table is still
        solvable iff filling the rest by the recurrence and reading the chain back gives a
        longest increasing subsequence. A slip off every longest chain washes out."""
        return self.judge(problem, self.read_off(problem, _finish(problem["seq"], after)))[0]

    def observe(self, problem: dict[str, Any], state: tuple[Entry, ...]) -> str:
        return "L so far: " + (" ".join(str(e[0]) for e in state) or "empty") + "."

    def mistake(self, problem: dict[str, Any], state: tuple[Entry, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """Extend the longest run so far without checking that it ends lower (equal or larger
        values included: strictness forgotten), stop at the nearest or the first smaller value
        instead of the best one (a greedy scan), or misread the best one's L by one (an
        off-by-one). Each is a legal entry (the table holds what the solver computed) that the
        env finds wrong from the state: the table filled on from it no longer reads back a
        longest subsequence. A slip off the final chain would leave the answer right, so one
        whose consequences reach the answer is preferred."""
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
            slips.append(({"i": i, "length": state[k][0] + 1, "prev": k}, "forgotten",
                          say(("a[<k>]=<x> is not smaller than a[<i>]=<v>, so it cannot come before it", "<x> >= <v>: a[<k>] may not precede a[<i>]"),
                              k=k, x=seq[k], i=i, v=v)))
        for scan, kind in ((range(i - 1, -1, -1), "greedy"), (range(i), "greedy")):
            k = next((k for k in scan if seq[k] < v), None)
            if k is not None and state[k][0] < best and all(m["prev"] != k for m, _, _ in slips):
                slips.append(({"i": i, "length": state[k][0] + 1, "prev": k}, kind,
                              say(("a[<j>]=<y> has L=<b>, longer than a[<k>]'s <c>", "the best smaller value is a[<j>] (L=<b>), not a[<k>] (L=<c>)"),
                                  j=j, y=seq[j], b=best, k=k, c=state[k][0])))
        wrong = best + 2
        slips.append(({"i": i, "length": wrong, "prev": j}, "off_by_one",
                      say(("L[<i>] is <r>: <b> + 1, not <w>", "recounting, <b> + 1 = <r>, so L[<i>]=<w> was one too many"), i=i, r=best + 1, b=best, w=wrong)))
        rng.shuffle(slips)
        reaching = [m for m in slips if not self.verify(problem, self.read_off(problem, _finish(seq, (*state, (m[0]["length"], m[0]["prev"])))))[0]]
        move, kind, reveal = (reaching or slips)[0]
        text = _entry_text(seq, state, i, move["length"], move["prev"], say, claimed=True)
        return Mistake(move, text, kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Entry, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Fill the rest of the table from the wrong entry on, never going back to it."""
        seq = problem["seq"]
        steps = []
        for i in range(len(state), len(seq)):
            move, text = self._entry(seq, state, i, say)
            steps.append(TraceStep("apply", text, move))
            state = (*state, (move["length"], move["prev"]))
        return [*steps, _reconstruct(seq, state, say)]

    def confirm(self, problem: dict[str, Any], before: tuple[Entry, ...], move: Any, say: Voice) -> str | None:
        seq = problem["seq"]
        i, prev = move["i"], move["prev"]
        if prev is None:
            return say(("nothing before a[<i>]=<v> is smaller, so L=1", "no earlier value is below <v>: L[<i>]=1"), i=i, v=seq[i])
        if not (0 <= prev < len(before)):
            return None
        return say(("a[<p>]=<x> < <v> with L=<l>, the longest such, so L[<i>]=<m>", "prev a[<p>] (<x> < <v>) carries L=<l>; L[<i>] = <l>+1 = <m>"),
                   p=prev, x=seq[prev], v=seq[i], l=before[prev][0], i=i, m=move["length"])

    def narrate(self, problem: dict[str, Any], state: tuple[Entry, ...], move: Any, say: Voice) -> str:
        seq = problem["seq"]
        i = move["i"]
        if i >= len(seq) or i != len(state):
            return say(("Set L[<i>]=<l>, prev <p>.", "L[<i>] = <l> with prev <p>."), i=i, l=move["length"], p=move["prev"])
        prev = move["prev"] if move["prev"] is None or 0 <= move["prev"] < i else None
        return _entry_text(seq, state, i, move["length"], prev, say, claimed=True)

    def muse(self, problem: dict[str, Any], state: tuple[Entry, ...], say: Voice) -> str | None:
        return _reconstruct(problem["seq"], state, say).text if state else None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        values = [t for t in answer.split() if t]
        rising = say(("<v> rises strictly", "each of <v> is larger than the one before", "<v>: strictly increasing"), v=" < ".join(values))
        order = say(("and the values appear in this order in the sequence", "taken in the sequence's own order", "and their positions increase too"))
        size = say(("<k> values, which is the largest L", "length <k>, the top of the table"), k=len(values))
        return f"{verify_intro(say, answer)}: {rising}, {order}; {size}; {verify_holds(say)}."

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

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
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
