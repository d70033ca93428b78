"""Train the denoiser (LLaDA objective), the block-diffusion model (BD3-LM objective, `block_size` in the config's
model section) or the AR baseline (next-token), one script.

  python3 models/py/train.py --config models/configs/fixture.json --objective ar \
      --data models/work/fixture --out models/work/fixture/ar.pt [--minutes 5] [--init-from ar.pt]

Seeded and deterministic for a given thread count; resumes from --out when it exists; stops at
max_steps or when --minutes of wall time have passed, whichever comes first, always saving.
Needs Debian's libopenblas0-openmp for usable CPU speed (see README).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from kinds import kind_of  # noqa: E402
from model import ModelConfig, Transformer  # noqa: E402
from onnx_import import load_exported  # noqa: E402
from objectives import (ar_loss, block_diffusion_loss, diffusion_loss, load_documents, load_meta, make_batch,  # noqa: E402
                        make_packed_batch, padding_weights, sentence_end_ids)


def lr_at(step: int, tc: dict) -> float:
    """Linear warm-up, then cosine decay to min_lr at max_steps."""
    if step < tc["warmup_steps"]:
        return tc["lr"] * (step + 1) / tc["warmup_steps"]
    progress = min(1.0, (step - tc["warmup_steps"]) / max(1, tc["max_steps"] - tc["warmup_steps"]))
    return tc["min_lr"] + 0.5 * (tc["lr"] - tc["min_lr"]) * (1 + math.cos(math.pi * progress))


def autocast(tc: dict):
    """bf16 autocast for the forward pass (the backward follows it); weights, gradients and AdamW stay float32."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=tc.get("precision") == "bf16")


def mask_range(tc: dict, training: bool) -> tuple[float, float]:
    """The range the mask ratio t is drawn from: [mask_eps, 1], or in training train.mask_range when given (BD3-LM's
    clipped schedule: a narrower range lowers the variance of the loss for small blocks). Validation always draws
    from [mask_eps, 1], so its loss stays the ELBO and comparable across runs."""
    eps = tc["mask_eps"]
    lo, hi = tc.get("mask_range", [eps, 1.0]) if training else (eps, 1.0)
    if not 0 < lo < hi <= 1:
        raise ValueError(f"train.mask_range must be [lo, hi] with 0 < lo < hi <= 1, got {[lo, hi]}")
    return lo, hi


