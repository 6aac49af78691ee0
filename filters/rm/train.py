"""Training the reward model: seeded, resumable from a checkpoint, with progress shown.

Rows are split into training and validation by task id (a task's episodes never sit on both
sides), so the validation figures are on unseen tasks. The batch order of optimiser step s is a
function of (seed, s) alone, and a checkpoint holds the weights, the optimiser, the step, the
torch RNG and the tokenizer, so a run stopped at any checkpoint and resumed takes the same
batches as one that never stopped. The step-score threshold that predicts the first error is
chosen on the validation rows and stored with the model.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from torch import nn

from filters.rm.config import RMConfig
from filters.rm.evaluate import report
from filters.rm.inputs import input_rows, trajectory_pieces
from filters.rm.labels import labels_of
from filters.rm.metrics import best_threshold
from filters.rm.model import FORMAT, FORMAT_VERSION, RewardModel, pick_device


class TrainingError(ValueError):
    """The data or the checkpoint cannot train this model; nothing was published."""


@dataclass
class TrainResult:
    model: RewardModel
    validation: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)


def select_kinds(table: pa.Table, kinds: list[str] | None) -> tuple[pa.Table, list[str]]:
    present = sorted(set(pc.unique(table["kind"]).to_pylist())) if table.num_rows else []
    if not present:
        raise TrainingError("the training version has no rows")
    if kinds is None:
        return table, present
    missing = sorted(set(kinds) - set(present))
    if missing:
        raise TrainingError(f"config asks for kind(s) {missing} but the training version holds only {present}; "
                            "drop them from `kinds:` or train on a version that has them")
    return table.filter(pc.is_in(table["kind"], pa.array(kinds))), sorted(kinds)


def split_indices(table: pa.Table, val_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    task_ids = pc.struct_field(table["task"], "id").to_pylist()
    u = np.array([int(hashlib.sha256(f"{seed}:{t}".encode()).hexdigest()[:12], 16) / 16 ** 12 for t in task_ids])
    val = u < val_share
    return np.flatnonzero(~val), np.flatnonzero(val)


def model_meta(config: RMConfig, kinds: list[str], families: list[str], trained_on: str) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "backbone": "small" if config.is_small else "encoder",
        "encoder_source": None if config.is_small else config.backbone,
        "arch": {k: getattr(config, k) for k in ("vocab_size", "d_model", "layers", "heads", "ff", "dropout", "d_token",
                                                 "max_pieces", "encoder_max_len")},
        "budget": config.budget.model_dump(), "kinds": kinds, "families": families,
        "labels": {"step_labels": config.step_labels, "mc_key": config.mc_key},
        "threshold": 0.5, "trained_on": trained_on, "config": config.model_dump(), "config_hash": config.model_hash(),
    }


def train_rm(table: pa.Table, config: RMConfig, *, trained_on: str, checkpoint: Path | None = None,
             resume: bool = True, progress: bool = True) -> TrainResult:
    table, kinds = select_kinds(table, config.kinds)
    train_idx, val_idx = split_indices(table, config.val_share, config.seed)
    if not len(train_idx):
        raise TrainingError(f"no training rows left after holding out val_share={config.val_share}; lower it")
    train, val = table.take(pa.array(train_idx)), table.take(pa.array(val_idx))
    labels = labels_of(train, config.step_labels, config.mc_key)
    if len(set(labels.outcome.tolist())) < 2 and all(s is None for s in labels.steps):
        raise TrainingError("the training rows are all successes or all failures and carry no step labels: "
                            "there is nothing to learn; generate several tiers (expert, noisy, random)")
    families = sorted(set(pc.struct_field(train["task"], "family").to_pylist()))
    meta = model_meta(config, kinds, families, trained_on)
    rows = input_rows(train)
    torch.manual_seed(config.seed)

    state = _load_checkpoint(checkpoint, config, trained_on) if (checkpoint is not None and resume) else None
    if config.is_small:
        texts = state["tokenizer"] if state else None
        model = _small_from_checkpoint(meta, texts) if texts else RewardModel.create(
            meta, (p.text for r in rows for p in trajectory_pieces(r, config.budget.budget())))
    else:
        model = RewardModel.create(meta)
    device = pick_device(config.device)
    model.to(device)
    optim = torch.optim.AdamW(model.net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    start_step, spent = 0, 0.0
    if state:
        model.net.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        start_step, spent = int(state["step"]), float(state["seconds"])
        torch.set_rng_state(state["torch_rng"])

    items = model.encode(rows)
    targets = labels.steps
    per_epoch = math.ceil(len(items) / config.batch_size)
    horizon = max(1, math.ceil(config.epochs * per_epoch))  # the schedule's length: stopping early keeps it
    total = min(horizon, config.max_steps) if config.max_steps else horizon
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    began = time.monotonic()
    step, ema = start_step, None

    def lr_at(s: int) -> float:
        warm = max(1, min(50, horizon // 10))
        return config.learning_rate * (min(1.0, (s + 1) / warm) * max(0.1, 1 - s / horizon))

    bar = _progress(progress)
    with bar:
        task = bar.add_task("training reward model", total=total, completed=step, loss="-")
        model.net.train()
        while step < total:
            if config.max_seconds is not None and spent + time.monotonic() - began >= config.max_seconds:
                break
            epoch, pos = divmod(step, per_epoch)
            order = np.random.default_rng([config.seed, epoch]).permutation(len(items))
            chosen = order[pos * config.batch_size:(pos + 1) * config.batch_size]
            batch = model.collate([items[i] for i in chosen])
            s_logit, t_logit = model.forward(batch)
            y_step = np.array([targets[chosen[r]][t] if targets[chosen[r]] is not None else np.nan
                               for r, t in zip(batch.score_row, batch.score_step, strict=True)], np.float32)
            y_traj = torch.tensor(labels.outcome[chosen[batch.traj_row]], device=device)
            loss = config.trajectory_weight * loss_fn(t_logit, y_traj).mean()
            known = ~np.isnan(y_step)
            if known.any():
                mask = torch.tensor(known, device=device)
                y = torch.tensor(np.nan_to_num(y_step), device=device)
                loss = loss + config.step_weight * loss_fn(s_logit[mask], y[mask]).mean()
            for g in optim.param_groups:
                g["lr"] = lr_at(step)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.net.parameters(), 1.0)
            optim.step()
            step += 1
            ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
            bar.update(task, completed=step, loss=f"{ema:.4f}")
            if checkpoint is not None and (step % config.checkpoint_every == 0 or step == total):
                _save_checkpoint(checkpoint, model, optim, step, spent + time.monotonic() - began, config)
    seconds = spent + time.monotonic() - began
    if checkpoint is not None and step > start_step:
        _save_checkpoint(checkpoint, model, optim, step, seconds, config)

    validation: list[dict[str, Any]] = []
    if val.num_rows:
        traj, steps = model.predict(input_rows(val))
        val_labels = labels_of(val, "prefix")
        known = [i for i, fe in enumerate(val_labels.first_error) if fe is not None]
        model.meta["threshold"] = best_threshold([steps[i] for i in known], [val_labels.first_error[i] for i in known])
        validation = report(val, traj, steps, model.meta["threshold"])
    model.meta["training"] = {"steps": step, "total_steps": total, "seconds": round(seconds, 2),
                              "resumed_from_step": start_step, "train_rows": len(items), "val_rows": val.num_rows,
                              "loss_ema": ema, "device": str(device)}
    return TrainResult(model, validation, dict(model.meta["training"]))


def _small_from_checkpoint(meta: dict[str, Any], tokenizer_json: str) -> RewardModel:
    from tokenizers import Tokenizer

    from filters.rm.model import SmallCausalRM

    tok = Tokenizer.from_str(tokenizer_json)
    return RewardModel(meta, SmallCausalRM.from_arch(tok.get_vocab_size(), meta["arch"]), tok)


def _save_checkpoint(path: Path, model: RewardModel, optim, step: int, seconds: float, config: RMConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"model": model.net.state_dict(), "optim": optim.state_dict(), "step": step, "seconds": seconds,
               "hash": config.model_hash(), "trained_on": model.meta["trained_on"], "torch_rng": torch.get_rng_state(),
               "tokenizer": model.tokenizer.to_str() if model.is_small else None}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, config: RMConfig, trained_on: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a torn or foreign file: say so rather than train from it
        raise TrainingError(f"checkpoint {path} cannot be read ({e}); remove it or train with --no-resume") from None
    if state.get("hash") != config.model_hash() or state.get("trained_on") != trained_on:
        raise TrainingError(f"checkpoint {path} was written with another model or data config; resume with the "
                            "same rm.yaml, or train with --no-resume to start over")
    return state


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)
