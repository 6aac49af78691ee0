"""The GUI teacher tiers, generic over apps, and the LLM agent protocol.

All scripted tiers act through the env's planner (:meth:`GuiEnv.options`): the accepted
actions of the current state, each tagged with the intent it serves. So they work for any
app, and what they do is checked by the same step checker that labels the data.

Every scripted tier thinks through one :class:`Agent`: a working memory of what it has seen
(the last screen and action, the rows it counted for a question, whether it is scrolling in
search of something) and the shared :class:`~synth.gui.phrasing.Phrasing`, so thoughts say
only what is on screen or was seen before, and no tier has words of its own.

- ``expert`` picks among the planner's alternatives with its seeded rng (so the order of
  independent sub-goals varies), prefers the plain form of an intent (a click) over its
  alternatives (a key, the element-id form) 70/30, and clicks at a seeded point inside the
  box 2 px clear of its edge. A target scrolled out of view is searched for: it scrolls
  about a screenful at a time (it does not know where the target is) and says so, and a
  counting question keeps a running tally of the rows it has read on every screen.
- ``reflective`` makes one caused slip at a seeded step (:mod:`synth.gui.mistakes`: a look-alike
  label, the neighbouring row, a click across a border, a click on a screen that has already
  changed, a typo), believing it did the right thing; on the next screen it reads what
  happened (a field holds the wrong value, another screen opened, nothing changed), says so
  and recovers through the planner. It ends successful; the slip is the first rejected step.
- ``noisy`` makes one caused mistake it never notices: a slip onto a look-alike or
  neighbouring element that it then treats as the target (it plans for the goal that slip
  makes it believe, in the instruction's words), a typo it never reads back, an answer from
  the part of a list it has counted so far, or a premature finish. It ends failed.
- ``random`` draws well-formed actions from the whole action space, then finishes; its
  thoughts are written by the same phrasing layer (what it tries and why it might help).

Reflective and noisy episodes are composed up front by simulation on a fork of the env (so
the recovery and the failure are checked before the episode is played); thoughts are written
against the forked screens, which are the same as the live ones. The mistake's cause, step,
and what was meant and hit are in ``policy.params["mistake"]``.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from stores.schema import Action, Policy, Step, Task, canonical_json
from synth.gui.actions import ACTIONS, KEYS, is_acceptable, point_in
from synth.gui.app import App, Tally
from synth.gui.env import GuiEnv, Option, PlanError
from synth.gui.mistakes import Mistake, classify, evidence, slips, typo
from synth.gui.phrasing import Phrasing
from synth.gui.toolkit import INTERACTIVE, TOGGLES, View, quote

PLAIN = 0.7  # how often the expert takes an intent's plain form (a click) over its alternatives
CHECK = 0.45  # how often a thought reads back the last step's effect
SIM_LIMIT = 40  # steps a simulated rollout may take
RANDOM_MAX_STEPS = 12


# ---------------------------------------------------------------------------- expert moves


def choose(env: GuiEnv, rng: random.Random, goal: dict[str, Any] | None = None) -> tuple[Option, Action]:
    """The expert's next option (a seeded intent, mostly its plain form) and action."""
    options = env.options(goal)
    intents: list[Any] = []
    for o in options:
        if not any(o.intent is i for i in intents):
            intents.append(o.intent)
    intent = rng.choice(intents)
    forms = [o for o in options if o.intent is intent]
    # a search for a hidden target goes a screenful at a time, not one wheel notch (Down)
    forms = [o for o in forms if not (o.reveals is not None and o.entry.get("key") in ("Down", "Up"))] or forms
    option = forms[0] if len(forms) == 1 or rng.random() < PLAIN else rng.choice(forms[1:])
    return option, realize(option, rng)


def realize(option: Option, rng: random.Random) -> Action:
    """A concrete action for an accepted entry (pixels for pointer actions; a scroll towards a
    hidden target goes about a screenful, the option's ``hint``)."""
    e = option.entry
    name = e["name"]
    if name in ("click", "long_press"):
        x, y = point_in(e["box"], rng)
        return Action(name, {"x": x, "y": y})
    if name == "type":
        return Action("type", {"text": e["text"]} if e["focused"] else {"text": e["text"], "element": e["element"]})
    if name == "select":
        return Action("select", {"element": e["element"], "option": e["option"]})
    if name == "scroll":
        args: dict[str, Any] = {"direction": e["direction"], "amount": option.hint or e["amount"][0]}
        if not e["main"] or rng.random() < 0.5:
            args["x"], args["y"] = point_in(e["box"], rng)
        return Action("scroll", args)
    if name == "press_key":
        return Action("press_key", {"key": e["key"]})
    if name == "answer":
        return Action("answer", {"answer": e["answers"][0]})
    return Action(name, {})


