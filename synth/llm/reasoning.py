"""The LLM teacher of the reasoning families: prompts, reply parsing, verified trajectories.

Two modes, one pipeline:

- ``solve``: the model gets the task's instruction (which states the exact answer format) and
  reasons step by step to an ``Answer:`` line. Wrong or missing answers are kept as failed
  trajectories: they are real model failures, useful as negatives.
- ``serg`` (skeleton-guided rewrite): the model gets the rule-based expert's steps and rewrites
  them as natural reasoning, keeping every check and backtrack. The rule-based solver supplies
  the correctness, the model the language; a rewrite is kept only if its answer verifies.

Either way the reply is parsed into steps and replayed through the family's own env by
:func:`synth.episode.run_episode` (each paragraph a ``think`` step, then the ``answer``), so the
outcome comes from the family's verifier and never from the model's say-so. Model replies are
not moves, so the env cannot localise an error inside them: ``first_error_step`` is -1 on
success and null (unknown) on failure.
"""

from __future__ import annotations

import random
import re

from stores.schema import Action, Policy, Provenance, Task, Trajectory
from synth.episode import run_episode
from synth.llm.batch import LLMBatch
from synth.llm.cache import ChatResult
from synth.llm.client import ChatClient
from synth.reasoning.base import ReasoningFamily, ScriptTeacher

MODES = ("solve", "serg")

SOLVE_SYSTEM = (
    "You are solving a {problem} problem. Think step by step and write one step per paragraph, "
    "with a blank line between paragraphs: state what you check or decide, and when a choice "
    "leads to a dead end, say so and go back. Finish with a final line of the form\n"
    "Answer: <answer>\n"
    "where <answer> follows the answer format the problem asks for exactly, with nothing else "
    "on that line."
)

SERG_SYSTEM = (
    "You rewrite a solver's step-by-step trace of a {problem} problem as natural step-by-step "
    "reasoning, as a careful person would think it through. Each trace step is tagged with its "
    "kind: [read], [plan], [move: ...] (the move it makes), [check] (a recheck of an earlier step, "
    "or a summary of what the search found), [backtrack to step N] (a dead end or a caught "
    "mistake: what failed and where it returns to) and [verify]. Keep every step in order, "
    "checks, dead ends and backtracks included, with the same squares, values and numbers, and "
    "say what each check found; add no step the trace lacks and skip none. Do not copy the tags. "
    "Write one step per paragraph, with a blank line between paragraphs, and end with the "
    "trace's final answer line unchanged, in the form\nAnswer: <answer>"
)


def solve_messages(family: ReasoningFamily, task: Task) -> list[dict[str, str]]:
    """System prompt (step by step, one step per paragraph, final ``Answer:`` line) and the
    task's instruction as the user message."""
    return [
        {"role": "system", "content": SOLVE_SYSTEM.format(problem=_problem_name(family))},
        {"role": "user", "content": task.instruction},
    ]


def serg_messages(family: ReasoningFamily, task: Task, skeleton: list[str]) -> list[dict[str, str]]:
    """The problem and the expert's skeleton (its tagged thoughts, numbered from 0 like the
    step numbers its checks and backtracks name, ending with the ``Answer:`` line), with the
    request to rewrite it naturally."""
    trace = "\n".join(f"{i}. {thought}" for i, thought in enumerate(skeleton))
    user = (
        f"Problem:\n{task.instruction}\n\n"
        f"Solver trace ({len(skeleton)} steps, numbered from 0 as its own step references are):\n{trace}\n\n"
        "Rewrite this trace as natural step-by-step reasoning, one paragraph per step, and end "
        "with the same final line 'Answer: ...'."
    )
    return [
        {"role": "system", "content": SERG_SYSTEM.format(problem=_problem_name(family))},
        {"role": "user", "content": user},
    ]


def skeleton(family: ReasoningFamily, task: Task) -> list[str]:
    """The expert's trace as a SERG rewrite must keep it: each thought tagged with its kind
    (and a move with what it does, a backtrack with the step it returns to), ending with the
    answer line in its canonical form."""
    teacher = family.make_teacher("expert", task, random.Random(task.seed), {})
    lines = []
    for thought, action in teacher.script[:-1]:
        if action.name == family.action:
            tag = f"[move: {family.move_text(action.arguments)}]"
        elif action.name == "backtrack":
            tag = f"[backtrack to step {action.arguments['to_step']}]"
        else:
            tag = f"[{action.arguments.get('stage', 'think')}]"
        lines.append(f"{tag} {thought}")
    return [*lines, f"Answer: {task.reference['answer']}"]


# ---------------------------------------------------------------------------- parsing

_ANSWER = re.compile(r"^(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*[:：]\s*(?P<value>.*)$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?:\d+[.)]\s|step\s*\d+\b)", re.IGNORECASE)
_NUMBER_PREFIX = re.compile(r"^(?:\d+[.)]|step\s*\d+\s*[:.)]?)\s*", re.IGNORECASE)


