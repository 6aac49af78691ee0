"""Trainer views: the canonical trajectory table reshaped into the formats trainers read.

Views are derived on demand, never stored: a version holds the canonical rows, and each view
is a pure function of them (plus the version's blobs for images), so a view of ``NAME@vN`` is
the same bytes whenever it is built. Each returns an Arrow table whose columns are the names
TRL reads (``messages``, ``prompt``/``chosen``/``rejected``, ``prompt``/``completions``/``labels``),
plus ids and metadata columns for filtering and joining back:

- ``sft``: one conversation per trajectory (TRL ``SFTTrainer``, conversational format);
- ``preference``: ``prompt`` / ``chosen`` / ``rejected`` conversations with their scores and
  margin (TRL ``DPOTrainer``, conversational preference format with an explicit prompt);
- ``prm``: ``prompt`` / ``completions`` (one string per step) / ``labels`` (one bool per step)
  (TRL ``trl.experimental.prm.PRMTrainer``, stepwise supervision), plus ProcessBench's ``label``;
- ``rl-prompts``: one row per task with its reference and verifier, for online RL (GRPO);
- ``gui-steps``: one sample per GUI step and view (:mod:`synth.gui.views`), with chat content
  lists and the screenshot as an Image feature.

Why conversations carry tool calls as OpenAI-style ``{type: function, function: {name,
arguments}}`` with ``arguments`` a JSON string: an Arrow column needs one type, and tool
arguments differ per action; chat templates that want a dict can ``fromjson`` it, and TRL
passes the ``tools`` JSON string through ``json.loads``. Images are ``{bytes, path}`` structs,
the Arrow form of the ``datasets`` Image feature (:func:`image_features` declares them), with one
``<image>`` placeholder in the text per image, in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
TOOL_CALL_TYPE = pa.struct(
    [("type", pa.string()), ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())]))]
)
MESSAGE_TYPE = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("reasoning_content", pa.string()),
        ("tool_calls", pa.list_(TOOL_CALL_TYPE)),
        ("tool_call_id", pa.string()),
        ("name", pa.string()),
    ]
)
MESSAGES_TYPE = pa.list_(MESSAGE_TYPE)
IMAGE_PLACEHOLDER = "<image>"

#: what the model is told it is doing, per kind; the task text follows in the user turn
SYSTEM = {
    "reasoning": "You solve puzzles. Reason step by step, then give the final answer.",
    "gui": ("You operate a graphical app to complete the user's task. Call one tool per turn; each result "
            "shows the screen that follows (a screenshot and its accessibility tree)."),
    "research": ("You answer questions by researching an offline encyclopedia. Call one tool per turn; "
                 "finish by calling answer."),
}  # fmt: skip

_META = [
    ("trajectory_id", pa.string()),
    ("task_id", pa.string()),
    ("kind", pa.string()),
    ("family", pa.string()),
    ("difficulty", pa.int8()),
    ("tier", pa.string()),
    ("split", pa.string()),
    ("success", pa.bool_()),
]
SFT_SCHEMA = pa.schema(
    [*_META, ("messages", MESSAGES_TYPE), ("tools", pa.string()), ("images", pa.list_(IMAGE_TYPE))]
)
PREFERENCE_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("kind", pa.string()),
        ("family", pa.string()),
        ("difficulty", pa.int8()),
        ("chosen_id", pa.string()),
        ("rejected_id", pa.string()),
        ("prompt", MESSAGES_TYPE),
        ("chosen", MESSAGES_TYPE),
        ("rejected", MESSAGES_TYPE),
        ("score_name", pa.string()),
        ("chosen_score", pa.float32()),
        ("rejected_score", pa.float32()),
        ("margin", pa.float32()),
        ("tools", pa.string()),
        ("images", pa.list_(IMAGE_TYPE)),
    ]
)
PRM_SCHEMA = pa.schema(
    [
        *_META,
        ("prompt", pa.string()),
        ("completions", pa.list_(pa.string())),
        ("labels", pa.list_(pa.bool_())),
        ("label", pa.int32()),
        ("score_name", pa.string()),
    ]
)
RL_PROMPT_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("kind", pa.string()),
        ("family", pa.string()),
        ("difficulty", pa.int8()),
        ("prompt", MESSAGES_TYPE),
        ("reference", pa.string()),
        ("verifier", pa.string()),
        ("env", pa.string()),
        ("tools", pa.string()),
        ("split", pa.string()),
    ]
)
PAIRS_SCHEMA = pa.schema([("chosen_id", pa.string()), ("rejected_id", pa.string())])


class ViewError(ValueError):
    """A view cannot be built from this input; the message says what to change."""


# ---------------------------------------------------------------------------- shared pieces


def _keep(table: pa.Table, splits: Sequence[str] | None, success_only: bool = False) -> pa.Table:
    """Rows of ``splits`` (None: all), and only successful ones with ``success_only``."""
    if splits is not None:
        if not splits:
            raise ViewError("splits must name at least one split (e.g. train), or be None for all")
        table = table.filter(pc.is_in(table["split"], pa.array(list(splits), pa.string())))
    if success_only:
        table = table.filter(pc.fill_null(pc.struct_field(table["outcome"], "success"), False))
    return table


def _image_lookup(blobs: pa.Table | None) -> dict[str, dict[str, Any]]:
    """blob id -> Image struct (``path`` names the blob, so a trainer can tell images apart)."""
    if blobs is None or blobs.num_rows == 0:
        return {}
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
    return {
        i: {"bytes": b, "path": f"{i}.{ext.get(m, 'bin')}"}
        for i, m, b in zip(blobs["id"].to_pylist(), blobs["media_type"].to_pylist(), blobs["bytes"].to_pylist(),
                           strict=True)  # fmt: skip
    }


def action_tools(table: pa.Table) -> dict[str, str]:
    """family -> JSON list of function schemas of the actions its rows use (TRL's ``tools``).

    Inferred from the stored calls (one DuckDB pass over every step: action names, argument
    keys and their JSON types, required = present in every call), so the schemas describe the
    action space exactly as the data uses it, with the env's ``valid_if`` rule as the
    description where the env gave one. Reasoning families' steps are thoughts, not calls, and
    get no tools.
    """
    episodes = table.select(["kind", "task", "steps"])  # noqa: F841 - read by DuckDB
    with duckdb.connect() as con:
        found = con.execute(
            """
            WITH calls AS (
                SELECT task.family AS family, s.action.name AS name, s.action.arguments AS args
                FROM (SELECT kind, task, unnest(steps) AS s FROM episodes WHERE kind <> 'reasoning')
            ), counted AS (SELECT family, name, count(*) AS calls FROM calls GROUP BY ALL),
            keys AS (
                SELECT family, name, k, json_type(args, '$."' || k || '"') AS t
                FROM (SELECT family, name, args, unnest(json_keys(args)) AS k FROM calls WHERE json_type(args) = 'OBJECT')
            )
            SELECT c.family, c.name, k.k, list(DISTINCT k.t ORDER BY k.t) AS types, count(k.t) = c.calls AS required
            FROM counted c LEFT JOIN keys k USING (family, name)
            GROUP BY c.family, c.name, k.k, c.calls ORDER BY c.family, c.name, k.k
            """
        ).fetchall()
        rules = con.execute(
            """
            SELECT family, r.name, min(r.valid_if) FROM (
                SELECT task.family AS family,
                       unnest(from_json(s.accepted_actions, '[{"name": "VARCHAR", "valid_if": "VARCHAR"}]')) AS r
                FROM (SELECT task, unnest(steps) AS s FROM episodes WHERE kind <> 'reasoning')
                WHERE json_type(s.accepted_actions) = 'ARRAY'
            ) WHERE r.valid_if IS NOT NULL GROUP BY ALL
            """
        ).fetchall()
    described = {(f, n): d for f, n, d in rules}
    schemas: dict[str, dict[str, dict[str, Any]]] = {}
    for family, name, key, types, required in found:
        fn = schemas.setdefault(family, {}).setdefault(name, {
            "name": name, "description": described.get((family, name), ""),
            "parameters": {"type": "object", "properties": {}, "required": []}})  # fmt: skip
        if key is None:
            continue
        json_types = sorted({_JSON_TYPES[t] for t in types})
        fn["parameters"]["properties"][key] = {"type": json_types[0] if len(json_types) == 1 else json_types}
        if required:
            fn["parameters"]["required"].append(key)
    return {
        family: orjson.dumps([{"type": "function", "function": fn} for _, fn in sorted(fns.items())]).decode()
        for family, fns in schemas.items()
    }


_JSON_TYPES = {"BIGINT": "integer", "UBIGINT": "integer", "DOUBLE": "number", "VARCHAR": "string",
               "BOOLEAN": "boolean", "ARRAY": "array", "OBJECT": "object", "NULL": "null"}  # fmt: skip


def _message(role: str, content: str | None = None, reasoning: str | None = None,
             tool_calls: list | None = None, tool_call_id: str | None = None, name: str | None = None) -> dict:  # fmt: skip
    return {"role": role, "content": content, "reasoning_content": reasoning, "tool_calls": tool_calls,
            "tool_call_id": tool_call_id, "name": name}  # fmt: skip


def _with_image(text: str, ref: str | None, images: dict[str, dict], out: list[dict] | None) -> str:
    """``text`` with an ``<image>`` placeholder first when the image is embedded (``out``)."""
    if out is None or ref is None or ref not in images:
        return text
    out.append(images[ref])
    return f"{IMAGE_PLACEHOLDER}\n{text}" if text else IMAGE_PLACEHOLDER


def _prompt(row: dict, images: dict, out: list | None) -> list[dict]:
    """System + user turns: the kind's role, the task, and what the agent saw first."""
    task = row["task"]["instruction"]
    first = row["initial_observation"]
    text = task if not first or not first["text"] else f"{task}\n\n{first['text']}"
    return [_message("system", SYSTEM.get(row["kind"], "")),
            _message("user", _with_image(text, first["image_ref"] if first else None, images, out))]  # fmt: skip


def _completion(row: dict, images: dict, out: list | None) -> list[dict]:
    """The assistant's side of an episode, after the prompt.

    Reasoning rows are one assistant turn: the trace's thoughts (also as ``reasoning_content``,
    for templates that render a thinking block) then the answer. Tool-using rows are one
    assistant turn per step (thought as content and reasoning_content, the action as a tool
    call) followed by the tool turn with the env's observation; the final answer, when there is
    one, closes the conversation.
    """
    steps, answer = row["steps"], row["final_answer"]
    if row["kind"] == "reasoning":
        trace = "\n\n".join(s["thought"] for s in steps if s["thought"])
        content = f"{trace}\n\nAnswer: {answer}" if trace else f"Answer: {answer}"
        return [_message("assistant", content, trace or None)]
    turns = []
    for s in steps:
        call_id = f"call_{s['index']}"
        call = {"type": "function", "function": {"name": s["action"]["name"], "arguments": s["action"]["arguments"]}}
        turns.append(_message("assistant", s["thought"], s["thought"] or None, [call]))
        obs = s["observation"]
        turns.append(_message("tool", _with_image(obs["text"] or "", obs["image_ref"], images, out),
                              tool_call_id=call_id, name=s["action"]["name"]))  # fmt: skip
    if answer is not None:
        turns.append(_message("assistant", answer))
    return turns


def _meta(row: dict) -> dict[str, Any]:
    return {
        "trajectory_id": row["id"],
        "task_id": row["task"]["id"],
        "kind": row["kind"],
        "family": row["task"]["family"],
        "difficulty": row["task"]["difficulty"],
        "tier": row["policy"]["tier"],
        "split": row["split"],
        "success": row["outcome"]["success"],
    }


_CONVERSATION_COLUMNS = ["id", "kind", "task", "steps", "initial_observation", "final_answer", "outcome",
                         "policy", "split", "scores"]  # fmt: skip


# ---------------------------------------------------------------------------- views


def sft(table: pa.Table, blobs: pa.Table | None = None, splits: Sequence[str] | None = ("train",),
        success_only: bool = True) -> pa.Table:  # fmt: skip
    """One conversation per trajectory: ``messages``, ``tools`` and ``images``.

    Defaults keep what a trainer imitates: ``train`` rows of successful episodes (pass
    ``success_only=False`` for all, e.g. to weight by score). ``blobs`` embeds the screenshots
    (``images``, one per ``<image>`` placeholder); without it ``images`` is null and no
    placeholder is written, so text-only models read the same turns.
    """
    kept = _keep(table, splits, success_only)
    tools = action_tools(kept)
    images = _image_lookup(blobs)
    rows = []
    for row in kept.select(_CONVERSATION_COLUMNS).to_pylist():
        shown: list | None = [] if images else None
        messages = _prompt(row, images, shown) + _completion(row, images, shown)
        rows.append({**_meta(row), "messages": messages, "tools": tools.get(row["task"]["family"]),
                     "images": shown or None})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SFT_SCHEMA)


