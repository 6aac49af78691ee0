"""Measures of GUI episodes: how often a single-label step check would wrongly reject an
acceptable action, and which thoughts name something not yet seen.

GUI datasets usually label a step with the one action the demonstrator took, and grade an
agent by exact match (or a click within some pixels of the demonstrated point). But at most
steps many actions are progress: any pixel of the target's box, the other independent
sub-goal, a key instead of a click. Each stored step keeps the env's accepted set, so this
module samples acceptable actions from it (other points in the box, the element-id form,
whitespace and case variants the field accepts, other scroll amounts, the other entries) and
counts how many a single-label check rejects. Every sample is first confirmed by the real
step checker, :func:`synth.gui.actions.is_acceptable`.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from stores.schema import Trajectory
from synth.gui.actions import is_acceptable, point

RADII = (14, 28)  # px: "close enough to the demonstrated click" thresholds reported


def acceptable_samples(entry: dict[str, Any], rng: random.Random, per_box: int = 4) -> list[tuple[str, dict[str, Any]]]:
    """Actions the checker accepts for one accepted-set ``entry`` (name, arguments)."""
    name = entry["name"]
    if name in ("click", "long_press"):
        x0, y0, x1, y1 = entry["box"]
        out = [(name, {"x": rng.randrange(x0, x1), "y": rng.randrange(y0, y1)}) for _ in range(per_box)]
        return [*out, (name, {"element": entry["element"]})]
    if name == "type":
        text = entry["text"]
        forms = [text, f" {text} ", text.replace(" ", "  ")]
        if entry.get("match") == "casefold":
            forms.append(text.upper())
        out = [("type", {"text": t, "element": entry["element"]}) for t in dict.fromkeys(forms)]
        return out + ([("type", {"text": text})] if entry["focused"] else [])
    if name == "select":
        return [("select", {"element": entry["element"], "option": o})
                for o in dict.fromkeys((entry["option"], entry["option"].lower()))]  # fmt: skip
    if name == "scroll":
        low, high = entry["amount"]
        x0, y0, x1, y1 = entry["box"]
        out = []
        for amount in range(low, (high if high is not None else low + 3) + 1):
            out.append(("scroll", {"direction": entry["direction"], "amount": amount,
                                   "x": rng.randrange(x0, x1), "y": rng.randrange(y0, y1)}))  # fmt: skip
            if entry["main"]:
                out.append(("scroll", {"direction": entry["direction"], "amount": amount}))
        return out
    if name == "press_key":
        return [("press_key", {"key": entry["key"]}), ("press_key", {"key": entry["key"].lower()})]
    if name == "answer":
        return [("answer", {"answer": a}) for a in dict.fromkeys((*entry["answers"], entry["answers"][0].upper()))]
    return [(name, {})]


def single_label_rejection(trajectories: Iterable[Trajectory], seed: int = 0, radii: tuple[int, ...] = RADII) -> dict[str, Any]:
    """Over every step whose demonstrated action was acceptable: the fraction of sampled
    acceptable actions that an exact-match check rejects, and that a "click within N px of
    the demonstrated point (otherwise exact match)" check rejects, overall and by action."""
    rng = random.Random(seed)
    samples, steps = 0, 0
    exact: Counter[str] = Counter()
    near: dict[int, Counter[str]] = {r: Counter() for r in radii}
    per_kind: Counter[str] = Counter()
    for t in trajectories:
        size = (int(t.task.env["screen"][0]), int(t.task.env["screen"][1]))
        for step in t.steps:
            demo, accepted = step.action, step.accepted_actions
            if not is_acceptable(accepted, demo.name, demo.arguments, size):
                continue
            steps += 1
            for entry in accepted:
                for name, args in acceptable_samples(entry, rng):
                    if not is_acceptable(accepted, name, args, size):
                        raise AssertionError(f"sampled {name} {args} is not acceptable at {t.id} step {step.index}")
                    samples += 1
                    per_kind[name] += 1
                    same = name == demo.name and args == demo.arguments
                    exact[name] += not same
                    for r in radii:
                        near[r][name] += not (same or _close(name, args, demo.name, demo.arguments, size, r))
    out: dict[str, Any] = {"steps": steps, "samples": samples,
                           "exact_match_rejects": _rate(sum(exact.values()), samples)}  # fmt: skip
    for r in radii:
        out[f"within_{r}px_rejects"] = _rate(sum(near[r].values()), samples)
    out["by_action"] = {k: {"samples": n, "exact_match_rejects": _rate(exact[k], n),
                            **{f"within_{r}px_rejects": _rate(near[r][k], n) for r in radii}}
                        for k, n in sorted(per_kind.items())}  # fmt: skip
    return out


def _close(name: str, args: dict[str, Any], demo_name: str, demo_args: Any, size: tuple[int, int], radius: int) -> bool:
    if name != demo_name or name not in ("click", "long_press") or not isinstance(demo_args, dict):
        return False
    a, b = point(args, size), point(demo_args, size)
    return a is not None and b is not None and math.dist(a, b) <= radius


def _rate(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


# ---------------------------------------------------------------------------- hidden knowledge

_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)+)"')
_SINGLE = re.compile(r"(?<![A-Za-z])'([^'\n]+?)'(?![A-Za-z])")


def quoted_names(thought: str) -> list[str]:
    """The quoted spans of a thought ("double", as the tree writes names, and 'single', as
    instructions do), raw: double-quoted ones keep their JSON escapes, like the tree text."""
    spans = _DOUBLE.findall(thought)
    return spans + _SINGLE.findall(_DOUBLE.sub(" ", thought))


def unseen_names(t: Trajectory) -> list[tuple[int, str]]:
    """(step, name) for every quoted name in a thought that neither the instruction nor any
    screen seen so far (the initial one and every earlier step's observation) shows: what a
    thought could not have known when it was written."""
    seen = [t.task.instruction, t.initial_observation.text if t.initial_observation else ""]
    out = []
    for step in t.steps:
        context = "\n".join(seen)
        out += [(step.index, name) for name in quoted_names(step.thought or "") if name not in context]
        seen.append(step.observation.text)
    return out