def _moved(before: View, after: View) -> bool:
    return (before.title, before.top.role, before.top.name) != (after.title, after.top.role, after.top.name)


# ---------------------------------------------------------------------------- the agent


class Agent:
    """A scripted agent's working memory and voice, shared by every tier.

    It remembers the screen and action of its last step (to read back the effect, or to
    notice a slip), whether it is scrolling in search of something, and the rows of a
    counting question it has read so far (by the row's private key, so a row seen twice is
    counted once; thoughts only ever name rows on the current screen). ``pending`` is what it
    noticed on arriving at this screen; ``careless`` stops the read-backs (a noisy agent after
    its mistake)."""

    def __init__(self, app: App, rng: random.Random):
        self.app = app
        self.rng = rng
        self.say = Phrasing(random.Random(rng.random()))
        self.first = True
        self.last: tuple[View, Action, Option | None] | None = None
        self.searching = ""
        self.rows: dict[str, tuple[str, bool, Any, str]] = {}
        self.tallying = False
        self.pending = ""
        self.careless = False
        self.strict = False  # raise when a tally misses the planner's answer (tests: an app bug) instead of not saying it
        self.words: dict[str, str] = {}

    def copy(self) -> Agent:
        twin = copy.copy(self)
        twin.rng, twin.say = random.Random(), Phrasing(random.Random())
        twin.rng.setstate(self.rng.getstate())
        twin.say.rng.setstate(self.say.rng.getstate())
        twin.rows, twin.words = dict(self.rows), dict(self.words)
        return twin

    # ------------------------------------------------------------------ one step

    def step(self, env: GuiEnv, goal: dict[str, Any] | None = None, option: Option | None = None,
             action: Action | None = None, echo: bool = True) -> tuple[str, Action]:  # fmt: skip
        """The next (thought, action) for ``goal`` (default: the task's); ``option`` and
        ``action`` force what the agent means to do and what it really does (a slip)."""
        goal = env.goal if goal is None else goal
        view = env.view()
        slip = action is not None and not is_acceptable([option.entry], action.name, action.arguments, env.size)
        if option is None:
            option, action = choose(env, self.rng, goal)
        elif action is None:
            action = realize(option, self.rng)
        if slip:  # the agent believes it does what it meant: that is what its thought says
            self.pending, self.careless, careless = "", True, self.careless
        spec = self._read(env, goal, view)
        meant = realize(option, random.Random(0)) if slip else action
        thought = self._compose(env, view, option, meant, spec, echo)
        if slip:
            self.careless = careless
        self._remember(view, action, option)
        return thought, action

    def finish_now(self, env: GuiEnv) -> tuple[str, Action]:
        """Finish at once (a premature finish: the agent believes the task is done)."""
        view = env.view()
        lead = self._lead(env, view)
        self._remember(view, Action("finish", {}), None)
        return self.say.join([*lead, self.say.finish()]), Action("finish", {})

    def answer_now(self, env: GuiEnv, text: str) -> tuple[str, Action]:
        """Answer ``text`` at once (from the part of a list counted so far)."""
        view = env.view()
        spec = self._read(env, env.goal, view)
        lead = self._lead(env, view)
        tally = self._tally(view, spec, True)[0] if spec is not None else ""
        self._remember(view, Action("answer", {"answer": text}), None)
        return self.say.join([*lead, tally, self.say.answer(text)]), Action("answer", {"answer": text})

    def stale(self, env: GuiEnv, mistake: Mistake) -> tuple[str, Action]:
        """A click where the previous screen had its element: the agent believes the screen
        has not changed yet (its last click did not seem to take)."""
        before, _, option = self.last
        view = env.view()
        thought = self.say.stale(before.title, option.target if option is not None else None)
        self._remember(view, mistake.action, option)
        return thought, mistake.action

    # ------------------------------------------------------------------ wording

    def _lead(self, env: GuiEnv, view: View) -> list[str]:
        """The task (first step), what was noticed or read back, and where the agent is."""
        say = self.say
        lead = [say.opening(self.app.needs(env.goal))] if self.first else []
        note, opened = self._check(view)
        moved = self.last is not None and _moved(self.last[0], view)
        screen = say.screen(view) if not opened and (self.first or moved or say.maybe(0.55)) else ""
        return [*lead, *((note, screen) if say.maybe(0.5) else (screen, note))]

    def _compose(self, env: GuiEnv, view: View, option: Option, action: Action, spec: Tally | None, echo: bool) -> str:
        say = self.say
        parts = self._lead(env, view)
        intent, name = option.intent, action.name
        if name == "finish":
            parts.append(say.finish())
        elif name == "answer":
            said, total = self._tally(view, spec, True) if spec is not None else ("", 0)
            own = action.arguments["answer"] == option.entry.get("answers", [None])[0]
            if said and not (spec.counts is not None and own and str(total) != action.arguments["answer"]):
                parts.append(said)
            elif said and not self.careless and self.strict:
                _check_tally(total, action.arguments["answer"], self.app.name)
            elif say.maybe(0.5) or said:
                parts.append(say.why(self._words(intent.why)))
            parts.append(say.answer(action.arguments["answer"]))
        elif option.reveals is not None:
            area = option.target
            direction = option.entry.get("direction") or ("down" if action.arguments.get("key") in ("PageDown", "Down") else "up")
            if intent.kind == "show":
                if spec is not None:
                    parts.append(self._tally(view, spec, False)[0])
                if say.maybe(0.5):
                    parts.append(say.why(self._words(intent.why)))
                parts.append(say.rest(area, direction))
            else:
                again = self.searching == intent.sub and self.last is not None and self.last[2] is not None \
                    and self.last[2].reveals is not None  # fmt: skip
                if not again or say.maybe(0.4):
                    parts.append(say.why(self._words(intent.why)))
                parts.append(say.search(area, direction, again))
        else:
            parts.append(say.why(self._words(intent.why)))
            parts.append(say.act(name, option.target, action.arguments, echo))
        return say.join(parts)

    def _words(self, why: str) -> str:
        """A believed goal's ``why`` in the words the agent believes in: a value it mistyped
        is, to it, the value the instruction gave."""
        for wrong, meant in self.words.items():
            why = why.replace(wrong, meant)
        return why

    def _check(self, view: View) -> tuple[str, bool]:
        """What the agent sees of its last step's effect: a noticed slip, a searched-for
        element that came into view, or (sometimes) a read-back of what it changed; and
        whether that already says which screen is open."""
        if self.pending:
            note, self.pending = self.pending, ""
            return note, False
        if self.careless or self.last is None or self.last[2] is None:
            return "", False
        before, action, option = self.last
        say = self.say
        if option.reveals is not None:
            seen = view.nodes.get(option.reveals.key or "")
            return (say.found() if option.intent.kind != "show" and seen is not None and seen.visible else ""), False
        if not say.maybe(CHECK):
            return "", False
        if _moved(before, view):
            return say.opened(view), True
        t = option.target
        n = view.nodes.get(t.key) if t is not None and t.key else None
        if n is None or not n.visible:
            return "", False
        if action.name == "type" and n.role == "textbox":
            return say.check(n, f"reads {quote(n.value)}" if n.value else "is empty"), False
        if action.name == "select" and n.role == "combobox" and n.value:
            return say.check(n, f"shows {quote(n.value)}"), False
        if action.name in ("click", "press_key") and n.role in TOGGLES:
            return say.check(n, ("is on" if n.checked else "is off") if n.role == "switch" else
                             ("is ticked" if n.checked else "is unticked")), False  # fmt: skip
        if action.name in ("click", "press_key") and n.role == "radio" and n.checked:
            return say.check(n, "is selected"), False
        return "", False

    # ------------------------------------------------------------------ memory

    def _remember(self, view: View, action: Action, option: Option | None) -> None:
        self.first = False
        self.last = (view, action, option)
        self.searching = option.intent.sub if option is not None and option.reveals is not None else ""

    def _read(self, env: GuiEnv, goal: dict[str, Any], view: View) -> Tally | None:
        """Count the rows of a counting question that are on this screen (if it is theirs)."""
        spec = self.app.tally(env.model, goal)
        if spec is None or not spec.active(env.ui()):
            self.tallying = False
            return None
        scanning = self.last is not None and self.last[2] is not None and self.last[2].reveals is not None
        if not (self.tallying and scanning):  # the count starts afresh unless it is scrolling through the list
            self.rows, self.tallying = {}, True
        for e in view.elements:
            if e.key and spec.row(e):
                self.rows[e.key] = (e.name, bool(spec.counts(e)) if spec.counts else False,
                                    spec.rank(e) if spec.rank else None, spec.value(e) if spec.value else "")  # fmt: skip
        return spec

    def _tally(self, view: View, spec: Tally, done: bool) -> tuple[str, int]:
        """The running count (or best row) in words, naming only rows on this screen."""
        here = [e for e in view.elements if e.key in self.rows and spec.row(e)]
        if spec.counts is not None:
            names = [e.name for e in here if self.rows[e.key][1]]
            total = sum(1 for r in self.rows.values() if r[1])
            return self.say.tally(names, total - len(names), total, spec.noun, done), total
        best_key = min(self.rows, key=lambda k: self.rows[k][2]) if self.rows else None
        best = self.rows[best_key] if best_key else None
        shown = best is not None and any(e.key == best_key for e in here)
        return self.say.best(best[0] if shown else None, best[3] if best else None, spec.noun, done), 0

    def tally_total(self) -> int:
        return sum(1 for r in self.rows.values() if r[1])


