"""The ``form`` family (kind ``gui``): fill in and submit a simulated registration form.

The agent reads an instruction ("Register Alice Moreau (alice.moreau@example.org) from
Portugal and subscribe to the newsletter, then submit."), sees the form as accessibility-tree
text, and acts with ``click(x, y)``, ``type(text)`` into the focused field,
``select(element, option)`` on a dropdown, or ``finish``. Success is state-based: the values
the form held when Submit was clicked must equal the target; the action sequence is free.

Difficulty sets what the form holds (fields the instruction asks to fill / distractors):

====  ==========================================  ========================================
 d    fields to fill                              distractors
====  ==========================================  ========================================
 1    name, email (2)                             none
 2    + country dropdown (3)                      Cancel button
 3    + newsletter checkbox (4)                   Cancel, coupon-code field
 4    + phone (5)                                 Cancel, Reset, coupon-code field
 5    + company (6)                               Cancel, Reset, coupon-code, referral field
====  ==========================================  ========================================

The newsletter target is seeded: "do not subscribe" leaves the checkbox as it is, so it is a
field to get right without an action. Field order, labels ("Full name" / "Name"), button
texts, dropdown options and the pixel layout all vary with the seed.

Typing replaces the focused field's value (Mind2Web's TYPE, Playwright's ``fill``), so each
field has exactly one correct text and a retry does not have to clear the field first. Text is
compared after collapsing whitespace; emails also ignore case and phone numbers keep only
digits and a leading "+", so harmless variants of a value count as the value (one rule,
:func:`normalize`, serves both the step checker and the verifier, so they never disagree).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from stores.schema import Action, Outcome, Policy, Step, Task, canonical_json
from synth.episode import StepResult
from synth.gui.widgets import SCREEN_H, SCREEN_W, Item, Widget, hit, layout_form, render_tree
from synth.registry import register

FAMILY = "form"
VERIFIER = "form-state"


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    role: str
    labels: tuple[str, ...]
    noun: str  # how instructions, thoughts and verdicts name it
    fmt: str = "text"  # comparison rule: text | email | phone


FIELDS = {
    f.key: f
    for f in (
        Field("name", "textbox", ("Full name", "Name", "Your name"), "name"),
        Field(
            "email",
            "textbox",
            ("Email", "E-mail address", "Email address"),
            "email address",
            "email",
        ),
        Field(
            "country", "combobox", ("Country", "Country of residence", "Country/Region"), "country"
        ),
        Field(
            "newsletter",
            "checkbox",
            ("Subscribe to newsletter", "Send me the newsletter", "Email me product news"),
            "newsletter",
        ),
        Field(
            "phone", "textbox", ("Phone", "Phone number", "Mobile number"), "phone number", "phone"
        ),
        Field("company", "textbox", ("Company", "Organisation", "Employer"), "company"),
        Field("coupon", "textbox", ("Coupon code", "Promo code", "Discount code"), "coupon code"),
        Field(
            "referrer",
            "textbox",
            ("How did you hear about us?", "Referral code", "Referred by"),
            "referral",
        ),
    )
}
BUTTONS = {
    "submit": ("Submit", "Register", "Sign up", "Create account"),
    "cancel": ("Cancel", "Back"),
    "reset": ("Reset", "Clear form"),
}
HEADINGS = ("Create your account", "Registration", "Join the mailing list", "New member sign-up")
# difficulty -> (fields to fill, distractor fields, distractor buttons)
LEVELS: dict[int, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    1: (("name", "email"), (), ()),
    2: (("name", "email", "country"), (), ("cancel",)),
    3: (("name", "email", "country", "newsletter"), ("coupon",), ("cancel",)),
    4: (("name", "email", "country", "newsletter", "phone"), ("coupon",), ("cancel", "reset")),
    5: (
        ("name", "email", "country", "newsletter", "phone", "company"),
        ("coupon", "referrer"),
        ("cancel", "reset"),
    ),
}

FIRST = (
    "Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Gustav", "Hana", "Ivan", "Julia", "Kofi",
    "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
LAST = (
    "Moreau", "Silva", "Nakamura", "Okafor", "Schmidt", "Kowalski", "Haddad", "Larsen", "Novak",
    "Rossi", "Mensah", "Petrova", "Garcia", "Lindqvist", "Banerjee", "Dubois", "Ferreira", "Ito",
    "Kim", "Walsh",
)  # fmt: skip
DOMAINS = ("example.org", "example.com", "example.net", "mail.example.org")
COUNTRIES = (
    "Argentina", "Australia", "Brazil", "Canada", "Egypt", "France", "Germany", "Ghana", "India",
    "Japan", "Kenya", "Mexico", "Norway", "Poland", "Portugal", "Spain", "Sweden", "Vietnam",
)  # fmt: skip
DIAL_CODES = ("1", "33", "34", "39", "44", "49", "81", "351")
COMPANIES = (
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Wide World Importers",
    "Adventure Works", "Lakeshore Bakery", "Blue Yonder Air",
)  # fmt: skip
STRAY_TEXT = {
    "coupon": ("SAVE10", "WELCOME5", "FREESHIP", "SPRING24"),
    "referrer": ("a friend", "Podcast", "Search"),
}

OPENINGS = (
    "Register {name} ({email})",
    "Sign up {name} using the email address {email}",
    "Create an account for {name} with email {email}",
    "Fill in the form for {name}, email {email}",
)
DETAILS = {
    "country": ("from {v}", "who lives in {v}", "country {v}"),
    "phone": ("phone number {v}", "reachable at {v}"),
    "company": ("who works at {v}", "company {v}"),
}
NEWSLETTER = {
    True: ("subscribe to the newsletter", "opt in to the newsletter"),
    False: ("do not subscribe to the newsletter", "leave the newsletter unchecked"),
}
ENDINGS = (", then submit.", ". Submit the form when done.", ", and submit the form.")


# ---------------------------------------------------------------------------- values


def normalize(key: str, value: str) -> str:
    """The form of a text value that the step checker and the verifier compare."""
    fmt = FIELDS[key].fmt if key in FIELDS else "text"
    if fmt == "phone":
        return ("+" if value.strip().startswith("+") else "") + "".join(
            c for c in value if c in "0123456789"
        )
    text = " ".join(value.split())
    return text.casefold() if fmt == "email" else text


def same_value(key: str, got: Any, want: Any) -> bool:
    if isinstance(want, bool):
        return got is want
    return isinstance(got, str) and normalize(key, got) == normalize(key, want)


def verify_submission(
    target: dict[str, Any], submitted: dict[str, Any] | None, why_not: str = ""
) -> Outcome:
    """The ``form-state`` verifier: the submitted values equal the target, field by field.

    ``submitted`` is None when the form never got submitted (``why_not`` says how it ended).
    The detail names every field that differs, with what it held and what was wanted.
    """
    if submitted is None:
        return Outcome(False, VERIFIER, f"form not submitted: {why_not or 'no submit'}")
    diffs = [
        f"{k}: got {_show(submitted.get(k))}, want {_show(v)}"
        for k, v in sorted(target.items())
        if not same_value(k, submitted.get(k), v)
    ]
    if diffs:
        return Outcome(False, VERIFIER, "submitted state differs in " + "; ".join(diffs))
    return Outcome(
        True, VERIFIER, f"submitted state matches the target ({', '.join(sorted(target))})"
    )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------- tasks


def make_task(seed: int, difficulty: int) -> Task:
    """A form and an instruction, fully determined by ``(seed, difficulty)``."""
    if difficulty not in LEVELS:
        raise ValueError(f"form difficulty must be one of {sorted(LEVELS)}, got {difficulty!r}")
    rng = random.Random(seed)
    wanted, stray, extra_buttons = LEVELS[difficulty]
    target = _target_values(wanted, rng)
    options = _country_options(target.get("country"), rng)
    for key in stray:
        target[key] = ""
    keys = [*wanted, *stray]
    rng.shuffle(keys)
    fields = [
        Item(FIELDS[k].role, k, rng.choice(FIELDS[k].labels), options if k == "country" else ())
        for k in keys
    ]
    button_keys = ["submit", *extra_buttons]
    rng.shuffle(button_keys)
    buttons = [Item("button", k, rng.choice(BUTTONS[k])) for k in button_keys]
    widgets = layout_form(rng.choice(HEADINGS), fields, buttons, rng)
    instruction = _instruction(target, wanted, rng)
    env = {"screen": [SCREEN_W, SCREEN_H], "widgets": [w.spec() for w in widgets]}
    reference = {"target": target}
    content = {
        "family": FAMILY,
        "difficulty": difficulty,
        "instruction": instruction,
        "reference": reference,
        "env": env,
    }
    task_id = f"{FAMILY}-" + hashlib.sha256(canonical_json(content).encode()).hexdigest()[:16]
    return Task(task_id, FAMILY, instruction, difficulty, reference, env, seed)


def _target_values(wanted: tuple[str, ...], rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}", f"{first}{last[0]}")
    )
    values: dict[str, Any] = {
        "name": f"{first} {last}",
        "email": f"{local.lower()}@{rng.choice(DOMAINS)}",
        "country": rng.choice(COUNTRIES),
        "newsletter": rng.random() < 0.5,
        "phone": f"+{rng.choice(DIAL_CODES)} {rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "company": rng.choice(COMPANIES),
    }
    return {k: values[k] for k in wanted}


def _country_options(country: str | None, rng: random.Random) -> tuple[str, ...]:
    if country is None:
        return ()
    others = rng.sample([c for c in COUNTRIES if c != country], rng.randint(4, 7))
    return tuple(sorted([*others, country]))


def _instruction(target: dict[str, Any], wanted: tuple[str, ...], rng: random.Random) -> str:
    text = rng.choice(OPENINGS).format(name=target["name"], email=target["email"])
    details = [rng.choice(DETAILS[k]).format(v=target[k]) for k in wanted if k in DETAILS]
    rng.shuffle(details)
    if details:
        text += ", " + ", ".join(details)
    if "newsletter" in target:
        text += "; " + rng.choice(NEWSLETTER[target["newsletter"]])
    return text + rng.choice(ENDINGS)


# ---------------------------------------------------------------------------- environment


class FormEnv:
    """The form's live state. Built from ``Task.env`` alone, so a stored task replays exactly."""

    def __init__(self, task: Task):
        self.widgets = [Widget.from_spec(s) for s in task.env["widgets"]]
        self.by_id = {w.id: w for w in self.widgets}
        self.target: dict[str, Any] = task.reference["target"]
        self.inputs = [w for w in self.widgets if w.key in self.target]
        self.submit = next(w for w in self.widgets if w.key == "submit")
        self.focused: int | None = None
        self.done = False
        self.ended_by: str | None = None  # submit | cancel | finish
        self.submitted: dict[str, Any] | None = None
        self._accepted: list[dict[str, Any]] | None = None  # the runner asks twice per step

    def observe(self) -> str:
        """The accessibility tree as the agent sees it now (also the pre-episode screen)."""
        return render_tree(self.widgets, self.focused)

    def state(self) -> dict[str, Any]:
        return {w.key: w.checked if w.role == "checkbox" else w.value for w in self.inputs}

    def satisfied(self, w: Widget) -> bool:
        return same_value(w.key, w.checked if w.role == "checkbox" else w.value, self.target[w.key])

    # -- the step checker

    def accepted_actions(self) -> list[dict[str, Any]]:
        """Every action that makes progress now, as JSON.

        One entry per field still wrong, in any order: ``select`` with the right option for a
        dropdown, ``type`` with the right text for the focused textbox, else a ``click`` on
        the field's ``box`` (half-open ``[x0, y0, x1, y1]``; any pixel inside counts). Submit's
        box is listed only once every field is right.
        """
        if self._accepted is None:
            self._accepted = self._progress()
        return self._accepted

    def _progress(self) -> list[dict[str, Any]]:
        if self.done:
            return []
        out: list[dict[str, Any]] = []
        for w in self.inputs:
            if self.satisfied(w):
                continue
            if w.role == "combobox":
                out.append({"name": "select", "element": w.id, "option": self.target[w.key]})
            elif w.role == "textbox" and w.id == self.focused:
                out.append({"name": "type", "element": w.id, "text": self.target[w.key]})
            else:
                out.append({"name": "click", "element": w.id, "box": list(w.bbox)})
        if not out:
            out.append({"name": "click", "element": self.submit.id, "box": list(self.submit.bbox)})
        return out

    def accepts(self, action: Action) -> bool:
        args = action.arguments if isinstance(action.arguments, dict) else {}
        for entry in self.accepted_actions():
            if entry["name"] != action.name:
                continue
            w = self.by_id[entry["element"]]
            if action.name == "click":
                point = _point(args)
                if point is not None and w.contains(*point):
                    return True
            elif action.name == "type":
                text = args.get("text")
                if isinstance(text, str) and normalize(w.key, text) == normalize(
                    w.key, entry["text"]
                ):
                    return True
            elif _element(args) == w.id and args.get("option") == entry["option"]:
                return True
        return False

    # -- dynamics

    def step(self, action: Action) -> StepResult:
        if self.done:
            raise RuntimeError("the form episode has ended; build a new env to act again")
        self._accepted = None
        args = action.arguments if isinstance(action.arguments, dict) else {}
        handler = {
            "click": self._click,
            "type": self._type,
            "select": self._select,
            "finish": self._finish,
        }.get(action.name)
        event = handler(args) if handler else f"unknown action {action.name!r}; nothing happened"
        reward = 0.0
        if self.ended_by == "submit":
            reward = 1.0 if verify_submission(self.target, self.submitted).success else 0.0
        return StepResult(event + "\n" + self.observe(), reward, self.done)

    def _click(self, args: dict[str, Any]) -> str:
        point = _point(args)
        if point is None:
            return 'click ignored: "x" and "y" must be integers'
        x, y = point
        w = hit(self.widgets, x, y)
        if w is None:
            return f"clicked ({x},{y}): nothing there"
        where = f"clicked ({x},{y}) on {w.describe()}"
        if w.role in ("textbox", "combobox"):
            self.focused = w.id
            return f"{where}: focused"
        if w.role == "checkbox":
            w.checked = not w.checked
            self.focused = w.id
            return f"{where}: now {'checked' if w.checked else 'unchecked'}"
        if w.key == "submit":
            self._end("submit")
            return f"{where}: form submitted"
        if w.key == "cancel":
            self._end("cancel")
            return f"{where}: form closed without submitting"
        if w.key == "reset":
            for field in self.inputs:
                field.value, field.checked = "", False
            self.focused = None
            return f"{where}: form cleared"
        return f"{where}: nothing happens"

    def _type(self, args: dict[str, Any]) -> str:
        text = args.get("text")
        if not isinstance(text, str):
            return 'type ignored: "text" must be a string'
        w = self.by_id.get(self.focused) if self.focused is not None else None
        if w is None or w.role != "textbox":
            return f"typed {_show(text)}: no text field is focused, nothing changed"
        w.value = text
        return f"typed {_show(text)} into {w.describe()}"

    def _select(self, args: dict[str, Any]) -> str:
        element, option = args.get("element"), args.get("option")
        w = self.by_id.get(_element(args))
        if w is None or w.role != "combobox":
            return f"select ignored: element {_show(element)} is not a dropdown"
        if option not in w.options:
            return f"select ignored: {_show(option)} is not an option of {w.describe()}"
        w.value = option
        self.focused = w.id
        return f"selected {_show(option)} in {w.describe()}"

    def _finish(self, args: dict[str, Any]) -> str:
        self._end("finish")
        return "finished without submitting the form"

    def _end(self, how: str) -> None:
        self.done, self.ended_by = True, how
        if how == "submit":
            self.submitted = self.state()

    def outcome(self, final_answer: str | None) -> Outcome:
        """State-based: only what Submit sent counts; ``final_answer`` plays no part."""
        why_not = {
            "cancel": "the form was cancelled",
            "finish": "the episode finished without clicking submit",
        }.get(self.ended_by or "", "the episode ended before submit")
        return verify_submission(self.target, self.submitted, why_not)


