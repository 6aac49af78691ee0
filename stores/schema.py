"""The trajectory contract (schema v1): typed objects and the Arrow schema, side by side.

Why plain ``dataclasses(slots=True)`` and not pydantic or msgspec: generators build
millions of steps, and a slotted dataclass costs a tuple allocation, where pydantic
validates every field on construction. Validation instead happens once per batch, at the
Arrow boundary (:func:`validate_table`), where it can be vectorised and can name the
trajectory and field at fault. Configs, which are small and user-written, use pydantic.

Free-form structures (tool-call arguments, references, env parameters, accepted actions)
are JSON-compatible Python values in the objects and canonical JSON strings in Arrow, so
files never drift in schema. Scores are stored as lists of ``{name, value}`` entries rather
than Arrow maps, because Hugging Face ``datasets`` cannot read map columns; the objects
expose them as dicts and the catalog's SQL views expose them as DuckDB MAPs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

SCHEMA_VERSION = 1
KINDS = ("reasoning", "gui", "research")
TIERS = ("expert", "reflective", "noisy", "random", "llm")

# ---------------------------------------------------------------------------- Arrow types

ACTION_TYPE = pa.struct([("name", pa.string()), ("arguments", pa.string())])
OBSERVATION_TYPE = pa.struct([("text", pa.string()), ("image_ref", pa.string())])
STEP_TYPE = pa.struct(
    [
        ("index", pa.int32()),
        ("thought", pa.string()),
        ("action", ACTION_TYPE),
        ("observation", OBSERVATION_TYPE),
        ("accepted_actions", pa.string()),
        ("reward", pa.float32()),
    ]
)
TASK_TYPE = pa.struct(
    [
        ("id", pa.string()),
        ("family", pa.string()),
        ("instruction", pa.string()),
        ("difficulty", pa.int8()),
        ("reference", pa.string()),
        ("env", pa.string()),
        ("seed", pa.int64()),
    ]
)
OUTCOME_TYPE = pa.struct([("success", pa.bool_()), ("verifier", pa.string()), ("detail", pa.string())])
POLICY_TYPE = pa.struct(
    [("name", pa.string()), ("tier", pa.string()), ("model", pa.string()), ("params", pa.string())]
)
SCORES_TYPE = pa.list_(pa.struct([("name", pa.string()), ("value", pa.float32())]))
STEP_SCORES_TYPE = pa.list_(
    pa.struct([("name", pa.string()), ("values", pa.list_(pa.float32()))])
)
CORRUPTION_TYPE = pa.struct(
    [
        ("operator", pa.string()),
        ("mode", pa.string()),
        ("rate", pa.float32()),
        ("scale", pa.float32()),
        ("steps", pa.list_(pa.int32())),
        ("source_id", pa.string()),
    ]
)
PROVENANCE_TYPE = pa.struct(
    [
        ("generator", pa.string()),
        ("generator_version", pa.string()),
        ("code_version", pa.string()),
        ("config_hash", pa.string()),
        ("run_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)

TRAJECTORY_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("task", TASK_TYPE),
        ("steps", pa.list_(STEP_TYPE)),
        ("initial_observation", OBSERVATION_TYPE),
        ("final_answer", pa.string()),
        ("outcome", OUTCOME_TYPE),
        ("policy", POLICY_TYPE),
        ("scores", SCORES_TYPE),
        ("step_scores", STEP_SCORES_TYPE),
        ("first_error_step", pa.int32()),
        ("corruption", CORRUPTION_TYPE),
        ("split", pa.string()),
        ("provenance", PROVENANCE_TYPE),
    ],
    metadata={"trajforge.schema_version": str(SCHEMA_VERSION)},
)

BLOB_SCHEMA = pa.schema(
    [("id", pa.string()), ("media_type", pa.string()), ("bytes", pa.binary())],
    metadata={"trajforge.schema_version": str(SCHEMA_VERSION)},
)


# ---------------------------------------------------------------------------- JSON helpers


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept. Hashes depend on it.

    orjson rather than ``json.dumps``: generators serialise every step twice (content id and
    row), and orjson does it about ten times faster. Non-finite floats become ``null``.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def f32(x: float | None) -> float | None:
    """Round to the float32 the Arrow schema keeps, so objects hash the same before and
    after a trip through Parquet."""
    return None if x is None else float(np.float32(x))


# ---------------------------------------------------------------------------- typed objects


@dataclass(slots=True)
class Task:
    id: str
    family: str
    instruction: str
    difficulty: int
    reference: Any = None
    env: Any = None
    seed: int = 0


@dataclass(slots=True)
class Action:
    name: str
    arguments: Any = field(default_factory=dict)


@dataclass(slots=True)
class Observation:
    text: str = ""
    image_ref: str | None = None


@dataclass(slots=True)
class Step:
    index: int
    thought: str
    action: Action
    observation: Observation
    accepted_actions: Any = None
    reward: float | None = None

    def __post_init__(self) -> None:
        self.reward = f32(self.reward)


@dataclass(slots=True)
class Outcome:
    success: bool
    verifier: str
    detail: str = ""


@dataclass(slots=True)
class Policy:
    name: str
    tier: str
    model: str | None = None
    params: Any = field(default_factory=dict)


@dataclass(slots=True)
class Corruption:
    operator: str
    mode: str
    rate: float
    scale: float
    steps: list[int]
    source_id: str

    def __post_init__(self) -> None:
        self.rate = f32(self.rate)
        self.scale = f32(self.scale)


@dataclass(slots=True)
class Provenance:
    generator: str
    generator_version: str
    code_version: str
    config_hash: str
    run_id: str
    created_at: datetime


@dataclass(slots=True)
class Trajectory:
    id: str
    kind: str
    task: Task
    steps: list[Step]
    final_answer: str | None
    outcome: Outcome
    policy: Policy
    provenance: Provenance
    scores: dict[str, float] = field(default_factory=dict)
    step_scores: dict[str, list[float]] = field(default_factory=dict)
    first_error_step: int | None = None
    corruption: Corruption | None = None
    split: str = "train"
    # what the agent saw before its first action (a GUI's first screen); None where the task
    # statement is all there is to see (reasoning)
    initial_observation: Observation | None = None
    # the Arrow step rows, when the episode runner already built them for the content id
    # (serialising steps is most of a row's cost); only valid while ``steps`` is unchanged
    step_rows: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scores = {k: f32(v) for k, v in self.scores.items()}
        self.step_scores = {k: [f32(x) for x in v] for k, v in self.step_scores.items()}

    def to_row(self) -> dict[str, Any]:
        """The Arrow row: JSON fields serialised canonically, score dicts as entry lists."""
        return {
            "id": self.id,
            "kind": self.kind,
            "task": _task_row(self.task),
            "steps": self.step_rows if self.step_rows is not None else [_step_row(s) for s in self.steps],
            "initial_observation": _observation_row(self.initial_observation),
            "final_answer": self.final_answer,
            "outcome": {"success": self.outcome.success, "verifier": self.outcome.verifier, "detail": self.outcome.detail},
            "policy": {
                "name": self.policy.name,
                "tier": self.policy.tier,
                "model": self.policy.model,
                "params": canonical_json(self.policy.params),
            },
            "scores": [{"name": k, "value": v} for k, v in sorted(self.scores.items())],
            "step_scores": [{"name": k, "values": v} for k, v in sorted(self.step_scores.items())],
            "first_error_step": self.first_error_step,
            "corruption": None
            if self.corruption is None
            else {
                "operator": self.corruption.operator,
                "mode": self.corruption.mode,
                "rate": self.corruption.rate,
                "scale": self.corruption.scale,
                "steps": list(self.corruption.steps),
                "source_id": self.corruption.source_id,
            },
            "split": self.split,
            "provenance": {
                "generator": self.provenance.generator,
                "generator_version": self.provenance.generator_version,
                "code_version": self.provenance.code_version,
                "config_hash": self.provenance.config_hash,
                "run_id": self.provenance.run_id,
                "created_at": self.provenance.created_at,
            },
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Trajectory:
        t, o, p, c, v = row["task"], row["outcome"], row["policy"], row["corruption"], row["provenance"]
        return cls(
            id=row["id"],
            kind=row["kind"],
            task=Task(
                id=t["id"],
                family=t["family"],
                instruction=t["instruction"],
                difficulty=t["difficulty"],
                reference=_loads(t["reference"]),
                env=_loads(t["env"]),
                seed=t["seed"],
            ),
            steps=[
                Step(
                    index=s["index"],
                    thought=s["thought"],
                    action=Action(s["action"]["name"], _loads(s["action"]["arguments"])),
                    observation=Observation(s["observation"]["text"], s["observation"]["image_ref"]),
                    accepted_actions=_loads(s["accepted_actions"]),
                    reward=s["reward"],
                )
                for s in row["steps"]
            ],
            initial_observation=_observation(row.get("initial_observation")),
            final_answer=row["final_answer"],
            outcome=Outcome(o["success"], o["verifier"], o["detail"]),
            policy=Policy(p["name"], p["tier"], p["model"], _loads(p["params"])),
            scores={e["name"]: e["value"] for e in row["scores"] or []},
            step_scores={e["name"]: list(e["values"]) for e in row["step_scores"] or []},
            first_error_step=row["first_error_step"],
            corruption=None
            if c is None
            else Corruption(c["operator"], c["mode"], c["rate"], c["scale"], list(c["steps"]), c["source_id"]),
            split=row["split"],
            provenance=Provenance(
                v["generator"], v["generator_version"], v["code_version"], v["config_hash"], v["run_id"], v["created_at"]
            ),
        )


def _task_row(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "family": t.family,
        "instruction": t.instruction,
        "difficulty": t.difficulty,
        "reference": canonical_json(t.reference),
        "env": canonical_json(t.env),
        "seed": t.seed,
    }


def _step_row(s: Step) -> dict[str, Any]:
    return {
        "index": s.index,
        "thought": s.thought,
        "action": {"name": s.action.name, "arguments": canonical_json(s.action.arguments)},
        "observation": {"text": s.observation.text, "image_ref": s.observation.image_ref},
        "accepted_actions": canonical_json(s.accepted_actions),
        "reward": s.reward,
    }


def _observation_row(o: Observation | None) -> dict[str, Any] | None:
    return None if o is None else {"text": o.text, "image_ref": o.image_ref}


def _observation(row: dict[str, Any] | None) -> Observation | None:
    return None if row is None else Observation(row["text"], row["image_ref"])


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def content_id(
    task: Task,
    steps: list[Step],
    final_answer: str | None,
    step_rows: list[dict] | None = None,
    initial_observation: Observation | None = None,
) -> str:
    """Stable id: sha256 of the canonical JSON of task + steps + answer (+ the initial
    observation, where there is one), first 32 hex.

    Policy, scores, split and provenance are left out on purpose: the same episode made by
    two runs, or re-scored later, is the same trajectory. ``step_rows`` (from
    :func:`step_rows`) avoids serialising the steps a second time. The initial observation
    joins the payload only when present, so ids of kinds without one did not change when
    the field was added.
    """
    rows = step_rows if step_rows is not None else [_step_row(s) for s in steps]
    parts: list[Any] = [_task_row(task), rows, final_answer]
    if initial_observation is not None:
        parts.append(_observation_row(initial_observation))
    payload = canonical_json(parts)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def step_rows(steps: list[Step]) -> list[dict[str, Any]]:
    """The Arrow rows of ``steps``: built once per episode, used by the id and the table."""
    return [_step_row(s) for s in steps]


# ---------------------------------------------------------------------------- conversions


def to_table(trajectories: list[Trajectory]) -> pa.Table:
    return pa.Table.from_pylist([t.to_row() for t in trajectories], schema=TRAJECTORY_SCHEMA)


def from_table(table: pa.Table) -> list[Trajectory]:
    table = upgrade_table(table)
    check_schema(table, TRAJECTORY_SCHEMA, "trajectories")
    return [Trajectory.from_row(r) for r in table.to_pylist()]


def empty_table() -> pa.Table:
    return TRAJECTORY_SCHEMA.empty_table()


#: columns added to schema v1 after it was first written, with their position: tables read
#: from older versions get them as nulls, so readers see one schema
_ADDED_COLUMNS = (("initial_observation", OBSERVATION_TYPE),)


def upgrade_table(table: pa.Table) -> pa.Table:
    """Add the columns an older writer of schema v1 did not know, as nulls, in place."""
    for name, type_ in _ADDED_COLUMNS:
        if name not in table.column_names:
            at = TRAJECTORY_SCHEMA.get_field_index(name)
            table = table.add_column(at, pa.field(name, type_), pa.nulls(table.num_rows, type_))
    return table


# ---------------------------------------------------------------------------- validation


class SchemaError(ValueError):
    """A table's columns or types differ from the contract."""


