"""How much a model could learn from templates instead of reasoning: realism figures per
family and tier, measured on freshly generated episodes.

A trainer fed these traces learns whatever is easiest to predict. If a tier can be read from
a fixed phrase, a reward model learns the phrase; if a handful of sentences cover most
thoughts, an SFT model learns the sentences. So, per family x tier, over episodes of every
difficulty (numbers, quoted strings and names masked before counting):

- ``distinct``: share of distinct thoughts (goal >= 0.6);
- ``rep4``: share of word 4-gram occurrences whose 4-gram occurs more than once in the cell;
- ``tells``: word 4-grams present in >= 50 % of one tier's episodes and <= 5 % of another
  tier's in the same family, the erroneous step's own thought left out (goal: none);
- ``probe AUROC``: a bag-of-n-grams logistic regression trained to tell expert steps from
  the steps *before the first error* of noisy and reflective episodes, position-matched
  (each prefix of length k is paired with the first k steps of an expert episode of the
  same difficulty) and split by episode; held-out AUROC (goal <= 0.6: before its mistake a
  weak teacher must read like a strong one);
- kind-specific measures registered in :data:`EXTRA` (reasoning: expert backtracks per
  episode by difficulty, the mistakes' legal share and kinds, how many moves after its
  mistake the reflective tier catches it and whether its recheck names the step,
  observations worded as verdicts, runs of identical thoughts; research: hop-count honesty
  by brute force, duplicate queries per episode, thoughts naming entities not seen yet,
  distinct/success/tells per question type and hop count; generation speed for every kind).

Usage: python bench/realism.py [--kind reasoning|gui|research|all] [--episodes N]
       [--families a,b] [--difficulties 1,2,3,4,5] [--seed S] [--workers W] [--json OUT]
       python bench/realism.py --store DIR --ref NAME@REF [--kind ...]   (a published version's train rows)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from flows.config import load_config
from stores.schema import Provenance, from_table
from stores.store import Store
from synth.generate import ShardSpec, generate_shard
from synth.registry import family_names, get_family
from synth.research.facts import fact_base

PROV = Provenance("", "", "bench", "bench", "bench", datetime(2026, 1, 1, tzinfo=UTC))
SCRIPTED_TIERS = ("expert", "reflective", "noisy", "random")
TELL_HIGH, TELL_LOW = 0.5, 0.05
GOALS = {"distinct": 0.6, "probe_auroc": 0.6}

_QUOTED = re.compile(r"\"[^\"]*\"|(?<![A-Za-z0-9])'[^']*'(?![A-Za-z])|“[^”]*”")  # an apostrophe opens no quote
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z#]+|[^\sA-Za-z#]")
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
# one-letter names (pegs A-C, tasks A-P, nodes s, a-l, t, cryptarithm letters, a[i]) and
# all-capital words (cryptarithm words); the articles "a"/"A" and "I" are words, not names
_LETTER = re.compile(r"(?<![A-Za-z0-9_'’])(?:[A-Z]{2,}|[A-Za-z])(?![A-Za-z0-9_])")


def _letter(m: re.Match) -> str:
    token, text, i = m.group(), m.string, m.start()
    if token == "I":
        return token
    if token == "a" and re.match(r"\s+[A-Za-z]", text[m.end():]):
        return token
    if token == "A" and (i == 0 or re.search(r"[.!?:]\s*$", text[:i])) and re.match(r"\s+[A-Za-z]", text[m.end():]):
        return token
    return "N"


def mask(text: str) -> str:
    """Masked text: quoted strings -> Q, one-letter names and all-capital words -> N,
    numbers -> #, capitalised names inside a sentence -> N.

    Numbers and names differ between instances by construction, so counting them would call
    two identical templates "distinct"."""
    text = _QUOTED.sub("Q", text)
    text = _LETTER.sub(_letter, text)
    text = _NUMBER.sub("#", text)
    return _NAME.sub("N", text)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def ngrams(tokens: list[str], n: int = 4) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


@dataclass
class Episode:
    family: str
    tier: str
    difficulty: int
    thoughts: list[str]  # masked, one per step
    actions: list[str]  # action names, one per step
    first_error: int | None
    success: bool
    row: dict[str, Any] = field(repr=False, default_factory=dict)  # the typed trajectory, for EXTRA measures


# ---------------------------------------------------------------------------- generation


def _generate(args: tuple[str, str, int, tuple[int, ...], int, dict]) -> tuple[str, str, bytes, float]:
    family, tier, episodes, difficulties, seed, params = args
    spec = ShardSpec(family, seed, 0, episodes, {tier: 1.0}, difficulties, params)
    started = time.perf_counter()
    shard = generate_shard(spec, PROV)
    seconds = time.perf_counter() - started
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, shard.trajectories.schema) as writer:
        writer.write_table(shard.trajectories)
    return family, tier, sink.getvalue().to_pybytes(), seconds


def generate(families: list[str], episodes: int, difficulties: tuple[int, ...], seed: int,
             workers: int, store_root: str) -> tuple[list[Episode], dict[tuple[str, str], float]]:
    """Tier-pure shards, one per family x tier, on ``workers`` processes; returns the
    episodes and trajectories/s per cell (measured inside its worker, one core each).

    A family's params are those ``configs/<kind>.yaml`` gives it (its corpus, for research);
    families with a ``prepare`` hook are prepared once in a bench store, as the pipeline's
    prepare stage does."""
    params: dict[str, dict] = {}
    for f in families:
        family = get_family(f)
        config = Path(__file__).resolve().parent.parent / "configs" / f"{family.kind}.yaml"
        specs = load_config(config).families() if config.is_file() else []
        given = next((spec.family_params() for _, spec in specs if spec.family == f), {})
        prepare = getattr(family, "prepare", None)
        params[f] = prepare(Store(store_root), given)[0] if prepare is not None else given
    jobs = [(f, t, episodes, difficulties, seed, params[f]) for f in families for t in get_family(f).tiers
            if t in SCRIPTED_TIERS]
    out: list[Episode] = []
    speed: dict[tuple[str, str], float] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for family, tier, data, seconds in pool.map(_generate, jobs):
            table = pa.ipc.open_stream(data).read_all()
            speed[family, tier] = table.num_rows / seconds
            out += episodes_of(table)
    return out, speed


def episodes_of(table: pa.Table) -> list[Episode]:
    return [
        Episode(t.task.family, t.policy.tier, t.task.difficulty, [mask(s.thought or "") for s in t.steps],
                [s.action.name for s in t.steps], t.first_error_step, t.outcome.success, {"t": t})
        for t in from_table(table)
    ]


def published(store_root: str, ref: str, kind: str) -> list[Episode]:
    """The ``train`` rows of one kind of a published version (what a trainer would get)."""
    import pyarrow.compute as pc

    table = Store(store_root).read(ref)
    table = table.filter(pc.and_(pc.equal(table["kind"], kind), pc.equal(table["split"], "train")))
    return [e for e in episodes_of(table) if e.tier in SCRIPTED_TIERS]


# ---------------------------------------------------------------------------- measures


def distinct_ratio(episodes: Iterable[Episode]) -> float:
    thoughts = [t for e in episodes for t in e.thoughts if t]
    return len(set(thoughts)) / len(thoughts) if thoughts else float("nan")


def repeated_4gram_share(episodes: Iterable[Episode]) -> float:
    counts = Counter(g for e in episodes for t in e.thoughts for g in ngrams(words(t)))
    total = sum(counts.values())
    return sum(c for c in counts.values() if c > 1) / total if total else float("nan")


def _episode_grams(e: Episode) -> set[tuple[str, ...]]:
    """The episode's 4-grams, leaving out the erroneous step's own thought."""
    return {g for i, t in enumerate(e.thoughts) if i != e.first_error for g in ngrams(words(t))}


def tier_tells(by_tier: dict[str, list[Episode]]) -> list[tuple[str, str, str, float, float]]:
    """(tier, other tier, 4-gram, share in tier, share in other) for every tell in a family."""
    share: dict[str, Counter] = {}
    for tier, eps in by_tier.items():
        c: Counter = Counter()
        for e in eps:
            c.update(_episode_grams(e))
        share[tier] = Counter({g: n / len(eps) for g, n in c.items()})
    tells = []
    for tier, s in share.items():
        for other, o in share.items():
            if other == tier:
                continue
            for g, v in s.items():
                if v >= TELL_HIGH and o.get(g, 0.0) <= TELL_LOW:
                    tells.append((tier, other, " ".join(g), v, o.get(g, 0.0)))
    return sorted(tells, key=lambda x: (x[0], x[1], -x[3]))


def prefix_probe_auroc(by_tier: dict[str, list[Episode]], seed: int = 0) -> float | None:
    """Held-out AUROC of a logistic regression telling expert steps from pre-error steps of
    noisy/reflective episodes (see the module doc); None when there is too little data."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    experts: dict[int, list[Episode]] = defaultdict(list)
    for e in by_tier.get("expert", []):
        experts[e.difficulty].append(e)
    texts: list[str] = []
    labels: list[int] = []
    groups: list[int] = []
    for tier in ("noisy", "reflective"):
        for e in by_tier.get(tier, []):
            k = e.first_error
            pool = experts.get(e.difficulty)
            if not k or k <= 0 or not pool:
                continue
            partner = pool[int(rng.integers(len(pool)))]
            if len(partner.thoughts) < k:
                continue
            pair = len(set(groups)) if groups else 0
            for thought in e.thoughts[:k]:
                texts.append(thought), labels.append(1), groups.append(pair)
            for thought in partner.thoughts[:k]:
                texts.append(thought), labels.append(0), groups.append(pair)
    if len(set(labels)) < 2 or len(set(groups)) < 20:
        return None
    groups_arr = np.array(groups)
    test_pairs = rng.permutation(np.unique(groups_arr))[: max(1, len(np.unique(groups_arr)) // 4)]
    test = np.isin(groups_arr, test_pairs)
    y = np.array(labels)
    if len(set(y[test])) < 2 or len(set(y[~test])) < 2:
        return None
    vec = HashingVectorizer(ngram_range=(1, 2), n_features=2 ** 18, alternate_sign=False, token_pattern=r"[A-Za-z#]+")
    x = vec.transform(texts)
    model = LogisticRegression(max_iter=2000, C=1.0).fit(x[~test], y[~test])
    return float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))


