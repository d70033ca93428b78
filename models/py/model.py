"""One transformer for every model: a Llama (RMSNorm, RoPE, SwiGLU), by configuration also Qwen3 (grouped-query
attention, per-head q/k RMSNorm, its own head_dim and RoPE theta, a tied or untied head).

The only architectural switch between the models is the attention rule, which is data: a query at position q may
see a key at position k when block(k) <= block(q). Blocks of one position make it causal (the AR model), one block
spanning everything makes it bidirectional (the LLaDA-style denoiser), blocks of `block_size` positions make it
block-causal (the BD3-LM block-diffusion model). Any of them can run a window of positions against cached keys and
values of the others (`past`); training BD3-LM on noised and clean copies together passes an explicit rule
(`bd3_training_rule`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 2048
    context: int = 256  # longest sequence trained on; RoPE itself has no table, so this is advisory at run time
    dim: int = 256
    n_layers: int = 4
    n_heads: int = 4
    hidden_dim: int = 0  # SwiGLU width; 0 means 8/3 * dim rounded up to a multiple of 32 (Llama's rule)
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    causal: bool = True  # False: bidirectional attention (masked-diffusion denoiser), or block-causal with block_size
    # > 0 (with causal False): block-causal attention, bidirectional inside blocks of this many positions (BD3-LM)
    block_size: int = 0
    # Dream's shifted logits: position i is predicted from the hidden state at i - 1, as in the AR model a
    # denoiser is initialised from, so adaptation keeps the AR readout. Position 0 is never predicted.
    shift_logits: bool = False
    # Qwen3 and other published models (all zero/default for this project's own): key/value heads shared by
    # n_heads / n_kv_heads query heads (0: n_heads), a head width that is not dim / n_heads (0: it is), RMSNorm of
    # each head's queries and keys before RoPE, and a vocabulary head of its own instead of the embedding's.
    n_kv_heads: int = 0
    attn_head_dim: int = 0
    qk_norm: bool = False
    tie_embeddings: bool = True
    # Block models: where blocks begin. "zero": blocks counted from position 0 (this project's BD3-LM); "prompt-end":
    # the first generated position begins a block, the prompt split into blocks backwards from its end (dLLM's
    # BD3LM pads the prompt on the left to whole blocks). Graphs of such a model take the offset as an input.
    block_align: str = "zero"

    def __post_init__(self):
        if self.hidden_dim == 0:
            self.hidden_dim = 32 * math.ceil(8 * self.dim / 3 / 32)
        if self.n_kv_heads == 0:
            self.n_kv_heads = self.n_heads
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads {self.n_heads} must be a multiple of n_kv_heads {self.n_kv_heads}")
        if not self.attn_head_dim and self.dim % self.n_heads:
            raise ValueError(f"dim {self.dim} must be divisible by n_heads {self.n_heads}")
        if self.block_align not in ("zero", "prompt-end"):
            raise ValueError(f"block_align must be 'zero' or 'prompt-end', got {self.block_align!r}")
        if self.head_dim % 2:
            raise ValueError("head_dim must be even for RoPE")
        if self.shift_logits and self.causal:
            raise ValueError("shift_logits is for the bidirectional denoiser; a causal model already predicts i + 1")
        if self.block_size and self.causal:
            raise ValueError("block_size is for the block-diffusion model (causal False); causal is blocks of 1")

    @property
    def rule_block(self) -> int:
        """Positions per attention block: 1 causal, block_size block-causal, 0 bidirectional (one block)."""
        return 1 if self.causal else self.block_size

    @property
    def head_dim(self) -> int:
        return self.attn_head_dim or self.dim // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_cos_sin(position_ids: torch.Tensor, head_dim: int, theta: float):
    """cos/sin of shape (batch, 1, seq, head_dim) for integer positions (batch, seq)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = position_ids.to(torch.float32).unsqueeze(-1) * inv_freq  # (batch, seq, head_dim/2)
    emb = torch.cat([freqs, freqs], dim=-1)  # (batch, seq, head_dim)
    return emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        h, kv, d = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, h * d, bias=False)
        self.wk = nn.Linear(cfg.dim, kv * d, bias=False)
        self.wv = nn.Linear(cfg.dim, kv * d, bias=False)
        self.wo = nn.Linear(h * d, cfg.dim, bias=False)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(d, cfg.norm_eps)
            self.k_norm = RMSNorm(d, cfg.norm_eps)

    def forward(self, x, cos, sin, bias, past=None):
        b, s, _ = x.shape
        h, kv, d = self.cfg.n_heads, self.cfg.n_kv_heads, self.cfg.head_dim
        q = self.wq(x).view(b, s, h, d)
        k = self.wk(x).view(b, s, kv, d)
        if self.cfg.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.transpose(1, 2)  # (batch, heads, seq, head_dim)
        k = k.transpose(1, 2)  # (batch, kv_heads, seq, head_dim)
        v = self.wv(x).view(b, s, kv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # (batch, heads, past+seq, head_dim)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)  # the cache holds the kv heads only (the transformers.js layout)
        if kv != h:  # grouped-query attention: query head i reads kv head i // (h / kv)
            t = k.shape[2]
            k = k.unsqueeze(2).expand(b, kv, h // kv, t, d).reshape(b, h, t, d)
            v = v.unsqueeze(2).expand(b, kv, h // kv, t, d).reshape(b, h, t, d)
        q = q * (1.0 / math.sqrt(d))  # scaled here: fewer elements than the scores (seq x head_dim vs seq x keys)
        if bias is not None and bias.shape[0] == 1:
            # the bias added inside the batched matmul: one pass over the (seq x keys) scores fewer, which is what
            # BD3-LM training over twice the sequence is bound by
            t = k.shape[2]
            scores = torch.baddbmm(bias.reshape(1, s, t), q.reshape(b * h, s, d), k.reshape(b * h, t, d).transpose(1, 2))
            scores = scores.view(b, h, s, t)
        else:
            scores = q @ k.transpose(-2, -1)  # (batch, heads, seq, past+seq)
            if bias is not None:
                scores = scores + bias
        out = F.softmax(scores, dim=-1) @ v  # (batch, heads, seq, head_dim)
        out = out.transpose(1, 2).reshape(b, s, h * d)  # (batch, seq, dim)
        return self.wo(out), present


class SwiGLU(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.w_gate = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)
        self.w_up = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)
        self.w_down = nn.Linear(cfg.hidden_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, cos, sin, bias, past=None):
        a, present = self.attn(self.attn_norm(x), cos, sin, bias, past)
        x = x + a
        return x + self.mlp(self.mlp_norm(x)), present


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        if not cfg.tie_embeddings:
            self.head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled init of the residual projections
            if name.endswith("wo.weight") or name.endswith("w_down.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def head_weight(self) -> torch.Tensor:
        """(vocab, dim): the embedding (tied) or the model's own head."""
        return self.embed.weight if self.cfg.tie_embeddings else self.head.weight

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None, shift=True, rule=None, rows=None,
                block_offset=None):
        """input_ids (batch, seq) -> logits (batch, seq, vocab), presents [(k, v)] per layer.

        attention_mask (batch, past+seq): 1 for positions that may be attended to, 0 for padding or stale cache
        entries (optional).
        past: per layer (k, v), each (batch, heads, past, head_dim), keys after RoPE: an AR model's cache, or a
        denoiser's cached keys/values of the positions outside the window `input_ids` (Fast-dLLM).
        shift=False returns a shifted-logits denoiser's raw rows (row i is the state at i, predicting i + 1).
        rule (seq, past+seq) bool: who may see whom, replacing the config's rule (BD3-LM training).
        rows (n,) int: read out only these rows' states, in this order (no shift applied): training computes the
        vocabulary head only where there are targets.
        block_offset (scalar int64 tensor): block models aligned at the prompt's end: block(p) = (p + offset) // size.
        """
        b, s = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + s).unsqueeze(0).expand(b, s)
        cos, sin = rope_cos_sin(position_ids, self.cfg.head_dim, self.cfg.rope_theta)
        bias = self._attention_bias(b, s, past_len, attention_mask, rule, block_offset)
        x = self.embed(input_ids)
        presents = []
        for i, block in enumerate(self.blocks):
            x, present = block(x, cos, sin, bias, None if past is None else past[i])
            presents.append(present)
        x = self.norm(x)
        if rows is not None:
            return x[:, rows] @ self.head_weight().t(), presents
        logits = x @ self.head_weight().t()  # (batch, seq, vocab)
        if self.cfg.shift_logits and shift:  # position i from state i - 1; position 0 keeps its own (unused)
            logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        return logits, presents

    def _attention_bias(self, b, s, past_len, attention_mask, rule=None, block_offset=None):
        """Additive bias (batch or 1, 1, seq, past+seq): 0 where attention is allowed, a large negative elsewhere.

        The rule is positional: the window's queries sit at positions past_len.. after a cache of positions
        0..past_len-1 (AR and block models; the dual-cache denoiser is bidirectional and needs no rule).
        A finite negative (not -inf) keeps rows that see nothing (queries on padding) free of NaN.
        """
        block = self.cfg.rule_block
        if rule is None and block == 0 and attention_mask is None:
            return None
        allowed = torch.ones(1, 1, s, past_len + s, dtype=torch.bool)
        if rule is not None:
            allowed = rule.view(1, 1, s, past_len + s)
        elif block:
            q_pos = torch.arange(s).unsqueeze(1) + past_len  # (seq, 1)
            k_pos = torch.arange(past_len + s).unsqueeze(0)  # (1, past+seq)
            if block_offset is not None:
                q_pos, k_pos = q_pos + block_offset, k_pos + block_offset
            allowed = (torch.div(k_pos, block, rounding_mode="floor") <= torch.div(q_pos, block, rounding_mode="floor"))
            allowed = allowed.view(1, 1, s, past_len + s)
        if attention_mask is not None:
            allowed = allowed & attention_mask.to(torch.bool).view(b, 1, 1, -1)
        return (~allowed).to(torch.float32) * (torch.finfo(torch.float32).min / 2)  # float32 in the graph too


def bd3_training_rule(length: int, block_size: int) -> torch.Tensor:
    """BD3-LM's vectorised training rule over [noised copy (length) ; clean copy (length)], (2L, 2L) bool.

    A noised block sees itself (bidirectionally) and the clean blocks before it; the clean copy sees itself
    block-causally, never the noised one. So one pass gives every block exactly the view it has at generation time
    against a cache of the finished blocks (Arriola et al. 2025, eq. 8).
    """
    blk = torch.div(torch.arange(length), block_size, rounding_mode="floor")
    q, k = blk.unsqueeze(1), blk.unsqueeze(0)
    noised_noised = q == k
    noised_clean = k < q
    clean_clean = k <= q
    clean_noised = torch.zeros(length, length, dtype=torch.bool)
    return torch.cat([torch.cat([noised_noised, noised_clean], 1), torch.cat([clean_noised, clean_clean], 1)], 0)
