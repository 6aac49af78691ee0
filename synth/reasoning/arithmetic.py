"""The ``arithmetic`` family (group algorithms): multi-step arithmetic word problems.

Each problem is a short story (shopping, travel, baking, sharing, a factory, savings, ages)
with random names, items and quantities. Behind the text is a small program: the given
quantities, and one operation per sentence on quantities already known. The story starts from
a scenario's opening (one or two operations) and grows by extensions that fit the quantity in
hand (a discount on a price, a return trip on a distance, sharing on a count, a price per litre
on fuel...), until it has the level's number of operations. Values are exact fractions, kept
to at most two decimals, so answers are integers or short decimals.

==========  ==========  ======================================
difficulty  operations  typical expert steps (read..answer)
==========  ==========  ======================================
1           2           ~6
2           3           ~7
3           4-5         ~8.5
4           6           ~10
5           7-8         ~11.5
==========  ==========  ======================================

The verifier recomputes the answer from the problem's stored quantities and program and
compares numbers exactly, so "$12.50", "12.5", "25/2" and "12.50 dollars" are the same answer.
The expert computes one operation per step and never backtracks (there is nothing to search);
each step is still checked by the env, which recomputes it from the state.

Moves: ``compute {"name": "cost", "op": "*", "args": ["pens", "price"], "value": "9"}`` with op
one of + - * / and % (``p % x`` is p percent of x); values are exact decimal or "p/q" strings.
State: a tuple of (name, value), the givens first, then what was computed. Answer: the number
asked for. A move is legal when its name is new and its arguments are known: the value is the
solver's own, and a wrong one (a slip) is found from the state, not by a rule: the story
worked out exactly from the values in force no longer gives the answer (``keeps_solvable``).
"""

from __future__ import annotations

import random
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

from synth.reasoning.base import Mistake, ReasoningFamily, Search, TraceStep
from synth.reasoning.phrasing import Voice, answer_line, cap, opened, verify_holds, verify_intro
from synth.registry import register

State = tuple[tuple[str, Fraction], ...]

_SYMBOLS = {"+": "+", "-": "-", "*": "×", "/": "÷"}
_NUMBER = re.compile(
    r"(?P<sign>[-−])?\s*[$€£]?\s*(?:"
    r"(?P<whole>\d+)\s+(?P<p>\d+)\s*/\s*(?P<q>\d+)"  # 12 1/2
    r"|(?P<n>\d+)\s*/\s*(?P<d>\d+)"  # 25/2
    r"|(?P<dec>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"  # 1,234.5 or 12.5
    r")\s*(?P<unit>%|[a-z]+(?:[ /.-]?[a-z²³]+){0,3})?",
    re.IGNORECASE,
)
_NOT_UNITS = {"or", "and", "to", "plus", "minus", "times", "not"}
_MAX_VALUE = 10**6
_NAMES = (
    "Ana", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Iris", "Jon", "Kemal", "Lena", "Mia",
    "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yara", "Zoe", "Luis",
)


# ---------------------------------------------------------------------------- numbers


# words and suffixes that scale the number before them: they change the number, never vanish
_SCALES = {
    "hundred": Fraction(100), "thousand": Fraction(1000), "million": Fraction(10**6), "billion": Fraction(10**9),
    "trillion": Fraction(10**12), "k": Fraction(1000), "bn": Fraction(10**9),
    "tenth": Fraction(1, 10), "hundredth": Fraction(1, 100), "thousandth": Fraction(1, 1000), "millionth": Fraction(1, 10**6),
}
_AMBIGUOUS = {"m": "million or metres", "b": "billion or something else", "mn": "million or minutes", "mil": "million or mils"}


def read_number(text: str) -> tuple[Fraction | None, str]:
    """The one number ``text`` states, exactly, and "" — or None and why not. Tolerant of form
    ("$1,234.50", "12.5 km", "25/2", "12 1/2", "-3"), strict on content: a scale word or suffix
    changes the number ("525 thousand" and "525k" are 525000, "525 thousandths" is 0.525), an
    ambiguous one ("525m") is refused, and two numbers, words around a number other than a
    trailing unit, or a malformed thousands group are not a number."""
    m = _NUMBER.fullmatch(text.strip())
    if m is None:
        return None, f"{text.strip()!r} is not a single number"
    unit = (m.group("unit") or "").lower()
    words = re.split(r"[ /.-]", unit)
    if _NOT_UNITS & set(words):
        return None, f"{text.strip()!r} is not a single number"
    if m.group("dec"):
        value = Fraction(m.group("dec").replace(",", ""))
    else:
        whole, p, q = (m.group("whole") or "0", m.group("p"), m.group("q")) if m.group("q") else ("0", m.group("n"), m.group("d"))
        if int(q) == 0:
            return None, f"{text.strip()!r} divides by zero"
        value = int(whole) + Fraction(int(p), int(q))
    head = words[0] if words else ""
    if head in _AMBIGUOUS:
        return None, f"{text.strip()!r}: '{head}' could mean {_AMBIGUOUS[head]}; write the number in full"
    scale = _SCALES.get(head) or _SCALES.get(head.removesuffix("s"))
    if scale is not None:
        value *= scale
    return (-value if m.group("sign") else value), ""


def parse_number(text: str) -> Fraction | None:
    """:func:`read_number` without the reason."""
    return read_number(text)[0]


def plain(x: Fraction) -> str:
    """Exact and short: "36", "12.8" (a terminating decimal) or "25/3"."""
    if x.denominator == 1:
        return str(x.numerator)
    d, twos, fives = x.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"{x.numerator}/{x.denominator}"
    places = max(twos, fives)
    digits = f"{abs(x.numerator) * 10**places // x.denominator:0{places + 1}d}"
    text = f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return ("-" if x < 0 else "") + text


