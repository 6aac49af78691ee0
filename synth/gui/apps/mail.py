"""The ``mail`` app: folders, a scrolling message list, an email screen, menus, dialogs, compose.

Screens: ``list`` (folder sidebar with Compose, a search box, the folder's messages in a
scroll area), ``search`` (results of the search box, Enter submits), ``email`` (Back, Move to
(a menu of folders), Mark as unread/read, Star/Unstar, Delete (a confirm dialog), Reply) and
``compose`` (To, Subject, Body, Send). A long press on a message opens a context menu whose
"Move to..." opens a dialog with a radio group of folders, a second path to the same result.
Opening a message marks it read, as mail clients do; moving or deleting returns to the list.

Tasks (state-checked; the question asks for an ``answer``):

====  ========  ================================================================
 d    messages  tasks
====  ========  ================================================================
 1    8         star a message; mark a message unread
 2    12        move a message to a folder; delete a message; count unread in a folder
 3    24        move + mark unread; star + move (target below the fold: scroll)
 4    30        reply with a given text; count one sender's emails in the whole inbox
 5    40        reply then move; move + unread + star; compose a new message
====  ========  ================================================================

Subjects come in families ("Q3 report", "Q2 report", "Final report"), so the neighbours of a
target are real distractors for grounding and for the noisy tier.
"""

from __future__ import annotations

import random
from typing import Any

from synth.gui.actions import normalize_answer, same_text
from synth.gui.app import (
    Answer,
    App,
    Back,
    Click,
    Intent,
    LongPress,
    Show,
    Tally,
    Type,
    register_app,
)
from synth.gui.apps.form import FIRST, LAST
from synth.gui.phrasing import literal, must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    column,
    container,
    dialog,
    heading,
    label,
    listitem,
    menu,
    menuitem,
    radio,
    scrollarea,
    split,
    textbox,
    window,
)

PREFIXES = ("Q1", "Q2", "Q3", "Q4", "Team", "Final", "Updated", "Weekly", "Annual", "Draft")
TOPICS = ("report", "budget", "offsite plan", "invoice", "roadmap", "review", "schedule", "metrics")
FOLDERS = ("Archive", "Work", "Travel", "Promotions", "Receipts", "Family")
BODIES = ("Please take a look at the {s} before Friday.", "Here is the {s} we talked about.",
          "Can you confirm the {s} by tomorrow?", "Sharing the {s}; comments welcome.")  # fmt: skip
REPLIES = ("See you there", "Thanks, looks good", "I will review it today", "Approved", "Let's discuss on Monday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun")
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
LEVELS = {
    1: {"messages": 8, "tasks": ("star", "unread")},
    2: {"messages": 12, "tasks": ("move", "delete", "count")},
    3: {"messages": 24, "tasks": ("move_unread", "star_move")},
    4: {"messages": 30, "tasks": ("reply", "count")},
    5: {"messages": 40, "tasks": ("reply_move", "move_unread_star", "compose")},
}


def _title(e: dict[str, Any]) -> str:
    return f"the {e['subject']!r} email from {e['from']}"


