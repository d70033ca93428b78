"""Checks that BD3-LM's vectorised training pass equals generation block by block against a cache.

  python3 models/py/check_block.py

A small random block model: the noised copy's rows from one pass over [x_t ; x_0] (bd3_training_rule) must equal
the rows of each block run alone against the cached keys/values of the clean blocks before it, and the clean
copy's rows must equal an uncached pass under the model's own block-causal rule. Exits non-zero on a mismatch.
"""
from __future__ import annotations

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import ModelConfig, Transformer, bd3_training_rule  # noqa: E402
from objectives import block_diffusion_loss  # noqa: E402


def main():
    torch.manual_seed(0)
    for block, shift in ((4, True), (3, False)):
        cfg = ModelConfig(vocab_size=50, context=14, dim=32, n_layers=2, n_heads=2, causal=False, block_size=block,
                          shift_logits=shift)
        model = Transformer(cfg).eval()
        L = 14  # not a multiple of the block: the last block is short
        x = torch.randint(2, 50, (2, L))
        noisy = x.clone()
        noisy[torch.rand(2, L) < 0.5] = 1
        with torch.no_grad():
            pos = torch.arange(L).repeat(2).unsqueeze(0).expand(2, 2 * L)
            rows, _ = model(torch.cat([noisy, x], 1), position_ids=pos, shift=False, rule=bd3_training_rule(L, block))
            clean_rows, _ = model(x, shift=False)
            worst = float((rows[:, L:] - clean_rows).abs().max())
            for start in range(0, L, block):
                past = None
                if start:
                    _, presents = model(x[:, :start], shift=False)
                    past = presents
                end = min(start + block, L)
                window, _ = model(noisy[:, start:end], past=past, shift=False)
                worst = max(worst, float((rows[:, start:end] - window).abs().max()))
            t = torch.full((2, -(-L // block)), 0.5)
            loss = block_diffusion_loss(model, x, 1, t, generator=torch.Generator().manual_seed(0))
        assert loss.shape == (2,) and torch.isfinite(loss).all(), loss
        if worst > 1e-5:
            sys.exit(f"block {block}: the vectorised pass differs from block-by-block generation by {worst:.2e}")
        print(f"block {block} (shift {shift}): vectorised == block by block against the cache (max diff {worst:.1e})")


if __name__ == "__main__":
    main()
