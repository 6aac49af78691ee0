"""The views against their real consumers: one TRL training step each of SFTTrainer (sft),
DPOTrainer (preference), the PRMTrainer (prm, `trl.experimental.prm` in TRL 1.13.0, the
last release that ships it) and GRPOTrainer (rl-prompts), on the exported Parquet loaded with `datasets`, with a tiny
randomly initialised Llama and a tokenizer trained here (no download). The multimodal path is
checked through the Image feature and the placeholders (test_views.py): torchvision, which
transformers' VLM processors need, has no build that loads with torch 2.13.0+cpu here."""

from __future__ import annotations

import json
import os

import datasets
import pytest

from catalog.view_export import export_view
from tests.view_episodes import view_store

trl = pytest.importorskip("trl", reason="TRL is a test dependency: pip install -e '.[dev]'")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

# renders system/user/assistant/tool turns, tool calls and the tools list; prefix-stable, as
# DPO's prompt/completion split needs
TEMPLATE = (
    "{% if tools %}<tools>{{ tools | tojson }}</tools>\n{% endif %}"
    "{% for m in messages %}<|{{ m['role'] }}|>"
    "{% if m['content'] %}{{ m['content'] }}{% endif %}"
    "{% if m['tool_calls'] %}{% for c in m['tool_calls'] %}<call>{{ c['function']['name'] }} "
    "{{ c['function']['arguments'] }}</call>{% endfor %}{% endif %}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    store, ref = view_store()
    root = tmp_path_factory.mktemp("trl")
    out = {}
    for view, options in (("sft", {"images": False}), ("preference", {"images": False}), ("prm", {})):
        path = root / f"{view}.parquet"
        export_view(store, ref, view, path, **options)
        ds = datasets.load_dataset("parquet", data_files=str(path), split="train")
        out[view] = ds.remove_columns([c for c in ("images",) if c in ds.column_names])
    return out


@pytest.fixture(scope="module")
def tokenizer(views):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    def texts():
        for row in views["sft"]:
            for m in row["messages"]:
                yield m["content"] or ""
        for row in views["prm"]:
            yield row["prompt"]
            yield from row["completions"]

    specials = ["<pad>", "<eos>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts(), trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))  # fmt: skip
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    fast.chat_template = TEMPLATE
    return fast


def tiny(tokenizer, head: str = "causal"):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForTokenClassification

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, num_labels=2)  # fmt: skip
    return (LlamaForCausalLM if head == "causal" else LlamaForTokenClassification)(config)


def common(tmp_path):
    return {"output_dir": str(tmp_path), "max_steps": 1, "per_device_train_batch_size": 2, "report_to": [],
            "save_strategy": "no", "use_cpu": True, "logging_steps": 1, "dataloader_num_workers": 0}  # fmt: skip


def losses(trainer):
    trainer.train()
    found = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert found and all(x == x and x > 0 for x in found)  # a finite, positive loss from a real step
    return found


def test_sft_trainer_step_on_the_sft_view(views, tokenizer, tmp_path):
    from trl import SFTConfig, SFTTrainer

    ds = views["sft"]
    assert {"messages", "tools"} <= set(ds.column_names) and set(ds["kind"]) == {"reasoning", "gui", "research"}
    trainer = SFTTrainer(model=tiny(tokenizer), processing_class=tokenizer, train_dataset=ds,
                         args=SFTConfig(**common(tmp_path), max_length=512))  # fmt: skip
    first = trainer.train_dataset[0]["input_ids"]
    text = tokenizer.decode(first)
    assert "<|assistant|>" in text and "<|system|>" in text
    losses(trainer)


def test_dpo_trainer_step_on_the_preference_view(views, tokenizer, tmp_path):
    from trl import DPOConfig, DPOTrainer

    ds = views["preference"]
    assert ds.num_rows > 0 and all(m > 0 for m in ds["margin"])
    trainer = DPOTrainer(model=tiny(tokenizer), ref_model=tiny(tokenizer), processing_class=tokenizer,
                         train_dataset=ds, args=DPOConfig(**common(tmp_path), max_length=512))  # fmt: skip
    losses(trainer)


def test_prm_trainer_step_on_the_prm_view(views, tokenizer, tmp_path):
    from trl.experimental.prm import PRMConfig, PRMTrainer

    ds = views["prm"]
    assert any(False in labels for labels in ds["labels"])
    trainer = PRMTrainer(model=tiny(tokenizer, "token"), processing_class=tokenizer, train_dataset=ds,
                         args=PRMConfig(**common(tmp_path), max_length=512, step_separator="\n"))  # fmt: skip
    whole = [(row, src) for row, src in zip(trainer.train_dataset, ds, strict=True) if len(row["input_ids"]) < 512]
    assert whole  # one labelled token per step (the separator after it), matching the view's bools
    for row, src in whole:
        assert [label for label in row["labels"] if label != -100] == [int(b) for b in src["labels"]]
    losses(trainer)


def test_multimodal_rows_through_the_tokenizer_and_the_image_feature(tmp_path, tokenizer):
    """The VLM path short of a processor: each `<image>` placeholder of a GUI row renders to
    one image token, as many as the row's `images`, which `datasets` decodes to PIL images."""
    from PIL import Image

    store, ref = view_store()
    export_view(store, ref, "sft", tmp_path / "sft.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "sft.parquet"), split="train")
    row = next(r for r in ds if r["kind"] == "gui" and r["images"])
    tok = tokenizer.__class__.from_pretrained(_saved(tokenizer, tmp_path))
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    ids = tok.apply_chat_template(row["messages"], tools=json.loads(row["tools"]), tokenize=True)
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids  # a BatchEncoding in transformers 5
    assert ids.count(tok.convert_tokens_to_ids("<image>")) == len(row["images"]) > 1
    assert all(isinstance(im, Image.Image) and im.size == (1280, 800) for im in row["images"])


def _saved(tokenizer, tmp_path):
    path = tmp_path / "tok"
    tokenizer.save_pretrained(path)
    return path


def test_grpo_trainer_step_on_the_rl_prompts_view(tokenizer, tmp_path):
    """rl-prompts feeds online RL: GRPOTrainer generates from each conversational prompt and the
    reward function receives the row's `reference` (the verifier's ground truth) as a column."""
    from trl import GRPOConfig, GRPOTrainer

    store, ref = view_store()
    export_view(store, ref, "rl-prompts", tmp_path / "rl.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "rl.parquet"), split="train")
    ds = ds.filter(lambda r: r["kind"] == "reasoning").select(range(4))
    seen = []

    def answer_reward(completions, reference, **_):
        seen.extend(reference)
        answers = [json.loads(r).get("answer") for r in reference]
        return [float(str(a) in c[0]["content"]) for a, c in zip(answers, completions, strict=True)]

    args = GRPOConfig(**{**common(tmp_path), "per_device_train_batch_size": 4}, num_generations=2,
                      max_completion_length=8, generation_batch_size=4)  # fmt: skip
    trainer = GRPOTrainer(model=tiny(tokenizer), processing_class=tokenizer, reward_funcs=answer_reward,
                          train_dataset=ds, args=args)  # fmt: skip
    trainer.train()
    assert set(seen) <= set(ds["reference"]) and seen
    assert any("reward" in e for e in trainer.state.log_history)
