"""The sudoku, futoshiki and nonogram families beyond the shared contract.

Each family's verifier is checked against hand-made right and wrong answers (with the reason it
gives), alternative solutions are counted by small solvers written here independently of the
families, and the facts the expert traces state are re-derived from the replayed board.
"""

from __future__ import annotations

import itertools
import random
import re

import pytest

from synth.episode import run_episode
from synth.registry import get_family
from tests.factories import RUN_A

sudoku = get_family("sudoku")
futoshiki = get_family("futoshiki")
nonogram = get_family("nonogram")


def expert_states(family, problem):
    """(state before the step, step) for every step of the expert's search, replayed."""
    stack = [family.start(problem)]
    for step in family.solve(problem).steps:
        yield stack[-1], step
        if step.kind == "apply":
            stack.append(family.apply(problem, stack[-1], step.move)[0])
        elif step.kind == "backtrack":
            del stack[step.depth + 1 :]


# ---------------------------------------------------------------------------- sudoku

# A hand-made 4x4 with one solution (checked below by the independent counter).
SUDOKU = {"size": 4, "box": [2, 2], "grid": ["1...", "3..2", "...3", "..2."]}
SUDOKU_SOLUTION = "1234 3412 2143 4321"


def count_sudoku(problem: dict, limit: int = 2) -> int:
    """Solutions of a sudoku, counted up to ``limit`` by plain backtracking on row, column and
    box sets (fewest-candidates cell first)."""
    n, (br, bc) = problem["size"], problem["box"]
    grid = [0 if ch == "." else int(ch) for row in problem["grid"] for ch in row]
    rows, cols, boxes = [set() for _ in range(n)], [set() for _ in range(n)], [set() for _ in range(n)]

    def box(i: int) -> int:
        return (i // n) // br * (n // bc) + (i % n) // bc

    for i, d in enumerate(grid):
        if d:
            rows[i // n].add(d), cols[i % n].add(d), boxes[box(i)].add(d)
    digits = set(range(1, n + 1))

    def count() -> int:
        best = None
        for i, d in enumerate(grid):
            if not d:
                options = digits - rows[i // n] - cols[i % n] - boxes[box(i)]
                if best is None or len(options) < len(best[1]):
                    best = (i, options)
        if best is None:
            return 1
        i, total = best[0], 0
        for d in sorted(best[1]):
            grid[i] = d
            rows[i // n].add(d), cols[i % n].add(d), boxes[box(i)].add(d)
            total += count()
            grid[i] = 0
            rows[i // n].discard(d), cols[i % n].discard(d), boxes[box(i)].discard(d)
            if total >= limit:
                break
        return total

    return count()


def test_sudoku_puzzles_have_exactly_one_solution():
    assert count_sudoku({"size": 4, "box": [2, 2], "grid": ["...."] * 4}, limit=1000) == 288  # the counter counts
    assert count_sudoku(SUDOKU) == 1
    for difficulty, seeds in ((1, 100), (2, 60), (3, 60), (4, 30), (5, 30)):
        for seed in range(seeds):
            problem = sudoku.generate(random.Random(seed), **sudoku.levels[difficulty])
            assert count_sudoku(problem) == 1, (difficulty, seed)
            empty = sum(row.count(".") for row in problem["grid"])
            assert empty >= sudoku.levels[difficulty]["empty"] - 2, (difficulty, seed, empty)


def test_sudoku_expert_answer_passes_and_is_the_solution():
    assert sudoku.solve(SUDOKU).answer == SUDOKU_SOLUTION
    assert sudoku.verify(SUDOKU, SUDOKU_SOLUTION) == (True, "every row, column and box holds 1-4 once and the 5 givens are kept")
    for seed in range(5):
        task = sudoku.make_task(seed, 4, {})
        assert sudoku.verify(task.env, task.reference["answer"])[0]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("2134 3412 2143 4321", "r1c1 must keep the given 1, got 2"),
        ("1243 3412 2143 4321", "column 3 has two 4s (r1c3 and r3c3)"),
        ("1234 3412 2143 4312", "r4c3 must keep the given 2, got 1"),
        ("1234 3412 2143 432.", "r4c4 is empty"),
        ("1234 3412 2143 432x", "unexpected 'x': cells are the digits 1-4"),
        ("1234 3412 2143", "expected 16 cells (4 rows of 4), got 12"),
        ("1234 3412 2143 43211", "expected 16 cells (4 rows of 4), got 17"),
        ("1234 3412 2153 4321", "unexpected '5': cells are the digits 1-4"),
        ("Answer: 1234 3412 2143 432.", "r4c4 is empty"),
    ],
)
def test_sudoku_verifier_rejects_with_a_reason(answer, reason):
    assert sudoku.verify(SUDOKU, answer) == (False, reason)


def test_sudoku_verifier_names_the_repeated_digit_and_unit():
    blank = {"size": 4, "box": [2, 2], "grid": ["...."] * 4}
    assert sudoku.verify(blank, "1234 2341 3412 4123") == (False, "box 1 has two 2s (r1c2 and r2c1)")
    assert sudoku.verify(blank, "1234 1234 3412 3412") == (False, "column 1 has two 1s (r1c1 and r2c1)")
    assert sudoku.verify(blank, "1134 3412 2143 4321") == (False, "row 1 has two 1s (r1c1 and r1c2)")


@pytest.mark.parametrize(
    "answer",
    [
        "1234341221434321",
        "1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1",
        "1,2,3,4|3,4,1,2|2,1,4,3|4,3,2,1",
        "12|34\n34|12\n--+--\n21|43\n43|21",
        "  [1234] [3412] [2143] [4321]  ",
    ],
)
def test_sudoku_verifier_is_tolerant_of_layout(answer):
    assert sudoku.verify(SUDOKU, answer)[0]


def test_sudoku_moves_are_checked_against_row_column_and_box():
    state = sudoku.start(SUDOKU)
    assert sudoku.apply(SUDOKU, state, {"row": 1, "col": 2, "digit": 2})[1] is None
    assert sudoku.apply(SUDOKU, state, {"row": 1, "col": 2, "digit": 1})[1] == "1 is already in row 1 at r1c1"
    assert sudoku.apply(SUDOKU, state, {"row": 1, "col": 3, "digit": 2})[1] == "2 is already in column 3 at r4c3"
    assert sudoku.apply(SUDOKU, state, {"row": 1, "col": 2, "digit": 3})[1] == "3 is already in box 1 at r2c1"
    assert sudoku.apply(SUDOKU, state, {"row": 1, "col": 1, "digit": 1}) == (state, "r1c1 already holds 1")
    assert sudoku.apply(SUDOKU, state, {"row": 5, "col": 1, "digit": 1})[1].startswith("a move names a row")
    placed, broken = sudoku.apply(SUDOKU, state, {"row": 1, "col": 2, "digit": 3})
    assert placed[1] == 3 and state[1] == 0, "an illegal placement is carried out on a new state"


def sudoku_unit_cells(problem: dict):
    """``cells(kind, k)``: the cell indexes of row, column or box ``k`` (0-based)."""
    n, (br, bc) = problem["size"], problem["box"]

    def cells(kind: str, k: int) -> list[int]:
        if kind == "row":
            return [k * n + c for c in range(n)]
        if kind == "column":
            return [r * n + k for r in range(n)]
        r0, c0 = k // (n // bc) * br, k % (n // bc) * bc
        return [(r0 + a) * n + c0 + b for a in range(br) for b in range(bc)]

    return cells


def sudoku_candidates(problem: dict, state) -> list[set[int]]:
    """Each cell's digits not yet in its row, column or box (empty set for a filled cell)."""
    n, (br, bc) = problem["size"], problem["box"]
    cells = sudoku_unit_cells(problem)
    out = []
    for i, d in enumerate(state):
        if d:
            out.append(set())
            continue
        r, c = divmod(i, n)
        box = r // br * (n // bc) + c // bc
        seen = {state[j] for kind, k in (("row", r), ("column", c), ("box", box)) for j in cells(kind, k)}
        out.append(set(range(1, n + 1)) - seen)
    return out


def test_sudoku_traces_state_true_singles():
    """Every placement the expert makes without guessing is a naked or a hidden single on the
    replayed board, and every unit it credits with a digit holds that digit."""
    credit = re.compile(r"(row|column|box) (\d) (?:has|holds|gives|adds|rules out|takes away) ((?:\d(?:, | and |, and )?)+)")
    seen = {"naked": 0, "hidden": 0, "credits": 0}
    for seed in range(12):
        problem = sudoku.generate(random.Random(seed), **sudoku.levels[2 + seed % 3])
        n = problem["size"]
        cells = sudoku_unit_cells(problem)
        for state, step in expert_states(sudoku, problem):
            if step.kind != "apply":
                continue
            i, d = (step.move["row"] - 1) * n + step.move["col"] - 1, step.move["digit"]
            cand = sudoku_candidates(problem, state)
            units = [cells(kind, k) for kind in ("row", "column", "box") for k in range(n)]
            singles = any(len(c) == 1 for c in cand) or any(
                len([j for j in u if x in cand[j]]) == 1 for u in units for x in range(1, n + 1))
            if not singles:
                continue  # a guess: nothing was forced
            assert f"r{step.move['row']}c{step.move['col']}" in step.text and str(d) in step.text
            hidden = any(i in u and [j for j in u if d in cand[j]] == [i] for u in units)
            assert cand[i] == {d} or hidden, (seed, step.text)
            seen["naked" if cand[i] == {d} else "hidden"] += 1
            for kind, k, digits in credit.findall(step.text):
                unit = {state[j] for j in cells(kind, int(k) - 1)}
                assert {int(x) for x in re.findall(r"\d", digits)} <= unit, (step.text, kind, k)
                seen["credits"] += 1
    assert seen["naked"] > 20 and seen["hidden"] > 20 and seen["credits"] > 50, seen


def test_sudoku_hard_levels_guess_and_backtrack_for_real():
    searches = [sudoku.solve(sudoku.generate(random.Random(seed), **sudoku.levels[5])) for seed in range(12)]
    guessing = [s for s in searches if s.stats["backtracks"]]
    assert guessing, "some level-5 puzzles need a guess that fails"
    for search in guessing:
        assert any(s.kind == "backtrack" for s in search.steps)
    easy = [sudoku.solve(sudoku.generate(random.Random(seed), **sudoku.levels[2])) for seed in range(12)]
    assert all(s.stats["guesses"] == 0 for s in easy), "single-removal puzzles never need a guess"


def test_sudoku_mistakes_are_plausible_and_mostly_legal():
    """A misread single and an overlooked cell are legal moves that lose the (unique)
    solution; a forgotten unit breaks a rule. Each reveal names what the recheck finds."""
    from synth.reasoning.phrasing import Voice

    kinds = {}
    for seed in range(30):
        task = sudoku.make_task(seed, 3, {})
        problem, search = task.env, sudoku.search(task.id, task.env)
        state = sudoku.start(problem)
        m = sudoku.mistake(problem, state, search, Voice(random.Random(seed)), random.Random(seed))
        broken = sudoku.apply(problem, state, m.move)[1]
        i = (m.move["row"] - 1) * problem["size"] + m.move["col"] - 1
        if m.kind == "forgotten":
            assert re.fullmatch(r"\d is already in (row|column|box) \d at r\dc\d", broken), broken
        else:
            assert broken is None and search.final[i] != m.move["digit"], m
        assert m.reveal and f"r{m.move['row']}c{m.move['col']}" in m.thought
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
    assert kinds.get("misread", 0) + kinds.get("wrong_candidate", 0) > kinds.get("forgotten", 0), kinds


def test_sudoku_first_error_is_a_legal_but_wrong_placement():
    """A hand-made trace: two right singles, then a legal digit that is not the solution's:
    the env flags that step, and the observation is the board with the digit in it."""
    from stores.schema import Action, Policy
    from synth.reasoning.base import ScriptTeacher

    task = sudoku.make_task(0, 1, {})
    search = sudoku.search(task.id, task.env)
    moves = [s.move for s in search.steps if s.kind == "apply"][:2]
    state = sudoku.start(task.env)
    for mv in moves:
        state = sudoku.apply(task.env, state, mv)[0]
    n = task.env["size"]
    cand = sudoku_candidates(task.env, state)
    i = next(i for i, c in enumerate(cand) if len(c) >= 2)
    wrong = min(c for c in cand[i] if c != search.final[i])
    bad = {"row": i // n + 1, "col": i % n + 1, "digit": wrong}
    assert sudoku.apply(task.env, state, bad)[1] is None, "the wrong digit breaks no rule"
    script = [("read", Action("think", {"stage": "read"})), *[("move", Action("place", mv)) for mv in moves],
              ("wrong", Action("place", bad)), ("answer", Action("answer", {"answer": "x"}))]
    t = run_episode("reasoning", task, sudoku.make_env(task, {}), ScriptTeacher(Policy("t", "expert"), script), RUN_A).trajectory
    assert t.first_error_step == 3
    assert t.steps[3].observation.text == sudoku.observe(task.env, sudoku.apply(task.env, state, bad)[0])


# ---------------------------------------------------------------------------- futoshiki

# 4x4, no givens, three signs: r1c1 < r1c2, r2c1 < r1c1 (below it), r4c4 < r4c3.
FUTOSHIKI = {"size": 4, "grid": ["...."] * 4, "less": [[0, 1], [4, 0], [15, 14]]}


def futoshiki_solutions(problem: dict, limit: int) -> list[str]:
    """Up to ``limit`` solutions, found row by row over permutations."""
    n = problem["size"]
    givens = "".join(problem["grid"])
    out: list[str] = []

    def fits(grid: list[int]) -> bool:
        return all(not (a < len(grid) and b < len(grid)) or grid[a] < grid[b] for a, b in problem["less"])

    def rows(grid: list[int]) -> None:
        if len(out) >= limit:
            return
        if len(grid) == n * n:
            out.append(" ".join("".join(map(str, grid[r * n : (r + 1) * n])) for r in range(n)))
            return
        r = len(grid) // n
        for perm in itertools.permutations(range(1, n + 1)):
            if any(givens[r * n + c] not in (".", str(perm[c])) for c in range(n)):
                continue
            if any(perm[c] == grid[r2 * n + c] for r2 in range(r) for c in range(n)):
                continue
            if fits(grid + list(perm)):
                rows(grid + list(perm))

    rows([])
    return out


def test_futoshiki_any_valid_grid_passes():
    for seed in range(12):
        task = futoshiki.make_task(seed, 1, {})
        answers = futoshiki_solutions(task.env, 3)
        assert task.reference["answer"] in futoshiki_solutions(task.env, 10_000)
        for answer in answers:
            assert futoshiki.verify(task.env, answer)[0], (seed, answer)
    for s in range(30):
        assert len(futoshiki_solutions(futoshiki.make_task(s, 1, {}).env, 2)) == 1, "every generated puzzle has one solution"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("2134 1243 3412 4321", "r1c1 < r1c2 fails: r1c1 = 2 and r1c2 = 1"),
        ("3214 1432 2143 4321", "r1c1 < r1c2 fails: r1c1 = 3 and r1c2 = 2"),
        ("1234 2143 3412 4321", "r2c1 < r1c1 fails: r2c1 = 2 and r1c1 = 1"),
        ("2341 1234 3412 4123", "r4c4 < r4c3 fails: r4c4 = 3 and r4c3 = 2"),
        ("2341 1234 3412 4132", "column 3 has two 3s (r2c3 and r4c3)"),
        ("2341 1224 3412 4213", "row 2 has two 2s (r2c2 and r2c3)"),
        ("2341 1234 3412 421", "expected 16 cells (4 rows of 4), got 15"),
        ("2341 1234 3412 42?3", "r4c3 is empty"),
        ("2341 1234 3412 42z3", "unexpected 'z': cells are the digits 1-4"),
    ],
)
def test_futoshiki_verifier_rejects_with_a_reason(answer, reason):
    assert futoshiki.verify(FUTOSHIKI, answer) == (False, reason)


def test_futoshiki_hand_made_solutions_all_pass():
    answers = futoshiki_solutions(FUTOSHIKI, 3)
    assert answers == ["2314 1243 3421 4132", "2314 1243 4132 3421", "2314 1423 3142 4231"]
    for answer in answers:
        assert futoshiki.verify(FUTOSHIKI, answer) == (
            True, "every row and column holds 1-4 once, the givens are kept and all 3 signs hold"
        )


def test_futoshiki_givens_are_kept_and_layout_is_free():
    problem = {**FUTOSHIKI, "grid": ["....", "1...", "....", "...."]}
    assert futoshiki.verify(problem, "2314 1243 3421 4132")[0]
    assert futoshiki.verify(problem, "2314\n1243\n3421\n4132")[0]
    assert futoshiki.verify(problem, "2,3,1,4 | 1,2,4,3 | 3,4,2,1 | 4,1,3,2")[0]
    assert futoshiki.verify(problem, "3421 2314 1243 4132") == (False, "r2c1 must keep the given 1, got 2")


def test_futoshiki_moves_check_lines_and_signs():
    state = futoshiki.start(FUTOSHIKI)
    state = futoshiki.apply(FUTOSHIKI, state, {"row": 1, "col": 2, "digit": 2})[0]
    assert futoshiki.apply(FUTOSHIKI, state, {"row": 1, "col": 1, "digit": 3})[1] == "r1c1 < r1c2 fails: r1c1 = 3 and r1c2 = 2"
    assert futoshiki.apply(FUTOSHIKI, state, {"row": 1, "col": 1, "digit": 1})[1] is None
    assert futoshiki.apply(FUTOSHIKI, state, {"row": 3, "col": 2, "digit": 2})[1] == "2 is already in column 2 at r1c2"
    assert futoshiki.apply(FUTOSHIKI, state, {"row": 1, "col": 2, "digit": 1}) == (state, "r1c2 already holds 2")
    assert futoshiki.apply(FUTOSHIKI, state, {"row": 1, "col": 2})[1].startswith("a move names a row, a column and a digit")


def test_futoshiki_dead_ends_are_real_and_eliminations_true():
    """Each expert backtrack leaves a board no solution extends (the independent solver finds
    none with those digits fixed), and every row or column it credits with a digit holds it."""
    credit = re.compile(r"(row|column) (\d) (?:has|rules out) ((?:\d(?:, | and |, and )?)+)")
    dead_ends = credits = 0
    for seed in range(30):
        problem = futoshiki.generate(random.Random(seed), **futoshiki.levels[3 + seed % 3])
        n = problem["size"]
        stack = [futoshiki.start(problem)]
        for step in futoshiki.solve(problem).steps:
            state = stack[-1]
            if step.kind == "apply":
                for kind, k, digits in credit.findall(step.text):
                    k = int(k) - 1
                    unit = {state[k * n + c] for c in range(n)} if kind == "row" else {state[r * n + k] for r in range(n)}
                    assert {int(x) for x in re.findall(r"\d", digits)} <= unit, (step.text, kind, k)
                    credits += 1
                stack.append(futoshiki.apply(problem, state, step.move)[0])
            elif step.kind == "backtrack":
                fixed = {**problem, "grid": ["".join(str(d) if d else "." for d in state[r * n : (r + 1) * n]) for r in range(n)]}
                if n <= 5:
                    assert futoshiki_solutions(fixed, 1) == [], (seed, step.text)
                dead_ends += 1
                del stack[step.depth + 1 :]
    assert dead_ends > 3 and credits > 100, (dead_ends, credits)


# ---------------------------------------------------------------------------- nonogram

# Two solutions: the diagonal and the anti-diagonal.
CROSS = {"rows": [[1], [1]], "cols": [[1], [1]]}


def runs(line: str) -> list[int]:
    return [len(x) for x in line.split(".") if x]


def nonogram_solutions(problem: dict, limit: int) -> list[str]:
    """Up to ``limit`` solutions: every row drawn from all lines with its runs, columns checked."""
    w = len(problem["cols"])
    lines = ["".join(bits) for bits in itertools.product("#.", repeat=w)]
    options = [[line for line in lines if runs(line) == clue] for clue in problem["rows"]]
    out = []
    for rows in itertools.product(*options):
        if all(runs("".join(row[c] for row in rows)) == problem["cols"][c] for c in range(w)):
            out.append(" ".join(rows))
            if len(out) >= limit:
                break
    return out


def test_nonogram_accepts_every_grid_that_reads_the_clues():
    assert sorted(nonogram_solutions(CROSS, 5)) == ["#. .#", ".# #."]
    assert nonogram.verify(CROSS, "#. .#") == (True, "all 2 rows and 2 columns read their clues")
    assert nonogram.verify(CROSS, ".# #.")[0]
    assert nonogram.verify(CROSS, "## ..") == (False, "row 1 reads 2 ('##') but its clue is 1")
    assert nonogram.verify(CROSS, "#. #.") == (False, "column 1 reads 2 ('##') but its clue is 1")
    for seed in range(40):
        task = nonogram.make_task(seed, 1, {})
        assert nonogram_solutions(task.env, 2) == [task.reference["answer"]], "generated pictures have one solution"


@pytest.mark.parametrize(
    "answer",
    ["#. .#", "#.\n.#", "#..#", "10 01", "X_ _X", "x- -x", "#.|.#", "[#.], [.#]", "*. .*", "■□ □■"],
)
def test_nonogram_verifier_is_tolerant_of_symbols_and_layout(answer):
    assert nonogram.verify(CROSS, answer)[0], answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("#. .a", "unexpected 'a': cells are '#' (filled) or '.' (empty)"),
        ("#. .", "expected 4 cells (2 rows of 2), got 3"),
        ("#. .#..", "expected 4 cells (2 rows of 2), got 6"),
        ("#? .#", "r1c2 is left undecided"),
        (".. ..", "row 1 reads 0 ('..') but its clue is 1"),
        ("2. .#", "unexpected '2': cells are '#' (filled) or '.' (empty)"),
    ],
)
def test_nonogram_verifier_rejects_with_a_reason(answer, reason):
    assert nonogram.verify(CROSS, answer) == (False, reason)