def _check_tally(total: int, answer: str, app: str) -> None:
    """The expert's tally must reach the planner's answer: if it does not, the app's ``tally``
    and its planner disagree about which rows count (a bug in the app)."""
    raise RuntimeError(f"{app}: the agent counted {total} rows but the planner answers {answer!r}; "
                       "the app's tally() and plan() disagree")


def rollout(app: App, env: GuiEnv, agent: Agent, script: list[tuple[str, Action]],
            goal: dict[str, Any] | None = None, until: int = SIM_LIMIT) -> list[tuple[str, Action]]:  # fmt: skip
    """Extend ``script`` with ``agent``'s steps (for ``goal``) on ``env`` until done or ``until``."""
    while not env.done and len(script) < until:
        step = agent.step(env, goal)
        script.append(step)
        env.step(step[1])
    return script


# ---------------------------------------------------------------------------- teachers


class ExpertTeacher:
    def __init__(self, app: App, rng: random.Random):
        self.agent = Agent(app, rng)
        self.policy = Policy(f"{app.name}-expert", "expert", None,
                             {"order": "seeded among the planner's alternatives", "plain_form": PLAIN,
                              "click": "seeded point inside the box, 2 px clear of the edge",
                              "scroll": "about a screenful at a time until the target is in view"})  # fmt: skip

    def act(self, env: GuiEnv, history: list[Step]) -> tuple[str, Action]:
        return self.agent.step(env)


