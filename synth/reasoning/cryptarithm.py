"""The ``cryptarithm`` family (group algorithms): letter sums such as SEND + MORE = MONEY.

Puzzles are built backwards: random numbers are added up, and each digit that occurs is
replaced by a random letter, so every puzzle has a solution (no word list is needed, and
the words are not words). A puzzle may have other solutions too; any mapping that makes the
sum hold passes the verifier, so uniqueness is never promised. The solver works column by
column from the units with the carry, the way one does it on paper: it tries the smallest free
digits for the letters of the addends (saying why a digit is out when that shows at once),
reads the result letter off the column sum or, when that letter is known, solves the column
for its last open letter, and backs up when a digit would be taken twice, start a word with 0
or close a column that does not add up. Puzzles the search needs more tries than a level
allows are drawn again, which keeps traces readable.

==========  =======  ======  =====  ======================================
difficulty  addends  length  tries  typical expert steps (read..answer)
==========  =======  ======  =====  ======================================
1           2        2       14     ~13
2           2        3       20     ~17
3           2        3-4     30     ~22
4           3        3-4     45     ~31
5           3        4-5     70     ~60
==========  =======  ======  =====  ======================================

``length`` is the number of letters of each addend; ``tries`` caps the digits the expert
may consider (forced letters are free) before it finds a solution.

Moves: ``assign {"letter": "E", "digit": 5}``. State: a tuple with each letter's digit (-1 for
none), letters in alphabetical order. Answer: every letter with its digit, e.g.
"D=7 E=5 M=1 N=6 O=0 R=8 S=9 Y=2" (commas, ':' or '=', any case). A move is legal when the
letter is open, the digit free and no word gets a leading 0; a digit that leaves a closed
column wrong (a column sum slipped, a carry forgotten) is legal too, and found from the state:
no solution extends a column that does not add up (``keeps_solvable``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, cap, dead_end, verify_holds, verify_intro
from synth.registry import register

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PLACES = ("units", "tens", "hundreds", "thousands", "ten-thousands", "hundred-thousands", "millions")
_PAIR = re.compile(r"([A-Za-z]+)\s*(?:=|:|->|→)\s*([^\s,;.]*)")


@dataclass(frozen=True, slots=True)
class _Puzzle:
    """A puzzle compiled for the search and the rules: letter indexes per column."""

    addends: tuple[str, ...]
    result: str
    letters: str  # sorted
    columns: tuple[tuple[tuple[int, ...], int], ...]  # per column from the units: addend letters, result letter
    leading: frozenset[int]  # letters that start a word

    def word_of(self, i: int) -> str:
        return next(w for w in (*self.addends, self.result) if w[0] == self.letters[i])


@lru_cache(maxsize=4096)
def _compile(addends: tuple[str, ...], result: str) -> _Puzzle:
    letters = "".join(sorted(set("".join(addends) + result)))
    index = {c: i for i, c in enumerate(letters)}
    columns = tuple(
        (tuple(index[w[-1 - c]] for w in addends if c < len(w)), index[result[-1 - c]]) for c in range(len(result))
    )
    leading = frozenset(index[w[0]] for w in (*addends, result))
    return _Puzzle(addends, result, letters, columns, leading)


def _puzzle(problem: dict[str, Any]) -> _Puzzle:
    return _compile(tuple(problem["addends"]), problem["result"])


def _place(c: int) -> str:
    return f"column {c + 1} ({_PLACES[c]})" if c < len(_PLACES) else f"column {c + 1}"


def _sum_text(p: _Puzzle, digits: list[int] | tuple[int, ...], c: int, carry: int) -> str:
    """"N+E+carry 1 = 6+5+1 = 12": column ``c`` added up (a column with no addend letter
    holds just the carry)."""
    top, _ = p.columns[c]
    if not top:
        return f"the carry {carry}"
    names = [p.letters[i] for i in top] + ([f"carry {carry}"] if carry else [])
    values = [digits[i] for i in top] + ([carry] if carry else [])
    return f"{'+'.join(names)} = {'+'.join(map(str, values))} = {sum(values)}"


# The wordings of the search's kinds of step, shared by the search and by the moves the other
# tiers make (so a tier cannot be told from which wording of a step it uses).


def _open_lead(say: Voice, c: int, name: str) -> str:
    return say(("<P>: <n> is open", "<P>: <n> has no digit yet", "In <p>, <n> is still open", "<P> still needs <n>", "Next open letter: <n>, in <p>",
                "<n> in <p> has no digit", "On to <p>, where <n> is open"), P=_place(c).capitalize(), p=_place(c), n=name)


def _retry_lead(say: Voice, c: int, name: str, prev: int, rest: list[int]) -> str:
    """Another digit for a letter after ``prev`` led to a dead end: bare, or with the digit
    that failed and the ones still to try (the work shown)."""
    forms = ("Next for <n>", "<n> again", "Another digit for <n>", "<n>=<x> led nowhere", "So <n> is not <x>", "Back in <p>, <n> is not <x>")
    if rest and say.chance(0.7):
        forms = ("<n> is not <x>; left to try: <r>", "Not <x> for <n>; still free for it: <r>", "<n>=<x> failed, which leaves <r> for <n>",
                 "With <n>=<x> ruled out, <n> can still be <r>", "<n>=<x> is a dead end; the digits left for <n>: <r>",
                 "Back in <p>: <n> is not <x>, and <r> are still free")
    return say(forms, n=name, x=prev, p=_place(c), r=", ".join(map(str, rest)))


def _try_text(say: Voice, lead: str, skipped: list[str], name: str, d: int, retry: bool = False, aside: str = "") -> str:
    """A digit tried for a letter, sometimes with why this one (the search takes free digits
    in increasing order)."""
    why = ""
    if say.chance(0.4):
        why = say((", the next free digit", " (the next one up)", ", next in order") if retry else
                  (", the smallest candidate", " (the lowest one left)", ", the first one not ruled out"))
    return "; ".join([lead, *skipped, say(("try <n>=<d><w>.", "take <n>=<d><w>.", "<n>=<d> next<w>."), n=name, d=d, w=why)]) + aside


def _read_text(say: Voice, where: str, text: str, name: str, v: int, out: int, aside: str = "") -> str:
    """A result letter read off its column's sum."""
    return say(("<w>: <t>, so <n>=<v>, carry <o>.", "<w>: <t>; that makes <n>=<v> with carry <o>.", "<w> adds up to <t>: <n>=<v>, carry <o>.",
                "<w>: <t>. Write <n>=<v> and carry <o>.", "Adding up <ow>: <t>, so <n> is <v> and <o> carries.",
                "<w>: <t>, which ends in <v>: <n>=<v>, carry <o>.", "<w> gives <t>; <n>=<v>, <o> to carry."),
               w=where, ow=where[0].lower() + where[1:], t=text, n=name, v=v, o=out) + aside


