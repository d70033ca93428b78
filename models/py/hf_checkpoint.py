"""Hugging Face checkpoints of Qwen3-family models (Qwen3, and dLLM's A2D conversions of it) <-> model.py.

safetensors is a small format (an 8-byte little-endian header length, a JSON header of name -> dtype, shape and
byte range, then the raw tensors), and Debian packages no reader for it, so this file reads and writes it itself.
The weights are mapped by name onto the project's one Transformer, configured from config.json.
"""
from __future__ import annotations

import glob
import json
import os
import struct

import numpy as np
import torch

from kinds import CONVERTED
from model import ModelConfig, Transformer

# safetensors dtype -> (torch dtype, bytes per element)
DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
          "I64": (torch.int64, 8), "I32": (torch.int32, 4)}
NAMES = {v[0]: k for k, v in DTYPES.items()}


def read_safetensors(path: str) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            raise ValueError(f"{path}: header of {n} bytes; not a safetensors file")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: {name} has dtype {info['dtype']}; supported: {', '.join(DTYPES)}")
        dtype, size = DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if end - start != count * size or end > len(data):
            raise ValueError(f"{path}: {name}'s byte range [{start}, {end}) does not hold {info['shape']} {info['dtype']}")
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=dtype).reshape(info["shape"])
    return out


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict | None = None):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format aligns the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# config.json fields of Qwen3 (transformers 4.x and 5.x layouts, dLLM's a2d-qwen3) by what the converter does with them.
# Any other field is refused by name: a field nobody here read may change the math (a new kind of RoPE, a window).
IMPLEMENTED = {  # read into ModelConfig, or checked to hold the one value model.py implements
    "vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "intermediate_size", "rms_norm_eps", "rope_theta", "rope_scaling",
    "rope_parameters", "tie_word_embeddings", "hidden_act", "attention_bias", "use_sliding_window", "sliding_window",
    "max_window_layers", "layer_types",
}
NO_MATH = {  # bookkeeping, token ids (read from the tokenizer), or training-only
    "architectures", "model_type", "transformers_version", "torch_dtype", "dtype", "bos_token_id", "eos_token_id",
    "pad_token_id", "mask_token_id", "initializer_range", "use_cache", "attention_dropout", "_name_or_path",
    "auto_map", "output_attentions", "output_hidden_states", "return_dict", "keys_to_ignore_at_inference",
}
# Sizes past these are refused before anything is allocated: one file for the converter and the runtime
LIMITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config-limits.json")
LIMITS = json.load(open(LIMITS_FILE))["limits"]


def check_qwen3_config(hf: dict):
    """Refuses a config.json the converter would convert wrongly, naming the field."""
    if hf.get("model_type") not in ("qwen3", "a2d-qwen3"):
        raise ValueError(f"model_type {hf.get('model_type')!r}: this converter reads Qwen3 checkpoints (qwen3, a2d-qwen3)")
    unknown = sorted(set(hf) - IMPLEMENTED - NO_MATH)
    if unknown:
        raise ValueError(f"config.json field(s) {', '.join(unknown)} not implemented by this converter (they may change "
                         "the model's math): refusing rather than converting without them")
    for key, limit in LIMITS.items():
        value = hf.get(key)
        if value is None and key in ("head_dim", "num_key_value_heads"):  # absent: width / heads, heads
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
            raise ValueError(f"{key} {value!r}: expected an integer in 1..{limit:,}")
    if hf.get("attention_bias"):
        raise ValueError("attention_bias is true: Qwen3 has no attention biases and model.py has none")
    for key in ("rope_scaling", "rope_parameters"):  # transformers 4.x's layout, and 5.x's
        rope = hf.get(key)
        if rope is None:
            continue
        if not isinstance(rope, dict) or rope.get("rope_type", rope.get("type", "default")) != "default" or \
                set(rope) - {"rope_type", "type", "rope_theta"}:
            raise ValueError(f"{key} {json.dumps(rope)} is not supported (plain RoPE only: rope_type default, rope_theta)")
    thetas = {hf.get("rope_theta"), (hf.get("rope_parameters") or {}).get("rope_theta")} - {None}
    if len(thetas) > 1:
        raise ValueError(f"rope_theta {hf.get('rope_theta')} and rope_parameters.rope_theta disagree")
    if hf.get("use_sliding_window"):
        raise ValueError("use_sliding_window is true: model.py attends over the whole sequence (Qwen3-0.6B does not slide)")
    layer_types = hf.get("layer_types")
    if layer_types is not None and (len(layer_types) != hf["num_hidden_layers"] or
                                    set(layer_types) != {"full_attention"}):
        raise ValueError(f"layer_types {layer_types}: only full_attention layers are implemented, one per layer")
    if hf.get("hidden_act", "silu") != "silu":
        raise ValueError(f"hidden_act {hf['hidden_act']!r}: only SwiGLU (silu) is supported")


