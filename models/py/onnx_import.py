"""Rebuild a Transformer from a folder this project exported (config.json + onnx/model.onnx, or for a cached-only
denoiser folder its onnx/model_cached.onnx, which holds the same weights).

The exported graph holds every weight (float32, or stored as fp16 / q8 by `export_onnx.py --weights`: read back
as the graph rebuilds them), so a new graph of the same model (e.g. the denoiser's cached graph) can be
exported later without the training checkpoint, which is not committed. The result is checked against the
folder's own graph by the caller (export_onnx.py compares logits before writing anything).
"""
from __future__ import annotations

import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from kinds import kind_of
from model import ModelConfig, Transformer
from objectives import load_checkpoint


def config_from_hf(hf: dict) -> ModelConfig:
    if hf.get("weights") and hf["weights"].get("compute") != "fold":
        raise ValueError("a folder converted by export_hf.py (its weights may be compressed): convert it again from "
                         "its checkpoint instead of rebuilding it from the graph")
    diffusion = hf.get("diffusion") or {}
    return ModelConfig(
        vocab_size=hf["vocab_size"], context=hf["max_position_embeddings"], dim=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"], n_heads=hf["num_attention_heads"], hidden_dim=hf["intermediate_size"],
        norm_eps=hf["rms_norm_eps"], rope_theta=hf["rope_theta"], causal=hf.get("is_causal", True),
        shift_logits=bool(diffusion.get("shift_logits_in_graph", False)), block_size=int(diffusion.get("block_size", 0)),
    )


def stored_weight(init: dict, name: str) -> np.ndarray | None:
    """Parameter `name` as float32 from its stored form (weights.py's rebuild initializers `w.NAME.*`), as the graph
    rebuilds it: fp16 widened; q8 (code - 128) * its block's scale. None when the graph does not store it so."""
    n = f"w.{name}."
    if n + "fp16" in init:
        return init[n + "fp16"].astype(np.float32)
    if n + "b" in init and init[n + "b"].dtype == np.uint8 and init[n + "b"].ndim == 3:
        b, scale, shape = init[n + "b"], init[n + "scale"], init[n + "shape"]
        if b.shape[2] * b.shape[1] != shape[1]:
            raise ValueError(f"{name}: only 8-bit stored weights are read back here, not 4-bit")
        return ((b.astype(np.float32) - np.float32(128)) * scale).reshape(tuple(shape))
    return None


def load_exported(folder: str) -> tuple[Transformer, dict]:
    """(model, config.json) from an exported folder. Named initialisers map by name; torch.onnx gives the
    linear layers' transposed weights anonymous names, so those map by the order their MatMul nodes run in,
    which is the order of Block.forward: wq, wk, wv, wo, w_gate, w_up, w_down per block, then the tied head."""
    with open(os.path.join(folder, "config.json")) as f:
        hf = json.load(f)
    model = Transformer(config_from_hf(hf))
    whole = os.path.join(folder, "onnx", "model.onnx")
    cached = os.path.join(folder, (hf.get("diffusion") or {}).get("cache", {}).get("graph", "onnx/model_cached.onnx"))
    graph = onnx.load(whole if os.path.exists(whole) else cached).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    state = model.state_dict()
    loaded = {}
    for name in state:
        if f"model.{name}" in init:
            loaded[name] = init[f"model.{name}"]
        elif (stored := stored_weight(init, name)) is not None:  # stored compressed (export_onnx.py --weights)
            loaded[name] = stored
    matmuls = [n.input[1] for n in graph.node if n.op_type == "MatMul" and n.input[1] in init
               and not n.input[1].startswith("model.")]
    roles = ["attn.wq", "attn.wk", "attn.wv", "attn.wo", "mlp.w_gate", "mlp.w_up", "mlp.w_down"]
    linear = [f"blocks.{i}.{r}.weight" for i in range(model.cfg.n_layers) for r in roles if
              f"blocks.{i}.{r}.weight" not in loaded]
    if len(matmuls) < len(linear):
        raise ValueError(f"{folder}: expected {len(linear)} weight MatMuls, found {len(matmuls)}")
    for name, source in zip(linear, matmuls):
        loaded[name] = init[source].T  # MatMul holds (in, out); nn.Linear holds (out, in)
    missing = [n for n in state if n not in loaded]
    if missing:
        raise ValueError(f"{folder}: no weights found for {missing}")
    for name, value in loaded.items():
        if tuple(value.shape) != tuple(state[name].shape):
            raise ValueError(f"{folder}: {name} has shape {value.shape}, the model wants {tuple(state[name].shape)}")
    model.load_state_dict({n: torch.from_numpy(np.array(v, copy=True)) for n, v in loaded.items()})
    model.eval()
    return model, hf


def load_model(path: str) -> tuple:
    """(model, checkpoint-like dict) from a training checkpoint or an exported folder."""
    if not os.path.isdir(path):
        return load_checkpoint(path)
    model, hf = load_exported(path)
    mask = (hf.get("diffusion") or {}).get("mask_token_id", hf.get("mask_token_id"))
    data = {"end_of_text_id": hf["eos_token_id"], "mask_id": mask}
    return model, {"objective": kind_of(model.cfg).role, "data": data,
                   "state": {"tokens": None, "step": None, "wall_seconds": None}}