def _point(args: dict[str, Any]) -> tuple[int, int] | None:
    x, y = args.get("x"), args.get("y")
    if type(x) is int and type(y) is int:  # bools are ints; they are not coordinates
        return x, y
    return None


def _element(args: dict[str, Any]) -> int | None:
    element = args.get("element")
    return element if type(element) is int else None


# ---------------------------------------------------------------------------- teachers


@dataclass(slots=True)
class Move:
    """One planned action and what the teacher believes it does (``kind`` picks the thought)."""

    kind: str
    element: int
    action: Action


class ScriptedTeacher:
    """Plays a precomputed move list; thoughts are written against the live screen."""

    def __init__(self, policy: Policy, moves: list[Move], overview: str):
        self.policy = policy
        self.moves = moves
        self.overview = overview

    def act(self, env: FormEnv, history: list[Step]) -> tuple[str, Action]:
        if len(history) >= len(self.moves):
            raise RuntimeError("form plan exhausted before the episode ended")
        move = self.moves[len(history)]
        thought = _thought(env, move)
        return (f"{self.overview} {thought}" if not history else thought), move.action


class RandomTeacher:
    """Valid-format, uninformed actions for a seeded number of steps, then ``finish``."""

    def __init__(self, policy: Policy, rng: random.Random, steps: int):
        self.policy = policy
        self.rng = rng
        self.steps = steps

    def act(self, env: FormEnv, history: list[Step]) -> tuple[str, Action]:
        rng = self.rng
        if len(history) >= self.steps:
            return "I stop here.", Action("finish", {})
        r = rng.random()
        if r < 0.6:
            if r < 0.3:
                x, y = rng.randrange(SCREEN_W), rng.randrange(SCREEN_H)
            else:
                x, y = _point_in(rng.choice(env.widgets).bbox, rng)
            return f"Trying a click at ({x}, {y}).", Action("click", {"x": x, "y": y})
        if r < 0.85:
            text = rng.choice(
                (
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    rng.choice(COMPANIES),
                    str(rng.randint(0, 99999)),
                )
            )
            return f"Trying to type {_show(text)}.", Action("type", {"text": text})
        element, option = rng.choice(env.widgets).id, rng.choice(COUNTRIES)
        return f"Trying to select {_show(option)} in [{element}].", Action(
            "select", {"element": element, "option": option}
        )


