"""The corruption operators by name, what each may touch, and the checked request to run one.

A registry like the task families' (:mod:`synth.registry`): an operator is a small class
that declares its category (which decides how its rows are labelled, see
:mod:`synth.corrupt.labels`), the trajectory kinds it can edit and whether its rate counts
steps or whole trajectories. Requests are checked here, before any row is touched, so a bad
config fails with one message naming the operator and the fix, and nothing is published.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from stores.schema import KINDS, Outcome, Step, Trajectory

CATEGORIES = ("observation", "action", "reward", "dynamics", "reasoning")
#: categories whose edits change what the agent did: the env is replayed to relabel them
REPLAYED = frozenset({"action", "reasoning"})
MODES = ("random", "adversarial")


class CorruptionError(ValueError):
    """A corruption request that cannot run; the message names the operator and the fix."""


@dataclass(slots=True)
class Edit:
    """What an operator changed. ``touched`` are the clean trajectory's indexes of the steps
    changed, moved or removed (an inserted step: the clean step it precedes; empty for a
    whole-trajectory label); ``outcome`` and ``scores`` are set only by the operators that
    perturb those labels."""

    steps: list[Step]
    touched: list[int]
    outcome: Outcome | None = None
    scores: dict[str, float] | None = None


class Operator:
    """One corruption. ``apply`` returns None when the trajectory offers nothing to corrupt
    (no adjacent distinct actions, no click, no observation text...): the caller counts it."""

    name: ClassVar[str]
    category: ClassVar[str]
    kinds: ClassVar[frozenset[str]] = frozenset(KINDS)
    #: ``step``: c is the share of eligible steps touched (at least one); ``trajectory``: c is
    #: the probability that a trajectory handed to the operator is corrupted at all
    unit: ClassVar[str] = "step"
    #: operators that perturb ``scores`` themselves: the pipeline must not re-score their rows
    edits_scores: ClassVar[bool] = False

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        raise NotImplementedError


OPERATORS: dict[str, type[Operator]] = {}


def register(cls: type[Operator]) -> type[Operator]:
    assert cls.category in CATEGORIES, cls
    OPERATORS[cls.name] = cls
    return cls


def pick_steps(rng: random.Random, eligible: list[int], c: float) -> list[int]:
    """max(1, round(c * n)) of the eligible steps, sorted; none when nothing is eligible.

    One step is drawn with ``rng.choice``, so the single-step operators of before keep
    their draws (and a rate of 0 means the smallest corruption, one step).
    """
    if not eligible:
        return []
    k = max(1, round(c * len(eligible)))
    if k == 1:
        return [rng.choice(eligible)]
    return sorted(rng.sample(eligible, k))


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A checked request: operator ``name`` at rate ``c`` and scale ``eps`` in ``mode``,
    optionally restricted to ``kinds``. ``c=None`` takes the unit's default: one step for
    step operators, every trajectory for whole-trajectory ones. ``adversarial`` draws
    ``candidates`` random corruptions and keeps the one ``scorer`` (a ``filters.scorers``
    name) rates lowest."""

    name: str
    c: float | None = None
    eps: float = 1.0
    mode: str = "random"
    kinds: tuple[str, ...] | None = None
    scorer: str | None = None
    candidates: int = 8

    def __post_init__(self) -> None:
        if self.name not in OPERATORS:
            raise CorruptionError(f"unknown corruption operator {self.name!r}; known: {', '.join(sorted(OPERATORS))}")
        where = f"corruption operator {self.name!r}"
        if self.c is not None and not 0.0 <= self.c <= 1.0:
            raise CorruptionError(f"{where}: c={self.c} is outside [0, 1]; c is the share of steps (or trajectories) touched")
        if not self.eps >= 0.0:  # also refuses NaN
            raise CorruptionError(f"{where}: eps={self.eps} is negative; the scale of a corruption is 0 or more")
        if self.mode not in MODES:
            raise CorruptionError(f"{where}: unknown mode {self.mode!r}; use 'random' or 'adversarial'")
        if self.mode == "adversarial" and not self.scorer:
            raise CorruptionError(
                f"{where}: mode 'adversarial' needs a scorer (it keeps the lowest-scored of its candidates): "
                "set scorer to a filters.scorers name, e.g. verifier, or use mode 'random'")
        if self.mode == "random" and self.scorer:
            raise CorruptionError(f"{where}: scorer {self.scorer!r} is only used by mode 'adversarial'; "
                                  "set mode: adversarial or drop the scorer")
        if not 1 <= self.candidates <= 64:
            raise CorruptionError(f"{where}: candidates={self.candidates} must be 1 to 64 (perturbations drawn per row)")
        if self.kinds is not None:
            supported = self.operator.kinds
            for kind in self.kinds:
                if kind not in supported:
                    raise CorruptionError(
                        f"{where} does not support kind {kind!r}; it edits {', '.join(sorted(supported))} "
                        "trajectories: drop the kind or pick another operator")

    @property
    def operator(self) -> type[Operator]:
        return OPERATORS[self.name]

    @property
    def rate(self) -> float:
        return self.c if self.c is not None else (0.0 if self.operator.unit == "step" else 1.0)

    def supports(self, kind: str) -> bool:
        return kind in (self.kinds if self.kinds is not None else self.operator.kinds)


def as_spec(operator: str | OperatorSpec) -> OperatorSpec:
    return operator if isinstance(operator, OperatorSpec) else OperatorSpec(operator)
