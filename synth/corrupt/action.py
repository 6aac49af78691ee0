"""Action corruptions: the agent does something else. Replayed, so the env labels them.

``swap_adjacent`` and ``drop_step`` reorder or remove steps; ``wrong_argument`` changes an
argument value; ``click_outside`` moves a GUI click out of its target box by eps times the
box size; ``wrong_tool`` sends a research call's argument to another tool.
"""

from __future__ import annotations

import dataclasses
import random
import re

from stores.schema import Action, Step, Trajectory
from synth.corrupt.noise import perturb_value
from synth.corrupt.registry import Edit, Operator, pick_steps, register

#: arguments that are coordinates (moved by click_outside) or bookkeeping, not values to get wrong
_NOT_VALUES = frozenset({"x", "y", "stage", "topn"})
#: actions whose arguments are not the agent's choice of what to do
_NOT_ACTIONS = frozenset({"think", "answer", "finish", "invalid_reply"})


def _with_action(steps: list[Step], i: int, action: Action) -> list[Step]:
    edited = list(steps)
    edited[i] = dataclasses.replace(steps[i], action=action)
    return edited


@register
class SwapAdjacent(Operator):
    name = "swap_adjacent"
    category = "action"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps
        candidates = [i for i in range(len(steps) - 1) if steps[i].action != steps[i + 1].action]
        picked, taken = [], set()
        for i in pick_steps(rng, candidates, c):
            if i not in taken and i + 1 not in taken:  # disjoint pairs: every pick is a real swap
                picked.append(i)
                taken |= {i, i + 1}
        if not picked:
            return None
        edited = list(steps)
        for i in picked:
            edited[i], edited[i + 1] = edited[i + 1], edited[i]
        return Edit(edited, sorted(taken))


@register
class DropStep(Operator):
    name = "drop_step"
    category = "action"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = trajectory.steps
        # never the final step: dropping the answer would only truncate (truncate_trace does that)
        dropped = set(pick_steps(rng, list(range(len(steps) - 1)), c))
        if not dropped:
            return None
        return Edit([s for i, s in enumerate(steps) if i not in dropped], sorted(dropped))


@register
class WrongArgument(Operator):
    name = "wrong_argument"
    category = "action"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        def keys(step: Step) -> list[str]:
            args = step.action.arguments
            if step.action.name in _NOT_ACTIONS or not isinstance(args, dict):
                return []
            return sorted(k for k, v in args.items() if k not in _NOT_VALUES and isinstance(v, (str, int)) and v != "")

        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if keys(s)], c)
        for i in touched:
            key = rng.choice(keys(steps[i]))
            args = dict(steps[i].action.arguments)
            args[key] = perturb_value(args[key], rng, eps)
            steps = _with_action(steps, i, Action(steps[i].action.name, args))
        return Edit(steps, touched) if touched else None


_SIZE = re.compile(r"size=(\d+)x(\d+)")


@register
class ClickOutside(Operator):
    """A pointer action moved eps * box size outside the box the env would accept it in (at
    least a pixel), on a side that stays on the screen."""

    name = "click_outside"
    category = "action"
    kinds = frozenset({"gui"})

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        screen = _SIZE.search(trajectory.initial_observation.text if trajectory.initial_observation else "")
        width, height = (int(screen[1]), int(screen[2])) if screen else (None, None)

        def moves(step: Step) -> list[tuple[int, int]]:
            args = step.action.arguments
            if not isinstance(args, dict) or not isinstance(args.get("x"), int) or not isinstance(args.get("y"), int):
                return []
            x, y = args["x"], args["y"]
            for entry in step.accepted_actions if isinstance(step.accepted_actions, list) else []:
                box = entry.get("box") if isinstance(entry, dict) else None
                if entry.get("name") == step.action.name and box and box[0] <= x <= box[2] and box[1] <= y <= box[3]:
                    dx, dy = max(1, round(eps * (box[2] - box[0]))), max(1, round(eps * (box[3] - box[1])))
                    out = [(box[0] - dx, y), (box[2] + dx, y), (x, box[1] - dy), (x, box[3] + dy)]
                    return [(a, b) for a, b in out if a >= 0 and b >= 0
                            and (width is None or a < width) and (height is None or b < height)]
            return []

        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if moves(s)], c)
        for i in touched:
            x, y = rng.choice(moves(steps[i]))
            steps = _with_action(steps, i, Action(steps[i].action.name, {**steps[i].action.arguments, "x": x, "y": y}))
        return Edit(steps, touched) if touched else None


#: each browser tool and the argument holding its one value
_TOOLS = {"search": "query", "open": "id", "find": "pattern"}


@register
class WrongTool(Operator):
    """A research call's value sent to another tool (a search for a docid, a find for a query)."""

    name = "wrong_tool"
    category = "action"
    kinds = frozenset({"research"})

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        def value(step: Step):
            args = step.action.arguments
            key = _TOOLS.get(step.action.name)
            return args.get(key) if key and isinstance(args, dict) and isinstance(args.get(key), str) else None

        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if value(s)], c)
        for i in touched:
            tool = rng.choice(sorted(t for t in _TOOLS if t != steps[i].action.name))
            steps = _with_action(steps, i, Action(tool, {_TOOLS[tool]: value(steps[i])}))
        return Edit(steps, touched) if touched else None
