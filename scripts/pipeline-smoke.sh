#!/usr/bin/env bash
# Smoke of the Python side in about a minute: a small tokenizer, a few training steps of every objective
# (the diffusion and block models initialised from the AR one, with shifted logits), evaluation, golden outputs, ONNX
# export, then the same parity tests the fixture pair passes, run against the freshly exported pair (not the
# reference-sampler comparison: 20 steps leave confidences tied within float noise; see sampler-golden.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PAIR="$WORK/pairs/smoke"
npx tsx models/ts/prepare.ts --out "$WORK/data" --vocab-size 300 --max-train-docs 300 > /dev/null
$PY models/py/train.py --config models/configs/fixture.json --objective ar --data "$WORK/data" \
  --out "$WORK/ar.pt" --max-steps 20 --minutes 2
# the denoiser with shifted logits, as the default pair's (the fixture pair covers the unshifted one)
# and long documents cut after their last whole sentence, ending with end-of-text, as the default pair's
$PY -c 'import json, sys; c = json.load(open(sys.argv[1])); c["model"]["shift_logits"] = True
c["train"]["end_long_documents"] = True; print(json.dumps(c))' models/configs/fixture.json > "$WORK/shifted.json"
# that cut: every example that had to be cut ends with a sentence end, then end-of-text
$PY - "$WORK/data" <<'EOF'
import sys
sys.path.insert(0, "models/py")
import numpy as np
from objectives import load_documents, make_batch, sentence_end_ids
docs, ends = load_documents(sys.argv[1], "train", 0), sentence_end_ids(sys.argv[1])
long = [i for i, d in enumerate(docs) if len(d) >= 64 and np.isin(d[:63], ends).any()]
assert len(ends) and len(long) > 10, (ends, len(long))
for row in make_batch(docs, long, 64, 0, ends).numpy():
    last = np.flatnonzero(row != 0)[-1]
    assert last < 63 and row[last] in ends and (row[last + 1:] == 0).all(), row
plain = make_batch(docs, long, 64, 0).numpy()
assert (plain[:, -1] != 0).all()  # without it they run to the window's end
EOF
# packed rows (windows of the stories joined end to end, each ended by one end-of-text) and the weight of the padding
# after a row's first end-of-text (issue 25's item 4: docs/sweep/rows.md)
$PY - "$WORK/data" <<'EOF'
import sys
sys.path.insert(0, "models/py")
import numpy as np
import torch
from objectives import load_documents, make_packed_batch, padding_weights
docs = load_documents(sys.argv[1], "train", 0)
stream = np.concatenate([np.append(d, 0) for d in docs])
rows = make_packed_batch(stream, [0, 7], 64).numpy()
n = len(docs[0])
assert rows.shape == (2, 64) and (rows[1] == stream[7:71]).all(), rows
assert (rows[0, :min(n, 64)] == docs[0][:64]).all() and (n >= 64 or rows[0, n] == 0), rows[0]
x = torch.tensor([[5, 6, 0, 0, 0], [7, 0, 8, 0, 0]])
assert padding_weights(x, 0, 1.0) is None
assert torch.allclose(padding_weights(x, 0, 0.1), torch.tensor([[1, 1, 1, 0.1, 0.1], [1, 1, 0.1, 0.1, 0.1]]))
# BD3-LM's clipped mask rates: training draws t from train.mask_range, validation from [mask_eps, 1] (the ELBO)
from train import mask_range
tc = {"mask_eps": 0.001, "mask_range": [0.45, 0.95]}
assert mask_range(tc, training=True) == (0.45, 0.95) and mask_range(tc, training=False) == (0.001, 1.0)
assert mask_range({"mask_eps": 0.001}, training=True) == (0.001, 1.0)
for bad in ([0.5, 0.5], [0, 0.9], [0.2, 1.5]):
    try:
        mask_range({"mask_eps": 0.001, "mask_range": bad}, training=True)
        raise AssertionError(f"mask_range {bad} accepted")
    except ValueError:
        pass
