"""What a reward model may read of a trajectory, built once for every backbone and the audit.

The rule (docs/design.md, "what the agent sees is not what the grader knows"): the input for
step t is the task, the previous steps with their observations, and step t's thought and
action. Step t's own observation is left out (a reasoning env's observation is the state the
move produced, a GUI's the screen after the click: the label would be readable from it), and so
is everything the grader wrote (``outcome``, ``first_error_step``, ``scores``, ``corruption``,
``policy``): none of those columns is even read here.

Two shapes of the same content:
- :func:`step_texts` / :func:`trajectory_text`: one string per step (and per trajectory), for
  bidirectional encoders (MiniLM) and the bag-of-n-grams leakage audit;
- :func:`trajectory_pieces`: the ordered pieces of one trajectory, each tagged with the step it
  belongs to and whether a step score is read right after it, for the causal backbone that
  scores every step in one pass (its score token for step t comes after step t's action and
  before step t's observation, and attention is causal, so the observation cannot be seen).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

# the only columns an RM input is built from (a test checks no verdict column is among them)
INPUT_COLUMNS = ("id", "kind", "task", "steps", "final_answer", "initial_observation")


@dataclass(frozen=True, slots=True)
class Budget:
    """Words kept of each piece: long observations (a rendered grid, a page of text) would
    otherwise crowd out the steps that matter."""

    task: int = 96
    thought: int = 48
    action: int = 24
    observation: int = 32
    answer: int = 16
    history_steps: int = 6  # previous steps kept in a per-step text (the causal model sees all)


def _clip(text: str | None, words: int) -> str:
    parts = (text or "").split()
    return " ".join(parts[:words])


def task_text(row: dict, budget: Budget) -> str:
    task = row["task"]
    first = (row.get("initial_observation") or {}).get("text") or ""
    text = f"{row['kind']} {task['family']}: {task['instruction']}"
    if first:
        text += f" | screen: {first}"
    return _clip(text, budget.task)


def act_text(step: dict, budget: Budget) -> str:
    action = step["action"]
    return f"{_clip(step['thought'], budget.thought)} -> {action['name']} {_clip(action['arguments'], budget.action)}"


def obs_text(step: dict, budget: Budget) -> str:
    return _clip((step.get("observation") or {}).get("text"), budget.observation)


def step_texts(row: dict, budget: Budget) -> list[str]:
    """One text per step: task, up to ``history_steps`` previous (action, observation) pairs,
    then step t's thought and action. Never step t's observation."""
    head = task_text(row, budget)
    steps = row["steps"] or []
    history = [f"{act_text(s, budget)} => {obs_text(s, budget)}" for s in steps]
    acts = [act_text(s, budget) for s in steps]
    out = []
    for t in range(len(steps)):
        before = history[max(0, t - budget.history_steps):t]
        out.append(" || ".join([head, *before, f"NOW {acts[t]}"]))
    return out


def trajectory_text(row: dict, budget: Budget) -> str:
    """The whole episode as the agent lived it, and its final answer."""
    steps = row["steps"] or []
    keep = steps[-2 * budget.history_steps:]
    body = [f"{act_text(s, budget)} => {obs_text(s, budget)}" for s in keep]
    return " || ".join([task_text(row, budget), *body, f"ANSWER {_clip(row.get('final_answer'), budget.answer)}"])


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    step: int  # the step it belongs to, -1 for the task and the answer
    role: str  # task | act | obs | answer
    scored: bool  # a step score is read at the token right after this piece


def trajectory_pieces(row: dict, budget: Budget) -> list[Piece]:
    """Task, then per step its action piece (scored) and its observation piece, then the answer
    (the trajectory score is read after it)."""
    pieces = [Piece(task_text(row, budget), -1, "task", False)]
    for t, step in enumerate(row["steps"] or []):
        pieces.append(Piece(act_text(step, budget), t, "act", True))
        pieces.append(Piece(obs_text(step, budget), t, "obs", False))
    pieces.append(Piece(_clip(row.get("final_answer"), budget.answer), -1, "answer", False))
    return pieces


def input_rows(table: pa.Table) -> list[dict]:
    """The rows as dicts holding only :data:`INPUT_COLUMNS` (the grader's columns never load)."""
    missing = [c for c in INPUT_COLUMNS if c not in table.column_names and c != "initial_observation"]
    if missing:
        raise ValueError(f"reward model input needs column(s) {missing}; pass trajectory rows")
    return table.select([c for c in INPUT_COLUMNS if c in table.column_names]).to_pylist()
