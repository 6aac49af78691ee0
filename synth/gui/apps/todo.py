"""The ``todo`` app: lists in a sidebar, a task list with checkboxes, filters, a task editor.

Screens: the tasks of one list (a sidebar of lists; All/Active/Done filter tabs; a "Sort by"
dropdown; one row per task with its checkbox, due date and priority, and an Edit button, in a
list that scrolls when it is long; "Add task" and "Clear completed", the latter behind a
blocking "Clear completed tasks?" dialog) and the task editor (title, a List dropdown that
moves the task, a Due dropdown, a Priority radio group; Save, Delete, Cancel). Ticking a
checkbox completes a task at once; switching lists keeps the filter.

Tasks: complete tasks, add tasks (with due date, priority, into a named list), rename,
reprioritise, move to another list, delete, clear the completed tasks of a list, and
questions ("How many open tasks are in Work?", "Which task in Home has high priority?",
"When is 'Renew passport' due?") answered with ``answer``. As in the calendar, the goal
holds the operations and the whole expected task collection (list, title, done, due,
priority), compared as a multiset by the check.

====  =====================================================  ================================
 d    tasks                                                  lists and distractors
====  =====================================================  ================================
 1    complete one task; count the open, done or high-       3 lists x 3-5 tasks
      priority tasks of a list
 2    add a task; rename one; delete one; a task's due date  3-4 lists x 4-6 tasks
 3    complete one and add one with priority (and due);      4 lists x 5-8, near-duplicate
      reprioritise and re-date one; clear completed          titles
 4    complete two and rename one; move one to another       5 lists x 10-16 (the list
      list with a priority; complete one, then which task    scrolls), near-duplicates
      has high priority
 5    complete two, clear completed, add one; complete in    6 lists x 12-18
      one list and add in another; move, rename and count
====  =====================================================  ================================
"""

from __future__ import annotations

import random
from typing import Any

from synth.gui.actions import same_text
from synth.gui.app import Answer, App, Back, Click, Intent, Select, Show, Tally, Type, register_app
from synth.gui.apps.records import compare, count_aliases, holds, lookalikes, save_draft, verdict
from synth.gui.phrasing import must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    checkbox,
    column,
    combobox,
    container,
    dialog,
    heading,
    label,
    listitem,
    radio,
    row,
    scrollarea,
    split,
    tab,
    textbox,
    window,
)

LISTS = {
    "Home": ("Water the plants", "Water the balcony plants", "Fix the leaking tap", "Fix the squeaky door",
             "Clean the garage", "Clean the windows", "Change the bedsheets", "Descale the kettle", "Vacuum the stairs",
             "Replace the smoke alarm battery", "Sort the recycling", "Hang the new shelf", "Defrost the freezer",
             "Oil the hinges", "Wash the curtains", "Empty the dishwasher"),
    "Work": ("Prepare slides for Monday", "Prepare slides for the review", "Review the Q3 report", "Review the Q2 report",
             "Email Dana about the offsite", "Email Oscar about the budget", "Update the roadmap", "Submit expense report",
             "Book the meeting room", "Review pull request 42", "Review pull request 57", "Draft the hiring plan",
             "Write the weekly update", "Plan the team offsite", "Renew the software licence", "Archive old tickets"),
    "Groceries": ("Buy milk", "Buy oat milk", "Buy eggs", "Buy bread", "Buy rye bread", "Buy coffee beans", "Buy apples",
                  "Buy rice", "Buy olive oil", "Buy yoghurt", "Buy Greek yoghurt", "Buy cheese", "Buy tomatoes",
                  "Buy pasta", "Buy bananas", "Buy dish soap"),
    "Errands": ("Pick up dry cleaning", "Return library books", "Post the parcel", "Post the birthday card",
                "Renew passport", "Renew driving licence", "Get a haircut", "Collect the prescription",
                "Drop off the donations", "Pay the parking fine", "Pay the water bill", "Get keys copied",
                "Return the rental bike", "Top up the transit card"),
    "Personal": ("Call grandma", "Call the bank", "Book dentist appointment", "Book eye test", "Plan the birthday party",
                 "Write thank-you cards", "Renew gym membership", "Back up the laptop", "Back up the phone",
                 "Read the book club novel", "Sign up for the 10k run", "Sort old photos", "Update the CV",
                 "Learn 20 Spanish words"),
    "Garden": ("Mow the lawn", "Prune the roses", "Prune the apple tree", "Plant tulip bulbs", "Plant the herbs",
               "Clean the gutters", "Water the tomatoes", "Fix the fence", "Paint the fence", "Rake the leaves",
               "Empty the compost bin", "Repair the hose", "Weed the vegetable bed", "Feed the lawn"),
    "Travel": ("Book flights to Lisbon", "Book flights to Oslo", "Renew travel insurance", "Buy a power adapter",
               "Reserve the hotel", "Reserve the rental car", "Print the boarding passes", "Exchange currency",
               "Check passport expiry", "Pack the hiking boots", "Download offline maps", "Arrange pet sitting",
               "Cancel the newspaper", "Charge the camera"),
}  # fmt: skip
NEW = ("Call plumber", "Buy birthday candles", "Order printer ink", "Pay electricity bill", "Book car service",
       "Schedule vet visit", "Send the invoice", "Cancel old subscription", "Buy lightbulbs", "Clean the oven")  # fmt: skip
