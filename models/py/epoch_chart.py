"""The chart of models/epoch-curves.sh: validation loss per epoch for each objective, as docs/sweep/epochs.svg, the
figures as epochs.json and a table in epochs.md (the words around it are written by hand).

  python3 models/py/epoch_chart.py --dir models/work/tinystories/epochs --epochs 12 --out docs/sweep/epochs
"""
from __future__ import annotations

import argparse
import json
import os

LABELS = {"ar": "AR: next-token loss", "diffusion": "denoiser: ELBO", "block": "block diffusion (blocks of 4): ELBO"}
COLOURS = {"ar": "#c0392b", "diffusion": "#2471a3", "block": "#229954"}


def load(folder: str, epochs: int) -> dict:
    curves = {}
    for obj in LABELS:
        points = []
        for e in range(1, epochs + 1):
            path = os.path.join(folder, f"{obj}-epoch-{e}.json")
            if not os.path.exists(path):
                break
            r = json.load(open(path))
            loss = r.get("nats_per_token", r.get("elbo_nats_per_token"))
            points.append({"epoch": e, "nats_per_token": round(loss, 4), "tokens_trained": r["tokens_trained"]})
        if points:
            curves[obj] = points
    return curves


def svg(curves: dict, width=640, height=400, m=56) -> str:
    xs = [p["epoch"] for c in curves.values() for p in c]
    ys = [p["nats_per_token"] for c in curves.values() for p in c]
    x0, x1 = 0, max(xs)
    y0, y1 = min(ys) - 0.05, max(ys) + 0.05
    X = lambda x: m + (x - x0) / (x1 - x0) * (width - 2 * m)  # noqa: E731
    Y = lambda y: height - m - (y - y0) / (y1 - y0) * (height - 2 * m)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<line x1="{m}" y1="{height - m}" x2="{width - m}" y2="{height - m}" stroke="#333"/>',
           f'<line x1="{m}" y1="{m}" x2="{m}" y2="{height - m}" stroke="#333"/>',
           f'<text x="{width / 2}" y="{height - 16}" text-anchor="middle">epochs of the train split</text>',
           f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})" text-anchor="middle">'
           'validation nats per token</text>']
    for e in range(0, x1 + 1, max(1, x1 // 12)):
        out.append(f'<text x="{X(e):.1f}" y="{height - m + 16}" text-anchor="middle">{e}</text>')
    steps = 6
    for i in range(steps + 1):
        y = y0 + (y1 - y0) * i / steps
        out.append(f'<text x="{m - 6}" y="{Y(y) + 4:.1f}" text-anchor="end">{y:.2f}</text>')
        out.append(f'<line x1="{m}" y1="{Y(y):.1f}" x2="{width - m}" y2="{Y(y):.1f}" stroke="#eee"/>')
    for i, (obj, points) in enumerate(curves.items()):
        path = " ".join(f"{'M' if j == 0 else 'L'}{X(p['epoch']):.1f},{Y(p['nats_per_token']):.1f}"
                        for j, p in enumerate(points))
        out.append(f'<path d="{path}" fill="none" stroke="{COLOURS[obj]}" stroke-width="2"/>')
        for p in points:
            out.append(f'<circle cx="{X(p["epoch"]):.1f}" cy="{Y(p["nats_per_token"]):.1f}" r="3" fill="{COLOURS[obj]}"/>')
        out.append(f'<text x="{width - m - 4}" y="{m + 16 * i}" text-anchor="end" fill="{COLOURS[obj]}">'
                   f'{LABELS[obj]}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--out", required=True, help="path without extension: .svg and .json are written")
    args = p.parse_args()
    curves = load(args.dir, args.epochs)
    if not curves:
        raise SystemExit(f"no evaluated epochs in {args.dir}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    json.dump(curves, open(args.out + ".json", "w"), indent=2)
    open(args.out + ".svg", "w").write(svg(curves))
    header = "| epoch | " + " | ".join(LABELS[o] for o in curves) + " |"
    print(header)
    print("|---" * (len(curves) + 1) + "|")
    for e in range(1, max(len(c) for c in curves.values()) + 1):
        cells = [next((f"{p['nats_per_token']:.3f}" for p in c if p["epoch"] == e), "–") for c in curves.values()]
        print(f"| {e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
