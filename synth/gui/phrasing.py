"""One seeded phrasing layer for the thoughts of every GUI tier.

Why one layer: a trainer learns whatever is easiest to predict. If the expert, the reflective
and the noisy teacher each had their own sentences, a reward model would learn the tier from
a fixed phrase instead of judging the step. So every tier writes its thoughts through the same
:class:`Phrasing`, which has several wordings per kind of sentence (the task, the screen, a
check of the last step's effect, the next step, the action, a scroll search, a tally, the end)
and varies their order; the wording is drawn from the teacher's own seeded rng, so a thought
says nothing about the tier that wrote it.

What a thought may name: elements by their visible label (double-quoted, as the accessibility
tree writes names) and role, never by element id or pixel, so the same thought serves a
trainer that shows the tree and one that shows only the screenshot. Values taken from the
instruction are double-quoted too (they are in the prompt); nothing is named before it has
been on screen (see docs/gui.md, "Thoughts").
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from synth.gui.toolkit import Node, View, quote
from synth.reasoning.phrasing import Voice

NOUNS: dict[str, tuple[str, ...]] = {
    "button": ("button",),
    "link": ("link",),
    "textbox": ("field", "text field", "box"),
    "combobox": ("dropdown", "drop-down", "menu"),
    "checkbox": ("checkbox", "box"),
    "switch": ("switch", "toggle"),
    "radio": ("option", "radio button", "choice"),
    "listitem": ("row", "entry", "item", "line"),
    "tab": ("tab",),
    "menuitem": ("menu item", "entry", "item"),
    "option": ("option", "choice", "entry"),
    "scrollarea": ("list", "pane", "area"),
    "text": ("text", "line"),
    "heading": ("heading", "title"),
}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and one final full stop (or ? or !)."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def literal(value: str) -> str:
    """``value`` escaped for a planner text that offers ``{a|b}`` wordings: a title or a note
    may hold braces or bars, and they must come out as typed."""
    return "".join("\\" + ch if ch in "\\{}|" else ch for ch in str(value))


def must_be(what: str, value: str) -> str:
    """A planner's text for setting a field ("the time must be 10:00") in one of several
    wordings, the value first or last: the same field is set in most episodes of an app, so
    one fixed frame for it is a phrase that tells which steps the planner wrote."""
    v = literal(value)
    return (f"{{{what} must be {v}|{what} has to be {v}|{what} should be {v}|{what} needs to be {v}|"
            f"set {what} to {v}|change {what} to {v}|make {what} {v}|{v} is what {what} should be|"
            f"{v} goes in as {what}|{v} is wanted for {what}|{what} is meant to be {v}, so set it}}")


class Phrasing:
    """The wordings, drawn with ``rng`` (a teacher's own, so reruns give the same thoughts)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick(self, variants: Sequence[str]) -> str:
        return variants[self.rng.randrange(len(variants))]

    def maybe(self, p: float) -> bool:
        return self.rng.random() < p

    # ------------------------------------------------------------------ naming

    def el(self, node: Node | None) -> str:
        """An element by its visible label: ``the "Save" button``, ``"Save"``."""
        if node is None:
            return self.pick(("that spot", "the spot I aimed at"))
        name = quote(node.name)
        nouns = NOUNS.get(node.role)
        if nouns is None or self.maybe(0.15):
            return name
        noun = self.pick(nouns)
        return self.pick((f"the {name} {noun}", f"the {name} {noun}", f"{name} ({noun})"))

    def title(self, view: View) -> str:
        return quote(view.title)

    # ------------------------------------------------------------------ sentences

    def opening(self, needs: list[str]) -> str:
        """What the task asks for, said once at the start."""
        if len(needs) > 1:
            joined = self.pick(("; ".join(needs), ", ".join(needs[:-1]) + " and " + needs[-1],
                                "; ".join(needs[:-1]) + "; and " + needs[-1]))  # fmt: skip
        else:
            joined = needs[0] if needs else "what the instruction says"
        return sentence(self.pick((
            "The task: {n}", "I need {n}", "What the task needs: {n}", "Goal: {n}", "To do: {n}",
            "The instruction asks for {n}", "So the job is {n}", "Plan: {n}", "This task wants {n}",
        )).format(n=joined))

    def screen(self, view: View) -> str:
        """Where the agent is: the screen's title, and the dialog or menu open over it."""
        t = self.title(view)
        base = self.pick(("The screen shows {t}", "I am on {t}", "This is {t}", "Now on {t}",
                          "{t} is what is shown", "The window is {t}", "I see {t}"))  # fmt: skip
        top = view.top
        extra = ""
        if top.role == "dialog":
            extra = self.pick((" with the dialog {d} open", ", and the dialog {d} is up", "; a dialog {d} sits on top",
                               ", under the dialog {d}"))  # fmt: skip
        elif top.role in ("menu", "listbox"):
            what = "menu" if top.role == "menu" else "option list"
            extra = self.pick((f" with the {what} {{d}} open", f", and the {what} {{d}} is showing",
                               f"; the {what} {{d}} is open"))  # fmt: skip
        return sentence(base.format(t=t) + extra.format(d=quote(top.name)))

    def why(self, text: str) -> str:
        """The next step in the planner's words, wrapped in one of several frames. A planner
        text may offer wordings as ``{a|b}`` (:mod:`synth.reasoning.phrasing`'s template
        syntax): the step that ends a task is the same in every episode, and one fixed
        sentence for it is a phrase every expert episode shares."""
        if not text:
            return ""
        if "{" in text:
            text = Voice(self.rng)(text.replace("<", "\\<"))
        return sentence(self.pick(("{w}", "{w}", "next: {w}", "now: {w}", "the next step: {w}", "to do now: {w}",
                                   "what is left here: {w}", "first things first: {w}", "{w} comes next"))
                        .format(w=text))  # fmt: skip

    def finish(self) -> str:
        return sentence(self.pick((
            "everything the task asks for is done; I finish", "nothing is left to do, so I finish",
            "that completes the task", "all done; finishing", "the task is complete, so I stop here",
            "that was the last thing to do; I finish", "every part of the task is in place; done",
        )))

    def answer(self, text: str, quoted: bool = True) -> str:
        """The answer; ``quoted=False`` for a guess that names nothing on screen."""
        a = quote(text) if quoted else text
        return sentence(self.pick(("the answer is {a}", "so the answer: {a}", "I answer {a}",
                                   "that gives the answer {a}", "my answer: {a}", "{a} is the answer")).format(a=a))  # fmt: skip

    def search(self, area: Node | None, direction: str, again: bool) -> str:
        """A scroll that looks for something not yet in view (it does not know where it is)."""
        where = f" {self.el(area)}" if area is not None and self.maybe(0.6) else ""
        if again:
            return sentence(self.pick((
                "still not in view, so I keep scrolling {d}{w}", "not there yet; I scroll {d}{w} again",
                "nothing yet, so another scroll {d}{w}", "it has not shown up; scrolling {d}{w} once more",
            )).format(d=direction, w=where))
        return sentence(self.pick((
            "it is not in view yet, so I scroll {d}{w} to look for it", "I do not see it yet; scrolling {d}{w}",
            "no sign of it on screen, so I scroll {d}{w}", "it is not among what is shown; I scroll {d}{w}",
            "to find it I scroll {d}{w}", "it must be out of view; I scroll {d}{w} to find it",
        )).format(d=direction, w=where))

    def rest(self, area: Node | None, direction: str) -> str:
        """A scroll to see the rest of a list before answering."""
        where = f" {self.el(area)}" if area is not None and self.maybe(0.6) else ""
        return sentence(self.pick((
            "the list goes on, so I scroll {d}{w} to see the rest", "there is more below; scrolling {d}{w}",
            "I scroll {d}{w} to see the remaining rows", "not everything is in view; I scroll {d}{w}",
            "part of the list is hidden, so I scroll {d}{w}",
        )).format(d=direction, w=where))

    def found(self) -> str:
        return sentence(self.pick(("now it is in view", "there it is", "that brought it into view",
                                   "it appeared after the scroll", "found it", "it is on screen now")))  # fmt: skip

    def act(self, name: str, target: Node | None, args: dict, echo: bool = True) -> str:
        """The action in words, naming the element it acts on by its label and role."""
        el = self.el(target)
        r = target.role if target is not None else ""
        if name == "click":
            if r in ("checkbox", "switch"):
                verbs = ("I click {e}", "I toggle {e}", "I flip {e}", "clicking {e}")
            elif r in ("radio", "option", "menuitem"):
                verbs = ("I choose {e}", "I pick {e}", "I click {e}", "selecting {e}")
            elif r == "tab":
                verbs = ("I switch to {e}", "I click {e}", "I open {e}")
            elif r == "textbox":
                verbs = ("I click into {e}", "I put the cursor in {e}", "I click {e} to focus it")
            elif r == "combobox":
                verbs = ("I open {e}", "I click {e} to see its options", "I click {e}")
            else:
                verbs = ("I click {e}", "I click {e}", "clicking {e}", "I press {e}", "I go for {e}", "I tap {e}")
            return sentence(self.pick(verbs).format(e=el))
        if name == "long_press":
            return sentence(self.pick(("I long-press {e}", "I press and hold {e}", "a long press on {e}",
                                       "I hold {e} down to get its actions")).format(e=el))  # fmt: skip
        if name == "type":
            text = quote(args.get("text", ""))
            if not args.get("text"):
                return sentence(self.pick(("I clear {e}", "I empty {e}", "I delete what {e} holds")).format(e=el))
            if not echo:
                return sentence(self.pick(("I fill in {e}", "I type the value into {e}", "I enter it in {e}",
                                           "typing it into {e}")).format(e=el))  # fmt: skip
            return sentence(self.pick(("I type {t} into {e}", "I enter {t} in {e}", "I fill {e} with {t}",
                                       "typing {t} into {e}", "I write {t} in {e}")).format(t=text, e=el))  # fmt: skip
        if name == "select":
            o = quote(args.get("option", ""))
            if not echo:
                return sentence(self.pick(("I pick an option in {e}", "I change {e}", "choosing something in {e}")).format(e=el))
            return sentence(self.pick(("I choose {o} in {e}", "I pick {o} from {e}", "I set {e} to {o}",
                                       "selecting {o} in {e}")).format(o=o, e=el))  # fmt: skip
        if name == "scroll":
            return sentence(self.pick(("I scroll {d} in {e}", "scrolling {e} {d}")).format(d=args.get("direction"), e=el))
        if name == "press_key":
            key = args.get("key", "")
            if key == "Escape":
                return sentence(self.pick(("I press Escape to close it", "Escape closes it", "I close it with Escape")))
            if target is not None and key in ("Enter", "Space"):
                return sentence(self.pick(("I press {k} on {e}", "{e} has the focus, so I press {k}",
                                           "pressing {k} on {e}")).format(k=key, e=el))  # fmt: skip
            return sentence(self.pick(("I press {k}", "pressing {k}", "I use the {k} key")).format(k=key))
        if name == "navigate_back":
            return sentence(self.pick(("I go back", "I navigate back", "going back", "back it is")))
        if name == "wait":
            return sentence(self.pick(("I wait a moment", "waiting a moment")))
        return ""

    def check(self, target: Node, what: str) -> str:
        """A read-back of the last step's effect that matches what was intended."""
        el = self.el(target)
        return sentence(self.pick(("{e} now {w}", "good: {e} {w}", "{e} {w}, as intended", "done: {e} {w}",
                                   "checking {e}: it {w}")).format(e=el, w=what))  # fmt: skip

    def opened(self, view: View) -> str:
        t = self.title(view) if view.top.role == "window" else quote(view.top.name)
        return sentence(self.pick(("that opened {t}", "{t} is open now", "now {t} is showing", "{t} came up")).format(t=t))

    def tally(self, here: list[str], before: int, total: int, noun: str, done: bool) -> str:
        """A running count across screens: what counts on this screen, and the sum so far."""
        names = ", ".join(quote(n) for n in here)
        if here:
            seen = self.pick(("{k} here ({n})", "{n} on this screen, {k} in all", "here {k}: {n}")).format(k=len(here), n=names)
        else:
            seen = self.pick(("none here", "nothing on this screen", "no new ones here"))
        so_far = self.pick(("{t} so far", "running count {t}", "{t} of them so far")) if not done else \
            self.pick(("{t} in total", "that makes {t}", "{t} altogether", "so {t} in all"))  # fmt: skip
        parts = [seen] + ([f"{before} seen before"] if before and self.maybe(0.7) else [])
        return sentence(f"{self.pick(('counting', 'tally of', 'count of', 'I count'))} {noun}: " + ", ".join(parts) + "; "
                        + so_far.format(t=total, noun=noun))

    def best(self, best: str | None, value: str | None, noun: str, done: bool) -> str:
        """A running best across screens (the earliest, newest, cheapest row so far)."""
        top = f"{quote(best)} ({value})" if best else f"the one at {value}, further up" if value else "none yet"
        lead = self.pick(("looking for {n}: ", "for {n}, ", "{n}: ")).format(n=noun)
        if done:
            return sentence(lead + self.pick(("the best of all is {b}", "{b} wins over everything seen",
                                              "it is {b}")).format(b=top))  # fmt: skip
        return sentence(lead + self.pick(("so far {b}", "the best so far is {b}", "{b} leads so far")).format(b=top))

    def notice(self, kind: str, node: Node | None, meant: Node | None, title: str = "") -> str:
        """What the agent reads on the screen after a slip, and that it will put it right.
        ``node`` shows the slip (on this screen); ``meant`` is the intended element, given
        only when it is on this screen too."""
        el = self.el(node) if node is not None else ""
        me = self.el(meant) if meant is not None else self.pick(("the one I meant", "my target", "what I aimed at"))
        if kind == "nothing":
            said = self.pick((
                "nothing changed on screen after that, so I missed {m}", "the screen looks exactly as before: that did not hit {m}",
                "no effect at all; I did not hit {m}", "hmm, nothing happened, so my click went beside {m}",
                "the last click changed nothing; it landed next to {m}", "still the same screen and state: {m} was not hit",
            )).format(m=me)
        elif kind == "screen":
            t = quote(title) if title else ""
            said = self.pick((
                "{t} opened, which is not where I meant to go", "this is {t}, not what I was after",
                "wrong place: what opened is {t}", "I did not mean to open {t}", "instead of {m}, I got {t}",
                "{t} is showing; that was not the plan",
            )).format(t=t or "another screen", m=me)
        elif kind == "value" and node is not None:
            said = self.pick((
                "{e} reads {v}, which is wrong", "{e} holds {v}: not what the task asks", "reading {e} back, it says {v}; a mistake",
                "{e} shows {v} instead of what I meant", "looking at {e}: {v} is not right",
            )).format(e=el, v=quote(node.value or ""))
        elif kind == "toggle" and node is not None:
            said = self.pick((
                "{e} changed, but I did not mean to touch it", "I flipped {e} by mistake", "{e} is the one that changed: wrong one",
                "oops, {e} toggled instead of {m}", "the change went to {e}, not {m}",
            )).format(e=el, m=me)
        else:
            said = self.pick((
                "that did not do what I meant", "that went wrong: the result is not what I wanted",
                "the effect is not the one I expected", "something else happened than I intended",
            )) + (self.pick((" ({e} reacted)", "; it hit {e}")).format(e=el) if node is not None else "")
        if kind == "nothing":
            fix = self.pick(("I try again", "once more, aiming better", "I aim more carefully this time", "another go",
                             "I repeat it properly"))  # fmt: skip
        else:
            fix = self.pick(("I fix it", "let me undo that", "I put it right", "correcting that now", "I correct it",
                             "time to repair that", "I set it straight"))  # fmt: skip
        return sentence(said) + " " + sentence(fix)

    def stale(self, title: str, target: Node | None) -> str:
        """A belief that the previous screen is still open (the agent's last click changed it)."""
        e = self.el(target)
        return sentence(self.pick((
            "the screen still seems to be {t} and nothing has changed; I click {e} again",
            "my last click does not seem to have registered on {t}, so I click {e} again",
            "still on {t}, it looks like; clicking {e} once more", "nothing seems to have happened on {t}; I try {e} again",
        )).format(t=quote(title), e=e))

    def guess(self, target: Node | None) -> str:
        """Why an agent with no plan tries an element (the random tier)."""
        e = self.el(target) if target is not None else self.pick(("this spot", "this part of the screen", "this place"))
        return self.pick((
            "see what {e} does", "try {e}", "maybe {e} leads to what the task needs", "{e} looks worth a try",
            "check {e}", "test {e}", "have a look at {e}", "perhaps {e} helps", "poke at {e}", "{e} might be it",
            "give {e} a go", "find out what {e} is for", "{e} could be useful", "I will try my luck with {e}",
        )).format(e=e)

    def join(self, parts: list[str]) -> str:
        return " ".join(p for p in parts if p)
