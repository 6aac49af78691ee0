"""The code version recorded in manifests and provenance.

Package version plus a hash of the package sources, so two runs of different code never
share a code version even when nobody bumped the version number (the Bespoke Curator lesson:
cache keys and lineage must include the code, not only the config).
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

_PACKAGES = ("synth", "filters", "stores", "catalog", "flows")


@functools.cache
def code_version() -> str:
    try:
        version = metadata.version("trajforge")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+src.{source_digest(_PACKAGES)}"


@functools.cache
def source_digest(paths: tuple[str, ...]) -> str:
    """A hash of the Python sources under ``paths`` (packages or single modules, relative to the
    repository): the code part of a stage's cache key, so editing the scorers does not throw
    away cached synthesis shards, while editing a generator does."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for rel in paths:
        target = root / rel
        files = [target] if target.is_file() else sorted(target.rglob("*.py"))
        if not files or not all(f.is_file() for f in files):
            raise FileNotFoundError(f"source_digest: {rel} is neither a module nor a package under {root}")
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
