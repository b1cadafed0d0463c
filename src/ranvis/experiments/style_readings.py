"""Which reading of the paper's normalization (eq. 4, 8) makes α:β:γ = 100:1:1000 a style transfer?

The paper scales each term so its input gradient has mean 1 "at the maximum" and then weights
content:style:TV as 100:1:1000 (§3). Taken literally the content wins. This experiment runs eq. 9
under several readings and ratios and scores every result with the independent judge of
style_quality (luminance SSIM to the content; Gram distance d to the style, against the content
image's own distance):

  readings of ω, µ_l (``READINGS``)
    paper          mean |∂L/∂x| at the "maximum" (target representation 0), ω at the content image,
                   µ_l at the style image — the paper's text ("absolute mean gradient"); the library
    signed         |mean ∂L/∂x| (eq. 4/8 as printed: absolute value outside the sum), same points
    style@content  µ_l measured at the content image instead of the style image
    start          mean |∂L/∂x| of the *actual* terms (real targets) at the noise start
    dynamic        the paper's factors, then at *every* evaluation each term rescaled so its
                   input gradient has mean |∂L/∂x| = 1 (:class:`PerEvaluation`; neural-style's
                   gradient normalization, applied to the input gradient)
  TV readings: "sum" γ·Σ(Δx)² (per-pixel gradient independent of the size, like the normalized
  terms) and "mean" γ·Σ(Δx)²/numel (losses.total_variation; at γ = 1000 it has no effect).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from ranvis import defaults as D
from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet as Net
from ranvis.objectives.losses import feature_loss, gram_loss
from ranvis.objectives.terms import gram_target

Ratio = tuple[float, float, float]
PAPER: Ratio = (100.0, 1.0, 1000.0)


def _factor(model: Net, x0: torch.Tensor, layer: str, kind: str, target: torch.Tensor | None,
            signed: bool) -> float:
    """1 / reduce(∂L/∂x) at x0, L the content (eq. 1) or gram (eq. 6) loss against ``target``
    (None: the zero representation, the paper's "maximum"). reduce: mean|g| or |mean g|."""
    x = x0.detach().clone().requires_grad_(True)
    f = model(x, [layer])[layer]
    if kind == "content":
        loss = feature_loss(f, torch.zeros_like(f) if target is None else target)
    else:
        g = gram_target(f)
        loss = gram_loss(g, torch.zeros_like(g) if target is None else target, f.shape[1], 1)
    (grad,) = torch.autograd.grad(loss, x)
    red = grad.mean().abs() if signed else grad.abs().mean()
    return 1.0 / float(red)


def readings() -> dict[str, Callable[..., dict[str, float]]]:
    """name -> f(model, xc, xs, start, content_layer, style_layers) -> factors dict."""
    def make(signed: bool, style_at: str, real: bool) -> Callable[..., dict[str, float]]:
        def f(model: Net, xc: torch.Tensor, xs: torch.Tensor, start: torch.Tensor, cl: str,
              sl: Sequence[str]) -> dict[str, float]:
            with torch.no_grad():
                tc = model(xc, [cl])[cl] if real else None
                ts = {n: gram_target(v) for n, v in model(xs, list(sl)).items()} if real else {}
            pc = start if real else xc
            ps = start if real else (xc if style_at == "content" else xs)
            out = {"content:" + cl: _factor(model, pc, cl, "content", tc, signed)}
            out.update({"style:" + n: _factor(model, ps, n, "gram", ts.get(n), signed) for n in sl})
            return out
        return f
    return {"paper": make(False, "style", False), "signed": make(True, "style", False),
            "style@content": make(False, "content", False), "start": make(False, "style", True),
            "dynamic": make(False, "style", False)}


class PerEvaluation:
    """An objective whose terms are rescaled at every evaluation: term_k · w_k / mean|∂term_k/∂x|
    (the scale detached, so each term pushes with mean |∂/∂x| = w_k wherever x is). TV as given.
    ``weights``: {term name: α or β}. The loss L-BFGS sees is no longer one fixed function."""

    def __init__(self, objective: Any, weights: dict[str, float]) -> None:
        self.objective, self.weights = objective, weights
        self.net, self.terms = objective.net, objective.terms

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        _, parts = self.objective(x)
        out = {}
        for k, v in parts.items():
            if k not in self.weights:
                out[k] = v
                continue
            (g,) = torch.autograd.grad(v, x, retain_graph=True)
            out[k] = v / g.abs().mean().clamp_min(1e-30).detach() * self.weights[k]
        return torch.stack(list(out.values())).sum(), out


def research_pairs() -> list[tuple[str, str]]:
    """Pairs used to choose the defaults — kept apart from style_quality's evaluation contents."""
    return [("motorcycle", s) for s in ("gravel", "hubble_field", "ihc_whole", "colorwheel")]


def _image(name: str, size: int) -> torch.Tensor:
    import numpy as np
    import skimage.data
    from PIL import Image

    from ranvis.io.images import from_pil, resize, sample

    crops = {"hubble_field": ("hubble_deep_field", (300, 556, 300, 556)),
             "ihc_whole": ("immunohistochemistry", None), "colorwheel": ("colorwheel", None)}
    if name not in crops:
        return sample(name, size)
    fn, box = crops[name]
    arr = np.asarray(getattr(skimage.data, fn)())[..., :3]
    if box:
        arr = arr[box[0]:box[1], box[2]:box[3]]
    return resize(from_pil(Image.fromarray(arr)), size)


def run_one(model: Net, judge: Net, xc: torch.Tensor, xs: torch.Tensor, reading: str,
            ratio: Ratio, tv: str, iters: int, seed: int = 0, init: str = "noise",
            content_layer: str | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
    """One transfer at one scale under ``reading`` from ``init`` (noise | style | content:
    optim.starts.start_image); returns the image and its scores. ``content_layer``: None = §3's."""
    from ranvis.objectives.judges import style_score
    from ranvis.optim.loop import optimize
    from ranvis.optim.starts import start_image
    from ranvis.tasks.styleblocks import style_objective

    presets = get_arch(D.ARCH).presets  # the paper's VGG-19: conv2_2, conv1_1 .. conv5_1 (§3)
    cl, sl = content_layer or presets.content, list(presets.style)
    start = start_image(init, xc, xs, seed)
    factors = readings()[reading](model, xc, xs, start, cl, sl)
    obj, _ = style_objective(model, xc, [xs], [1.0], content_layer=cl, style_layers=sl,
                             ratio=ratio, factors=factors, tv=tv)
    t0 = time.perf_counter()
    if reading == "dynamic":
        obj = PerEvaluation(obj, {t.name: ratio[0] if t.kind == "content" else ratio[1]
                                  for t in obj.terms})
    res = optimize(obj, start, iters)
    sc = style_score(judge, res.image, xc.cpu(), xs.cpu())
    last = {k: round(v[-1], 3) for k, v in res.terms.items()}
    return res.image, {**{k: round(v, 4) for k, v in sc.items()}, "final_terms": last,
                       "seconds": round(time.perf_counter() - t0, 2)}


def configs(quick: bool) -> list[tuple[str, Ratio, str]]:
    """(reading, ratio, tv): readings × ratios with TV off, then TV readings for two ratios."""
    ratios = [(100.0, 1.0, 0.0), (10.0, 1.0, 0.0), (1.0, 1.0, 0.0)]
    out = [(r, q, "sum") for r in readings() for q in ratios]
    out += [("paper", PAPER, "mean"), ("paper", PAPER, "sum")]
    for a in (10.0, 3.0):  # TV: γ/α from nothing to blurring
        out += [("paper", (a, 1.0, g * a), "sum") for g in (0.03, 0.1, 0.3, 1.0)]
    return out[:4] if quick else out


def run(out_dir: Path, quick: bool = True, size: int | None = None, iters: int | None = None,
        device: str = "auto", time_limit: float = float("inf")) -> dict[str, Any]:
    """Run ``configs`` on ``research_pairs``; write one contact sheet per pair and a table."""
    from ranvis.experiments.style_quality import draw_grid
    from ranvis.objectives.judges import judge_net
    from ranvis.tasks import make_net, resolve_device

    t0 = time.perf_counter()
    out = Path(out_dir)
    size, iters = size or (64 if quick else 128), iters or (60 if quick else 300)
    dev = resolve_device(device)
    model, judge = make_net("random", device=dev), judge_net(dev)
    rows: list[dict[str, Any]] = []
    pairs = research_pairs()[: 1 if quick else None]
    imgs = {p: (_image(p[0], size).to(dev), _image(p[1], size).to(dev)) for p in pairs}
    cells: dict[tuple[str, str], dict[tuple[str, str], torch.Tensor]] = {p: {} for p in pairs}
    labels: dict[tuple[str, str], dict[tuple[str, str], str]] = {p: {} for p in pairs}
    for reading, ratio, tv in configs(quick):  # configs outside: a time limit cuts whole configs
        if time.perf_counter() - t0 > time_limit:
            break
        name = f"{reading} {':'.join(f'{v:g}' for v in ratio)} tv={tv}"
        for (c, s), (xc, xs) in imgs.items():
            img, sc = run_one(model, judge, xc, xs, reading, ratio, tv, iters)
            rows.append({"content": c, "style": s, "config": name, **sc})
            cells[(c, s)][(name, s)] = img
            labels[(c, s)][(name, s)] = (f"SSIM {sc['ssim']:.2f} d {sc['d']:.2f}/"
                                         f"{sc['d_content']:.2f}")
    for (c, s), (xc, xs) in imgs.items():
        names = {k[0]: xc.cpu() for k in cells[(c, s)]}
        if names:
            draw_grid(out / f"readings_{c}_{s}.png", names, {s: xs.cpu()}, cells[(c, s)],
                      f"{c} in the style of {s}, {size} px, {iters} L-BFGS iterations; rows: "
                      "reading alpha:beta:gamma TV; d: judge Gram distance (result/content)",
                      labels[(c, s)])
    return {"title": "Readings of the eq. 4/8 normalization for eq. 9",
            "figures": sorted(p.name for p in out.glob("readings_*.png")),
            "numbers": {"rows": rows}, "settings": {"size": size, "iters": iters,
                                                    "device": str(dev), "pairs": pairs},
            "seconds": round(time.perf_counter() - t0, 2),
            "verdict": "see the table: SSIM near 1 with d near the content's means the content won"}


if __name__ == "__main__":  # python -m ranvis.experiments.style_readings OUT [--full] [--limit S]
    import json
    import sys

    lim = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else float("inf")
    res = run(Path(sys.argv[1]), quick="--full" not in sys.argv, time_limit=lim)
    Path(sys.argv[1], "readings.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res["numbers"]["rows"]))
