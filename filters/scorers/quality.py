"""Quality filters as scorers: cheap checks any trajectory can fail, written column-wise.

Why column-wise: filters run on every row of every version (goal: 20,000 trajectories/s on
one core), so each works on the flattened steps with Arrow compute and numpy instead of a
Python loop per step (``leak`` looks step by step only at rows whose thoughts contain the
answer at all); ``bench/scoring.py`` times each against a plain Python loop computing the
same values.

- ``action_valid``: the action's name is in the kind's action space (reasoning: think, the
  family's move, backtrack, answer; gui: :data:`synth.gui.actions.ACTIONS`; research: the
  browser tools, answer, context.summarize, finish) and its arguments parse as a JSON object.
  An llm reply the protocol could not read (``invalid_reply``) is invalid.
- ``length``: steps and thought lengths inside bounds (1 inside, 0 outside).
- ``repetition``: share of a thought's word n-grams (lower-cased, whitespace-separated words
  with surrounding punctuation trimmed) already said earlier in the trajectory
  (per step; the trajectory score is the share over all thoughts). Degenerate loops score
  high; a careful solver that rechecks a few cells does not.
- ``leak``: the gold answer (``task.reference.answer``, at least ``min_chars`` long, compared
  case-insensitively) written in the instruction (``leak.instruction``), or in a thought
  before the solution was found (``leak``, per step): found means shown by the instruction,
  the first screen, an earlier observation or the step's own action, or built, i.e. the
  thought comes after the last step that changed the world (a final check restating the
  path a solver walked is not a leak; a plan that names it before the first move is).
- ``offscreen`` (gui): a pointer action whose ``x``/``y`` lies outside the task's screen.

Step scores are 1 for a good step and 0 for a bad one, except ``repetition`` (a rate) and
``leak`` (1 = leaks); trajectory scores are the minimum of the steps for the 0/1 checks.
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from filters.scorers.base import Scorer, ScoreResult, ScorerParams, register
from synth.gui.actions import ACTIONS as GUI_ACTIONS
from synth.registry import get_family

PUNCTUATION = ".,;:!?()[]{}'\"`*-"  # trimmed off the ends of whitespace-separated words
RESEARCH_ACTIONS = ("search", "open", "find", "answer", "context.summarize", "finish")
REASONING_ACTIONS = ("think", "backtrack", "answer")


def _flat(batch: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The flattened steps, each step's row, and each row's offset into them."""
    steps = batch["steps"].combine_chunks()
    flat = pc.list_flatten(steps)
    owner = pc.list_parent_indices(steps).to_numpy()
    lengths = pc.list_value_length(steps).fill_null(0).to_numpy(zero_copy_only=False)
    return flat, owner, np.concatenate([[0], np.cumsum(lengths)])


