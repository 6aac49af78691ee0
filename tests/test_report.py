"""`trajforge report`: one self-contained page (no script, no fetch) whose counts equal a
DuckDB query over the version, with charts, lineage, a diff against the parent and sample
episodes (GUI screenshots with point and box); rendered in headless Chromium when Debian's
`chromium` is installed (skipped otherwise, with the reason)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import duckdb
import pytest

from catalog.report import GROUPS
from flows.cli import main
from stores.store import Store
from tests.factories import make_table
from tests.view_episodes import view_store


class Counts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, int]] = {}
        self.tags: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        a = dict(attrs)
        if "data-count" in a:
            self.found.setdefault(a["data-group"], {})[a["data-key"]] = int(a["data-count"])
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def duckdb_counts(store, ref) -> dict[str, dict[str, int]]:
    paths = [str(p) for p in store.shard_paths(ref)]
    out = {}
    for group, column in GROUPS.items():
        rows = duckdb.execute(f"SELECT CAST({column} AS VARCHAR), count(*) FROM read_parquet(?) GROUP BY ALL", [paths]).fetchall()
        out[group] = {k: n for k, n in rows}
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    store, ref = view_store()
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["--store", str(store.root), "report", ref, str(out)]) == 0
    return store, ref, out


def test_counts_equal_duckdb_and_the_page_is_self_contained(page):
    store, ref, out = page
    text = out.read_text()
    parsed = Counts()
    parsed.feed(text)
    expected = duckdb_counts(store, ref)
    assert {g: parsed.found[g] for g in GROUPS} == expected
    assert parsed.found["total"]["rows"] == sum(expected["kind"].values())
    assert "script" not in parsed.tags and "link" not in parsed.tags
    assert all(u.startswith("data:image/png;base64,") for u in parsed.urls) and parsed.urls  # screenshots inline
    for section in ("Counts", "Outcomes and scores", "steps per trajectory", "first error step", "Lineage",
                    "Sample trajectories", "reasoning: ", "gui: ", "research: "):  # fmt: skip
        assert section in text
    assert "<circle" in text and "stroke='#2a2'" in text  # action point and target box drawn on screenshots


def test_diff_against_the_parent_and_overwrite_rules(tmp_path):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(20, seed=1))
    child = make_table(15, seed=1)  # the first 15 rows of v1: 5 removed, none added
    store.publish("d", child, parents=[{"ref": "d@v1", "role": "filter"}])
    out = tmp_path / "r.html"
    assert main(["--store", str(store.root), "report", "d@v2", str(out)]) == 0
    parsed = Counts()
    parsed.feed(out.read_text())
    assert parsed.found["diff"] == {"added": 0, "removed": 5, "unchanged": 15}
    assert main(["--store", str(store.root), "report", "d@v2", str(out)]) == 1  # exists
    assert main(["--store", str(store.root), "report", "d@v2", str(out), "--overwrite"]) == 0
    other = tmp_path / "notes.html"
    other.write_text("<p>mine</p>")
    assert main(["--store", str(store.root), "report", "d@v2", str(other), "--overwrite"]) == 1
    assert other.read_text() == "<p>mine</p>"
    assert main(["--store", str(store.root), "report", "d@v2", str(store.root / "r.html")]) == 1


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed here (apt-get install chromium to run this check)")
def test_renders_in_headless_chromium(page, tmp_path):
    store, ref, out = page
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
             "--window-size=1200,4000"]  # fmt: skip
    done = subprocess.run(["chromium", *flags, f"--screenshot={shot}", out.as_uri()], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert not re.search(r"CONSOLE\(\d+\)|Uncaught|Failed to load resource", done.stderr)
    dom = subprocess.run(["chromium", *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    parsed = Counts()
    parsed.feed(dom.stdout)
    assert {g: parsed.found[g] for g in GROUPS} == duckdb_counts(store, ref)
