"""Immutable, versioned Parquet datasets with an atomic commit.

Layout under the store root::

    datasets/<name>/versions/v<N>/manifest.json        the commit record (written last)
                                  data/part-00000.parquet   trajectories, zstd, bounded row groups
                                  blobs/part-00000.parquet  content-addressed images
                                  index/...                 optional (FAISS indexes, ...)
    datasets/<name>/tags.json                           user tags -> version ('latest' is derived)
    datasets/<name>/_staging/<pid>-<uuid>/              work in progress, never read

Commit protocol (the Delta/Lance idea reduced to one rename): every file of a new version is
written and fsynced inside a private staging folder; then, holding the dataset's lock, the
publisher picks the next number, writes the manifest, and renames the folder to ``v<N>``.
A rename is atomic, so a reader sees either no ``v<N>`` or all of it; a crash leaves only a
staging folder, which readers never look at and the next publisher removes. ``latest`` is
computed from the folder names rather than stored, so it can never point at a torn version.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from stores.codeversion import code_version
from stores.docs import DOCS_SCHEMA, docs_stats, validate_docs
from stores.models import METRICS_SCHEMA, check_model_files, metrics_stats, validate_metrics
from stores.names import LATEST, Ref, check_name, check_tag, version_number
from stores.schema import (
    BLOB_SCHEMA,
    SCHEMA_VERSION,
    TRAJECTORY_SCHEMA,
    validate_blobs,
    validate_table,
)
from stores.stats import table_stats

FORMAT = "trajforge.dataset"
FORMAT_VERSION = "1.0"  # major.minor: readers refuse a newer major, accept any minor
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024  # in-memory Arrow bytes per shard file
DEFAULT_ROW_GROUP_ROWS = 1024  # bounded so nested list columns read back without 2 GiB chunks
BLOB_ROW_GROUP_ROWS = 64


class StoreError(Exception):
    """A store operation failed; the message says what and how to fix it."""


class NotFoundError(StoreError):
    pass


class FormatVersionError(StoreError):
    pass


@dataclass(frozen=True)
class Content:
    """What a version's main table holds: ``trajectories`` (the default), a ``corpus``
    (documents, with its facts and indexes beside them) or a trained ``model`` (its metrics,
    with weights, config and tokenizer as files). Each kind has its own schema check, files
    check and manifest statistics; the commit protocol is the same for all."""

    main: str  # name of the main table (its shards go to data/)
    schema: pa.Schema
    validate: Callable[[pa.Table], None]
    stats: Callable[[pa.Table], dict[str, Any]]
    check_files: Callable[[Mapping[str, bytes] | None], None] = lambda files: None


CONTENTS = {
    "trajectories": Content("trajectories", TRAJECTORY_SCHEMA, validate_table, table_stats),
    "corpus": Content("docs", DOCS_SCHEMA, validate_docs, docs_stats),
    "model": Content("metrics", METRICS_SCHEMA, validate_metrics, metrics_stats, check_model_files),
}
_READ_SCHEMAS = {"trajectories": TRAJECTORY_SCHEMA, "blobs": BLOB_SCHEMA, "docs": DOCS_SCHEMA,
                 "metrics": METRICS_SCHEMA}


class BrokenVersionError(StoreError):
    """A committed version whose manifest cannot be read (damaged, truncated, hand-edited)."""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str = ""  # of manifest.json's bytes: recorded in the catalog and in children's lineage

    @property
    def number(self) -> int:
        return int(self.version[1:])

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def kind(self) -> str:
        """``trajectories``, ``corpus`` or ``model`` (manifests written before kinds existed: trajectories)."""
        return self.manifest.get("kind", "trajectories")

    @property
    def main_table(self) -> str:
        return CONTENTS[self.kind].main

    @property
    def rows(self) -> int:
        return self.manifest["tables"][self.main_table]["rows"]


@dataclass(frozen=True)
class BrokenVersion:
    """A version folder whose manifest could not be read; listings show it beside the others."""

    name: str
    version: str
    path: Path
    error: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Diff:
    added: int
    removed: int
    unchanged: int


def default_root() -> Path:
    return Path(os.environ.get("TRAJFORGE_HOME", "./trajforge-data"))


class Store:
    def __init__(self, root: str | os.PathLike[str] | None = None):
        if root is not None and "://" in str(root):  # checked before Path() folds "//" into "/"
            raise StoreError(
                f"store root {root}: only local folders are supported so far (the commit "
                "relies on an atomic rename and a file lock). Use a local path."
            )
        root = Path(root) if root is not None else default_root()
        if root.exists() and not root.is_dir():
            raise StoreError(
                f"store root {root} is a file, not a folder; point --store or TRAJFORGE_HOME at a folder "
                "(it is created if missing)"
            )
        self.root = root

    # ------------------------------------------------------------------ paths

    def _dataset_dir(self, name: str) -> Path:
        return self.root / "datasets" / check_name(name)

    def _versions_dir(self, name: str) -> Path:
        return self._dataset_dir(name) / "versions"

    # ------------------------------------------------------------------ listing

    def datasets(self) -> list[str]:
        base = self.root / "datasets"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and self._version_numbers(p.name))

    def _version_numbers(self, name: str) -> list[int]:
        vdir = self._versions_dir(name)
        if not vdir.is_dir():
            return []
        numbers = (version_number(p.name) for p in vdir.iterdir())
        return sorted(n for n in numbers if n is not None)

    def version_ids(self, name: str) -> list[str]:
        """Committed versions of ``name`` (``v1``, ``v2``, ...) from a directory listing alone."""
        return [f"v{n}" for n in self._version_numbers(name)]

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``; a version whose manifest is unreadable raises
        :class:`BrokenVersionError` (listings that must go on use :meth:`scan`)."""
        numbers = self._version_numbers(name)
        if not numbers:
            raise NotFoundError(f"dataset {name!r} does not exist in {self.root}; known datasets: {self.datasets()}")
        return [self._info(name, f"v{n}") for n in numbers]

    def scan(self, name: str) -> list[VersionInfo | BrokenVersion]:
        """Every version of ``name``, a broken one reported in its place instead of raising."""
        return [self.scan_one(name, f"v{n}") for n in self._version_numbers(name)]

    def scan_one(self, name: str, version: str) -> VersionInfo | BrokenVersion:
        try:
            return self._info(name, version)
        except StoreError as e:
            return BrokenVersion(name, version, self._versions_dir(name) / version, str(e))

    def tags(self, name: str) -> dict[str, str]:
        tags = self._user_tags(name)
        numbers = self._version_numbers(name)
        if numbers:
            tags[LATEST] = f"v{numbers[-1]}"
        return tags

    def resolve(self, ref: str | Ref) -> VersionInfo:
        ref = Ref.parse(ref) if isinstance(ref, str) else ref
        numbers = self._version_numbers(ref.name)
        if not numbers:
            raise NotFoundError(
                f"dataset {ref.name!r} does not exist in store {self.root}; known datasets: {self.datasets() or 'none'}"
            )
        version = ref.ref if version_number(ref.ref) is not None else self.tags(ref.name).get(ref.ref)
        if version is None or version_number(version) not in numbers:
            raise NotFoundError(
                f"{ref} does not exist: {ref.name} has versions {', '.join(f'v{n}' for n in numbers)} "
                f"and tags {', '.join(sorted(self.tags(ref.name)))}"
            )
        return self._info(ref.name, version)

    def _info(self, name: str, version: str) -> VersionInfo:
        path = self._versions_dir(name) / version
        where = path / "manifest.json"
        try:
            data = where.read_bytes()
            manifest = json.loads(data)
        except (OSError, ValueError) as e:
            raise BrokenVersionError(
                f"{name}@{version}: its manifest {where} cannot be read ({e}); the version is damaged. "
                "Restore the file from a backup, or remove the version folder and publish again."
            ) from None
        if not isinstance(manifest, dict):
            raise BrokenVersionError(f"{name}@{version}: {where} holds {type(manifest).__name__}, not a manifest")
        check_format(manifest, path)
        try:
            _check_manifest_shape(manifest)
        except (KeyError, TypeError, ValueError) as e:
            raise BrokenVersionError(f"{name}@{version}: {where} is not a complete manifest ({e!r} is missing "
                                     "or malformed); the version is damaged") from None
        return VersionInfo(name, version, path, manifest, hashlib.sha256(data).hexdigest())

    # ------------------------------------------------------------------ reading

    def shard_paths(self, ref: str | Ref | VersionInfo, table: str | None = None) -> list[Path]:
        """The Parquet files of ``table`` (default: the version's main table), each checked
        against the manifest before anyone reads it: inside the version folder, the size the
        manifest recorded and the row count in its Parquet footer. Full hashes stay in
        :meth:`verify`; this costs one footer read per file."""
        info = ref if isinstance(ref, VersionInfo) else self.resolve(ref)
        table = table or info.main_table
        entry = info.manifest["tables"].get(table)
        if entry is None:
            raise NotFoundError(f"{info.ref} has no table {table!r}; it has {sorted(info.manifest['tables'])}")
        paths = []
        for shard in entry["shards"]:
            member_path(info, shard["path"])  # a path leaving the folder is a damaged manifest, said as such
            problem = _shard_problem(info, shard, footer=True)
            if problem:
                raise DamagedVersionError(
                    f"{info.ref}: {problem}. The file no longer matches the manifest written when the version "
                    f"was committed, so nothing was read. Run `trajforge datasets verify {info.ref}`, then restore "
                    "the file or publish the data again as a new version."
                )
            paths.append(member_path(info, shard["path"]))
        return paths

    def file_path(self, ref: str | Ref | VersionInfo, rel: str) -> Path:
        """A file the version carries (``files=`` at publish), checked against its manifest
        entry (inside the folder, present, its size; ``verify`` checks the hash)."""
        info = ref if isinstance(ref, VersionInfo) else self.resolve(ref)
        entry = next((f for f in info.manifest.get("files", []) if f["path"] == rel), None)
        if entry is None:
            raise NotFoundError(f"{info.ref} has no file {rel!r}; it has "
                                f"{[f['path'] for f in info.manifest.get('files', [])]}")
        problem = _shard_problem(info, entry, footer=False)
        if problem:
            raise DamagedVersionError(f"{info.ref}: {problem}. Run `trajforge datasets verify {info.ref}`.")
        return member_path(info, rel)

    def read(
        self, ref: str | Ref | VersionInfo, columns: list[str] | None = None, table: str | None = None
    ) -> pa.Table:
        """A table of a version (default: its main table, ``trajectories`` or ``docs``)."""
        info = ref if isinstance(ref, VersionInfo) else self.resolve(ref)
        table = table or info.main_table
        schema = _READ_SCHEMAS.get(table)
        paths = self.shard_paths(info, table)
        if not paths:
            if schema is None:
                raise NotFoundError(f"{info.ref} table {table!r} has no rows and no fixed schema")
            empty = schema.empty_table()
            return empty.select(columns) if columns else empty
        try:
            return pq.ParquetDataset([str(p) for p in paths], schema=schema).read(columns=columns)
        except (OSError, pa.ArrowInvalid) as e:
            raise DamagedVersionError(
                f"cannot read {info.ref} ({table}): {e}. Run `trajforge datasets verify {info.ref}`."
            ) from e

    def read_polars(self, ref: str | Ref | VersionInfo, columns: list[str] | None = None) -> pl.DataFrame:
        return pl.from_arrow(self.read(ref, columns))

    def diff(self, a: str | Ref, b: str | Ref) -> Diff:
        ids_a = set(self.read(a, ["id"])["id"].to_pylist())
        ids_b = set(self.read(b, ["id"])["id"].to_pylist())
        return Diff(added=len(ids_b - ids_a), removed=len(ids_a - ids_b), unchanged=len(ids_a & ids_b))

    def verify(self, ref: str | Ref) -> list[str]:
        """Check a version against its manifest and the manifest against what others recorded
        of it; return the problems found.

        Every file: inside the version folder, present, its size and sha256; every Parquet shard
        also its footer row count, and each table's rows the sum of its shards'. The manifest
        itself: its sha256 against the digest each child version recorded in its lineage
        (the catalog's copy is compared by ``catalog.verify_version``)."""
        info = self.resolve(ref)
        problems = []
        for entry in _manifest_files(info.manifest):
            problem = _shard_problem(info, entry, footer="rows" in entry, full_hash=True)
            if problem:
                problems.append(problem)
        for table, t in info.manifest["tables"].items():
            total = sum(s["rows"] for s in t["shards"])
            if t["rows"] != total:
                problems.append(f"table {table}: the manifest says {t['rows']} rows but its shards hold {total}")
        for child, recorded in self.recorded_digests(info):
            if recorded != info.manifest_sha256:
                problems.append(
                    f"manifest.json: its sha256 {info.manifest_sha256[:12]}... differs from the "
                    f"{recorded[:12]}... that {child} recorded when it named {info.ref} as a parent "
                    "(the manifest was changed after the commit)"
                )
        return problems

    def recorded_digests(self, info: VersionInfo) -> list[tuple[str, str]]:
        """(child ref, manifest sha256) for every version whose lineage names ``info``."""
        found = []
        for name in self.datasets():
            for child in self.scan(name):
                if isinstance(child, BrokenVersion):
                    continue
                for p in child.manifest["parents"]:
                    if (p.get("dataset"), p.get("version")) == (info.name, info.version) and p.get("manifest_sha256"):
                        found.append((child.ref, p["manifest_sha256"]))
        return found

    # ------------------------------------------------------------------ tags

    def tag(self, ref: str | Ref, tag: str) -> VersionInfo:
        info = self.resolve(ref)
        check_tag(tag)
        with self._lock(info.name):
            tags = self._user_tags(info.name)
            tags[tag] = info.version
            self._write_tags(info.name, tags)
        return info

    def untag(self, name: str, tag: str) -> None:
        check_tag(tag)
        with self._lock(name):
            tags = self._user_tags(name)
            if tags.pop(tag, None) is None:
                raise NotFoundError(f"{name} has no tag {tag!r}")
            self._write_tags(name, tags)

    def _user_tags(self, name: str) -> dict[str, str]:
        path = self._dataset_dir(name) / "tags.json"
        if not path.exists():
            return {}
        try:
            tags = json.loads(path.read_bytes())
        except (OSError, ValueError) as e:
            raise StoreError(f"{path} cannot be read ({e}); fix or remove it (`latest` and versions still work)") from None
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise StoreError(f"{path} must map tag names to versions, e.g. {{\"stable\": \"v1\"}}")
        return tags

    def _write_tags(self, name: str, tags: dict[str, str]) -> None:
        _atomic_write(self._dataset_dir(name) / "tags.json", json.dumps(tags, indent=2, sort_keys=True).encode())

    # ------------------------------------------------------------------ publishing

    def publish(
        self,
        name: str,
        trajectories: pa.Table,
        *,
        blobs: pa.Table | None = None,
        parents: list[Mapping[str, str]] | None = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, bytes] | None = None,
        tags: list[str] | None = None,
        shard_bytes: int = DEFAULT_SHARD_BYTES,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        schema_kind: str = "trajectories",
        tables: Mapping[str, pa.Table] | None = None,
    ) -> VersionInfo:
        """Write a new immutable version of ``name``; return it once committed.

        ``trajectories`` is the main table: trajectory rows, or with ``schema_kind="corpus"``
        the documents of a corpus (:mod:`stores.docs`). ``tables`` are further named tables
        stored as Parquet shards beside it (a corpus's facts and entities).
        ``parents`` are ``{"ref": "name@vN", "role": "..."}`` lineage edges; each must resolve.
        ``files`` are extra artefacts (indexes) stored under the version, hashed in the manifest.
        Everything is checked before the first byte is written, so bad input changes nothing.
        """
        check_name(name)
        for tag in tags or []:
            check_tag(tag)
        content = CONTENTS.get(schema_kind)
        if content is None:
            raise StoreError(f"unknown schema_kind {schema_kind!r}; a version holds one of {sorted(CONTENTS)}")
        content.validate(trajectories)
        content.check_files(files)
        if blobs is not None and schema_kind != "trajectories":
            raise StoreError(f"blobs belong to trajectory versions, not to a {schema_kind} version")
        blobs = BLOB_SCHEMA.empty_table() if blobs is None else blobs
        validate_blobs(blobs)
        extra_tables = dict(tables or {})
        for table_name in extra_tables:
            check_name(table_name, "table name")
            if table_name in (content.main, "blobs", "data", "index", "retrieval"):
                raise StoreError(f"table name {table_name!r} is reserved; name extra tables otherwise")
        edges = [self._parent_edge(p) for p in parents or []]
        params = dict(params or {})
        try:
            params_json = json.loads(json.dumps(params, sort_keys=True, allow_nan=False))
        except (TypeError, ValueError) as e:
            raise StoreError(f"publish params must be JSON-serialisable: {e}") from e
        for rel in files or {}:
            reserved = ("/", "data/", "blobs/", *(f"{t}/" for t in extra_tables))
            if rel.startswith(reserved) or ".." in rel or rel == "manifest.json":
                raise StoreError(f"extra file path {rel!r} must be relative and outside data/, blobs/, "
                                 "the extra tables' folders and manifest.json")
        if shard_bytes <= 0 or row_group_rows <= 0:
            raise StoreError("shard_bytes and row_group_rows must be positive")

        staging = self.check_writable(name)
        self._clean_staging(name, keep=staging)
        try:
            tables = {content.main: _write_shards(staging, "data", trajectories, shard_bytes, row_group_rows)}
            if schema_kind == "trajectories":
                tables["blobs"] = _write_shards(staging, "blobs", blobs, shard_bytes, BLOB_ROW_GROUP_ROWS)
            for table_name, table in sorted(extra_tables.items()):
                tables[table_name] = _write_shards(staging, table_name, table, shard_bytes, row_group_rows)
            extra = []
            for rel, data in sorted((files or {}).items()):
                extra.append(_write_file(staging / rel, data, rel))
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_version": SCHEMA_VERSION,
                "kind": schema_kind,
                "dataset": name,
                "version": None,  # set under the lock
                "created_at": datetime.now(UTC).isoformat(),
                "code_version": code_version(),
                "schema": {f.name: str(f.type) for f in content.schema},
                "tables": tables,
                "files": extra,
                "stats": content.stats(trajectories),
                "parents": edges,
                "params": params_json,
                "tags": sorted(tags or []),
            }
            with self._lock(name):
                versions_dir = self._versions_dir(name)
                versions_dir.mkdir(exist_ok=True)
                number = max(self._version_numbers(name), default=0) + 1
                while True:  # the lock makes one pass enough; the loop guards a foreign writer
                    manifest["version"] = f"v{number}"
                    _write_file(staging / "manifest.json", json.dumps(manifest, indent=2).encode(), "manifest.json")
                    fsync_path(staging)
                    try:
                        os.rename(staging, versions_dir / f"v{number}")
                        break
                    except OSError:
                        if not (versions_dir / f"v{number}").exists():
                            raise
                        number += 1
                fsync_path(versions_dir)
                if tags:
                    user_tags = self._user_tags(name)
                    user_tags.update({t: f"v{number}" for t in tags})
                    self._write_tags(name, user_tags)
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"cannot publish {name} to store {self.root}: {e.strerror or e} "
                             f"({e.filename or 'writing the version'}); nothing was committed") from e
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self._info(name, f"v{number}")

    def check_writable(self, name: str, keep: bool = True) -> Path:
        """A new, empty staging folder of dataset ``name``, proving the store takes writes; a
        read-only or full store fails here with one clear message, before any work is done.
        With ``keep`` the caller owns the folder (``publish`` fills it); without it (a
        pre-flight check) the folder, and any parent this call created, is removed again."""
        staging = self._dataset_dir(name) / "_staging" / f"{os.getpid()}-{uuid.uuid4().hex}"
        created = [p for p in (staging.parent.parent, staging.parent) if not p.exists()]
        try:
            staging.mkdir(parents=True)
            probe = staging / ".probe"
            with open(probe, "wb") as fh:
                fh.write(b"0" * 4096)
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(
                f"store {self.root} does not take writes ({e.strerror or e}: {e.filename or staging}); "
                "publishing needs a writable store: point --store or TRAJFORGE_HOME at one, or free space"
            ) from None
        if not keep:
            staging.rmdir()
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        return staging

    def _parent_edge(self, parent: Mapping[str, str]) -> dict[str, str]:
        """A lineage edge, with the parent's manifest digest so that a later change to the
        parent's manifest is caught by ``verify``."""
        info = self.resolve(parent["ref"])
        return {"dataset": info.name, "version": info.version, "role": parent.get("role", "parent"),
                "manifest_sha256": info.manifest_sha256}

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        path = self._dataset_dir(name)
        try:
            path.mkdir(parents=True, exist_ok=True)
            fh = open(path / ".lock", "a+b")  # noqa: SIM115 - closed by the with below
        except OSError as e:
            raise StoreError(f"store {self.root} does not take writes ({e.strerror}: {e.filename}); "
                             "tags and versions need a writable store") from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _clean_staging(self, name: str, keep: Path) -> None:
        """Remove staging folders whose publisher process is gone (crash leftovers)."""
        for path in (self._dataset_dir(name) / "_staging").iterdir():
            pid = path.name.split("-", 1)[0]
            if path != keep and pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def check_format(manifest: Mapping[str, Any], where: Path | str) -> None:
    if manifest.get("format") != FORMAT:
        raise FormatVersionError(f"{where}: not a trajforge dataset manifest (format={manifest.get('format')!r})")
    major = int(str(manifest.get("format_version", "0")).split(".")[0])
    if major > int(FORMAT_VERSION.split(".")[0]):
        raise FormatVersionError(
            f"{where} was written in dataset format {manifest['format_version']}, newer than this trajforge "
            f"reads ({FORMAT_VERSION}); upgrade trajforge to read it"
        )


