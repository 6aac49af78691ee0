"""Column and content statistics kept in every manifest (datatrove's "stats everywhere").

They let the catalog answer "how many noisy gui trajectories does v3 hold" without opening
the data, and make a suspicious version visible at a glance in `datasets show`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_MIN_MAX = ("id", "kind", "split", "final_answer", "first_error_step")


def table_stats(table: pa.Table) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name in table.column_names:
        col = table[name]
        entry: dict[str, Any] = {"type": str(col.type), "null_count": col.null_count}
        if name in _MIN_MAX and table.num_rows and col.null_count < table.num_rows:
            mm = pc.min_max(col)
            entry["min"], entry["max"] = mm["min"].as_py(), mm["max"].as_py()
        columns[name] = entry
    return {"rows": table.num_rows, "columns": columns, "content": _content_stats(table)}


def _content_stats(table: pa.Table) -> dict[str, Any]:
    if table.num_rows == 0:
        return {}
    steps = pc.list_value_length(table["steps"]).cast(pa.int64())
    success = pc.struct_field(table["outcome"], "success")
    view = pa.table(
        {
            "kind": table["kind"],
            "split": table["split"],
            "tier": pc.struct_field(table["policy"], "tier"),
            "family": pc.struct_field(table["task"], "family"),
            "steps": steps,
            "success": success.cast(pa.float64()),
        }
    )
    out: dict[str, Any] = {
        "steps": {"min": pc.min(steps).as_py(), "max": pc.max(steps).as_py(), "mean": pc.mean(steps).as_py()},
        "success_rate": pc.mean(view["success"]).as_py(),
    }
    for key in ("kind", "split", "tier", "family"):
        grouped = view.group_by(key).aggregate([("success", "count"), ("success", "mean")]).sort_by(key)
        out[f"by_{key}"] = {
            row[key]: {"rows": row["success_count"], "success_rate": row["success_mean"]} for row in grouped.to_pylist()
        }
    flat = pc.list_flatten(table["scores"])
    if len(flat):
        scores = pa.table({"name": pc.struct_field(flat, "name"), "value": pc.struct_field(flat, "value")})
        out["scores"] = {
            r["name"]: {"mean": r["value_mean"], "count": r["value_count"]}
            for r in scores.group_by("name").aggregate([("value", "mean"), ("value", "count")]).sort_by("name").to_pylist()
        }
    return out
