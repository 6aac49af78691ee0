"""Trainer views against the canonical rows they come from: every step appears as the turn or
step string it should, tool calls match tool turns, one image per placeholder, PRM labels
equal the step scores, preference pairs rank by score within a task, one RL prompt per task;
and the export as Parquet and as a Hugging Face folder loads with `datasets` (PIL images)."""

from __future__ import annotations

import json

import datasets
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from catalog.view_export import build_view
from catalog.views import IMAGE_PLACEHOLDER, ViewError, action_tools, preference, prm
from flows.cli import main
from stores.schema import from_table
from tests.view_episodes import view_store


@pytest.fixture(scope="module")
def data():
    store, ref = view_store()
    return store, ref, store.read(ref)


def test_sft_turns_follow_the_episode_and_images_match_placeholders(data):
    store, ref, table = data
    view = build_view(store, ref, "sft")
    by_id = {t.id: t for t in from_table(table)}
    expected = [t.id for t in by_id.values() if t.split == "train" and t.outcome.success]
    assert sorted(view["trajectory_id"].to_pylist()) == sorted(expected)
    assert {"reasoning", "gui", "research"} <= set(view["kind"].to_pylist())
    blob_ids = set(store.read(ref, table="blobs")["id"].to_pylist())
    for row in view.to_pylist():
        t = by_id[row["trajectory_id"]]
        messages = row["messages"]
        assert [m["role"] for m in messages[:2]] == ["system", "user"] and t.task.instruction in messages[1]["content"]
        if t.kind == "reasoning":
            assert [m["role"] for m in messages[2:]] == ["assistant"] and row["tools"] is None
            assert messages[2]["content"].endswith(f"Answer: {t.final_answer}")
            assert all(s.thought in messages[2]["reasoning_content"] for s in t.steps)
            continue
        calls = [m for m in messages if m["role"] == "assistant" and m["tool_calls"]]
        results = [m for m in messages if m["role"] == "tool"]
        assert len(calls) == len(results) == len(t.steps)
        names = {f["function"]["name"] for f in json.loads(row["tools"])}
        for s, call, result in zip(t.steps, calls, results, strict=True):
            fn = call["tool_calls"][0]["function"]
            assert fn["name"] == s.action.name in names and json.loads(fn["arguments"]) == s.action.arguments
            assert call["content"] == s.thought and result["name"] == s.action.name
            assert result["content"].removeprefix(f"{IMAGE_PLACEHOLDER}\n") == s.observation.text
        placeholders = sum((m["content"] or "").count(IMAGE_PLACEHOLDER) for m in messages)
        refs = [o.image_ref for o in [t.initial_observation, *(s.observation for s in t.steps)]
                if o is not None and o.image_ref in blob_ids]  # fmt: skip
        assert placeholders == len(row["images"] or []) == len(refs)
        assert [i["path"].split(".")[0] for i in row["images"] or []] == refs
    text_only = build_view(store, ref, "sft", images=False)
    assert text_only["images"].null_count == text_only.num_rows
    assert not any(IMAGE_PLACEHOLDER in (m["content"] or "") for r in text_only["messages"].to_pylist() for m in r)


def test_tools_are_the_action_space_the_data_uses(data):
    _, _, table = data
    form = {f["function"]["name"]: f["function"]["parameters"] for f in json.loads(action_tools(table)["form"])}
    gui = [s for t in from_table(table) if t.task.family == "form" for s in t.steps]
    assert set(form) == {s.action.name for s in gui}
    for name, params in form.items():
        calls = [s.action.arguments for s in gui if s.action.name == name]
        assert set(params["properties"]) == set().union(*calls)
        assert set(params["required"]) == set.intersection(*(set(c) for c in calls))


def test_prm_labels_are_the_step_scores_and_label_is_the_first_error(data):
    store, ref, table = data
    view = build_view(store, ref, "prm")
    by_id = {t.id: t for t in from_table(table)}
    assert view.num_rows == len(by_id)  # every row is scored and has steps; all splits by default
    assert set(view["split"].to_pylist()) == {"train", "corrupt"}
    for row in view.to_pylist():
        t = by_id[row["trajectory_id"]]
        assert row["labels"] == [v >= 0.5 for v in t.step_scores["prefix_correct"]]
        assert len(row["completions"]) == len(t.steps)
        assert all(s.thought in c for s, c in zip(t.steps, row["completions"], strict=True))
        assert row["label"] == (row["labels"].index(False) if False in row["labels"] else -1)
        if t.first_error_step is not None:
            assert row["label"] == t.first_error_step
    assert any(r["label"] > 0 for r in view.to_pylist()) and any(r["label"] == -1 for r in view.to_pylist())


