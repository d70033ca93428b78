#!/usr/bin/env bash
# The TinyStories default pair, reproducibly, from both corpus files (tinystories.txt and tinystories-extra.txt,
# the same hash split for each story): tokenizer (2,048 tokens) -> AR model -> diffusion model
# initialised from the AR weights (shifted logits; stories longer than the context cut after their last whole
# sentence and ended with end-of-text) -> the same denoiser annealed further at a low learning rate (the shipped
# one, diffusion-anneal.pt) -> the block-diffusion model (BD3-LM) from the same AR weights, blocks of $BLOCK_SIZE
# (and of $BLOCK_COMPARE beside it, for the comparison; BLOCK_COMPARE= leaves it out) -> the equal-compute baseline (a denoiser from scratch on as many tokens as the AR
# model; BASELINE=0 leaves it out) -> metrics -> ONNX folders in models/pairs/tinystories -> `npm run eval` of the
# pair (and of the baseline) -> model cards carrying those figures beside the previous pair's ($PREVIOUS) -> the
# training ratchet's recipe (models/continue-tinystories.sh; RATCHET=0 leaves it out): that denoiser trained to
# 13,000 + 400 more steps, and the block model fine-tuned from it (BD3-LM's recipe), the shipped ones.
#   bash models/make-tinystories.sh      (on this project's 2-core machine: AR 3,000 steps about 1 h 30 min to
#                                         2 h 20 min, diffusion 2,000 + 600 steps about 1 h 25 min at ~2 s a
#                                         step, the baseline as long as the AR model, each eval about 25 min;
#                                         each training stage resumes from its checkpoint, see train() below;
#                                         the ratchet's stages ~6-8 h more, see continue-tinystories.sh)
# AR_STEPS / DIFF_STEPS / ANNEAL_STEPS / BLOCK_STEPS override the step counts; AR_MINUTES / DIFF_MINUTES /
# ANNEAL_MINUTES / BLOCK_MINUTES the wall-clock budgets. The block models train with one thread each, two at once.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=models/work/tinystories
PAIR=models/pairs/tinystories
BASE=$WORK/baseline # a models root of its own, so `npm run eval` can score the baseline like any pair
CORPUS_DIR=${CORPUS_DIR:-../shared/corpora}
AR_STEPS=${AR_STEPS:-3000} # 2.3x the stories of the first pair (both corpus files): 3.9 epochs of 3.17 M tokens
DENOISER=diffusion-anneal # the shipped denoiser: the checkpoint of the last diffusion stage
BASELINE=${BASELINE:-1}
BLOCK_SIZE=${BLOCK_SIZE:-4}          # the shipped block model's (measured against 16: docs/sweep/block.md)
BLOCK_COMPARE=${BLOCK_COMPARE-16}    # trained beside it up to COMPARE_AT steps for the comparison; empty: none
COMPARE_AT=${COMPARE_AT:-88}
BLOCK_STEPS=${BLOCK_STEPS:-600}      # the shipped block model's schedule after the comparison
BLOCK=block$BLOCK_SIZE
# the pair shipped before this one, measured by `npm run eval` at today's page settings: the cards compare with it
PREVIOUS=${PREVIOUS:-docs/sweep/s7-previous-pair.json}
mkdir -p "$WORK"
source models/stages.sh
prepare_tinystories
train --config models/configs/tinystories.json --objective ar --data "$WORK" --out "$WORK/ar.pt" \
  --max-steps "$AR_STEPS" --minutes "${AR_MINUTES:-90}"
train --config models/configs/tinystories-diffusion.json --objective diffusion --data "$WORK" \
  --out "$WORK/diffusion.pt" --init-from "$WORK/ar.pt" --max-steps "${DIFF_STEPS:-2000}" --minutes "${DIFF_MINUTES:-150}"
train --config models/configs/tinystories-diffusion-anneal.json --objective diffusion --data "$WORK" \
  --out "$WORK/$DENOISER.pt" --init-from "$WORK/diffusion.pt" --max-steps "${ANNEAL_STEPS:-600}" \
  --minutes "${ANNEAL_MINUTES:-90}"
