"""The scorer contract: every scorer reads record batches of the trajectory contract and
returns trajectory-level ``scores`` and step-level ``step_scores`` aligned with ``steps``.

Why one contract: the pipeline, ``trajforge score``, the benchmarks and selection all treat
scorers alike (verifiers, process rewards, learned and Hugging Face reward models, judges,
quality filters), so each declares what it needs (kinds, columns, device) and what it writes,
is built from a YAML entry validated by its own pydantic ``Params`` (unknown parameters are
config errors), and is deterministic given its seed. The outputs of one scorer are named
``<instance>`` or ``<instance>.<sub>`` (``mc.soft``), where the instance name defaults to the
scorer's registered name and can be set with ``as:``; two scorers that would write the same
name are refused before anything runs, so scores never overwrite each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, ValidationError

from stores.schema import KINDS, SCORES_TYPE, STEP_SCORES_TYPE


class ScorerError(ValueError):
    """A scorer that cannot be built or cannot score this input; nothing is written."""


class ScorerParams(BaseModel):
    """Base of every scorer's parameters: strict, so a misspelt key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class ScoreResult:
    """``scores[name]``: one float per row (NaN where the scorer has no opinion on a row);
    ``step_scores[name]``: one float array per row, as long as that row's ``steps``."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)
    step_scores: dict[str, list[np.ndarray]] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)  # cost figures: rollouts, env steps, seconds


class Scorer(ABC):
    """Subclasses set ``name``, ``kinds``, ``columns``, ``Params`` and ``outputs``."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]] = frozenset(KINDS)
    columns: ClassVar[tuple[str, ...]] = ("id", "kind", "steps")
    Params: ClassVar[type[ScorerParams]] = ScorerParams

    def __init__(self, params: ScorerParams, *, instance: str | None = None, seed: int = 0,
                 family_params: Mapping[str, Mapping[str, Any]] | None = None):
        self.params = params
        self.instance = instance or self.name
        self.seed = seed
        # per family, the params its env is rebuilt with (scorers that replay episodes)
        self.family_params = dict(family_params or {})

    @property
    def device(self) -> str:
        return "cpu"

    @abstractmethod
    def outputs(self) -> tuple[list[str], list[str]]:
        """(trajectory score names, step score names) this scorer writes, instance-prefixed."""

    @abstractmethod
    def score(self, batch: pa.Table) -> ScoreResult:
        """Score one batch (a table holding at least ``columns``)."""

    def key(self, sub: str | None = None) -> str:
        return self.instance if sub is None else f"{self.instance}.{sub}"


REGISTRY: dict[str, type[Scorer]] = {}


def register(cls: type[Scorer]) -> type[Scorer]:
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ScorerError(f"two scorers registered as {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def build_scorer(spec: Mapping[str, Any], seed: int = 0,
                 family_params: Mapping[str, Mapping[str, Any]] | None = None) -> Scorer:
    """A scorer from its config entry ``{name, as?, params?}``."""
    from filters.scorers import load_all  # the registry fills as the scorer modules import

    load_all()
    name = spec.get("name")
    if name not in REGISTRY:
        raise ScorerError(f"unknown scorer {name!r}; known scorers: {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    try:
        params = cls.Params(**dict(spec.get("params") or {}))
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'params'}: {err['msg']}" for err in e.errors())
        raise ScorerError(f"scorer {name!r}: bad params: {problems}") from None
    return cls(params, instance=spec.get("as") or None, seed=seed, family_params=family_params)


def in_store(specs: Iterable[Mapping[str, Any]], store_root: str) -> list[dict[str, Any]]:
    """``specs`` with ``params.store`` set to ``store_root`` for every scorer whose params have a
    ``store`` field (a model given as NAME@REF) and do not name one: a run's or a command's
    scorers resolve versions in the store it works on, not in TRAJFORGE_HOME."""
    from filters.scorers import load_all

    load_all()
    out = []
    for spec in specs:
        spec = dict(spec)
        cls = REGISTRY.get(spec.get("name"))
        params = dict(spec.get("params") or {})
        if cls is not None and "store" in cls.Params.model_fields and params.get("store") is None:
            spec["params"] = {**params, "store": str(store_root)}
        out.append(spec)
    return out


