#!/usr/bin/env bash
# The training ratchet of the TinyStories pair (issue 25): continue the denoiser and the block model under bf16
# autocast, export them as a candidate pair, `npm run eval` the candidate and the shipped pair (one run each, the
# same prompt sets), and replace the shipped models only when the candidate improves on both sets
# (models/py/ratchet.py states the rule). The AR model stays: it is the judge of every gen-PPL.
#   bash models/continue-tinystories.sh                         (after make-tinystories.sh: the shipped models)
#   KINDS=block BLOCK_MORE=2500 THREADS=1 bash models/continue-tinystories.sh
# The recipe, the one that made the shipped denoiser and block model (2026-12-03):
#   1. the denoiser's long continuation: models/configs/tinystories-diffusion-long.json (lr 3e-4 cosine over 20,000
#      steps), stopped at DENOISER_AT (13,000) steps, 53 M tokens: $WORK/continue-diffusion-13000.pt;
#   2. diffusion: 400 steps more at a low learning rate (models/configs/rows-padded.json: 1e-4 after 50 warm-up
#      steps; SETTLE_STEPS) -> $WORK/continue-diffusion.pt, the shipped denoiser;
#   3. block: BD3-LM's recipe, block diffusion fine-tuned from the masked-diffusion model of step 1
#      (models/configs/tinystories-block-from-denoiser.json: 3,000 steps, BLOCK_STEPS) -> $WORK/block-from-denoiser.pt,
#      the shipped block model; BLOCK_MORE=N trains a second schedule of N steps from there
#      (tinystories-block-from-denoiser-more.json), BLOCK_CLIPPED=N the same with BD3-LM's clipped mask rates
#      (--mask-range 0.45 0.95: each block's t drawn from [0.45, 0.95]); both measured and refused
#      (docs/sweep/block-long.md). That file measured step 3 against continuing the block model trained from the AR
#      weights (BLOCK_FROM=shipped, the earlier recipe): lower loss in fewer steps.
# Step 1 starts from the checkpoint make-tinystories.sh leaves ($WORK/diffusion-anneal.pt, the first pair's
# denoiser): after it this script reproduces the shipped models. On a machine without it, step 1 starts from the
# weights read back from the shipped graph (models/pairs/tinystories/diffusion): then it continues the shipped
# models, and nothing but the committed pair is needed. A training run that reaches its --minutes budget saves and
# stops the script (exit 75); running it again resumes where it stopped. On this project's 2-core machine a denoiser
# step of the default shape takes ~0.35 s under bf16 with 2 threads (~0.6-1 s with 1): 13,000 steps ~2-4 h; a block
# step ~2.8 s on one shared thread (3,000 steps 2 h 18 min); each eval ~20-30 min.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-models/work/tinystories}
PAIR=models/pairs/tinystories
CAND=$WORK/candidate
KINDS=${KINDS:-diffusion block}
THREADS=${THREADS:-2}
WEIGHTS=${WEIGHTS:-q8} # how the graphs store their weights (export_onnx.py --weights; the shipped pair's, issue 27)
if [ "${BLOCK_MORE:-0}" -gt 0 ] && [ "${BLOCK_CLIPPED:-0}" -gt 0 ]; then
  echo "BLOCK_MORE and BLOCK_CLIPPED are two second schedules of the block model: give one"; exit 2
fi
mkdir -p "$WORK"
source models/stages.sh
prepare_tinystories
# the data must be tokenized as the shipped models were
$PY - "$WORK/tokenizer.json" "$PAIR/diffusion/tokenizer.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
sys.exit(0 if a == b else f"{sys.argv[1]} differs from the shipped tokenizer {sys.argv[2]}: remove {sys.argv[1]} to redo it")
PYEOF
start_of() { # kind -> the checkpoint of the shipped model if this machine has it, else its exported folder
  local ckpt
  ckpt=$WORK/$([ "$1" = diffusion ] && echo diffusion-anneal || echo block4).pt
  if [ -s "$ckpt" ]; then echo "$ckpt"; else echo "$PAIR/$1"; fi
}
at=${DENOISER_AT:-13000}
declare -A checkpoint=([diffusion]=$WORK/continue-diffusion.pt [block]=$WORK/continue-block.pt) # each kind's candidate
long_denoiser() { # the denoiser's long continuation, stopped at $at steps of its 20,000-step schedule, kept apart
  train --config models/configs/tinystories-diffusion-long.json --objective diffusion --data "$WORK" \
    --out "$WORK/continue-diffusion-$at.pt" --init-from "$(start_of diffusion)" --threads "$THREADS" \
    --max-steps 20000 --stop-at "$at" --minutes "${DIFF_MINUTES:-150}"
}
for kind in $KINDS; do
  case $kind in
    diffusion) long_denoiser
      # then 400 steps at a low learning rate (1e-4 after 50 warm-up steps, the padded rows of docs/sweep/rows.md)
      train --config models/configs/rows-padded.json --objective diffusion --data "$WORK" \
        --out "$WORK/continue-diffusion.pt" --init-from "$WORK/continue-diffusion-$at.pt" --threads "$THREADS" \
        --stop-at "${SETTLE_STEPS:-400}" --minutes "${DIFF_MINUTES:-150}" ;;
    block) if [ "${BLOCK_FROM:-denoiser}" = denoiser ]; then
        long_denoiser
        train --config models/configs/tinystories-block-from-denoiser.json --objective block --data "$WORK" \
          --out "$WORK/block-from-denoiser.pt" --init-from "$WORK/continue-diffusion-$at.pt" --threads "$THREADS" \
          --max-steps "${BLOCK_STEPS:-3000}" --minutes "${BLOCK_MINUTES:-150}"
        if [ "${BLOCK_MORE:-0}" -gt 0 ]; then # a second schedule from there (lr 1.5e-4 down to 1e-5)
          train --config models/configs/tinystories-block-from-denoiser-more.json --objective block --data "$WORK" \
            --out "$WORK/continue-block.pt" --init-from "$WORK/block-from-denoiser.pt" --threads "$THREADS" \
            --max-steps "$BLOCK_MORE" --minutes "${BLOCK_MINUTES:-150}"
        elif [ "${BLOCK_CLIPPED:-0}" -gt 0 ]; then # the same with BD3-LM's clipped mask rates, t in [0.45, 0.95]
          train --config models/configs/tinystories-block-from-denoiser-more.json --objective block --data "$WORK" \
            --out "$WORK/block-clipped.pt" --init-from "$WORK/block-from-denoiser.pt" --threads "$THREADS" \
            --max-steps "$BLOCK_CLIPPED" --mask-range 0.45 0.95 --minutes "${BLOCK_MINUTES:-150}"
          checkpoint[block]=$WORK/block-clipped.pt
        else
          checkpoint[block]=$WORK/block-from-denoiser.pt
        fi
      else # BLOCK_FROM=shipped: the shipped block model continued
        train --config models/configs/tinystories-block-long.json --objective block --data "$WORK" \
          --out "$WORK/continue-block.pt" --init-from "$(start_of block)" --threads "$THREADS" \
          --max-steps "${BLOCK_STEPS:-10000}" --minutes "${BLOCK_MINUTES:-150}"
      fi ;;
    *) echo "KINDS: diffusion and/or block, got $kind"; exit 2 ;;
  esac