def parse_reply(text: str) -> tuple[list[str], str | None]:
    """Split a reply into reasoning steps and its final answer.

    The answer is the value of the *last* ``Answer:`` line (case-insensitive; ``Final
    answer:``, a step number, markdown bold/headings and a ``\\boxed{...}`` value tolerated;
    a value on the line after a bare ``Answer:`` too); without one, the last
    ``\\boxed{...}`` in the text; otherwise None. Steps are the text before that answer line
    (what follows it is sign-off, not reasoning), split at blank lines and at numbered lines
    (``1.``, ``2)``, ``Step 3:``), each kept as the model wrote it.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    answer, end = None, len(lines)
    for i in range(len(lines) - 1, -1, -1):
        match = _ANSWER.match(_NUMBER_PREFIX.sub("", _plain(lines[i])))
        if match is None:
            continue
        value = match.group("value")
        if not _clean_answer(value):
            value = next((line for line in lines[i + 1 :] if line.strip()), "")
        answer, end = _clean_answer(value), i
        break
    if answer is None:
        boxed = _boxed(text)
        answer = _clean_answer(boxed[-1]) if boxed else None
    steps: list[list[str]] = []
    current: list[str] = []
    for line in lines[:end]:
        if not line.strip() or _NUMBERED.match(_plain(line)):
            if current:
                steps.append(current)
            current = []
        if line.strip():
            current.append(line.rstrip())
    if current:
        steps.append(current)
    return ["\n".join(s).strip() for s in steps], answer or None


def _plain(line: str) -> str:
    """A line without markdown emphasis, heading or quote marks, for matching labels."""
    return line.replace("**", "").replace("__", "").strip().lstrip("#>*_ \t")


def _clean_answer(value: str) -> str:
    boxed = _boxed(value)
    if boxed:
        value = boxed[-1]
    value = value.replace("**", "").strip().strip("`*_$").strip()
    return value[:-1].rstrip() if value.endswith(".") else value


def _boxed(text: str) -> list[str]:
    r"""Contents of every ``\boxed{...}``, braces balanced."""
    found = []
    for match in re.finditer(r"\\boxed\s*\{", text):
        depth, start = 1, match.end()
        for j in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                found.append(text[start:j])
                break
    return found


# ---------------------------------------------------------------------------- episodes


def llm_episodes(
    family: ReasoningFamily,
    tasks: list[Task],
    client: ChatClient,
    mode: str,
    provenance: Provenance,
    split: str = "train",
) -> LLMBatch:
    """Ask the model about every task (one batch, cached), then replay and verify each reply."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    if mode == "solve":
        requests = [solve_messages(family, t) for t in tasks]
    else:
        requests = [serg_messages(family, t, skeleton(family, t)) for t in tasks]
    batch = LLMBatch(results=client.complete_many(requests))
    for task, result in zip(tasks, batch.results, strict=True):
        base = {"task_id": task.id, "family": family.name, "mode": mode, "request": result.key}
        if not result.ok:
            batch.failures.append({**base, "kind": "request_failed", "error": result.error, "attempts": result.attempts})
            continue
        trajectory = _replay(family, task, result, client.settings.model, mode, provenance, split)
        if trajectory.final_answer is None:
            batch.no_answer += 1
        if mode == "serg" and not trajectory.outcome.success:
            batch.failures.append(
                {**base, "kind": "serg_rejected", "answer": trajectory.final_answer, "reason": trajectory.outcome.detail}
            )
            continue
        batch.trajectories.append(trajectory)
    return batch


def _replay(
    family: ReasoningFamily,
    task: Task,
    result: ChatResult,
    model: str,
    mode: str,
    provenance: Provenance,
    split: str,
) -> Trajectory:
    steps, answer = parse_reply(result.text or "")
    script = [(s, Action("think", {"stage": "llm"})) for s in steps]
    if answer is not None:
        script.append((f"Answer: {answer}", Action("answer", {"answer": answer})))
    # Whether this run served the reply from the cache is a fact about the run, not the
    # trajectory (it goes to the run's summary), so a resumed run gives identical rows.
    policy = Policy(
        f"{family.name}-llm",
        "llm",
        model,
        {
            "mode": mode,
            "request": result.key,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "latency_ms": result.latency_ms,
            "attempts": result.attempts,
        },
    )
    env = family.make_env(task, {})
    episode = run_episode(
        family.kind, task, env, ScriptTeacher(policy, script), provenance, max_steps=len(script), split=split
    )
    trajectory = episode.trajectory
    # The env flags a wrong answer step, but the mistake is somewhere in the prose before it.
    trajectory.first_error_step = -1 if trajectory.outcome.success else None
    return trajectory


def _problem_name(family: ReasoningFamily) -> str:
    return family.name.replace("_", " ")
