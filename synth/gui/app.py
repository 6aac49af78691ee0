"""What an app template writes: the :class:`App` base class, planner intents, and the family.

An app is the *semantics* of a simulated program; the generic widget behaviour (focus,
typing, toggles, dropdown popups, scrolling, dialogs and menus, the back stack, keyboard)
lives in :mod:`synth.gui.env`. An app subclasses :class:`App` and provides:

- ``levels``: difficulty 1-5 -> the parameters its task generator uses (shown by
  ``trajforge families`` and in docs/gui.md);
- ``make_task(rng, difficulty) -> (model, goal, instruction)``: a JSON-shaped model (the
  app's data: emails, settings), a JSON-shaped goal and the instruction;
- ``view(model, frame) -> Node``: the widget tree of one frame of the UI stack (a screen, a
  dialog or a menu), see :mod:`synth.gui.toolkit`;
- ``on(ctx, event) -> str | None``: what a click, long press, value change or Enter-submit
  does to the model and the UI stack; the returned text goes into the event line;
- ``check(model, goal, answer) -> (success, detail)``: the state-based verifier;
- ``plan(model, ui, goal) -> list[Intent]``: the progress oracle, every next semantic step
  from the *current* state, one per unsatisfied independent sub-goal, including recovery
  from any state (close a wrong dialog, go back from a wrong screen, retype a wrong field);
  an empty list means the goal holds (the env then accepts ``finish``);
- ``needs(goal) -> list[str]``: the goal in words, for the policies' thoughts;
- optionally ``perturb(model, goal, rng) -> list[goal]``: wrong goals a careless agent might
  believe (a neighbouring email, a wrong value), for the ``noisy`` tier. A believed goal
  keeps the instruction's words for what it names (the agent believes the neighbouring email
  *is* the one the task names), so the planner's ``why`` strings must take names from the
  goal, never from the model record of the item;
- optionally ``tally(model, goal) -> Tally | None``: for a question that counts rows or asks
  for the first, newest or cheapest one, which rows on which screen the agent aggregates, so
  its thoughts keep a running tally across screens instead of knowing the answer.

The env turns intents into the accepted-action set (every pixel of a target's box, the
element-id form, keyboard alternatives, scrolling to hidden targets), so apps never deal
with pixels. ``register_app(MyApp())`` at the end of the module makes it a task family.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stores.schema import Task, canonical_json
from synth.registry import register

if TYPE_CHECKING:
    from synth.gui.env import UI, Ctx, Frame, GuiEnv
    from synth.gui.toolkit import Node

IMAGE_MODES = ("off", "task", "steps")
DEFAULT_SCREEN = (1280, 800)


# ---------------------------------------------------------------------------- intents


@dataclass(frozen=True, slots=True)
class Intent:
    """One semantic next step. ``why`` says it in words (thoughts quote it; no private keys);
    ``sub`` names the sub-goal it serves."""

    kind: str  # click | long_press | type | select | enter | show | back | answer | finish
    key: str | None = None
    text: str | None = None
    why: str = ""
    sub: str = ""
    aliases: tuple[str, ...] = field(default=())


def Click(key: str, why: str, sub: str = "") -> Intent:  # noqa: N802 - intent constructors read as nouns
    """Activate the element ``key`` (button, link, list item, tab, menu item, toggle, radio)."""
    return Intent("click", key, why=why, sub=sub)


def LongPress(key: str, why: str, sub: str = "") -> Intent:  # noqa: N802
    return Intent("long_press", key, why=why, sub=sub)


def Type(key: str, text: str, why: str, sub: str = "") -> Intent:  # noqa: N802
    """Make the text field ``key`` hold ``text`` (typing replaces its value)."""
    return Intent("type", key, text, why=why, sub=sub)


def Select(key: str, option: str, why: str, sub: str = "") -> Intent:  # noqa: N802
    """Choose ``option`` in the dropdown ``key``."""
    return Intent("select", key, option, why=why, sub=sub)


def Enter(key: str, why: str, sub: str = "") -> Intent:  # noqa: N802
    """Press Enter in the text field ``key`` (its submit: a search box, a chat line)."""
    return Intent("enter", key, why=why, sub=sub)


def Show(key: str, why: str, sub: str = "") -> Intent:  # noqa: N802
    """Scroll until the element ``key`` (now scrolled out of view) is visible."""
    return Intent("show", key, why=why, sub=sub)


def Back(why: str, sub: str = "") -> Intent:  # noqa: N802
    """Leave the top layer: close the dialog or menu, or go back one screen."""
    return Intent("back", why=why, sub=sub)


def Answer(text: str, why: str, aliases: tuple[str, ...] = (), sub: str = "") -> Intent:  # noqa: N802
    return Intent("answer", text=text, why=why, aliases=aliases, sub=sub)


@dataclass(frozen=True, slots=True)
class Tally:
    """What a counting or "which is best" question aggregates over the rows the agent sees.

    ``active(ui)``: the screen holds the rows; ``row(node)``: a visible element is one of them;
    ``counts(node)``: it counts (a count question); or ``rank(node)`` (lower is better) and
    ``value(node)`` (what to say about it: its time, date or price) for a best-of question.
    Every predicate must depend on what the row shows (its label, its state), so the tally
    is one the agent could keep by reading."""

    noun: str
    active: Callable[[UI], bool]
    row: Callable[[Node], bool]
    counts: Callable[[Node], bool] | None = None
    rank: Callable[[Node], Any] | None = None
    value: Callable[[Node], str] | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """What the env tells the app: ``click``/``long_press`` on ``key``, ``change`` of ``key`` to
    ``value`` (a typed text, a toggle, a radio group or dropdown choice), or ``submit`` (Enter in
    a text field declared with ``submit=`` its own key). ``frame`` is the frame it came from."""

    kind: str
    key: str
    value: Any
    frame: Frame


# ---------------------------------------------------------------------------- the app


class App(ABC):
    """Base class of every app template (see the module docstring for the contract)."""

    name: str = ""
    version = "1"
    levels: dict[int, dict[str, Any]] = {}
    home: str = "home"  # the first screen's frame name

    @abstractmethod
    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        """``(model, goal, instruction)`` drawn with ``rng`` at one level's parameters."""

    @abstractmethod
    def view(self, model: dict[str, Any], frame: Frame) -> Node:
        """The widget tree of ``frame``: a ``window`` for a screen, a ``dialog``, a ``menu``."""

    @abstractmethod
    def on(self, ctx: Ctx, event: Event) -> str | None:
        """Apply ``event`` to ``ctx.model`` and the UI stack; a short report or None."""

    @abstractmethod
    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        """Whether the final state (and answer) meets ``goal``, and why (names what differs)."""

    @abstractmethod
    def plan(self, model: dict[str, Any], ui: UI, goal: dict[str, Any]) -> list[Intent]:
        """Every next step that makes progress from here; [] when the goal holds."""

    @abstractmethod
    def needs(self, goal: dict[str, Any]) -> list[str]:
        """The goal as short phrases ("the 'Q3 report' email in Archive")."""

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        """Goals a careless agent might wrongly believe it was given (for ``noisy``)."""
        return []

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """The rows a counting or best-of question aggregates (None: not such a question)."""
        return None

    @property
    def verifier(self) -> str:
        return f"{self.name}-state"


