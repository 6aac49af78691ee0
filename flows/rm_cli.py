"""``trajforge rm train|eval|score``: the learned reward model from the command line.

``train`` reads a trajectory version, trains (progress on stderr, checkpoints under
``<store>/rm-checkpoints/``, resumed by default) and publishes a ``model`` version whose
lineage parent is the data (role ``train``). ``eval`` prints, per kind, the RM's figures beside
the leakage audit's (trained on the model's own training version) and keeps them beside the
model version. ``score`` publishes a scored copy of a version (role ``score``, and the model
version as a ``model`` parent). Bad input fails before anything is written.

Registered on the main app by :mod:`flows.cli`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated

import typer

rm_app = typer.Typer(help="Train, evaluate and apply the learned reward model.", no_args_is_help=True)

ModelArg = Annotated[str, typer.Argument(help="Model version NAME@REF (from `rm train`) or a saved model folder.")]
DataArg = Annotated[str, typer.Argument(help="Trajectory version NAME@REF.")]


def _store():
    from flows.cli import _store

    return _store()


def _trajectories(store, ref: str):
    from stores.store import StoreError

    info = store.resolve(ref)
    if info.kind != "trajectories":
        raise StoreError(f"{info.ref} is a {info.kind} version; the reward model reads trajectory versions")
    return info


@rm_app.command("train")
def train(
    ref: DataArg,
    config: Annotated[Path | None, typer.Option(help="rm.yaml (see configs/rm.yaml); default: the small backbone.")] = None,
    out: Annotated[str | None, typer.Option(help="Dataset to publish the model into (default NAME-rm).")] = None,
    resume: Annotated[bool, typer.Option(help="Resume from the checkpoint of the same data and config.")] = True,
    progress: Annotated[bool, typer.Option(help="Show the progress bar (stderr).")] = True,
) -> None:
    """Train a reward model on a version and publish it as a model version."""
    from catalog.catalog import Catalog
    from filters.rm.config import load_rm_config
    from filters.rm.train import train_rm
    from filters.rm.versions import publish_model
    from stores.names import check_name

    cfg = load_rm_config(config)
    store = _store()
    info = _trajectories(store, ref)
    name = check_name(out or f"{info.name}-rm")
    store.check_writable(name, keep=False)
    checkpoint = store.root / "rm-checkpoints" / name / f"{info.name}@{info.version}-{cfg.model_hash()}.pt"
    result = train_rm(store.read(info), cfg, trained_on=info.ref, checkpoint=checkpoint, resume=resume,
                      progress=progress)
    model = publish_model(store, name, result, info)
    Catalog(store).sync()
    _print({"ref": model.ref, "trained_on": info.ref, "kinds": result.model.kinds,
            "threshold": result.model.meta["threshold"], "training": result.stats,
            "validation": result.validation, "checkpoint": str(checkpoint)})
    print(model.ref)


@rm_app.command("eval")
def evaluate(
    model: ModelArg,
    ref: DataArg,
    audit: Annotated[bool, typer.Option(help="Train and show the bag-of-n-grams leakage audit beside the RM.")] = True,
    batch_size: Annotated[int, typer.Option(help="Trajectories per inference batch.")] = 64,
) -> None:
    """Per kind: AUROC, ProcessBench first-error F1, calibration, and the leakage audit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from filters.rm.evaluate import NgramAudit, format_table, report
    from filters.rm.inputs import input_rows
    from filters.rm.model import NotARewardModelError, load_model
    from filters.rm.versions import model_folder, save_eval
    from stores.names import Ref
    from stores.store import StoreError

    store = _store()
    folder = model_folder(model, store)
    rm = load_model(folder)
    info = _trajectories(store, ref)
    table = store.read(info)
    present = sorted(set(pc.unique(table["kind"]).to_pylist()))
    kinds = [k for k in present if k in rm.kinds]
    if not kinds:
        raise NotARewardModelError(f"model {model} was trained for {rm.kinds}; {info.ref} holds only {present}: "
                                   "evaluate it on a version of the kinds it was trained on")
    table = table.filter(pc.is_in(table["kind"], pa.array(kinds)))
    started = time.perf_counter()
    traj, steps = rm.predict(input_rows(table), batch_size=batch_size)
    seconds = time.perf_counter() - started
    seen = set(rm.meta["families"])
    rows = report(table, traj, steps, rm.meta["threshold"], seen_families=seen)
    audit_rows, audit_note = [], None
    if audit:
        try:
            train_info = store.resolve(Ref.parse(rm.meta["trained_on"]))
            train_table = store.read(train_info)
            train_table = train_table.filter(pc.is_in(train_table["kind"], pa.array(kinds)))
            a_traj, a_steps = NgramAudit(rm.budget, seed=rm.meta["config"]["seed"]).fit(train_table).predict(table)
            audit_rows = report(table, a_traj, a_steps, 0.5, seen_families=seen)
        except (StoreError, ValueError) as e:  # a side figure: its absence is said, the RM's figures stand
            audit_note = f"audit skipped: {type(e).__name__}: {e}"
    n_steps = int(sum(len(s) for s in steps))
    payload = {"model": model, "data": info.ref, "skipped_kinds": sorted(set(present) - set(kinds)),
               "threshold": rm.meta["threshold"], "rm": rows, "audit": audit_rows, "audit_note": audit_note,
               "inference": {"trajectories": table.num_rows, "steps": n_steps, "seconds": round(seconds, 3),
                             "steps_per_s": round(n_steps / seconds, 1) if seconds else None}}
    print("reward model beside the leakage audit (bag-of-n-grams logistic regression on the same inputs);\n"
          "F1 n+c: first-error F1 with noisy and corrupted erroneous rows; ECE of the trajectory score, ECEstp of steps")
    print(format_table(rows, audit_rows))
    if audit_note:
        print(audit_note)
    if "@" in model and not Path(model).exists():
        saved = save_eval(store, store.resolve(Ref.parse(model)), info, payload)
        payload["saved"] = str(saved)
    _print({k: v for k, v in payload.items() if k not in ("rm", "audit")})


