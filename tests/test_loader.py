"""The torch loader's promises: (a) ranks x workers cover the epoch's order exactly, whatever
their numbers; (b) no duplicate and no gap under drop, only the documented repeats under pad;
(c) exact resume, also after a second interruption and through torchdata's
StatefulDataLoader, and a refusal against another version; (d) epochs differ and repeat;
(e) pushed-down filters select what DuckDB selects; plus even rank sizes below row-group
granularity, tokenised tensors, and another pyarrow filesystem."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from stores.loader import Filters, Loader, LoaderError, Tokenize, TrajectoryDataset, worker_context
from stores.store import Store
from tests.factories import make_table

N = 1000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("loader") / "store")
    # small row groups and shards: several files, row groups of 128 rows
    store.publish("d", make_table(N, seed=4), shard_bytes=400_000, row_group_rows=128)
    store.publish("d", make_table(N - 10, seed=4))
    return store


def dataset(store, ref="d@v1", **options):
    options = {"columns": ["id"], "batch_size": 16, "block_rows": 100, "seed": 3, **options}
    return TrajectoryDataset.from_store(store, ref, **options)


def positions(batches):
    return np.concatenate([b["positions"].numpy() for b in batches]) if batches else np.zeros(0, np.int64)


def test_the_version_has_several_files_and_row_groups(store):
    paths = store.shard_paths("d@v1")
    assert len(paths) > 1 and sum(pq.ParquetFile(p).num_row_groups for p in paths) > len(paths)


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_a_ranks_and_workers_cover_the_epoch_order(store, workers):
    order = dataset(store).order()
    assert sorted(order) == list(range(N))
    for world in (1, 2, 3, 8):
        seen = []
        for rank in range(world):
            d = dataset(store, rank=rank, world_size=world)
            got = positions(list(Loader(d, num_workers=workers)))
            assert len(got) == N // world  # ranks split evenly at row granularity
            seen.append(got)
        assert np.array_equal(np.concatenate(seen), order[: world * (N // world)])


def test_b_drop_has_no_duplicate_or_gap_and_pad_repeats_only_the_documented_samples(store):
    for world in (3, 7):
        order = dataset(store).order()
        dropped = np.concatenate([dataset(store, rank=r, world_size=world).rank_order() for r in range(world)])
        assert len(set(dropped)) == len(dropped) == world * (N // world)
        assert set(order) - set(dropped) == set(order[world * (N // world):])
        padded = np.concatenate([dataset(store, rank=r, world_size=world, remainder="pad").rank_order()
                                 for r in range(world)])  # fmt: skip
        per = -(-N // world)
        assert len(padded) == world * per and set(padded) == set(range(N))
        assert np.array_equal(padded[N:], order[: world * per - N])  # the repeats: the epoch's first samples


def test_batches_carry_the_rows_of_their_positions(store):
    ids = store.read("d@v1", ["id"])["id"].to_pylist()
    for batch in Loader(dataset(store), num_workers=2):
        assert batch["rows"].column("id").to_pylist() == [ids[p] for p in batch["positions"].tolist()]


@pytest.mark.parametrize("workers", [0, 2])
def test_c_resume_twice_yields_exactly_the_rest(store, workers):
    full = positions(list(Loader(dataset(store, rank=1, world_size=2), num_workers=workers)))
    first = Loader(dataset(store, rank=1, world_size=2), num_workers=workers)
    got = []
    for i, batch in enumerate(first):
        got.append(batch)
        if i == 4:
            break
    state = first.state_dict()
    second = Loader(dataset(store, rank=1, world_size=2), num_workers=2 - workers)  # another worker count
    second.load_state_dict(state)
    for i, batch in enumerate(second):
        got.append(batch)
        if i == 6:
            break
    third = Loader(dataset(store, rank=1, world_size=2), num_workers=workers)
    third.load_state_dict(second.state_dict())
    got += list(third)
    assert np.array_equal(positions(got), full)


def test_c_resume_through_torchdata_stateful_dataloader(store):
    from torchdata.stateful_dataloader import StatefulDataLoader

    full = positions(list(Loader(dataset(store), num_workers=2)))
    loader = StatefulDataLoader(dataset(store), batch_size=None, num_workers=2, multiprocessing_context=worker_context())
    got = []
    for i, batch in enumerate(loader):
        got.append(batch)
        if i == 6:
            break
    state = loader.state_dict()
    again = StatefulDataLoader(dataset(store), batch_size=None, num_workers=2, multiprocessing_context=worker_context())
    again.load_state_dict(state)
    for i, batch in enumerate(again):
        got.append(batch)
        if i == 10:
            break
    state = again.state_dict()
    last = StatefulDataLoader(dataset(store), batch_size=None, num_workers=2, multiprocessing_context=worker_context())
    last.load_state_dict(state)
    got += list(last)
    assert np.array_equal(positions(got), full)


def test_c_a_state_from_another_version_or_seed_is_refused(store):
    loader = Loader(dataset(store))
    next(iter(loader))
    state = loader.state_dict()
    with pytest.raises(LoaderError, match="resume against the same version"):
        Loader(dataset(store, "d@v2")).load_state_dict(state)
    with pytest.raises(LoaderError, match="seed"):
        Loader(dataset(store, seed=4)).load_state_dict(state)


def test_d_epochs_differ_and_are_reproducible(store):
    d = dataset(store)
    e0, e1 = d.order(0), d.order(1)
    assert not np.array_equal(e0, e1) and sorted(e0) == sorted(e1)
    assert np.array_equal(dataset(store).order(1), e1)
    d.set_epoch(1)
    assert np.array_equal(positions(list(Loader(d))), e1)
    assert not np.array_equal(dataset(store, seed=9).order(0), e0)


@pytest.mark.parametrize("filters, where", [
    (Filters(kinds=["gui"]), "kind = 'gui'"),
    (Filters(tiers=["expert"], kinds=["reasoning", "research"]), "policy.tier = 'expert' AND kind IN ('reasoning', 'research')"),
    (Filters(splits=["train"], families=["toy"]), "split = 'train' AND task.family = 'toy'"),
    (Filters(min_scores={"verifier": 0.5}), "list_filter(scores, lambda e: e.name = 'verifier')[1].value >= 0.5"),
    (Filters(splits=["corrupt"]), "split = 'corrupt'"),
])  # fmt: skip
def test_e_filters_match_duckdb(store, filters, where):
    paths = [str(p) for p in store.shard_paths("d@v1")]
    expected = {r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet({paths}) WHERE {where}").fetchall()}
    d = dataset(store, filters=filters)
    got = [i for b in Loader(d) for i in b["rows"].column("id").to_pylist()]
    assert len(got) == len(set(got)) and set(got) == expected


def instruction(batch):
    """Module level: a transform's text function travels to forkserver workers by name."""
    return [t["instruction"] for t in batch.column("task").to_pylist()]


