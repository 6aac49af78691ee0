"""The four scripted tiers, derived from the expert's search, and the script they play.

- ``expert``: the solver's trace, backtracks included (they are the search's own), with
  self-checks: now and then it rechecks one of its recent moves, in its own words;
- ``reflective``: at a seeded point of the expert's trace, from a solvable position, a
  plausible mistake (the family's :meth:`~synth.reasoning.base.ReasoningFamily.mistake`,
  written like a right move); it carries on from the wrong state for a drawn number of moves
  (sometimes none), then one of its rechecks is of the mistaken step and finds it wrong, in
  the solver's own words, and it backtracks to the step before the mistake and resumes the
  expert's trace, so the episode ends correct;
- ``noisy``: the same kind of mistake, never caught: the family's own method carried on from
  the wrong state, with the same rechecks (of moves that were right), a final check that
  believes the answer, and an answer the verifier rejects;
- ``random``: well-formed moves drawn without looking, worded like the solver's moves, with
  the same rechecks and the same final check.

Every tier reads, plans and verifies with the same family hooks and the same phrase pools
(:mod:`synth.reasoning.phrasing`), so a tier cannot be read off a fixed phrase: tiers differ in
which moves they make and whether what they write is true. Nothing in a trace is announced by
the env: whether a step was wrong is the env's label, computed by :func:`~synth.reasoning.base.judge`,
the rule the teachers also use to make sure a mistake is one.
"""

from __future__ import annotations

import random
from typing import Any

from stores.schema import Action, Policy, Task
from synth.reasoning.base import Mistake, ReasoningFamily, ScriptTeacher, Search, TraceStep, judge
from synth.reasoning.phrasing import (
    Voice,
    back_to,
    cap,
    check_fails,
    check_holds,
    check_intro,
    second_thoughts,
)

P_CHECK = 0.15  # chance of a recheck after a move, in every tier
RECENT = 4  # a recheck looks at one of the last few moves in force
CATCH_AFTER = (0, 1, 1, 2, 2, 3, 4, 6)  # later moves a reflective teacher makes before its recheck catches the mistake
MISTAKE_TRIES = 12
LEGAL_LOOKAHEAD = 6  # points at which a mistake is drawn before one is chosen
P_LEGAL = 0.8  # chance that a legal mistake, when one was drawn, is the one made
ANSWER_LINES = ("Answer: <a>", "Final answer: <a>", "The answer: <a>", "So the answer is: <a>",
                "{So|Then|Hence|Thus|All told|In the end|That settles it.}{,|} {the final answer|the answer|my answer|final answer}{ is|}: <a>",
                "{Answer|Final answer}{ then|, then|, checked|}: <a>")  # the last thought


def teacher(family: ReasoningFamily, tier: str, task: Task, rng: random.Random) -> ScriptTeacher:
    problem = task.env
    search = family.search(task.id, problem)
    say = Voice(rng)
    if tier == "expert":
        trace, answer, info = _expert(family, problem, search, say), search.answer, {}
    elif tier == "reflective":
        (trace, info), answer = _reflective(family, problem, search, say), search.answer
    elif tier == "noisy":
        trace, answer, info = _noisy(family, problem, search, say)
    elif tier == "random":
        trace, answer, info = _random(family, problem, search, say)
    elif tier == "llm":
        raise ValueError("llm episodes are made in batches (synth.llm.reasoning.llm_episodes), not step by step")
    else:
        raise ValueError(f"{family.name} has no {tier!r} teacher; tiers: {list(family.tiers)}")
    params = info if tier == "random" else {**search.stats, **info}
    return ScriptTeacher(Policy(f"{family.name}-{tier}", tier, None, params), script(family, problem, trace, answer, say))


