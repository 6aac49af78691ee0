"""The reward model's training config (``rm.yaml``), strict: a misspelt key is an error.

Defaults train the small causal backbone on CPU in minutes; ``backbone: minilm`` (the packaged
all-MiniLM-L6-v2) or a folder of any local Hugging Face encoder fine-tunes that encoder instead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from filters.rm.inputs import Budget
from stores.schema import KINDS


class RMConfigError(ValueError):
    """A bad ``rm.yaml``; the message names the field and the fix."""


class BudgetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    task: int = Field(96, ge=1)
    thought: int = Field(48, ge=1)
    action: int = Field(24, ge=1)
    observation: int = Field(32, ge=0)
    answer: int = Field(16, ge=0)
    history_steps: int = Field(6, ge=0)

    def budget(self) -> Budget:
        return Budget(**self.model_dump())


class RMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backbone: str = "small"  # small | minilm | a local Hugging Face encoder folder
    kinds: list[Literal["reasoning", "gui", "research"]] | None = None  # default: the kinds in the data
    step_labels: Literal["auto", "prefix", "mc"] = "auto"
    mc_key: str = "mc.soft"
    budget: BudgetConfig = BudgetConfig()
    # small backbone
    vocab_size: int = Field(4000, ge=100, le=100_000)
    d_model: int = Field(128, ge=16)
    layers: int = Field(2, ge=1)
    heads: int = Field(4, ge=1)
    ff: int = Field(256, ge=16)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    d_token: int = Field(64, ge=8)  # width of the token-level convolution that embeds each piece
    max_pieces: int = Field(512, ge=8)  # positions of the piece-level transformer (2 per step + 2)
    # encoder backbone
    encoder_max_len: int = Field(256, ge=16)
    # training
    lr: float | None = Field(None, gt=0)  # default: 1e-3 small, 5e-5 encoder
    weight_decay: float = Field(0.01, ge=0)
    batch_size: int = Field(16, ge=1)  # trajectories per optimiser step
    epochs: float = Field(4.0, gt=0)  # the learning-rate schedule spans this many epochs
    max_steps: int | None = Field(None, ge=1)  # stop after this many steps (the schedule stays)
    max_seconds: float | None = Field(None, gt=0)
    step_weight: float = Field(1.0, ge=0)
    trajectory_weight: float = Field(1.0, ge=0)
    val_share: float = Field(0.1, ge=0.0, lt=1.0)
    seed: int = 0
    checkpoint_every: int = Field(50, ge=1)
    device: str = "auto"  # auto (cuda when present) | cpu | cuda

    @model_validator(mode="after")
    def _check(self) -> RMConfig:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        if self.trajectory_weight == 0 and self.step_weight == 0:
            raise ValueError("step_weight and trajectory_weight cannot both be 0")
        return self

    @property
    def is_small(self) -> bool:
        return self.backbone == "small"

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (1e-3 if self.is_small else 5e-5)

    def model_hash(self) -> str:
        """What a checkpoint must agree on to be resumed (everything but the stopping rule)."""
        keep = self.model_dump(exclude={"max_steps", "max_seconds", "checkpoint_every", "device"})
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def load_rm_config(path: str | Path | None) -> RMConfig:
    if path is None:
        return RMConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RMConfigError(f"cannot read reward-model config {path}: {e}") from None
    if not isinstance(data, dict):
        raise RMConfigError(f"{path}: a reward-model config is a mapping of keys, e.g. `backbone: small`")
    data = data.get("rm", data)  # the keys at top level or under `rm:`
    try:
        return RMConfig(**data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'config'}: {err['msg']}" for err in e.errors())
        raise RMConfigError(f"{path}: {problems} (kinds are {list(KINDS)})") from None
