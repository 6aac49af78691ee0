"""The ``files`` app: a file manager with places, breadcrumbs, a sortable list, menus and dialogs.

One screen per folder: a sidebar of places (Home and the top-level folders), a breadcrumb
trail, a toolbar (Up, New folder, and Rename / Move to... / Delete for the selected file, a
"Sort by" dropdown) and the folder's entries in a list that scrolls when the folder is full.
Clicking a folder opens it; clicking a file selects it; a long press on any entry opens its
context menu (Rename..., Move to..., Delete). Dialogs block: rename (a text field, Enter
confirms), move (a folder picker that scrolls when there are many folders), delete (confirm)
and new folder.

Tasks: delete, rename or move files (into existing folders or one the task creates), create
folders, and questions ("How many PDF files are in Reports?", "How big is 'manual.pdf'?",
"Which file in Downloads was changed last?") answered with ``answer``. The check compares the
final tree (every entry's path, kind and size) with the expected one as a multiset.

====  ===============================================  ======================================
 d    tasks                                            tree and distractors
====  ===============================================  ======================================
 1    count a file type or read a size in a            4 top-level folders, 3-6 entries each
      top-level folder; delete a file there
 2    rename or delete a file; count in a subfolder    + subfolders, 4-8 entries
 3    move a file to another folder; new folder in a   5 top-level folders, 6-10 entries,
      subfolder; latest change in a folder             near-duplicate names
 4    move and rename a file; move a file from a       6 top-level folders, 12-18 entries (the
      subfolder; count in a full folder                list scrolls), many folders (the picker
                                                       scrolls)
 5    new folder + move a file into it; move a file    as d4
      and delete one it leaves behind; move and rename
      a file, then count in the folder it left
====  ===============================================  ======================================
"""

from __future__ import annotations

import random
from typing import Any

from synth.gui.app import (
    Answer,
    App,
    Back,
    Click,
    Enter,
    Intent,
    LongPress,
    Select,
    Show,
    Tally,
    Type,
    register_app,
)
from synth.gui.apps.records import compare, count_aliases, holds, lookalikes, verdict
from synth.gui.phrasing import must_be
from synth.gui.toolkit import (
    Node,
    button,
    buttons,
    column,
    combobox,
    container,
    dialog,
    label,
    link,
    listitem,
    menu,
    menuitem,
    row,
    scrollarea,
    split,
    textbox,
    window,
)

TREE = {  # top-level folder -> its subfolders, each with the file pool it draws from
    "Documents": {"": "docs", "Finance": "finance", "Reports": "reports", "Letters": "letters"},
    "Downloads": {"": "downloads", "Installers": "installers"},
    "Pictures": {"": "pictures", "Holidays": "pictures", "Screenshots": "screens"},
    "Music": {"": "music", "Podcasts": "music"},
    "Projects": {"": "docs", "Website": "web", "Thesis": "thesis"},
    "Desktop": {"": "downloads", "Old stuff": "docs"},
}
POOLS = {
    "docs": ("notes.txt", "todo.txt", "meeting-notes.docx", "plan.docx", "plan-v2.docx", "ideas.txt", "summary.pdf",
             "checklist.pdf", "contacts.csv", "agenda.docx", "minutes.pdf", "draft.docx"),
    "finance": ("budget.xlsx", "budget-2023.xlsx", "tax-return-2023.pdf", "invoice-1042.pdf", "invoice-1043.pdf",
                "bank-statement-march.pdf", "expenses-q1.csv", "payslip-may.pdf", "insurance.pdf", "loan.xlsx"),
    "reports": ("report-q1.pdf", "report-q2.pdf", "report-q3.docx", "annual-report.pdf", "sales-summary.xlsx",
                "board-deck.pptx", "kpi-dashboard.xlsx", "audit-notes.txt", "market-study.pdf", "survey.csv"),
    "letters": ("cover-letter.docx", "reference-letter.pdf", "resignation-draft.docx", "thank-you-note.txt",
                "complaint.docx", "offer-letter.pdf"),
    "downloads": ("setup.zip", "budget.xlsx", "boarding-pass.pdf", "receipt-1188.pdf", "photo-001.jpg", "preview.mp3",
                  "manual.pdf", "dataset.csv", "slides.pptx", "wallpaper.png", "invoice-1044.pdf", "ticket.pdf",
                  "archive.zip", "report-final.pdf", "report-final-v2.pdf", "map.png", "recipe.pdf", "form.docx"),
    "installers": ("editor-setup.zip", "driver-2.1.zip", "fonts.zip", "player.zip", "tools.zip"),
    "pictures": ("IMG_2041.jpg", "IMG_2042.jpg", "IMG_2043.jpg", "beach.png", "sunset.jpg", "family-dinner.jpg",
                 "mountain.jpg", "city.png", "portrait.jpg", "garden.jpg", "party.jpg", "lake.png"),
    "screens": ("screenshot-0301.png", "screenshot-0302.png", "screenshot-0415.png", "error-dialog.png"),
    "music": ("track01.mp3", "track02.mp3", "track03.mp3", "interview.mp3", "episode-12.mp3", "episode-13.mp3",
              "demo.wav", "playlist.txt"),
    "web": ("index.html", "style.css", "app.js", "logo.png", "about.html", "contact.html", "readme.txt"),
    "thesis": ("thesis-draft.docx", "thesis-final.pdf", "references.bib", "chapter-1.docx", "chapter-2.docx",
               "figures.zip", "data.csv"),
}  # fmt: skip
TYPES = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint", "jpg": "JPEG", "png": "PNG",
         "mp3": "MP3", "wav": "WAV", "zip": "ZIP", "txt": "text", "csv": "CSV", "html": "HTML", "css": "CSS",
         "js": "JavaScript", "bib": "BibTeX"}  # fmt: skip
