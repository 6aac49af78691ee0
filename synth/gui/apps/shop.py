"""The ``shop`` app: a product catalogue, product pages with options, a cart and a checkout.

Screens: the catalogue (category tabs over a product list that scrolls at d4-5), a product
page (size radio group, colour dropdown, quantity field, Add to cart), the cart (a quantity
dropdown and Remove per line, the subtotal), the checkout (shipping address fields, a
shipping-method radio group, a payment dropdown, Place order behind a blocking "Confirm your
order" dialog) and the order confirmation. A placed order cannot be taken back, so the
planner has no recovery from a wrong one (the reflective tier only makes recoverable slips). Tasks are built from the catalogue and the cart:
add items with options ("Add two medium blue 'Trail Runner' to the cart"), remove or change
lines, check out with a shipping method, payment and address, or answer a question ("What
is the total of my cart?"). Success is state-based: the cart (as a multiset of product,
size, colour and quantity), the placed order, and the answer; never the action sequence.

====  ======================================================  ==============================
 d    tasks                                                   catalogue and distractors
====  ======================================================  ==============================
 1    add a plain item; remove a line; cart total; a rating   2 categories x 3-4, one list
 2    add with size and colour; change quantities; cheapest   3 x 4-5, wishlist, promo code
      in a category; number of items
 3    add with options and quantity; add two; check out       3 x 5-7, near-duplicate names
      with a shipping method; cheapest in a category
 4    add (a quantity or a payment) + check out; edit the     4 x 7-9, the list scrolls,
      cart + check out; the order total for a shipping        "Recently viewed" shortcuts
      method
 5    as d4, editing the cart before a new shipping address   5 x 8-10, more near-duplicates
====  ======================================================  ==============================
"""

from __future__ import annotations

import random
from typing import Any

from synth.gui.actions import normalize_answer, same_text
from synth.gui.app import Answer, App, Back, Click, Intent, Select, Tally, Type, register_app
from synth.gui.apps.form import FIRST, LAST
from synth.gui.apps.records import NUMBERS, check_answer, count_aliases, lookalikes
from synth.gui.phrasing import must_be
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
    listitem,
    radio,
    row,
    scrollarea,
    tab,
    textbox,
    window,
)

STORES = ("Northwind Outfitters", "Harbor & Pine", "Summit Supply Co.", "Lumen Goods", "Fieldhouse",
          "Copper Kettle Market", "Alder Street Store", "Tidewater Trading")  # fmt: skip
# category -> (product names, sizing, price range in whole currency units)
CATEGORIES: dict[str, tuple[tuple[str, ...], str, tuple[int, int]]] = {
    "Shoes": (("Trail Runner", "Road Racer", "City Sneaker", "Hiking Boot", "Court Classic", "Canvas Low",
               "Slip-On Loafer", "Chelsea Boot", "Rain Boot", "Trail Walker"), "shoe", (45, 180)),
    "Jackets": (("Storm Shell", "Down Parka", "Fleece Zip", "Rain Poncho", "Denim Jacket", "Softshell",
                 "Quilted Vest", "Wind Breaker", "Bomber Jacket", "Field Coat"), "apparel", (40, 260)),
    "Shirts": (("Oxford Shirt", "Linen Shirt", "Crew Tee", "Henley", "Polo Shirt", "Flannel Shirt",
                "Merino Tee", "Tank Top", "Rugby Shirt", "Chambray Shirt"), "apparel", (15, 90)),
    "Bags": (("Day Pack", "Messenger Bag", "Weekender Duffel", "Laptop Sleeve", "Tote Bag", "Hip Pack",
              "Roll-Top Backpack", "Camera Sling", "Gym Bag", "Travel Pouch"), "none", (20, 160)),
    "Home": (("Ceramic Mug", "Desk Lamp", "Linen Throw", "Pour-Over Kettle", "Bamboo Tray", "Wool Blanket",
              "Glass Carafe", "Cast Iron Pan", "Cutting Board", "Tea Towel Set"), "none", (8, 120)),
    "Accessories": (("Wool Beanie", "Sport Socks", "Leather Belt", "Aviator Sunglasses", "Water Bottle",
                     "Knit Scarf", "Canvas Cap", "Leather Gloves", "Key Ring", "Travel Wallet"), "none", (6, 70)),
}  # fmt: skip
VARIANTS = ("Pro", "Lite", "II", "Plus", "Max", "Eco", "Sport")
COLOURS = ("Black", "White", "Navy", "Blue", "Red", "Green", "Olive", "Grey", "Sand", "Burgundy", "Teal", "Orange")
APPAREL = ("XS", "S", "M", "L", "XL")
SIZE_WORDS = {"XS": "extra small", "S": "small", "M": "medium", "L": "large", "XL": "extra large"}
BLURBS = ("Made to last, with a lifetime repair promise.", "Our best seller this season.",
          "Light, packable and easy to care for.", "Designed in-house and made from recycled materials.",
          "A classic shape with a few modern touches.", "Tested by our staff on daily use for a year.")  # fmt: skip
SHIPPING = (("Standard", "5-7 business days", 499), ("Express", "1-2 business days", 1499),
            ("Next day", "order before 2 pm", 2499), ("Store pickup", "ready in 2 hours", 0))  # fmt: skip
PAYMENTS = ("Credit card", "PayPal", "Gift card", "Bank transfer", "Apple Pay")
STREETS = ("Harbour Road", "Elm Street", "Mill Lane", "Station Avenue", "King's Parade", "Orchard Way",
           "Canal Street", "Bridge Road", "Church Lane", "Victoria Terrace")  # fmt: skip
