"""Any Hugging Face reward model from a local folder, as a scorer (no download: the folder must
hold the model and its tokenizer).

Two layouts, told apart by the model's ``architectures`` (or set with ``mode``):
- ``outcome``: an ``AutoModelForSequenceClassification`` (distilabel's ``RewardModelScore``):
  one score per trajectory, the sigmoid of a single logit or the softmax probability of
  ``positive_label``;
- ``prm``: a token-classification PRM in the Qwen2.5-Math-PRM / ReasonFlux-PRM layout: the
  steps are joined with the step separator token, one separator after each step, and step t's
  score is the probability of ``positive_label`` at its separator; the trajectory score is the
  lowest step score (a chain is as good as its worst step). A step whose separator was cut off
  by ``max_length`` (the start of a long episode: the end is kept) gets NaN, no opinion.

The chat template is applied when the tokenizer has one (system prompt, the task as the user
turn, the steps as the assistant turn), as these models were trained on chats.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from filters.scorers.base import Scorer, ScorerError, ScoreResult, ScorerParams, register


class HFRewardParams(ScorerParams):
    path: str
    mode: Literal["auto", "outcome", "prm"] = "auto"
    step_separator: str = "<extra_0>"  # prm: the token placed after every step
    positive_label: int = Field(1, ge=0)
    batch_size: int = Field(8, ge=1)
    max_length: int = Field(1024, ge=8)
    system_prompt: str = "Please reason step by step."
    device: str = "auto"


def step_text(step: dict) -> str:
    action = step["action"]
    return f"{step['thought']}\nAction: {action['name']} {action['arguments']}".strip()


@register
class HFRewardScorer(Scorer):
    name = "hf_rm"
    columns = ("id", "kind", "task", "steps", "final_answer")
    Params = HFRewardParams

    def __init__(self, params: HFRewardParams, **context: Any):
        super().__init__(params, **context)  # instance, seed, family_params
        folder = Path(params.path)
        config = folder / "config.json"
        if not config.is_file():
            raise ScorerError(f"scorer {self.instance!r}: {folder} is not a Hugging Face model folder (no "
                              "config.json); save the model with save_pretrained, or download it first")
        try:
            architectures = json.loads(config.read_text()).get("architectures") or []
        except ValueError as e:
            raise ScorerError(f"scorer {self.instance!r}: {config} is not valid JSON ({e})") from None
        self.mode = params.mode if params.mode != "auto" else _mode_of(architectures)
        if self.mode is None:
            raise ScorerError(f"scorer {self.instance!r}: {folder} holds {architectures or 'no architecture'}, not a "
                              "reward model (a *ForSequenceClassification outcome model or a "
                              "*ForTokenClassification PRM); set mode: outcome|prm if it is one")
        from transformers import (
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )

        from filters.rm.model import pick_device

        cls = AutoModelForSequenceClassification if self.mode == "outcome" else AutoModelForTokenClassification
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = cls.from_pretrained(folder)
        except (OSError, ValueError) as e:
            raise ScorerError(f"scorer {self.instance!r}: cannot load {folder} as a {self.mode} reward model: {e}") from None
        self._device = pick_device(params.device)
        self.model.to(self._device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.templated = bool(getattr(self.tokenizer, "chat_template", None))  # the template adds the specials
        self.tokenizer.truncation_side = "left"  # keep the last steps and their separators
        if self.mode == "prm":
            sep = self.tokenizer.convert_tokens_to_ids(params.step_separator)
            if sep is None or sep == self.tokenizer.unk_token_id:
                raise ScorerError(f"scorer {self.instance!r}: the tokenizer of {folder} has no token "
                                  f"{params.step_separator!r}; set step_separator to the PRM's separator token")
            self.sep_id = sep
        labels = self.model.config.num_labels
        if not (labels == 1 and self.mode == "outcome") and params.positive_label >= labels:
            raise ScorerError(f"scorer {self.instance!r}: positive_label {params.positive_label} but the model has "
                              f"{labels} labels")

    @property
    def device(self) -> str:
        return str(self._device)

    def outputs(self) -> tuple[list[str], list[str]]:
        return [self.key()], ([self.key()] if self.mode == "prm" else [])

    def text(self, row: dict) -> str:
        sep = self.params.step_separator if self.mode == "prm" else "\n\n"
        steps = [step_text(s) for s in row["steps"] or []]
        body = "".join(f"{s}{sep}" for s in steps) if self.mode == "prm" else sep.join(
            [*steps, f"Answer: {row.get('final_answer') or ''}"])
        if self.templated:
            messages = [{"role": "system", "content": self.params.system_prompt},
                        {"role": "user", "content": row["task"]["instruction"]},
                        {"role": "assistant", "content": body}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        return f"{row['task']['instruction']}\n\n{body}"

    def score(self, batch: pa.Table) -> ScoreResult:
        import torch

        with torch.no_grad():
            return self._score(batch, torch)

    def _score(self, batch: pa.Table, torch) -> ScoreResult:
        rows = batch.select(["task", "steps", "final_answer"]).to_pylist()
        traj = np.full(len(rows), np.nan, np.float32)
        steps = [np.full(len(r["steps"] or []), np.nan, np.float32) for r in rows]
        for start in range(0, len(rows), self.params.batch_size):
            chunk = rows[start:start + self.params.batch_size]
            enc = self.tokenizer([self.text(r) for r in chunk], padding=True, truncation=True,
                                 max_length=self.params.max_length, return_tensors="pt",
                                 add_special_tokens=not self.templated)
            logits = self.model(**{k: v.to(self._device) for k, v in enc.items()}).logits.float()
            if self.mode == "outcome":
                p = torch.sigmoid(logits[:, 0]) if logits.shape[-1] == 1 else logits.softmax(-1)[:, self.params.positive_label]
                traj[start:start + len(chunk)] = p.cpu().numpy()
                continue
            probs = logits.softmax(-1)[..., self.params.positive_label].cpu().numpy()
            ids = enc["input_ids"].numpy()
            for j, row_probs in enumerate(probs):
                at = np.flatnonzero(ids[j] == self.sep_id)
                n = len(steps[start + j])
                found = row_probs[at][-n:] if n else row_probs[:0]  # left truncation drops the first separators
                steps[start + j][n - len(found):] = found
                if len(found):
                    traj[start + j] = float(np.min(found))
        out = ScoreResult(scores={self.key(): traj})
        if self.mode == "prm":
            out.step_scores[self.key()] = steps
        return out


def _mode_of(architectures: list[str]) -> str | None:
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return "outcome"
    if any(a.endswith("ForTokenClassification") for a in architectures):
        return "prm"
    return None