def _manifest_files(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for t in manifest["tables"].values() for s in t["shards"]] + list(manifest.get("files", []))


def _check_manifest_shape(manifest: Mapping[str, Any]) -> None:
    """The fields every reader relies on, with their types: a damaged manifest is reported as
    such here instead of as a KeyError deep in some command."""
    for table, entry in manifest["tables"].items():
        if not isinstance(table, str) or not isinstance(entry["rows"], int):
            raise ValueError(f"tables.{table}")
        for shard in entry["shards"]:
            _check_file_entry(shard, rows=True)
    for entry in manifest.get("files", []):
        _check_file_entry(entry, rows=False)
    for parent in manifest["parents"]:
        if not isinstance(parent["dataset"], str) or not isinstance(parent["version"], str):
            raise ValueError("parents")
    if not isinstance(manifest["params"], dict) or not isinstance(manifest["stats"], dict):
        raise ValueError("params/stats")


def _check_file_entry(entry: Mapping[str, Any], rows: bool) -> None:
    if not isinstance(entry["path"], str) or not isinstance(entry["bytes"], int) or not isinstance(entry["sha256"], str):
        raise ValueError("path/bytes/sha256")
    if rows and not isinstance(entry["rows"], int):
        raise ValueError("rows")


class DamagedVersionError(StoreError):
    """A version's files no longer match its manifest (replaced, truncated, missing)."""


