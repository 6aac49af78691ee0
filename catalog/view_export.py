"""Build a trainer view of a stored version and write it: one Parquet file, or a Hugging Face
dataset folder with a card (``datasets.load_dataset(DIR, VIEW)``).

The Parquet carries the ``datasets`` features in its metadata (images as the Image feature),
so ``load_dataset("parquet", data_files=...)`` and the folder both give PIL images and the
declared types. Writes go to a temporary name first: a failed export leaves no file under
the final name, and ``--overwrite`` replaces only an earlier export (:mod:`stores.outputs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from catalog.hf_export import content_fingerprint, with_features, write_export_dir
from catalog.views import USES_BLOBS, VIEWS, ViewError, image_columns
from stores.names import Ref
from stores.outputs import check_output_file, export_schema
from stores.store import Store, StoreError, VersionInfo

#: the consumer each view is checked against (tests/test_views_trl.py runs one step of each)
TARGETS = {
    "sft": "TRL 1.13.0 SFTTrainer (conversational `messages` + `tools`)",
    "preference": "TRL 1.13.0 DPOTrainer (conversational preference with explicit prompt)",
    "prm": "TRL 1.13.0 trl.experimental.prm.PRMTrainer (stepwise supervision); ProcessBench `label`",
    "rl-prompts": "TRL 1.13.0 GRPOTrainer (conversational `prompt`; reward functions get `reference`, `verifier`, `env`)",
    "gui-steps": "VLM SFT (Qwen2-VL-style chat content lists with an image part)",
}
#: the stored table a selection stage writes pairs into; :func:`build_view` uses it when present
PAIRS_TABLE = "preference_pairs"


def build_view(store: Store, ref: str | Ref | VersionInfo, view: str, **options: Any) -> pa.Table:
    """The named view of a version, as an Arrow table (readable in Python without exporting)."""
    fn = VIEWS.get(view)
    if fn is None:
        raise ViewError(f"unknown view {view!r}; views are {sorted(VIEWS)}")
    info = ref if isinstance(ref, VersionInfo) else store.resolve(ref)
    if info.kind != "trajectories":
        raise StoreError(f"{info.ref} is a {info.kind} version; views are built from trajectory versions")
    table = store.read(info)
    if view == "gui-steps" and not pc.any(pc.equal(table["kind"], "gui")).as_py():
        kinds = sorted(set(table["kind"].to_pylist()))
        raise StoreError(f"{info.ref} has no gui trajectories (it holds {', '.join(kinds) or 'no rows'}); "
                         "the gui-steps view needs a version made with gui families, e.g. from configs/gui.yaml")  # fmt: skip
    if options.pop("images", True) and view in USES_BLOBS:
        options["blobs"] = store.read(info, table="blobs")
    if view == "preference" and PAIRS_TABLE in info.manifest["tables"] and "pairs" not in options:
        options["pairs"] = store.read(info, table=PAIRS_TABLE)
    return fn(table, **options)


def export_view(store: Store, ref: str | Ref, view: str, out: str | Path, *, hf: bool = False,
                overwrite: bool = False, **options: Any) -> tuple[Path, pa.Table]:  # fmt: skip
    """Write the view to ``out`` (a Parquet file, or with ``hf`` a dataset folder); returns the
    path and the table written."""
    info = store.resolve(ref)
    if not hf:
        check_output_file(store, out, overwrite)
    table = build_view(store, info, view, **options)
    schema = export_schema(with_features(table.schema, image_columns(table.schema)), info.ref)
    table = table.cast(schema)
    if not hf:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        pq.write_table(table, partial, compression="zstd", row_group_size=_row_group(view))
        partial.replace(path)  # never a half-written file under the final name
        return path, table

    def fill(tmp: Path) -> None:
        splits = view_splits(table)
        fp = content_fingerprint(info)
        for split, part in splits.items():
            path = tmp / "data" / view / f"{split}-{fp}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path, compression="zstd", row_group_size=_row_group(view))
        (tmp / "README.md").write_text(view_card(info, view, {s: p.num_rows for s, p in splits.items()}, fp, options))

    return write_export_dir(store, info, out, overwrite, fill), table


def _row_group(view: str) -> int:
    return 64 if view in USES_BLOBS else 1024  # image rows are large: keep row groups small to stream


def view_splits(table: pa.Table) -> dict[str, pa.Table]:
    """split -> rows, by the view's ``split`` column (one ``train`` split for views without one)."""
    if "split" not in table.column_names:
        return {"train": table}
    return {s: table.filter(pc.equal(table["split"], s)) for s in sorted(set(table["split"].to_pylist()))}


def view_card(info: VersionInfo, view: str, splits: dict[str, int], fp: str, options: dict[str, Any]) -> str:
    header = {
        "configs": [{"config_name": view, "default": True,
                     "data_files": [{"split": s, "path": f"data/{view}/{s}-{fp}-*.parquet"} for s in splits]}],
        "tags": ["trajforge", "agent-trajectories", "synthetic", view],
        "trajforge": {"dataset": info.name, "version": info.version, "view": view,
                      "code_version": info.manifest["code_version"]},
    }  # fmt: skip
    rows = "\n".join(f"| {s} | {n} |" for s, n in splits.items())
    shown = {k: v for k, v in options.items() if k not in ("blobs", "pairs")}
    return f"""---
{yaml.safe_dump(header, sort_keys=False)}---

# {info.name} ({info.version}): `{view}` view

The `{view}` trainer view of `{info.ref}`, derived by trajforge from the canonical trajectory
rows (`catalog/views.py`); built for {TARGETS[view]}. Options: `{shown or 'defaults'}`.

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder", "{view}")
```

| split | rows |
|---|---|
{rows}

Lineage: source version `{info.ref}` (created {info.manifest['created_at']}), code version
`{info.manifest['code_version']}`.
"""
