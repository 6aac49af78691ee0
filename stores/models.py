"""What a ``model`` version holds: a trained model's files and its evaluation metrics.

A trained reward model is data the pipeline made from a dataset version, so it is kept like
one: an immutable version whose lineage parent is the dataset it was trained on (the catalog
then answers "which data trained this model"). The main table is the model's metrics, one row
per (split, kind, metric), so they are queryable in SQL beside the data; the weights, config
and tokenizer travel as the version's files under ``model/``. The store only checks the
layout; what a model is and how it scores lives in ``filters/``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

METRICS_SCHEMA = pa.schema([("split", pa.string()), ("kind", pa.string()), ("metric", pa.string()),
                            ("value", pa.float64())])
REQUIRED_FILES = ("model/config.json", "model/weights.safetensors")


class ModelVersionError(ValueError):
    """A model version's metrics or files break the layout; the message says how to fix it."""


def validate_metrics(table: pa.Table, where: str = "model metrics") -> None:
    if table.schema != METRICS_SCHEMA:
        raise ModelVersionError(f"{where}: schema {table.schema} is not {METRICS_SCHEMA}; build the table "
                                "with stores.models.metrics_table")
    for name in ("split", "kind", "metric"):
        if table[name].null_count:
            raise ModelVersionError(f"{where}: null {name} in {table[name].null_count} row(s); every metric "
                                    "row names its split, kind and metric")


def check_model_files(files: dict[str, bytes] | None) -> None:
    missing = [f for f in REQUIRED_FILES if f not in (files or {})]
    if missing:
        raise ModelVersionError(f"a model version needs the file(s) {missing} (weights as safetensors, "
                                "config as JSON)")


def metrics_table(rows: list[tuple[str, str, str, float]]) -> pa.Table:
    """(split, kind, metric, value) rows; NaN values (a metric undefined on that data) are kept."""
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, METRICS_SCHEMA, strict=True)],
                    schema=METRICS_SCHEMA)


def metrics_stats(table: pa.Table) -> dict[str, Any]:
    """Row and column counts in the shape of the other kinds' stats."""
    columns = {f.name: {"type": str(f.type), "null_count": table[f.name].null_count} for f in table.schema}
    kinds = sorted(set(pc.unique(table["kind"]).to_pylist())) if table.num_rows else []
    return {"rows": table.num_rows, "columns": columns, "content": {"metrics": table.num_rows, "kinds": kinds}}