def preference_pairs(table: pa.Table, score: str = "verifier", max_pairs_per_task: int = 1) -> pa.Table:
    """``chosen_id`` / ``rejected_id`` pairs built from groups on the fly.

    A group is the episodes of one task (the same ``task.id``: other tiers' attempts, and the
    ``corrupt`` split's labelled copies, which keep their source's task). Within a group
    episodes rank by ``score`` (higher first), then fewer steps, then id, so the order is a
    pure function of the rows; the best is paired with the worst, the second best with the
    second worst, and so on, while the chosen one scores strictly higher. Tasks without two
    distinct scores give no pair. This is the fallback for versions without stored pairs: the
    selection stage writes a ``preference_pairs`` table with the same two columns, which
    :func:`preference` takes as ``pairs`` instead.
    """
    if max_pairs_per_task < 1:
        raise ViewError("max_pairs_per_task must be at least 1")
    scored = table.select(["id", "task", "steps", "scores"])  # noqa: F841 - read by DuckDB
    with duckdb.connect() as con:
        found = con.sql(
            """
            WITH s AS (
                SELECT id, task.id AS task_id, len(steps) AS n,
                       list_filter(scores, lambda e: e.name = $score)[1].value AS v
                FROM scored
            ), ranked AS (
                SELECT *, row_number() OVER (PARTITION BY task_id ORDER BY v DESC, n, id) AS best,
                          row_number() OVER (PARTITION BY task_id ORDER BY v ASC, n DESC, id DESC) AS worst
                FROM s WHERE v IS NOT NULL AND NOT isnan(v)
            )
            SELECT c.id AS chosen_id, r.id AS rejected_id FROM ranked c JOIN ranked r
              ON c.task_id = r.task_id AND c.best = r.worst AND c.v > r.v
            WHERE c.best <= $max ORDER BY c.task_id, c.best
            """,
            params={"score": score, "max": max_pairs_per_task},
        ).to_arrow_table()
    return found.cast(PAIRS_SCHEMA)


