"""Task families by name: what the pipeline's config refers to.

A family is a small object with ``kind``, ``name``, ``version`` and three factories; the
generic shard generator (:mod:`synth.generate`) does the rest. Families register themselves
on import of their module, listed in ``_FAMILY_MODULES`` so the registry can load them lazily.
"""

from __future__ import annotations

import importlib
import random
from typing import Any, Protocol

from stores.schema import Task
from synth.episode import Env, Teacher


class Family(Protocol):
    kind: str  # reasoning | gui | research
    name: str
    version: str  # bump when generated content changes; lands in provenance.generator_version
    tiers: tuple[str, ...]  # tiers this family's teachers implement

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        """A solvable task, fully determined by (seed, difficulty, params)."""

    def make_env(self, task: Task, params: dict[str, Any]) -> Env:
        """A fresh environment in the task's initial state."""

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> Teacher:
        """A teacher policy of ``tier`` for this task."""


_FAMILIES: dict[str, Family] = {}
_FAMILY_MODULES = {
    # reasoning: puzzles
    "nqueens": "synth.reasoning.nqueens",
    "sudoku": "synth.reasoning.sudoku",
    "futoshiki": "synth.reasoning.futoshiki",
    "nonogram": "synth.reasoning.nonogram",
    # reasoning: games
    "maze": "synth.reasoning.maze",
    "hanoi": "synth.reasoning.hanoi",
    "sliding": "synth.reasoning.sliding",
    "sokoban": "synth.reasoning.sokoban",
    # reasoning: graphs
    "shortest_path": "synth.reasoning.shortest_path",
    "topo_sort": "synth.reasoning.topo_sort",
    "euler_path": "synth.reasoning.euler_path",
    "max_flow": "synth.reasoning.max_flow",
    # reasoning: algorithms and arithmetic
    "game24": "synth.reasoning.game24",
    "lis": "synth.reasoning.lis",
    "arithmetic": "synth.reasoning.arithmetic",
    "cryptarithm": "synth.reasoning.cryptarithm",
    # gui and research
    "form": "synth.gui.apps.form",
    "mail": "synth.gui.apps.mail",
    "settings": "synth.gui.apps.settings",
    "shop": "synth.gui.apps.shop",
    "search": "synth.gui.apps.search",
    "calendar": "synth.gui.apps.calendar",
    "todo": "synth.gui.apps.todo",
    "files": "synth.gui.apps.files",
    "multihop": "synth.research.family",
}


def register(family: Family) -> Family:
    _FAMILIES[family.name] = family
    return family


def get_family(name: str) -> Family:
    if name not in _FAMILIES and name in _FAMILY_MODULES:
        importlib.import_module(_FAMILY_MODULES[name])
    if name not in _FAMILIES:
        raise KeyError(f"unknown task family {name!r}; known families: {sorted(_FAMILY_MODULES)}")
    return _FAMILIES[name]


def family_names() -> list[str]:
    return sorted(_FAMILY_MODULES)
