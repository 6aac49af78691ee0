"""The engine every reasoning family shares: tasks, the step-checking env and the four tiers.

A family only says what is specific to it (how to generate a problem, how its solver
searches, what a legal move is, how an answer is checked); this module turns that into
trajectories with the same shape for all families:

``read`` -> ``plan`` -> the solver's recorded search (moves, checks, dead ends, backtracks)
-> ``verify`` -> ``answer``.

The *state machine* is the core idea. Each family defines a state (what has been decided so
far), ``apply(state, move)`` (the state after a move, and the rule the move breaks, if any),
and ``read_off(state)`` (the answer a state spells out). The env replays every step through
``apply``, so whether a step is wrong is computed from the solver's state, never asserted by
the teacher; ``first_error_step`` falls out of the shared episode runner.

Tiers are built from the expert's real search, not from templates:

- ``expert``: the solver's trace, backtracks included (they are the search's own);
- ``reflective``: at a seeded point a tempting wrong move (``blunder``); the env flags it, the
  next step names the broken rule and goes back to the last good step, then the expert trace
  resumes, so the episode ends correct;
- ``noisy``: the same blunder, not caught, then the family's continuation from the broken state
  and an answer read off it, which the verifier rejects;
- ``random``: well-formed moves drawn without looking, answer read off wherever that ends.

Step numbers in thoughts ("go back to step 7") are the stored step indexes.
"""

from __future__ import annotations

import hashlib
import io
import random
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from stores.schema import Action, Outcome, Policy, Step, Task, canonical_json
from synth.episode import StepResult

GROUPS = ("puzzles", "games", "graphs", "algorithms")
IMAGE_MODES = ("off", "task", "steps")
SCRIPTED_TIERS = ("expert", "reflective", "noisy", "random")
_BLUNDER_TRIES = 12


@dataclass(slots=True)
class TraceStep:
    """One step of a solver's recorded search.

    ``kind`` is ``apply`` (a move, with ``move`` in the family's move format), ``backtrack``
    (undo moves until ``depth`` applied moves remain in force) or ``think`` (a check, a
    deduction or a note, with ``stage``). ``retract`` marks the backtrack that undoes a
    reflective teacher's own mistake.
    """

    kind: str
    text: str
    move: Any = None
    stage: str = "explore"
    depth: int = 0
    retract: bool = False


@dataclass(slots=True)
class Search:
    """What a family's solver returns: its plan, its search as it happened, the answer found."""

    plan: str
    steps: list[TraceStep]
    answer: str
    stats: dict[str, Any] = field(default_factory=dict)  # e.g. nodes, backtracks: policy params