def _forced_text(say: Voice, need: str, name: str, d: int, aside: str = "") -> str:
    """The column's last open letter when its result letter is known."""
    return say(("<n>, so <x>=<d>.", "<n>: only <x>=<d> does it.", "<n>, which forces <x>=<d>.", "<n>; <x>=<d> is the one digit that works.",
                "<n>: <x> has to be <d>.", "<n>, and only <d> fits <x>: <x>=<d>."), n=need, x=name, d=d) + aside


def _carry_lead(say: Voice, p: _Puzzle) -> str:
    """Why the result's extra leading letter is a carry."""
    place = _PLACES[max(len(w) for w in p.addends) - 1]
    return say(("<r> is longer than every addend, so <l> is the carry out of the <pl> column",
                "<r> has a column more than the addends: <l> can only be the carry out of the <pl>",
                "The leading <l> of <r> sits over no addend letter, so it is what the <pl> column carries"), r=p.result, l=p.result[0], pl=place)


def _carry_one(say: Voice, why: str, name: str, d: int = 1) -> str:
    return say(("<w>, which can only be 1: <n>=<d>.", "<w>; two addends carry at most 1, so <n>=<d>.", "<w>, and with two addends that is 1: <n>=<d>."),
               w=why, n=name, d=d)


def _aside(say: Voice, p: _Puzzle, digits, i: int, d: int, c: int = -1, out: int = 0) -> str:
    """Now and then a true remark after letter ``i`` gets ``d``: the letters known so far,
    those still open, or where the column's carry goes (what a solver on paper keeps in view)."""
    after = list(digits)
    if i >= 0:
        after[i] = d
    r = say.rng.random()
    if r < 0.25:
        known = ", ".join(f"{p.letters[k]}={x}" for k, x in enumerate(after) if x >= 0)
        return " " + say(("So far: <k>.", "Known now: <k>.", "Assigned so far: <k>.", "That gives <k>.", "The digits so far: <k>.",
                          "Now <k>."), k=known)
    if r < 0.45:
        left = [p.letters[k] for k, x in enumerate(after) if x < 0]
        if left:
            return " " + say(("Still open: <l>.", "<l> {are|remain} left.", "Letters without a digit: <l>.", "Open letters now: <l>.",
                              "Left to place: <l>."), l=say.listing(left))
        return ""
    if r < 0.65 and out and 0 <= c < len(p.columns) - 1:
        return " " + say(("The <o> goes on to <q>.", "<Q> starts with a carry of <o>.", "<q> gets the carry, <o>.", "Carry <o> into <q>.",
                          "So <q> begins with <o> carried."), o=out, q=_place(c + 1), Q=_place(c + 1).capitalize())
    return ""


def _need_text(p: _Puzzle, c: int, carry: int) -> str:
    top, r = p.columns[c]
    lhs = "+".join([p.letters[k] for k in top] + ([f"carry {carry}"] if carry else []))
    return f"{_place(c).capitalize()}: {lhs} must end in {p.letters[r]}"


def _exhausted(say: Voice, name: str) -> str:
    return say(("No digit is left for <n> either.", "<n> has no other digit to try.", "Nothing else fits <n>."), n=name)


