"""User SQL, run so that it can read the store's tables and nothing else, and change nothing.

Two independent guards, so that a hole in one is not a hole in the product:

1. **DuckDB's own guards.** The query runs on a private in-memory database. Before the first
   user statement, file access is switched off (``enable_external_access = false``) except for
   exactly the Parquet files of the versions the query names (``allowed_paths``), extension
   loading is off, and the configuration is locked (``lock_configuration``), so no statement
   can turn a guard back off, read ``/etc/passwd``, ``glob`` the disk, ``ATTACH`` or ``COPY``
   anywhere. The catalog database is attached read-only before the lock.
2. **A statement allow-list.** Only reads pass: SELECT in every form DuckDB gives it (WITH,
   FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE, UNPIVOT), PIVOT (parsed as a "MULTI"
   statement: it is let through only when the text is a PIVOT), and EXPLAIN [ANALYZE] *of such
   a read*: ``EXPLAIN ANALYZE`` runs its statement, so the explained statement is checked by the
   same rule (``EXPLAIN ANALYZE COPY ... TO`` is refused before anything runs).

Results stream (``fetchmany``) so a row cap bounds memory, and a timer interrupts a query that
runs past its timeout.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import duckdb

READ_STATEMENTS = (
    "SELECT (also WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE), PIVOT/UNPIVOT, "
    "and EXPLAIN [ANALYZE] of those"
)
_PIVOT_STARTS = {"PIVOT", "PIVOT_WIDER", "PIVOT_LONGER", "UNPIVOT", "WITH", "FROM"}
_FETCH = 1024


class QueryError(Exception):
    """User SQL that is refused or fails; the message is one paragraph for the user."""


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """The statements of ``sql`` if every one is a read; raises :class:`QueryError` otherwise."""
    statements = _parse(con, sql)
    if not statements:
        raise QueryError("no SQL statement given")
    for i, statement in enumerate(statements, 1):
        _check(con, statement.query, statement.type.name, i)
    return statements


def _parse(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    try:
        return con.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(f"SQL does not parse: {one_paragraph(str(e))}") from None


def _check(con: duckdb.DuckDBPyConnection, text: str, kind: str, i: int) -> None:
    refused = _refused(con, text, kind)
    if refused:
        raise QueryError(
            f"statement {i} is {refused}: catalog queries are read-only ({READ_STATEMENTS}). "
            "The store changes only through trajforge commands."
        )


def _refused(con: duckdb.DuckDBPyConnection, text: str, kind: str) -> str | None:
    """None for a read; else what the statement is, e.g. ``COPY`` or ``EXPLAIN of a COPY``."""
    if kind == "SELECT":
        return None
    if kind == "MULTI" and _first_keyword(text) in _PIVOT_STARTS:
        return None
    if kind == "EXPLAIN":
        inner = _explained(text)
        statements = _parse(con, inner) if inner.strip() else []
        if len(statements) != 1:
            return "an EXPLAIN of more or less than one statement"
        refused = _refused(con, statements[0].query, statements[0].type.name)
        return None if refused is None else f"an EXPLAIN of {refused}"
    return kind


def _tokens(text: str) -> list[tuple[str, str]]:
    """(token text, token type) without comments."""
    marks = duckdb.tokenize(text)
    out = []
    for (start, kind), nxt in zip(marks, [*marks[1:], (len(text), None)], strict=True):
        if kind.name != "comment":
            out.append((text[start:nxt[0]].strip(), kind.name))
    return out


def _first_keyword(text: str) -> str:
    tokens = _tokens(text)
    return tokens[0][0].upper() if tokens else ""


def _explained(text: str) -> str:
    """The statement an EXPLAIN explains: ``EXPLAIN`` followed by any mix of ``ANALYZE`` and
    parenthesised options (``EXPLAIN (ANALYZE) ...``, ``EXPLAIN ANALYZE (FORMAT json) ...``)."""
    marks = [s for s, k in duckdb.tokenize(text) if k.name != "comment"]
    pos = 1 if marks and text[marks[0]:].upper().startswith("EXPLAIN") else 0
    while pos < len(marks):
        if text[marks[pos]] == "(":
            depth = 0
            while pos < len(marks):
                depth += text[marks[pos]] == "("
                depth -= text[marks[pos]] == ")"
                pos += 1
                if depth == 0:
                    break
        elif re.match(r"ANALY[SZ]E\b", text[marks[pos]:], re.IGNORECASE):
            pos += 1
        else:
            break
    return text[marks[pos]:] if pos < len(marks) else ""


def lock_down(con: duckdb.DuckDBPyConnection, allowed_paths: list[str], temp_dir: str) -> None:
    """Switch on DuckDB's guards (module doc, 1); nothing can switch them off afterwards."""
    con.execute(f"SET temp_directory = {quote(temp_dir)}")
    if allowed_paths:
        con.execute(f"SET allowed_paths = [{', '.join(quote(p) for p in allowed_paths)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET lock_configuration = true")


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def one_paragraph(message: str) -> str:
    """DuckDB's multi-line messages (hints, a caret under the error) as one paragraph."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip() and not set(ln.strip()) <= {"^"}]
    return " ".join(lines)


class Stream:
    """The rows of the last statement, fetched in chunks of about a thousand; ``truncated`` is
    set once the row cap stopped the stream with rows left. ``close()`` stops the timer."""

    def __init__(self, con: duckdb.DuckDBPyConnection, columns: list[str], limit: int | None,
                 timer: threading.Timer | None, timeout_s: float | None):
        self.columns = columns
        self.limit = limit
        self.truncated = False
        self.rows_seen = 0
        self._con = con
        self._timer = timer
        self._timeout_s = timeout_s

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        while not self.truncated:
            want = _FETCH if self.limit is None else min(_FETCH, self.limit - self.rows_seen + 1)
            try:
                rows = self._con.fetchmany(want)
            except duckdb.Error as e:
                raise explain_failure(e, self._timeout_s) from None
            if not rows:
                return
            if self.limit is not None and self.rows_seen + len(rows) > self.limit:
                rows = rows[: self.limit - self.rows_seen]
                self.truncated = True
            self.rows_seen += len(rows)
            if rows:
                yield rows

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def run_guarded(con: duckdb.DuckDBPyConnection, statements: list[Any], limit: int | None,
                timeout_s: float | None) -> Stream:
    """Run ``statements`` (already checked) under a timer; the last one's rows stream."""
    timer = None
    if timeout_s is not None and timeout_s > 0:
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.daemon = True
        timer.start()
    try:
        for statement in statements:
            con.execute(statement.query)
        columns = [d[0] for d in con.description] if con.description else []
    except duckdb.Error as e:
        if timer is not None:
            timer.cancel()
        raise explain_failure(e, timeout_s) from None
    return Stream(con, columns, limit, timer, timeout_s)


def explain_failure(error: duckdb.Error, timeout_s: float | None) -> QueryError:
    """One paragraph for a failed query, naming the guard that stopped it when one did."""
    if isinstance(error, duckdb.InterruptException):
        return QueryError(
            f"the query ran longer than its timeout ({timeout_s:g} s) and was stopped; narrow it (a WHERE, "
            "fewer columns, a LIMIT) or raise --timeout"
        )
    text = one_paragraph(str(error))
    if isinstance(error, duckdb.PermissionException) or "disabled by configuration" in text:
        return QueryError(
            f"refused: {text}. Catalog queries read only the catalog tables and the versions they name as "
            '"name@ref" (or "name@ref:table"); files, extensions and settings are out of reach.'
        )
    if "configuration has been locked" in text:
        return QueryError(f"refused: {text}. Settings cannot be changed from a catalog query.")
    return QueryError(f"query failed: {text}")
