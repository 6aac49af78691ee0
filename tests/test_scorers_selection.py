"""Aggregation and selection rules on hand-scored rows, and publishing a selection."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from filters.selection import (
    Aggregate,
    SelectionError,
    aggregate,
    parse_select,
    select,
    select_version,
    step_aggregate,
)
from stores.schema import to_table
from tests.factories import make_trajectory


def rows(spec):
    """spec: (task, verifier, step values) per row."""
    out = []
    for i, (task, verifier, values) in enumerate(spec):
        t = make_trajectory(i, seed=9, n_steps=len(values))
        t.task.id = task
        t.scores = {"verifier": verifier, "quality": 1.0 if i % 4 else 0.0}
        t.step_scores = {"mc.soft": values}
        out.append(t)
    return to_table(out)


TABLE_SPEC = [("a", 1.0, [1.0, 0.5]), ("a", 0.0, [0.5, 0.0]), ("a", 1.0, [1.0, 1.0]), ("a", 0.0, [0.25, 0.25]),
              ("b", 1.0, [0.8]), ("b", 1.0, [0.7]), ("c", 0.0, [0.1, 0.2, 0.4])]


def test_step_aggregations():
    t = rows(TABLE_SPEC)
    assert step_aggregate(t, "mc.soft", "min").tolist()[:2] == [0.5, 0.0]
    assert step_aggregate(t, "mc.soft", "mean").tolist()[:2] == [0.75, 0.25]
    assert step_aggregate(t, "mc.soft", "last").tolist()[:2] == [0.5, 0.0]
    assert step_aggregate(t, "mc.soft", "product")[6] == pytest.approx(0.1 * 0.2 * 0.4)
    assert np.isnan(step_aggregate(t, "nope", "mean")).all()
    mix = aggregate(t, Aggregate(step="mc.soft", traj="verifier", alpha=0.5))  # ReasonFlux: mean step + a * traj
    assert mix[0] == pytest.approx(0.75 + 0.5) and mix[1] == pytest.approx(0.25)


def test_thresholds_report_what_they_dropped():
    cfg = parse_select({"thresholds": [{"score": "quality", "min": 1}, {"score": "verifier", "min": 1}]})
    kept, pairs, report = select(rows(TABLE_SPEC), cfg)
    assert pairs is None and kept.num_rows == 2  # rows 2 and 5: quality ok (not rows 0, 4) and verified
    assert [r.get("dropped") for r in report[1:3]] == [2, 3]
    assert report[-1] == {"rule": "selected", "rows": 2}


def test_best_of_n_and_top_k():
    agg = {"step": "mc.soft", "how": "mean"}
    kept, _, _ = select(rows(TABLE_SPEC), parse_select({"aggregate": agg, "best_of_n": True}))
    best = {r["task"]["id"]: {e["name"]: e["value"] for e in r["scores"]}["selection"] for r in kept.to_pylist()}
    assert best == pytest.approx({"a": 1.0, "b": 0.8, "c": pytest.approx(0.7 / 3)})
    kept, _, _ = select(rows(TABLE_SPEC), parse_select({"aggregate": agg, "top_k": {"k": 2, "per": "global"}}))
    assert sorted(kept.to_pydict()["id"]) == sorted(rows(TABLE_SPEC).take([2, 4])["id"].to_pylist())


def test_pairs_are_lexicographic_with_a_margin_and_never_repeat():
    t = rows(TABLE_SPEC)
    ids = t["id"].to_pylist()
    cfg = parse_select({"aggregate": {"step": "mc.soft"}, "pairs": {"min_margin": 0.2, "max_per_task": 10}})
    kept, pairs, report = select(t, cfg)
    got = set(zip(pairs["chosen_id"].to_pylist(), pairs["rejected_id"].to_pylist(), strict=True))
    i = {k: ids[k] for k in range(len(ids))}
    # task a: both successes beat both failures; 2 beats 0 on the aggregate (1.0 vs 0.75, margin 0.25);
    # between the failures 1 (0.25) and 3 (0.25) there is no margin; task b: 0.8 vs 0.7 < 0.2; task c is alone
    assert got == {(i[0], i[1]), (i[0], i[3]), (i[2], i[1]), (i[2], i[3]), (i[2], i[0])}
    assert len(got) == pairs.num_rows  # each pair once
    assert set(pairs["task_id"].to_pylist()) == {"a"}
    assert sorted(kept["id"].to_pylist()) == sorted(ids[:4])
    assert report[-2]["groups_without_pair"] == 2
    first = pairs.to_pylist()[0]  # widest gap first: an outcome win with the biggest aggregate gap
    assert (first["chosen_id"], first["rejected_id"]) == (i[2], i[3]) and first["margin"] == pytest.approx(1.75)
    _, few, _ = select(t, parse_select({"aggregate": {"step": "mc.soft"}, "pairs": {"max_per_task": 1}}))
    assert few.num_rows == 2  # one for a, one for b (0.8 > 0.7 with no margin asked)


def test_empty_selection_is_refused_unless_allowed(store):
    source = store.publish("src", rows(TABLE_SPEC))
    before = sorted(p.name for p in (store.root / "datasets").iterdir())
    cfg = parse_select({"thresholds": [{"score": "verifier", "min": 2}]})
    with pytest.raises(SelectionError, match=r"keep no row: .*threshold verifier >= 2: dropped 7"):
        select_version(store, source, cfg)
    assert sorted(p.name for p in (store.root / "datasets").iterdir()) == before
    info, _ = select_version(store, source, parse_select({"thresholds": [{"score": "verifier", "min": 2}],
                                                           "allow_empty": True}))
    assert info.rows == 0


def test_select_version_publishes_pairs_and_lineage(store):
    source = store.publish("src", rows(TABLE_SPEC))
    info, report = select_version(store, source, parse_select({"aggregate": {"step": "mc.soft"}, "pairs": {}}))
    assert info.name == "src-selected" and info.manifest["parents"][0]["role"] == "selection"
    assert info.manifest["params"]["select"]["pairs"]["max_per_task"] == 1
    pairs = store.read(info, table="preference_pairs")
    assert pairs.num_rows == 2 and set(pairs["chosen_id"].to_pylist()) <= set(store.read(info)["id"].to_pylist())
    from catalog.view_export import build_view

    view = build_view(store, info, "preference")
    assert view.num_rows == 2


@pytest.mark.parametrize("bad, message", [
    ({"aggregate": {}}, "needs `step`"),
    ({"thresholds": [{"score": "x"}]}, "needs `min`"),
    ({"pairs": {}, "best_of_n": True}, "without `best_of_n`"),
    ({"top_k": {"k": 0}}, "greater than or equal to 1"),
    ({"tresholds": []}, "Extra inputs"),
    ({"into": "../x"}, "into"),
])
def test_bad_rules_are_clear_errors(bad, message):
    with pytest.raises(SelectionError, match=message):
        parse_select(bad)


def test_rows_without_the_aggregate_are_reported():
    t = rows(TABLE_SPEC)
    _, _, report = select(t, parse_select({"aggregate": {"traj": "missing"}, "best_of_n": True, "allow_empty": True}))
    assert report[1] == {"rule": "rows without the aggregate", "dropped": 7, "rows": 0}
    assert isinstance(t, pa.Table)
