"""A deterministic, resumable, sharded torch ``IterableDataset`` over a version's Parquet (or
any Parquet files: a view export).

Order. The rows that pass the filters, in storage order, are cut into blocks of
``block_rows``; an epoch's global order permutes the blocks and the rows inside each block with
a generator seeded by (content id, seed, epoch). It depends on nothing else: not on the number
of ranks or workers, not on the machine. Blocks keep reads local (a block spans one or two
row groups, each read once per block), the in-block shuffle keeps batches mixed; this is the
block-shuffle of MosaicML streaming and litdata, made exact.

Sharding. Rank ``r`` of ``P`` takes the ``r``-th contiguous slice of the global order, so
ranks split evenly at row granularity, whatever the row-group size. The remainder policy:
``drop`` cuts the order to ``P * (N // P)`` (the dropped tail changes with the epoch);
``pad`` extends it to ``P * ceil(N / P)`` by repeating its first samples, so each repeat is
a sample of the same epoch, at most ``P - 1`` of them. A rank's slice is cut into batches of
``batch_size`` (the last may be short); worker ``w`` of ``W`` makes batches ``w, w + W, ...``,
so a ``DataLoader`` (which takes batches from its workers in turn) yields the rank's slice in
exactly the global order, and the union over ranks and workers is the epoch's order.

What crosses the worker boundary is a batch, never a row: an Arrow ``RecordBatch`` (pickled
as IPC buffers) with the global positions, or with a ``transform`` (e.g. :class:`Tokenize`)
a dict of tensors.

Resume. ``state_dict()`` says where the next batch starts (content id, seed, epoch, the
rank's start offset and, inside a worker, how many batches that worker made);
``load_state_dict()`` continues from there, exactly, any number of times. torchdata's
``StatefulDataLoader`` calls both inside each worker; :class:`Loader` does the same for a
plain ``DataLoader`` by counting delivered samples (so it may resume with another number of
workers). A state from another version, seed or world size is refused.

Filters are pushed down: row groups whose Parquet statistics exclude a kind, split, tier or
family are never opened (``pyarrow.dataset`` fragments), the index pass reads only the filter
columns, and the data pass reads only the projected columns of the row groups a block needs.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from stores.store import Store, StoreError, VersionInfo

REMAINDERS = ("drop", "pad")


class LoaderError(StoreError):
    """The loader cannot do what was asked; the message says what to change."""


@dataclass(frozen=True)
class Filters:
    """Which rows to load: each set field keeps rows whose value is in it; ``min_scores`` keeps
    rows whose trajectory score ``name`` is at least the value (rows without it are dropped)."""

    kinds: Sequence[str] | None = None
    splits: Sequence[str] | None = None
    tiers: Sequence[str] | None = None
    families: Sequence[str] | None = None
    min_scores: Mapping[str, float] = field(default_factory=dict)

    def expression(self) -> ds.Expression | None:
        """The part Parquet statistics can prune (plain and nested string columns)."""
        out = None
        for name, values in self._sets():
            part = _FIELDS[name].isin(list(values))
            out = part if out is None else out & part
        return out

    def projection(self) -> dict[str, ds.Expression]:
        """The filter columns the index pass reads: nested fields alone, not their structs."""
        cols = {name: _FIELDS[name] for name, _ in self._sets()}
        return {**cols, "scores": ds.field("scores")} if self.min_scores else cols

    def mask(self, table: pa.Table) -> np.ndarray:
        """Rows of ``table`` (read with :meth:`projection`) that pass."""
        keep = np.ones(table.num_rows, dtype=bool)
        for name, values in self._sets():
            keep &= np.asarray(pc.fill_null(pc.is_in(table[name], pa.array(list(values), pa.string())), False))
        for name, least in self.min_scores.items():
            scores = table["scores"].combine_chunks()
            owner = pc.list_parent_indices(scores).to_numpy()
            flat = pc.list_flatten(scores)
            hit = np.asarray(pc.fill_null(pc.and_(pc.equal(pc.struct_field(flat, "name"), name),
                                                  pc.greater_equal(pc.struct_field(flat, "value"), least)), False))  # fmt: skip
            ok = np.zeros(table.num_rows, dtype=bool)
            ok[owner[hit]] = True
            keep &= ok
        return keep

    def _sets(self) -> list[tuple[str, Sequence[str]]]:
        given = (("kind", self.kinds), ("split", self.splits), ("tier", self.tiers), ("family", self.families))
        return [(name, values) for name, values in given if values is not None]


_FIELDS = {"kind": ds.field("kind"), "split": ds.field("split"), "tier": ds.field("policy", "tier"),
           "family": ds.field("task", "family")}  # fmt: skip


@dataclass(frozen=True)
class _Index:
    """Where each kept row lives: row group number (into ``groups``) and row inside it."""

    groups: list[tuple[int, int]]  # (file number, row group number in the file)
    group: np.ndarray  # per kept row: index into groups
    row: np.ndarray  # per kept row: row inside its row group


class TrajectoryDataset(IterableDataset):
    """Batches of a version's rows in a seeded global order; see the module docstring.

    ``files`` are Parquet paths on ``filesystem`` (local by default; any pyarrow filesystem,
    e.g. ``pyarrow.fs.S3FileSystem``); ``content_id`` names their content (a version's
    manifest hash via :meth:`from_store`), and a resume state must carry the same one.
    ``rank``/``world_size`` default to ``torch.distributed``'s when it is initialised.
    ``shuffle_rows=False`` keeps storage order inside a block (blocks still shuffle): batches
    are then zero-copy slices of row groups, at the raw scan's speed, for data already
    shuffled on write. ``columns`` projects (default: all); ``transform(batch, positions)`` replaces the default
    output ``{"positions": LongTensor, "rows": RecordBatch}``.
    """

    def __init__(
        self,
        files: Sequence[str],
        content_id: str,
        *,
        columns: Sequence[str] | None = None,
        filters: Filters | None = None,
        batch_size: int = 32,
        seed: int = 0,
        epoch: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        remainder: str = "drop",
        block_rows: int = 1024,
        shuffle_rows: bool = True,
        transform: Callable[[pa.RecordBatch, np.ndarray], Any] | None = None,
        filesystem: pafs.FileSystem | None = None,
    ):
        if remainder not in REMAINDERS:
            raise LoaderError(f"remainder must be one of {list(REMAINDERS)}, got {remainder!r}")
        if batch_size < 1 or block_rows < 1:
            raise LoaderError("batch_size and block_rows must be positive")
        if rank is None or world_size is None:
            dist = torch.distributed.is_available() and torch.distributed.is_initialized()
            world_size = world_size if world_size is not None else (torch.distributed.get_world_size() if dist else 1)
            rank = rank if rank is not None else (torch.distributed.get_rank() if dist else 0)
        if not 0 <= rank < world_size:
            raise LoaderError(f"rank must be in [0, {world_size}), got {rank}")
        self.files = list(files)
        self.content_id = content_id
        self.columns = list(columns) if columns is not None else None
        self.filters = filters or Filters()
        self.batch_size, self.seed, self.epoch = batch_size, seed, epoch
        self.rank, self.world_size, self.remainder, self.block_rows = rank, world_size, remainder, block_rows
        self.shuffle_rows = shuffle_rows
        self.transform = transform
        self.filesystem = filesystem or pafs.LocalFileSystem()
        self._index: _Index | None = None
        self._block_table: tuple[np.ndarray, np.ndarray] | None = None
        self._start, self._skip_batches, self._workers_at_save = 0, 0, None
        self._made = 0  # batches this iterator made (per worker inside a worker)

    @classmethod
    def from_store(cls, store: Store, ref: str | VersionInfo, table: str | None = None, **options: Any) -> TrajectoryDataset:
        """The dataset over a version's table; its content id is the sha256 of the shards'
        recorded hashes, so the order depends on the data, not on its name or commit time."""
        info = ref if isinstance(ref, VersionInfo) else store.resolve(ref)
        paths = [str(p) for p in store.shard_paths(info, table)]  # checked against the manifest
        shards = info.manifest["tables"][table or info.main_table]["shards"]
        content = hashlib.sha256("".join(s["sha256"] for s in shards).encode()).hexdigest()
        return cls(paths, content, **options)

    # ------------------------------------------------------------------ order

    def index(self) -> _Index:
        """The kept rows' places, from one pass over the filter columns (cached)."""
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def _build_index(self) -> _Index:
        groups, group, row = [], [], []
        expression = self.filters.expression()
        projection = self.filters.projection()
        fmt = ds.ParquetFileFormat()
        for f, path in enumerate(self.files):
            fragment = fmt.make_fragment(path, filesystem=self.filesystem)
            for piece in fragment.split_by_row_group(expression):  # row groups the statistics cannot exclude
                (rg,) = [g.id for g in piece.row_groups]
                if projection:
                    keep = np.flatnonzero(self.filters.mask(piece.to_table(columns=projection)))
                else:
                    keep = np.arange(piece.row_groups[0].num_rows)
                if len(keep):
                    group.append(np.full(len(keep), len(groups), dtype=np.int32))
                    row.append(keep.astype(np.int32))
                    groups.append((f, rg))
        empty = np.zeros(0, dtype=np.int32)
        return _Index(groups, np.concatenate(group) if group else empty, np.concatenate(row) if row else empty)

    def __len__(self) -> int:
        """Samples this rank yields per epoch."""
        return self._per_rank(len(self.index().row))

    def _per_rank(self, n: int) -> int:
        return n // self.world_size if self.remainder == "drop" else math.ceil(n / self.world_size)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The epoch's global order: positions into the kept rows (before rank slicing)."""
        return self._epoch(epoch)[0]

    def _blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, size) of each block: runs of at most ``block_rows`` kept rows of one row
        group, so a block is read from one row group and a row group once per epoch."""
        if self._block_table is not None:
            return self._block_table
        group = self.index().group
        if not len(group):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        edges = np.flatnonzero(np.diff(group)) + 1
        group_starts = np.concatenate([[0], edges])
        group_sizes = np.diff(np.concatenate([group_starts, [len(group)]]))
        starts = [gs + np.arange(0, size, self.block_rows) for gs, size in zip(group_starts, group_sizes, strict=True)]
        start = np.concatenate(starts).astype(np.int64)
        ends = np.minimum(start + self.block_rows, np.repeat(group_starts + group_sizes,
                                                              [len(x) for x in starts]))  # fmt: skip
        self._block_table = (start, ends - start)
        return self._block_table

    def _epoch(self, epoch: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, block of each order position, start of that block in the order)."""
        epoch = self.epoch if epoch is None else epoch
        digest = hashlib.sha256(f"{self.content_id}|{self.seed}|{epoch}|{self.block_rows}|{self.shuffle_rows}".encode()).digest()
        rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))
        start, size = self._blocks()
        perm = rng.permutation(len(start))
        out = np.empty(int(size.sum()), dtype=np.int64)
        at = 0
        for b in perm:
            out[at:at + size[b]] = start[b] + (rng.permutation(size[b]) if self.shuffle_rows else np.arange(size[b]))
            at += size[b]
        sizes = size[perm]
        block = np.repeat(perm, sizes)
        first = np.repeat(np.cumsum(sizes) - sizes, sizes)
        return out, block, first

    def rank_order(self, epoch: int | None = None) -> np.ndarray:
        """This rank's slice of the global order, with the remainder policy applied."""
        return self._rank_slice(self.order(epoch))

    def _rank_slice(self, values: np.ndarray) -> np.ndarray:
        per = self._per_rank(len(values))
        if self.remainder == "pad" and len(values):
            values = np.concatenate([values, values[: per * self.world_size - len(values)]])
        return values[self.rank * per:(self.rank + 1) * per]

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its beginning (drops a loaded mid-epoch state)."""
        self.epoch, self._start, self._skip_batches, self._workers_at_save = epoch, 0, 0, None

    # ------------------------------------------------------------------ resume

    def state_dict(self) -> dict[str, Any]:
        info = get_worker_info()
        return {"content_id": self.content_id, "seed": self.seed, "epoch": self.epoch, "rank": self.rank,
                "world_size": self.world_size, "batch_size": self.batch_size, "block_rows": self.block_rows,
                "remainder": self.remainder, "shuffle_rows": self.shuffle_rows, "filters": repr(self.filters), "start": self._start,
                "workers": info.num_workers if info else 0, "batches": self._made}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` on the next iteration."""
        if state.get("content_id") != self.content_id:
            raise LoaderError(f"this resume state was saved on {state.get('content_id')!r}, but the loader reads "
                              f"{self.content_id!r}; resume against the same version, or start a new epoch "
                              "without the state")  # fmt: skip
        for key in ("seed", "rank", "world_size", "batch_size", "block_rows", "remainder", "shuffle_rows"):
            if state[key] != getattr(self, key):
                raise LoaderError(f"this resume state has {key}={state[key]!r} but the loader has "
                                  f"{getattr(self, key)!r}; the order would differ, so it cannot resume exactly")  # fmt: skip
        if state["filters"] != repr(self.filters):
            raise LoaderError("this resume state was saved with other filters; resume with the same filters")
        self.epoch, self._start = state["epoch"], state["start"]
        self._skip_batches, self._workers_at_save = state["batches"], state["workers"]

    # ------------------------------------------------------------------ reading

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        if self._skip_batches and (self._workers_at_save or 1) != workers:
            raise LoaderError(f"this state was saved by a loader with {self._workers_at_save} workers; resume with "
                              "the same num_workers (or save through stores.loader.Loader, which any count resumes)")  # fmt: skip
        order, block, first = self._epoch(None)
        positions = self._rank_slice(order)[self._start:]
        places = self._rank_slice(np.arange(len(order)))[self._start:]  # where each sample sits in the order
        bounds = list(range(0, len(positions), self.batch_size))
        mine = bounds[worker::workers][self._skip_batches:]
        self._made = self._skip_batches
        blocks: OrderedDict[int, pa.Table] = OrderedDict()
        groups: OrderedDict[int, pa.Table] = OrderedDict()
        files: dict[int, pq.ParquetFile] = {}
        for lo in mine:
            batch = positions[lo:lo + self.batch_size]
            at = places[lo:lo + self.batch_size]
            parts = []
            # a batch is contiguous runs of the order, each inside one block: zero-copy slices
            cuts = np.flatnonzero((np.diff(at) != 1) | (np.diff(block[at]) != 0)) + 1
            for run in np.split(np.arange(len(at)), cuts):
                b, begin = int(block[at[run[0]]]), int(first[at[run[0]]])
                table = self._block(b, order[begin:], blocks, groups, files)
                parts.append(table.slice(int(at[run[0]]) - begin, len(run)))
            table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
            if info is not None and self.transform is None:
                # a slice pickles with its parent's whole buffers: compact it before it crosses
                table = table.take(pa.array(np.arange(table.num_rows)))
            record = _one_batch(table)
            self._made += 1
            yield self.transform(record, batch) if self.transform else {"positions": torch.from_numpy(batch), "rows": record}

    def _block(self, b: int, order_from: np.ndarray, blocks: OrderedDict, groups: OrderedDict,
               files: dict) -> pa.Table:  # fmt: skip
        """Block ``b``'s rows in the epoch's order (``order_from`` starts where it does), taken
        once from its row group and cached, so batches are zero-copy slices of it."""
        if b in blocks:
            blocks.move_to_end(b)
            return blocks[b]
        index = self.index()
        start, size = self._blocks()
        g = int(index.group[start[b]])
        if g not in groups:
            f, rg = index.groups[g]
            if f not in files:
                files[f] = pq.ParquetFile(self.filesystem.open_input_file(self.files[f]))
            groups[g] = files[f].read_row_group(rg, columns=self.columns)
            if len(groups) > 2:
                groups.popitem(last=False)
        sequence = order_from[: size[b]]
        rows = index.row[sequence]
        contiguous = len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1)
        # storage order (shuffle_rows=False, no filter gap) is a zero-copy slice; else one take
        blocks[b] = groups[g].slice(int(rows[0]), len(rows)) if contiguous else groups[g].take(pa.array(rows))
        if len(blocks) > 4:
            blocks.popitem(last=False)
        return blocks[b]


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    """A one-chunk table as its RecordBatch without copying (an empty one as an empty batch)."""
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else table.combine_chunks().to_batches()[0]


