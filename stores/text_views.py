"""What gets embedded, hashed or n-grammed: named text views of trajectory rows, one per purpose.

- ``task``: ``family: instruction``. Which problem was asked; two tiers solving one task
  look the same. The view of the pipeline's per-version index.
- ``trajectory``: the instruction (at most half the budget, so long puzzle drawings leave room
  for the steps), then each step's thought and action, cut at a budget of whitespace tokens
  (MiniLM reads 256 word pieces at most, so more text only costs time).
  How a problem was solved: behaviour retrieval and near-duplicate dedup read this.
- ``step``: one state-action pair per step, the observation text the agent acted on and the
  action it took, for PRDC-style retrieval in state-action space. Its ids are
  ``<trajectory id>#<step index>``.

Views are computed from Arrow columns (steps flattened once, strings joined by Arrow
kernels); Python strings appear only at the final per-row cut.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

VIEWS = ("task", "trajectory", "step")
DEFAULT_BUDGET = 200  # whitespace tokens per text
VIEW_COLUMNS = {"task": ["id", "task"], "trajectory": ["id", "task", "steps"], "step": ["id", "steps"]}


class ViewError(ValueError):
    """An unknown view or a table that lacks what a view reads."""


def check_view(view: str) -> str:
    if view not in VIEWS:
        raise ViewError(f"unknown text view {view!r}; use one of {list(VIEWS)}")
    return view


def view_texts(table: pa.Table, view: str, budget: int = DEFAULT_BUDGET) -> tuple[list[str], list[str]]:
    """``(ids, texts)`` of ``view`` over trajectory rows (one per row; per step for ``step``)."""
    check_view(view)
    missing = [c for c in VIEW_COLUMNS[view] if c not in table.column_names]
    if missing:
        raise ViewError(f"the {view!r} view reads columns {VIEW_COLUMNS[view]}; the table lacks {missing}")
    if budget < 1:
        raise ViewError(f"the token budget must be at least 1, got {budget}")
    ids = table["id"].to_pylist()
    if view == "task":
        return ids, _cut(task_column(table).to_pylist(), budget)
    steps = table["steps"].combine_chunks() if isinstance(table["steps"], pa.ChunkedArray) else table["steps"]
    flat = pc.list_flatten(steps)
    action = pc.struct_field(flat, "action")
    call = pc.binary_join_element_wise(pc.fill_null(pc.struct_field(action, "name"), ""), "(",
                                       pc.fill_null(pc.struct_field(action, "arguments"), ""), ")", "")
    if view == "step":
        seen = pc.fill_null(pc.struct_field(pc.struct_field(flat, "observation"), "text"), "")
        texts = pc.binary_join_element_wise(seen, call, "\naction: ").to_pylist()
        parents = pc.list_parent_indices(steps).to_numpy()
        index = pc.struct_field(flat, "index").to_pylist()
        return [f"{ids[p]}#{i}" for p, i in zip(parents, index, strict=True)], _cut(texts, budget)
    per_step = pc.binary_join_element_wise(pc.fill_null(pc.struct_field(flat, "thought"), ""), call, " ").to_pylist()
    offsets = steps.offsets.to_numpy()
    heads = _cut(pc.struct_field(table["task"], "instruction").to_pylist(), max(1, budget // 2))
    texts = [" \n".join([head, *per_step[a:b]]) for head, a, b in zip(heads, offsets[:-1], offsets[1:], strict=True)]
    return ids, _cut(texts, budget)


def task_column(table: pa.Table) -> pa.Array:
    task = table["task"]
    joined = pc.binary_join_element_wise(pc.struct_field(task, "family"), pc.struct_field(task, "instruction"), ": ")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _cut(texts: list[str], budget: int) -> list[str]:
    """Each text cut after ``budget`` whitespace tokens (texts within budget stay as they are)."""
    out = []
    for text in texts:
        if text.count(" ") + text.count("\n") < budget:
            out.append(text)
        else:
            out.append(" ".join(text.split()[:budget]))
    return out

