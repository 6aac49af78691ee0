"""A small Hugging Face Hub on 127.0.0.1 for the push tests: the part of the Hub HTTP API that
``huggingface_hub`` 2.4 uses to create a repo, branch, commit (preupload, LFS batch + basic
PUT, NDJSON commit), list trees and refs, tag, and that ``datasets`` uses to load a revision
(repo info, paths-info, tree, resolve with ranges). Commits are immutable snapshots; refs
move only by commit. ``fail[endpoint] = n`` lets ``n`` calls of an endpoint through, then
answers the next with a 500, to inject a failure between two steps of a push; ``tamper``
makes listings misreport files; ``tokens`` records the Authorization headers it saw.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

LFS_EXTENSIONS = (".parquet",)


def git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        self.lfs: dict[str, bytes] = {}
        self.fail: dict[str, int] = {}
        self.tokens: set[str] = set()
        self.tamper: set[str] = set()  # paths whose listed size is off by one (a corrupted upload)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ model

    def commit(self, repo: dict, parent: str | None, files: dict[str, dict], message: str) -> str:
        oid = hashlib.sha1(json.dumps([parent, message, sorted((p, f["oid"]) for p, f in files.items())]).encode()
                           + str(len(repo["commits"])).encode()).hexdigest()  # fmt: skip
        repo["commits"][oid] = {"parent": parent, "files": files, "message": message}
        return oid

    def resolve(self, repo: dict, revision: str) -> str | None:
        revision = unquote(revision)
        if revision in repo["branches"]:
            return repo["branches"][revision]
        if revision in repo["tags"]:
            return repo["tags"][revision]
        return revision if revision in repo["commits"] else None

    def head(self, repo_id: str, branch: str = "main") -> str:
        return self.repos[repo_id]["branches"][branch]

    def files(self, repo_id: str, revision: str) -> dict[str, bytes]:
        repo = self.repos[repo_id]
        tree = repo["commits"][self.resolve(repo, revision)]["files"]
        return {p: (self.lfs[f["lfs"]] if f["lfs"] else f["content"]) for p, f in tree.items()}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self.route("GET")

            def do_HEAD(self) -> None:
                self.route("HEAD")

            def do_POST(self) -> None:
                self.route("POST")

            def do_PUT(self) -> None:
                self.route("PUT")

            def body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def send(self, status: int, payload: Any = None, raw: bytes | None = None,
                     headers: dict[str, str] | None = None) -> None:  # fmt: skip
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def route(self, method: str) -> None:
                if self.headers.get("Authorization"):
                    hub.tokens.add(self.headers["Authorization"])
                url = urlparse(self.path)
                path, query = url.path, parse_qs(url.query)
                body = self.body() if method in ("POST", "PUT") else b""
                with hub.lock:
                    for name, pattern in ROUTES:
                        m = re.fullmatch(pattern, path)
                        if m and name.split(":")[0] == method:
                            endpoint = name.split(":")[1]
                            if endpoint in hub.fail:
                                hub.fail[endpoint] -= 1
                                if hub.fail[endpoint] < 0:
                                    del hub.fail[endpoint]
                                    return self.send(500, {"error": f"injected failure of {endpoint}"})
                            return getattr(self, endpoint)(body=body, query=query, **m.groupdict())
                self.send(404, {"error": f"no route {method} {path}"})

            def repo(self, repo_id: str) -> dict | None:
                return hub.repos.get(unquote(repo_id))

            def missing(self, what: str) -> None:
                self.send(404, {"error": f"{what} not found"}, headers={"X-Error-Code": "RepoNotFound"})

            # ---------------------------------------------------------- endpoints

            def create_repo(self, body: bytes, **_: Any) -> None:
                req = json.loads(body)
                repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                if repo_id in hub.repos:
                    return self.send(409, {"error": "You already created this dataset repo", "url": f"{hub.url}/datasets/{repo_id}"})
                repo = {"commits": {}, "branches": {}, "tags": {}}
                attrs = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
                repo["branches"]["main"] = hub.commit(repo, None, {".gitattributes": {"content": attrs, "lfs": None,
                                                                   "size": len(attrs), "oid": git_oid(attrs)}}, "initial commit")  # fmt: skip
                hub.repos[repo_id] = repo
                self.send(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})

            def validate_yaml(self, **_: Any) -> None:
                self.send(200, {"errors": [], "warnings": []})

            def refs(self, repo_id: str, **_: Any) -> None:
                repo = self.repo(repo_id)
                if repo is None:
                    return self.missing(repo_id)

                def listed(kind: str, names: dict) -> list:
                    return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": c} for n, c in sorted(names.items())]

                self.send(200, {"branches": listed("heads", repo["branches"]), "tags": listed("tags", repo["tags"]),
                                "converts": []})  # fmt: skip

            def branch(self, repo_id: str, name: str, body: bytes, **_: Any) -> None:
                repo = self.repo(repo_id)
                name = unquote(name)
                if repo is None:
                    return self.missing(repo_id)
                if name in repo["branches"]:
                    return self.send(409, {"error": f"Reference already exists: refs/heads/{name}"})
                start = (json.loads(body) if body else {}).get("startingPoint") or "main"
                repo["branches"][name] = hub.resolve(repo, start)
                self.send(200, {})

            def tag(self, repo_id: str, revision: str, body: bytes, **_: Any) -> None:
                repo = self.repo(repo_id)
                req = json.loads(body)
                if req["tag"] in repo["tags"]:
                    return self.send(409, {"error": f"Tag already exists: {req['tag']}"})
                repo["tags"][req["tag"]] = hub.resolve(repo, revision)
                self.send(200, {})

            def preupload(self, repo_id: str, revision: str, body: bytes, **_: Any) -> None:
                repo = self.repo(repo_id)
                tree = repo["commits"][hub.resolve(repo, revision)]["files"]
                out = []
                for f in json.loads(body)["files"]:
                    lfs = f["path"].endswith(LFS_EXTENSIONS)
                    have = tree.get(f["path"])
                    oid = None if have is None else (have["lfs"] or have["oid"])
                    out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                                "oid": oid})  # fmt: skip
                self.send(200, {"files": out})

            def lfs_batch(self, body: bytes, **_: Any) -> None:
                objects = []
                for o in json.loads(body)["objects"]:
                    entry = {"oid": o["oid"], "size": o["size"], "authenticated": True}
                    if o["oid"] not in hub.lfs:
                        entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"}}
                    objects.append(entry)
                self.send(200, {"transfer": "basic", "objects": objects})

            def lfs_put(self, oid: str, body: bytes, **_: Any) -> None:
                if hashlib.sha256(body).hexdigest() != oid:
                    return self.send(400, {"error": "sha256 mismatch"})
                hub.lfs[oid] = body
                self.send(200, {})

            def commit_(self, repo_id: str, revision: str, body: bytes, **_: Any) -> None:
                repo = self.repo(repo_id)
                branch = unquote(revision)
                if branch not in repo["branches"]:
                    return self.send(400, {"error": f"Invalid rev id: {branch}"})
                head = repo["branches"][branch]
                files = dict(repo["commits"][head]["files"])
                message = ""
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    key, value = item["key"], item["value"]
                    if key == "header":
                        message = value["summary"]
                        if value.get("parentCommit") and value["parentCommit"] != head:
                            return self.send(412, {"error": f"A commit has happened since {value['parentCommit']}"})
                    elif key == "file":
                        data = base64.b64decode(value["content"])
                        files[value["path"]] = {"content": data, "lfs": None, "size": len(data), "oid": git_oid(data)}
                    elif key == "lfsFile":
                        if value["oid"] not in hub.lfs:
                            return self.send(400, {"error": f"LFS object {value['oid']} was not uploaded"})
                        pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{value['oid']}\nsize {value['size']}\n"
                        files[value["path"]] = {"content": None, "lfs": value["oid"], "size": value["size"],
                                                "oid": git_oid(pointer.encode())}  # fmt: skip
                    elif key == "deletedFile":
                        files.pop(value["path"], None)
                oid = hub.commit(repo, head, files, message)
                repo["branches"][branch] = oid
                self.send(200, {"commitOid": oid, "commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{oid}",
                                "pullRequestUrl": None})  # fmt: skip

            def entries(self, tree: dict, prefix: str, recursive: bool) -> list[dict]:
                prefix = prefix.strip("/")
                out, dirs = [], set()
                for p, f in sorted(tree.items()):
                    if prefix and not p.startswith(prefix + "/"):
                        continue
                    rest = p[len(prefix) + 1:] if prefix else p
                    parts = rest.split("/")
                    for i in range(1, len(parts)):
                        dirs.add("/".join(([prefix] if prefix else []) + parts[:i]))
                    if recursive or len(parts) == 1:
                        out.append(self.entry(p, f))
                depth = prefix.count("/") + 1 if prefix else 0
                shown = [d for d in sorted(dirs) if recursive or d.count("/") == depth]
                return [{"type": "directory", "oid": git_oid(d.encode()), "size": 0, "path": d} for d in shown] + out

            def entry(self, p: str, f: dict) -> dict:
                e = {"type": "file", "oid": f["oid"], "size": f["size"] + (p in hub.tamper), "path": p}
                if f["lfs"]:
                    e["lfs"] = {"oid": f["lfs"], "size": f["size"], "pointerSize": 134}
                return e

            def tree(self, repo_id: str, revision: str, query: dict, path: str = "", **_: Any) -> None:
                repo = self.repo(repo_id)
                oid = hub.resolve(repo, revision) if repo else None
                if oid is None:
                    return self.missing(f"{repo_id}@{revision}")
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                self.send(200, self.entries(repo["commits"][oid]["files"], unquote(path or ""), recursive))

            def paths_info(self, repo_id: str, revision: str, body: bytes, **_: Any) -> None:
                repo = self.repo(repo_id)
                tree = repo["commits"][hub.resolve(repo, revision)]["files"]
                try:
                    paths = json.loads(body)["paths"]
                except ValueError:
                    paths = parse_qs(body.decode()).get("paths", [])
                out = []
                for p in paths:
                    p = p.strip("/")
                    if p in tree:
                        out.append(self.entry(p, tree[p]))
                    elif any(q.startswith(p + "/") for q in tree) or p == "":
                        out.append({"type": "directory", "oid": git_oid(p.encode()), "size": 0, "path": p})
                self.send(200, out)

            def info(self, repo_id: str, revision: str = "main", **_: Any) -> None:
                repo = self.repo(repo_id)
                oid = hub.resolve(repo, revision) if repo else None
                if oid is None:
                    return self.missing(f"{repo_id}@{revision}")
                files = repo["commits"][oid]["files"]
                self.send(200, {"id": unquote(repo_id), "_id": unquote(repo_id), "sha": oid, "private": False,
                                "disabled": False, "gated": False, "downloads": 0, "likes": 0, "tags": [],
                                "lastModified": "2026-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z",
                                "siblings": [{"rfilename": p} for p in sorted(files)]})  # fmt: skip

            def resolve_file(self, repo_id: str, revision: str, path: str, **_: Any) -> None:
                repo = self.repo(repo_id)
                oid = hub.resolve(repo, revision) if repo else None
                f = repo["commits"][oid]["files"].get(unquote(path)) if oid else None
                if f is None:
                    return self.send(404, {"error": "Entry not found"}, headers={"X-Error-Code": "EntryNotFound"})
                data = hub.lfs[f["lfs"]] if f["lfs"] else f["content"]
                headers = {"X-Repo-Commit": oid, "ETag": f'"{f["lfs"] or f["oid"]}"', "Accept-Ranges": "bytes"}
                if f["lfs"]:
                    headers.update({"X-Linked-Etag": f'"{f["lfs"]}"', "X-Linked-Size": str(len(data))})
                rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if rng:
                    lo = int(rng.group(1))
                    hi = min(int(rng.group(2)) if rng.group(2) else len(data) - 1, len(data) - 1)
                    headers["Content-Range"] = f"bytes {lo}-{hi}/{len(data)}"
                    return self.send(206, raw=data[lo:hi + 1], headers=headers)
                self.send(200, raw=data, headers=headers)

        repo = r"(?P<repo_id>[^/]+/[^/]+|[^/]+)"
        rev = r"(?P<revision>[^/]+)"
        ROUTES = [  # noqa: N806 - read by the handler
            ("POST:create_repo", r"/api/repos/create"),
            ("POST:validate_yaml", r"/api/validate-yaml"),
            ("GET:refs", rf"/api/datasets/{repo}/refs"),
            ("POST:branch", rf"/api/datasets/{repo}/branch/(?P<name>[^/]+)"),
            ("POST:tag", rf"/api/datasets/{repo}/tag/{rev}"),
            ("POST:preupload", rf"/api/datasets/{repo}/preupload/{rev}"),
            ("POST:lfs_batch", rf"/datasets/{repo}\.git/info/lfs/objects/batch"),
            ("PUT:lfs_put", r"/lfs-upload/(?P<oid>[0-9a-f]{64})"),
            ("POST:commit_", rf"/api/datasets/{repo}/commit/{rev}"),
            ("GET:tree", rf"/api/datasets/{repo}/tree/{rev}(?:/(?P<path>.*))?"),
            ("POST:paths_info", rf"/api/datasets/{repo}/paths-info/{rev}"),
            ("GET:info", rf"/api/datasets/{repo}/revision/{rev}"),
            ("GET:info", rf"/api/datasets/{repo}"),
            ("GET:resolve_file", rf"/datasets/{repo}/resolve/{rev}/(?P<path>.+)"),
            ("HEAD:resolve_file", rf"/datasets/{repo}/resolve/{rev}/(?P<path>.+)"),
        ]
        return Handler