EXPERT_PARAMS = {"order": "seeded", "click": "uniform inside the box, 2 px margin"}
MISTAKES = (
    "cancel",
    "early_submit",
    "reset",
    "stray_text",
    "toggle_checkbox",
    "wrong_option",
    "wrong_text",
)
RANDOM_MAX_STEPS = 12


def expert_teacher(task: Task, rng: random.Random) -> ScriptedTeacher:
    groups, overview = _plan(task, rng)
    policy = Policy(f"{FAMILY}-expert", "expert", None, dict(EXPERT_PARAMS))
    return ScriptedTeacher(policy, [m for g in groups for m in g], overview)


def noisy_teacher(task: Task, rng: random.Random) -> ScriptedTeacher:
    """The expert's plan with one real mistake spliced in at a seeded point, never undone.

    Each mistake leaves the submitted state wrong (or the form unsubmitted) and its step is
    outside the accepted set, so ``first_error_step`` lands on it.
    """
    groups, overview = _plan(task, rng)
    groups = _inject_mistake(groups, task, rng)
    policy = Policy(f"{FAMILY}-noisy", "noisy", None, {**EXPERT_PARAMS, "mistakes": list(MISTAKES)})
    return ScriptedTeacher(policy, [m for g in groups for m in g], overview)


def random_teacher(rng: random.Random) -> RandomTeacher:
    policy = Policy(f"{FAMILY}-random", "random", None, {"max_steps": RANDOM_MAX_STEPS})
    return RandomTeacher(policy, rng, rng.randint(1, RANDOM_MAX_STEPS))


