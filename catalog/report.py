"""``trajforge report NAME@REF OUT.html``: one self-contained HTML page about a version.

Everything is inline (SVG charts, PNG screenshots as data URIs, CSS, no script, no network),
so the page opens from a file, a Hub repo or an e-mail attachment alike. Counts come from one
DuckDB pass over the version's Parquet; each count cell carries ``data-count`` attributes
(``data-group``, ``data-key``) so tests and tools can read the numbers back without parsing
prose.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.views import gui_steps
from stores.names import Ref
from stores.outputs import check_output_file
from stores.store import Store, StoreError, VersionInfo

MARK = "<!-- trajforge report"  # first bytes of every report: what --overwrite may replace
GROUPS = {"kind": "kind", "family": "task.family", "tier": "policy.tier", "difficulty": "task.difficulty",
          "split": "split"}  # fmt: skip
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1,h2,h3{font-weight:600} table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right} th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left} .grid{display:flex;flex-wrap:wrap;gap:1.5em}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;max-height:24em;overflow:auto}
.step{border-left:3px solid #8ab;padding-left:.6em;margin:.4em 0} .bad{border-color:#d55}
svg text{font:11px sans-serif}
"""


def write_report(store: Store, ref: str | Ref, out: str | Path, overwrite: bool = False) -> Path:
    """Write the page; refuses paths in a store and replaces only an earlier report file."""
    path = check_output_file(store, out, overwrite, lambda p: p.read_bytes()[:200].startswith(MARK.encode()))
    info = store.resolve(ref)
    if info.kind != "trajectories":
        raise StoreError(f"{info.ref} is a {info.kind} version; reports describe trajectory versions")
    page = render(store, info)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page)
    partial.replace(path)
    return path


def counts(store: Store, info: VersionInfo) -> dict[str, dict[str, int]]:
    """group -> value -> rows, by one DuckDB query per group over the version's shards."""
    paths = [str(p) for p in store.shard_paths(info)]
    out: dict[str, dict[str, int]] = {}
    with duckdb.connect() as con:
        for group, column in GROUPS.items():
            rows = con.execute(f"SELECT CAST({column} AS VARCHAR) AS k, count(*) FROM read_parquet(?) GROUP BY ALL ORDER BY k",
                               [paths]).fetchall()  # fmt: skip
            out[group] = {str(k): n for k, n in rows}
    return out


def render(store: Store, info: VersionInfo) -> str:
    table = store.read(info)
    blobs = store.read(info, table="blobs")
    found = counts(store, info)
    n_steps = pc.list_value_length(table["steps"]).to_numpy(zero_copy_only=False)
    success = pc.struct_field(table["outcome"], "success").to_numpy(zero_copy_only=False)
    first_error = table["first_error_step"].to_numpy(zero_copy_only=False)
    parts = [f"{MARK} of {html.escape(info.ref)} -->", "<!doctype html><html lang=en><head>",
             "<meta charset=utf-8><meta name=viewport content='width=device-width'>",
             f"<title>{html.escape(info.ref)} - trajforge report</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(info.ref)}</h1>",
             f"<p><span data-count='{table.num_rows}' data-group='total' data-key='rows'>{table.num_rows}</span> "
             f"trajectories, {blobs.num_rows} images, created {html.escape(info.manifest['created_at'])}, code "
             f"<code>{html.escape(info.manifest['code_version'])}</code>.</p>"]  # fmt: skip
    parts.append("<h2>Counts</h2><div class=grid>")
    for group, values in found.items():
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td data-count='{n}' data-group='{group}' "
                       f"data-key='{html.escape(k, quote=True)}'>{n}</td></tr>" for k, n in values.items())  # fmt: skip
        parts.append(f"<table><tr><th>{group}</th><th>rows</th></tr>{rows}</table>")
    parts.append("</div><h2>Outcomes and scores</h2><div class=grid>")
    parts.append(_bars("success rate by kind", _rate_by(table["kind"].to_pylist(), success)))
    for name, values in _score_values(table).items():
        parts.append(_bars(f"score {name}", _histogram(values, 10, 0.0, 1.0)))
    parts.append("</div><h2>Episodes</h2><div class=grid>")
    parts.append(_bars("steps per trajectory", _histogram(n_steps.astype(float), 12)))
    located = [float(x) for x in first_error if x == x and x >= 0]  # null reads as NaN
    parts.append(_bars(f"first error step ({len(located)} localised)", _histogram(located, 12) if located else {}))
    parts.append("</div><h2>Lineage</h2>" + _lineage(info))
    parts.append(_diff(store, info))
    parts.append("<h2>Sample trajectories</h2>" + _samples(table, blobs))
    parts.append("</body></html>")
    return "\n".join(parts)


