"""Validation metrics, printed and written to JSON.

  python3 models/py/evaluate.py --checkpoint models/work/fixture/ar.pt --data models/work/fixture --out ar.eval.json
  python3 models/py/evaluate.py --checkpoint models/pairs/tinystories/diffusion --data DIR --weights q8

--checkpoint: a training checkpoint, or an exported folder (its weights read back from its graph). --weights: the
metrics of the model with its matrices rounded as a graph would store them (weights.py: fp16, q8, q4).

AR: next-token loss in nats/token and bits/byte (targets up to the first <|endoftext|>, as in training).
Diffusion and block diffusion: the masked-diffusion ELBO (BD3-LM's for a block model, blocks before each block
clean) (LLaDA eq. 3 as a bound on -log p) averaged over a fixed grid of
mask ratios t = (k + 0.5) / K with fixed seeds, in nats per real token (document + its end-of-text) and
bits/byte; plus the padded training loss, for comparison with the training log.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from objectives import ar_loss, block_diffusion_loss, diffusion_loss, load_documents, make_batch  # noqa: E402
from onnx_import import load_model  # noqa: E402
from weights import DTYPES, round_weights  # noqa: E402


def token_bytes(tokenizer_dir: str) -> torch.Tensor:
    """UTF-8 bytes each id stands for: one per byte-level character, none for special tokens."""
    with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    special = {t["id"] for t in tok["added_tokens"]}
    sizes = torch.zeros(len(tok["model"]["vocab"]), dtype=torch.long)
    for token, i in tok["model"]["vocab"].items():
        sizes[i] = 0 if i in special else len(token)
    return sizes


@torch.no_grad()
def evaluate(ckpt_path: str, data_dir: str, max_docs: int = 0, grid: int = 8, batch_size: int = 32,
             weights: str = "fp32") -> dict:
    model, ckpt = load_model(ckpt_path)
    round_weights(model, weights)
    eot, mask = ckpt["data"]["end_of_text_id"], ckpt["data"]["mask_id"]
    L = model.cfg.context
    docs = load_documents(data_dir, "validation", eot)
    if max_docs:
        docs = docs[:max_docs]
    sizes = token_bytes(data_dir)
    out = {"checkpoint": os.path.basename(ckpt_path), "objective": ckpt["objective"], "documents": len(docs),
           "context": L, "tokens_trained": ckpt["state"]["tokens"], "steps": ckpt["state"]["step"],
           "wall_seconds": ckpt["state"]["wall_seconds"], "weights": weights}
    if ckpt["objective"] == "ar":
        nats = count = nbytes = 0.0
        for i in range(0, len(docs), batch_size):
            x = make_batch(docs, range(i, min(i + batch_size, len(docs))), L, eot)
            s, c, _, valid = ar_loss(model, x, eot, reduce=False)
            nats, count = nats + s.item(), count + c.item()
            nbytes += (sizes[x[:, 1:]] * valid).sum().item()
        out.update(nats_per_token=nats / count, bits_per_byte=nats / math.log(2) / nbytes, tokens=int(count))
    else:
        elbo = real = nbytes = padded = 0.0
        for i in range(0, len(docs), batch_size):
            x = make_batch(docs, range(i, min(i + batch_size, len(docs))), L, eot)
            lens = torch.tensor([min(len(docs[j]) + 1, L) for j in range(i, i + x.shape[0])])
            real += lens.sum().item()
            nbytes += sizes[x].sum().item()
            for k in range(grid):
                gen = torch.Generator().manual_seed(1000 + k)
                if model.cfg.block_size:  # BD3-LM's bound: every block at the same ratio here
                    t = torch.full((x.shape[0], -(-L // model.cfg.block_size)), (k + 0.5) / grid)
                    per_seq = block_diffusion_loss(model, x, mask, t, generator=gen)
                else:
                    t = torch.full((x.shape[0],), (k + 0.5) / grid)
                    per_seq = diffusion_loss(model, x, mask, t, generator=gen)
                elbo += per_seq.sum().item() * L / grid  # nats per sequence, averaged over the grid
                padded += per_seq.sum().item() / grid
        out.update(elbo_nats_per_token=elbo / real, elbo_bits_per_byte=elbo / math.log(2) / nbytes,
                   padded_loss=padded / len(docs), grid=grid, tokens=int(real))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", default=None)
    p.add_argument("--max-docs", type=int, default=0, help="0 = every validation document")
    p.add_argument("--grid", type=int, default=8, help="mask ratios in the ELBO grid")
    p.add_argument("--weights", default="fp32", choices=DTYPES, help="round the matrices as a graph stores them")
    args = p.parse_args()
    result = evaluate(args.checkpoint, args.data, args.max_docs, args.grid, weights=args.weights)
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
