"""Texts given as files: query examples for retrieval, evaluation sets for decontamination.

A JSONL file (one object per line) or a Parquet file with a text field (``text`` unless told
otherwise) and optionally an ``id`` field; items without an id are named ``<file>:<line>``
(JSONL) or ``<file>:<row>`` (Parquet), so a report can point back at the exact item. A file
of trajectory rows (Parquet with the trajectory columns) is read as rows, for the views.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from stores.corpus import jsonl_objects


class TextFileError(ValueError):
    """A text file that cannot be read as asked; the message names the file, line and fix."""


def is_trajectory_file(path: Path) -> bool:
    if path.suffix.lower() != ".parquet":
        return False
    names = pq.read_schema(path).names
    return {"id", "task", "steps"} <= set(names)


def read_texts(path: str | Path, field: str = "text") -> tuple[list[str], list[str]]:
    """``(ids, texts)`` of a JSONL or Parquet file's ``field``."""
    path = Path(path)
    if not path.is_file():
        raise TextFileError(f"{path} does not exist; give a .jsonl or .parquet file with a {field!r} field")
    suffix = path.suffix.lower()
    ids, texts = [], []
    if suffix in (".jsonl", ".ndjson"):
        for number, obj in jsonl_objects(path, TextFileError, f"a JSON object with a {field!r} field"):
            if not isinstance(obj.get(field), str):
                raise TextFileError(f"{path} line {number}: no string field {field!r} (fields there: "
                                    f"{sorted(obj)}); name the text field with --field")
            ids.append(str(obj["id"]) if obj.get("id") is not None else f"{path.name}:{number}")
            texts.append(obj[field])
    elif suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as e:
            raise TextFileError(f"{path} is not a readable Parquet file: {e}") from None
        if field not in table.column_names or not pa.types.is_string(table.schema.field(field).type):
            raise TextFileError(f"{path}: no string column {field!r} (columns: {table.column_names}); name the "
                                "text field with --field")
        texts = table[field].to_pylist()
        if any(t is None for t in texts):
            row = texts.index(None)
            raise TextFileError(f"{path} row {row}: {field!r} is null; every item needs a text")
        raw = table["id"].to_pylist() if "id" in table.column_names else [None] * len(texts)
        ids = [str(i) if i is not None else f"{path.name}:{row}" for row, i in enumerate(raw)]
    else:
        raise TextFileError(f"{path}: unknown format {suffix!r}; use .jsonl (one JSON object per line) or .parquet")
    if not texts:
        raise TextFileError(f"{path} holds no items")
    return ids, texts
