"""The ``form`` app: fill in and submit a registration form.

The agent reads an instruction ("Register Alice Moreau (alice.moreau@example.org) from
Portugal and subscribe to the newsletter, then submit."), fills text fields, a country
dropdown and a newsletter checkbox laid out in a seeded order among distractor fields and
buttons, and submits. Success is state-based: the values Submit sent must equal the target
(text compared by each field's rule: whitespace collapsed, emails without case, phone numbers
by digits), whatever the action sequence. Enter in any text field submits (as in a browser);
Cancel asks "Discard this form?"; Reset clears the fields; after submitting, "Edit answers"
(or back) returns to the filled form, so a wrong submission can be fixed and resent.

====  ==========================================  ========================================
 d    fields to fill                              distractors
====  ==========================================  ========================================
 1    name, email                                 none
 2    + country dropdown                          Cancel button
 3    + newsletter checkbox                       Cancel, coupon-code field
 4    + phone                                     Cancel, Reset, coupon-code field
 5    + company                                   Cancel, Reset, coupon-code, referral field
====  ==========================================  ========================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from synth.gui.actions import same_text
from synth.gui.app import App, Back, Click, Intent, Select, Type, register_app
from synth.gui.phrasing import must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    checkbox,
    column,
    combobox,
    dialog,
    heading,
    label,
    scrollarea,
    textbox,
    window,
)


@dataclass(frozen=True, slots=True)
class Field:
    role: str
    labels: tuple[str, ...]
    noun: str  # how instructions, thoughts and verdicts name it
    match: str = "exact"


FIELDS = {
    "name": Field("textbox", ("Full name", "Name", "Your name"), "name"),
    "email": Field("textbox", ("Email", "E-mail address", "Email address"), "email address", "casefold"),
    "country": Field("combobox", ("Country", "Country of residence", "Country/Region"), "country"),
    "newsletter": Field("checkbox", ("Subscribe to newsletter", "Send me the newsletter", "Email me product news"), "newsletter"),
    "phone": Field("textbox", ("Phone", "Phone number", "Mobile number"), "phone number", "phone"),
    "company": Field("textbox", ("Company", "Organisation", "Employer"), "company"),
    "coupon": Field("textbox", ("Coupon code", "Promo code", "Discount code"), "coupon code"),
    "referrer": Field("textbox", ("How did you hear about us?", "Referral code", "Referred by"), "referral"),
}
STRAY = ("coupon", "referrer")  # fields the task leaves empty
BUTTONS = {"submit": ("Submit", "Register", "Sign up", "Create account"), "cancel": ("Cancel", "Back"),
           "reset": ("Reset", "Clear form")}  # fmt: skip
HEADINGS = ("Create your account", "Registration", "Join the mailing list", "New member sign-up")
FIRST = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Gustav", "Hana", "Ivan", "Julia", "Kofi", "Lena",
         "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Zoe")  # fmt: skip
LAST = ("Moreau", "Silva", "Nakamura", "Okafor", "Schmidt", "Kowalski", "Haddad", "Larsen", "Novak", "Rossi",
        "Mensah", "Petrova", "Garcia", "Lindqvist", "Banerjee", "Dubois", "Ferreira", "Ito", "Kim", "Walsh")  # fmt: skip
DOMAINS = ("example.org", "example.com", "example.net", "mail.example.org")
COUNTRIES = ("Argentina", "Australia", "Brazil", "Canada", "Egypt", "France", "Germany", "Ghana", "India", "Japan",
             "Kenya", "Mexico", "Norway", "Poland", "Portugal", "Spain", "Sweden", "Vietnam")  # fmt: skip
COMPANIES = ("Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Wide World Importers", "Adventure Works",
             "Lakeshore Bakery", "Blue Yonder Air")  # fmt: skip
OPENINGS = ("Register {name} ({email})", "Sign up {name} using the email address {email}",
            "Create an account for {name} with email {email}", "Fill in the form for {name}, email {email}")  # fmt: skip
DETAILS = {"country": ("from {v}", "who lives in {v}", "country {v}"),
           "phone": ("phone number {v}", "reachable at {v}"), "company": ("who works at {v}", "company {v}")}  # fmt: skip
NEWSLETTER = {True: ("subscribe to the newsletter", "opt in to the newsletter"),
              False: ("do not subscribe to the newsletter", "leave the newsletter unchecked")}  # fmt: skip
ENDINGS = (", then submit.", ". Submit the form when done.", ", and submit the form.")
LEVELS = {
    1: {"fill": ("name", "email"), "stray_fields": (), "stray_buttons": ()},
    2: {"fill": ("name", "email", "country"), "stray_fields": (), "stray_buttons": ("cancel",)},
    3: {"fill": ("name", "email", "country", "newsletter"), "stray_fields": ("coupon",), "stray_buttons": ("cancel",)},
    4: {"fill": ("name", "email", "country", "newsletter", "phone"), "stray_fields": ("coupon",),
        "stray_buttons": ("cancel", "reset")},
    5: {"fill": ("name", "email", "country", "newsletter", "phone", "company"), "stray_fields": ("coupon", "referrer"),
        "stray_buttons": ("cancel", "reset")},
}  # fmt: skip


def same(key: str, got: Any, want: Any) -> bool:
    """One comparison for the planner and the verifier (so they never disagree)."""
    if isinstance(want, bool):
        return bool(got) is want
    return same_text(got if got is not None else "", want, FIELDS[key].match)


def show(value: Any) -> str:
    """A field value as thoughts and verdicts write it: "text", checked, unchecked."""
    if isinstance(value, bool):
        return "checked" if value else "unchecked"
    return '"' + (value or "") + '"'


class FormApp(App):
    name = "form"
    home = "form"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}", f"{first}{last[0]}"))
        values = {
            "name": f"{first} {last}",
            "email": f"{local.lower()}@{rng.choice(DOMAINS)}",
            "country": rng.choice(COUNTRIES),
            "newsletter": rng.random() < 0.5,
            "phone": f"+{rng.choice((1, 33, 44, 49, 81, 351))} {rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "company": rng.choice(COMPANIES),
        }
        target = {k: values[k] for k in level["fill"]} | dict.fromkeys(level["stray_fields"], "")
        keys = sorted(target)
        rng.shuffle(keys)
        fields = []
        for k in keys:
            spec = {"key": k, "label": rng.choice(FIELDS[k].labels)}
            if k == "country":
                others = rng.sample([c for c in COUNTRIES if c != target[k]], rng.randint(4, 7))
                spec["options"] = sorted([*others, target[k]])
            fields.append(spec)
        names = ["submit", *level["stray_buttons"]]
        rng.shuffle(names)
        model = {
            "heading": rng.choice(HEADINGS),
            "fields": fields,
            "buttons": [{"key": k, "label": rng.choice(BUTTONS[k])} for k in names],
            "width": rng.randint(440, 640),
            "align": rng.choice(("", "center")),
            "submitted": None,
        }
        text = rng.choice(OPENINGS).format(name=target["name"], email=target["email"])
        details = [rng.choice(DETAILS[k]).format(v=target[k]) for k in level["fill"] if k in DETAILS]
        rng.shuffle(details)
        if details:
            text += ", " + ", ".join(details)
        if "newsletter" in target:
            text += "; " + rng.choice(NEWSLETTER[target["newsletter"]])
        return model, {"target": target}, text + rng.choice(ENDINGS)

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        if frame.name == "discard":
            return dialog("Discard this form?", label("Everything you entered will be lost."),
                          buttons(button("Keep editing", "discard:no"), button("Discard", "discard:yes", primary=True)),
                          cancel="discard:no")  # fmt: skip
        if frame.name == "done":
            sent = model["submitted"] or {}
            lines = [label(f"{f['label']}: {show(sent.get(f['key']))}") for f in model["fields"]]
            return window("Submitted", heading("Thanks, your form was sent"), *lines,
                          buttons(button("Edit answers", "edit")), back="edit")  # fmt: skip
        if frame.name == "closed":
            return window("Form closed", heading("The form was closed"), label("Nothing was submitted."),
                          buttons(button("Start over", "restart", primary=True)))  # fmt: skip
        inputs = [self._field(f) for f in model["fields"]]
        row = buttons(*(button(b["label"], b["key"], primary=b["key"] == "submit") for b in model["buttons"]))
        body = column(heading(model["heading"]), *inputs, row, width=model["width"], align=model["align"])
        return window(model["heading"], scrollarea("Form", "form:page", body))

    def _field(self, spec: dict[str, Any]) -> Node:
        f = FIELDS[spec["key"]]
        if f.role == "combobox":
            return combobox(spec["label"], spec["key"], "", spec["options"])
        if f.role == "checkbox":
            return checkbox(spec["label"], spec["key"])
        return textbox(spec["label"], spec["key"], submit="submit", match=f.match)

    def on(self, ctx: Any, event: Any) -> str | None:
        if event.kind != "click":
            return None
        model, key = ctx.model, event.key
        if key == "submit":
            model["submitted"] = {f["key"]: ctx.frame.value(f["key"], False if f["key"] == "newsletter" else "")
                                  for f in model["fields"]}  # fmt: skip
            ctx.push("done")
            return "form submitted"
        if key == "reset":
            ctx.frame.values.clear()
            return "form cleared"
        if key == "cancel":
            ctx.dialog("discard")
        elif key in ("discard:no", "edit"):
            ctx.back()
        elif key == "discard:yes":
            ctx.home("closed")
        elif key == "restart":
            ctx.home("form")
        return None

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        sent = model["submitted"]
        if sent is None:
            return False, "form not submitted"
        diffs = [f"{k}: got {show(sent.get(k))}, want {show(v)}" for k, v in sorted(goal["target"].items())
                 if not same(k, sent.get(k), v)]  # fmt: skip
        if diffs:
            return False, "submitted state differs in " + "; ".join(diffs)
        return True, f"submitted state matches the target ({', '.join(sorted(goal['target']))})"

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        target = goal["target"]
        if self.check(model, goal, None)[0]:
            return []
        if ui.overlay is not None:
            return [Back("nothing should be discarded: keep editing")]
        if ui.screen == "closed":
            return [Click("restart", "the form was closed before it was sent; start over")]
        if ui.screen == "done":
            return [Back("what was sent is not what the instruction asks; go back and fix it")]
        intents = []
        for spec in model["fields"]:
            key = spec["key"]
            want, got = target[key], ui.value(key)
            if same(key, got, want):
                continue
            noun = FIELDS[key].noun
            if FIELDS[key].role == "checkbox":
                intents.append(Click(key, must_be("the newsletter box", show(want)), key))
            elif FIELDS[key].role == "combobox":
                intents.append(Select(key, want, must_be(f"the {noun}", want), key))
            elif want:
                intents.append(Type(key, want, must_be(f"the {noun}", show(want)), key))
            else:
                intents.append(Type(key, "", f"the {noun} must stay empty; clear it", key))
        return intents or [Click("submit", "{every field holds what the instruction asks|all the fields match the instruction|the fields are filled in as asked|"
                                     "nothing in the form differs from the task}; {submit the form|send it off|submit}", "submit")]

    def needs(self, goal: dict[str, Any]) -> list[str]:
        target = goal["target"]
        out = [f"{FIELDS[k].noun} {show(v)}" for k, v in target.items() if k not in STRAY and k != "newsletter"]
        if "newsletter" in target:
            out.append("a newsletter subscription" if target["newsletter"] else "no newsletter subscription")
        return [*out, "the form submitted"]

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        """Another country, the newsletter flipped, or a value typed into a field that should
        stay empty (taken for its own field). Typos need no goal of their own: the noisy tier
        derives the goal a typo makes the agent believe."""
        target = goal["target"]
        out = []
        if "country" in target:
            options = next(f["options"] for f in model["fields"] if f["key"] == "country")
            out += [{"target": {**target, "country": o}} for o in options if o != target["country"]]
        if "newsletter" in target:
            out.append({"target": {**target, "newsletter": not target["newsletter"]}})
        texts = [k for k in target if FIELDS[k].role == "textbox" and target[k]]
        out += [{"target": {**target, stray: target[k], k: ""}} for k in texts for stray in target if stray in STRAY]
        return out


register_app(FormApp())
