"""Convert a published Qwen3-family checkpoint (Hugging Face layout) into this project's ONNX model folder.

  npm run export:hf -- --from DIR --kind ar|mdlm|bd3lm --out DIR [--dtype fp32|fp16|q8|q4] [--block-size 32]
      [--compute kernels|rebuild|fp16] [--manifest PATH --family NAME] [--external-data auto|always|never] [--golden FILE]

--from: a folder with config.json, *.safetensors, tokenizer.json, tokenizer_config.json (a chat template there or in
chat_template.jinja), or a Hugging Face id (owner/name): its files are downloaded from --hub (https://huggingface.co)
at --revision (main) into --download-dir first (kept: a second conversion reads them from there).
Kinds: ar = Qwen3 as is (causal, the transformers.js KV layout, onnx/model.onnx); mdlm = dLLM's A2D masked diffusion
(bidirectional, unshifted logits) and bd3lm = dLLM's A2D block diffusion (block-causal, unshifted logits, blocks aligned
at the prompt's end), each as one graph, onnx/model_cached.onnx, in the layouts of this project's dual cache and exact
block cache; with an empty cache it runs whole sequences, so no second graph is written (config: diffusion.graphs).
--dtype: the weights' storage (weights.py). fp32 as trained; fp16 halves; q8 = 8 bits in blocks of 128 (or 32) along
the input and q4 = 4 bits in blocks of 32, each block with a float scale. --compute (q8, q4): onnxruntime's
MatMulNBits reads the packed bits in every matrix product and the embedding lookup widens only the rows it gathers
(kernels, the default), or standard operators rebuild every weight as float32 at every pass (rebuild). fp16: one Cast
widens each weight at every pass, or with --compute fp16 the matrix products run in float16 on the stored weights
(for WebGPU adapters with shader-f16; norms, attention and the residual stream stay float32). Arithmetic is float32
otherwise; the page keeps the stored form in memory (graph.ts createSession).
Graphs whose weights pass 2 GB keep them in one external file beside the graph (`model.onnx_data`), as ONNX's
protobuf cannot hold more.
--manifest PATH --family NAME: add this folder to a family's manifest.json (the embedded pairs' format, with the
files and their sizes), which is what the page loads from a URL or a Hugging Face id.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.dirname(__file__))
from hf_checkpoint import load_qwen3  # noqa: E402
from export_onnx import CACHED_GRAPH, architecture_fields, cache_config, export, export_with_cache  # noqa: E402
from kinds import CONVERTED  # noqa: E402
from model import Transformer  # noqa: E402
from weights import CHUNK_BYTES, COMPUTES, DTYPES, finish_graph, round_weights  # noqa: E402

MASK_TOKEN = "<|mask|>"  # what dLLM adds to Qwen tokenizers for A2D models (dllm/utils/models.py)


# ---- a checkpoint from the hub ----

HUB_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"]
OPTIONAL_HUB_FILES = ["generation_config.json", "chat_template.jinja", "model.safetensors.index.json"]


def download_checkpoint(repo: str, hub: str, revision: str, dest: str) -> str:
    """The files export_hf reads, from hub/repo/resolve/revision/, into dest (skipping those already there)."""
    import urllib.error
    import urllib.request

    os.makedirs(dest, exist_ok=True)

    def fetch(name: str, required: bool) -> bool:
        path = os.path.join(dest, name)
        if os.path.exists(path):
            return True
        url = f"{hub.rstrip('/')}/{repo}/resolve/{revision}/{name}"
        try:
            with urllib.request.urlopen(url) as response, open(path + ".part", "wb") as f:
                shutil.copyfileobj(response, f, length=1 << 22)
        except urllib.error.HTTPError as err:
            if err.code == 404 and not required:
                return False
            raise SystemExit(f"could not download {url}: HTTP {err.code} (a private or gated repository needs a token: "
                             "download it yourself and pass the folder)")
        except urllib.error.URLError as err:
            raise SystemExit(f"could not download {url}: {err.reason}")
        os.replace(path + ".part", path)  # whole files only: an interrupted download is fetched again
        print(f"downloaded {name} ({os.path.getsize(path) / 1e6:.1f} MB)")
        return True

    for name in HUB_FILES:
        fetch(name, True)
    for name in OPTIONAL_HUB_FILES:
        fetch(name, False)
    index = os.path.join(dest, "model.safetensors.index.json")
    shards = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    for shard in shards:
        fetch(shard, True)
    return dest


def is_hub_id(text: str) -> bool:
    parts = text.split("/")
    return (len(parts) == 2 and all(parts) and ".." not in text and not os.path.exists(text)
            and all(c.isalnum() or c in "-_." for c in text.replace("/", "")))


# ---- tokenizer, config, card, manifest ----

def copy_tokenizer(src: str, out: str) -> dict:
    """tokenizer.json and tokenizer_config.json (with the chat template inside), the mask token added as dLLM does
    when missing. Returns {mask_id, eos_id}."""
    tok = json.load(open(os.path.join(src, "tokenizer.json")))
    config = json.load(open(os.path.join(src, "tokenizer_config.json")))
    jinja = os.path.join(src, "chat_template.jinja")
    if "chat_template" not in config and os.path.exists(jinja):
        config["chat_template"] = open(jinja).read()
    ids = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    ids.update(tok["model"]["vocab"])
    mask = config.get("mask_token") or MASK_TOKEN
    if isinstance(mask, dict):
        mask = mask["content"]
    if mask not in ids:
        new_id = max(ids.values()) + 1
        tok["added_tokens"].append({"id": new_id, "content": mask, "single_word": False, "lstrip": False,
                                    "rstrip": False, "normalized": False, "special": True})
        ids[mask] = new_id
    config["mask_token"] = mask
    eos = config.get("eos_token")
    eos = eos["content"] if isinstance(eos, dict) else eos
    if eos not in ids:
        raise ValueError(f"{src}: eos_token {eos!r} is not in tokenizer.json")
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump(config, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2, ensure_ascii=False)
    return {"mask_id": ids[mask], "eos_id": ids[eos]}


def write_config(out: str, model: Transformer, hf: dict, kind: str, tok: dict, dtype: str, source: str, files: dict,
                 compute: str):
    """config.json, once the graphs (`files`: their paths and sizes) are written."""
    cfg, k = model.cfg, CONVERTED[kind]
    if tok["mask_id"] >= cfg.vocab_size:
        raise ValueError(f"mask token id {tok['mask_id']} is outside the model's vocabulary of {cfg.vocab_size}")
    config = {
        "architectures": [k.converted_architecture],
        "model_type": "qwen3" if k.causal else kind,
        "is_causal": k.causal,
        **architecture_fields(cfg),
        "qk_norm": True,
        "bos_token_id": hf.get("bos_token_id"), "eos_token_id": tok["eos_id"], "pad_token_id": hf.get("pad_token_id"),
        "mask_token_id": tok["mask_id"], "torch_dtype": "float32",
        "transformers.js_config": {"dtype": "fp32"},
        # compute: how the graph reads the stored weights (weights.py): MatMulNBits "kernels", "rebuild" to float32
        # with standard operators, or plain "fp32"; arithmetic is float32 either way
        "weights": {"dtype": dtype, "compute": compute, "source": source, "files": files},
    }
    if not k.causal:
        # one graph, the cached one: with an empty cache it runs whole sequences (src/core/models/onnx/load.ts)
        config["diffusion"] = {"objective": kind, "mask_token_id": tok["mask_id"], "shift_logits_in_graph": False,
                               "cache": cache_config(k), "graphs": "cached-only"}
        if k.block:
            config["diffusion"].update({"block_size": cfg.block_size, "block_align": "prompt-end"})
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)


def write_card(out: str, model: Transformer, hf: dict, kind: str, dtype: str, source: str, licence: str, files: dict,
               compute: str):
    cfg = model.cfg
    total = sum(files.values())
    what = CONVERTED[kind].converted_what.format(block_size=cfg.block_size)
    lines = [
        f"---\nlicense: {licence}\nlibrary_name: onnxruntime-web\n---\n",
        f"# {os.path.basename(os.path.abspath(out))} ({kind}, {dtype})\n",
        f"Converted by this project's `npm run export:hf` from `{source}`; weights under the **{licence}** licence "
        "of that checkpoint (read its own model card for terms and training data).\n",
        f"- Model: {what}.",
        f"- {model.num_parameters():,} parameters; {cfg.n_layers} layers, {cfg.n_heads} query / {cfg.n_kv_heads} key-value "
        f"heads of {cfg.head_dim}, width {cfg.dim}, SwiGLU {cfg.hidden_dim}, vocabulary {cfg.vocab_size}, "
        f"{'tied' if cfg.tie_embeddings else 'untied'} head.",
        f"- Weights stored as {dtype}, "
        f"{'matrix products in float16, the rest in float32' if compute == 'fp16' else 'computed in float32'}; "
        f"download {total / 1e6:.1f} MB:",
    ]
    lines += [f"  - `{f}`: {n / 1e6:.2f} MB" for f, n in sorted(files.items())]
    lines.append("\nNot evaluated by this project: it was converted, not trained, here.\n")
    open(os.path.join(out, "README.md"), "w").write("\n".join(lines) + "\n")


# Past this many parameters a model needs WebGPU: on WASM a 0.6B model's pass takes seconds (README)
WEBGPU_ONLY_PARAMETERS = 100_000_000


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()


def update_manifest(path: str, family: str, kind: str, out: str, files: dict, title: str, dtype: str,
                    parameters: int, compute: str):
    manifest = json.load(open(path)) if os.path.exists(path) else {"default": family, "pairs": {}}
    base = os.path.dirname(os.path.abspath(path))
    folder = os.path.relpath(os.path.abspath(out), base)
    entry = manifest["pairs"].setdefault(family, {"title": title, "description": title})
    entry[CONVERTED[kind].role] = folder
    entry.setdefault("files", {})
    entry["files"] = {k: v for k, v in entry["files"].items() if not k.startswith(folder + "/")}
    entry["files"].update({f"{folder}/{f}": n for f, n in files.items()})
    # each file's SHA-256: the page refuses a download whose bytes are not these (and keeps nothing of it)
    entry["sha256"] = {k: v for k, v in entry.get("sha256", {}).items() if k in entry["files"]}
    entry["sha256"].update({f"{folder}/{f}": sha256_of(os.path.join(out, f)) for f in files})
    entry["converted"] = True
    entry["dtype"] = dtype
    if compute == "fp16":  # the page refuses it on a WebGPU adapter without shader-f16
        entry["compute"] = "fp16"
    else:
        entry.pop("compute", None)
    if parameters > WEBGPU_ONLY_PARAMETERS:
        entry["requires"] = "webgpu"
    entry.setdefault("genLength", 128)  # dLLM's max_new_tokens for these models
    json.dump(manifest, open(path, "w"), indent=2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--kind", required=True, choices=tuple(CONVERTED))
    p.add_argument("--out", required=True)
    p.add_argument("--dtype", default="fp32", choices=DTYPES)
    p.add_argument("--compute", default="kernels", choices=COMPUTES,
                   help="q8/q4: onnxruntime's MatMulNBits reading the packed bits (kernels), or standard operators "
                        "rebuilding each weight at every pass (rebuild: any backend; the bench compares them); "
                        "fp16: the matrix products in float16 (for WebGPU with shader-f16; weights.py)")
    p.add_argument("--slice-mb", type=float, default=CHUNK_BYTES / 1024**2,
                   help="kernels: a matrix product whose weight is wider than this as float32 runs in slices of "
                        "its outputs (weights.py); the tests set it small to cover that path")
    p.add_argument("--block-size", type=int, default=32, help="bd3lm: the block size it was trained with (dLLM: 32)")
    p.add_argument("--external-data", default="auto", choices=("auto", "always", "never"))
    p.add_argument("--manifest", default=None)
    p.add_argument("--family", default=None)
    p.add_argument("--licence", default="apache-2.0", help="the source checkpoint's licence, from its model card (Qwen3's: apache-2.0)")
    p.add_argument("--golden", default=None, help="write reference logits of fixed inputs (the parity test's)")
    p.add_argument("--hub", default="https://huggingface.co", help="where a Hugging Face id is downloaded from")
    p.add_argument("--revision", default="main")
    p.add_argument("--download-dir", default=os.path.join("models", "work", "hf"),
                   help="where a hub id's files are kept (one folder per id)")
    args = p.parse_args()
    if is_hub_id(args.src):
        args.src = download_checkpoint(args.src, args.hub, args.revision,
                                       os.path.join(args.download_dir, args.src.replace("/", "--")))
    if not os.path.isdir(args.src):
        p.error(f"--from {args.src}: neither a folder nor a Hugging Face id (owner/name)")
    if bool(args.manifest) != bool(args.family):
        p.error("--manifest and --family go together")
    if args.compute == "fp16" and args.dtype != "fp16":
        p.error("--compute fp16 (the products in float16) goes with --dtype fp16")

    # how the graph computes with its weights (weights.py), as the config and the card say
    compute = (args.compute if args.dtype in ("q8", "q4") else
               ("fp16" if args.compute == "fp16" else "rebuild") if args.dtype == "fp16" else "fp32")
    kind = CONVERTED[args.kind]
    model, hf = load_qwen3(args.src, args.kind, args.block_size if kind.block else 0)
    stored = round_weights(model, args.dtype)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    tok = copy_tokenizer(args.src, args.out)
    source = hf.get("_name_or_path") or os.path.abspath(args.src)
    # one graph per model: a denoiser's cached graph also runs whole sequences (an empty cache), so a second
    # whole-sequence graph would double the download and the memory of a 0.6B model for nothing
    graph = "model.onnx" if kind.causal else os.path.basename(CACHED_GRAPH)
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, graph)
        if kind.causal:
            export(model, path)
        else:
            export_with_cache(model, path, window_only=kind.window_only)
        counts = finish_graph(path, model, stored, args.dtype, args.external_data, compute,
                              int(args.slice_mb * 1024**2))
        shutil.rmtree(os.path.join(args.out, "onnx"))  # no graph of an earlier export stays beside the new one
        os.makedirs(os.path.join(args.out, "onnx"))
        graphs = {}
        for f in sorted(os.listdir(tmp)):  # the graph and its external data, if any
            shutil.copyfile(os.path.join(tmp, f), os.path.join(args.out, "onnx", f))
            graphs[f"onnx/{f}"] = os.path.getsize(os.path.join(tmp, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_config(args.out, model, hf, args.kind, tok, args.dtype, source, graphs, compute)
    files = {f: os.path.getsize(os.path.join(args.out, f))
             for f in ("tokenizer.json", "tokenizer_config.json", "config.json")} | graphs
    write_card(args.out, model, hf, args.kind, args.dtype, source, args.licence, files, compute)
    if args.manifest:
        update_manifest(args.manifest, args.family, args.kind, args.out, files, f"{args.family} (converted, {args.dtype}{', computed in float16' if compute == 'fp16' else ''})",
                        args.dtype, model.num_parameters(), compute)
    if args.golden:
        write_golden(args.golden, model, args.kind, tok["mask_id"], tok["eos_id"])
    print(f"{args.kind} {args.dtype}: {args.src} -> {args.out} ({sum(files.values()) / 1e6:.2f} MB, "
          f"{model.num_parameters():,} parameters" + (f"; weights: {counts['kernels']} read by kernels, "
                                                      f"{counts['rebuilt']} rebuilt" if args.dtype != "fp32" else "")
          + ")")


def golden_inputs(model: Transformer, kind: str, mask_id: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(2, min(model.cfg.vocab_size, 500), (2, 19), generator=g).tolist()
    if not CONVERTED[kind].causal:
        rows[1] = [mask_id if i % 3 == 2 else t for i, t in enumerate(rows[1])]
    return rows


# The reference-sampler cases: (prompt length, max_new_tokens, steps, block size). The second of each commits
# [3, 2, 3] per block of 8 (dLLM's round-half-to-even schedule; LLaDA's even split would be [3, 3, 2]); the bd3lm
# prompts of 5 and 8 tokens put the first generated block after 3 and 0 positions of left padding.
SAMPLER_CASES = {"mdlm": [(7, 16, 16, 8), (5, 24, 9, 8), (6, 16, 16, 16)],
                 "bd3lm": [(5, 16, 16, None), (8, 24, 9, None)]}


def write_golden(path: str, model: Transformer, kind: str, mask_id: int, eos_id: int):
    """Logits of fixed inputs from the PyTorch model with the stored weights (a bd3lm graph with offset 3), and
    the dLLM reference sampler's tokens and steps on a few prompts."""
    from dllm_reference import bd3lm_sample, mdlm_sample

    rows = golden_inputs(model, kind, mask_id)
    offset = 3 if CONVERTED[kind].block else None
    with torch.no_grad():
        logits, _ = model(torch.tensor(rows), block_offset=None if offset is None else torch.tensor([offset]))
    cases = []
    g = torch.Generator().manual_seed(1)
    for length, new, steps, block in SAMPLER_CASES.get(kind, []):
        prompt = torch.randint(2, 500, (length,), generator=g).tolist()
        if not CONVERTED[kind].block:
            seq, trace = mdlm_sample(model, prompt, mask_id=mask_id, max_new_tokens=new, steps=steps, block_size=block)
        else:
            block = model.cfg.block_size
            seq, trace = bd3lm_sample(model, prompt, mask_id=mask_id, eos_id=eos_id, max_new_tokens=new, steps=steps,
                                      block_size=block)
        cases.append({"prompt": prompt, "max_new_tokens": new, "steps": steps, "block_size": block,
                      "sequence": seq, "trace": trace})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    json.dump({"kind": kind, "input_ids": rows, "block_offset": offset, "dims": list(logits.shape),
               "logits": np.round(logits.numpy().astype(np.float64), 6).ravel().tolist(), "sampler": cases},
              open(path, "w"))


if __name__ == "__main__":
    main()
