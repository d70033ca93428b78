"""The model card (README.md of a model folder), built only from the checkpoint and measured metrics."""
from __future__ import annotations

import os
import platform


def _fmt_seconds(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"


def _diffusion_setting_words(d: dict) -> str:
    """The page's diffusion settings (src/core/page-settings.ts) in words."""
    words = ["one block over the canvas" if d["blockLength"] >= d["genLength"] else f"blocks of {d['blockLength']}",
             "one token per step" if d["steps"] >= d["genLength"] else f"{d['steps']} steps",
             f"temperature {d['temperature']}"]
    if d.get("decideLength"):
        words.append("the text's length decided at the first step")
    if d.get("endOfTextAhead") is not None:
        words.append(f"end-of-text ahead at p >= {d['endOfTextAhead']}")
    if d.get("noRepeatNgram"):
        words.append(f"a candidate repeating a {d['noRepeatNgram']}-gram ranked last")
    if d.get("frequencyPenalty"):
        words.append(f"frequency penalty {d['frequencyPenalty']}")
    return ", ".join(words)


def _quality_lines(quality: dict, kind: str) -> list[str]:
    """`npm run eval` at the page's settings: this model's rows on both prompt sets, every gate, six samples."""
    d, ar = quality["pageSettings"]["diffusion"], quality["pageSettings"]["ar"]
    lines = ["", "## Sample quality (`npm run eval`, at the page's settings, on two prompt sets)", "",
             "The page's settings: "
             + ("the canvas to the context end (in whole blocks)" if d.get("fillContext") else f"{d['genLength']} positions")
             + ", " + _diffusion_setting_words(d) + f", cache {d['cache']}; "
             f"the AR model writes up to "
             + ("the context end" if ar.get("fillContext") else f"{ar['maxNewTokens']} tokens")
             + f" at temperature {ar['temperature']}"
             + ("; the block model decodes its own blocks under the same options" if kind == "block" else "")
             + ". Sets: "
             + "; ".join(f"{q['name']} ({len(q['openings'])})" for q in quality["sets"]) + ".", "",
             "| set | run | gen-PPL (AR-scored) | entropy | distinct-2 | repeated 4-grams | doom loops | known words "
             "| clean endings | passes | positions computed |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for q in quality["sets"]:
        for r in q["rows"]:
            if r["model"] == kind:
                lines.append(f"| {q['name']} | {r['name']} | {r['genPpl']:.2f} | {r['entropy']:.3f} | "
                             f"{r['distinct2']:.3f} | {r['repeated4']:.3f} | {100 * r['doomLoops']:.0f}% | "
                             f"{100 * r['knownWords']:.1f}% | {100 * r['cleanEndings']:.0f}% | "
                             f"{r['forwardPasses']:.1f} | {r['positions']:.0f} |")
    if quality.get("gates"):
        passed = sum(g["pass"] for g in quality["gates"])
        lines += ["", f"Quality gates of the pair ({passed} of {len(quality['gates'])} pass):", ""]
        lines += [f"- {'PASS' if g['pass'] else 'FAIL'}: {g['gate']} ({g['value']})" for g in quality["gates"]]
    if quality.get("previous"):
        lines += _previous_lines(quality, kind)
    visitor = quality["sets"][-1]
    first = next(r for r in visitor["rows"] if r["model"] == kind)
    lines += ["", f"## Six unedited samples ({visitor['name']}, {first['name']})", ""]
    for opening, sample in list(zip(visitor["openings"], first["samples"]))[-6:]:
        lines += ["```text", (opening + sample).strip(), "```", ""]
    return lines


def _previous_lines(quality: dict, kind: str) -> list[str]:
    """This pair beside the one shipped before it, both measured by the same eval at the same page settings."""
    previous = {(q["name"], r["name"]): r for q in quality["previous"]["sets"] for r in q["rows"]}
    same_judge = all(
        previous.get((q["name"], r["name"]), {}).get("genPpl") == r["genPpl"]
        for q in quality["sets"] for r in q["rows"] if r["model"] == "ar"
    )
    judge = ("Both pairs have the same AR model (its rows agree), so the gen-PPL column compares across the arrow."
             if same_judge else
             "Each pair's gen-PPL is scored by its own AR model, so that column compares within a pair, as the gates "
             "do, not across the arrow.")
    lines = ["", "### Beside the pair shipped before it (the same eval, the same page settings)", "",
             "Previous -> this pair. " + judge, "",
             "| set | run | gen-PPL | entropy | repeated 4-grams | doom loops | clean endings |",
             "|---|---|---|---|---|---|---|"]
    for q in quality["sets"]:
        for r in q["rows"]:
            old = previous.get((q["name"], r["name"]))
            if r["model"] != kind or not old:
                continue
            lines.append(f"| {q['name']} | {r['name']} | {old['genPpl']:.2f} -> {r['genPpl']:.2f} | "
                         f"{old['entropy']:.3f} -> {r['entropy']:.3f} | {old['repeated4']:.3f} -> {r['repeated4']:.3f} | "
                         f"{100 * old['doomLoops']:.0f}% -> {100 * r['doomLoops']:.0f}% | "
                         f"{100 * old['cleanEndings']:.0f}% -> {100 * r['cleanEndings']:.0f}% |")
    return lines


def _ancestors(state: dict) -> list[dict]:
    """The checkpoints this one was initialised from, nearest first (train.py records the chain)."""
    chain, init = [], state.get("init_from")
    while init:
        chain.append(init)
        init = init.get("init_from")
    return chain


def _baseline_lines(baseline: dict, metrics: dict | None, state: dict) -> list[str]:
    """Equal-compute comparison: the AR model and a denoiser trained from scratch on the same tokens."""
    ar, scratch = baseline["ar"], baseline["scratch"]
    chain = _ancestors(state)
    ar_tokens = sum(c["tokens"] for c in chain if c["objective"] == "ar")
    own = [state] + [c for c in chain if c["objective"] != "ar"]  # every stage with the LLaDA objective
    lines = ["", "## Equal-compute baseline", "",
             "The same network trained from a random initialisation with the LLaDA objective, on as many tokens "
             "and with the same schedule as the AR model (losses on the same validation documents, nats/token). "
             "Tokens are the measure of compute; wall times are as measured here, where other work sometimes shared "
             "the two cores:",
             "",
             "| model | initialisation | tokens | wall time | validation loss |", "|---|---|---|---|---|",
             f"| AR | random | {ar['tokens_trained']:,} | {_fmt_seconds(ar['wall_seconds'])} | "
             f"{ar['nats_per_token']:.4f} (AR loss) |",
             f"| diffusion from scratch | random | {scratch['tokens_trained']:,} | "
             f"{_fmt_seconds(scratch['wall_seconds'])} | {scratch['elbo_nats_per_token']:.4f} (ELBO) |"]
    if metrics and "elbo_nats_per_token" in metrics:
        lines.append(f"| this model | AR weights ({ar_tokens:,} tokens) | {sum(c['tokens'] for c in own):,} more | "
                     f"{_fmt_seconds(sum(c['wall_seconds'] for c in own))} more | "
                     f"{metrics['elbo_nats_per_token']:.4f} (ELBO) |")
    for q in baseline.get("quality", {}).get("sets", []):
        for r in q["rows"]:
            if r["model"] == "diffusion" and r["name"].startswith("diffusion (page"):
                lines += ["", f"Samples of the from-scratch model at the page's settings ({q['name']}, "
                          f"{len(q['openings'])}): gen-PPL {r['genPpl']:.2f}, entropy {r['entropy']:.3f}, "
                          f"repeated 4-grams {r['repeated4']:.3f}, doom loops {100 * r['doomLoops']:.0f}%, known "
                          f"words {100 * r['knownWords']:.1f}%, clean endings {100 * r['cleanEndings']:.0f}%. "
                          "First sample:", "", "```text", (q["openings"][0] + r["samples"][0]).strip(), "```"]
    return lines


# how the card names the graph's weights (export_onnx.py --weights)
WEIGHTS_NOTE = {
    "fp32": "(float32",
    "fp16": "(weights stored as fp16, widened to float32 when the page loads it",
    "q8": "(weights stored as 8 bits in blocks with a float scale, rebuilt as float32 when the page loads it",
}


def write_model_card(out_dir: str, model, ckpt: dict, metrics: dict | None, samples: str | None,
                     quality: dict | None = None, baseline: dict | None = None, weights: str = "fp32"):
    cfg, state, data = model.cfg, ckpt["state"], ckpt["data"]
    kind = "autoregressive (causal attention, next-token loss)" if cfg.causal else \
        (f"block diffusion (BD3-LM objective, block-causal attention over blocks of {cfg.block_size}" if cfg.block_size
         else "masked diffusion (bidirectional attention, LLaDA objective") + \
        (", shifted logits)" if cfg.shift_logits else ")")
    row_kind = "ar" if cfg.causal else "block" if cfg.block_size else "diffusion"
    init_line = ", itself ".join(
        f"initialised from the `{c['objective']}` checkpoint `{c['path']}` ({c['step']:,} steps, {c['tokens']:,} "
        f"tokens, {_fmt_seconds(c['wall_seconds'])})" for c in _ancestors(state)) or "random weights"
    lines = [
        "---", "license: cdla-sharing-1.0" if data["corpus"] == "tinystories" else "license: other",
        "library_name: transformers.js", "---", "",
        f"# {os.path.basename(os.path.normpath(out_dir))}: {kind}", "",
        "Part of the masked-diffusion browser demo: a small Llama-style transformer (RMSNorm, RoPE, SwiGLU, "
        "tied embeddings). The diffusion and AR models of a pair share this architecture, tokenizer and data; "
        "the only architectural difference is the attention rule (causal, bidirectional, or block-causal)." +
        (" This denoiser reads the prediction for position i from the state at i - 1, as the AR model it was "
         "initialised from does (Dream's shifted logits); the ONNX graph applies the shift, so its row i is the "
         "prediction for position i and position 0 (always a prompt token) is never predicted."
         if cfg.shift_logits else ""), "",
        "| | |", "|---|---|",
        f"| parameters | {model.num_parameters():,} |",
        f"| layers / dim / heads / SwiGLU width | {cfg.n_layers} / {cfg.dim} / {cfg.n_heads} / {cfg.hidden_dim} |",
        f"| context | {cfg.context} tokens |",
        f"| vocabulary | {cfg.vocab_size} (byte-level BPE; `<\\|endoftext\\|>` = {data['end_of_text_id']}, "
        f"`<\\|mask\\|>` = {data['mask_id']}) |",
        f"| training data | `{data['corpus']}` train split: {data['splits']['train']['documents']:,} documents, "
        f"{data['splits']['train']['tokens']:,} tokens |",
        f"| initialisation | {init_line} |",
        f"| this run | {state['step']:,} steps, {state['tokens']:,} tokens (padded examples), "
        f"{_fmt_seconds(state['wall_seconds'])} |",
        f"| hardware | CPU ({platform.machine()}), {os.cpu_count()} cores, PyTorch with OpenBLAS |",
    ]
    if metrics:
        if "nats_per_token" in metrics:
            lines.append(f"| validation AR loss | {metrics['nats_per_token']:.4f} nats/token, "
                         f"{metrics['bits_per_byte']:.4f} bits/byte ({metrics['documents']} documents) |")
        if "elbo_nats_per_token" in metrics:
            lines.append(f"| validation diffusion ELBO | {metrics['elbo_nats_per_token']:.4f} nats/token, "
                         f"{metrics['elbo_bits_per_byte']:.4f} bits/byte (grid of {metrics['grid']} mask ratios, "
                         f"{metrics['documents']} documents) |")
    if data["corpus"] == "tinystories":
        lines += ["", "Data: TinyStories (Eldan & Li, 2023, arXiv:2305.07759), CDLA-Sharing-1.0; the subsets in "
                  "`../shared/corpora` (`tinystories.txt`, 6,271 stories, and `tinystories-extra.txt`, 8,047 more), "
                  "each split into train and validation by a hash of the story. "
                  "The full dataset is `roneneldan/TinyStories` on the Hugging Face hub."]
    if baseline:
        lines += _baseline_lines(baseline, metrics, state)
    if quality:
        lines += _quality_lines(quality, row_kind)
    if samples:
        lines += ["", "## Unedited samples", "", "```text", samples.rstrip(), "```"]
    if cfg.block_size:
        lines += ["", f"Generation: block by block (blocks of {cfg.block_size} positions from position 0), the prompt's "
                  "finished blocks and every finished block entering an exact key/value cache "
                  "(`onnx/model_cached.onnx`, the AR model's cache layout); inside a block the tokens are denoised "
                  "in parallel and out of order. Arriola et al. 2025, Block Diffusion (BD3-LM)."]
    graph = ("`onnx/model.onnx` (float32)" if cfg.causal else
             "`onnx/model_cached.onnx` (float32; the one graph: with nothing cached it runs whole sequences)")
    graph = graph.replace("(float32", WEIGHTS_NOTE[weights])
    lines += ["", f"Files: {graph}, `config.json`, `tokenizer.json`, `tokenizer_config.json`."]
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
