"""Exact deduplication, by content id and by task: keep-first, vectorised.

Small task spaces (a 3x3 maze has a few hundred layouts) make repeats certain at scale; the
store refuses duplicate ids, so :func:`exact_dedup` runs before every publish.
:func:`task_dedup` enforces "no two tasks in one dataset are the same": task ids are hashes
of the canonical task content, so two episodes on one puzzle (drawn from two seeds, or by
two tiers) share a task id. Near-duplicate (MinHash) and semantic dedup build on the same
keep-first contract.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def exact_dedup(table: pa.Table, key: str = "id") -> tuple[pa.Table, int]:
    """Keep the first row of each ``key``; return the table and how many rows were dropped."""
    if table.num_rows == 0:
        return table, 0
    indexed = pa.table({key: table[key], "_row": np.arange(table.num_rows)})
    first = indexed.group_by(key, use_threads=False).aggregate([("_row", "min")])["_row_min"].to_numpy()
    first = np.sort(first)
    return table.take(first), table.num_rows - len(first)


def task_dedup(table: pa.Table) -> tuple[pa.Table, int]:
    """Keep the first trajectory of each task (``task.id``); return it and how many were dropped."""
    if table.num_rows == 0:
        return table, 0
    keyed = table.append_column("_task", pc.struct_field(table["task"], "id"))
    kept, dropped = exact_dedup(keyed, "_task")
    return kept.drop_columns("_task"), dropped
