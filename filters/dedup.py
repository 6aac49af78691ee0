"""Exact deduplication by content id: the same episode generated twice is kept once.

Small task spaces (a 3x3 maze has a few hundred layouts) make repeats certain at scale; the
store refuses duplicate ids, so this runs before every publish. Near-duplicate (MinHash)
and semantic dedup build on the same keep-first contract.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def exact_dedup(table: pa.Table, key: str = "id") -> tuple[pa.Table, int]:
    """Keep the first row of each ``key``; return the table and how many rows were dropped."""
    if table.num_rows == 0:
        return table, 0
    indexed = pa.table({key: table[key], "_row": np.arange(table.num_rows)})
    first = indexed.group_by(key, use_threads=False).aggregate([("_row", "min")])["_row_min"].to_numpy()
    first = np.sort(first)
    return table.take(first), table.num_rows - len(first)
