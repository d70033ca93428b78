"""Small random checkpoints in the published models' exact layout, for tests (the real weights cannot be fetched here).

  python3 models/py/make_random_hf.py --out DIR

Writes DIR/{ar,mdlm,bd3lm}: config.json as Qwen/Qwen3-0.6B (model_type qwen3) and dLLM's A2D conversions of it
(a2d-qwen3) write it, model.safetensors in bfloat16 (as published), tokenizer.json (a byte-level BPE with Qwen's
special tokens; the mask token only where dLLM's saved tokenizer has it) and tokenizer_config.json with a Qwen3-style
chat template (enable_thinking false inserts the empty think block, as dLLM's chat does). The same shape as
Qwen3-0.6B in every way that matters to the converter, only small: grouped-query attention (4 query heads over 2
key-value heads), a head_dim that is not width / heads, q/k norms, a vocabulary padded past the tokenizer's, tied
heads (ar, mdlm) and an untied one (bd3lm). Embeddings and heads are drawn wide (std 1) so that predictions are
peaked and the samplers' choices are not decided by float noise; the other matrices at std 0.1 (at 0.25 activations
grow enough that WebGPU's and WASM's float errors flipped a near-tie in 128 block-diffusion steps). Deterministic.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from hf_checkpoint import config_from_qwen3, to_qwen3_state, write_safetensors  # noqa: E402
from model import Transformer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_TOKENIZER = os.path.join(HERE, "..", "pairs", "fixture", "diffusion", "tokenizer.json")

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)


def qwen3_config(kind: str, vocab: int) -> dict:
    config = {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": None, "eos_token_id": None, "head_dim": 32, "hidden_act": "silu", "hidden_size": 64,
        "initializer_range": 0.02, "intermediate_size": 128, "max_position_embeddings": 256, "max_window_layers": 2,
        "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
        "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None, "tie_word_embeddings": kind != "bd3lm",
        "torch_dtype": "bfloat16", "transformers_version": "4.57.1", "use_cache": True, "use_sliding_window": False,
        "vocab_size": vocab,
    }
    if kind != "ar":
        config.update({"architectures": ["A2DQwen3LMHeadModel"], "model_type": "a2d-qwen3"})
    return config


def tokenizer(kind: str) -> tuple[dict, dict, int]:
    """The fixture's byte-level BPE with Qwen's specials; returns (tokenizer.json, tokenizer_config.json, size)."""
    tok = json.load(open(BASE_TOKENIZER))
    vocab = tok["model"]["vocab"]
    # the fixture's own specials at 0 and 1 become Qwen's <|endoftext|> and (for diffusion) dLLM's <|mask|>
    specials = ["<|endoftext|>", "<|mask|>", "<|im_start|>", "<|im_end|>"]
    size = len(vocab)
    added = [t for t in tok["added_tokens"] if t["content"] == "<|endoftext|>"]
    for content in specials[2:]:
        added.append({"id": size, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab.setdefault(content, size)
        size += 1
    if kind != "ar":
        added += [t for t in tok["added_tokens"] if t["content"] == "<|mask|>"]
    tok["added_tokens"] = sorted(added, key=lambda t: t["id"])
    config = {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
              "pad_token": "<|endoftext|>", "unk_token": None, "add_bos_token": False, "add_eos_token": False,
              "clean_up_tokenization_spaces": False, "model_max_length": 256, "chat_template": CHAT_TEMPLATE}
    if kind != "ar":
        config["mask_token"] = "<|mask|>"
    return tok, config, size


@torch.no_grad()
def draw_weights(model: torch.nn.Module, wide: tuple[str, ...]):
    """Embeddings and heads (`wide`) at std 1, other matrices at std 0.1, norms uniform in [0.5, 1.5] (not all ones,
    so a misplaced norm weight shows), from torch's current seed."""
    for name, p in model.named_parameters():
        if p.dim() == 2:
            p.normal_(0, 1.0 if name in wide else 0.1)
        else:
            p.uniform_(0.5, 1.5)


# --shape: the tests' tiny models; a ~25 M model for the dtype benchmark (npm run bench -- --dtypes); Qwen3-0.6B's
# exact shape (with --tokenizer: its real tokenizer) for the real-size run (README)
SHAPES = {
    "tiny": {},
    "bench": {"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 4,
              "head_dim": 64, "intermediate_size": 1536, "max_window_layers": 8},
    "qwen3-0.6b": {"hidden_size": 1024, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
                   "head_dim": 128, "intermediate_size": 3072, "max_window_layers": 28,
                   "max_position_embeddings": 40960, "vocab_size": 151936, "tie_word_embeddings": True},
}


def real_tokenizer(folder: str) -> tuple[dict, dict, int]:
    """A published tokenizer as it is (the converter adds the mask token as dLLM does)."""
    tok = json.load(open(os.path.join(folder, "tokenizer.json")))
    config = json.load(open(os.path.join(folder, "tokenizer_config.json")))
    return tok, config, len(tok["model"]["vocab"]) + len(tok["added_tokens"])


def make(kind: str, out: str, seed: int, shape: str = "tiny", tokenizer_dir: str | None = None):
    os.makedirs(out, exist_ok=True)
    tok, tok_config, size = real_tokenizer(tokenizer_dir) if tokenizer_dir else tokenizer(kind)
    vocab = 64 * ((size + 63) // 64) + 64  # padded past the tokenizer, as Qwen3's 151,936 is past its 151,669
    config = qwen3_config(kind, vocab)
    config.update(SHAPES[shape])
    if config["vocab_size"] < size:
        raise ValueError(f"the tokenizer has {size} tokens, more than the shape's vocabulary of {config['vocab_size']}")
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]} | tok["model"]["vocab"]
    config["eos_token_id"] = ids["<|im_end|>"]
    config["pad_token_id"] = 0
    torch.manual_seed(seed)
    model = Transformer(config_from_qwen3(config, kind, 8 if kind == "bd3lm" else 0))
    draw_weights(model, ("embed.weight", "head.weight"))
    state = {k: v.to(torch.bfloat16) for k, v in to_qwen3_state(model).items()}
    write_safetensors(os.path.join(out, "model.safetensors"), state, {"format": "pt"})
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump(tok_config, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    json.dump({"bos_token_id": None, "eos_token_id": config["eos_token_id"], "pad_token_id": 0},
              open(os.path.join(out, "generation_config.json"), "w"), indent=2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--shape", default="tiny", choices=tuple(SHAPES))
    p.add_argument("--kinds", default="ar,mdlm,bd3lm")
    p.add_argument("--tokenizer", default=None, help="a folder with a published tokenizer.json and tokenizer_config.json")
    args = p.parse_args()
    for i, kind in enumerate(("ar", "mdlm", "bd3lm")):
        if kind not in args.kinds.split(","):
            continue
        make(kind, os.path.join(args.out, kind), seed=100 + i, shape=args.shape, tokenizer_dir=args.tokenizer)
        print(f"random {kind} checkpoint -> {os.path.join(args.out, kind)}")


if __name__ == "__main__":
    main()