# block diffusion: each block size from the AR weights, on the same data, at once on one thread each, to COMPARE_AT
# steps (the config's 800-step schedule), both evaluated there; then the shipped size on two threads to the end of
# a BLOCK_STEPS schedule (what this pair's block model was: docs/sweep/block.md)
block_sizes="$BLOCK_SIZE $BLOCK_COMPARE"
if [ ! -s "$WORK/$BLOCK-compare.eval.json" ]; then
  for size in $block_sizes; do
    train --config models/configs/tinystories-block.json --objective block --block-size "$size" --data "$WORK" \
      --out "$WORK/block$size.pt" --init-from "$WORK/ar.pt" --threads 1 --stop-at "$COMPARE_AT" \
      --minutes "${BLOCK_MINUTES:-150}" > "$WORK/block$size.log" &
  done
  wait
  for size in $block_sizes; do
    tail -n 1 "$WORK/block$size.log" | grep -q '^finished' || { echo "block$size: stopped by its time budget: run this script again to resume"; exit 75; }
    cp "$WORK/block$size.pt" "$WORK/block$size-compare.pt"
    $PY models/py/evaluate.py --checkpoint "$WORK/block$size-compare.pt" --data "$WORK" --max-docs 128 --grid 4 \
      --out "$WORK/block$size-compare.eval.json"
  done
fi
train --config models/configs/tinystories-block.json --objective block --block-size "$BLOCK_SIZE" --data "$WORK" \
  --out "$WORK/$BLOCK.pt" --init-from "$WORK/ar.pt" --threads 2 --max-steps "$BLOCK_STEPS" \
  --minutes "${BLOCK_MINUTES:-150}"
# the baseline: the AR model's configuration and schedule, the LLaDA objective, a random initialisation
# (BASELINE=0 leaves it out, and the cards with it)
if [ "$BASELINE" = 1 ]; then
  train --config models/configs/tinystories.json --objective diffusion --data "$WORK" \
    --out "$WORK/diffusion-scratch.pt" --max-steps "$AR_STEPS" --minutes "${AR_MINUTES:-90}"
fi
WEIGHTS=${WEIGHTS:-q8} # how the graphs store their weights (export_onnx.py --weights; 8 bits: issue 27)
for kind in ar "$DENOISER" "$BLOCK" $([ "$BASELINE" = 1 ] && echo diffusion-scratch); do
  $PY models/py/evaluate.py --checkpoint "$WORK/$kind.pt" --data "$WORK" --weights "$WEIGHTS" --out "$WORK/$kind.eval.json"
done
export_pair() { # extra export_onnx.py arguments (--card-only, figures for the cards)
  local kind checkpoint
  for kind in ar diffusion block; do
    checkpoint=$kind
    if [ "$kind" = diffusion ]; then checkpoint=$DENOISER; fi
    if [ "$kind" = block ]; then checkpoint=$BLOCK; fi
    $PY models/py/export_onnx.py --checkpoint "$WORK/$checkpoint.pt" --tokenizer "$WORK" --out "$PAIR/$kind" \
      --metrics "$WORK/$checkpoint.eval.json" --golden "$PAIR/golden/$kind-logits.json" --weights "$WEIGHTS" "$@"
  done
}
export_pair
# the reference samplers on the models as their graphs store them
$PY models/py/golden.py --checkpoint "$PAIR/diffusion" --data "$WORK" --out "$PAIR/golden/sampler.json"
$PY models/py/golden.py --checkpoint "$PAIR/block" --data "$WORK" --out "$PAIR/golden/block-sampler.json"
npx tsx src/cli/eval-quality.ts --pair tinystories --out "$WORK/quality.json"
card=(--quality "$WORK/quality.json" --previous "$PREVIOUS")
if [ "$BASELINE" = 1 ]; then
  rm -rf "$BASE" && mkdir -p "$BASE/scratch" && cp -r "$PAIR/ar" "$BASE/scratch/ar"
  $PY models/py/export_onnx.py --checkpoint "$WORK/diffusion-scratch.pt" --tokenizer "$WORK" \
    --out "$BASE/scratch/diffusion" --metrics "$WORK/diffusion-scratch.eval.json" --weights "$WEIGHTS"
  echo '{"default": "scratch", "pairs": {"scratch": {"title": "baseline", "ar": "scratch/ar",
    "diffusion": "scratch/diffusion", "description": "from-scratch denoiser beside the shipped AR model"}}}' > "$BASE/manifest.json"
  npx tsx src/cli/eval-quality.ts --models "$BASE" --out "$WORK/baseline-quality.json"
  card+=(--baseline "$WORK/ar.eval.json" "$WORK/diffusion-scratch.eval.json" "$WORK/baseline-quality.json")
fi
export_pair --card-only "${card[@]}"
echo "pair written to $PAIR with model cards; sample quality: $WORK/quality.json"
# then the training ratchet's recipe (models/continue-tinystories.sh), which made the shipped denoiser and block model
# from this pair's denoiser; RATCHET=0 stops at the first pair
[ "${RATCHET:-1}" = 0 ] || BLOCK_STEPS= bash models/continue-tinystories.sh || {
  rc=$?; [ "$rc" = 75 ] && echo "resume the ratchet's stages with: bash models/continue-tinystories.sh"; exit "$rc"; }