def _scan(p: _Puzzle, digits: tuple[int, ...]) -> tuple[int, int, dict[int, str]]:
    """Check the columns from the units while every letter in them has a digit (a column's
    carry in is known only then): the first column with a letter still open, the carry into
    it, and the columns found wrong, each with what is wrong (the column count stands for
    a carry left over at the end). A wrong column passes its real carry on."""
    carry, wrong = 0, {}
    for c, (top, bottom) in enumerate(p.columns):
        if digits[bottom] < 0:
            return c, carry, wrong
        total = carry
        for i in top:
            if digits[i] < 0:
                return c, carry, wrong
            total += digits[i]
        if total % 10 != digits[bottom]:
            wrong[c] = f"{_place(c)} gives {_sum_text(p, digits, c, carry)}, which does not end in {p.letters[bottom]}={digits[bottom]}"
        carry = total // 10
    if carry:
        wrong[len(p.columns)] = f"the last column leaves a carry of {carry}, but {p.result} has no letter for it"
    return len(p.columns), carry, wrong


class _OverBudget(Exception):
    pass


def _search(p: _Puzzle, budget: int, record: bool, voice: Voice | None = None) -> tuple[list[TraceStep], list[int], int] | None:
    """Column-by-column depth-first search from the units; returns (trace, digits, tries) or
    None past ``budget`` tries. ``record`` False skips the texts (the generator only needs to
    know whether the search is short enough).

    Every digit is checked before it is written down: it must be free, not a leading zero,
    and leave no column whose letters all have digits wrong (a digit can close a column further
    left, e.g. the result letter of one column that is an addend letter of the next).
    """
    digits = [-1] * len(p.letters)
    owner: dict[int, int] = {}  # digit -> letter index
    steps: list[TraceStep] = []
    notes: list[str] = []  # checks made since the last step, said in the next step's thought
    found: list[int] = []
    tries = 0

    def emit(kind: str, text: str, move: Any = None, depth: int = 0) -> None:
        if record:
            steps.append(TraceStep(kind, " ".join([*notes, text]), move, depth=depth))
        notes.clear()

    def dead(text: str, base: int) -> bool:
        emit("backtrack", f"{text}: {dead_end(voice)}." if record else "", depth=base)
        return False

    def clash(i: int, d: int) -> str | None:
        digits[i] = d
        broken = next(iter(_scan(p, tuple(digits))[2].values()), None)
        digits[i] = -1
        return broken

    def put(i: int, d: int, text: str, depth: int, then) -> bool:
        emit("apply", text, {"letter": p.letters[i], "digit": d})
        digits[i], owner[d] = d, i
        ok = then(depth + 1)
        del owner[d]
        digits[i] = -1
        return ok

    def ahead(c: int, carry: int, i: int, d: int) -> str | None:
        """Why ``d`` cannot go to letter ``i`` of column ``c``, found without writing it down:
        a column it closes is wrong, or it is the column's last open addend letter and the
        result letter it fixes would be a taken digit or a leading zero."""
        broken = clash(i, d)
        if broken:
            return broken
        top, r = p.columns[c]
        if digits[r] >= 0 or r == i or any(digits[k] < 0 and k != i for k in top):
            return None
        want = (carry + sum(d if k == i else digits[k] for k in top)) % 10
        if want == d or want in owner:
            return f"{p.letters[r]} would be {want}, which is {p.letters[i if want == d else owner[want]]}'s"
        if want == 0 and r in p.leading:
            return f"{p.letters[r]} would be 0, but it starts {p.word_of(r)}"
        return None

    def choose(i: int, options: list[int], why: str, c: int, carry: int, depth: int, base: int, then) -> bool:
        """Try ``options`` for letter ``i`` (in column ``c``) in order; ``then(depth, base)``
        goes on after each. A digit ruled out at once is said, not written down."""
        nonlocal tries
        name, tried, skipped, last = p.letters[i], False, [], -1
        for d in options:
            tries += 1
            if tries > budget:
                raise _OverBudget
            broken = ahead(c, carry, i, d)
            if broken:
                if record:
                    skipped.append(f"{name}={d} fails ({broken})")
                continue
            text = ""
            if record:
                lead = why if not tried else _retry_lead(voice, c, name, last, [x for x in options if x > last and x not in owner])
                text = _try_text(voice, lead, skipped, name, d, tried, _aside(voice, p, digits, i, d))
            skipped.clear()
            if put(i, d, text, depth, lambda dp: then(dp, depth)):
                return True
            tried, last = True, d
        if not tried:
            return dead("; ".join([why, *skipped, f"no digit fits {name}"]), base)
        if record:
            steps[-1].depth = base
            steps[-1].text = " ".join([steps[-1].text, *(f"{x}." for x in skipped),
                                       _exhausted(voice, name)])
        return False

    def column(c: int, carry: int, depth: int, base: int) -> bool:
        if c == len(p.columns):
            found.extend(digits)
            if notes and record:
                steps.append(TraceStep("think", " ".join(notes), stage="check"))
            return True
        top, r = p.columns[c]
        free = [i for i in top if digits[i] < 0]
        if free and digits[r] >= 0 and free.count(free[0]) == len(free):
            return solve_for(c, carry, free[0], depth, base)
        if free:
            i = free[0]
            options = [d for d in range(10) if d not in owner and (d or i not in p.leading)]
            why = _open_lead(voice, c, p.letters[i]) if record else ""
            return choose(i, options, why, c, carry, depth, base, lambda dp, bs: column(c, carry, dp, bs))
        total = carry + sum(digits[i] for i in top)
        want, out = total % 10, total // 10
        name = p.letters[r]
        if digits[r] >= 0:  # closed by an earlier digit, and checked then
            if record:
                notes.append(_closed_note(p, digits, c, carry, total, voice))
            return column(c + 1, out, depth, base)
        where, text = (_place(c).capitalize(), _sum_text(p, digits, c, carry)) if record else ("", "")
        if want in owner:
            return dead(f"{where}: {text}, so {name} would be {want}, but {want} is {p.letters[owner[want]]}'s", base)
        if want == 0 and r in p.leading:
            return dead(f"{where}: {text}, so {name} would be 0, but {name} starts {p.word_of(r)}", base)
        broken = clash(r, want)
        if broken:
            return dead(f"{where}: {text}, so {name} would be {want}, but then {broken}", base)
        then = lambda dp: column(c + 1, out, dp, base)  # noqa: E731
        return put(r, want, _read_text(voice, where, text, name, want, out, _aside(voice, p, digits, r, want, c, out)) if record else "", depth, then)

    def solve_for(c: int, carry: int, i: int, depth: int, base: int) -> bool:
        """The column's last open letter when its result letter is known: only digits that
        make the column end right are candidates, and often there is just one."""
        top, r = p.columns[c]
        known = sum(digits[k] for k in top if k != i) + carry
        options = [
            d for d in range(10)
            if d not in owner and (d or i not in p.leading) and (known + top.count(i) * d) % 10 == digits[r]
        ]  # fmt: skip
        name, need = p.letters[i], ""
        if record:
            need = f"{_need_text(p, c, carry)}={digits[r]}"
        if len(options) > 1:
            why = f"{need}, so {name} is one of {', '.join(map(str, options))}"
            return choose(i, options, why, c, carry, depth, base, lambda dp, bs: column(c, carry, dp, bs))
        if not options:
            return dead(f"{need}, and no free digit for {name} does that", base)
        broken = clash(i, options[0])
        if broken:
            return dead(f"{need}, so {name} would be {options[0]}, but then {broken}", base)
        return put(i, options[0], _forced_text(voice, need, name, options[0], _aside(voice, p, digits, i, options[0])) if record else "", depth,
                   lambda dp: column(c, carry, dp, base))

    longest = max(len(w) for w in p.addends)
    try:
        if len(p.result) > longest:
            lead, m = p.letters.index(p.result[0]), len(p.addends)
            why = _carry_lead(voice, p) if record else ""
            if m == 2:
                ok = put(lead, 1, _carry_one(voice, why, p.result[0]) if record else "", 0, lambda dp: column(0, 0, dp, -1))
            else:
                ok = choose(lead, list(range(1, m)), f"{why}, 1 to {m - 1}", len(p.columns) - 1, 0, 0, -1, lambda dp, bs: column(0, 0, dp, bs))
        else:
            ok = column(0, 0, 0, -1)
    except _OverBudget:
        return None
    return (steps, found, tries) if ok else None


