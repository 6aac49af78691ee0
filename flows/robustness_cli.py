"""``trajforge robustness NAME@REF --grid grid.yaml``: a robustness suite of a committed
version (one split per grid cell, lineage role ``corruption``) and the scorers' response
report, printed as a table. Registered on the main app by :mod:`flows.cli`.

``grid.yaml`` holds the grid (``operators``, ``c``, ``eps``, ``mode``, and for adversarial
cells ``scorer`` and ``candidates``) plus what the report runs: ``scorers`` (the pipeline's
``score:`` entries, default verifier + prefix_correct), ``seed``, ``threshold`` (a trajectory
score below it counts as a detection) and ``step_threshold`` (the first step below it is the
predicted first error).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from flows.config import ConfigError


def robustness(
    ref: Annotated[str, typer.Argument(help="NAME@REF of the trajectory version whose train rows are corrupted.")],
    grid: Annotated[Path, typer.Option(help="grid.yaml: operators, c, eps, mode (scorer, candidates); scorers, seed, "
                                            "threshold, step_threshold.")],
    out_name: Annotated[str | None, typer.Option("--out", help="Dataset to publish into (default: NAME-robustness).")] = None,
) -> None:
    """Publish a robustness suite of a version (one split per grid cell) and print how the scorers respond."""
    from catalog.catalog import Catalog
    from filters.robustness import format_report, publish_suite
    from filters.scorers import DEFAULT_ENTRIES
    from filters.scorers.base import ScorerError
    from flows.cli import _store
    from flows.score_cli import _read_yaml
    from synth.corrupt import CorruptionError

    data = _read_yaml(grid, "robustness grid")
    entries = data.pop("scorers", [dict(e) for e in DEFAULT_ENTRIES])
    seed = data.pop("seed", 0)
    thresholds = {k: data.pop(k, 0.5) for k in ("threshold", "step_threshold")}
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "name" in e for e in entries):
        raise ConfigError(f"{grid}: scorers must be a list of {{name, as?, params?}} entries, like score: in a config")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{grid}: seed must be an integer >= 0, got {seed!r}")
    for key, value in thresholds.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ConfigError(f"{grid}: {key} must be a number, got {value!r}")
    store = _store()
    info = store.resolve(ref)
    try:
        published, report = publish_suite(store, info, data, entries, seed=seed, into=out_name, **thresholds)
    except (CorruptionError, ScorerError) as e:
        raise ConfigError(f"{grid}: {e}") from None
    Catalog(store).sync()
    print(format_report(report))  # plain: a console would wrap the table's rows at its width
    print(published.ref)