EOF
$PY -c 'import json, sys; c = json.load(open(sys.argv[1])); c["train"].update(rows="packed", pad_weight=0.1)
print(json.dumps(c))' models/configs/fixture.json > "$WORK/packed.json"
$PY models/py/train.py --config "$WORK/packed.json" --objective diffusion --data "$WORK/data" \
  --out "$WORK/packed.pt" --init-from "$WORK/ar.pt" --max-steps 2 --minutes 1 > /dev/null
$PY models/py/train.py --config "$WORK/shifted.json" --objective diffusion --data "$WORK/data" \
  --out "$WORK/diffusion.pt" --init-from "$WORK/ar.pt" --max-steps 20 --minutes 2
# block diffusion (BD3-LM): the vectorised training pass equals decoding block by block against a cache; then a
# block model from the AR weights (blocks of 4, shifted logits), trained a few steps
$PY models/py/check_block.py
$PY -c 'import json, sys; c = json.load(open(sys.argv[1])); c["model"]["block_size"] = 4; print(json.dumps(c))' \
  "$WORK/shifted.json" > "$WORK/block.json"
$PY models/py/train.py --config "$WORK/block.json" --objective block --data "$WORK/data" \
  --out "$WORK/block.pt" --init-from "$WORK/ar.pt" --max-steps 20 --minutes 2 --mask-range 0.45 0.95
$PY -c 'import sys, torch; tc = torch.load(sys.argv[1], map_location="cpu")["train_config"]
assert tc["mask_range"] == [0.45, 0.95], tc' "$WORK/block.pt"
# a range outside (0, 1] is refused before anything trains
if $PY models/py/train.py --config "$WORK/block.json" --objective block --data "$WORK/data" \
  --out "$WORK/refused.pt" --mask-range 0 0.9 2> /dev/null; then echo "--mask-range 0 0.9 accepted"; exit 1; fi
# bf16 autocast tracks float32 for every objective (a short run here; README: the 300-step figures)
$PY models/py/check_bf16.py --data "$WORK/data" --steps 30 | tail -n 1
# the published-model converter refuses every config field it does not implement (both transformers layouts)
$PY models/py/check_hf_config.py | tail -n 1
# resuming a finished run is a no-op that still saves
$PY models/py/train.py --config models/configs/fixture.json --objective ar --data "$WORK/data" \
  --out "$WORK/ar.pt" --max-steps 20 --minutes 2 | grep resumed > /dev/null
for kind in ar diffusion block; do
  $PY models/py/evaluate.py --checkpoint "$WORK/$kind.pt" --data "$WORK/data" --max-docs 16 --grid 2 \
    --out "$WORK/$kind.eval.json" > /dev/null
  # both stored forms: float32, and 8-bit weights folded at load (the shipped pair's, issue 27)
  weights=$([ "$kind" = diffusion ] && echo fp32 || echo q8)
  $PY models/py/export_onnx.py --checkpoint "$WORK/$kind.pt" --tokenizer "$WORK/data" --out "$PAIR/$kind" \
    --metrics "$WORK/$kind.eval.json" --golden "$PAIR/golden/$kind-logits.json" --weights "$weights" 2>&1 | grep -v -i warn
done
# a run started from an exported folder carries the folder's training record on (its card names the whole chain)
$PY models/py/train.py --config "$WORK/shifted.json" --objective diffusion --data "$WORK/data" \
  --out "$WORK/again.pt" --init-from "$PAIR/diffusion" --max-steps 2 --minutes 1 > /dev/null
