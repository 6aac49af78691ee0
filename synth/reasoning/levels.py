"""The difficulty table of every reasoning family, generated from the families themselves.

docs/reasoning.md embeds :func:`levels_markdown`'s output and a test compares the two, so the
documented parameters cannot drift from the ones the generators use.
"""

from __future__ import annotations

from synth.reasoning.base import GROUPS, ReasoningFamily
from synth.registry import _FAMILY_MODULES, get_family


def reasoning_families() -> list[ReasoningFamily]:
    """Every registered reasoning family, by group then name."""
    names = [n for n, module in _FAMILY_MODULES.items() if module.startswith("synth.reasoning.")]
    families = [get_family(n) for n in names]
    return sorted(families, key=lambda f: (GROUPS.index(f.group), f.name))


def format_level(level: dict) -> str:
    """``n=5, box=2/3``: a level's parameters as the docs table and the CLI show them."""
    return ", ".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in level.items())


def levels_markdown() -> str:
    lines = [
        "| group | family | move | images | d1 | d2 | d3 | d4 | d5 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in reasoning_families():
        cells = [format_level(f.levels[d]) for d in range(1, 6)]
        lines.append(f"| {f.group} | `{f.name}` | `{f.action}` | {'yes' if f.renderable else 'no'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(levels_markdown(), end="")
