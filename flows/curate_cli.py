"""The curation commands: ``trajforge index build|search|stats``, ``retrieve``, ``dedup``,
``undedup`` and ``decontaminate``. Each reads committed versions and, where it writes, publishes a new one
(or files beside a version, for indexes); bad input fails before anything is written.

Registered on the main app by :mod:`flows.cli`; kept apart so that the curation options do not
crowd the pipeline's commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog.catalog import Catalog
from stores.text_views import DEFAULT_BUDGET

index_app = typer.Typer(help="Build, search and inspect vector indexes of a version (per view and embedder).",
                        no_args_is_help=True)

View = Annotated[str, typer.Option(help="Text view: task, trajectory or step.")]
EmbedderOpt = Annotated[str, typer.Option(help="hashing, hashing-DIM, minilm (packaged, offline) or a model folder.")]
Device = Annotated[str | None, typer.Option(help="Embedder device (cpu, cuda); default: cuda when available.")]


def _store():
    from flows.cli import _store

    return _store()


def _print(payload: dict) -> None:
    from flows.cli import out

    out.print_json(json.dumps(payload))


def _embedder(spec: str, device: str | None):
    from stores.embeddings import make_embedder

    return make_embedder(spec, device=device)


# ---------------------------------------------------------------------------- index


@index_app.command("build")
def index_build(
    ref: Annotated[str, typer.Argument(help="NAME@REF of a trajectory version.")],
    view: View = "trajectory",
    embedder: EmbedderOpt = "hashing",
    kind: Annotated[str, typer.Option(help="auto (flat below 50k rows, IVF above), flat, ivf or hnsw.")] = "auto",
    target_recall: Annotated[float, typer.Option(help="recall@10 the search width is raised to reach.")] = 0.95,
    parent: Annotated[str | None, typer.Option(help="A version this one extends: reuse its index.")] = None,
    budget: Annotated[int, typer.Option(help="Whitespace tokens per text.")] = DEFAULT_BUDGET,
    device: Device = None,
) -> None:
    """Embed a version's texts (cached beside it) and build its index, with measured recall."""
    from stores.derived import index

    store = _store()
    info = store.resolve(ref)
    base = store.resolve(parent) if parent else None
    built = index(store, info, view, _embedder(embedder, device), build=True, kind=kind,
                  target_recall=target_recall, parent=base, budget=budget)
    _print({k: v for k, v in built.metadata().items() if k != "ids"})


@index_app.command("search")
def index_search(
    ref: Annotated[str, typer.Argument(help="NAME@REF with an index for the view and embedder.")],
    text: Annotated[str, typer.Argument(help="The query text.")],
    view: View = "trajectory",
    embedder: EmbedderOpt = "hashing",
    k: Annotated[int, typer.Option(help="Neighbours to print.")] = 10,
    device: Device = None,
) -> None:
    """Nearest rows (or steps) of a version to a text."""
    from stores.derived import index

    if not 1 <= k <= 10_000:
        raise typer.BadParameter("k must lie in 1..10000", param_hint="--k")
    store = _store()
    info = store.resolve(ref)
    e = _embedder(embedder, device)
    found = index(store, info, view, e)
    sims, rows = found.search(e.embed([text]), k)
    hits = [{"rank": r + 1, "id": found.ids[p], "similarity": round(float(s), 4)}
            for r, (s, p) in enumerate(zip(sims[0], rows[0], strict=True)) if p >= 0]
    _print({"ref": info.ref, "view": view, "embedder": e.id, "hits": hits})


@index_app.command("stats")
def index_stats(ref: Annotated[str, typer.Argument(help="NAME@REF of a version.")]) -> None:
    """Every index and embedding cache kept for a version, with its measured recall."""
    from stores.derived import derived_dir
    from stores.vector_index import META_FILE

    store = _store()
    info = store.resolve(ref)
    base = derived_dir(store, info)
    report: dict = {"ref": info.ref, "indexes": [], "embeddings": []}
    stored = info.path / META_FILE  # the pipeline's task index, inside the version
    if stored.exists():
        entry = json.loads(stored.read_text())
        entry.pop("ids", None)
        report["indexes"].append({**entry, "view": entry.get("view", "task"), "stored_in_version": True})
    for what in ("index", "embeddings"):
        for meta in sorted((base / what).glob("*/*.json")) if (base / what).is_dir() else []:
            entry = json.loads(meta.read_text())
            entry.pop("ids", None)
            report["indexes" if what == "index" else what].append(entry)
    _print(report)


