"""Figures of any step/trajectory scorer on a version, per kind, and the leakage audit.

A predictor is anything returning (trajectory probability per row, step probabilities per row);
the learned RM and the audit are both scored by :func:`report`, so their figures sit side by
side on exactly the same rows.

The leakage audit (issue 14): a bag-of-n-grams logistic regression on the same inputs as the
RM (:func:`filters.rm.inputs.step_texts` / :func:`trajectory_text`). It cannot reason about a
puzzle state; if it scores close to the RM, the RM may be reading tells in the wording rather
than judging the steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.rm.inputs import Budget, input_rows, step_texts, trajectory_text
from filters.rm.labels import labels_of
from filters.rm.metrics import auroc, ece, first_error_f1, predicted_first_error


def report(table: pa.Table, traj: np.ndarray, steps: list[np.ndarray], threshold: float,
           seen_families: set[str] | None = None) -> list[dict[str, Any]]:
    """One dict per (kind, group) with ``rows``, ``auroc``, ``fe_f1``, ``fe_acc_erroneous``,
    ``fe_acc_correct``, ``fe_f1_noisy_corrupt``, ``ece``, ``ece_step``: ``group`` is ``all``, and where
    ``seen_families`` is given also ``seen`` / ``unseen`` (families in / left out of training).

    ``fe_f1`` is ProcessBench's first-error F1 on every row whose first error is known;
    ``fe_f1_noisy_corrupt`` takes the erroneous half from ``noisy``-tier and corrupted rows only
    (the correct half stays every correct row). ``ece`` is of the trajectory probability
    against success, ``ece_step`` of step probabilities against the hard step labels."""
    labels = labels_of(table, source="prefix")
    kinds = np.asarray(table["kind"].to_pylist())
    families = np.asarray(pc.struct_field(table["task"], "family").to_pylist())
    predicted = [predicted_first_error(s, threshold) for s in steps]
    out = []
    groups = [("all", None)] + ([("seen", True), ("unseen", False)] if seen_families is not None else [])
    for kind in sorted(set(kinds.tolist())):
        for group, seen in groups:
            sel = kinds == kind
            if seen is not None:
                sel &= np.isin(families, sorted(seen_families)) == seen
            idx = np.flatnonzero(sel)
            if not len(idx):
                continue
            known = [i for i in idx if labels.first_error[i] is not None]
            fe = first_error_f1([predicted[i] for i in known], [labels.first_error[i] for i in known])
            hard = [i for i in known if labels.first_error[i] == -1 or labels.tier[i] == "noisy" or labels.corrupted[i]]
            fe_nc = first_error_f1([predicted[i] for i in hard], [labels.first_error[i] for i in hard])
            step_p = np.concatenate([steps[i] for i in idx if labels.steps[i] is not None] or [np.zeros(0)])
            step_y = np.concatenate([labels.steps[i] for i in idx if labels.steps[i] is not None] or [np.zeros(0)])
            out.append({"kind": kind, "group": group, "rows": float(len(idx)),
                        "auroc": auroc(traj[idx], labels.outcome[idx]),
                        "fe_f1": fe["f1"], "fe_acc_erroneous": fe["acc_erroneous"], "fe_acc_correct": fe["acc_correct"],
                        "fe_f1_noisy_corrupt": fe_nc["f1"],
                        "ece": ece(traj[idx], labels.outcome[idx]), "ece_step": ece(step_p, step_y)})
    return out


class NgramAudit:
    """Word 1-2-gram counts (hashed) into two logistic regressions: one on the step texts
    (target: the step label), one on the trajectory texts (target: success)."""

    def __init__(self, budget: Budget, seed: int = 0, features: int = 2 ** 18):
        from sklearn.feature_extraction.text import HashingVectorizer

        self.budget = budget
        self.seed = seed
        self.vectorizer = HashingVectorizer(ngram_range=(1, 2), n_features=features, alternate_sign=False,
                                            norm="l2", token_pattern=r"(?u)\b\w+\b")
        self.step_model = None
        self.traj_model = None

    def fit(self, table: pa.Table) -> NgramAudit:
        from sklearn.linear_model import LogisticRegression

        rows = input_rows(table)
        labels = labels_of(table)
        texts, ys = [], []
        for row, target in zip(rows, labels.steps, strict=True):
            if target is not None:
                texts.extend(step_texts(row, self.budget))
                ys.extend((target >= 0.5).astype(int).tolist())
        if len(set(ys)) == 2:
            self.step_model = LogisticRegression(max_iter=500, C=4.0, random_state=self.seed).fit(
                self.vectorizer.transform(texts), ys)
        ys_traj = labels.outcome.astype(int)
        if len(set(ys_traj.tolist())) == 2:
            self.traj_model = LogisticRegression(max_iter=500, C=4.0, random_state=self.seed).fit(
                self.vectorizer.transform([trajectory_text(r, self.budget) for r in rows]), ys_traj)
        return self

    def predict(self, table: pa.Table) -> tuple[np.ndarray, list[np.ndarray]]:
        rows = input_rows(table)
        traj = np.full(len(rows), math.nan, np.float32)
        if self.traj_model is not None and rows:
            traj = self.traj_model.predict_proba(
                self.vectorizer.transform([trajectory_text(r, self.budget) for r in rows]))[:, 1].astype(np.float32)
        per_row = [step_texts(r, self.budget) for r in rows]
        flat = [t for texts in per_row for t in texts]
        if self.step_model is not None and flat:
            probs = self.step_model.predict_proba(self.vectorizer.transform(flat))[:, 1].astype(np.float32)
        else:
            probs = np.full(len(flat), math.nan, np.float32)
        bounds = np.cumsum([0] + [len(t) for t in per_row])
        return traj, [probs[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def format_table(rm_rows: list[dict[str, Any]], audit_rows: list[dict[str, Any]]) -> str:
    """The figures as fixed-width text, the audit's beside the RM's (one line per kind/group)."""
    audit = {(r["kind"], r["group"]): r for r in audit_rows}

    def f(v: Any) -> str:
        return "     -" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:6.3f}"

    lines = [f"{'kind':10} {'group':6} {'rows':>5} | {'AUROC':>6} {'audit':>6} | {'FE-F1':>6} {'audit':>6} | "
             f"{'F1 n+c':>6} {'audit':>6} | {'ECE':>6} {'ECEstp':>6}"]
    for r in rm_rows:
        a = audit.get((r["kind"], r["group"]), {})
        lines.append(f"{r['kind']:10} {r['group']:6} {int(r['rows']):5d} | {f(r['auroc'])} {f(a.get('auroc'))} | "
                     f"{f(r['fe_f1'])} {f(a.get('fe_f1'))} | {f(r['fe_f1_noisy_corrupt'])} "
                     f"{f(a.get('fe_f1_noisy_corrupt'))} | {f(r['ece'])} {f(r['ece_step'])}")
    return "\n".join(lines)