DUES = ("No date", "Today", "Tomorrow", "This weekend", "Next week")
PRIORITIES = ("Low", "Medium", "High")
SORTS = ("Manual", "Due date", "Priority", "Title")
FILTERS = ("all", "active", "done")
ASKED = {
    "count:open": ("how many open tasks are in {l}?", "how many tasks in the {l} list are not done yet?"),
    "count:done": ("how many tasks in {l} are already done?", "how many completed tasks does {l} have?"),
    "count:high": ("how many high-priority tasks are in {l}?", "how many tasks in {l} have high priority?"),
    "due": ("when is '{t}' in {l} due?", "what is the due date of '{t}' in the {l} list?"),
    "high": ("which task in {l} has high priority?", "what is the high-priority task in the {l} list?"),
}
COUNTED = {"open": lambda t: not t["done"], "done": lambda t: t["done"], "high": lambda t: t["priority"] == "High"}
LEVELS = {
    1: {"tasks": ("done", "count"), "lists": 3, "size": (3, 5)},
    2: {"tasks": ("add", "rename", "delete", "due?"), "lists": (3, 4), "size": (4, 6)},
    3: {"tasks": ("done add", "redate", "clear"), "lists": 4, "size": (5, 8)},
    4: {"tasks": ("done done rename", "move", "done high?"), "lists": 5, "size": (10, 16)},
    5: {"tasks": ("done done clear add", "done add*", "move rename count"), "lists": 6, "size": (12, 18)},
}  # fmt: skip
FIELDS = ("list", "title", "done", "due", "priority")
EDITOR = ("title", "list", "due", "priority")  # what the editor changes (done: the checkbox)


def _sig(t: dict[str, Any]) -> tuple:
    return tuple(t[k] for k in FIELDS)


def _record(t: dict[str, Any]) -> dict[str, Any]:
    return {k: t[k] for k in FIELDS}


