#!/usr/bin/env bash
# The training ratchet of the TinyStories pair (issue 25): continue the shipped denoiser and block model under bf16
# autocast, export them as a candidate pair, `npm run eval` the candidate and the shipped pair (one run each, the
# same prompt sets), and replace the shipped models only when the candidate improves on both sets
# (models/py/ratchet.py states the rule). The AR model stays: it is the judge of every gen-PPL.
#   bash models/continue-tinystories.sh
#   KINDS="diffusion" DIFF_STEPS=20000 DIFF_MINUTES=150 THREADS=2 bash models/continue-tinystories.sh
#   KINDS=block BLOCK_FROM=denoiser THREADS=1 bash models/continue-tinystories.sh
# BLOCK_FROM=denoiser: the block model starts from the denoiser's continuation at DENOISER_AT steps (13,000; trained
# first if this machine lacks it: the diffusion stage's run, stopped there) instead of the shipped block model,
# BD3-LM's recipe (block diffusion fine-tuned from a masked-diffusion model): 500 steps from it reached a lower
# validation loss (2.085) than 3,807 steps continuing the shipped block model (2.303; docs/sweep/block-long.md).
# Each model starts from its training checkpoint when this machine has one ($WORK/diffusion-anneal.pt,
# $WORK/block4.pt), else from the weights read back from its exported graph (models/pairs/tinystories/KIND): nothing
# but the committed pair is needed. A training run that reaches its --minutes budget saves and stops the script
# (exit 75); running it again resumes where it stopped. On this project's 2-core machine a denoiser step of the
# default shape takes ~0.35 s under bf16 with 2 threads (~0.6 s with 1): 20,000 steps ~2 h; each eval ~30 min.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-models/work/tinystories}
PAIR=models/pairs/tinystories
CAND=$WORK/candidate
KINDS=${KINDS:-diffusion block}
THREADS=${THREADS:-2}
WEIGHTS=${WEIGHTS:-q8} # how the graphs store their weights (export_onnx.py --weights; the shipped pair's, issue 27)
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
for kind in $KINDS; do
  case $kind in
    diffusion) train --config models/configs/tinystories-diffusion-long.json --objective diffusion --data "$WORK" \
      --out "$WORK/continue-diffusion.pt" --init-from "$(start_of diffusion)" --threads "$THREADS" \
      --max-steps "${DIFF_STEPS:-20000}" --minutes "${DIFF_MINUTES:-150}" ;;
    block) if [ "${BLOCK_FROM:-shipped}" = denoiser ]; then
        at=${DENOISER_AT:-13000}
        # the denoiser's continuation (the diffusion stage's config and seed) stopped at $at steps, kept apart
        train --config models/configs/tinystories-diffusion-long.json --objective diffusion --data "$WORK" \
          --out "$WORK/continue-diffusion-$at.pt" --init-from "$(start_of diffusion)" --threads "$THREADS" \
          --max-steps 20000 --stop-at "$at" --minutes "${DIFF_MINUTES:-150}"
        train --config models/configs/tinystories-block-from-denoiser.json --objective block --data "$WORK" \
          --out "$WORK/continue-block.pt" --init-from "$WORK/continue-diffusion-$at.pt" --threads "$THREADS" \
          --max-steps "${BLOCK_STEPS:-3000}" --minutes "${BLOCK_MINUTES:-150}"
      else
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
    $PY models/py/evaluate.py --checkpoint "$WORK/continue-$kind.pt" --data "$WORK" --weights "$WEIGHTS" \
      --out "$WORK/continue-$kind.eval.json"
    $PY models/py/export_onnx.py --checkpoint "$WORK/continue-$kind.pt" --tokenizer "$WORK" \
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
# the shipped pair's eval is kept while the pair AND the eval (its code, the page's settings) are unchanged
shipped_id=$(git rev-parse "HEAD:$PAIR" 2>/dev/null || echo unknown)-$(git rev-parse HEAD:src 2>/dev/null | cut -c1-12)
shipped=$WORK/shipped-quality-$shipped_id${only:+-block}.json
[ -s "$shipped" ] || npx tsx src/cli/eval-quality.ts --pair tinystories "${only[@]}" --out "$shipped"
npx tsx src/cli/eval-quality.ts --models "$CAND" --pair tinystories "${only[@]}" --out "$WORK/candidate-quality.json"
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
  $PY models/py/export_onnx.py --checkpoint "$WORK/continue-$kind.pt" --tokenizer "$WORK" --out "$PAIR/$kind" \
    --weights "$WEIGHTS" --metrics "$WORK/continue-$kind.eval.json" --card-only --quality "$WORK/candidate-quality.json" --previous "$shipped"
done
echo "the candidate replaced the shipped $KINDS in $PAIR: commit it with the figures of $WORK/candidate-quality.json"
