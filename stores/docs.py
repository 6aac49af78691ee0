"""The documents table every corpus holds: ``docid, url, title, text`` (the OpenResearcher
corpus layout), its validation and the statistics kept in a corpus version's manifest.

Kept apart from :mod:`stores.corpus` so the versioned store can check a corpus before it
writes one byte without importing the search machinery.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

DOCS_SCHEMA = pa.schema([("docid", pa.string()), ("url", pa.string()), ("title", pa.string()), ("text", pa.string())])
REQUIRED = ("docid", "text")  # url and title may be null (shown as empty)


class DocsError(ValueError):
    """A documents table breaks the corpus contract; the message says where and how to fix it."""


def validate_docs(table: pa.Table, where: str = "documents") -> None:
    """Columns and types, no null docid or text, no empty or duplicate docid."""
    got = {f.name: f.type for f in table.schema}
    missing = [f.name for f in DOCS_SCHEMA if f.name not in got]
    if missing:
        raise DocsError(f"{where}: missing column(s) {missing}; a corpus needs columns "
                        f"{DOCS_SCHEMA.names} (docid and text required, url and title may be null)")
    wrong = [f"'{f.name}' is {got[f.name]}" for f in DOCS_SCHEMA if got[f.name] != f.type]
    if wrong:
        raise DocsError(f"{where}: column {', '.join(wrong)}; every corpus column must be a string")
    extra = [n for n in got if n not in DOCS_SCHEMA.names]
    if extra:
        raise DocsError(f"{where}: unexpected column(s) {extra}; select {DOCS_SCHEMA.names} only")
    for name in REQUIRED:
        nulls = table[name].null_count
        if nulls:
            first = pc.index(pc.is_null(table[name]), True).as_py()
            raise DocsError(f"{where}: {nulls} row(s) with a null {name} (first at row {first}); every document "
                            f"needs a {name}")
    empty = pc.equal(pc.utf8_length(table["docid"]), 0)
    if pc.any(empty).as_py():
        raise DocsError(f"{where}: empty docid at row {pc.index(empty, True).as_py()}; docids must be non-empty")
    if table.num_rows and pc.count_distinct(table["docid"]).as_py() != table.num_rows:
        counts = pa.table({"docid": table["docid"]}).group_by("docid").aggregate([("docid", "count")])
        dup = counts.filter(pc.greater(counts["docid_count"], 1))["docid"][0].as_py()
        raise DocsError(f"{where}: docid {dup!r} appears more than once; docids must be unique")


def docs_stats(table: pa.Table) -> dict[str, Any]:
    """Row and column counts in the shape of the trajectory stats (``rows``, ``columns``,
    ``content``), so catalog and CLI read every version the same way."""
    lengths = pc.utf8_length(table["text"])
    columns = {f.name: {"type": str(f.type), "null_count": table[f.name].null_count} for f in table.schema}
    content = {"docs": table.num_rows, "text_chars": pc.sum(lengths).as_py() or 0,
               "mean_chars": pc.mean(lengths).as_py(), "max_chars": pc.max(lengths).as_py()}
    return {"rows": table.num_rows, "columns": columns, "content": content}
