#!/usr/bin/env bash
# The whole test suite (`npm test`): static checks, unit and integration tests on the fixture pair,
# a smoke run of the Python pipeline (tokenizer -> train a few steps -> export -> parity), and the
# end-to-end tests of the built page in Debian's Chromium (WASM and WebGPU).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s\n' "$*"; }

step "format (prettier --check)"
npx prettier --check . --log-level warn
step "types (svelte-check, tsc)"
npx svelte-check --tsconfig ./tsconfig.json --threshold error --output machine | tail -n 3
step "unit and fixture tests (vitest)"
npx vitest run
step "model pipeline smoke"
bash scripts/pipeline-smoke.sh
step "end-to-end (built page in Chromium)"
npx vite build --logLevel warn
npx vitest run --config vitest.e2e.config.ts