# ---------------------------------------------------------------------------- kind-specific measures

# kind -> functions of one family's episodes (by tier) returning {column: value} for that family
EXTRA: dict[str, list[Callable[[dict[str, list[Episode]]], dict[str, str]]]] = defaultdict(list)


def expert_backtracks(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """Mean `backtrack` actions per expert episode, by difficulty ("d1 0.0 / d2 ...")."""
    per: dict[int, list[int]] = defaultdict(list)
    for e in by_tier.get("expert", []):
        per[e.difficulty].append(sum(a == "backtrack" for a in e.actions))
    return {"expert backtracks by difficulty": " / ".join(
        f"d{d} {statistics.mean(v):.1f}" for d, v in sorted(per.items()))}


def expert_success(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    rates = {t: statistics.mean(e.success for e in eps) for t, eps in by_tier.items() if eps}
    return {"success by tier": " ".join(f"{t} {r:.2f}" for t, r in sorted(rates.items()))}


EXTRA["reasoning"] += [expert_backtracks, expert_success]
EXTRA["gui"] += [expert_success]
EXTRA["research"] += [expert_success]

# ---------------------------------------------------------------------------- research measures

#: where research episodes' corpora live (set by main: the bench store or --store)
RESEARCH_STORE: dict[str, str] = {}
_RESEARCH_NAME = re.compile(r"(?:The )?[A-Z][a-z]+(?: [A-Z][a-z]+)*")


def _research_corpus(e: Episode):
    from stores.corpus import open_corpus

    return open_corpus(Store(RESEARCH_STORE["root"]), e.row["t"].task.env["corpus"]["ref"])


def _smallest_derivation(fb, program, answer: str, subjects: list[int], predicates: list[str], most: int) -> int | None:
    """Brute force, written here so the measure runs on any version of the generator: the
    smallest set of pages stating (own page or listing) any needed predicate of any evidence
    subject from which the solver derives the answer."""
    import itertools

    from synth.research.questions import solve

    docs: set[int] = set()
    for e in subjects:
        for p in predicates:
            rows = fb.statements(e, p)
            docs.update(int(d) for d in fb.doc[rows[fb.source[rows] <= 1]])
    for size in range(1, most + 1):
        if any(solve(fb, program, list(c)) == answer for c in itertools.combinations(sorted(docs), size)):
            return size
    return None


def _hop_honest(e: Episode, cache: dict) -> bool | None:
    t = e.row["t"]
    ref = t.task.reference
    if t.task.id in cache:
        return cache[t.task.id]
    corpus = _research_corpus(e)
    fb = fact_base(corpus)
    if fb is None or not ref.get("hops"):
        return None
    subjects = list(dict.fromkeys(fb.by_name[x["subject"]] for x in ref["evidence"]))
    cache[t.task.id] = _smallest_derivation(fb, ref["program"], ref["answer"], subjects, ref["predicates"],
                                            int(ref["hops"])) == int(ref["hops"])
    return cache[t.task.id]


def duplicate_queries(e: Episode) -> int:
    """Searches that repeat an earlier query of the episode (case and spacing ignored)."""
    queries = [" ".join(str(s.action.arguments.get("query", "")).lower().split())
               for s in e.row["t"].steps if s.action.name == "search"]
    return len(queries) - len(set(queries))


def unseen_name_thoughts(e: Episode) -> tuple[int, int]:
    """(thoughts naming an entity not yet seen, thoughts): a name is seen once the question or an
    earlier observation showed it."""
    t = e.row["t"]
    fb = fact_base(_research_corpus(e))
    if fb is None:
        return 0, len(t.steps)
    seen = [t.task.instruction, t.initial_observation.text if t.initial_observation else ""]
    bad = 0
    for step in t.steps:
        text = "\n".join(seen)
        bad += any(n in fb.by_name and n not in text for n in set(_RESEARCH_NAME.findall(step.thought or "")))
        seen.append(step.observation.text)
    return bad, len(t.steps)


def research_measures(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """Hop-count honesty (stated hops == smallest derivation, by brute force), duplicate
    queries per episode and the share of thoughts naming unseen entities, by tier."""
    cache: dict = {}
    eps = [e for tier in SCRIPTED_TIERS for e in by_tier.get(tier, [])]
    honest = [h for e in eps if (h := _hop_honest(e, cache)) is not None]
    dup = {t: statistics.mean(duplicate_queries(e) for e in v) for t, v in by_tier.items() if v}
    unseen = {t: [unseen_name_thoughts(e) for e in v] for t, v in by_tier.items() if v}
    return {
        "hop honesty": f"{statistics.mean(honest):.3f} of {len(cache)} tasks" if honest else "n/a",
        "duplicate queries / episode": " ".join(f"{t} {d:.2f}" for t, d in sorted(dup.items())),
        "thoughts naming unseen entities": " ".join(
            f"{t} {sum(b for b, _ in v) / max(1, sum(n for _, n in v)):.3f}" for t, v in sorted(unseen.items())),
    }


def research_by_type(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """Distinct-thought ratio, success and tells per question type (and per hop count)."""
    out = {}
    for key, label in ((lambda e: e.row["t"].task.reference.get("type"), "by type"),
                       (lambda e: e.row["t"].task.reference.get("hops"), "by hops")):
        groups: dict[Any, dict[str, list[Episode]]] = defaultdict(lambda: defaultdict(list))
        for tier, eps in by_tier.items():
            for e in eps:
                groups[key(e)][tier].append(e)
        parts = []
        for g, tiers in sorted(groups.items(), key=lambda x: str(x[0])):
            distinct = "/".join(f"{distinct_ratio(tiers[t]):.2f}" for t in SCRIPTED_TIERS if tiers.get(t))
            success = "/".join(f"{statistics.mean(e.success for e in tiers[t]):.2f}" for t in SCRIPTED_TIERS
                               if tiers.get(t))
            parts.append(f"{g}: distinct {distinct}, success {success}, tells {len(tier_tells(tiers))}")
        out[f"{label} (expert/reflective/noisy/random)"] = "; ".join(parts)
    return out


EXTRA["research"] += [research_measures, research_by_type]


# ---- gui: names a thought could not have seen, and what caused each mistake


def gui_unseen_names(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """Share of thoughts naming something not yet on screen, per tier (goal 0; the rule is
    ``synth.gui.metrics.unseen_names``)."""
    from synth.gui.metrics import unseen_names

    shares = {}
    for tier, eps in sorted(by_tier.items()):
        thoughts = sum(len(e.thoughts) for e in eps)
        shares[tier] = sum(len({i for i, _ in unseen_names(e.row["t"])}) for e in eps) / thoughts if thoughts else 0.0
    return {"thoughts naming unseen elements": " ".join(f"{t} {v:.3f}" for t, v in shares.items())}


def gui_mistake_causes(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """How the reflective and noisy mistakes were caused (``policy.params["mistake"]["cause"]``)."""
    out = {}
    for tier in ("reflective", "noisy"):
        causes: Counter = Counter()
        for e in by_tier.get(tier, []):
            mistake = e.row["t"].policy.params.get("mistake")
            causes[mistake.get("cause", "none") if isinstance(mistake, dict) else "none"] += 1
        total = sum(causes.values())
        if total:
            out[f"{tier} mistake causes"] = " ".join(f"{c} {n / total:.2f}" for c, n in causes.most_common())
    return out


EXTRA["gui"] += [gui_unseen_names, gui_mistake_causes]


# ---- reasoning: what the mistakes are, how the reflective tier catches them, what the env says

#: words of a verdict: an observation must show the state the solver believes in, never whether
#: its move was right (the env knows; the agent does not)
_VERDICT = re.compile(r"\b(rules?|broken|illegal|invalid|not allowed|violat\w*|wrong|incorrect|mistaken?|"
                      r"dead end|back to|undone|unsolvable)\b", re.I)


def _steps(e: Episode) -> list:
    return e.row["t"].steps


def reasoning_mistakes(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """The reflective and noisy mistakes: share that break no rule (legal: the errors solvers
    mostly make, which no rule check catches) and their kinds (``policy.params``)."""
    out = {}
    for tier in ("reflective", "noisy"):
        params = [e.row["t"].policy.params for e in by_tier.get(tier, [])]
        made = [p for p in params if p.get("mistake")]
        if not made:
            continue
        kinds = Counter(p.get("mistake_kind", "?") for p in made)
        out[f"{tier} mistakes legal"] = f"{statistics.mean(bool(p.get('legal')) for p in made):.2f}"
        out[f"{tier} mistake kinds"] = " ".join(f"{k} {n / len(made):.2f}" for k, n in kinds.most_common())
    return out


def reasoning_catches(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """How the reflective tier finds its mistake: moves made after it before the catch
    (``caught_after``: 0 = the next step), and the share of catches whose recheck names the
    mistaken step (a thought "step k" right before the backtrack; goal 1)."""
    after: Counter = Counter()
    named, catches = 0, 0
    for e in by_tier.get("reflective", []):
        p = e.row["t"].policy.params
        if not p.get("mistake"):
            continue
        after[min(int(p.get("caught_after", 0)), 3)] += 1
        steps, k = _steps(e), e.first_error
        back = next((i for i in range(k + 1, len(steps)) if steps[i].action.name == "backtrack"), None) if k else None
        if back is None:
            continue
        catches += 1
        named += bool(re.search(rf"\bstep {k}\b", steps[back - 1].thought or ""))
    total = sum(after.values())
    if not total:
        return {}
    return {"reflective caught after (moves)": " ".join(f"{'3+' if a == 3 else a}: {n / total:.2f}" for a, n in sorted(after.items())),
            "catches naming the step": f"{named / catches:.2f}" if catches else "n/a"}


def reasoning_surface(by_tier: dict[str, list[Episode]]) -> dict[str, str]:
    """Observations worded as a verdict (goal 0) and runs of three identical thoughts in a row
    (masked; goal 0), over every tier."""
    verdicts = observations = runs = 0
    for eps in by_tier.values():
        for e in eps:
            for s in _steps(e):
                if s.action.name not in ("think", "answer") and s.observation is not None:
                    observations += 1
                    verdicts += bool(_VERDICT.search(s.observation.text or ""))
            th = e.thoughts
            runs += any(th[i] and th[i] == th[i + 1] == th[i + 2] for i in range(len(th) - 2))
    return {"verdict observations": f"{verdicts} of {observations}", "episodes with 3 identical thoughts": str(runs)}


EXTRA["reasoning"] += [reasoning_mistakes, reasoning_catches, reasoning_surface]


# ---------------------------------------------------------------------------- report


def report(kind: str, episodes: list[Episode], speed: dict[tuple[str, str], float], seed: int) -> dict[str, Any]:
    by_family: dict[str, dict[str, list[Episode]]] = defaultdict(lambda: defaultdict(list))
    for e in episodes:
        by_family[e.family][e.tier].append(e)
    figures: dict[str, Any] = {}
    print(f"\n## {kind}: per family x tier ({len(episodes)} episodes)\n")
    print("| family | tier | episodes | distinct | rep4 | trajectories/s |")
    print("|---|---|---:|---:|---:|---:|")
    for family in sorted(by_family):
        for tier in SCRIPTED_TIERS:
            eps = by_family[family].get(tier)
            if not eps:
                continue
            d, r = distinct_ratio(eps), repeated_4gram_share(eps)
            figures.setdefault(family, {})[tier] = {"distinct": d, "rep4": r, "speed": speed.get((family, tier))}
            print(f"| {family} | {tier} | {len(eps)} | {d:.3f} | {r:.3f} | {speed.get((family, tier), 0):,.0f} |")
    extra_cols: list[str] = []
    rows = []
    for family in sorted(by_family):
        tells = tier_tells(by_family[family])
        auroc = prefix_probe_auroc(by_family[family], seed)
        extra: dict[str, str] = {}
        for fn in EXTRA.get(kind, []):
            extra.update(fn(by_family[family]))
        extra_cols += [c for c in extra if c not in extra_cols]
        figures[family]["tells"] = [list(t) for t in tells]
        figures[family]["probe_auroc"] = auroc
        figures[family].update(extra)
        rows.append((family, tells, auroc, extra))
    print(f"\n## {kind}: per family\n")
    print("| family | tells | probe AUROC | " + " | ".join(extra_cols) + " |")
    print("|---|---:|---:|" + "---|" * len(extra_cols))
    for family, tells, auroc, extra in rows:
        shown = "n/a" if auroc is None else f"{auroc:.3f}"
        print(f"| {family} | {len(tells)} | {shown} | " + " | ".join(extra.get(c, "") for c in extra_cols) + " |")
    print(f"\n### {kind}: tell examples (tier vs other tier: 4-gram, share in tier / in other)\n")
    for family, tells, _, _ in rows:
        for tier, other, gram, v, o in tells[:6]:
            print(f"- {family}, {tier} vs {other}: \"{gram}\" {v:.2f} / {o:.2f}")
    all_eps = [e for fam in by_family.values() for eps in fam.values() for e in eps]
    aurocs = [r[2] for r in rows if r[2] is not None]
    summary = {
        "distinct (all)": distinct_ratio(all_eps),
        "rep4 (all)": repeated_4gram_share(all_eps),
        "families with tells": sum(bool(r[1]) for r in rows),
        "tells": sum(len(r[1]) for r in rows),
        "max probe AUROC": max(aurocs) if aurocs else None,
        "mean probe AUROC": statistics.mean(aurocs) if aurocs else None,
    }
    print(f"\n{kind} summary: " + ", ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items()))
    figures["_summary"] = summary
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", default="reasoning", choices=["reasoning", "gui", "research", "all"])
    ap.add_argument("--episodes", type=int, default=1000, help="episodes per family x tier")
    ap.add_argument("--families", default="", help="comma-separated subset (default: every family of the kind)")
    ap.add_argument("--difficulties", default="1,2,3,4,5")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--store", default="bench-data", help="store for prepared artefacts (research corpora)")
    ap.add_argument("--ref", default=None,
                    help="measure this published version (NAME@REF in --store) instead of generating episodes")
    args = ap.parse_args()
    kinds = ["reasoning", "gui", "research"] if args.kind == "all" else [args.kind]
    RESEARCH_STORE["root"] = args.store
    difficulties = tuple(int(d) for d in args.difficulties.split(","))
    chosen = [f for f in args.families.split(",") if f]
    results = {}
    for kind in kinds:
        families = [f for f in (chosen or family_names()) if get_family(f).kind == kind]
        if not families:
            continue
        started = time.perf_counter()
        if args.ref:
            episodes, speed = [e for e in published(args.store, args.ref, kind) if e.family in families], {}
            print(f"\n{kind}: {len(episodes)} train episodes of {args.ref}")
        else:
            episodes, speed = generate(families, args.episodes, difficulties, args.seed, args.workers, args.store)
            print(f"\n{kind}: generated {len(episodes)} episodes in {time.perf_counter() - started:.1f} s "
                  f"({args.workers} processes), difficulties {difficulties}, seed {args.seed}")
        if not episodes:
            continue
        results[kind] = report(kind, episodes, speed, args.seed)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
