"""Seeded perturbations of text and values that the operator modules share.

Every function here returns something different from its input (a corruption that changes
nothing would be a mislabelled clean row), and draws only from the ``rng`` it is given.
"""

from __future__ import annotations

import random
import re
import string

_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def _other(ch: str, rng: random.Random) -> str:
    pool = string.digits if ch.isdigit() else string.ascii_uppercase if ch.isupper() else string.ascii_lowercase
    return rng.choice([c for c in pool if c != ch])


def slip_chars(text: str, rng: random.Random, eps: float) -> str:
    """max(1, round(eps * n)) of the n letters and digits replaced by another of their class
    (a digit by a digit, so '4321' stays a plausible row); text without any gets a suffix."""
    positions = [i for i, ch in enumerate(text) if ch.isascii() and ch.isalnum()]
    if not positions:
        return text + rng.choice(string.ascii_lowercase)
    chars = list(text)
    for i in rng.sample(positions, max(1, min(len(positions), round(eps * len(positions))))):
        chars[i] = _other(chars[i], rng)
    return "".join(chars)


def perturb_value(value: str | int, rng: random.Random, eps: float) -> str | int:
    """A wrong value of the same type: a number moved by max(1, eps * |v|) either way (a
    numeric string keeps its decimals), any other string with a character slip."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value + rng.choice((-1, 1)) * max(1, round(eps * abs(value)))
    match = _NUMBER.fullmatch(value)
    if match is None:
        return slip_chars(value, rng, eps)
    decimals = len(match[1] or "")
    step = max(10.0 ** -decimals, round(eps * abs(float(value)), decimals))
    moved = float(value) + rng.choice((-1, 1)) * step
    return f"{moved:.{decimals}f}"


def text_noise(text: str, rng: random.Random, eps: float) -> str:
    """Character and word noise: each word, with probability eps, loses, swaps or changes a
    character or is dropped; at least one word is hit."""
    parts = re.split(r"(\s+)", text)
    words = [i for i, p in enumerate(parts) if p and not p.isspace()]
    if not words:
        return text
    hit = [i for i in words if rng.random() < eps] or [rng.choice(words)]
    for i in hit:
        word = parts[i]
        how = rng.choice(("delete", "swap", "substitute", "drop"))
        if how == "drop":
            parts[i] = ""
        elif how == "swap" and len(word) > 1 and word[0] != word[1]:
            j = rng.randrange(len(word) - 1)
            parts[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:] if word[j] != word[j + 1] else slip_chars(word, rng, 0)
        elif how == "delete" and len(word) > 1:
            j = rng.randrange(len(word))
            parts[i] = word[:j] + word[j + 1:]
        else:
            parts[i] = slip_chars(word, rng, 0)
    noisy = "".join(parts)
    return noisy if noisy != text else slip_chars(text, rng, 0)
