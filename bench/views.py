"""Trainer-view build speed on real reasoning rows, beside the floor every row-building view
pays: converting the same rows to Python dicts (``Table.to_pylist``). Usage:
python bench/views.py [ROWS]
"""

from __future__ import annotations

import sys
import time

from loader import make_rows  # bench/loader.py, beside this script

from catalog import views
from filters.scorers import score_table


def best(fn, repeat: int = 2) -> tuple[float, object]:
    out, seconds = None, float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, out


def main(rows: int) -> None:
    table = score_table(make_rows(rows))
    floor, _ = best(lambda: table.select(views._CONVERSATION_COLUMNS).to_pylist())
    print(f"{rows} trajectories; baseline to_pylist of the conversation columns: {rows / floor:,.0f} rows/s\n")
    print(f"{'view':<14}{'rows out':>10}{'trajectories/s':>16}{'vs to_pylist':>14}")
    for name, fn in (("sft", lambda: views.sft(table, success_only=False)), ("prm", lambda: views.prm(table)),
                     ("rl-prompts", lambda: views.rl_prompts(table)), ("preference", lambda: views.preference(table))):  # fmt: skip
        seconds, out = best(fn)
        print(f"{name:<14}{out.num_rows:>10}{rows / seconds:>16,.0f}{floor / seconds:>14.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