def config_from_qwen3(hf: dict, kind: str, block_size: int = 0) -> ModelConfig:
    """config.json of Qwen3 (model_type qwen3, or dLLM's a2d-qwen3) -> ModelConfig for `kind` (ar, mdlm, bd3lm)."""
    check_qwen3_config(hf)
    k = CONVERTED[kind]
    if k.block and block_size < 1:
        raise ValueError("bd3lm needs --block-size (dLLM's Qwen3 BD3LM uses 32)")
    rope_theta = hf.get("rope_theta") or (hf.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    return ModelConfig(
        vocab_size=hf["vocab_size"], context=hf.get("max_position_embeddings", 4096), dim=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"],
        n_kv_heads=hf.get("num_key_value_heads") or hf["num_attention_heads"], attn_head_dim=hf.get("head_dim") or 0,
        hidden_dim=hf["intermediate_size"], norm_eps=hf.get("rms_norm_eps", 1e-6), rope_theta=float(rope_theta),
        qk_norm=True, tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        causal=k.causal, block_size=block_size if k.block else 0,
        block_align="prompt-end" if k.block else "zero",
    )


# Qwen3's parameter names (transformers' Qwen3ForCausalLM) -> model.py's, per layer and for the rest
LAYER_NAMES = {
    "self_attn.q_proj.weight": "attn.wq.weight", "self_attn.k_proj.weight": "attn.wk.weight",
    "self_attn.v_proj.weight": "attn.wv.weight", "self_attn.o_proj.weight": "attn.wo.weight",
    "self_attn.q_norm.weight": "attn.q_norm.weight", "self_attn.k_norm.weight": "attn.k_norm.weight",
    "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "mlp_norm.weight",
    "mlp.gate_proj.weight": "mlp.w_gate.weight", "mlp.up_proj.weight": "mlp.w_up.weight",
    "mlp.down_proj.weight": "mlp.w_down.weight",
}
TOP_NAMES = {"model.embed_tokens.weight": "embed.weight", "model.norm.weight": "norm.weight", "lm_head.weight": "head.weight"}


def to_project_name(name: str) -> str | None:
    if name in TOP_NAMES:
        return TOP_NAMES[name]
    parts = name.split(".")
    if len(parts) > 3 and parts[0] == "model" and parts[1] == "layers":
        rest = ".".join(parts[3:])
        if rest in LAYER_NAMES:
            return f"blocks.{parts[2]}.{LAYER_NAMES[rest]}"
    return None


def read_weights(folder: str) -> dict[str, torch.Tensor]:
    files = sorted(glob.glob(os.path.join(folder, "*.safetensors")))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.safetensors files")
    weights = {}
    for f in files:
        weights.update(read_safetensors(f))
    return weights


def load_qwen3(folder: str, kind: str, block_size: int = 0) -> tuple[Transformer, dict]:
    """(model in float32, config.json) from a Hugging Face folder; every weight must map and every parameter be set."""
    with open(os.path.join(folder, "config.json")) as f:
        hf = json.load(f)
    cfg = config_from_qwen3(hf, kind, block_size)
    model = Transformer(cfg)
    state = model.state_dict()
    loaded = {}
    for name, tensor in read_weights(folder).items():
        target = to_project_name(name)
        if target is None:
            raise ValueError(f"{folder}: weight {name} has no place in the model")
        if target == "head.weight" and cfg.tie_embeddings:
            continue  # a tied checkpoint may still store the head; the embedding is the head
        if target not in state:
            raise ValueError(f"{folder}: {name} -> {target} is not a parameter of this configuration")
        if tuple(tensor.shape) != tuple(state[target].shape):
            raise ValueError(f"{folder}: {name} is {tuple(tensor.shape)}, the model wants {tuple(state[target].shape)}")
        loaded[target] = tensor.to(torch.float32)
    missing = [n for n in state if n not in loaded]
    if missing:
        raise ValueError(f"{folder}: no weights for {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    model.load_state_dict(loaded)
    model.eval()
    return model, hf


def to_qwen3_state(model: Transformer) -> dict[str, torch.Tensor]:
    """model.py's parameters under Qwen3's names (for the random checkpoints the tests make)."""
    inverse_layer = {v: k for k, v in LAYER_NAMES.items()}
    inverse_top = {v: k for k, v in TOP_NAMES.items()}
    out = {}
    for name, t in model.state_dict().items():
        if name in inverse_top:
            out[inverse_top[name]] = t
            continue
        _, i, rest = name.split(".", 2)
        out[f"model.layers.{i}.{inverse_layer[rest]}"] = t
    return out
