"""The GUI teacher tiers, generic over apps, and the LLM agent protocol.

All scripted tiers act through the env's planner (:meth:`GuiEnv.options`): the accepted
actions of the current state, each tagged with the intent it serves. So they work for any
app, and what they do is checked by the same step checker that labels the data.

- ``expert`` picks among the planner's alternatives with its seeded rng (so the order of
  independent sub-goals varies), prefers the plain form of an intent (a click) over its
  alternatives (a key, the element-id form) 70/30, and clicks at a seeded point inside the
  box 2 px clear of its edge. Its thought says what the instruction needs (first step), what
  is on screen, which element (role, name, id), then the action.
- ``reflective`` makes one plausible wrong action at a seeded step (a neighbouring element,
  the right text in the wrong field, a wrong value or option), then notices it from the next
  observation's event line and recovers through the planner; it ends successful, and the
  wrong step is the first the checker rejects.
- ``noisy`` makes a mistake it never notices: from a seeded step it acts as an expert for a
  goal it wrongly believes (the app's ``perturb``: a neighbouring item, a wrong value, values
  in each other's fields) or finishes prematurely; it ends failed.
- ``random`` draws well-formed actions from the whole action space, then finishes.

Reflective and noisy episodes are composed up front by simulation on a fork of the env (so
the recovery and the failure are checked before the episode is played); thoughts are written
against the forked screens, which are the same as the live ones.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from stores.schema import Action, Policy, Step, Task, canonical_json
from synth.gui.actions import ACTIONS, KEYS
from synth.gui.app import App
from synth.gui.env import GuiEnv, Option
from synth.gui.toolkit import INTERACTIVE, quote

PLAIN = 0.7  # how often the expert takes an intent's plain form (a click) over its alternatives
SIM_LIMIT = 40  # steps a simulated rollout may take
RANDOM_MAX_STEPS = 12


# ---------------------------------------------------------------------------- expert moves


def point_in(box: list[int] | tuple[int, ...], rng: random.Random) -> tuple[int, int]:
    """A seeded pixel inside ``box``, 2 px clear of its edge: varied, not always the centre."""
    x0, y0, x1, y1 = box
    x = rng.randint(x0 + 2, x1 - 3) if x1 - x0 > 5 else (x0 + x1) // 2
    y = rng.randint(y0 + 2, y1 - 3) if y1 - y0 > 5 else (y0 + y1) // 2
    return x, y


def choose(env: GuiEnv, rng: random.Random, goal: dict[str, Any] | None = None) -> tuple[Option, Action]:
    """The expert's next option (a seeded intent, mostly its plain form) and action."""
    options = env.options(goal)
    intents: list[Any] = []
    for o in options:
        if not any(o.intent is i for i in intents):
            intents.append(o.intent)
    intent = rng.choice(intents)
    forms = [o for o in options if o.intent is intent]
    option = forms[0] if len(forms) == 1 or rng.random() < PLAIN else rng.choice(forms[1:])
    return option, realize(option, rng)


def realize(option: Option, rng: random.Random) -> Action:
    """A concrete action for an accepted entry (pixels for pointer actions)."""
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
        args: dict[str, Any] = {"direction": e["direction"], "amount": option.hint}
        if not e["main"] or rng.random() < 0.5:
            args["x"], args["y"] = point_in(e["box"], rng)
        return Action("scroll", args)
    if name == "press_key":
        return Action("press_key", {"key": e["key"]})
    if name == "answer":
        return Action("answer", {"answer": e["answers"][0]})
    return Action(name, {})


def screen_words(env: GuiEnv) -> str:
    view = env.view()
    top = view.top
    text = f"The screen shows {quote(view.title)}"
    if top.role == "dialog":
        text += f" with the dialog {quote(top.name)} open"
    elif top.role in ("menu", "listbox"):
        text += f" with the {'menu' if top.role == 'menu' else 'option list'} {quote(top.name)} open"
    return text + "."


def act_words(option: Option, action: Action) -> str:
    """The action in words, naming the element it acts on (role, name and id)."""
    a, t = action.arguments, option.target
    name = action.name
    if name in ("click", "long_press"):
        verb = "click" if name == "click" else "long-press"
        return f"That is {t.ref()}; I {verb} it at ({a['x']}, {a['y']})."
    if name == "type":
        return f"I type {quote(a['text'])} into {t.ref()}."
    if name == "select":
        return f"I select {quote(a['option'])} in {t.ref()}."
    if name == "scroll":
        return f"I scroll {a['direction']} by {a['amount']} in {t.ref()}."
    if name == "press_key":
        return f"I press {a['key']}" + (f" on {t.ref()}." if t is not None else ".")
    if name == "navigate_back":
        return "I navigate back."
    if name == "answer":
        return f"The answer is {quote(a['answer'])}."
    return "Everything the instruction asks for is done; I finish."