def test_tokenised_batches_are_tensors_padded_or_packed(store):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = store.read("d@v1", ["task"])["task"].to_pylist()
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([t["instruction"] for t in texts], trainers.WordLevelTrainer(special_tokens=["<pad>", "<eos>", "<unk>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")

    padded = next(iter(Loader(dataset(store, columns=["task"], transform=Tokenize(fast, instruction)), num_workers=1)))
    lengths = padded["attention_mask"].sum(1).tolist()
    assert padded["input_ids"].dtype.is_floating_point is False and max(lengths) == padded["input_ids"].shape[1]
    want = [fast(texts[p]["instruction"], add_special_tokens=False)["input_ids"] for p in padded["positions"].tolist()]
    assert [row[:n] for row, n in zip(padded["input_ids"].tolist(), lengths, strict=True)] == want
    packed = next(iter(Loader(dataset(store, columns=["task"], transform=Tokenize(fast, instruction, 32, pack=True)))))
    assert packed["input_ids"].shape[1] == 32 and (packed["position_ids"] == 0).sum() >= 1


def test_reads_through_a_pyarrow_filesystem(store):
    root = store.shard_paths("d@v1")[0].parent
    fs = pafs.SubTreeFileSystem(str(root), pafs.LocalFileSystem())
    names = sorted(p.name for p in root.glob("*.parquet"))
    d = TrajectoryDataset(names, "files", columns=["id"], batch_size=64, filesystem=fs)
    got = [i for b in Loader(d) for i in b["rows"].column("id").to_pylist()]
    assert sorted(got) == sorted(store.read("d@v1", ["id"])["id"].to_pylist())


def test_block_shuffle_only_keeps_storage_order_inside_blocks(store):
    d = dataset(store, shuffle_rows=False)
    order = d.order()
    assert sorted(order) == list(range(N)) and not np.array_equal(order, np.arange(N))
    where = np.argsort(order)  # position of each kept row in the order
    for start, size in zip(*d._blocks(), strict=True):
        at = where[start]
        assert np.array_equal(order[at:at + size], np.arange(start, start + size))
    ids = store.read("d@v1", ["id"])["id"].to_pylist()
    got = list(Loader(d))
    assert np.array_equal(positions(got), order)
    assert all(b["rows"].column("id").to_pylist() == [ids[p] for p in b["positions"].tolist()] for b in got)
