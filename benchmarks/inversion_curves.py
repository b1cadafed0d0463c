"""PSNR and SSIM against evaluations of deep inversions, stage by stage (issue 29, item 2).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/inversion_curves.py --images DIR \\
        --photos path,kite --layers pool3,pool5 --variants today,new --out out/curves

For each photograph (centre square, ``--size`` px) and variant, runs ``invert`` with the
``best`` preset and the variant's overrides, recording after every evaluation the loss, the
PSNR of the image evaluated, the stage it belongs to, the seconds and CPU seconds so far, and
every ``--ssim-every`` evaluations its SSIM. The photos are interleaved across variants (photo 1
variant A, photo 1 variant B, ...), so a change of load hits both; layers are the outer loop. Writes
``OUT/curves.json`` after each run and prints one table row per run: evaluations, seconds, CPU
seconds, final PSNR and SSIM (of the result, the lowest-loss image).
``--summary`` prints, per run of OUT/curves.json, the PSNR at each stage's end, where the
level plateau would have ended each coarse stage, and what shorter full-size stages give.
Variants: ``today`` (the preset as it is), ``new`` (whatever the preset now is, under
``--variant-kwargs``), or any name given a JSON dict of invert keywords in ``--variant-kwargs``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from ranvis.experiments.deep_inversion import photo
from ranvis.objectives.metrics import psnr, ssim
from ranvis.tasks import invert


class Curve:
    """A callback: per evaluation the loss, PSNR (and every ``every`` its SSIM) of the image."""

    def __init__(self, ref: torch.Tensor, every: int) -> None:
        self.ref, self.every = ref, every
        self.rows: list[dict] = []
        self.starts: list[int] = []  # the evaluation each stage begins after
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def stage(self, info: object) -> None:
        """Hook of callbacks.begin_stage: remember where stage ``info`` begins."""
        self.starts.append(info.start)

    def __call__(self, step: object) -> None:
        img = step.image.detach().float().cpu()
        row = {"i": step.i, "loss": step.loss, "psnr": psnr(img, self.ref),
               "s": time.perf_counter() - self.t0, "cpu": time.process_time() - self.c0}
        if step.i % self.every == 0:
            row["ssim"] = ssim(img, self.ref)
        self.rows.append(row)


def result_at(rows: list[dict], k: int) -> tuple[float, float | None]:
    """(PSNR, SSIM) of the lowest-loss image among the first ``k`` evaluations: a run whose
    last stage had ended there (the stages before are the same, so the prefix is exact). SSIM
    is the nearest one recorded at or before that image (every ``--ssim-every``)."""
    j = min(range(min(k, len(rows))), key=lambda i: rows[i]["loss"])
    ssims = [r["ssim"] for r in rows[: j + 1] if "ssim" in r]
    return rows[j]["psnr"], ssims[-1] if ssims else None


def summarize(done: dict, finals: tuple[int, ...] = (100, 150, 200, 250, 300)) -> None:
    """Per run: PSNR at the end of each stage; where the level plateau (LEVEL_PLATEAU) would
    have ended each coarse stage of this run; the result had the full-size stage been given
    only ``finals`` evaluations."""
    from ranvis.tasks.inversion import LEVEL_PLATEAU

    for key, d in done.items():
        rows, starts = d["curve"], d.get("stage_starts") or [0]
        ends = [*starts[1:], len(rows)]
        losses = [r["loss"] for r in rows]
        stops = []
        for a, b in zip(starts[:-1], ends[:-1], strict=True):
            rule = replace(LEVEL_PLATEAU, since=a)
            stops.append(next((j - a for j in range(a + 1, b + 1) if rule.flat(losses[:j])), None))
        cut = [f"{f}: {result_at(rows, starts[-1] + f)[0]:.2f}" for f in finals
               if starts[-1] + f < len(rows)]
        print(f"{key}: {d['evals']} evals, stage ends " + " ".join(
            f"{result_at(rows, e)[0]:.2f}" for e in ends) + f"; plateau would end the coarse "
            f"stages after {stops}; full-size stage of {', '.join(cut)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=Path, default=None)
    p.add_argument("--photos", default="path,kite")
    p.add_argument("--layers", default="pool5", help="comma-separated; the outer loop")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--variants", default="today")
    p.add_argument("--variant-kwargs", default="{}",
                   help='JSON: {"name": {invert keyword: value}}')
    p.add_argument("--ssim-every", type=int, default=25)
    p.add_argument("--out", type=Path, default=Path("out/curves"))
    p.add_argument("--summary", action="store_true", help="summarize OUT/curves.json, run nothing")
    a = p.parse_args()
    if a.summary:
        summarize(json.loads((a.out / "curves.json").read_text()))
        return
    torch.set_num_threads(1)
    kw = json.loads(a.variant_kwargs)
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "curves.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    print("| layer | photo | variant | evals | s | CPU s | PSNR | SSIM | stage starts |")
    print("|---|---|---|---|---|---|---|---|---|")
    for layer, name in [(la, n) for la in a.layers.split(",") for n in a.photos.split(",")]:
        img = photo(name, a.images, a.size)
        for v in a.variants.split(","):
            key = f"{name}-{layer}-{v}"
            if key not in done:
                curve = Curve(img, a.ssim_every)
                t0, c0 = time.perf_counter(), time.process_time()
                run = invert(img, layer, device="cpu", callbacks=[curve], **kw.get(v, {}))
                r = run.record
                done[key] = {"variant": v, "kwargs": kw.get(v, {}), "evals": r["iterations"],
                             "seconds": time.perf_counter() - t0,
                             "cpu": time.process_time() - c0, "psnr": r["metrics"]["psnr"],
                             "ssim": r["metrics"]["ssim"], "stopped": r["stopped"],
                             "settings": r["settings"], "stage_starts": curve.starts,
                             "curve": curve.rows}
                path.write_text(json.dumps(done))
            d = done[key]
            print(f"| {layer} | {name} | {v} | {d['evals']} | {d['seconds']:.0f} | "
                  f"{d['cpu']:.0f} | {d['psnr']:.2f} | {d['ssim']:.3f} | "
                  f"{d.get('stage_starts')} |", flush=True)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
