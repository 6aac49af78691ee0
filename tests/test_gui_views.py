"""The per-step GUI trainer view: the screen each step acted on, its history, the target box and
point, acceptability, the a11y and screenshot views with their reasoning / direct variants, the
split filter, and the CLI export; above all that every id or name a response or thought uses
is in its prompt."""

from __future__ import annotations

import random
import re

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.cli import main
from stores.blobs import blobs_table
from stores.schema import to_table
from synth.corrupt import corrupt
from synth.episode import run_episode
from synth.gui.actions import is_acceptable
from synth.gui.metrics import quoted_names
from synth.gui.views import action_text, step_samples, tree_elements
from synth.registry import get_family
from tests.factories import RUN_A

APPS = ("form", "mail", "shop", "files", "calendar")
TIERS = ("expert", "reflective", "noisy", "random")


def episodes(seeds=range(3)):
    out, blobs = [], {}
    for app in APPS:
        f = get_family(app)
        for seed in seeds:
            for tier in TIERS:
                task = f.make_task(seed, 2 + seed, {})
                ep = run_episode("gui", task, f.make_env(task, {}), f.make_teacher(tier, task, random.Random(seed), {}), RUN_A)
                out.append(ep.trajectory)
                blobs.update(ep.blobs)
    return out, blobs_table(blobs)


@pytest.fixture(scope="module")
def data():
    return episodes()


@pytest.fixture(scope="module")
def samples(data):
    trajectories, blobs = data
    return step_samples(to_table(trajectories), blobs, variants=["reasoning"]).to_pylist()


def test_each_step_sees_the_screen_it_acted_on_and_where_earlier_actions_were(data, samples):
    trajectories, blobs = data
    assert len(samples) == 2 * sum(len(t.steps) for t in trajectories)  # one per view
    by_id = {t.id: t for t in trajectories}
    image = dict(zip(blobs["id"].to_pylist(), blobs["bytes"].to_pylist(), strict=True))
    for s in samples:
        t = by_id[s["trajectory_id"]]
        before = t.initial_observation if s["step"] == 0 else t.steps[s["step"] - 1].observation
        assert s["image_ref"] == before.image_ref and s["image"] == image[before.image_ref]
        assert s["a11y_tree"] == before.text
        assert len(s["history"]) == s["step"]
        for i, line in enumerate(s["history"]):
            screen = t.initial_observation if i == 0 else t.steps[i - 1].observation
            title = re.search(r'^window ("(?:[^"\\]|\\.)*") size=', screen.text, re.M).group(1)
            assert line.startswith(f"On {title}: "), line
        assert (s["screen_width"], s["screen_height"]) == tuple(t.task.env["screen"])
        assert s["tier"] == t.policy.tier and s["split"] == "train" and s["corruption"] is None
        assert ("Accessibility tree of the screen:\n" + s["a11y_tree"] in s["prompt"]) == (s["view"] == "a11y")


def test_every_id_or_name_a_response_or_thought_uses_is_in_its_prompt(samples):
    """a11y: element ids in a response are ids of the tree in the prompt; screenshot: no ids at
    all. In both, thoughts carry no ids and every name they quote is in the prompt (for the
    screenshot view, on the screen: its tree text is what the screenshot shows)."""
    checked = {"a11y": 0, "screenshot": 0}
    for s in samples:
        ids = set(tree_elements(s["a11y_tree"]))
        used = [int(i) for i in re.findall(r"element=(\d+)", s["response"])]
        if s["view"] == "a11y":
            assert set(used) <= ids, (s["sample_id"], used)
            visible = s["prompt"]
        else:
            assert not used and "element=" not in s["response"], s["response"]
            visible = s["prompt"] + "\n" + s["a11y_tree"]
        thought = s["thought"] or ""
        assert not re.search(r"\[\d+\]", thought), thought
        missing = [n for n in quoted_names(thought) if n not in visible]
        assert not missing, (s["sample_id"], s["tier"], missing, thought)
        checked[s["view"]] += 1
    assert min(checked.values()) > 300


def test_the_screenshot_view_grounds_element_actions_on_a_point_in_their_box(data):
    trajectories, blobs = data
    rows = step_samples(to_table(trajectories), blobs, variants=["direct"]).to_pylist()
    by = {(r["trajectory_id"], r["step"], r["view"]): r for r in rows}
    mapped = 0
    for t in trajectories:
        for step in t.steps:
            a11y, shot = by[(t.id, step.index, "a11y")], by[(t.id, step.index, "screenshot")]
            assert shot["acceptable"] == a11y["acceptable"] == is_acceptable(
                step.accepted_actions, step.action.name, step.action.arguments, tuple(t.task.env["screen"]))
            args = orjson.loads(shot["action"])["arguments"]
            if "element" in step.action.arguments:
                box = tree_elements(a11y["a11y_tree"])[step.action.arguments["element"]][2]
                assert box[0] <= args["x"] < box[2] and box[1] <= args["y"] < box[3]
                assert shot["point"] == [args["x"], args["y"]]
                mapped += 1
            else:
                assert args == step.action.arguments
    assert mapped > 30  # the teachers type and select by element id


