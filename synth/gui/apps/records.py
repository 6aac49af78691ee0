"""Checks shared by apps whose state is a collection of records (events, tasks, files).

Why a multiset of record signatures: the goal stores the whole collection the task should
end with, so a check on it accepts every route to that state (reorder the sub-goals, delete
and recreate a record) and rejects any collateral change (a neighbouring record edited by
mistake), which a check of the touched records alone would miss. Ids are left out of the
signature for the same reason: a recreated record gets a new id and is still right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from synth.gui.actions import normalize_answer

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")  # fmt: skip


def compare(got: Iterable[tuple], want: Iterable[tuple], show: Callable[[tuple], str], noun: str) -> tuple[bool, str]:
    """Whether two collections of signatures are equal as multisets; the detail names what is
    missing and what is unexpected, so a failed episode says which record went wrong."""
    have, need = Counter(got), Counter(want)
    if have == need:
        return True, f"the {noun} match the expected {sum(need.values())}"
    missing = sorted(show(s) for s in (need - have).elements())
    extra = sorted(show(s) for s in (have - need).elements())
    return False, f"the {noun} differ: missing {missing or 'nothing'}; unexpected {extra or 'nothing'}"


def holds(got: Iterable[tuple], want: Iterable[tuple]) -> bool:
    """``compare`` without the detail: what a planner asks at every step."""
    return Counter(got) == Counter(want)


def check_answer(question: dict[str, Any] | None, answer: str | None) -> tuple[bool, str]:
    """The answer part of a goal: ``question`` holds ``text`` and its ``aliases``."""
    if question is None:
        return True, "no question asked"
    if answer is None:
        return False, "no answer was given"
    ok = normalize_answer(answer) in {normalize_answer(a) for a in [question["text"], *question["aliases"]]}
    return ok, f"answer {answer!r} {'matches' if ok else 'differs from'} {question['text']!r}"


def count_aliases(n: int, noun: str) -> list[str]:
    """Other ways to say the count ``n``: the word and the number with its noun."""
    return [*([NUMBERS[n]] if n < len(NUMBERS) else []), f"{n} {noun}{'' if n == 1 else 's'}"]


def save_draft(model: dict[str, Any], collection: str, record_id: int | None, draft: dict[str, Any]) -> bool:
    """An editor's Save: add the draft as a new record (the model's ``next`` id) or update
    record ``record_id``; refused (False) when the title is empty."""
    if not draft["title"].strip():
        return False
    if record_id is None:
        model[collection].append({"id": model["next"], **draft})
        model["next"] += 1
    else:
        next(r for r in model[collection] if r["id"] == record_id).update(draft)
    return True


def verdict(state: tuple[bool, str], question: dict[str, Any] | None, answer: str | None) -> tuple[bool, str]:
    """Combine the state check and the answer check into one verdict."""
    ok, detail = state
    if not ok or question is None:
        return ok, detail
    good, said = check_answer(question, answer)
    return good, f"{detail}; {said}"


def lookalikes(rows: list[dict[str, Any]], target: Any, label: Callable[[dict[str, Any]], str],
               key: str = "id") -> list[dict[str, Any]]:  # fmt: skip
    """The records a careless reader could take for the one whose ``key`` is ``target``: its
    neighbours in display order (``rows``) and those whose label looks like its label. What a
    noisy agent may wrongly act on (see synth.gui.mistakes)."""
    from synth.gui.mistakes import similar

    at = next((i for i, r in enumerate(rows) if r[key] == target), None)
    if at is None:
        return []
    out = [rows[j] for j in (at - 1, at + 1) if 0 <= j < len(rows)]
    out += [r for r in rows if r not in out and r[key] != target and similar(label(r), label(rows[at]))]
    return out
