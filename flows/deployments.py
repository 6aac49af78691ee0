"""Prefect deployments of trajforge: flows whose parameters are JSON, served or deployed.

A deployment run receives its parameters as JSON, and Prefect validates them against a model
it builds from the flow's signature. The stage flows of :mod:`flows.pipeline` take tables and
stores, and their annotations are strings (``from __future__ import annotations``) that
Prefect's model cannot resolve, which is why ``pipeline.serve()`` runs ended ``PipelineModel
is not fully defined``. The flows here take only JSON-shaped parameters with live annotations
(so this module must not use postponed annotations): a config as a path *or* as typed fields
(the UI form then shows every config field with its docs), a store root, version refs. Their
docstrings' ``Args:`` sections are the form's field descriptions.

``DEPLOYMENTS`` is the one list of them; ``prefect.yaml`` mirrors it for ``prefect deploy``
(tests/test_deployments.py keeps the two equal), ``trajforge serve`` serves it from one
process and ``trajforge deploy`` registers it to a work pool.
"""

from dataclasses import asdict, dataclass
from typing import Any, Literal

from prefect import Flow, flow

from catalog.catalog import Catalog
from flows.config import ConfigError, PipelineConfig, load_config, parse_config
from stores.store import Store

DEDUP_METHODS = Literal["exact", "normalised", "minhash", "semantic"]


def resolve_config(config_path: str | None, config: PipelineConfig | None, store: str | None = None) -> PipelineConfig:
    """The run's config from exactly one of a YAML path or typed fields, checked like
    ``trajforge run`` checks a file (families, tiers, params), not only by pydantic."""
    if (config_path is None) == (config is None):
        raise ConfigError("give the pipeline config either as config_path (a YAML file the runner can read) or as "
                          "config (the typed fields), not both and not neither")
    if config_path is not None:
        return load_config(config_path, store)
    return parse_config(config.model_dump(mode="json"), "the deployment's config parameter", store)


@flow(name="trajforge-pipeline")
def pipeline_deployment(config_path: str | None = None, config: PipelineConfig | None = None,
                        store: str | None = None, fresh: bool = False) -> dict[str, Any]:
    """Synthesize, score, retrieve, corrupt and publish a new version of the config's dataset.

    Args:
        config_path: Pipeline config YAML on the machine that runs the flow (e.g. configs/demo.yaml).
            Leave empty when the config is given as fields.
        config: The pipeline config as typed fields (instead of config_path).
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
        fresh: Recompute every shard instead of reusing the ones an earlier run of this config finished.
    """
    from flows.pipeline import pipeline, preflight

    cfg = resolve_config(config_path, config, str(Store(store).root))
    preflight(cfg, Store(store))
    return asdict(pipeline.fn(cfg, store, fresh))


@flow(name="trajforge-dedup")
def dedup_deployment(sources: list[str], out: str, method: DEDUP_METHODS = "minhash",
                     view: Literal["task", "trajectory"] = "trajectory", score_key: str = "verifier",
                     store: str | None = None) -> dict[str, Any]:
    """Drop near-duplicates across versions and publish the rest, with dedup/removed.parquet.

    Args:
        sources: Versions (name@vN, name@tag), name globs or 'all' to deduplicate together.
        out: Dataset the kept rows are published into.
        method: exact, normalised, minhash or semantic (hashing embedder).
        view: Text compared: the task or the whole trajectory.
        score_key: Score that picks the member kept ('' keeps the first).
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
    """
    from filters.dedup import dedup_versions
    from filters.minhash import MinHashSettings
    from stores.embeddings import make_embedder
    from stores.names import check_name
    from stores.retrieval import resolve_sources

    check_name(out)
    s = Store(store)
    infos = resolve_sources(s, sources, exclude=(out,))
    info, result = dedup_versions(s, infos, out, method, view=view, score_key=score_key or None,
                                  minhash=MinHashSettings().check(),
                                  embedder=make_embedder("hashing") if method == "semantic" else None)
    Catalog(s).sync()
    return {"ref": info.ref, "rows": info.rows, "removed": result.removed.num_rows}


