"""Rebuilding an episode's world from its stored row, for scorers that need the env again
(Monte-Carlo rollouts, reference alignment, recovery labels, re-verification).

Why here and not in each scorer: the env is rebuilt the way the corruption replays do it
(``family.make_env(task, params)`` from the stored task, with the family params of the run),
and a state fingerprint per kind is what the reference aligner compares; writing them once
keeps every replaying scorer consistent with the others and with ``first_error_step``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from filters.scorers.base import ScorerError
from stores.schema import TRAJECTORY_SCHEMA, Step, Trajectory
from synth.episode import Env
from synth.registry import get_family

#: what a replaying scorer reads: whole rows (``stores.schema.from_table`` rebuilds them)
ROW_COLUMNS = tuple(TRAJECTORY_SCHEMA.names)


def fresh_env(trajectory: Trajectory, family_params: Mapping[str, Mapping[str, Any]]) -> Env:
    """A new env in the task's initial state; images off (scorers never look at pixels)."""
    try:
        family = get_family(trajectory.task.family)
    except KeyError as e:
        raise ScorerError(f"trajectory {trajectory.id}: {e.args[0]}; a replaying scorer needs the family that "
                          "made the row") from None
    params = {**dict(family_params.get(trajectory.task.family, {})), "images": "off"}
    return family.make_env(trajectory.task, params)


def replay(env: Env, steps: list[Step]) -> tuple[bool, str | None]:
    """Apply ``steps`` in order; returns (whether the episode ended, the answer given)."""
    answer = None
    for step in steps:
        result = env.step(step.action)
        if step.action.name == "answer":
            answer = str(step.action.arguments.get("answer", "")) if isinstance(step.action.arguments, dict) else ""
        if result.done:
            return True, answer
    return False, answer


def on_track(env: Env) -> bool:
    """Whether the env's current state can still be completed: the reasoning env keeps it per
    move (``sound``); in the GUI and research envs every state can be recovered from (the step
    checker judges each action against the current state), so they are always on track."""
    sound = getattr(env, "sound", None)
    return bool(sound[-1]) if sound else True


def state_key(env: Env) -> bytes | None:
    """A fingerprint of the env's state that two episodes of one task can share, or None where
    the env exposes none (the reference aligner then compares texts). The research env has no
    state two browsing orders share (its evidence counters grow in any order, and a detour
    leaves them unchanged), so research steps are aligned by text."""
    states = getattr(env, "states", None)  # reasoning: the stack of states in force
    if states is not None:
        return orjson.dumps(states[-1], option=orjson.OPT_NON_STR_KEYS, default=repr)
    state = getattr(env, "state", None)  # gui: app data, screens open, typed values (not scroll or focus)
    if callable(state):
        s = state()
        key = {"model": s["model"], "screens": [(f["name"], f["values"]) for f in s["frames"]], "done": s["done"], "answer": s["answer"]}
        return orjson.dumps(key, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr)
    return None
