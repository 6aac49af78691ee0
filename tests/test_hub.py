"""`trajforge publish hf` against a Hub-like server on 127.0.0.1 (tests/hub_server.py): one
commit to a work branch, checked, tagged vN, then main; `datasets.load_dataset(REPO,
revision="vN")` through the same endpoint loads the rows; an injected failure between upload
and tag leaves main untouched and says which step failed; --dry-run uploads nothing; the
token is used in headers and appears in no output and no file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub.constants
import pyarrow.compute as pc
import pytest

from catalog.hub import HubPushError, publish_hf
from stores.store import Store
from tests.factories import make_table
from tests.hub_server import Hub
from tests.security.helpers import cli, snapshot
from tests.view_episodes import view_store

TOKEN = "hf_localtesttoken0123456789"
REPO = "lab/trajectories"


@pytest.fixture
def hub(monkeypatch):
    with Hub() as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN, "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1"}  # fmt: skip
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        # huggingface_hub reads these at import: the in-process calls need them set here too
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
        hub.env = env
        yield hub


def load(hub, tmp_path, revision, configs):
    """Rows per config of REPO at ``revision``, loaded by `datasets` in a fresh process."""
    code = (
        "import datasets, json, sys\n"
        "out = {}\n"
        f"for c in {configs!r}:\n"
        f"    d = datasets.load_dataset({REPO!r}, c, revision={revision!r})\n"
        "    out[c] = {s: sorted(d[s]['id'] if 'id' in d[s].column_names else d[s]['trajectory_id'] if 'trajectory_id' in d[s].column_names else d[s]['task_id']) for s in d}\n"
        "    if c == 'sft':\n"
        "        out['sft_image'] = type([x for x in d['train']['images'] if x][0][0]).__name__\n"
        "print(json.dumps(out))\n"
    )  # fmt: skip
    env = {**os.environ, **hub.env, "HF_HOME": str(tmp_path / f"hf-{revision}")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_push_is_branch_check_tag_main_and_loads_by_tag(hub, tmp_path):
    store, ref = view_store()
    done = cli("--store", str(store.root), "publish", "hf", ref, REPO, env=hub.env)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr and f"Bearer {TOKEN}" in hub.tokens
    repo = hub.repos[REPO]
    version = ref.split("@")[1]
    tagged = repo["tags"][version]
    assert repo["branches"][f"trajforge-{version}"] == tagged
    assert hub.files(REPO, "main") == hub.files(REPO, version)  # main holds the checked tree
    card = hub.files(REPO, "main")["README.md"].decode()
    assert "license: other" in card and "config_name: sft" in card and "config_name: prm" in card
    assert "Difficulty mix (rows): d1: " in card and "Scorers: " in card and "Citation" in card
    assert "(report.html)" in card and hub.files(REPO, "main")["report.html"].startswith(b"<!-- trajforge report")
    table = store.read(ref)
    loaded = load(hub, tmp_path, version, ["reasoning", "gui", "research", "sft"])
    for kind in ("reasoning", "gui", "research"):
        of_kind = table.filter(pc.equal(table["kind"], kind))
        assert sorted(i for ids in loaded[kind].values() for i in ids) == sorted(of_kind["id"].to_pylist())
    assert loaded["sft_image"] in ("PngImageFile", "Image")
    written = [Path(d, f).read_bytes() for d, _, fs in os.walk(store.root) for f in fs]
    written += list(hub.files(REPO, "main").values())
    assert not any(TOKEN.encode() in data for data in written)  # not in the store, the card or the data


def test_a_failure_between_upload_and_tag_leaves_main_untouched(hub, tmp_path):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(30, seed=1))
    publish_hf(store, "d@v1", REPO, log=lambda *_: None)
    main_v1 = hub.head(REPO)
    store.publish("d", make_table(20, seed=2), parents=[{"ref": "d@v1", "role": "filter"}])
    hub.fail["tag"] = 0
    with pytest.raises(HubPushError) as e:
        publish_hf(store, "d@v2", REPO, log=lambda *_: None)
    message = str(e.value)
    assert "step 'tag'" in message and "main is untouched" in message and "trajforge-v2" in message
    assert hub.head(REPO) == main_v1 and "v2" not in hub.repos[REPO]["tags"]
    uploaded = hub.head(REPO, "trajforge-v2")
    publish_hf(store, "d@v2", REPO, log=lambda *_: None)  # the retry re-checks the uploaded commit and goes on
    assert hub.repos[REPO]["tags"]["v2"] == uploaded
    v1, v2 = hub.files(REPO, "v1"), hub.files(REPO, "main")
    assert v2 == hub.files(REPO, "v2") and v1 != v2
    assert not set(v1) - {".gitattributes", "README.md", "report.html"} & set(v2)  # v1's data files left main
    loaded = load(hub, tmp_path, "v1", ["reasoning"])
    v1 = store.read("d@v1")
    expected = sorted(v1.filter(pc.equal(v1["kind"], "reasoning"))["id"].to_pylist())
    assert loaded["reasoning"]["train"] == expected  # the old tag still loads its rows


@pytest.mark.parametrize("commits_before_failure, step", [(0, "upload"), (1, "main")])
def test_a_failed_commit_says_which_step_and_main_stays(hub, tmp_path, commits_before_failure, step):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(10, seed=1))
    hub.fail["commit_"] = commits_before_failure  # the upload commit, or main's
    with pytest.raises(HubPushError, match=f"step '{step}'") as e:
        publish_hf(store, "d@v1", REPO, log=lambda *_: None)
    assert set(hub.files(REPO, "main")) == {".gitattributes"}
    assert ("v1" in hub.repos[REPO]["tags"]) == (step == "main")
    assert (step == "main") == ("retry to move main" in str(e.value))


def test_a_branch_that_fails_the_check_is_never_tagged_or_merged(hub, tmp_path):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(10, seed=1))
    hub.tamper.add("README.md")
    with pytest.raises(HubPushError, match="step 'check' failed.*README.md has .* bytes.*main is untouched"):
        publish_hf(store, "d@v1", REPO, log=lambda *_: None)
    assert hub.repos[REPO]["tags"] == {} and set(hub.files(REPO, "main")) == {".gitattributes"}


def test_dry_run_prints_the_plan_and_uploads_nothing(hub, tmp_path):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(10, seed=1))
    before = snapshot(store.root)
    done = cli("--store", str(store.root), "publish", "hf", "d@v1", REPO, "--dry-run", env=hub.env)
    assert done.returncode == 0, done.stderr
    assert "branch 'trajforge-v1'" in done.stdout and "tag 'v1'" in done.stdout and "README.md" in done.stdout
    assert "data/reasoning/train-" in done.stdout and "data/sft/train-" in done.stdout
    assert hub.repos == {} and hub.tokens == set() and snapshot(store.root) == before


def test_no_token_is_a_clear_error(hub, tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    store.publish("d", make_table(5, seed=1))
    done = cli("--store", str(store.root), "publish", "hf", "d@v1", REPO,
               env={**hub.env, "HF_TOKEN": "", "HF_HOME": str(tmp_path / "empty-home")})  # fmt: skip
    assert done.returncode == 1 and "no Hugging Face token" in done.stderr and hub.repos == {}