def test_nonogram_moves_keep_every_line_fittable():
    problem = {"rows": [[2], [1]], "cols": [[1], [2]]}
    state = nonogram.start(problem)
    ok = {"line": "row", "index": 1, "marks": "##"}
    state2, broken = nonogram.apply(problem, state, ok)
    assert broken is None and state2 == "##??"
    assert nonogram.apply(problem, state, {"line": "row", "index": 1, "marks": "#."})[1] == "row 1 (clue 2) cannot fit '#.'"
    assert nonogram.apply(problem, state, {"line": "row", "index": 2, "marks": "#?"})[1] is None
    assert nonogram.apply(problem, state2, {"line": "row", "index": 2, "marks": "#?"})[1] == "column 1 (clue 1) cannot fit '##'"
    assert nonogram.apply(problem, state2, {"line": "col", "index": 1, "marks": ".?"}) == (state2, "r1c1 is already filled")
    assert nonogram.apply(problem, state, {"line": "row", "index": 3, "marks": "##"})[1].startswith("a move names a line")
    assert nonogram.apply(problem, state, {"line": "row", "index": 1, "marks": "#x"})[1].startswith("a move names a line")


def test_nonogram_traces_count_the_placements_they_claim():
    checked = 0
    for seed in range(20):
        problem = nonogram.generate(random.Random(seed), **nonogram.levels[1 + seed % 3])
        w = len(problem["cols"])
        for state, step in expert_states(nonogram, problem):
            if step.kind != "apply" or "guess" in step.text.lower() or "stuck" in step.text.lower():
                continue
            kind, k = step.move["line"], step.move["index"] - 1
            word = "row" if kind == "row" else "column"
            assert re.search(rf"(?i)\b{word} {k + 1}\b", step.text), step.text
            line = state[k * w : (k + 1) * w] if kind == "row" else state[k::w]
            clue = problem["rows" if kind == "row" else "cols"][k]
            fitting = [
                cand for cand in ("".join(b) for b in itertools.product("#.", repeat=len(line)))
                if runs(cand) == clue and all(x in ("?", y) for x, y in zip(line, cand, strict=True))
            ]
            count = re.search(r"(\d+) (?:placements|ways)", step.text)
            assert len(fitting) == (int(count[1]) if count else 1), (step.text, fitting)
            for j, mark in enumerate(step.move["marks"]):
                if mark != "?":
                    assert line[j] == "?" and all(cand[j] == mark for cand in fitting), step.text
            checked += 1
    assert checked > 150, checked