def _split(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _row_min(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per row minimum of its steps' values (1 for a row without steps)."""
    out = np.ones(len(offsets) - 1, np.float32)
    has = offsets[1:] > offsets[:-1]
    if has.any():
        out[has] = np.minimum.reduceat(values, offsets[:-1][has]) if len(values) else 1
    return out


class _Flat(Scorer):
    columns = ("id", "kind", "task", "steps")


@register
class ActionValidScorer(_Flat):
    name = "action_valid"

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        flat, owner, offsets = _flat(batch)
        names = pc.struct_field(pc.struct_field(flat, "action"), "name")
        args = pc.struct_field(pc.struct_field(flat, "action"), "arguments").to_pylist()
        kind = batch["kind"].to_numpy(zero_copy_only=False)[owner] if len(owner) else np.array([], object)
        fam = pc.struct_field(batch["task"], "family").to_numpy(zero_copy_only=False)
        valid = np.zeros(len(flat), bool)
        for k, space in (("gui", tuple(GUI_ACTIONS)), ("research", RESEARCH_ACTIONS)):
            valid |= (kind == k) & pc.is_in(names, pa.array(space)).to_numpy(zero_copy_only=False)
        for family in set(fam[batch["kind"].to_numpy(zero_copy_only=False) == "reasoning"].tolist()):
            space = (*REASONING_ACTIONS, _move_name(family))
            valid |= (fam[owner] == family) & pc.is_in(names, pa.array(space)).to_numpy(zero_copy_only=False)
        parsed = np.fromiter((_is_object(a) for a in args), bool, len(args))
        good = (valid & parsed).astype(np.float32)
        return ScoreResult(scores={self.key(): _row_min(good, offsets)}, step_scores={self.key(): _split(good, offsets)})


def _move_name(family: str) -> str:
    try:
        return get_family(family).action
    except (KeyError, AttributeError):
        return "move"


def _is_object(text: str | None) -> bool:
    if text is None or not text.startswith("{"):
        return False
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


class LengthParams(ScorerParams):
    min_steps: int = Field(default=1, ge=0)
    max_steps: int = Field(default=512, ge=1)
    min_thought_chars: int = Field(default=0, ge=0)
    max_thought_chars: int = Field(default=4000, ge=1)


@register
class LengthScorer(_Flat):
    name = "length"
    Params = LengthParams

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        p: LengthParams = self.params
        flat, _owner, offsets = _flat(batch)
        chars = pc.utf8_length(pc.struct_field(flat, "thought")).fill_null(0).to_numpy(zero_copy_only=False)
        good = ((chars >= p.min_thought_chars) & (chars <= p.max_thought_chars)).astype(np.float32)
        n = np.diff(offsets)
        ok = ((n >= p.min_steps) & (n <= p.max_steps)).astype(np.float32) * _row_min(good, offsets)
        return ScoreResult(scores={self.key(): ok}, step_scores={self.key(): _split(good, offsets)})


class RepetitionParams(ScorerParams):
    n: int = Field(default=3, ge=1, le=16)


@register
class RepetitionScorer(_Flat):
    name = "repetition"
    Params = RepetitionParams

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        n = self.params.n
        flat, owner, offsets = _flat(batch)
        words = pc.utf8_split_whitespace(pc.utf8_lower(pc.struct_field(flat, "thought").fill_null("")))
        step_of = pc.list_parent_indices(words).to_numpy()
        tokens = pc.utf8_trim(pc.list_flatten(words), PUNCTUATION)
        codes = pc.dictionary_encode(tokens).indices.to_numpy(zero_copy_only=False).astype(np.uint64)
        empty = pc.equal(tokens, "").to_numpy(zero_copy_only=False)
        codes, step_of = codes[~empty], step_of[~empty]
        steps_total = len(flat)
        repeated = np.zeros(steps_total, np.float64)
        grams = np.zeros(steps_total, np.float64)
        if len(codes) >= n:
            m = len(codes) - n + 1
            same = np.ones(m, bool)
            key = np.zeros(m, np.uint64)
            for j in range(n):  # a polynomial hash of the n codes; n-grams never cross a step
                same &= step_of[j:j + m] == step_of[:m]
                key = key * np.uint64(1_000_003) + codes[j:j + m]
            start_step = step_of[:m][same]
            key = key[same] * np.uint64(0x9E3779B97F4A7C15) + owner[start_step].astype(np.uint64)  # per row
            again = pd.Series(key).duplicated().to_numpy()  # hashed, in order: an earlier equal n-gram
            grams = np.bincount(start_step, minlength=steps_total).astype(np.float64)
            repeated = np.bincount(start_step, again, minlength=steps_total).astype(np.float64)
        per_step = np.divide(repeated, grams, out=np.zeros_like(repeated), where=grams > 0).astype(np.float32)
        rows = len(offsets) - 1
        rep_rows = np.bincount(owner, repeated, rows) if steps_total else np.zeros(rows)
        gram_rows = np.bincount(owner, grams, rows) if steps_total else np.zeros(rows)
        rate = np.divide(rep_rows, gram_rows, out=np.zeros(rows), where=gram_rows > 0).astype(np.float32)
        return ScoreResult(scores={self.key(): rate}, step_scores={self.key(): _split(per_step, offsets)})


class LeakParams(ScorerParams):
    min_chars: int = Field(default=3, ge=1)  # shorter answers ("3", "no") appear everywhere by chance


@register
class LeakScorer(Scorer):
    name = "leak"
    columns = ("id", "kind", "task", "steps", "initial_observation")
    Params = LeakParams

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key("instruction"), self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        flat, owner, offsets = _flat(batch)
        rows = batch.num_rows
        answers = [_answer(r) for r in pc.struct_field(batch["task"], "reference").to_pylist()]
        answers = [a.lower() if a is not None and len(a) >= self.params.min_chars else None for a in answers]
        has = np.array([a is not None for a in answers], bool)
        instruction = pc.utf8_lower(pc.struct_field(batch["task"], "instruction")).to_pylist()
        in_instruction = np.array([a is not None and a in i for a, i in zip(answers, instruction, strict=True)],
                                  np.float32)
        # only rows whose thoughts mention the answer at all need a look step by step
        thoughts = pc.utf8_lower(pc.struct_field(flat, "thought").fill_null(""))
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), thoughts), "\n").to_pylist()
        suspects = [r for r in range(rows) if has[r] and answers[r] in joined[r]]
        leak = np.zeros(len(flat), np.float32)
        if suspects:
            names = pc.struct_field(pc.struct_field(flat, "action"), "name").to_pylist()
            args = pc.utf8_lower(pc.struct_field(pc.struct_field(flat, "action"), "arguments")).to_pylist()
            seen_text = pc.utf8_lower(pc.struct_field(pc.struct_field(flat, "observation"), "text").fill_null(""))
            seen_text = seen_text.to_pylist()
            first = pc.utf8_lower(pc.struct_field(batch["initial_observation"], "text").fill_null("")).to_pylist()
            all_thoughts = thoughts.to_pylist()
            for r in suspects:
                a, lo, hi = answers[r], int(offsets[r]), int(offsets[r + 1])
                changes = [i for i in range(lo, hi) if names[i] not in _NO_CHANGE]
                last = changes[-1] if changes else lo - 1  # after it the solution is built
                seen = a in instruction[r] or a in first[r]
                for i in range(lo, min(hi, last + 1)):
                    if not seen and a in all_thoughts[i] and a not in args[i]:
                        leak[i] = 1.0
                    seen = seen or a in seen_text[i]
        per_row = (np.bincount(owner, leak, minlength=rows) > 0).astype(np.float32)
        return ScoreResult(
            scores={self.key("instruction"): np.where(has, in_instruction, np.nan).astype(np.float32),
                    self.key(): np.where(has, per_row, np.nan).astype(np.float32)},
            step_scores={self.key(): _split(leak, offsets)})