def _column_text(p: _Puzzle, digits: list[int], c: int, carry: int, i: int, d: int, say: Voice, retry: int = -1) -> str:
    """A letter set in column ``c`` the way the search words it: a result letter read off the
    column sum (with the carry out), an addend letter tried (sometimes after a smaller digit
    that fails, as the search says when it skips one), or, after ``retry`` led to a dead end,
    another digit for the same letter."""
    top, r = p.columns[c]
    name = p.letters[i] if i >= 0 else "?"
    if i == r and all(digits[k] >= 0 for k in top):
        total = carry + sum(digits[k] for k in top)
        return _read_text(say, _place(c).capitalize(), _sum_text(p, digits, c, carry), name, d, total // 10, _aside(say, p, digits, i, d, c, total // 10))
    skipped = []
    taken = [x for x in digits if x >= 0]
    if taken and d > 0 and say.chance(0.35):
        x = say.pick(range(d))
        owner = next((p.letters[k] for k, v in enumerate(digits) if v == (x + sum(max(0, digits[k2]) for k2 in top) + carry) % 10), None)
        if owner is not None and r != i:
            skipped.append(f"{name}={x} fails ({p.letters[r]} would be {(x + carry) % 10}, which is {owner}'s)")
    if retry >= 0:
        rest = [x for x in range(retry + 1, 10) if x not in taken]
        return _try_text(say, _retry_lead(say, c, name, retry, rest), skipped, name, d, True, _aside(say, p, digits, i, d))
    return _try_text(say, _open_lead(say, c, name), skipped, name, d, aside=_aside(say, p, digits, i, d))


def _closed_note(p: _Puzzle, digits: list[int], c: int, carry: int, total: int, say: Voice) -> str:
    top, r = p.columns[c]
    name = p.letters[r]
    if top:
        said = say(("<t> ends in <n>=<v>, carry <o>", "<t>, so <n>=<v> holds, carry <o>", "<t> checks with <n>=<v>, carry <o>"),
                   t=_sum_text(p, digits, c, carry), n=name, v=total % 10, o=total // 10)
    else:
        said = say(("the carry <k> is <n>", "<n> is just the carry, <k>", "<n> equals the carry <k>", "the carry <k> gives <n>"), k=carry, n=name)
    return f"{_place(c).capitalize()}: {said}."


class Cryptarithm(ReasoningFamily):
    name = "cryptarithm"
    group = "algorithms"
    action = "assign"
    rules = ("the letter has no digit yet, the digit is free and no word starts with 0 (a digit that leaves a column wrong "
             "breaks no move rule, the sum it leads to is wrong)")
    levels = {
        1: {"addends": 2, "length": (2, 2), "tries": 14},
        2: {"addends": 2, "length": (3, 3), "tries": 20},
        3: {"addends": 2, "length": (3, 4), "tries": 30},
        4: {"addends": 3, "length": (3, 4), "tries": 45},
        5: {"addends": 3, "length": (4, 5), "tries": 70},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, addends: int, length: tuple[int, int], tries: int) -> dict[str, Any]:
        while True:
            numbers = [rng.randint(10 ** (n - 1), 10**n - 1) for n in (rng.randint(*length) for _ in range(addends))]
            total = sum(numbers)
            used = sorted(set("".join(map(str, (*numbers, total)))))
            code = dict(zip(used, rng.sample(_LETTERS, len(used)), strict=True))
            words = ["".join(code[ch] for ch in str(n)) for n in (*numbers, total)]
            if _search(_compile(tuple(words[:-1]), words[-1]), tries, record=False) is not None:
                return {"addends": words[:-1], "result": words[-1]}

    def describe(self, problem: dict[str, Any]) -> str:
        addends, result = problem["addends"], problem["result"]
        width = len(result) + 2
        rows = [f"{'+ ' if k else '  '}{w}".rjust(width) for k, w in enumerate(addends)]
        layout = "\n".join([*rows, "-" * width, result.rjust(width)])
        return (
            f"Solve this letter sum, {' + '.join(addends)} = {result}:\n\n{layout}\n\n"
            "Each letter stands for a digit 0-9: different letters for different digits, the same "
            "letter always for the same digit, and no word starts with 0. If several assignments "
            "work, any one of them is accepted.\n"
            "Answer with every letter and its digit, for example: A=1 B=2 C=3"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        p = _puzzle(problem)
        head = say(("<s> = <r>: <k> letters (<l>), <c> columns", "The sum <s> = <r> uses <k> letters, <l>, over <c> columns",
                    "<k> letters (<l>) in <c> columns: <s> = <r>"), s=" + ".join(p.addends), r=p.result, k=len(p.letters), l=", ".join(p.letters),
                   c=len(p.columns))
        rule = say(("Each letter gets its own digit; <z> start words, so they are not 0", "different letters, different digits, and <z> cannot be 0 (they lead words)",
                    "all digits distinct; the leading letters <z> are not 0"), z=", ".join(sorted(p.letters[i] for i in p.leading)))
        extra = ""
        longest = max(len(w) for w in p.addends)
        if len(p.result) > longest and say.chance(0.6):
            extra = say((" <r> is longer than the addends, so its first letter is a carry.", " The result has an extra column: its leading letter comes from a carry."),
                        r=p.result)
        return f"{head}. {cap(rule)}.{extra}"

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        method = say(("Work column by column from the units, carrying as on paper.", "Go from the units column leftwards, keeping the carry as on paper.",
                      "Column by column, right to left, with carries."))
        tries = say(("In each column try the smallest free digit for every addend letter still open; the column sum then fixes the result letter.",
                     "Give open addend letters the smallest free digit; the column's sum then decides its result letter.",
                     "Addend letters get the smallest free digits in turn, and each column's sum settles its result letter."))
        back = say(("A digit that is taken, starts a word with 0 or closes a column that does not add up is a dead end: go back and try the next digit.",
                    "If a digit is taken, makes a leading zero, or leaves a closed column wrong, back up and try the next one.",
                    "Dead ends (a used digit, a leading 0, a column that fails) mean undoing the last try and taking the next digit."))
        return " ".join([method, tries, back])

    def start(self, problem: dict[str, Any]) -> tuple[int, ...]:
        return (-1,) * len(_puzzle(problem).letters)

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        p = _puzzle(problem)
        found = _search(p, 10**6, record=True, voice=self.voice(problem))
        if found is None:
            raise ValueError(f"{' + '.join(p.addends)} = {p.result} has no solution")
        steps, digits, tries = found
        return Search(steps, self.read_off(problem, tuple(digits)), {"tries": tries})

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: tuple[int, ...], move: Any) -> tuple[tuple[int, ...], str | None]:
        p = _puzzle(problem)
        letter, digit = (move.get("letter"), move.get("digit")) if isinstance(move, dict) else (None, None)
        if not isinstance(letter, str) or type(digit) is not int or not 0 <= digit <= 9:
            return state, f"a move names a letter and a digit 0-9, got {move!r}"
        i = p.letters.find(letter.upper()) if len(letter) == 1 else -1
        if i < 0:
            return state, f"{letter!r} is not a letter of the puzzle ({', '.join(p.letters)})"
        if state[i] >= 0:
            return state, f"{p.letters[i]} already has the digit {state[i]}"
        after = state[:i] + (digit,) + state[i + 1 :]
        if digit in state:
            return after, f"{digit} is already {p.letters[state.index(digit)]}'s digit"
        if digit == 0 and i in p.leading:
            return after, f"{p.letters[i]} starts {p.word_of(i)}, so it cannot be 0"
        return after, None

    def keeps_solvable(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, after: tuple[int, ...], search: Search) -> bool:
        """A digit that leaves a column wrong (a column sum slipped, a carry forgotten) is the
        solver's belief, not a broken rule; but no solution extends a closed column that does
        not add up. A state whose closed columns all hold is left to the search: a digit tried
        there that leads nowhere is a try it undoes, not a mistake."""
        return not _scan(_puzzle(problem), after)[2]

    def observe(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        return self.read_off(problem, state)

    def mistake(self, problem: dict[str, Any], state: tuple[int, ...], search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """Forget the carry (or slip by one) when reading a result letter off its column, or
        when solving a column for its last open letter: legal moves (the digit is free) that
        the env finds wrong from the state, a closed column that does not add up. Where
        neither is open, take a digit that another letter already has (a misread of the
        assignments so far), which breaks a rule."""
        p = _puzzle(problem)
        c, carry, _ = _scan(p, state)
        if c == len(p.columns) or min(state) >= 0:
            return None
        top, r = p.columns[c]
        open_top = [i for i in top if state[i] < 0]
        taken = [d for d in state if d >= 0]
        if open_top and state[r] >= 0 and open_top.count(open_top[0]) == len(open_top):
            found = self._solve_slip(p, state, c, carry, open_top[0], say, rng)
            if found is not None:
                return found
        if not open_top and state[r] < 0:
            total = carry + sum(state[i] for i in top)
            text = _sum_text(p, state, c, carry)
            slips = [((total + d) % 10, f"{text.rsplit('=', 1)[0]}= {total + d}", "slip") for d in (-1, 1)]
            if carry:
                slips.append(((total - carry) % 10, _sum_text(p, state, c, 0), "forgotten"))
            slips = [(d, t, k) for d, t, k in slips if d not in taken and (d or r not in p.leading)]
            if slips:
                d, said, kind = rng.choice(slips)
                name = p.letters[r]
                thought = say(("<P>: <s>, so <n>=<d>.", "<P>: <s>; that makes <n>=<d>.", "<P> adds up to <s>: <n>=<d>."), P=_place(c).capitalize(), s=said, n=name, d=d)
                reveal = say(("the column is <t>, which ends in <e>, not <d>", "<t> ends in <e>; <n>=<d> was a slip", "redoing the column: <t>, so <n> would be <e>"),
                             t=text, e=total % 10, d=d, n=name)
                return Mistake({"letter": name, "digit": d}, thought, kind, reveal)
        i = open_top[0] if open_top else r
        if not taken:
            return None
        d = rng.choice(taken)
        owner = p.letters[state.index(d)]
        thought = _try_text(say, _open_lead(say, c, p.letters[i]), [], p.letters[i], d, aside=_aside(say, p, state, i, d))
        reveal = say(("<d> already belongs to <o>", "<o> has <d>, so <n> cannot", "<d> was taken by <o> earlier"), d=d, o=owner, n=p.letters[i])
        return Mistake({"letter": p.letters[i], "digit": d}, thought, "misread", reveal)

    def _solve_slip(self, p: _Puzzle, state: tuple[int, ...], c: int, carry: int, i: int, say: Voice, rng: random.Random) -> Mistake | None:
        """The column's last open letter solved with a slip: the digit one off the one that
        makes the column end in its result letter, or the one it would be without the carry."""
        top, r = p.columns[c]
        k = top.count(i)
        known = carry + sum(state[x] for x in top if x != i)
        right = [d for d in range(10) if (known + k * d) % 10 == state[r]]
        options = [(d + e) % 10 for d in right for e in (-1, 1)]
        kinds = dict.fromkeys(options, "slip")
        if carry:
            kinds.update({d: "forgotten" for d in range(10) if (known - carry + k * d) % 10 == state[r]})
        fits = [d for d in kinds if d not in state and d not in right and (d or i not in p.leading)]
        if not fits:
            return None
        d = rng.choice(fits)
        name, need = p.letters[i], f"{_need_text(p, c, 0 if kinds[d] == 'forgotten' else carry)}={state[r]}"
        total = known + k * d
        text = _forced_text(say, need, name, d)
        digits = state[:i] + (d,) + state[i + 1 :]
        reveal = say(("with <n>=<d> the column is <t>, which ends in <e>, not <rv>", "<t> ends in <e>, not <rv>: <n>=<d> was a slip",
                      "redoing the column with <n>=<d>: <t>, so it does not end in <r>=<rv>"),
                     n=name, d=d, t=_sum_text(p, digits, c, carry), e=total % 10, r=p.letters[r], rv=state[r])
        return Mistake({"letter": name, "digit": d}, text, kinds[d], reveal)

    def continue_wrong(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice, rng: random.Random) -> list[TraceStep]:
        """Finish column by column as the expert does, in its words, but never look back: the
        smallest free digit for an open addend letter (or one that makes the column end in its
        known result letter), the column sum for the result letter; when no digit fits, the
        smallest free. Closed columns are noted the way the search notes them."""
        p = _puzzle(problem)
        digits = list(state)
        steps = []
        notes: list[str] = []
        carry = 0
        for c, (top, r) in enumerate(p.columns):
            for i in [*dict.fromkeys(i for i in top if digits[i] < 0), r]:
                if digits[i] >= 0:
                    continue
                free = [d for d in range(10) if d not in digits]
                free = [d for d in free if d or i not in p.leading] or free
                fits = free
                if i == r:
                    fits = [d for d in free if d == (carry + sum(digits[k] for k in top)) % 10]
                elif digits[r] >= 0 and all(digits[k] >= 0 or k == i for k in top):
                    known = carry + sum(digits[k] for k in top if k != i)
                    fits = [d for d in free if (known + top.count(i) * d) % 10 == digits[r]]
                d = (fits or free)[0]
                digits[i] = d
                text = _column_text(p, digits, c, carry, i, d, say)
                steps.append(TraceStep("apply", " ".join([*notes, text]), {"letter": p.letters[i], "digit": d}))
                notes.clear()
            if digits[r] >= 0 and all(digits[k] >= 0 for k in top) and (not top or say.chance(0.5)):
                total = carry + sum(digits[k] for k in top)
                notes.append(_closed_note(p, digits, c, carry, total, say))
            carry = (carry + sum(digits[k] for k in top)) // 10
        if notes:
            steps.append(TraceStep("think", " ".join(notes), stage="check"))
        return steps

    def confirm(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, say: Voice) -> str | None:
        p = _puzzle(problem)
        letter, d = str(move["letter"]).upper(), move["digit"]
        if letter not in p.letters:
            return None
        used = ", ".join(f"{p.letters[i]}={x}" for i, x in enumerate(before) if x >= 0) or "none"
        return say(("<d> was free (taken: <u>)", "no other letter had <d> (<u>)", "with <u> assigned, <d> was still free for <l>"), d=d, u=used, l=letter)

    def narrate(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, say: Voice) -> str:
        return self._narrate(problem, state, move, say, -1)

    def narrate_retry(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, undone: Any, say: Voice) -> str:
        return self._narrate(problem, state, move, say, undone["digit"] if undone["letter"] == move["letter"] else -1)

    def _narrate(self, problem: dict[str, Any], state: tuple[int, ...], move: Any, say: Voice, retry: int) -> str:
        p = _puzzle(problem)
        c, carry, _ = _scan(p, state)
        c = min(c, len(p.columns) - 1)
        letter = str(move["letter"]).upper()
        i = p.letters.find(letter)
        digits = list(state)
        if i >= 0:
            digits[i] = move["digit"]
        longest = max(len(w) for w in p.addends)
        if i == p.letters.find(p.result[0]) and len(p.result) > longest and max(state) < 0:
            why = _carry_lead(say, p)
            if len(p.addends) == 2:
                return _carry_one(say, why, letter, move["digit"])
            return _try_text(say, f"{why}, 1 to {len(p.addends) - 1}", [], letter, move["digit"])
        note = ""
        if c > 0 and say.chance(0.45):
            prev_top, _ = p.columns[c - 1]
            before = _scan(p, tuple(state))[1] if c - 1 == 0 else 0
            note = _closed_note(p, [max(0, x) for x in state], c - 1, before, before + sum(max(0, state[k]) for k in prev_top), say) + " "
        top, r = p.columns[c]
        if retry < 0 and i in top and state[r] >= 0 and say.chance(0.4):
            return note + _forced_text(say, f"{_need_text(p, c, carry)}={state[r]}", letter, move["digit"], _aside(say, p, state, i, move["digit"]))
        return note + _column_text(p, digits, c, carry, i, move["digit"], say, retry)

    def stuck(self, problem: dict[str, Any], state: tuple[int, ...], say: Voice) -> str | None:
        """A clash worded like the search's dead ends: the result letter a column would need
        is another letter's digit (or a leading 0), or no free digit closes the column."""
        p = _puzzle(problem)
        c, carry, _ = _scan(p, state)
        c = min(c, len(p.columns) - 1)
        top, r = p.columns[c]
        open_top = [k for k in dict.fromkeys(top) if state[k] < 0]
        if len(open_top) == 1 and state[r] >= 0 and say.chance(0.6):
            name = p.letters[open_top[0]]
            tail = f" {_exhausted(say, name)}" if say.chance(0.3) else ""
            return f"{_need_text(p, c, carry)}={state[r]}, and no free digit for {name} does that: {dead_end(say)}.{tail}"
        total = carry + sum(max(0, state[k]) for k in top)
        want, owners = total % 10, [p.letters[k] for k, x in enumerate(state) if x == total % 10 and k != r]
        where, text = _place(c).capitalize(), _sum_text(p, [max(0, x) for x in state], c, carry)
        name = p.letters[r]
        if owners:
            return f"{where}: {text}, so {name} would be {want}, but {want} is {owners[0]}'s: {dead_end(say)}."
        if want == 0 and r in p.leading:
            return f"{where}: {text}, so {name} would be 0, but {name} starts {p.word_of(r)}: {dead_end(say)}."
        if state[r] < 0:
            broken = next(iter(_scan(p, state[:r] + (want,) + state[r + 1 :])[2].values()), None)
            if broken:
                return f"{where}: {text}, so {name} would be {want}, but then {broken}: {dead_end(say)}."
        return None

    def aftermath(self, problem: dict[str, Any], before: tuple[int, ...], move: Any, after: tuple[int, ...], say: Voice) -> str | None:
        """Once every letter has a digit, the closing notes the search writes when it reaches
        the end: the columns whose result letter was already set, added up (a blind teacher
        writes them without looking whether they hold)."""
        if min(after) < 0:
            return None
        p = _puzzle(problem)
        notes, carry = [], 0
        for c, (top, _) in enumerate(p.columns):
            total = carry + sum(after[k] for k in top)
            if not top or say.chance(0.3):
                notes.append(_closed_note(p, after, c, carry, total, say))
            carry = total // 10
        return " ".join(notes) or None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        p = _puzzle(problem)
        digits = dict(re.findall(r"([A-Z])=(\d)", answer.upper()))
        numbers = ["".join(digits.get(ch, "?") for ch in w) for w in (*p.addends, p.result)]
        sum_text = say(("<a> = <r>", "<a> gives <r>", "adding <a> makes <r>"), a=" + ".join(numbers[:-1]), r=numbers[-1])
        rules = say(("every letter has a different digit, and no word starts with 0", "the digits are all different, no leading zero",
                     "distinct digits throughout, and the words do not start with 0"))
        return f"{verify_intro(say, answer)}: {sum_text}; {rules}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: tuple[int, ...]) -> str:
        p = _puzzle(problem)
        return " ".join(f"{ch}={d if d >= 0 else '?'}" for ch, d in zip(p.letters, state, strict=True))

    def random_move(self, problem: dict[str, Any], state: tuple[int, ...], rng: random.Random) -> Any | None:
        """Mostly the letter the column-by-column method comes to next, sometimes any open
        letter; the digit drawn without looking."""
        open_ = [i for i, d in enumerate(state) if d < 0]
        if not open_:
            return None
        p = _puzzle(problem)
        c = _scan(p, state)[0]
        ahead = [i for i in (*p.columns[c][0], p.columns[c][1]) if state[i] < 0] if c < len(p.columns) else []
        i = ahead[0] if ahead and rng.random() < 0.8 else rng.choice(open_)
        return {"letter": p.letters[i], "digit": rng.randrange(10)}

    def retry_move(self, problem: dict[str, Any], state: tuple[int, ...], undone: Any, rng: random.Random) -> Any | None:
        """The letter just taken back again, with a higher digit (as the search would go on),
        drawn without looking whether it is free."""
        p = _puzzle(problem)
        i = p.letters.find(str(undone["letter"]).upper())
        if i < 0 or state[i] >= 0 or undone["digit"] >= 9:
            return None
        return {"letter": p.letters[i], "digit": rng.randint(undone["digit"] + 1, 9)}

    def move_text(self, move: Any) -> str:
        return f"{move['letter']}={move['digit']}"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        p = _puzzle(problem)
        digits: dict[str, int] = {}
        rest = _PAIR.sub(" ", answer)
        if rest.strip(" \t\n,;."):
            return False, f"cannot read {rest.strip()!r}: write each letter as L=digit"
        for m in _PAIR.finditer(answer):
            letter, value = m.group(1).upper(), m.group(2)
            if len(letter) != 1:
                return False, f"{letter!r} is not a single letter"
            if letter not in p.letters:
                return False, f"{letter} is not a letter of the puzzle"
            if letter in digits:
                return False, f"{letter} is given twice"
            if not re.fullmatch(r"\d", value):
                return False, f"{letter} has no digit" if value in ("", "?", "_") else f"{letter}: {value!r} is not a digit"
            digits[letter] = int(value)
        for ch in p.letters:
            if ch not in digits:
                return False, f"{ch} has no digit"
        seen: dict[int, str] = {}
        for ch in p.letters:
            if digits[ch] in seen:
                return False, f"{seen[digits[ch]]} and {ch} both have the digit {digits[ch]}"
            seen[digits[ch]] = ch
        for w in (*p.addends, p.result):
            if digits[w[0]] == 0:
                return False, f"{w} would start with 0 ({w[0]}=0)"
        numbers = [int("".join(str(digits[ch]) for ch in w)) for w in (*p.addends, p.result)]
        total = sum(numbers[:-1])
        sum_text = " + ".join(map(str, numbers[:-1]))
        if total != numbers[-1]:
            return False, f"{sum_text} = {total}, not {numbers[-1]} ({p.result})"
        return True, f"{sum_text} = {total}: every letter a different digit, no word starting with 0"


family = register(Cryptarithm())
