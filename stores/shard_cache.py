"""Finished shards kept in the store's cache area, so that a killed run resumes instead of
starting over.

An entry is keyed by everything its result depends on: the stage, the part of the config the
stage reads (for synthesis: the shard spec, i.e. family, seed, index range, tiers,
difficulties, params), and the code version of the stage's modules
(:func:`stores.codeversion.source_digest`). Same key, same bytes: a hit is as good as
recomputing. Editing a generator changes the key, so stale entries are never served; ``gc``
removes them.

Layout: ``<store>/_cache/shards/<stage>/<key>/`` with one Arrow IPC file per table and
``entry.json`` (the key's inputs, the tables' sha256, rows, metadata). An entry is written in
a temporary folder and renamed into place, so a kill at any point leaves either no entry or a
whole one; a folder whose files no longer match their checksums (a damaged disk, a hand edit)
is reported, removed and recomputed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from stores.schema import PROVENANCE_TYPE, Provenance, canonical_json

ENTRY_FILE = "entry.json"
TMP_PREFIX = ".tmp-"


def cache_root(store_root: str | os.PathLike[str]) -> Path:
    return Path(store_root) / "_cache" / "shards"


@dataclass(frozen=True)
class CacheEntry:
    stage: str
    key: str
    path: Path
    meta: dict[str, Any]

    @property
    def bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())


@dataclass(frozen=True)
class ShardCache:
    """The cache of one store. ``read=False`` (``--fresh``) recomputes every shard and
    overwrites its entry. Picklable, so it travels with a shard to any worker."""

    root: Path
    read: bool = True

    def key(self, stage: str, inputs: Mapping[str, Any], code: str) -> str:
        text = canonical_json({"stage": stage, "inputs": inputs, "code": code})
        return hashlib.sha256(text.encode()).hexdigest()

    def load(self, stage: str, key: str, warn: Callable[[str], None]) -> tuple[dict[str, pa.Table], dict] | None:
        """The entry's tables and metadata, or None (a miss, ``read=False``, or a damaged entry,
        which is removed after ``warn`` names it)."""
        if not self.read:
            return None
        folder = self.root / stage / key
        try:
            meta = orjson.loads((folder / ENTRY_FILE).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as e:
            return self._damaged(folder, f"unreadable {ENTRY_FILE} ({e})", warn)
        tables = {}
        for name, digest in meta.get("files", {}).items():
            path = folder / f"{name}.arrow"
            try:
                data = path.read_bytes()
            except OSError as e:
                return self._damaged(folder, f"{path.name} unreadable ({e})", warn)
            if hashlib.sha256(data).hexdigest() != digest:
                return self._damaged(folder, f"{path.name} fails its checksum", warn)
            tables[name] = pa.ipc.open_file(pa.BufferReader(data)).read_all()
        return tables, meta

    def save(self, stage: str, key: str, tables: Mapping[str, pa.Table], meta: Mapping[str, Any]) -> Path:
        """Write an entry atomically (temporary folder, fsync, rename); replaces an older one."""
        final = self.root / stage / key
        tmp = self.root / stage / f"{TMP_PREFIX}{key[:16]}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            files = {}
            for name, table in tables.items():
                sink = pa.BufferOutputStream()
                with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
                    w.write_table(table)
                data = sink.getvalue().to_pybytes()
                _write_durable(tmp / f"{name}.arrow", data)
                files[name] = hashlib.sha256(data).hexdigest()
            entry = {**meta, "stage": stage, "key": key, "files": files, "created_at": time.time()}
            _write_durable(tmp / ENTRY_FILE, orjson.dumps(entry, option=orjson.OPT_INDENT_2))
            if final.exists():  # --fresh, or a damaged entry: the new one replaces it
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def entries(self) -> list[CacheEntry]:
        out = []
        if not self.root.is_dir():
            return out
        for stage_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for folder in sorted(p for p in stage_dir.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)):
                try:
                    meta = orjson.loads((folder / ENTRY_FILE).read_bytes())
                except (OSError, orjson.JSONDecodeError):
                    meta = {}
                out.append(CacheEntry(stage_dir.name, folder.name, folder, meta))
        return out

    def gc(self, current_codes: Mapping[str, str], everything: bool = False) -> list[Path]:
        """Remove entries no current run can hit (another code version of their stage, or
        unreadable), leftovers of killed writes, or with ``everything`` the whole cache."""
        removed = []
        if not self.root.is_dir():
            return removed
        for stage_dir in (p for p in self.root.iterdir() if p.is_dir()):
            for folder in (p for p in stage_dir.iterdir() if p.is_dir()):
                if folder.name.startswith(TMP_PREFIX):
                    stale = True
                else:
                    try:
                        meta = orjson.loads((folder / ENTRY_FILE).read_bytes())
                        stale = meta.get("code") != current_codes.get(stage_dir.name)
                    except (OSError, orjson.JSONDecodeError):
                        stale = True
                if everything or stale:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
        return removed

    def _damaged(self, folder: Path, why: str, warn: Callable[[str], None]) -> None:
        warn(f"shard cache entry {folder} is damaged ({why}); it is removed and the shard recomputed")
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _write_durable(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def restamp(table: pa.Table, provenance: Provenance) -> pa.Table:
    """Rows from an earlier run with this run's provenance (run id, time, config hash, code
    version); each row keeps its generator and generator version. Everything else, ids
    included, is content and stays as cached."""
    if table.num_rows == 0:
        return table
    old = table["provenance"].combine_chunks()
    n = table.num_rows

    def const(value: Any, type_: pa.DataType) -> pa.Array:
        return pa.array([value] * n, type=type_)

    fields = {
        "generator": pc.struct_field(old, "generator"),
        "generator_version": pc.struct_field(old, "generator_version"),
        "code_version": const(provenance.code_version, pa.string()),
        "config_hash": const(provenance.config_hash, pa.string()),
        "run_id": const(provenance.run_id, pa.string()),
        "created_at": const(provenance.created_at, PROVENANCE_TYPE.field("created_at").type),
    }
    new = pa.StructArray.from_arrays([fields[f.name] for f in PROVENANCE_TYPE], fields=list(PROVENANCE_TYPE))
    return table.set_column(table.schema.get_field_index("provenance"), table.schema.field("provenance"), new)
