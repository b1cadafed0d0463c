"""What computing the layers in bfloat16 costs in quality, and what it gains in time.

For style transfer and texture synthesis, each case runs twice from the same noise start, with
``precision="fp32"`` and ``"bf16"`` (nothing else differs), and is scored in float32:

* ``loss32``: the float32 objective at the result (the task's own objective, targets and factors
  computed in float32), so a worse optimum shows directly;
* the independent judge of experiments/style_quality and texture_quality (random VGG-19 seed 7,
  max pooling): Gram distance to the style / source (lower is better) and, for style, luminance
  SSIM to the content (higher keeps more layout);
* ``seconds``: wall time of the task call (set-up included).

As a yardstick for "how different is different", fp32 is also run from a second noise seed:
two float32 runs differ by about as much as the seeds make them differ.

    PYTHONPATH=src python benchmarks/precision.py [--size 128] [--iters 200] [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import torch

from ranvis.experiments import style_quality as SQ
from ranvis.experiments import texture_quality as TQ
from ranvis.nets import get_arch
from ranvis.objectives.terms import Objective
from ranvis.objectives.weighting import layer_factors
from ranvis.tasks import gram_terms, make_net, synthesize_texture, transfer_style
from ranvis.tasks import styleblocks as S

VGG19 = get_arch("vgg19")  # the paper's network, the one these studies measured


def style_loss32(content: torch.Tensor, style: torch.Tensor, image: torch.Tensor) -> float:
    """The float32 objective of transfer_style's defaults (one scale) at ``image``."""
    from ranvis import defaults as D

    model = make_net("random", device="cpu")
    obj, _ = S.style_objective(model, content, [style], [1.0],
                               content_layer=VGG19.presets.content,
                               style_layers=list(VGG19.presets.style), ratio=D.RATIO)
    with torch.no_grad():
        return float(obj(image)[0])


def texture_loss32(source: torch.Tensor, image: torch.Tensor) -> float:

    model = make_net("random", device="cpu")
    layers = VGG19.check_taps(list(VGG19.presets.texture))
    factors = layer_factors(model, source, layers, "gram")
    obj = Objective(model, gram_terms(model, [source], layers, [1.0], factors))
    with torch.no_grad():
        return float(obj(image)[0])


def timed(fn: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(**kw)
    return out, time.perf_counter() - t0


def style_rows(pairs: list[tuple[str, str]], size: int, iters: int) -> list[dict[str, Any]]:
    judge = TQ.judge_net()
    rows = []
    for c_name, s_name in pairs:
        content, style = _fit(SQ.image(c_name), size), _fit(SQ.image(s_name), size)
        for label, prec, seed in (("fp32", "fp32", 0), ("bf16", "bf16", 0), ("fp32 seed 1", "fp32", 1)):
            run, sec = timed(transfer_style, content=content, styles=[style], iters=iters,
                             seed=seed, precision=prec, device="cpu")
            sc = SQ.score(judge, run.image, content, style)
            rows.append({"task": "style", "case": f"{c_name}/{s_name}", "run": label,
                         "seconds": sec, "loss32": style_loss32(content, style, run.image),
                         "judge_d": sc["d"], "ssim": sc["ssim"], "image": run.image})
            print(f"style {c_name}/{s_name} {label}: {sec:.1f} s, loss32 {rows[-1]['loss32']:.4g}, "
                  f"d {sc['d']:.3f}, ssim {sc['ssim']:.3f}", flush=True)
    return rows


def texture_rows(sources: list[str], size: int, iters: int) -> list[dict[str, Any]]:
    judge = TQ.judge_net()
    rows = []
    for name in sources:
        src = TQ.texture_source(name, size)
        for label, prec, seed in (("fp32", "fp32", 0), ("bf16", "bf16", 0), ("fp32 seed 1", "fp32", 1)):
            run, sec = timed(synthesize_texture, source=src, iters=iters, seed=seed,
                             precision=prec, device="cpu")
            d = TQ.gram_distance(judge, run.image, src)["mean"]
            rows.append({"task": "texture", "case": name, "run": label, "seconds": sec,
                         "loss32": texture_loss32(src, run.image), "judge_d": d,
                         "image": run.image})
            print(f"texture {name} {label}: {sec:.1f} s, loss32 {rows[-1]['loss32']:.4g}, "
                  f"d {d:.3f}", flush=True)
    return rows


def _fit(x: torch.Tensor, size: int) -> torch.Tensor:
    from ranvis.io.images import center_square

    return center_square(x, size)


def _ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    from ranvis.objectives.metrics import ssim

    return ssim(a, b)


def summary(rows: list[dict[str, Any]]) -> str:
    out = ["| task | cases | bf16/fp32 time | bf16/fp32 loss32 (median, range) | judge d fp32 / "
           "bf16 / fp32 seed 1 | SSIM to content fp32 / bf16 | SSIM(fp32, bf16) / "
           "SSIM(fp32, fp32 seed 1) |", "|" + " --- |" * 7]
    for task in ("style", "texture"):
        sel = [r for r in rows if r["task"] == task]
        if not sel:
            continue
        cases = sorted({r["case"] for r in sel})
        by = {(r["case"], r["run"]): r for r in sel}
        t = [by[c, "bf16"]["seconds"] / by[c, "fp32"]["seconds"] for c in cases]
        lr = [by[c, "bf16"]["loss32"] / by[c, "fp32"]["loss32"] for c in cases]
        d = [statistics.mean(by[c, k]["judge_d"] for c in cases)
             for k in ("fp32", "bf16", "fp32 seed 1")]
        s_pair = statistics.mean(_ssim(by[c, "fp32"]["image"], by[c, "bf16"]["image"]) for c in cases)
        s_seed = statistics.mean(_ssim(by[c, "fp32"]["image"], by[c, "fp32 seed 1"]["image"])
                                 for c in cases)
        ssim = (f"{statistics.mean(by[c, 'fp32']['ssim'] for c in cases):.3f} / "
                f"{statistics.mean(by[c, 'bf16']['ssim'] for c in cases):.3f}"
                if task == "style" else "-")
        out.append(f"| {task} | {len(cases)} | {statistics.median(t):.2f} | "
                   f"{statistics.median(lr):.2f} ({min(lr):.2f}-{max(lr):.2f}) | "
                   f"{d[0]:.3f} / {d[1]:.3f} / {d[2]:.3f} | {ssim} | {s_pair:.3f} / {s_seed:.3f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--quick", action="store_true",
                    help="2 style pairs, 2 textures (default: 6 pairs, 4 textures)")
    ap.add_argument("--tasks", default="style,texture")
    a = ap.parse_args()
    pairs = [(c, s) for c in ("astronaut", "chelsea", "rocket") for s in ("brick", "ihc")]
    sources = ["brick", "grass", "gravel", *list(TQ.CROPS)[:1]]
    if a.quick:
        pairs, sources = pairs[:2], sources[:2]
    rows: list[dict[str, Any]] = []
    if "style" in a.tasks:
        rows += style_rows(pairs, a.size, a.iters)
    if "texture" in a.tasks:
        rows += texture_rows(sources, a.size, a.iters)
    print(f"\n## bfloat16 vs float32 layers ({a.size} px, {a.iters} iterations, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, loadavg "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())})\n")
    print(summary(rows))


if __name__ == "__main__":
    main()