def preference(table: pa.Table, blobs: pa.Table | None = None, pairs: pa.Table | None = None,
               score: str = "verifier", max_pairs_per_task: int = 1) -> pa.Table:  # fmt: skip
    """``prompt`` / ``chosen`` / ``rejected`` conversations with scores and margin.

    ``pairs`` (``chosen_id``, ``rejected_id``) are the selection stage's pairs; without them they
    are built from task groups (:func:`preference_pairs`). Both sides of a pair answer the same
    prompt (same task and first observation), which is checked: a pair across tasks is refused.
    ``images`` holds the images of the prompt only: DPO trainers see one image list per row, and
    the two completions' screens differ.
    """
    if pairs is None:
        pairs = preference_pairs(table, score, max_pairs_per_task)
    elif set(PAIRS_SCHEMA.names) - set(pairs.column_names):
        raise ViewError(f"preference pairs need columns {PAIRS_SCHEMA.names}, got {pairs.column_names}")
    ids = pairs["chosen_id"].to_pylist() + pairs["rejected_id"].to_pylist()
    rows = {r["id"]: r for r in table.filter(pc.is_in(table["id"], pa.array(ids, pa.string())))
            .select(_CONVERSATION_COLUMNS).to_pylist()}  # fmt: skip
    tools = action_tools(table)
    images = _image_lookup(blobs)
    out = []
    for chosen_id, rejected_id in zip(pairs["chosen_id"].to_pylist(), pairs["rejected_id"].to_pylist(), strict=True):
        missing = [i for i in (chosen_id, rejected_id) if i not in rows]
        if missing:
            raise ViewError(f"preference pair ({chosen_id}, {rejected_id}) names trajectories this version lacks: {missing}")
        c, r = rows[chosen_id], rows[rejected_id]
        if c["task"]["id"] != r["task"]["id"] or c["initial_observation"] != r["initial_observation"]:
            raise ViewError(f"preference pair ({chosen_id}, {rejected_id}) joins different prompts "
                            f"(tasks {c['task']['id']} and {r['task']['id']}); pair episodes of one task")  # fmt: skip
        shown: list | None = [] if images else None
        cs, rs = _score(c, score), _score(r, score)
        out.append({
            "task_id": c["task"]["id"], "kind": c["kind"], "family": c["task"]["family"],
            "difficulty": c["task"]["difficulty"], "chosen_id": chosen_id, "rejected_id": rejected_id,
            "prompt": _prompt(c, images, shown), "chosen": _completion(c, images, None),
            "rejected": _completion(r, images, None), "score_name": score, "chosen_score": cs,
            "rejected_score": rs, "margin": None if cs is None or rs is None else cs - rs,
            "tools": tools.get(c["task"]["family"]), "images": shown or None,
        })  # fmt: skip
    return pa.Table.from_pylist(out, schema=PREFERENCE_SCHEMA)