def build_scorers(specs: Iterable[Mapping[str, Any]], seed: int = 0,
                  family_params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Scorer]:
    scorers = [build_scorer(s, seed, family_params) for s in specs]
    owner: dict[str, str] = {}
    for s in scorers:
        traj, steps = s.outputs()
        for out in [*traj, *(f"step:{n}" for n in steps)]:
            if out in owner:
                raise ScorerError(f"scorers {owner[out]!r} and {s.instance!r} both write {out!r}: "
                                  f"give one of them another name with `as:`")
            owner[out] = s.instance
    return scorers


def check_kinds(scorer: Scorer, table: pa.Table) -> None:
    present = set(pc.unique(table["kind"]).to_pylist()) if table.num_rows else set()
    unsupported = sorted(present - scorer.kinds)
    if unsupported:
        raise ScorerError(f"scorer {scorer.instance!r} ({scorer.name}) cannot score kind(s) {unsupported}; "
                          f"it supports {sorted(scorer.kinds)}: drop it from `score:` or filter the rows")


def apply_scorers(table: pa.Table, scorers: list[Scorer]) -> tuple[pa.Table, dict[str, dict[str, float]]]:
    """``table`` with every scorer's outputs merged into ``scores``/``step_scores`` (other
    keys kept), and each scorer's cost figures. The whole batch is checked first, so a scorer
    that cannot run on it fails before any other has spent time."""
    for s in scorers:
        check_kinds(s, table)
        missing = [c for c in s.columns if c not in table.column_names]
        if missing:
            raise ScorerError(f"scorer {s.instance!r} needs column(s) {missing}")
    lengths = pc.list_value_length(table["steps"]).fill_null(0).to_numpy(zero_copy_only=False)
    scores = [{e["name"]: e["value"] for e in old or []} for old in table["scores"].to_pylist()]
    steps = [{e["name"]: e["values"] for e in old or []} for old in table["step_scores"].to_pylist()]
    stats: dict[str, dict[str, float]] = {}
    for s in scorers:
        result = s.score(table.select(list(dict.fromkeys(s.columns))))
        check_result(s, result, lengths)
        for name, values in result.scores.items():
            for row, v in zip(scores, values.tolist(), strict=True):
                if v == v:  # NaN: no opinion on this row
                    row[name] = float(v)
        for name, arrays in result.step_scores.items():
            for row, arr in zip(steps, arrays, strict=True):
                row[name] = np.asarray(arr, dtype=np.float32).tolist()
        stats[s.instance] = dict(result.stats)
    out_scores = pa.array([[{"name": k, "value": v} for k, v in sorted(r.items())] for r in scores], SCORES_TYPE)
    out_steps = pa.array([[{"name": k, "values": v} for k, v in sorted(r.items())] for r in steps],
                         STEP_SCORES_TYPE)
    table = table.set_column(table.schema.get_field_index("scores"), "scores", out_scores)
    return table.set_column(table.schema.get_field_index("step_scores"), "step_scores", out_steps), stats


def check_result(scorer: Scorer, result: ScoreResult, lengths: np.ndarray) -> None:
    """A scorer's outputs are the names it declared, one per row, steps aligned with steps."""
    traj, step_names = scorer.outputs()
    extra = sorted(set(result.scores) - set(traj)) + sorted(set(result.step_scores) - set(step_names))
    if extra:
        raise ScorerError(f"scorer {scorer.instance!r} wrote undeclared output(s) {extra}")
    n = len(lengths)
    for name, values in result.scores.items():
        if len(values) != n:
            raise ScorerError(f"scorer {scorer.instance!r}: {name!r} has {len(values)} values for {n} rows")
    for name, arrays in result.step_scores.items():
        if len(arrays) != n:
            raise ScorerError(f"scorer {scorer.instance!r}: {name!r} has {len(arrays)} rows for {n}")
        bad = next((i for i, (a, m) in enumerate(zip(arrays, lengths, strict=True)) if len(a) != m), None)
        if bad is not None:
            raise ScorerError(f"scorer {scorer.instance!r}: {name!r} row {bad} has {len(arrays[bad])} step "
                              f"scores for {lengths[bad]} steps")
