"""Style transfer (paper eq. 9) building blocks: the objective at one scale, the TV scaling and the
coarse-to-fine schedule. ``tasks.transfer_style`` puts them together.

How α:β:γ is applied:
  * ω (content, eq. 4) and µ_l (style, eq. 8) are ``weighting.layer_factors``: each term's input
    gradient at its "maximum" (target representation zero) is scaled to mean |∂/∂x| = 1; ω is
    taken at the content image, µ_l at the (main) style image, as the paper's text says.
  * TV is the *plain sum* of squared neighbour differences of x ∈ [0, 1] (paper §2: "the squared
    sum"), not a mean: its per-pixel gradient then does not depend on the image size, exactly
    like the factor-normalized terms (whose mean per-pixel gradient is 1 at every size, because
    ω and µ_l are measured at each scale's size), so γ means the same at every size.
    ``losses.total_variation`` is a per-element mean; the weight given to it is γ·numel.
  * The paper's 100:1:1000 keeps the content under every reading of eq. 4/8 that we measured
    (experiments/style_readings.py), and its γ = 1000 either blurs everything (sum) or does
    nothing (mean); the ``best`` preset (ranvis.presets) departs from it and says why.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.io.images import resize
from ranvis.nets.arch import Arch
from ranvis.nets.base import FrozenNet
from ranvis.objectives.metrics import ssim
from ranvis.objectives.stylekinds import parse_style_loss
from ranvis.objectives.styleloss import blend_targets, fit_target, style_target
from ranvis.objectives.terms import Objective, Term, gram_target, lowpass
from ranvis.objectives.weighting import layer_factors
from ranvis.optim.loop import Step
from ranvis.platform.plan import Footprint, RunPlan, plan_run
from ranvis.tasks.stylefit import style_detail


def tv_weight(gamma: float, x: torch.Tensor) -> float:
    """Weight for ``losses.total_variation`` (a per-element mean) that makes the term γ·Σ(Δx)²."""
    return gamma * x.numel()


def main_style(styles: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """The style with the largest blend weight (the first of equals): where µ_l, the colour
    match and the TV factor are measured (the paper has one style image)."""
    return styles[max(range(len(styles)), key=lambda i: weights[i])]


def content_target(content: torch.Tensor, styles: Sequence[torch.Tensor],
                   weights: Sequence[float], detail: float, seed: int) -> torch.Tensor:
    """The content target at one scale: ``content`` [1, 3, H, W] itself, or with ``detail`` > 0
    (σ px at 128 px, scaled with the longer side) plus the main style's fine band laid over it
    at a ``seed``-ed offset (stylefit.style_detail: why), clamped to [0, 1]."""
    if detail <= 0:
        return content
    h, w = content.shape[-2:]
    d = style_detail(main_style(styles, weights), h, w, detail * max(h, w) / 128, seed)
    return (content + d).clamp(0, 1)


def scale_sizes(width: int, height: int, scales: int) -> list[tuple[int, int]]:
    """(W, H) of each scale, coarsest first: each scale halves the next; the last is (W, H)."""
    if scales < 1:
        raise InputError(f"scales must be a positive integer, got {scales}")
    out = []
    for k in reversed(range(scales)):
        f = 2 ** k
        out.append((max(1, round(width / f)), max(1, round(height / f))))
    return out


def split_iters(iters: int, scales: int) -> list[int]:
    """Iterations per scale, coarsest first, summing to ``iters``.

    Our choice (the paper works at one scale): each finer scale gets half the iterations of the
    one before it (shares 2^(K-1-k) / (2^K - 1)), because the coarse scale has to build the image
    from noise and costs a quarter as much per iteration, while a finer scale starts from the
    upsampled result and only refines it. Every scale gets at least one iteration.
    """
    if iters < scales:
        raise InputError(f"{iters} iterations cannot cover {scales} scales; give --iters >= {scales}")
    shares = [2.0 ** (scales - 1 - k) for k in range(scales)]
    total = sum(shares)
    counts = [max(1, int(iters * s / total)) for s in shares]
    counts[0] += iters - sum(counts)  # rounding remainder goes to the coarsest scale
    return counts


def schedule(full: tuple[int, int], iters: int, scales: int, style_first: float
             ) -> tuple[list[tuple[int, int]], list[int], list[float]]:
    """(W, H) per stage, evaluations per stage and the content weight's multiplier per stage:
    the coarse-to-fine scales (scale_sizes, split_iters); with ``style_first`` > 0
    the last scale runs in two halves, the first with α × style_first."""
    sizes, counts = scale_sizes(*full, scales), split_iters(iters, scales)
    alphas = [1.0] * len(sizes)
    if style_first > 0 and counts[-1] >= 2:
        half = counts[-1] // 2
        sizes, counts = sizes + sizes[-1:], counts[:-1] + [half, counts[-1] - half]
        alphas = alphas[:-1] + [style_first, 1.0]
    return sizes, counts, alphas


def style_targets(model: FrozenNet, styles: Sequence[torch.Tensor], weights: Sequence[float],
                  layers: list[str], kind: str = "gram") -> dict[str, Any]:
    """{layer: target}: for "gram" Σ_i w_i·G(F(s_i))/M_i / Σ w, the blended Gram targets
    ``[1, N, N]``; for another styleloss kind the blend of its statistics
    (styleloss.blend_targets). One forward pass per style image."""
    total = float(sum(weights))
    per: dict[str, list[Any]] = {n: [] for n in layers}
    used = [(s, w) for s, w in zip(styles, weights, strict=True) if w != 0]
    with torch.no_grad():
        for src, w in used:
            feats = model(src, layers)
            for n in layers:
                per[n].append(gram_target(feats[n]) * (w / total) if kind == "gram"
                              else style_target(kind, feats[n]))
    if kind == "gram":
        return {n: sum(ts[1:], ts[0]) for n, ts in per.items()}
    return {n: blend_targets(kind, ts, [w for _, w in used]) for n, ts in per.items()}


def style_term_name(layer: str, kind: str) -> str:
    """A style term's name: the layer for eq. 5's Gram (as always), ``kind:layer`` otherwise."""
    return layer if kind == "gram" else f"{kind}:{layer}"


def style_terms(model: FrozenNet, content: torch.Tensor, styles: Sequence[torch.Tensor],
                weights: Sequence[float], layers: list[str], kinds: Sequence[str],
                factors: dict[str, float], beta: float) -> list[Term]:
    """One term per layer and kind, weight β, factor ``factors["style:" + name]``; the
    targets of sorted statistics resampled once to the positions of an image of the content's
    size (styleloss.fit_target)."""
    terms = []
    with torch.no_grad():
        sizes = {n: f.shape[2] * f.shape[3] for n, f in model(content, layers).items()}
    for kind in kinds:
        targets = style_targets(model, styles, weights, layers, kind)
        for n in layers:
            name = style_term_name(n, kind)
            target = targets[n] if kind == "gram" else fit_target(kind, targets[n], sizes[n])
            terms.append(Term(name, n, kind, target, factors["style:" + name], beta))
    return terms


def style_objective(model: FrozenNet, content: torch.Tensor, styles: Sequence[torch.Tensor],
                    weights: Sequence[float], *, content_layer: str, style_layers: list[str],
                    ratio: tuple[float, float, float], factors: dict[str, float] | None = None,
                    tv: str = "sum", style_loss: str = "gram",
                    content_blur: float = 0.0) -> tuple[Objective, dict[str, float]]:
    """Eq. 9 at one scale: α·ω·L_content + β·Σ_l µ_l·E_l + γ·TV, and the factors used.

    ``content`` [1,3,H,W] and ``styles`` (each [1,3,h,w], any size) are on the model's device.
    ω (eq. 4) is measured at the content, µ_l (eq. 8) at the style with the largest weight (the
    paper has one style image). ``factors`` ({"content:L": ω, "style:NAME": µ_l}) replaces them
    (the readings experiment). ``tv``: "sum" γ·Σ(Δx)² (ours, see module doc) or "mean"
    γ·Σ(Δx)²/numel (losses.total_variation as it is). ``style_loss``: E_l, "gram" (eq. 5) or
    any styleloss kind, ``a+b`` for a term of each (each with its own µ_l). ``content_blur``
    σ > 0 (px at 128 px, scaled with the content's longer side): the content term compares
    objectives.lowpass of the image with lowpass of the content (ω measured there too).
    """
    sigma = content_blur * max(content.shape[-2:]) / 128
    seen = lowpass(content, sigma) if sigma > 0 else content
    alpha, beta, gamma = ratio
    kinds = parse_style_loss(style_loss)
    model.arch.check_input_size(content.shape[-2], content.shape[-1],
                                [content_layer, *style_layers])
    for s in styles:
        model.arch.check_input_size(s.shape[-2], s.shape[-1], style_layers)
    if factors is None:
        main = main_style(styles, weights)
        factors = {"content:" + k: v for k, v in
                   layer_factors(model, seen, [content_layer], "content").items()}
        for kind in kinds:
            factors.update({"style:" + style_term_name(k, kind): v for k, v in
                            layer_factors(model, main, style_layers, kind).items()})
    with torch.no_grad():
        fc = model(seen, [content_layer])[content_layer]
    terms = [Term("content", content_layer, "content", fc, factors["content:" + content_layer],
                  alpha)]
    terms += style_terms(model, content, styles, weights, style_layers, kinds, factors, beta)
    if tv not in ("sum", "mean"):
        raise ValueError(f"tv must be 'sum' or 'mean', got {tv!r}")
    weight = tv_weight(gamma, content) if tv == "sum" else gamma
    return Objective(model, terms, tv_weight=weight, content_blur=sigma), factors


def scaled_styles(styles: Sequence[torch.Tensor], size: tuple[int, int], full: tuple[int, int],
                  style_scale: float | None) -> list[torch.Tensor]:
    """Style images for an output of ``size`` (W, H) when the final output is ``full``.

    ``style_scale`` F: each style's longer side becomes F × the output's longer side. None: the
    styles keep the size they were given at the final scale and shrink with the output.
    """
    out = []
    for s in styles:
        if style_scale is not None:
            side = style_scale * max(size)
        else:
            side = max(s.shape[-2:]) * max(size) / max(full)
        out.append(resize(s, max(1, round(side))))
    return out


def offset_callbacks(callbacks: Sequence[Callable[[Step], None]],
                     offset: int) -> list[Callable[[Step], None]]:
    """Callbacks that see iteration numbers continuing across scales (i + offset)."""
    def shifted(cb: Callable[[Step], None]) -> Callable[[Step], None]:
        return lambda s: cb(Step(s.i + offset, s.loss, s.terms, s.image))
    return [shifted(cb) for cb in callbacks]


def merge_records(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Run record of scale ``a`` followed by scale ``b``: histories concatenated, counts summed;
    ``factors`` are the last scale's (every scale's are in record["scales"])."""
    out = dict(a)
    out["loss"] = a["loss"] + b["loss"]
    out["accepted"] = a.get("accepted", []) + [i + len(a["loss"]) for i in b.get("accepted", [])]
    out["terms"] = {k: a["terms"].get(k, []) + b["terms"].get(k, [])
                    for k in dict.fromkeys([*a["terms"], *b["terms"]])}
    out["iterations"] = a["iterations"] + b["iterations"]
    out["seconds"] = round(a["seconds"] + b["seconds"], 3)
    out["seconds_per_iteration"] = round(out["seconds"] / max(out["iterations"], 1), 5)
    out["faults"] = a["faults"] + b["faults"]
    out.update({k: b[k] for k in ("factors", "interrupted", "stopped")})
    return out


def style_metrics(model: FrozenNet, image: torch.Tensor, content: torch.Tensor,
                  objective: Objective) -> dict[str, Any]:
    """SSIM to the content (colour, and luminance Y only) and the relative Gram error
    ‖G(x)/M − T‖² / ‖T‖² per style layer on the network used (T: the blended style target)."""
    from ranvis.io.images import luminance

    grams = [t for t in objective.terms if t.kind == "gram"]
    dev = grams[0].target.device if grams else image.device
    with torch.no_grad():
        feats = model(image.to(dev), [t.layer for t in grams]) if grams else {}
    err = {t.layer: float((gram_target(feats[t.layer]) - t.target).pow(2).sum()
                          / t.target.pow(2).sum().clamp_min(1e-30)) for t in grams}
    ref = resize(content, (image.shape[-1], image.shape[-2]))
    return {"ssim_content": ssim(image, ref),
            "ssim_luminance": ssim(luminance(image).expand(-1, 3, -1, -1),
                                   luminance(ref).expand(-1, 3, -1, -1)),
            "style_gram_error": err}


def check_style_args(styles: Sequence[torch.Tensor], weights: Sequence[float] | None,
                     ratio: Sequence[float]) -> list[float]:
    """Validate the style images, their blend weights and α:β:γ; returns the weights."""
    if not styles:
        raise InputError("give at least one style image")
    w = [float(v) for v in weights] if weights is not None else [1.0] * len(styles)
    if len(w) != len(styles):
        raise InputError(f"{len(w)} style weights for {len(styles)} style images; give one each")
    if sum(w) <= 0 or any(v < 0 for v in w):
        raise InputError(f"style weights must be non-negative with a positive sum, got {w}")
    if len(ratio) != 3 or any(v < 0 for v in ratio):
        raise InputError(f"ratio must be three non-negative numbers alpha:beta:gamma, got {ratio}")
    return w


def check_coarsest(arch: Arch, size: tuple[int, int], layers: list[str], scales: int) -> None:
    """InputError (naming --scales) if the coarsest scale is too small for the deepest layer."""
    deepest = arch.deepest(layers)
    need = arch.min_input(deepest)
    if scales > 1 and min(size) < need:
        raise InputError(f"{scales} scales make the coarsest image {size[0]}x{size[1]}, too small "
                         f"for {deepest} (at least {need} px a side); use fewer --scales or a "
                         f"larger --size")


def plan_resources(content: torch.Tensor, styles: Sequence[torch.Tensor], r: dict[str, Any],
                   a: Arch, optimizer: str, **kwargs: Any) -> RunPlan:
    """The run's plan (platform.plan.plan_run): InputError before any work if the transfer or
    a style's targets would not fit; style keeps D.STYLE_LBFGS_HISTORY curvature pairs."""
    return plan_run(
        Footprint(content.shape[-2], content.shape[-1], [r["content_layer"]],
                  gram_layers=r["style_layers"], optimizer=optimizer),
        arch=a.name, history=D.STYLE_LBFGS_HISTORY, copies=r["nets"],
        inputs=[Footprint(s.shape[-2], s.shape[-1], gram_layers=r["style_layers"],
                          fix="use a smaller --style-scale") for s in styles], **kwargs)