$PY - "$WORK/again.pt" <<'PYEOF'
import sys, torch
init = torch.load(sys.argv[1], map_location="cpu")["state"]["init_from"]
assert init["objective"] == "diffusion" and init["step"] == 20 and init["init_from"]["objective"] == "ar", init
PYEOF
# the 8-bit weights read back from the graph are the checkpoint's rounded ones (training resumes from them)
$PY - "$WORK" "$PAIR" <<'PYEOF'
import sys
sys.path.insert(0, "models/py")
from evaluate import evaluate
work, pair = sys.argv[1:]
for kind in ("ar", "block"):
    a = evaluate(f"{work}/{kind}.pt", f"{work}/data", max_docs=16, grid=2, weights="q8")
    b = evaluate(f"{pair}/{kind}", f"{work}/data", max_docs=16, grid=2)
    key = "nats_per_token" if kind == "ar" else "elbo_nats_per_token"
    assert abs(a[key] - b[key]) < 1e-6, (kind, a[key], b[key])
    f = evaluate(f"{work}/{kind}.pt", f"{work}/data", max_docs=16, grid=2)
    print(f"{kind}: q8 weights {b[key]:.5f} nats/token (float32 {f[key]:.5f}), read back from the graph")
PYEOF
$PY models/py/golden.py --checkpoint "$WORK/diffusion.pt" --data "$WORK/data" --out "$PAIR/golden/sampler.json" > /dev/null
# the cached graph rebuilt from the exported folder alone (how pairs exported before it existed get theirs)
$PY models/py/export_onnx.py --from-exported "$PAIR/diffusion" --check-golden "$PAIR/golden/diffusion-logits.json" \
  2>&1 | grep "rebuilt model matches"
PAIR_DIR="$PAIR" npx vitest run test/models/pair.test.ts test/models/denoiser-cache.test.ts
# the block model's graphs and exact cache (its sampler comparisons are in sampler-golden.test.ts: see above)
PAIR_DIR="$PAIR" npx vitest run test/models/block.test.ts
# the training ratchet's rule (models/continue-tinystories.sh): a candidate replaces the shipped models only when it
# improves on every prompt set
$PY - <<'PYEOF'
import sys
sys.path.insert(0, "models/py")
from ratchet import judge
def quality(ratio, doom, gates, greedy_loops=1):
    sampled, t0 = {"temperature": 0.9}, {"temperature": 0}
    rows = [{"name": "AR (page settings)", "model": "ar", "options": sampled, "genPpl": 4.0, "doomLoops": 0.0},
            {"name": "diffusion (page settings)", "model": "diffusion", "options": sampled, "genPpl": 4.0 * ratio,
             "doomLoops": doom},
            {"name": "AR, temperature 0", "model": "ar", "options": t0, "genPpl": 2.0, "doomLoops": 0.5},
            {"name": "diffusion, temperature 0", "model": "diffusion", "options": t0, "genPpl": 1.0,
             "doomLoops": greedy_loops / 10}]
    for r in rows:
        r["samples"] = [{}] * 10  # ten openings
    sets = [{"name": n, "rows": rows} for n in ("a", "b")]
    return {"sets": sets, "gates": [{"gate": f"{n}, g{i}", "pass": True} for n in ("a", "b") for i in range(gates)]}
shipped = quality(1.6, 0.1, 2)
assert judge(shipped, quality(1.5, 0.1, 2), ["diffusion"])[0]            # better gen-PPL, nothing worse
assert judge(shipped, quality(1.6, 0.1, 3), ["diffusion"])[0]            # a gate more
assert not judge(shipped, quality(1.6, 0.1, 2), ["diffusion"])[0]        # nothing improved
assert not judge(shipped, quality(1.4, 0.2, 2), ["diffusion"])[0]        # more doom loops
assert not judge(shipped, quality(1.4, 0.1, 1), ["diffusion"])[0]        # a gate lost
assert judge(shipped, quality(1.5, 0.1, 2, greedy_loops=2), ["diffusion"])[0]      # one more greedy loop: allowed
assert not judge(shipped, quality(1.5, 0.1, 2, greedy_loops=3), ["diffusion"])[0]  # two more: refused
assert not judge(shipped, quality(1.6, 0.1, 2, greedy_loops=0), ["diffusion"])[0]  # greedy alone is no improvement
assert not judge(shipped, {**quality(1.5, 0.1, 2), "seeds": 4}, ["diffusion"])[0]  # 4 texts per opening vs 1
assert judge({**shipped, "seeds": 4}, {**quality(1.5, 0.1, 2), "seeds": 4}, ["diffusion"])[0]
print("ratchet rule: ok")
PYEOF
