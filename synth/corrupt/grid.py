"""A robustness grid: operators x c x eps x mode, expanded into named cells and applied.

Issue 17's suites publish one split per cell and report how scorers respond per cell; this
module turns the user's grid into checked :class:`~synth.corrupt.registry.OperatorSpec`
cells (every bad value named with its grid key before any row is corrupted) and gives each
cell a split name that Hugging Face ``datasets`` accepts (``\\w+``: no dots or dashes).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from synth.corrupt.apply import CorruptionStats, Ranker, corrupt_table
from synth.corrupt.registry import CorruptionError, OperatorSpec

GRID_KEYS = ("operators", "c", "eps", "mode", "scorer", "candidates")


@dataclass(frozen=True, slots=True)
class Cell:
    spec: OperatorSpec

    @property
    def split(self) -> str:
        """``corrupt_<operator>_c<c>_e<eps>_<mode>``, numbers with ``p`` for the point."""
        def num(x: float) -> str:
            return f"{x:g}".replace(".", "p").replace("-", "m")
        return f"corrupt_{self.spec.name}_c{num(self.spec.rate)}_e{num(self.spec.eps)}_{self.spec.mode}"


def grid_cells(grid: Mapping[str, Any]) -> list[Cell]:
    """Every combination of ``operators``, ``c`` (default [null]: the unit's default),
    ``eps`` (default [1.0]) and ``mode`` (default [random]), in that order; ``scorer`` and
    ``candidates`` apply to the adversarial cells."""
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise CorruptionError(f"robustness grid: unknown key(s) {unknown}; a grid has {', '.join(GRID_KEYS)}")

    def values(key: str, default: list[Any]) -> list[Any]:
        v = grid.get(key, default)
        v = v if isinstance(v, list) else [v]
        if not v:
            raise CorruptionError(f"robustness grid: '{key}' is empty; give at least one value or leave it out")
        return v

    cells, seen = [], set()
    for name, c, eps, mode in itertools.product(values("operators", []) if "operators" in grid else [],
                                                values("c", [None]), values("eps", [1.0]), values("mode", ["random"])):
        adversarial = mode == "adversarial"
        try:
            spec = OperatorSpec(name, None if c is None else float(c), float(eps), mode,
                                scorer=grid.get("scorer") if adversarial else None,
                                candidates=int(grid.get("candidates", 8)) if adversarial else 8)
        except (TypeError, ValueError) as e:  # CorruptionError included
            raise CorruptionError(f"robustness grid cell (operator {name!r}, c={c}, eps={eps}, mode={mode!r}): {e}") from None
        cell = Cell(spec)
        if cell.split not in seen:  # c given as 0.5 and 0.50 is one cell
            seen.add(cell.split)
            cells.append(cell)
    if not cells:
        raise CorruptionError("robustness grid: 'operators' is missing or empty; name at least one (synth.corrupt.OPERATORS)")
    return cells


@dataclass(frozen=True, slots=True)
class CellRows:
    """One cell's corrupted rows, the images their replays drew, and its skip counts."""

    cell: Cell
    rows: pa.Table
    blobs: pa.Table
    stats: CorruptionStats


def corrupt_cells(table: pa.Table, cells: list[Cell], seed: int, params: Mapping[str, Mapping],
                  rank: Ranker | None = None) -> dict[str, CellRows]:
    """Every cell applied to all of ``table`` (one operator per cell), by split name."""
    out = {}
    for cell in cells:
        rows, blobs, stats = corrupt_table(table, [cell.spec], seed, params, rank)
        out[cell.split] = CellRows(cell, rows.set_column(rows.schema.get_field_index("split"), "split",
                                                          pa.array([cell.split] * rows.num_rows, pa.string())), blobs, stats)
    return out
