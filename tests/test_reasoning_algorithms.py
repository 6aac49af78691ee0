"""The algorithms group beyond the shared contract: each verifier accepts any right answer
(not only the gold one), rejects wrong ones with a reason naming what broke, tolerates
formatting and not content; the rules flag each family's typical slip; the solvers' answers
pass. See tests/test_reasoning_families.py for determinism, tiers and traces."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import combinations

import pytest

from synth.reasoning.arithmetic import parse_number, plain
from synth.reasoning.base import judge
from synth.reasoning.lis import longest
from synth.reasoning.phrasing import Voice
from synth.registry import get_family


def ok(family, problem, answer):
    good, reason = family.verify(problem, answer)
    assert good, (answer, reason)
    return reason


def bad(family, problem, answer):
    good, reason = family.verify(problem, answer)
    assert not good, (answer, reason)
    return reason


# ---------------------------------------------------------------------------- game24

G24 = get_family("game24")
P24 = {"numbers": [2, 3, 4, 1], "target": 24}


def test_game24_solver_answer_passes_and_needs_fractions_when_the_puzzle_does():
    problem = {"numbers": [8, 3, 8, 3], "target": 24}  # only 8/(3-8/3)
    search = G24.solve(problem)
    assert ok(G24, problem, search.answer).endswith("equals 24")
    assert search.stats["dead_ends"] > 0 and any(s.kind == "backtrack" for s in search.steps)
    assert ok(G24, P24, G24.solve(P24).answer)


@pytest.mark.parametrize("answer", ["(2+4)*(3+1)", "2*3*4*1", "4*3*2/1", "(1+3)*(2+4)", "1*2*(4*3)"])
def test_game24_any_valid_expression_passes(answer):
    assert ok(G24, P24, answer) == f"{answer} uses each given number once and equals 24"


def test_game24_wrong_answers_say_what_broke():
    assert bad(G24, P24, "2*3*4") == "1 is given 1 time(s) but used 0 time(s)"
    assert bad(G24, P24, "2*3*4+1") == "the expression equals 25, not 24"
    assert bad(G24, P24, "2*3*4*1*1") == "1 is used 2 times but given 1 time(s)"
    assert bad(G24, P24, "2*3*4*5") == "5 is not one of the given numbers"
    assert "divides 4 by zero" in bad(G24, P24, "4/(3-3)*2*1")
    assert "2 expressions, not one" in bad(G24, P24, "2*3*4, 1")
    assert bad(G24, {"numbers": [1, 2, 3], "target": 24}, "(1+2)/3") == "the expression equals 1, not 24"


def test_game24_formatting_is_tolerated():
    for answer in ("(2 + 4) × (3 + 1)", "[2+4]*[3+1]", "(2+4)*(3+1) = 24", "2x3x4x1", " (2+4)*(3+1)\n", "4 × 3 · 2 ÷ 1", "2 X 3 X 4 X 1", "{[(2+4)]}*(3+1)"):
        ok(G24, P24, answer)
    assert "claims the value '25'" in bad(G24, P24, "(2+4)*(3+1) = 25")


def test_game24_refuses_code_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    attack = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    assert bad(G24, P24, attack) == "function calls are not allowed"
    assert not marker.exists()
    assert bad(G24, P24, "(2).real*3*4*1") == "attribute access is not allowed"
    assert bad(G24, P24, "abs(2*3*4*1)") == "function calls are not allowed"
    assert bad(G24, P24, "2**3*3*1") == "only + - * / are allowed, got Pow"
    assert "sign" in bad(G24, P24, "-2*-3*4*1")
    assert bad(G24, P24, "2.0*3*4*1") == "only whole numbers may appear, got 2.0"
    assert bad(G24, P24, "hello") == "'hello' is not a number"
    assert "not an arithmetic expression" in bad(G24, P24, "2*3*4*1)")
    assert bad(G24, P24, "lambda: 24") == "Lambda is not allowed: only numbers, + - * / and parentheses"
    assert "far fewer" in bad(G24, P24, "(" * 300 + "24" + ")" * 300)


def test_game24_slips_are_legal_but_wrong_and_missing_numbers_break_a_rule():
    start = G24.start(P24)
    search = G24.solve(P24)
    after, broken = G24.apply(P24, start, {"a": 4, "op": "*", "b": 3, "result": 12})
    assert broken is None and sorted(v for v, *_ in after) == [1, 2, 12]
    slipped, broken, ok, sound = judge(G24, P24, search, after, True, {"a": 12, "op": "*", "b": 2, "result": 25})
    assert (broken, ok, sound) == (None, False, False)  # legal: the solver's belief, wrong from the state
    assert (25, "4*3*2", 2, 24) in slipped
    assert judge(G24, P24, search, after, True, {"a": 12, "op": "*", "b": 2, "result": 24})[2]
    _, broken = G24.apply(P24, after, {"a": 4, "op": "+", "b": 1, "result": 5})
    assert broken == "4 is not among the numbers left (12, 2 and 1)"
    _, broken = G24.apply(P24, after, {"a": 2, "op": "/", "b": 0, "result": 0})
    assert broken == "2 / 0 is undefined"
    frac, broken = G24.apply(P24, start, {"a": 1, "op": "/", "b": 3, "result": "1/3"})
    assert broken is None and Fraction(1, 3) in [v for v, *_ in frac]


def test_game24_levels_grow_and_targets_are_reachable():
    for d, level in G24.levels.items():
        for seed in range(5):
            problem = G24.make_task(seed, d, {}).env
            assert len(problem["numbers"]) == level["count"]
            assert level["targets"][0] <= problem["target"] <= level["targets"][1]
            assert G24.verify(problem, G24.solve(problem).answer)[0]


# ---------------------------------------------------------------------------- lis

LIS = get_family("lis")
PLIS = {"seq": [3, 1, 4, 1, 5, 9, 2, 6]}


def test_lis_solver_answer_passes_and_any_longest_does():
    assert LIS.solve(PLIS).answer == "3 4 5 9"
    for answer in ("3 4 5 9", "1 4 5 9", "1 4 5 6", "3 4 5 6", "1, 4, 5, 6", "[1, 4, 5, 9]", "1 -> 4 -> 5 -> 9"):
        assert ok(LIS, PLIS, answer).startswith("4 values")


def test_lis_wrong_answers_say_what_broke():
    assert bad(LIS, PLIS, "1 4 5") == "length 3 < longest 4"
    assert bad(LIS, PLIS, "1 1 4 5 9") == "1 then 1 is not strictly increasing"
    assert bad(LIS, PLIS, "4 3 5 9") == "4 then 3 is not strictly increasing"
    assert bad(LIS, PLIS, "1 4 7 9") == "7 does not appear in the sequence"
    assert bad(LIS, PLIS, "1 4 6 9") == "9 does not appear in the sequence after the numbers before it"
    assert bad(LIS, PLIS, "1 4 five 9") == "'five' is not a whole number"
    assert bad(LIS, PLIS, "  ") == "the answer lists no numbers"


def test_lis_patience_length_matches_brute_force():
    rng = random.Random(5)
    for _ in range(200):
        seq = [rng.randint(1, 6) for _ in range(rng.randint(1, 9))]
        brute = max(
            (k for k in range(len(seq) + 1) for c in combinations(seq, k) if all(x < y for x, y in zip(c, c[1:], strict=False))),
            default=0,
        )
        assert longest(seq) == brute


def test_lis_wrong_entries_are_legal_and_judged_from_the_table():
    search = LIS.solve(PLIS)
    state = LIS.start(PLIS)
    for move in search.steps[:3]:  # L[0..2] = 1, 1, 2
        state, broken = LIS.apply(PLIS, state, move.move)
        assert broken is None
    assert state == ((1, None), (1, None), (2, 0))
    _, broken = LIS.apply(PLIS, state, {"i": 4, "length": 3, "prev": 2})
    assert broken == "entries are filled in order: the next is L[3], not L[4]"
    assert LIS.apply(PLIS, state, {"i": 3, "length": 0, "prev": None})[1].startswith("a move names i, a length of at least 1")
    assert LIS.apply(PLIS, state, {"i": 3, "length": 1, "prev": 3})[1] == "prev[3] must be an earlier index (0..2) or null, got 3"
    # strictness forgotten: a[2]=4 is not below a[3]=1, and the chain read back later climbs down
    assert judge(LIS, PLIS, search, state, True, {"i": 3, "length": 3, "prev": 2})[1:] == (None, False, False)
    state, _ = LIS.apply(PLIS, state, {"i": 3, "length": 1, "prev": None})
    assert judge(LIS, PLIS, search, state, True, {"i": 4, "length": 3, "prev": 2})[1:] == (None, True, True)
    for wrong in ({"i": 4, "length": 2, "prev": 0},  # greedy: a smaller value, not the longest run before it
                  {"i": 4, "length": 2, "prev": 2}):  # off by one: L[2]+1 is 3
        assert judge(LIS, PLIS, search, state, True, wrong)[1:] == (None, False, False), wrong
    # one too many on a[4] leaves the prev links right: the chain read back is still a longest one
    assert judge(LIS, PLIS, search, state, True, {"i": 4, "length": 4, "prev": 2})[1:] == (None, True, True)
    at6 = _lis_fill(search, state, 6)
    off_chain = {"i": 6, "length": 1, "prev": None}  # a[6]=2 is on no longest chain: its slip washes out
    assert judge(LIS, PLIS, search, at6, True, off_chain)[1:] == (None, True, True)


def _lis_fill(search, state, upto):
    for s in search.steps:
        if s.kind == "apply" and len(state) <= s.move["i"] < upto:
            state = LIS.apply(PLIS, state, s.move)[0]
    return state


# ---------------------------------------------------------------------------- arithmetic

AR = get_family("arithmetic")
PAR = {
    "story": "Ana buys 3 pens at $0.25 each. She uses a $0.10 coupon.",
    "asks": "the price after the coupon",
    "given": [["qty", "3", "pens"], ["price", "0.25", "$"], ["coupon", "0.1", "$"]],
    "program": [["cost", "*", "qty", "price", "$", "the cost of the pens"], ["after", "-", "cost", "coupon", "$", "the price after the coupon"]],
}


def test_arithmetic_parse_number_is_tolerant_of_form_and_strict_on_content():
    half = Fraction(25, 2)
    for text in ("12.5", "$12.50", "25/2", "12 1/2", "12.50 dollars", " 12.5 ", "$ 12.5", "12.5km"):
        assert parse_number(text) == half, text
    assert parse_number("1,234.5") == Fraction(2469, 2)
    assert parse_number("-3") == -3 and parse_number("−3") == -3
    assert parse_number("20%") == 20
    for text in ("12 or 13", "1,23", "twelve", "12.5.3", "", "12/0", "about 12", "12 and 13 pens"):
        assert parse_number(text) is None, text


@pytest.mark.parametrize(("text", "value"), [
    ("525 thousand", 525_000), ("525 thousands", 525_000), ("525k", 525_000), ("525 K", 525_000), ("525 million", 525_000_000),
    ("2 billion", 2_000_000_000), ("525 thousandths", Fraction(525, 1000)), ("3 tenths", Fraction(3, 10)), ("12.5 hundred", 1250),
])
def test_arithmetic_scale_words_change_the_number(text, value):
    assert parse_number(text) == value


def test_arithmetic_answers_a_thousand_times_off_fail_and_ambiguous_scales_are_refused():
    answer = AR.solve(PAR).answer  # 0.65
    assert bad(AR, PAR, f"{answer} thousand").startswith("650 is not")
    assert bad(AR, PAR, f"{answer}k").startswith("650 is not")
    assert "could mean million or metres" in bad(AR, PAR, f"{answer}m")
    assert ok(AR, PAR, f"{answer}.") and ok(AR, PAR, f"'{answer}'") and ok(AR, PAR, f"Answer: ${answer}")


def test_arithmetic_plain_writes_exact_short_numbers():
    assert [plain(Fraction(x)) for x in ("25/2", "1/3", "3", "1/8", "-5/2", "1/40")] == ["12.5", "1/3", "3", "0.125", "-2.5", "0.025"]


def test_arithmetic_verifier_recomputes_from_the_stored_quantities():
    assert AR.solve(PAR).answer == "0.65"
    for answer in ("0.65", "$0.65", "13/20", "0.650 dollars", ".65"):
        assert "the price after the coupon" in ok(AR, PAR, answer)
    assert bad(AR, PAR, "0.75") == "0.75 is not the price after the coupon: the problem's quantities give a different value"
    assert bad(AR, PAR, "0.65 or 0.75") == "'0.65 or 0.75' is not a single number"
    assert bad(AR, PAR, "sixty-five cents") == "'sixty-five cents' is not a single number"
    cheaper = {**PAR, "given": [["qty", "3", "pens"], ["price", "0.5", "$"], ["coupon", "0.1", "$"]]}
    bad(AR, cheaper, "0.65")
    ok(AR, cheaper, "1.4")


def test_arithmetic_generated_problems_have_the_levels_operations_and_exact_answers():
    for d, level in AR.levels.items():
        for seed in range(20):
            task = AR.make_task(seed, d, {})
            lo, hi = level["ops"]
            assert lo <= len(task.env["program"]) <= hi
            answer = task.reference["answer"]
            assert "/" not in answer and ok(AR, task.env, answer)
            assert ok(AR, task.env, f"{answer} units")


def test_arithmetic_slips_are_legal_but_wrong_and_unknown_quantities_break_a_rule():
    state = AR.start(PAR)
    search = AR.solve(PAR)
    after, broken = AR.apply(PAR, state, {"name": "cost", "op": "*", "args": ["qty", "price"], "value": "0.75"})
    assert broken is None and dict(after)["cost"] == Fraction(3, 4)
    slipped, broken, ok, sound = judge(AR, PAR, search, state, True, {"name": "cost", "op": "*", "args": ["qty", "price"], "value": "0.8"})
    assert (broken, ok, sound) == (None, False, False) and dict(slipped)["cost"] == Fraction(4, 5)
    assert judge(AR, PAR, search, state, True, {"name": "cost", "op": "*", "args": ["qty", "price"], "value": "0.75"})[2]
    # a quantity the answer does not use: written wrong, it washes out
    aside = judge(AR, PAR, search, state, True, {"name": "q3", "op": "+", "args": ["qty", "qty"], "value": "7"})
    assert aside[1:] == (None, True, True)
    _, broken = AR.apply(PAR, state, {"name": "after", "op": "-", "args": ["cost", "coupon"], "value": "0.65"})
    assert broken == "'cost' is not a known quantity yet"
    slipped, _ = AR.apply(PAR, state, {"name": "cost", "op": "*", "args": ["qty", "price"], "value": "0.8"})
    rest = AR.continue_wrong(PAR, slipped, Voice(random.Random(0)), random.Random(0))
    assert [s.move["value"] for s in rest] == ["0.7"] and "0.7" in bad(AR, PAR, "0.7")


# ---------------------------------------------------------------------------- cryptarithm

CR = get_family("cryptarithm")
PCR = {"addends": ["AB", "CD"], "result": "EF"}


def test_cryptarithm_solver_answer_passes_on_a_classic():
    money = {"addends": ["SEND", "MORE"], "result": "MONEY"}
    search = CR.solve(money)
    assert search.answer == "D=7 E=5 M=1 N=6 O=0 R=8 S=9 Y=2"
    assert ok(CR, money, search.answer).startswith("9567 + 1085 = 10652")
    assert any(s.kind == "backtrack" for s in search.steps)


def test_cryptarithm_any_valid_mapping_passes():
    assert ok(CR, PCR, CR.solve(PCR).answer)
    assert ok(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=7").startswith("12 + 35 = 47")
    assert ok(CR, PCR, "A=1 B=4 C=2 D=5 E=3 F=9").startswith("14 + 25 = 39")
    assert ok(CR, PCR, "a:1, b:4, c:2, d:5, e:3, f:9")
    assert ok(CR, PCR, "F = 9; E = 3; D = 5; C = 2; B = 4; A = 1.")


def test_cryptarithm_wrong_mappings_say_what_broke():
    assert bad(CR, PCR, "A=1 B=2 C=3 D=4 E=4 F=6") == "D and E both have the digit 4"
    assert bad(CR, PCR, "A=0 B=2 C=3 D=5 E=4 F=7") == "AB would start with 0 (A=0)"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=8") == "12 + 35 = 47, not 48 (EF)"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4") == "F has no digit"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=?") == "F has no digit"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=7 Z=8") == "Z is not a letter of the puzzle"
    assert bad(CR, PCR, "A=1 A=2 C=3 D=5 E=4 F=7") == "A is given twice"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=17") == "F: '17' is not a digit"
    assert bad(CR, PCR, "A=1 B=2 C=3 D=5 E=4 F=7 trust me") == "cannot read 'trust me': write each letter as L=digit"
    assert bad(CR, PCR, "AB=12 CD=35 EF=47") == "'AB' is not a single letter"


def test_cryptarithm_rules_flag_taken_digits_and_zeros_and_wrong_columns_are_legal_but_wrong():
    state = CR.start(PCR)
    search = CR.solve(PCR)
    state, broken = CR.apply(PCR, state, {"letter": "B", "digit": 2})
    assert broken is None
    _, broken = CR.apply(PCR, state, {"letter": "D", "digit": 2})
    assert broken == "2 is already B's digit"
    _, broken = CR.apply(PCR, state, {"letter": "A", "digit": 0})
    assert broken == "A starts AB, so it cannot be 0"
    state, _ = CR.apply(PCR, state, {"letter": "D", "digit": 5})
    _, broken, ok, sound = judge(CR, PCR, search, state, True, {"letter": "F", "digit": 8})  # the column sum slipped
    assert (broken, ok, sound) == (None, False, False)
    assert judge(CR, PCR, search, state, True, {"letter": "F", "digit": 7})[1:] == (None, True, True)
    _, broken = CR.apply(PCR, state, {"letter": "b", "digit": 3})
    assert broken == "B already has the digit 2"
    _, broken = CR.apply(PCR, state, {"letter": "Q", "digit": 3})
    assert broken.startswith("'Q' is not a letter of the puzzle")


def test_cryptarithm_generated_puzzles_come_from_a_real_sum():
    for d, level in CR.levels.items():
        for seed in range(5):
            problem = CR.make_task(seed, d, {}).env
            assert len(problem["addends"]) == level["addends"]
            assert all(level["length"][0] <= len(w) <= level["length"][1] for w in problem["addends"])
            assert len(set("".join(problem["addends"]) + problem["result"])) <= 10
            assert ok(CR, problem, CR.solve(problem).answer)