# ---------------------------------------------------------------------------- the family


class GuiFamily:
    """An :class:`App` as a task family (``synth.registry``'s protocol)."""

    kind = "gui"
    tiers = ("expert", "reflective", "noisy", "random", "llm")

    def __init__(self, app: App):
        self.app = app
        self.name = app.name
        self.version = app.version
        self.levels = app.levels

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        from synth.gui.toolkit import Style

        images_mode(params)
        if difficulty not in self.levels:
            raise ValueError(f"{self.name} difficulty must be one of {sorted(self.levels)}, got {difficulty!r}")
        model, goal, instruction = self.app.make_task(random.Random(seed), difficulty)
        style = Style.draw(random.Random(f"{self.name}:style:{seed}"))
        env = {
            "app": self.name,
            "screen": list(screen_size(params)),
            "style": style.to_json(),
            "model": model,
            "ui": [{"kind": "screen", "name": self.app.home}],
        }
        reference = {"goal": goal}
        content = {"family": self.name, "env": env, "reference": reference, "instruction": instruction}
        task_id = f"{self.name}-" + hashlib.sha256(canonical_json(content).encode()).hexdigest()[:16]
        return Task(task_id, self.name, instruction, difficulty, reference, env, seed)

    def make_env(self, task: Task, params: dict[str, Any]) -> GuiEnv:
        from synth.gui.env import GuiEnv

        if task.env.get("app") != self.name:
            raise ValueError(f"task {task.id} is for app {task.env.get('app')!r}, not {self.name!r}")
        return GuiEnv(self.app, task, images_mode(params))

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> Any:
        from synth.gui.policies import make_teacher

        images_mode(params)
        return make_teacher(self.app, tier, task, rng)

    def llm_protocol(self, task: Task, params: dict[str, Any]) -> Any:
        from synth.gui.policies import LLMProtocol

        return LLMProtocol(self.app, task)


def register_app(app: App) -> App:
    """Register ``app`` as the task family of the same name."""
    register(GuiFamily(app))
    return app


def images_mode(params: dict[str, Any]) -> str:
    """The ``images`` switch (default ``steps``: a screenshot after every action); also checks
    that ``params`` names nothing else than ``images`` and ``screen``."""
    unknown = sorted(set(params) - {"images", "screen"})
    if unknown:
        raise ValueError(f"gui families take the params 'images' and 'screen', got {unknown}; remove them")
    mode = params.get("images", "steps")
    mode = {True: "steps", False: "off", None: "steps"}.get(mode, mode) if not isinstance(mode, str) else mode
    if mode not in IMAGE_MODES:
        raise ValueError(f"images must be one of {list(IMAGE_MODES)}, got {mode!r}")
    return mode


def screen_size(params: dict[str, Any]) -> tuple[int, int]:
    size = params.get("screen", DEFAULT_SCREEN)
    if (not isinstance(size, (list, tuple)) or len(size) != 2 or not all(type(v) is int for v in size)
            or not (960 <= size[0] <= 3840 and 640 <= size[1] <= 2160)):  # fmt: skip
        raise ValueError(f"screen must be [width, height] in pixels, 960-3840 x 640-2160, got {size!r}")
    return size[0], size[1]


def app_names() -> list[str]:
    """Every registered app template (families whose module lives in ``synth.gui.apps``)."""
    from synth.registry import _FAMILY_MODULES

    return sorted(n for n, module in _FAMILY_MODULES.items() if module.startswith("synth.gui.apps."))