def _score(row: dict, name: str) -> float | None:
    return next((e["value"] for e in row["scores"] or [] if e["name"] == name), None)


def step_text(kind: str, thought: str, name: str, arguments: str) -> str:
    """One PRM step: the thought, and for tool-using kinds the call it made."""
    if kind == "reasoning":
        return thought
    call = f"{name}({arguments})" if arguments not in ("{}", "null") else f"{name}()"
    return f"{thought}\nAction: {call}" if thought else f"Action: {call}"


def prm(table: pa.Table, score: str = "prefix_correct", threshold: float = 0.5,
        splits: Sequence[str] | None = None) -> pa.Table:  # fmt: skip
    """TRL's stepwise supervision: ``prompt``, ``completions`` (one string per step), ``labels``.

    ``labels[i]`` is ``step_scores[score][i] >= threshold``: with the env's ``prefix_correct``
    labels (1 before the first error, 0 from it on) any threshold in (0, 1] gives the same
    bools; Monte Carlo or learned reward-model scores need the threshold chosen for them.
    ``label`` is ProcessBench's: the index of the first False step, -1 if none. Rows without
    ``score`` (unscored) or without steps are left out, since a PRM cannot learn from them; all
    splits by default, because the ``corrupt`` split's relabelled copies are where most first
    errors are.
    """
    kept = _keep(table, splits)
    entries = kept["step_scores"].combine_chunks()
    owner = pc.list_parent_indices(entries).to_numpy()
    flat = pc.list_flatten(entries)
    match = np.asarray(pc.equal(pc.struct_field(flat, "name"), score).fill_null(False))
    values = pc.struct_field(flat, "values").filter(pa.array(match))
    rows = owner[match]
    if len(np.unique(rows)) != len(rows):
        raise ViewError(f"step score {score!r} appears twice in a row; the table breaks the contract")
    kept = kept.take(pa.array(rows, pa.int64()))
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    has_steps = lengths > 0
    kept, values, lengths = kept.filter(pa.array(has_steps)), values.filter(pa.array(has_steps)), lengths[has_steps]
    flat_values = pc.list_flatten(values).to_numpy(zero_copy_only=False).astype(np.float64)
    good = np.nan_to_num(flat_values, nan=-math.inf) >= threshold  # a null score is not a good step
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    starts = offsets[:-1]
    bad_positions = np.flatnonzero(~good)
    first_bad_flat = np.full(len(lengths), -1, dtype=np.int64)
    if len(bad_positions):
        owners_bad = np.searchsorted(starts, bad_positions, side="right") - 1
        first = np.unique(owners_bad, return_index=True)
        first_bad_flat[first[0]] = bad_positions[first[1]] - starts[first[0]]
    labels = pa.ListArray.from_arrays(pa.array(offsets), pa.array(good, pa.bool_()))
    steps = kept["steps"].combine_chunks()
    flat_steps = pc.list_flatten(steps)
    kinds = np.asarray(kept["kind"].to_numpy(zero_copy_only=False))[pc.list_parent_indices(steps).to_numpy()]
    texts = [step_text(k, t, n, a) for k, t, n, a in zip(
        kinds, pc.struct_field(flat_steps, "thought").to_pylist(),
        pc.struct_field(flat_steps, ["action", "name"]).to_pylist(),
        pc.struct_field(flat_steps, ["action", "arguments"]).to_pylist(), strict=True)]  # fmt: skip
    completions = pa.ListArray.from_arrays(pa.array(offsets), pa.array(texts, pa.string()))
    meta = [_meta(r) for r in kept.select(["id", "task", "kind", "policy", "split", "outcome"]).to_pylist()]
    prompts = [_prm_prompt(r) for r in kept.select(["kind", "task", "initial_observation"]).to_pylist()]
    out = pa.Table.from_pylist(meta, schema=pa.schema(_META))
    return pa.table(
        {**{n: out[n] for n in out.column_names}, "prompt": pa.array(prompts, pa.string()), "completions": completions,
         "labels": labels, "label": pa.array(first_bad_flat, pa.int32()),
         "score_name": pa.array([score] * kept.num_rows, pa.string())},  # fmt: skip
        schema=PRM_SCHEMA,
    )