CITIES = (("Leeds", "LS1 4AB"), ("Bristol", "BS8 1TH"), ("Lisbon", "1200-195"), ("Portland", "97205"),
          ("Toronto", "M5V 2T6"), ("Dublin", "D02 X285"), ("Austin", "78701"), ("Utrecht", "3511 LX"),
          ("Melbourne", "3000"), ("Oslo", "0150"))  # fmt: skip
CURRENCIES = ("$", "A$", "C$", "CHF ")  # the bundled font has no glyphs for € or £
ADDRESS = (("name", "Full name"), ("street", "Street address"), ("city", "City"), ("postcode", "Postcode"))

LEVELS: dict[int, dict[str, Any]] = {
    1: {"cats": 2, "per_cat": (3, 4), "near": 0, "list_h": None, "extras": False, "opts": False, "qty": (1, 1),
        "kinds": ("add", "remove", "ask_total", "ask_rating")},
    2: {"cats": 3, "per_cat": (4, 5), "near": 0, "list_h": None, "extras": True, "opts": True, "qty": (1, 1),
        "kinds": ("add", "edit", "ask_cheapest", "ask_count", "ask_rating")},
    3: {"cats": 3, "per_cat": (5, 7), "near": 2, "list_h": None, "extras": True, "opts": True, "qty": (2, 3),
        "kinds": ("add", "add2", "checkout", "ask_cheapest")},
    4: {"cats": 4, "per_cat": (7, 9), "near": 3, "list_h": 250, "extras": True, "opts": True, "qty": (1, 1),
        "kinds": ("buy", "edit_checkout", "ask_order_total")},
    5: {"cats": 5, "per_cat": (8, 10), "near": 5, "list_h": 230, "extras": True, "opts": True, "qty": (1, 1),
        "address": True,
        "kinds": ("buy", "edit_checkout", "ask_order_total")},
}  # fmt: skip


# ---------------------------------------------------------------------------- values


def money(cents: int, cur: str) -> str:
    return f"{cur}{cents // 100:,}.{cents % 100:02d}"


