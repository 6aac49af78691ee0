"""Loader throughput on one stored version, in one run: the raw pyarrow row-group scan (the
limit: decode only), trajforge's loader with 0 and 2 DataLoader workers, Hugging Face
`datasets` streaming (rows, and Arrow batches), and mosaic streaming / litdata when installed;
then the same with tokenisation (a local tokenizer trained here, padded tensors).

Every reader reads the same columns of the same files and yields batches of 256 (row
readers: rows). Usage: python bench/loader.py [ROWS]
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stores.loader import Loader, Tokenize, TrajectoryDataset
from stores.schema import Provenance
from stores.store import Store
from synth.generate import ShardSpec, generate_shard

BATCH = 256
COLUMNS = ["id", "kind", "task", "steps", "outcome", "policy", "scores", "split"]


def make_rows(rows: int) -> pa.Table:
    """Real maze and sudoku trajectories, replicated with fresh ids up to ``rows``."""
    prov = Provenance("", "", "bench", "bench", "bench", datetime(2026, 1, 1, tzinfo=UTC))
    base = pa.concat_tables(
        generate_shard(ShardSpec(f, 0, 0, 600, {"expert": 0.7, "noisy": 0.3}, (1, 2, 3)), prov).trajectories
        for f in ("maze", "sudoku", "topo_sort")
    )
    parts = []
    for i in range(-(-rows // base.num_rows)):
        parts.append(base.set_column(0, "id", pc.binary_join_element_wise(base["id"], pa.scalar(f"-{i}"), "")))
    return pa.concat_tables(parts).slice(0, rows).combine_chunks()


def rates(readers: list[tuple[str, object]], rounds: int = 3) -> list[tuple[str, tuple[float, int]]]:
    """(name, (rows/s, rows, rows per CPU second of this process)) of each reader: the best of
    ``rounds`` rounds that run every reader in turn, so load from other processes on this
    shared machine hits them alike. CPU seconds leave out other processes' load (and the
    DataLoader workers' own time, so that column is not comparable for worker rows)."""
    best = {name: (float("inf"), 0) for name, _ in readers}
    cpu = {name: float("inf") for name, _ in readers}
    for _ in range(rounds):
        for name, fn in readers:
            start, start_cpu = time.perf_counter(), time.process_time()
            n = fn()
            best[name] = min(best[name], (time.perf_counter() - start, n))
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return [(name, (best[name][1] / best[name][0], best[name][1], best[name][1] / cpu[name])) for name, _ in readers]


def raw_scan(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        f = pq.ParquetFile(p)
        for rg in range(f.num_row_groups):
            n += f.read_row_group(rg, columns=COLUMNS).num_rows
    return n


def loader(store: Store, ref: str, workers: int, transform=None, shuffle_rows: bool = True) -> int:
    d = TrajectoryDataset.from_store(store, ref, columns=COLUMNS, batch_size=BATCH, transform=transform,
                                     shuffle_rows=shuffle_rows)  # fmt: skip
    n = 0
    for b in Loader(d, num_workers=workers):
        n += len(b["positions"])
    return n


def hf_rows(paths: list[Path]) -> int:
    ds = datasets.load_dataset("parquet", data_files=[str(p) for p in paths], split="train", streaming=True)
    return sum(1 for _ in ds.select_columns(COLUMNS))


def hf_arrow(paths: list[Path]) -> int:
    ds = datasets.load_dataset("parquet", data_files=[str(p) for p in paths], split="train", streaming=True)
    return sum(len(b) for b in ds.select_columns(COLUMNS).with_format("arrow").iter(BATCH))


def hf_tokenised(paths: list[Path], tokenizer) -> int:
    ds = datasets.load_dataset("parquet", data_files=[str(p) for p in paths], split="train", streaming=True)
    n = 0
    for b in ds.select_columns(["task"]).iter(BATCH):
        n += len(tokenizer([t["instruction"] for t in b["task"]], padding=True, return_tensors="pt")["input_ids"])
    return n


def make_tokenizer(table: pa.Table):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    texts = pc.struct_field(table["task"], "instruction").to_pylist()[:5000]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=2000, special_tokens=["<pad>", "<eos>", "<unk>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")


def instructions(batch: pa.RecordBatch) -> list[str]:
    return pc.struct_field(batch.column("task"), "instruction").to_pylist()


def main(rows: int) -> None:
    table = make_rows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store")
        info = store.publish("bench", table, shard_bytes=64 * 1024 * 1024)  # several shard files
        paths = store.shard_paths(info)
        tokenizer = make_tokenizer(table)
        print(f"{rows} rows, {len(paths)} files, {sum(pq.ParquetFile(p).num_row_groups for p in paths)} row groups, "
              f"{sum(p.stat().st_size for p in paths) / 1e6:.1f} MB zstd; columns {COLUMNS}; batches of {BATCH}")
        alone = rates([
            ("pyarrow row-group scan (the limit)", lambda: raw_scan(paths)),
            ("trajforge loader, 0 workers", lambda: loader(store, info.ref, 0)),
            ("trajforge loader, 0 workers, blocks only", lambda: loader(store, info.ref, 0, shuffle_rows=False)),
        ], rounds=5)
        print(f"\nin-process readers alone (no Python-object readers between them), best of 5\n"
              f"{'reader':<44}{'rows/s':>12}{'vs scan':>10}{'rows/CPU s':>12}{'vs scan':>9}")  # fmt: skip
        for name, (r, n, c) in alone:
            assert n == rows, (name, n)
            print(f"{name:<44}{r:>12,.0f}{r / alone[0][1][0]:>10.2f}{c:>12,.0f}{c / alone[0][1][2]:>9.2f}")
        results = rates([
            ("pyarrow row-group scan (the limit)", lambda: raw_scan(paths)),
            *((f"trajforge loader, {w} workers", lambda w=w: loader(store, info.ref, w)) for w in (0, 2)),
            ("trajforge loader, 0 workers, blocks only", lambda: loader(store, info.ref, 0, shuffle_rows=False)),
            ("datasets streaming, rows", lambda: hf_rows(paths)),
            ("datasets streaming, Arrow batches", lambda: hf_arrow(paths)),
        ])
        for name in ("streaming", "litdata"):
            if importlib.util.find_spec(name) is None:
                print(f"({name} is not installed: skipped)")
        limit = results[0][1][0]
        hf = results[4][1][0]
        cpu_limit = results[0][1][2]
        print(f"\nall readers, interleaved, best of 3\n{'reader':<44}{'rows/s':>12}{'vs scan':>10}{'vs HF rows':>12}"
              f"{'rows/CPU s':>12}{'vs scan':>9}")  # fmt: skip
        for name, (r, n, c) in results:
            assert n == rows, (name, n)
            print(f"{name:<44}{r:>12,.0f}{r / limit:>10.2f}{r / hf:>12.2f}{c:>12,.0f}{c / cpu_limit:>9.2f}")
        tok = Tokenize(tokenizer, instructions, max_length=256)
        tokenised = rates([
            *((f"trajforge loader + tokenise, {w} workers", lambda w=w: loader(store, info.ref, w, tok)) for w in (0, 2)),
            ("datasets streaming + tokenise", lambda: hf_tokenised(paths, tokenizer)),
        ], rounds=2)
        print(f"\n{'with tokenisation (task.instruction)':<44}{'samples/s':>12}")
        for name, (r, n, _) in tokenised:
            assert n == rows, (name, n)
            print(f"{name:<44}{r:>12,.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
