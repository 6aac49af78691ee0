"""Monte-Carlo process rewards (Math-Shepherd): the value of each step is how often the
episode can still be completed from it.

For step t the env is rebuilt from the stored task, steps 0..t are replayed in it, and
``rollouts`` completions are run by the generic rollout policy (:mod:`filters.scorers.rollout`)
for at most ``horizon`` steps. ``mc.soft`` is the share of completions that succeed (the env's
own verifier decides), ``mc.hard`` is 1 when any succeeds. A step that ends the episode (the
answer, a finish) needs no rollout: its value is the episode's verified outcome. ``mc.value``
is the trajectory-level estimate: the soft value of the empty prefix (how solvable the task is
for the rollout policy), i.e. before the first step.

Unlike ``prefix_correct``, the values rise again after a step that undoes a mistake, so they
label recoveries too. Cost is what one expects of Math-Shepherd (O(steps^2) replayed steps
plus steps x rollouts x horizon); the figures ``rollouts``, ``env_steps``, ``labelled_steps``
and ``seconds`` are reported per run. Rollouts of a shard run in the worker process scoring
that shard (the pipeline and ``trajforge score`` put shards on the process pool).
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
from pydantic import Field

from filters.scorers.base import Scorer, ScoreResult, ScorerParams, register
from filters.scorers.replay import ROW_COLUMNS, fresh_env, replay
from filters.scorers.rollout import RolloutPolicy
from stores.schema import Trajectory, from_table
from synth.seeding import rng_for


class MCParams(ScorerParams):
    rollouts: int = Field(default=8, ge=1, le=10_000)
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0)
    horizon: int = Field(default=64, ge=1, le=100_000)  # steps per completion
    max_steps: int = Field(default=128, ge=1, le=100_000)  # longer trajectories get no labels (NaN)


@register
class MonteCarloScorer(Scorer):
    name = "mc"
    columns = ROW_COLUMNS
    Params = MCParams

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key("value")], [self.key("soft"), self.key("hard")]

    def score(self, batch: pa.Table) -> ScoreResult:
        p: MCParams = self.params
        started = time.perf_counter()
        cost = {"rollouts": 0, "env_steps": 0, "labelled_steps": 0}
        soft, hard, value = [], [], np.full(batch.num_rows, np.nan, np.float32)
        for row, t in enumerate(from_table(batch)):
            n = len(t.steps)
            if n > p.max_steps:
                soft.append(np.full(n, np.nan, np.float32))
                hard.append(np.full(n, np.nan, np.float32))
                continue
            values = np.array([self._value(t, upto, cost) for upto in range(n + 1)], np.float32)
            value[row] = values[0]
            soft.append(values[1:])
            hard.append((values[1:] > 0).astype(np.float32))
            cost["labelled_steps"] += n
        stats = {**cost, "seconds": round(time.perf_counter() - started, 4)}
        return ScoreResult(scores={self.key("value"): value},
                           step_scores={self.key("soft"): soft, self.key("hard"): hard}, stats=stats)

    def _value(self, t: Trajectory, upto: int, cost: dict[str, int]) -> float:
        """Share of completions that succeed after the first ``upto`` steps."""
        p: MCParams = self.params
        policy = RolloutPolicy(t.kind, p.epsilon)
        wins = 0
        for r in range(p.rollouts):
            env = fresh_env(t, self.family_params)
            done, answer = replay(env, t.steps[:upto])
            cost["env_steps"] += upto
            if done:  # the prefix ended the episode: its value is the verified outcome, no rollout
                return float(env.outcome(answer).success)
            rng = rng_for(self.seed, "mc", t.id, upto, r)
            cost["rollouts"] += 1
            for _ in range(p.horizon):
                action = policy.act(env, rng)
                result = env.step(action)
                cost["env_steps"] += 1
                if action.name == "answer":
                    answer = str(action.arguments.get("answer", ""))
                if result.done:
                    break
            wins += env.outcome(answer).success
        return wins / p.rollouts
