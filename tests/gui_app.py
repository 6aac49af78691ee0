"""What every app template's own tests need: its family, tasks, a screenshot-free env, the
state check, and elements found and pressed by their visible name (never by private key)."""

from __future__ import annotations

from stores.schema import Action
from synth.registry import get_family

OFF = {"images": "off"}


class AppUnderTest:
    def __init__(self, name: str):
        self.name = name

    def family(self):
        return get_family(self.name)

    def task(self, seed: int, d: int):
        return self.family().make_task(seed, d, {})

    def env_of(self, t):
        return self.family().make_env(t, OFF)

    def check(self, t, model, answer=None):
        return self.family().app.check(model, t.reference["goal"], answer)

    def first_ops(self, d: int, want: tuple[str, ...], start: int = 0):
        """The first task at level ``d`` (from seed ``start``) whose goal is exactly ``want``."""
        return next(t for s in range(start, start + 300) if op_kinds(t := self.task(s, d)) == want)


def op_kinds(t) -> tuple[str, ...]:
    """A record app's goal as its operations, then ``answer`` for a question."""
    goal = t.reference["goal"]
    return (*(op["op"] for op in goal["ops"]), *(["answer"] if "answer" in goal else []))


def named(e, name: str) -> bool:
    """Whether element ``e`` is labelled ``name``: its name, or a row's first cell (a file row
    is named "plan.docx, Mar 3, 2024, 12 KB" and labelled "plan.docx")."""
    return e.name == name or (e.role == "listitem" and len(e.cells) > 1 and e.cells[0] == name)


def el(env, name: str, role: str | None = None):
    return next(e for e in env.view().elements if named(e, name) and (role is None or e.role == role))


def press(env, name: str, role: str | None = None, long: bool = False) -> str:
    """Click (or long-press) the element named ``name``; returns the event line."""
    action = Action("long_press" if long else "click", {"element": el(env, name, role).id})
    return env.step(action).text.split("\n", 1)[0]