def _plan(task: Task, rng: random.Random) -> tuple[list[list[Move]], str]:
    """Groups of moves, one per field that must change, in a seeded order, then Submit."""
    widgets = [Widget.from_spec(s) for s in task.env["widgets"]]
    target = task.reference["target"]
    groups: list[list[Move]] = []
    for w in widgets:
        want = target.get(w.key)
        if w.role == "textbox" and want:
            groups.append(
                [_click(w, "focus", rng), Move("type", w.id, Action("type", {"text": want}))]
            )
        elif w.role == "combobox" and want:
            groups.append(
                [Move("select", w.id, Action("select", {"element": w.id, "option": want}))]
            )
        elif w.role == "checkbox" and want is True:
            groups.append([_click(w, "check", rng)])
    rng.shuffle(groups)
    order = [FIELDS[_key(widgets, g[0].element)].noun for g in groups]
    submit = next(w for w in widgets if w.key == "submit")
    groups.append([_click(submit, "submit", rng)])
    needs = ", ".join(_need(k, target[k]) for k in _asked_keys(target))
    overview = f"The instruction needs: {needs}. I will fill in the {', then the '.join(order)}, then submit."
    return groups, overview


def _inject_mistake(groups: list[list[Move]], task: Task, rng: random.Random) -> list[list[Move]]:
    widgets = [Widget.from_spec(s) for s in task.env["widgets"]]
    target = task.reference["target"]
    by_key = {w.key: w for w in widgets}
    last = len(groups) - 1  # the Submit group
    kinds: dict[str, list[int]] = {
        "wrong_text": [g for g in range(last) if groups[g][-1].kind == "type"],
        "wrong_option": [g for g in range(last) if groups[g][-1].kind == "select"],
        "early_submit": list(range(last)),
    }
    if "cancel" in by_key:
        kinds["cancel"] = list(range(last + 1))
    if "reset" in by_key:
        # not first: the groups before it changed the form, so clearing it loses their work
        kinds["reset"] = list(range(1, last + 1))
    strays = [k for k in STRAY_TEXT if k in by_key]
    if strays:
        kinds["stray_text"] = list(range(last + 1))
    if "newsletter" in by_key:
        checked_at = [g for g in range(last) if groups[g][-1].kind == "check"]
        # a box that must be checked is toggled back only after it was checked
        kinds["toggle_checkbox"] = (
            list(range(checked_at[0] + 1, last + 1)) if checked_at else list(range(last + 1))
        )
    kind = rng.choice(sorted(k for k, at in kinds.items() if at))
    g = rng.choice(kinds[kind])
    if kind == "wrong_text":
        move = groups[g][-1]
        key = _key(widgets, move.element)
        wrong = _typo(target[key], rng)
        return [
            *groups[:g],
            [groups[g][0], Move("type", move.element, Action("type", {"text": wrong}))],
            *groups[g + 1 :],
        ]
    if kind == "wrong_option":
        w = next(w for w in widgets if w.id == groups[g][0].element)
        wrong = rng.choice([o for o in w.options if o != target[w.key]])
        return [
            *groups[:g],
            [Move("select", w.id, Action("select", {"element": w.id, "option": wrong}))],
            *groups[g + 1 :],
        ]
    if kind in ("early_submit", "cancel"):
        button = by_key["submit" if kind == "early_submit" else "cancel"]
        return [*groups[:g], [_click(button, kind, rng)]]
    if kind == "reset":
        return [*groups[:g], [_click(by_key["reset"], "reset", rng)], *groups[g:]]
    if kind == "stray_text":
        w = by_key[rng.choice(strays)]
        text = rng.choice(STRAY_TEXT[w.key])
        return [
            *groups[:g],
            [_click(w, "stray", rng), Move("stray_type", w.id, Action("type", {"text": text}))],
            *groups[g:],
        ]
    return [*groups[:g], [_click(by_key["newsletter"], "toggle", rng)], *groups[g:]]