class TodoApp(App):
    name = "todo"
    home = "tasks"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        count = level["lists"] if isinstance(level["lists"], int) else rng.randint(*level["lists"])
        names = rng.sample(sorted(LISTS), count)
        tasks = []
        for name in names:
            pool = LISTS[name]
            for title in rng.sample(pool, min(len(pool), rng.randint(*level["size"]))):
                tasks.append({"id": len(tasks) + 1, "list": name, "title": title, "done": rng.random() < 0.3,
                              "due": rng.choice(DUES), "priority": rng.choice(PRIORITIES)})  # fmt: skip
        kinds = rng.choice(level["tasks"]).split()
        where = rng.choice(names[1:])  # the list the task is about (not the one shown first)
        other = rng.choice([n for n in names if n != where])
        mine = [t for t in tasks if t["list"] == where]
        keep = rng.sample(mine, 2)  # at least two open tasks to complete, and one done to clear
        for t in keep:
            t["done"] = False
        if "clear" in kinds:
            rng.choice([t for t in mine if t not in keep])["done"] = True
        if "high?" in kinds:  # exactly one high-priority task in the list
            top = rng.choice(mine)
            for t in mine:
                t["priority"] = "High" if t is top else rng.choice(PRIORITIES[:2])
        model = {"lists": names, "tasks": tasks, "next": len(tasks) + 1, "panel": rng.randint(480, 760),
                 "title_w": rng.randint(250, 340)}  # fmt: skip
        ops: list[dict[str, Any]] = []
        for kind in kinds:
            if not kind.endswith("?") and kind != "count":
                ops.append(self._op(model, kind.rstrip("*"), other if kind.endswith("*") else where, ops, rng))
        goal: dict[str, Any] = {"ops": ops}
        if kinds[-1].endswith("?") or kinds[-1] == "count":
            goal["answer"] = self._question(model, kinds[-1].rstrip("?"), where, ops, rng)
        goal["expect"] = _apply(model, ops)
        return model, goal, self._instruction(goal, rng)

    def _op(self, model: dict[str, Any], kind: str, where: str, ops: list, rng: random.Random) -> dict[str, Any]:
        taken = {o.get("id") for o in ops}
        now = _apply(model, ops)
        mine = [t for t in now if t["list"] == where and t["id"] not in taken]
        if kind == "clear":
            return {"op": "clear", "list": where, "ids": [t["id"] for t in now if t["list"] == where and t["done"]]}
        if kind == "add":
            used = {o["want"]["title"] for o in ops if "want" in o}
            want = {"list": where, "title": rng.choice([n for n in NEW if n not in used]), "done": False,
                    "due": "No date", "priority": "Medium"}  # fmt: skip
            if ops or rng.random() < 0.5:
                want["priority"] = rng.choice(PRIORITIES)
            if len(ops) > 1 or rng.random() < 0.4:
                want["due"] = rng.choice(DUES[1:])
            return {"op": "create", "want": want}
        t = rng.choice([t for t in mine if not t["done"]] if kind == "done" else mine)
        if kind == "delete":
            return {"op": "delete", "id": t["id"], "was": _record(t)}
        want = _record(t)
        if kind == "done":
            want["done"] = True
        elif kind == "rename":
            want["title"] = rng.choice([n for n in NEW if n != t["title"]])
        elif kind == "redate":
            want["due"] = rng.choice([d for d in DUES if d != t["due"]])
            want["priority"] = rng.choice([p for p in PRIORITIES if p != t["priority"]])
        else:  # move
            want["list"] = rng.choice([n for n in model["lists"] if n != where])
            want["priority"] = rng.choice([p for p in PRIORITIES if p != t["priority"]])
        return {"op": "update", "id": t["id"], "was": _record(t), "want": want}

    def _question(self, model: dict[str, Any], kind: str, where: str, ops: list, rng: random.Random) -> dict[str, Any]:
        tasks = [t for t in _apply(model, ops) if t["list"] == where]
        if kind == "due":
            t = rng.choice(tasks)
            return {"kind": kind, "list": where, "title": t["title"], "text": t["due"],
                    "aliases": [f"due {t['due'].lower()}"] if t["due"] != "No date" else ["none", "no due date"], "show": t["id"]}  # fmt: skip
        if kind == "high":
            t = next(t for t in tasks if t["priority"] == "High")
            return {"kind": kind, "list": where, "text": t["title"], "aliases": [], "show": t["id"]}
        what = rng.choice(tuple(COUNTED))
        n = sum(COUNTED[what](t) for t in tasks)
        return {"kind": "count", "what": what, "list": where, "text": str(n), "aliases": count_aliases(n, "task"), "show": None}

    def _instruction(self, goal: dict[str, Any], rng: random.Random) -> str:
        parts = [self._words(op, rng) for op in goal["ops"]]
        if q := goal.get("answer"):
            key = f"count:{q['what']}" if q["kind"] == "count" else q["kind"]
            parts.append(rng.choice(ASKED[key]).format(l=q["list"], t=q.get("title")))
        text = parts[0]
        for i, part in enumerate(parts[1:], 1):
            text += (" and " if i == len(parts) - 1 and not part.endswith("?") else rng.choice((", then ", "; "))) + part
        return text[0].upper() + text[1:] + ("" if text.endswith("?") else ".")

    def _words(self, op: dict[str, Any], rng: random.Random) -> str:
        if op["op"] == "clear":
            return rng.choice(("clear the completed tasks in {l}", "remove all done tasks from the {l} list")).format(l=op["list"])
        if op["op"] == "create":
            w = op["want"]
            text = rng.choice(("add '{t}' to the {l} list", "create a task '{t}' in {l}", "add a task '{t}' to {l}")).format(t=w["title"], l=w["list"])
            if w["priority"] != "Medium":
                text += f" with {w['priority'].lower()} priority"
            if w["due"] != "No date":
                text += f", due {w['due'].lower()}"
            return text
        old, t = op["was"], f"'{op['was']['title']}'"
        if op["op"] == "delete":
            return rng.choice(("delete the task {t} from {l}", "remove {t} from the {l} list")).format(t=t, l=old["list"])
        w = op["want"]
        if w["done"] != old["done"]:
            return rng.choice(("mark {t} in {l} as done", "tick off {t} in the {l} list", "complete {t} ({l})")).format(t=t, l=old["list"])
        if w["title"] != old["title"]:
            return rng.choice(("rename {t} in {l} to '{n}'", "change the title of {t} ({l}) to '{n}'")).format(t=t, l=old["list"], n=w["title"])
        if w["list"] != old["list"]:
            return f"move {t} from {old['list']} to {w['list']} and set its priority to {w['priority'].lower()}"
        return f"in {old['list']}, set {t} to {w['priority'].lower()} priority, due {w['due'].lower()}"

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        if frame.name == "clear":
            n = sum(t["done"] for t in model["tasks"] if t["list"] == frame.args["list"])
            return dialog("Clear completed tasks?", label(f"{n} completed task{'s' * (n != 1)} in {frame.args['list']} will be deleted."),
                          buttons(button("Cancel", "clear:no"), button("Clear", "clear:yes", primary=True)), cancel="clear:no")  # fmt: skip
        if frame.name == "edit":
            return self._editor(model, frame)
        cur, flt = _where(model, frame.args)
        lists = [listitem(n, f"list:{n}", selected=n == cur) for n in model["lists"]]
        side = container("navigation", "Lists", heading("My lists"), container("list", "Lists", *lists))
        rows = [row(_wide(checkbox(t["title"], f"done:{t['id']}", t["done"]), model["title_w"]), label(f"{t['priority']} · {t['due']}"), column(grow=True),
                    button("Edit", f"edit:{t['id']}")) for t in _shown(model, frame)]  # fmt: skip
        tabs = container("tablist", "Filter", *(tab(f.title(), f"filter:{f}", f == flt) for f in FILTERS), kind="row")
        main = column(row(heading(cur), column(grow=True), combobox("Sort by", "sort", "Manual", SORTS, width=200)), tabs,
                      scrollarea("Tasks", "tasks", *rows, height=380) if rows else label("Nothing here."),
                      buttons(button("Add task", "add", primary=True), button("Clear completed", "clear")))  # fmt: skip
        return window(f"{cur} - Tasks", split(side, main))

    def _editor(self, model: dict[str, Any], frame: Any) -> Node:
        t = _base(model, frame.args)
        title = "Edit task" if frame.args.get("task") is not None else "New task"
        actions = [button("Save", "save", primary=True), button("Cancel", "cancel")]
        if frame.args.get("task") is not None:
            actions.insert(1, button("Delete", "delete"))
        return window(title, column(heading(title), textbox("Title", "title", t["title"]),
                                    combobox("List", "list", t["list"], model["lists"]), combobox("Due", "due", t["due"], DUES),
                                    label("Priority"), row(*(radio(p, "priority", p, p == t["priority"]) for p in PRIORITIES)),
                                    buttons(*actions), width=model["panel"]), back="cancel")  # fmt: skip

    def on(self, ctx: Any, event: Any) -> str | None:
        key, model, args = event.key, ctx.model, ctx.screen.args
        cur, flt = _where(model, args)
        if event.kind == "change" and key.startswith("done:"):
            _task(model, int(key[5:]))["done"] = event.value
            return "marked done" if event.value else "marked not done"
        if event.kind != "click":
            return None
        if key.startswith("list:"):
            ctx.goto("tasks", list=key[5:], filter=flt)
        elif key.startswith("filter:"):
            ctx.goto("tasks", list=cur, filter=key[7:])
        elif key.startswith("edit:"):
            ctx.push("edit", task=int(key[5:]))
        elif key == "add":
            ctx.push("edit", task=None, list=cur)
        elif key == "clear":
            if not any(t["done"] for t in model["tasks"] if t["list"] == cur):
                return "no completed tasks to clear"
            ctx.dialog("clear", list=cur)
        elif key == "clear:yes":
            gone = [t for t in model["tasks"] if t["list"] == ctx.frame.args["list"] and t["done"]]
            model["tasks"] = [t for t in model["tasks"] if t not in gone]
            ctx.close()
            ctx.screen.scroll.clear()  # the list changed: it is shown again from the top
            return f"cleared {len(gone)} completed task{'s' * (len(gone) != 1)}"
        elif key in ("clear:no", "cancel"):
            ctx.back()
        elif key == "delete":
            model["tasks"] = [t for t in model["tasks"] if t["id"] != args["task"]]
            ctx.back()
            ctx.screen.scroll.clear()
            return "task deleted"
        elif key == "save":
            if not save_draft(model, "tasks", args.get("task"), _draft(model, ctx.frame)):
                return "not saved: the title is empty"
            ctx.back()
            ctx.screen.scroll.clear()
            return "task saved"
        return None

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        state = compare(map(_sig, model["tasks"]), map(_sig, goal["expect"]), _show, "tasks")
        return verdict(state, goal.get("answer"), answer)

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        if "answer" not in goal and holds(map(_sig, model["tasks"]), map(_sig, goal["expect"])):
            return []
        ops = _pending(model, goal)
        if ui.screen == "edit":
            task = ui.args.get("task")
            fits = (lambda op: op["op"] == "create") if task is None else \
                (lambda op: op.get("id") == task and (op["op"] == "delete" or _editor_diff(model, op)))  # fmt: skip
            mine = next(filter(fits, ops), None)
            return self._edit(model, ui, mine) if mine else [Back("this editor is not needed for the task; close it")]
        over = ui.overlay
        cur, flt = _where(model, ui.args)
        if over is not None:
            clear = next((op for op in ops if op["op"] == "clear" and op["list"] == over.args.get("list")), None)
            if over.name == "clear" and clear and _ready(model, ops, clear):
                return [Click("clear:yes", f"{_op_words(clear)}: confirm", _op_words(clear))]
            return [Back("nothing to do here; close it")]
        local, away = [], []
        for op in ops:
            words = _op_words(op)
            if op["op"] == "clear":
                home = op["list"]
                if home == cur and _ready(model, ops, op):
                    local.append(Click("clear", f"{words}: every task to complete there is done; clear them", words))
                elif home != cur:
                    away.append(Click(f"list:{home}", f"{words}: open the {home} list", words))
                continue
            if op["op"] == "create":
                home = op["want"]["list"]
                (local if home == cur else away).append(
                    Click("add", f"{words}: add a task", words) if home == cur else Click(f"list:{home}", f"{words}: open the {home} list", words))
                continue
            t = _task(model, op["id"])
            if t["list"] != cur:
                away.append(Click(f"list:{t['list']}", f"{words}: it is in the {t['list']} list; open it", words))
            elif not _visible(t, flt):
                local += [Click(f"filter:{f}", f"{words}: it is hidden by the {flt} filter", words)
                          for f in FILTERS if _visible(t, f)]  # fmt: skip
            else:
                if op["op"] == "delete" or _editor_diff(model, op):
                    local.append(Click(f"edit:{t['id']}", f"{words}: open its editor", words))
                if op["op"] == "update" and t["done"] != op["want"]["done"]:
                    local.append(Click(f"done:{t['id']}", f"{words}: tick its box" if op["want"]["done"] else f"{words}: untick its box", words))
        if local:  # what is in view first: scrolling towards two targets at once goes nowhere
            return [i for i in local if ui.node(i.key).visible] or local
        if away or "answer" not in goal:
            return away
        return self._answer(model, ui, goal["answer"])

    def _answer(self, model: dict[str, Any], ui: Any, q: dict[str, Any]) -> list[Intent]:
        """Open the list, show what the question is about, then answer."""
        cur, flt = _where(model, ui.args)
        if cur != q["list"]:
            return [Click(f"list:{q['list']}", f"the question is about the {q['list']} list; open it")]
        if q["kind"] == "count":
            hidden = [t for t in model["tasks"] if t["list"] == cur and COUNTED[q["what"]](t) and not _visible(t, flt)]
            if hidden:
                return [Click("filter:all", f"some {q['what']} tasks are hidden by the {flt} filter; show all")]
            shown = _shown(model, ui.base)
            target = shown[-1]["id"] if shown else None
        else:
            target = q["show"]
            if not _visible(_task(model, target), flt):
                return [Click("filter:all", "the task is hidden by this filter; show all")]
        if target is not None and not ui.node(f"done:{target}").visible:
            return [Show(f"done:{target}", "part of the list is out of view; scroll to it before answering")]
        return [Answer(q["text"], f"the {q['list']} list shows the answer: {q['text']}", tuple(q["aliases"]))]

    def _edit(self, model: dict[str, Any], ui: Any, op: dict[str, Any]) -> list[Intent]:
        words, over = _op_words(op), ui.overlay
        if op["op"] == "delete":
            return [Back("close this first")] if over else [Click("delete", f"{words}: delete it", words)]
        want, draft = op["want"], _draft(model, ui.base)
        if over is not None:
            field = over.anchor
            if field in ("list", "due") and draft[field] != want[field]:
                return [Select(field, want[field], must_be(f"the {field}", want[field]), words)]
            return [Back("nothing to change here; close it")]
        out = []
        if not same_text(draft["title"], want["title"]):
            out.append(Type("title", want["title"], must_be("the title", f"'{want['title']}'"), words))
        for field in ("list", "due"):
            if draft[field] != want[field]:
                out.append(Select(field, want[field], must_be(f"the {field}", want[field]), words))
        if draft["priority"] != want["priority"]:
            out.append(Click(f"priority={want['priority']}", must_be("the priority", want["priority"]), words))
        return out or [Click("save", f"{words}: {{every field is right|all the fields match|nothing is left to change|it reads as asked}}; {{save|save it|click save}}", words)]

    def needs(self, goal: dict[str, Any]) -> list[str]:
        out = [_op_words(op) for op in goal["ops"]]
        if q := goal.get("answer"):
            out.append({"count": "the number of {w} tasks in {l}", "due": "the due date of '{t}' in {l}",
                        "high": "the high-priority task in {l}"}[q["kind"]].format(l=q["list"], t=q.get("title"), w=q.get("what")))  # fmt: skip
        return out

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        """A neighbouring task instead, a wrong priority or list, a wrong answer."""
        out = []
        for i, op in enumerate(goal["ops"]):
            wrong = []
            if op["op"] in ("update", "delete"):  # a look-alike or neighbouring task, taken for the named one
                rows = [t for t in model["tasks"] if t["list"] == op["was"]["list"]]
                for t in lookalikes(rows, op["id"], lambda t: t["title"]):
                    if t["done"] != op["was"]["done"] or any(o.get("id") == t["id"] for o in goal["ops"]):
                        continue
                    changes = {k: v for k, v in op.get("want", {}).items() if op["was"][k] != v}
                    wrong.append({**op, "id": t["id"], "was": _record(t)} | ({"want": {**_record(t), **changes}} if "want" in op else {}))
            if op["op"] in ("update", "create") and op["want"]["priority"] != (op.get("was") or {}).get("priority"):
                wrong += [{**op, "want": {**op["want"], "priority": p}} for p in PRIORITIES if p != op["want"]["priority"]]
            if op["op"] == "create":
                lists = [{"id": n} for n in model["lists"]]
                wrong += [{**op, "want": {**op["want"], "list": r["id"]}} for r in lookalikes(lists, op["want"]["list"], lambda r: r["id"])]
            for w in wrong:
                ops = [*goal["ops"][:i], w | {"said": op}, *goal["ops"][i + 1 :]]  # the instruction's words stay
                out.append({**goal, "ops": ops, "expect": _apply(model, ops)})
        if (q := goal.get("answer")) and q["kind"] != "count":  # read off the row next to the right one
            rows = [t for t in _apply(model, goal["ops"]) if t["list"] == q["list"]]
            at = next(i for i, t in enumerate(rows) if t["id"] == q["show"])
            for j in (at - 1, at + 1):
                if 0 <= j < len(rows):
                    text = rows[j]["due"] if q["kind"] == "due" else rows[j]["title"]
                    if text != q["text"]:
                        out.append({**goal, "answer": {**q, "text": text, "aliases": []}})
        return out

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """A count question tallies the rows of its list (the box and the priority shown)."""
        q = goal.get("answer")
        if not q or q["kind"] != "count":
            return None
        noun = {"open": "open tasks", "done": "done tasks", "high": "high-priority tasks"}[q["what"]] + f" in {q['list']}"
        return Tally(noun, lambda ui: ui.overlay is None and ui.screen == "tasks" and _where(model, ui.args)[0] == q["list"],
                     lambda node: node.role == "checkbox" and (node.key or "").startswith("done:"),
                     lambda node: COUNTED[q["what"]](_task(model, int(node.key[5:]))))  # fmt: skip


