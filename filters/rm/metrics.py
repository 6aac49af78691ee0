"""The quality figures of a reward model (issue 14, point 5), on plain arrays.

- ``auroc``: of the trajectory score at separating successful from failed trajectories (rank
  statistic, ties count half; NaN when only one class is present, never a made-up 0.5);
- ProcessBench first-error F1: the predicted first error is the first step whose score falls
  below the threshold (-1 if none); accuracy on erroneous trajectories (predicted == true first
  error) and on correct ones (predicted == -1), and their harmonic mean;
- ``ece``: expected calibration error over equal-width probability bins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels).astype(bool)
    keep = ~np.isnan(scores)
    scores, labels = scores[keep], labels[keep]
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = start + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def predicted_first_error(step_scores: np.ndarray, threshold: float) -> int:
    below = np.flatnonzero(np.asarray(step_scores) < threshold)
    return int(below[0]) if len(below) else -1


def first_error_f1(predicted: Sequence[int], truth: Sequence[int]) -> dict[str, float]:
    """ProcessBench's figure; rows with an unknown truth must be left out by the caller."""
    predicted, truth = np.asarray(predicted, int), np.asarray(truth, int)
    err, ok = truth >= 0, truth == -1
    acc_err = float((predicted[err] == truth[err]).mean()) if err.any() else math.nan
    acc_ok = float((predicted[ok] == -1).mean()) if ok.any() else math.nan
    if math.isnan(acc_err) or math.isnan(acc_ok):
        f1 = math.nan
    else:
        f1 = 0.0 if acc_err + acc_ok == 0 else 2 * acc_err * acc_ok / (acc_err + acc_ok)
    return {"acc_erroneous": acc_err, "acc_correct": acc_ok, "f1": f1,
            "erroneous": int(err.sum()), "correct": int(ok.sum())}


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels, np.float64)
    keep = ~np.isnan(probs)
    probs, labels = probs[keep], labels[keep]
    if not len(probs):
        return math.nan
    which = np.minimum((probs * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(probs[inside].mean() - labels[inside].mean())
    return float(total / len(probs))


def best_threshold(step_scores: list[np.ndarray], truth: Sequence[int]) -> float:
    """The step-score threshold with the best first-error F1 on validation rows (0.5 on ties
    or when no row has a known first error): chosen once at training time, stored with the model."""
    best, best_f1 = 0.5, -1.0
    for th in np.round(np.arange(0.05, 0.96, 0.05), 2):
        f1 = first_error_f1([predicted_first_error(s, th) for s in step_scores], truth)["f1"]
        if not math.isnan(f1) and (f1 > best_f1 + 1e-12 or (abs(f1 - best_f1) <= 1e-12 and abs(th - 0.5) < abs(best - 0.5))):
            best, best_f1 = float(th), f1
    return best
