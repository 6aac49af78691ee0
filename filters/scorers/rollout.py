"""The generic Monte-Carlo rollout policy (Math-Shepherd's completer, without a model).

With probability 1 - epsilon it takes an action the env accepts as progress now, otherwise a
well-formed random action. Accepted actions come from the env's own checker: candidates are
proposed per kind from what the env exposes (the GUI's accepted entries made concrete, the
research env's progress constraints turned into calls, moves a reasoning family draws, kept
only when ``env.accepts`` says yes), so no second copy of any step checker exists here.
An env may offer better candidates itself (``rollout_candidates() -> list[Action]`` and
``random_action(rng) -> Action``); those are used first. In the reasoning engine the env holds
the family solver's search, so while the state lies on the solver's final path the policy
prefers the solver's next move on that path (still checked by ``env.accepts``); off that path
it draws moves and keeps an accepted one. Without that preference "accepted" includes moves
the search explores (a maze dead end, any legal Hanoi move), and completions wander: on expert
maze episodes the mean value of a correct step was 0.76 at horizon 64.

Two choices worth knowing: a rollout never takes a move back (``backtrack``): it completes the
prefix forwards, as Math-Shepherd's completions do, so a prefix in a dead branch scores 0 even
though the env would accept an undo; and it gives the final answer only once the env accepts
it, which, in the research env, is once no evidence is left to gather.
"""

from __future__ import annotations

import random
from typing import Any

from stores.schema import Action
from synth.episode import Env

_MOVE_TRIES = 24  # random moves drawn per step when looking for an accepted one (reasoning)
_KEYS = ("Enter", "Tab", "Escape", "Backspace", "Space", "Up", "Down", "PageDown")


class RolloutPolicy:
    def __init__(self, kind: str, epsilon: float):
        self.kind = kind
        self.epsilon = epsilon

    def act(self, env: Env, rng: random.Random) -> Action:
        if rng.random() >= self.epsilon:
            action = accepted_action(self.kind, env, rng)
            if action is not None:
                return action
        return random_action(self.kind, env, rng)


def accepted_action(kind: str, env: Env, rng: random.Random) -> Action | None:
    """A concrete action the env accepts now, or None when none is found. Candidates come in
    groups, preferred first; the order inside a group is drawn."""
    own = getattr(env, "rollout_candidates", None)
    groups = [own()] if own is not None else _CANDIDATES[kind](env, rng)
    for candidates in groups:
        rng.shuffle(candidates)
        found = next((a for a in candidates if env.accepts(a)), None)
        if found is not None:
            return found
    return None


def random_action(kind: str, env: Env, rng: random.Random) -> Action:
    own = getattr(env, "random_action", None)
    return own(rng) if own is not None else _RANDOM[kind](env, rng)


# ---------------------------------------------------------------------------- reasoning


def _reasoning_candidates(env: Any, rng: random.Random) -> list[list[Action]]:
    family, problem, state = env.family, env.problem, env.states[-1]
    answer = Action("answer", {"answer": family.read_off(problem, state)})
    if env.accepts(answer):
        return [[answer]]
    states, moves = _solution_path(env)
    depth = len(env.states) - 1
    on_path = [Action(family.action, moves[depth])] if depth < len(moves) and states[depth] == state else []
    drawn = [family.random_move(problem, state, rng) for _ in range(_MOVE_TRIES)]
    return [on_path, [Action(family.action, m) for m in drawn if m is not None]]


_PATHS: dict[int, tuple[Any, tuple[list[Any], list[Any]]]] = {}


def _solution_path(env: Any) -> tuple[list[Any], list[Any]]:
    """(states, moves) along the solver's final line: the moves still in force when its search
    ends, and the state before each. Cached per search object (the family caches searches)."""
    found = _PATHS.get(id(env.search))
    if found is not None and found[0] is env.search:
        return found[1]
    moves: list[Any] = []
    for s in env.search.steps:
        if s.kind == "apply":
            moves.append(s.move)
        elif s.kind == "backtrack":
            del moves[s.depth:]
    states = [env.family.start(env.problem)]
    for m in moves:
        states.append(env.family.apply(env.problem, states[-1], m)[0])
    if len(_PATHS) > 512:
        _PATHS.clear()
    _PATHS[id(env.search)] = (env.search, (states, moves))
    return states, moves


