"""Publish a version (its HF export and trainer views) to the Hugging Face Hub, atomically for
readers of ``main``.

Steps, each named in the error if it fails:

1. ``export``: the HF folder (canonical configs per kind, blobs as images, one config per
   view) is built in a temporary folder; its row counts are checked against the manifest;
2. ``upload``: one ``create_commit`` on a work branch (``trajforge-vN`` unless given) with every
   file (LFS files are uploaded before the commit is created, so the commit is all or
   nothing) and deletions of files an earlier push left that this version lacks;
3. ``check``: the branch commit's tree is listed and must hold exactly the planned files, with
   the planned sizes and sha256 (LFS) or git blob ids (small files);
4. ``tag``: the checked commit is tagged ``vN`` (the version id); a tag that exists must name a
   commit with the same tree (a re-push), never another;
5. ``main``: ``main`` gets one commit with the same operations, guarded by ``parent_commit``
   (the head read before step 2, so a concurrent push fails instead of being overwritten); the
   Hub has no force-move of a branch, and since every LFS object is already there this commit
   only records oids. Its tree is checked against the tagged one.

A failure before step 5 leaves ``main`` as it was; the message says which step failed and
where the uploaded commit is. The token comes from ``HF_TOKEN`` or the Hugging Face login
cache (``huggingface_hub.get_token``); it is passed in request headers only, never written to
the store, the card or a log line (errors are scrubbed of it).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from catalog.hf_export import content_fingerprint, dataset_card, with_features, write_configs
from catalog.report import counts, render
from catalog.view_export import build_view, view_splits
from catalog.views import image_columns
from stores.names import Ref
from stores.store import Store, StoreError, VersionInfo

DEFAULT_VIEWS = ("sft", "preference", "prm", "rl-prompts")
KEEP = (".gitattributes",)  # repo files a push never deletes


class HubPushError(StoreError):
    """A push step failed; the message names the step and the state it left."""


@dataclass(frozen=True)
class PlannedFile:
    path: str  # in the repo
    local: Path
    size: int
    sha256: str
    git_oid: str  # git blob id, what the Hub reports for non-LFS files
    rows: int | None


@dataclass(frozen=True)
class Plan:
    ref: str
    repo_id: str
    branch: str
    tag: str
    files: tuple[PlannedFile, ...]
    configs: dict[str, dict[str, int]]

    def describe(self) -> str:
        lines = [f"push {self.ref} to dataset repo {self.repo_id}: commit to branch {self.branch!r}, check, "
                 f"tag {self.tag!r}, then move main"]  # fmt: skip
        for f in self.files:
            rows = f" {f.rows} rows" if f.rows is not None else ""
            lines.append(f"  {f.path}  {f.size:,} bytes{rows}  sha256 {f.sha256[:12]}")
        lines.append(f"  {len(self.files)} files, {sum(f.size for f in self.files):,} bytes")
        return "\n".join(lines)


def build_folder(store: Store, info: VersionInfo, root: Path, views: tuple[str, ...], license: str) -> dict[str, dict[str, int]]:
    """Write the repo's files under ``root``; returns config -> split -> rows, checked against
    the version's manifest (the kinds' rows add up to its trajectories, blobs to its blobs)."""
    configs = write_configs(store, info, root)
    fp = content_fingerprint(info)
    kinds = set(store.read(info, ["kind"])["kind"].to_pylist())
    for view in views:
        if view == "gui-steps" and "gui" not in kinds:
            continue
        table = build_view(store, info, view)
        table = table.cast(with_features(table.schema, image_columns(table.schema)))
        for split, part in view_splits(table).items():
            path = root / "data" / view / f"{split}-{fp}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path, compression="zstd", row_group_size=256)
            configs.setdefault(view, {})[split] = part.num_rows
    tables = info.manifest["tables"]
    stored = sum(n for name, splits in configs.items() if name in kinds for n in splits.values())
    if stored != tables["trajectories"]["rows"] or configs.get("blobs", {}).get("train", 0) != tables.get("blobs", {}).get("rows", 0):
        raise HubPushError(f"step 'export' failed: the export of {info.ref} holds {stored} trajectories but the "
                           f"manifest records {tables['trajectories']['rows']}; nothing was uploaded")  # fmt: skip
    (root / "report.html").write_text(render(store, info))  # the card links to it
    (root / "README.md").write_text(hub_card(store, info, configs, license))
    return configs


def hub_card(store: Store, info: VersionInfo, configs: dict[str, dict[str, int]], license: str) -> str:
    """The export's card, plus what a Hub page needs: license, generation, lineage, citation."""
    card = dataset_card(info, configs)
    card = card.replace("\ntags:", f"\nlicense: {license}\ntags:", 1)
    stats = info.manifest["stats"]["content"]
    families = ", ".join(f"{f} ({s['rows']})" for f, s in sorted(stats.get("by_family", {}).items()))
    parents = "\n".join(f"- `{p['dataset']}@{p['version']}` ({p['role']})"
                        + (f": Hub revision `{p['version']}` of this repo when pushed" if p["dataset"] == info.name else "")
                        for p in info.manifest["parents"]) or "- none"  # fmt: skip
    found = counts(store, info)
    mix = " | ".join(f"d{k}: {n}" for k, n in found["difficulty"].items())
    selection = info.manifest["params"].get("selection") or "none recorded (every generated, deduplicated episode)"
    return card + f"""
The [dataset report](report.html) (one self-contained HTML page: counts, score and step
distributions, first-error positions, lineage, sample episodes) describes this revision.

## Generation

Families (rows): {families or 'n/a'}. Difficulty mix (rows): {mix}. Splits: {found['split']}.
Scorers: {', '.join(sorted(stats.get('scores', {}))) or 'none'}. Selection: {selection}.
Features are declared in each Parquet file's metadata (images as the `datasets` Image feature).
Views (`sft`, `preference`, `prm`, `rl-prompts`, `gui-steps`) are derived from the canonical rows by
trajforge's `catalog/views.py`; each config above is loadable with `load_dataset(REPO, CONFIG)`.
This revision is tagged `{info.version}`, the trajforge version id.

## Lineage on the Hub

{parents}

## Citation

```bibtex
@software{{trajforge,
  title = {{trajforge: versioned synthetic agent trajectory data}},
  note = {{dataset {info.ref}, code version {info.manifest['code_version']}}}
}}
```
"""