done
# the candidate pair: the continued models, the shipped ones for the rest
rm -rf "$CAND" && mkdir -p "$CAND/tinystories/golden"
for kind in ar diffusion block; do
  if [[ " $KINDS " == *" $kind "* ]]; then
    $PY models/py/evaluate.py --checkpoint "${checkpoint[$kind]}" --data "$WORK" --weights "$WEIGHTS" \
      --out "$WORK/continue-$kind.eval.json"
    $PY models/py/export_onnx.py --checkpoint "${checkpoint[$kind]}" --tokenizer "$WORK" \
      --out "$CAND/tinystories/$kind" --metrics "$WORK/continue-$kind.eval.json" \
      --golden "$CAND/tinystories/golden/$kind-logits.json" --weights "$WEIGHTS"
  else
    cp -r "$PAIR/$kind" "$CAND/tinystories/$kind"
    cp "$PAIR/golden/$kind-logits.json" "$CAND/tinystories/golden/"
  fi
done
$PY - models/pairs/manifest.json "$CAND/manifest.json" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
json.dump({"default": "tinystories", "pairs": {"tinystories": m["pairs"]["tinystories"]}}, open(sys.argv[2], "w"), indent=2)
PYEOF
# one eval of each; the block model alone retrained: its rows
# alone (`--only block`: the AR and block-diffusion rows, the same gates for them)
only=()
[ "$KINDS" = block ] && only=(--only block)
# texts per opening in both evals (npm run eval --seeds): 4 for the block model's rows alone (one text per opening
# moved its page row's gen-PPL by up to 17% between seeds on 32 openings: docs/sweep/block-long.md), 1 for the whole
# eval (its figures in the README are one text per opening)
SEEDS=${SEEDS:-$([ "$KINDS" = block ] && echo 4 || echo 1)}
# the shipped pair's eval is kept while the pair's files AND the eval (its code, the page's settings) are unchanged
# (the files as they are here: make-tinystories.sh rewrites the pair before it runs this script)
tree_hash() { find "$1" -type f -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12; }
shipped_id=$(tree_hash "$PAIR")-$(tree_hash src)
shipped=$WORK/shipped-quality-$shipped_id${only:+-block}-seeds$SEEDS.json
[ -s "$shipped" ] || npx tsx src/cli/eval-quality.ts --pair tinystories "${only[@]}" --seeds "$SEEDS" --out "$shipped"
npx tsx src/cli/eval-quality.ts --models "$CAND" --pair tinystories "${only[@]}" --seeds "$SEEDS" \
  --out "$WORK/candidate-quality.json"
# shellcheck disable=SC2086
if ! $PY models/py/ratchet.py --shipped "$shipped" --candidate "$WORK/candidate-quality.json" --kinds $KINDS; then
  echo "the shipped pair stays; the candidate is in $CAND"
  exit 0
fi
for kind in $KINDS; do
  rm -rf "${PAIR:?}/$kind" && cp -r "$CAND/tinystories/$kind" "$PAIR/$kind"
  cp "$CAND/tinystories/golden/$kind-logits.json" "$PAIR/golden/"
  golden=$([ "$kind" = diffusion ] && echo sampler || echo block-sampler)
  # the reference sampler on the model as its graph stores it
  $PY models/py/golden.py --checkpoint "$PAIR/$kind" --data "$WORK" --out "$PAIR/golden/$golden.json"
  $PY models/py/export_onnx.py --checkpoint "${checkpoint[$kind]}" --tokenizer "$WORK" --out "$PAIR/$kind" \
    --weights "$WEIGHTS" --metrics "$WORK/continue-$kind.eval.json" --card-only --quality "$WORK/candidate-quality.json" --previous "$shipped"
done
echo "the candidate replaced the shipped $KINDS in $PAIR: commit it with the figures of $WORK/candidate-quality.json"
