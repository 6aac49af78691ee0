"""Learned reward model quality and speed, beside the leakage audit and a plain-transformers
baseline, in one run.

1. Data: training episodes of several reasoning families, GUI apps and research (every scripted
   tier, seed A) plus corrupted copies of some of them (split ``corrupt``); held-out episodes of
   the same families with seed B, of families left out of training, and corrupted held-out
   copies.
2. The small backbone is trained on CPU for a bounded time (``--seconds``), then evaluated per
   kind on the held-out rows: trajectory AUROC (success vs failure), ProcessBench first-error
   F1 (all rows, and noisy + corrupted erroneous rows against every correct row), ECE; the
   bag-of-n-grams logistic regression (leakage audit) is trained on the same rows and printed
   beside it.
3. Inference speed: the learned RM (steps/s, best of 3) beside the ``hf_rm`` scorer and a plain
   ``transformers`` ``pipeline("text-classification")`` (the baseline) on a tiny random BERT
   outcome model saved here with ``save_pretrained`` and a tokenizer trained here.

    .venv/bin/python bench/reward_model.py [--episodes 300] [--seconds 300] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.rm.config import RMConfig  # noqa: E402
from filters.rm.evaluate import NgramAudit, format_table, report  # noqa: E402
from filters.rm.inputs import input_rows  # noqa: E402
from filters.rm.train import train_rm  # noqa: E402
from stores.schema import from_table  # noqa: E402
from tests.generated import PROV  # noqa: E402

TRAIN = {"reasoning": ["arithmetic", "maze", "game24", "sudoku", "shortest_path", "nqueens"],
         "gui": ["todo", "shop", "form"], "research": ["multihop"]}
UNSEEN = {"reasoning": ["topo_sort", "futoshiki"], "gui": ["mail"]}
TIERS = {"expert": 0.3, "reflective": 0.2, "noisy": 0.3, "random": 0.2}


def research_params() -> dict:
    from stores.corpus import publish_corpus
    from stores.store import Store
    from synth.research.world import Generated, WorldSpec

    store = Store(tempfile.mkdtemp(prefix="trajforge-bench-rm-"))
    info = publish_corpus(store, "world", Generated(WorldSpec(size=1500, seed=3)))
    return {"corpus": {"ref": info.ref, "store": str(store.root)}}


def episodes(family: str, n: int, seed: int, params: dict) -> pa.Table:
    from synth.generate import ShardSpec, generate_shard

    return generate_shard(ShardSpec(family, seed, 0, n, TIERS, (1, 2), params), PROV).trajectories


def corrupted(table: pa.Table, seed: int, params: dict) -> pa.Table:
    from synth.corrupt import corrupt_table, corruption_sample

    sample = corruption_sample(table, 0.3, seed)
    rows, _, _ = corrupt_table(sample, ["swap_adjacent", "drop_step"], seed,
                               {f: params for f in set(t.task.family for t in from_table(sample))})
    return rows


def build(families: dict, n: int, seed: int, rparams: dict, corrupt: bool) -> pa.Table:
    parts = []
    for kind, fams in families.items():
        for fam in fams:
            params = rparams if kind == "research" else {}
            t = episodes(fam, n if kind != "research" else n // 2, seed, params)
            parts.append(t)
            if corrupt:
                parts.append(corrupted(t, seed, params))
    return pa.concat_tables(parts)


def print_quality(title: str, rm_rows: list[dict], audit_rows: list[dict]) -> None:
    print(f"\n{title}\n{format_table(rm_rows, audit_rows)}")


def tiny_hf_outcome(texts: list[str], folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]")
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=512, num_labels=1)
    BertForSequenceClassification(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=300, help="training episodes per family (held-out: a third)")
    ap.add_argument("--seconds", type=float, default=300.0, help="training time budget")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rparams = research_params()
    train = build(TRAIN, args.episodes, 1, rparams, corrupt=True)
    held = build(TRAIN, max(30, args.episodes // 3), 2, rparams, corrupt=True)
    unseen = build(UNSEEN, max(30, args.episodes // 3), 2, rparams, corrupt=True)
    print(f"data: {train.num_rows} training rows, {held.num_rows} held-out rows (seed B), {unseen.num_rows} rows of "
          f"unseen families, in {time.perf_counter() - started:.0f} s")

    cfg = RMConfig(max_seconds=args.seconds, epochs=50, val_share=0.1)
    t0 = time.perf_counter()
    result = train_rm(train, cfg, trained_on="bench@train", progress=False)
    print(f"trained small backbone: {result.stats['steps']} steps in {time.perf_counter() - t0:.0f} s "
          f"({result.stats['device']}), threshold {result.model.meta['threshold']}")
    model = result.model
    t0 = time.perf_counter()
    audit = NgramAudit(model.budget).fit(train)
    print(f"leakage audit trained in {time.perf_counter() - t0:.0f} s")
    for title, table in (("held-out seed, training families", held), ("families left out of training", unseen)):
        traj, steps = model.predict(input_rows(table))
        a_traj, a_steps = audit.predict(table)
        print_quality(title, report(table, traj, steps, model.meta["threshold"]), report(table, a_traj, a_steps, 0.5))

    rows = input_rows(held)
    n_steps = sum(len(r["steps"]) for r in rows)
    best = min(_timed(lambda: model.predict(rows, batch_size=128)) for _ in range(3))
    print(f"\ninference on {len(rows)} trajectories / {n_steps} steps (CPU, {torch.get_num_threads()} threads):")
    print(f"  learned_rm small backbone: {n_steps / best:9.0f} steps/s {len(rows) / best:8.0f} traj/s")

    from filters.scorers.base import build_scorer
    from filters.scorers.hf import step_text

    sample = held.slice(0, min(held.num_rows, 400))
    with tempfile.TemporaryDirectory() as tmp:
        folder = tiny_hf_outcome([step_text(s) for r in input_rows(sample) for s in r["steps"]], Path(tmp) / "bert")
        scorer = build_scorer({"name": "hf_rm", "params": {"path": str(folder), "batch_size": 32, "max_length": 512}})
        srows = sample.num_rows
        ssteps = sum(len(r["steps"]) for r in input_rows(sample))
        t_scorer = min(_timed(lambda: scorer.score(sample)) for _ in range(2))
        from transformers import pipeline

        pipe = pipeline("text-classification", model=str(folder), device=-1)
        texts = [scorer.text(r) for r in sample.select(["task", "steps", "final_answer"]).to_pylist()]
        t_pipe = min(_timed(lambda: pipe(texts, batch_size=32, truncation=True, max_length=512)) for _ in range(2))
    print(f"  hf_rm scorer (tiny BERT):  {ssteps / t_scorer:9.0f} steps/s {srows / t_scorer:8.0f} traj/s")
    print(f"  transformers pipeline:     {ssteps / t_pipe:9.0f} steps/s {srows / t_pipe:8.0f} traj/s  (baseline)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