def batch_loss(model, x, objective, meta, tc, gen, training=True):
    if objective == "ar":
        return ar_loss(model, x, meta["end_of_text_id"])
    lo, hi = mask_range(tc, training)
    if objective == "block":
        blocks = -(-x.shape[1] // model.cfg.block_size)
        t = lo + (hi - lo) * torch.rand(x.shape[0], blocks, generator=gen)
        return block_diffusion_loss(model, x, meta["mask_id"], t, generator=gen).mean()
    t = lo + (hi - lo) * torch.rand(x.shape[0], generator=gen)
    weights = padding_weights(x, meta["end_of_text_id"], tc.get("pad_weight", 1.0))
    return diffusion_loss(model, x, meta["mask_id"], t, generator=gen, weights=weights).mean()


@torch.no_grad()
def validation_loss(model, docs, objective, meta, tc, context, sentence_ends) -> float:
    """Mean loss over the first eval_batches of validation examples, with a fixed seed (comparable over steps)."""
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    bs = tc["batch_size"]
    losses = []
    for start in range(0, min(len(docs), bs * tc["eval_batches"]), bs):
        x = make_batch(docs, range(start, min(start + bs, len(docs))), context, meta["end_of_text_id"], sentence_ends)
        losses.append(batch_loss(model, x, objective, meta, tc, gen, training=False).item())
    model.train()
    return float(np.mean(losses))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="JSON with 'model' and 'train' sections")
    p.add_argument("--objective", required=True, choices=["ar", "diffusion", "block"])
    p.add_argument("--data", required=True, help="folder written by `npm run tokenizer`")
    p.add_argument("--out", required=True, help="checkpoint path (resumed from when it exists)")
    p.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget for this run")
    p.add_argument("--max-steps", type=int, default=None, help="overrides train.max_steps (the schedule's length)")
    p.add_argument("--stop-at", type=int, default=None,
                   help="stop (finished) at this step, the schedule still run to max_steps: a comparison at equal steps")
    p.add_argument("--init-from", default=None,
                   help="start from another checkpoint's weights (AR -> diffusion), or from an exported model folder")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--block-size", type=int, default=None, help="overrides model.block_size (objective block)")
    p.add_argument("--mask-range", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="overrides train.mask_range: training draws each mask ratio from [LO, HI] (BD3-LM's clipped "
                        "schedule); validation keeps [mask_eps, 1]")
    p.add_argument("--precision", choices=["bf16", "fp32"], default=None,
                   help="forward/backward under bf16 autocast (float32 master weights, optimizer and loss; 2.2-2.4x "
                        "faster on CPUs with AVX-512 BF16) or plain float32; default: train.precision, else fp32")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    with open(args.config) as f:
        config = json.load(f)
    tc = dict(config["train"])
    if args.precision is not None:
        tc["precision"] = args.precision
    tc.setdefault("precision", "fp32")
    if tc["precision"] not in ("bf16", "fp32"):
        p.error(f"train.precision must be bf16 or fp32, got {tc['precision']!r}")
    if args.max_steps is not None:
        tc["max_steps"] = args.max_steps
    if args.mask_range is not None:
        tc["mask_range"] = args.mask_range
    try:
        mask_range(tc, training=True)
    except ValueError as e:
        p.error(str(e))
    meta = load_meta(args.data)
    model_section = dict(config["model"])
    if args.block_size is not None:
        model_section["block_size"] = args.block_size
    if args.objective != "block":
        model_section.pop("block_size", None)
    elif not model_section.get("block_size"):
        p.error("the block objective needs model.block_size in the config (or --block-size)")
    mc = ModelConfig(**{**model_section, "vocab_size": meta["vocab_size"], "causal": args.objective == "ar"})
    context = mc.context

    torch.manual_seed(tc["seed"])
    model = Transformer(mc)
    optim = torch.optim.AdamW(model.parameters(), lr=tc["lr"], betas=(0.9, 0.95), weight_decay=tc["weight_decay"])
    state = {"step": 0, "tokens": 0, "wall_seconds": 0.0, "log": [], "init_from": None}
    rng = np.random.default_rng(tc["seed"])
    gen = torch.Generator().manual_seed(tc["seed"] + 1)

    if os.path.exists(args.out):
        ckpt = torch.load(args.out, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        optim.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
        rng.bit_generator.state = ckpt["numpy_rng"]
        gen.set_state(ckpt["torch_rng"])
        print(f"resumed {args.out} at step {state['step']}", flush=True)
    elif args.init_from:
        if os.path.isdir(args.init_from):  # an exported folder (a committed model whose checkpoint is not kept)
            exported, hf = load_exported(args.init_from)
            # the folder's own training record (export_onnx.py), when it has one: the card keeps the chain
            done = hf.get("training") or {"step": 0, "tokens": 0, "wall_seconds": 0.0, "init_from": None}
            src = {"model": exported.state_dict(), "objective": done.get("objective", kind_of(exported.cfg).role),
                   "state": {k: done.get(k) for k in ("step", "tokens", "wall_seconds", "init_from")}}
        else:
            src = torch.load(args.init_from, map_location="cpu")
        model.load_state_dict(src["model"])  # same shapes; only the attention rule differs
        state["init_from"] = {
            "path": os.path.basename(args.init_from),
            "objective": src["objective"],
            "step": src["state"]["step"],
            "tokens": src["state"]["tokens"],
            "wall_seconds": src["state"]["wall_seconds"],
            "init_from": src["state"].get("init_from"),  # the chain, for the model card's compute
        }
        print(f"initialised from {args.init_from} ({src['objective']}, {src['state']['tokens']} tokens)", flush=True)

    train_docs = load_documents(args.data, "train", meta["end_of_text_id"])
    val_docs = load_documents(args.data, "validation", meta["end_of_text_id"])
    sentence_ends = sentence_end_ids(args.data) if tc.get("end_long_documents") else None
    # "rows": "padded" (each row one story from its start, end-of-text to the context) or "packed" (windows of the
    # stories joined end to end, each followed by one end-of-text: no padding)
    if tc.get("rows", "padded") not in ("padded", "packed"):
        raise ValueError(f"train.rows must be padded or packed, got {tc['rows']!r}")
    packed = tc.get("rows") == "packed"
    stream = np.concatenate([np.append(d, meta["end_of_text_id"]) for d in train_docs]) if packed else None
    print(
        f"{args.objective}: {model.num_parameters():,} parameters, {len(train_docs)} train docs, "
        f"context {context}, threads {args.threads}",
        flush=True,
    )

    def save():
        tmp = args.out + ".tmp"
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optim.state_dict(),
                "model_config": mc.to_dict(),
                "train_config": tc,
                "objective": args.objective,
                "data": {k: meta[k] for k in ("corpus", "vocab_size", "end_of_text_id", "mask_id", "splits")},
                "state": state,
                "numpy_rng": rng.bit_generator.state,
                "torch_rng": gen.get_state(),
            },
            tmp,
        )
        os.replace(tmp, args.out)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.train()
    started = time.time()
    budget = args.minutes * 60
    last_save = started
    end = tc["max_steps"] if args.stop_at is None else min(args.stop_at, tc["max_steps"])
    while state["step"] < end and time.time() - started < budget:
        step = state["step"]
        for group in optim.param_groups:
            group["lr"] = lr_at(step, tc)
        if packed:
            x = make_packed_batch(stream, rng.integers(0, len(stream) - context, tc["batch_size"]), context)
        else:
            x = make_batch(
                train_docs, rng.integers(0, len(train_docs), tc["batch_size"]), context, meta["end_of_text_id"],
                sentence_ends
            )
        t0 = time.time()
        with autocast(tc):
            loss = batch_loss(model, x, args.objective, meta, tc, gen)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc["grad_clip"])
        optim.step()
        dt = time.time() - t0
        state["step"] += 1
        state["tokens"] += x.numel()
        state["wall_seconds"] += dt
        if state["step"] % tc["eval_every"] == 0 or state["step"] == tc["max_steps"]:
            val = validation_loss(model, val_docs, args.objective, meta, tc, context, sentence_ends)
            entry = {
                "step": state["step"],
                "tokens": state["tokens"],
                "train_loss": round(loss.item(), 4),
                "val_loss": round(val, 4),
                "lr": lr_at(step, tc),
                "tokens_per_second": round(x.numel() / dt),
                "wall_seconds": round(state["wall_seconds"], 1),
            }
            state["log"].append(entry)
            print(json.dumps(entry), flush=True)
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    done = "finished" if state["step"] >= end else "stopped by the time budget"
    print(f"{done} at step {state['step']} ({state['tokens']:,} tokens, {state['wall_seconds']:.0f} s); saved {args.out}")


if __name__ == "__main__":
    main()