class TrajectoryValidationError(ValueError):
    """Rows break the contract; the message names each trajectory id and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  - ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} invalid trajectory field(s):\n  - {shown}{more}")


def with_score(table: pa.Table, name: str, values: list[float]) -> pa.Table:
    """``table`` with ``scores[name]`` set to ``values`` (one per row), the other keys kept:
    how a stage that judges rows (retrieval, decontamination) records its verdict."""
    scores = []
    for old, value in zip(table["scores"].to_pylist(), values, strict=True):
        kept = [e for e in old or [] if e["name"] != name]
        scores.append(sorted([*kept, {"name": name, "value": value}], key=lambda e: e["name"]))
    return table.set_column(table.schema.get_field_index("scores"), "scores", pa.array(scores, SCORES_TYPE))


def check_schema(table: pa.Table, expected: pa.Schema, what: str) -> None:
    got = {f.name: f.type for f in table.schema}
    want = {f.name: f.type for f in expected}
    problems = [f"missing column '{n}' ({t})" for n, t in want.items() if n not in got]
    problems += [f"unexpected column '{n}'" for n in got if n not in want]
    problems += [
        f"column '{n}' has type {got[n]}, expected {t}" for n, t in want.items() if n in got and got[n] != t
    ]
    if problems:
        raise SchemaError(
            f"{what} table does not match trajectory schema v{SCHEMA_VERSION}: "
            + "; ".join(problems)
            + ". Build tables with stores.schema.to_table(...) (or cast to stores.schema."
            + ("TRAJECTORY_SCHEMA" if expected is TRAJECTORY_SCHEMA else "BLOB_SCHEMA")
            + ")."
        )


def validate_table(table: pa.Table) -> None:
    """Check a trajectory table against the contract before it is stored.

    Column-wise where it can be (nulls, kinds, tiers, lengths), row-wise only for the JSON
    strings, so it stays cheap next to writing the data.
    """
    check_schema(table, TRAJECTORY_SCHEMA, "trajectories")
    if table.num_rows == 0:
        return
    id_column = table["id"].combine_chunks()
    ids = _LazyIds(id_column)
    problems: list[str] = []

    def where(mask: pa.ChunkedArray | pa.Array, message: str) -> None:
        for i in np.flatnonzero(np.asarray(pc.fill_null(mask, True))):
            problems.append(f"trajectory {ids[i]!r}: {message}")

    where(pc.is_null(table["id"]), "field 'id' is null; ids are content hashes (stores.schema.content_id)")
    counts = pa.table({"id": id_column}).group_by("id").aggregate([("id", "count")])
    for dup in counts.filter(pc.greater(counts["id_count"], 1))["id"].to_pylist():
        if dup is not None:
            problems.append(f"trajectory {dup!r}: field 'id' is duplicated; deduplicate before publishing (filters.dedup)")
    where(pc.invert(pc.is_in(table["kind"], pa.array(KINDS))), f"field 'kind' must be one of {list(KINDS)}")
    policy = table["policy"].combine_chunks()
    where(pc.invert(pc.is_in(pc.struct_field(policy, "tier"), pa.array(TIERS))), f"field 'policy.tier' must be one of {list(TIERS)}")
    task = table["task"].combine_chunks()
    where(pc.is_null(task), "field 'task' is null")
    for name in ("id", "family", "instruction"):
        where(pc.is_null(pc.struct_field(task, name)), f"field 'task.{name}' is null")
    where(pc.is_null(table["steps"]), "field 'steps' is null; use an empty list")
    where(pc.is_null(table["outcome"]), "field 'outcome' is null")
    where(pc.is_null(table["split"]), "field 'split' is null")

    steps = table["steps"].combine_chunks()  # the largest column: combine it once
    n_steps = pc.fill_null(pc.list_value_length(steps), 0)
    fes = table["first_error_step"].combine_chunks()
    # null means 'unknown' and is valid; `where` treats a null mask as bad, so fill it first
    bad_fes = pc.fill_null(pc.or_(pc.less(fes, -1), pc.greater_equal(fes, n_steps)), False)
    where(bad_fes, "field 'first_error_step' must be -1 (no error), null (unknown) or a step index")

    # per-step JSON fields and step indexes
    parents = pc.list_parent_indices(steps).to_numpy()
    flat = pc.list_flatten(steps)
    offsets = steps.offsets.to_numpy()
    positions = np.arange(len(flat)) - offsets[parents] if len(flat) else np.array([], dtype=np.int64)
    index = pc.struct_field(flat, "index").to_numpy(zero_copy_only=False)
    for k in np.flatnonzero(index != positions):
        problems.append(f"trajectory {ids[parents[k]]!r}: field 'steps[{positions[k]}].index' is {index[k]}, expected {positions[k]}")
    for path in (("action", "arguments"), ("accepted_actions",)):
        values = pc.struct_field(flat, list(path))
        for k in _invalid_json(values):
            problems.append(
                f"trajectory {ids[parents[k]]!r}: field 'steps[{positions[k]}].{'.'.join(path)}' is not valid JSON "
                f"({_json_error(values[k].as_py())}); store it as a JSON string, e.g. '{{\"x\": 1}}'"
            )
    for name in ("reference", "env"):
        values = pc.struct_field(task, name)
        for i in _invalid_json(values):
            problems.append(f"trajectory {ids[i]!r}: field 'task.{name}' is not valid JSON ({_json_error(values[i].as_py())})")

    # step_scores must align with steps: one value per step, no NaN
    entries = table["step_scores"].combine_chunks()
    owners = pc.list_parent_indices(entries).to_numpy()
    flat_entries = pc.list_flatten(entries)
    counts = pc.fill_null(pc.list_value_length(pc.struct_field(flat_entries, "values")), 0).to_numpy()
    lengths = n_steps.to_numpy()
    for k in np.flatnonzero(counts != lengths[owners]):
        i = owners[k]
        problems.append(
            f"trajectory {ids[i]!r}: field 'step_scores[{pc.struct_field(flat_entries, 'name')[k].as_py()!r}]' has "
            f"{counts[k]} values but the trajectory has {lengths[i]} steps; give one score per step"
        )
    step_values = pc.list_flatten(pc.struct_field(flat_entries, "values"))
    if len(step_values) and pc.any(pc.is_nan(step_values)).as_py():
        problems.append("field 'step_scores' holds NaN values; use null for a missing score")
    scores = table["scores"].combine_chunks()
    names = pc.struct_field(pc.list_flatten(scores), "name")
    score_owner = pc.list_parent_indices(scores)
    pairs = pa.table({"row": score_owner, "name": names}).group_by(["row", "name"]).aggregate([("name", "count")])
    for row in pairs.filter(pc.greater(pairs["name_count"], 1))["row"].to_pylist():
        problems.append(f"trajectory {ids[row]!r}: field 'scores' names a scorer twice")
    if problems:
        raise TrajectoryValidationError(problems)


class _LazyIds:
    """Row index -> id, converting only the rows an error message needs."""

    def __init__(self, column: pa.Array):
        self._column = column

    def __getitem__(self, i: int) -> str | None:
        return self._column[int(i)].as_py()


def _invalid_json(values: pa.Array) -> list[int]:
    """Positions of non-null strings that are not strict JSON, checked by DuckDB's vectorised
    ``json_valid`` (two orders of magnitude faster than ``json.loads`` in a Python loop)."""
    if len(values) == 0:
        return []
    positions = pa.table({"pos": np.arange(len(values)), "v": values})  # noqa: F841 - read by DuckDB
    with duckdb.connect() as con:
        found = con.execute("SELECT pos FROM positions WHERE v IS NOT NULL AND NOT json_valid(v) ORDER BY pos")
        return found.fetchnumpy()["pos"].tolist()


def _json_error(text: str) -> str:
    try:
        json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
    except json.JSONDecodeError as e:
        return e.msg
    except ValueError as e:
        return str(e)
    return "not strict JSON"


def validate_blobs(table: pa.Table) -> None:
    check_schema(table, BLOB_SCHEMA, "blobs")
    problems = []
    for i, (bid, data) in enumerate(zip(table["id"].to_pylist(), table["bytes"].to_pylist(), strict=True)):
        if data is None or hashlib.sha256(data).hexdigest() != bid:
            problems.append(f"blob row {i} ({bid!r}): id is not the sha256 of its bytes; use stores.blobs.blob_row(...)")
    if problems:
        raise TrajectoryValidationError(problems)
