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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
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

    def fill(tmp: Path) -> None:
        configs = write_configs(store, info, tmp)
        (tmp / "README.md").write_text(dataset_card(info, configs))

    return write_export_dir(store, info, out_dir, overwrite, fill)


def write_export_dir(store: Store, info: VersionInfo, out_dir: str | Path, overwrite: bool,
                     fill: Callable[[Path], None]) -> Path:  # fmt: skip
    """Build an export folder beside ``out_dir`` with ``fill`` and rename it into place, so the
    folder appears only when complete and a failed export leaves an earlier one whole."""
    out = check_output_dir(store, out_dir, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.export-{os.getpid()}")
    old = out.with_name(f".{out.name}.replaced-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        fill(tmp)
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


def with_features(schema: pa.Schema, images: dict[str, str] | None = None) -> pa.Schema:
    """``schema`` with its ``datasets`` features in the metadata, so `datasets` reads the declared
    types instead of re-inferring them; ``images`` (column -> 'one' or 'list') become the
    Image feature, which `datasets` decodes to PIL images."""
    features = datasets.Features.from_arrow_schema(schema)
    for name, shape in (images or {}).items():
        features[name] = datasets.Image() if shape == "one" else datasets.List(datasets.Image())
    meta = {b"huggingface": json.dumps({"info": {"features": features.to_dict()}}).encode()}
    return schema.with_metadata({**(schema.metadata or {}), **meta})


#: the blobs config: the image bytes as an Image feature (``{bytes, path}``), not raw binary
BLOB_EXPORT_SCHEMA = pa.schema(
    [("id", pa.string()), ("media_type", pa.string()), ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
)


def blob_images(blobs: pa.Table) -> pa.Table:
    """The blobs table as the blobs config stores it: ``image = {bytes, path: <id>.<ext>}``."""
    ext = pc.replace_substring_regex(blobs["media_type"], "^image/(jpeg)$", "jpg")
    ext = pc.replace_substring_regex(ext, "^image/", "")
    paths = pc.binary_join_element_wise(blobs["id"], ext, ".")
    image = pa.StructArray.from_arrays([blobs["bytes"].combine_chunks(), paths.combine_chunks()], ["bytes", "path"])
    table = pa.table({"id": blobs["id"], "media_type": blobs["media_type"], "image": image})
    return table.cast(with_features(BLOB_EXPORT_SCHEMA, {"image": "one"}))


def write_configs(store: Store, info: VersionInfo, root: Path) -> dict[str, dict[str, int]]:
    table = store.read(info)
    schema = with_features(TRAJECTORY_SCHEMA)
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
        pq.write_table(blob_images(blobs), root / "data" / "blobs" / f"train-{fp}-00000-of-00001.parquet",
                       compression="zstd", row_group_size=64)
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
`corruption.steps`, `corruption.source_id`). Action and reasoning corruptions are relabelled by
replaying the environment, with `first_error_step` marking the first step it rejects;
observation, reward and dynamics corruptions keep the clean row's environment label, and
`corruption.steps` marks the touched steps (`outcome_flip` flips the outcome on purpose).
"""

