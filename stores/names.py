"""Dataset, version and tag names, and ``name@ref`` parsing.

Names become folder names, so they are restricted to a portable character set: this is what
keeps ``../etc`` or ``a/b`` from ever reaching the filesystem. Every check is a full match of
the whole string (``re.match`` with ``$`` would accept a trailing newline: ``"nl\n"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_RULE = "1-128 characters from a-z, A-Z, 0-9, '.', '_', '-', starting with a letter or digit, no '..'"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VERSION = re.compile(r"v([1-9][0-9]*)")
LATEST = "latest"


class InvalidNameError(ValueError):
    pass


def check_name(name: str, what: str = "dataset name") -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidNameError(f"invalid {what} {name!r}: use {NAME_RULE}")
    return name


def check_tag(tag: str) -> str:
    check_name(tag, "tag")
    if tag == LATEST or _VERSION.fullmatch(tag):
        raise InvalidNameError(f"tag {tag!r} is reserved: 'latest' always means the newest version and vN names versions")
    return tag


def version_number(version: str) -> int | None:
    m = _VERSION.fullmatch(version) if isinstance(version, str) else None
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Ref:
    """``name@version``, ``name@tag`` or a bare ``name`` (= ``name@latest``)."""

    name: str
    ref: str = LATEST

    @classmethod
    def parse(cls, text: str) -> Ref:
        if not isinstance(text, str):
            raise InvalidNameError(f"a dataset reference is text such as demo@v1, not {type(text).__name__}")
        name, _, ref = text.partition("@")
        ref = ref or LATEST
        try:
            check_name(name)
            if version_number(ref) is None and ref != LATEST:
                check_name(ref, "tag")
        except InvalidNameError as e:
            raise InvalidNameError(
                f"invalid dataset reference {text!r}: write NAME, NAME@vN or NAME@TAG ({e})"
            ) from None
        return cls(name, ref)

    def __str__(self) -> str:
        return f"{self.name}@{self.ref}"
