"""Running operators over rows: one trajectory, or a table with its skip counts.

The operator of a row and every draw it makes are seeded by (run seed, operator, trajectory
id), so a corrupt split does not depend on how rows are sharded. Rows an operator cannot
change are left out and counted, never published as unchanged copies.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from stores.blobs import blobs_table
from stores.schema import Corruption, Trajectory, f32, from_table, to_table
from synth.corrupt.labels import corrupted_id, kept_label, replayed
from synth.corrupt.registry import REPLAYED, CorruptionError, OperatorSpec, as_spec
from synth.episode import Episode
from synth.seeding import rng_for


@dataclass(slots=True)
class CorruptionStats:
    """Per operator: rows ``corrupted``, ``skipped`` (the operator found nothing to change)
    and ``not_drawn`` (a whole-trajectory operator's rate c passed the row by); per kind:
    rows ``unsupported`` (no listed operator edits that kind)."""

    corrupted: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    not_drawn: Counter = field(default_factory=Counter)
    unsupported: Counter = field(default_factory=Counter)

    def merge(self, other: CorruptionStats) -> CorruptionStats:
        return CorruptionStats(*(getattr(self, f) + getattr(other, f) for f in _FIELDS))

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {f: dict(sorted(getattr(self, f).items())) for f in _FIELDS}


_FIELDS = ("corrupted", "skipped", "not_drawn", "unsupported")


#: scores of candidate corruptions by the request's scorer, one float per row (NaN: no opinion)
Ranker = Callable[[OperatorSpec, list[Trajectory]], list[float]]


def corrupt(trajectory: Trajectory, operator: str | OperatorSpec, seed: int, params: Mapping | None = None,
            stats: CorruptionStats | None = None, rank: Ranker | None = None) -> Episode | None:
    """A corrupted copy of ``trajectory`` (split ``corrupt``) with the images its replay drew,
    or None if the operator does not apply (counted in ``stats`` when given). Adversarial
    requests need ``rank`` (:func:`filters.adversary.scorer_ranker`).

    ``params`` are the family parameters the trajectory was generated with (env rebuild).
    Action and reasoning edits are replayed: one the env finds harmless keeps its honest label,
    success and -1. The others keep the clean row's env label (see :mod:`synth.corrupt.labels`).
    """
    spec = as_spec(operator)
    if not spec.supports(trajectory.kind):
        raise CorruptionError(f"corruption operator {spec.name!r} does not support kind {trajectory.kind!r} "
                              f"(trajectory {trajectory.id}); it edits {', '.join(sorted(spec.operator.kinds))}")
    stats = stats if stats is not None else CorruptionStats()
    op = spec.operator()
    if op.unit == "trajectory" and rng_for(seed, spec.name, trajectory.id, "drawn").random() >= spec.rate:
        stats.not_drawn[spec.name] += 1
        return None
    if spec.mode == "random":
        episode = _candidate(trajectory, spec, rng_for(seed, spec.name, trajectory.id), params)
    else:
        if rank is None:
            raise CorruptionError(f"corruption operator {spec.name!r}: mode 'adversarial' needs a ranker for scorer "
                                  f"{spec.scorer!r} (filters.adversary.scorer_ranker); none was given")
        drawn = [_candidate(trajectory, spec, rng_for(seed, spec.name, trajectory.id, k), params)
                 for k in range(spec.candidates)]
        episode = _lowest(spec, [e for e in drawn if e is not None], rank)
    if episode is None:
        stats.skipped[spec.name] += 1
        return None
    stats.corrupted[spec.name] += 1
    return episode


def _candidate(trajectory: Trajectory, spec: OperatorSpec, rng, params: Mapping | None) -> Episode | None:
    op = spec.operator()
    edit = op.apply(trajectory, rng, spec.rate, spec.eps)
    if edit is None:
        return None
    corruption = Corruption(spec.name, spec.mode, spec.rate, spec.eps, edit.touched, trajectory.id)
    if op.category in REPLAYED:
        episode = replayed(trajectory, edit.steps, dict(params or {}))
    else:
        episode = Episode(kept_label(trajectory, edit))
    episode.trajectory.corruption = corruption
    episode.trajectory.id = corrupted_id(episode.trajectory, corruption)
    return episode


def _lowest(spec: OperatorSpec, drawn: list[Episode], rank: Ranker) -> Episode | None:
    """The candidate ``rank`` scores lowest (the first of equals; a NaN never wins), with that
    score kept as ``scores['adversary:<scorer>']``. Duplicate draws are ranked once."""
    # the id leaves scores out, so two score_random draws share one: tell them apart by their scores
    unique = list({(e.trajectory.id, tuple(sorted(e.trajectory.scores.items()))): e for e in drawn}.values())
    if not unique:
        return None
    values = [math.nan if v is None else float(v) for v in rank(spec, [e.trajectory for e in unique])]
    best = min(range(len(unique)), key=lambda i: (math.isnan(values[i]), 0.0 if math.isnan(values[i]) else values[i]))
    chosen = unique[best]
    if not math.isnan(values[best]):
        chosen.trajectory.scores[f"adversary:{spec.scorer}"] = f32(values[best])
    return chosen


def corruption_sample(table: pa.Table, fraction: float, seed: int) -> pa.Table:
    """The seeded share of clean rows a run corrupts, in their original order."""
    n = round(fraction * table.num_rows)
    picked = sorted(rng_for(seed, "corrupt-sample").sample(range(table.num_rows), n))
    return table.take(pa.array(picked, pa.int64()))  # typed: an empty pick has no type to infer


def corrupt_table(table: pa.Table, operators: list[str | OperatorSpec], seed: int, params: Mapping[str, Mapping],
                  rank: Ranker | None = None) -> tuple[pa.Table, pa.Table, CorruptionStats]:
    """Corrupt every row with one of ``operators`` that edits its kind (chosen per trajectory
    id, so the result does not depend on how rows are sharded); rows no operator can change
    are left out and counted.

    Returns the corrupted rows, the blobs (screenshots) their replays drew (a replayed screen
    after a swapped step is a new image the clean rows never referenced) and the counts.
    """
    specs = [as_spec(o) for o in operators]
    if not specs:
        raise CorruptionError("no corruption operators given; name at least one (synth.corrupt.OPERATORS)")
    if rank is None and any(s.mode == "adversarial" for s in specs):
        raise CorruptionError("adversarial corruption needs a ranker (filters.adversary.scorer_ranker); none was given")
    out, blobs, stats = [], {}, CorruptionStats()
    for trajectory in from_table(table):
        fits = [s for s in specs if s.supports(trajectory.kind)]
        if not fits:
            stats.unsupported[trajectory.kind] += 1
            continue
        spec = rng_for(seed, "operator", trajectory.id).choice(fits)
        corrupted = corrupt(trajectory, spec, seed, params.get(trajectory.task.family, {}), stats, rank)
        if corrupted is not None:
            out.append(corrupted.trajectory)
            blobs.update(corrupted.blobs)
    return to_table(out), blobs_table(blobs), stats