@dataclass(frozen=True)
class Tokenize:
    """A ``transform`` that turns a batch into tensors with a local Hugging Face tokenizer
    (a picklable object, so it travels to workers started by ``forkserver`` or ``spawn``).

    ``text``: a string column's name, or a module-level function from the batch to one string
    per row. Padded: ``input_ids``/``attention_mask`` of shape (rows, longest <= max_length),
    right padded with the tokenizer's pad id. Packed: the rows' tokens joined (each followed by
    EOS) and cut into full rows of ``max_length`` (the tail that does not fill one is dropped),
    with ``position_ids`` restarting at every sample, as packed-attention trainers expect.
    """

    tokenizer: Any
    text: Callable[[pa.RecordBatch], list[str]] | str
    max_length: int = 1024
    pack: bool = False

    def __post_init__(self) -> None:
        if self.pad is None:
            raise LoaderError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")

    @property
    def pad(self) -> int | None:
        t = self.tokenizer
        return t.pad_token_id if t.pad_token_id is not None else t.eos_token_id

    def __call__(self, batch: pa.RecordBatch, positions: np.ndarray) -> dict[str, torch.Tensor]:
        texts = batch.column(self.text).to_pylist() if isinstance(self.text, str) else self.text(batch)
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=not self.pack,
                             max_length=None if self.pack else self.max_length)["input_ids"]  # fmt: skip
        pad, n = self.pad, self.max_length
        if self.pack:
            eos = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else pad
            flat = np.fromiter((t for seq in ids for t in (*seq, eos)), dtype=np.int64)
            pos = np.concatenate([np.arange(len(s) + 1) for s in ids]) if ids else np.zeros(0, np.int64)
            rows = len(flat) // n
            return {"input_ids": torch.from_numpy(flat[: rows * n].reshape(rows, n).copy()),
                    "position_ids": torch.from_numpy(pos[: rows * n].reshape(rows, n).copy()),
                    "positions": torch.from_numpy(positions)}  # fmt: skip
        width = max((len(s) for s in ids), default=0)
        out = np.full((len(ids), width), pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, seq in enumerate(ids):
            out[i, : len(seq)] = seq
            mask[i, : len(seq)] = 1
        return {"input_ids": torch.from_numpy(out), "attention_mask": torch.from_numpy(mask),
                "positions": torch.from_numpy(positions)}  # fmt: skip


def worker_context() -> multiprocessing.context.BaseContext:
    """The start method for DataLoader workers: ``forkserver``, with torch, pyarrow and this
    module preloaded in the server so each worker starts in milliseconds.

    Not ``fork``: a process that has used pyarrow's (or any) thread pool is not safe to fork,
    and a forked worker inherits the parent's multiprocessing finalizers (in a long test
    session, workers died at exit with code 1). Pass it to torchdata's ``StatefulDataLoader``
    too: ``StatefulDataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context=worker_context())``.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "pyarrow.parquet", "stores.loader"])
    return ctx


class Loader:
    """A ``DataLoader`` over a :class:`TrajectoryDataset` that can save and resume exactly.

    The ``DataLoader`` delivers the rank's order in order, so the samples delivered after
    ``k`` batches are known; :meth:`state_dict` is valid between any two batches and resumes
    with any number of workers. For torchdata's ``StatefulDataLoader``, pass the dataset to it
    directly (it saves each worker's state; resume then needs the same ``num_workers``).
    """

    def __init__(self, dataset: TrajectoryDataset, num_workers: int = 0, **options: Any):
        self.dataset = dataset
        self.num_workers = num_workers
        self.options = options
        self._base, self._batches = dataset._start, 0

    def __iter__(self) -> Iterator[Any]:
        self._base, self._batches = self.dataset._start, 0
        self.dataset._skip_batches, self.dataset._workers_at_save = 0, None
        options = {"multiprocessing_context": worker_context(), **self.options} if self.num_workers else self.options
        for batch in DataLoader(self.dataset, batch_size=None, num_workers=self.num_workers, **options):
            self._batches += 1
            yield batch
        self.dataset._start = self._base = self._batches = 0  # the epoch is over; set_epoch for the next

    def __len__(self) -> int:
        return math.ceil((len(self.dataset) - self.dataset._start) / self.dataset.batch_size)

    def state_dict(self) -> dict[str, Any]:
        delivered = min(self._batches * self.dataset.batch_size, len(self.dataset) - self._base)
        return {**self.dataset.state_dict(), "start": self._base + delivered, "workers": 0, "batches": 0}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.dataset.load_state_dict({**state, "batches": 0})
        self._base, self._batches = self.dataset._start, 0
