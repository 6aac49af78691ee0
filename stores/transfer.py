"""Arrow tables handed to another process (a pool worker).

Why a copy: pickling a slice of a table pickles every buffer the slice views, not just its rows
(pyarrow 26: a 2,000-row slice of a 20,400-row single-chunk reasoning table pickled to 254 MB,
the whole table). A stage that sends N slices of one table to workers then holds about N
copies of it in pipes, in the workers and in the results they send back; on the 100,000-row
reasoning mix that was 20 GB and the kernel killed the run. A slice copied to its own buffers
pickles to its own size.
"""

from __future__ import annotations

import pyarrow as pa


def detached(table: pa.Table) -> pa.Table:
    """``table`` with buffers of its own (a copy of only its rows): safe to pickle."""
    return table.take(pa.array(range(table.num_rows), pa.int64()))
