"""The ``settings`` app: tabs of switches, radio groups and dropdowns, saved with one button.

One ``settings`` screen with a tab strip (General, Display, Privacy, Notifications; order
seeded), the current tab's controls in a scroll area (the Privacy tab is long enough to need
scrolling) and Cancel / Save. Changes are pending until Save: they live in the screen's frame,
so they survive tab switches. Cancel with pending changes asks "Discard changes?" (a blocking
dialog). The Notifications tab links to a nested ``advanced`` screen with its own Apply; going
back from it with unapplied changes asks the same question.

Success is state-based: the saved settings hold every target value, and every other setting
still holds its initial value (a switch flipped by mistake fails the task).

====  =======================================================================
 d    changes
====  =======================================================================
 1    one switch on the first tab
 2    two settings on the first tab (a switch, a dropdown or radio group)
 3    three settings across two tabs
 4    two main settings and one on the nested Advanced screen
 5    three main settings across tabs (one low on Privacy: scroll) + one nested
====  =======================================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from synth.gui.app import App, Back, Click, Intent, Select, register_app
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    column,
    combobox,
    container,
    dialog,
    heading,
    label,
    link,
    radio,
    scrollarea,
    switch,
    tab,
    window,
)


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    label: str
    tab: str  # a main tab, or "Advanced" (the nested screen)
    options: tuple[str, ...] = ()  # empty: a switch
    radio: bool = False  # options shown as a radio group rather than a dropdown
    section: str = ""


def _switches(tab: str, section: str, *pairs: tuple[str, str]) -> list[Setting]:
    return [Setting(k, text, tab, section=section) for k, text in pairs]


SETTINGS = {s.key: s for s in [
    Setting("language", "Language", "General", ("English", "Portuguese", "Spanish", "French", "German", "Japanese", "Hindi")),
    Setting("timezone", "Time zone", "General", ("UTC", "Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Australia/Sydney")),
    *_switches("General", "", ("auto_update", "Automatic updates"), ("start_on_login", "Start on login")),
    Setting("font_size", "Font size", "Display", ("Small", "Medium", "Large"), radio=True),
    Setting("zoom", "Zoom", "Display", ("90%", "100%", "110%", "125%")),
    *_switches("Display", "", ("dark_mode", "Dark mode"), ("reduce_motion", "Reduce motion"), ("high_contrast", "High contrast")),
    *_switches("Privacy", "Permissions", ("location", "Location access"), ("camera", "Camera access"),
               ("microphone", "Microphone access"), ("contacts", "Contacts access"), ("calendar", "Calendar access"),
               ("photos", "Photo library access")),
    *_switches("Privacy", "Data", ("analytics", "Share usage analytics"), ("crash_reports", "Send crash reports"),
               ("personalized_ads", "Personalized ads"), ("search_history", "Keep search history")),
    Setting("cookies", "Cookies", "Privacy", ("Allow all", "Block third-party", "Block all"), section="Data"),
    *_switches("Privacy", "Security", ("two_factor", "Two-factor sign-in"), ("lock_screen", "Lock screen notifications"),
               ("find_device", "Find my device"), ("safe_browsing", "Safe browsing")),
    Setting("history", "Keep history for", "Privacy", ("1 week", "1 month", "Forever"), radio=True, section="Security"),
    *_switches("Notifications", "", ("notifications", "Allow notifications"), ("sounds", "Notification sounds"),
               ("badges", "App icon badges")),
    Setting("quiet_hours", "Quiet hours", "Notifications", ("Off", "22:00-07:00", "23:00-08:00")),
    *_switches("Advanced", "", ("email_digest", "Email digest"), ("vibrate", "Vibrate")),
    Setting("digest_frequency", "Digest frequency", "Advanced", ("Daily", "Weekly", "Monthly")),
    Setting("preview", "Show previews", "Advanced", ("Always", "When unlocked", "Never"), radio=True),
]}  # fmt: skip
TABS = ("General", "Display", "Privacy", "Notifications")
LEVELS = {
    1: {"changes": 1, "tabs": 1, "nested": 0, "kinds": ("switch",)},
    2: {"changes": 2, "tabs": 1, "nested": 0, "kinds": ("switch", "choice")},
    3: {"changes": 3, "tabs": 2, "nested": 0, "kinds": ("switch", "choice")},
    4: {"changes": 2, "tabs": 2, "nested": 1, "kinds": ("switch", "choice")},
    5: {"changes": 3, "tabs": 3, "nested": 1, "kinds": ("switch", "choice"), "deep": 1},
}


def wkey(key: str) -> str:
    """The widget key of a setting (radio groups store their choice under it too)."""
    return f"set:{key}"


def phrase(key: str, value: Any) -> str:
    s = SETTINGS[key]
    if not s.options:
        return f"turn {'on' if value else 'off'} {s.label[0].lower() + s.label[1:]}"
    return f"set {s.label[0].lower() + s.label[1:]} to {value}"


class SettingsApp(App):
    name = "settings"
    home = "settings"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        values = {k: rng.choice(s.options) if s.options else rng.random() < 0.5 for k, s in SETTINGS.items()}
        tabs = list(TABS)
        rng.shuffle(tabs)
        if level.get("deep") and "Privacy" not in tabs[: level["tabs"]]:
            tabs.remove("Privacy")
            tabs.insert(rng.randrange(level["tabs"]), "Privacy")
        chosen: list[str] = []
        for i, name in enumerate(tabs[: level["tabs"]]):
            pool = [k for k, s in SETTINGS.items() if s.tab == name and k not in chosen]
            if level.get("deep") and name == "Privacy":
                pool = [k for k in pool if SETTINGS[k].section == "Security"]  # low on the tab
            kind = "switch" if i == 0 else rng.choice(level["kinds"])
            typed = [k for k in pool if bool(SETTINGS[k].options) == (kind == "choice")] or pool
            chosen.append(rng.choice(typed))
        while len(chosen) < level["changes"]:
            pool = [k for k, s in SETTINGS.items() if s.tab in tabs[: level["tabs"]] and k not in chosen]
            chosen.append(rng.choice(pool))
        if level["nested"]:
            chosen.append(rng.choice([k for k, s in SETTINGS.items() if s.tab == "Advanced"]))
        target = {}
        for k in chosen:
            s = SETTINGS[k]
            target[k] = rng.choice([o for o in s.options if o != values[k]]) if s.options else not values[k]
        keep = {k: v for k, v in values.items() if k not in target}
        words = [phrase(k, target[k]) for k in chosen]
        text = (", ".join(words[:-1]) + " and " + words[-1]) if len(words) > 1 else words[0]
        save = rng.choice((", then save.", " and save the changes.", "; save when done."))
        return {"settings": values, "tabs": tabs}, {"set": target, "keep": keep}, text[0].upper() + text[1:] + save

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        values = model["settings"]
        if frame.name == "discard":
            return dialog("Discard changes?", label("Your changes have not been saved."),
                          buttons(button("Keep editing", "discard:no"), button("Discard", "discard:yes", primary=True)),
                          cancel="discard:no")  # fmt: skip
        if frame.name == "advanced":
            controls = [self._control(s, values) for s in SETTINGS.values() if s.tab == "Advanced"]
            return window("Advanced notifications", heading("Advanced notifications"),
                          column(*controls, shuffle=True),
                          buttons(button("Back", "adv:back"), button("Apply", "adv:apply", primary=True)),
                          back="adv:back")  # fmt: skip
        current = frame.args.get("tab", model["tabs"][0])
        tabs = container("tablist", "Sections", *(tab(t, f"tab:{t}", t == current) for t in model["tabs"]), kind="row")
        sections: dict[str, list[Node]] = {}
        for s in SETTINGS.values():
            if s.tab == current:
                sections.setdefault(s.section, []).append(self._control(s, values))
        blocks = [column(*([heading(name)] if name else []), column(*nodes, shuffle=True)) for name, nodes in sections.items()]
        if current == "Notifications":
            blocks.append(link("Advanced notification settings", "notif:advanced"))
        return window("Settings", heading("Settings"), tabs, scrollarea(current, "section", *blocks),
                      buttons(button("Cancel", "cancel"), button("Save", "save", primary=True)))  # fmt: skip

    def _control(self, s: Setting, values: dict[str, Any]) -> Node:
        if not s.options:
            return switch(s.label, wkey(s.key), values[s.key])
        if s.radio:
            return container("region", s.label, label(s.label, strong=True),
                             *(radio(o, wkey(s.key), o, o == values[s.key]) for o in s.options))  # fmt: skip
        return combobox(s.label, wkey(s.key), values[s.key], s.options, width=360)

    def on(self, ctx: Any, event: Any) -> str | None:
        if event.kind != "click":
            return None
        key, frame = event.key, event.frame
        if key.startswith("tab:"):
            frame.args["tab"] = key[4:]
            frame.scroll.clear()
        elif key == "save":
            return self._apply(ctx, ctx.screen)
        elif key == "adv:apply":
            note = self._apply(ctx, frame)
            ctx.back()
            return note
        elif key == "notif:advanced":
            ctx.push("advanced")
        elif key in ("cancel", "adv:back"):
            if self._dirty(ctx.model, frame):
                ctx.dialog("discard", leave=key == "adv:back")
            elif key == "adv:back":
                ctx.back()
            else:
                return "no changes to cancel"
        elif key == "discard:no":
            ctx.close()
        elif key == "discard:yes":
            leave = frame.args["leave"]
            ctx.close()
            ctx.screen.values.clear()
            if leave:
                ctx.back()
            return "changes discarded"
        return None

    @staticmethod
    def _apply(ctx: Any, frame: Any) -> str:
        changed = 0
        for k, v in frame.values.items():
            name = k[4:]
            if name in SETTINGS and ctx.model["settings"][name] != v:
                ctx.model["settings"][name] = v
                changed += 1
        frame.values.clear()
        return f"settings saved ({changed} changed)"

    @staticmethod
    def _dirty(model: dict[str, Any], frame: Any) -> bool:
        return any(model["settings"].get(k[4:]) != v for k, v in frame.values.items())

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        saved = model["settings"]
        wrong = [f"{k} is {saved[k]!r}, want {v!r}" for k, v in goal["set"].items() if saved[k] != v]
        wrong += [f"{k} changed to {saved[k]!r}, was {v!r}" for k, v in goal["keep"].items() if saved[k] != v]
        if wrong:
            return False, "saved settings differ: " + "; ".join(wrong)
        return True, f"saved settings match ({', '.join(goal['set'])}) and nothing else changed"

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        want = {**goal["keep"], **goal["set"]}
        saved = model["settings"]
        if self.check(model, goal, None)[0]:
            return []
        if ui.overlay is not None:
            below = ui.frames[-2]
            loses = any(saved[k[4:]] != v and want[k[4:]] == v for k, v in below.values.items() if k[4:] in want)
            if loses or not self._dirty(model, below):
                return [Back("the pending changes are needed: keep editing")]
            return [Click("discard:yes", "the pending changes are wrong: discard them")]
        screen = ui.base
        shown = {k: screen.values.get(wkey(k), v) for k, v in saved.items()}
        if ui.screen == "advanced":
            todo = [k for k, s in SETTINGS.items() if s.tab == "Advanced" and shown[k] != want[k]]
            if todo:
                return [self._fix(k, want[k]) for k in todo]
            if any(saved[k] != want[k] for k, s in SETTINGS.items() if s.tab == "Advanced"):
                return [Click("adv:apply", "the advanced settings are right; apply them", "apply")]
            return [Back("the advanced settings are done; go back")]
        current = screen.args.get("tab", model["tabs"][0])
        wrong = {k for k, s in SETTINGS.items() if s.tab in TABS and shown[k] != want[k]}
        here = [self._fix(k, want[k]) for k in SETTINGS if k in wrong and SETTINGS[k].tab == current]
        if here:
            return here
        if wrong:
            tabs = [t for t in model["tabs"] if any(SETTINGS[k].tab == t for k in wrong)]
            return [Click(f"tab:{t}", f"the {t} tab holds settings still to change", t) for t in tabs]
        if any(saved[k] != want[k] for k, s in SETTINGS.items() if s.tab in TABS):
            return [Click("save", "every setting on the tabs is as asked; save", "save")]
        if current != "Notifications":
            return [Click("tab:Notifications", "the advanced notification settings are under Notifications", "advanced")]
        return [Click("notif:advanced", "open the advanced notification settings", "advanced")]

    @staticmethod
    def _fix(key: str, value: Any) -> Intent:
        s = SETTINGS[key]
        why = phrase(key, value)
        if not s.options:
            return Click(wkey(key), why, key)
        if s.radio:
            return Click(f"{wkey(key)}={value}", why, key)
        return Select(wkey(key), value, why, key)

    def needs(self, goal: dict[str, Any]) -> list[str]:
        return [*(phrase(k, v) for k, v in goal["set"].items()), "the changes saved", "nothing else changed"]

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        out = []
        for k, v in goal["set"].items():
            s = SETTINGS[k]
            for wrong in [o for o in s.options if o != v] if s.options else [not v]:
                out.append({**goal, "set": {**goal["set"], k: wrong}})
            twins = [j for j, t in SETTINGS.items() if t.tab == s.tab and j in goal["keep"] and bool(t.options) == bool(s.options)]
            for j in twins:  # the neighbouring setting instead of this one
                jv = rng.choice([o for o in SETTINGS[j].options if o != goal["keep"][j]]) if s.options else not goal["keep"][j]
                sets = {**{a: b for a, b in goal["set"].items() if a != k}, j: jv}
                out.append({"set": sets, "keep": {**{a: b for a, b in goal["keep"].items() if a != j}, k: model["settings"][k]}})
        return out


register_app(SettingsApp())
