"""How scorers respond to corruption: per grid cell, detection, score drop and first-error F1.

A robustness suite corrupts the same clean rows once per grid cell (:mod:`synth.corrupt.grid`)
and asks, for every scorer: does it notice (precision and recall of "score below threshold"
with the corrupted rows as positives and their clean sources as negatives), by how much does
its mean fall against those sources, and where the rows carry a known first error, does its
step score find it (ProcessBench's F1, :func:`filters.rm.metrics.first_error_f1`). Comparing
against the cell's own sources, not all clean rows, keeps a cell that only some kinds reach
from being judged against rows it never touched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from filters.adversary import scorer_ranker, unscored
from filters.rm.metrics import first_error_f1, predicted_first_error
from filters.scorers import Scoring, score_batches
from filters.scorers.base import ScorerError, build_scorers, in_store
from filters.scoring import family_params_of
from stores.blobs import merge_blobs, referenced_blobs
from stores.names import check_name
from stores.selection import source_blobs
from stores.store import Store, VersionInfo
from synth.corrupt.grid import CellRows, corrupt_cells, grid_cells
from synth.corrupt.registry import OPERATORS, CorruptionError


def response_report(clean: pa.Table, cells: Mapping[str, CellRows], scoring: Scoring,
                    threshold: float = 0.5, step_threshold: float = 0.5) -> list[dict[str, Any]]:
    """One row per (cell, score name, level): trajectory scores get ``mean_clean``, ``mean_corrupt``,
    ``drop``, ``precision``, ``recall``; step scores get ``fe_f1`` (and its two accuracies) on
    the cell's rows and sources whose ``first_error_step`` is known. ``cells`` are
    :func:`synth.corrupt.grid.corrupt_cells`' output; ``scoring`` scores both sides afresh (scores a row already
    carries, such as a ``score_random`` perturbation, are not the scorer's response)."""
    scorers = build_scorers(scoring.entries, scoring.seed, scoring.family_params)
    names = [(n, "trajectory") for s in scorers for n in s.outputs()[0]]
    names += [(n, "step") for s in scorers for n in s.outputs()[1]]
    clean_scored = _by_id(score_batches(unscored(clean), scoring)[0])
    report = []
    for split, done in cells.items():
        cell = done.cell
        corrupted = score_batches(unscored(done.rows), scoring)[0].to_pylist()
        sources = [clean_scored[r["corruption"]["source_id"]] for r in corrupted]
        base = {"cell": split, "operator": cell.spec.name, "category": OPERATORS[cell.spec.name].category,
                "c": cell.spec.rate, "eps": cell.spec.eps, "mode": cell.spec.mode, "rows": len(corrupted),
                "skipped": sum(done.stats.skipped.values()) + sum(done.stats.not_drawn.values())}
        for name, level in names:  # a scorer may write a trajectory and a step score of one name
            if level == "trajectory":
                report.append({**base, "score": name, "level": level, **_detection(name, sources, corrupted, threshold)})
            else:
                report.append({**base, "score": name, "level": level,
                               **_first_error(name, sources + corrupted, step_threshold)})
    return report


def _by_id(table: pa.Table) -> dict[str, dict]:
    return dict(zip(table["id"].to_pylist(), table.to_pylist(), strict=True))


def _score(row: dict, name: str) -> float:
    return next((e["value"] for e in row["scores"] or [] if e["name"] == name), math.nan)


def _detection(name: str, sources: list[dict], corrupted: list[dict], threshold: float) -> dict[str, float]:
    clean = np.array([_score(r, name) for r in sources], np.float64)
    bad = np.array([_score(r, name) for r in corrupted], np.float64)
    keep = ~np.isnan(clean) & ~np.isnan(bad)  # pairs the scorer has an opinion on
    clean, bad = clean[keep], bad[keep]
    if not len(bad):
        return {"pairs": 0, "mean_clean": math.nan, "mean_corrupt": math.nan, "drop": math.nan,
                "precision": math.nan, "recall": math.nan}
    tp, fp = int((bad < threshold).sum()), int((clean < threshold).sum())
    return {"pairs": int(len(bad)), "mean_clean": float(clean.mean()), "mean_corrupt": float(bad.mean()),
            "drop": float(clean.mean() - bad.mean()), "precision": tp / (tp + fp) if tp + fp else math.nan,
            "recall": tp / len(bad)}