def member_path(info: VersionInfo, rel: str) -> Path:
    """``rel`` inside ``info``'s folder; a manifest path that leaves it (absolute, ``..``, a
    symlink out) is refused, whatever its recorded hash says."""
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
        raise DamagedVersionError(f"{info.ref}: manifest path {rel!r} leaves the version folder; the manifest is damaged")
    path = info.path / rel
    base = info.path.resolve()
    if not path.resolve().is_relative_to(base):
        raise DamagedVersionError(f"{info.ref}: {rel} resolves outside the version folder (a symlink); refused")
    return path


def _shard_problem(info: VersionInfo, entry: Mapping[str, Any], *, footer: bool, full_hash: bool = False) -> str | None:
    """What is wrong with one file of a version, or None: confinement, presence, size, the
    Parquet footer's row count when ``footer``, the sha256 when ``full_hash``."""
    rel = entry["path"]
    try:
        path = member_path(info, rel)
    except DamagedVersionError as e:
        return str(e).removeprefix(f"{info.ref}: ")
    if not path.is_file():
        return f"{rel}: missing"
    size = path.stat().st_size
    if size != entry["bytes"]:
        return f"{rel}: {size} bytes, the manifest says {entry['bytes']}"
    if full_hash and _sha256(path) != entry["sha256"]:
        return f"{rel}: sha256 differs from the manifest (corrupted)"
    if footer:
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowInvalid) as e:
            return f"{rel}: not a readable Parquet file ({str(e).strip()})"
        if rows != entry["rows"]:
            return f"{rel}: {rows} rows in its Parquet footer, the manifest says {entry['rows']}"
    return None


def _write_shards(staging: Path, folder: str, table: pa.Table, shard_bytes: int, row_group_rows: int) -> dict[str, Any]:
    (staging / folder).mkdir()
    rows_per_shard = max(1, int(shard_bytes // max(1, table.nbytes / max(1, table.num_rows))))
    shards = []
    for i, start in enumerate(range(0, table.num_rows, rows_per_shard)):
        rel = f"{folder}/part-{i:05d}.parquet"
        chunk = table.slice(start, rows_per_shard)
        pq.write_table(chunk, staging / rel, compression="zstd", row_group_size=row_group_rows)
        shards.append({**_durable(staging / rel, rel), "rows": chunk.num_rows})
    return {"rows": table.num_rows, "shards": shards}


def _write_file(path: Path, data: bytes, rel: str) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _durable(path, rel)


def _durable(path: Path, rel: str) -> dict[str, Any]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return {"path": rel, "bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so a rename inside it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
