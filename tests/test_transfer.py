"""Tables sent to pool workers carry their own rows, not the buffers of the table they slice
(the 100,000-row reasoning run held ~50 copies of its table in the score stage and was killed)."""

from __future__ import annotations

import pickle

import pyarrow as pa

from flows.workers import in_pool, shard_pool
from stores.transfer import detached


def buffer_bytes(table: pa.Table) -> int:
    """Bytes of every buffer the table's arrays reference (what a worker really holds)."""
    return sum(b.size for column in table.columns for chunk in column.chunks for b in chunk.buffers() if b is not None)


def big_table() -> pa.Table:
    n = 200_000
    return pa.table({"x": pa.array(range(n), pa.int64()), "text": pa.array([f"thought {i}" for i in range(n)]),
                     "steps": pa.array([[i, i + 1] for i in range(n)], pa.list_(pa.int64()))})


def test_a_detached_slice_is_equal_and_pickles_to_its_own_size():
    part = big_table().slice(1000, 100)
    copy = detached(part)
    assert copy.equals(part) and copy.schema == part.schema
    assert buffer_bytes(copy) < 10_000 and len(pickle.dumps(copy)) < 20_000
    assert detached(part.slice(0, 0)).num_rows == 0


def test_a_slice_sent_to_a_pool_worker_carries_only_its_rows():
    part = big_table().slice(5000, 100)
    with shard_pool(2):
        held = in_pool(buffer_bytes, part)
    assert held < 10_000, f"the worker received {held} bytes of buffers for 100 rows"
