"""``trajforge score NAME@REF --config score.yaml`` and ``trajforge select NAME@REF --config
select.yaml``: each reads a committed version and publishes a new one (lineage roles ``score``
and ``selection``). Registered on the main app by :mod:`flows.cli`.

``score.yaml`` is the pipeline's ``score:`` section (``scorers: [{name, as?, params?}]``,
``batch_size``) plus an optional ``seed``; ``select.yaml`` is its ``select:`` section.
Batches are scored on ``--workers`` processes (Monte-Carlo rollouts are the costly part).
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from catalog.catalog import Catalog
from flows.config import ConfigError, ScoreConfig


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    from flows.config import _UniqueKeyLoader

    if not path.is_file():
        raise ConfigError(f"{what} config {path} does not exist")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not a valid YAML text file: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping, got {type(data).__name__}")
    return data


def _print(payload: dict) -> None:
    from flows.cli import out

    out.print_json(json.dumps(payload))


def score(
    ref: Annotated[str, typer.Argument(help="NAME@REF of the trajectory version to score.")],
    config: Annotated[Path, typer.Option(help="score.yaml: scorers: [{name, as?, params?}], batch_size, seed.")],
    out_name: Annotated[str | None, typer.Option("--out", help="Dataset to publish into (default: NAME).")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes scoring batches (default: one per core).")] = None,
) -> None:
    """Score a version with the configured scorers and publish the result (lineage role score)."""
    from filters.scorers.base import ScorerError, build_scorers, in_store
    from filters.scoring import score_version
    from flows.cli import _store
    from flows.workers import worker_count

    data = _read_yaml(config, "score")
    seed = data.pop("seed", 0)
    try:
        cfg = ScoreConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{config}: " + "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                                                   for err in e.errors())) from None
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{config}: seed must be an integer >= 0, got {seed!r}")
    store = _store()
    try:
        build_scorers(in_store(cfg.entries(), str(store.root)), seed)
    except ScorerError as e:
        raise ConfigError(f"{config}: score.scorers: {e}") from None
    info = store.resolve(ref)
    with ExitStack() as stack:
        mapper = map
        if worker_count(workers) > 1 and info.rows > cfg.batch_size:  # one batch: no pool to start
            pool = stack.enter_context(ProcessPoolExecutor(worker_count(workers),
                                                           mp_context=multiprocessing.get_context("forkserver")))
            mapper = pool.map
        published, stats = score_version(store, info, cfg.entries(), seed=seed, batch_size=cfg.batch_size,
                                         into=out_name, mapper=mapper)
    Catalog(store).sync()
    _print({"ref": published.ref, "rows": published.rows, "source": info.ref, "cost": stats})
    print(published.ref)


def select(
    ref: Annotated[str, typer.Argument(help="NAME@REF of a scored trajectory version.")],
    config: Annotated[Path, typer.Option(help="select.yaml: aggregate, thresholds, best_of_n, top_k, pairs.")],
    out_name: Annotated[str | None, typer.Option("--out", help="Dataset to publish into (default: into or NAME-selected).")] = None,
) -> None:
    """Select rows (thresholds, best-of-N, top-k) or preference pairs; publish them (role selection)."""
    from filters.selection import SelectionError, parse_select, select_version
    from flows.cli import _store

    try:
        cfg = parse_select(_read_yaml(config, "select"))
    except SelectionError as e:
        raise ConfigError(f"{config}: {e}") from None
    store = _store()
    published, report = select_version(store, store.resolve(ref), cfg, into=out_name)
    Catalog(store).sync()
    _print({"ref": published.ref, "rows": published.rows, "report": report})
    print(published.ref)
