"""Scorers under one contract (:mod:`filters.scorers.base`), registered by name."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

# every module that registers scorers; importing them fills base.REGISTRY
MODULES = (
    "filters.scorers.outcome",
    "filters.scorers.montecarlo",
    "filters.scorers.reference",
    "filters.scorers.recovery",
    "filters.scorers.quality",
    "filters.scorers.learned",
    "filters.scorers.hf",
    "filters.scorers.judge",
)

DEFAULT_ENTRIES = ({"name": "verifier"}, {"name": "prefix_correct"})


def load_all() -> None:
    for module in MODULES:
        importlib.import_module(module)


@dataclass(frozen=True)
class Scoring:
    """What a score stage runs: scorer entries ``{name, as?, params?}``, the seed, rows per
    batch, and per family the params its env is rebuilt with (scorers that replay episodes)."""

    entries: tuple[Mapping[str, Any], ...] | list[Mapping[str, Any]] = DEFAULT_ENTRIES
    seed: int = 0
    batch_size: int = 2000
    family_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def score_batches(table: pa.Table, scoring: Scoring) -> tuple[pa.Table, dict[str, dict[str, float]]]:
    """``table`` scored batch by batch; each scorer's cost figures summed over the batches."""
    from filters.scorers.base import apply_scorers, build_scorers

    scorers = build_scorers(scoring.entries, scoring.seed, family_params=scoring.family_params)
    if table.num_rows == 0:
        return apply_scorers(table, scorers)
    parts, stats = [], []
    for i in range(0, table.num_rows, scoring.batch_size):
        scored, cost = apply_scorers(table.slice(i, scoring.batch_size), scorers)
        parts.append(scored)
        stats.append(cost)
    return pa.concat_tables(parts), merge_stats(stats)


def merge_stats(parts: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Cost figures of several batches: counts and seconds add up."""
    out: dict[str, dict[str, float]] = {}
    for part in parts:
        for scorer, figures in part.items():
            into = out.setdefault(scorer, {})
            for k, v in figures.items():
                into[k] = round(into.get(k, 0.0) + float(v), 6)
    return out


def score_table(table: pa.Table) -> pa.Table:
    """The default scoring of a generated table: the verifier outcome and prefix labels."""
    return score_batches(table, Scoring())[0]
