"""Pipeline configuration: YAML, validated strictly, hashed into provenance.

Unknown keys are errors, not silently ignored: a misspelt ``fraction`` that quietly falls
back to its default produces a dataset nobody asked for. For the same reason a key given twice
is an error (YAML would keep the last one), and every number that ends up in an int64 column
or a file size is bounded here, so a value such as ``seed: 2**70`` fails at load, not after
the whole synthesis.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stores.names import InvalidNameError, Ref, check_name, check_tag, version_number
from stores.schema import KINDS, TIERS, canonical_json
from synth.corrupt import CorruptionError, OperatorSpec
from synth.llm.client import check_base_url
from synth.registry import family_names, get_family

INT64_MAX = 2**63 - 1


class ConfigError(ValueError):
    pass


class _Strict(BaseModel):
    # field docstrings are the descriptions the Prefect deployment form shows
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class FamilySpec(_Strict):
    family: str
    """Task family name (`trajforge families` lists them), e.g. maze, form, multihop."""
    count: int = Field(ge=0, le=10_000_000)
    """Episodes of this family in the version (distinct tasks; failed experts are replaced)."""
    difficulties: list[int] = Field(default=[1, 2, 3], min_length=1)
    """Difficulty levels drawn from, 1 (easiest) to 5."""
    tiers: dict[str, float] = Field(default={"expert": 0.7, "noisy": 0.3})
    """Policy tiers and their weights: expert, reflective, noisy, random, llm."""
    images: Literal["off", "task", "steps"] | None = None  # None: the family's default
    """Screenshots: off, task (first only) or steps (after every step); empty: the family's default."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Family-specific settings (e.g. a research corpus); checked by the family."""
    samples_per_task: int = Field(default=1, ge=1, le=256)
    """Grouped sampling: K distinct episodes per task (best-of-N, preference pairs, GRPO groups);
    ``count`` stays the number of episodes, so it must be a multiple of K."""

    def family_params(self) -> dict[str, Any]:
        """What the family's factories receive: ``params`` plus the image switch when set."""
        return dict(self.params) if self.images is None else {**self.params, "images": self.images}

    @field_validator("difficulties")
    @classmethod
    def _difficulties(cls, v: list[int]) -> list[int]:
        if any(d < 1 or d > 5 for d in v):
            raise ValueError(f"difficulty levels are 1..5, got {v}")
        return v

    @model_validator(mode="after")
    def _groups(self) -> FamilySpec:
        k = self.samples_per_task
        if k > 1 and self.count % k:
            raise ValueError(f"count {self.count} is not a multiple of samples_per_task {k}: a task's group is "
                             f"{k} episodes, so use e.g. count {self.count - self.count % k or k}")
        if k > 1 and self.tiers.get("llm", 0) > 0:
            raise ValueError("samples_per_task > 1 needs scripted tiers (the llm tier gives one reply per task)")
        return self

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(TIERS))
        if unknown:
            raise ValueError(f"unknown tier(s) {unknown}; tiers are {list(TIERS)}")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("tier weights must be >= 0 with a positive sum")
        return v


class SynthConfig(_Strict):
    reasoning: list[FamilySpec] = Field(default_factory=list)
    """Reasoning task families (puzzles, algorithms, mazes, ...)."""
    gui: list[FamilySpec] = Field(default_factory=list)
    """GUI-agent task families (simulated apps with screenshots)."""
    research: list[FamilySpec] = Field(default_factory=list)
    """Deep-research task families (search/open/find over a corpus)."""

    @model_validator(mode="before")
    @classmethod
    def _known_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(KINDS))
            if unknown:
                raise ValueError(f"unknown kind(s) {unknown}; kinds are {list(KINDS)}")
        return data


