"""The ``game24`` family (group algorithms): reach a target from given numbers with + - * /.

The 24 game, generalised: three to six numbers and a target drawn from a range, so every seed
is a different puzzle. Arithmetic is exact (fractions allowed on the way, as in 5*(5-1/5)).
The target is the value of a random expression over the numbers, so every puzzle has a
solution, and the solver must find one by a real depth-first search: its trace shows each
combination tried, the dead ends (two numbers left that cannot make the target) and the
backtracks. Puzzles the search needs more tries than a level allows are drawn again, which
keeps traces readable; any expression that reaches the target passes the verifier.

==========  =======  =======  ========  =====  ======================================
difficulty  numbers  range    target    tries  typical expert steps (read..answer)
==========  =======  =======  ========  =====  ======================================
1           3        1..13    10..40    12     ~8
2           4        1..13    10..40    10     ~10
3           4        1..13    20..100   16     ~11
4           5        1..13    20..150   40     ~23
5           6        1..20    50..500   80     ~36
==========  =======  =======  ========  =====  ======================================

``tries`` caps the combinations the expert may try before it finds a solution.

Moves: ``combine {"a": 8, "op": "*", "b": 3, "result": 24}`` replaces two numbers left by the
result (numbers are integers or "p/q" strings). State: a sorted tuple of (value as written,
expression, precedence, true value), one per number left. A move is legal when both numbers
are left and the operation is defined: the result is the solver's own, and a slip is found
from the state (a number whose written value is not its expression's, ``keeps_solvable``).
Answer: one expression over the
given numbers, each used exactly once, e.g. "(8-2)*(3+1)" (× ÷ x, brackets and a trailing
"= 24" are fine); it is parsed with :mod:`ast` and evaluated by a walker that knows only
integers, + - * / and parentheses, never by ``eval``.
"""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from fractions import Fraction
from functools import lru_cache
from typing import Any

from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import (
    Voice,
    answer_line,
    cap,
    dead_end,
    opened,
    verify_holds,
    verify_intro,
)
from synth.registry import register

Num = int | Fraction  # exact; always an int when whole (ints are many times faster than Fractions)
# value as written, expression, precedence (1: + -, 2: * /, 3: a number), the expression's true
# value (it differs from the first after a slip; None after a true division by zero)
Item = tuple[Num, str, int, Num | None]

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
_AST_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_SPELLINGS = str.maketrans({"×": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "[": "(", "]": ")", "{": "(", "}": ")"})
_TIMES_X = re.compile(r"(?<=[\d)\s])[xX](?=[\s\d(])")
_CLAIM = re.compile(r"=\s*([^=]*)$")
_NOISY_TRIES = 12  # how long a noisy teacher searches on from its slip before it gives up
_MAX_ANSWER = 200  # characters: far above any real answer, and a bound on parser nesting


def _num(x: Num) -> int | str:
    """How a number is written in moves: an integer, or "p/q"."""
    return x if type(x) is int else f"{x.numerator}/{x.denominator}"


def _fmt(x: Num) -> str:
    return str(x) if type(x) is int else f"{x.numerator}/{x.denominator}"


