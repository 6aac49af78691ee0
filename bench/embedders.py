"""Embedding throughput: the packaged MiniLM (CPU, and the GPU when one is present) beside
the hashing embedder, on the short ``task`` view and the long ``trajectory`` view of
generated episodes (texts per second, model load time apart).

    .venv/bin/python bench/embedders.py [--rows 400] [--batch 64]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.retrieval import pool  # noqa: E402
from stores.embeddings import make_embedder  # noqa: E402
from stores.text_views import view_texts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    import torch

    table = pool(max(1, args.rows // 10))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"{table.num_rows} texts per view; torch threads {torch.get_num_threads()}; devices {devices}")
    for view in ("task", "trajectory"):
        _, texts = view_texts(table, view)
        words = sum(len(t.split()) for t in texts) / len(texts)
        specs = [("hashing", "cpu")] + [("minilm", d) for d in devices]
        for spec, device in specs:
            t0 = time.perf_counter()
            embedder = make_embedder(spec, device=device, batch_size=args.batch)
            embedder.embed(texts[:2])  # load the model (and warm the kernels)
            load = time.perf_counter() - t0
            t0 = time.perf_counter()
            embedder.embed(texts)
            rate = len(texts) / (time.perf_counter() - t0)
            print(f"  {view:<11} ({words:5.0f} words)  {embedder.id:<34} {device:<5} {rate:9.0f} texts/s   "
                  f"(load {load:.1f} s)")


if __name__ == "__main__":
    main()