# ---------------------------------------------------------------------------- retrieve


def retrieve(
    query: Annotated[str, typer.Option(help="A version (name@v1), ids:a,b,..., a .jsonl/.parquet file, or text.")],
    sources: Annotated[list[str], typer.Option("--from", help="Source versions, name globs or 'all' (repeat).")],
    out_name: Annotated[str, typer.Option("--out", help="Dataset to publish the retrieved rows into.")],
    threshold: Annotated[float | None, typer.Option(help="Keep rows with cosine >= this (in [-1, 1]).")] = None,
    top_k: Annotated[int | None, typer.Option(help="Keep at most this many rows (per group with --per).")] = None,
    per: Annotated[str | None, typer.Option(help="Apply --top-k per 'family' or 'kind'.")] = None,
    scoring: Annotated[str, typer.Option(help="max (nearest query) or mean (of the --score-k nearest).")] = "max",
    score_k: Annotated[int, typer.Option(help="Queries averaged by --scoring mean.")] = 5,
    view: View = "trajectory",
    embedder: EmbedderOpt = "hashing",
    field: Annotated[str, typer.Option(help="Text field of a query file of examples.")] = "text",
    device: Device = None,
) -> None:
    """Behaviour retrieval: publish the prior rows most like the query examples."""
    from stores.names import check_name
    from stores.retrieval import (
        Selection,
        behaviour_retrieval,
        publish_retrieval,
        resolve_query,
        resolve_sources,
    )

    check_name(out_name)
    selection = Selection(threshold, top_k, scoring, score_k, per).check()
    store = _store()
    e = _embedder(embedder, device)
    query_dataset = query.partition("@")[0] if "@" in query else ""  # 'all' never retrieves the query itself
    infos = resolve_sources(store, sources, exclude=(out_name, query_dataset))
    q, query_info = resolve_query(store, query, infos, view, e, field)
    rows, matches = behaviour_retrieval(store, q, infos, e, selection, view)
    params = {"query": query, "queries": len(q.ids), "view": view, "embedder": e.id, "threshold": threshold,
              "top_k": top_k, "per": per, "scoring": scoring, "score_k": score_k, "rows": rows.num_rows}
    info = publish_retrieval(store, out_name, rows, matches, infos, query_info, params)
    Catalog(store).sync()
    _print({"ref": info.ref, "rows": info.rows, "sources": [i.ref for i in infos],
            "similarity": {"max": float(matches["similarity"][0].as_py()),
                           "min": float(matches["similarity"][-1].as_py())}})
    print(info.ref)


# ---------------------------------------------------------------------------- dedup


def dedup(
    sources: Annotated[list[str], typer.Option("--from", help="Versions to deduplicate together (repeat).")],
    out_name: Annotated[str, typer.Option("--out", help="Dataset to publish the kept rows into.")],
    method: Annotated[str, typer.Option(help="exact, normalised, minhash or semantic.")] = "minhash",
    view: Annotated[str, typer.Option(help="Text view: task or trajectory.")] = "trajectory",
    score_key: Annotated[str, typer.Option(help="Score that picks the member kept ('' keeps the first).")] = "verifier",
    mask_numbers: Annotated[bool, typer.Option(help="normalised: numbers compare equal.")] = False,
    ngram: Annotated[int, typer.Option(help="minhash: words per n-gram.")] = 3,
    num_perm: Annotated[int, typer.Option(help="minhash: permutations.")] = 128,
    jaccard: Annotated[float, typer.Option(help="minhash: Jaccard threshold.")] = 0.7,
    threshold: Annotated[float, typer.Option(help="semantic: cosine threshold.")] = 0.95,
    clusters: Annotated[int | None, typer.Option(help="semantic: k-means clusters (default sqrt(rows)).")] = None,
    embedder: EmbedderOpt = "hashing",
    device: Device = None,
) -> None:
    """Drop duplicates and publish the rest, with dedup/removed.parquet explaining each drop."""
    from filters.dedup import dedup_versions
    from filters.minhash import MinHashSettings
    from stores.names import check_name
    from stores.retrieval import resolve_sources

    check_name(out_name)
    store = _store()
    infos = resolve_sources(store, sources, exclude=(out_name,))
    settings = MinHashSettings(ngram, num_perm, jaccard).check()
    info, result = dedup_versions(
        store, infos, out_name, method, view=view, score_key=score_key or None, mask_numbers=mask_numbers,
        minhash=settings, embedder=_embedder(embedder, device) if method == "semantic" else None,
        threshold=threshold, clusters=clusters)
    Catalog(store).sync()
    by_method: dict[str, int] = {}
    for m in result.removed["method"].to_pylist():
        by_method[m] = by_method.get(m, 0) + 1
    _print({"ref": info.ref, "rows": info.rows, "removed": by_method, "sources": [i.ref for i in infos]})
    print(info.ref)


