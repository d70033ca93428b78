"""bf16 autocast tracks float32: each objective trained twice from one initialisation on the same batches, once
under `torch.autocast('cpu', dtype=torch.bfloat16)` (train.py --precision bf16) and once in float32; the float32
validation losses afterwards must agree within --tolerance (relative), and the speed of each is printed.

  python3 models/py/check_bf16.py --data DIR [--steps 300] [--tolerance 0.03] [--config models/configs/fixture.json]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import ModelConfig, Transformer  # noqa: E402
from objectives import load_documents, load_meta, make_batch  # noqa: E402
from train import autocast, batch_loss, lr_at, validation_loss  # noqa: E402


def run(model, objective, precision, batches, meta, tc, val_docs, context):
    tc = {**tc, "precision": precision}
    optim = torch.optim.AdamW(model.parameters(), lr=tc["lr"], betas=(0.9, 0.95), weight_decay=tc["weight_decay"])
    gen = torch.Generator().manual_seed(7)
    model.train()
    started = time.time()
    for step, x in enumerate(batches):
        for group in optim.param_groups:
            group["lr"] = lr_at(step, tc)
        with autocast(tc):
            loss = batch_loss(model, x, objective, meta, tc, gen)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc["grad_clip"])
        optim.step()
    seconds = time.time() - started
    return validation_loss(model, val_docs, objective, meta, tc, context, None), seconds / len(batches)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--config", default="models/configs/fixture.json")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--tolerance", type=float, default=0.03)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    config = json.load(open(args.config))
    meta = load_meta(args.data)
    train_docs = load_documents(args.data, "train", meta["end_of_text_id"])
    val_docs = load_documents(args.data, "validation", meta["end_of_text_id"])
    tc = {**config["train"], "max_steps": args.steps}
    rng = np.random.default_rng(0)
    failed = []
    for objective in ("ar", "diffusion", "block"):
        section = dict(config["model"])
        if objective == "block":
            section["block_size"] = 4
        mc = ModelConfig(**{**section, "vocab_size": meta["vocab_size"], "causal": objective == "ar"})
        torch.manual_seed(0)
        init = Transformer(mc)
        batches = [
            make_batch(train_docs, rng.integers(0, len(train_docs), tc["batch_size"]), mc.context, meta["end_of_text_id"])
            for _ in range(args.steps)
        ]
        fp32, fp32_s = run(copy.deepcopy(init), objective, "fp32", batches, meta, tc, val_docs, mc.context)
        bf16, bf16_s = run(copy.deepcopy(init), objective, "bf16", batches, meta, tc, val_docs, mc.context)
        gap = abs(bf16 - fp32) / fp32
        ok = gap <= args.tolerance
        print(json.dumps({"objective": objective, "steps": args.steps, "val_loss_fp32": round(fp32, 4),
                          "val_loss_bf16": round(bf16, 4), "relative_gap": round(gap, 4), "tolerance": args.tolerance,
                          "s_per_step_fp32": round(fp32_s, 4), "s_per_step_bf16": round(bf16_s, 4),
                          "speedup": round(fp32_s / bf16_s, 2), "ok": ok}), flush=True)
        if not ok:
            failed.append(objective)
    if failed:
        sys.exit(f"bf16 autocast drifted from float32 beyond {args.tolerance:.0%} for: {', '.join(failed)}")
    print("bf16 tracks float32 for every objective")


if __name__ == "__main__":
    main()