def _grouped(x: Fraction) -> str:
    """Like :func:`plain`, with thousands separators, as a story would print it."""
    text = plain(abs(x))
    if "/" not in text:
        whole, _, frac = text.partition(".")
        text = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return ("-" if x < 0 else "") + text


def show(x: Fraction, unit: str) -> str:
    """A quantity as the story and the trace write it: "$3.20", "20%", "36 pens"."""
    if unit == "$":
        text = _grouped(abs(x))
        if "." in text and "/" not in text:
            text = f"{text.split('.')[0]}.{text.split('.')[1]:0<2}"
        return ("-" if x < 0 else "") + "$" + text
    if unit == "%":
        return f"{_grouped(x)}%"
    return f"{_grouped(x)} {unit}" if unit else _grouped(x)


def _calc(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "%":
        return a * b / 100
    return a / b if b else None


def _nice(x: Fraction) -> bool:
    """At most two decimals, positive and not huge: what the stories keep to."""
    return 0 < x <= _MAX_VALUE and (x * 100).denominator == 1


# ---------------------------------------------------------------------------- stories


class _Story:
    """A problem under construction: sentences, given quantities and the program."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.people = rng.sample(_NAMES, 6)  # the first is the story's hero; the rest come in as needed
        self.name = self.people[0]
        self.met = 1
        self.vehicle = ""
        self.sentences: list[str] = []
        self.given: list[list[str]] = []  # [name, value, unit]
        self.program: list[list[str]] = []  # [name, op, a, b, unit, label]
        self.values: dict[str, Fraction] = {}
        self.units: dict[str, str] = {}

    def give(self, key: str, value: Fraction | int | str, unit: str) -> str:
        name = self._fresh(key)
        value = Fraction(value)
        self.given.append([name, plain(value), unit])
        self.values[name], self.units[name] = value, unit
        return name

    def step(self, key: str, op: str, a: str, b: str, unit: str, label: str) -> str:
        name = self._fresh(key)
        value = _calc(op, self.values[a], self.values[b])
        self.program.append([name, op, a, b, unit, label])
        self.values[name], self.units[name] = value, unit
        return name

    def say(self, sentence: str) -> None:
        self.sentences.append(sentence)

    def newcomer(self) -> str:
        self.met += 1
        return self.people[self.met - 1]

    def show(self, name: str) -> str:
        return show(self.values[name], self.units[name])

    def _fresh(self, key: str) -> str:
        name, k = key, 2
        while name in self.values:
            name, k = f"{key}{k}", k + 1
        return name


# Each opening and extension returns (quantity in hand, its kind) or None when the numbers it
# drew do not come out nice (the story is then rolled back to before it). Kinds: "cost" (money
# to pay), "cash" (money someone has), "count", "daily" (a count per day), "distance",
# "volume", "weight" (grams), "kilos" and "age".

_ITEMS = (
    ("pens", "box"), ("pencils", "pack"), ("stickers", "sheet"), ("cookies", "tin"), ("markers", "set"),
    ("eggs", "carton"), ("batteries", "pack"), ("candles", "box"), ("buttons", "bag"), ("cards", "deck"),
)
_EXTRAS = ("notebooks", "rulers", "mugs", "scarves", "plants", "lamps", "puzzles", "towels")
_THINGS = ("marbles", "shells", "stamps", "beads", "coins", "apples", "cherries", "walnuts")
_GOODS = ("bottles", "widgets", "bolts", "bricks", "toys", "chairs", "bowls", "jars")
_FLOURS = ("flour", "sugar", "butter", "oats", "rice", "cocoa")
_TREATS = ("a book", "a ticket", "a jacket", "a game", "a bike lock", "a lunch", "a gift")


def _cents(rng: random.Random, low: int, high: int) -> Fraction:
    """A price from ``low`` to ``high`` cents, in steps of 5."""
    return Fraction(rng.randrange(low, high, 5), 100)


def _open_packs(s: _Story):
    item, pack = s.rng.choice(_ITEMS)
    packs = s.give("packs", s.rng.randint(2, 9), f"{pack}es" if pack.endswith("x") else f"{pack}s")
    each = s.give("per_pack", s.rng.choice([4, 5, 6, 8, 10, 12, 20, 24]), f"{item} per {pack}")
    price = s.give("price", _cents(s.rng, 10, 200), "$")
    s.say(f"{s.name} buys {s.show(packs)} of {item}, with {s.values[each]} {item} in each {pack}. Each of the {item} costs {s.show(price)}.")
    count = s.step("count", "*", packs, each, item, f"the number of {item}")
    return s.step("cost", "*", count, price, "$", f"the cost of the {item}"), "cost"


def _open_items(s: _Story):
    extra = s.rng.choice(_EXTRAS)
    qty = s.give("qty", s.rng.randint(2, 12), extra)
    price = s.give("price", _cents(s.rng, 100, 3000), "$")
    s.say(f"{s.name} buys {s.show(qty)} at {s.show(price)} each.")
    return s.step("cost", "*", qty, price, "$", f"the cost of the {extra}"), "cost"


def _open_savings(s: _Story):
    weekly = s.give("weekly", s.rng.choice([5, 8, 10, 12, 15, 20, 25, 7.5, 12.5]), "$")
    weeks = s.give("weeks", s.rng.randint(3, 20), "weeks")
    s.say(f"{s.name} saves {s.show(weekly)} every week for {s.show(weeks)}.")
    return s.step("saved", "*", weekly, weeks, "$", f"the amount {s.name} saves"), "cash"


def _open_drive(s: _Story):
    speed = s.give("speed", s.rng.randrange(40, 125, 5), "km/h")
    hours = s.give("hours", s.rng.choice([1.5, 2, 2.5, 3, 3.5, 4, 5, 6]), "hours")
    s.vehicle = "car"
    s.say(f"{s.name} drives at {s.show(speed)} for {s.show(hours)}.")
    return s.step("distance", "*", speed, hours, "km", f"the distance {s.name} drives"), "distance"


def _open_ride(s: _Story):
    speed = s.give("speed", s.rng.randrange(10, 32, 2), "km/h")
    minutes = s.give("minutes", s.rng.choice([30, 45, 75, 90, 105, 120, 135, 150]), "minutes")
    per_hour = s.give("per_hour", 60, "minutes per hour")
    s.vehicle = "bike"
    s.say(f"{s.name} cycles at {s.show(speed)} for {s.show(minutes)}.")
    hours = s.step("hours", "/", minutes, per_hour, "hours", "the riding time in hours")
    return s.step("distance", "*", speed, hours, "km", f"the distance {s.name} cycles"), "distance"


def _open_baking(s: _Story):
    what = s.rng.choice(_FLOURS)
    per = s.give("per_batch", s.rng.randrange(150, 800, 25), f"g of {what}")
    batches = s.give("batches", s.rng.randint(2, 9), "batches")
    s.say(f"A recipe uses {s.show(per)} per batch, and {s.name} bakes {s.show(batches)}.")
    return s.step("grams", "*", per, batches, f"g of {what}", f"the {what} needed in grams"), "weight"


def _open_collection(s: _Story):
    thing = s.rng.choice(_THINGS)
    bags = s.give("bags", s.rng.randint(2, 12), "bags")
    each = s.give("per_bag", s.rng.randint(6, 40), f"{thing} per bag")
    s.say(f"{s.name} has {s.show(bags)} with {s.values[each]} {thing} in each.")
    return s.step("count", "*", bags, each, thing, f"the number of {thing} {s.name} has"), "count"


def _open_factory(s: _Story):
    good = s.rng.choice(_GOODS)
    rate = s.give("rate", s.rng.randrange(12, 240, 4), f"{good} per hour")
    hours = s.give("hours", s.rng.randint(3, 12), "hours")
    s.say(f"{s.name}'s machine makes {s.show(rate)} and runs for {s.show(hours)} a day.")
    return s.step("daily", "*", rate, hours, good, f"the {good} made in a day"), "daily"


def _open_ages(s: _Story):
    a, b = s.name, s.newcomer()
    age = s.give("age", s.rng.randint(4, 40), "years")
    gap = s.give("gap", s.rng.randint(2, 30), "years")
    s.say(f"{a} is {s.show(age)} old. {b} is {s.show(gap)} older than {a}.")
    return s.step(f"{b.lower()}_age", "+", age, gap, "years", f"{b}'s age"), "age"


def _coupon(s: _Story, cur: str):
    c = s.rng.choice([2, 3, 5, 10, 15, 20])
    if s.values[cur] <= 2 * c:
        return None
    coupon = s.give("coupon", c, "$")
    s.say(f"{s.name} uses a {s.show(coupon)} coupon.")
    return s.step("after_coupon", "-", cur, coupon, "$", "the price after the coupon"), "cost"


def _discount(s: _Story, cur: str):
    rate = s.give("discount_rate", s.rng.choice([10, 15, 20, 25, 30, 40, 50]), "%")
    s.say(f"The shop takes {s.show(rate)} off.")
    off = s.step("discount", "%", rate, cur, "$", "the discount")
    return s.step("discounted", "-", cur, off, "$", "the price after the discount"), "cost"


def _tax(s: _Story, cur: str):
    rate = s.give("tax_rate", s.rng.choice([5, 8, 10, 20]), "%")
    s.say(f"A sales tax of {s.show(rate)} is added.")
    tax = s.step("tax", "%", rate, cur, "$", "the tax")
    return s.step("with_tax", "+", cur, tax, "$", "the price with tax"), "cost"


def _split(s: _Story, cur: str):
    people = s.give("people", s.rng.choice([2, 3, 4, 5, 6, 8]), "people")
    s.say(f"The cost is shared equally among {s.show(people)}.")
    return s.step("share", "/", cur, people, "$", "each person's share"), "cost"


def _weeks(s: _Story, cur: str):
    weeks = s.give("times", s.rng.randint(2, 8), "weeks")
    s.say(f"The same happens every week for {s.show(weeks)}.")
    return s.step("over_weeks", "*", cur, weeks, "$", f"the cost over {s.values[weeks]} weeks"), "cost"


def _extra_item(s: _Story, cur: str):
    extra = s.rng.choice(_EXTRAS)
    qty = s.give("extra_qty", s.rng.randint(2, 6), extra)
    price = s.give("extra_price", _cents(s.rng, 100, 2000), "$")
    s.say(f"{s.name} also buys {s.show(qty)} at {s.show(price)} each.")
    more = s.step("extra_cost", "*", qty, price, "$", f"the cost of the {extra}")
    return s.step("total", "+", cur, more, "$", "the total cost"), "cost"


def _change(s: _Story, cur: str):
    bill = next((b for b in (10, 20, 50, 100, 200, 500, 1000, 5000) if b > s.values[cur]), None)
    if bill is None:
        return None
    paid = s.give("paid", bill, "$")
    s.say(f"{s.name} pays with {s.show(paid)}.")
    return s.step("change", "-", paid, cur, "$", f"the change {s.name} gets"), "cash"


def _spend(s: _Story, cur: str):
    price = s.give("spent", _cents(s.rng, 500, int(s.values[cur] * 80) + 505), "$")
    s.say(f"{s.name} spends {s.show(price)} on {s.rng.choice(_TREATS)}.")
    return s.step("left", "-", cur, price, "$", f"the money {s.name} has left"), "cash"


def _earn(s: _Story, cur: str):
    more = s.give("earned", s.rng.randrange(5, 200, 5), "$")
    s.say(f"{s.name} then earns another {s.show(more)}.")
    return s.step("cash", "+", cur, more, "$", f"the money {s.name} has then"), "cash"


def _interest(s: _Story, cur: str):
    rate = s.give("interest_rate", s.rng.choice([2, 4, 5, 10]), "%")
    s.say(f"The bank adds {s.show(rate)} interest.")
    gain = s.step("interest", "%", rate, cur, "$", "the interest")
    return s.step("with_interest", "+", cur, gain, "$", "the money with interest"), "cash"


def _buy(s: _Story, cur: str):
    extra = s.rng.choice(_EXTRAS)
    qty = s.give("bought", s.rng.randint(2, 5), extra)
    price = s.give("unit_price", _cents(s.rng, 100, 1500), "$")
    s.say(f"{s.name} buys {s.show(qty)} at {s.show(price)} each.")
    cost = s.step("spent", "*", qty, price, "$", f"the cost of the {extra}")
    return s.step("remaining", "-", cur, cost, "$", f"the money {s.name} has left"), "cash"


def _share_cash(s: _Story, cur: str):
    people = s.give("people", s.rng.choice([2, 3, 4, 5]), "people")
    s.say(f"{s.name} shares the money equally among {s.show(people)}.")
    return s.step("share", "/", cur, people, "$", "each person's share"), "cash"


def _more(s: _Story, cur: str):
    k = s.give("more", s.rng.randint(3, 30), s.units[cur])
    s.say(f"{s.name} finds {s.show(k)} more.")
    return s.step("more_total", "+", cur, k, s.units[cur], f"the number of {s.units[cur]} after that"), "count"


def _give_away(s: _Story, cur: str):
    if s.values[cur] < 6:
        return None
    k = s.give("given_away", s.rng.randint(2, int(s.values[cur]) // 2), s.units[cur])
    s.say(f"{s.name} gives {s.show(k)} away.")
    return s.step("kept", "-", cur, k, s.units[cur], f"the number of {s.units[cur]} left"), "count"


def _share(s: _Story, cur: str):
    ways = [n for n in (2, 3, 4, 5, 6, 8) if s.values[cur] % n == 0]
    if not ways:
        return None
    n = s.give("friends", s.rng.choice(ways), "friends")
    s.say(f"They are shared equally among {s.show(n)}.")
    return s.step("each", "/", cur, n, s.units[cur], f"the number of {s.units[cur]} each friend gets"), "count"


def _sell(s: _Story, cur: str):
    price = s.give("sell_price", _cents(s.rng, 10, 400), "$")
    s.say(f"Each of them sells for {s.show(price)}.")
    return s.step("income", "*", cur, price, "$", "the money from selling them"), "cash"


def _days(s: _Story, cur: str):
    d = s.give("days", s.rng.randint(2, 7), "days")
    s.say(f"It runs like this for {s.show(d)}.")
    return s.step("over_days", "*", cur, d, s.units[cur], f"the {s.units[cur]} made in {s.values[d]} days"), "count"


def _second_leg(s: _Story, cur: str):
    speed = s.give("speed2", s.rng.randrange(30, 110, 5) if s.vehicle == "car" else s.rng.randrange(8, 30, 2), "km/h")
    hours = s.give("hours2", s.rng.choice([0.5, 1, 1.5, 2, 2.5, 3]), "hours")
    s.say(f"After a break, {s.name} goes on at {s.show(speed)} for {s.show(hours)}.")
    leg = s.step("leg2", "*", speed, hours, "km", "the second stretch")
    return s.step("trip", "+", cur, leg, "km", "the whole distance"), "distance"


def _return_trip(s: _Story, cur: str):
    two = s.give("ways", 2, "ways")
    s.say(f"{s.name} comes back the same way.")
    return s.step("both_ways", "*", cur, two, "km", "the distance there and back"), "distance"


def _fuel(s: _Story, cur: str):
    if s.vehicle != "car":
        return None
    rate = s.give("fuel_rate", s.rng.choice([4, 5, 6, 7, 8, 10]), "litres")
    hundred = s.give("per_km", 100, "km")
    s.say(f"The car uses {s.show(rate)} of fuel per {s.show(hundred)}.")
    hundreds = s.step("hundreds", "/", cur, hundred, "hundreds of km", "the distance in hundreds of km")
    return s.step("fuel", "*", hundreds, rate, "litres", "the fuel used"), "volume"


def _remaining(s: _Story, cur: str):
    trip = s.give("trip_length", (s.values[cur] // 50 + s.rng.randint(1, 6)) * 50, "km")
    s.say(f"The whole journey is {s.show(trip)}.")
    return s.step("to_go", "-", trip, cur, "km", "the distance still to go"), "distance"


def _fuel_price(s: _Story, cur: str):
    p = s.give("litre_price", s.rng.choice([Fraction(1), Fraction(2), Fraction(3, 2), Fraction(5, 4), Fraction(9, 5)]), "$")
    s.say(f"Fuel costs {s.show(p)} per litre.")
    return s.step("fuel_cost", "*", cur, p, "$", "the cost of the fuel"), "cost"


def _to_kg(s: _Story, cur: str):
    per = s.give("g_per_kg", 1000, "g per kg")
    what = s.units[cur].removeprefix("g of ")
    return s.step("kg", "/", cur, per, f"kg of {what}", f"the {what} in kilograms"), "kilos"


def _more_grams(s: _Story, cur: str):
    extra = s.give("extra_g", s.rng.randrange(50, 500, 25), s.units[cur])
    s.say(f"{s.name} adds {s.show(extra)} more for decorating.")
    what = s.units[cur].removeprefix("g of ")
    return s.step("grams_total", "+", cur, extra, s.units[cur], f"the {what} used in grams"), "weight"


def _kg_price(s: _Story, cur: str):
    p = s.give("kg_price", _cents(s.rng, 100, 800), "$")
    s.say(f"It costs {s.show(p)} per kilogram.")
    return s.step("ingredient_cost", "*", cur, p, "$", f"the cost of the {s.units[cur].removeprefix('kg of ')}"), "cost"


def _older(s: _Story, cur: str):
    if s.met == len(s.people):
        return None
    k = s.rng.randint(2, 25)
    younger = s.values[cur] > k + 10 and (s.values[cur] + k > 90 or s.rng.random() < 0.5)
    if not younger and s.values[cur] + k > 90:
        return None
    owner, who = s.program[-1][5].removesuffix("'s age"), s.newcomer()
    gap = s.give("gap", k, "years")
    s.say(f"{who} is {s.show(gap)} {'younger' if younger else 'older'} than {owner}.")
    return s.step(f"{who.lower()}_age", "-" if younger else "+", cur, gap, "years", f"{who}'s age"), "age"


def _times(s: _Story, cur: str):
    if s.values[cur] > 30 or s.met == len(s.people):  # keeps ages human
        return None
    owner, who = s.program[-1][5].removesuffix("'s age"), s.newcomer()
    m = s.give("factor", s.rng.choice([2, 3]), "times")
    s.say(f"{who} is {s.values[m]} times as old as {owner}.")
    return s.step(f"{who.lower()}_age", "*", cur, m, "years", f"{who}'s age"), "age"


def _later(s: _Story, cur: str):
    owner = s.program[-1][5].removesuffix("'s age")
    y = s.give("years_on", s.rng.randint(2, 15), "years")
    s.say(f"Think of {owner} {s.show(y)} from now.")
    return s.step("later_age", "+", cur, y, "years", f"{owner}'s age in {s.values[y]} years"), "age"


_OPENINGS = (_open_packs, _open_items, _open_savings, _open_drive, _open_ride, _open_baking, _open_collection, _open_factory, _open_ages)
# kind -> (operations, ends the story, may recur, extension)
_EXTENSIONS = {
    "cost": ((1, False, False, _coupon), (2, False, False, _discount), (2, False, False, _tax), (1, False, False, _split),
             (1, False, False, _weeks), (2, False, False, _extra_item), (1, False, False, _change)),
    "cash": ((1, False, False, _spend), (1, False, False, _earn), (2, False, False, _interest), (2, False, False, _buy),
             (1, True, False, _share_cash)),
    "count": ((1, False, False, _more), (1, False, False, _give_away), (1, True, False, _share), (1, False, False, _sell)),
    "daily": ((1, False, False, _days), (1, False, False, _sell)),
    "distance": ((2, False, False, _second_leg), (1, False, False, _return_trip), (2, False, False, _fuel), (1, True, False, _remaining)),
    "volume": ((1, False, False, _fuel_price),),
    "weight": ((1, False, False, _to_kg), (1, False, False, _more_grams)),
    "kilos": ((1, False, False, _kg_price),),
    "age": ((1, False, True, _older), (1, False, True, _times), (1, True, False, _later)),
}


def _write(rng: random.Random, ops: int) -> _Story | None:
    """A story with exactly ``ops`` operations, or None when the draw paints itself into a
    corner (the caller draws again). Each extension is used once unless it may recur (a new
    person's age), so stories do not repeat themselves."""
    s = _Story(rng)
    cur, kind = rng.choice(_OPENINGS)(s)
    used: set[Any] = set()
    while len(s.program) < ops:
        left = ops - len(s.program)
        options = [f for cost, ends, recurs, f in _EXTENSIONS[kind] if cost <= left and (not ends or cost == left) and (recurs or f not in used)]
        rng.shuffle(options)
        for extend in options:
            mark = (len(s.sentences), len(s.given), len(s.program), s.met)
            found = extend(s, cur)
            if found is not None and all(_nice(s.values[p[0]]) for p in s.program[mark[2] :]):
                cur, kind = found
                used.add(extend)
                break
            _undo(s, *mark)
        else:
            return None
    return s


def _undo(s: _Story, sentences: int, given: int, program: int, met: int) -> None:
    for name, *_ in s.given[given:] + s.program[program:]:
        del s.values[name], s.units[name]
    del s.sentences[sentences:], s.given[given:], s.program[program:]
    s.met = met


# ---------------------------------------------------------------------------- the family


class Arithmetic(ReasoningFamily):
    name = "arithmetic"
    group = "algorithms"
    action = "compute"
    rules = ("the name is new and both arguments are known quantities; the value is the solver's own result (a wrong one "
             "breaks no rule, it leads to a wrong answer)")
    levels = {
        1: {"ops": (2, 2)},
        2: {"ops": (3, 3)},
        3: {"ops": (4, 5)},
        4: {"ops": (6, 6)},
        5: {"ops": (7, 8)},
    }

    # ------------------------------------------------------------------ problem

    def generate(self, rng: random.Random, ops: tuple[int, int]) -> dict[str, Any]:
        while True:
            story = _write(rng, rng.randint(*ops))
            if story is not None:
                last = story.program[-1]
                return {"story": " ".join(story.sentences), "asks": last[5], "given": story.given, "program": story.program}

    def describe(self, problem: dict[str, Any]) -> str:
        return (
            f"{problem['story']} What is {problem['asks']}?\n"
            "Work it out exactly. Answer with the number only (a unit or a $ sign is fine), for "
            "example: 12.5"
        )

    def read(self, problem: dict[str, Any], say: Voice) -> str:
        quantities = [show(Fraction(v), u) for _, v, u in problem["given"]]
        given = say.listing(quantities)
        head = say(("Given: <g>.", "The story gives <g>.", "Known: <g>.", "{The numbers in the story|What the story states}: <g>.",
                    "{I am told|We know} <g>.", "{Quantities given|Givens}: <g>."), g=given)
        asked = say(("Asked: <a>.", "The question: <a>.", "I need <a>.", "{Wanted|To find}: <a>.", "The question asks for <a>.", "{Goal|Target}: <a>."),
                    a=problem["asks"])
        count = say(("<k> operations lead there.", "That takes <k> steps of arithmetic.", "{It needs|There are} <k> operations{ in all|}.",
                     "<g> numbers in, <k> operations to do."), k=len(problem["program"]), g=len(quantities)) if say.chance(0.5) else ""
        first, second = (head, asked) if say.chance(0.7) else (asked, head)
        return " ".join(x for x in (first, second, count) if x)

    def plan(self, problem: dict[str, Any], say: Voice) -> str:
        order = say(("Go through the story in order: each sentence gives a new quantity or an operation on quantities already known.",
                     "Follow the story sentence by sentence; each one adds a quantity or combines known ones.",
                     "Read it in order: every sentence is a given or an operation on what is known so far.",
                     "{Take|Work through} the sentences {in order|one by one}{:|;} {each|every one} {either gives a number or combines known ones|adds a quantity or an operation}.",
                     "{The story is|This is} a chain of operations{, one per sentence|}{; follow it|, so follow it in order}."))
        how = say(("Compute them one at a time, exactly, with units, until <a>.", "Work each operation out exactly, units attached, up to <a>.",
                   "One operation per step, exact, keeping units, until <a> is known.",
                   "{Each step|Every step} {computes|works out} one {operation|quantity}{ exactly|, exactly,} {until|up to} <a>{, keeping units|}.",
                   "{Keep|Carry} {the units|units} {along|attached} and {work exactly|compute exactly}, {step by step|one operation at a time}, {to|until} <a>."),
                  a=problem["asks"])
        ops = [p[1] for p in problem["program"]]
        notes = []
        if "%" in ops:
            notes.append(say(("There is a percentage in it: p% of x is p/100 times x.", "One step takes a percentage, p/100 of the amount.",
                              "{Percentages|A percentage} {here|in it}: {p% of x = p/100 × x|divide by 100, then multiply}.")))
        kinds = sorted({_OP_NAMES[o][2] for o in ops})
        if say.chance(0.5):
            notes.append(say(("{The operations|It} {include|involves} <k>.", "{Expect|There will be} <k>.", "Operations: <k>."), k=say.listing(kinds)))
        if "/" in ops and say.chance(0.5):
            notes.append(say(("{Check|Watch} the division{ comes out exact|s}.", "A division is in there; keep it exact.")))
        return " ".join([order, how, *say.order(notes)[: say.pick((0, 1, 2))]])

    def answer_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        notes = [say(("that is <a>", "<a>", "the value of <a>", "it is <a>"), a=problem["asks"])]
        if say.chance(0.3):
            notes.append(say(("after <k> operations", "<k> steps in", "from <k> operations"), k=len(problem["program"])))
        return answer_line(say, answer, say.listing(say.order(notes)[: say.pick((0, 1, 1, 2))]))

    def start(self, problem: dict[str, Any]) -> State:
        return _givens(tuple((name, value) for name, value, _ in problem["given"]))

    # ------------------------------------------------------------------ the search

    def solve(self, problem: dict[str, Any]) -> Search:
        steps = self._compute(problem, self.start(problem), self.voice(problem))
        answer = self.read_off(problem, self.replay(problem, steps)[-1])
        return Search(steps, answer, {"operations": len(problem["program"])})

    def _compute(self, problem: dict[str, Any], state: State, say: Voice) -> list[TraceStep]:
        """The program's steps not yet in ``state``, each computed from the values in it (the
        expert's whole trace from the start; a noisy teacher's rest after its slip)."""
        values = dict(state)
        units = _units(problem)
        steps = []
        for name, op, a, b, unit, label in problem["program"]:
            if name in values:
                continue
            value = _calc(op, values[a], values[b])
            left = sum(p[0] not in values for p in problem["program"]) - 1
            line = _line(label, op, a, b, value, values, units, unit, say, left, name == problem["program"][-1][0])
            steps.append(TraceStep("apply", line, _move(name, op, a, b, value)))
            values[name] = value
        return steps

    # ------------------------------------------------------------------ rules

    def apply(self, problem: dict[str, Any], state: State, move: Any) -> tuple[State, str | None]:
        name, op, args = (move.get("name"), move.get("op"), move.get("args")) if isinstance(move, dict) else (None,) * 3
        value = _move_value(move.get("value")) if isinstance(move, dict) else None
        ok = isinstance(name, str) and op in ("+", "-", "*", "/", "%") and isinstance(args, list) and len(args) == 2
        ok = ok and all(isinstance(arg, str) for arg in args)
        if not ok or value is None:
            return state, f"a move names a new quantity, an operation (+ - * / %), two known quantities and the value, got {move!r}"
        values = dict(state)
        if name in values:
            return state, f"{name} is already known ({plain(values[name])})"
        for arg in args:
            if arg not in values:
                return state, f"{arg!r} is not a known quantity yet"
        true = _calc(op, values[args[0]], values[args[1]])
        if true is None:
            return state, f"{args[0]} is divided by {args[1]}, which is 0"
        return (*state, (name, value)), None

    def keeps_solvable(self, problem: dict[str, Any], before: State, move: Any, after: State, search: Search) -> bool:
        """A value written wrong is the solver's belief, not a broken rule: the state is still
        solvable iff working the rest of the story out exactly from the values in force (the
        wrong one included) still gives the asked quantity its true value. A slip on a
        quantity the answer does not depend on washes out."""
        return _finish(problem, dict(after)) == _finish(problem, dict(self.start(problem)))

    def observe(self, problem: dict[str, Any], state: State) -> str:
        return f"{state[-1][0]} = {plain(state[-1][1])}."

    def mistake(self, problem: dict[str, Any], state: State, search: Search, say: Voice, rng: random.Random) -> Mistake | None:
        """The next operation with a typical slip: a times-table or carry error, a misplaced
        decimal point, a percentage taken as a tenth, a quotient taken the wrong way round. The
        move is legal (the value is what the solver believes it computed); the env finds it
        wrong from the state: the story worked out from there no longer gives the answer."""
        values = dict(state)
        todo = next((p for p in problem["program"] if p[0] not in values), None)
        if todo is None:
            return None
        name, op, a, b, unit, label = todo
        x, y = values[a], values[b]
        true = _calc(op, x, y)
        if op == "*":
            slips = [(true + x, "slip"), (true - x, "slip"), (true + y, "slip"), (true - y, "slip"), (true * 10, "off_by_one"), (true / 10, "off_by_one")]
        elif op == "%":
            slips = [(x * y / 10, "misread"), (true * 10, "off_by_one"), (true + 1, "slip"), (true - 1, "slip")]
        elif op == "/":
            slips = [(true + 1, "slip"), (true - 1, "slip"), (true * 10, "off_by_one"), (y / x if x else true + 1, "misread")]
        else:
            slips = [(true + 10, "slip"), (true - 10, "slip"), (true + 1, "slip"), (true - 1, "slip")]
        wrong, kind = rng.choice([v for v in slips if v[0] > 0 and v[0] != true] or [(true + 1, "slip")])
        units = _units(problem)
        left = sum(p[0] not in values for p in problem["program"]) - 1
        text = _line(label, op, a, b, wrong, values, units, unit, say, left, name == problem["program"][-1][0], shown=False)
        shown = f"{show(x, units[a])} of {show(y, units[b])}" if op == "%" else f"{show(x, units[a])} {_SYMBOLS[op]} {show(y, units[b])}"
        reveal = say(("<e> is <t>, not <w>", "recomputing <e> gives <t>; <w> was a slip", "<e> = <t>, so the <w> was wrong"),
                     e=shown, t=show(true, unit), w=show(wrong, unit))
        return Mistake(_move(name, op, a, b, wrong), text, kind, reveal)

    def continue_wrong(self, problem: dict[str, Any], state: State, say: Voice, rng: random.Random) -> list[TraceStep]:
        """The rest of the computation on the wrong value, which carries into the answer."""
        return self._compute(problem, state, say)

    def confirm(self, problem: dict[str, Any], before: State, move: Any, say: Voice) -> str | None:
        values = dict(before)
        args = move.get("args") or []
        if len(args) != 2 or any(x not in values for x in args) or move.get("op") not in ("+", "-", "*", "/", "%"):
            return None
        true = _calc(move["op"], values[args[0]], values[args[1]])
        if true is None:
            return None
        units = {**dict.fromkeys(values, ""), **_units(problem)}
        x, y = show(values[args[0]], units[args[0]]), show(values[args[1]], units[args[1]])
        expr = f"{x} of {y}" if move["op"] == "%" else f"{x} {_SYMBOLS[move['op']]} {y}"
        how = _check(move["op"], values[args[0]], values[args[1]], say)
        return say(("<e> = <v><h>", "redoing <e>: <v><h>", "<e> comes to <v><h>"), e=expr, v=plain(true), h=how)

    def narrate(self, problem: dict[str, Any], state: State, move: Any, say: Voice) -> str:
        values = dict(state)
        units = {**dict.fromkeys(values, ""), **_units(problem)}
        a, b = move["args"]
        value = _move_value(move["value"]) or Fraction(0)
        label = say.pick([p[5] for p in problem["program"]])  # it names what it thinks it computes
        return _line(label, move["op"], a, b, value, values, units, units.get(a, ""), say)

    def verify_text(self, problem: dict[str, Any], answer: str, say: Voice) -> str:
        last = problem["program"][-1]
        chain = say(("the chain of <k> operations ends at <a>", "all <k> operations done, the last giving <a>", "after <k> steps, <a> is known"),
                    k=len(problem["program"]), a=last[5])
        units = say(("its unit is right", "the units line up", "units check out"))
        return f"{verify_intro(say, answer)}: {chain}, {answer}; {units}; {verify_holds(say)}."

    def read_off(self, problem: dict[str, Any], state: State) -> str:
        asked = problem["program"][-1][0]
        values = dict(state)
        if asked in values:
            return plain(values[asked])
        computed = state[len(problem["given"]) :]
        return plain(computed[-1][1]) if computed else ""

    def random_move(self, problem: dict[str, Any], state: State, rng: random.Random) -> Any | None:
        (a, x), (b, y) = rng.choice(state), rng.choice(state)
        op = rng.choice("+-*/")
        if op == "/" and not y:
            op = "*"
        return _move(f"q{len(state)}", op, a, b, _calc(op, x, y))

    def move_text(self, move: Any) -> str:
        return f"{move['name']} = {move['args'][0]} {move['op']} {move['args'][1]} = {move['value']}"

    # ------------------------------------------------------------------ verifier

    def judge(self, problem: dict[str, Any], answer: str) -> tuple[bool, str]:
        asked = problem["asks"]
        value, why = read_number(answer)
        if value is None:
            return False, why
        if value != _finish(problem, dict(self.start(problem))):
            return False, f"{plain(value)} is not {asked}: the problem's quantities give a different value"
        return True, f"{plain(value)} is {asked}, recomputed from the problem's quantities"


def _finish(problem: dict[str, Any], values: dict[str, Fraction]) -> Fraction | None:
    """The asked quantity, the program's operations not yet in ``values`` worked out exactly
    from the values there (None when a division by 0 stops it)."""
    values = dict(values)
    for name, op, a, b, *_ in problem["program"]:
        if name not in values:
            values[name] = _calc(op, values[a], values[b])
            if values[name] is None:
                return None
    return values[problem["program"][-1][0]]


@lru_cache(maxsize=1024)
def _givens(rows: tuple[tuple[str, str], ...]) -> State:
    """The given quantities as exact values; cached, since every replay starts here and
    parsing decimals into fractions is slow."""
    return tuple((name, Fraction(value)) for name, value in rows)


def _units(problem: dict[str, Any]) -> dict[str, str]:
    return {row[0]: row[-1] if len(row) == 3 else row[4] for row in (*problem["given"], *problem["program"])}


_OP_NAMES = {"+": ("add", "adding", "a sum"), "-": ("subtract", "subtracting", "a difference"), "*": ("multiply", "multiplying", "a product"),
             "/": ("divide", "dividing", "a quotient"), "%": ("take the percentage", "taking the percentage", "a percentage")}


def _line(label: str, op: str, a: str, b: str, value: Fraction, values: dict, units: dict, unit: str, say: Voice, left: int | None = None,
          asked: bool = False, shown: bool = True) -> str:
    """A step's thought: "The discount: 20% of $16 = $3.20.", sometimes with the arithmetic
    written out (the carry of a product, the division as a multiplication), the kind of
    operation, how many operations are left after it (``left``) and, when it is the quantity
    the question asks for (``asked``), that it is. A slip is written without its working
    (``shown`` False): worked out, the numbers would refute the value on the same line."""
    left_text, right_text = show(values[a], units[a]), show(values[b], units[b])
    expr = f"{left_text} of {right_text}" if op == "%" else f"{left_text} {_SYMBOLS[op]} {right_text}"
    work = _check(op, values[a], values[b], say) if say.chance(0.45) and shown else ""
    verb, doing, kind = _OP_NAMES[op]
    main = say(("<L>: <e> = <v><w>.", "Now <l>: <e> = <v><w>.", "<L> is <e>, which is <v><w>.", "Next, <l>. <E> = <v><w>.", "For <l>, <e> = <v><w>.",
                "<E> = <v><w>: that is <l>.", "<V> is <l> (<e><w>).", "{To get|For} <l>, <verb>: <e> = <v><w>.",
                "<L> {comes from|needs} <kind>: <e> = <v><w>.", "{Compute|Then compute} <l> by {<doing>|working out <e>}{:|;} <e> gives <v><w>.",
                "<L>{, by <doing>,|} {equals|comes to} <e> = <v><w>.", "{This step|The next operation} is <kind>: <l> = <e> = <v><w>."),
               L=cap(label), l=label, e=expr, E=cap(expr), v=show(value, unit), V=cap(show(value, unit)), w=work, verb=verb, doing=doing, kind=kind)
    tail = []
    if asked and say.chance(0.6):
        tail.append(say(("That is what the question asks.", "This is the quantity asked for.", "{And that|That} is the {asked|requested} value.",
                         "The question wanted exactly this.")))
    elif left and say.chance(0.35):
        tail.append(say(("<n> {operation|step}(s) to go.", "{Still|Then} <n> more.", "<n> left.", "{Remaining|Left to do}: <n>."), n=left))
    return " ".join([opened(say, main, 0.3), *tail])


def _check(op: str, x: Fraction, y: Fraction, say: Voice) -> str:
    """The arithmetic behind one operation, written out as one would on paper."""
    if op == "%":
        return say((" (<y> / 100 = <q>, times <x>)", " (that is <q> x <x>)"), y=plain(x), q=plain(x / 100), x=plain(y))
    if op == "*" and x.denominator == 1 and y.denominator == 1 and x > 10 and y > 1:
        tens, ones = divmod(int(x), 10)
        return say((" (<t>0 x <y> = <a>, <o> x <y> = <b>)", " (<a> + <b>)"), t=tens, o=ones, y=plain(y), a=tens * 10 * int(y), b=ones * int(y))
    if op == "/" and y:
        return say((" (check: <r> x <y> = <x>)", " (since <r> x <y> is <x>)"), r=plain(x / y), y=plain(y), x=plain(x))
    if op == "-":
        return say((" (check: <r> + <y> = <x>)", ""), r=plain(x - y), y=plain(y), x=plain(x))
    return ""


def _move(name: str, op: str, a: str, b: str, value: Fraction) -> dict[str, Any]:
    return {"name": name, "op": op, "args": [a, b], "value": plain(value)}


def _move_value(x: Any) -> Fraction | None:
    """A move's value: an int, or an exact decimal or "p/q" string."""
    if type(x) is int:
        return Fraction(x)
    if isinstance(x, str) and re.fullmatch(r"-?\d{1,15}(\.\d{1,15}|/[1-9]\d{0,15})?", x.strip()):
        return Fraction(x.strip())
    return None


family = register(Arithmetic())
