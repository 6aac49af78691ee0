"""The Prefect pipeline: synthesize -> score -> retrieve -> corrupt -> publish.

This is the only package that imports Prefect. Each stage is a flow of its own (runnable
alone) made of tasks that handle whole shards, so orchestration cost stays small next to
the work. Tables pass between tasks in memory; ``NO_CACHE`` keeps Prefect from hashing them.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from catalog.catalog import Catalog, CatalogError
from filters.adversary import scorer_ranker
from filters.decontaminate import MATCHES_FILE as DECONTAM_FILE
from filters.decontaminate import DecontamSettings, decontamination_gate, load_eval_set
from filters.dedup import exact_dedup, task_dedup
from filters.scorers import Scoring, merge_stats, score_batches
from filters.selection import parse_select, select_version
from flows.cached_shards import shard_label, synthesize_cached
from flows.config import FamilySpec, PipelineConfig
from flows.run_reports import label_run, report_run
from flows.runners import check_runner, shard_runner
from flows.workers import in_pool, shard_pool
from stores.blobs import merge_blobs, referenced_blobs
from stores.codeversion import code_version
from stores.embeddings import HashingEmbedder
from stores.names import Ref
from stores.outputs import check_cache_path
from stores.retrieval import MIXED_FILE, NEIGHBORS_FILE, build_index, mix_prior, retrieve
from stores.schema import KINDS, Provenance, to_table
from stores.selection import parquet_bytes
from stores.shard_cache import ShardCache, cache_root
from stores.store import NotFoundError, Store, StoreError, VersionInfo
from synth.corrupt import OPERATORS, CorruptionStats, OperatorSpec, corrupt_table, corruption_sample
from synth.generate import LLMRun, Shard, ShardSpec, generate_shard
from synth.llm.client import LLMSettings, MissingAPIKeyError
from synth.registry import get_family


@dataclass
class RunResult:
    ref: str
    rows: int
    duplicates_dropped: int
    prior: str | None
    repeated_tasks: dict[str, int] = field(default_factory=dict)
    shortfall: dict[str, int] = field(default_factory=dict)
    failed_experts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] | None = None
    score: dict[str, dict[str, float]] = field(default_factory=dict)  # each scorer's cost figures
    selected: str | None = None  # the selection stage's version (``select:``)
    selection: list[dict[str, Any]] = field(default_factory=list)  # what each selection rule did


# ---------------------------------------------------------------------------- tasks


# a shard on the process pool that takes longer fails the run (ShardError) instead of hanging it;
# Prefect's own task timeouts cannot interrupt a task on a worker thread, which every shard task is
SHARD_TIMEOUT_S = 4 * 3600
LLM_RETRY_DELAYS_S = [2, 8, 30]  # a shard whose model server failed it retries with backoff


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1)
def synthesize_shard(spec: ShardSpec, provenance: Provenance, cache: ShardCache | None = None) -> tuple[Shard, bool]:
    """One shard, from the store's shard cache when an earlier run made it; (shard, cached)."""
    logger = get_run_logger()
    shard, cached = synthesize_cached(spec, provenance, cache,
                                      lambda s, p: in_pool(generate_shard, s, p, timeout=SHARD_TIMEOUT_S), logger.warning)
    logger.info("%s: %d rows%s", shard_label(spec), shard.trajectories.num_rows, " (from the shard cache)" if cached else "")
    return shard, cached


@task(cache_policy=NO_CACHE)
def score_shard(table: pa.Table, scoring: Scoring) -> tuple[pa.Table, dict[str, dict[str, float]]]:
    return in_pool(score_batches, table, scoring)


@task(cache_policy=NO_CACHE)
def corrupt_shard(
    table: pa.Table, operators: list[OperatorSpec], seed: int, params: dict[str, dict], scoring: Scoring
) -> tuple[pa.Table, pa.Table, CorruptionStats]:
    """Corrupted rows, scored like clean ones, except those whose operator perturbed the
    scores themselves (re-scoring would undo the corruption)."""
    adversarial = any(o.mode == "adversarial" for o in operators)
    rank = scorer_ranker(operators, scoring.seed, params, scoring.entries) if adversarial else None
    corrupted, blobs, stats = corrupt_table(table, operators, seed, params, rank)
    keeps = pa.array([c is not None and OPERATORS[c["operator"]].edits_scores for c in corrupted["corruption"].to_pylist()],
                     pa.bool_())
    scored = score_batches(corrupted.filter(pc.invert(keeps)), scoring)[0]
    return pa.concat_tables([scored, corrupted.filter(keeps)]), blobs, stats


