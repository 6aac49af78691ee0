"""``multihop``: deep-research episodes over a versioned offline corpus.

Params (validated by :class:`ResearchParams`; unknown keys are errors)::

    corpus:                      # exactly one of:
      name: world10k             #   build and publish it if the store lacks this version
      generate: {size: 10000, seed: 0}
      # or  ref: world10k@v1     #   an existing corpus version
      # or  name: mycorpus, path: corpus.parquet  (bring your own: .parquet or .jsonl)
      dense: false               # also a dense (hashed-embedding FAISS) index
    questions: questions.jsonl   # bring-your-own corpora: the question file (synth.research.byo)
    types: [bridge, comparison, intersection, aggregation]
    hops: [2, 3, 4]
    search: bm25                 # bm25 | dense | hybrid (reciprocal-rank fusion)
    screen_lines: 25
    max_tool_calls: 256
    long_tail: {rate: 0.05, min_calls: 25}   # expert episodes that follow up every lead they see
    context: {every: 20}         # context.summarize after every 20 tool calls

The pipeline calls :meth:`MultihopFamily.prepare` before synthesis: it publishes the corpus if
needed and pins the exact version (``corpus.ref`` and its content ``fingerprint``) in the params
the shards receive, and the corpus becomes a ``corpus`` parent of the trajectory version. Every
task records that version in ``task.env.corpus``; its env is rebuilt from the task alone plus the
store root (``corpus.store`` in params, else ``TRAJFORGE_HOME``), and refuses a store whose
version of that name differs in content.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stores.corpus import (
    Corpus,
    CorpusError,
    Imported,
    Source,
    ensure_corpus,
    find_corpus,
    open_corpus,
)
from stores.schema import Policy, Task, canonical_json
from stores.store import Store, default_root
from synth.registry import register
from synth.research.agents import LONG_TAIL_HEADROOM, detour_plan, expert_plan, random_plan
from synth.research.browser import MAX_LINES, SCREEN_LINES
from synth.research.byo import load_questions
from synth.research.env import ResearchEnv
from synth.research.questions import HOPS, TYPES, QuestionMaker, question_mark
from synth.research.script import ScriptTeacher
from synth.research.world import Generated, WorldSpec

FAMILY = "multihop"
TIERS = ("expert", "reflective", "noisy", "random", "llm")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorldParams(_Strict):
    size: int = Field(default=10_000, ge=200, le=10_000_000)
    seed: int = 0
    namesake_rate: float = Field(default=0.3, ge=0.0, le=1.0)
    conflict_rate: float = Field(default=0.15, ge=0.0, le=1.0)
    mention_rate: float = Field(default=0.6, ge=0.0, le=1.0)


class CorpusParams(_Strict):
    ref: str | None = None
    name: str | None = None
    generate: WorldParams | None = None
    path: str | None = None
    dense: bool = False
    store: str | None = None  # set by the pipeline: the store the corpus lives in
    fingerprint: str | None = None  # set by the pipeline: the pinned version's content hash

    @model_validator(mode="after")
    def _one_source(self) -> CorpusParams:
        given = [k for k in ("ref", "generate", "path") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("corpus needs exactly one of 'ref' (an existing version, e.g. world10k@v1), "
                             "'generate' (a world spec) or 'path' (a .parquet/.jsonl file to import); got "
                             f"{given or 'none'}")
        if self.ref is None and self.name is None:
            raise ValueError("corpus: 'generate' and 'path' need a 'name' for the corpus dataset")
        return self

    def source(self) -> Source:
        if self.generate is not None:
            return Generated(WorldSpec(**self.generate.model_dump()))
        return Imported(self.path)


class LongTail(_Strict):
    rate: float = Field(ge=0.0, le=1.0)
    min_calls: int = Field(default=25, ge=1, le=5000)  # fewer leads than this: not a long-tail episode


class Context(_Strict):
    every: int = Field(ge=1, le=1000)


class ResearchParams(_Strict):
    corpus: CorpusParams
    questions: str | None = None
    types: list[Literal["bridge", "comparison", "intersection", "aggregation"]] = Field(default=list(TYPES), min_length=1)
    hops: list[int] = Field(default=list(HOPS), min_length=1)
    search: Literal["bm25", "dense", "hybrid"] = "bm25"
    screen_lines: int = Field(default=SCREEN_LINES, ge=5, le=MAX_LINES)
    max_tool_calls: int = Field(default=256, ge=4, le=10_000)
    long_tail: LongTail | None = None
    context: Context | None = None
    images: Literal["off"] | None = None  # research pages are text; only "off" is meaningful

    @model_validator(mode="after")
    def _checks(self) -> ResearchParams:
        if any(h not in HOPS for h in self.hops):
            raise ValueError(f"hops must be within {list(HOPS)}, got {self.hops}")
        if self.search != "bm25" and not self.corpus.dense:
            raise ValueError(f"search {self.search!r} needs corpus.dense: true (a dense index)")
        if self.long_tail and self.long_tail.min_calls + LONG_TAIL_HEADROOM > self.max_tool_calls:
            raise ValueError(f"long_tail.min_calls ({self.long_tail.min_calls}) + {LONG_TAIL_HEADROOM} exceeds max_tool_calls "
                             f"({self.max_tool_calls}); raise max_tool_calls")
        return self


def parse_params(params: dict[str, Any]) -> ResearchParams:
    try:
        return ResearchParams.model_validate(params)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'params'}: {err['msg']}" for err in e.errors())
        raise ValueError(f"{FAMILY} params are invalid: {problems}") from None


def _store(p: ResearchParams) -> Store:
    return Store(p.corpus.store) if p.corpus.store else Store(default_root())


@functools.lru_cache(maxsize=32)
def _corpus(params_json: str) -> Corpus:
    """The corpus version the params name (pinned by the pipeline, or found in the store)."""
    p = parse_params(orjson.loads(params_json))
    store = _store(p)
    c = p.corpus
    if c.ref is not None:
        corpus = open_corpus(store, c.ref)
    else:
        info = find_corpus(store, c.name, c.source(), dense=c.dense)
        if info is None:
            raise CorpusError(f"store {store.root} has no version of corpus {c.name!r} built from these params; "
                              "`trajforge run` builds it before synthesis, or run `trajforge corpus build`")
        corpus = open_corpus(store, info.ref)
    if c.fingerprint is not None and corpus.fingerprint != c.fingerprint:
        raise CorpusError(f"{corpus.ref} in {store.root} has content {corpus.fingerprint[:12]}, not the pinned "
                          f"{c.fingerprint[:12]}: another store or a rebuilt corpus")
    return corpus


def corpus_for(params: dict[str, Any]) -> Corpus:
    return _corpus(canonical_json(params))


def env_corpus(task: Task, params: dict[str, Any]) -> Corpus:
    """The exact corpus version a task was made on (from ``task.env``), in the params' store."""
    pinned = task.env["corpus"]
    root = ((params or {}).get("corpus") or {}).get("store") or str(default_root())
    return _pinned(root, pinned["ref"], pinned["fingerprint"])