class ScriptTeacher:
    """Plays a script composed up front on a fork of the env (reflective and noisy)."""

    def __init__(self, app: App, tier: str, rng: random.Random, compose: Any):
        self.app, self.rng, self.compose = app, rng, compose
        self.policy = Policy(f"{app.name}-{tier}", tier, None, {})
        self.script: list[tuple[str, Action]] | None = None

    def act(self, env: GuiEnv, history: list[Step]) -> tuple[str, Action]:
        if self.script is None:
            self.script, info = self.compose(self.app, env, self.rng)
            self.policy.params.update(info)
        if len(history) >= len(self.script):
            raise RuntimeError(f"{self.policy.name}: script exhausted before the episode ended")
        return self.script[len(history)]


@dataclass(slots=True)
class Moment:
    """One state of a simulated expert episode: the env and the agent before the step, and
    the step (thought, action, the option it carried out)."""

    env: GuiEnv
    agent: Agent
    thought: str
    action: Action
    option: Option


def trace(app: App, live: GuiEnv, agent: Agent) -> list[Moment]:
    """The expert's episode simulated on a fork of ``live``, with the state before each step,
    so a tier can branch off at any step without replaying the prefix."""
    env = live.fork()
    out: list[Moment] = []
    while not env.done and len(out) < SIM_LIMIT:
        before, mind = env.fork(), agent.copy()
        option, action = choose(env, agent.rng)
        thought, _ = agent.step(env, option=option, action=action)
        out.append(Moment(before, mind, thought, action, option))
        env.step(action)
    return out