@task(cache_policy=NO_CACHE)
def publish_version(store: Store, config: PipelineConfig, table: pa.Table, blobs: pa.Table, files: dict[str, bytes],
                    parents: list[dict[str, str]], run: dict[str, Any]) -> VersionInfo:
    info = store.publish(
        config.dataset,
        table,
        blobs=blobs,
        parents=parents,
        params={"config": config.model_dump(mode="json"), "config_hash": config.config_hash(), "run": run},
        files=files,
        tags=config.publish.tags,
        shard_bytes=config.publish.shard_bytes,
        row_group_rows=config.publish.row_group_rows,
    )
    try:
        Catalog(store).sync()
    except CatalogError as e:  # the version is committed; queries rebuild the mirror until a write catches up
        get_run_logger().warning("%s is published, but the catalog was not updated: %s", info.ref, e)
    return info


@task(cache_policy=NO_CACHE)
def prepare_family(store: Store, fam: FamilySpec) -> tuple[FamilySpec, list[dict[str, str]]]:
    """A family's store artefacts made ready before synthesis (a research corpus published or
    found, its exact version pinned in the params); returns the spec shards get and parents."""
    prepare = getattr(get_family(fam.family), "prepare", None)
    if prepare is None:
        return fam, []
    params, parents = prepare(store, fam.family_params())
    return fam.model_copy(update={"params": params}), parents


# ---------------------------------------------------------------------------- stage flows


LLM_FAILURES_FILE = "llm/failures.jsonl"  # tasks the model gave no row for, with the reason
TOP_UP_ROUNDS = 5  # extra generation rounds to replace episodes whose task was already drawn


