#!/usr/bin/env bash
# Small random checkpoints in the published Qwen3 / dLLM A2D layout, converted by `npm run export:hf` into a
# stand-in hub: OUT/src/{ar,mdlm,bd3lm} (safetensors, as published), OUT/hub/<dtype>/ (the project's layout, each a
# family with manifest.json: ar, mdlm, bd3lm) and OUT/golden/<dtype>-<kind>.json (reference logits and the dLLM
# reference sampler's runs). OUT/hub/q8-external: the q8 family with every graph's weights in an external data
# file, as graphs past 2 GB are written. OUT/hub/q4-rebuild: q4 rebuilt by standard operators instead of MatMulNBits;
# OUT/hub/q4-sliced: MatMulNBits over slices of the outputs. OUT/hub/fp16-compute: fp16 with the products in float16. OUT/from-hub: the bd3lm checkpoint converted from a hub id (a local stand-in
# hub), which must give the same graph. Deterministic; about a minute.
#   bash scripts/make-hf-random.sh OUT
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: make-hf-random.sh OUT}
rm -rf "$out"
bash scripts/py.sh models/py/make_random_hf.py --out "$out/src"
convert() { # dtype kind hub-folder [extra args]
  local dtype=$1 kind=$2 hub=$3
  shift 3
  bash scripts/py.sh models/py/export_hf.py --from "$out/src/$kind" --kind "$kind" --dtype "$dtype" --block-size 8 \
    --out "$out/hub/$hub/$kind" --manifest "$out/hub/$hub/manifest.json" --family random-qwen3 "$@" 2>&1 |
    grep -v -e 'Warning' -e 'bias.shape' -e '^ *$' || true
}
for dtype in fp32 fp16 q8 q4; do
  for kind in ar mdlm bd3lm; do
    convert "$dtype" "$kind" "$dtype" --golden "$out/golden/$dtype-$kind.json"
  done
done
for kind in ar mdlm bd3lm; do convert q8 "$kind" q8-external --external-data always; done
# q4 computed by standard operators that rebuild each weight (--compute rebuild), beside q4 read by MatMulNBits
for kind in ar mdlm bd3lm; do convert q4 "$kind" q4-rebuild --compute rebuild; done
# fp16 with the matrix products computed in float16 (--compute fp16; WebGPU needs shader-f16 for it)
for kind in ar mdlm bd3lm; do convert fp16 "$kind" fp16-compute --compute fp16; done
# q4 with every product wider than 64 KB as float32 run in slices of its outputs (as a 151,936-token head is)
for kind in ar mdlm bd3lm; do convert q4 "$kind" q4-sliced --slice-mb 0.0625; done
# the checkpoints transformers itself wrote (test/reference/qwen3, transformers 5's config layout), for the goldens of
# transformers and dLLM (test/models/reference.test.ts)
for kind in ar mdlm bd3lm; do
  bash scripts/py.sh models/py/export_hf.py --from test/reference/qwen3/$kind --kind "$kind" --dtype fp32 \
    --block-size 8 --out "$out/reference/$kind" --manifest "$out/reference/manifest.json" --family reference-qwen3 2>&1 |
    grep -v -e 'Warning' -e 'bias.shape' -e '^ *$' || true
done
# --from a hub id: the bd3lm checkpoint from a stand-in hub (hub-style paths over the source folders) converts to the
# same files as from the folder
mkdir -p "$out/fakehub/test-org/random-bd3lm/resolve"
ln -s "$(cd "$out/src/bd3lm" && pwd)" "$out/fakehub/test-org/random-bd3lm/resolve/main"
port=$((20000 + RANDOM % 20000))
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$out/fakehub" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2> /dev/null || true' EXIT
for _ in $(seq 50); do
  /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2> /dev/null && break
  sleep 0.1
done
bash scripts/py.sh models/py/export_hf.py --from test-org/random-bd3lm --hub "http://127.0.0.1:$port" \
  --download-dir "$out/downloads" --kind bd3lm --dtype q4 --block-size 8 --out "$out/from-hub/bd3lm" 2>&1 |
  grep -v -e 'Warning' -e 'bias.shape' -e '^ *$' || true
kill $server
cmp "$out/from-hub/bd3lm/onnx/model_cached.onnx" "$out/hub/q4/bd3lm/onnx/model_cached.onnx"
cmp "$out/downloads/test-org--random-bd3lm/model.safetensors" "$out/src/bd3lm/model.safetensors"
for kind in ar mdlm bd3lm; do
  ls "$out/hub/q8-external/$kind/onnx/"*.onnx_data > /dev/null || { echo "no external data for $kind"; exit 1; }
done