def _typo(value: str, rng: random.Random) -> str:
    """Drop or replace one letter or digit: a slip that always changes the compared value."""
    i = rng.choice([i for i, c in enumerate(value) if c.isascii() and c.isalnum()])
    c = value[i]
    if rng.random() < 0.4:
        return value[:i] + value[i + 1 :]
    pool = "0123456789" if c.isdigit() else "abcdefghijklmnopqrstuvwxyz"
    new = rng.choice([p for p in pool if p != c.lower()])
    return value[:i] + (new.upper() if c.isupper() else new) + value[i + 1 :]


def _asked(key: str) -> bool:
    """Distractor fields are in the target (they must stay empty) but no instruction names them."""
    return key not in STRAY_TEXT


def _asked_keys(target: dict[str, Any]) -> list[str]:
    """In ``FIELDS`` order, not the dict's: a task read back from JSON has its keys sorted, and
    a teacher rebuilt from it must write the same thoughts."""
    return [k for k in FIELDS if k in target and _asked(k)]


def _need(key: str, value: Any) -> str:
    if key == "newsletter":
        return "a newsletter subscription" if value else "no newsletter subscription"
    return f"{FIELDS[key].noun} {_show(value)}"


def _key(widgets: list[Widget], element: int) -> str:
    return next(w.key for w in widgets if w.id == element)


