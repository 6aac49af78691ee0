"""Question files for bring-your-own corpora: JSONL, one question per line.

Fields: ``question`` and ``answer`` (required); ``aliases`` (accepted answers, optional);
``evidence`` (optional, docids or ``{"docid", "line"}`` objects: the pages that hold the
answer; the expert tier needs them); ``difficulty`` (1-5; default: one per evidence page,
capped at 5); ``distractors`` (docids of pages that look right but are not, optional: opening
one is a detour); ``hops`` and ``type`` (optional, kept as metadata). Every docid must exist in
the corpus; a bad line is refused with its number and what to fix.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from stores.corpus import Corpus, jsonl_objects

_KNOWN = {"question", "answer", "aliases", "evidence", "difficulty", "distractors", "hops", "type", "id"}


class QuestionFileError(ValueError):
    """A question file line is unusable; the message names the line and the fix."""


def load_questions(path: str | os.PathLike[str], corpus: Corpus) -> list[dict[str, Any]]:
    """The questions of a file as task references, checked against ``corpus``."""
    path = Path(path)
    return [dict(q) for q in _load(str(path.resolve()), path.stat().st_mtime_ns if path.is_file() else 0, corpus)]


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime: int, corpus: Corpus) -> tuple[dict[str, Any], ...]:
    if not Path(path).is_file():
        raise QuestionFileError(f"question file {path} does not exist; give a JSONL file with one "
                                '{"question": ..., "answer": ...} object per line')
    out = [_question(path, number, q, corpus) for number, q in jsonl_objects(path, QuestionFileError, "a JSON object")]
    if not out:
        raise QuestionFileError(f"question file {path} holds no questions")
    return tuple(out)


def _question(path: str, number: int, q: dict[str, Any], corpus: Corpus) -> dict[str, Any]:
    where = f"{path} line {number}"
    unknown = sorted(set(q) - _KNOWN)
    if unknown:
        raise QuestionFileError(f"{where}: unknown field(s) {unknown}; fields are {sorted(_KNOWN)}")
    for key in ("question", "answer"):
        if not isinstance(q.get(key), str) or not q[key].strip():
            raise QuestionFileError(f"{where}: {key!r} must be a non-empty string")
    aliases = q.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise QuestionFileError(f"{where}: 'aliases' must be a list of strings")
    evidence = []
    for item in q.get("evidence", []):
        entry = {"docid": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("docid"), str):
            raise QuestionFileError(f"{where}: each evidence item is a docid or an object with a 'docid'")
        row = corpus.row(entry["docid"])
        if row is None:
            raise QuestionFileError(f"{where}: evidence docid {entry['docid']!r} is not in corpus {corpus.ref}")
        line = entry.get("line")
        if line is not None and (not isinstance(line, int) or not 0 <= line < len(corpus.lines(row))):
            raise QuestionFileError(f"{where}: evidence line {line!r} is not a line of {entry['docid']}")
        evidence.append({"docid": entry["docid"], "line": line})
    distractors = q.get("distractors", [])
    for docid in distractors:
        if not isinstance(docid, str) or corpus.row(docid) is None:
            raise QuestionFileError(f"{where}: distractor {docid!r} is not a docid of corpus {corpus.ref}")
    gold = list(dict.fromkeys(e["docid"] for e in evidence))
    difficulty = q.get("difficulty", min(5, max(1, len(gold))))
    if not isinstance(difficulty, int) or not 1 <= difficulty <= 5:
        raise QuestionFileError(f"{where}: 'difficulty' must be an integer from 1 to 5")
    return {
        "question": q["question"].strip(), "type": q.get("type", "byo"), "hops": q.get("hops"),
        "answer": q["answer"].strip(), "aliases": aliases, "answer_kind": "text",
        "evidence": evidence, "gold_docids": gold, "minimal_evidence": gold,
        "traps": [d for d in distractors if d not in gold], "predicates": [], "difficulty": difficulty,
        "source_id": q.get("id", number),
    }