def _listing(values: tuple[Num, ...] | list[Num]) -> str:
    names = [_fmt(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _value(x: Any) -> Num | None:
    """A move's number: an int or a "p/q" string; anything else is malformed."""
    if type(x) is int:
        return x
    if isinstance(x, str) and re.fullmatch(r"-?\d{1,12}(/[1-9]\d{0,11})?", x.strip()):
        return _whole(Fraction(x.strip()))
    return None


def _whole(x: Fraction) -> Num:
    return x.numerator if x.denominator == 1 else x


def _compute(x: Num, op: str, y: Num) -> Num | None:
    """``x op y`` exactly, or None for a division by zero."""
    if op == "+":
        r = x + y
    elif op == "-":
        r = x - y
    elif op == "*":
        r = x * y
    elif not y:
        return None
    elif type(x) is int and type(y) is int:
        return x // y if x % y == 0 else Fraction(x, y)
    else:
        r = Fraction(x) / y
    return r if type(r) is int else _whole(r)


@lru_cache(maxsize=1 << 16)
def _combos(values: tuple[Num, ...]) -> tuple[tuple[Num, str, Num, Num, tuple[Num, ...], float], ...]:
    """Every distinct way to combine two of ``values`` (sorted, largest first), as
    (a, op, b, result, numbers left, result as a float for ordering); a combination leaving
    the same numbers as an earlier one is skipped. Cached: many puzzles share sub-multisets."""
    out, seen = [], set()
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            x, y = values[i], values[j]
            rest = values[:i] + values[i + 1 : j] + values[j + 1 :]
            for a, op, b, r in _results(x, y):
                left = tuple(sorted((*rest, r), reverse=True))
                if left not in seen:
                    seen.add(left)
                    out.append((a, op, b, r, left, float(r)))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _results(x: Num, y: Num) -> tuple[tuple[Num, str, Num, Num], ...]:
    """Every result of two numbers (x >= y), each as (a, op, b, result): + and * once,
    subtraction larger minus smaller (a negative number never helps reach a positive
    target), division both ways."""
    out = [(x, op, y, _compute(x, op, y)) for op in "+-*/"]
    if x != y and x:
        out.append((y, "/", x, _compute(y, "/", x)))
    return tuple(t for t in out if t[3] is not None)


_OP_WORDS = {"+": ("plus", "added to"), "-": ("minus", "less"), "*": ("times", "multiplied by"), "/": ("divided by", "over")}


def _calc(a: Num, op: str, b: Num, r: Num, say: Voice) -> str:
    """'8 * 3 = 24', sometimes in words ('8 times 3 is 24')."""
    if say.chance(0.3):
        return say(("<a> <w> <b> is <r>", "<a> <w> <b> gives <r>"), a=_fmt(a), w=say.pick(_OP_WORDS[op]), b=_fmt(b), r=_fmt(r))
    return f"{_fmt(a)} {op} {_fmt(b)} = {_fmt(r)}"


def _try_text(values: tuple[Num, ...], a: Num, op: str, b: Num, r: Num, left: tuple[Num, ...], k: int, target: int, say: Voice) -> str:
    """A combination tried: the numbers it starts from, the operation and what is left (and,
    sometimes, how close the result is to the target, or what the rest must then give)."""
    near = ""
    if say.chance(0.35) and len(left) > 1:
        near = say((" (<r> is <d> from <t>)", "; <r> is closest to <t>", ", close to <t>"), r=_fmt(r), d=_fmt(abs(r - target)), t=target)
    elif len(left) == 2 and say.chance(0.4):
        x, y = left
        need = say(("; then <x> and <y> must make <t>", ", so <t> has to come from <x> and <y>", "; what is left, <x> and <y>, must give <t>"),
                   x=_fmt(x), y=_fmt(y), t=target)
        near = need
    calc = _calc(a, op, b, r, say)
    text = say(("From <v>: <w> <c>, leaving <l><n>.", "<V>: <w> <c>, which leaves <l><n>.", "With <v>, <w> <c>; left: <l><n>.",
                "From <v>, <w> <c> (leaving <l>)<n>.", "{Numbers|I have} <v>{ left|}. <W> <c>{, so|;} {<l> remain|now <l>}<n>.",
                "<W> <c> {from|out of} <v>{:|, which gives} <l><n>.", "{Combine|Merge} {two of <v>|from <v>}: <c>{ —|;} {remaining|left over}: <l><n>.",
                "{Option <o> at <v>|At <v>, option <o>}: <c>{, leaving| →} <l><n>."),
               v=_listing(values), V=cap(_listing(values)), w=(w := say(("try", "first", "start with") if k == 0 else ("next", "then", "now try"))),
               W=cap(w), c=calc, l=_listing(left), n=near, o=k + 1)
    if len(left) > 2 and say.chance(0.25):
        text += say((" <k> numbers to go.", " Then <k> left to combine.", " (<k> numbers now.)"), k=len(left))
    return opened(say, text, 0.2)


def _last_text(values: tuple[Num, ...], a: Num, op: str, b: Num, r: Num, say: Voice) -> str:
    text = say(("<v> left: <c>, the target.", "Two numbers, <v>: <c>, which is the target.", "With <v> left, <c>: there it is.",
                "{Last pair|Final two}, <v>: <c>{ — the target| = target|, exactly the target}{!|.}",
                "<c>{, and that is|: that is} the target{, found|}.", "{Only|Just} <v> {left|remain}{;|:} <c>{. Done.|, which is it.|, the goal.}"),
               v=_listing(values), c=_calc(a, op, b, r, say))
    return opened(say, text, 0.2)


def _dead_text(values: tuple[Num, ...], target: int, say: Voice) -> str:
    style = say.pick(("<a> <o> <b> = <r>", "<r> (<a><o><b>)", "<a><o><b>=<r>"))
    tried = ", ".join(say(style, a=_fmt(a), o=op, b=_fmt(b), r=_fmt(r)) for a, op, b, r in _results(*values))
    return say(("<v> left: <t>; none is <g>, <d>.", "Only <v> remain: <t>. None gives <g>: <d>.", "<V> left; the results are <t>, and <g> is not among them: <d>.",
                "{Two left|Down to two}, <v>{:|;} <t>. {No <g>|Not <g>}{:|;} <d>.", "{All results|Every result} of <v>: <t>. {None equals|None of them is} <g>{, <d>|: <d>}.",
                "<t>{ —| are} all {from|the results of} <v>, {none|not one} {equal to|hitting} <g>. <D>."),
               v=_listing(values), V=cap(_listing(values)), t=tried, g=target, d=(d := dead_end(say)), D=cap(d))


def _search(values: tuple[Num, ...], target: int, budget: int, record: bool, say: Voice | None = None):
    """Depth-first search for ``target`` from ``values``; the expert's and the noisy teacher's.

    Returns (trace steps, tries, dead ends), or None when the search needs more than
    ``budget`` tries or there is no solution. ``record`` False skips the texts (the generator
    only needs to know whether the search is short enough).
    """
    steps: list[TraceStep] = []
    count = {"tries": 0, "dead_ends": 0}
    goal = float(target)

    def node(values: tuple[Num, ...], depth: int) -> bool:
        if len(values) == 1:
            return values[0] == target
        if len(values) == 2:
            results = _results(*values)
            for a, op, b, r in results:
                if r == target:
                    if record:
                        steps.append(TraceStep("apply", _last_text(values, a, op, b, r, say), {"a": _num(a), "op": op, "b": _num(b), "result": _num(r)}))
                    return True
            count["dead_ends"] += 1
            if record:
                steps.append(TraceStep("backtrack", _dead_text(values, target, say), depth=depth - 1))
            return False
        order = sorted(_combos(values), key=lambda c: abs(c[5] - goal))
        for k, (a, op, b, r, left, _) in enumerate(order):
            count["tries"] += 1
            if count["tries"] > budget:
                raise _OverBudget
            if record:
                steps.append(TraceStep("apply", _try_text(values, a, op, b, r, left, k, target, say), {"a": _num(a), "op": op, "b": _num(b), "result": _num(r)}))
            if node(left, depth + 1):
                return True
        if record and steps and steps[-1].kind == "backtrack":
            steps[-1].depth = depth - 1
            steps[-1].text += " " + say(("Every combination of <v> is tried: none reaches <t>.", "All ways to combine <v> fail as well.",
                                         "<V> is exhausted too: no route to <t>."), v=_listing(values), V=cap(_listing(values)), t=_fmt(target))
        return False

    try:
        found = node(tuple(sorted(values, reverse=True)), 0)
    except _OverBudget:
        return None
    return (steps, count["tries"], count["dead_ends"]) if found else None


def _prod(numbers: list[int]) -> int:
    out = 1
    for x in numbers:
        out *= x
    return out


class _OverBudget(Exception):
    pass


def _combine(x: Item, op: str, y: Item, value: Num) -> Item:
    """The item for ``x op y`` with the value given (a slip keeps its wrong value), the
    expression parenthesised only where precedence needs it."""
    p = _PREC[op]
    left = x[1] if x[2] >= p else f"({x[1]})"
    right = y[1] if y[2] > p or (y[2] == p and op in "+*") else f"({y[1]})"
    true = None if x[3] is None or y[3] is None else _compute(x[3], op, y[3])
    return value, f"{left}{op}{right}", p, true


def _atom(v: Num) -> Item:
    return v, _fmt(v), 3, v


def _sorted(items: list[Item]) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda t: (-t[0], t[1])))


