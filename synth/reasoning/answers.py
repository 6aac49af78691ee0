"""The form of an answer, read the same way by every reasoning family's verifier.

Verifiers are tolerant of *form* and strict on *content*. People (and models) wrap a right
answer in quotes, prefix it with "Answer:" or end it with a full stop; none of that may turn
a right answer into a wrong one, and it must be tolerated identically in every family, so it
is peeled off here, once, before a family's own parser sees the text. Content is the
family's: a multiplier word, a missing cell or an extra move is never tidied away.
"""

from __future__ import annotations

import re

_LEAD = re.compile(r"^\s*(?:\*\*)?(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*", re.IGNORECASE)
_QUOTES = (('"', '"'), ("'", "'"), ("`", "`"), ("“", "”"), ("‘", "’"), ("«", "»"))


def tidy(answer: str) -> str:
    """``answer`` without surrounding whitespace, a leading "Answer:" (also "Final answer:",
    "The answer is:"), and one pair of surrounding quotes or backticks, in any nesting of the
    two ("Answer: '1 3 0 2'" and "'Answer: 1 3 0 2'" both give "1 3 0 2")."""
    text = answer.strip()
    for _ in range(2):
        text = _LEAD.sub("", text, count=1).strip()
        for a, b in _QUOTES:
            if len(text) >= 2 and text[0] == a and text[-1] == b:
                text = text[1:-1].strip()
                break
    return text


def without_full_stop(text: str) -> str | None:
    """``text`` without one final full stop (not an ellipsis), or None when it has none."""
    if text.endswith(".") and not text.endswith(".."):
        return text[:-1].rstrip()
    return None
