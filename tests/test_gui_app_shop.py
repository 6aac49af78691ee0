"""The ``shop`` app: task types per level, goals, the state-based check on hand-built states,
cart and checkout behaviour, difficulty levers and instruction variety. (The generic tier,
replay, pixel and accepted-set conformance runs for every app in test_gui_apps.py.)"""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from stores.schema import Action
from synth.gui.apps.shop import LEVELS, PAYMENTS, line_key, money, money_aliases, subtotal
from tests.gui_app import AppUnderTest, el, press

APP = AppUnderTest("shop")
family, task, env_of, check = APP.family, APP.task, APP.env_of, APP.check


def open_cart(env) -> str:
    return press(env, next(e.name for e in env.view().elements if e.name.startswith("Cart (")))


def first(kind: str, d: int, start: int = 0):
    return next(t for s in range(start, start + 400) if (t := task(s, d)).reference["goal"]["kind"] == kind)


# ---------------------------------------------------------------------------- tasks per level


@pytest.mark.parametrize("d", sorted(LEVELS))
def test_each_level_draws_exactly_its_task_types(d):
    kinds = Counter(task(s, d).reference["goal"]["kind"] for s in range(120))
    assert set(kinds) == set(LEVELS[d]["kinds"])


def test_goals_follow_from_the_initial_cart():
    for s in range(40):
        t = task(s, 1)
        goal, cart = t.reference["goal"], t.env["model"]["cart"]
        before, after = {line_key(x): x["qty"] for x in cart}, {line_key(x): x["qty"] for x in goal["cart"]}
        if goal["kind"] == "add":
            (new,) = set(after) - set(before)
            assert after[new] == 1 and {k: after[k] for k in before} == before
            product = next(p for p in t.env["model"]["products"] if p["id"] == new.split("/")[0])
            assert f"'{product['name']}'" in t.instruction and product["category"] == t.env["model"]["tab"]
        elif goal["kind"] == "remove":
            (gone,) = set(before) - set(after)
            assert len(after) == len(before) - 1
        else:
            assert after == before and goal["answer"]["text"]


def test_checkout_goals_name_a_paid_shipping_method_and_d5_a_new_address():
    t4 = first("buy", 4)
    order, model = t4.reference["goal"]["order"], t4.env["model"]
    assert order["shipping"] != model["shipping"][0][0] and order["shipping"].lower() in t4.instruction
    assert order["payment"] in PAYMENTS and order["address"] == model["address"]
    t5 = first("edit_checkout", 5)
    order, model = t5.reference["goal"]["order"], t5.env["model"]
    assert order["address"]["name"] == model["address"]["name"]
    assert order["address"]["street"] != model["address"]["street"] and order["address"]["street"] in t5.instruction


# ---------------------------------------------------------------------------- the verifier


def test_the_check_compares_the_cart_as_a_multiset_of_lines():
    t = first("add", 2)
    goal = t.reference["goal"]
    model = copy.deepcopy(t.env["model"])
    ok, detail = check(t, model)
    assert not ok and "the cart holds" in detail
    model["cart"] = list(reversed(copy.deepcopy(goal["cart"])))  # order does not matter
    assert check(t, model)[0]
    model["cart"][0]["qty"] += 1
    assert not check(t, model)[0]
    model["cart"] = copy.deepcopy(goal["cart"]) + [dict(goal["cart"][0], colour="Nope")]
    assert not check(t, model)[0]


def test_the_check_of_an_order_names_what_differs():
    t = first("buy", 4)
    goal = t.reference["goal"]
    model = copy.deepcopy(t.env["model"])
    order = {"number": 1, "lines": copy.deepcopy(goal["cart"]), "total": 0, "shipping": goal["order"]["shipping"],
             "payment": goal["order"]["payment"], "address": dict(goal["order"]["address"])}  # fmt: skip
    model["orders"], model["cart"] = [order], []
    assert check(t, model)[0]
    order["address"]["city"] = order["address"]["city"].upper()  # address fields ignore case
    assert check(t, model)[0]
    order["shipping"] = next(m for m, _, _ in model["shipping"] if m != goal["order"]["shipping"])
    ok, detail = check(t, model)
    assert not ok and "shipping" in detail
    model["orders"] = [order, order]
    assert "2 orders" in check(t, model)[1]
    plain = first("add", 1)
    placed = copy.deepcopy(plain.env["model"]) | {"orders": [order], "cart": plain.reference["goal"]["cart"]}
    assert "asked for none" in check(plain, placed)[1]


