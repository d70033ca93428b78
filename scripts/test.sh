#!/usr/bin/env bash
# The whole test suite (`npm test`): static checks, unit and integration tests on the fixture pair,
# a smoke run of the Python pipeline (tokenizer -> train a few steps -> export -> parity), and the
# end-to-end tests of the built page in Debian's Chromium (WASM and WebGPU).
set -euo pipefail
cd "$(dirname "$0")/.."
# each step's heading says how long the one before it took; the last line, the whole suite
last=$SECONDS
step() {
  printf '\n=== %s (the step before: %d s)\n' "$*" $((SECONDS - last))
  last=$SECONDS
}

step "format (prettier --check)"
npx prettier --check . --log-level warn
step "types (svelte-check, tsc)"
npx svelte-check --tsconfig ./tsconfig.json --threshold error --output machine | tail -n 3
step "unit and fixture tests (vitest)"
npx vitest run
step "parity of every shipped pair (ONNX vs PyTorch golden logits, KV caches, config, tokenizer, reference samplers; the block model too)"
for pair in models/pairs/*/; do
  [ "$(basename "$pair")" = fixture ] && continue # already covered by the unit tests above
  PAIR_DIR="$pair" npx vitest run test/models/pair.test.ts test/models/denoiser-cache.test.ts test/models/sampler-golden.test.ts \
    test/models/block.test.ts
done

step "published models: random Qwen3 / dLLM A2D checkpoints converted by export:hf (parity, dLLM reference samplers)"
export HF_RANDOM_DIR=test-results/hf-random # the e2e tests serve its hub/ as a stand-in for the Hugging Face hub
bash scripts/make-hf-random.sh "$HF_RANDOM_DIR"
npx vitest run test/models/hf.test.ts test/models/reference.test.ts

step "model pipeline smoke"
bash scripts/pipeline-smoke.sh
step "benchmark harness smoke (fixture pair; timings are not checked)"
bench_out=$(mktemp -d)
npm run --silent bench -- --pair fixture --quick --out "$bench_out" --dtypes "$HF_RANDOM_DIR/hub" > "$bench_out/log.txt"
grep -q "^| q4-rebuild | rebuild | " "$bench_out/report.md" || { echo "bench wrote no dtype rows"; exit 1; }
for f in report.md bench.json frontier.svg; do test -s "$bench_out/$f" || { echo "bench wrote no $f"; exit 1; }; done
grep -q "same tokens: \*\*yes\*\*" "$bench_out/report.md" || { echo "our AR loop and transformers.js disagree"; exit 1; }
rm -rf "$bench_out"

step "end-to-end (built page in Chromium)"
DEMO_TEST_PAIRS=1 npx vite build --logLevel warn # the fixture pair too (left out of a production build)
npx vitest run --config vitest.e2e.config.ts
printf '\n=== end-to-end: %d s; the whole suite: %d s\n' $((SECONDS - last)) "$SECONDS"