def _task(model: dict[str, Any], tid: int) -> dict[str, Any]:
    return next(t for t in model["tasks"] if t["id"] == tid)


def _wide(node: Node, width: int) -> Node:
    """A checkbox with a fixed width, so the columns after it line up row to row."""
    node.width = width
    return node


def _where(model: dict[str, Any], args: dict[str, Any]) -> tuple[str, str]:
    """The list and filter a tasks screen shows (the first list, all tasks, at the start)."""
    return args.get("list", model["lists"][0]), args.get("filter", "all")


def _visible(t: dict[str, Any], flt: str) -> bool:
    return flt == "all" or t["done"] == (flt == "done")


def _shown(model: dict[str, Any], frame: Any) -> list[dict[str, Any]]:
    """The rows of the tasks screen in display order (its list, filter and sort)."""
    cur, flt = _where(model, frame.args)
    tasks = [t for t in model["tasks"] if t["list"] == cur and _visible(t, flt)]
    order = frame.values.get("sort", "Manual")
    if order == "Due date":
        return sorted(tasks, key=lambda t: DUES.index(t["due"]) or len(DUES))
    if order == "Priority":
        return sorted(tasks, key=lambda t: -PRIORITIES.index(t["priority"]))
    return sorted(tasks, key=lambda t: t["title"].casefold()) if order == "Title" else tasks