def _by_cause(mistakes: list[Mistake], rng: random.Random) -> list[Mistake]:
    """``mistakes`` shuffled so that each cause gets an equal chance to come first."""
    causes: dict[str, list[Mistake]] = {}
    for m in mistakes:
        causes.setdefault(m.cause, []).append(m)
    order = sorted(causes)
    rng.shuffle(order)
    out = []
    for c in order:
        rng.shuffle(causes[c])
        out += causes[c]
    return out


def compose_reflective(app: App, live: GuiEnv, rng: random.Random) -> tuple[list[tuple[str, Action]], dict]:
    """Expert steps, one caused slip at a seeded step, the next screen read and the slip
    named, then recovery through the planner."""
    base = trace(app, live, Agent(app, random.Random(rng.random())))
    start = rng.randrange(max(1, len(base) - 1))
    for k in [*range(start, len(base)), *range(start)]:
        m0 = base[k]
        if m0.action.name in ("finish", "answer"):
            continue
        last = m0.agent.last[:2] if m0.agent.last is not None else None
        for m in _by_cause(slips(m0.env, m0.option, rng, last), rng):
            agent, trial = m0.agent.copy(), m0.env.fork()
            if m.cause == "stale_screen":
                thought, action = agent.stale(trial, m)
            else:
                thought, action = agent.step(trial, option=m.intended, action=m.action, echo=m.cause != "typo")
            trial.step(action)
            if trial.done:
                continue
            expected = m0.env.fork()
            expected.step(m0.action)
            actual = trial.view()
            seen = evidence(m0.env.view(), expected.view(), actual)
            meant = m.intended.target if m.intended is not None else None
            meant = actual.nodes.get(meant.key) if meant is not None and meant.key else None
            agent.pending = agent.say.notice(seen.kind, seen.node, meant if meant is not None and meant.visible else None, seen.title)
            fix = rollout(app, trial, agent, [])
            if not (trial.done and trial.outcome(trial.answer).success):
                continue
            script = [(b.thought, b.action) for b in base[:k]]
            return [*script, (thought, action), *fix], {"mistake": m.params(k)}
    raise RuntimeError(f"{app.name}: no recoverable mistake found for the reflective tier")


def compose_noisy(app: App, live: GuiEnv, rng: random.Random) -> tuple[list[tuple[str, Action]], dict]:
    """Expert steps until a seeded step, then one caused mistake never noticed: a slip onto
    an element a wrongly believed goal would act on (then planning for that belief), a typo
    never read back, an answer from a partial count, or a premature finish. Each kind is
    equally likely to be tried first; candidates are made lazily (planning for a believed goal
    is the cost) and the first whose episode fails is kept."""
    base = trace(app, live, Agent(app, random.Random(rng.random())))
    believed = app.perturb(live.model, live.goal, rng)
    rng.shuffle(believed)
    kinds = ["slip", "typo", "premature", "partial"]
    rng.shuffle(kinds)
    for kind in [*kinds, "last"]:
        for k, m, goal in _noisy_candidates(kind, app, base, believed, rng):
            played = _play_noisy(app, live, base, k, m, goal)
            if played is not None:
                return played
    raise RuntimeError(f"{app.name}: no failing noisy continuation found")


