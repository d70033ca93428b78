"""A port of the dLLM library's samplers for its A2D models (dllm/core/samplers/mdlm.py and bd3lm.py, as called by
examples/a2d/{mdlm,bd3lm}/sample.py), one sequence at temperature 0 with low-confidence remasking, so the TypeScript
sampler can be checked against it token for token and step for step.

What the port keeps from dLLM (read from its source, ZHZisZZ/dllm):
- The number of tokens committed per step: LinearAlphaScheduler's reverse process, round(n_left * (1 - s/t)) with
  PyTorch's round-half-to-even, steps that commit nothing dropped (utils.get_num_transfer_tokens). Steps per block
  = ceil(steps / number of blocks).
- MDLM: the canvas is the prompt and max_new_tokens masks, attention bidirectional over all of it, logits
  unshifted (right_shift_logits False); blocks of block_size counted from the prompt's end; a step predicts every
  position and commits, among the current block's masks, the most confident (the probability of the argmax). No
  early stop: every step runs.
- BD3LM: the prompt is padded on the left to whole blocks (padding neither attends nor is attended to; RoPE
  positions skip it), so generated blocks begin at the prompt's end; the prefix is run once per block with the
  block-causal rule and its keys/values cached; each step runs only the current block against that cache; after a
  block in which end-of-text appears, generation stops.
The one deviation (the project's samplers never predict the mask token, README): the mask token's logit is set to
-inf before the argmax and the softmax. Ties in confidence go to the lower position (torch.topk leaves them open).
"""
from __future__ import annotations

import math

import torch


def transfer_counts(n_masked: int, steps: int) -> list[int]:
    """dLLM's get_num_transfer_tokens for one row with the linear schedule, zeros dropped."""
    counts, left = [], n_masked
    for j in range(steps):
        t, s = (steps - j) / steps, (steps - j - 1) / steps
        # 1 - (1 - alpha(s)) / (1 - alpha(t)) with alpha(u) = 1 - u, in float32 as the scheduler computes it
        one = torch.tensor(1.0, dtype=torch.float32)
        s32, t32 = torch.tensor(s, dtype=torch.float32), torch.tensor(t, dtype=torch.float32)
        prob = 1 - float((one - (one - s32)) / (one - (one - t32)))
        k = int(torch.round(torch.tensor(left, dtype=torch.float64) * prob))
        k = min(k, left)
        left -= k
        if k:
            counts.append(k)
        if left == 0:
            break
    return counts


def _commit(x, logits, lo: int, hi: int, k: int, mask_id: int) -> list[int]:
    """Commit the k most confident masked positions in [lo, hi) of x (in place); logits rows align with x."""
    logits = logits.double().clone()
    logits[:, mask_id] = -math.inf
    probs = torch.softmax(logits, dim=-1)
    best = probs.argmax(dim=-1)
    conf = probs.gather(-1, best.unsqueeze(-1)).squeeze(-1)
    candidates = sorted((p for p in range(lo, hi) if x[p] == mask_id), key=lambda p: (-conf[p].item(), p))
    for p in candidates[:k]:
        x[p] = int(best[p])
    return candidates[:k]


@torch.no_grad()
def mdlm_sample(model, prompt: list[int], *, mask_id: int, max_new_tokens: int, steps: int, block_size: int):
    """Returns (sequence, positions committed per step)."""
    P = len(prompt)
    x = torch.tensor(prompt + [mask_id] * max_new_tokens)
    num_blocks = math.ceil(max_new_tokens / block_size)
    per_block = math.ceil(steps / num_blocks)
    trace = []
    for b in range(num_blocks):
        lo, hi = P + b * block_size, min(P + (b + 1) * block_size, P + max_new_tokens)
        for k in transfer_counts(int((x[lo:hi] == mask_id).sum()), per_block):
            logits, _ = model(x.unsqueeze(0))
            trace.append(_commit(x, logits[0], lo, hi, k, mask_id))
    return x.tolist(), trace


@torch.no_grad()
def bd3lm_sample(model, prompt: list[int], *, mask_id: int, eos_id: int, max_new_tokens: int, steps: int,
                 block_size: int):
    """Returns (sequence up to the last block generated, positions committed per step). The model's block rule with
    `block_offset` = the left padding is dLLM's physical block ids; positions are the logical ones."""
    P = len(prompt)
    pad = -P % block_size
    offset = torch.tensor([pad])
    x = torch.tensor(prompt)
    num_blocks = math.ceil(max_new_tokens / block_size)
    per_block = math.ceil(steps / num_blocks)
    trace, generated = [], 0
    for _ in range(num_blocks):
        width = min(block_size, max_new_tokens - generated)
        _, past = model(x.unsqueeze(0), block_offset=offset)  # the prefix, block-causal, cached
        start = x.shape[0]
        x = torch.cat([x, torch.full((width,), mask_id)])
        for k in transfer_counts(width, per_block):
            block = x[start:].unsqueeze(0)
            logits, _ = model(block, position_ids=torch.arange(start, start + width).unsqueeze(0), past=past,
                              block_offset=offset)
            chosen = _commit(x[start:], logits[0], 0, width, k, mask_id)
            trace.append([start + p for p in chosen])
        generated += width
        if (x[start:] == eos_id).any():
            break
    return x.tolist(), trace