def _first_error(name: str, rows: list[dict], threshold: float) -> dict[str, float]:
    predicted, truth = [], []
    for r in rows:
        values = next((e["values"] for e in r["step_scores"] or [] if e["name"] == name), None)
        if r["first_error_step"] is None or values is None:
            continue
        predicted.append(predicted_first_error(np.asarray(values, np.float64), threshold))
        truth.append(r["first_error_step"])
    f = first_error_f1(predicted, truth) if truth else {"f1": math.nan, "acc_erroneous": math.nan,
                                                        "acc_correct": math.nan}
    return {"labelled": len(truth), "fe_f1": f["f1"], "fe_acc_erroneous": f["acc_erroneous"],
            "fe_acc_correct": f["acc_correct"]}


def format_report(report: list[dict[str, Any]]) -> str:
    """The report as a Markdown table (the terminal and docs read the same text)."""
    def f(x: Any) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}" if isinstance(x, float) else str(x)

    head = ["cell", "score", "level", "rows", "mean_clean", "mean_corrupt", "drop", "precision", "recall", "fe_f1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(f(r.get(k)) for k in head) + " |" for r in report]
    return "\n".join(lines)


REPORT_FILES = ("robustness/report.json", "robustness/report.md")


def publish_suite(store: Store, info: VersionInfo, grid: Mapping[str, Any], entries: list[dict[str, Any]], *,
                  seed: int = 0, into: str | None = None, threshold: float = 0.5,
                  step_threshold: float = 0.5) -> tuple[VersionInfo, list[dict[str, Any]]]:
    """A robustness suite of ``info``'s ``train`` rows: one split per grid cell, published as a
    new version of ``into`` (default ``<name>-robustness``) whose lineage names the source with
    role ``corruption``, with the response report of the scorers ``entries`` in
    ``robustness/report.json`` and ``.md`` and each cell's counts in ``params.cells``.
    A bad grid, scorer or kind fails before any row is corrupted, and nothing is written."""
    if info.kind != "trajectories":
        raise ScorerError(f"{info.ref} is a {info.kind} version; a robustness suite corrupts trajectory versions")
    name = into or f"{info.name}-robustness"
    check_name(name)
    cells = grid_cells(grid)
    family_params = family_params_of(store, info)
    entries = in_store(entries, str(store.root))  # a model version named in a scorer is this store's
    scoring = Scoring(list(entries), seed, 2000, family_params)
    build_scorers(scoring.entries, seed, family_params)  # unknown scorers and bad params fail here
    table = store.read(info)
    clean = table.filter(pc.equal(table["split"], "train"))
    kinds = set(clean["kind"].to_pylist())
    if not kinds:
        raise CorruptionError(f"{info.ref} has no train rows to corrupt")
    for cell in cells:
        if not any(cell.spec.supports(k) for k in kinds):
            raise CorruptionError(f"grid cell {cell.split}: operator {cell.spec.name!r} edits only "
                                  f"{', '.join(sorted(cell.spec.operator.kinds))} trajectories and {info.ref} holds "
                                  f"{', '.join(sorted(kinds))}; drop it from the grid")
    specs = [c.spec for c in cells]
    rank = scorer_ranker(specs, seed, family_params, entries) if any(s.mode == "adversarial" for s in specs) else None
    done = corrupt_cells(clean, cells, seed, family_params, rank)
    report = response_report(clean, done, scoring, threshold, step_threshold)
    rows = pa.concat_tables([d.rows for d in done.values()])
    blobs = referenced_blobs(rows, merge_blobs([source_blobs(store, [info]), *(d.blobs for d in done.values())]))
    params = {"source": info.ref, "grid": dict(grid), "seed": seed, "scorers": list(entries),
              "threshold": threshold, "step_threshold": step_threshold,
              "cells": {split: d.stats.as_dict() for split, d in done.items()}}
    files = {REPORT_FILES[0]: orjson.dumps(report, option=orjson.OPT_SERIALIZE_NUMPY),
             REPORT_FILES[1]: (format_report(report) + "\n").encode()}
    published = store.publish(name, rows, blobs=blobs, parents=[{"ref": info.ref, "role": "corruption"}],
                              params=params, files=files)
    return published, report
