"""Export a version as a Hugging Face dataset folder: Parquet under ``data/`` plus a card.

One config per trajectory kind (and one for blobs when the version has images), one split
per trajectory ``split``, so ``datasets.load_dataset(DIR, "gui", split="corrupt")`` works.
The ``datasets`` features are written into each file's metadata, so they match the schema
exactly instead of being re-inferred. The folder appears only when complete: it is built
beside the target and renamed into place.

File names carry a fingerprint of the version's content (``train-<fp>-00000-of-00001``).
`datasets` 5.2 caches a folder whose card declares ``configs`` by the folder's name and the
data_files patterns, not by content, so without it two exports into folders of the same
name would load the first one's cached rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import datasets
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from stores.names import Ref
from stores.outputs import check_output_dir, mark_export_dir
from stores.schema import TRAJECTORY_SCHEMA
from stores.store import Store, VersionInfo


def export_hf(store: Store, ref: str | Ref, out_dir: str | Path, overwrite: bool = False) -> Path:
    """Write the folder; ``overwrite`` replaces only a folder an earlier export wrote, and never
    a path in or around a store (:mod:`stores.outputs`)."""
    info = store.resolve(ref)
    out = check_output_dir(store, out_dir, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.export-{os.getpid()}")
    old = out.with_name(f".{out.name}.replaced-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        configs = _write_data(store, info, tmp)
        (tmp / "README.md").write_text(dataset_card(info, configs))
        mark_export_dir(tmp, info.ref)
        if out.exists():
            os.replace(out, old)  # two renames: the old export is whole until the new one is in place
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out


def _write_data(store: Store, info: VersionInfo, root: Path) -> dict[str, dict[str, int]]:
    table = store.read(info)
    features = datasets.Features.from_arrow_schema(TRAJECTORY_SCHEMA)
    schema = TRAJECTORY_SCHEMA.with_metadata(
        {**TRAJECTORY_SCHEMA.metadata, b"huggingface": json.dumps({"info": {"features": features.to_dict()}}).encode()}
    )
    fp = content_fingerprint(info)
    configs: dict[str, dict[str, int]] = {}
    for kind in sorted(set(table["kind"].to_pylist())):
        of_kind = table.filter(pc.equal(table["kind"], kind))
        for split in sorted(set(of_kind["split"].to_pylist())):
            part = of_kind.filter(pc.equal(of_kind["split"], split)).cast(schema)
            path = root / "data" / kind / f"{split}-{fp}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path, compression="zstd", row_group_size=1024)
            configs.setdefault(kind, {})[split] = part.num_rows
    blobs = store.read(info, table="blobs")
    if blobs.num_rows:
        (root / "data" / "blobs").mkdir(parents=True)
        pq.write_table(blobs, root / "data" / "blobs" / f"train-{fp}-00000-of-00001.parquet", compression="zstd",
                       row_group_size=64)
        configs["blobs"] = {"train": blobs.num_rows}
    return configs


def content_fingerprint(info: VersionInfo) -> str:
    """12 hex of sha256 over the version's shard hashes: equal exactly when the data is."""
    shards = sorted(s["sha256"] for t in info.manifest["tables"].values() for s in t["shards"])
    return hashlib.sha256("".join(shards).encode()).hexdigest()[:12]


def dataset_card(info: VersionInfo, configs: dict[str, dict[str, int]]) -> str:
    fp = content_fingerprint(info)
    header: dict[str, Any] = {
        "configs": [
            {
                "config_name": name,
                "data_files": [{"split": split, "path": f"data/{name}/{split}-{fp}-*.parquet"} for split in splits],
                **({"default": True} if i == 0 else {}),
            }
            for i, (name, splits) in enumerate(configs.items())
        ],
        "tags": ["trajforge", "agent-trajectories", "synthetic"],
        "trajforge": {"dataset": info.name, "version": info.version, "code_version": info.manifest["code_version"]},
    }
    stats = info.manifest["stats"]["content"]
    rows = "\n".join(
        f"| {name} | {split} | {n} |" for name, splits in configs.items() for split, n in splits.items()
    )
    tiers = "\n".join(f"| {t} | {s['rows']} | {s['success_rate']:.3f} |" for t, s in stats.get("by_tier", {}).items())
    parents = ", ".join(f"{p['dataset']}@{p['version']} ({p['role']})" for p in info.manifest["parents"]) or "none"
    return f"""---
{yaml.safe_dump(header, sort_keys=False)}---

# {info.name} ({info.version})

Agent post-training trajectories made with trajforge:
synthesized by scripted teacher policies, verified, scored and versioned. One row per
trajectory; the schema (v{info.manifest['schema_version']}) is described in trajforge's
`docs/design.md`. JSON-valued fields (`task.reference`, `task.env`, `steps.action.arguments`,
`steps.accepted_actions`, `policy.params`) are JSON strings; `scores` and `step_scores` are
lists of `{{name, value(s)}}` entries.

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder", "{next(iter(configs))}")
```

## Contents

| config | split | rows |
|---|---|---|
{rows}

## Policy tiers

| tier | rows | success rate |
|---|---|---|
{tiers}

## Lineage

- source version: `{info.ref}`, created {info.manifest['created_at']}
- parents: {parents}
- code version: `{info.manifest['code_version']}`
- config hash: `{info.manifest['params'].get('config_hash', 'n/a')}`

The `corrupt` split holds labelled corruptions of clean rows (`corruption.operator`,
`corruption.steps`, `corruption.source_id`), relabelled by replaying the environment, with
`first_error_step` marking the first step the environment rejects.
"""

