"""Class 5: names are whole-string checked, and whatever can be checked before work starts is
checked at config load or before the first task, with one paragraph naming the file or ref."""

from __future__ import annotations

import time

import pytest
import yaml

from flows.cli import main
from flows.config import ConfigError, load_config
from stores.names import InvalidNameError, Ref
from tests.factories import make_table
from tests.security.helpers import cli, published_store, read_only_mount, snapshot


@pytest.fixture
def store(tmp_path):
    return published_store(tmp_path / "store")


def config_file(tmp_path, **overrides):
    config = {"dataset": "demo", "seed": 1, "workers": 1,
              "synth": {"reasoning": [{"family": "nqueens", "count": 4, "difficulties": [1]}]},
              "corrupt": {"fraction": 0.0}}
    config.update(overrides)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("name", ["nl\n", "demo\n", "a\nb", "x\r", "tab\t", " lead", "trail "])
def test_names_and_tags_are_checked_as_whole_strings(store, name):
    before = snapshot(store.root)
    with pytest.raises(InvalidNameError):
        store.publish(name, make_table(3))
    with pytest.raises(InvalidNameError):
        store.tag("demo@v1", name)
    with pytest.raises(InvalidNameError):
        Ref.parse(f"demo@{name}")
    assert snapshot(store.root) == before


@pytest.mark.parametrize("tag", ["latest\n", "stable\n", "v1\n"])
def test_reserved_tags_with_a_newline_are_refused(store, tag):
    before = snapshot(store.root)
    with pytest.raises(InvalidNameError):
        store.tag("demo@v1", tag)
    assert snapshot(store.root) == before


def test_a_ref_with_a_newline_is_one_paragraph(store):
    run = cli("--store", str(store.root), "datasets", "show", "demo@v1\n")
    assert run.returncode == 1
    assert run.stderr.startswith("error: invalid dataset reference 'demo@v1\\n'")
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"dataset": "nl\n"}, "invalid dataset name 'nl\\\\n'"),
    ({"seed": 2**70}, "seed: Input should be less than or equal to 9223372036854775807"),
    ({"seed": -1}, "seed: Input should be greater than or equal to 0"),
    ({"retrieve": {"prior": "../x"}}, "retrieve.prior"),
    ({"retrieve": {"prior": "a@b@c"}}, "retrieve.prior"),
    ({"publish": {"tags": ["stable\n"]}}, "publish.tags"),
    ({"publish": {"shard_bytes": 2**70}}, "publish.shard_bytes"),
])
def test_bad_values_fail_at_load(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(config_file(tmp_path, **overrides))


@pytest.mark.parametrize(("prior", "message"), [
    ("nosuch@v1", "retrieve.prior 'nosuch@v1': dataset 'nosuch' does not exist"),
    ("demo@v9", "retrieve.prior 'demo@v9': demo@v9 does not exist"),
    ("nosuchtag", "retrieve.prior 'nosuchtag': demo@nosuchtag does not exist"),
])
def test_a_missing_prior_fails_before_any_work(store, tmp_path, capsys, prior, message):
    before = snapshot(store.root)
    started = time.monotonic()
    code = main(["--store", str(store.root), "run", str(config_file(tmp_path, retrieve={"prior": prior}))])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert time.monotonic() - started < 10  # no Prefect server, no synthesis
    assert snapshot(store.root) == before


def test_a_missing_api_key_fails_before_any_work(store, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    path = config_file(tmp_path, synth={"reasoning": [{"family": "nqueens", "count": 2, "tiers": {"llm": 1.0}}]},
                       llm={"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "NO_SUCH_KEY_VAR"})
    before = snapshot(store.root)
    assert main(["--store", str(store.root), "run", str(path)]) == 1
    assert "NO_SUCH_KEY_VAR" in capsys.readouterr().err
    assert snapshot(store.root) == before


def test_an_llm_cache_inside_a_version_is_refused(store, tmp_path, capsys):
    cache = store.resolve("demo@v1").path / "data" / "llm.sqlite"
    path = config_file(tmp_path, synth={"reasoning": [{"family": "nqueens", "count": 2, "tiers": {"llm": 1.0}}]},
                       llm={"base_url": "http://127.0.0.1:9/v1", "model": "m", "cache": str(cache)})
    before = snapshot(store.root)
    assert main(["--store", str(store.root), "run", str(path)]) == 1
    assert "outside its _cache/ folder" in capsys.readouterr().err
    assert snapshot(store.root) == before


def test_a_read_only_store_fails_before_any_work(store, tmp_path):
    config = config_file(tmp_path, retrieve={"enabled": False})
    with read_only_mount(store.root, tmp_path / "ro") as mount:
        started = time.monotonic()
        run = cli("--store", str(mount), "run", str(config))
        assert run.returncode == 1 and "does not take writes" in run.stderr and "Traceback" not in run.stderr
        assert time.monotonic() - started < 15


@pytest.mark.parametrize(("content", "message"), [
    (b"dataset: a\ndataset: b\nsynth: {}\n", r"key 'dataset' is given twice \(lines 1 and 2\)"),
    (b"dataset: a\nsynth:\n  reasoning: []\n  reasoning: []\n", "key 'reasoning' is given twice"),
    (b"\xff\xfe\x00binary", "is not a UTF-8 text file"),
    (b"- just\n- a list\n", "must hold a YAML mapping"),
    (b"dataset: [unclosed\n", "is not valid YAML at line"),
])
def test_config_files_that_cannot_be_read_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_a_directory_or_missing_file_as_config(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "nope.yaml")]) == 1
    assert "does not exist" in capsys.readouterr().err