def _noisy_candidates(kind: str, app: App, base: list[Moment], believed: list[dict[str, Any]],
                      rng: random.Random) -> Any:  # fmt: skip
    """(step, mistake, believed goal or None) of one kind, lazily."""
    if kind == "slip":  # where a believed goal first parts from the task, if a slip explains it
        for goal in believed:
            for k, m0 in enumerate(base):
                env = m0.env
                accepted = env.accepted_actions()
                wrong = [b for b in _options(env, goal) if not is_acceptable(accepted, *_probe(b), env.size)]
                if wrong:
                    m = next((m for b in wrong if (m := classify(env.view(), b, env.options(), env.size, rng))), None)
                    if m is not None:
                        yield k, m, goal
                    break
    elif kind == "typo":  # a typo never read back: the agent believes the goal with the typo in it
        for k, m0 in enumerate(base):
            typed, env = m0.option.entry, m0.env
            if typed["name"] != "type" or not any(c.isascii() and c.isalnum() for c in typed["text"]):
                continue
            wrong = typo(typed["text"], rng)
            goal = substitute(env.goal, typed["text"], wrong)
            args = {"text": wrong} if typed["focused"] else {"text": wrong, "element": typed["element"]}
            if goal != env.goal and is_acceptable([o.entry for o in _options(env, goal)], "type", args, env.size):
                yield k, Mistake("typo", Action("type", args), m0.option, m0.option.target, wrong), goal
    elif kind == "premature":  # finishing right after a sub-goal was done
        steps = [k for k in range(1, len(base)) if base[k].action.name not in ("finish", "answer") and _milestone(base[k - 1], base[k])]
        rng.shuffle(steps)
        yield from ((k, Mistake("premature_finish", Action("finish", {}), None), None) for k in steps)
    elif kind == "partial":  # answering a count from the rows seen so far
        steps = [k for k, m0 in enumerate(base) if m0.option.reveals is not None and m0.option.intent.kind == "show"
                 and app.tally(m0.env.model, m0.env.goal) is not None]  # fmt: skip
        rng.shuffle(steps)
        yield from ((k, Mistake("premature_finish", Action("answer", {"answer": ""}), None), None) for k in steps)
    else:  # the last resort: a question left unanswered, a task left half done
        steps = [k for k in range(1, len(base)) if base[k].action.name != "finish"]
        rng.shuffle(steps)
        yield from ((k, Mistake("premature_finish", Action("finish", {}), None), None) for k in steps)


def _play_noisy(app: App, live: GuiEnv, base: list[Moment], k: int, m: Mistake,
                goal: dict[str, Any] | None) -> tuple[list[tuple[str, Action]], dict] | None:  # fmt: skip
    """The episode with mistake ``m`` at step ``k`` (then planning for ``goal``), if it fails."""
    m0 = base[k]
    agent, env = m0.agent.copy(), m0.env.fork()
    script = [(b.thought, b.action) for b in base[:k]]
    if m.cause == "premature_finish" and m.action.name == "finish":
        script.append(agent.finish_now(env))
    elif m.cause == "premature_finish":
        agent._read(env, env.goal, env.view())
        partial = str(agent.tally_total())
        script.append(agent.answer_now(env, partial))
        m = Mistake(m.cause, script[-1][1], None, detail=f"answered {partial} from the rows counted so far")
    else:
        script.append(agent.step(env, option=m.intended, action=m.action, echo=m.cause != "typo"))
    env.step(script[-1][1])
    agent.careless = True
    if m.cause == "typo":
        agent.words = {m.detail: m.intended.entry["text"]}
    if goal is not None:
        try:
            rollout(app, env, agent, script, goal=goal, until=k + 1 + SIM_LIMIT)
        except PlanError:  # the believed goal leads nowhere the planner can follow
            return None
    if not env.done or env.outcome(env.answer).success:
        return None
    info: dict[str, Any] = {"mistake": m.params(k)}
    if goal is not None:  # what the agent believed differently (the expected state left out)
        info["believed"] = canonical_json({key: v for key, v in goal.items() if key != "expect" and live.goal.get(key) != v})
    return script, info


def substitute(value: Any, old: str, new: str) -> Any:
    """``value`` (JSON) with every string equal to ``old`` replaced by ``new``: the goal an
    agent believes after mistyping ``old`` as ``new`` and never reading it back."""
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [substitute(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, old, new) for k, v in value.items()}
    return value


def _milestone(before: Moment, now: Moment) -> bool:
    """Whether the step before ``now`` completed a sub-goal (it left the plan), which is when
    an agent may wrongly believe it is done. Not for question tasks: they end with an answer."""
    options = now.env.options()
    if any(o.entry["name"] == "answer" for o in options):
        return False
    return before.option.intent.sub not in {o.intent.sub for o in options}


def _options(env: GuiEnv, goal: dict[str, Any]) -> list[Option]:
    """The options of a believed goal, or none when the planner cannot follow it from here
    (a mistyped search query finds nothing to open)."""
    try:
        return env.options(goal)
    except PlanError:
        return []