def test_prm_threshold_applies_to_continuous_scores(data):
    _, _, table = data
    one = table.slice(0, 1)
    n = len(one["steps"][0])
    values = [(i + 1) / n for i in range(n)]
    scored = one.set_column(one.schema.get_field_index("step_scores"), "step_scores",
                            pa.array([[{"name": "mc", "values": values}]], one.schema.field("step_scores").type))
    row = prm(scored, score="mc", threshold=0.6).to_pylist()[0]
    assert row["labels"] == [v >= 0.6 for v in values] and row["score_name"] == "mc"
    assert prm(scored, score="absent").num_rows == 0


def test_preference_pairs_rank_within_a_task(data):
    store, ref, table = data
    view = build_view(store, ref, "preference")
    by_id = {t.id: t for t in from_table(table)}
    tasks = {}
    for t in by_id.values():
        tasks.setdefault(t.task.id, set()).add(t.scores["verifier"])
    assert view.num_rows == sum(len(v) > 1 for v in tasks.values()) > 0
    for row in view.to_pylist():
        c, r = by_id[row["chosen_id"]], by_id[row["rejected_id"]]
        assert c.task.id == r.task.id == row["task_id"]
        assert row["chosen_score"] == c.scores["verifier"] > r.scores["verifier"] == row["rejected_score"]
        assert row["margin"] == row["chosen_score"] - row["rejected_score"]
        assert [m["role"] for m in row["prompt"]] == ["system", "user"] and row["chosen"][0]["role"] == "assistant"
    given = pa.table({"chosen_id": [view["rejected_id"][0].as_py()], "rejected_id": [view["chosen_id"][0].as_py()]})
    flipped = preference(table, pairs=given).to_pylist()[0]
    assert flipped["margin"] < 0  # stored pairs are taken as given
    other = table.filter(pc.not_equal(pc.struct_field(table["task"], "id"), view["task_id"][0])).slice(0, 1)
    with pytest.raises(ViewError, match="different prompts"):
        preference(table, pairs=pa.table({"chosen_id": [view["chosen_id"][0].as_py()], "rejected_id": other["id"]}))


def test_rl_prompts_one_row_per_train_task(data):
    store, ref, table = data
    view = build_view(store, ref, "rl-prompts")
    train = [t for t in from_table(table) if t.split == "train"]
    assert sorted(view["task_id"].to_pylist()) == sorted({t.task.id for t in train})
    task = {t.task.id: t for t in train}
    for row in view.to_pylist():
        t = task[row["task_id"]]
        assert orjson.loads(row["reference"]) == t.task.reference and row["verifier"] == t.outcome.verifier
        assert row["prompt"][-1]["role"] == "user"


def test_gui_steps_view_has_image_features_and_content_lists(data):
    store, ref, _ = data
    view = build_view(store, ref, "gui-steps")
    assert set(view["split"].to_pylist()) == {"train"}
    row = view.to_pylist()[0]
    assert row["image"]["bytes"].startswith(b"\x89PNG")
    user = row["messages"][0]["content"]
    assert [p["type"] for p in user] == ["image", "text"] and not user[1]["text"].startswith(IMAGE_PLACEHOLDER)
    assert row["messages"][1]["content"][0]["text"] == row["response"]


def test_export_view_parquet_and_hf_folder_load_with_pil_images(data, tmp_path):
    store, ref, _ = data
    code = main(["--store", str(store.root), "export", "view", ref, "sft", str(tmp_path / "sft.parquet")])
    assert code == 0
    written = pq.read_table(tmp_path / "sft.parquet")
    assert written.num_rows == build_view(store, ref, "sft").num_rows
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "sft.parquet"), split="train")
    with_images = [r for r in ds if r["images"]]
    assert with_images and with_images[0]["images"][0].size == (1280, 800)
    assert main(["--store", str(store.root), "export", "view", ref, "prm", str(tmp_path / "prm"), "--hf"]) == 0
    card = (tmp_path / "prm" / "README.md").read_text()
    assert "config_name: prm" in card and "PRMTrainer" in card
    loaded = datasets.load_dataset(str(tmp_path / "prm"), "prm")
    assert set(loaded) == {"train", "corrupt"}
    assert sum(loaded[s].num_rows for s in loaded) == build_view(store, ref, "prm").num_rows
    assert main(["--store", str(store.root), "export", "view", ref, "nope", str(tmp_path / "x.parquet")]) == 1
    assert not (tmp_path / "x.parquet").exists()
    assert main(["--store", str(store.root), "export", "view", ref, "sft", str(tmp_path / "all.parquet"), "--failures",
                 "--splits", "all", "--no-images"]) == 0  # fmt: skip
    every = pq.read_table(tmp_path / "all.parquet")
    assert every.num_rows == store.read(ref).num_rows and every["images"].null_count == every.num_rows
    assert main(["--store", str(store.root), "export", "view", ref, "prm", str(tmp_path / "p.parquet"), "--failures"]) == 2
