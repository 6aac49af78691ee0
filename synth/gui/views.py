"""Trainer views of GUI episodes: one sample per step, "screen + instruction + history ->
action", self-consistent in what the prompt shows and what the response may use.

Why per step: GUI grounding sets (AITW, AndroidControl, GUI-Odyssey, Mind2Web, GUI-Libra)
train on single decisions, each with the screen the agent acted on, the task, the actions so
far and the action taken, plus the target element's box so grounding can be scored.

Two views of the same step, because GUI trainers use both and they allow different outputs:

- ``a11y``: the screenshot and the accessibility tree of that screen (SeeAct, Mind2Web and
  OS-Atlas style). The response may name elements by the ids of *that* tree
  (``select(element=3, option="Spain")``); the tree is in the prompt, so every id is resolvable.
- ``screenshot``: the screenshot only (UI-TARS, AGUVIS, Qwen2.5-VL style). Every action is
  grounded in coordinates: an element action is mapped to a seeded point inside the element's
  box (``select(x=412, y=230, option="Spain")``), which the env and the step checker accept
  as they accept the id.

Thoughts name elements only by their visible label and role (the phrasing layer never writes
ids or pixels), so one stored thought is valid in both views. History lines name the screen
each earlier action was taken on and the label of what it hit, so a thought that refers to an
earlier screen refers to something the prompt shows. Two response styles per view: reasoning
(``<think>thought</think>`` then the action) and direct (the action only; GUI-Libra trains on a
mix, since reasoning helps planning but plain action steps keep grounding sharp).

Only ``train`` rows by default: the ``corrupt`` split's replays keep their source's policy
(so a corrupted copy reads as "expert"), so it is opt-in, and every sample carries ``split``
and ``corruption``. ``acceptable`` says whether the step's action (as the view writes it) was
in the env's accepted set (:func:`synth.gui.actions.is_acceptable`), so a trainer can keep
only acceptable steps of noisy episodes or use the rest as negatives.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from stores.schema import Step, Trajectory, from_table
from synth.gui.actions import is_acceptable, point, point_in, to_norm1000

VIEWS = ("a11y", "screenshot")
VARIANTS = ("reasoning", "direct")
COORDS = ("pixels", "norm1000")

STEP_SAMPLE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("trajectory_id", pa.string()),
        ("step", pa.int32()),
        ("view", pa.string()),
        ("variant", pa.string()),
        ("app", pa.string()),
        ("difficulty", pa.int8()),
        ("tier", pa.string()),
        ("split", pa.string()),
        ("corruption", pa.string()),
        ("episode_success", pa.bool_()),
        ("instruction", pa.string()),
        ("history", pa.list_(pa.string())),
        ("screen_width", pa.int32()),
        ("screen_height", pa.int32()),
        ("image_ref", pa.string()),
        ("image", pa.binary()),
        ("a11y_tree", pa.string()),
        ("thought", pa.string()),
        ("action", pa.string()),
        ("action_text", pa.string()),
        ("point", pa.list_(pa.int32())),
        ("point_1000", pa.list_(pa.int32())),
        ("target_box", pa.list_(pa.int32())),
        ("target_box_1000", pa.list_(pa.int32())),
        ("acceptable", pa.bool_()),
        ("prompt", pa.string()),
        ("response", pa.string()),
    ]
)

ACTION_SPACE = {
    "a11y": ("click(x, y) or click(element); long_press(x, y) or long_press(element); type(text) into the focused "
             "field, or type(element, text); select(element, option); scroll(direction, amount[, x, y]); "
             "press_key(key); navigate_back(); wait(); answer(answer); finish()"),
    "screenshot": ("click(x, y); long_press(x, y); type(text) into the focused field, or type(x, y, text); "
                   "select(x, y, option); scroll(direction, amount[, x, y]); press_key(key); navigate_back(); "
                   "wait(); answer(answer); finish()"),
}  # fmt: skip
PROMPT = (
    "<image>\n{tree}Task: {instruction}\nPrevious actions:\n{history}\n"
    "Actions: {space}. {units}\nGive the next action{how}."
)
UNITS = {"pixels": "Coordinates are pixels of the {w}x{h} screen.",
         "norm1000": "Coordinates are 0-1000 fractions of the screen's width and height."}  # fmt: skip
_LINE = re.compile(r'^\s*\[(\d+)\] (\w+) ("(?:[^"\\]|\\.)*")(.*) bbox=\((\d+),(\d+),(\d+),(\d+)\)$')
_POINTED = ("click", "long_press", "scroll", "type", "select")


def action_text(name: str, args: Any) -> str:
    """The action as a call, the form GUI training sets print: ``click(x=412, y=230)``.

    Arguments in sorted order, as stored (canonical JSON), so a step reads the same before
    and after a trip through Parquet."""
    if not isinstance(args, dict) or not args:
        return f"{name}()"
    parts = ", ".join(f"{k}={orjson.dumps(args[k]).decode()}" for k in sorted(args))
    return f"{name}({parts})"


def tree_elements(text: str | None) -> dict[int, tuple[str, str, tuple[int, int, int, int]]]:
    """``id -> (role, name, box)`` of every element line of a stored screen's tree text."""
    out = {}
    for line in (text or "").splitlines():
        m = _LINE.match(line)
        if m:
            out[int(m.group(1))] = (m.group(2), orjson.loads(m.group(3)), tuple(int(m.group(i)) for i in range(5, 9)))
    return out


