"""The converter refuses every config.json field it does not implement, in either transformers layout (issue 26):
each case below must be refused with a message naming the field, and the published layouts must pass.

  python3 models/py/check_hf_config.py      (scripts/pipeline-smoke.sh runs it; exit 1 on the first wrong answer)
"""
from __future__ import annotations

import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hf_checkpoint import config_from_qwen3  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "test", "reference", "qwen3")

# Qwen/Qwen3-0.6B's config.json as published (transformers 4.x layout)
QWEN3_06B = {
    "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
    "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
    "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
    "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None, "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": True, "use_sliding_window": False,
    "vocab_size": 151936,
}


def refused(config: dict, *words: str) -> str:
    try:
        config_from_qwen3(config, "mdlm")
    except ValueError as e:
        missing = [w for w in words if w not in str(e)]
        return f"refused without naming {missing}: {e}" if missing else ""
    return "converted"


def main():
    v5 = json.load(open(os.path.join(REFERENCE, "mdlm", "config.json")))  # written by transformers 5
    for name, config in (("Qwen3-0.6B (transformers 4 layout)", QWEN3_06B), ("transformers 5 layout", v5)):
        config_from_qwen3(config, "mdlm")  # raises if a published layout were refused
        print(f"accepted: {name}")
    linear = {"rope_type": "linear", "factor": 4.0}
    yarn = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}
    cases = [
        ("rope_scaling linear (4.x layout)", {**QWEN3_06B, "rope_scaling": linear}, ["rope_scaling", "linear"]),
        ("rope_scaling yarn (4.x layout)", {**QWEN3_06B, "rope_scaling": yarn}, ["rope_scaling", "yarn"]),
        ("rope_parameters linear (5.x layout)",
         {**v5, "rope_parameters": {**v5["rope_parameters"], **linear}}, ["rope_parameters", "linear"]),
        ("rope_parameters with an extra key", {**v5, "rope_parameters": {**v5["rope_parameters"], "factor": 2.0}},
         ["rope_parameters", "factor"]),
        ("rope_theta disagreeing", {**v5, "rope_theta": 10000.0}, ["rope_theta"]),
        ("sliding windows", {**QWEN3_06B, "use_sliding_window": True, "sliding_window": 4096}, ["use_sliding_window"]),
        ("a sliding layer (5.x layer_types)",
         {**v5, "layer_types": ["sliding_attention"] + v5["layer_types"][1:]}, ["layer_types", "sliding_attention"]),
        ("an unknown field", {**QWEN3_06B, "partial_rotary_factor": 0.5}, ["partial_rotary_factor"]),
        ("quantization", {**QWEN3_06B, "quantization_config": {"quant_method": "gptq"}}, ["quantization_config"]),
        ("attention biases", {**QWEN3_06B, "attention_bias": True}, ["attention_bias"]),
        ("another activation", {**QWEN3_06B, "hidden_act": "gelu"}, ["hidden_act"]),
        ("a vocabulary of 1e9", {**QWEN3_06B, "vocab_size": 10**9}, ["vocab_size"]),
        ("10,000 layers", {**QWEN3_06B, "num_hidden_layers": 10000}, ["num_hidden_layers"]),
        ("a width that is not a number", {**QWEN3_06B, "hidden_size": "1024"}, ["hidden_size"]),
        ("another model type", {**QWEN3_06B, "model_type": "llama"}, ["model_type"]),
    ]
    wrong = 0
    for name, config, words in cases:
        answer = refused(copy.deepcopy(config), *words)
        print(f"{'ok     ' if not answer else 'WRONG  '} {name}{': ' + answer if answer else ''}")
        wrong += bool(answer)
    if wrong:
        sys.exit(f"{wrong} of {len(cases)} configs not refused as they must be")
    print(f"all {len(cases)} unimplemented configs refused, naming the field")


if __name__ == "__main__":
    main()
