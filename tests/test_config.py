import pytest

from flows.config import ConfigError, load_config

GOOD = """
dataset: t
seed: 1
synth:
  reasoning:
    - family: maze
      count: 10
"""


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_demo_config_is_valid():
    config = load_config("configs/demo.yaml")
    assert {kind for kind, _ in config.families()} == {"reasoning", "gui", "research"}
    per_kind: dict[str, int] = {}
    for kind, spec in config.families():
        per_kind[kind] = per_kind.get(kind, 0) + spec.count
    assert per_kind == {"reasoning": 1000, "gui": 1000, "research": 1000}  # what the README promises


def test_config_hash_is_stable(tmp_path):
    assert load_config(write(tmp_path, GOOD)).config_hash() == load_config(write(tmp_path, GOOD)).config_hash()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dataset: t\nsynth: [unclosed", r"not valid YAML at line 2"),
        ("- a\n- b", "must hold a YAML mapping"),
        (GOOD + "shard_sise: 10\n", r"shard_sise: unknown key"),
        (GOOD.replace("count: 10", "count: 10\n      tiers: {expert: 1}\n      colour: red"), r"synth.reasoning.0.colour: unknown key"),
        (GOOD + "  audio:\n    - family: maze\n      count: 1\n", r"unknown kind\(s\) \['audio'\]"),
        (GOOD.replace("maze", "chess"), r"unknown family 'chess'"),
        (GOOD.replace("reasoning:", "gui:"), r"family 'maze' makes reasoning trajectories"),
        (GOOD.replace("dataset: t", "dataset: ../x"), r"invalid dataset name"),
        (GOOD.replace("count: 10", "count: 10\n      difficulties: [0, 9]"), r"difficulty levels are 1..5"),
        (GOOD.replace("count: 10", "count: 10\n      tiers: {wizard: 1}"), r"unknown tier"),
    ],
)
def test_bad_configs_get_clear_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
