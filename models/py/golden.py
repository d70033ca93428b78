"""Golden outputs of the reference sampler, for the TypeScript sampler's token-for-token test.

  python3 models/py/golden.py --checkpoint models/work/fixture/diffusion.pt --data models/work/fixture \
      --out test/golden/fixture-sampler.json

Prompts are the first tokens of validation documents; each case records the options, the full output
sequence and the positions committed at every step. Also prints the decoded text of each output.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from objectives import load_documents  # noqa: E402
from onnx_import import load_model  # noqa: E402
from reference_sampler import bd3_generate, llada_generate  # noqa: E402

# (prompt tokens, gen_length, steps, block_length): one token per step, two per step, and uneven counts.
CASES = [(8, 32, 32, 32), (6, 32, 16, 8), (10, 24, 10, 12), (4, 40, 8, 40)]
# Block models (their own block size): (prompt tokens, gen_length, steps per block); the prompt lengths put the
# first block inside the prompt or on a boundary, and two steps per block commit two tokens a step.
BLOCK_CASES = [(7, 16, 4), (8, 16, 2), (5, 12, 4), (3, 24, 1)]


def byte_decoder(tokenizer_dir: str):
    """ids -> text, inverting GPT-2's byte-to-character map used by the byte-level BPE."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    char_to_byte, extra = {}, 0
    for b in range(256):
        if b in printable:
            char_to_byte[chr(b)] = b
        else:
            char_to_byte[chr(256 + extra)] = b
            extra += 1
    with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    special = {t["id"]: t["content"] for t in tok["added_tokens"]}
    vocab = {i: t for t, i in tok["model"]["vocab"].items()}

    def decode(ids):
        out = bytearray()
        for i in ids:
            out += special[i].encode() if i in special else bytes(char_to_byte[c] for c in vocab[i])
        return out.decode("utf-8", errors="replace")

    return decode


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    model, ckpt = load_model(args.checkpoint)  # a checkpoint, or an exported folder (as its graph stores it)
    if model.cfg.causal:
        raise SystemExit(f"{args.checkpoint} is an AR checkpoint; golden sampler outputs need the diffusion model")
    eot, mask = ckpt["data"]["end_of_text_id"], ckpt["data"]["mask_id"]
    docs = load_documents(args.data, "validation", eot)
    decode = byte_decoder(args.data)
    cases = []
    if model.cfg.block_size:
        for i, (n_prompt, gen_length, per_block) in enumerate(BLOCK_CASES):
            prompt = docs[i][:n_prompt].tolist()
            seq, trace = bd3_generate(model, prompt, mask_id=mask, gen_length=gen_length, steps_per_block=per_block)
            cases.append({"prompt": prompt, "gen_length": gen_length, "steps_per_block": per_block,
                          "block_size": model.cfg.block_size, "output": seq, "committed_per_step": trace})
            print(f"[block {model.cfg.block_size}, {gen_length}/{per_block} per block] {decode(prompt)!r} -> "
                  f"{decode(seq[n_prompt:])!r}")
        CASES.clear()  # a block model decodes only its own blocks
    for i, (n_prompt, gen_length, steps, block_length) in enumerate(CASES):
        prompt = docs[i][:n_prompt].tolist()
        seq, trace = llada_generate(model, prompt, mask_id=mask, gen_length=gen_length, steps=steps,
                                    block_length=block_length)
        cases.append({"prompt": prompt, "gen_length": gen_length, "steps": steps, "block_length": block_length,
                      "output": seq, "committed_per_step": trace})
        print(f"[{gen_length}/{steps}/{block_length}] {decode(prompt)!r} -> {decode(seq[n_prompt:])!r}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"checkpoint": os.path.basename(args.checkpoint), "mask_id": mask, "end_of_text_id": eot,
                   "sampler": "bd3" if model.cfg.block_size else "llada",
                   "remasking": "low_confidence", "temperature": 0, "cases": cases}, f)


if __name__ == "__main__":
    main()