def _reasoning_random(env: Any, rng: random.Random) -> Action:
    move = env.family.random_move(env.problem, env.states[-1], rng)
    if move is None:  # no well-formed move left: the only thing left to do is answer
        return Action("answer", {"answer": env.family.read_off(env.problem, env.states[-1])})
    return Action(env.family.action, move)


# ---------------------------------------------------------------------------- gui


def _gui_candidates(env: Any, rng: random.Random) -> list[list[Action]]:
    out = []
    for e in env.accepted_actions():
        name = e["name"]
        if name in ("click", "long_press"):
            out.append(Action(name, {"element": e["element"]}))
        elif name == "type":
            out.append(Action(name, {"text": e["text"], **({"element": e["element"]} if "element" in e else {})}))
        elif name == "select":
            out.append(Action(name, {"element": e["element"], "option": e["option"]}))
        elif name == "scroll":
            amount = e["amount"][0] if isinstance(e.get("amount"), list) else 1
            where = {"element": e["element"]} if "element" in e and not e.get("main") else {}
            out.append(Action(name, {"direction": e["direction"], "amount": max(1, int(amount)), **where}))
        elif name == "press_key":
            out.append(Action(name, {"key": e["key"]}))
        elif name == "answer":
            out.append(Action(name, {"answer": e["answers"][0]}))
        elif name in ("navigate_back", "finish", "wait"):
            out.append(Action(name, {}))
    return [out]


def _gui_random(env: Any, rng: random.Random) -> Action:
    w, h = env.size
    pick = rng.random()
    if pick < 0.6:
        return Action("click", {"x": rng.randrange(w), "y": rng.randrange(h)})
    if pick < 0.75:
        return Action("press_key", {"key": rng.choice(_KEYS)})
    if pick < 0.9:
        return Action("scroll", {"direction": rng.choice(("up", "down")), "amount": rng.randint(1, 3)})
    return Action("navigate_back", {})


# ---------------------------------------------------------------------------- research


def _research_candidates(env: Any, rng: random.Random) -> list[list[Action]]:
    c = env.corpus
    out: list[Action] = []
    progress = [e for e in env.accepted_actions() if e.get("name") in ("search", "open", "find")]
    for e in progress:
        if e["name"] == "search":
            out += [Action("search", {"query": c.title(env._row(d))}) for d in e["retrieves_any"]]
        elif e["name"] == "open":
            out += [Action("open", {"id": d}) for d in e["id_any"]]
        else:
            row = env._row(e["docid"])
            out += [Action("find", {"pattern": c.lines(row)[i].lstrip("* ").strip()}) for i in e["lines_any"]]
    if not progress:  # every piece of evidence gathered: answer
        out += [Action("answer", {"answer": e["answer_any"][0]}) for e in env.accepted_actions()
                if e.get("name") == "answer"]
    return [out]


def _research_random(env: Any, rng: random.Random) -> Action:
    words = [w for w in env.question.split() if len(w) > 3] or ["page"]
    pick = rng.random()
    if pick < 0.5:
        return Action("search", {"query": " ".join(rng.sample(words, min(2, len(words))))})
    if pick < 0.8 and env.browser.results:
        return Action("open", {"id": rng.randint(1, len(env.browser.results))})
    if env.browser.page is not None:
        return Action("find", {"pattern": rng.choice(words)})
    return Action("search", {"query": rng.choice(words)})


_CANDIDATES = {"reasoning": _reasoning_candidates, "gui": _gui_candidates, "research": _research_candidates}
_RANDOM = {"reasoning": _reasoning_random, "gui": _gui_random, "research": _research_random}
