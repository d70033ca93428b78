"""Export a checkpoint to a Hugging Face-layout model folder with an ONNX graph (float32, opset 17).

  python3 models/py/export_onnx.py --checkpoint models/work/fixture/ar.pt --tokenizer models/work/fixture \
      --out models/pairs/fixture/ar [--metrics models/work/fixture/ar.eval.json] [--golden test/golden/x.json]

Diffusion: one graph, onnx/model_cached.onnx (config.json diffusion.graphs "cached-only"; --both-graphs keeps the
whole-sequence graph onnx/model.onnx, input_ids (batch, seq) int64 -> logits (batch, seq, vocab) float32, beside it):
the weights over a window of positions against cached keys/values of the others
(Fast-dLLM's prefix and dual cache): input_ids and position_ids (batch, window), attention_mask (batch, past+window),
past_key_values.{i}.key/value (batch, heads, past, head_dim) -> logits (batch, window, vocab), unshifted (row j
is the state at the window's j-th position), and present.{i}.key/value (batch, heads, window, head_dim), the
window's own keys (after RoPE) and values.
  python3 models/py/export_onnx.py --from-exported models/pairs/fixture/diffusion \
      --check-golden models/pairs/fixture/golden/diffusion-logits.json
adds the cached graph to a folder exported before it existed, rebuilding the model from the folder's own graph.
--weights fp16|q8 stores every matrix in that form (weights.py; q8: 8 bits in blocks of 128 with a float scale), the
few standard nodes that rebuild it as float32 beside it: the runtime folds them when it loads the graph (config.json
weights.compute "fold"), so the model computes in float32 at float32 speed from a quarter of the download (issue
27). The model is rounded first, so goldens, cards and the graph are the stored model's.
  python3 models/py/export_onnx.py --recompress models/pairs/tinystories/ar --weights q8 --golden G.json
writes an exported folder's graph again with its weights stored as --weights (read back from its graph).
AR: the transformers.js `llama` layout with a KV cache: input_ids, attention_mask, position_ids,
past_key_values.{i}.key/value -> logits, present.{i}.key/value, each (batch, heads, seq, head_dim).
Block diffusion (BD3-LM): onnx/model_cached.onnx alone (with --both-graphs, onnx/model.onnx beside it: the whole
sequence under the block-causal rule, shifted logits applied), in the AR model's layout (presents = past + window, logits
unshifted): a window after a cache of positions 0..past-1 under the same rule, bidirectional inside a block, so
finished blocks enter the cache exactly, as an AR model's tokens do.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from kinds import Kind, kind_of  # noqa: E402
from model import Transformer  # noqa: E402
from objectives import load_checkpoint, load_documents  # noqa: E402
from model_card import WEIGHTS_NOTE, write_model_card  # noqa: E402
from onnx_import import load_exported  # noqa: E402
from weights import finish_graph, round_weights  # noqa: E402

OPSET = 17


class DiffusionGraph(nn.Module):
    def __init__(self, model: Transformer):
        super().__init__()
        self.model = model

    def forward(self, input_ids, *block_offset):
        return self.model(input_ids, block_offset=block_offset[0] if block_offset else None)[0]


def takes_block_offset(model: Transformer) -> bool:
    """Block models aligned at the prompt's end (dLLM's BD3LM) take `block_offset` (int64, shape [1]): block(p) =
    (p + offset) // size, the offset being how far the prompt would be padded on the left to whole blocks."""
    return model.cfg.block_size > 0 and model.cfg.block_align == "prompt-end"


class KvGraph(nn.Module):
    """The model over `input_ids` against cached keys/values: the AR model's graph (presents = past + new), or the
    denoiser's cached graph (`window_only`: presents = the window's own, logits unshifted)."""

    def __init__(self, model: Transformer, window_only: bool):
        super().__init__()
        self.model, self.window_only = model, window_only

    def forward(self, input_ids, attention_mask, position_ids, *rest):
        offset = rest[-1] if takes_block_offset(self.model) else None
        past_flat = rest[:-1] if offset is not None else rest
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past, shift=False, block_offset=offset)
        cached = past_flat[0].shape[2] if self.window_only else 0
        return (logits, *[t[:, :, cached:] for kv in presents for t in kv])


# the cache-layout contract between the exporters and the runtime: one schema file both read
with open(os.path.join(os.path.dirname(__file__), "..", "cache-layout.json")) as f:
    CACHE_LAYOUT = json.load(f)
CACHED_GRAPH = CACHE_LAYOUT["graph"]


def cache_config(kind: Kind) -> dict:
    """What config.json says about a kind's cached graph: its layout in models/cache-layout.json, the one schema the
    runtime (src/core/models/onnx/config.ts) checks it against. A block model's is the AR model's layout (present =
    past + window, so committing a finished block is keeping the presents)."""
    return {"graph": CACHE_LAYOUT["graph"], **CACHE_LAYOUT["layouts"][kind.cache_layout]}


