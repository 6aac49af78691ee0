"""Scorers under one contract (:mod:`filters.scorers.base`), registered by name."""

from __future__ import annotations

import importlib

import pyarrow as pa

# every module that registers scorers; importing them fills base.REGISTRY
MODULES = (
    "filters.scorers.outcome",
    "filters.scorers.learned",
    "filters.scorers.hf",
    "filters.scorers.judge",
)


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)


def score_table(table: pa.Table) -> pa.Table:
    """The default scoring of a generated table: the verifier outcome and prefix labels."""
    from filters.scorers.base import apply_scorers, build_scorers

    scored, _ = apply_scorers(table, build_scorers([{"name": "verifier"}, {"name": "prefix_correct"}]))
    return scored