def test_clicks_carry_point_box_and_their_0_1000_forms(data):
    trajectories, blobs = data
    rows = step_samples(to_table(trajectories), blobs, variants=["direct"], views=["screenshot"]).to_pylist()
    clicks = [s for s in rows if s["action_text"].startswith("click(") and s["tier"] == "expert"]
    assert clicks
    for s in clicks:
        (x, y), (x0, y0, x1, y1) = s["point"], s["target_box"]
        assert x0 <= x < x1 and y0 <= y < y1 and s["acceptable"]
        w, h = s["screen_width"], s["screen_height"]
        assert s["point_1000"] == [round(x * 1000 / w), round(y * 1000 / h)]
        assert s["target_box_1000"] == [round(x0 * 1000 / w), round(y0 * 1000 / h), round(x1 * 1000 / w), round(y1 * 1000 / h)]
    assert all(s["acceptable"] for s in rows if s["tier"] == "expert")
    norm = step_samples(to_table(trajectories), blobs, variants=["direct"], views=["screenshot"], coords="norm1000").to_pylist()
    for px, n in zip(rows, norm, strict=True):
        if px["point"] is not None and "x" in orjson.loads(px["action"])["arguments"]:
            assert [orjson.loads(n["action"])["arguments"][k] for k in "xy"] == px["point_1000"]
            assert "0-1000 fractions" in n["prompt"] and "pixels of the" not in n["prompt"]


def test_mistakes_are_marked_and_can_be_dropped(data):
    trajectories, blobs = data
    table = to_table(trajectories)
    rows = step_samples(table, blobs, variants=["direct"], views=["a11y"]).to_pylist()
    wrong = {(s["trajectory_id"], s["step"]) for s in rows if not s["acceptable"]}
    flagged = {(t.id, t.first_error_step) for t in trajectories if t.policy.tier in ("noisy", "reflective")}
    assert flagged <= wrong  # every first error is an unacceptable step
    kept = step_samples(table, blobs, variants=["direct"], views=["a11y"], acceptable_only=True).to_pylist()
    assert len(kept) == len(rows) - len(wrong) and all(s["acceptable"] for s in kept)


def test_only_train_rows_unless_asked_and_the_split_and_corruption_are_kept(data):
    trajectories, blobs = data
    broken = [c.trajectory for t in trajectories[:12] if t.policy.tier == "expert"
              if (c := corrupt(t, "drop_step", 1, {})) is not None]  # fmt: skip
    assert broken and all(b.split == "corrupt" and b.policy.tier == "expert" for b in broken)
    table = pa.concat_tables([to_table(trajectories), to_table(broken)])
    default = step_samples(table, blobs, variants=["direct"], views=["a11y"]).to_pylist()
    assert {r["split"] for r in default} == {"train"} and not any(r["corruption"] for r in default)
    every = step_samples(table, blobs, variants=["direct"], views=["a11y"], splits=None).to_pylist()
    bad = [r for r in every if r["split"] == "corrupt"]
    assert len(bad) == sum(len(b.steps) for b in broken)
    assert all(orjson.loads(r["corruption"])["operator"] == "drop_step" for r in bad)
    assert {orjson.loads(r["corruption"])["source_id"] for r in bad} <= {t.id for t in trajectories}
    with pytest.raises(ValueError, match="splits"):
        step_samples(table, splits=[])


def test_reasoning_and_direct_variants_share_the_step(data):
    trajectories, _ = data
    rows = step_samples(to_table(trajectories[:1]), views=["a11y"]).to_pylist()
    assert [r["variant"] for r in rows[:2]] == ["reasoning", "direct"]
    think, direct = rows[0], rows[1]
    assert think["response"] == f"<think>{think['thought']}</think>\n{think['action_text']}"
    assert direct["response"] == direct["action_text"] and "<think>" not in direct["prompt"]
    assert "<think>" in think["prompt"] and think["instruction"] in think["prompt"]
    assert think["image"] is None and think["image_ref"] is not None  # no blobs given: refs only
    with pytest.raises(ValueError, match="variants"):
        step_samples(to_table(trajectories[:1]), variants=["cot"])
    with pytest.raises(ValueError, match="views"):
        step_samples(to_table(trajectories[:1]), views=["html"])
    with pytest.raises(ValueError, match="coords"):
        step_samples(to_table(trajectories[:1]), coords="inches")


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
    assert table.num_rows == 4 * sum(len(t.steps) for t in trajectories)  # 2 views x 2 variants
    assert all(table["image"].to_pylist()) and set(table["split"].to_pylist()) == {"train"}
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--variants", "direct", "--views", "screenshot", "--acceptable-only",
                 "--no-images", "--splits", "all", "--coords", "norm1000"]) == 0  # fmt: skip
    table = pq.read_table(out)
    assert set(table["variant"].to_pylist()) == {"direct"} and set(table["view"].to_pylist()) == {"screenshot"}
    assert all(table["acceptable"].to_pylist()) and not any(table["image"].to_pylist())
    assert not any("element=" in r for r in table["response"].to_pylist())
