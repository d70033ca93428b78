#!/usr/bin/env bash
# Builds the tiny fixture pair that the tests use, from the shared TinyStories corpus, in one command:
#   npm run fixtures               (about 5 minutes on 2 cores)
# Tokenizer -> AR model -> diffusion model and block-diffusion model (BD3-LM, blocks of 4, shifted logits), both
# initialised from the AR weights -> metrics -> ONNX folders, parity goldens and the reference sampler's golden
# outputs. Scratch files go to models/work/fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=models/work/fixture
PAIR=models/pairs/fixture
CORPUS_DIR=${CORPUS_DIR:-../shared/corpora}
AR_STEPS=${AR_STEPS:-}
DIFF_STEPS=${DIFF_STEPS:-}
BLOCK_STEPS=${BLOCK_STEPS:-}

rm -rf "$WORK" && mkdir -p "$WORK"
npx tsx models/ts/prepare.ts --out "$WORK" --corpus-dir "$CORPUS_DIR" --vocab-size 512 --context 128
$PY models/py/train.py --config models/configs/fixture.json --objective ar --data "$WORK" \
  --out "$WORK/ar.pt" --minutes 4 ${AR_STEPS:+--max-steps "$AR_STEPS"}
$PY models/py/train.py --config models/configs/fixture.json --objective diffusion --data "$WORK" \
  --out "$WORK/diffusion.pt" --init-from "$WORK/ar.pt" --minutes 4 ${DIFF_STEPS:+--max-steps "$DIFF_STEPS"}
$PY models/py/train.py --config models/configs/fixture-block.json --objective block --data "$WORK" \
  --out "$WORK/block.pt" --init-from "$WORK/ar.pt" --minutes 3 ${BLOCK_STEPS:+--max-steps "$BLOCK_STEPS"}
for kind in ar diffusion block; do
  $PY models/py/evaluate.py --checkpoint "$WORK/$kind.pt" --data "$WORK" --out "$WORK/$kind.eval.json"
done
$PY models/py/golden.py --checkpoint "$WORK/diffusion.pt" --data "$WORK" --out "$PAIR/golden/sampler.json" \
  | tee "$WORK/diffusion.samples.txt"
$PY models/py/golden.py --checkpoint "$WORK/block.pt" --data "$WORK" --out "$PAIR/golden/block-sampler.json" \
  | tee "$WORK/block.samples.txt"
for kind in ar diffusion block; do
  $PY models/py/export_onnx.py --checkpoint "$WORK/$kind.pt" --tokenizer "$WORK" --out "$PAIR/$kind" \
    --metrics "$WORK/$kind.eval.json" --golden "$PAIR/golden/$kind-logits.json" \
    $([ "$kind" != ar ] && echo --samples "$WORK/$kind.samples.txt")
done
echo "fixture pair written to $PAIR"
