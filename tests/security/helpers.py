"""What every security test checks after a refused operation: the store is byte-for-byte as
it was (every file's bytes and every folder, nothing added, nothing removed)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.catalog import Catalog
from stores.store import Store
from tests.factories import make_table

TRAJFORGE = str(Path(sys.executable).with_name("trajforge"))


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> sha256 of the bytes (or 'dir') for everything under ``root``."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            found[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            path = os.path.join(dirpath, f)
            found[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def published_store(root: Path) -> Store:
    """Two datasets, three versions with lineage and a tag, registered in the catalog."""
    store = Store(root)
    store.publish("demo", make_table(30, seed=1), tags=["stable"])
    store.publish("demo", make_table(20, seed=2), parents=[{"ref": "demo@v1", "role": "filter"}])
    store.publish("other", make_table(10, seed=3))
    Catalog(store).sync()
    return store


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    return subprocess.run([TRAJFORGE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "400", **(env or {})})


@contextlib.contextmanager
def read_only_mount(root: Path, at: Path) -> Iterator[Path]:
    """``root`` seen through a read-only bind mount at ``at`` (the test is skipped where the
    machine does not allow mounts)."""
    at.mkdir()
    if subprocess.run(["mount", "--bind", str(root), str(at)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(at)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield at
    finally:
        subprocess.run(["umount", str(at)], capture_output=True)