def _rate_by(keys: list[str], success: Any) -> dict[str, float]:
    out: dict[str, list[int]] = {}
    for k, s in zip(keys, success, strict=True):
        out.setdefault(k, []).append(1 if s else 0)
    return {k: sum(v) / len(v) for k, v in sorted(out.items())}


def _score_values(table: pa.Table) -> dict[str, list[float]]:
    flat = pc.list_flatten(table["scores"])
    names, values = pc.struct_field(flat, "name").to_pylist(), pc.struct_field(flat, "value").to_pylist()
    out: dict[str, list[float]] = {}
    for n, v in zip(names, values, strict=True):
        if v is not None:
            out.setdefault(n, []).append(v)
    return dict(sorted(out.items()))


def _histogram(values: Any, bins: int, lo: float | None = None, hi: float | None = None) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    if not len(values):
        return {}
    lo = float(values.min()) if lo is None else lo
    hi = float(values.max()) if hi is None else hi
    if hi <= lo:
        return {f"{lo:g}": float(len(values))}
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {f"{edges[i]:.3g}-{edges[i + 1]:.3g}": float(c) for i, c in enumerate(counts)}


def _bars(title: str, data: dict[str, float], width: int = 340) -> str:
    """A horizontal bar chart as inline SVG."""
    if not data:
        return f"<figure><figcaption>{html.escape(title)}</figcaption><p>none</p></figure>"
    top = max(data.values()) or 1.0
    h = 18 * len(data) + 10
    bars = []
    for i, (k, v) in enumerate(data.items()):
        w = int((width - 170) * v / top)
        shown = f"{v:.3f}" if v != int(v) else f"{int(v)}"
        bars.append(f"<text x=0 y={18 * i + 14}>{html.escape(k)}</text><rect x=110 y={18 * i + 3} width={w} height=13 "
                    f"fill='#5b8db8'/><text x={114 + w} y={18 * i + 14}>{shown}</text>")  # fmt: skip
    return (f"<figure><figcaption>{html.escape(title)}</figcaption><svg xmlns='http://www.w3.org/2000/svg' "
            f"width={width} height={h} role=img>{''.join(bars)}</svg></figure>")  # fmt: skip


def _lineage(info: VersionInfo) -> str:
    """This version and its parents as an SVG graph (parents on the left)."""
    parents = info.manifest["parents"]
    h = max(1, len(parents)) * 40 + 10
    nodes = [f"<rect x=420 y={h // 2 - 14} width=200 height=28 rx=6 fill='#dbe8f3' stroke='#5b8db8'/>"
             f"<text x=430 y={h // 2 + 4}>{html.escape(info.ref)}</text>"]  # fmt: skip
    for i, p in enumerate(parents):
        y = 40 * i + 10
        nodes.append(f"<rect x=10 y={y} width=220 height=28 rx=6 fill='#f3f3f3' stroke='#888'/>"
                     f"<text x=20 y={y + 18}>{html.escape(p['dataset'])}@{html.escape(p['version'])}</text>"
                     f"<line x1=230 y1={y + 14} x2=420 y2={h // 2} stroke='#888'/>"
                     f"<text x=260 y={(y + 14 + h // 2) // 2 - 4}>{html.escape(p['role'])}</text>")  # fmt: skip
    note = "" if parents else "<p>No parents: a first version.</p>"
    return f"{note}<svg xmlns='http://www.w3.org/2000/svg' width=640 height={h} role=img>{''.join(nodes)}</svg>"


