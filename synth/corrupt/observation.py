"""Observation corruptions: the agent is shown something slightly wrong. Not replayed.

``obs_noise`` puts character and word noise at eps on observation text; ``drop_element``
removes accessibility-tree elements (with their children) from a GUI screen and ``move_box``
shifts one element's box by eps times its size; ``replace_line``
swaps a research search result's snippet or a page line for one seen elsewhere in the
episode. What the agent did is unchanged, so the env's label of the clean row stands.
"""

from __future__ import annotations

import dataclasses
import random
import re

from stores.schema import Observation, Step, Trajectory
from synth.corrupt.noise import text_noise
from synth.corrupt.registry import Edit, Operator, pick_steps, register


def with_text(steps: list[Step], i: int, text: str) -> list[Step]:
    edited = list(steps)
    edited[i] = dataclasses.replace(steps[i], observation=Observation(text, steps[i].observation.image_ref))
    return edited


@register
class ObservationNoise(Operator):
    name = "obs_noise"
    category = "observation"

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if s.observation.text.strip()], c)
        for i in touched:
            steps = with_text(steps, i, text_noise(steps[i].observation.text, rng, eps))
        return Edit(steps, touched) if touched else None


_ELEMENT = re.compile(r"^(\s*)\[\d+\] ")


@register
class DropElement(Operator):
    """max(1, round(eps * n)) of a screen's n accessibility-tree elements left out."""

    name = "drop_element"
    category = "observation"
    kinds = frozenset({"gui"})

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        def elements(text: str) -> list[int]:
            return [k for k, line in enumerate(text.split("\n")) if _ELEMENT.match(line)]

        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if elements(s.observation.text)], c)
        for i in touched:
            lines = steps[i].observation.text.split("\n")
            found = elements(steps[i].observation.text)
            drop: set[int] = set()
            for k in rng.sample(found, max(1, min(len(found), round(eps * len(found))))):
                depth = len(_ELEMENT.match(lines[k])[1])
                drop.add(k)
                for j in range(k + 1, len(lines)):  # its subtree: the deeper lines right below
                    if len(lines[j]) - len(lines[j].lstrip()) <= depth:
                        break
                    drop.add(j)
            steps = with_text(steps, i, "\n".join(line for k, line in enumerate(lines) if k not in drop))
        return Edit(steps, touched) if touched else None


_BOX = re.compile(r"bbox=\((\d+),(\d+),(\d+),(\d+)\)")


@register
class MoveBox(Operator):
    """One accessibility-tree box per touched screen shifted by eps times its size (at least a
    pixel) in a random direction: the element is no longer where the screen says it is."""

    name = "move_box"
    category = "observation"
    kinds = frozenset({"gui"})

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        steps = list(trajectory.steps)
        touched = pick_steps(rng, [i for i, s in enumerate(steps) if _BOX.search(s.observation.text)], c)
        for i in touched:
            text = steps[i].observation.text
            m = rng.choice(list(_BOX.finditer(text)))
            x1, y1, x2, y2 = map(int, m.groups())
            dx = rng.choice((-1, 1)) * max(1, round(eps * (x2 - x1)))
            dy = rng.choice((-1, 0, 1)) * max(1, round(eps * (y2 - y1)))
            dx, dy = (dx if x1 + dx >= 0 else -dx), (dy if y1 + dy >= 0 else -dy)  # no negative coordinates
            moved = f"bbox=({x1 + dx},{y1 + dy},{x2 + dx},{y2 + dy})"
            steps = with_text(steps, i, text[: m.start()] + moved + text[m.end():])
        return Edit(steps, touched) if touched else None


# a page line ("L7: text") or a search result's snippet (indented, not the URL line)
_CONTENT = re.compile(r"^(L\d+: |    )(?!https?://)(\S.*)$")


@register
class ReplaceLine(Operator):
    """In a search or open result, max(1, round(eps * n)) of its n content lines replaced by
    content lines of other observations of the same episode (a plausible wrong result)."""

    name = "replace_line"
    category = "observation"
    kinds = frozenset({"research"})

    def apply(self, trajectory: Trajectory, rng: random.Random, c: float, eps: float) -> Edit | None:
        def content(text: str) -> list[int]:
            return [k for k, line in enumerate(text.split("\n")) if _CONTENT.match(line)]

        def donors(i: int) -> list[str]:
            mine = {m[2] for line in steps[i].observation.text.split("\n") if (m := _CONTENT.match(line))}
            return sorted({m[2] for j, s in enumerate(steps) if j != i for line in s.observation.text.split("\n")
                           if (m := _CONTENT.match(line)) and m[2] not in mine})

        steps = list(trajectory.steps)
        eligible = [i for i, s in enumerate(steps) if s.action.name in ("search", "open") and content(s.observation.text)]
        touched = pick_steps(rng, [i for i in eligible if donors(i)], c)
        for i in touched:
            lines = steps[i].observation.text.split("\n")
            pool = donors(i)
            found = content(steps[i].observation.text)
            for k in rng.sample(found, max(1, min(len(found), round(eps * len(found))))):
                lines[k] = _CONTENT.match(lines[k])[1] + rng.choice(pool)
            steps = with_text(steps, i, "\n".join(lines))
        return Edit(steps, touched) if touched else None
