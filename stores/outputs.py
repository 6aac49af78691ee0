"""Where a command may write its own output: never inside a store, and over an existing path
only when a previous export wrote it.

A store changes only through its commit path (``Store.publish``, tags, the catalog). An
export that wrote into ``<store>/datasets/demo/versions/v1`` with ``--overwrite`` would delete
a committed version; one aimed at a folder holding a store would delete every dataset. So:

- an output path inside a store root, or a folder holding one, is refused;
- an existing output is replaced only with ``overwrite`` *and* only if trajforge wrote it:
  an export folder carries :data:`EXPORT_MARKER`, an export file carries
  :data:`EXPORT_METADATA_KEY` in its Parquet metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stores.store import Store, StoreError

EXPORT_MARKER = ".trajforge-export.json"
EXPORT_METADATA_KEY = b"trajforge.export"


class OutputPathError(StoreError):
    """An output path a command must not write."""


def check_output_dir(store: Store, path: str | os.PathLike[str], overwrite: bool) -> Path:
    """``path`` as a folder this command may create or, with ``overwrite``, replace."""
    out = Path(path)
    _outside_store(store, out)
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"{out} is a file; an export writes a folder: choose a folder path")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputPathError(f"{out} exists and is not empty; choose another folder or pass --overwrite")
        if not (out / EXPORT_MARKER).is_file():
            raise OutputPathError(
                f"{out} was not written by a trajforge export (it has no {EXPORT_MARKER}), so --overwrite will "
                "not delete it; choose another folder or empty this one yourself"
            )
        _holds_no_store(out)
    return out


def check_output_file(store: Store, path: str | os.PathLike[str], overwrite: bool,
                      written_by_us: Callable[[Path], bool] | None = None) -> Path:  # fmt: skip
    """``path`` as a file this command may create or, with ``overwrite``, replace.

    ``written_by_us`` tells an earlier output of this command (default: a Parquet export
    carrying :data:`EXPORT_METADATA_KEY`); other files are never replaced."""
    out = Path(path)
    _outside_store(store, out)
    if out.is_dir():
        raise OutputPathError(f"{out} is a folder; give the path of the file to write, e.g. {out / 'out.parquet'}")
    if out.exists():
        if not overwrite:
            raise OutputPathError(f"{out} exists; pass --overwrite to replace it")
        if not (written_by_us or _is_export_file)(out):
            raise OutputPathError(
                f"{out} was not written by a trajforge export, so --overwrite will not replace it; choose another path"
            )
    return out


def check_cache_path(store: Store, path: str | os.PathLike[str]) -> Path:
    """A cache file (the LLM request cache): inside the store only under ``<store>/_cache/``,
    never inside another store; it is reused across runs, so an existing file is fine."""
    out = Path(path)
    target, root = out.resolve(), store.root.resolve()
    if target.is_relative_to(root):
        if not target.is_relative_to(root / "_cache"):
            raise OutputPathError(f"cache {out} is inside the store {store.root} but outside its _cache/ folder; "
                                  "leave llm.cache unset (the default is <store>/_cache/llm.sqlite) or put it elsewhere")
        return out
    for parent in target.parents:
        if _is_store_root(parent):
            raise OutputPathError(f"cache {out} is inside the trajforge store {parent}; put it elsewhere")
    if out.is_dir():
        raise OutputPathError(f"cache {out} is a folder; give a file path such as {out / 'llm.sqlite'}")
    return out


def mark_export_dir(folder: Path, ref: str) -> None:
    (folder / EXPORT_MARKER).write_text(json.dumps({"written_by": "trajforge export", "source": ref}) + "\n")


def export_schema(schema: pa.Schema, ref: str) -> pa.Schema:
    """``schema`` with the metadata that marks a file as a trajforge export of ``ref``."""
    return schema.with_metadata({**(schema.metadata or {}), EXPORT_METADATA_KEY: ref.encode()})


def _is_export_file(path: Path) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False
    return EXPORT_METADATA_KEY in metadata


def _outside_store(store: Store, out: Path) -> None:
    root = store.root.resolve()
    target = out.resolve()
    if target == root or target.is_relative_to(root):
        where = "is the store" if target == root else f"is inside the store {store.root}"
        raise OutputPathError(
            f"{out} {where}; a store changes only through trajforge's own commands. "
            "Write exports elsewhere, e.g. ./out/"
        )
    if root.is_relative_to(target):
        raise OutputPathError(f"{out} holds the store {store.root}; write exports to a folder of their own")
    for parent in [target, *target.parents]:
        if _is_store_root(parent):
            raise OutputPathError(f"{out} is inside the trajforge store {parent}; write exports elsewhere")


def _holds_no_store(folder: Path) -> None:
    for dirpath, dirnames, _ in os.walk(folder):
        if _is_store_root(Path(dirpath)):
            raise OutputPathError(f"{folder} holds a trajforge store ({dirpath}); --overwrite will not delete it")
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]


def _is_store_root(path: Path) -> bool:
    """A folder with a catalog file or a ``datasets/<name>/versions/`` tree."""
    if (path / "catalog.duckdb").is_file():
        return True
    datasets = path / "datasets"
    return datasets.is_dir() and any((d / "versions").is_dir() for d in datasets.iterdir())