def _prm_prompt(row: dict) -> str:
    first = row["initial_observation"]
    task = row["task"]["instruction"]
    return task if not first or not first["text"] else f"{task}\n\n{first['text']}"


def rl_prompts(table: pa.Table, splits: Sequence[str] | None = ("train",)) -> pa.Table:
    """One row per task: the prompt a policy starts from and what verifies its answer.

    ``reference`` (the task's ground truth) and ``env`` (its parameters) are the JSON the
    family's verifier and environment take; ``verifier`` names the verifier the stored episodes
    were judged by. The first row of each task (in table order) gives the prompt: all rows of a
    task share it.
    """
    kept = _keep(table, splits)
    tools = action_tools(kept)
    seen: set[str] = set()
    rows = []
    for row in kept.select(["kind", "task", "initial_observation", "outcome", "split"]).to_pylist():
        task = row["task"]
        if task["id"] in seen:
            continue
        seen.add(task["id"])
        rows.append({"task_id": task["id"], "kind": row["kind"], "family": task["family"],
                     "difficulty": task["difficulty"], "prompt": _prompt(row, {}, None),
                     "reference": task["reference"], "verifier": row["outcome"]["verifier"], "env": task["env"],
                     "tools": tools.get(task["family"]), "split": row["split"]})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=RL_PROMPT_SCHEMA)