class ReasoningFamily(ABC):
    """Base class of the reasoning families; subclasses fill in the family-specific hooks
    (the abstract methods: a family missing one fails when it is instantiated, at import).

    Class attributes a subclass sets: ``name``, ``group`` (one of :data:`GROUPS`), ``action``
    (the name of its move action, e.g. ``place``), ``rules`` (one line: when a move is legal),
    ``levels`` (difficulty 1-5 -> keyword arguments of :meth:`generate`; documented in the
    module's table and in docs/reasoning.md), ``version`` (bump when generated content changes).
    Grid and graph families also define ``render(problem, state, size)``: a Pillow image of the
    problem (``state`` None) or of a state; having it is what makes a family ``renderable``.
    """

    kind = "reasoning"
    name: str = ""
    group: str = ""
    version = "1"
    action = "move"
    rules = ""
    levels: dict[int, dict[str, Any]] = {}
    tiers: tuple[str, ...] = (*SCRIPTED_TIERS, "llm")  # llm: batched by synth.generate via synth.llm

    def __init__(self) -> None:
        self._searches: OrderedDict[str, Search] = OrderedDict()
        self._accepted = [
            {"name": "think", "valid_if": "always: read, plan, check and verify steps"},
            {"name": self.action, "valid_if": self.rules},
            {"name": "backtrack", "valid_if": "'depth' is below the number of moves in force"},
            {"name": "answer", "valid_if": f"the {self.verifier} verifier accepts it"},
        ]

    @property
    def verifier(self) -> str:
        return f"{self.name}-verifier"

    # ------------------------------------------------------------------ hooks to implement

    @abstractmethod
    def generate(self, rng: random.Random, **level: Any) -> dict[str, Any]:
        """A solvable problem (JSON-compatible) drawn with ``rng`` at one level's parameters.
        Its canonical JSON is the task's identity: equal problems are the same task."""

    @abstractmethod
    def describe(self, problem: dict[str, Any]) -> str:
        """The instruction: the problem in full and the exact answer format."""

    @abstractmethod
    def read(self, problem: dict[str, Any]) -> str:
        """The first step's thought: restate what is given and what is asked."""

    @abstractmethod
    def solve(self, problem: dict[str, Any]) -> Search:
        """Solve deterministically, recording the search as it happens."""

    @abstractmethod
    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        """Check ``answer`` by replay or constraint checking; the reason names what broke."""

    @abstractmethod
    def start(self, problem: dict[str, Any]) -> Any:
        """The state before any move."""

    @abstractmethod
    def apply(self, problem: dict[str, Any], state: Any, move: Any) -> tuple[Any, str | None]:
        """The state after ``move`` and the rule it breaks (None when legal). An illegal move
        that can still be carried out is (the state shows it); one that cannot leaves the
        state as it was. Must not mutate ``state``."""

    @abstractmethod
    def blunder(self, problem: dict[str, Any], state: Any, rng: random.Random) -> tuple[Any, str] | None:
        """A tempting wrong move from ``state`` and the thought that makes it, or None when
        there is none here. ``apply`` must report a broken rule for it."""

    @abstractmethod
    def read_off(self, problem: dict[str, Any], state: Any) -> str:
        """The answer ``state`` spells out, in the answer format (gaps and all)."""

    @abstractmethod
    def random_move(self, problem: dict[str, Any], state: Any, rng: random.Random) -> Any | None:
        """A well-formed move drawn without looking at the rules, or None to stop."""

    # ------------------------------------------------------------------ optional hooks

    def move_text(self, move: Any) -> str:
        """How a thought names a move."""
        return canonical_json(move)

    def observe(self, problem: dict[str, Any], state: Any) -> str:
        """The env's short report after a legal move."""
        return "ok"

    def continue_wrong(self, problem: dict[str, Any], state: Any, rng: random.Random) -> list[TraceStep]:
        """What a noisy teacher does after its unnoticed mistake (default: answers at once)."""
        return []

    def reference(self, problem: dict[str, Any], search: Search) -> dict[str, Any]:
        """Extra gold data for ``Task.reference`` beside ``answer``."""
        return {}

    def random_budget(self, problem: dict[str, Any], search: Search) -> int:
        """How many random moves the random teacher makes before it answers."""
        return max(4, sum(s.kind == "apply" for s in search.steps))

    @property
    def renderable(self) -> bool:
        """Whether the family draws images (it defines ``render``)."""
        return callable(getattr(self, "render", None))

    # ------------------------------------------------------------------ the Family protocol

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        if difficulty not in self.levels:
            raise ValueError(f"{self.name} difficulty must be one of {sorted(self.levels)}, got {difficulty!r}")
        problem = self.generate(random.Random(seed), **self.levels[difficulty])
        task_id = f"{self.name}-" + hashlib.sha256(
            canonical_json({"family": self.name, "problem": problem}).encode()
        ).hexdigest()[:16]
        search = self.search(task_id, problem)
        reference = {"answer": search.answer, **self.reference(problem, search)}
        return Task(task_id, self.name, self.describe(problem), difficulty, reference, problem, seed)

    def make_env(self, task: Task, params: dict[str, Any]) -> ReasoningEnv:
        images = image_mode(params, self)
        return ReasoningEnv(self, task.env, images, int(params.get("image_size", 512)))

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> ScriptTeacher:
        problem = task.env
        search = self.search(task.id, problem)
        if tier == "expert":
            steps, answer, info = search.steps, search.answer, {}
        elif tier == "reflective":
            steps, info = self._reflective(problem, search, rng)
            answer = search.answer
        elif tier == "noisy":
            steps, answer, info = self._noisy(problem, search, rng)
        elif tier == "random":
            steps, answer, info = self._random(problem, search, rng)
        elif tier == "llm":
            raise ValueError("llm episodes are made in batches (synth.llm.reasoning.llm_episodes), not step by step")
        else:
            raise ValueError(f"{self.name} has no {tier!r} teacher; tiers: {list(self.tiers)}")
        policy = Policy(f"{self.name}-{tier}", tier, None, info if tier == "random" else {**search.stats, **info})
        return ScriptTeacher(policy, self.script(problem, search.plan if tier != "random" else None, steps, answer, tier))

    # ------------------------------------------------------------------ shared machinery

    def search(self, task_id: str, problem: dict[str, Any]) -> Search:
        """The solver's search, computed once per task (task and teachers both need it)."""
        found = self._searches.get(task_id)
        if found is None:
            found = self.solve(problem)
            self._searches[task_id] = found
            if len(self._searches) > 256:
                self._searches.popitem(last=False)
        return found

    def replay(self, problem: dict[str, Any], steps: list[TraceStep]) -> list[Any]:
        """The stack of states after ``steps`` (``stack[d]``: with d moves in force)."""
        stack = [self.start(problem)]
        for s in steps:
            if s.kind == "apply":
                stack.append(self.apply(problem, stack[-1], s.move)[0])
            elif s.kind == "backtrack":
                del stack[s.depth + 1 :]
        return stack

    def _blunders(self, problem: dict[str, Any], search: Search, rng: random.Random):
        """Seeded points of the expert trace where a blunder exists, each as (position, stack
        of states before it, move, thought, broken rule)."""
        points = [i for i, s in enumerate(search.steps) if s.kind == "apply"] or [0]
        rng.shuffle(points)
        for i in points[:_BLUNDER_TRIES]:
            stack = self.replay(problem, search.steps[:i])
            found = self.blunder(problem, stack[-1], rng)
            if found is None:
                continue
            move, thought = found
            broken = self.apply(problem, stack[-1], move)[1]
            if broken is None:
                raise AssertionError(f"{self.name}.blunder returned a legal move {move!r}")
            yield i, stack, move, thought, broken

    def _reflective(self, problem: dict[str, Any], search: Search, rng: random.Random) -> tuple[list[TraceStep], dict]:
        for i, stack, move, thought, broken in self._blunders(problem, search, rng):
            fix = TraceStep("backtrack", f"{broken}.", depth=len(stack) - 1, retract=True)
            steps = [*search.steps[:i], TraceStep("apply", thought, move), fix, *search.steps[i:]]
            return steps, {"mistake": self.move_text(move), "broken_rule": broken}
        raise RuntimeError(f"{self.name}: no blunder found in {_BLUNDER_TRIES} points of the trace")

    def _noisy(self, problem: dict[str, Any], search: Search, rng: random.Random) -> tuple[list[TraceStep], str, dict]:
        for i, stack, move, thought, broken in self._blunders(problem, search, rng):
            state = self.apply(problem, stack[-1], move)[0]
            rest = self.continue_wrong(problem, state, rng)
            answer = self.read_off(problem, self.replay(problem, [*search.steps[:i], TraceStep("apply", "", move), *rest])[-1])
            if not self.verify(problem, answer)[0]:
                steps = [*search.steps[:i], TraceStep("apply", thought, move), *rest]
                return steps, answer, {"mistake": self.move_text(move), "broken_rule": broken}
        raise RuntimeError(f"{self.name}: no noisy continuation found that ends wrong")

    def _random(self, problem: dict[str, Any], search: Search, rng: random.Random) -> tuple[list[TraceStep], str, dict]:
        state = self.start(problem)
        steps = []
        budget = self.random_budget(problem, search)
        for _ in range(budget):
            move = self.random_move(problem, state, rng)
            if move is None:
                break
            steps.append(TraceStep("apply", f"Try {self.move_text(move)}.", move))
            state = self.apply(problem, state, move)[0]
        return steps, self.read_off(problem, state), {"budget": budget}

    def script(
        self, problem: dict[str, Any], plan: str | None, steps: list[TraceStep], answer: str, tier: str
    ) -> list[tuple[str, Action]]:
        """Turn trace steps into (thought, action) pairs, numbering backtrack targets."""
        script: list[tuple[str, Action]] = [
            (self.read(problem), Action("think", {"stage": "read"})),
            (plan or "No plan: try moves without checking them.", Action("think", {"stage": "plan"})),
        ]
        depth_at = {0: 1}  # depth -> the step after which that many moves were in force
        depth = 0
        for s in steps:
            if s.kind == "apply":
                depth += 1
                depth_at[depth] = len(script)
                script.append((s.text, Action(self.action, s.move)))
            elif s.kind == "backtrack":
                target = depth_at[s.depth]
                if s.retract:
                    text = (
                        f"Wait, check step {len(script) - 1}: {s.text} That move breaks the rules, so it "
                        f"was a mistake. Undo it and go back to step {target}."
                    )
                else:
                    text = f"{s.text} Go back to step {target}."
                depth = s.depth
                script.append((text, Action("backtrack", {"depth": s.depth, "to_step": target})))
            else:
                script.append((s.text, Action("think", {"stage": s.stage})))
        if tier in ("expert", "reflective"):
            ok, reason = self.verify(problem, answer)
            verdict = f"Verify {answer}: {reason}." if ok else f"Verify {answer}: it fails ({reason})."
        elif tier == "noisy":
            verdict = f"{answer} looks complete; no need to check it again."
        else:
            verdict = f"Stop after {depth} moves and answer with what is on the board."
        script.append((verdict, Action("think", {"stage": "verify"})))
        script.append((f"Answer: {answer}", Action("answer", {"answer": answer})))
        return script


