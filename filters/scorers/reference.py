"""Reference-guided step labels (SPARE-style, no model): each step is aligned to the steps of
a reference (expert) trajectory of the same task; the first step that matches no reference
step is the first error.

Alignment is by env state where the env exposes one (:func:`filters.scorers.replay.state_key`:
a step matches when the state after it is one the reference passed through, the initial state
included, so thinking steps inherit the state they stand in), and by text similarity otherwise
(``by: text``, or rows whose env has no state, such as research: token-set Jaccard against
each reference step, at least ``min_similarity``). Text alignment is what works for llm-tier
free text, where ``first_error_step`` is unknown. It compares the tool calls (name and
arguments) by default: scripted thoughts are worded by a seeded phrasing layer, so two correct
steps rarely share their words, and on research episodes aligning thought + call agreed with
``first_error_step`` on 15 of 32 episodes against 23 of 32 for the calls alone
(``text: step`` compares both).

The reference is a successful ``expert`` row of the same task in the batch (grouped sampling
puts them side by side) or, when there is none, the family's expert teacher run afresh in a
fresh env (seeded by the scorer seed and task id). Outputs: ``reference`` (1 before the first
unmatched step, 0 from it on, ProcessBench's shape) and ``reference.first_error`` (its index,
-1 when every step matched).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import orjson
import pyarrow as pa
from pydantic import Field

from filters.scorers.base import Scorer, ScoreResult, ScorerParams, register
from filters.scorers.replay import ROW_COLUMNS, fresh_env, state_key
from stores.schema import Step, Trajectory, from_table
from synth.episode import run_episode
from synth.registry import get_family
from synth.seeding import rng_for

_WORD = re.compile(r"\w+")


class ReferenceParams(ScorerParams):
    by: Literal["auto", "state", "text"] = "auto"  # auto: state where the env exposes one
    text: Literal["action", "step"] = "action"  # what text alignment compares: the call, or thought + call
    min_similarity: float = Field(default=0.3, ge=0.0, le=1.0)


@register
class ReferenceScorer(Scorer):
    name = "reference"
    columns = ROW_COLUMNS
    Params = ReferenceParams

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key("first_error")], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        rows = from_table(batch)
        experts = {}
        for t in rows:
            if t.policy.tier == "expert" and t.outcome.success and t.corruption is None:
                experts.setdefault(t.task.id, t)
        labels, first = [], np.full(len(rows), np.nan, np.float32)
        cache: dict[str, tuple[set[bytes] | None, list[frozenset[str]]] | None] = {}
        for row, t in enumerate(rows):
            if t.task.id not in cache:
                ref = experts.get(t.task.id) or self._expert(t)
                cache[t.task.id] = None if ref is None else self._reference(ref)
            found = cache[t.task.id]
            if found is None:  # no successful reference for this task: no opinion
                labels.append(np.full(len(t.steps), np.nan, np.float32))
                continue
            error = self._first_unmatched(t, *found)
            n = len(t.steps)
            labels.append((np.arange(n) < (n if error < 0 else error)).astype(np.float32))
            first[row] = error
        return ScoreResult(scores={self.key("first_error"): first}, step_scores={self.key(): labels})

    def _expert(self, t: Trajectory) -> Trajectory | None:
        family = get_family(t.task.family)
        if "expert" not in family.tiers:
            return None
        params = {**dict(self.family_params.get(t.task.family, {})), "images": "off"}
        teacher = family.make_teacher("expert", t.task, rng_for(self.seed, "reference", t.task.id), params)
        episode = run_episode(t.kind, t.task, family.make_env(t.task, params), teacher, t.provenance)
        return episode.trajectory if episode.trajectory.outcome.success else None

    def _reference(self, ref: Trajectory) -> tuple[set[bytes] | None, list[frozenset[str]]]:
        texts = [_tokens(s, self.params.text) for s in ref.steps]
        if self.params.by == "text":
            return None, texts
        env = fresh_env(ref, self.family_params)
        first = state_key(env)
        if first is None:
            return None, texts
        states = {first}
        for s in ref.steps:
            env.step(s.action)
            states.add(state_key(env))
        return states, texts

    def _first_unmatched(self, t: Trajectory, states: set[bytes] | None, texts: list[frozenset[str]]) -> int:
        if states is not None:
            env = fresh_env(t, self.family_params)
            for i, s in enumerate(t.steps):
                env.step(s.action)
                if state_key(env) not in states:
                    return i
            return -1
        for i, s in enumerate(t.steps):
            mine = _tokens(s, self.params.text)
            if not any(_jaccard(mine, other) >= self.params.min_similarity for other in texts):
                return i
        return -1


def _tokens(step: Step, what: str) -> frozenset[str]:
    text = f"{step.action.name} {orjson.dumps(step.action.arguments, option=orjson.OPT_SORT_KEYS).decode()}"
    if what == "step":
        text = f"{step.thought} {text}"
    return frozenset(w.lower() for w in _WORD.findall(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
