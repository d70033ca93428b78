"""Data and the two training objectives, shared by train.py and evaluate.py.

Examples: each is one document from its start, truncated to the context, then <|endoftext|> padding up
to the context length, so the denoiser learns to fill the tail with end-of-text. With `end_long_documents`
(train config), a document longer than the context is cut after its last whole sentence that fits and ends with
<|endoftext|>: otherwise a fifth of TinyStories examples run to the context end with no ending, and the denoiser
learns that texts need not end (measured in docs/sweep/retrain.md).
"""
from __future__ import annotations

import json
import os
import re

import numpy as np
import torch
import torch.nn.functional as F

from model import ModelConfig, Transformer, bd3_training_rule


def load_meta(data_dir: str) -> dict:
    with open(os.path.join(data_dir, "data.json")) as f:
        return json.load(f)


def load_documents(data_dir: str, split: str, eot_id: int) -> list[np.ndarray]:
    """Token id arrays per document (without the trailing <|endoftext|>)."""
    path = os.path.join(data_dir, f"{split}.bin")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: run `npm run tokenizer -- --out {data_dir}` first")
    ids = np.fromfile(path, dtype=np.uint16).astype(np.int64)
    ends = np.flatnonzero(ids == eot_id)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [ids[a:b] for a, b in zip(starts, ends) if b > a]


def sentence_end_ids(data_dir: str) -> np.ndarray:
    """Ids of the tokens that end a sentence ('.', '!', '?', alone or with a closing quote), from tokenizer.json."""
    with open(os.path.join(data_dir, "tokenizer.json")) as f:
        vocab = json.load(f)["model"]["vocab"]
    return np.array(sorted(i for tok, i in vocab.items() if re.fullmatch(r'"?[.!?]"?', tok)), dtype=np.int64)


def make_batch(docs: list[np.ndarray], indices, context: int, eot_id: int, sentence_ends=None) -> torch.Tensor:
    """(batch, context) int64: each document from its start, then <|endoftext|> padding.

    sentence_ends (token ids): cut a document that does not fit after its last sentence end that leaves room
    for the <|endoftext|> (one with no sentence end in reach is truncated as before).
    """
    batch = np.full((len(indices), context), eot_id, dtype=np.int64)
    for row, i in enumerate(indices):
        doc = docs[i]
        if len(doc) >= context and sentence_ends is not None:
            ends = np.flatnonzero(np.isin(doc[: context - 1], sentence_ends))
            if len(ends):
                doc = doc[: ends[-1] + 1]
        doc = doc[:context]
        batch[row, : len(doc)] = doc
    return torch.from_numpy(batch)


def make_packed_batch(stream: np.ndarray, starts, context: int) -> torch.Tensor:
    """(batch, context) int64: windows of the documents joined end to end, each followed by one <|endoftext|>
    (`stream`), from the given offsets: no padding; a row ends wherever the window does (issue 25's packed rows)."""
    return torch.from_numpy(np.stack([stream[s:s + context] for s in starts]).astype(np.int64))


def padding_weights(x: torch.Tensor, eot_id: int, pad_weight: float) -> torch.Tensor | None:
    """(batch, L) weights of each position's loss: 1 up to and including a row's first <|endoftext|>, `pad_weight`
    for the padding after it (None when it is 1: every position counts the same, as trained before)."""
    if pad_weight == 1.0:
        return None
    is_eot = x == eot_id
    after = (torch.cumsum(is_eot.long(), dim=1) - is_eot.long()) > 0
    return torch.where(after, torch.full(x.shape, pad_weight), torch.ones(x.shape))


def ar_loss(model: Transformer, x: torch.Tensor, eot_id: int, reduce: bool = True):
    """Next-token cross-entropy over targets up to and including the first <|endoftext|>.

    Later padding targets are skipped: AR generation stops at the first end-of-text.
    Returns mean nats/token, or (sum of nats, number of targets) when reduce is False.
    """
    logits, _ = model(x[:, :-1])
    logits = logits.float()  # the loss in float32, also under bf16 autocast
    targets = x[:, 1:]
    is_eot = targets == eot_id
    # valid while no end-of-text has appeared strictly before this target
    seen_before = (torch.cumsum(is_eot.long(), dim=1) - is_eot.long()) > 0
    valid = ~seen_before
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="none")
    nll = nll.view_as(targets) * valid
    if reduce:
        return nll.sum() / valid.sum()
    return nll.sum(), valid.sum(), nll, valid


def diffusion_loss(model: Transformer, x: torch.Tensor, mask_id: int, t: torch.Tensor, generator=None, weights=None):
    """LLaDA's masked-diffusion loss for given mask ratios t (batch,).

    Each token is masked independently with probability t; loss = sum over masked positions of
    -log p(x0_i | x_t), divided by t, averaged over batch * length (LLaDA, Nie et al. 2025, eq. 3).
    Returns the per-sequence losses (batch,) already divided by t and by the length. `weights` (batch, L), when
    given, scale each position's term (padding_weights).
    """
    b, L = x.shape
    masked = torch.rand(b, L, generator=generator) < t.unsqueeze(1)
    if model.cfg.shift_logits:
        masked[:, 0] = False  # nothing predicts position 0; at run time it is the prompt's first token
    noisy = torch.where(masked, torch.full_like(x, mask_id), x)
    logits, _ = model(noisy)
    logits = logits.float()  # the loss in float32, also under bf16 autocast
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), x.reshape(-1), reduction="none").view(b, L)
    if weights is not None:
        nll = nll * weights
    return (nll * masked).sum(dim=1) / t / L


def block_diffusion_loss(model: Transformer, x: torch.Tensor, mask_id: int, t: torch.Tensor, generator=None):
    """BD3-LM's loss, vectorised: one pass over [x_t ; x_0] with `bd3_training_rule`, LLaDA's 1/t weighting.

    t (batch, blocks): a mask ratio per block, so every block of a sequence is trained at its own noise level (as
    each is at generation time). Loss on the masked positions of the noised copy only; the clean copy supplies the
    keys/values a block sees of the blocks before it. Shifted logits: position i is read from the state at i - 1,
    which for a block's first position is the clean copy's last position of the block before (at generation time,
    the row that entered the cache). Returns per-sequence losses (batch,) divided by t and by the length.
    """
    b, L = x.shape
    B = model.cfg.block_size
    t_pos = t.repeat_interleave(B, dim=1)[:, :L]  # (batch, L)
    masked = torch.rand(b, L, generator=generator) < t_pos
    if model.cfg.shift_logits:
        masked[:, 0] = False  # nothing predicts position 0; at run time it is the prompt's first token
    noisy = torch.where(masked, torch.full_like(x, mask_id), x)
    positions = torch.arange(L).repeat(2).unsqueeze(0).expand(b, 2 * L)
    rows = torch.arange(L)  # the noised copy's row i predicts position i
    if model.cfg.shift_logits:  # row i - 1, from the clean copy (rows L..2L-1) at a block's first position
        rows = torch.where(rows % B == 0, L + rows - 1, rows - 1).clamp(min=0)
    logits, _ = model(torch.cat([noisy, x], 1), position_ids=positions, rule=bd3_training_rule(L, B), rows=rows)
    logits = logits.float()  # the loss in float32, also under bf16 autocast
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), x.reshape(-1), reduction="none").view(b, L)
    return (nll * masked / t_pos).sum(dim=1) / L


def load_checkpoint(path: str) -> tuple[Transformer, dict]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    ckpt = torch.load(path, map_location="cpu")
    model = Transformer(ModelConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt
