"""The model-size side of choosing the default pair's shape: equal wall time on this machine, AR objective.

  python3 models/py/sweep_size.py --data models/work/tinystories --minutes 2 [--out docs/sweep]

Each candidate (same vocabulary and context) first runs a few steps to measure its speed here, then trains
for the step count that fills the wall-clock budget (full warm-up and cosine schedule, so every candidate ends
decayed) and is evaluated on the validation split. The AR loss is the proxy: the denoiser starts from these
weights and shares the shape. Writes <out>/size.json and <out>/size.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import ModelConfig, Transformer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Candidates around the 3.74 M recipe, up to its 8 M limit.
CANDIDATES = {
    "d192 x 4 layers": {"dim": 192, "n_layers": 4, "n_heads": 4},
    "d256 x 4 layers": {"dim": 256, "n_layers": 4, "n_heads": 4},
    "d384 x 4 layers": {"dim": 384, "n_layers": 4, "n_heads": 4},
}
TRAIN = {"seed": 1, "batch_size": 16, "lr": 0.002, "min_lr": 0.0002, "weight_decay": 0.1, "grad_clip": 1.0,
         "mask_eps": 0.001, "eval_batches": 4}


def run(script: str, *args: str) -> None:
    subprocess.run([sys.executable, os.path.join(HERE, script), *args], check=True, stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder written by `npm run tokenizer` (vocabulary, context)")
    p.add_argument("--minutes", type=float, default=2.0, help="training wall time per candidate")
    p.add_argument("--out", default="docs/sweep")
    args = p.parse_args()
    with open(os.path.join(args.data, "data.json")) as f:
        meta = json.load(f)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in CANDIDATES.items():
            model = {**shape, "context": meta["context"]}
            params = Transformer(ModelConfig(**model, vocab_size=meta["vocab_size"])).num_parameters()
            probe_cfg = os.path.join(tmp, "probe.json")
            with open(probe_cfg, "w") as f:
                json.dump({"model": model, "train": {**TRAIN, "warmup_steps": 1, "max_steps": 6,
                                                     "eval_every": 10**9}}, f)
            probe = os.path.join(tmp, "probe.pt")
            run("train.py", "--config", probe_cfg, "--objective", "ar", "--data", args.data, "--out", probe)
            state = torch.load(probe, map_location="cpu")["state"]
            os.remove(probe)
            tokens_per_second = state["tokens"] / state["wall_seconds"]
            steps = max(10, int(args.minutes * 60 * tokens_per_second / (TRAIN["batch_size"] * meta["context"])))
            cfg = os.path.join(tmp, "run.json")
            with open(cfg, "w") as f:
                json.dump({"model": model, "train": {**TRAIN, "warmup_steps": max(1, steps // 10),
                                                     "max_steps": steps, "eval_every": 10**9}}, f)
            ckpt = os.path.join(tmp, "run.pt")
            run("train.py", "--config", cfg, "--objective", "ar", "--data", args.data, "--out", ckpt,
                "--minutes", str(args.minutes * 1.5))
            ev = os.path.join(tmp, "eval.json")
            run("evaluate.py", "--checkpoint", ckpt, "--data", args.data, "--out", ev)
            with open(ev) as f:
                result = json.load(f)
            os.remove(ckpt)
            rows.append({"name": name, **shape, "parameters": params, "tokens_per_second": tokens_per_second,
                         "steps": result["steps"], "tokens": result["tokens_trained"],
                         "wall_seconds": result["wall_seconds"], "nats_per_token": result["nats_per_token"],
                         "bits_per_byte": result["bits_per_byte"]})
            print(json.dumps(rows[-1]), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "size.json"), "w") as f:
        json.dump({"minutes": args.minutes, "vocab_size": meta["vocab_size"], "context": meta["context"],
                   "threads": torch.get_num_threads(), "rows": rows}, f, indent=2)
    lines = [f"# Model size at equal wall time ({args.minutes:g} min each, AR objective, vocabulary "
             f"{meta['vocab_size']}, context {meta['context']}, {os.cpu_count()} cores)", "",
             "| candidate | parameters | tokens/s here | steps | tokens | validation nats/token | bits/byte |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['parameters']:,} | {r['tokens_per_second']:,.0f} | {r['steps']} | {r['tokens']:,} | "
              f"{r['nats_per_token']:.3f} | {r['bits_per_byte']:.3f} |" for r in rows]
    with open(os.path.join(args.out, "size.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
