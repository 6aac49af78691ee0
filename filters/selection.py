"""Selection: aggregate step scores, apply thresholds, keep the best of each task group or
the top k, and build preference pairs from one group.

Why one module: ``trajforge select`` and the pipeline's ``select:`` stage apply the same
rules in the same order, and report what each rule dropped (a selection that silently keeps
nothing is refused unless ``allow_empty``). Rules, in order:

1. ``thresholds``: ``{score, min?, max?}`` on a trajectory score, or on ``selection`` (the
   aggregate below); a row without the score fails the threshold (and is counted apart).
2. ``best_of_n`` (keep the best row of each task group) and/or ``top_k`` (``per: task`` or
   ``global``), ranked by the aggregate, ties by fewer steps, then id.
3. ``pairs``: preference pairs inside a task group, ranked lexicographically on (outcome,
   aggregate) as in SPARE; chosen beats rejected when its outcome is higher, or equal with
   an aggregate at least ``min_margin`` higher; the widest gaps first, at most
   ``max_per_task`` per task, each unordered pair once. The selected rows are then the rows
   of the pairs, and the pairs are stored as the version's ``preference_pairs`` table (what
   the ``preference`` trainer view reads).

The aggregate (``aggregate``): ``how`` in min / mean / last / product of the step score
``step``, plus ``alpha`` times the trajectory score ``traj`` (ReasonFlux-PRM's selection score
is mean step reward + alpha x trajectory score); either part may be left out. It is written to
each selected row as ``scores['selection']``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stores.names import check_name
from stores.schema import with_score
from stores.selection import publish_selection
from stores.store import Store, VersionInfo

SELECTION_SCORE = "selection"
PAIRS_TABLE = "preference_pairs"  # the name catalog.view_export reads pairs from


class SelectionError(ValueError):
    """Selection rules that are malformed or that would select nothing; nothing is written."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Aggregate(_Strict):
    step: str | None = None  # a step score name, e.g. mc.soft
    how: Literal["min", "mean", "last", "product"] = "mean"
    traj: str | None = None  # a trajectory score name, e.g. verifier
    alpha: float = Field(default=1.0, ge=0.0, le=1000.0)

    @model_validator(mode="after")
    def _some(self) -> Aggregate:
        if self.step is None and self.traj is None:
            raise ValueError("aggregate needs `step` (a step score) and/or `traj` (a trajectory score)")
        return self


class Threshold(_Strict):
    score: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError(f"threshold on {self.score!r} needs `min` and/or `max`")
        return self

    def label(self) -> str:
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + ([f"<= {self.max:g}"] if self.max is not None else [])
        return f"threshold {self.score} {' and '.join(parts)}"


class TopK(_Strict):
    k: int = Field(ge=1, le=10_000_000)
    per: Literal["task", "global"] = "task"


class Pairs(_Strict):
    outcome: str = "verifier"  # the first key of the lexicographic order
    min_margin: float = Field(default=0.0, ge=0.0)
    max_per_task: int = Field(default=1, ge=1, le=10_000)


class SelectConfig(_Strict):
    into: str | None = None  # dataset the selection is published into (default: <source>-selected)
    aggregate: Aggregate = Aggregate(traj="verifier")
    thresholds: list[Threshold] = Field(default_factory=list)
    best_of_n: bool = False
    top_k: TopK | None = None
    pairs: Pairs | None = None
    allow_empty: bool = False

    @field_validator("into")
    @classmethod
    def _into(cls, v: str | None) -> str | None:
        return v if v is None else check_name(v)

    @model_validator(mode="after")
    def _checks(self) -> SelectConfig:
        if self.pairs is not None and (self.best_of_n or self.top_k is not None):
            raise ValueError("`pairs` keeps both sides of each pair: use it without `best_of_n` and `top_k`")
        return self


def parse_select(data: dict[str, Any]) -> SelectConfig:
    try:
        return SelectConfig.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(top level)'}: {err['msg']}" for err in e.errors())
        raise SelectionError(problems) from None
    except ValueError as e:
        raise SelectionError(str(e)) from None