def _base(model: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The editor's starting values: the task's, or a blank task in the list it opened from."""
    if args.get("task") is not None:
        return _record(_task(model, args["task"]))
    return {"list": args["list"], "title": "", "done": False, "due": "No date", "priority": "Medium"}


def _draft(model: dict[str, Any], frame: Any) -> dict[str, Any]:
    """What the editor frame holds now (its typed and chosen values over the starting ones)."""
    base, v = _base(model, frame.args), frame.values
    return {**base, **{k: v[k] for k in EDITOR if k in v}}


def _editor_diff(model: dict[str, Any], op: dict[str, Any]) -> bool:
    if op["op"] == "create":
        return True
    t = _task(model, op["id"])
    return any(t[k] != op["want"][k] for k in EDITOR)


def _apply(model: dict[str, Any], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks after ``ops`` in order (originals keep their ids; new ones have id None)."""
    tasks = {t["id"]: {"id": t["id"], **_record(t)} for t in model["tasks"]}
    new = []
    for op in ops:
        if op["op"] == "delete":
            tasks.pop(op["id"])
        elif op["op"] == "update":
            tasks[op["id"]] = {"id": op["id"], **op["want"]}
        elif op["op"] == "create":
            new.append({"id": None, **op["want"]})
        else:
            tasks = {k: t for k, t in tasks.items() if not (t["list"] == op["list"] and t["done"])}
    return [*tasks.values(), *new]


def _pending(model: dict[str, Any], goal: dict[str, Any]) -> list[dict[str, Any]]:
    """The goal's operations not done yet, plus repairs: an original task changed by mistake
    goes back to what the goal expects of it."""
    ids = {t["id"]: t for t in model["tasks"]}
    cleared = {i for op in goal["ops"] if op["op"] == "clear" for i in op["ids"]}
    out = []
    for op in goal["ops"]:
        if op["op"] == "clear":
            done = not any(i in ids for i in op["ids"])
        elif op["op"] == "delete":
            done = op["id"] not in ids
        elif op["op"] == "update":
            t = ids.get(op["id"])
            done = _sig(t) == _sig(op["want"]) if t else op["id"] in cleared
            if t is None and not done:  # deleted by mistake: add it again as the goal wants it
                op = {"op": "create", "want": op["want"]}
                done = any(_sig(t) == _sig(op["want"]) for t in model["tasks"])
        else:
            done = any(_sig(t) == _sig(op["want"]) for t in model["tasks"])
        if not done:
            out.append(op)
    touched = {op.get("id") for op in goal["ops"]} | cleared
    for want in goal["expect"]:
        t = ids.get(want["id"])
        if want["id"] is None or want["id"] in touched or t is not None and _sig(t) == _sig(want):
            continue
        if t is not None:
            out.append({"op": "update", "id": t["id"], "was": _record(t), "want": _record(want), "repair": True})
        elif not any(_sig(x) == _sig(want) for x in model["tasks"]):
            out.append({"op": "create", "want": _record(want)})
    return out


def _ready(model: dict[str, Any], ops: list[dict[str, Any]], clear: dict[str, Any]) -> bool:
    """Clear only once every task of that list the goal completes is completed."""
    return not any(op["op"] == "update" and op["want"]["done"] and _task(model, op["id"])["list"] == clear["list"]
                   for op in ops)  # fmt: skip


def _op_words(op: dict[str, Any]) -> str:
    if "said" in op:  # a believed op: the agent takes it for the one the instruction names
        return _op_words(op["said"])
    if op["op"] == "clear":
        return f"the completed tasks of {op['list']} cleared"
    w = op.get("want")
    if op["op"] == "create":
        return f"a new task '{w['title']}' in {w['list']}, {w['priority'].lower()} priority, due {w['due'].lower()}"
    it = f"'{op['was']['title']}' in {op['was']['list']}"
    if op["op"] == "delete":
        return f"{it} deleted"
    if op.get("repair"):
        return f"{it} back as it was"
    said = {"title": f"the title '{w['title']}'", "list": f"the {w['list']} list", "due": f"due {w['due'].lower()}",
            "priority": f"{w['priority'].lower()} priority"}  # fmt: skip
    changes = [said[k] for k in EDITOR if w[k] != op["was"][k]]
    marked = f"marked {'done' if w['done'] else 'not done'}" if w["done"] != op["was"]["done"] else ""
    return f"{it} " + " and ".join(x for x in (marked, "set to " + ", ".join(changes) if changes else "") if x)


def _show(sig: tuple) -> str:
    lst, title, done, due, priority = sig
    return f"'{title}' in {lst} ({'done' if done else 'open'}, {priority.lower()}, due {due.lower()})"


register_app(TodoApp())