@flow(name="trajforge-decontaminate")
def decontaminate_deployment(sources: list[str], evals: list[str], out: str,
                             mode: Literal["remove", "tag"] = "remove", field: str = "text", ngram: int = 13,
                             store: str | None = None) -> dict[str, Any]:
    """Remove or tag training rows that contain evaluation items; publish the result.

    Args:
        sources: Versions to decontaminate.
        evals: Evaluation sets: .jsonl/.parquet files on the runner or versions (name@vN).
        out: Dataset the result is published into.
        mode: remove the flagged rows, or tag them (scores['contamination']).
        field: Text field of evaluation files.
        ngram: Words per n-gram.
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
    """
    from filters.decontaminate import DecontamSettings, decontaminate_versions, load_eval_set
    from stores.names import check_name
    from stores.retrieval import resolve_sources

    check_name(out)
    s = Store(store)
    settings = DecontamSettings(ngram=ngram).check()
    infos = resolve_sources(s, sources, exclude=(out,))
    sets = [load_eval_set(s, spec, field) for spec in evals]
    info, matches = decontaminate_versions(s, infos, out, sets, settings, mode)
    Catalog(s).sync()
    return {"ref": info.ref, "rows": info.rows, "flagged": len(set(matches["id"].to_pylist()))}


@flow(name="trajforge-export-hf")
def export_deployment(ref: str, out_dir: str, overwrite: bool = False, store: str | None = None) -> str:
    """Write a Hugging Face dataset folder (Parquet + dataset card) of a version.

    Args:
        ref: The version, NAME@vN or NAME@TAG.
        out_dir: Folder on the runner to write (outside the store).
        overwrite: Replace a folder an earlier export wrote.
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
    """
    from catalog.hf_export import export_hf

    return str(export_hf(Store(store), ref, out_dir, overwrite=overwrite))


@flow(name="trajforge-push-hf")
def push_deployment(ref: str, repo_id: str, views: list[str] | None = None, license: str = "other",
                    private: bool = False, store: str | None = None) -> str:
    """Push a version and its trainer views to the Hugging Face Hub (branch, check, tag vN, main).
    The token comes from HF_TOKEN on the runner, never from a parameter.

    Args:
        ref: The version, NAME@vN or NAME@TAG.
        repo_id: Hub dataset repo, e.g. my-org/my-dataset (created if missing).
        views: Trainer views published as configs (default: sft, preference, prm, rl-prompts).
        license: License id for the card (e.g. cc-by-4.0).
        private: Create the repo private.
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
    """
    from catalog.hub import publish_hf
    from stores.names import Ref

    chosen = tuple(views) if views else ("sft", "preference", "prm", "rl-prompts")
    publish_hf(Store(store), Ref.parse(ref), repo_id, views=chosen, license=license, private=private)
    return ref


@flow(name="trajforge-report")
def report_deployment(ref: str, out: str, store: str | None = None) -> str:
    """Write the self-contained HTML report of a version.

    Args:
        ref: The version, NAME@vN or NAME@TAG.
        out: HTML file on the runner to write (outside the store).
        store: Store root folder (default: TRAJFORGE_HOME, else ./trajforge-data).
    """
    from catalog.report import write_report

    return str(write_report(Store(store), ref, out, overwrite=True))


@dataclass(frozen=True)
class Deployment:
    name: str
    flow: Flow
    entrypoint: str
    description: str


def _deployment(name: str, fn: Flow) -> Deployment:
    doc = (fn.fn.__doc__ or "").strip().splitlines()[0]
    return Deployment(name, fn, f"flows/deployments.py:{fn.fn.__name__}", doc)


DEPLOYMENTS = [
    _deployment("pipeline", pipeline_deployment),
    _deployment("dedup", dedup_deployment),
    _deployment("decontaminate", decontaminate_deployment),
    _deployment("export-hf", export_deployment),
    _deployment("push-hf", push_deployment),
    _deployment("report", report_deployment),
]


def runner_deployments(tags: list[str] | None = None) -> list[Any]:
    """``RunnerDeployment`` objects of every deployment, for ``prefect.serve`` or ``apply``."""
    return [d.flow.to_deployment(name=d.name, description=d.description, tags=["trajforge", *(tags or [])])
            for d in DEPLOYMENTS]