def export_with_cache(model: Transformer, path: str, window_only: bool):
    """The transformers.js KV layout: input_ids, attention_mask, position_ids, past_key_values.{i}.key/value ->
    logits, present.{i}.key/value, each (batch, heads, seq, head_dim)."""
    cfg = model.cfg
    b, past_len, s = 2, 3, 5
    seq = "window_length" if window_only else "sequence_length"
    ids = torch.randint(2, cfg.vocab_size, (b, s))
    mask = torch.ones(b, past_len + s, dtype=torch.long)
    pos = torch.arange(past_len, past_len + s).unsqueeze(0).expand(b, s).contiguous()
    past = [torch.randn(b, cfg.n_kv_heads, past_len, cfg.head_dim) for _ in range(2 * cfg.n_layers)]
    past_names = [f"past_key_values.{i}.{kv}" for i in range(cfg.n_layers) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(cfg.n_layers) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch_size", 1: seq},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: seq},
            "logits": {0: "batch_size", 1: seq}}
    axes.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in past_names})
    axes.update({n: {0: "batch_size", 2: seq if window_only else "total_sequence_length"} for n in present_names})
    offset = [torch.tensor([1])] if takes_block_offset(model) else []
    torch.onnx.export(
        KvGraph(model, window_only), (ids, mask, pos, *past, *offset), path, opset_version=OPSET,
        input_names=["input_ids", "attention_mask", "position_ids", *past_names, *(["block_offset"] if offset else [])],
        output_names=["logits", *present_names], dynamic_axes=axes,
    )


def add_cached_graph(model: Transformer, folder: str):
    """Writes onnx/model_cached.onnx into an exported denoiser folder and records it in config.json."""
    import onnx

    path = os.path.join(folder, CACHED_GRAPH)
    kind = kind_of(model.cfg)
    export_with_cache(model, path, window_only=kind.window_only)
    onnx.checker.check_model(onnx.load(path))
    config_path = os.path.join(folder, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["diffusion"]["cache"] = cache_config(kind)
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    print(f"cached graph -> {path} ({os.path.getsize(path) / 1e6:.2f} MB)")


def keep_cached_only(folder: str) -> str:
    """Drops a denoiser folder's whole-sequence graph and marks it cached-only in config.json; returns the graph
    left. The cached graph holds the same weights (onnx_import.py reads them from it)."""
    os.remove(os.path.join(folder, "onnx", "model.onnx"))
    config_path = os.path.join(folder, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["diffusion"]["graphs"] = "cached-only"
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    return os.path.join(folder, CACHED_GRAPH)


def export(model: Transformer, path: str):
    cfg = model.cfg
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not cfg.causal:
        ids = torch.randint(2, cfg.vocab_size, (2, 7))
        offset = [torch.tensor([1])] if takes_block_offset(model) else []
        torch.onnx.export(
            DiffusionGraph(model), (ids, *offset), path, opset_version=OPSET,
            input_names=["input_ids", *(["block_offset"] if offset else [])],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                          "logits": {0: "batch_size", 1: "sequence_length"}},
        )
        return
    export_with_cache(model, path, window_only=False)


def architecture_fields(cfg) -> dict:
    """The architecture in config.json's names (transformers' Llama / Qwen3): shared by this project's models and
    the converted ones (export_hf.py)."""
    return {
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.dim,
        "intermediate_size": cfg.hidden_dim,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.context,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "hidden_act": "silu",
        "tie_word_embeddings": cfg.tie_embeddings,
        "attention_bias": False,
    }


def hf_config(model: Transformer, ckpt: dict) -> dict:
    """config.json: the real architecture, in the names transformers.js reads for `llama`."""
    cfg, data = model.cfg, ckpt["data"]
    common = {
        **architecture_fields(cfg),
        "bos_token_id": None,
        "eos_token_id": data["end_of_text_id"],
        "pad_token_id": data["end_of_text_id"],
        "mask_token_id": data["mask_id"],
        "torch_dtype": "float32",
        "transformers.js_config": {"dtype": "fp32"},
    }
    kind = kind_of(cfg)
    head = {"architectures": [kind.architecture], "model_type": kind.model_type, "is_causal": kind.causal}
    if kind.causal:
        return {**head, **common}
    # a bidirectional (LLaDA's masked-diffusion objective) or block-causal (BD3-LM's: blocks of block_size positions
    # counted from position 0, bidirectional inside a block, each seeing the clean blocks before it) Llama; shifted
    # logits are applied inside the graph: row i always predicts position i
    diffusion = {"objective": kind.objective, "mask_token_id": data["mask_id"], "shift_logits_in_graph": cfg.shift_logits}
    if kind.block:
        diffusion = {"objective": kind.objective, "block_size": cfg.block_size, **diffusion}
    return {**head, "diffusion": diffusion, **common}


def training_record(ckpt: dict) -> dict:
    """How the exported model was trained, with the chain it was initialised from (train.py's record): a run that
    starts from the exported folder (no checkpoint on the machine) carries it on, so its card still names it."""
    state = ckpt["state"]
    return {"objective": ckpt["objective"], "step": state["step"], "tokens": state["tokens"],
            "wall_seconds": state["wall_seconds"], "init_from": state.get("init_from")}


def parity_inputs(model: Transformer, tokenizer_dir: str, ckpt: dict) -> list[list[int]]:
    """Fixed inputs for the parity test: validation text, and for the denoiser a few masked positions."""
    eot, mask = ckpt["data"]["end_of_text_id"], ckpt["data"]["mask_id"]
    docs = load_documents(tokenizer_dir, "validation", eot)
    rows = [docs[0][:24].tolist(), docs[1][:24].tolist()]
    if not model.cfg.causal:
        rows[1] = [mask if i % 3 == 2 else t for i, t in enumerate(rows[1])]
    return rows


def write_golden(model: Transformer, rows: list[list[int]], path: str):
    """The model's logits on `rows`, for the parity tests (6 decimals)."""
    with torch.no_grad():
        logits, _ = model(torch.tensor(rows))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"input_ids": rows, "dims": list(logits.shape),
                   "logits": np.round(logits.numpy().astype(np.float64), 6).ravel().tolist()}, f)