def _click(w: Widget, kind: str, rng: random.Random) -> Move:
    x, y = _point_in(w.bbox, rng)
    return Move(kind, w.id, Action("click", {"x": x, "y": y}))


def _point_in(box: tuple[int, int, int, int], rng: random.Random) -> tuple[int, int]:
    """A seeded pixel inside ``box``, 2 px clear of its edge: varied, not always the centre."""
    x0, y0, x1, y1 = box
    return rng.randint(x0 + 2, x1 - 3), rng.randint(y0 + 2, y1 - 3)


def _thought(env: FormEnv, move: Move) -> str:
    """What the instruction needs, what the screen shows, which element, then the action."""
    w = env.by_id[move.element]
    args = move.action.arguments
    at = f"at ({args['x']}, {args['y']})" if move.action.name == "click" else ""
    noun = FIELDS[w.key].noun if w.key in FIELDS else w.key
    kind = move.kind
    if kind == "focus":
        return (
            f"The instruction gives the {noun} {_show(env.target[w.key])}. {w.describe()} holds {_show(w.value)}; "
            f"I click inside it {at} to focus it."
        )
    if kind in ("type", "stray_type"):
        return f"{w.describe()} is focused. I type {_show(args['text'])}."
    if kind == "select":
        return f"The {noun} should be {args['option']}; {w.describe()} offers it. I select {_show(args['option'])}."
    if kind == "check":
        return f"The instruction asks to subscribe to the newsletter; {w.describe()} is unchecked. I click it {at}."
    if kind == "submit":
        done = ", ".join(FIELDS[k].noun for k in _asked_keys(env.target))
        kept = [f.label for f in env.inputs if not _asked(f.key)]
        if env.target.get("newsletter") is False:
            kept.append("the newsletter box")
        extra = f"; {', '.join(kept)} stay untouched" if kept else ""
        return f"Every value the instruction asks for is in place ({done}){extra}. I click {w.describe()} {at} to submit."
    if kind == "early_submit":
        return f"The form looks filled in. I click {w.describe()} {at} to submit."
    if kind == "cancel":
        return f"I am done with this form. I click {w.describe()} {at}."
    if kind == "reset":
        return f"Some fields may hold stray input; I click {w.describe()} {at} to start clean."
    if kind == "stray":
        return f"{w.describe()} looks like it needs a value too. I click inside it {at}."
    return f"{w.describe()} is {'checked' if w.checked else 'unchecked'}; I click it {at} to set the newsletter choice."


# ---------------------------------------------------------------------------- family


class FormFamily:
    kind = "gui"
    name = FAMILY
    version = "1"
    tiers = ("expert", "noisy", "random")

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        _no_params(params)
        return make_task(seed, difficulty)

    def make_env(self, task: Task, params: dict[str, Any]) -> FormEnv:
        _no_params(params)
        return FormEnv(task)

    def make_teacher(
        self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]
    ) -> ScriptedTeacher | RandomTeacher:
        _no_params(params)
        if tier == "expert":
            return expert_teacher(task, rng)
        if tier == "noisy":
            return noisy_teacher(task, rng)
        if tier == "random":
            return random_teacher(rng)
        raise ValueError(
            f"family {FAMILY!r} has no {tier!r} teacher; it implements {list(self.tiers)}"
        )


def _no_params(params: dict[str, Any]) -> None:
    if params:
        raise ValueError(
            f"family {FAMILY!r} takes no params, got {sorted(params)}; remove them from the shard spec"
        )


register(FormFamily())
