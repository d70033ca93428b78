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