def store_weights(folder: str, model: Transformer, stored: dict, dtype: str):
    """Stores the weights of the folder's graph(s) as `dtype` (the model already rounded to it) and records it in
    config.json: `weights.compute` "fold", the runtime folds the rebuild at load (src/core/engine.ts)."""
    if dtype == "fp32":
        return
    onnx_dir = os.path.join(folder, "onnx")
    for name in sorted(os.listdir(onnx_dir)):
        if name.endswith(".onnx"):
            finish_graph(os.path.join(onnx_dir, name), model, stored, dtype, "never", compute="rebuild")
    config_path = os.path.join(folder, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["weights"] = {"dtype": dtype, "compute": "fold"}
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)


def recompress(folder: str, dtype: str, golden: str | None):
    """An exported folder's graph written again from its own weights, stored as `dtype`; the golden logits (if
    given: the same input rows as the folder's golden at that path) recomputed from the stored model."""
    import onnx

    model, hf = load_exported(folder)
    if (hf.get("weights") or {}).get("dtype", "fp32") != "fp32":
        sys.exit(f"{folder} already stores its weights as {hf['weights']['dtype']}")
    stored = round_weights(model, dtype)
    if model.cfg.causal:
        path = os.path.join(folder, "onnx", "model.onnx")
        export(model, path)
    else:
        if hf["diffusion"].get("graphs") != "cached-only":
            sys.exit(f"{folder} has two graphs: export it cached-only first")
        path = os.path.join(folder, CACHED_GRAPH)
        export_with_cache(model, path, window_only=kind_of(model.cfg).window_only)
    onnx.checker.check_model(onnx.load(path))
    store_weights(folder, model, stored, dtype)
    card = os.path.join(folder, "README.md")
    if os.path.exists(card):
        with open(card) as f:
            text = f.read()
        with open(card, "w") as f:
            f.write(text.replace("(float32", WEIGHTS_NOTE[dtype], 1))
    if golden:
        rows = json.load(open(golden))["input_ids"]
        write_golden(model, rows, golden)
    print(f"{folder}: weights stored as {dtype} ({os.path.getsize(path) / 1e6:.2f} MB)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--tokenizer", default=None, help="folder with tokenizer.json, tokenizer_config.json, data.json")
    p.add_argument("--out", default=None)
    p.add_argument("--from-exported", default=None, metavar="DIR",
                   help="add the cached graph to an exported denoiser folder, rebuilding the model from its graph")
    p.add_argument("--check-golden", default=None,
                   help="with --from-exported: golden logits the rebuilt model must reproduce (1e-4) first")
    p.add_argument("--metrics", default=None, help="evaluate.py JSON to put in the model card")
    p.add_argument("--samples", default=None, help="text file of unedited samples for the model card")
    p.add_argument("--quality", default=None, help="`npm run eval` JSON: sample-quality figures and samples for the card")
    p.add_argument("--baseline", nargs=3, default=None, metavar=("AR_EVAL", "SCRATCH_EVAL", "SCRATCH_QUALITY"),
                   help="evaluate.py JSONs of the AR model and of a from-scratch denoiser trained on as many tokens, "
                        "and the from-scratch pair's `npm run eval` JSON ('-' for none): the card's baseline")
    p.add_argument("--previous", default=None,
                   help="`npm run eval` JSON of the pair shipped before, at the same page settings: the card's "
                        "side-by-side comparison")
    p.add_argument("--card-only", action="store_true",
                   help="rewrite only README.md (the model card) of an exported folder, e.g. once `npm run eval` ran")
    p.add_argument("--golden", default=None, help="where to write golden logits for the parity test")
    p.add_argument("--weights", default="fp32", choices=("fp32", "fp16", "q8"),
                   help="how the graph stores its matrices (folded to float32 at load)")
    p.add_argument("--recompress", default=None, metavar="DIR",
                   help="write an exported folder's graph again, its weights stored as --weights")
    p.add_argument("--both-graphs", action="store_true",
                   help="a denoiser keeps its whole-sequence graph beside the cached one (default: the cached one alone)")
    args = p.parse_args()

    if args.from_exported:
        model, hf = load_exported(args.from_exported)
        if (hf.get("weights") or {}).get("dtype", "fp32") != "fp32":
            p.error(f"{args.from_exported} stores its weights as {hf['weights']['dtype']}: its graph is already cached")
        if model.cfg.causal:
            p.error("--from-exported is for a denoiser folder: the AR graph already has its KV cache")
        if args.check_golden:
            golden = json.load(open(args.check_golden))
            with torch.no_grad():
                logits, _ = model(torch.tensor(golden["input_ids"]))
            diff = float(np.abs(logits.numpy().ravel() - np.array(golden["logits"])).max())
            if diff > 1e-4:
                sys.exit(f"the model rebuilt from {args.from_exported} is off its golden logits by {diff:.2e}")
            print(f"rebuilt model matches {args.check_golden} (max abs diff {diff:.1e})")
        add_cached_graph(model, args.from_exported)
        return
    if args.recompress:
        recompress(args.recompress, args.weights, args.golden)
        return
    if not (args.checkpoint and args.tokenizer and args.out):
        p.error("--checkpoint, --tokenizer and --out are required (or --from-exported DIR)")
    model, ckpt = load_checkpoint(args.checkpoint)
    stored = round_weights(model, args.weights)  # every figure below is the stored model's
    metrics = json.load(open(args.metrics)) if args.metrics else None
    samples = open(args.samples).read() if args.samples else None
    quality = json.load(open(args.quality)) if args.quality else None
    if quality and args.previous:
        quality["previous"] = json.load(open(args.previous))
    baseline = None
    if args.baseline:
        ar_eval, scratch_eval, scratch_quality = args.baseline
        baseline = {"ar": json.load(open(ar_eval)), "scratch": json.load(open(scratch_eval))}
        if scratch_quality != "-":
            baseline["quality"] = json.load(open(scratch_quality))
    if args.card_only:
        write_model_card(args.out, model, ckpt, metrics, samples, quality, baseline, weights=args.weights)
        print(f"model card written to {os.path.join(args.out, 'README.md')}")
        return
    onnx_path = os.path.join(args.out, "onnx", "model.onnx")
    export(model, onnx_path)
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))
    shutil.copyfile(os.path.join(args.tokenizer, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    with open(os.path.join(args.tokenizer, "tokenizer_config.json")) as f:
        tok_config = json.load(f)
    tok_config["model_max_length"] = model.cfg.context  # the model's context, whatever prepare was told
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump(tok_config, f, indent=2)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({**hf_config(model, ckpt), "training": training_record(ckpt)}, f, indent=2)
    if model.cfg.causal:
        eot = ckpt["data"]["end_of_text_id"]
        gen = {"bos_token_id": None, "eos_token_id": eot, "pad_token_id": eot, "max_length": model.cfg.context,
               "do_sample": False}
        with open(os.path.join(args.out, "generation_config.json"), "w") as f:
            json.dump(gen, f, indent=2)
    write_model_card(args.out, model, ckpt, metrics, samples, quality, baseline, weights=args.weights)
    if not model.cfg.causal:
        add_cached_graph(model, args.out)
        if not args.both_graphs:
            # one graph per model (issue 27): the cached graph with nothing cached runs whole sequences (the runtime
            # shifts a shifted-logits model's rows as the whole-sequence graph does), half the download
            onnx_path = keep_cached_only(args.out)
    store_weights(args.out, model, stored, args.weights)

    if args.golden:
        write_golden(model, parity_inputs(model, args.tokenizer, ckpt), args.golden)
    size = os.path.getsize(onnx_path)
    print(f"exported {args.checkpoint} -> {onnx_path} ({size / 1e6:.2f} MB, {model.num_parameters():,} parameters)")


if __name__ == "__main__":
    main()
