"""The ``trajforge`` command line.

Errors the user can fix print as one paragraph and exit 1; usage errors print the usage line
and one sentence and exit 2; anything else prints one paragraph naming it as a bug (exit 1).
``--debug`` shows the traceback. Prefect is imported only by ``run``, so the dataset and
catalog commands start instantly. The console script (:func:`entry`) runs ``run`` under a
supervisor (``flows.supervise``) so that nothing it starts outlives it.
"""

from __future__ import annotations

import csv
import enum
import json
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.exceptions import TyperException

from catalog.catalog import DEFAULT_TIMEOUT_S, Catalog, CatalogError, verify_version
from flows.cached_shards import ShardError
from flows.config import ConfigError
from stores.names import InvalidNameError, Ref
from stores.outputs import check_output_file, export_schema
from stores.schema import SchemaError, TrajectoryValidationError
from stores.store import BrokenVersion, Store, StoreError
from synth.llm.client import MissingAPIKeyError

app = typer.Typer(help="trajforge: synthesize, score, version and query agent trajectory datasets.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
datasets_app = typer.Typer(help="List, inspect, compare, verify and tag dataset versions.", no_args_is_help=True)
catalog_app = typer.Typer(help="SQL over the DuckDB catalog and the data itself.", no_args_is_help=True)
export_app = typer.Typer(help="Export versions to other formats.", no_args_is_help=True)
corpus_app = typer.Typer(help="Build, import and inspect research corpora (versioned with their search index).",
                         no_args_is_help=True)
publish_app = typer.Typer(help="Publish versions to dataset hubs.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
app.add_typer(catalog_app, name="catalog")
app.add_typer(export_app, name="export")
app.add_typer(corpus_app, name="corpus")
app.add_typer(publish_app, name="publish")


class OutputFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


out = Console()
# errors whose message is written for the user (most ValueErrors here are: bad params, corpora, questions)
USER_ERRORS = (StoreError, CatalogError, ConfigError, InvalidNameError, SchemaError, TrajectoryValidationError,
               MissingAPIKeyError, ShardError, ValueError)
_state: dict[str, Any] = {"store": None, "debug": False}


@app.callback()
def _options(
    store: Annotated[str | None, typer.Option(help="Store root folder (env TRAJFORGE_HOME; default ./trajforge-data).")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors.")] = False,
) -> None:
    _state["store"], _state["debug"] = store, debug


def _store() -> Store:
    return Store(_state["store"])


# ---------------------------------------------------------------------------- run


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Pipeline config YAML, e.g. configs/demo.yaml.")],
    fresh: Annotated[bool, typer.Option(help="Ignore the shard cache: recompute every shard (and refresh its entry).")] = False,
) -> None:
    """Run the pipeline: synthesize, score, retrieve, corrupt and publish a new version. Shards a
    killed or earlier run of the same config finished are read from the store's shard cache."""
    import os

    from flows.config import load_config

    store = _store()
    cfg = load_config(config, str(store.root))
    if not _state["debug"]:  # errors reach the terminal as our one paragraph, not Prefect's log lines
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    from flows.pipeline import preflight
    from flows.runtime import run_pipeline

    preflight(cfg, store)  # before Prefect starts: a bad prior or a read-only store fails in a second

    result = run_pipeline(cfg, str(store.root), fresh)
    out.print(_summary(store, result.ref))
    out.print(
        f"rows {result.rows}, duplicates dropped {result.duplicates_dropped}, retrieval prior "
        f"{result.prior or 'none (first version)'}; seconds per stage: {result.stage_seconds}"
    )
    cached = store.resolve(result.ref).manifest["params"]["run"].get("cached_shards", 0)
    if cached:
        out.print(f"shards read from the shard cache (an earlier run of this config made them): {cached}")
    repeated = sum(result.repeated_tasks.values())
    if repeated:
        out.print(f"episodes replaced because their task was already drawn: {repeated}")
    failed = sum(result.failed_experts.values())
    if failed:
        shown = ", ".join(f"{name} {n}" for name, n in sorted(result.failed_experts.items()))
        out.print(f"expert episodes replaced because they failed (never published): {failed} ({shown})")
    if result.llm:
        m = result.llm
        out.print(
            f"llm: {m['requests']} requests ({m['cached']} from the cache, {m['sent']} sent, {m['failed']} failed), "
            f"{m['failures']} task(s) without a row (see llm/failures.jsonl), tokens {m['prompt_tokens']} in / "
            f"{m['completion_tokens']} out, latency p50 {m['latency_ms_p50']} ms, p95 {m['latency_ms_p95']} ms"
        )
    for family, missing in result.shortfall.items():
        out.print(f"[yellow]{family}: {missing} episode(s) short: not enough distinct tasks at its difficulties[/]")
    costly = {name: c for name, c in result.score.items() if c}
    if costly:
        out.print("scoring cost: " + "; ".join(
            f"{name}: " + ", ".join(f"{k} {v:g}" for k, v in c.items()) for name, c in costly.items()))
    if result.selected:
        out.print(f"selected {result.selected}: " + "; ".join(
            f"{r['rule']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "rule") for r in result.selection))
    print(result.ref)


@app.command()
def families() -> None:
    """List the task families a config can name, with their tiers and difficulty levels."""
    from synth.reasoning.levels import format_level
    from synth.registry import family_names, get_family

    table = Table(title="task families")
    for col in ("family", "kind", "group", "tiers", "difficulty levels"):
        table.add_column(col)
    for name in family_names():
        f = get_family(name)
        levels = getattr(f, "levels", None)
        shown = "; ".join(f"{d}: {format_level(levels[d])}" for d in sorted(levels)) if levels else "1-5"
        table.add_row(name, f.kind, getattr(f, "group", ""), ", ".join(f.tiers), shown)
    out.print(table)


def _summary(store: Store, ref: str) -> Table:
    """Rows, success rate and mean steps by split x kind x tier of a published version."""
    import polars as pl

    frame = store.read_polars(ref, ["kind", "split", "policy", "outcome", "steps"])
    grouped = (
        frame.select(
            "split",
            "kind",
            pl.col("policy").struct.field("tier"),
            pl.col("outcome").struct.field("success").cast(pl.Float64),
            pl.col("steps").list.len().alias("n_steps"),
        )
        .group_by("split", "kind", "tier")
        .agg(pl.len().alias("rows"), pl.col("success").mean(), pl.col("n_steps").mean())
        .sort("split", "kind", "tier", descending=[True, False, False])
    )
    table = Table(title=f"published {ref}")
    for col in ("split", "kind", "tier", "rows", "success", "mean steps"):
        table.add_column(col, justify="right" if col in ("rows", "success", "mean steps") else "left")
    for r in grouped.iter_rows(named=True):
        table.add_row(r["split"], r["kind"], r["tier"], str(r["rows"]), f"{r['success']:.3f}", f"{r['n_steps']:.1f}")
    return table


# ---------------------------------------------------------------------------- datasets


@datasets_app.command("list")
def datasets_list() -> None:
    """List datasets with their latest version."""
    store = _store()
    table = Table("dataset", "versions", "latest", "rows", "tags", "problems")
    for name in store.datasets():
        found = store.scan(name)
        good = [v for v in found if not isinstance(v, BrokenVersion)]
        broken = [v for v in found if isinstance(v, BrokenVersion)]
        try:
            tags = ", ".join(f"{t}={v}" for t, v in sorted(store.tags(name).items()))
        except StoreError as e:
            tags, broken = "?", [*broken, e]
        newest = good[-1] if good else None
        table.add_row(name, str(len(found)), newest.version if newest else "-", str(newest.rows) if newest else "-",
                      tags, "; ".join(f"{b.version}: broken (run `trajforge datasets versions {name}`)"
                                      if isinstance(b, BrokenVersion) else str(b) for b in broken))
    out.print(table)


@datasets_app.command("versions")
def datasets_versions(name: str) -> None:
    """List the versions of a dataset."""
    store = _store()
    tags = store.tags(name)
    found = store.scan(name)
    if not found:
        store.versions(name)  # raises the not-found message
    table = Table("version", "created", "rows", "parents", "tags")
    for v in found:
        shown = ", ".join(t for t, ver in sorted(tags.items()) if ver == v.version)
        if isinstance(v, BrokenVersion):
            table.add_row(v.version, "-", "-", f"[red]broken: {v.error}[/]", shown)
            continue
        parents = ", ".join(f"{p['dataset']}@{p['version']}" for p in v.manifest["parents"])
        table.add_row(v.version, v.manifest["created_at"][:19], str(v.rows), parents, shown)
    out.print(table)


@datasets_app.command("show")
def datasets_show(ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@TAG")]) -> None:
    """Show a version's manifest summary: files, stats, lineage."""
    info = _store().resolve(ref)
    m = info.manifest
    summary = {
        "ref": info.ref,
        "path": str(info.path),
        "created_at": m["created_at"],
        "code_version": m["code_version"],
        "format_version": m["format_version"],
        "rows": {t: e["rows"] for t, e in m["tables"].items()},
        "shards": {t: len(e["shards"]) for t, e in m["tables"].items()},
        "files": [f["path"] for f in m["files"]],
        "parents": m["parents"],
        "tags": [t for t, v in _store().tags(info.name).items() if v == info.version],
        "stats": m["stats"]["content"],
    }
    out.print_json(json.dumps(summary))


@datasets_app.command("diff")
def datasets_diff(a: str, b: str) -> None:
    """Compare two versions by trajectory id: added, removed, unchanged."""
    d = _store().diff(a, b)
    out.print(f"{a} -> {b}: added {d.added}, removed {d.removed}, unchanged {d.unchanged}")


@datasets_app.command("verify")
def datasets_verify(ref: str) -> None:
    """Re-hash a version's files against its manifest; exit 1 if any is missing or corrupted."""
    store = _store()
    info = store.resolve(ref)
    problems = verify_version(store, info.ref)
    if problems:
        raise StoreError(f"{info.ref} failed verification:\n  " + "\n  ".join(problems))
    out.print(f"{info.ref}: ok ({sum(len(t['shards']) for t in info.manifest['tables'].values()) + len(info.manifest['files'])} files verified)")


@datasets_app.command("tag")
def datasets_tag(ref: str, tag: str) -> None:
    """Point TAG at a version (moves it if it exists)."""
    store = _store()
    info = store.tag(ref, tag)
    Catalog(store).sync()
    out.print(f"{info.name}@{tag} -> {info.version}")


# ---------------------------------------------------------------------------- catalog


@catalog_app.command("query")
def catalog_query(
    sql: Annotated[str, typer.Argument(help='Read-only SQL. Tables: datasets, versions, shards, column_stats, lineage, tags, problems; data as "name@ref" (and "name@ref:blobs").')],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json")] = OutputFormat.table,
    limit: Annotated[int, typer.Option(min=1, help="Print at most this many rows (says so when it cuts).")] = 1000,
    all_rows: Annotated[bool, typer.Option("--all", help="Print every row (lifts --limit).")] = False,
    timeout: Annotated[float, typer.Option(min=0, help="Stop the query after this many seconds (0: never).")] = DEFAULT_TIMEOUT_S,
) -> None:
    """Run read-only SQL over the catalog and the trajectories of any version.

    Rows stream as they are read; nothing in the store is written (not even the catalog)."""
    with Catalog(_store()).stream(sql, None if all_rows else limit, timeout or None) as rows:
        _print_rows(rows, format)
    if rows.truncated:
        print(f"(stopped at --limit {limit} rows; pass --limit N or --all for more)", file=sys.stderr)


def _print_rows(rows: Any, format: OutputFormat) -> None:
    """Write a result stream as it arrives: CSV and JSON row by row, tables in blocks."""
    if format is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(rows.columns)
        for batch in rows.batches():
            writer.writerows(batch)
    elif format is OutputFormat.json:
        first = True
        sys.stdout.write("[")
        for batch in rows.batches():
            for row in batch:
                sys.stdout.write(("\n" if first else ",\n") + json.dumps(dict(zip(rows.columns, row, strict=True)), default=str))
                first = False
        sys.stdout.write("\n]\n")
    else:
        shown = False
        for batch in rows.batches():
            table = Table(*rows.columns, show_header=not shown)
            for row in batch:
                table.add_row(*("NULL" if v is None else str(v) for v in row))
            out.print(table)
            shown = True
        if not shown:
            out.print(Table(*rows.columns))


@catalog_app.command("rebuild")
def catalog_rebuild() -> None:
    """Recreate the catalog from the manifests alone."""
    n = Catalog(_store()).rebuild()
    out.print(f"catalog rebuilt from {n} version manifest(s)")


# ---------------------------------------------------------------------------- export


@export_app.command("hf")
def export_hf_cmd(
    ref: str,
    out_dir: Path,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty OUT_DIR.")] = False,
) -> None:
    """Write a Hugging Face dataset folder (Parquet + dataset card) for a version."""
    from catalog.hf_export import export_hf

    path = export_hf(_store(), Ref.parse(ref), out_dir, overwrite=overwrite)
    out.print(f"exported {ref} to {path}; load it with datasets.load_dataset({str(path)!r}, CONFIG)")


@export_app.command("gui-steps")
def export_gui_steps_cmd(
    ref: str,
    out_file: Annotated[Path, typer.Argument(help="Parquet file to write, e.g. out/gui-steps.parquet.")],
    views: Annotated[str, typer.Option(help="Comma-separated: a11y (screenshot + accessibility tree, element ids allowed), "
                                            "screenshot (screenshot only, every action as coordinates).")] = "a11y,screenshot",
    variants: Annotated[str, typer.Option(help="Comma-separated: reasoning (thought then action), direct (action only).")] = "reasoning,direct",
    splits: Annotated[str, typer.Option(help="Comma-separated splits to export (e.g. train,corrupt), or 'all'.")] = "train",
    coords: Annotated[str, typer.Option(help="pixels, or norm1000 (0-1000 of the screen's width and height).")] = "pixels",
    acceptable_only: Annotated[bool, typer.Option(help="Keep only steps whose action the env accepted as progress.")] = False,
    images: Annotated[bool, typer.Option(help="Embed each step's screenshot bytes (else only its blob id).")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace OUT_FILE if it exists.")] = False,
) -> None:
    """One sample per GUI step and view: screen + instruction + history -> action, with target box and point."""
    import pyarrow.parquet as pq

    from synth.gui.views import step_samples

    store = _store()
    check_output_file(store, out_file, overwrite)
    info = store.resolve(Ref.parse(ref))
    kinds = store.read(info, ["kind"])["kind"].unique().to_pylist() if info.kind == "trajectories" else []
    if "gui" not in kinds:
        raise StoreError(f"{info.ref} has no gui trajectories (it holds {', '.join(sorted(kinds)) or info.kind}); "
                         "export gui-steps needs a version made with gui families, e.g. from configs/gui.yaml")
    blobs = store.read(info, table="blobs") if images else None
    chosen = None if splits.strip() == "all" else [s.strip() for s in splits.split(",") if s.strip()]
    samples = step_samples(store.read(info), blobs, [v.strip() for v in variants.split(",") if v.strip()],
                           acceptable_only, [v.strip() for v in views.split(",") if v.strip()], chosen, coords)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(out_file.name + ".partial")
    pq.write_table(samples.cast(export_schema(samples.schema, info.ref)), partial, compression="zstd",
                   row_group_size=256)
    partial.replace(out_file)  # never a half-written file under the final name
    steps = len(set(zip(samples["trajectory_id"].to_pylist(), samples["step"].to_pylist(), strict=True)))
    out.print(f"wrote {samples.num_rows} samples ({steps} steps) from {info.ref} to {out_file}")


@export_app.command("view")
def export_view_cmd(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@TAG of a trajectory version.")],
    view: Annotated[str, typer.Argument(help="sft, preference, prm, rl-prompts or gui-steps.")],
    out_path: Annotated[Path, typer.Argument(help="Parquet file to write (a folder with --hf).")],
    hf: Annotated[bool, typer.Option(help="Write a Hugging Face dataset folder with a card instead.")] = False,
    splits: Annotated[str | None, typer.Option(help="Comma-separated splits, or 'all' (default: the view's own).")] = None,
    score: Annotated[str | None, typer.Option(help="preference: trajectory score to rank by (verifier); "
                                                   "prm: step score to label from (prefix_correct).")] = None,
    threshold: Annotated[float | None, typer.Option(help="prm: a step is good when its score >= this (0.5).")] = None,
    images: Annotated[bool, typer.Option(help="Embed images (sft, preference, gui-steps).")] = True,
    failures: Annotated[bool, typer.Option(help="sft: keep failed episodes too (default: successful only).")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier export at OUT_PATH.")] = False,
) -> None:
    """Export a trainer view (TRL's formats) of a version as Parquet or a Hugging Face folder."""
    from catalog.view_export import export_view

    options: dict[str, Any] = {"images": images}
    if failures:
        if view != "sft":
            raise typer.BadParameter("--failures applies to the sft view only", param_hint="--failures")
        options["success_only"] = False
    if splits is not None:
        options["splits"] = None if splits.strip() == "all" else [s.strip() for s in splits.split(",") if s.strip()]
    if score is not None:
        options["score"] = score
    if threshold is not None:
        options["threshold"] = threshold
    path, table = export_view(_store(), Ref.parse(ref), view, out_path, hf=hf, overwrite=overwrite, **options)
    out.print(f"wrote the {view} view of {ref} ({table.num_rows} rows) to {path}")


@app.command()
def report(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@TAG of a trajectory version.")],
    out_file: Annotated[Path, typer.Argument(help="HTML file to write, e.g. out/report.html.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier report at OUT_FILE.")] = False,
) -> None:
    """Write a self-contained HTML report: counts, distributions, lineage, diff, sample episodes."""
    from catalog.report import write_report

    path = write_report(_store(), Ref.parse(ref), out_file, overwrite=overwrite)
    out.print(f"wrote the report of {ref} to {path}")


# ---------------------------------------------------------------------------- publish


@publish_app.command("hf")
def publish_hf_cmd(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@TAG of a trajectory version.")],
    repo_id: Annotated[str, typer.Argument(help="Hub dataset repo, e.g. my-org/my-dataset (created if missing).")],
    revision: Annotated[str | None, typer.Option(help="Work branch to commit to first (default trajforge-vN).")] = None,
    views: Annotated[str, typer.Option(help="Comma-separated trainer views to publish as configs.")] = "sft,preference,prm,rl-prompts",
    license: Annotated[str, typer.Option(help="License id for the card (e.g. cc-by-4.0).")] = "other",
    private: Annotated[bool, typer.Option(help="Create the repo private.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the plan (files, sizes, branch, tag) and upload nothing.")] = False,
) -> None:
    """Push a version and its views to the Hugging Face Hub: one commit to a branch, checked,
    tagged vN, then main. The token comes from HF_TOKEN or `hf auth login`; HF_ENDPOINT picks the Hub."""
    from catalog.hub import publish_hf

    chosen = tuple(v.strip() for v in views.split(",") if v.strip())
    publish_hf(_store(), Ref.parse(ref), repo_id, branch=revision, views=chosen, dry_run=dry_run, license=license,
               private=private, log=out.print)  # fmt: skip


# ---------------------------------------------------------------------------- corpus


@corpus_app.command("build")
def corpus_build(
    name: Annotated[str, typer.Argument(help="Corpus dataset name, e.g. world10k.")],
    size: Annotated[int, typer.Option(help="Pages (= entities) of the generated world.")] = 10_000,
    seed: Annotated[int, typer.Option(help="World seed: same size and seed, same bytes.")] = 0,
    dense: Annotated[bool, typer.Option(help="Also build a dense (hashed-embedding FAISS) index.")] = False,
) -> None:
    """Generate a fictional encyclopedia and publish it (documents, facts, entities, indexes)."""
    from stores.corpus import publish_corpus
    from synth.research.world import Generated, WorldSpec

    store = _store()
    info = publish_corpus(store, name, Generated(WorldSpec(size=size, seed=seed)), dense=dense)
    Catalog(store).sync()
    _corpus_summary(info)


@corpus_app.command("import")
def corpus_import(
    name: Annotated[str, typer.Argument(help="Corpus dataset name.")],
    path: Annotated[Path, typer.Argument(help="Parquet or JSONL file with docid, url, title, text.")],
    dense: Annotated[bool, typer.Option(help="Also build a dense (hashed-embedding FAISS) index.")] = False,
) -> None:
    """Import a bring-your-own corpus (streamed) and publish it with its search index."""
    from stores.corpus import Imported, publish_corpus

    store = _store()
    info = publish_corpus(store, name, Imported(str(path)), dense=dense)
    Catalog(store).sync()
    _corpus_summary(info)


@corpus_app.command("show")
def corpus_show(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION or NAME@TAG of a corpus.")],
    search: Annotated[str | None, typer.Option(help="Also run this search and print the results.")] = None,
    topn: Annotated[int, typer.Option(help="Results to print with --search.")] = 5,
) -> None:
    """A corpus version's source, size, fingerprint and build times; optionally a search."""
    from stores.corpus import open_corpus

    store = _store()
    info = store.resolve(ref)
    _corpus_summary(info)
    if search is not None:
        corpus = open_corpus(store, info.ref)
        for rank, (row, score) in enumerate(corpus.search(search, topn), 1):
            out.print(f"[{rank}] {score:.3f} {corpus.docid(row)}  {corpus.title(row)}  {corpus.url(row)}")


def _corpus_summary(info: Any) -> None:
    from stores.corpus import fingerprint_of

    fingerprint_of(info)  # refuses a version that is not a corpus
    meta = info.manifest["params"]["corpus"]
    summary = {"ref": info.ref, "documents": info.rows, "tables": {t: e["rows"] for t, e in info.manifest["tables"].items()},
               "source": meta["source"], "fingerprint": meta["fingerprint"], "dense": meta["dense"],
               "build_seconds": meta["seconds"], "stats": info.manifest["stats"]["content"]}
    out.print_json(json.dumps(summary))
    print(info.ref)


# ---------------------------------------------------------------------------- curation: flows/curate_cli.py

from flows.curate_cli import decontaminate, dedup, index_app, retrieve, undedup  # noqa: E402

app.add_typer(index_app, name="index")
app.command()(retrieve)
app.command()(dedup)
app.command()(undedup)
app.command()(decontaminate)

# ---------------------------------------------------------------------------- scoring: flows/score_cli.py

from flows.score_cli import score, select  # noqa: E402

app.command()(score)
app.command()(select)

# ---------------------------------------------------------------------------- robustness suites: flows/robustness_cli.py

from flows.robustness_cli import robustness  # noqa: E402

app.command()(robustness)

# ---------------------------------------------------------------------------- deployments and the shard cache: flows/deploy_cli.py, flows/cache_cli.py

from flows.cache_cli import cache_app  # noqa: E402
from flows.deploy_cli import deploy, serve  # noqa: E402

app.add_typer(cache_app, name="cache")

app.command()(serve)
app.command()(deploy)

# ---------------------------------------------------------------------------- reward models: flows/rm_cli.py

from flows.rm_cli import rm_app  # noqa: E402

app.add_typer(rm_app, name="rm")


# ---------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run one command in this process; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="trajforge", standalone_mode=False)
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        return 130
    except TyperException as e:  # usage errors: typer's own (vendored) click exceptions
        _usage_error(e)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as e:
        if debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        if debug:
            traceback.print_exc()
        where = f" ({e.filename})" if e.filename else ""
        print(f"error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except Exception as e:
        if debug:
            traceback.print_exc()
        print(f"internal error (a bug in trajforge, please report it): {type(e).__name__}: {e}. "
              "Run again with --debug for the traceback.", file=sys.stderr)
        return 1
    return 0


def _usage_error(e: TyperException) -> None:
    """The usage line and one sentence, like `git` and `cargo`; not click's boxed banner."""
    ctx = getattr(e, "ctx", None)
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
    message = e.format_message().strip()
    if not message.endswith((".", "?", ")")):
        message += "."
    help_hint = f" See '{ctx.command_path} --help'." if ctx is not None else ""
    print(f"error: {message}{help_hint}", file=sys.stderr)


def entry() -> None:
    """The ``trajforge`` console script: ``run`` goes through the supervisor, so that neither a
    crash nor a ``kill -9`` of this process leaves Prefect's server or a worker behind."""
    from flows.supervise import needs_supervisor, supervise, watch_supervisor

    argv = sys.argv[1:]
    if watch_supervisor():
        sys.exit(main(argv))
    if needs_supervisor(argv):
        sys.exit(supervise(argv))
    sys.exit(main(argv))


if __name__ == "__main__":
    entry()
