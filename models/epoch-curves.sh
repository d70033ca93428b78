#!/usr/bin/env bash
# Validation loss per epoch on this corpus, for each objective trained from scratch at one shape
# (models/configs/epochs.json, bf16): the AR model's next-token loss and the denoiser's and block model's ELBO, in
# nats per real token from models/py/evaluate.py after every epoch (an epoch: as many batches as the train split
# has stories, one story a row). Where does the AR model start to overfit, and do the diffusion curves cross it
# (Prabhudesai et al. 2025; Ni et al. 2025)? Then docs/sweep/epochs.{md,svg,json} (models/py/epoch_chart.py).
#   bash models/epoch-curves.sh              (EPOCHS=8, the three objectives at once, one thread each)
#   OBJECTIVES="ar diffusion" EPOCHS=20 bash models/epoch-curves.sh
# Resumable: each run continues from its checkpoint and evaluates the epochs not yet evaluated.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-models/work/tinystories}
OUT=${OUT:-$WORK/epochs}
EPOCHS=${EPOCHS:-8}
OBJECTIVES=${OBJECTIVES:-ar diffusion block}
CONFIG=models/configs/epochs.json
mkdir -p "$OUT"
source models/stages.sh
prepare_tinystories
per_epoch=$($PY -c "import json,sys; m=json.load(open(sys.argv[1])); c=json.load(open(sys.argv[2]))
print(-(-m['splits']['train']['documents'] // c['train']['batch_size']))" "$WORK/data.json" "$CONFIG")
curve() { # objective
  local obj=$1 e
  for e in $(seq 1 "$EPOCHS"); do
    [ -s "$OUT/$obj-epoch-$e.json" ] && continue
    $PY models/py/train.py --config "$CONFIG" --objective "$obj" $([ "$obj" = block ] && echo --block-size 4) \
      --data "$WORK" --out "$OUT/$obj.pt" --max-steps $((EPOCHS * per_epoch)) --stop-at $((e * per_epoch)) \
      --threads 1 --minutes "${MINUTES:-600}" | tail -n 1
    $PY models/py/evaluate.py --checkpoint "$OUT/$obj.pt" --data "$WORK" --grid 4 --out "$OUT/$obj-epoch-$e.json" \
      > /dev/null
    echo "$obj: epoch $e evaluated"
  done
}
for obj in $OBJECTIVES; do curve "$obj" > "$OUT/$obj.log" 2>&1 & done
wait
$PY models/py/epoch_chart.py --dir "$OUT" --epochs "$EPOCHS" --out docs/sweep/epochs