@rm_app.command("score")
def score(
    model: ModelArg,
    ref: DataArg,
    out: Annotated[str | None, typer.Option(help="Dataset to publish the scored rows into (default NAME-scored).")] = None,
    batch_size: Annotated[int, typer.Option(help="Trajectories per inference batch.")] = 64,
    name: Annotated[str, typer.Option("--as", help="Score name written (scores[...] and step_scores[...]).")] = "learned_rm",
) -> None:
    """Score a version with the RM and publish the result (lineage role `score`)."""
    from catalog.catalog import Catalog
    from filters.scorers.base import apply_scorers, build_scorer
    from stores.names import Ref, check_name

    store = _store()
    info = _trajectories(store, ref)
    target = check_name(out or f"{info.name}-scored")
    scorer = build_scorer({"name": "learned_rm", "as": name,
                           "params": {"model": model, "batch_size": batch_size, "store": str(store.root)}})
    store.check_writable(target, keep=False)
    scored, stats = apply_scorers(store.read(info), [scorer])
    parents = [{"ref": info.ref, "role": "score"}]
    if "@" in model and not Path(model).exists():
        parents.append({"ref": store.resolve(Ref.parse(model)).ref, "role": "model"})
    params = {"score": {"scorers": [{"name": "learned_rm", "as": name, "params": {"model": model}}], "stats": stats}}
    new = store.publish(target, scored, blobs=store.read(info, table="blobs"), parents=parents, params=params)
    Catalog(store).sync()
    _print({"ref": new.ref, "rows": new.rows, "source": info.ref, "model": model, "stats": stats})
    print(new.ref)


def _print(payload: dict) -> None:
    from flows.cli import out

    out.print_json(json.dumps(_rounded_deep(payload)))


def _rounded_deep(value):
    if isinstance(value, dict):
        return {k: _rounded_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded_deep(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value
