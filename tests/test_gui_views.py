"""The per-step GUI trainer view: the screen each step acted on, its history, the target box and
point, acceptability, and the reasoning / direct variants; and its CLI export."""

from __future__ import annotations

import random

import pyarrow.parquet as pq
import pytest

from flows.cli import main
from stores.blobs import blobs_table
from stores.schema import to_table
from synth.episode import run_episode
from synth.gui.views import action_text, step_samples
from synth.registry import get_family
from tests.factories import RUN_A

FORM = get_family("form")


def episodes(tiers=("expert", "reflective", "noisy"), seeds=range(4)):
    out, blobs = [], {}
    for seed in seeds:
        for tier in tiers:
            task = FORM.make_task(seed, 3, {})
            ep = run_episode("gui", task, FORM.make_env(task, {}), FORM.make_teacher(tier, task, random.Random(seed), {}), RUN_A)
            out.append(ep.trajectory)
            blobs.update(ep.blobs)
    return out, blobs_table(blobs)


@pytest.fixture(scope="module")
def data():
    return episodes()


def test_each_step_sees_the_screen_it_acted_on_and_its_history(data):
    trajectories, blobs = data
    samples = step_samples(to_table(trajectories), blobs, variants=["direct"]).to_pylist()
    assert len(samples) == sum(len(t.steps) for t in trajectories)
    by_id = {t.id: t for t in trajectories}
    image = dict(zip(blobs["id"].to_pylist(), blobs["bytes"].to_pylist(), strict=True))
    for s in samples:
        t = by_id[s["trajectory_id"]]
        before = t.initial_observation if s["step"] == 0 else t.steps[s["step"] - 1].observation
        assert s["image_ref"] == before.image_ref and s["image"] == image[before.image_ref]
        assert s["a11y_tree"] == before.text
        previous = t.steps[: s["step"]]
        assert s["history"] == [action_text(p.action.name, p.action.arguments) for p in previous]
        assert (s["screen_width"], s["screen_height"]) == tuple(t.task.env["screen"])
        assert s["app"] == "form" and s["tier"] == t.policy.tier


def test_clicks_carry_point_box_and_their_0_1000_forms(data):
    trajectories, blobs = data
    samples = step_samples(to_table(trajectories), blobs, variants=["direct"]).to_pylist()
    clicks = [s for s in samples if s["action_text"].startswith("click(") and s["tier"] == "expert"]
    assert clicks
    for s in clicks:
        (x, y), (x0, y0, x1, y1) = s["point"], s["target_box"]
        assert x0 <= x < x1 and y0 <= y < y1 and s["acceptable"]
        w, h = s["screen_width"], s["screen_height"]
        assert s["point_1000"] == [round(x * 1000 / w), round(y * 1000 / h)]
        assert s["target_box_1000"] == [round(x0 * 1000 / w), round(y0 * 1000 / h), round(x1 * 1000 / w), round(y1 * 1000 / h)]
    assert all(s["acceptable"] for s in samples if s["tier"] == "expert")


def test_mistakes_are_marked_and_can_be_dropped(data):
    trajectories, blobs = data
    table = to_table(trajectories)
    samples = step_samples(table, blobs, variants=["direct"]).to_pylist()
    wrong = {(s["trajectory_id"], s["step"]) for s in samples if not s["acceptable"]}
    flagged = {(t.id, t.first_error_step) for t in trajectories if t.policy.tier in ("noisy", "reflective")}
    assert flagged <= wrong  # every first error is an unacceptable step
    kept = step_samples(table, blobs, variants=["direct"], acceptable_only=True).to_pylist()
    assert len(kept) == len(samples) - len(wrong) and all(s["acceptable"] for s in kept)


def test_reasoning_and_direct_variants_share_the_step(data):
    trajectories, _ = data
    rows = step_samples(to_table(trajectories[:1])).to_pylist()
    assert [r["variant"] for r in rows[:2]] == ["reasoning", "direct"]
    think, direct = rows[0], rows[1]
    assert think["response"] == f"<think>{think['thought']}</think>\n{think['action_text']}"
    assert direct["response"] == direct["action_text"] and "<think>" not in direct["prompt"]
    assert "<think>" in think["prompt"] and think["instruction"] in think["prompt"]
    assert think["image"] is None and think["image_ref"] is not None  # no blobs given: refs only
    with pytest.raises(ValueError, match="variants"):
        step_samples(to_table(trajectories[:1]), variants=["cot"])


def test_action_text_is_a_call():
    assert action_text("click", {"x": 4, "y": 7}) == "click(x=4, y=7)"
    assert action_text("type", {"text": 'say "hi"'}) == 'type(text="say \\"hi\\"")'
    assert action_text("finish", {}) == "finish()"


def test_cli_exports_a_parquet_file_of_samples(tmp_path, data, capsys):
    from stores.store import Store

    trajectories, blobs = data
    store = Store(tmp_path / "store")
    store.publish("guiviews", to_table(trajectories), blobs=blobs)
    out = tmp_path / "out" / "steps.parquet"
    args = ["--store", str(tmp_path / "store"), "export", "gui-steps", "guiviews@latest", str(out)]
    assert main(args) == 0
    table = pq.read_table(out)
    assert table.num_rows == 2 * sum(len(t.steps) for t in trajectories)
    assert all(table["image"].to_pylist())
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--variants", "direct", "--acceptable-only", "--no-images"]) == 0
    table = pq.read_table(out)
    assert set(table["variant"].to_pylist()) == {"direct"} and all(table["acceptable"].to_pylist())
    assert not any(table["image"].to_pylist())
