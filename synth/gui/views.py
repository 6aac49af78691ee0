"""Trainer views of GUI episodes: one sample per step, "screenshot + instruction + history ->
action", in a reasoning-then-action and a direct-action variant.

Why per step: GUI grounding sets (AITW, AndroidControl, GUI-Odyssey, Mind2Web, GUI-Libra)
train on single decisions, each with the screen the agent acted on, the task, the actions so
far and the action taken, plus the target element's box so grounding can be scored. Why two
variants: GUI-Libra trains on a mix of steps with and without reasoning, since reasoning
helps planning but plain action steps keep grounding sharp; both come from the same stored
step, so the mix ratio is a choice at export time, not a second dataset.

The screen a step acted on is the previous step's observation (the trajectory's
``initial_observation`` for step 0). Coordinates are kept in pixels and given in the
0-1000 form as well. ``acceptable`` says whether the step's action was in the env's accepted
set at that step (the stored step checker, :func:`synth.gui.actions.is_acceptable`), so a
trainer can keep only acceptable steps of noisy episodes or use the rest as negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from stores.schema import Step, Trajectory, from_table
from synth.gui.actions import is_acceptable, point, to_norm1000

VARIANTS = ("reasoning", "direct")

STEP_SAMPLE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("trajectory_id", pa.string()),
        ("step", pa.int32()),
        ("variant", pa.string()),
        ("app", pa.string()),
        ("difficulty", pa.int8()),
        ("tier", pa.string()),
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

PROMPT = (
    "<image>\nTask: {instruction}\nPrevious actions:\n{history}\n"
    "Give the next action{how}."
)


def action_text(name: str, args: Any) -> str:
    """The action as a call, the form GUI training sets print: ``click(x=412, y=230)``.

    Arguments in sorted order, as stored (canonical JSON), so a step reads the same before
    and after a trip through Parquet."""
    if not isinstance(args, dict) or not args:
        return f"{name}()"
    parts = ", ".join(f"{k}={orjson.dumps(args[k]).decode()}" for k in sorted(args))
    return f"{name}({parts})"


def step_samples(
    trajectories: pa.Table,
    blobs: pa.Table | None = None,
    variants: Sequence[str] = VARIANTS,
    acceptable_only: bool = False,
) -> pa.Table:
    """One row per (gui step, variant) of ``trajectories``; non-gui rows are skipped.

    ``blobs`` (the version's blobs table) fills ``image`` with the screenshot's bytes; without
    it only ``image_ref`` is set. ``acceptable_only`` drops steps whose action the env did not
    accept as progress (the mistakes of noisy and reflective episodes).
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or not variants:
        raise ValueError(f"variants must be a non-empty subset of {list(VARIANTS)}, got {list(variants)}")
    gui = trajectories.filter(pc.equal(trajectories["kind"], "gui"))
    images = _image_lookup(blobs)
    rows: list[dict[str, Any]] = []
    for t in from_table(gui):
        size = tuple(t.task.env["screen"])
        history: list[str] = []
        before = t.initial_observation
        for step in t.steps:
            sample = _sample(t, step, before, history, size, images)
            history.append(sample["action_text"])
            before = step.observation
            if acceptable_only and not sample["acceptable"]:
                continue
            for variant in variants:
                rows.append(_variant(sample, variant))
    return pa.Table.from_pylist(rows, schema=STEP_SAMPLE_SCHEMA)


def _sample(
    t: Trajectory, step: Step, before: Any, history: list[str], size: tuple[int, int], images: dict[str, bytes]
) -> dict[str, Any]:
    name, args = step.action.name, step.action.arguments
    at = point(args, size) if isinstance(args, dict) and name in ("click", "long_press", "scroll") else None
    box = _target_box(step.accepted_actions, name, args, size)
    ref = before.image_ref if before is not None else None
    return {
        "trajectory_id": t.id,
        "step": step.index,
        "app": t.task.family,
        "difficulty": t.task.difficulty,
        "tier": t.policy.tier,
        "episode_success": t.outcome.success,
        "instruction": t.task.instruction,
        "history": list(history),
        "screen_width": size[0],
        "screen_height": size[1],
        "image_ref": ref,
        "image": images.get(ref) if ref is not None else None,
        "a11y_tree": before.text if before is not None else None,
        "thought": step.thought,
        "action": orjson.dumps({"name": name, "arguments": args}, option=orjson.OPT_SORT_KEYS).decode(),
        "action_text": action_text(name, args),
        "point": list(at) if at is not None else None,
        "point_1000": list(to_norm1000(*at, size)) if at is not None else None,
        "target_box": box,
        "target_box_1000": _box_1000(box, size),
        "acceptable": is_acceptable(step.accepted_actions, name, args, size),
    }


def _variant(sample: dict[str, Any], variant: str) -> dict[str, Any]:
    history = "\n".join(f"{i + 1}. {a}" for i, a in enumerate(sample["history"])) or "(none)"
    how = ": think step by step inside <think></think>, then give the action" if variant == "reasoning" else ""
    response = sample["action_text"]
    if variant == "reasoning":
        response = f"<think>{sample['thought']}</think>\n{response}"
    return {
        **sample,
        "sample_id": f"{sample['trajectory_id']}:{sample['step']}:{variant}",
        "variant": variant,
        "prompt": PROMPT.format(instruction=sample["instruction"], history=history, how=how),
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
