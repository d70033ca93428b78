#!/usr/bin/env bash
# The TinyStories default pair, reproducibly: tokenizer (2,048 tokens) -> AR model -> diffusion model
# initialised from the AR weights -> metrics -> model folders in models/pairs/tinystories.
#   bash models/make-tinystories.sh            (about 2 hours on 2 cores; each stage resumes from its checkpoint)
# AR_STEPS / DIFF_STEPS override the step counts; AR_MINUTES / DIFF_MINUTES the wall-clock budgets.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=models/work/tinystories
PAIR=models/pairs/tinystories
CORPUS_DIR=${CORPUS_DIR:-../shared/corpora}
mkdir -p "$WORK"
[ -s "$WORK/train.bin" ] || npx tsx models/ts/prepare.ts --out "$WORK" --corpus-dir "$CORPUS_DIR" --vocab-size 2048 --context 256
$PY models/py/train.py --config models/configs/tinystories.json --objective ar --data "$WORK" --out "$WORK/ar.pt" \
  --max-steps "${AR_STEPS:-2000}" --minutes "${AR_MINUTES:-60}"
$PY models/py/train.py --config models/configs/tinystories-diffusion.json --objective diffusion --data "$WORK" \
  --out "$WORK/diffusion.pt" --init-from "$WORK/ar.pt" --max-steps "${DIFF_STEPS:-3000}" --minutes "${DIFF_MINUTES:-90}"
for kind in ar diffusion; do
  $PY models/py/evaluate.py --checkpoint "$WORK/$kind.pt" --data "$WORK" --out "$WORK/$kind.eval.json"
  $PY models/py/export_onnx.py --checkpoint "$WORK/$kind.pt" --tokenizer "$WORK" --out "$PAIR/$kind" \
    --metrics "$WORK/$kind.eval.json" --golden "$PAIR/golden/$kind-logits.json"
done
echo "pair written to $PAIR; run \`npm run eval -- --pair tinystories\` for sample quality"