def step_samples(
    trajectories: pa.Table,
    blobs: pa.Table | None = None,
    variants: Sequence[str] = VARIANTS,
    acceptable_only: bool = False,
    views: Sequence[str] = VIEWS,
    splits: Sequence[str] | None = ("train",),
    coords: str = "pixels",
) -> pa.Table:
    """One row per (gui step, view, variant) of ``trajectories``; non-gui rows are skipped.

    ``blobs`` (the version's blobs table) fills ``image`` with the screenshot's bytes; without
    it only ``image_ref`` is set. ``splits``: the splits to keep (None: all). ``coords``:
    ``pixels`` or ``norm1000`` for the coordinates in prompts and responses.
    ``acceptable_only`` drops steps whose action the env did not accept as progress (the
    mistakes of noisy and reflective episodes).
    """
    _check("variants", variants, VARIANTS)
    _check("views", views, VIEWS)
    if coords not in COORDS:
        raise ValueError(f"coords must be one of {list(COORDS)}, got {coords!r}")
    keep = pc.equal(trajectories["kind"], "gui")
    if splits is not None:
        if not splits:
            raise ValueError("splits must name at least one split (e.g. train), or be None for all")
        keep = pc.and_(keep, pc.is_in(trajectories["split"], pa.array(list(splits), pa.string())))
    images = _image_lookup(blobs)
    rows: list[dict[str, Any]] = []
    for t in from_table(trajectories.filter(keep)):
        size = (int(t.task.env["screen"][0]), int(t.task.env["screen"][1]))
        history: dict[str, list[str]] = {v: [] for v in views}
        before = t.initial_observation
        for step in t.steps:
            tree = tree_elements(before.text if before is not None else None)
            for view in views:
                sample = _sample(t, step, before, tree, history[view], size, images, view, coords)
                history[view].append(_history_line(sample, before, tree, step))
                if acceptable_only and not sample["acceptable"] or sample.pop("unwritable"):
                    continue
                rows += [_variant(sample, variant, coords) for variant in variants]
            before = step.observation
    return pa.Table.from_pylist(rows, schema=STEP_SAMPLE_SCHEMA)