class Trace:
    """A trace being written, replayed as it grows: the stack of states, whether each is
    still solvable, and the moves in force with the states they were made from (what a
    recheck looks at)."""

    def __init__(self, family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice, blind: bool = False):
        self.family, self.problem, self.search, self.say = family, problem, search, say
        self.blind = blind  # a teacher that cannot tell its right moves from its wrong ones rechecks either
        self.steps: list[TraceStep] = []
        self.stack = [family.start(problem)]
        self.sound = [True]
        self.made: list[tuple[int, Any, Any, bool]] = []  # per move in force: (position, state before, move, right)

    @staticmethod
    def number(position: int) -> int:
        """The stored step index of a trace position: the read and plan steps come first."""
        return position + 2

    @property
    def depth(self) -> int:
        return len(self.stack) - 1

    def add(self, step: TraceStep) -> tuple[Any, str | None, bool]:
        """Append ``step``; for a move, returns (state after, broken rule, accepted)."""
        out: tuple[Any, str | None, bool] = (None, None, True)
        if step.kind == "apply":
            before = self.stack[-1]
            after, broken, ok, sound = judge(self.family, self.problem, self.search, before, self.sound[-1], step.move)
            self.made.append((len(self.steps), before, step.move, ok))
            self.stack.append(after)
            self.sound.append(sound)
            out = (after, broken, ok)
        elif step.kind == "backtrack":
            if not 0 <= step.depth < len(self.stack):
                raise ValueError(f"{self.family.name}: a backtrack to depth {step.depth} with {self.depth} move(s) in force")
            del self.stack[step.depth + 1 :], self.sound[step.depth + 1 :], self.made[step.depth :]
        self.steps.append(step)
        return out

    def follow(self, steps: list[TraceStep], avoid: int = -1) -> None:
        """Append ``steps``, with a chance of a recheck after each move."""
        for s in steps:
            self.add(s)
            if s.kind == "apply":
                self.check(avoid)

    def check(self, avoid: int = -1) -> None:
        """Maybe recheck one of the recent moves that were right (never the one at ``avoid``):
        the same check every tier writes, and it holds."""
        say = self.say
        if not self.made or say.rng.random() >= P_CHECK:
            return
        choices = [m for m in self.made[-RECENT:] if (m[3] or self.blind) and m[0] != avoid]
        if not choices:
            return
        position, before, move, _ = say.pick(choices)
        found = self.family.confirm(self.problem, before, move, say)
        if found:
            intro = check_intro(say, self.number(position), self.family.move_text(move))
            self.steps.append(TraceStep("think", f"{intro}: {found}; {check_holds(say)}.", stage="check"))

    def catch(self, position: int, reveal: str, depth: int) -> None:
        """The recheck that finds the move at ``position`` wrong, then the backtrack to the
        ``depth`` it was made at."""
        say = self.say
        n = self.number(position)
        intro = check_intro(say, n, self.family.move_text(self.steps[position].move))
        self.steps.append(TraceStep("think", f"{intro}: {reveal}.", stage="check"))
        self.add(TraceStep("backtrack", f"{cap(check_fails(say, n))}.", depth=depth))


def _expert(family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice) -> Trace:
    trace = Trace(family, problem, search, say)
    trace.follow(search.steps)
    return trace


def _points(family: ReasoningFamily, problem: dict[str, Any], search: Search, rng: random.Random,
            limit: int | None = MISTAKE_TRIES) -> list[tuple[int, Any, int]]:
    """Seeded positions of the expert's trace where a move comes next from a solvable
    position: (position, state there, moves in force); at most ``limit`` of them."""
    stack, sound, points = [family.start(problem)], [True], []
    for i, s in enumerate(search.steps):
        if s.kind == "apply":
            if sound[-1]:
                points.append((i, stack[-1], len(stack) - 1))
            after, _, _, ok = judge(family, problem, search, stack[-1], sound[-1], s.move)
            stack.append(after)
            sound.append(ok)
        elif s.kind == "backtrack":
            del stack[s.depth + 1 :], sound[s.depth + 1 :]
    rng.shuffle(points)
    return points[:limit]


def _mistakes(family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice, exhaustive: bool = False):
    """(position, moves in force, mistake, state after it, broken rule) at seeded points; the
    env's own rule confirms each one is wrong. Legal mistakes (moves that break no rule but lose
    the solution) come first in most episodes, when the family has any near these points: they
    are the errors solvers mostly make. ``exhaustive``: every point of the trace, in a seeded
    order (the noisy teacher's second pass, when every mistake drawn first washed out)."""
    found = []
    points = _points(family, problem, search, say.rng, None if exhaustive else MISTAKE_TRIES)
    for k, (i, state, depth) in enumerate(points):
        if k >= LEGAL_LOOKAHEAD and found and not exhaustive:
            break
        m = family.mistake(problem, state, search, say, say.rng)
        if m is None:
            continue
        after, broken, ok, _ = judge(family, problem, search, state, True, m.move)
        if ok:  # right after all (a guess the search itself would make here): no mistake at this point
            continue
        found.append((i, depth, m, after, broken))
    if say.rng.random() < P_LEGAL:
        found.sort(key=lambda f: f[4] is not None)  # stable: the drawn order among legal ones, then the rest
    yield from found


def _wrong_rest(family: ReasoningFamily, problem: dict[str, Any], after: Any, depth: int, say: Voice) -> list[TraceStep]:
    rest = family.continue_wrong(problem, after, say, say.rng)
    for s in rest:
        if s.kind == "backtrack" and s.depth <= depth:
            raise AssertionError(f"{family.name}.continue_wrong undoes the mistake it must not notice (depth {s.depth})")
    return rest


def _info(family: ReasoningFamily, m: Mistake, broken: str | None) -> dict[str, Any]:
    return {"mistake": family.move_text(m.move), "mistake_kind": m.kind, "legal": broken is None,
            **({"broken_rule": broken} if broken else {})}