def trajectory_score(table: pa.Table, name: str) -> np.ndarray:
    """``scores[name]`` per row, NaN where a row has none."""
    flat = pc.list_flatten(table["scores"])
    owner = pc.list_parent_indices(table["scores"]).to_numpy()
    out = np.full(table.num_rows, np.nan)
    hit = pc.equal(pc.struct_field(flat, "name"), name).to_numpy(zero_copy_only=False)
    out[owner[hit]] = pc.struct_field(flat, "value").to_numpy(zero_copy_only=False)[hit]
    return out


def step_aggregate(table: pa.Table, name: str, how: str) -> np.ndarray:
    """``how`` of ``step_scores[name]`` per row, NaN where a row has none (or no steps)."""
    flat = pc.list_flatten(table["step_scores"])
    owner = pc.list_parent_indices(table["step_scores"]).to_numpy()
    hit = pc.equal(pc.struct_field(flat, "name"), name).to_numpy(zero_copy_only=False)
    lists = pc.struct_field(flat, "values").filter(pa.array(hit))
    rows = owner[hit]
    values = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.float64)
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    out = np.full(table.num_rows, np.nan)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    full = lengths > 0
    if not full.any():
        return out
    s, r = starts[full], rows[full]
    if how == "min":
        out[r] = np.minimum.reduceat(values, s)
    elif how == "mean":
        out[r] = np.add.reduceat(values, s) / lengths[full]
    elif how == "product":
        out[r] = np.multiply.reduceat(values, s)
    else:  # last
        out[r] = values[s + lengths[full] - 1]
    return out


def aggregate(table: pa.Table, agg: Aggregate) -> np.ndarray:
    value = np.zeros(table.num_rows)
    if agg.step is not None:
        value = value + step_aggregate(table, agg.step, agg.how)
    if agg.traj is not None:
        value = value + agg.alpha * trajectory_score(table, agg.traj)
    return value


def select(table: pa.Table, config: SelectConfig) -> tuple[pa.Table, pa.Table | None, list[dict[str, Any]]]:
    """(selected rows with ``scores['selection']``, preference pairs or None, what each rule did)."""
    report: list[dict[str, Any]] = [{"rule": "input", "rows": table.num_rows}]
    score = aggregate(table, config.aggregate)
    keep = np.ones(table.num_rows, bool)
    for t in config.thresholds:
        value = score if t.score == SELECTION_SCORE else trajectory_score(table, t.score)
        ok = ~np.isnan(value)
        if t.min is not None:
            ok &= value >= t.min
        if t.max is not None:
            ok &= value <= t.max
        missing = int((keep & np.isnan(value)).sum())
        dropped = int((keep & ~ok).sum())
        keep &= ok
        report.append({"rule": t.label(), "dropped": dropped, "without_score": missing, "rows": int(keep.sum())})
    task = pc.struct_field(table["task"], "id").to_numpy(zero_copy_only=False)
    steps = pc.list_value_length(table["steps"]).fill_null(0).to_numpy(zero_copy_only=False)
    ids = table["id"].to_numpy(zero_copy_only=False)
    pairs = None
    if config.pairs is not None:
        pairs, rows = _pairs(table, config.pairs, score, keep, task, ids, report)
        keep = np.isin(ids, rows)
    else:
        if np.isnan(score[keep]).any() and (config.best_of_n or config.top_k is not None):
            n = int(np.isnan(score[keep]).sum())
            keep &= ~np.isnan(score)
            report.append({"rule": "rows without the aggregate", "dropped": n, "rows": int(keep.sum())})
        rank = np.lexsort((ids, steps, -np.nan_to_num(score, nan=-np.inf)))  # best first
        if config.best_of_n:
            keep = _top(rank, keep, task, 1, "best_of_n", report)
        if config.top_k is not None:
            keys = task if config.top_k.per == "task" else np.zeros(len(task), object)
            keep = _top(rank, keep, keys, config.top_k.k, f"top_k {config.top_k.k} per {config.top_k.per}", report)
    picked = np.flatnonzero(keep)
    if len(picked) == 0 and not config.allow_empty:
        raise SelectionError("the selection rules keep no row: " + "; ".join(_said(r) for r in report)
                             + ". Loosen the rules, or set `allow_empty: true` to publish an empty version")
    rows = table.take(pa.array(picked, pa.int64()))
    rows = with_score(rows, SELECTION_SCORE, [float(v) if v == v else float("nan") for v in score[picked]])
    report.append({"rule": "selected", "rows": int(len(picked))})
    return rows, pairs, report