SORTS = ("Name", "Date modified", "Size")
ASKED = {
    "count": ("how many {t} files are in {f}?", "count the {t} files in {f}: how many are there?"),
    "size": ("how big is '{n}' in {f}?", "what is the size of '{n}' in {f}?"),
    "latest": ("which file in {f} was modified most recently?", "what is the newest file in {f}?"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NEW_FOLDERS = ("Taxes", "Archive 2023", "Receipts", "To print", "Shared", "Backup", "Travel", "Invoices")
LEVELS = {
    1: {"tasks": ("count", "size", "delete"), "tops": 4, "size": (3, 6), "subs": False},
    2: {"tasks": ("rename", "delete", "count/"), "tops": 4, "size": (4, 8), "subs": True},
    3: {"tasks": ("move", "mkdir/", "latest"), "tops": 5, "size": (6, 10), "subs": True},
    4: {"tasks": ("move rename", "move/", "count"), "tops": 6, "size": (12, 18), "subs": True},
    5: {"tasks": ("mkdir moveinto", "move delete", "move rename count"), "tops": 6, "size": (12, 18), "subs": True},
}  # fmt: skip


class FilesApp(App):
    name = "files"
    home = "browse"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        nodes: list[dict[str, Any]] = []

        def add(name: str, parent: int, kind: str, pool: str = "") -> dict[str, Any]:
            kb = 0 if kind == "folder" else _kb(name, rng)
            node = {"id": len(nodes) + 1, "name": name, "parent": parent, "kind": kind, "kb": kb, "date": _day(rng)}
            nodes.append(node)
            return node

        for top in [t for t in TREE if t in rng.sample(sorted(TREE), level["tops"])]:
            folder = add(top, 0, "folder")
            for sub, pool in TREE[top].items():
                if sub and not level["subs"]:
                    continue
                home = add(sub, folder["id"], "folder") if sub else folder
                for name in rng.sample(POOLS[pool], min(len(POOLS[pool]), rng.randint(*level["size"]))):
                    add(name, home["id"], "file")
        model = {"nodes": nodes, "next": len(nodes) + 1}
        kinds = rng.choice(level["tasks"]).split()
        ops: list[dict[str, Any]] = []
        for kind in kinds:
            if kind.rstrip("/") not in ("count", "size", "latest"):
                ops.append(self._op(model, kind, ops, rng))
        goal: dict[str, Any] = {"ops": ops}
        if kinds[-1].rstrip("/") in ("count", "size", "latest"):
            goal["answer"] = self._question(model, kinds[-1], ops, rng)
        goal["expect"] = [list(s) for s in _tree(_apply(model, ops))]
        return model, goal, self._instruction(goal, rng)

    def _op(self, model: dict[str, Any], kind: str, ops: list, rng: random.Random) -> dict[str, Any]:
        nodes = _apply(model, ops)
        folders = [n for n in nodes if n["kind"] == "folder"]
        if kind.startswith("mkdir"):
            parent = rng.choice([f for f in folders if (f["parent"] != 0) == kind.endswith("/")] or folders)
            taken = {n["name"] for n in nodes if n["parent"] == parent["id"]}
            return {"op": "mkdir", "parent": _path(nodes, parent["id"]), "name": rng.choice([f for f in NEW_FOLDERS if f not in taken])}
        used = {o.get("id") for o in ops}
        files = [n for n in nodes if n["kind"] == "file" and n["id"] not in used]
        if kind == "moveinto":
            made = ops[-1]
            f = rng.choice([n for n in files if _path(nodes, n["parent"]) != made["parent"]])
            return {"op": "move", "id": f["id"], "path": _path(model["nodes"], f["id"]), "dest": f"{made['parent']}/{made['name']}"}
        if kind in ("move", "move/"):
            pick = [n for n in files if (_depth(nodes, n["parent"]) > 1) == (kind == "move/")] or files
            f = rng.choice(pick)
            dests = [d for d in folders if d["id"] != f["parent"] and all(n["name"] != f["name"] for n in nodes if n["parent"] == d["id"])]
            return {"op": "move", "id": f["id"], "path": _path(model["nodes"], f["id"]), "dest": _path(nodes, rng.choice(dests)["id"])}
        if kind == "rename":
            f = next((_node(nodes, o["id"]) for o in ops if o["op"] == "move"), None) or rng.choice(files)
            stem, ext = f["name"].rsplit(".", 1)
            taken = {n["name"] for n in nodes}
            name = rng.choice([n for s in ("-2024", "-final", "-signed", "-old", "-v3", "-backup") if (n := f"{stem}{s}.{ext}") not in taken])
            return {"op": "rename", "id": f["id"], "path": _path(model["nodes"], f["id"]), "name": name}
        left = _find(nodes, ops[-1]["path"].rsplit("/", 1)[0]) if ops else None
        near = [n for n in files if n["parent"] == left]
        f = rng.choice(near or files)  # delete (after a move: a neighbour it leaves behind)
        return {"op": "delete", "id": f["id"], "path": _path(model["nodes"], f["id"])}

    def _question(self, model: dict[str, Any], kind: str, ops: list, rng: random.Random) -> dict[str, Any]:
        nodes = _apply(model, ops)
        moved = next((o["path"].rsplit("/", 1)[0] for o in ops if o["op"] == "move"), None)  # the folder it left
        folders = [n for n in nodes if n["kind"] == "folder" and any(m["parent"] == n["id"] and m["kind"] == "file" for m in nodes)]
        if moved:
            folder = next(f for f in folders if _path(nodes, f["id"]) == moved)
        elif kind == "count/":
            folder = rng.choice([f for f in folders if f["parent"] != 0] or folders)
        else:
            full = max(len([m for m in nodes if m["parent"] == f["id"]]) for f in folders)
            folder = rng.choice([f for f in folders if len([m for m in nodes if m["parent"] == f["id"]]) == full or kind != "count"])
        where = _path(nodes, folder["id"])
        files = [n for n in nodes if n["parent"] == folder["id"] and n["kind"] == "file"]
        q: dict[str, Any] = {"kind": kind.rstrip("/"), "folder": where}
        if q["kind"] == "count":
            ext = rng.choice(sorted({f["name"].rsplit(".", 1)[1] for f in files}))
            n = sum(f["name"].endswith("." + ext) for f in files)
            return {**q, "ext": ext, "text": str(n), "aliases": count_aliases(n, "file"), "show": None}
        if q["kind"] == "size":
            f = rng.choice(files)
            return {**q, "name": f["name"], "text": _size(f["kb"]), "aliases": [_size(f["kb"]).replace(" ", "")], "show": f["id"]}
        latest = max(files, key=lambda f: f["date"])
        for m in model["nodes"]:  # one newest file, so the answer is unique
            if m["parent"] == folder["id"] and m["kind"] == "file" and m["date"] == latest["date"] and m["id"] != latest["id"]:
                m["date"] = "2022-12-31"
        return {**q, "text": latest["name"], "aliases": [latest["name"].rsplit(".", 1)[0]], "show": latest["id"]}

    def _instruction(self, goal: dict[str, Any], rng: random.Random) -> str:
        parts, ops = [], goal["ops"]
        for i, op in enumerate(ops):
            name, where = (op["path"].rsplit("/", 1)[1], _say(op["path"].rsplit("/", 1)[0])) if "path" in op else ("", "")
            after = i > 0 and ops[i - 1].get("id") == op.get("id")
            if op["op"] == "mkdir":
                parts.append(rng.choice(("create a folder '{n}' in {p}", "make a new folder called '{n}' inside {p}",
                                         "in {p}, add a folder named '{n}'")).format(n=op["name"], p=_say(op["parent"])))  # fmt: skip
            elif op["op"] == "move" and i > 0 and ops[i - 1]["op"] == "mkdir":
                parts.append(f"move '{name}' from {where} into it")
            elif op["op"] == "move":
                parts.append(rng.choice(("move '{n}' from {f} into {d}", "put '{n}' ({f}) in the {d} folder")).format(n=name, f=where, d=_say(op["dest"])))
            elif op["op"] == "rename":
                parts.append(f"rename it to '{op['name']}'" if after else f"rename '{name}' in {where} to '{op['name']}'")
            else:
                parts.append(rng.choice(("delete '{n}' from {f}", "remove the file '{n}' in {f}")).format(n=name, f=where))
        if q := goal.get("answer"):
            parts.append(rng.choice(ASKED[q["kind"]]).format(t=TYPES.get(q.get("ext"), ""), n=q.get("name"), f=_say(q["folder"])))
        text = parts[0]
        for part in parts[1:]:
            text += (" and " if part.startswith("rename it") or part.startswith("move '") and "into it" in part
                     else rng.choice(("; then ", ", then ", ". Then "))) + part  # fmt: skip
        return text[0].upper() + text[1:] + ("" if text.endswith("?") else ".")

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        nodes, args = model["nodes"], frame.args
        if frame.name == "menu":
            n = _node(nodes, args["id"])
            items = [menuitem("Open", "ctx:open")] if n["kind"] == "folder" else []
            return menu(n["name"], f"node:{n['id']}", *items, menuitem("Rename...", "ctx:rename"),
                        menuitem("Move to...", "ctx:move"), menuitem("Delete", "ctx:delete"))  # fmt: skip
        if frame.name in ("rename", "mkdir"):
            old = _node(nodes, args["id"])["name"] if frame.name == "rename" else ""
            field = textbox("New name" if old else "Folder name", "name", old, submit=f"{frame.name}:ok")
            return dialog(f"Rename '{old}'" if old else "New folder", field,
                          buttons(button("Cancel", f"{frame.name}:no"), button("Rename" if old else "Create", f"{frame.name}:ok", primary=True)),
                          cancel=f"{frame.name}:no")  # fmt: skip
        if frame.name == "move":
            n, dest = _node(nodes, args["id"]), frame.values.get("dest")
            paths = _paths(nodes)
            picks = [listitem(paths[f["id"]] or "Home", f"dest:{f['id']}", selected=dest == f["id"])
                     for f in [{"id": 0}, *_folders(nodes)] if f["id"] != n["parent"] and not _inside(nodes, f["id"], n["id"])]  # fmt: skip
            return dialog(f"Move '{n['name']}' to", scrollarea("Folders", "picker", *picks, height=380),
                          buttons(button("Cancel", "move:no"), button("Move here", "move:ok", primary=True)), cancel="move:no")  # fmt: skip
        if frame.name == "delete":
            n = _node(nodes, args["id"])
            return dialog(f"Delete '{n['name']}'?", label("It will be deleted permanently."),
                          buttons(button("Cancel", "delete:no"), button("Delete", "delete:yes", primary=True)), cancel="delete:no")  # fmt: skip
        cur, sel = args.get("folder", 0), frame.values.get("selected")
        tops = [n for n in nodes if n["parent"] == 0 and n["kind"] == "folder"]
        chain = _chain(nodes, cur)
        side = container("navigation", "Places", container("list", "Places", listitem("Home", "side:0", selected=cur == 0),
                         *(listitem(t["name"], f"side:{t['id']}", selected=chain[:1] == [t["id"]]) for t in tops)))  # fmt: skip
        trail = [*(link(_name(nodes, a), f"crumb:{a}") for a in [0, *chain][:-1]), label(_name(nodes, cur), strong=True)]
        none = sel is None
        tools = row(button("Up", "up", disabled=cur == 0), button("New folder", "mkdir"), button("Rename", "rename", disabled=none),
                    button("Move to...", "move", disabled=none), button("Delete", "delete", disabled=none), column(grow=True),
                    combobox("Sort by", "sort", "Name", SORTS, width=190))  # fmt: skip
        entries = [listitem(", ".join(cells), f"node:{n['id']}", cells, selected=n["id"] == sel, icon="folder" if n["kind"] == "folder" else "file")
                   for n in _listing(nodes, cur, frame.values.get("sort", "Name"))
                   for cells in [(n["name"], _date(n["date"]), "Folder" if n["kind"] == "folder" else _size(n["kb"]))]]  # fmt: skip
        body = scrollarea("Files", "files", container("list", _name(nodes, cur), *entries), height=420) if entries else label("This folder is empty.")
        main = column(container("navigation", "Path", *trail, kind="row"), tools, body)
        return window(f"{_name(nodes, cur)} - Files", split(side, main))

    def on(self, ctx: Any, event: Any) -> str | None:
        key, nodes, args = event.key, ctx.model["nodes"], event.frame.args
        if event.kind == "long_press" and key.startswith("node:"):
            ctx.menu("menu", key, id=int(key[5:]))
            return None
        if event.kind != "click":
            return None
        screen = ctx.screen
        cur = screen.args.get("folder", 0)
        if key.startswith(("side:", "crumb:")):
            ctx.goto("browse", folder=int(key.split(":")[1]))
        elif key == "up":
            ctx.goto("browse", folder=_node(nodes, cur)["parent"])
        elif key.startswith("node:") or key == "ctx:open":
            n = _node(nodes, int(key[5:]) if key.startswith("node:") else args["id"])
            if n["kind"] == "folder":
                ctx.goto("browse", folder=n["id"])
            else:
                screen.values["selected"] = n["id"]
                return f"selected '{n['name']}'"
        elif key in ("rename", "move", "delete"):
            ctx.dialog(key, id=screen.values["selected"])
        elif key.startswith("ctx:"):
            ctx.dialog(key[4:], id=args["id"])
        elif key == "mkdir":
            ctx.dialog("mkdir", id=cur)
        elif key.startswith("dest:"):
            ctx.frame.values["dest"] = int(key[5:])
            return "folder chosen"
        elif key.endswith(":no"):
            ctx.close()
        elif key.endswith(":ok") or key == "delete:yes":
            return self._commit(ctx, key.split(":")[0], args["id"], cur)
        return None

    def _commit(self, ctx: Any, what: str, nid: int, cur: int) -> str:
        """Delete, move, rename or create; a folder whose entries came or went is shown again
        from the top."""
        model, values = ctx.model, ctx.frame.values
        if what != "rename":
            ctx.screen.scroll.clear()
        nodes = model["nodes"]
        n = _node(nodes, nid) if nid else None
        if what == "delete":
            gone = {m["id"] for m in nodes if _inside(nodes, m["id"], nid)}
            model["nodes"] = [m for m in nodes if m["id"] not in gone]
            ctx.screen.values.pop("selected", None)
            ctx.close()
            return f"deleted '{n['name']}'"
        if what == "move":
            dest = values.get("dest")
            if dest is None:
                return "choose a folder first"
            if any(m["parent"] == dest and m["name"] == n["name"] for m in nodes):
                return f"not moved: '{_name(nodes, dest)}' already holds '{n['name']}'"
            n["parent"] = dest
            ctx.screen.values.pop("selected", None)
            ctx.close()
            return f"moved '{n['name']}' to {_path(nodes, dest) or 'Home'}"
        name = (values.get("name", n["name"] if what == "rename" else "") or "").strip()
        parent = n["parent"] if what == "rename" else cur
        if not name or "/" in name:
            return "not done: the name is empty or has a slash"
        if any(m["parent"] == parent and m["name"] == name and m is not n for m in nodes):
            return f"not done: '{name}' already exists here"
        if what == "rename":
            n["name"] = name
        else:
            nodes.append({"id": model["next"], "name": name, "parent": cur, "kind": "folder", "kb": 0, "date": "2025-01-15"})
            model["next"] += 1
        ctx.close()
        return f"{'renamed to' if what == 'rename' else 'created the folder'} '{name}'"

    # ------------------------------------------------------------------ verifier and planner

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        state = compare(_tree(model["nodes"]), map(tuple, goal["expect"]), _show, "files and folders")
        return verdict(state, goal.get("answer"), answer)

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        if "answer" not in goal and holds(_tree(model["nodes"]), map(tuple, goal["expect"])):
            return []
        nodes = model["nodes"]
        ops = [op for op in goal["ops"] if not _done(nodes, op)]
        cur, sel = ui.args.get("folder", 0), ui.base.values.get("selected")
        if ui.overlay is not None:
            return self._overlay(nodes, ui, ops, cur)
        local: list[Intent] = []
        away: list[Intent] = []
        for op in ops:
            words = _op_words(op)
            if op["op"] == "mkdir":
                home = _find(nodes, op["parent"])
                if home == cur:
                    local.append(Click("mkdir", f"{words}: it goes here; make a new folder", words))
                else:
                    away += _route(nodes, cur, home, words)
                continue
            if op["op"] == "move" and _find(nodes, op["dest"]) is None:
                continue  # its folder does not exist yet
            n = _node(nodes, op["id"])
            if n["parent"] != cur:
                away += _route(nodes, cur, n["parent"], f"{words}: it is in {_path(nodes, n['parent']) or 'Home'}")
                continue
            if op["op"] == "move" and any(o["op"] == "rename" and o["id"] == n["id"] for o in ops):
                continue  # rename it here first: after the move it would take a trip to find it again
            if sel == n["id"]:
                local.append(Click(op["op"], f"{words}: it is selected; use the toolbar", words))
            else:
                local.append(Click(f"node:{n['id']}", f"{words}: select it", words))
                local.append(LongPress(f"node:{n['id']}", f"{words}: open its actions", words))
        if local:
            return [i for i in local if ui.node(i.key).visible] or local
        if away or "answer" not in goal:
            return away
        q = goal["answer"]
        home = _find(nodes, q["folder"])
        if home != cur:
            return _route(nodes, cur, home, "the question is about that folder")
        order = ui.base.values.get("sort", "Name")
        if q["kind"] == "latest" and order != "Date modified":
            return [Select("sort", "Date modified", "sorted by date, the most recent file comes last")]
        listing = _listing(nodes, cur, order)
        target = listing[-1]["id"] if q["kind"] == "latest" or q["show"] is None else q["show"]
        if not ui.node(f"node:{target}").visible:
            return [Show(f"node:{target}", "part of the folder is out of view; scroll to it before answering")]
        return [Answer(q["text"], f"the folder shows the answer: {q['text']}", tuple(q["aliases"]))]

    def _overlay(self, nodes: list[dict[str, Any]], ui: Any, ops: list[dict[str, Any]], cur: int) -> list[Intent]:
        over = ui.overlay
        nid = over.args.get("id")
        mine = [op for op in ops if op.get("id") == nid or (op["op"] == "mkdir" and over.name == "mkdir" and _find(nodes, op["parent"]) == cur)]
        ready = [op for op in mine if op["op"] != "move" or _find(nodes, op["dest"]) is not None
                 and not any(o["op"] == "rename" and o["id"] == nid for o in mine)]  # fmt: skip
        if over.name == "menu" and ready:
            return [Click(f"ctx:{op['op']}", f"{_op_words(op)}: choose {op['op'].title()}", _op_words(op)) for op in ready]
        op = next((op for op in ready if op["op"] == over.name), None)
        if op is None:
            return [Back("this is not what the task needs; close it")]
        words = _op_words(op)
        if op["op"] == "delete":
            return [Click("delete:yes", f"{words}: confirm", words)]
        if op["op"] == "move":
            dest = _find(nodes, op["dest"])
            if over.values.get("dest") != dest:
                return [Click(f"dest:{dest}", f"{words}: choose {op['dest']}", words)]
            return [Click("move:ok", f"{words}: {op['dest']} is chosen; move", words)]
        if ui.value("name") != op["name"]:
            return [Type("name", op["name"], must_be("the name", f"'{op['name']}'"), words)]
        return [Enter("name", f"{words}: the name is right; confirm", words)]

    def needs(self, goal: dict[str, Any]) -> list[str]:
        out = [_op_words(op) for op in goal["ops"]]
        if q := goal.get("answer"):
            out.append({"count": "the number of {t} files in {f}", "size": "the size of '{n}' in {f}",
                        "latest": "the most recently modified file in {f}"}[q["kind"]].format(
                t=TYPES.get(q.get("ext"), ""), n=q.get("name"), f=q["folder"]))  # fmt: skip
        return out

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        """A neighbouring file instead, a wrong destination or name, a wrong answer."""
        nodes, out = model["nodes"], []
        for i, op in enumerate(goal["ops"]):
            wrong = []
            if "id" in op and not (i > 0 and goal["ops"][i - 1]["op"] == "mkdir"):  # a look-alike or neighbouring file
                n = _node(nodes, op["id"])
                for m in lookalikes(_listing(nodes, n["parent"], "Name"), n["id"], lambda m: m["name"]):
                    if m["kind"] == "file" and all(o.get("id") != m["id"] for o in goal["ops"]):
                        wrong.append([{**o, "id": m["id"], "path": _path(nodes, m["id"]), "said": o} if o.get("id") == n["id"] else o
                                      for o in goal["ops"]])  # fmt: skip
            if op["op"] == "move" and goal["ops"][0]["op"] != "mkdir":  # the folder next to the destination
                n = _node(nodes, op["id"])
                picker = [{"id": 0, "path": "Home"}, *({"id": d["id"], "path": _path(nodes, d["id"])} for d in _folders(nodes))]
                picker = [d for d in picker if d["id"] != n["parent"]]
                for d in lookalikes(picker, _find(nodes, op["dest"]), lambda d: d["path"]):
                    if d["id"] and all(m["name"] != n["name"] for m in nodes if m["parent"] == d["id"]):
                        wrong.append([{**op, "dest": d["path"], "said": op} if o is op else o for o in goal["ops"]])
            if op["op"] in ("rename", "mkdir"):
                name = op["name"].replace("-", "_", 1) if "-" in op["name"] else op["name"] + " 2"
                made = (f"{op['parent']}/{op['name']}", f"{op['parent']}/{name}") if op["op"] == "mkdir" else ("", "")
                wrong.append([{**op, "name": name, "said": op} if o is op else {**o, "dest": made[1]} if o.get("dest") == made[0] else o
                              for o in goal["ops"]])  # fmt: skip
            out += [{**goal, "ops": ops, "expect": [list(s) for s in _tree(_apply(model, ops))]} for ops in wrong]
        if (q := goal.get("answer")) and q["kind"] != "count":  # read off the row next to the right one
            home = _find(_apply(model, goal["ops"]), q["folder"])
            rows = _listing(_apply(model, goal["ops"]), home, "Date modified" if q["kind"] == "latest" else "Name")
            at = len(rows) - 1 if q["kind"] == "latest" else next(i for i, m in enumerate(rows) if m["id"] == q["show"])
            for j in (at - 1, at + 1):
                if 0 <= j < len(rows) and rows[j]["kind"] == "file":
                    text = rows[j]["name"] if q["kind"] == "latest" else _size(rows[j]["kb"])
                    if text != q["text"]:
                        out.append({**goal, "answer": {**q, "text": text, "aliases": []}})
        return out

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """A count question tallies the rows of its folder (the type is the name's extension)."""
        q = goal.get("answer")
        if not q or q["kind"] != "count":
            return None
        ext = "." + q["ext"]

        def counts(node: Any) -> bool:
            n = _node(model["nodes"], int(node.key[5:]))
            return n["kind"] == "file" and n["name"].endswith(ext)

        return Tally(f"{TYPES[q['ext']]} files in {q['folder']}",
                     lambda ui: ui.overlay is None and ui.screen == "browse" and ui.args.get("folder", 0) == _find(model["nodes"], q["folder"]),
                     lambda node: node.role == "listitem" and (node.key or "").startswith("node:"), counts)  # fmt: skip


# ---------------------------------------------------------------------------- the tree

HOME = {"id": 0, "name": "Home", "parent": None, "kind": "folder", "kb": 0, "date": ""}


def _node(nodes: list[dict[str, Any]], nid: int) -> dict[str, Any]:
    return HOME if nid == 0 else next(n for n in nodes if n["id"] == nid)


def _name(nodes: list[dict[str, Any]], nid: int) -> str:
    return _node(nodes, nid)["name"]


def _chain(nodes: list[dict[str, Any]], nid: int) -> list[int]:
    """The ids from the top-level folder down to ``nid`` (empty for Home)."""
    parent = {n["id"]: n["parent"] for n in nodes}
    out = []
    while nid:
        out.append(nid)
        nid = parent[nid]
    return out[::-1]


def _paths(nodes: list[dict[str, Any]]) -> dict[int, str]:
    """Every node's path at once ("" for Home): one pass, where the checker runs per step."""
    by = {n["id"]: n for n in nodes}
    out: dict[int, str] = {0: ""}

    def walk(nid: int) -> str:
        if nid not in out:
            n = by[nid]
            up = walk(n["parent"])
            out[nid] = f"{up}/{n['name']}" if up else n["name"]
        return out[nid]

    for nid in by:
        walk(nid)
    return out


def _path(nodes: list[dict[str, Any]], nid: int) -> str:
    return "/".join(_name(nodes, i) for i in _chain(nodes, nid))


def _find(nodes: list[dict[str, Any]], path: str) -> int | None:
    """The id of the folder at ``path`` ("" is Home), or None if there is none."""
    if not path:
        return 0
    paths = _paths(nodes)
    return next((n["id"] for n in nodes if n["kind"] == "folder" and paths[n["id"]] == path), None)


def _depth(nodes: list[dict[str, Any]], nid: int) -> int:
    return len(_chain(nodes, nid))


def _inside(nodes: list[dict[str, Any]], nid: int, root: int) -> bool:
    """Whether ``nid`` is ``root`` or lies under it."""
    return root in _chain(nodes, nid)


def _folders(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    paths = _paths(nodes)
    return sorted((n for n in nodes if n["kind"] == "folder"), key=lambda n: paths[n["id"]].casefold())


def _listing(nodes: list[dict[str, Any]], cur: int, sort: str) -> list[dict[str, Any]]:
    """A folder's entries as shown: folders first, then by the chosen order."""
    key = {"Name": lambda n: n["name"].casefold(), "Date modified": lambda n: n["date"], "Size": lambda n: -n["kb"]}[sort]
    here = [n for n in nodes if n["parent"] == cur]
    return sorted(here, key=lambda n: (n["kind"] != "folder", key(n), n["id"]))


def _route(nodes: list[dict[str, Any]], cur: int, target: int, why: str) -> list[Intent]:
    """The next step from folder ``cur`` towards folder ``target``: a breadcrumb up, a
    folder entry down, or a place in the sidebar."""
    here, there = _chain(nodes, cur), _chain(nodes, target)
    name = _name(nodes, target)
    if here[: len(there)] == there:  # target is above
        out = [Click(f"crumb:{target}", f"{why}; go up to {name}")]
        return [*out, Click("up", f"{why}; go up to {name}")] if len(here) == len(there) + 1 else out
    if there[: len(here)] == here:  # target is below
        nxt = there[len(here)]
        return [Click(f"node:{nxt}", f"{why}; open {_name(nodes, nxt)}")]
    return [Click(f"side:{there[0]}", f"{why}; go to {_name(nodes, there[0])}")]


def _apply(model: dict[str, Any], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes after ``ops`` (copies; a new folder gets a negative id)."""
    nodes = [dict(n) for n in model["nodes"]]
    for i, op in enumerate(ops):
        if op["op"] == "mkdir":
            nodes.append({"id": -1 - i, "name": op["name"], "parent": _find(nodes, op["parent"]), "kind": "folder", "kb": 0, "date": ""})
        elif op["op"] == "delete":
            nodes = [n for n in nodes if not _inside(nodes, n["id"], op["id"])]
        elif op["op"] == "move":
            _node(nodes, op["id"])["parent"] = _find(nodes, op["dest"])
        else:
            _node(nodes, op["id"])["name"] = op["name"]
    return nodes


def _tree(nodes: list[dict[str, Any]]) -> list[tuple]:
    paths = _paths(nodes)
    return sorted((paths[n["id"]], n["kind"], n["kb"]) for n in nodes)


def _done(nodes: list[dict[str, Any]], op: dict[str, Any]) -> bool:
    if op["op"] == "mkdir":
        return _find(nodes, f"{op['parent']}/{op['name']}") is not None
    n = next((n for n in nodes if n["id"] == op["id"]), None)
    if op["op"] == "delete" or n is None:
        return n is None
    if op["op"] == "move":
        return _path(nodes, n["parent"]) == op["dest"]
    return n["name"] == op["name"]


def _op_words(op: dict[str, Any]) -> str:
    if "said" in op:  # a believed op: the agent takes it for the one the instruction names
        return _op_words(op["said"])
    if op["op"] == "mkdir":
        return f"a new folder '{op['name']}' in {op['parent']}"
    it = f"'{op['path'].rsplit('/', 1)[1]}' (in {op['path'].rsplit('/', 1)[0]})"
    return {"delete": f"{it} deleted", "move": f"{it} moved to {op.get('dest')}", "rename": f"{it} renamed to '{op.get('name')}'"}[op["op"]]


def _show(sig: tuple) -> str:
    path, kind, kb = sig
    return f"{kind} {path}" + (f" ({_size(kb)})" if kind == "file" else "")


def _say(path: str) -> str:
    """A folder path as instructions say it."""
    return path.replace("/", " / ") if "/" in path else path


def _kb(name: str, rng: random.Random) -> int:
    ext = name.rsplit(".", 1)[1]
    low, high = {"jpg": (900, 6000), "png": (200, 3000), "mp3": (2000, 9000), "wav": (8000, 40000),
                 "zip": (500, 60000)}.get(ext, (8, 900))  # fmt: skip
    return rng.randint(low, high)


def _size(kb: int) -> str:
    return f"{kb} KB" if kb < 1024 else f"{kb / 1024:.1f} MB"


def _day(rng: random.Random) -> str:
    return f"{rng.choice((2023, 2024))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{MONTHS[int(m) - 1]} {int(d)}, {y}"


register_app(FilesApp())