class MailApp(App):
    name = "mail"
    home = "list"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        folders = ["Inbox", *rng.sample(FOLDERS, 4), "Trash"]
        subjects = rng.sample([f"{p} {t}" for p in PREFIXES for t in TOPICS], level["messages"] + 12)
        people = [(first, last) for first in rng.sample(FIRST, 10) for last in rng.sample(LAST, 2)]
        emails = []
        for i, subject in enumerate(subjects):
            first, last = rng.choice(people)
            folder = "Inbox" if i < level["messages"] else rng.choice(folders[1:-1])
            day = 28 - i * 27 // len(subjects)
            emails.append({"id": i, "from": f"{first} {last}", "addr": f"{first}.{last}@example.com".lower(),
                           "subject": subject, "body": rng.choice(BODIES).format(s=subject.lower()),
                           "folder": folder, "unread": rng.random() < 0.4, "starred": rng.random() < 0.15,
                           "date": f"{MONTHS[5 - i * 6 // len(subjects)]} {max(1, day)}"})  # fmt: skip
        model = {"me": "sam@example.org", "folders": folders, "emails": emails, "sent": []}
        kind = rng.choice(level["tasks"])
        inbox = [e for e in emails if e["folder"] == "Inbox"]
        deep = difficulty >= 3  # below the fold: scrolling needed
        e = rng.choice(inbox[len(inbox) // 2 :] if deep else inbox[:8])
        other = rng.choice(folders[1:-1])
        goal: dict[str, Any] = {"kind": kind, "email": e["id"], "title": _title(e)}
        if kind == "count" and deep:  # scan a long inbox for one sender's emails
            sender = rng.choice(inbox[len(inbox) // 2 :])["from"]
            n = sum(x["from"] == sender for x in inbox)
            return model, {"kind": kind, "folder": "Inbox", "sender": sender, "answer": str(n)}, \
                f"How many emails from {sender} are in the Inbox? Answer with a number."
        if kind == "count":
            folder = rng.choice(folders[1:-1])
            n = sum(x["unread"] for x in emails if x["folder"] == folder)
            return model, {"kind": kind, "folder": folder, "sender": None, "answer": str(n)}, \
                f"How many unread emails are in the {folder} folder? Answer with a number."
        if kind == "compose":
            first, last = rng.choice(FIRST), rng.choice(LAST)
            goal = {"kind": kind, "to": f"{first}.{last}@example.com".lower(),
                    "subject": rng.choice(subjects[-12:]), "body": rng.choice(REPLIES)}  # fmt: skip
            return model, goal, (f"Write a new email to {goal['to']} with the subject {goal['subject']!r} "
                                 f"saying {goal['body']!r}, and send it.")  # fmt: skip
        words = []
        if "star" in kind:
            e["starred"] = False
            goal["starred"] = True
            words.append("star it")
        if "unread" in kind:
            e["unread"] = False  # to be marked unread, it starts read
            goal["unread"] = True
            words.append("mark it as unread")
        if "move" in kind:
            goal["folder"] = other
            words.insert(0, f"move it to {other}")
        if kind == "delete":
            goal["folder"] = "Trash"
            words.append("delete it")
        if "reply" in kind:
            goal["reply"] = rng.choice(REPLIES)
            words.insert(0, f"reply {goal['reply']!r}")
        text = f"Find {_title(e)}"
        return model, goal, f"{text} and {', then '.join(words)}."

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        name, args = frame.name, frame.args
        if name == "move_menu":
            e = self._email(model, args["id"])
            items = [menuitem(f, f"move:{f}") for f in model["folders"] if f not in (e["folder"], "Trash")]
            return menu("Move to", "email:move", *items)
        if name == "context":
            e = self._email(model, args["id"])
            return menu("Email actions", f"email:{e['id']}", menuitem("Open", "ctx:open"),
                        menuitem("Move to...", "ctx:move"),
                        menuitem("Mark as read" if e["unread"] else "Mark as unread", "ctx:unread"),
                        menuitem("Unstar" if e["starred"] else "Star", "ctx:star"), menuitem("Delete", "ctx:delete"))  # fmt: skip
        if name == "move_dialog":
            e = self._email(model, args["id"])
            choices = [radio(f, "dest", f) for f in model["folders"] if f not in (e["folder"], "Trash")]
            return dialog(f"Move {e['subject']!r} to", *choices,
                          buttons(button("Cancel", "dest:cancel"), button("Move", "dest:move", primary=True)),
                          cancel="dest:cancel")  # fmt: skip
        if name == "delete":
            e = self._email(model, args["id"])
            return dialog("Delete this email?", label(f"{e['subject']!r} will be moved to Trash."),
                          buttons(button("Cancel", "delete:no"), button("Delete", "delete:yes", primary=True)),
                          cancel="delete:no")  # fmt: skip
        if name == "email":
            e = self._email(model, args["id"])
            bar = container("toolbar", "Message actions", button("Back", "email:back"), button("Move to", "email:move"),
                            button("Mark as read" if e["unread"] else "Mark as unread", "email:unread"),
                            button("Unstar" if e["starred"] else "Star", "email:star"),
                            button("Delete", "email:delete"), kind="row")  # fmt: skip
            return window(f"{e['subject']} - Mail", bar, heading(e["subject"]),
                          label(f"From: {e['from']} <{e['addr']}>", strong=True), label(e["date"]), label(e["body"]),
                          buttons(button("Reply", "email:reply", primary=True)), back="email:back")  # fmt: skip
        if name == "compose":
            reply = args.get("reply_to")
            e = self._email(model, reply) if reply is not None else None
            return window("Compose - Mail", heading("Reply" if e else "New message"),
                          textbox("To", "compose:to", e["addr"] if e else "", match="casefold"),
                          textbox("Subject", "compose:subject", f"Re: {e['subject']}" if e else ""),
                          textbox("Body", "compose:body"),
                          buttons(button("Discard", "compose:discard"), button("Send", "compose:send", primary=True)),
                          back="compose:discard")  # fmt: skip
        return self._list(model, frame)

    def _list(self, model: dict[str, Any], frame: Any) -> Node:
        query = frame.args.get("query")
        current = frame.args.get("folder", "Inbox")
        if frame.name == "search":
            shown = [e for e in model["emails"] if e["folder"] != "Trash" and _hit(e, query)]
            title = f"Results for {query!r}"
        else:
            shown = [e for e in model["emails"] if e["folder"] == current]
            title = current
        unread = sum(e["unread"] for e in model["emails"] if e["folder"] == "Inbox")
        folders = [listitem(f"{f}, {unread} unread" if f == "Inbox" and unread else f, f"folder:{f}",
                            (f, str(unread)) if f == "Inbox" and unread else (f,),
                            selected=f == current and frame.name == "list") for f in model["folders"]]  # fmt: skip
        side = container("navigation", "Folders", button("Compose", "compose", primary=True),
                         container("list", "Folders", *folders))  # fmt: skip
        rows = [listitem(", ".join([*(["unread"] if e["unread"] else []), e["from"], e["subject"], e["date"],
                                    *(["starred"] if e["starred"] else [])]),
                         f"email:{e['id']}", (("* " if e["starred"] else "") + e["from"], e["subject"], e["date"]),
                         strong=e["unread"]) for e in shown]  # fmt: skip
        listing = container("list", title, *rows) if rows else label("No messages")
        main = column(textbox("Search mail", "search", query or "", submit="search", match="casefold"),
                      heading(title), scrollarea("Messages", "messages", listing), grow=True)  # fmt: skip
        back = "search:back" if frame.name == "search" else None
        bar = [buttons(button("Back to folder", "search:back"))] if back else []
        return window(f"{title} - Mail", *bar, split(side, main), back=back)

    @staticmethod
    def _email(model: dict[str, Any], eid: int) -> dict[str, Any]:
        return model["emails"][eid]

    # ------------------------------------------------------------------ behaviour

    def on(self, ctx: Any, event: Any) -> str | None:
        model, key, args = ctx.model, event.key, event.frame.args
        if event.kind == "submit" and key == "search":
            query = (event.value or "").strip()
            if not query:
                return "nothing to search for"
            ctx.push("search", query=query)
            return None
        if event.kind == "long_press" and key.startswith("email:") and key[6:].isdigit():
            ctx.menu("context", key, id=int(key[6:]))
            return None
        if event.kind != "click":
            return None
        if key.startswith("folder:"):
            ctx.home("list", folder=key[7:])
        elif key == "compose":
            ctx.push("compose")
        elif key.startswith("email:") and key[6:].isdigit() or key == "ctx:open":
            e = self._email(model, int(key[6:]) if key[6:].isdigit() else args["id"])
            e["unread"] = False
            ctx.push("email", id=e["id"])
        elif key in ("email:back", "search:back", "compose:discard", "dest:cancel", "delete:no"):
            ctx.back()
        elif key == "email:move":
            ctx.menu("move_menu", key, id=args["id"])
        elif key.startswith("move:"):
            return self._move(ctx, args["id"], key[5:], leave=True)
        elif key in ("email:unread", "ctx:unread"):
            e = self._email(model, args["id"])
            e["unread"] = not e["unread"]
            return f"marked as {'unread' if e['unread'] else 'read'}"
        elif key in ("email:star", "ctx:star"):
            e = self._email(model, args["id"])
            e["starred"] = not e["starred"]
            return "starred" if e["starred"] else "unstarred"
        elif key in ("email:delete", "ctx:delete"):
            ctx.dialog("delete", id=args["id"], leave=key == "email:delete")
        elif key == "delete:yes":
            ctx.close()
            return self._move(ctx, args["id"], "Trash", leave=args["leave"])
        elif key == "ctx:move":
            ctx.dialog("move_dialog", id=args["id"])
        elif key == "dest:move":
            dest = event.frame.values.get("dest")
            if dest is None:
                return "choose a folder first"
            ctx.close()
            return self._move(ctx, args["id"], dest, leave=False)
        elif key == "email:reply":
            ctx.push("compose", reply_to=args["id"])
        elif key == "compose:send":
            values = event.frame.values
            e = self._email(model, args["reply_to"]) if "reply_to" in args else None
            model["sent"].append({"to": values.get("compose:to", e["addr"] if e else ""),
                                  "subject": values.get("compose:subject", f"Re: {e['subject']}" if e else ""),
                                  "body": values.get("compose:body", ""), "reply_to": args.get("reply_to")})  # fmt: skip
            ctx.back()
            return "message sent"
        return None

    def _move(self, ctx: Any, eid: int, folder: str, leave: bool) -> str:
        self._email(ctx.model, eid)["folder"] = folder
        if leave:
            ctx.back()
        return f"moved to {folder}"

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        kind = goal["kind"]
        if kind == "count":
            if answer is None:
                return False, "no answer given"
            ok = normalize_answer(answer) in (goal["answer"], WORDS[int(goal["answer"])] if int(goal["answer"]) < 11 else "")
            return ok, f"answered {answer!r}, {'correct' if ok else 'want ' + goal['answer']}"
        if kind == "compose":
            ok = any(_matches(m, goal["to"], goal["subject"], goal["body"]) for m in model["sent"])
            return ok, "the message was sent" if ok else f"no sent message to {goal['to']} with that subject and text"
        problems = self._unmet(model, goal)
        return not problems, "; ".join(problems) or f"{_title(self._email(model, goal['email']))} is as asked"

    def _unmet(self, model: dict[str, Any], goal: dict[str, Any]) -> list[str]:
        e = self._email(model, goal["email"])
        out = []
        if "folder" in goal and e["folder"] != goal["folder"]:
            out.append(f"it is in {e['folder']}, not {goal['folder']}")
        for flag in ("unread", "starred"):
            if flag in goal and e[flag] != goal[flag]:
                out.append(f"it is {'' if e[flag] else 'not '}{flag}")
        if "reply" in goal and not any(m["reply_to"] == e["id"] and _matches(m, e["addr"], None, goal["reply"])
                                       for m in model["sent"]):  # fmt: skip
            out.append(f"no reply {goal['reply']!r} was sent")
        return out

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        kind = goal["kind"]
        if self.check(model, goal, goal.get("answer"))[0] and kind != "count":
            return []
        overlay, screen, args = ui.overlay, ui.screen, ui.args
        if kind == "count":
            if overlay is None and screen == "list" and args.get("folder") == goal["folder"]:
                below = [k for k in ui.view.nodes if k.startswith("email:") and ui.below(k)]
                if below:
                    return [Show(below[-1], f"some {goal['folder']} emails are below the fold; see them all")]
                n = int(goal["answer"])
                return [Answer(goal["answer"], f"the whole {goal['folder']} list has been read", (WORDS[n],) if n < 11 else ())]
            if overlay is None and screen == "list":
                return [Click(f"folder:{goal['folder']}", f"open the {goal['folder']} folder")]
            return [Back("go back to the folders")]
        if kind == "compose":
            if overlay is None and screen == "compose" and "reply_to" not in args:
                return self._fill(ui, goal["to"], goal["subject"], goal["body"]) or \
                    [Click("compose:send", "the message is ready; send it")]
            if overlay is None and screen == "list":
                return [Click("compose", "start a new message")]
            return [Back("go back to the message list")]
        e = self._email(model, goal["email"])
        need = {k: goal[k] for k in ("folder", "unread", "starred") if k in goal and e[k] != goal[k]}
        if "reply" in goal and self._unmet(model, {"email": e["id"], "reply": goal["reply"]}):
            need["reply"] = goal["reply"]
        it = goal["title"]  # the instruction's words (a believed goal keeps them for another email)
        if overlay is not None:
            return self._in_overlay(overlay, e, need, it)
        if screen == "email":
            if args["id"] != e["id"]:
                return [Back(f"this is not {it}; go back")]
            acts = {"starred": Click("email:star", _flag(it, "starred"), "starred"),
                    "unread": Click("email:unread", _flag(it, "marked unread"), "unread"),
                    "reply": Click("email:reply", f"reply to {it}", "reply")}  # fmt: skip
            out = [acts[k] for k in need if k in acts]
            if "folder" in need and (len(need) == 1 or need["folder"] != "Trash"):
                out.append(Click("email:delete", f"delete {it}", "folder") if need["folder"] == "Trash"
                           else Click("email:move", _move(it, need["folder"]), "folder"))  # fmt: skip
            return out
        if screen == "compose":
            if args.get("reply_to") != e["id"] or "reply" not in need:
                return [Back("this draft is not needed; discard it")]
            return self._fill(ui, e["addr"], f"Re: {e['subject']}", need["reply"]) or \
                [Click("compose:send", "the reply is ready; send it", "reply")]
        key = f"email:{e['id']}"
        if ui.node(key) is None:
            if screen == "search":
                return [Back("the search does not show it; go back")]
            return [Click(f"folder:{e['folder']}", f"{it} is in the {e['folder']} folder")]
        out = [Click(key, f"open {it}")]
        if "reply" not in need:
            out.append(LongPress(key, f"open the actions of {it}"))
        return out

    def _in_overlay(self, overlay: Any, e: dict[str, Any], need: dict[str, Any], it: str) -> list[Intent]:
        name, args = overlay.name, overlay.args
        if args.get("id") != e["id"]:
            return [Back(f"that is not for {it}; close it")]
        folder = need.get("folder")
        if name == "move_menu" and folder and folder != "Trash":
            return [Click(f"move:{folder}", _move("it", folder), "folder")]
        if name == "delete" and folder == "Trash":
            return [Click("delete:yes", f"confirm deleting {it}", "folder")]
        if name == "move_dialog" and folder and folder != "Trash":
            return [Click(f"dest={folder}", f"choose {folder}", "folder") if overlay.values.get("dest") != folder
                    else Click("dest:move", _move("it", folder), "folder")]  # fmt: skip
        if name == "context":
            out = [Click(k, why, sub) for k, why, sub, wanted in (
                ("ctx:star", _flag(it, "starred"), "starred", "starred" in need),
                ("ctx:unread", _flag(it, "marked unread"), "unread", "unread" in need),
                ("ctx:move", _move(it, folder), "folder", folder and folder != "Trash"),
                ("ctx:delete", f"delete {it}", "folder", folder == "Trash"))
                   if wanted]  # fmt: skip
            if out:
                return out
        return [Back("that is not needed; close it")]

    @staticmethod
    def _fill(ui: Any, to: str, subject: str, body: str) -> list[Intent]:
        out = []
        for key, want, match in (("compose:to", to, "casefold"), ("compose:subject", subject, "exact"),
                                 ("compose:body", body, "exact")):  # fmt: skip
            if not same_text(ui.value(key), want, match):
                out.append(Type(key, want, must_be(f"the {key[8:]}", repr(want)), key[8:]))
        return out

    def needs(self, goal: dict[str, Any]) -> list[str]:
        kind = goal["kind"]
        if kind == "count":
            what = f"emails from {goal['sender']}" if goal["sender"] else "unread emails"
            return [f"the number of {what} in {goal['folder']}"]
        if kind == "compose":
            return [f"a new email to {goal['to']}", f"subject {goal['subject']!r}", f"text {goal['body']!r}"]
        it = goal["title"]
        out = [f"{it} found"]
        if "reply" in goal:
            out.append(f"a reply to it saying {goal['reply']!r}")
        if "folder" in goal:
            out.append("it deleted" if goal["folder"] == "Trash" else f"it moved to {goal['folder']}")
        if goal.get("unread"):
            out.append("it marked unread")
        if goal.get("starred"):
            out.append("it starred")
        return out

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """A count question tallies the rows of its folder's list (sender or unread mark shown)."""
        if goal["kind"] != "count":
            return None
        folder, sender = goal["folder"], goal["sender"]

        def counts(node: Any) -> bool:
            e = model["emails"][int(node.key[6:])]
            return e["from"] == sender if sender else e["unread"]

        return Tally(f"emails from {sender}" if sender else "unread emails",
                     lambda ui: ui.overlay is None and ui.screen == "list" and ui.args.get("folder", "Inbox") == folder,
                     lambda node: node.role == "listitem" and (node.key or "").startswith("email:"), counts)  # fmt: skip

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        kind = goal["kind"]
        if kind == "count":
            n = int(goal["answer"])
            return [{**goal, "answer": str(m)} for m in (n + 1, max(0, n - 1)) if m != n]
        if kind == "compose":
            return [{**goal, "body": goal["body"] + "!"}, {**goal, "to": goal["to"].replace(".", "", 1)}]
        e = self._email(model, goal["email"])
        same_folder = [x["id"] for x in model["emails"] if x["folder"] == e["folder"] and x["id"] != e["id"]]
        near = sorted(same_folder, key=lambda i: abs(i - e["id"]))[:2]
        out = [{**goal, "email": i} for i in near]  # taken for the one the task names: same words
        if "folder" in goal and goal["folder"] != "Trash":
            out.append({**goal, "folder": rng.choice([f for f in model["folders"][1:-1] if f != goal["folder"]])})
        if "reply" in goal:
            out.append({**goal, "reply": rng.choice([r for r in REPLIES if r != goal["reply"]])})
        return out


def _hit(e: dict[str, Any], query: str) -> bool:
    q = query.casefold()
    return q in e["subject"].casefold() or q in e["from"].casefold()


def _matches(m: dict[str, Any], to: str, subject: str | None, body: str) -> bool:
    return (same_text(m["to"], to, "casefold") and same_text(m["body"], body)
            and (subject is None or same_text(m["subject"], subject)))  # fmt: skip


def _move(it: str, folder: str) -> str:
    """The planner's text for moving an email, in several wordings (one fixed sentence would
    mark every episode whose task moves mail)."""
    it, folder = literal(it), literal(folder)
    return (f"{{{it} must go to {folder}|{it} belongs in {folder}|{folder} is where {it} goes|"
            f"{it} is to be moved to {folder}|{it} goes into {folder}|{it} has to end up in {folder}}}")


def _flag(it: str, state: str) -> str:
    it = literal(it)
    return f"{{{it} must be {state}|{it} should be {state}|{it} is to be {state}|{it} needs to be {state}}}"


register_app(MailApp())