def _check(what: str, given: Sequence[str], known: tuple[str, ...]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown or not given:
        raise ValueError(f"{what} must be a non-empty subset of {list(known)}, got {list(given)}")


def grounded(name: str, args: Any, tree: dict[int, tuple[str, str, tuple[int, int, int, int]]],
             rng: random.Random) -> dict[str, Any]:  # fmt: skip
    """``args`` with an element id replaced by a seeded point inside that element's box (as
    the tree of the screen the action was taken on gives it): the screenshot-only form."""
    if not isinstance(args, dict) or name not in _POINTED or "element" not in args:
        return args
    el = tree.get(args["element"]) if type(args["element"]) is int else None
    if el is None:
        return args  # an id that named nothing: no point can stand for it (the sample is left out)
    x, y = point_in(el[2], rng)
    return {**{k: v for k, v in args.items() if k != "element"}, "x": x, "y": y}


def _sample(t: Trajectory, step: Step, before: Any, tree: dict, history: list[str], size: tuple[int, int],
            images: dict[str, bytes], view: str, coords: str) -> dict[str, Any]:  # fmt: skip
    name, args = step.action.name, step.action.arguments
    unwritable = False
    if view == "screenshot":
        args = grounded(name, args, tree, random.Random(f"{t.id}:{step.index}"))
        # an id that named nothing on screen (an LLM's slip) has no point to stand for it
        unwritable = isinstance(args, dict) and "element" in args
    at = point(args, size) if isinstance(args, dict) and name in _POINTED else None
    box = _target_box(step.accepted_actions, name, args, size)
    shown = _in_units(name, args, size, coords)
    ref = before.image_ref if before is not None else None
    corruption = t.corruption
    return {
        "trajectory_id": t.id,
        "step": step.index,
        "view": view,
        "app": t.task.family,
        "difficulty": t.task.difficulty,
        "tier": t.policy.tier,
        "split": t.split,
        "corruption": None if corruption is None else orjson.dumps(
            {"operator": corruption.operator, "steps": corruption.steps, "source_id": corruption.source_id}).decode(),
        "episode_success": t.outcome.success,
        "instruction": t.task.instruction,
        "history": list(history),
        "screen_width": size[0],
        "screen_height": size[1],
        "image_ref": ref,
        "image": images.get(ref) if ref is not None else None,
        "a11y_tree": before.text if before is not None else None,
        "thought": step.thought,
        "action": orjson.dumps({"name": name, "arguments": shown}, option=orjson.OPT_SORT_KEYS).decode(),
        "action_text": action_text(name, shown),
        "point": list(at) if at is not None else None,
        "point_1000": list(to_norm1000(*at, size)) if at is not None else None,
        "target_box": box,
        "target_box_1000": _box_1000(box, size),
        "acceptable": is_acceptable(step.accepted_actions, name, args, size),
        "unwritable": unwritable,
    }


def _in_units(name: str, args: Any, size: tuple[int, int], coords: str) -> Any:
    """The action's arguments with its point in the export's coordinate units."""
    if coords == "pixels" or not isinstance(args, dict) or name not in _POINTED:
        return args
    at = point(args, size)
    if at is None:
        return args
    x, y = to_norm1000(*at, size)
    return {**args, "x": x, "y": y}


def _history_line(sample: dict[str, Any], before: Any, tree: dict, step: Step) -> str:
    """``On "Inbox - Mail": click(x=412, y=230) on the "Q3 report" listitem``: where an earlier
    action was taken and what it hit, so later thoughts can refer to it."""
    title = (before.text or "").split("\n")
    head = next((ln for ln in title if ln.startswith("window ")), "")
    where = head[len("window "):head.rfind(" size=")] if head else '""'
    line = f"On {where}: {sample['action_text']}"
    args = step.action.arguments
    hit = None
    if isinstance(args, dict):
        if type(args.get("element")) is int:
            hit = tree.get(args["element"])
        elif sample["point"] is not None:
            x, y = sample["point"]
            inside = [e for e in tree.values() if e[2][0] <= x < e[2][2] and e[2][1] <= y < e[2][3]]
            hit = inside[-1] if inside else None
    return line + (f" on the {orjson.dumps(hit[1]).decode()} {hit[0]}" if hit is not None else "")


def _variant(sample: dict[str, Any], variant: str, coords: str) -> dict[str, Any]:
    history = "\n".join(f"{i + 1}. {a}" for i, a in enumerate(sample["history"])) or "(none)"
    how = ": think step by step inside <think></think>, then give the action" if variant == "reasoning" else ""
    response = sample["action_text"]
    if variant == "reasoning":
        response = f"<think>{sample['thought']}</think>\n{response}"
    view = sample["view"]
    tree = f"Accessibility tree of the screen:\n{sample['a11y_tree']}\n" if view == "a11y" else ""
    units = UNITS[coords].format(w=sample["screen_width"], h=sample["screen_height"])
    return {
        **sample,
        "sample_id": f"{sample['trajectory_id']}:{sample['step']}:{view}:{variant}",
        "variant": variant,
        "prompt": PROMPT.format(tree=tree, instruction=sample["instruction"], history=history,
                                space=ACTION_SPACE[view], units=units, how=how),  # fmt: skip
        "response": response,
    }


def _target_box(accepted: Any, name: str, args: Any, size: tuple[int, int]) -> list[int] | None:
    """The box of the accepted entry this action satisfies (the element it grounds on), if any."""
    for entry in accepted or []:
        if "box" in entry and is_acceptable([entry], name, args, size):
            return list(entry["box"])
    return None


def _box_1000(box: list[int] | None, size: tuple[int, int]) -> list[int] | None:
    if box is None:
        return None
    return [*to_norm1000(box[0], box[1], size), *to_norm1000(box[2], box[3], size)]


def _image_lookup(blobs: pa.Table | None) -> dict[str, bytes]:
    if blobs is None or blobs.num_rows == 0:
        return {}
    return dict(zip(blobs["id"].to_pylist(), blobs["bytes"].to_pylist(), strict=True))
