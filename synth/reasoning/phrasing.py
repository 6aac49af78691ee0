"""Seeded surface variety for reasoning traces, without an LLM.

A trace written from one fixed sentence per step type teaches a model the sentence, and lets
a reward model read the tier off a phrase. So every thought is rendered from a *template*
with alternatives, drawn with the episode's seeded rng: the facts (cells, numbers, the move)
come from the search and never vary, the wording, the order of independent clauses and the
connectives do. Same seed, same text.

Templates render as written (no capital is added: a fragment is often embedded mid-sentence;
:func:`cap` capitalises one that starts a sentence). Template syntax (parsed once per template
string, then cached):

- ``{a|b|c}``: one of the alternatives, uniformly; alternatives nest and may be empty
  (``{ now|}`` is an optional word);
- ``<name>``: the value of the slot ``name`` (``str()`` of what the caller passes); a ``<``
  not followed by a name and ``>`` is plain text ("a < b");
- ``\\{``, ``\\}``, ``\\|``, ``\\<``: the character itself.

:class:`Voice` renders templates and holds the small helpers every family needs (lists,
optional clauses, clause order). The phrase pools shared by all families (going back to a
step, checks that hold or fail, dead ends, verifying an answer) are written once here, so
no family words them its own way and no tier has a phrase of its own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

Part = str | tuple  # literal text | ("slot", name) | ("alt", (sequence, ...))
_SLOT = re.compile(r"<(\w+)>")


@lru_cache(maxsize=8192)
def compile_template(template: str) -> tuple[Part, ...]:
    """The parts of ``template``; raises ValueError naming the template when braces or slot
    brackets do not balance."""
    parts, end = _parse(template, 0, top=True)
    if end != len(template):
        raise ValueError(f"unbalanced '}}' at {end} in template {template!r}")
    return parts


def _parse(text: str, i: int, top: bool) -> tuple[tuple[Part, ...], int]:
    """Parse a sequence until '|' or '}' (inside alternatives) or the end (top level)."""
    out: list[Part] = []
    buf: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == "{":
            if buf:
                out.append("".join(buf))
                buf = []
            options = []
            i += 1
            while True:
                seq, i = _parse(text, i, top=False)
                options.append(seq)
                if i >= len(text):
                    raise ValueError(f"unclosed '{{' in template {text!r}")
                if text[i] == "}":
                    i += 1
                    break
                i += 1  # '|'
            out.append(("alt", tuple(options)))
            continue
        if ch in "|}":
            if top:
                raise ValueError(f"'{ch}' outside alternatives at {i} in template {text!r}")
            break
        if ch == "<" and (slot := _SLOT.match(text, i)):
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(("slot", slot.group(1)))
            i = slot.end()
            continue
        buf.append(ch)
        i += 1
    if buf:
        out.append("".join(buf))
    return tuple(out), i


class Voice:
    """Renders templates with one seeded rng; every random choice of a trace's wording goes
    through it, so a trace is a pure function of its seed."""

    __slots__ = ("rng",)

    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, template: str | Sequence[str], **slots: Any) -> str:
        if not isinstance(template, str):
            template = template[int(self.rng.random() * len(template))]
        out: list[str] = []
        self._render(compile_template(template), slots, out)
        text = "".join(out)
        while "  " in text:  # an empty alternative between two spaces
            text = text.replace("  ", " ")
        return text

    def _render(self, parts: tuple[Part, ...], slots: dict[str, Any], out: list[str]) -> None:
        rnd = self.rng.random
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif part[0] == "slot":
                try:
                    out.append(str(slots[part[1]]))
                except KeyError:
                    raise KeyError(f"template slot <{part[1]}> was not given; slots: {sorted(slots)}") from None
            else:
                options = part[1]
                self._render(options[int(rnd() * len(options))], slots, out)

    # ------------------------------------------------------------------ helpers

    def pick(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.random() * len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def order(self, items: Sequence[Any]) -> list[Any]:
        """``items`` in a seeded order: for clauses whose order carries no meaning."""
        out = list(items)
        self.rng.shuffle(out)
        return out

    def listing(self, items: Sequence[Any], conj: str = "and") -> str:
        """'a', 'a and b', 'a, b and c' (the serial comma drawn, as people write both)."""
        items = [str(x) for x in items]
        if len(items) <= 1:
            return items[0] if items else ""
        if len(items) == 2:
            return f"{items[0]} {conj} {items[1]}"
        comma = "," if self.rng.random() < 0.3 else ""
        return f"{', '.join(items[:-1])}{comma} {conj} {items[-1]}"

    def sentences(self, *parts: str) -> str:
        """Non-empty parts joined as sentences, each starting with a capital."""
        return " ".join(cap(p) for p in parts if p)


def cap(text: str) -> str:
    """``text`` with a capital first letter when it starts with a plain word (not a cell name
    like r3c4, a variable like a[2] or a node like s->a)."""
    head = text.split(" ", 1)[0].rstrip(",:;")
    if head.isalpha() and head[:1].islower():
        return text[:1].upper() + text[1:]
    return text


# ---------------------------------------------------------------------------- shared phrase pools
#
# Each pool renders one step-type fragment; families call them instead of writing their own,
# so the wording of checks, catches and backtracks is the same in every family and tier.


def back_to(say: Voice, step: int) -> str:
    """The clause that names the step a backtrack returns to (several endings, so that no
    four words of it recur in most backtracks)."""
    return say(
        (
            "{go|so go|then go} back to step <n>",
            "{return|so return|I return} to {step <n>|the position of step <n>} and {go on|continue} from there",
            "{undo|so undo|I undo} everything after step <n>",
            "{resume|so resume|pick up again} from {step <n>|where step <n> left off}",
            "{back up|so back up|retreat} to {step <n>, the last sound point|where step <n> left things}",
            "{revert|so revert} to step <n>'s {position|state}",
            "{the last good state is|everything up to} step <n>{: continue from it| still stands}",
            "{drop|discard} {the later moves and keep step <n>|what came after step <n>, keeping the rest}",
        ),
        n=step,
    )


def dead_end(say: Voice) -> str:
    return say(("{a|another} dead end", "{this|that} {line|branch} {fails|is dead}", "no way on from here",
                "{this|that} cannot work", "{stuck|I am stuck} here", "nothing fits any more"))


def check_intro(say: Voice, step: int, what: str) -> str:
    """The opening of a check of an earlier step ("Let me recheck step 4 (a queen at (1,2))")."""
    return say(
        (
            "{Let me|I'll} {recheck|re-verify|double-check} step <n> (<what>)",
            "{Check|Re-check|Recheck} step <n>{ again|}, <what>",
            "{Quick|A quick|One more} check {of|on} step <n>, <what>",
            "{Looking back at|Going back over} step <n> (<what>)",
            "{Before going on|Before I continue|To be safe}, {recheck|verify} step <n>, <what>",
            "{Is|Was} step <n> ({<what>}) {sound|right}",
        ),
        n=step,
        what=what,
    )


def check_holds(say: Voice) -> str:
    return say(("{it|that} {holds|stands|is fine}", "{fine|good|all right}{, it stays|}", "{no problem there|nothing wrong there}",
                "{still consistent|consistent}", "{that was|it was} right", "{confirmed|checks out}"))


def check_fails(say: Voice, step: int) -> str:
    """The conclusion of a check that finds its own earlier step wrong."""
    return say(
        (
            "so step <n> was {wrong|a mistake|an error}",
            "{that means|so} step <n> {does not hold|cannot stand|was not right}",
            "I {slipped|went wrong|made an error} at step <n>",
            "{step <n>|the move at step <n>} {is wrong|was a slip|has to go}",
            "{that contradicts|this rules out} step <n>",
            "{the mistake is|my error was} {at|in} step <n>",
        ),
        n=step,
    )


def verify_intro(say: Voice, answer: str) -> str:
    return say(
        ("{Check|Verify|Checking} {the answer|my answer|the result} <a>", "{Before answering|Before I answer|One last check}: <a>",
         "{Now|Finally} {verify|check} <a>", "<a>{ \u2014|:} {let me check it|a final check|checking it against the rules}"),
        a=answer,
    )


def verify_holds(say: Voice) -> str:
    return say(("{so it|it} {works|holds|is correct}", "{everything|all of it} {checks out|holds}", "{that is|this is} {a solution|valid}",
                "{no rule is broken|nothing breaks}", "{the answer|it} {stands|is right}"))


def second_thoughts(say: Voice) -> str:
    """Why the random teacher takes a move back: it has no reason, so it gives none."""
    return say(("{Hmm|Wait}, {not that|maybe not}.", "{That|This} {looks|seems} {off|wrong}.", "{On second thought|Actually}, no.",
                "{I am not sure about that|Not sure about that one}.", "{Let me|I'll} {take that back|undo that}."))


def answer_line(say: Voice, answer: str, note: str = "") -> str:
    """The last thought, naming the answer, with ``note`` (a true remark about it, from the
    family: its length, its value, what it reaches) before or after it. A family that gives
    notes gets many forms of a thought every episode ends with; one without keeps the four
    plain lines (see ``teachers.ANSWER_LINES``)."""
    line = say(("Answer: <a>", "Final answer: <a>", "The answer: <a>", "So the answer is: <a>", "So the answer is <a>",
                "{My|The} final answer is <a>", "{Therefore|Hence|Thus}, the answer is <a>", "{That|This} gives the answer: <a>",
                "The answer{, then,|} is <a>", "{Done|That settles it}. Answer: <a>", "I answer <a>", "{Result|Solution}: <a>"), a=answer)
    if not note:
        return line
    return say(("<l> (<n>)", "<l>. <N>.", "<l> \u2014 <n>", "<l>; <n>", "<N>. <l>"), l=line, n=note, N=cap(note))


def opener(say: Voice, p: float = 0.5) -> str:
    """An optional discourse opener for a step ("Next, ", "OK, "), with chance ``p``: how people
    start the next line of working; it claims nothing."""
    if not say.chance(p):
        return ""
    return say(("Next, ", "Now, ", "Then ", "OK, ", "Right, ", "So ", "Moving on, ", "Next up: ", "Now ", "Then, ", "After that, ",
                "Continuing, ", "Good. ", "Fine. ", "Onward: "))


_OPENING_WORDS = {"Next", "Now", "Then", "So", "Finally", "After", "Continuing", "Moving", "OK", "Right"}


def opened(say: Voice, text: str, p: float = 0.5) -> str:
    """``text`` after an optional :func:`opener`, its first word lowered when the opener ends
    mid-sentence ("Next, the cost ...", not "Next, The cost ..."); none before a text that
    already opens with such a word."""
    lead = opener(say, p)
    head = text.split(" ", 1)[0].rstrip(",:;")
    if head in _OPENING_WORDS:  # the text opens itself ("Next, ...", "So L[3]=2")
        return text
    if not lead or lead.endswith(". "):
        return lead + text
    if head.isalpha() and head[:1].isupper() and head[1:].islower() and head != "I":
        text = text[:1].lower() + text[1:]
    return lead + text