def thought(app: App, env: GuiEnv, goal: dict[str, Any], option: Option, action: Action, first: bool) -> str:
    """What the instruction needs (first step), what is on screen, the step and the action."""
    parts = [f"The instruction needs: {'; '.join(app.needs(goal))}."] if first else []
    parts.append(screen_words(env))
    why = option.intent.why
    if why and option.intent.kind != "finish":
        parts.append(why[0].upper() + why[1:] + ".")
    parts.append(act_words(option, action))
    return " ".join(parts)


def expert_step(app: App, env: GuiEnv, rng: random.Random, first: bool,
                goal: dict[str, Any] | None = None) -> tuple[str, Action]:  # fmt: skip
    option, action = choose(env, rng, goal)
    return thought(app, env, goal or env.goal, option, action, first), action


def rollout(app: App, env: GuiEnv, rng: random.Random, script: list[tuple[str, Action]],
            goal: dict[str, Any] | None = None, until: int = SIM_LIMIT, opened: bool = False) -> list[tuple[str, Action]]:  # fmt: skip
    """Extend ``script`` with expert steps (for ``goal``) on ``env`` until done or ``until``
    (``opened``: the episode has steps before ``script``, so no opening overview)."""
    while not env.done and len(script) < until:
        step = expert_step(app, env, rng, not script and not opened, goal)
        script.append(step)
        env.step(step[1])
    return script


# ---------------------------------------------------------------------------- teachers


class ExpertTeacher:
    def __init__(self, app: App, rng: random.Random):
        self.app, self.rng = app, rng
        self.policy = Policy(f"{app.name}-expert", "expert", None,
                             {"order": "seeded among the planner's alternatives", "plain_form": PLAIN,
                              "click": "seeded point inside the box, 2 px clear of the edge"})  # fmt: skip

    def act(self, env: GuiEnv, history: list[Step]) -> tuple[str, Action]:
        return expert_step(self.app, env, self.rng, not history)


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


def trace(app: App, live: GuiEnv, rng: random.Random) -> list[tuple[GuiEnv, str, Action]]:
    """The expert's episode simulated on a fork of ``live``, with the state before each step
    (a fork), so a tier can branch off at any step without replaying the prefix."""
    env = live.fork()
    out: list[tuple[GuiEnv, str, Action]] = []
    while not env.done and len(out) < SIM_LIMIT:
        before = env.fork()
        thought, action = expert_step(app, env, rng, not out)
        out.append((before, thought, action))
        env.step(action)
    return out


def mistakes(env: GuiEnv, option: Option, rng: random.Random) -> list[tuple[Action, str]]:
    """Plausible wrong actions instead of ``option``, each with the words for what it does."""
    view = env.view()
    e, t = option.entry, option.target
    top = len(view.layers) - 1
    out: list[tuple[Action, str]] = []
    if e["name"] == "click" and t is not None:
        peers = [el for el in view.elements if el.layer == top and el.role in INTERACTIVE and el is not t]
        near = sorted(peers, key=lambda el: (el.role != t.role, abs(el.id - t.id)))[:4]
        for el in near:
            x, y = point_in(el.box, rng)
            out.append((Action("click", {"x": x, "y": y}), f"That is {el.ref()}; I click it at ({x}, {y})."))
    elif e["name"] == "type" and t is not None:
        fields = [el for el in view.elements if el.layer == top and el.role == "textbox" and el is not t]
        for el in fields[:3]:
            out.append((Action("type", {"text": e["text"], "element": el.id}), f"I type {quote(e['text'])} into {el.ref()}."))
        if e["text"]:
            wrong = e["text"][:-1] if len(e["text"]) > 1 else e["text"] + e["text"]
            out.append((Action("type", {"text": wrong, "element": t.id}), f"I type {quote(wrong)} into {t.ref()}."))
    elif e["name"] == "select" and t is not None:
        for o in [o for o in t.options if o != e["option"]][:3]:
            out.append((Action("select", {"element": t.id, "option": o}), f"I select {quote(o)} in {t.ref()}."))
    rng.shuffle(out)
    return out


def compose_reflective(app: App, live: GuiEnv, rng: random.Random) -> tuple[list[tuple[str, Action]], dict]:
    """Expert steps, one wrong action at a seeded step, a step that notices it, recovery."""
    base = trace(app, live, random.Random(rng.random()))
    start = rng.randrange(max(1, len(base) - 1))
    for k in [*range(start, len(base)), *range(start)]:
        env = base[k][0]
        script = [(t, a) for _, t, a in base[:k]]
        intended, _ = choose(env, random.Random(rng.random()))
        for wrong, words in mistakes(env, intended, rng):
            if env.accepts(wrong):
                continue
            trial = env.fork()
            event = trial.step(wrong).text.split("\n", 1)[0]
            if trial.done:
                continue
            fix = rollout(app, trial, random.Random(rng.random()), [], opened=True)
            if not (trial.done and trial.outcome(trial.answer).success):
                continue
            lead = f"The instruction needs: {'; '.join(app.needs(env.goal))}. " if not script else ""
            why = intended.intent.why
            step = f"{lead}{screen_words(env)} {why[0].upper() + why[1:]}. {words}"
            notice = (f"Checking the result: {event}. That was a mistake: I meant to act on "
                      f"{_aim(intended)}. I correct it. ")  # fmt: skip
            recovery = [(notice + fix[0][0], fix[0][1]), *fix[1:]]
            return [*script, (step, wrong), *recovery], {"mistake_step": k, "mistake": canonical_json(wrong.arguments)}
    raise RuntimeError(f"{app.name}: no recoverable mistake found for the reflective tier")