class Game24(ReasoningFamily):
    name = "game24"
    group = "algorithms"
    action = "combine"
    rules = ("both numbers are among those left and the operation is defined; the result is the solver's own (a wrong one "
             "breaks no rule, the expression it builds misses what is written)")
    levels = {
        1: {"count": 3, "high": 13, "targets": (10, 40), "tries": 12},
        2: {"count": 4, "high": 13, "targets": (10, 40), "tries": 10},
        3: {"count": 4, "high": 13, "targets": (20, 100), "tries": 16},
        4: {"count": 5, "high": 13, "targets": (20, 150), "tries": 40},
        5: {"count": 6, "high": 20, "targets": (50, 500), "tries": 80},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, count: int, high: int, targets: tuple[int, int], tries: int) -> dict[str, Any]:
        while True:
            numbers = [rng.randint(1, high) for _ in range(count)]
            target = _random_value(rng, numbers, targets[1])
            if not targets[0] <= target <= targets[1]:
                continue
            if _search(tuple(numbers), target, tries, record=False) is not None:
                return {"numbers": numbers, "target": target}

    def describe(self, problem: dict[str, Any]) -> str:
        numbers, target = problem["numbers"], problem["target"]
        return (
            f"Use the numbers {', '.join(map(str, numbers))} to make {target}. Each number must be used "
            "exactly once; you may use +, -, * and / and parentheses. Arithmetic is exact, so "
            "fractions are fine along the way (8/3 is 8/3, not 2.67), but the result must be exactly "
            f"{target}.\nAnswer with one expression over the given numbers, for example: (8-2)*(3+1)"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        numbers, target = problem["numbers"], problem["target"]
        head = say(("Numbers <n>, target <t>", "I have <n> and must make <t>", "From <n>, reach <t>", "{Target|Goal} <t>{, numbers| from} <n>",
                    "{Make|Build} <t> {out of|from} <n>{ with + - * /|}", "{The numbers are|Given} <n>; {target|I need} <t>"), n=_listing(numbers), t=target)
        rule = say(("Combining two numbers into their result leaves one number fewer; after <k> combinations one number is left, and it must be <t>",
                    "each step merges two numbers into one, so <k> steps leave a single number, which must equal <t>",
                    "<k> combinations, each replacing two numbers by their result, must end at <t>",
                    "{that is|so that makes} <k> {merges|combinations}{ of two numbers|}{, and|;} the {last|final} {result|number} {has to be|must be} <t>",
                    "{every|each} number {is used|goes in} once, {so|which means} <k> operations {in all|altogether}, ending at <t>"), k=len(numbers) - 1, t=target)
        extra = ""
        if say.chance(0.5):
            big = max(numbers)
            extra = say((" The largest is <b>; <t> is <r> times it, roughly.", " Their sum is <s>.", " The product of all of them is <p>."),
                        b=big, t=target, r=round(target / big, 1), s=sum(numbers), p=_prod(numbers))
        return f"{head}. {cap(rule)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        target = problem["target"]
        method = say(("Depth-first search: combine two of the numbers left with an operation and go on with one number fewer.",
                      "Search depth-first over combinations: pick two numbers, combine them, recurse on what is left.",
                      "Try combinations depth-first, two numbers at a time.",
                      "{DFS|A depth-first search}{:|;} {merge|combine} two numbers {left|at a time}{, then| and} {recurse|go deeper} {on one fewer|with one number less}.",
                      "{Approach|Method}: {try|explore} {pairs and operations|combinations} depth-first{, backing up at dead ends|}."))
        order = say(("At each point try first the results closest to <t>; + and * once per pair, subtraction larger minus smaller, division both ways, "
                     "and skip a combination that leaves the same numbers as one tried before it.",
                     "Order the options by how close their result is to <t>; use + and * once per pair, larger minus smaller, division either way, "
                     "and skip repeats of the same leftover numbers.",
                     "Results nearest <t> first; no negative differences; division both ways; no two tries with the same numbers left.",
                     "{Order|Rank} {the options|the tries} by {distance to|closeness to} <t>{, skipping leftover sets already tried|; skip repeated leftovers}{, subtraction only larger minus smaller|}{, division either way|}."), t=target)
        end = say(("With two numbers left, check all their results against <t>: if none matches it is a dead end, so undo the last combination and "
                   "try the next one.", "When two remain, test every result; no match means undo the last step and take the next option.",
                   "Two numbers left and no result equal to <t> is a dead end: back up one combination.",
                   "{At|With} two numbers, {every|each} result {is checked|gets compared} {against|with} <t>{; none equal| — no match} {means backtrack|means undo the last merge}."), t=target)
        notes = []
        if say.chance(0.3):
            notes.append(say(("With <k> numbers there are <p> pairs to start.", "<p> pairs at the first level.", "First level: <p> pairs."),
                             k=len(problem["numbers"]), p=len(problem["numbers"]) * (len(problem["numbers"]) - 1) // 2))
        return " ".join([method, order, end, *notes])

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        notes = [say(("= <t>", "which makes <t>", "value <t>", "it reaches <t>"), t=problem["target"])] if say.chance(0.6) else []
        if say.chance(0.4):
            notes.append(say(("each number once", "all <k> numbers used", "using <k> numbers"), k=len(problem["numbers"])))
        return answer_line(say, answer, say.listing(say.order(notes)))

    def start(self, problem: dict[str, Any]) -> tuple[Item, ...]:
        return _sorted([_atom(n) for n in problem["numbers"]])

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        target = problem["target"]
        found = _search(tuple(problem["numbers"]), target, 10**6, record=True, say=self.voice(problem))
        if found is None:
            raise ValueError(f"no way to make {target} from {problem['numbers']}")
        steps, tries, dead_ends = found
        answer = self.read_off(problem, self.replay(problem, steps)[-1])
        return Search(steps, answer, {"tries": tries, "dead_ends": dead_ends})

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[Item, ...], move: Any) -> tuple[tuple[Item, ...], str | None]:
        a, b, claimed = (_value(move.get(k)) for k in ("a", "b", "result")) if isinstance(move, dict) else (None,) * 3
        op = move.get("op") if isinstance(move, dict) else None
        if a is None or b is None or claimed is None or op not in _PREC:
            return state, f"a move names two numbers, an operation (+ - * /) and its result, got {move!r}"
        true = _compute(a, op, b)
        if true is None:
            return state, f"{_fmt(a)} / 0 is undefined"
        items = list(state)
        picked, missing = [], []
        for v in (a, b):
            i = next((i for i, it in enumerate(items) if it[0] == v), None)
            if i is None:
                picked.append(_atom(v))  # carried out with the number conjured, so the slip shows
                missing.append(v)
            else:
                picked.append(items.pop(i))
        after = _sorted([*items, _combine(picked[0], op, picked[1], claimed)])
        if missing:
            left = [it[0] for it in state]
            if missing[0] in left:
                return after, f"{_fmt(a)} {op} {_fmt(b)} needs two {_fmt(a)}s, but only one is left"
            return after, f"{_fmt(missing[0])} is not among the numbers left ({_listing(left)})"
        return after, None

    def keeps_solvable(self, problem: dict[str, Any], before: tuple[Item, ...], move: Any, after: tuple[Item, ...], search: Search) -> bool:
        """A result written wrong is the solver's belief, not a broken rule; but every number
        left must be what its expression really makes: right arithmetic from a wrong number
        builds an expression whose value is not the one written, so no correct continuation
        of the solver's own working is left. (Whether the target is still reachable is the
        search's business: a right combination into a dead end is a try it undoes.)"""
        return all(it[0] == it[3] for it in after)

    def observe(self, problem: dict[str, Any], state: tuple[Item, ...]) -> str:
        return f"Numbers left: {_listing([it[0] for it in state])} ({', '.join(it[1] for it in state)})."

    def mistake(self, problem: dict[str, Any], state: tuple[Item, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A slip in the combination the search would try first here (a times-table or carry
        error: legal, the result is the solver's belief, and the state shows it wrong), or now
        and then a number used again after it was combined away (a misread of what is left,
        which breaks a rule). A correct combination is never a mistake: the search may undo
        it. Not a slip in the last combination: the answer is the expression, which stays
        right whatever the last result is written as."""
        values = [it[0] for it in state]
        gone = sorted(set(problem["numbers"]) - set(values))
        if len(values) < 2 or (len(values) == 2 and not gone):
            return None
        goal = float(problem["target"])
        if len(values) == 2 or (gone and rng.random() < 0.4):
            v, y = rng.choice(gone), rng.choice(values)
            op = rng.choice("+*")
            r = _compute(v, op, y)
            rest = list(values)
            rest.remove(y)
            left = tuple(sorted((*rest, r), reverse=True))
            text = _try_text(tuple(values), v, op, y, r, left, 0, problem["target"], say)
            reveal = say(("<v> is not among the numbers left (<l>): it was used already", "only <l> remain, and <v> is gone",
                          "I reused <v>, which an earlier step combined away"), v=_fmt(v), l=_listing(values))
            return Mistake({"a": _num(v), "op": op, "b": _num(y), "result": _num(r)}, text, "misread", reveal)
        a, op, b, true, _, _ = min(_combos(tuple(values)), key=lambda c: abs(c[5] - goal))
        slips = (-b, b, -a, a, -1, 1) if op == "*" else (-10, 10, -1, 1)
        claimed = rng.choice([true + d for d in slips if d and true + d > 0])
        rest = list(values)
        rest.remove(a)
        rest.remove(b)
        left = tuple(sorted((*rest, claimed), reverse=True))
        text = _try_text(tuple(values), a, op, b, claimed, left, 0, problem["target"], say)
        reveal = say(("<a> <o> <b> is <t>, not <c>", "recomputing <a> <o> <b>: <t>, so <c> was a slip", "<a> <o> <b> = <t>; I wrote <c>"),
                      a=_fmt(a), o=op, b=_fmt(b), t=_fmt(true), c=_fmt(claimed))
        return Mistake({"a": _num(a), "op": op, "b": _num(b), "result": _num(claimed)}, text, "slip", reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[Item, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Go for the target from the numbers as (wrongly) written, the way the search would
        find it (its dead ends and backtracks kept, above the slip); with no way there, add up
        what is left. Either way the expression must miss the target for real (a slip can
        cancel out, e.g. when its result is multiplied by 0)."""
        target = problem["target"]
        base = len(problem["numbers"]) - len(state)
        found = _search(tuple(it[0] for it in state), target, _NOISY_TRIES, record=True, say=say)
        if found is not None:
            steps = [TraceStep(s.kind, s.text, s.move, s.stage, s.depth + base) for s in found[0]]
            end = list(state)
            stack = [tuple(state)]
            for s in steps:
                if s.kind == "apply":
                    stack.append(self.apply(problem, stack[-1], s.move)[0])
                elif s.kind == "backtrack":
                    del stack[s.depth - base + 1 :]
            end = stack[-1]
            if end[0][3] != target:
                return steps
        steps = []
        while len(state) > 1:
            x, y = state[0], state[1]
            op = next(op for op in "+*-" if len(state) > 2 or _combine(x, op, y, 0)[3] != target)
            r = _compute(x[0], op, y[0])
            left = tuple(sorted([*(it[0] for it in state[2:]), r], reverse=True))
            move = {"a": _num(x[0]), "op": op, "b": _num(y[0]), "result": _num(r)}
            steps.append(TraceStep("apply", _try_text(tuple(it[0] for it in state), x[0], op, y[0], r, left, 0, target, say), move))
            state = self.apply(problem, state, move)[0]
        return steps

    def confirm(self, problem: dict[str, Any], before: tuple[Item, ...], move: Any, say: Voice) -> str | None:
        a, b, r = _value(move.get("a")), _value(move.get("b")), _value(move.get("result"))
        if a is None or b is None or r is None:
            return None
        values = [it[0] for it in before]
        return say(("<a> <o> <b> = <r> is right, and both were among <l>", "recomputed, <a> <o> <b> = <r>; <a> and <b> were available",
                    "<a> and <b> were left (<l>), and <a> <o> <b> is <r>"), a=_fmt(a), o=move["op"], b=_fmt(b), r=_fmt(r), l=_listing(values))

    def narrate(self, problem: dict[str, Any], state: tuple[Item, ...], move: Any, say: Voice) -> str:
        values = tuple(it[0] for it in state)
        a, b, r = _value(move["a"]), _value(move["b"]), _value(move["result"])
        rest = list(values)
        for v in (a, b):
            if v in rest:
                rest.remove(v)
        left = tuple(sorted((*rest, r), reverse=True))
        if len(values) == 2 and say.chance(0.5):
            return _last_text(values, a, move["op"], b, r, say)
        return _try_text(values, a, move["op"], b, r, left, int(say.chance(0.5)), problem["target"], say)

    def stuck(self, problem: dict[str, Any], state: tuple[Item, ...], say: Voice) -> str | None:
        values = tuple(it[0] for it in state)
        return _dead_text(values[:2], problem["target"], say) if len(values) >= 2 else None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        uses = say(("it uses <n> once each", "each of <n> appears once", "all of <n>, none twice"), n=_listing(problem["numbers"]))
        value = say(("and evaluates to <t>", "and its value is <t>", "and comes to <t>"), t=problem["target"])
        return f"{verify_intro(say, answer)}: {uses} {value}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: tuple[Item, ...]) -> str:
        return ", ".join(it[1] for it in state)

    def random_move(self, problem: dict[str, Any], state: tuple[Item, ...], rng: random.Random) -> Any | None:
        if len(state) < 2:
            return None
        x, y = rng.sample(state, 2)
        op = rng.choices("+-*/", weights=(4, 2, 3, 1))[0]  # drawn about as often as a search that tries the nearest results first uses them
        if op == "/" and not y[0]:
            op = "*"
        return {"a": _num(x[0]), "op": op, "b": _num(y[0]), "result": _num(_compute(x[0], op, y[0]))}

    def move_text(self, move: Any) -> str:
        return f"{move['a']} {move['op']} {move['b']} = {move['result']}"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        return _judge(tuple(problem["numbers"]), problem["target"], answer)


@lru_cache(maxsize=4096)
def _judge(numbers: tuple[int, ...], target: int, answer: str) -> tuple[bool, str]:
    """The verifier; cached, since an episode checks its answer in the script and again at
    the end, and parsing is the dear part."""
    text = answer.strip().translate(_SPELLINGS)
    if len(text) > _MAX_ANSWER:
        return False, f"the answer is {len(text)} characters long; an expression here needs far fewer"
    claim = _CLAIM.search(text)
    if claim:
        said = claim.group(1).strip()
        if _value(said) != target:
            return False, f"the answer claims the value {said!r}, but the target is {target}"
        text = text[: claim.start()].strip()
    text = _TIMES_X.sub("*", text)
    if not text:
        return False, "the answer holds no expression"
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False, f"{text!r} is not an arithmetic expression"
    if isinstance(tree, ast.Tuple):
        return False, f"{text!r} is {len(tree.elts)} expressions, not one: every number must be combined into one"
    used: list[int] = []
    try:
        value = _evaluate(tree, used)
    except _Rejected as e:
        return False, str(e)
    given, seen = Counter(numbers), Counter(used)
    for n in sorted(seen):
        if n not in given:
            return False, f"{n} is not one of the given numbers"
        if seen[n] > given[n]:
            return False, f"{n} is used {seen[n]} times but given {given[n]} time(s)"
    for n in sorted(given):
        if seen[n] < given[n]:
            return False, f"{n} is given {given[n]} time(s) but used {seen[n]} time(s)"
    if value != target:
        return False, f"the expression equals {_fmt(value)}, not {target}"
    return True, f"{text} uses each given number once and equals {target}"


class _Rejected(Exception):
    """An expression the verifier refuses to evaluate; the message says which part."""


def _evaluate(node: ast.AST, used: list[int]) -> Num:
    """The exact value of an expression made of integers, + - * / and parentheses only;
    any other construct is rejected by name before anything is computed from it."""
    if isinstance(node, ast.Constant):
        if type(node.value) is not int:
            raise _Rejected(f"only whole numbers may appear, got {node.value!r}")
        used.append(node.value)
        return node.value
    if isinstance(node, ast.BinOp):
        op = _AST_OPS.get(type(node.op))
        if op is None:
            raise _Rejected(f"only + - * / are allowed, got {type(node.op).__name__}")
        left, right = _evaluate(node.left, used), _evaluate(node.right, used)
        result = _compute(left, op, right)
        if result is None:
            raise _Rejected(f"the expression divides {_fmt(left)} by zero")
        return result
    if isinstance(node, ast.UnaryOp):
        raise _Rejected("a sign in front of a number is not allowed: use the given numbers and + - * / only")
    if isinstance(node, ast.Call):
        raise _Rejected("function calls are not allowed")
    if isinstance(node, ast.Attribute):
        raise _Rejected("attribute access is not allowed")
    if isinstance(node, ast.Name):
        raise _Rejected(f"{node.id!r} is not a number")
    raise _Rejected(f"{type(node).__name__} is not allowed: only numbers, + - * / and parentheses")


def _random_value(rng: random.Random, numbers: list[int], high: int) -> int:
    """The value of a random expression over all of ``numbers``: a reachable target. Divisions
    are drawn only where they come out whole and products only up to ``high``, so most draws
    land in the level's range."""
    values = list(numbers)
    while len(values) > 1:
        i, j = rng.sample(range(len(values)), 2)
        x, y = max(values[i], values[j]), min(values[i], values[j])
        op = rng.choice("+-*/")
        if op == "/" and (not y or x % y) or op == "*" and x * y > high:
            op = rng.choice("+-")
        r = x + y if op == "+" else x - y if op == "-" else x * y if op == "*" else x // y
        values = [v for k, v in enumerate(values) if k not in (i, j)] + [r]
    return values[0]


family = register(Game24())