class RetrieveConfig(_Strict):
    enabled: bool = True
    """Index this run's rows and search the prior version's index."""
    prior: str | None = "latest"  # a tag/version of this dataset, a full name@ref, or null
    """Version searched: a tag or version of this dataset, a full name@ref, or empty for none."""
    k: int = Field(default=5, ge=1, le=1000)
    """Neighbours kept per row."""
    dim: int = Field(default=256, ge=8, le=4096)
    """Dimension of the hashing embedder."""
    # Behavior Retrieval's recipe: this share of the published version is prior rows retrieved
    # as the most similar to this run's rows (0: only store the neighbours)
    mix_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Share of the published version made of retrieved prior rows (0: only store the neighbours)."""
    mix_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)  # cosine a mixed row needs
    """Cosine a prior row needs to be mixed in (empty: no threshold)."""
    mix_view: Literal["task", "trajectory"] = "trajectory"
    """Text compared when mixing: the task or the whole trajectory."""

    @field_validator("prior")
    @classmethod
    def _prior(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "@" in v:
            Ref.parse(v)
        elif version_number(v) is None and v != "latest":
            check_name(v, "tag")
        return v


class CorruptOperator(_Strict):
    """One corruption operator with its settings (a bare name takes the defaults)."""

    name: str
    """Operator name (synth.corrupt.OPERATORS), e.g. swap_adjacent, obs_noise, reward_random."""
    c: float | None = None
    """Rate in [0, 1]: share of steps touched (at least one), or for whole-trajectory operators
    the probability a sampled row is corrupted; empty: one step, or every row."""
    eps: float = 1.0
    """Scale, 0 or more (noise level, share of lines or elements, box sizes, RIQL's epsilon)."""
    mode: str = "random"
    """random, or adversarial (needs scorer: the lowest-rated of `candidates` draws is kept)."""
    kinds: list[str] | None = None
    """Restrict the operator to these trajectory kinds (each must be one it supports)."""
    scorer: str | None = None
    """Adversarial mode: the scorer whose lowest-rated candidate is kept: a `score:` entry's name
    (its params are used, e.g. a learned_rm's model) or any scorer name, e.g. verifier."""
    candidates: int = 8
    """Adversarial mode: random corruptions drawn per row before the scorer picks one (1 to 64)."""


class CorruptConfig(_Strict):
    operators: list[str | CorruptOperator] = Field(default=["swap_adjacent"])
    """Corruption operators applied to sampled clean rows: names, or {name, c, eps, mode, kinds}."""
    fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    """Share of clean rows copied into the labelled `corrupt` split."""

    @field_validator("operators")
    @classmethod
    def _operators(cls, v: list[str | CorruptOperator]) -> list[str | CorruptOperator]:
        for i, entry in enumerate(v):
            _spec(entry, i)
        return v

    def specs(self) -> list[OperatorSpec]:
        """The checked operator requests, in config order."""
        return [_spec(entry, i) for i, entry in enumerate(self.operators)]


def _spec(entry: str | CorruptOperator, i: int) -> OperatorSpec:
    name = entry if isinstance(entry, str) else entry.name
    try:
        if isinstance(entry, str):
            return OperatorSpec(entry)
        spec = OperatorSpec(entry.name, entry.c, entry.eps, entry.mode, None if entry.kinds is None else tuple(entry.kinds),
                            entry.scorer, entry.candidates)
    except CorruptionError as e:
        raise ValueError(f"entry {i} ({name!r}): {e}") from None
    return spec


class LLMConfig(_Strict):
    """An OpenAI-compatible chat-completions server for ``llm``-tier episodes (vLLM, SGLang,
    OpenAI). ``api_key_env`` names the environment variable holding the key; the key itself
    never appears in a config, a manifest or a log."""

    base_url: str
    """Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."""
    model: str = Field(min_length=1, max_length=512)
    """Model name sent with each request."""
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Environment variable holding the API key (the key itself never goes in a config)."""
    mode: Literal["solve", "serg"] = "solve"  # reasoning families: one reply per task
    """Reasoning families: solve (one reply per task) or serg."""
    max_rounds: int = Field(default=30, ge=1, le=1000)  # gui/research agents: model turns per episode
    """GUI/research agents: model turns per episode."""
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    """Requests in flight at once (the server's rate limit)."""
    timeout_s: float = Field(default=60.0, gt=0, le=86_400)
    """Seconds before a request is abandoned."""
    max_retries: int = Field(default=5, ge=0, le=20)  # retries after the first attempt
    """Retries after the first attempt."""
    backoff_s: float = Field(default=0.5, ge=0.0, le=3_600)
    """First retry delay in seconds (doubles each retry)."""
    backoff_max_s: float = Field(default=20.0, ge=0.0, le=3_600)
    """Longest retry delay in seconds."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature."""
    max_tokens: int = Field(default=2048, ge=1, le=10_000_000)
    """Most tokens per reply."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Extra request fields passed to the server."""
    cache: str | None = None  # SQLite request cache; default <store>/_cache/llm.sqlite
    """SQLite request cache file (default <store>/_cache/llm.sqlite)."""

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        return check_base_url(v)


class PublishConfig(_Strict):
    tags: list[str] = Field(default_factory=list)
    """Tags pointed at the new version (latest is always moved)."""
    shard_bytes: int = Field(default=256 * 1024 * 1024, gt=0, le=2**40)
    """Target size of a Parquet shard in bytes."""
    row_group_rows: int = Field(default=1024, gt=0, le=2**31 - 1)
    """Rows per Parquet row group."""

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for tag in v:
            check_tag(tag)
        return v


class DecontaminateConfig(_Strict):
    """A gate before publish: rows that contain an evaluation item are removed, tagged
    (``scores['contamination']``) or fail the run."""

    eval_sets: list[str] = Field(min_length=1)  # .jsonl/.parquet files or name@ref versions
    """Evaluation sets: .jsonl/.parquet files or name@ref versions."""
    field: str = "text"
    """Text field of evaluation files."""
    ngram: int = Field(default=13, ge=1, le=64)
    """Words per n-gram."""
    min_overlap: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of an item's n-grams a row must hold to be flagged (0: any)."""
    max_matches: int = Field(default=10, ge=1)
    """An n-gram found in more rows than this is boilerplate and ignored."""
    mode: Literal["remove", "tag", "fail"] = "remove"
    """remove the flagged rows, tag them (scores['contamination']) or fail the run."""


class RunnerConfig(_Strict):
    """Where synthesis shards run. It changes where the work happens, never what is made, so it
    is left out of the config hash: the same config gives the same version on every runner."""

    kind: Literal["local", "dask"] = "local"
    """local: a process pool on this machine (see workers); dask: a Dask cluster (prefect-dask)."""
    address: str | None = Field(default=None, pattern=r"^(tcp|tls|inproc|ucx)://\S+$")
    """dask: an existing scheduler, e.g. tcp://10.0.0.5:8786 (empty: a LocalCluster on this machine)."""
    n_workers: int = Field(default=2, ge=1, le=1024)
    """dask without an address: worker processes of the LocalCluster."""
    threads_per_worker: int = Field(default=1, ge=1, le=256)
    """dask without an address: threads per LocalCluster worker (shards are GIL-bound Python: keep 1)."""
    connect_timeout_s: float = Field(default=10.0, gt=0, le=600)
    """dask with an address: seconds to wait for the scheduler before the run fails."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"kind": data} if isinstance(data, str) else data  # `runner: dask`

    @model_validator(mode="after")
    def _address_needs_dask(self) -> RunnerConfig:
        if self.address is not None and self.kind != "dask":
            raise ValueError("runner.address names a Dask scheduler: set runner.kind: dask, or remove address")
        return self


class ScorerSpec(_Strict):
    """One scorer of ``score.scorers``: its registered name, an optional instance name (``as``)
    under which its outputs are written, and its parameters (checked by the scorer)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str
    as_: str | None = Field(default=None, alias="as", pattern=r"^[a-z][a-z0-9_]*$")
    params: dict[str, Any] = Field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        return {"name": self.name, "as": self.as_, "params": dict(self.params)}


DEFAULT_SCORERS = [ScorerSpec(name="verifier"), ScorerSpec(name="prefix_correct")]


class ScoreConfig(_Strict):
    """The score stage: scorers run in order on batches of ``batch_size`` rows (every split,
    the corrupt one included). Absent: verifier + prefix_correct."""

    scorers: list[ScorerSpec] = Field(default_factory=lambda: list(DEFAULT_SCORERS), min_length=1)
    batch_size: int = Field(default=2000, ge=1, le=1_000_000)

    def entries(self) -> list[dict[str, Any]]:
        return [s.entry() for s in self.scorers]


class PipelineConfig(_Strict):
    dataset: str
    """Dataset the run publishes a new version of."""
    seed: int = Field(default=0, ge=0, le=INT64_MAX)  # episode seeds are derived from it and stored as int64
    """Run seed; every episode seed derives from it (same config and seed, same rows)."""
    shard_size: int = Field(default=500, ge=1, le=10_000_000)
    """Episodes per shard (one Prefect task each)."""
    # processes that synthesize shards in parallel: null = one per CPU core, 1 = in-process
    workers: int | None = Field(default=None, ge=1, le=1024)
    """Processes that synthesize shards in parallel (empty: one per CPU core; 1: in-process)."""
    synth: SynthConfig
    """What to synthesize, by kind: families with counts, difficulties and tiers."""
    retrieve: RetrieveConfig = RetrieveConfig()
    """Indexing and behaviour retrieval against a prior version."""
    corrupt: CorruptConfig = CorruptConfig()
    """Labelled corruptions of clean rows (the robustness split)."""
    publish: PublishConfig = PublishConfig()
    """Tags and Parquet layout of the published version."""
    llm: LLMConfig | None = None
    """Model backend for llm-tier episodes (an OpenAI-compatible server)."""
    decontaminate: DecontaminateConfig | None = None
    """Gate before publish against evaluation sets."""
    runner: RunnerConfig = RunnerConfig()
    """Where shards run: local (default) or dask (a LocalCluster or a scheduler address)."""
    score: ScoreConfig = ScoreConfig()
    """Scorers run on every row (default: verifier + prefix_correct)."""
    select: dict[str, Any] | None = None
    """The selection stage (filters.selection.SelectConfig): publishes a second version."""

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        return check_name(v)

    @model_validator(mode="after")
    def _corrupt_requests(self) -> PipelineConfig:
        kinds = {kind for kind, _ in self.families()}
        for i, spec in enumerate(self.corrupt.specs()):
            if kinds and not any(spec.supports(k) for k in kinds):
                raise ValueError(
                    f"corrupt.operators entry {i} ({spec.name!r}) edits only {', '.join(sorted(spec.operator.kinds))} "
                    f"trajectories and this config synthesizes {', '.join(sorted(kinds))}: remove it or add such a family")
            if spec.scorer is not None:  # imported only here: loading every scorer module is slow
                from filters.scorers import load_all
                from filters.scorers.base import REGISTRY

                load_all()
                known = set(REGISTRY) | {e.get("as") or e["name"] for e in self.score.entries()}
                if spec.scorer not in known:
                    raise ValueError(f"corrupt.operators entry {i} ({spec.name!r}): unknown scorer {spec.scorer!r}; "
                                     f"name a `score:` scorer or one of {', '.join(sorted(REGISTRY))}")
        return self

    def families(self) -> list[tuple[str, FamilySpec]]:
        return [(kind, spec) for kind in KINDS for spec in getattr(self.synth, kind)]

    def in_store(self, store_root: str) -> PipelineConfig:
        """This config with its scorers' model versions looked up in ``store_root``
        (:func:`filters.scorers.base.in_store`): the store the run reads and publishes to."""
        from filters.scorers.base import in_store

        scorers = [ScorerSpec.model_validate(e) for e in in_store(self.score.entries(), store_root)]
        return self.model_copy(update={"score": self.score.model_copy(update={"scorers": scorers})})

    def config_hash(self) -> str:
        what = self.model_dump(mode="json", exclude={"runner"})  # where shards run is not what they make
        return hashlib.sha256(canonical_json(what).encode()).hexdigest()[:16]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping key given twice (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if first != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (lines {first} and {key_node.start_mark.line + 1}); "
                    "keep one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path, store_root: str | None = None) -> PipelineConfig:
    """The config at ``path``, checked; scorers that open a model version look it up in
    ``store_root`` (default: TRAJFORGE_HOME), the store the run will work on."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give the config's YAML file, e.g. configs/demo.yaml")
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not a UTF-8 text file (byte {e.start} is {e.object[e.start]:#04x}); "
                          "give a YAML config") from None
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping (dataset:, synth:, ...), got {type(data).__name__}")
    return parse_config(data, str(path), store_root)


def parse_config(data: dict[str, Any], source: str = "config", store_root: str | None = None) -> PipelineConfig:
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as e:
        lines = [f"  - {'.'.join(map(str, err['loc'])) or '(top level)'}: {_message(err)}" for err in e.errors()]
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(lines)) from None
    except (ValueError, InvalidNameError) as e:
        raise ConfigError(f"{source} is invalid: {e}") from None
    _check_families(config, source)
    _check_scoring(config if store_root is None else config.in_store(store_root), source)
    return config


def _check_scoring(config: PipelineConfig, source: str) -> None:
    """Unknown scorers, their parameters, clashing output names and selection rules fail at
    load time, naming the entry, not after the synthesis."""
    from filters.scorers.base import ScorerError, build_scorer, build_scorers
    from filters.selection import SelectionError, parse_select

    for i, spec in enumerate(config.score.scorers):
        try:
            build_scorer(spec.entry(), config.seed)
        except ScorerError as e:
            raise ConfigError(f"{source}: score.scorers[{i}] ({spec.name}): {e}") from None
    try:
        build_scorers(config.score.entries(), config.seed)
    except ScorerError as e:
        raise ConfigError(f"{source}: score.scorers: {e}") from None
    if config.select is not None:
        try:
            parse_select(config.select)
        except SelectionError as e:
            raise ConfigError(f"{source}: select: {e}") from None


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not a pipeline setting; check the spelling against configs/demo.yaml)"
    return err["msg"]


def _check_families(config: PipelineConfig, source: str) -> None:
    for kind, spec in config.families():
        try:
            family = get_family(spec.family)
        except KeyError:
            raise ConfigError(
                f"{source}: synth.{kind}: unknown family {spec.family!r}; known families: {family_names()}"
            ) from None
        if family.kind != kind:
            raise ConfigError(f"{source}: synth.{kind}: family {spec.family!r} makes {family.kind} trajectories")
        check_params = getattr(family, "check_params", None)  # families with structured params check them now
        if check_params is not None:
            try:
                check_params(spec.family_params())
            except ValueError as e:
                raise ConfigError(f"{source}: synth.{kind}.{spec.family}: {e}") from None
        if spec.tiers.get("llm", 0) > 0 and config.llm is None:
            raise ConfigError(
                f"{source}: synth.{kind}.{spec.family}: tier 'llm' needs a model backend: add an `llm:` "
                "section with base_url and model (an OpenAI-compatible server such as vLLM)"
            )
        missing = sorted(t for t, w in spec.tiers.items() if w > 0 and t not in family.tiers)
        if missing:
            raise ConfigError(
                f"{source}: synth.{kind}.{spec.family}: no teacher for tier(s) {missing}; it has {list(family.tiers)}"
            )