def _probe(option: Option) -> tuple[str, dict[str, Any]]:
    """A concrete action of ``option`` for an acceptance test (the element-id form)."""
    e = option.entry
    if e["name"] in ("click", "long_press"):
        return e["name"], {"element": e["element"]}
    if e["name"] == "type":
        return "type", {"text": e["text"], "element": e["element"]}
    if e["name"] == "select":
        return "select", {"element": e["element"], "option": e["option"]}
    if e["name"] == "scroll":
        return "scroll", {"direction": e["direction"], "amount": e["amount"][0], "element": e["element"]}
    if e["name"] == "press_key":
        return "press_key", {"key": e["key"]}
    if e["name"] == "answer":
        return "answer", {"answer": e["answers"][0]}
    return e["name"], {}


class RandomTeacher:
    """Well-formed actions drawn from the whole action space, then ``finish``; thoughts from
    the shared phrasing layer (what it tries, and that it might help).

    Now and then (``FOLLOW`` of its steps) it does take a step toward the goal through the
    agent every tier thinks with, in that agent's words: a user poking at an app does hit the
    right control sometimes, and a tier whose thoughts never once plan for the goal would be
    told apart by that alone. It still stops after its drawn number of steps, so it rarely
    gets all the way (when it does, it finishes or answers as the agent would)."""

    TEXTS = ("hello", "test", "Archive", "12", "yes", "Portuguese", "report")
    FOLLOW = 0.3

    def __init__(self, app: App, rng: random.Random):
        self.app, self.rng = app, rng
        self.agent = Agent(app, random.Random(rng.random()))
        self.say = self.agent.say
        self.steps = rng.randint(1, RANDOM_MAX_STEPS)
        self.policy = Policy(f"{app.name}-random", "random", None, {"steps": self.steps, "follow": self.FOLLOW})

    def act(self, env: GuiEnv, history: list[Step]) -> tuple[str, Action]:
        if len(history) < self.steps and self.rng.random() < self.FOLLOW:
            return self.agent.step(env)
        say, view = self.say, env.view()
        lead = [say.opening(self.app.needs(env.goal))] if not history else []
        if say.maybe(0.6) or not history:
            lead.append(say.screen(view))
        if len(history) >= self.steps:
            self.agent._remember(view, Action("finish", {}), None)
            return say.join([*lead, say.finish()]), Action("finish", {})
        name, args, target = self._draw(env, view)
        self.agent._remember(view, Action(name, args), None)
        if name == "answer":  # a guess: said without quotes, it names nothing on screen
            return say.join([*lead, say.answer(args["answer"], quoted=False)]), Action(name, args)
        why = say.why(say.guess(target)) if say.maybe(0.6) else ""
        return say.join([*lead, why, say.act(name, target, args, echo=False)]), Action(name, args)

    def _draw(self, env: GuiEnv, view: View) -> tuple[str, dict[str, Any], Any]:
        rng = self.rng
        w, h = env.size
        r = rng.random()
        if r < 0.55:
            els = [e for e in view.elements if e.role in INTERACTIVE]
            x, y = point_in(rng.choice(els).box, rng) if els and r < 0.35 else (rng.randrange(w), rng.randrange(h))
            return ("long_press" if r < 0.03 else "click"), {"x": x, "y": y}, view.hit(x, y)
        if r < 0.68:
            text = rng.choice(self.TEXTS)
            args: dict[str, Any] = {"text": text}
            target = next((e for e in view.elements if e.focused), None)
            if rng.random() < 0.5 and view.elements:
                target = rng.choice(view.elements)
                args["element"] = target.id
            return "type", args, target
        if r < 0.74:
            combos = [e for e in view.elements if e.role == "combobox"] or view.elements
            el = rng.choice(combos)
            choice = rng.choice(el.options) if el.options else rng.choice(self.TEXTS)
            return "select", {"element": el.id, "option": choice}, el
        if r < 0.84:
            d, n = rng.choice(("up", "down", "down", "left", "right")), rng.randint(1, 5)
            return "scroll", {"direction": d, "amount": n}, view.main_scroller()
        if r < 0.92:
            return "press_key", {"key": rng.choice(KEYS)}, next((e for e in view.elements if e.focused), None)
        if r < 0.96:
            return "navigate_back", {}, None
        if r < 0.985:
            return "wait", {}, None
        return "answer", {"answer": rng.choice(self.TEXTS)}, None


