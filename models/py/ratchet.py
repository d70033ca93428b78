"""The training ratchet's rule: does a candidate pair improve on the shipped one? Reads two `npm run eval --out`
files (the same prompt sets, the same AR model as the judge of gen-PPL) and decides for the model kinds that were
retrained (--kinds diffusion block).

Both evals must have written as many texts per opening (`npm run eval --seeds N`; continue-tinystories.sh runs the
block model's rows with 4, whose seed-to-seed spread alone moved its gen-PPL by up to 17% on 32 openings).
A candidate improves when, on every prompt set:
  - at least as many gates pass, and no gate that passes for the shipped pair fails for it;
  - for each retrained kind, over its sampled rows (temperature > 0, the page's settings and the other modes it
    offers): the mean gen-PPL ratio to the AR row is no higher, and the mean doom-loop rate no higher;
  - for each retrained kind's greedy rows (temperature 0): no more than one opening more falls into a doom loop than
    for the shipped model (their gate, no more loops than the AR model's, is among the gates above);
and on at least one set one of the sampled figures or the gate count is strictly better. Exit 0 and "improves" when
it does; exit 1 with the reasons otherwise.

Why greedy rows are judged apart (adopted 2026-12-03, after the three refusals below and before the next candidate
was judged; docs/sweep/large-blocks.md): decoding at temperature 0 has no seed to average over, so its doom-loop
figure moves by whole openings (one of 32 is 3%) between checkpoints that improve every other figure, and its gen-PPL
rewards repetition.
Three candidates in a row were refused for one such opening while their gated figures all improved.

  python3 models/py/ratchet.py --shipped A.json --candidate B.json [--kinds diffusion block]
"""
from __future__ import annotations

import argparse
import json
import sys


def greedy(row: dict) -> bool:
    return row["options"]["temperature"] == 0


def figures(quality: dict, kinds: list[str]) -> dict:
    """Per set: gates passed (names), and per kind the mean gen-PPL ratio to AR and the mean doom-loop rate of its
    sampled rows, and the doom-looping openings of each greedy row (by name)."""
    out = {}
    for s in quality["sets"]:
        ar = next(r for r in s["rows"] if r["model"] == "ar" and not greedy(r))
        per_kind = {}
        for kind in kinds:
            mine = [r for r in s["rows"] if r["model"] == kind]
            rows = [r for r in mine if not greedy(r)]
            if rows:
                per_kind[kind] = {
                    "ratio": sum(r["genPpl"] / ar["genPpl"] for r in rows) / len(rows),
                    "doom": sum(r["doomLoops"] for r in rows) / len(rows),
                    "greedy": {r["name"]: round(r["doomLoops"] * len(r["samples"])) for r in mine if greedy(r)},
                }
        passed = {g["gate"] for g in quality["gates"] if g["pass"] and g["gate"].startswith(s["name"] + ",")}
        out[s["name"]] = {"passed": passed, "kinds": per_kind}
    return out


def judge(shipped: dict, candidate: dict, kinds: list[str]) -> tuple[bool, list[str]]:
    a, b = figures(shipped, kinds), figures(candidate, kinds)
    reasons, better = [], False
    if set(a) != set(b):
        return False, [f"the prompt sets differ: {sorted(a)} vs {sorted(b)}"]
    seeds = shipped.get("seeds", 1), candidate.get("seeds", 1)  # texts per opening (npm run eval --seeds)
    if seeds[0] != seeds[1]:
        return False, [f"the evals wrote {seeds[0]} and {seeds[1]} texts per opening: run both with the same --seeds"]
    for name in a:
        lost = a[name]["passed"] - b[name]["passed"]
        if lost:
            reasons.append(f"{name}: gates that pass now fail: {sorted(lost)}")
        if len(b[name]["passed"]) < len(a[name]["passed"]):
            reasons.append(f"{name}: {len(b[name]['passed'])} gates pass, {len(a[name]['passed'])} before")
        better |= len(b[name]["passed"]) > len(a[name]["passed"])
        for kind in kinds:
            old, new = a[name]["kinds"].get(kind), b[name]["kinds"].get(kind)
            if old is None or new is None:
                continue
            for key, label in (("ratio", "gen-PPL / AR"), ("doom", "doom-loop rate")):
                if new[key] > old[key] + 1e-9:
                    reasons.append(f"{name}, {kind}: {label} {new[key]:.3f} > {old[key]:.3f}")
                better |= new[key] < old[key] - 1e-9
            for row, loops in new["greedy"].items():
                before = old["greedy"].get(row)
                if before is not None and loops > before + 1:
                    reasons.append(f"{name}, {row}: {loops} openings loop, {before} before (one more is allowed)")
    if not reasons and not better:
        reasons.append("no figure improved")
    return not reasons, reasons


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shipped", required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--kinds", nargs="+", default=["diffusion", "block"])
    args = p.parse_args()
    improves, reasons = judge(json.load(open(args.shipped)), json.load(open(args.candidate)), args.kinds)
    if improves:
        print("improves: the candidate replaces the shipped models")
        return
    print("does not improve: the shipped models stay")
    for r in reasons:
        print(f"  - {r}")
    sys.exit(1)


if __name__ == "__main__":
    main()
