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
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{version}+src.{digest.hexdigest()[:12]}"
