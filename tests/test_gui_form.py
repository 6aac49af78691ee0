"""The ``form`` GUI family: determinism, teachers' contracts, the step checker and the verifier."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stores.schema import (
    Action,
    Provenance,
    Trajectory,
    canonical_json,
    from_table,
    to_table,
    validate_table,
)
from synth.episode import run_episode
from synth.generate import ShardSpec, generate_shard
from synth.gui.form import FIELDS, LEVELS, FormEnv, make_task, normalize, verify_submission
from synth.gui.widgets import SCREEN_H, SCREEN_W, hit
from synth.registry import get_family

PROV = Provenance("test", "0", "dev", "cfg", "run-1", datetime(2026, 1, 1, tzinfo=UTC))
MIX = {"expert": 0.5, "noisy": 0.3, "random": 0.2}
ALL = (1, 2, 3, 4, 5)
ROOT = Path(__file__).resolve().parents[1]


def family():
    return get_family("form")


def episode(tier: str, seed: int, difficulty: int):
    f = family()
    task = f.make_task(seed, difficulty, {})
    env = f.make_env(task, {})
    return run_episode(
        "gui", task, env, f.make_teacher(tier, task, random.Random(seed), {}), PROV
    ).trajectory


def rows_without_provenance(table):
    return [{k: v for k, v in row.items() if k != "provenance"} for row in table.to_pylist()]


def replay(traj: Trajectory) -> tuple[FormEnv, list[bool]]:
    """Play the stored actions in a fresh env; check each observation and accepted set on the way."""
    env = family().make_env(traj.task, {})
    accepted = []
    for step in traj.steps:
        assert env.accepted_actions() == step.accepted_actions
        accepted.append(env.accepts(step.action))
        assert env.step(step.action).text == step.observation.text
    return env, accepted


# ---------------------------------------------------------------------------- generation


def test_generation_is_deterministic_and_valid():
    spec = ShardSpec("form", 11, 0, 150, MIX, ALL)
    a, b = generate_shard(spec, PROV), generate_shard(spec, PROV)
    assert rows_without_provenance(a.trajectories) == rows_without_provenance(b.trajectories)
    validate_table(a.trajectories)
    assert a.blobs.num_rows == 0  # text observations only in this version
    assert set(a.trajectories.column("kind").to_pylist()) == {"gui"}
    assert set(a.trajectories["policy"].combine_chunks().field("tier").to_pylist()) == set(MIX)
    other = generate_shard(ShardSpec("form", 12, 0, 150, MIX, ALL), PROV)
    assert a.trajectories.column("id").to_pylist() != other.trajectories.column("id").to_pylist()


def test_generation_is_identical_in_another_process():
    code = (
        "import hashlib, sys; from datetime import UTC, datetime; from stores.schema import Provenance, canonical_json;"
        "from synth.generate import ShardSpec, generate_shard;"
        "p = Provenance('test', '0', 'dev', 'cfg', 'run-1', datetime(2026, 1, 1, tzinfo=UTC));"
        "t = generate_shard(ShardSpec('form', 5, 0, 40, {'expert': 0.5, 'noisy': 0.3, 'random': 0.2}, (1, 2, 3, 4, 5)), p).trajectories;"
        "rows = [{k: v for k, v in r.items() if k != 'provenance'} for r in t.to_pylist()];"
        "print(hashlib.sha256(canonical_json(rows).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={"PYTHONHASHSEED": salt, "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for salt in ("1", "2")
    }  # fmt: skip
    rows = rows_without_provenance(
        generate_shard(ShardSpec("form", 5, 0, 40, MIX, ALL), PROV).trajectories
    )
    assert digests == {hashlib.sha256(canonical_json(rows).encode()).hexdigest()}


def test_teachers_rebuilt_from_a_stored_task_repeat_the_episode():
    """A task read back from JSON (keys sorted) drives the same episode as the fresh one."""
    for seed in range(40):
        fresh = episode(("expert", "noisy", "random")[seed % 3], seed, 1 + seed % 5)
        stored = Trajectory.from_row(json.loads(json.dumps(fresh.to_row(), default=str)))
        teacher = family().make_teacher(fresh.policy.tier, stored.task, random.Random(seed), {})
        again = run_episode("gui", stored.task, FormEnv(stored.task), teacher, PROV).trajectory
        assert again.steps == fresh.steps and again.outcome == fresh.outcome


def test_rows_round_trip():
    table = generate_shard(ShardSpec("form", 3, 0, 30, MIX, ALL), PROV).trajectories
    trajectories = from_table(table)
    for t in trajectories:
        assert Trajectory.from_row(t.to_row()) == t
    assert to_table(trajectories).equals(table)


# ---------------------------------------------------------------------------- tasks and layout


def test_task_is_a_function_of_seed_and_difficulty():
    a, b = make_task(42, 3), make_task(42, 3)
    assert a == b
    assert a.id.startswith("form-") and len(a.id) == len("form-") + 16
    assert make_task(43, 3).id != a.id
    assert make_task(42, 4).id != a.id
    with pytest.raises(ValueError, match="difficulty"):
        make_task(1, 6)
    with pytest.raises(ValueError, match="takes no params"):
        family().make_task(1, 1, {"size": 3})
    with pytest.raises(ValueError, match="no 'llm' teacher"):
        family().make_teacher("llm", a, random.Random(0), {})


@pytest.mark.parametrize("difficulty", ALL)
def test_difficulty_sets_fields_and_distractors(difficulty):
    wanted, stray, buttons = LEVELS[difficulty]
    assert len(wanted) == difficulty + 1
    for seed in range(30):
        task = make_task(seed, difficulty)
        target = task.reference["target"]
        assert sorted(target) == sorted([*wanted, *stray])
        assert all(target[k] == "" for k in stray)
        keys = [w["key"] for w in task.env["widgets"]]
        assert sorted(k for k in keys if k in BUTTON_KEYS) == sorted(["submit", *buttons])
        named = [target[k] for k in wanted if k != "newsletter"]
        assert all(v in task.instruction for v in named)
        if "newsletter" in target:
            assert "newsletter" in task.instruction


BUTTON_KEYS = ("submit", "cancel", "reset")


def test_layout_is_on_screen_without_overlap_and_varies():
    orders, labels, origins = set(), set(), set()
    for seed in range(200):
        task = make_task(seed, 5)
        env = FormEnv(task)
        boxes = [w.bbox for w in env.widgets]
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= SCREEN_W and 0 <= y0 < y1 <= SCREEN_H
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (seed, a, b)
        assert [w.id for w in env.widgets] == list(range(1, len(env.widgets) + 1))
        orders.add(tuple(w.key for w in env.inputs))
        labels.add(next(w.label for w in env.widgets if w.key == "name"))
        origins.add(env.widgets[1].bbox[:2])
    assert len(orders) > 100 and labels == set(FIELDS["name"].labels) and len(origins) > 150


def test_observation_is_an_accessibility_tree():
    task = make_task(7, 3)
    env = FormEnv(task)
    lines = env.observe().splitlines()
    assert len(lines) == len(env.widgets)
    email = next(w for w in env.widgets if w.key == "email")
    x0, y0, x1, y1 = email.bbox
    assert (
        lines[email.id - 1]
        == f'[{email.id}] textbox "{email.label}" value="" bbox=({x0},{y0},{x1},{y1})'
    )
    text = env.step(Action("click", {"x": x0 + 5, "y": y0 + 5})).text.splitlines()
    assert (
        text[0] == f'clicked ({x0 + 5},{y0 + 5}) on [{email.id}] textbox "{email.label}": focused'
    )
    assert (
        text[email.id].endswith(" focused")
        and sum(line.endswith(" focused") for line in text[1:]) == 1
    )
    country = next(w for w in env.widgets if w.key == "country")
    assert f"options={json.dumps(list(country.options), separators=(',', ':'))}" in text[country.id]


# ---------------------------------------------------------------------------- teachers


@pytest.mark.parametrize("difficulty", ALL)
def test_expert_always_succeeds_with_every_step_accepted(difficulty):
    for seed in range(200):
        traj = episode("expert", seed, difficulty)
        assert traj.outcome.success, traj.outcome.detail
        assert traj.outcome.verifier == "form-state"
        assert traj.first_error_step == -1
        assert traj.steps[-1].reward == 1.0 and all(s.reward == 0.0 for s in traj.steps[:-1])
        assert traj.policy.tier == "expert" and traj.policy.name == "form-expert"
        if seed < 20:
            env, accepted = replay(traj)
            assert all(accepted) and env.ended_by == "submit"


def test_expert_clicks_vary_inside_boxes_and_fill_order_varies():
    task = make_task(9, 4)
    points, orders = set(), set()
    for s in range(50):
        traj = run_episode(
            "gui",
            task,
            FormEnv(task),
            family().make_teacher("expert", task, random.Random(s), {}),
            PROV,
        ).trajectory
        points.add(tuple(traj.steps[-1].action.arguments.values()))
        orders.add(tuple(step.action.name for step in traj.steps))
    assert len(points) > 40 and len(orders) > 5


def test_expert_thoughts_are_grounded():
    traj = episode("expert", 21, 5)
    target = traj.task.reference["target"]
    assert traj.steps[0].thought.startswith("The instruction needs:")
    env = FormEnv(traj.task)
    for step in traj.steps:
        if step.action.name == "click":
            w = hit(env.widgets, step.action.arguments["x"], step.action.arguments["y"])
            assert w.describe() in step.thought
            assert f"({step.action.arguments['x']}, {step.action.arguments['y']})" in step.thought
        elif step.action.name == "type":
            assert json.dumps(step.action.arguments["text"]) in step.thought
        env.step(step.action)
    assert all(
        json.dumps(target[k]) in traj.steps[0].thought
        for k in ("name", "email", "phone", "company")
    )


def mistake_kind(env: FormEnv, action: Action) -> str:
    if action.name in ("type", "select"):
        return f"wrong_{action.name}"
    w = hit(env.widgets, action.arguments["x"], action.arguments["y"])
    return w.key


@pytest.mark.parametrize("difficulty", ALL)
def test_noisy_fails_at_a_rejected_step_and_never_recovers(difficulty):
    kinds = set()
    for seed in range(200):
        traj = episode("noisy", seed, difficulty)
        assert not traj.outcome.success
        fes = traj.first_error_step
        assert isinstance(fes, int) and 0 <= fes < len(traj.steps)
        env = family().make_env(traj.task, {})
        for step in traj.steps[:fes]:
            assert env.accepts(step.action)
            env.step(step.action)
        assert not env.accepts(traj.steps[fes].action)
        kinds.add(mistake_kind(env, traj.steps[fes].action))
        assert all(s.reward == 0.0 for s in traj.steps)
        assert traj.policy.tier == "noisy"
    expected = {1: {"wrong_type", "submit"}, 2: {"wrong_type", "wrong_select", "submit", "cancel"}}
    expected[3] = expected[2] | {"coupon", "newsletter"}
    expected[4] = expected[3] | {"reset"}
    expected[5] = expected[4] | {"referrer"}
    assert kinds == expected[difficulty]


def test_random_is_valid_format_bounded_and_usually_fails():
    wins = 0
    for seed in range(200):
        traj = episode("random", seed, 1 + seed % 5)
        assert len(traj.steps) <= 13
        for step in traj.steps:
            assert step.action.name in ("click", "type", "select", "finish")
            assert not step.observation.text.startswith(
                ("click ignored", "type ignored", "unknown")
            )
        wins += traj.outcome.success
    assert wins <= 2


# ---------------------------------------------------------------------------- step checker


def test_any_point_inside_a_target_box_is_accepted_and_outside_is_not():
    rng = random.Random(0)
    for seed in range(20):
        env = FormEnv(make_task(seed, 5))
        clicks = [e for e in env.accepted_actions() if e["name"] == "click"]
        assert {e["element"] for e in clicks} == {
            w.id for w in env.inputs if w.role in ("textbox", "checkbox")
        } - {w.id for w in env.inputs if env.satisfied(w)}
        for entry in clicks:
            x0, y0, x1, y1 = entry["box"]
            inside = [(x0, y0), (x1 - 1, y0), (x0, y1 - 1), (x1 - 1, y1 - 1)]
            inside += [(rng.randrange(x0, x1), rng.randrange(y0, y1)) for _ in range(100)]
            outside = [(x0 - 1, y0), (x1, y0), (x0, y0 - 1), (x0, y1), (x1, y1), (x0 - 1, y1 - 1)]
            assert all(env.accepts(Action("click", {"x": x, "y": y})) for x, y in inside)
            assert not any(env.accepts(Action("click", {"x": x, "y": y})) for x, y in outside)
        for w in env.widgets:
            if w.key in ("submit", "cancel", "reset", "coupon", "referrer", "heading"):
                assert not env.accepts(Action("click", {"x": w.bbox[0], "y": w.bbox[1]}))
        assert not env.accepts(
            Action("click", {"x": float(clicks[0]["box"][0]), "y": clicks[0]["box"][1]})
        )
        assert not env.accepts(Action("click", {"x": True, "y": True}))


def test_accepted_set_follows_the_state():
    task = make_task(4, 3)
    env = FormEnv(task)
    target = task.reference["target"]
    by_key = {w.key: w for w in env.widgets}
    name, email, country = by_key["name"], by_key["email"], by_key["country"]
    assert {
        "name": "select",
        "element": country.id,
        "option": target["country"],
    } in env.accepted_actions()
    assert not env.accepts(Action("type", {"text": target["name"]}))  # nothing focused yet
    env.step(Action("click", {"x": name.bbox[0] + 1, "y": name.bbox[1] + 1}))
    assert {"name": "type", "element": name.id, "text": target["name"]} in env.accepted_actions()
    assert not env.accepts(
        Action("click", {"x": name.bbox[0] + 1, "y": name.bbox[1] + 1})
    )  # already focused
    assert env.accepts(Action("type", {"text": "  " + target["name"].replace(" ", "   ") + " "}))
    assert not env.accepts(
        Action("type", {"text": target["name"].lower()})
    )  # names keep their case
    assert not env.accepts(Action("type", {"text": target["email"]}))  # right value, wrong field
    env.step(Action("type", {"text": target["name"]}))
    env.step(Action("click", {"x": email.bbox[0] + 1, "y": email.bbox[1] + 1}))
    assert env.accepts(Action("type", {"text": target["email"].upper()}))  # emails ignore case
    assert all(
        e["element"] != by_key["submit"].id for e in env.accepted_actions()
    )  # country, newsletter left


def test_a_valid_alternative_run_succeeds():
    """Reverse order, off-centre corner clicks and harmless value variants: still a success."""
    task = make_task(8, 5)
    env = FormEnv(task)
    target = task.reference["target"]
    actions = []
    for w in reversed(env.inputs):
        want = target[w.key]
        if w.role == "textbox" and want:
            actions += [
                Action("click", {"x": w.bbox[2] - 1, "y": w.bbox[3] - 1}),
                Action("type", {"text": f" {want.upper() if w.key == 'email' else want} "}),
            ]
        elif w.role == "combobox":
            actions.append(Action("select", {"element": w.id, "option": want}))
        elif w.role == "checkbox" and want:
            actions.append(Action("click", {"x": w.bbox[0], "y": w.bbox[1]}))
    submit = next(w for w in env.widgets if w.key == "submit")
    actions.append(Action("click", {"x": submit.bbox[0], "y": submit.bbox[3] - 1}))
    for action in actions:
        assert env.accepts(action), action
        result = env.step(action)
    assert result.done and result.reward == 1.0
    assert env.outcome(None).success


# ---------------------------------------------------------------------------- verifier and dynamics


def test_verifier_accepts_variants_and_names_what_differs():
    target = {
        "name": "Alice Moreau",
        "email": "alice.moreau@example.org",
        "phone": "+351 912 345 6789",
        "newsletter": True,
        "coupon": "",
    }
    variant = {
        "name": " Alice  Moreau ",
        "email": "Alice.Moreau@Example.org",
        "phone": "+351-912-345-6789",
        "newsletter": True,
        "coupon": " ",
    }
    ok = verify_submission(target, variant)
    assert ok.success and ok.verifier == "form-state"
    wrong = verify_submission(
        target, {**variant, "email": "alice@example.org", "newsletter": False, "coupon": "SAVE10"}
    )
    assert not wrong.success
    assert wrong.detail == (
        'submitted state differs in coupon: got "SAVE10", want ""; '
        'email: got "alice@example.org", want "alice.moreau@example.org"; newsletter: got false, want true'
    )
    assert "name" not in wrong.detail.split("differs in ")[1].split(";")[0]
    missing = verify_submission(target, {k: v for k, v in variant.items() if k != "phone"})
    assert missing.detail == 'submitted state differs in phone: got null, want "+351 912 345 6789"'
    assert verify_submission(target, {**variant, "newsletter": 1}).detail.endswith(
        "newsletter: got 1, want true"
    )
    assert (
        verify_submission(target, None, "the form was cancelled").detail
        == "form not submitted: the form was cancelled"
    )
    assert normalize("phone", "351 912") != normalize("phone", "+351 912")


def test_dynamics_and_messages():
    task = make_task(2, 5)
    env = FormEnv(task)
    by_key = {w.key: w for w in env.widgets}
    text = env.step(Action("click", {"x": SCREEN_W - 1, "y": SCREEN_H - 1})).text
    assert text.splitlines()[0] == f"clicked ({SCREEN_W - 1},{SCREEN_H - 1}): nothing there"
    assert text.splitlines()[1:] == env.observe().splitlines()
    assert env.step(Action("type", {"text": "x"})).text.startswith(
        'typed "x": no text field is focused'
    )
    country = by_key["country"]
    assert env.step(
        Action("select", {"element": country.id, "option": "Atlantis"})
    ).text.startswith("select ignored")
    assert env.step(
        Action("select", {"element": by_key["name"].id, "option": country.options[0]})
    ).text.startswith("select ignored")
    assert env.step(Action("scroll", {})).text.startswith("unknown action 'scroll'")
    assert env.step(Action("click", {"x": "1", "y": 2})).text.startswith("click ignored")
    env.step(Action("select", {"element": country.id, "option": country.options[0]}))
    box = by_key["newsletter"].bbox
    assert (
        env.step(Action("click", {"x": box[0], "y": box[1]}))
        .text.split("\n")[0]
        .endswith("now checked")
    )
    assert env.state()["country"] == country.options[0] and env.state()["newsletter"] is True
    reset = by_key["reset"].bbox
    assert (
        env.step(Action("click", {"x": reset[0], "y": reset[1]}))
        .text.split("\n")[0]
        .endswith("form cleared")
    )
    assert env.state() == {w.key: (False if w.role == "checkbox" else "") for w in env.inputs}
    assert not env.done
    cancel = by_key["cancel"].bbox
    result = env.step(Action("click", {"x": cancel[0], "y": cancel[1]}))
    assert result.done and result.reward == 0.0 and env.accepted_actions() == []
    assert env.outcome(None).detail == "form not submitted: the form was cancelled"
    with pytest.raises(RuntimeError, match="ended"):
        env.step(Action("finish", {}))
    finished = FormEnv(task)
    assert finished.step(Action("finish", {})).done
    assert (
        not finished.outcome(None).success
        and "without clicking submit" in finished.outcome(None).detail
    )


def test_replaying_stored_expert_trajectories_reproduces_them():
    table = generate_shard(ShardSpec("form", 21, 0, 60, {"expert": 1.0}, ALL), PROV).trajectories
    for traj in from_table(table):
        env, accepted = replay(traj)
        assert all(accepted)
        assert env.outcome(traj.final_answer) == traj.outcome