def _diff(store: Store, info: VersionInfo) -> str:
    same = [p for p in info.manifest["parents"] if p["dataset"] == info.name]
    if not same:
        return ""
    parent = f"{same[0]['dataset']}@{same[0]['version']}"
    d = store.diff(parent, info.ref)
    return (f"<h3>Against {html.escape(parent)}</h3><table><tr><th>trajectories</th><th>count</th></tr>"
            f"<tr><td>added</td><td data-count='{d.added}' data-group='diff' data-key='added'>{d.added}</td></tr>"
            f"<tr><td>removed</td><td data-count='{d.removed}' data-group='diff' data-key='removed'>{d.removed}</td></tr>"
            f"<tr><td>unchanged</td><td data-count='{d.unchanged}' data-group='diff' data-key='unchanged'>"
            f"{d.unchanged}</td></tr></table>")  # fmt: skip


def _samples(table: pa.Table, blobs: pa.Table) -> str:
    """One trajectory per kind (the first failing one with a localised error if any, so the
    page shows where things go wrong), rendered readably."""
    out = []
    rows = table.select(["id", "kind", "task", "steps", "final_answer", "outcome", "policy", "first_error_step"]).to_pylist()
    for kind in sorted({r["kind"] for r in rows}):
        of_kind = [r for r in rows if r["kind"] == kind]
        pick = next((r for r in of_kind if (r["first_error_step"] or -1) > 0), of_kind[0])
        out.append(f"<h3>{kind}: {html.escape(pick['task']['family'])}, {html.escape(pick['policy']['tier'])}, "
                   f"{'success' if pick['outcome']['success'] else 'failure'} (<code>{pick['id']}</code>)</h3>"
                   f"<pre>{html.escape(pick['task']['instruction'])}</pre>")  # fmt: skip
        if kind == "gui" and '"screen"' in (pick["task"]["env"] or ""):  # a real GUI env, with screenshots
            out.append(_gui_sample(table.filter(pc.equal(table["id"], pick["id"])), blobs))
            continue
        for s in pick["steps"]:
            bad = " bad" if pick["first_error_step"] is not None and s["index"] >= pick["first_error_step"] >= 0 else ""
            call = "" if kind == "reasoning" else (f"<br><code>{html.escape(s['action']['name'])}"
                                                   f"({html.escape(_args(s['action']['arguments']))})</code>")  # fmt: skip
            obs = s["observation"]["text"] or ""
            seen = f"<pre>{html.escape(obs[:600])}</pre>" if obs and kind != "reasoning" else ""
            out.append(f"<div class='step{bad}'><b>{s['index']}</b> {html.escape(s['thought'])}{call}{seen}</div>")
        out.append(f"<p>Answer: <code>{html.escape(str(pick['final_answer']))}</code> - "
                   f"{html.escape(pick['outcome']['detail'] or '')}</p>")  # fmt: skip
    return "\n".join(out)


def _args(text: str) -> str:
    value = json.loads(text) if text else {}
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in value.items()) if isinstance(value, dict) else text


def _gui_sample(one: pa.Table, blobs: pa.Table) -> str:
    """Each step's screenshot with the action point (red dot) and target box (green) drawn."""
    steps = gui_steps(one, blobs, splits=None, views=["screenshot"], variants=["direct"]).to_pylist()
    out = []
    for s in steps[:6]:
        image = s["image"]
        w, h = s["screen_width"], s["screen_height"]
        marks = ""
        if s["target_box"]:
            x0, y0, x1, y1 = s["target_box"]
            marks += f"<rect x={x0} y={y0} width={x1 - x0} height={y1 - y0} fill=none stroke='#2a2' stroke-width=4/>"
        if s["point"]:
            marks += f"<circle cx={s['point'][0]} cy={s['point'][1]} r=10 fill='#d22' fill-opacity=.8/>"
        picture = (f"<image href='data:image/png;base64,{base64.b64encode(image['bytes']).decode()}' width={w} height={h}/>"
                   if image else "")  # fmt: skip
        out.append(f"<div class=step><b>{s['step']}</b> {html.escape(s['thought'] or '')}<br><code>"
                   f"{html.escape(s['action_text'])}</code>{'' if s['acceptable'] else ' (not accepted)'}<br>"
                   f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h}' width=480 role=img>{picture}{marks}"
                   "</svg></div>")  # fmt: skip
    return "\n".join(out)