def image_mode(params: dict[str, Any], family: ReasoningFamily) -> str:
    mode = params.get("images", "off")
    if mode is True:
        mode = "task"
    if mode is False or mode is None:
        mode = "off"
    if mode not in IMAGE_MODES:
        raise ValueError(f"images must be one of {list(IMAGE_MODES)} (or true/false), got {mode!r}")
    return mode if family.renderable else "off"


def png(image: Any) -> bytes:
    """PNG bytes of a Pillow image; fast compression, since blobs are zstd-free binary."""
    sink = io.BytesIO()
    image.save(sink, format="PNG", compress_level=1)
    return sink.getvalue()


class ScriptTeacher:
    """Plays a script computed up front from the solver's search (the env still checks it)."""

    def __init__(self, policy: Policy, script: list[tuple[str, Action]]):
        self.policy = policy
        self.script = script

    def act(self, env: ReasoningEnv, history: list[Step]) -> tuple[str, Action]:
        return self.script[len(history)]


class ReasoningEnv:
    """Replays moves through the family's rules: a stack of states, one per move in force.

    A move is accepted iff ``apply`` reports no broken rule; a backtrack iff its depth is below
    the current one; an answer iff the verifier accepts it. Illegal moves are still carried
    out where possible, so a noisy teacher's later steps are checked against the state it
    actually built.
    """

    def __init__(self, family: ReasoningFamily, problem: dict[str, Any], images: str = "off", image_size: int = 512):
        self.family = family
        self.problem = problem
        self.images = images
        self.image_size = image_size
        self.states = [family.start(problem)]
        self._applied: tuple[Action, tuple[Any, str | None]] | None = None
        self._verdicts: dict[str, tuple[bool, str]] = {}
        self._steps = 0

    def _apply(self, action: Action) -> tuple[Any, str | None]:
        if self._applied is None or self._applied[0] is not action:
            self._applied = (action, self.family.apply(self.problem, self.states[-1], action.arguments))
        return self._applied[1]

    def _verify(self, answer: str) -> tuple[bool, str]:
        if answer not in self._verdicts:
            self._verdicts[answer] = self.family.verify(self.problem, answer)
        return self._verdicts[answer]

    def accepted_actions(self) -> list[dict[str, Any]]:
        return self.family._accepted

    def accepts(self, action: Action) -> bool:
        if action.name == "think":
            return True
        if action.name == self.family.action:
            return self._apply(action)[1] is None
        if action.name == "backtrack":
            depth = action.arguments.get("depth") if isinstance(action.arguments, dict) else None
            return type(depth) is int and 0 <= depth < len(self.states) - 1
        if action.name == "answer":
            return self._verify(_answer_of(action))[0]
        return False

    def step(self, action: Action) -> StepResult:
        first, self._steps = self._steps == 0, self._steps + 1
        image = None
        if action.name == "think":
            text = ""
            if first and self.images != "off":
                image = png(self.family.render(self.problem, None, self.image_size))
        elif action.name == self.family.action:
            state, broken = self._apply(action)
            self.states.append(state)
            text = f"Rule broken: {broken}." if broken else self.family.observe(self.problem, state)
            if self.images == "steps":
                image = png(self.family.render(self.problem, state, self.image_size))
        elif action.name == "backtrack":
            if self.accepts(action):
                depth = action.arguments["depth"]
                del self.states[depth + 1 :]
                text = f"Back to {depth} move(s) in force."
            else:
                text = f"Cannot backtrack to {action.arguments!r}: {len(self.states) - 1} move(s) are in force."
        elif action.name == "answer":
            ok, _reason = self._verify(_answer_of(action))
            return StepResult("Answer submitted.", reward=1.0 if ok else 0.0, done=True)
        else:
            text = f"Unknown action {action.name!r}; actions are think, {self.family.action}, backtrack, answer."
        return StepResult(text, image=image)

    def outcome(self, final_answer: str | None) -> Outcome:
        if final_answer is None:
            return Outcome(False, self.family.verifier, "no answer given")
        ok, reason = self._verify(final_answer)
        return Outcome(ok, self.family.verifier, reason)


def _answer_of(action: Action) -> str:
    args = action.arguments if isinstance(action.arguments, dict) else {}
    return str(args.get("answer", ""))