def plan_push(store: Store, ref: str | Ref, repo_id: str, root: Path, branch: str | None = None,
              views: tuple[str, ...] = DEFAULT_VIEWS, license: str = "other") -> Plan:  # fmt: skip
    info = store.resolve(ref)
    if info.kind != "trajectories":
        raise HubPushError(f"{info.ref} is a {info.kind} version; publish hf pushes trajectory versions")
    configs = build_folder(store, info, root, views, license)
    files = []
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        data = p.read_bytes()
        rows = pq.ParquetFile(p).metadata.num_rows if p.suffix == ".parquet" else None
        files.append(PlannedFile(p.relative_to(root).as_posix(), p, len(data), hashlib.sha256(data).hexdigest(),
                                 hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), rows))  # fmt: skip
    return Plan(info.ref, repo_id, branch or f"trajforge-{info.version}", info.version, tuple(files), configs)


def publish_hf(store: Store, ref: str | Ref, repo_id: str, *, branch: str | None = None,
               views: tuple[str, ...] = DEFAULT_VIEWS, dry_run: bool = False, endpoint: str | None = None,
               license: str = "other", private: bool = False, log: Any = print) -> Plan:  # fmt: skip
    """Push ``ref`` to ``repo_id`` as described in the module docstring; returns the plan."""
    from huggingface_hub import HfApi, get_token

    work = Path(tempfile.mkdtemp(prefix="trajforge-hub-"))
    try:
        plan = plan_push(store, ref, repo_id, work / "repo", branch, views, license)
        if dry_run:
            log(plan.describe())
            return plan
        token = get_token()
        if not token:
            raise HubPushError("no Hugging Face token: set HF_TOKEN or run `hf auth login`; nothing was uploaded")
        api = HfApi(endpoint=endpoint, token=token)
        _Push(api, plan, private, token, log).run()
        return plan
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Push:
    def __init__(self, api: Any, plan: Plan, private: bool, token: str, log: Any):
        self.api, self.plan, self.private, self.token, self.log = api, plan, private, token, log

    def step(self, name: str, fn: Any, after: str) -> Any:
        try:
            return fn()
        except HubPushError as e:  # a check of ours: its message names the step already
            raise HubPushError(f"{e}. {after}") from None
        except Exception as e:  # any Hub or network error: say which step and what it left
            message = str(e).replace(self.token, "***")
            raise HubPushError(f"step {name!r} of pushing {self.plan.ref} to {self.plan.repo_id} failed: "
                               f"{type(e).__name__}: {message}. {after}") from None  # fmt: skip

    def run(self) -> None:
        api, plan = self.api, self.plan
        untouched = "main is untouched."
        self.step("repo", lambda: api.create_repo(plan.repo_id, repo_type="dataset", private=self.private, exist_ok=True),
                  untouched)  # fmt: skip
        main_head = self.step("repo", lambda: _head(api, plan.repo_id, "main"), untouched)
        self.step("branch", lambda: api.create_branch(plan.repo_id, repo_type="dataset", branch=plan.branch,
                                                      revision=main_head, exist_ok=True), untouched)  # fmt: skip
        commit = self.step("upload", lambda: self.commit(plan.branch, None), untouched)
        self.log(f"uploaded {len(plan.files)} files to branch {plan.branch} (commit {commit[:12]})")
        left = f"{untouched} The uploaded commit {commit} stays on branch {plan.branch!r}."
        self.step("check", lambda: self.check(commit), left)
        self.step("tag", lambda: self.tag(commit), left)
        self.log(f"checked and tagged {plan.tag} -> {commit[:12]}")
        moved = self.step("main", lambda: self.commit("main", main_head),
                          f"{left} Tag {plan.tag!r} names it; retry to move main.")  # fmt: skip
        self.step("main", lambda: self.check(moved), f"main now holds commit {moved}, whose tree differs from the "
                  f"tagged one: inspect the repo; tag {plan.tag!r} names the checked commit")  # fmt: skip
        self.log(f"main -> {moved[:12]}: {plan.repo_id} revision {plan.tag} published")

    def commit(self, revision: str, parent: str | None) -> str:
        """One commit on ``revision`` making its tree the plan's files (plus kept repo files)."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        plan = self.plan
        have = {f.path for f in _tree(self.api, plan.repo_id, revision)}
        ops: list[Any] = [CommitOperationAdd(f.path, str(f.local)) for f in plan.files]
        ops += [CommitOperationDelete(p) for p in sorted(have - {f.path for f in plan.files} - set(KEEP))]
        info = self.api.create_commit(plan.repo_id, ops, repo_type="dataset", revision=revision,
                                      commit_message=f"trajforge {plan.ref}", parent_commit=parent)  # fmt: skip
        return info.oid

    def check(self, commit: str) -> None:
        found = {f.path: f for f in _tree(self.api, self.plan.repo_id, commit)}
        problems = []
        for f in self.plan.files:
            got = found.pop(f.path, None)
            if got is None:
                problems.append(f"{f.path} is missing")
            elif got.size != f.size:
                problems.append(f"{f.path} has {got.size} bytes, planned {f.size}")
            elif (got.lfs.sha256 if got.lfs is not None else got.blob_id) != (f.sha256 if got.lfs is not None else f.git_oid):
                problems.append(f"{f.path} has other content than planned")
        problems += [f"{p} is not in the plan" for p in sorted(set(found) - set(KEEP))]
        if problems:
            raise HubPushError(f"step 'check' failed on commit {commit}: " + "; ".join(problems))

    def tag(self, commit: str) -> None:
        refs = self.api.list_repo_refs(self.plan.repo_id, repo_type="dataset")
        existing = {t.name: t.target_commit for t in refs.tags}
        if self.plan.tag not in existing:
            self.api.create_tag(self.plan.repo_id, repo_type="dataset", tag=self.plan.tag, revision=commit,
                                tag_message=f"trajforge {self.plan.ref}")  # fmt: skip
            return
        self.check(existing[self.plan.tag])  # a re-push of the same version: same tree, or refuse
        self.log(f"tag {self.plan.tag} already names commit {existing[self.plan.tag][:12]} with the same files")


def _head(api: Any, repo_id: str, branch: str) -> str | None:
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    return next((b.target_commit for b in refs.branches if b.name == branch), None)


def _tree(api: Any, repo_id: str, revision: str) -> list[Any]:
    from huggingface_hub.hf_api import RepoFile

    return [f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True)
            if isinstance(f, RepoFile)]  # fmt: skip