def gui_steps(table: pa.Table, blobs: pa.Table | None = None, splits: Sequence[str] | None = ("train",),
              **options: Any) -> pa.Table:  # fmt: skip
    """The per-step GUI view (:func:`synth.gui.views.step_samples`, same options) with the
    screenshot as an Image struct and ``messages`` as VLM processors read them: a user turn of
    content parts ``[{type: image}, {type: text, text: prompt}]`` (the image part stands for
    the prompt's ``<image>`` placeholder, which the text part drops) and the assistant's response."""
    from synth.gui.views import step_samples

    samples = step_samples(table, blobs, splits=splits, **options)
    refs = samples["image_ref"].to_pylist()
    data = samples["image"].to_pylist()
    image = pa.array([None if b is None else {"bytes": b, "path": f"{r}.png"} for r, b in zip(refs, data, strict=True)],
                     IMAGE_TYPE)  # fmt: skip
    part = pa.struct([("type", pa.string()), ("text", pa.string())])
    turn = pa.struct([("role", pa.string()), ("content", pa.list_(part))])
    messages = pa.array(
        [[{"role": "user", "content": ([{"type": "image", "text": None}] if b is not None else [])
           + [{"type": "text", "text": p.removeprefix(f"{IMAGE_PLACEHOLDER}\n") if b is not None else p}]},
          {"role": "assistant", "content": [{"type": "text", "text": r}]}]
         for p, r, b in zip(samples["prompt"].to_pylist(), samples["response"].to_pylist(), data, strict=True)],
        pa.list_(turn))  # fmt: skip
    at = samples.schema.get_field_index("image")
    return samples.set_column(at, "image", image).append_column("messages", messages)


VIEWS: dict[str, Callable[..., pa.Table]] = {
    "sft": sft,
    "preference": preference,
    "prm": prm,
    "rl-prompts": rl_prompts,
    "gui-steps": gui_steps,
}
#: views that take the version's blobs (images)
USES_BLOBS = ("sft", "preference", "gui-steps")


def image_columns(schema: pa.Schema) -> dict[str, str]:
    """column -> 'one' or 'list' for the Image-typed columns of a view's schema."""
    found = {}
    for f in schema:
        if f.type == IMAGE_TYPE:
            found[f.name] = "one"
        elif pa.types.is_list(f.type) and f.type.value_type == IMAGE_TYPE:
            found[f.name] = "list"
    return found