def money_aliases(cents: int, cur: str) -> list[str]:
    """Ways to write an amount that count as it (with or without the symbol or the cents)."""
    plain = f"{cents // 100}.{cents % 100:02d}"
    out = [money(cents, cur), plain, f"{cents // 100:,}.{cents % 100:02d}", cur + plain]
    if cents % 100 == 0:
        out += [str(cents // 100), f"{cur}{cents // 100}"]
    return list(dict.fromkeys(out))


def line_key(line: dict[str, Any]) -> str:
    """A cart line's identity: product, size and colour (the same three merge on add)."""
    return f"{line['product']}/{line['size'] or '-'}/{line['colour'] or '-'}"


def describe(line: dict[str, Any], qty: bool = True) -> str:
    """``2 x 'Trail Runner' (M, Blue)`` as instructions, thoughts and verdicts name a line."""
    opts = ", ".join(o for o in (line["size"], line["colour"]) if o)
    text = f"'{line['name']}'" + (f" ({opts})" if opts else "")
    return f"{line['qty']} x {text}" if qty else text


def subtotal(model: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    price = {p["id"]: p["price"] for p in model["products"]}
    return sum(price[ln["product"]] * ln["qty"] for ln in lines)


def shipping_fee(model: dict[str, Any], method: str) -> int:
    return next(fee for name, _, fee in model["shipping"] if name == method)


def qty_of(text: Any) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 100 else None


def same_cart(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    return {line_key(x): x["qty"] for x in a} == {line_key(x): x["qty"] for x in b}


# ---------------------------------------------------------------------------- the app


class ShopApp(App):
    name = "shop"
    levels = LEVELS

    # ------------------------------------------------------------------ tasks

    def make_task(self, rng: random.Random, difficulty: int) -> tuple[dict[str, Any], dict[str, Any], str]:
        level = LEVELS[difficulty]
        model = _store(rng, level)
        kind = rng.choice(level["kinds"])
        goal, text = TASKS[kind](model, rng, level)
        goal["cart"] = [dict(ln) for ln in goal.get("cart", model["cart"])]
        return model, {"kind": kind, "order": None, "answer": None, "at": None} | goal, text

    # ------------------------------------------------------------------ screens

    def view(self, model: dict[str, Any], frame: Any) -> Node:
        return getattr(self, f"_{frame.name}")(model, frame)

    def _home(self, model: dict[str, Any], frame: Any) -> Node:
        cur, tab_now = model["currency"], model["tab"]
        tabs = [tab(c, f"tab:{c}", selected=c == tab_now) for c in model["categories"]]
        items = [listitem(f"{p['name']}, {money(p['price'], cur)}", f"prod:{p['id']}", (p["name"], money(p["price"], cur)))
                 for p in model["products"] if p["category"] == tab_now]  # fmt: skip
        top = [button(f"Cart ({sum(ln['qty'] for ln in model['cart'])})", "cart", primary=True)]
        if model["extras"]:
            top = [button("Sign in", "signin"), button("Help", "help"), *top]
        recent = [label("Recently viewed", strong=True), row(*(link(_product(model, i)["name"], f"recent:{i}") for i in model["recent"]))]
        return window(model["store"], row(heading(model["store"]), buttons(*top)),
                      container("tablist", "Categories", *tabs, kind="row"),
                      scrollarea(f"{tab_now} products", "products", *items, height=model["list_h"]),
                      *(recent if model["recent"] else []))  # fmt: skip

    def _product(self, model: dict[str, Any], frame: Any) -> Node:
        p = _product(model, frame.args["id"])
        cur = model["currency"]
        body = [heading(p["name"]), label(f"{money(p['price'], cur)} · rated {p['rating'] / 10:.1f} of 5 · {p['category']}"),
                label(p["blurb"])]  # fmt: skip
        if p["sizes"]:
            body += [label("Size"), row(*(radio(s, "size", s) for s in p["sizes"]))]
        if p["colours"]:
            body.append(combobox("Colour", "colour", p["colours"][0], p["colours"], width=260))
        body.append(textbox("Quantity", "qty", "1", submit="add", width=160))
        actions = [button("Add to cart", "add", primary=True)] + ([button("Add to wishlist", "wish")] if model["extras"] else [])
        body.append(buttons(*actions))
        if frame.args.get("notice"):
            body.append(label(frame.args["notice"], strong=True))
        return window(p["name"], row(button("Back", "back"), button("Cart", "cart")), *body, back="back")

    def _cart(self, model: dict[str, Any], frame: Any) -> Node:
        cur, lines = model["currency"], model["cart"]
        rows = [row(wide(label(f"{describe(ln, False)} at {money(_product(model, ln['product'])['price'], cur)}")),
                    combobox(f"Quantity of {describe(ln, False)}", f"qty:{line_key(ln)}", str(ln["qty"]),
                             [str(i) for i in range(1, 10)], width=90),
                    button("Remove", f"rm:{line_key(ln)}")) for ln in lines]  # fmt: skip
        count = sum(ln["qty"] for ln in lines)
        body: list[Node] = [row(button("Back", "back"), heading("Your cart"))]
        body.append(scrollarea("Cart items", "lines", *rows, height=model["list_h"]) if rows else label("Your cart is empty."))
        body.append(label(f"{count} item{'s' * (count != 1)} · Subtotal {money(subtotal(model, lines), cur)}", strong=True))
        if model["extras"]:
            body.append(row(textbox("Promo code", "promo", width=240), button("Apply", "apply")))
        body.append(buttons(button("Continue shopping", "shop"), button("Checkout", "checkout", primary=True, disabled=not lines)))
        return window("Your cart", *body, back="back")

    def _checkout(self, model: dict[str, Any], frame: Any) -> Node:
        cur, form = model["currency"], _form(model, frame)
        fields = [textbox(name, key, model["address"][key], match="casefold") for key, name in ADDRESS]
        methods = [radio(f"{name} ({when}) {money(fee, cur) if fee else 'free'}", "ship", name,
                         checked=name == model["shipping"][0][0]) for name, when, fee in model["shipping"]]  # fmt: skip
        sub = subtotal(model, model["cart"])
        fee = shipping_fee(model, form["shipping"])
        return window("Checkout", row(button("Back", "back"), heading("Checkout")),
                      row(container("region", "Shipping address", label("Shipping address", strong=True), *fields),
                          column(container("region", "Shipping method", label("Shipping method", strong=True), *methods),
                                 combobox("Payment method", "pay", model["payment"], PAYMENTS, width=260))),
                      label(f"Subtotal {money(sub, cur)} · Shipping {money(fee, cur)} · Total {money(sub + fee, cur)}", strong=True),
                      buttons(button("Place order", "place", primary=True)), back="back")  # fmt: skip

    def _confirm(self, model: dict[str, Any], frame: Any) -> Node:
        cur, form = model["currency"], frame.args["form"]
        total = subtotal(model, model["cart"]) + shipping_fee(model, form["shipping"])
        return dialog("Confirm your order",
                      label(f"{form['shipping']} shipping to {form['name']}, {form['city']}; paying by {form['payment']}."),
                      label(f"Order total {money(total, cur)}", strong=True),
                      buttons(button("Cancel", "cancel"), button("Confirm order", "confirm", primary=True)),
                      cancel="cancel")  # fmt: skip

    def _done(self, model: dict[str, Any], frame: Any) -> Node:
        order = model["orders"][-1]
        return window("Order placed", heading(f"Thank you! Order #{order['number']} is on its way"),
                      label(f"{order['shipping']} shipping, {money(order['total'], model['currency'])} paid by {order['payment']}."),
                      buttons(button("Continue shopping", "shop", primary=True)))  # fmt: skip

    # ------------------------------------------------------------------ behaviour

    def on(self, ctx: Any, event: Any) -> str | None:
        model, key, kind = ctx.model, event.key, event.kind
        if kind == "change" and key.startswith("qty:"):
            line = next(ln for ln in model["cart"] if f"qty:{line_key(ln)}" == key)
            line["qty"] = int(event.value)
            return f"quantity now {event.value}"
        if kind not in ("click", "submit"):
            return None
        if key.startswith("tab:"):
            model["tab"] = key[4:]
            ctx.frame.scroll.pop("products", None)
        elif key.startswith(("prod:", "recent:")):
            ctx.push("product", id=key.split(":", 1)[1])
        elif key == "cart":
            ctx.push("cart")
        elif key in ("back", "cancel"):
            ctx.back()
        elif key == "shop":
            ctx.home("home")
        elif key == "add":
            return self._add(ctx)
        elif key.startswith("rm:"):
            model["cart"] = [ln for ln in model["cart"] if f"rm:{line_key(ln)}" != key]
            return "removed from the cart"
        elif key == "checkout":
            ctx.push("checkout")
        elif key == "place":
            form = _form(model, ctx.frame)
            missing = [name for k, name in ADDRESS if not form[k].strip()]
            if missing:
                return f"cannot place the order: {', '.join(missing)} missing"
            ctx.dialog("confirm", form=form)
        elif key == "confirm":
            form = ctx.frame.args["form"]
            model["orders"].append({"number": model["order_no"], "lines": model["cart"],
                                    "total": subtotal(model, model["cart"]) + shipping_fee(model, form["shipping"]),
                                    "shipping": form["shipping"], "payment": form["payment"],
                                    "address": {k: form[k] for k, _ in ADDRESS}})  # fmt: skip
            model["cart"] = []
            ctx.home("done")
            return "order placed"
        elif key == "apply":
            return "that promo code is not valid"
        elif key in ("signin", "help", "wish"):
            return "not available in this demo store"
        return None

    def _add(self, ctx: Any) -> str:
        p, values = _product(ctx.model, ctx.frame.args["id"]), ctx.frame.values
        size, colour = values.get("size"), values.get("colour", p["colours"][0] if p["colours"] else None)
        qty = qty_of(values.get("qty", "1"))
        if p["sizes"] and size is None:
            ctx.frame.args["notice"] = "Please choose a size first."
        elif qty is None:
            ctx.frame.args["notice"] = "Please enter a quantity from 1 to 99."
        else:
            line = {"product": p["id"], "name": p["name"], "size": size, "colour": colour, "qty": qty}
            same = next((ln for ln in ctx.model["cart"] if line_key(ln) == line_key(line)), None)
            if same is None:
                ctx.model["cart"].append(line)
            else:
                same["qty"] += qty
            ctx.frame.args["notice"] = f"Added {describe(line)} to the cart."
        return ctx.frame.args["notice"]

    # ------------------------------------------------------------------ verifier

    def check(self, model: dict[str, Any], goal: dict[str, Any], answer: str | None) -> tuple[bool, str]:
        orders, want = model["orders"], goal["order"]
        if want is None and orders:
            return False, f"an order was placed (#{orders[0]['number']}) but the task asked for none"
        if want is not None:
            if len(orders) != 1:
                return False, f"{len(orders)} orders placed, want exactly one"
            o = orders[0]
            diffs = [] if same_cart(o["lines"], goal["cart"]) else [f"items {_lines(o['lines'])}, want {_lines(goal['cart'])}"]
            diffs += [f"{k} {o[k]!r}, want {want[k]!r}" for k in ("shipping", "payment") if o[k] != want[k]]
            diffs += [f"{k} {o['address'][k]!r}, want {v!r}" for k, v in want["address"].items()
                      if not same_text(o["address"][k], v, "casefold")]  # fmt: skip
            if diffs:
                return False, "the order differs: " + "; ".join(diffs)
        elif not same_cart(model["cart"], goal["cart"]):
            return False, f"the cart holds {_lines(model['cart'])}, want {_lines(goal['cart'])}"
        if goal["answer"] is not None:
            return check_answer(goal["answer"], answer)
        return True, "the order matches the task" if want else f"the cart holds {_lines(model['cart'])} as asked"

    # ------------------------------------------------------------------ planner

    def plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        return committed(ui, self._plan(model, ui, goal))

    def _plan(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        if self.check(model, goal, None)[0] and goal["answer"] is None:
            return []
        if model["orders"]:
            return []  # an order went out: nothing on screen can take it back
        over = ui.overlay
        if over is not None and over.name == "confirm":
            if goal["order"] and same_cart(model["cart"], goal["cart"]) and _form_ok(over.args["form"], goal["order"]):
                return [Click("confirm", "the order summary matches the task; confirm it", "order")]
            return [Back("this order is not what the task asks; cancel it", "order")]
        have = {line_key(ln): ln for ln in model["cart"]}
        want = {line_key(ln): ln for ln in goal["cart"]}
        # The next steps of every unsatisfied line; only the closest lines count as progress,
        # so two lines on different screens never pull the agent back and forth between them.
        steps: list[tuple[int, Intent]] = []
        for k, ln in want.items():
            if k not in have:
                steps += self._add_steps(model, ui, ln)
        for k, ln in have.items():
            if k not in want:
                steps.append(self._cart_step(ui, Click(f"rm:{k}", f"{describe(ln, False)} must leave the cart; remove it", k)))
            elif ln["qty"] != want[k]["qty"]:
                q = want[k]["qty"]
                steps.append(self._cart_step(ui, Select(f"qty:{k}", str(q), f"{describe(ln, False)} needs quantity {q}", k)))
        if steps:
            best: dict[str, int] = {}
            for rank, intent in steps:
                best[intent.sub] = min(rank, best.get(intent.sub, rank))
            closest = min(best.values())
            return [intent for _, intent in steps if best[intent.sub] == closest]
        if goal["order"]:
            return self._checkout_steps(ui, goal["order"])
        return self._answer_steps(model, ui, goal)

    def _add_steps(self, model: dict[str, Any], ui: Any, ln: dict[str, Any]) -> list[tuple[int, Intent]]:
        """(steps away, intent): the options still to set on the product page, in any order,
        then Add to cart; or the way to that page."""
        sub, what = line_key(ln), describe(ln.get("said", ln))  # a believed line keeps the instruction's words
        if ui.screen == "product" and ui.args["id"] == ln["product"]:
            out = []
            if ln["size"] and ui.radio("size") != ln["size"]:
                out.append(Click(f"size={ln['size']}", f"{what} needs size {ln['size']}", sub))
            if ln["colour"] and ui.value("colour") != ln["colour"]:
                out.append(Select("colour", ln["colour"], f"{what} needs the colour {ln['colour']}", sub))
            if qty_of(ui.value("qty")) != ln["qty"]:
                out.append(Type("qty", str(ln["qty"]), f"{what} needs quantity {ln['qty']}", sub))
            return [(0, i) for i in out or [Click("add", f"the options are set for {what}; add it to the cart", sub)]]
        p = _product(model, ln["product"])
        rank = 3 if ui.screen != "home" else 1 if model["tab"] == p["category"] else 2
        name = ln.get("said", ln)["name"]
        return [(rank, self._nav_product(model, ui, p, f"to add {what}", sub, name)),
                *((1, i) for i in self._recent(model, ui, p, f"to add {what}", sub, name))]  # fmt: skip

    def _nav_tab(self, model: dict[str, Any], ui: Any, cat: str, why: str, sub: str) -> Intent | None:
        """The next step towards the catalogue showing ``cat``, or None when it is shown."""
        if ui.screen == "done":
            return Click("shop", f"back to the catalogue {why}", sub)
        if ui.screen != "home":
            return Back(f"back towards the catalogue {why}", sub)
        if model["tab"] != cat:
            return Click(f"tab:{cat}", f"open the {cat} tab {why}", sub)
        return None

    def _nav_product(self, model: dict[str, Any], ui: Any, p: dict[str, Any], why: str, sub: str, name: str = "") -> Intent:
        """The next step to ``p``'s page (``name``: how the task names it, default its own)."""
        return self._nav_tab(model, ui, p["category"], why, sub) or Click(f"prod:{p['id']}", f"open '{name or p['name']}' {why}", sub)

    def _recent(self, model: dict[str, Any], ui: Any, p: dict[str, Any], why: str, sub: str, name: str = "") -> list[Intent]:
        """The shortcut to ``p`` under "Recently viewed", when the catalogue shows it."""
        if ui.screen != "home" or p["id"] not in model["recent"]:
            return []
        return [Click(f"recent:{p['id']}", f"'{name or p['name']}' is under Recently viewed; open it {why}", sub)]

    def _to_cart(self, ui: Any, why: str, sub: str) -> Intent | None:
        if ui.screen == "cart":
            return None
        if ui.screen in ("home", "product"):
            return Click("cart", f"open the cart {why}", sub)
        if ui.screen == "checkout":
            return Back(f"back to the cart {why}", sub)
        return Click("shop", f"back to the catalogue {why}", sub)

    def _cart_step(self, ui: Any, intent: Intent) -> tuple[int, Intent]:
        """(steps away, intent): ``intent`` on the cart screen, or the way there."""
        go = self._to_cart(ui, f"({intent.why})", intent.sub)
        return (0, intent) if go is None else (2 if ui.screen == "done" else 1, go)

    def _checkout_steps(self, ui: Any, order: dict[str, Any]) -> list[Intent]:
        if ui.screen != "checkout":
            return [self._cart_step(ui, Click("checkout", "the cart is right; go to checkout", "order"))[1]]
        out: list[Intent] = []
        for key, name in ADDRESS:
            want = order["address"].get(key)
            if want is not None and not same_text(ui.value(key) or "", want, "casefold"):
                out.append(Type(key, want, must_be(f"the {name.lower()}", repr(want)), key))
        if ui.radio("ship") != order["shipping"]:
            out.append(Click(f"ship={order['shipping']}", f"the task asks for {order['shipping']} shipping", "shipping"))
        if ui.value("pay") != order["payment"]:
            out.append(Select("pay", order["payment"], f"the task asks to pay by {order['payment']}", "payment"))
        return out or [Click("place", "address, shipping and payment are as asked; place the order", "order")]

    def _answer_steps(self, model: dict[str, Any], ui: Any, goal: dict[str, Any]) -> list[Intent]:
        at, ans = goal["at"], goal["answer"]
        if ans is None:
            return []
        if "product" in at and not (ui.screen == "product" and ui.args["id"] == at["product"]):
            p = _product(model, at["product"])
            return [self._nav_product(model, ui, p, "to read its details", "answer"), *self._recent(model, ui, p, "to read its details", "answer")]
        if "tab" in at and (go := self._nav_tab(model, ui, at["tab"], "to compare its prices", "answer")):
            return [go]
        if at.get("screen") == "cart" and (go := self._to_cart(ui, "to read it", "answer")):
            return [go]
        if "ship" in at:
            if ui.screen != "checkout":
                return [self._cart_step(ui, Click("checkout", "the checkout shows the order total", "answer"))[1]]
            if ui.radio("ship") != at["ship"]:
                return [Click(f"ship={at['ship']}", f"choose {at['ship']} shipping to see that total", "answer")]
        return [Answer(ans["text"], f"the screen shows the answer, {ans['text']}", tuple(ans["aliases"]), "answer")]

    # ------------------------------------------------------------------ words and mistakes

    def needs(self, goal: dict[str, Any]) -> list[str]:
        return goal["asks"]  # what the instruction says, in the words of the generator

    def tally(self, model: dict[str, Any], goal: dict[str, Any]) -> Tally | None:
        """The cheapest-product question keeps the cheapest row read so far (prices shown)."""
        if goal["kind"] != "ask_cheapest":
            return None
        cat, cur = goal["at"]["tab"], model["currency"]

        def price(node: Any) -> int:
            return _product(model, node.key[5:])["price"]

        return Tally(f"the cheapest {cat} product", lambda ui: ui.overlay is None and ui.screen == "home" and model["tab"] == cat,
                     lambda node: node.role == "listitem" and (node.key or "").startswith("prod:"),
                     rank=price, value=lambda node: money(price(node), cur))  # fmt: skip

    def perturb(self, model: dict[str, Any], goal: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
        out = []
        for i, ln in enumerate(goal["cart"]):
            if any(ln == x for x in model["cart"]):
                continue  # already in the cart: nothing to get wrong while adding it
            p = _product(model, ln["product"])
            swaps = [{"qty": ln["qty"] % 5 + 1}]
            swaps += [{"size": s} for s in p["sizes"] if s != ln["size"]]
            swaps += [{"colour": c} for c in p["colours"] if c != ln["colour"]]
            listed = [q for q in model["products"] if q["category"] == p["category"]]
            for q in lookalikes(listed, p["id"], lambda q: q["name"]):
                size = ln["size"] if ln["size"] in q["sizes"] else (q["sizes"][0] if q["sizes"] else None)
                colour = ln["colour"] if ln["colour"] in q["colours"] else (q["colours"][0] if q["colours"] else None)
                swaps.append({"product": q["id"], "name": q["name"], "size": size, "colour": colour})
            for s in swaps:  # taken for the line the task names: its words stay
                cart = [dict(x) for x in goal["cart"]]
                cart[i] = cart[i] | s | {"said": ln}
                if len({line_key(x) for x in cart}) == len(cart):
                    out.append(goal | {"cart": cart})
        o = goal["order"]
        if o:
            out += [goal | {"order": o | {"shipping": m}} for m, _, _ in model["shipping"] if m != o["shipping"]]
            out += [goal | {"order": o | {"payment": p}} for p in PAYMENTS if p != o["payment"]]
        a = goal["answer"]
        if a is not None and goal.get("wrong"):
            out += [goal | {"answer": {"text": w, "aliases": [w]}} for w in goal["wrong"]]
        return out


# ---------------------------------------------------------------------------- helpers


def wide(node: Node) -> Node:
    """``node`` takes the width left in its row (a cart line's text, pushing its controls right)."""
    node.grow = True
    return node


def committed(ui: Any, intents: list[Intent]) -> list[Intent]:
    """A started edit is finished first: when the focused text field belongs to one of
    ``intents`` (to type into it, or to press Enter in it), only that one counts, so focusing
    a field is not wasted by switching to another sub-goal (the env does the same for an open
    option list). It also keeps the expert's episodes within 15 steps."""
    for i in intents:
        node = ui.node(i.key) if i.kind in ("type", "enter") else None
        if node is not None and node.focused and node.layer == len(ui.view.layers) - 1:
            return [i]
    return intents


def _product(model: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in model["products"] if p["id"] == pid)


def _lines(lines: list[dict[str, Any]]) -> str:
    return ", ".join(describe(ln) for ln in sorted(lines, key=line_key)) or "nothing"


def _form(model: dict[str, Any], frame: Any) -> dict[str, str]:
    """What the checkout form holds: typed values over the saved address and defaults."""
    v = frame.values
    form = {k: str(v.get(k, model["address"][k])) for k, _ in ADDRESS}
    return form | {"shipping": v.get("ship", model["shipping"][0][0]), "payment": v.get("pay", model["payment"])}


def _form_ok(form: dict[str, str], order: dict[str, Any]) -> bool:
    return (form["shipping"] == order["shipping"] and form["payment"] == order["payment"]
            and all(same_text(form[k], v, "casefold") for k, v in order["address"].items()))  # fmt: skip


def _store(rng: random.Random, level: dict[str, Any]) -> dict[str, Any]:
    """The catalogue, saved address and an initial cart (seeded)."""
    cats = rng.sample(sorted(CATEGORIES), level["cats"])
    if not level["opts"]:  # d1: the first tab sells items without sizes
        first = rng.choice([c for c in sorted(CATEGORIES) if CATEGORIES[c][1] == "none"])
        cats = [first, *[c for c in cats if c != first]][: level["cats"]]
    products: list[dict[str, Any]] = []
    for cat in cats:
        names, sizing, (lo, hi) = CATEGORIES[cat]
        picked = rng.sample(names, rng.randint(*level["per_cat"]))
        near = [f"{n} {rng.choice(VARIANTS)}" for n in rng.sample(picked, min(len(picked), level["near"] // len(cats) + (cat == cats[0]) * (level["near"] > 0)))]
        prices: set[int] = set()
        for name in [*picked, *near]:
            price = rng.randint(lo, hi) * 100 + rng.choice((0, 0, 50, 95, 99))
            while price in prices:
                price += 100
            prices.add(price)
            if sizing == "shoe":
                start = rng.randint(37, 41)
                sizes = [str(s) for s in range(start, start + rng.randint(3, 5))]
            else:
                sizes = list(APPAREL[rng.randint(0, 1) : rng.randint(4, 5)]) if sizing == "apparel" else []
            colours = rng.sample(COLOURS, rng.randint(2, 4)) if rng.random() < 0.7 else []
            products.append({"id": f"p{len(products) + 1}", "name": name, "category": cat, "price": price,
                             "rating": rng.randint(25, 50), "sizes": sizes, "colours": colours,
                             "blurb": rng.choice(BLURBS)})  # fmt: skip
    rng.shuffle(products)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, postcode = rng.choice(CITIES)
    fees = [(n, w, f if f == 0 else f + rng.choice((0, 100, -100))) for n, w, f in SHIPPING]
    model = {
        "store": rng.choice(STORES), "currency": rng.choice(CURRENCIES), "categories": cats, "tab": cats[0],
        "products": products, "cart": [], "orders": [], "order_no": rng.randint(10000, 99999),
        "address": {"name": f"{first} {last}", "street": f"{rng.randint(1, 240)} {rng.choice(STREETS)}",
                    "city": city, "postcode": postcode},
        "shipping": [fees[0], *rng.sample(fees[1:], 2)], "payment": rng.choice(PAYMENTS[:2]),
        "list_h": level["list_h"], "extras": level["extras"],
        "recent": [p["id"] for p in rng.sample(products, 3)] if level["list_h"] else [],
    }  # fmt: skip
    for p in rng.sample(products, rng.randint(1, 3)):
        model["cart"].append(_line(p, rng, rng.randint(1, 3)))
    return model


def _line(p: dict[str, Any], rng: random.Random, qty: int) -> dict[str, Any]:
    return {"product": p["id"], "name": p["name"], "size": rng.choice(p["sizes"]) if p["sizes"] else None,
            "colour": rng.choice(p["colours"]) if p["colours"] else None, "qty": qty}  # fmt: skip


# ---------------------------------------------------------------------------- task generators
# Each takes (model, rng, level) and returns (goal fields, instruction); it may change the
# initial cart so the task makes sense (something to remove, a line to edit).


def _say_line(ln: dict[str, Any], rng: random.Random) -> str:
    """A cart line in words, in one of three phrasings."""
    size, colour, qty, name = ln["size"], ln["colour"], ln["qty"], f"'{ln['name']}'"
    shoe = size is not None and size not in SIZE_WORDS
    form = rng.randrange(3) if size or colour else 0
    if form == 0:
        count = rng.choice(("a", "one")) if qty == 1 else NUMBERS[qty]
        adjs = " ".join(w for w in (SIZE_WORDS.get(size or ""), (colour or "").lower()) if w)
        return f"{count} {adjs + ' ' if adjs else ''}{name}" + (f" in size {size}" if shoe else "")
    opts = ", ".join(o for o in ((f"size {size}" if size else ""), (colour or "").lower()) if o)
    if form == 1:
        return f"{name} in {opts}" + (f", quantity {qty}" if qty > 1 else "")
    return f"{qty} x {name} ({opts})"


def _pick_line(model: dict[str, Any], rng: random.Random, level: dict[str, Any], avoid: set[str]) -> dict[str, Any]:
    """A new line for a product not in the cart: plain at d1, with options and quantities above."""
    free = [p for p in model["products"] if p["id"] not in avoid | {ln["product"] for ln in model["cart"]}]
    if level["opts"]:
        pool = [p for p in free if p["sizes"] or p["colours"]] or free
    else:  # d1: an item without options on the first tab (the first category has no sizes)
        home = [p for p in free if p["category"] == model["tab"]]
        pool = [p for p in home if not p["colours"]] or home
    return _line(rng.choice(pool), rng, rng.randint(*level["qty"]))


def _ensure_lines(model: dict[str, Any], rng: random.Random, n: int) -> None:
    while len(model["cart"]) < n:
        taken = {ln["product"] for ln in model["cart"]}
        model["cart"].append(_line(rng.choice([p for p in model["products"] if p["id"] not in taken]), rng, rng.randint(1, 3)))


def _order(model: dict[str, Any], rng: random.Random, payment: bool, move: bool) -> tuple[dict[str, Any], str]:
    """The order part of a checkout goal and its words."""
    ship = rng.choice([m for m, _, _ in model["shipping"][1:]])
    pay = rng.choice(PAYMENTS) if payment else model["payment"]
    address, text = dict(model["address"]), rng.choice(("check out with {m} shipping", "place the order with {m} delivery",
                                                        "buy it all using {m} shipping")).format(m=ship.lower())  # fmt: skip
    if payment:
        text += rng.choice((", paying by {p}", " and pay with {p}", " ({p} as payment)")).format(p=pay)
    if move:  # d5: a new street address for the saved recipient
        city, postcode = rng.choice([c for c in CITIES if c[0] != address["city"]])
        address |= {"street": f"{rng.randint(1, 240)} {rng.choice(STREETS)}", "city": city, "postcode": postcode}
        text += rng.choice(("; ship to {a}", ". Deliver to {a}", "; the address is {a}")).format(
            a=f"{address['street']}, {address['city']} {address['postcode']}")
    ask = f"the cart checked out with {ship} shipping" + (f", paid by {pay}" if payment else "")
    ask += f", shipped to {address['street']}, {address['city']} {address['postcode']}" if move else ""
    return {"shipping": ship, "payment": pay, "address": address, "ask": ask}, text


def _t_add(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    ln = _pick_line(model, rng, level, set())
    text = rng.choice(("Add {x} to the cart.", "Put {x} in my cart.", "I'd like {x}: add it to my cart.",
                       "Please add {x} to the shopping cart."))  # fmt: skip
    return {"cart": [*model["cart"], ln], "asks": [f"{describe(ln)} added to the cart"]}, text.format(x=_say_line(ln, rng))


def _t_add2(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    a = _pick_line(model, rng, level | {"qty": (1, 1)}, set())
    b = _pick_line(model, rng, level | {"qty": (1, 1)}, {a["product"]})
    text = rng.choice(("Add {x} and {y} to the cart.", "Put {x} and also {y} in my cart.", "I need {x} plus {y}; add both to the cart."))
    asks = [f"{describe(a)} added to the cart", f"{describe(b)} added to the cart"]
    return {"cart": [*model["cart"], a, b], "asks": asks}, text.format(x=_say_line(a, rng), y=_say_line(b, rng))


def _t_remove(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    _ensure_lines(model, rng, 2)
    gone = rng.choice(model["cart"])
    text = rng.choice(("Remove {x} from my cart.", "Take {x} out of the cart.", "I changed my mind about {x}: delete it from the cart."))
    asks = [f"{describe(gone, False)} removed from the cart"]
    return {"cart": [ln for ln in model["cart"] if ln is not gone], "asks": asks}, text.format(x=describe(gone, False))


def _edits(model: dict[str, Any], rng: random.Random, both: float = 0.5) -> tuple[dict[str, Any], str]:
    """Goal fields of a cart with one quantity changed and (with chance ``both``) one line
    removed, and their words."""
    _ensure_lines(model, rng, 2)
    a, b = rng.sample(model["cart"], 2)
    q = rng.choice([n for n in range(1, 6) if n != a["qty"]])
    cart = [ln | {"qty": q} if ln is a else dict(ln) for ln in model["cart"]]
    asks = [f"{describe(a, False)} at quantity {q}"]
    text = rng.choice(("change the quantity of {x} to {q}", "set {x} to a quantity of {q}", "make it {q} of {x}")).format(
        x=describe(a, False), q=q)
    if rng.random() < both:
        cart = [ln for ln in cart if line_key(ln) != line_key(b)]
        asks.append(f"{describe(b, False)} removed from the cart")
        text += rng.choice((" and remove {y}", ", and drop {y}", "; also take out {y}")).format(y=describe(b, False))
    return {"cart": cart, "asks": asks}, text


def _t_edit(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    goal, text = _edits(model, rng)
    return goal, f"In my cart, {text}."


def _t_checkout(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    order, text = _order(model, rng, False, False)
    return {"order": order, "asks": [order.pop("ask")]}, f"My cart is ready: {text}."


def _t_buy(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    ln = _pick_line(model, rng, level | {"qty": (1, 2)}, set())
    order, text = _order(model, rng, ln["qty"] == 1, False)  # a payment to choose, or a quantity to type
    asks = [f"{describe(ln)} added to the cart", order.pop("ask")]
    return {"cart": [*model["cart"], ln], "order": order, "asks": asks}, f"Add {_say_line(ln, rng)} to the cart, then {text}."


def _t_edit_checkout(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    move = bool(level.get("address"))  # d5: a new address to type, so one edit and the saved payment
    goal, edit = _edits(model, rng, 0.0 if move else 0.5)
    order, text = _order(model, rng, not move, move)
    return goal | {"order": order, "asks": [*goal["asks"], order.pop("ask")]}, f"In my cart, {edit}; then {text}."


def ask(text: str, aliases: list[str], at: dict[str, Any], question: str, wrong: list[str]) -> dict[str, Any]:
    """Goal fields of a question: the answer and its aliases, where it is read (``at``, for the
    planner), the question in words (for thoughts) and wrong answers (for the noisy tier)."""
    seen = {normalize_answer(a) for a in aliases}
    return {"answer": {"text": text, "aliases": aliases}, "at": at, "asks": [question],
            "wrong": [w for w in wrong if normalize_answer(w) not in seen]}  # fmt: skip


def _t_ask_total(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    _ensure_lines(model, rng, 2)
    total, cur = subtotal(model, model["cart"]), model["currency"]
    wrong = [money(total - subtotal(model, model["cart"][:1]), cur)]
    text = rng.choice(("What is the total of my cart?", "How much do the items in my cart cost altogether?",
                       "Tell me the subtotal of the shopping cart."))  # fmt: skip
    return ask(money(total, cur), money_aliases(total, cur), {"screen": "cart"}, "the cart subtotal as the answer", wrong), text


def _t_ask_count(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    _ensure_lines(model, rng, 2)
    n = sum(ln["qty"] for ln in model["cart"])
    text = rng.choice(("How many items are in my cart?", "Count the items in the shopping cart: how many are there?"))
    aliases = [str(n), *count_aliases(n, "item")]
    return ask(str(n), aliases, {"screen": "cart"}, "the number of items in the cart as the answer", [str(len(model["cart"]))]), text


def _t_ask_rating(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    pool = [p for p in model["products"] if p["category"] == model["tab"] or level["opts"]]
    p = rng.choice(pool)
    r = f"{p['rating'] / 10:.1f}"
    text = rng.choice(("What rating does '{n}' have?", "How is the '{n}' rated?", "Look up the customer rating of '{n}'."))
    others = [f"{q['rating'] / 10:.1f}" for q in pool if q is not p][:1]
    return ask(r, [r, f"{r} of 5", f"{r}/5", f"{r} out of 5"], {"product": p["id"]},
                f"the rating of '{p['name']}' as the answer", others), text.format(n=p["name"])


def _t_ask_cheapest(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    cat = rng.choice(model["categories"][1:])
    ranked = sorted((p for p in model["products"] if p["category"] == cat), key=lambda p: p["price"])
    text = rng.choice(("Which is the cheapest product in {c}?", "What is the lowest-priced item in the {c} category?",
                       "Find the least expensive {c} item and tell me its name."))  # fmt: skip
    name = ranked[0]["name"]
    return ask(name, [name], {"tab": cat}, f"the cheapest {cat} product as the answer", [ranked[1]["name"]]), text.format(c=cat)


def _t_ask_order_total(model: dict[str, Any], rng: random.Random, level: dict[str, Any]) -> tuple[dict[str, Any], str]:
    cart, gone = model["cart"], ""
    if level.get("address"):  # d5: edit the cart first, then read the total of what is left
        _ensure_lines(model, rng, 2)
        line = rng.choice(model["cart"])
        cart, gone = [dict(ln) for ln in model["cart"] if ln is not line], describe(line, False)
    ship = rng.choice([m for m, _, _ in model["shipping"][1:]])
    total, cur = subtotal(model, cart) + shipping_fee(model, ship), model["currency"]
    text = rng.choice(("What would my order total be with {m} shipping? Don't place the order.",
                       "How much would the order cost in total with {m} delivery? Just tell me, do not buy."))  # fmt: skip
    need = f"the order total with {ship} shipping" + (f" once {gone} is removed" if gone else "") + " as the answer"
    goal = ask(money(total, cur), money_aliases(total, cur), {"ship": ship}, need, [money(subtotal(model, cart), cur)])
    return goal | {"cart": cart, "asks": [f"{gone} removed from the cart", need] if gone else [need]}, (f"Remove {gone} from my cart. Then: " if gone else "") + text.format(m=ship.lower())


TASKS = {"add": _t_add, "add2": _t_add2, "remove": _t_remove, "edit": _t_edit, "checkout": _t_checkout, "buy": _t_buy,
         "edit_checkout": _t_edit_checkout, "ask_total": _t_ask_total, "ask_count": _t_ask_count,
         "ask_rating": _t_ask_rating, "ask_cheapest": _t_ask_cheapest, "ask_order_total": _t_ask_order_total}  # fmt: skip

register_app(ShopApp())
