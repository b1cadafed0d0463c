"""How many L-BFGS curvature pairs ranvis needs: the loss reached per evaluation, per history size.

    PYTHONPATH=src python benchmarks/history.py [--sizes 100,50,25,10] [--iters 300] [--px 128]
        [--tasks style,texture,invert] [--json out.json]

The two-loop recursion of L-BFGS reads every stored pair twice per step, so its cost (time and
memory) grows linearly with the history: at 256 px, 100 pairs are 157 MB read twice per
evaluation; at 1024 px 2.5 GB. This script runs ranvis's own tasks (defaults otherwise) with
``defaults.LBFGS_HISTORY`` and ``STYLE_LBFGS_HISTORY`` set to each size and prints, per case, the lowest loss after 1/3, 2/3
and all of the evaluation budget, relative to the 100-pair run (1.00 = as good; < 1 better),
plus the inversion PSNR. Cases: style transfer on four content/style pairs, texture synthesis on
three sources, inversion at pool3 and pool4 of two photos.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ranvis import defaults as D
from ranvis import tasks
from ranvis.io.images import sample

STYLE_PAIRS = [("astronaut", "coffee"), ("chelsea", "immunohistochemistry"),
               ("rocket", "gravel"), ("motorcycle", "brick")]
TEXTURES = ["gravel", "immunohistochemistry", "grass"]
INVERT = [("coffee", "pool3"), ("chelsea", "pool3"), ("coffee", "pool4"), ("chelsea", "pool4")]


def cases(px: int, which: list[str]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if "style" in which:
        for c, s in STYLE_PAIRS:
            out.append((f"style {c}/{s}", lambda n, c=c, s=s: tasks.transfer_style(
                sample(c, (px, px)), [sample(s, (px, px))], iters=n, device="cpu")))
    if "texture" in which:
        for t in TEXTURES:
            out.append((f"texture {t}", lambda n, t=t: tasks.synthesize_texture(
                sample(t, (px, px)), iters=n, device="cpu")))
    if "invert" in which:
        for p, layer in INVERT:
            out.append((f"invert {p} {layer}", lambda n, p=p, layer=layer: tasks.invert(
                sample(p, (px, px)), layer, iters=n, device="cpu")))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,50,25,10")
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--px", type=int, default=128)
    ap.add_argument("--tasks", default="style,texture,invert")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="first N cases of each task (0: all)")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    marks = [a.iters // 3, 2 * a.iters // 3, a.iters]
    rows = []
    print(f"lowest loss after {marks} evaluations, relative to {sizes[0]} pairs; {a.px} px")
    print("\n| case | pairs | " + " | ".join(f"loss@{m}" for m in marks) + " | PSNR | s |")
    print("|---|---|" + "---|" * (len(marks) + 2))
    todo = cases(a.px, a.tasks.split(","))
    if a.limit:
        todo = [c for t in a.tasks.split(",") for c in
                [c for c in todo if c[0].startswith(t)][:a.limit]]
    for name, run in todo:
        ref = None
        for m in sizes:
            D.LBFGS_HISTORY = D.STYLE_LBFGS_HISTORY = m  # every task asks for m pairs
            t = time.perf_counter()
            r = run(a.iters)
            secs = time.perf_counter() - t
            losses = r.result.losses
            best = [min(losses[:k]) for k in marks]
            ref = ref or best
            psnr = r.record.get("metrics", {}).get("psnr")
            rows.append({"case": name, "pairs": m, "best": best, "psnr": psnr, "s": secs,
                         "evals": len(losses), "stopped": r.result.stopped})
            rel = " | ".join(f"{b / rb:.3f}" for b, rb in zip(best, ref, strict=True))
            print(f"| {name} | {m} | {rel} | {'' if psnr is None else f'{psnr:.2f}'} | "
                  f"{secs:.0f} |", flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