def _reflective(family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice) -> tuple[Trace, dict]:
    for i, depth, m, after, broken in _mistakes(family, problem, search, say):
        rest = _wrong_rest(family, problem, after, depth, say)
        trace = Trace(family, problem, search, say)
        trace.follow(search.steps[:i])
        position = len(trace.steps)
        trace.add(TraceStep("apply", m.thought, m.move))
        later = say.pick(CATCH_AFTER)
        taken = 0
        for s in rest:
            if s.kind == "apply":
                if taken == later:
                    break
                taken += 1
            trace.add(s)
            if s.kind == "apply":
                trace.check(avoid=position)
        trace.catch(position, m.reveal or broken or "it does not hold", depth)
        trace.follow(search.steps[i:])
        return trace, {**_info(family, m, broken), "caught_after": taken}
    # No point of the trace has a move that is wrong and tempting (not met in sweeps of 900
    # tasks per family, but a long run must not stop for it): the expert's trace.
    return _expert(family, problem, search, say), {"mistake": None}


def _noisy(family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice) -> tuple[Trace, str, dict]:
    first = None
    # A mistake can wash out (a slip on a node the answer does not use); when every one drawn
    # at the first points does, a second pass tries every point of the trace.
    for exhaustive in (False, True):
        for i, depth, m, after, broken in _mistakes(family, problem, search, say, exhaustive):
            rest = _wrong_rest(family, problem, after, depth, say)
            trace = Trace(family, problem, search, say)
            trace.follow(search.steps[:i])
            position = len(trace.steps)
            trace.add(TraceStep("apply", m.thought, m.move))
            trace.follow(rest, avoid=position)
            answer = family.read_off(problem, trace.stack[-1])
            if not family.verify(problem, answer)[0]:
                return trace, answer, _info(family, m, broken)
            first = first or (trace, answer, {**_info(family, m, broken), "ends_right": True})
    # Every mistake anywhere washes out: the first one stands, its episode labelled by the
    # verifier like any other; with none at all, the expert's trace.
    if first is not None:
        return first
    return _expert(family, problem, search, say), search.answer, {"mistake": None}


def _random(family: ReasoningFamily, problem: dict[str, Any], search: Search, say: Voice) -> tuple[Trace, str, dict]:
    """Blind moves; it takes moves back and writes analyses about as often as the expert's
    search does on this task (so the shape of its trace is the search's, its content is not)."""
    trace = Trace(family, problem, search, say, blind=True)
    rng = say.rng
    budget = family.random_budget(problem, search)
    moves = sum(s.kind == "apply" for s in search.steps)
    undo = min(0.3, sum(s.kind == "backtrack" for s in search.steps) / max(1, moves))
    muse = min(0.5, sum(s.kind == "think" for s in search.steps) / max(1, moves))
    undone = None  # the first move the last backtrack took back: the choice to try again
    for _ in range(budget):
        if rng.random() < muse:
            found = family.muse(problem, trace.stack[-1], say)
            if found:
                trace.add(TraceStep("think", found))
        if trace.depth and rng.random() < undo:
            back = min(trace.depth, 1 + int(rng.random() * 2))
            why = family.stuck(problem, trace.stack[-1], say) or second_thoughts(say)
            undone = trace.made[trace.depth - back][2]
            trace.add(TraceStep("backtrack", why, depth=trace.depth - back))
            continue
        state = trace.stack[-1]
        move = family.retry_move(problem, state, undone, rng) if undone is not None else None
        text = family.narrate_retry(problem, state, move, undone, say) if move is not None else None
        undone = None
        if move is None:
            move = family.random_move(problem, state, rng)
            if move is None:
                break
            text = family.narrate(problem, state, move, say)
        after = trace.add(TraceStep("apply", text, move))[0]
        note = family.aftermath(problem, state, move, after, say)
        if note:
            trace.add(TraceStep("think", note, stage="check"))
        trace.check()
    return trace, family.read_off(problem, trace.stack[-1]), {"budget": budget}


def script(family: ReasoningFamily, problem: dict[str, Any], trace: Trace, answer: str, say: Voice) -> list[tuple[str, Action]]:
    """Turn a trace into (thought, action) pairs: the read and plan steps first, each
    backtrack worded with the step it returns to, then the final check and the answer."""
    out: list[tuple[str, Action]] = [
        (family.read(problem, say), Action("think", {"stage": "read"})),
        (family.plan(problem, say), Action("think", {"stage": "plan"})),
    ]
    depth_at = {0: 1}  # depth -> the step after which that many moves were in force
    for s in trace.steps:
        if s.kind == "apply":
            depth_at[len(depth_at)] = len(out)
            out.append((s.text, Action(family.action, s.move)))
        elif s.kind == "backtrack":
            target = depth_at[s.depth]
            for d in range(s.depth + 1, len(depth_at)):
                del depth_at[d]
            out.append((f"{s.text} {cap(back_to(say, target))}.", Action("backtrack", {"depth": s.depth, "to_step": target})))
        else:
            out.append((s.text, Action("think", {"stage": s.stage})))
    out.append((family.verify_text(problem, answer, say), Action("think", {"stage": "verify"})))
    out.append((family.answer_text(problem, answer, say) or say(ANSWER_LINES, a=answer), Action("answer", {"answer": answer})))
    return out