def _aim(option: Option) -> str:
    t = option.target
    if option.entry["name"] == "type":
        return f"{t.ref()} with {quote(option.entry['text'])}"
    if option.entry["name"] == "select":
        return f"{t.ref()} with {quote(option.entry['option'])}"
    return t.ref() if t is not None else "something else"


def compose_noisy(app: App, live: GuiEnv, rng: random.Random) -> tuple[list[tuple[str, Action]], dict]:
    """Expert steps until a seeded step, then a mistake never noticed: acting for a wrongly
    believed goal, or finishing before the task is done. Kept only if the episode fails."""
    base = trace(app, live, random.Random(rng.random()))
    wrong_goals = app.perturb(live.model, live.goal, rng)
    rng.shuffle(wrong_goals)
    kinds = ["believed"] * len(wrong_goals) + ["premature"] * max(1, len(wrong_goals) // 3)
    rng.shuffle(kinds)
    for kind in [*kinds, "premature"]:
        k = rng.randrange(max(1, len(base) - 1))
        env = base[k][0].fork()
        script = [(t, a) for _, t, a in base[:k]]
        if kind == "premature":
            words = "The task looks simple enough to be done already" if not script else "Everything the instruction asks for looks done"
            script.append((f"{screen_words(env)} {words}; I finish.", Action("finish", {})))
            env.step(script[-1][1])
            info = {"mistake": "premature_finish"}
        else:
            believed = wrong_goals.pop()
            rollout(app, env, random.Random(rng.random()), script, goal=believed)
            info = {"mistake": "believed_goal", "believed": canonical_json(believed)}
        if env.done and not env.outcome(env.answer).success:
            return script, {**info, "mistake_from": k}
    raise RuntimeError(f"{app.name}: no failing noisy continuation found")


class RandomTeacher:
    """Well-formed actions drawn from the whole action space, then ``finish``."""

    TEXTS = ("hello", "test", "Archive", "12", "yes", "Portuguese", "report")

    def __init__(self, app: App, rng: random.Random):
        self.rng = rng
        self.steps = rng.randint(1, RANDOM_MAX_STEPS)
        self.policy = Policy(f"{app.name}-random", "random", None, {"steps": self.steps})

    def act(self, env: GuiEnv, history: list[Step]) -> tuple[str, Action]:
        rng = self.rng
        if len(history) >= self.steps:
            return "I stop here.", Action("finish", {})
        view = env.view()
        w, h = env.size
        r = rng.random()
        if r < 0.55:
            els = [e for e in view.elements if e.role in INTERACTIVE]
            x, y = point_in(rng.choice(els).box, rng) if els and r < 0.35 else (rng.randrange(w), rng.randrange(h))
            name = "long_press" if r < 0.03 else "click"
            return f"Trying a {name} at ({x}, {y}).", Action(name, {"x": x, "y": y})
        if r < 0.68:
            text = rng.choice(self.TEXTS)
            args: dict[str, Any] = {"text": text}
            if rng.random() < 0.5 and view.elements:
                args["element"] = rng.choice(view.elements).id
            return f"Trying to type {quote(text)}.", Action("type", args)
        if r < 0.74:
            combos = [e for e in view.elements if e.role == "combobox"] or view.elements
            el = rng.choice(combos)
            choice = rng.choice(el.options) if el.options else rng.choice(self.TEXTS)
            return f"Trying to select {quote(choice)}.", Action("select", {"element": el.id, "option": choice})
        if r < 0.84:
            d, n = rng.choice(("up", "down", "down", "left", "right")), rng.randint(1, 5)
            return f"Trying to scroll {d}.", Action("scroll", {"direction": d, "amount": n})
        if r < 0.92:
            key = rng.choice(KEYS)
            return f"Trying the {key} key.", Action("press_key", {"key": key})
        if r < 0.96:
            return "Trying to go back.", Action("navigate_back", {})
        if r < 0.985:
            return "Waiting a moment.", Action("wait", {})
        text = rng.choice(self.TEXTS)
        return f"Guessing the answer {quote(text)}.", Action("answer", {"answer": text})


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