@functools.lru_cache(maxsize=32)
def _pinned(root: str, ref: str, fingerprint: str) -> Corpus:
    store = Store(root)
    corpus = open_corpus(store, ref)
    if corpus.fingerprint != fingerprint:
        raise CorpusError(f"a task was made on {ref} with content {fingerprint[:12]}; {store.root} holds "
                          f"different content ({corpus.fingerprint[:12]}) under that name")
    return corpus


@functools.lru_cache(maxsize=8)
def _maker(corpus: Corpus) -> QuestionMaker:
    return QuestionMaker(corpus)


class MultihopFamily:
    kind = "research"
    name = FAMILY
    version = "1"
    tiers = TIERS

    def check_params(self, params: dict[str, Any]) -> None:
        """Validate params when a config is loaded (before anything runs)."""
        parse_params(params)

    def prepare(self, store: Store, params: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """Publish the corpus if the store lacks it; pin the version. Returns the params the
        shards get and the lineage parents of the trajectory version."""
        p = parse_params(params)
        c = p.corpus
        info = store.resolve(c.ref) if c.ref is not None else ensure_corpus(store, c.name, c.source(), dense=c.dense)
        if info.kind != "corpus":
            raise CorpusError(f"{info.ref} holds {info.kind}, not a corpus")
        pinned = {"ref": info.ref, "fingerprint": info.manifest["params"]["corpus"]["fingerprint"],
                  "dense": bool(info.manifest["params"]["corpus"]["dense"]), "store": str(store.root.resolve())}
        return {**params, "corpus": pinned}, [{"ref": info.ref, "role": "corpus"}]

    def make_task(self, seed: int, difficulty: int, params: dict[str, Any]) -> Task:
        if difficulty not in range(1, 6):
            raise ValueError(f"{FAMILY} difficulty must be 1..5, got {difficulty}")
        p = parse_params(params)
        corpus = corpus_for(params)
        rng = random.Random(seed)
        if p.questions is not None:
            reference = self._byo_reference(p.questions, corpus, difficulty, rng)
        else:
            q = _maker(corpus).make(rng, difficulty, tuple(p.types), tuple(sorted(set(p.hops))))
            reference = {
                "question": q.text, "type": q.program["type"], "hops": q.hops,
                "answer": q.answer, "aliases": q.aliases, "answer_kind": q.answer_kind, "program": q.program,
                "evidence": q.evidence, "gold_docids": [corpus.docid(r) for r in q.gold],
                "minimal_evidence": [corpus.docid(r) for r in q.minimal],
                "traps": [corpus.docid(r) for r in q.traps], "predicates": q.predicates, "hazards": q.hazards,
            }
        env = {"corpus": {"ref": corpus.ref, "fingerprint": corpus.fingerprint}, "search": p.search,
               "screen_lines": p.screen_lines, "max_tool_calls": p.max_tool_calls}
        answer_as = question_mark(reference["answer_kind"])
        instruction = (f"{reference['question']}\nResearch it with the search, open and find tools over the "
                       f"offline encyclopedia, then answer with {answer_as} only.")
        content = {"family": FAMILY, "difficulty": difficulty, "instruction": instruction,
                   "reference": reference, "env": env}
        task_id = f"{FAMILY}-" + hashlib.sha256(canonical_json(content).encode()).hexdigest()[:16]
        return Task(task_id, FAMILY, instruction, difficulty, reference, env, seed)

    def _byo_reference(self, path: str, corpus: Corpus, difficulty: int, rng: random.Random) -> dict[str, Any]:
        questions = [q for q in load_questions(Path(path), corpus) if q["difficulty"] == difficulty]
        if not questions:
            counts = Counter(q["difficulty"] for q in load_questions(Path(path), corpus))
            raise ValueError(f"{path} has no question of difficulty {difficulty} (it has {dict(sorted(counts.items()))}); "
                             "set the config's difficulties to those, or give questions a 'difficulty'")
        reference = rng.choice(questions)
        reference.pop("difficulty")
        return reference

    def make_env(self, task: Task, params: dict[str, Any]) -> ResearchEnv:
        return ResearchEnv(task, env_corpus(task, params))

    def make_teacher(self, tier: str, task: Task, rng: random.Random, params: dict[str, Any]) -> ScriptTeacher:
        corpus = env_corpus(task, params)
        p = params or {}
        if tier == "expert":
            plan, extra = expert_plan(task, corpus, rng, p)
        elif tier in ("reflective", "noisy"):
            plan, extra = detour_plan(task, corpus, rng, p, recover=tier == "reflective")
        elif tier == "random":
            plan, extra = random_plan(task, corpus, rng)
        elif tier == "llm":
            raise ValueError(f"{FAMILY}: the llm tier is run by the LLM agent runner through llm_protocol, "
                             "not by a scripted teacher")
        else:
            raise ValueError(f"{FAMILY} has no {tier!r} teacher; tiers are {list(self.tiers)}")
        return ScriptTeacher(Policy(f"{FAMILY}-{tier}", tier, None, extra), plan)

    def llm_protocol(self, task: Task, params: dict[str, Any]):
        from synth.research.llm import ToolProtocol

        return ToolProtocol(task, params)


family = register(MultihopFamily())
