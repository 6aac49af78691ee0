"""Labelled corruptions for robustness splits: operators by category, labels you can trust.

One module per category of operator (:mod:`~synth.corrupt.observation`,
:mod:`~synth.corrupt.action`, :mod:`~synth.corrupt.reward`, :mod:`~synth.corrupt.dynamics`,
:mod:`~synth.corrupt.reasoning`), a registry of them by name (:mod:`~synth.corrupt.registry`),
how a corrupted row is labelled and identified (:mod:`~synth.corrupt.labels`) and the runner
over tables (:mod:`~synth.corrupt.apply`). Every corrupted row records operator, mode, rate
c, scale eps, the touched steps and its clean source in the ``corruption`` struct.
"""

from synth.corrupt import action, dynamics, observation, reasoning, reward  # noqa: F401  (they register)
from synth.corrupt.apply import CorruptionStats, corrupt, corrupt_table, corruption_sample
from synth.corrupt.registry import OPERATORS, CorruptionError, OperatorSpec

__all__ = ["OPERATORS", "CorruptionError", "CorruptionStats", "OperatorSpec", "corrupt", "corrupt_table",
           "corruption_sample"]