def test_answers_are_checked_against_every_way_of_writing_them():
    t = first("ask_total", 1)
    model = t.env["model"]
    total = subtotal(model, model["cart"])
    cur = model["currency"]
    assert check(t, model, money(total, cur))[0]
    assert check(t, model, f"{total // 100}.{total % 100:02d}")[0]
    assert check(t, model, f" '{money(total, cur)}' ")[0] and check(t, model, f"{money(total, cur)}.")[0]
    assert not check(t, model, money(total + 1, cur))[0]
    assert check(t, model, None) == (False, "no answer was given")
    assert money(123450, "$") == "$1,234.50"
    assert {"$12.00", "12.00", "12", "$12"} <= set(money_aliases(1200, "$"))


# ---------------------------------------------------------------------------- behaviour


def test_adding_merges_lines_and_requires_a_size():
    t = next(t for s in range(300) if (t := task(s, 3)).reference["goal"]["kind"] in ("add", "add2")
             and any(p["sizes"] for p in t.env["model"]["products"] if p["category"] == t.env["model"]["tab"]))  # fmt: skip
    env = env_of(t)
    p = next(p for p in env.model["products"] if p["category"] == env.model["tab"] and p["sizes"])
    env.step(Action("click", {"element": next(e.id for e in env.view().elements if e.key == f"prod:{p['id']}")}))
    before = copy.deepcopy(env.model["cart"])
    assert "choose a size" in press(env, "Add to cart")
    assert env.model["cart"] == before
    press(env, p["sizes"][0], "radio")
    env.step(Action("type", {"element": el(env, "Quantity").id, "text": "2"}))
    press(env, "Add to cart")
    press(env, "Add to cart")
    added = [ln for ln in env.model["cart"] if ln["product"] == p["id"] and ln["size"] == p["sizes"][0]]
    assert len(added) == 1 and added[0]["qty"] == 4 + sum(ln["qty"] for ln in before if line_key(ln) == line_key(added[0]))


def test_checkout_confirms_in_a_blocking_dialog_and_empties_the_cart():
    t = first("checkout", 3)
    env = env_of(t)
    goal = t.reference["goal"]
    open_cart(env)
    press(env, "Checkout")
    press(env, next(e.name for e in env.view().elements if e.role == "radio" and e.name.startswith(goal["order"]["shipping"] + " (")))
    press(env, "Place order")
    assert env.view().top.role == "dialog"
    blocked = env.step(Action("click", {"x": 1, "y": 1})).text
    assert "blocked by the dialog" in blocked and env.view().top.role == "dialog"
    press(env, "Cancel")
    assert not env.model["orders"] and env.ui().screen == "checkout"
    press(env, "Place order")
    press(env, "Confirm order")
    assert env.model["cart"] == [] and len(env.model["orders"]) == 1 and env.ui().screen == "done"
    assert env.outcome(None).success


def test_place_order_refuses_an_empty_address_field():
    env = env_of(first("checkout", 3))
    open_cart(env)
    press(env, "Checkout")
    env.step(Action("type", {"element": el(env, "City").id, "text": "  "}))
    assert "City missing" in press(env, "Place order")
    assert env.view().top.role == "window"


# ---------------------------------------------------------------------------- levers and variety


def test_difficulty_grows_the_catalogue_and_makes_lists_scroll():
    sizes = {d: sum(len(task(s, d).env["model"]["products"]) for s in range(20)) / 20 for d in LEVELS}
    assert sizes[1] < sizes[2] < sizes[3] < sizes[4] < sizes[5]
    scrolled = 0
    for s in range(20):
        env = env_of(task(s, 5))
        scrolled += env.view().nodes["products"].scroll_max > 0
    assert scrolled >= 15
    near = [p["name"] for p in task(7, 5).env["model"]["products"]]
    assert any(a != b and b.startswith(a + " ") for a in near for b in near)


def test_instructions_vary_and_tasks_are_distinct():
    texts = [task(s, 1).instruction for s in range(300)]
    assert len(set(texts)) >= 200  # questions about the cart read alike; their carts differ
    assert len({t for t in texts if "cart" in t and "?" in t}) >= 2
    ids = {task(s, 1).id for s in range(300)}
    assert len(ids) >= 285
    openings = Counter(t.split("'")[0] for t in (task(s, 2).instruction for s in range(200)))
    assert len(openings) >= 10
