"""Reward models as store versions: publish a trained model (kind ``model``, lineage parent the
dataset it was trained on), open one by ``NAME@REF`` or by folder, keep its evaluations.

An evaluation on another version is derived data of the model version (the version itself is
immutable), so it goes to ``derived/<model>/<version>/eval/<dataset>@<version>.json``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from filters.rm.model import NotARewardModelError, RewardModel, load_model, read_meta
from filters.rm.train import TrainResult
from stores.derived import derived_dir
from stores.models import REQUIRED_FILES, metrics_table
from stores.names import Ref
from stores.store import NotFoundError, Store, VersionInfo


def metric_rows(split: str, report_rows: list[dict[str, Any]]) -> list[tuple[str, str, str, float]]:
    out = []
    for r in report_rows:
        kind = r["kind"] if r.get("group", "all") == "all" else f"{r['kind']}/{r['group']}"
        out.extend((split, kind, k, float(v)) for k, v in r.items() if k not in ("kind", "group"))
    return out


def publish_model(store: Store, name: str, result: TrainResult, data: VersionInfo) -> VersionInfo:
    files = {f"model/{rel}": blob for rel, blob in result.model.files().items()}
    meta = result.model.meta
    params = {"rm": {"backbone": meta["backbone"], "encoder_source": meta["encoder_source"], "kinds": meta["kinds"],
                     "families": meta["families"], "threshold": meta["threshold"], "config": meta["config"],
                     "training": meta["training"], "trained_on": data.ref}}
    return store.publish(name, metrics_table(metric_rows("validation", result.validation)), schema_kind="model",
                         files=files, parents=[{"ref": data.ref, "role": "train"}], params=_finite(params))


def model_folder(spec: str, store: Store | None = None) -> Path:
    """The folder of a reward model given as a folder path or as ``NAME@REF`` of a model version."""
    path = Path(spec)
    if path.exists() or "@" not in spec:
        read_meta(path)  # refuses a missing folder or a folder that is not an RM, with the reason
        return path
    store = store or Store()
    try:
        info = store.resolve(Ref.parse(spec))
    except NotFoundError as e:
        raise NotARewardModelError(f"reward model {spec!r}: {e}") from None
    if info.kind != "model":
        raise NotARewardModelError(f"{info.ref} is a {info.kind} version, not a model version; pass the version "
                                   "`trajforge rm train` published")
    for rel in REQUIRED_FILES:
        store.file_path(info, rel)  # present and the size the manifest recorded
    folder = info.path / "model"
    read_meta(folder)
    return folder


def open_model(spec: str, store: Store | None = None, device: torch.device | None = None) -> RewardModel:
    return load_model(model_folder(spec, store), device)


def save_eval(store: Store, model: VersionInfo, data: VersionInfo, payload: dict[str, Any]) -> Path:
    folder = derived_dir(store, model) / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data.name}@{data.version}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_finite(payload), indent=2, sort_keys=True))
    os.replace(tmp, path)
    return path


def _finite(value: Any) -> Any:
    """JSON has no NaN: an undefined metric (one class only) is stored as null."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
