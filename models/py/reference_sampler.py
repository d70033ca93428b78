"""Reference sampler: LLaDA's low-confidence remasking at temperature 0, semi-autoregressive blocks.

Written from the LLaDA paper (Nie et al. 2025, Algorithm 5 "low-confidence remasking", and its
semi-autoregressive variant) so the TypeScript sampler can be checked against it token for token.
"""
from __future__ import annotations

import torch


def transfer_counts(n_masked: int, steps: int) -> list[int]:
    """Tokens committed at each of `steps` steps for a block of `n_masked` masks: floor(N/S) + [i < N mod S]."""
    return [n_masked // steps + (1 if i < n_masked % steps else 0) for i in range(steps)]


@torch.no_grad()
def llada_generate(model, prompt: list[int], *, mask_id: int, gen_length: int = 32, steps: int = 16,
                   block_length: int = 8) -> tuple[list[int], list[list[int]]]:
    """Greedy (temperature 0) LLaDA sampling with probability confidence.

    Args:
        prompt: token ids, at least one.
        gen_length: masks appended after the prompt; a multiple of block_length.
        steps: total denoising steps; a multiple of gen_length / block_length (steps per block >= 1).
        block_length: semi-autoregressive block size; blocks are decoded left to right.
    Returns the full sequence (prompt + generation) and, per step, the positions committed in order.
    Ties in confidence go to the lower position.
    """
    if gen_length % block_length:
        raise ValueError(f"gen_length {gen_length} must be a multiple of block_length {block_length}")
    num_blocks = gen_length // block_length
    if steps % num_blocks:
        raise ValueError(f"steps {steps} must be a multiple of the number of blocks {num_blocks}")
    steps_per_block = steps // num_blocks
    x = torch.tensor([prompt + [mask_id] * gen_length], dtype=torch.long)
    trace: list[list[int]] = []
    for b in range(num_blocks):
        lo, hi = len(prompt) + b * block_length, len(prompt) + (b + 1) * block_length
        counts = transfer_counts(int((x[0, lo:hi] == mask_id).sum()), steps_per_block)
        for k in counts:
            logits, _ = model(x)
            probs = torch.softmax(logits[0].double(), dim=-1)  # (seq, vocab), float64 like the TS sampler
            best = probs.argmax(dim=-1)
            conf = probs.gather(-1, best.unsqueeze(-1)).squeeze(-1)
            candidates = [p for p in range(lo, hi) if x[0, p] == mask_id]
            candidates.sort(key=lambda p: (-conf[p].item(), p))
            chosen = candidates[:k]
            for p in chosen:
                x[0, p] = best[p]
            trace.append(chosen)
    return x[0].tolist(), trace


@torch.no_grad()
def bd3_generate(model, prompt: list[int], *, mask_id: int, gen_length: int, steps_per_block: int
                 ) -> tuple[list[int], list[list[int]]]:
    """Greedy block diffusion (BD3-LM, Arriola et al. 2025): the model's own blocks, counted from position 0, left
    to right; inside a block LLaDA's low-confidence remasking with probability confidence, `steps_per_block` steps
    (one per mask when a block holds fewer masks, as the first block after a prompt may). Each step runs the
    sequence up to the block's end with the model's block-causal rule (no cache: the cache is exact, so the TS
    sampler's cached run must give the same tokens). Returns the sequence and the positions committed per step.
    """
    size = model.cfg.block_size
    x = torch.tensor([prompt + [mask_id] * gen_length], dtype=torch.long)
    end = len(prompt) + gen_length
    trace: list[list[int]] = []
    for lo in range(len(prompt) // size * size, end, size):
        hi = min(lo + size, end)
        n = int((x[0, lo:hi] == mask_id).sum())
        for k in transfer_counts(n, min(steps_per_block, n)):
            logits, _ = model(x[:, :hi])
            probs = torch.softmax(logits[0].double(), dim=-1)
            best = probs.argmax(dim=-1)
            conf = probs.gather(-1, best.unsqueeze(-1)).squeeze(-1)
            candidates = sorted((p for p in range(lo, hi) if x[0, p] == mask_id), key=lambda p: (-conf[p].item(), p))
            for p in candidates[:k]:
                x[0, p] = best[p]
            trace.append(candidates[:k])
    return x[0].tolist(), trace