def test_nonogram_guesses_and_dead_ends_are_real():
    """Pictures have one solution, so a dead end is a board that disagrees with it: every
    expert backtrack comes from one."""
    found = 0
    for seed in range(80):
        problem = nonogram.generate(random.Random(seed), **nonogram.levels[5])
        search = nonogram.solve(problem)
        gold = search.answer.replace(" ", "")
        stack = [nonogram.start(problem)]
        for step in search.steps:
            if step.kind == "apply":
                stack.append(nonogram.apply(problem, stack[-1], step.move)[0])
            elif step.kind == "backtrack":
                assert any(ch != "?" and ch != gold[i] for i, ch in enumerate(stack[-1])), step.text
                del stack[step.depth + 1 :]
                found += 1
    assert found, "some level-5 pictures need a guess that fails"


def test_nonogram_mistakes_are_rejected_and_greedy_ones_are_legal():
    from synth.reasoning.base import judge
    from synth.reasoning.phrasing import Voice

    legal = 0
    for seed in range(30):
        task = nonogram.make_task(seed, 2, {})
        problem, search = task.env, nonogram.search(task.id, task.env)
        state = nonogram.start(problem)
        m = nonogram.mistake(problem, state, search, Voice(random.Random(seed)), random.Random(seed))
        _, broken, ok, _ = judge(nonogram, problem, search, state, True, m.move)
        assert not ok and m.reveal
        word = "column" if m.move["line"] == "col" else "row"
        assert re.search(rf"(?i)\b{word} {m.move['index']}\b", m.thought)
        legal += broken is None
    assert legal >= 5, legal


# ---------------------------------------------------------------------------- all three


@pytest.mark.parametrize("family", [sudoku, futoshiki, nonogram], ids=lambda f: f.name)
def test_states_are_drawn(family):
    task = family.make_task(4, 2, {})
    search = family.solve(task.env)
    final = family.replay(task.env, search.steps)[-1]
    for state in (None, family.start(task.env), final):
        image = family.render(task.env, state, 200)
        assert image.size == (200, 200)
    assert family.render(task.env, final, 200).tobytes() != family.render(task.env, None, 200).tobytes()


@pytest.mark.parametrize("family", [sudoku, futoshiki, nonogram], ids=lambda f: f.name)
def test_noisy_answers_are_complete_but_wrong(family):
    for seed in range(10):
        task = family.make_task(seed, 2, {})
        teacher = family.make_teacher("noisy", task, random.Random(seed), {})
        answer = teacher.script[-1][1].arguments["answer"]
        assert "?" not in answer and (family is nonogram or "." not in answer), answer
        ok, reason = family.verify(task.env, answer)
        assert not ok, answer
        assert not reason.startswith(("expected", "unexpected")) and "empty" not in reason and "undecided" not in reason, reason
