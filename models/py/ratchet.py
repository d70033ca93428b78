"""The training ratchet's rule: does a candidate pair improve on the shipped one? Reads two `npm run eval --out`
files (the same prompt sets, the same AR model as the judge of gen-PPL) and decides for the model kinds that were
retrained (--kinds diffusion block).

A candidate improves when, on every prompt set:
  - at least as many gates pass, and no gate that passes for the shipped pair fails for it;
  - for each retrained kind, its rows' mean gen-PPL ratio to the AR row is no higher, and its doom-loop rate no
    higher;
and on at least one set one of those figures is strictly better. Exit 0 and "improves" when it does; exit 1 with
the reasons otherwise.

  python3 models/py/ratchet.py --shipped A.json --candidate B.json [--kinds diffusion block]
"""
from __future__ import annotations

import argparse
import json
import sys


def figures(quality: dict, kinds: list[str]) -> dict:
    """Per set: gates passed (names), and per kind the mean gen-PPL ratio to AR and the mean doom-loop rate."""
    out = {}
    for s in quality["sets"]:
        ar = next(r for r in s["rows"] if r["model"] == "ar" and "temperature 0" not in r["name"])
        per_kind = {}
        for kind in kinds:
            rows = [r for r in s["rows"] if r["model"] == kind]
            if rows:
                per_kind[kind] = {
                    "ratio": sum(r["genPpl"] / ar["genPpl"] for r in rows) / len(rows),
                    "doom": sum(r["doomLoops"] for r in rows) / len(rows),
                }
        passed = {g["gate"] for g in quality["gates"] if g["pass"] and g["gate"].startswith(s["name"] + ",")}
        out[s["name"]] = {"passed": passed, "kinds": per_kind}
    return out


def judge(shipped: dict, candidate: dict, kinds: list[str]) -> tuple[bool, list[str]]:
    a, b = figures(shipped, kinds), figures(candidate, kinds)
    reasons, better = [], False
    if set(a) != set(b):
        return False, [f"the prompt sets differ: {sorted(a)} vs {sorted(b)}"]
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
