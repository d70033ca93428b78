"""The model kinds, one table for both exporters (export_onnx.py for this project's models, export_hf.py for
converted published ones): what each kind is in config.json, which graph it ships, its role in a manifest, and its
cached graph's layout (a key of models/cache-layout.json, the contract the runtime checks). A new kind adds a row
here, a class in src/core/models/onnx/ and a row in that folder's load.ts.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    role: str  # the manifest's name for the folder, and the runtime's ModelKind: "ar" | "diffusion" | "block"
    causal: bool  # the transformers.js KV layout graph (onnx/model.onnx); no mask token, no diffusion section
    cache_layout: str | None  # the cached graph's layout in models/cache-layout.json ("window" | "block"); None: none
    # this project's models (export_onnx.py): config.json's architectures, model_type and diffusion.objective
    architecture: str
    model_type: str
    objective: str | None
    # published models converted by export_hf.py: the --kind name (dLLM's), its architecture and model card line
    converted_name: str
    converted_architecture: str
    converted_what: str  # "{block_size}" is filled in

    @property
    def block(self) -> bool:
        """Block-causal attention with an exact cache of finished blocks (BD3-LM)."""
        return self.cache_layout == "block"

    @property
    def window_only(self) -> bool:
        """The cached graph returns the window's keys and values alone (Fast-dLLM's caches)."""
        return self.cache_layout == "window"


KINDS: dict[str, Kind] = {
    "ar": Kind(role="ar", causal=True, cache_layout=None,
               architecture="LlamaForCausalLM", model_type="llama", objective=None,
               converted_name="ar", converted_architecture="Qwen3ForCausalLM",
               converted_what="Qwen3, causal (the autoregressive baseline)"),
    "diffusion": Kind(role="diffusion", causal=False, cache_layout="window",
                      architecture="LLaDAModelLM", model_type="llada", objective="llada-masked",
                      converted_name="mdlm", converted_architecture="A2DQwen3LMHeadModel",
                      converted_what="dLLM's A2D masked diffusion (MDLM): bidirectional attention, unshifted logits"),
    "block": Kind(role="block", causal=False, cache_layout="block",
                  architecture="BD3LMModel", model_type="bd3lm", objective="bd3lm",
                  converted_name="bd3lm", converted_architecture="A2DQwen3LMHeadModel",
                  converted_what="dLLM's A2D block diffusion (BD3LM): blocks of {block_size}, aligned at the prompt's "
                                 "end"),
}

# export_hf.py's --kind names (dLLM's) -> the kinds
CONVERTED: dict[str, Kind] = {k.converted_name: k for k in KINDS.values()}


def kind_of(cfg) -> Kind:
    """The kind of a model by its configuration (model.py's ModelConfig)."""
    if cfg.causal:
        return KINDS["ar"]
    return KINDS["block"] if cfg.block_size else KINDS["diffusion"]