def _top(rank: np.ndarray, keep: np.ndarray, keys: np.ndarray, k: int, label: str, report: list) -> np.ndarray:
    out = np.zeros(len(keep), bool)
    seen: dict[Any, int] = {}
    for i in rank:
        if keep[i] and seen.get(keys[i], 0) < k:
            seen[keys[i]] = seen.get(keys[i], 0) + 1
            out[i] = True
    report.append({"rule": label, "dropped": int(keep.sum() - out.sum()), "rows": int(out.sum())})
    return out


def _pairs(table: pa.Table, p: Pairs, score: np.ndarray, keep: np.ndarray, task: np.ndarray, ids: np.ndarray,
           report: list) -> tuple[pa.Table, np.ndarray]:
    outcome = trajectory_score(table, p.outcome)
    usable = keep & ~np.isnan(outcome) & ~np.isnan(score)
    groups: dict[Any, list[int]] = {}
    for i in np.flatnonzero(usable):
        groups.setdefault(task[i], []).append(int(i))
    chosen, rejected, margins, tasks = [], [], [], []
    lone = 0
    for key in sorted(groups):
        members = groups[key]
        found = []
        for a in members:
            for b in members:
                if outcome[a] > outcome[b] or (outcome[a] == outcome[b] and score[a] - score[b] >= max(p.min_margin, 1e-9)):
                    found.append((outcome[a] - outcome[b], score[a] - score[b], ids[a], ids[b]))
        found.sort(key=lambda f: (-f[0], -f[1], f[2], f[3]))  # widest gap first, then ids: deterministic
        lone += not found
        for gap_outcome, gap, a, b in found[:p.max_per_task]:
            chosen.append(a)
            rejected.append(b)
            margins.append(gap_outcome + gap)
            tasks.append(key)
    report.append({"rule": f"pairs on ({p.outcome}, aggregate), min_margin {p.min_margin:g}, "
                           f"at most {p.max_per_task} per task",
                   "without_scores": int((keep & ~usable).sum()), "groups": len(groups),
                   "groups_without_pair": lone, "pairs": len(chosen)})
    pairs = pa.table({"chosen_id": pa.array(chosen, pa.string()), "rejected_id": pa.array(rejected, pa.string()),
                      "margin": pa.array(margins, pa.float32()), "task_id": pa.array(tasks, pa.string())})
    return pairs, np.array(sorted(set(chosen) | set(rejected)), dtype=object)


def _said(entry: dict[str, Any]) -> str:
    return f"{entry['rule']}: " + ", ".join(f"{k} {v}" for k, v in entry.items() if k != "rule")


def select_version(store: Store, info: VersionInfo, config: SelectConfig, into: str | None = None
                   ) -> tuple[VersionInfo, list[dict[str, Any]]]:
    """Publish the selection of ``info`` (lineage role ``selection``, the rules and the report
    in the manifest, the pairs as table ``preference_pairs``); bad rules and an empty result
    (unless ``allow_empty``) fail before anything is written."""
    if info.kind != "trajectories":
        raise SelectionError(f"{info.ref} is a {info.kind} version; selection reads trajectory versions")
    name = into or config.into or f"{info.name}-selected"
    check_name(name)
    rows, pairs, report = select(store.read(info), config)
    tables = {PAIRS_TABLE: pairs} if pairs is not None else None
    params = {"select": config.model_dump(mode="json"), "report": report, "source": info.ref}
    return publish_selection(store, name, rows, [info], "selection", params=params, explain={}, tables=tables), report
