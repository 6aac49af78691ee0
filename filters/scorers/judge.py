"""An LLM judge as a scorer, through the OpenAI-compatible client every LLM call uses
(:mod:`synth.llm.client`): one request per trajectory, cached in the SQLite request cache, so
a rerun resends nothing that was answered.

The prompt is a rubric per kind and the numbered episode; the judge replies with JSON
``{"steps": [score per step], "score": trajectory score}``, every score in [0, 1]. A row whose
request failed or whose reply does not parse (not JSON, wrong number of step scores, a score
out of range) gets no score (NaN, never a default) and ``scores[<name>.failed] = 1``, and its
reason is kept in :attr:`JudgeScorer.failures`; when more than ``max_failure_share`` of a batch
fails, the scorer raises instead of returning, so a broken server cannot publish a version of
holes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
from pydantic import Field

from filters.scorers.base import Scorer, ScorerError, ScoreResult, ScorerParams, register
from synth.llm.batch import summarize
from synth.llm.cache import RequestCache
from synth.llm.client import ChatClient, LLMSettings

RUBRICS = {
    "reasoning": "You grade a step-by-step solution of a puzzle or math task. A step is correct when it "
                 "follows from the task and the earlier steps and keeps the problem solvable; a step that "
                 "breaks a rule, misreads the state or leads into a dead end is wrong. Steps that notice and "
                 "undo an earlier mistake are correct.",
    "gui": "You grade a GUI agent's episode. A step is correct when its action is one a careful user would "
           "take on the screen described so far, towards the instruction; a click on the wrong element, a "
           "typo, a premature finish or an action on something not on the screen is wrong.",
    "research": "You grade a deep-research agent's episode (search, open, find). A step is correct when it "
                "gathers evidence the question needs or reasons soundly from what was read; an irrelevant "
                "search, a wrong page or a claim not supported by the pages is wrong.",
}
FORMAT = ('Reply with JSON only: {"steps": [one number in [0, 1] per step, in order], "score": a number in '
          '[0, 1] for the whole episode}.')


class JudgeParams(ScorerParams):
    base_url: str
    model: str
    api_key_env: str | None = None
    cache: str | None = None  # SQLite request cache (default: <TRAJFORGE_HOME>/llm-cache/judge.sqlite)
    max_failure_share: float = Field(0.1, ge=0.0, le=1.0)
    max_concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0)
    max_tokens: int = Field(512, ge=16)
    rubrics: dict[str, str] = Field(default_factory=dict)  # per kind, replaces the built-in rubric


@register
class JudgeScorer(Scorer):
    name = "llm_judge"
    columns = ("id", "kind", "task", "steps", "final_answer")
    Params = JudgeParams

    def __init__(self, params: JudgeParams, **context: Any):
        super().__init__(params, **context)  # instance, seed, family_params
        unknown = sorted(set(params.rubrics) - set(RUBRICS))
        if unknown:
            raise ScorerError(f"scorer {self.instance!r}: rubrics for unknown kind(s) {unknown}; kinds are {sorted(RUBRICS)}")
        try:
            self.settings = LLMSettings(base_url=params.base_url, model=params.model, api_key_env=params.api_key_env,
                                        max_concurrency=params.max_concurrency, timeout_s=params.timeout_s,
                                        max_retries=params.max_retries, max_tokens=params.max_tokens)
        except ValueError as e:
            raise ScorerError(f"scorer {self.instance!r}: {e}") from None
        from stores.store import default_root

        self.cache_path = Path(params.cache) if params.cache else default_root() / "llm-cache" / "judge.sqlite"
        self.failures: list[dict[str, str]] = []

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key(), self.key("failed")], [self.key()]

    def messages(self, row: dict) -> list[dict[str, str]]:
        rubric = self.params.rubrics.get(row["kind"], RUBRICS[row["kind"]])
        lines = [f"Task: {row['task']['instruction']}", ""]
        for i, step in enumerate(row["steps"] or []):
            action = step["action"]
            lines.append(f"Step {i}: {step['thought']}\n  action: {action['name']} {action['arguments']}\n"
                         f"  observation: {(step.get('observation') or {}).get('text') or ''}")
        lines.append(f"Final answer: {row.get('final_answer') or ''}")
        return [{"role": "system", "content": f"{rubric}\n{FORMAT}"}, {"role": "user", "content": "\n".join(lines)}]

    def score(self, batch: pa.Table) -> ScoreResult:
        rows = batch.select(["id", "kind", "task", "steps", "final_answer"]).to_pylist()
        with RequestCache(self.cache_path) as cache, ChatClient(self.settings, cache) as client:
            results = client.complete_many([self.messages(r) for r in rows])
        traj = np.full(len(rows), np.nan, np.float32)
        failed = np.zeros(len(rows), np.float32)
        steps = [np.full(len(r["steps"] or []), np.nan, np.float32) for r in rows]
        failures = []
        for i, (row, result) in enumerate(zip(rows, results, strict=True)):
            error = result.error if not result.ok else None
            if error is None:
                parsed = parse_verdict(result.text or "", len(steps[i]))
                if isinstance(parsed, str):
                    error = parsed
                else:
                    traj[i], steps[i] = parsed
            if error is not None:
                failed[i] = 1.0
                failures.append({"id": row["id"], "error": error})
        self.failures.extend(failures)
        if len(rows) and len(failures) / len(rows) > self.params.max_failure_share:
            examples = "; ".join(f"{f['id'][:12]}: {f['error']}" for f in failures[:3])
            raise ScorerError(f"scorer {self.instance!r}: {len(failures)} of {len(rows)} judge requests failed, more "
                              f"than max_failure_share={self.params.max_failure_share} ({examples}); nothing was "
                              "written. Check the server, or raise max_failure_share to keep the rows it did score")
        stats = {k: float(v) for k, v in summarize(results).items() if v is not None}
        return ScoreResult(scores={self.key(): traj, self.key("failed"): failed}, step_scores={self.key(): steps},
                           stats=stats | {"parse_or_request_failures": float(len(failures))})


def parse_verdict(text: str, n_steps: int) -> tuple[float, np.ndarray] | str:
    """(trajectory score, step scores) from a judge reply, or the reason it cannot be used."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        return f"reply holds no JSON object: {text[:80]!r}"
    try:
        data = orjson.loads(match.group(0))
    except orjson.JSONDecodeError as e:
        return f"reply JSON does not parse ({e})"
    if not isinstance(data, dict) or "score" not in data or "steps" not in data:
        return "reply JSON lacks `score` or `steps`"
    values = data["steps"]
    if not isinstance(values, list) or len(values) != n_steps:
        return f"reply has {len(values) if isinstance(values, list) else 'no list of'} step scores for {n_steps} steps"
    numbers = [data["score"], *values]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in numbers):
        return "a score in the reply is not a number in [0, 1]"
    return float(data["score"]), np.asarray(values, np.float32)
