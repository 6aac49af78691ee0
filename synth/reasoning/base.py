"""The engine every reasoning family shares: tasks, the step-checking env and the four tiers.

A family only says what is specific to it (how to generate a problem, how its solver
searches, what a legal move is, which mistakes a solver makes, how an answer is checked);
this module and :mod:`synth.reasoning.teachers` turn that into trajectories with the same
shape for all families:

``read`` -> ``plan`` -> the solver's recorded search (moves, checks, dead ends, backtracks)
-> ``verify`` -> ``answer``.

The *state machine* is the core idea. Each family defines a state (what has been decided so
far), ``apply(state, move)`` (the state after a move, and the rule the move breaks, if any),
and ``read_off(state)`` (the answer a state spells out). The env replays every step through
``apply``, so whether a step is wrong is computed from the state, never asserted by a
teacher: :func:`judge` is the one rule, used by the env and by the teachers alike.

**What the agent sees is not what the grader knows.** A step's stored observation is the
state as the solver now believes it to be (its own move carried out, legal or not), never a
verdict; whether the step was right lives only in labels (``first_error_step``, the answer
step's reward, ``outcome``). A trainer that feeds steps and observations to a model is not
handing it the answer key.

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

from stores.schema import Action, Outcome, Step, Task, canonical_json
from synth.episode import StepResult
from synth.reasoning.answers import tidy, without_full_stop
from synth.reasoning.phrasing import Voice, verify_holds, verify_intro
from synth.seeding import derive_seed

GROUPS = ("puzzles", "games", "graphs", "algorithms")
IMAGE_MODES = ("off", "task", "steps")
SCRIPTED_TIERS = ("expert", "reflective", "noisy", "random")
MAX_SEARCH_STEPS = 360  # a solver trace longer than this is drawn again: tiers add steps, the runner stops at 512
_REDRAWS = 50


@dataclass(slots=True)
class TraceStep:
    """One step of a recorded search.

    ``kind`` is ``apply`` (a move, with ``move`` in the family's move format), ``backtrack``
    (undo moves until ``depth`` applied moves remain in force; ``text`` says why, and the
    script adds which step that returns to) or ``think`` (a check, a deduction or a note,
    with ``stage``).
    """

    kind: str
    text: str
    move: Any = None
    stage: str = "explore"
    depth: int = 0


@dataclass(slots=True)
class Search:
    """What a family's solver returns: its search as it happened and the answer found."""

    steps: list[TraceStep]
    answer: str
    stats: dict[str, Any] = field(default_factory=dict)  # e.g. nodes, backtracks: policy params
    final: Any = None  # the state the search ends in (set by ReasoningFamily.search)


@dataclass(slots=True)
class Mistake:
    """A wrong move a solver really makes, written the way its right moves are written.

    ``kind`` names the error (``misread``, ``slip``, ``forgotten``, ``greedy``,
    ``off_by_one``, ``wrong_candidate``, ...); ``reveal`` is what a careful recheck of the
    step finds, in the solver's own words (None when the move breaks a rule: the rule's
    reason is then what the recheck finds).
    """

    move: Any
    thought: str
    kind: str
    reveal: str | None = None


class ReasoningFamily(ABC):
    """Base class of the reasoning families; subclasses fill in the family-specific hooks
    (the abstract methods: a family missing one fails when it is instantiated, at import).

    Class attributes a subclass sets: ``name``, ``group`` (one of :data:`GROUPS`), ``action``
    (the name of its move action, e.g. ``place``), ``rules`` (one line: when a move is legal),
    ``levels`` (difficulty 1-5 -> keyword arguments of :meth:`generate`; documented in the
    module's table and in docs/reasoning.md), ``version`` (bump when generated content changes),
    ``dots_in_answers`` (True when '.' is part of an answer's content, so a final full stop
    is only tolerated when the answer fails without it). Grid and graph families also define
    ``render(problem, state, size)``: a Pillow image of the problem (``state`` None) or of a
    state; having it is what makes a family ``renderable``.
    """

    kind = "reasoning"
    name: str = ""
    group: str = ""
    version = "3"
    action = "move"
    rules = ""
    dots_in_answers = False
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
    def read(self, problem: dict[str, Any], say: Voice) -> str:
        """The first step's thought: restate what is given and what is asked."""

    @abstractmethod
    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        """The second step's thought: the method, named with this instance's features (every
        tier plans; only what it then does differs)."""

    @abstractmethod
    def solve(self, problem: dict[str, Any]) -> Search:
        """Solve deterministically, recording the search as it happens (its wording drawn
        from :meth:`voice`, so it is a function of the problem alone)."""

    @abstractmethod
    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        """Check an answer (already tidied of its form, see :meth:`verify`) by replay or
        constraint checking; the reason names what broke."""

    @abstractmethod
    def start(self, problem: dict[str, Any]) -> Any:
        """The state before any move."""

    @abstractmethod
    def apply(self, problem: dict[str, Any], state: Any, move: Any) -> tuple[Any, str | None]:
        """The state after ``move`` and the rule it breaks (None when legal). An illegal move
        that can be carried out is (the state shows what the solver now believes); one that
        cannot leaves the state as it was. Must not mutate ``state``."""

    @abstractmethod
    def mistake(self, problem: dict[str, Any], state: Any, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """A plausible wrong move from ``state`` (mostly legal moves where the family has
        them: a misread, a slip, a forgotten constraint, a greedy choice), or None when there
        is none here; ``search`` is the solver's (its ``final`` state is the gold one).
        :func:`judge` must reject it."""

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
        """The state as the solver believes it to be, shown after every move and backtrack.
        Never a verdict: it must read the same whether the move was right or wrong."""
        return self.read_off(problem, state)

    def keeps_solvable(self, problem: dict[str, Any], before: Any, move: Any, after: Any, search: Search) -> bool:
        """Whether a *legal* move from a solvable ``before`` leaves ``after`` solvable: some
        correct answer still extends the moves in force, without undoing any. The default,
        True, is right for families where every legal state can still be completed (a maze
        walk, Hanoi, a sliding puzzle); families with dead ends say how they decide it."""
        return True

    def branches(self, problem: dict[str, Any], state: Any, move: Any) -> bool:
        """Whether ``move`` is a choice the family's search explores from ``state`` (a guess
        among open candidates, a branch of a depth-first search). Such a move into a dead end
        is search, not a mistake: the search's own backtrack will undo it."""
        return False

    def confirm(self, problem: dict[str, Any], before: Any, move: Any, say: Voice) -> str | None:
        """What a careful recheck of ``move`` (made from ``before``) finds when it was right,
        in the solver's words; None when there is nothing to recheck."""
        return None

    def narrate(self, problem: dict[str, Any], state: Any, move: Any, say: Voice) -> str:
        """The thought for a move drawn without reasoning (the random tier), in the same
        wordings as the solver's moves (its kinds of step drawn about as often)."""
        return say("{Next|Now|Then}: {try|take|play} <m>.", m=self.move_text(move))

    def retry_move(self, problem: dict[str, Any], state: Any, undone: Any, rng: random.Random) -> Any | None:
        """After the random teacher takes ``undone`` back, another value for the same choice
        (as a search goes on from where it backed up), drawn without looking; None: any move."""
        return None

    def narrate_retry(self, problem: dict[str, Any], state: Any, move: Any, undone: Any, say: Voice) -> str:
        """The thought for a :meth:`retry_move`, worded as the search words its next try."""
        return self.narrate(problem, state, move, say)

    def aftermath(self, problem: dict[str, Any], before: Any, move: Any, after: Any, say: Voice) -> str | None:
        """The note the family's solver writes right after a move (the flows a max-flow round
        changed), or None; the random teacher writes it after its moves too."""
        return None

    def muse(self, problem: dict[str, Any], state: Any, say: Voice) -> str | None:
        """An analysis the family's solver writes between moves (a priced choice, a table of
        in-degrees), computed on ``state``, or None: what the random teacher writes about as
        often as the solver does, and then does not act on."""
        return None

    def stuck(self, problem: dict[str, Any], state: Any, say: Voice) -> str | None:
        """A contradiction ``state`` shows, worded like the search's dead ends, or None: what
        the random teacher says when it takes moves back."""
        return None

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        """The final check of an answer as the solver writes it (every tier writes it: an
        expert's holds, a noisy teacher's believes it holds)."""
        return f"{verify_intro(say, answer)}: {self.rules}; {verify_holds(say)}."

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str | None:
        """The last thought, naming ``answer`` (every tier writes it), or None for the plain
        lines every family shares; a family that overrides it adds true remarks about its
        answer (see :func:`~synth.reasoning.phrasing.answer_line`)."""
        return None

    def continue_wrong(self, problem: dict[str, Any], state: Any, say: Voice, rng: random.Random) -> list[TraceStep]:
        """What a teacher does after a mistake it has not noticed: the family's own method,
        carried on from the wrong state and never undoing the mistake (default: nothing)."""
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
        rng = random.Random(seed)
        for _ in range(_REDRAWS):
            problem = self.generate(rng, **self.levels[difficulty])
            task_id = f"{self.name}-" + hashlib.sha256(
                canonical_json({"family": self.name, "problem": problem}).encode()
            ).hexdigest()[:16]
            search = self.search(task_id, problem)
            if len(search.steps) <= MAX_SEARCH_STEPS:
                break
        else:
            raise RuntimeError(f"{self.name} d{difficulty}: {_REDRAWS} problems in a row need over {MAX_SEARCH_STEPS} search steps")
        reference = {"answer": search.answer, **self.reference(problem, search)}
        return Task(task_id, self.name, self.describe(problem), difficulty, reference, problem, seed)

    def make_env(self, task: Task, params: dict[str, Any]) -> ReasoningEnv:
        images = image_mode(params, self)
        search = self.search(task.id, task.env)
        return ReasoningEnv(self, task.env, search, images, int(params.get("image_size", 512)))

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]):
        from synth.reasoning.teachers import teacher

        return teacher(self, tier, task, rng)

    # ------------------------------------------------------------------ shared machinery

    def verify(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        """Check an answer, tolerant of form and strict on content, the same way in every
        family: surrounding quotes, a leading "Answer:" and one final full stop are not part
        of the answer (see :mod:`synth.reasoning.answers`); the family judges the rest."""
        text = tidy(answer)
        ok, reason = self.judge(problem, text)
        if ok:
            return ok, reason
        bare = without_full_stop(text)
        if bare is None:
            return ok, reason
        ok2, reason2 = self.judge(problem, bare)
        if ok2 or not self.dots_in_answers:
            return ok2, reason2
        return ok, reason

    def voice(self, problem: dict[str, Any]) -> Voice:
        """The wording rng of a solver's trace: seeded by the problem, so the search (cached,
        shared by the task and its teachers) reads the same however often it is computed."""
        return Voice(random.Random(derive_seed("voice", self.name, canonical_json(problem))))

    def search(self, task_id: str, problem: dict[str, Any]) -> Search:
        """The solver's search, computed once per task (task, env and teachers all need it)."""
        found = self._searches.get(task_id)
        if found is None:
            found = self.solve(problem)
            found.final = self.replay(problem, found.steps)[-1]
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


def judge(family: ReasoningFamily, problem: dict[str, Any], search: Search, before: Any, sound: bool, move: Any
          ) -> tuple[Any, str | None, bool, bool]:
    """The one rule for whether a move is right: (state after, broken rule, accepted, whether
    the state after is still solvable).

    A move is wrong when it breaks a rule, or when, legal, it takes a solvable position to
    one no correct answer extends (:meth:`ReasoningFamily.keeps_solvable`) without being a
    branch the family's search explores there (:meth:`ReasoningFamily.branches`). Inside a
    branch that is already dead, moves are judged by the rules alone: the error, if any, is
    not theirs. ``first_error_step`` is the first step this rejects."""
    after, broken = family.apply(problem, before, move)
    if broken is not None:
        return after, broken, False, False
    if not sound:
        return after, None, True, False
    if family.keeps_solvable(problem, before, move, after, search):
        return after, None, True, True
    return after, None, family.branches(problem, before, move), False


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


class ReasoningEnv:
    """Replays moves through the family's rules: a stack of states, one per move in force,
    with whether each is still solvable.

    A move is accepted iff :func:`judge` accepts it; a backtrack iff its depth is below the
    current one; an answer iff the verifier accepts it. Every move is carried out where it can
    be, and the observation is the state as the solver believes it to be, right or wrong.
    """

    def __init__(self, family: ReasoningFamily, problem: dict[str, Any], search: Search, images: str = "off",
                 image_size: int = 512):
        self.family = family
        self.problem = problem
        self.search = search
        self.images = images
        self.image_size = image_size
        self.states = [family.start(problem)]
        self.sound = [True]
        self._judged: tuple[Action, tuple[Any, str | None, bool, bool]] | None = None
        self._verdicts: dict[str, tuple[bool, str]] = {}
        self._steps = 0

    def _judge(self, action: Action) -> tuple[Any, str | None, bool, bool]:
        if self._judged is None or self._judged[0] is not action:
            verdict = judge(self.family, self.problem, self.search, self.states[-1], self.sound[-1], action.arguments)
            self._judged = (action, verdict)
        return self._judged[1]

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
            return self._judge(action)[2]
        if action.name == "backtrack":
            return self._backtrack_depth(action) is not None
        if action.name == "answer":
            return self._verify(_answer_of(action))[0]
        return False

    def _backtrack_depth(self, action: Action) -> int | None:
        depth = action.arguments.get("depth") if isinstance(action.arguments, dict) else None
        return depth if type(depth) is int and 0 <= depth < len(self.states) - 1 else None

    def step(self, action: Action) -> StepResult:
        first, self._steps = self._steps == 0, self._steps + 1
        image = None
        if action.name == "think":
            text = ""
            if first and self.images != "off":
                image = png(self.family.render(self.problem, None, self.image_size))
        elif action.name == self.family.action:
            state, _broken, _accepted, sound = self._judge(action)
            self.states.append(state)
            self.sound.append(sound)
            text = self.family.observe(self.problem, state)
            if self.images == "steps":
                image = png(self.family.render(self.problem, state, self.image_size))
        elif action.name == "backtrack":
            depth = self._backtrack_depth(action)
            if depth is not None:
                del self.states[depth + 1 :]
                del self.sound[depth + 1 :]
            text = self.family.observe(self.problem, self.states[-1])
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


class ScriptTeacher:
    """Plays a script computed up front from the solver's search (the env still checks it)."""

    def __init__(self, policy: Any, script: list[tuple[str, Action]]):
        self.policy = policy
        self.script = script

    def act(self, env: ReasoningEnv, history: list[Step]) -> tuple[str, Action]:
        return self.script[len(history)]


def _answer_of(action: Action) -> str:
    args = action.arguments if isinstance(action.arguments, dict) else {}
    return str(args.get("answer", ""))