_NO_CHANGE = frozenset({"think", "answer", "context.summarize", "finish"})


def _answer(reference: str | None) -> str | None:
    if not reference:
        return None
    value = orjson.loads(reference)
    answer = value.get("answer") if isinstance(value, dict) else None
    return str(answer) if isinstance(answer, str | int | float) and not isinstance(answer, bool) else None


@register
class OffscreenScorer(Scorer):
    name = "offscreen"
    kinds = frozenset({"gui"})
    columns = ("id", "kind", "task", "steps")

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], [self.key()]

    def score(self, batch: pa.Table) -> ScoreResult:
        flat, owner, offsets = _flat(batch)
        # stored arguments are canonical JSON (sorted keys, no spaces), so a top-level "x" is
        # preceded by { or , (inside a string value its quote would be escaped)
        args = pc.struct_field(pc.struct_field(flat, "action"), "arguments").fill_null("")
        x = _number(args, "x")
        y = _number(args, "y")
        norm = pc.match_substring(args, '"unit":"norm1000"').to_numpy(zero_copy_only=False)
        screen = pc.extract_regex(pc.struct_field(batch["task"], "env"), r'"screen":\[(?P<w>\d+),(?P<h>\d+)\]')
        w = pc.cast(pc.struct_field(screen, "w"), pa.float64()).to_numpy(zero_copy_only=False)[owner]
        h = pc.cast(pc.struct_field(screen, "h"), pa.float64()).to_numpy(zero_copy_only=False)[owner]
        pointed = ~np.isnan(x) & ~np.isnan(y)
        with np.errstate(invalid="ignore"):
            inside = np.where(norm, (x >= 0) & (x <= 1000) & (y >= 0) & (y <= 1000),
                              (x >= 0) & (y >= 0) & (x < w) & (y < h))
        ok = np.where(pointed, inside, True).astype(np.float32)
        return ScoreResult(scores={self.key(): _row_min(ok, offsets)}, step_scores={self.key(): _split(ok, offsets)})


def _number(args: pa.Array, key: str) -> np.ndarray:
    found = pc.extract_regex(args, rf'[{{,]"{key}":(?P<v>-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)[,}}]')
    return pc.cast(pc.struct_field(found, "v"), pa.float64()).to_numpy(zero_copy_only=False)