def make_teacher(app: App, tier: str, task: Task, rng: random.Random) -> Any:
    if tier == "expert":
        return ExpertTeacher(app, rng)
    if tier == "reflective":
        return ScriptTeacher(app, tier, rng, compose_reflective)
    if tier == "noisy":
        return ScriptTeacher(app, tier, rng, compose_noisy)
    if tier == "random":
        return RandomTeacher(app, rng)
    if tier == "llm":
        raise ValueError("llm episodes are run by the agent runner (synth.llm.agent) through llm_protocol, not by make_teacher")
    raise ValueError(f"{app.name} has no {tier!r} teacher; tiers: expert, reflective, noisy, random, llm")


# ---------------------------------------------------------------------------- LLM protocol

SYSTEM = """You operate the {app} app on a simulated {w}x{h} screen to do a task for a user.
Each turn you see the screen as an accessibility tree: a header line, then one element per
line, indented by nesting: [id] role "name" state bbox=(x0,y0,x1,y1), where the box is in
pixels (x0 <= x < x1, y0 <= y < y1). The first line of each new screen says what your last
action did. Elements scrolled out of view are not listed: scroll to find them. While a dialog
is open, only the dialog takes input.

Reply with one short thought and exactly one action, in this format:
Thought: <what the task needs, what is on screen, which element, why>
Action: {{"name": "<action>", "arguments": {{...}}}}

Actions:
{actions}

Finish with "finish" once the task is done, or "answer" when the task asks a question."""

KEEP_SCREENS = 3  # earlier screens are elided from the prompt (they grow long)


class LLMProtocol:
    """Messages for the next turn and parsing of a reply (see :class:`synth.llm.agent.AgentProtocol`)."""

    def __init__(self, app: App, task: Task):
        w, h = task.env["screen"]
        actions = "\n".join(f"- {name} {schema}" for name, schema in ACTIONS.items())
        self.system = SYSTEM.format(app=app.name, w=w, h=h, actions=actions)

    def messages(self, task: Task, history: list[Step], observation: str) -> list[dict[str, Any]]:
        screens = [*(s.observation.text for s in history[:-1]), observation] if history else []
        out = [{"role": "system", "content": self.system}]
        opening = f"Task: {task.instruction}"
        if not history:
            return [*out, {"role": "user", "content": f"{opening}\n\nScreen:\n{observation}"}]
        out.append({"role": "user", "content": opening})
        for i, (step, screen) in enumerate(zip(history, screens, strict=True)):
            out.append({"role": "assistant", "content": f"Thought: {step.thought}\nAction: {_action_json(step.action)}"})
            keep = i >= len(history) - KEEP_SCREENS
            out.append({"role": "user", "content": screen if keep else screen.split("\n", 1)[0] + "\n(screen elided)"})
        return out

    def parse(self, reply: str) -> tuple[str, Action]:
        text = reply.strip()
        at = text.rfind("Action:")
        head, tail = (text[:at], text[at + len("Action:") :]) if at >= 0 else (text, text)
        blob = _json_object(tail)
        if blob is None:
            raise ValueError('no action found: end the reply with a line Action: {"name": ..., "arguments": {...}}')
        try:
            data = json.loads(blob)
        except json.JSONDecodeError as e:
            raise ValueError(f"the action is not valid JSON ({e.msg}): {blob[:200]}") from None
        name, args = data.get("name") if isinstance(data, dict) else None, data.get("arguments", {}) if isinstance(data, dict) else None
        if name not in ACTIONS:
            raise ValueError(f"unknown action {name!r}; actions are {', '.join(ACTIONS)}")
        if not isinstance(args, dict):
            raise ValueError(f'"arguments" must be a JSON object, got {args!r}')
        thought = re.sub(r"^\s*Thought:\s*", "", head if at >= 0 else "").strip()
        return thought, Action(name, args)


def _action_json(action: Action) -> str:
    return canonical_json({"name": action.name, "arguments": action.arguments})


def _json_object(text: str) -> str | None:
    """The first balanced ``{...}`` in ``text`` (code fences and prose around it ignored)."""
    start = text.find("{")
    if start < 0:
        return None
    depth, quoted, escaped = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if quoted:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
            continue
        if c == '"':
            quoted = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None