def undedup(
    ref: Annotated[str, typer.Argument(help="NAME@REF of a version `trajforge dedup` published.")],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Removed id to restore (repeat; default: all).")] = None,
    out_name: Annotated[str | None, typer.Option("--out", help="Dataset to publish into (default: REF's).")] = None,
) -> None:
    """Undo a dedup: publish its kept rows plus removed ones, read back from their sources."""
    from filters.dedup import undo_dedup
    from stores.names import check_name

    if out_name:
        check_name(out_name)
    store = _store()
    info, restored = undo_dedup(store, store.resolve(ref), ids or None, out_name)
    Catalog(store).sync()
    _print({"ref": info.ref, "rows": info.rows, "restored": restored.num_rows, "of": ref})
    print(info.ref)


# ---------------------------------------------------------------------------- decontaminate


def decontaminate(
    sources: Annotated[list[str], typer.Option("--from", help="Versions to decontaminate (repeat).")],
    evals: Annotated[list[str], typer.Option("--eval", help="Evaluation set: .jsonl/.parquet file or version (repeat).")],
    out_name: Annotated[str, typer.Option("--out", help="Dataset to publish the result into.")],
    mode: Annotated[str, typer.Option(help="remove the flagged rows, or tag them (scores['contamination']).")] = "remove",
    field: Annotated[str, typer.Option(help="Text field of evaluation files.")] = "text",
    ngram: Annotated[int, typer.Option(help="Words per n-gram.")] = 13,
    min_overlap: Annotated[float, typer.Option(help="Share of an item's n-grams a row must hold (0: any).")] = 0.5,
    max_matches: Annotated[int, typer.Option(help="An n-gram in more rows than this is boilerplate.")] = 10,
    embedder: Annotated[str | None, typer.Option(help="Also flag by embedding similarity with this embedder.")] = None,
    threshold: Annotated[float, typer.Option(help="Cosine threshold of the embedding check.")] = 0.9,
    view: Annotated[str, typer.Option(help="Text view checked: task or trajectory.")] = "trajectory",
    device: Device = None,
) -> None:
    """Find training rows that contain evaluation items; remove or tag them, with a report."""
    from filters.decontaminate import DecontamSettings, decontaminate_versions, load_eval_set
    from stores.names import check_name
    from stores.retrieval import resolve_sources

    check_name(out_name)
    store = _store()
    e = _embedder(embedder, device) if embedder else None
    settings = DecontamSettings(ngram=ngram, max_matches=max_matches, min_overlap=min_overlap, embedder=e,
                                threshold=threshold, view=view,
                                methods=("ngram", "embedding") if e is not None else ("ngram",)).check()
    infos = resolve_sources(store, sources, exclude=(out_name,))
    sets = [load_eval_set(store, spec, field) for spec in evals]
    info, matches = decontaminate_versions(store, infos, out_name, sets, settings, mode)
    Catalog(store).sync()
    _print({"ref": info.ref, "rows": info.rows, "flagged": len(set(matches["id"].to_pylist())),
            "matches": matches.num_rows, "eval_sets": [s.source for s in sets]})
    print(info.ref)