def family_specs(
    config: PipelineConfig, fam: FamilySpec, start: int, stop: int, llm: LLMRun | None = None
) -> list[ShardSpec]:
    """Episode indexes ``start..stop`` of one family, cut into shards of ``config.shard_size``
    episodes (an index is a task of ``samples_per_task`` episodes)."""
    size = max(1, config.shard_size // fam.samples_per_task)
    return [
        ShardSpec(
            family=fam.family,
            seed=config.seed,
            start=i,
            stop=min(stop, i + size),
            tiers=fam.tiers,
            difficulties=tuple(fam.difficulties),
            params=fam.family_params(),
            llm=llm if fam.tiers.get("llm", 0) > 0 else None,
            samples_per_task=fam.samples_per_task,
        )
        for i in range(start, stop, size)
    ]


def shard_specs(config: PipelineConfig, llm: LLMRun | None = None) -> list[ShardSpec]:
    return [spec for _kind, fam in config.families() for spec in family_specs(config, fam, 0, _indexes(fam), llm)]


def _indexes(fam: FamilySpec, rows: int | None = None) -> int:
    """Episode indexes that give ``rows`` rows (default ``count``): with grouped sampling an
    index is a task and gives ``samples_per_task`` rows."""
    return -(-(fam.count if rows is None else rows) // fam.samples_per_task)


def scoring_of(config: PipelineConfig) -> Scoring:
    """The score stage's settings: the config's scorers, with each family's params (the env a
    Monte-Carlo or replaying scorer rebuilds is the one the episodes ran in)."""
    return Scoring(config.score.entries(), config.seed, config.score.batch_size,
                   {spec.family: spec.family_params() for _, spec in config.families()})


def llm_run(config: PipelineConfig, store: Store) -> LLMRun | None:
    """The model backend shards use, with its request cache beside the store by default (a
    rerun after a crash finds every answered request there and sends none twice)."""
    if config.llm is None:
        return None
    c = config.llm
    settings = LLMSettings(
        base_url=c.base_url, model=c.model, api_key_env=c.api_key_env, max_concurrency=c.max_concurrency,
        timeout_s=c.timeout_s, max_retries=c.max_retries, backoff_s=c.backoff_s, backoff_max_s=c.backoff_max_s,
        temperature=c.temperature, max_tokens=c.max_tokens,
        params=dict(c.params),
    )
    cache = check_cache_path(store, llm_cache_path(config, store))
    cache.parent.mkdir(parents=True, exist_ok=True)
    return LLMRun(settings, c.mode, str(cache), c.max_rounds)


def llm_cache_path(config: PipelineConfig, store: Store) -> Path:
    c = config.llm
    return Path(c.cache) if c is not None and c.cache else store.root / "_cache" / "llm.sqlite"


@dataclass
class Synthesis:
    trajectories: pa.Table | None  # None once the pipeline has taken them over
    blobs: pa.Table | None
    repeated_tasks: dict[str, int]  # episodes dropped because their task was already in the dataset
    shortfall: dict[str, int]  # episodes still missing after the top-up rounds (task space exhausted)
    failed_experts: dict[str, int] = field(default_factory=dict)  # expert episodes dropped because they failed
    llm_failures: list[dict[str, Any]] = field(default_factory=list)
    llm_summary: dict[str, Any] | None = None
    cached_shards: int = 0  # shards read back from the shard cache (a resumed run) instead of generated


def drop_failed_experts(table: pa.Table) -> tuple[pa.Table, int]:
    """``table`` without its failed expert rows (a wrong answer, no answer, the step limit hit)
    and how many there were. An expert tier is what a trainer imitates, so a failed expert is
    never published; the synthesize flow replaces it from further seeds, like a repeated task."""
    if table.num_rows == 0:
        return table, 0
    tier = pc.struct_field(table["policy"], "tier")
    failed = pc.and_(pc.equal(tier, "expert"), pc.invert(pc.struct_field(table["outcome"], "success")))
    n = pc.sum(pc.cast(failed, pa.int64())).as_py() or 0
    return (table.filter(pc.invert(failed)), n) if n else (table, 0)


@flow(name="prepare")
def prepare_flow(config: PipelineConfig, store: Store) -> tuple[PipelineConfig, list[dict[str, str]]]:
    """The config the synthesis, score and corruption stages run with (families' params resolved,
    e.g. ``corpus: {ref: world10k@v2, fingerprint: ...}``, and scorers' model versions looked up
    in this store) and the lineage parents it adds."""
    synth: dict[str, list[FamilySpec]] = {}
    parents: list[dict[str, str]] = []
    for kind in KINDS:
        synth[kind] = []
        for fam in getattr(config.synth, kind):
            resolved, more = prepare_family(store, fam)
            synth[kind].append(resolved)
            parents += [p for p in more if p not in parents]
    resolved = config.model_copy(update={"synth": config.synth.model_copy(update=synth)})
    return resolved.in_store(str(store.root)), parents


@flow(name="synthesize")
def synthesize_flow(config: PipelineConfig, provenance: Provenance, llm: LLMRun | None = None,
                    cache: ShardCache | None = None) -> Synthesis:
    """Generate every family's episodes, keeping one episode per distinct task and only expert
    episodes that succeed.

    Episodes whose task repeats an earlier one, and expert episodes that failed (a wrong or
    missing answer, the step limit reached), are dropped and replaced by episodes from
    further indexes (still derived from the run seed, so a rerun gives the same rows), for up
    to ``TOP_UP_ROUNDS`` rounds; what is still missing then is reported as a shortfall.
    """
    families = [fam for _kind, fam in config.families()]
    tables: dict[str, list[pa.Table]] = {fam.family: [] for fam in families}
    blobs: list[pa.Table] = []
    repeated = dict.fromkeys(tables, 0)
    failed = dict.fromkeys(tables, 0)
    kept = dict.fromkeys(tables, 0)
    produced = {fam.family: _indexes(fam) for fam in families}
    pending = [spec for fam in families for spec in family_specs(config, fam, 0, _indexes(fam), llm)]
    failures: list[dict[str, Any]] = []
    results: list = []
    cached = 0
    for _round in range(TOP_UP_ROUNDS + 1):
        if not pending:
            break
        touched = {spec.family for spec in pending}
        for spec, (shard, hit) in zip(pending, _run_shards(pending, provenance, cache), strict=True):
            cached += hit
            tables[spec.family].append(shard.trajectories)
            blobs.append(shard.blobs)
            failures += shard.llm_failures
            results += shard.llm_results
        pending = []
        for fam in (f for f in families if f.family in touched):
            table, dropped = task_dedup(pa.concat_tables(tables[fam.family]), grouped=fam.samples_per_task > 1)
            table, bad = drop_failed_experts(table)
            table = table.slice(0, fam.count)
            tables[fam.family] = [table]
            repeated[fam.family] += dropped
            failed[fam.family] += bad
            kept[fam.family] = table.num_rows
            missing = fam.count - table.num_rows
            if missing > 0:
                extra = _indexes(fam, missing + missing // 4 + 8)  # repeats among the replacements too
                pending += family_specs(config, fam, produced[fam.family], produced[fam.family] + extra, llm)
                produced[fam.family] += extra
    parts = [t for fam in families for t in tables[fam.family]]
    table = pa.concat_tables(parts) if parts else to_table([])
    shortfall = {fam.family: fam.count - kept[fam.family] for fam in families if kept[fam.family] < fam.count}
    for name, missing in shortfall.items():
        get_run_logger().warning(
            "%s: %d episode(s) short after %d top-up rounds (%d repeated tasks and %d failed experts replaced): "
            "its task space at the configured difficulties ran out of distinct tasks, or its experts kept failing",
            name, missing, TOP_UP_ROUNDS, repeated[name], failed[name],
        )
    summary = None
    if results:
        from synth.llm.batch import summarize

        summary = {**summarize(results), "failures": len(failures)}
    failed = {name: n for name, n in failed.items() if n}
    return Synthesis(table, referenced_blobs(table, merge_blobs(blobs)), repeated, shortfall, failed, failures, summary,
                     cached)


def run_synthesis(config: PipelineConfig, provenance: Provenance, llm: LLMRun | None = None,
                  cache: ShardCache | None = None) -> Synthesis:
    """The synthesize flow with shards on the config's runner: ``config.workers`` local
    processes (threads drive them) or a Dask cluster (:mod:`flows.runners`)."""
    with shard_runner(config) as runner:
        return synthesize_flow.with_options(task_runner=runner)(config, provenance, llm, cache)


def _run_shards(specs: list[ShardSpec], provenance: Provenance, cache: ShardCache | None) -> list[tuple[Shard, bool]]:
    """Run shards on the flow's task runner with a progress bar; (shard, cached) in ``specs``
    order. Shards with llm-tier episodes carry the model's tag (``llm:MODEL``), so a Prefect
    concurrency limit on that tag caps the shards talking to one server, and retry with backoff."""
    futures = [_shard_task(spec).submit(spec, provenance, cache) for spec in specs]
    episodes = {f.task_run_id: spec.stop - spec.start for f, spec in zip(futures, specs, strict=True)}
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=Console(stderr=True),
                  disable=not sys.stderr.isatty(), transient=True) as bar:
        job = bar.add_task("synthesizing episodes", total=sum(episodes.values()))
        for future in as_completed(futures):
            bar.advance(job, episodes[future.task_run_id])
    return [f.result() for f in futures]


def _shard_task(spec: ShardSpec):
    if spec.llm is None:
        return synthesize_shard
    return synthesize_shard.with_options(tags=[f"llm:{spec.llm.settings.model}"], retries=len(LLM_RETRY_DELAYS_S),
                                         retry_delay_seconds=LLM_RETRY_DELAYS_S)


@flow(name="score")
def score_flow(table: pa.Table, scoring: Scoring) -> tuple[pa.Table, dict[str, dict[str, float]]]:
    """Every row scored by the config's scorers, one task per batch (on the shard pool's
    processes when one is active); returns the rows and each scorer's summed cost figures."""
    size = scoring.batch_size
    futures = [score_shard.submit(table.slice(i, size), scoring) for i in range(0, table.num_rows, size)]
    parts = [f.result() for f in futures]
    if not parts:
        return table, {}
    return pa.concat_tables([p for p, _ in parts]), merge_stats([s for _, s in parts])


@flow(name="retrieve")
def retrieve_flow(
    config: PipelineConfig, store: Store, table: pa.Table
) -> tuple[dict[str, bytes], list[dict[str, str]], str | None]:
    """Index this run's rows; search the prior version's index. Returns (files, parents, prior ref)."""
    embedder = HashingEmbedder(config.retrieve.dim)
    files = build_index(table, embedder).to_files()
    prior = _prior_version(config, store)
    if prior is None:
        return files, [], None
    neighbors, _best = retrieve(store, table, prior, embedder, config.retrieve.k)
    sink = io.BytesIO()
    pq.write_table(neighbors, sink, compression="zstd")
    files[NEIGHBORS_FILE] = sink.getvalue()
    return files, [{"ref": prior.ref, "role": "retrieval"}], prior.ref


def mix_retrieved(config: PipelineConfig, store: Store, table: pa.Table, blobs: pa.Table, prior: str | None,
                  files: dict[str, bytes]) -> tuple[pa.Table, pa.Table]:
    """Behavior Retrieval's recipe (``retrieve.mix_share``): the prior rows most like this
    run's join the new version; ``retrieval/mixed.parquet`` names each one's match."""
    if prior is None or config.retrieve.mix_share == 0:
        return table, blobs
    r = config.retrieve
    rows, matches, prior_blobs = mix_prior(store, table, store.resolve(prior), HashingEmbedder(r.dim), r.mix_share,
                                           r.mix_view, r.mix_threshold)
    files[MIXED_FILE] = parquet_bytes(matches)
    return pa.concat_tables([table, rows]), merge_blobs([blobs, prior_blobs])


def decontaminate_before_publish(config: PipelineConfig, store: Store, table: pa.Table, files: dict[str, bytes]
                                 ) -> pa.Table:
    """The decontamination gate (``decontaminate``): rows holding an evaluation item are removed
    or tagged, or the run fails before publishing; ``decontam/matches.parquet`` lists the matches."""
    d = config.decontaminate
    if d is None:
        return table
    evals = [load_eval_set(store, spec, d.field) for spec in d.eval_sets]
    settings = DecontamSettings(ngram=d.ngram, max_matches=d.max_matches, min_overlap=d.min_overlap)
    rows, matches = decontamination_gate(table, evals, settings, d.mode)
    files[DECONTAM_FILE] = parquet_bytes(matches)
    return rows


def preflight(config: PipelineConfig, store: Store) -> None:
    """Everything about a run that can fail for a reason the user can fix, checked before the
    first task: the retrieval prior exists, the LLM key and cache are usable, the store takes
    writes. A run that would fail at publish must fail here, not after the synthesis; nothing
    is left behind by the checks."""
    try:
        _prior_version(config, store)
    except StoreError as e:
        raise StoreError(f"retrieve.prior {config.retrieve.prior!r}: {e}") from None
    if config.llm is not None and any(spec.tiers.get("llm", 0) > 0 for _, spec in config.families()):
        if config.llm.api_key_env and not os.environ.get(config.llm.api_key_env):
            raise MissingAPIKeyError(
                f"llm.api_key_env names {config.llm.api_key_env!r}, which is not set in the environment; export "
                "it with the server's API key, or remove api_key_env for a server without authentication"
            )
        check_cache_path(store, llm_cache_path(config, store))
    if config.decontaminate is not None:  # unreadable evaluation sets fail now, not after the synthesis
        for spec in config.decontaminate.eval_sets:
            load_eval_set(store, spec, config.decontaminate.field)
    check_runner(config.runner)  # an unreachable scheduler fails in seconds, not after the corpus build
    store.check_writable(config.dataset, keep=False)
    if config.select is not None:
        store.check_writable(parse_select(config.select).into or f"{config.dataset}-selected", keep=False)


def _prior_version(config: PipelineConfig, store: Store) -> VersionInfo | None:
    if not config.retrieve.enabled or config.retrieve.prior is None:
        return None
    text = config.retrieve.prior if "@" in config.retrieve.prior else f"{config.dataset}@{config.retrieve.prior}"
    ref = Ref.parse(text)
    try:
        return store.resolve(ref)
    except NotFoundError:
        if ref.name == config.dataset and ref.ref == "latest":
            return None  # the first run of a dataset has nothing to retrieve from
        raise


@flow(name="corrupt")
def corrupt_flow(config: PipelineConfig, table: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, dict[str, int]]]:
    """Corrupt a seeded sample of clean rows into a labelled ``corrupt`` split; returns the
    rows, the images their replays drew and the counts (corrupted, skipped... per operator),
    which the manifest keeps as ``params.run.corrupt``."""
    sample = corruption_sample(table, config.corrupt.fraction, config.seed)
    if sample.num_rows == 0 or not config.corrupt.operators:
        return to_table([]), merge_blobs([]), CorruptionStats().as_dict()
    params = {spec.family: spec.family_params() for _, spec in config.families()}
    futures = [
        corrupt_shard.submit(sample.slice(i, config.shard_size), config.corrupt.specs(), config.seed, params,
                             scoring_of(config))
        for i in range(0, sample.num_rows, config.shard_size)
    ]
    results = [f.result() for f in futures]
    stats = functools.reduce(CorruptionStats.merge, (s for _, _, s in results), CorruptionStats())
    get_run_logger().info("corrupt: %d of %d sampled rows corrupted; counts %s", sum(stats.corrupted.values()),
                          sample.num_rows, stats.as_dict())
    corrupted, _ = exact_dedup(pa.concat_tables([rows for rows, _, _ in results]))
    return corrupted, merge_blobs([blobs for _, blobs, _ in results]), stats.as_dict()


@task(cache_policy=NO_CACHE)
def select_stage(store: Store, info: VersionInfo, select: dict[str, Any]) -> tuple[VersionInfo, list[dict[str, Any]]]:
    """The ``select:`` stage: a second version (lineage role ``selection``) of the published one."""
    selected, report = select_version(store, info, parse_select(select))
    try:
        Catalog(store).sync()
    except CatalogError as e:
        get_run_logger().warning("%s is published, but the catalog was not updated: %s", selected.ref, e)
    return selected, report


@flow(name="publish")
def publish_flow(store: Store, config: PipelineConfig, table: pa.Table, blobs: pa.Table, files: dict[str, bytes],
                 parents: list[dict[str, str]], run: dict[str, Any]) -> VersionInfo:
    return publish_version(store, config, table, blobs, files, parents, run)


@flow(name="pipeline")
def pipeline(config: PipelineConfig, store_root: str | None = None, fresh: bool = False) -> RunResult:
    """The whole job: one new immutable version of ``config.dataset``, registered in the catalog.
    Finished shards of an earlier run of the same config are reused (``fresh``: recomputed)."""
    store = Store(store_root)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[name] = round(now - started, 3)
        started = now

    preflight(config, store)
    label_run(config.dataset, config.config_hash())
    run = {"run_id": uuid.uuid4().hex, "created_at": datetime.now(UTC).isoformat()}
    provenance = Provenance(
        generator="",  # filled per family by the shard generator
        generator_version="",
        code_version=code_version(),
        config_hash=config.config_hash(),
        run_id=run["run_id"],
        created_at=datetime.fromisoformat(run["created_at"]),
    )
    run_config, prepared = prepare_flow(config, store)  # the user's config is what the manifest records
    if prepared:
        run["prepared"] = prepared
    lap("prepare")
    cache = ShardCache(cache_root(store.root), read=not fresh)
    synthesis = run_synthesis(run_config, provenance, llm_run(config, store), cache)
    table, blobs = synthesis.trajectories, synthesis.blobs
    synthesis.trajectories = synthesis.blobs = None  # one live copy: each stage below replaces `table`
    table, duplicates = exact_dedup(table)
    run["repeated_tasks"] = synthesis.repeated_tasks
    run["shortfall"] = synthesis.shortfall
    run["failed_experts"] = synthesis.failed_experts
    run["cached_shards"] = synthesis.cached_shards
    if synthesis.llm_summary is not None:
        run["llm"] = synthesis.llm_summary
    lap("synthesize")
    with shard_pool(config.workers) as workers:
        table, run["score"] = score_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))(
            table, scoring_of(run_config))
    lap("score")
    files, parents, prior = retrieve_flow(config, store, table)
    lap("retrieve")
    corrupted, corrupt_blobs, run["corrupt"] = corrupt_flow(run_config, table)
    table, more = exact_dedup(pa.concat_tables([table, corrupted]))
    blobs = referenced_blobs(table, merge_blobs([blobs, corrupt_blobs]))
    lap("corrupt")
    table, blobs = mix_retrieved(config, store, table, blobs, prior, files)
    table = decontaminate_before_publish(config, store, table, files)
    blobs = referenced_blobs(table, blobs)
    lap("mix_decontaminate")
    if synthesis.llm_failures:
        files[LLM_FAILURES_FILE] = b"".join(orjson.dumps(f) + b"\n" for f in synthesis.llm_failures)
    info = publish_flow(store, config, table, blobs, files, prepared + parents, run)
    lap("publish")
    selected, report = select_stage(store, info, config.select) if config.select is not None else (None, [])
    if selected is not None:
        lap("select")
    report_run(store, info, run, seconds, duplicates + more)
    return RunResult(info.ref, info.rows, duplicates + more, prior, synthesis.repeated_tasks, synthesis.shortfall,
                     synthesis.failed_experts, seconds, info.manifest["stats"]["content"], synthesis.llm_summary,
                     run["score"], selected.ref if selected is not None else None, report)
