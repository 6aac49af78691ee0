"""The ``hf_rm`` scorer on tiny randomly initialised models saved here with save_pretrained and a
tokenizer trained here: outcome classifiers, token-classification PRMs with a step separator,
the chat template, truncation, and folders that are not reward models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from filters.scorers.base import ScorerError, apply_scorers, build_scorer
from filters.scorers.hf import step_text
from tests.generated import family_table

TIERS = (("expert", 0.5), ("noisy", 0.5))
SEP = "<extra_0>"
TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}")


@pytest.fixture(scope="module")
def rows():
    return family_table("arithmetic", 6, 0, TIERS)


def tokenizer(texts, template: str | None = None):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=800, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]")
    fast.add_special_tokens({"additional_special_tokens": [SEP]})
    if template:
        fast.chat_template = template
    return fast


def save_model(folder, kind: str, rows, labels: int, template: str | None = None):
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertForTokenClassification,
        BertModel,
    )

    texts = [r["task"]["instruction"] for r in rows.to_pylist()] + [step_text(s) for r in rows.to_pylist()
                                                                     for s in r["steps"]]
    tok = tokenizer(texts, template)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=1024, num_labels=labels)
    cls = {"outcome": BertForSequenceClassification, "prm": BertForTokenClassification, "base": BertModel}[kind]
    cls(cfg).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return tok


def test_outcome_model_scores_every_row_as_a_manual_forward_does(tmp_path, rows):
    from transformers import AutoModelForSequenceClassification

    tok = save_model(tmp_path, "outcome", rows, labels=2)
    scorer = build_scorer({"name": "hf_rm", "as": "orm", "params": {"path": str(tmp_path), "batch_size": 4}})
    assert scorer.mode == "outcome" and scorer.outputs() == (["orm"], [])
    scored, _ = apply_scorers(rows, [scorer])
    got = np.array([{e["name"]: e["value"] for e in s}["orm"] for s in scored["scores"].to_pylist()])
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    row = rows.slice(0, 1).to_pylist()[0]
    enc = tok(scorer.text(row), return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).logits.softmax(-1)[0, 1].item()
    assert got[0] == pytest.approx(expected, abs=1e-5)  # batched with padding = alone
    assert np.all((got > 0) & (got < 1)) and len(set(np.round(got, 6))) > 1


def test_prm_reads_the_positive_class_at_each_separator(tmp_path, rows):
    from transformers import AutoModelForTokenClassification

    tok = save_model(tmp_path, "prm", rows, labels=2, template=TEMPLATE)
    scorer = build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path), "batch_size": 3}})
    assert scorer.mode == "prm" and scorer.outputs() == (["hf_rm"], ["hf_rm"])
    row = rows.slice(0, 1).to_pylist()[0]
    text = scorer.text(row)
    assert text.startswith("<|system|>") and text.count(SEP) == len(row["steps"])  # template applied
    result = scorer.score(rows)
    model = AutoModelForTokenClassification.from_pretrained(tmp_path).eval()
    enc = tok(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        probs = model(**enc).logits.softmax(-1)[0, :, 1].numpy()
    at = enc["input_ids"][0].numpy() == tok.convert_tokens_to_ids(SEP)
    np.testing.assert_allclose(result.step_scores["hf_rm"][0], probs[at], atol=1e-5)
    assert result.scores["hf_rm"][0] == pytest.approx(probs[at].min(), abs=1e-6)
    for arr, n in zip(result.step_scores["hf_rm"], [len(s) for s in rows["steps"].to_pylist()], strict=True):
        assert len(arr) == n and not np.isnan(arr).any()


def test_truncated_prm_input_leaves_the_first_steps_without_an_opinion(tmp_path, rows):
    save_model(tmp_path, "prm", rows, labels=2)
    scorer = build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path), "max_length": 40}})
    result = scorer.score(rows.slice(0, 2))
    steps = result.step_scores["hf_rm"][0]
    assert np.isnan(steps[0]) and not np.isnan(steps[-1])  # the end is kept, the start is cut
    assert not math.isnan(result.scores["hf_rm"][0])


def test_folders_that_are_not_reward_models_are_refused(tmp_path, rows):
    with pytest.raises(ScorerError, match="not a Hugging Face model folder"):
        build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path / "missing")}})
    save_model(tmp_path / "base", "base", rows, labels=2)
    with pytest.raises(ScorerError, match=r"\['BertModel'\], not a reward model"):
        build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path / "base")}})
    save_model(tmp_path / "prm", "prm", rows, labels=2)
    with pytest.raises(ScorerError, match="has no token '<step>'"):
        build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path / "prm"), "step_separator": "<step>"}})
    with pytest.raises(ScorerError, match="positive_label 3 but the model has 2 labels"):
        build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path / "prm"), "positive_label": 3}})
    with pytest.raises(ScorerError, match="bad params"):
        build_scorer({"name": "hf_rm", "params": {"path": str(tmp_path / "prm"), "batchsize": 3}})
