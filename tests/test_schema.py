import subprocess
import sys
from datetime import UTC

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.schema import (
    TIERS,
    Action,
    Corruption,
    Observation,
    Outcome,
    Policy,
    Provenance,
    SchemaError,
    Step,
    Task,
    Trajectory,
    TrajectoryValidationError,
    content_id,
    from_table,
    to_table,
    validate_table,
)
from tests.factories import make_table, make_trajectory

text = st.text(max_size=20)
f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def trajectories(draw):
    n = draw(st.integers(0, 4))
    task = Task(draw(text), draw(text), draw(text), draw(st.integers(1, 5)), draw(json_values), draw(json_values),
                draw(st.integers(-(2**63), 2**63 - 1)))
    steps = [
        Step(i, draw(text), Action(draw(text), draw(json_values)), Observation(draw(text), draw(st.none() | text)),
             draw(json_values), draw(st.none() | f32))
        for i in range(n)
    ]
    answer = draw(st.none() | text)
    return Trajectory(
        id=content_id(task, steps, answer),
        kind=draw(st.sampled_from(["reasoning", "gui", "research"])),
        task=task,
        steps=steps,
        final_answer=answer,
        outcome=Outcome(draw(st.booleans()), draw(text), draw(text)),
        policy=Policy(draw(text), draw(st.sampled_from(TIERS)), draw(st.none() | text), draw(json_values)),
        provenance=Provenance(draw(text), draw(text), draw(text), draw(text), draw(text),
                              draw(st.datetimes(timezones=st.just(UTC)))),
        scores=draw(st.dictionaries(text, f32, max_size=3)),
        step_scores=draw(st.dictionaries(text, st.lists(f32, min_size=n, max_size=n), max_size=2)),
        first_error_step=draw(st.none() | st.integers(-1, max(-1, n - 1))),
        corruption=draw(st.none() | st.builds(Corruption, text, text, f32, f32, st.lists(st.integers(0, 9), max_size=3), text)),
        split=draw(text),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(trajectories(), min_size=1, max_size=5))
def test_objects_arrow_parquet_objects_is_identity(tmp_path, items):
    path = tmp_path / "t.parquet"
    pq.write_table(to_table(items), path)
    back = from_table(pq.read_table(path))
    assert back == items
    assert [content_id(t.task, t.steps, t.final_answer) for t in back] == [t.id for t in items]


def test_content_id_is_stable_across_processes():
    t = make_trajectory(3, seed=5)
    code = "from tests.factories import make_trajectory; print(make_trajectory(3, seed=5).id)"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == t.id and len(t.id) == 32


def test_content_id_changes_with_content_only():
    a = make_trajectory(1)
    b = make_trajectory(1)
    b.policy = Policy("other", "noisy")
    b.scores = {"x": 0.5}
    assert content_id(b.task, b.steps, b.final_answer) == a.id
    b.steps[0].thought = "changed"
    assert content_id(b.task, b.steps, b.final_answer) != a.id


def _set_step_field(table: pa.Table, row: int, mutate) -> pa.Table:
    rows = table.to_pylist()
    mutate(rows[row])
    return pa.Table.from_pylist(rows, schema=table.schema)


def test_validation_names_trajectory_and_field():
    table = make_table(6)
    bad_id = table["id"][2].as_py()

    def bad_json(row):
        row["steps"][0]["action"]["arguments"] = "{not json"

    with pytest.raises(TrajectoryValidationError, match=rf"{bad_id}.*steps\[0\]\.action\.arguments.*not valid JSON"):
        validate_table(_set_step_field(table, 2, bad_json))

    def bad_kind(row):
        row["kind"] = "audio"

    with pytest.raises(TrajectoryValidationError, match=rf"{bad_id}.*'kind' must be one of"):
        validate_table(_set_step_field(table, 2, bad_kind))

    def bad_scores(row):
        row["step_scores"] = [{"name": "prm", "values": [0.5] * (len(row["steps"]) + 1)}]

    with pytest.raises(TrajectoryValidationError, match=rf"{bad_id}.*step_scores\['prm'\].*steps"):
        validate_table(_set_step_field(table, 2, bad_scores))

    def bad_index(row):
        row["steps"][-1]["index"] = 99

    with pytest.raises(TrajectoryValidationError, match=rf"{bad_id}.*index' is 99"):
        validate_table(_set_step_field(table, 2, bad_index))

    def bad_tier(row):
        row["policy"]["tier"] = "genius"

    with pytest.raises(TrajectoryValidationError, match="policy.tier"):
        validate_table(_set_step_field(table, 2, bad_tier))


def test_duplicate_ids_rejected():
    table = make_table(3)
    with pytest.raises(TrajectoryValidationError, match="duplicated"):
        validate_table(pa.concat_tables([table, table.slice(0, 1)]))


def test_wrong_schema_rejected_with_fix():
    table = make_table(3)
    with pytest.raises(SchemaError, match="missing column 'split'.*to_table"):
        validate_table(table.drop_columns(["split"]))
    retyped = table.set_column(table.schema.get_field_index("first_error_step"), "first_error_step",
                               pc.cast(table["first_error_step"], pa.int64()))
    with pytest.raises(SchemaError, match="first_error_step' has type int64, expected int32"):
        validate_table(retyped)


def test_valid_table_passes():
    validate_table(make_table(50))


def test_unknown_first_error_step_is_valid():
    """null means 'not localised' (a failed LLM episode); it used to be flagged as invalid."""
    rows = [make_trajectory(i) for i in range(4)]
    for t in rows:
        t.first_error_step = None
    validate_table(to_table(rows))
    rows[0].first_error_step = len(rows[0].steps)
    with pytest.raises(TrajectoryValidationError, match="first_error_step"):
        validate_table(to_table(rows))
