# Shared by the TinyStories scripts (make-tinystories.sh, continue-tinystories.sh, epoch-curves.sh); sourced, with
# PY and WORK set. A stage that runs out of its time budget saves its checkpoint and stops the calling script
# (exit 75); running the script again resumes it, and the stages after it never see an unfinished model.
train() { # train.py arguments
  local log finished=0
  log=$(mktemp)
  $PY models/py/train.py "$@" | tee "$log"
  tail -n 1 "$log" | grep -q '^finished' && finished=1
  rm -f "$log"
  [ "$finished" = 1 ] || { echo "stopped by its time budget: run this script again to resume where it stopped"; exit 75; }
}

# The token streams of both TinyStories corpus files in $WORK (2,048-token BPE, context 256), once.
prepare_tinystories() {
  [ -s "$WORK/train.bin" ] || npx tsx models/ts/prepare.ts --out "$WORK" --corpus-dir "${CORPUS_DIR:-../shared/corpora}" \
    --vocab-size 2048 --context 256
}
